//! VisibilityStore on SQL: `executions_visibility` plus the per-namespace alias registry
//! `visibility_search_attributes` (schema set `visibility` of each backend).
//!
//! # Writes
//! Every write is one conditional upsert keyed by `(namespace_id, run_id)` with the task id as
//! the record version `_version` (Temporal's rule): the row is inserted when missing and
//! replaced when the stored version is lower; otherwise the statement changes nothing, so a
//! stale or repeated write is a silent no-op (PostgreSQL and SQLite `ON CONFLICT … DO UPDATE …
//! WHERE _version < excluded._version`, MySQL a per-column `IF()`). One statement is atomic on
//! every backend, so concurrent writers of one record need no transaction. `record_started`,
//! `record_closed` and `upsert` all store the record exactly as given (`record_closed` requires
//! a close time: a closed record without one would sort as running).
//!
//! A delete removes the row only if its stored version is below the delete's task id. No
//! tombstone is kept (as in Temporal's SQL stores): a write arriving after a delete recreates
//! the record, whatever its task id. Deletes come from retention, long after the last write of a
//! run, where that cannot happen in practice; a tombstone table would grow without bound.
//!
//! Before anything is written the record is checked: ids, memo size
//! ([`validate::blob`]), search-attribute count and sizes ([`validate::search_attributes`]),
//! datetimes in the storable years 0000..=9999, and every search attribute must be a predefined
//! one or a custom one registered for the namespace, with a value of its type; anything else is
//! `InvalidArgument` (or `SizeLimitExceeded`) and writes nothing. System attributes
//! (`WorkflowId`, …) come from the record's fields and are refused inside `search_attributes`.
//!
//! # Custom search attributes
//! Temporal's SQL layout: pre-allocated typed columns (Bool01-03, Datetime01-03, Double01-03,
//! Int01-03, Keyword01-10, Text01-03, KeywordList01-03) and a per-namespace alias table.
//! `add_search_attributes` gives each new name the first free column of its type in that
//! namespace; re-registering a name with the same type is a no-op, with another type
//! `InvalidArgument`. When a type's columns are all taken the call fails with `InvalidArgument`
//! and registers nothing (there is no JSON-only overflow: an unindexed attribute would answer
//! queries by scanning, and every backend must behave the same). Aliases are never changed or
//! removed, so the registry read by a write or query needs no lock.
//!
//! # Reads
//! Queries are parsed by [`durastore_api::query::parse_query`] against the namespace's
//! attributes and translated by [`crate::visibility_query`]; every value is a bind parameter
//! and every column name comes from a fixed table. The list order is `close_time_order DESC,
//! start_time DESC, run_id ASC`, where `close_time_order` is a stored generated column,
//! `COALESCE(close_time, '~')` ('~' sorts above every datetime text, so running executions come
//! first). Pages are keyset pages: the token holds the last row's `(close_time_order,
//! start_time, run_id)`, so a page continues exactly after it even while rows are added, and
//! a hash of the namespace and the parsed query: a token used with another query or namespace is
//! `InvalidArgument`. Counts group by the integer `status`; groups come largest first, ties by
//! status code.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use durastore_api::query::{
    EXECUTION_STATUS, Literal, SearchAttributeType, SearchAttributes, is_reserved_name,
    parse_query, validate_custom_name,
};
use durastore_api::{
    CountResult, CountWorkflowExecutionsRequest, ErrorKind, ListWorkflowExecutionsRequest,
    NamespaceId, Page, Result, RunId, SearchAttributeValue, StoreError, VisibilityRecord,
    VisibilityStore, WorkflowStatus, validate,
};
use serde::{Deserialize, Serialize};

use crate::dialect::Dialect;
use crate::paging::keyset_page;
use crate::value::{Row, Value};
use crate::visibility_columns::{
    ALIAS_TABLE, CUSTOM_FIELDS, Kind, PREDEFINED_COLUMNS, Registry, TABLE, custom_column,
    datetime_from_text, datetime_text, json_array, token_set, type_from_name, type_name,
};
use crate::visibility_query::{Condition, translate};
use crate::{SqlStore, params};

pub(crate) fn make(store: &Arc<SqlStore>) -> Option<Arc<dyn VisibilityStore>> {
    Some(store.clone() as Arc<dyn VisibilityStore>)
}

/// The key of `executions_visibility`.
const KEY: &[&str] = &["namespace_id", "run_id"];

/// Value of `close_time_order` for a running execution (see the module docs).
const RUNNING_ORDER: &str = "~";

/// Columns read for a record, in the order [`record_from_row`] expects.
const SELECT_COLUMNS: &str = "run_id, _version, shard_id, workflow_id, workflow_type_name, \
     start_time, execution_time, status, task_queue, memo, encoding, search_attributes, \
     parent_workflow_id, parent_run_id, root_workflow_id, root_run_id, close_time, \
     history_length, history_size_bytes, execution_duration, state_transition_count, \
     close_time_order";

/// The list order; must match the keyset predicate of [`ListToken`].
const ORDER_BY: &str = "close_time_order DESC, start_time DESC, run_id ASC";

/// How many times `add_search_attributes` retries when a concurrent registration took the same
/// column or name first.
const REGISTER_ATTEMPTS: usize = 8;

/// Keyset position of a listing: the last returned row's order columns, and the fingerprint of
/// the namespace and query it belongs to (a token is refused with any other).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ListToken {
    /// `close_time_order`.
    c: String,
    /// `start_time`.
    s: String,
    /// `run_id`.
    r: String,
    /// [`query_fingerprint`] of the listing.
    q: String,
}

/// A short hash of the namespace and the parsed query (not its text, so spacing and keyword
/// case do not matter): what a page token is bound to.
fn query_fingerprint(ns: NamespaceId, q: &durastore_api::query::Query) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(ns.as_bytes());
    // Serializing the plain AST cannot fail; an empty rendering would still bind the namespace.
    h.update(serde_json::to_vec(q).unwrap_or_default());
    crate::paging::hex(&h.finalize()[..12])
}

impl ListToken {
    fn decode(token: &Option<Vec<u8>>, fingerprint: &str) -> Result<Option<Self>> {
        let Some(t) = token else { return Ok(None) };
        let tok: ListToken = validate::token::decode(t)?;
        if tok.q != fingerprint {
            return Err(StoreError::invalid_argument(
                "invalid page token: it was issued for another query or namespace",
            ));
        }
        // Values are bound as parameters anyway; this only rejects what no page ever issued.
        let datetime_like = |s: &str| s.len() == 30 && s.is_ascii();
        let ok = (tok.c == RUNNING_ORDER || datetime_like(&tok.c))
            && datetime_like(&tok.s)
            && tok.r.len() <= 64;
        if !ok {
            return Err(StoreError::invalid_argument("invalid page token"));
        }
        Ok(Some(tok))
    }

    /// Rows strictly after this position in list order.
    fn predicate(&self) -> (&'static str, Vec<Value>) {
        (
            "(close_time_order < ? OR (close_time_order = ? AND (start_time < ? OR \
             (start_time = ? AND run_id > ?))))",
            params![&self.c, &self.c, &self.s, &self.s, &self.r],
        )
    }
}

/// Which write a record comes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriteKind {
    Started,
    Closed,
    Upsert,
}

/// Checks the parts of a record that do not depend on the namespace's registry.
fn validate_record(r: &VisibilityRecord, kind: WriteKind) -> Result<()> {
    validate::visibility_record(r, kind == WriteKind::Closed)
}

/// A column's placeholder and value in the upsert.
#[derive(Debug)]
struct RowValues {
    columns: Vec<&'static str>,
    placeholders: Vec<&'static str>,
    values: Vec<Value>,
}

impl RowValues {
    fn push(&mut self, column: &'static str, json: bool, ph: &'static str, v: Value) {
        self.columns.push(column);
        self.placeholders.push(if json { ph } else { "?" });
        self.values.push(v);
    }
}

/// A search attribute's column value and its entry in the `search_attributes` document,
/// checked against the registered type.
fn encode_attribute(
    name: &str,
    ty: SearchAttributeType,
    value: &SearchAttributeValue,
) -> Result<(Value, serde_json::Value)> {
    use SearchAttributeValue as V;
    use serde_json::Value as J;
    let what = format!("search attribute {name:?}");
    Ok(match (ty, value) {
        (SearchAttributeType::Keyword, V::String(s)) => {
            (Value::Text(s.clone()), J::from(s.clone()))
        }
        (SearchAttributeType::Text, V::String(s)) => {
            (Value::Text(json_array(&token_set(s))), J::from(s.clone()))
        }
        (SearchAttributeType::Int, V::Int(i)) => (Value::Int(*i), J::from(*i)),
        (SearchAttributeType::Double, V::Double(d)) => {
            let n = serde_json::Number::from_f64(*d).ok_or_else(|| {
                StoreError::invalid_argument(format!("{what} is {d}; a Double must be finite"))
            })?;
            (Value::Double(*d), J::Number(n))
        }
        (SearchAttributeType::Bool, V::Bool(b)) => (Value::Bool(*b), J::from(*b)),
        (SearchAttributeType::Datetime, V::Datetime(t)) => {
            let text = datetime_text(&what, t)?;
            (Value::Text(text.clone()), J::from(text))
        }
        (SearchAttributeType::KeywordList, V::KeywordList(items)) => (
            // An empty list is stored as absent (NULL), as the query semantics treat it.
            if items.is_empty() {
                Value::Null
            } else {
                Value::Text(json_array(items))
            },
            J::from(items.clone()),
        ),
        (ty, v) => {
            return Err(StoreError::invalid_argument(format!(
                "{what} is registered as {} but the value is {v:?}",
                type_name(ty)
            )));
        }
    })
}

/// The column values of a record (validated first by [`validate_record`]).
fn encode_row(r: &VisibilityRecord, reg: &Registry, json_ph: &'static str) -> Result<RowValues> {
    // Search attributes first: their columns and the JSON document.
    let mut by_column: BTreeMap<&'static str, Value> = BTreeMap::new();
    let mut doc = serde_json::Map::new();
    for (name, value) in &r.search_attributes {
        if SearchAttributes::is_system(name) {
            return Err(StoreError::invalid_argument(format!(
                "{name} is a system attribute: it comes from the record's fields, not from \
                 search_attributes"
            )));
        }
        if is_reserved_name(name) {
            return Err(StoreError::invalid_argument(format!(
                "search attribute name {name:?} is reserved"
            )));
        }
        let (Some(ty), Some(column)) = (reg.attribute_type(name), reg.attribute_column(name))
        else {
            return Err(StoreError::invalid_argument(format!(
                "search attribute {name:?} is not registered in namespace {}",
                r.namespace_id
            )));
        };
        let (v, j) = encode_attribute(name, ty, value)?;
        by_column.insert(column.name, v);
        doc.insert(name.clone(), j);
    }
    let dt = |what: &str, t: &DateTime<Utc>| datetime_text(what, t).map(Value::Text);
    let opt_dt = |what: &str, t: &Option<DateTime<Utc>>| match t {
        Some(t) => datetime_text(what, t).map(Value::Text),
        None => Ok(Value::Null),
    };
    let mut row = RowValues {
        columns: Vec::with_capacity(70),
        placeholders: Vec::with_capacity(70),
        values: Vec::with_capacity(70),
    };
    let mut p = |c, v| row.push(c, false, json_ph, v);
    p("namespace_id", Value::Text(r.namespace_id.to_string()));
    p("run_id", Value::Text(r.run_id.to_string()));
    p("_version", Value::Int(r.task_id));
    p("shard_id", Value::from(r.shard_id));
    p("start_time", dt("start time", &r.start_time)?);
    p("execution_time", dt("execution time", &r.execution_time)?);
    p("workflow_id", Value::from(&r.workflow_id));
    p("workflow_type_name", Value::from(&r.workflow_type));
    p("status", Value::from(r.status.as_i32()));
    p("close_time", opt_dt("close time", &r.close_time)?);
    p("history_length", Value::from(r.history_length));
    p("history_size_bytes", Value::from(r.history_size_bytes));
    p(
        "execution_duration",
        Value::from(r.execution_duration_nanos),
    );
    p(
        "state_transition_count",
        Value::from(r.state_transition_count),
    );
    p("memo", Value::from(r.memo.as_ref().map(|m| m.data.clone())));
    p(
        "encoding",
        Value::from(r.memo.as_ref().map(|m| &m.encoding)),
    );
    p("task_queue", Value::from(&r.task_queue));
    p(
        "parent_workflow_id",
        Value::from(r.parent_workflow_id.as_ref()),
    );
    p(
        "parent_run_id",
        Value::from(r.parent_run_id.map(|x| x.to_string())),
    );
    p("root_workflow_id", Value::from(r.root_workflow_id.as_ref()));
    p(
        "root_run_id",
        Value::from(r.root_run_id.map(|x| x.to_string())),
    );
    row.push(
        "search_attributes",
        true,
        json_ph,
        Value::Text(serde_json::Value::Object(doc).to_string()),
    );
    let slots = PREDEFINED_COLUMNS
        .iter()
        .chain(CUSTOM_FIELDS)
        .map(|(n, t)| (*n, Kind::of(*t)));
    for (column, kind) in slots {
        let v = by_column.remove(column).unwrap_or(Value::Null);
        row.push(column, kind.is_json(), json_ph, v);
    }
    Ok(row)
}

/// Decodes the `search_attributes` document with the types the namespace registered.
fn decode_attributes(
    text: Option<String>,
    reg: &Registry,
) -> Result<BTreeMap<String, SearchAttributeValue>> {
    use SearchAttributeValue as V;
    use serde_json::Value as J;
    let Some(text) = text else {
        return Ok(BTreeMap::new());
    };
    let corrupt = |name: &str| {
        StoreError::internal(format!(
            "stored search attribute {name:?} does not match its type"
        ))
    };
    let doc: serde_json::Map<String, J> = serde_json::from_str(&text)
        .map_err(|e| StoreError::internal(format!("stored search attributes: {e}")))?;
    let mut out = BTreeMap::new();
    for (name, j) in doc {
        let v = match (reg.attribute_type(&name), &j) {
            (
                Some(SearchAttributeType::Keyword | SearchAttributeType::Text) | None,
                J::String(s),
            ) => V::String(s.clone()),
            (Some(SearchAttributeType::Datetime), J::String(s)) => {
                V::Datetime(datetime_from_text(s)?)
            }
            (Some(SearchAttributeType::Int), J::Number(n)) => {
                V::Int(n.as_i64().ok_or_else(|| corrupt(&name))?)
            }
            (Some(SearchAttributeType::Double), J::Number(n)) => {
                V::Double(n.as_f64().ok_or_else(|| corrupt(&name))?)
            }
            (Some(SearchAttributeType::Bool) | None, J::Bool(b)) => V::Bool(*b),
            (Some(SearchAttributeType::KeywordList) | None, J::Array(items)) => V::KeywordList(
                items
                    .iter()
                    .map(|i| i.as_str().map(str::to_string).ok_or_else(|| corrupt(&name)))
                    .collect::<Result<_>>()?,
            ),
            // Not registered (never happens: registrations are permanent): best effort.
            (None, J::Number(n)) => match n.as_i64() {
                Some(i) => V::Int(i),
                None => V::Double(n.as_f64().ok_or_else(|| corrupt(&name))?),
            },
            _ => return Err(corrupt(&name)),
        };
        out.insert(name, v);
    }
    Ok(out)
}

fn opt_run_id(row: &Row, i: usize) -> Result<Option<RunId>> {
    row.opt_string(i)?
        .map(|s| {
            s.parse::<RunId>()
                .map_err(|_| StoreError::internal(format!("stored run id {s:?} is not a UUID")))
        })
        .transpose()
}

/// A record and its list position from a row of [`SELECT_COLUMNS`].
fn record_from_row(
    ns: NamespaceId,
    row: &Row,
    reg: &Registry,
    fingerprint: &str,
) -> Result<(VisibilityRecord, ListToken)> {
    let run_text = row.string(0)?;
    let run_id = run_text
        .parse::<RunId>()
        .map_err(|_| StoreError::internal(format!("stored run id {run_text:?} is not a UUID")))?;
    let start_text = row.string(5)?;
    let memo = row.opt_blob(9, 10)?;
    let rec = VisibilityRecord {
        namespace_id: ns,
        run_id,
        task_id: row.i64(1)?,
        shard_id: row.i32(2)?,
        workflow_id: row.string(3)?,
        workflow_type: row.string(4)?,
        start_time: datetime_from_text(&start_text)?,
        execution_time: datetime_from_text(&row.string(6)?)?,
        status: WorkflowStatus::from_i32(row.i32(7)?)?,
        task_queue: row.string(8)?,
        memo,
        search_attributes: decode_attributes(row.opt_string(11)?, reg)?,
        parent_workflow_id: row.opt_string(12)?,
        parent_run_id: opt_run_id(row, 13)?,
        root_workflow_id: row.opt_string(14)?,
        root_run_id: opt_run_id(row, 15)?,
        close_time: row
            .opt_string(16)?
            .map(|s| datetime_from_text(&s))
            .transpose()?,
        history_length: row.opt_i64(17)?,
        history_size_bytes: row.opt_i64(18)?,
        execution_duration_nanos: row.opt_i64(19)?,
        state_transition_count: row.opt_i64(20)?,
    };
    let token = ListToken {
        c: row.string(21)?,
        s: start_text,
        r: run_text,
        q: fingerprint.to_string(),
    };
    Ok((rec, token))
}

/// The most namespaces whose registries a store keeps; past it the cache starts over.
const CACHED_REGISTRIES: usize = 4096;

/// Registries of custom search attributes by namespace, as last read, for writes.
///
/// An alias is only ever added (no API removes or remaps one), so a cached registry is never
/// wrong about an alias it has: it can only lack one registered since, here or by another
/// process. A write uses it when it has every attribute of the record and reads the table
/// otherwise, so the lifecycle's two visibility writes per workflow skip a round trip each.
/// Lists, counts and gets read the table every time: there a missing alias would reject a
/// valid query or drop an attribute from a record. (A store whose alias table is emptied
/// underneath it, by a schema reset while it runs, must be reopened.)
#[derive(Default)]
pub(crate) struct RegistryCache(std::sync::Mutex<HashMap<NamespaceId, Arc<Registry>>>);

impl RegistryCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<NamespaceId, Arc<Registry>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, ns: NamespaceId) -> Option<Arc<Registry>> {
        self.lock().get(&ns).cloned()
    }

    fn put(&self, ns: NamespaceId, reg: Arc<Registry>) {
        let mut map = self.lock();
        if map.len() >= CACHED_REGISTRIES && !map.contains_key(&ns) {
            map.clear();
        }
        map.insert(ns, reg);
    }

    fn forget(&self, ns: NamespaceId) {
        self.lock().remove(&ns);
    }
}

impl SqlStore {
    /// The registry a write of `r` needs: the cached one when it has every attribute of the
    /// record, else read afresh (and cached).
    async fn write_registry(&self, r: &VisibilityRecord) -> Result<Arc<Registry>> {
        if let Some(reg) = self.registries.get(r.namespace_id)
            && r.search_attributes
                .keys()
                .all(|name| reg.attribute_type(name).is_some())
        {
            return Ok(reg);
        }
        let reg = Arc::new(self.vis_registry(r.namespace_id).await?);
        self.registries.put(r.namespace_id, reg.clone());
        Ok(reg)
    }

    /// The namespace's registered custom attributes.
    async fn vis_registry(&self, ns: NamespaceId) -> Result<Registry> {
        let rows = self
            .driver
            .query(
                &format!(
                    "SELECT alias, field_name, field_type FROM {ALIAS_TABLE} WHERE namespace_id = ?"
                ),
                &params![ns.to_string()],
            )
            .await?;
        registry_from_rows(&rows)
    }

    async fn vis_write(&self, r: VisibilityRecord, kind: WriteKind) -> Result<()> {
        validate_record(&r, kind)?;
        let reg = self.write_registry(&r).await?;
        let row = encode_row(&r, &reg, self.dialect().json_placeholder())?;
        let sql =
            self.dialect()
                .upsert_if_newer(TABLE, &row.columns, &row.placeholders, KEY, "_version");
        // Zero rows affected is a stale write: a silent no-op by contract.
        self.driver.execute(&sql, &row.values).await?;
        Ok(())
    }

    /// Parses `text` and translates its filter.
    async fn vis_query(&self, ns: NamespaceId, text: &str, is_count: bool) -> Result<Parsed> {
        let reg = self.vis_registry(ns).await?;
        let q = parse_query(text, &SearchAttributes::new(reg.types()), is_count)?;
        if !q.order_by.is_empty() {
            return Err(StoreError::invalid_argument(
                "query: ORDER BY is not supported; lists are always in the default order",
            ));
        }
        let cond = q
            .filter
            .as_ref()
            .map(|f| translate(f, &reg, self.dialect()))
            .transpose()?;
        Ok(Parsed {
            fingerprint: query_fingerprint(ns, &q),
            registry: reg,
            condition: cond,
            group_by: q.group_by,
        })
    }

    async fn vis_add_attempt(
        &self,
        ns: NamespaceId,
        attributes: &BTreeMap<String, SearchAttributeType>,
    ) -> Result<()> {
        let ns_text = ns.to_string();
        let mut tx = self.driver.begin().await?;
        let result = async {
            let rows = tx
                .query(
                    &format!(
                        "SELECT alias, field_name, field_type FROM {ALIAS_TABLE} \
                         WHERE namespace_id = ?"
                    ),
                    &params![&ns_text],
                )
                .await?;
            let mut reg = registry_from_rows(&rows)?;
            let mut new_rows = Vec::new();
            for (name, ty) in attributes {
                if let Some((_, have)) = reg.custom.get(name) {
                    if have == ty {
                        continue;
                    }
                    return Err(StoreError::invalid_argument(format!(
                        "search attribute {name:?} is already registered as {} in namespace \
                         {ns}, not {}",
                        type_name(*have),
                        type_name(*ty)
                    )));
                }
                let Some(field) = reg.free_field(*ty) else {
                    let slots = CUSTOM_FIELDS.iter().filter(|(_, t)| t == ty).count();
                    return Err(StoreError::invalid_argument(format!(
                        "cannot register search attribute {name:?}: namespace {ns} already uses \
                         all {slots} {} attributes this store provides",
                        type_name(*ty)
                    )));
                };
                reg.custom.insert(name.clone(), (field, *ty));
                new_rows.push((name.clone(), field, *ty));
            }
            for (name, field, ty) in new_rows {
                tx.execute(
                    &format!(
                        "INSERT INTO {ALIAS_TABLE} (namespace_id, alias, field_name, field_type) \
                         VALUES (?, ?, ?, ?)"
                    ),
                    &params![&ns_text, name, field, type_name(ty)],
                )
                .await?;
            }
            Ok(())
        }
        .await;
        SqlStore::finish(tx, result).await
    }
}

/// A query ready to run.
struct Parsed {
    registry: Registry,
    condition: Option<Condition>,
    group_by: Vec<String>,
    fingerprint: String,
}

fn registry_from_rows(rows: &[Row]) -> Result<Registry> {
    let mut reg = Registry::default();
    for row in rows {
        let alias = row.string(0)?;
        let field = row.string(1)?;
        let ty_name = row.string(2)?;
        let (Some(column), Some(ty)) = (custom_column(&field), type_from_name(&ty_name)) else {
            return Err(StoreError::internal(format!(
                "{ALIAS_TABLE}: {alias:?} maps to unknown column {field:?} of type {ty_name:?}"
            )));
        };
        if Kind::of(ty) != column.kind {
            return Err(StoreError::internal(format!(
                "{ALIAS_TABLE}: {alias:?} is {ty_name} but column {field} is not"
            )));
        }
        reg.custom.insert(alias, (column.name, ty));
    }
    Ok(reg)
}

#[async_trait]
impl VisibilityStore for SqlStore {
    async fn record_started(&self, record: VisibilityRecord) -> Result<()> {
        self.vis_write(record, WriteKind::Started).await
    }

    async fn record_closed(&self, record: VisibilityRecord) -> Result<()> {
        self.vis_write(record, WriteKind::Closed).await
    }

    async fn upsert(&self, record: VisibilityRecord) -> Result<()> {
        self.vis_write(record, WriteKind::Upsert).await
    }

    async fn delete(&self, namespace_id: NamespaceId, run_id: RunId, task_id: i64) -> Result<()> {
        namespace_id.validate()?;
        run_id.validate()?;
        self.driver
            .execute(
                &format!(
                    "DELETE FROM {TABLE} WHERE namespace_id = ? AND run_id = ? AND _version < ?"
                ),
                &params![namespace_id.to_string(), run_id.to_string(), task_id],
            )
            .await?;
        Ok(())
    }

    async fn get(&self, namespace_id: NamespaceId, run_id: RunId) -> Result<VisibilityRecord> {
        namespace_id.validate()?;
        run_id.validate()?;
        let reg = self.vis_registry(namespace_id).await?;
        let rows = self
            .driver
            .query(
                &format!(
                    "SELECT {SELECT_COLUMNS} FROM {TABLE} WHERE namespace_id = ? AND run_id = ?"
                ),
                &params![namespace_id.to_string(), run_id.to_string()],
            )
            .await?;
        match rows.first() {
            Some(row) => Ok(record_from_row(namespace_id, row, &reg, "")?.0),
            None => Err(StoreError::not_found(format!(
                "no visibility record for run {run_id} in namespace {namespace_id}"
            ))),
        }
    }

    async fn list(&self, req: ListWorkflowExecutionsRequest) -> Result<Page<VisibilityRecord>> {
        req.namespace_id.validate()?;
        let page_size = validate::page_size(req.page_size)?;
        validate::page_token(req.next_page_token.as_deref())?;
        let Parsed {
            registry: reg,
            condition: cond,
            group_by,
            fingerprint,
        } = self.vis_query(req.namespace_id, &req.query, false).await?;
        let token = ListToken::decode(&req.next_page_token, &fingerprint)?;
        if !group_by.is_empty() {
            return Err(StoreError::invalid_argument(
                "query: GROUP BY is only allowed in a count",
            ));
        }
        let mut sql = format!("SELECT {SELECT_COLUMNS} FROM {TABLE} WHERE namespace_id = ?");
        let mut p = params![req.namespace_id.to_string()];
        if let Some(c) = cond {
            sql.push_str(" AND ");
            sql.push_str(&c.sql);
            p.extend(c.params);
        }
        if let Some(t) = &token {
            let (pred, tp) = t.predicate();
            sql.push_str(" AND ");
            sql.push_str(pred);
            p.extend(tp);
        }
        sql.push_str(&format!(" ORDER BY {ORDER_BY} LIMIT ?"));
        p.push(Value::Int(page_size as i64 + 1));
        let rows = self.driver.query(&sql, &p).await?;
        let page = keyset_page(
            &rows,
            page_size,
            |row| record_from_row(req.namespace_id, row, &reg, &fingerprint),
            |(_, key)| key.clone(),
        )?;
        Ok(Page {
            items: page.items.into_iter().map(|(r, _)| r).collect(),
            next_page_token: page.next_page_token,
        })
    }

    async fn count(&self, req: CountWorkflowExecutionsRequest) -> Result<CountResult> {
        req.namespace_id.validate()?;
        let Parsed {
            condition: cond,
            group_by,
            ..
        } = self.vis_query(req.namespace_id, &req.query, true).await?;
        let grouped = match group_by.as_slice() {
            [] => false,
            [g] if g == EXECUTION_STATUS => true,
            other => {
                return Err(StoreError::invalid_argument(format!(
                    "query: cannot GROUP BY {other:?}; only {EXECUTION_STATUS} is supported"
                )));
            }
        };
        let select = if grouped {
            "SELECT status, COUNT(*)"
        } else {
            "SELECT COUNT(*)"
        };
        let mut sql = format!("{select} FROM {TABLE} WHERE namespace_id = ?");
        let mut p = params![req.namespace_id.to_string()];
        if let Some(c) = cond {
            sql.push_str(" AND ");
            sql.push_str(&c.sql);
            p.extend(c.params);
        }
        if !grouped {
            let rows = self.driver.query(&sql, &p).await?;
            let count = rows.first().map(|r| r.i64(0)).transpose()?.unwrap_or(0);
            return Ok(CountResult {
                count,
                groups: Vec::new(),
            });
        }
        sql.push_str(" GROUP BY status");
        let rows = self.driver.query(&sql, &p).await?;
        let mut groups = rows
            .iter()
            .map(|r| Ok((WorkflowStatus::from_i32(r.i32(0)?)?, r.i64(1)?)))
            .collect::<Result<Vec<_>>>()?;
        // Largest group first (as Elasticsearch's terms aggregation), ties by status code: one
        // deterministic order on every backend.
        groups.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.as_i32().cmp(&b.0.as_i32())));
        Ok(CountResult {
            count: groups.iter().map(|(_, n)| n).sum(),
            groups: groups
                .into_iter()
                .map(|(s, n)| (vec![Literal::Status(s)], n))
                .collect(),
        })
    }

    async fn add_search_attributes(
        &self,
        namespace_id: NamespaceId,
        attributes: BTreeMap<String, SearchAttributeType>,
    ) -> Result<()> {
        namespace_id.validate()?;
        for name in attributes.keys() {
            validate_custom_name(name)?;
        }
        let mut last = None;
        for _ in 0..REGISTER_ATTEMPTS {
            match self.vis_add_attempt(namespace_id, &attributes).await {
                // A concurrent registration took the same name or column first; the next
                // attempt sees it.
                Err(e) if e.kind() == ErrorKind::AlreadyExists => last = Some(e),
                other => {
                    // The next write reads the registry with these attributes (a write would
                    // also find them missing and read it; this saves that miss).
                    self.registries.forget(namespace_id);
                    return other;
                }
            }
        }
        Err(StoreError::new(
            ErrorKind::Unavailable,
            format!(
                "search attribute registration kept conflicting with concurrent registrations \
                 in namespace {namespace_id}; retry"
            ),
        )
        .with_source(last.unwrap_or_else(|| StoreError::internal("no attempt ran"))))
    }
}

/// A visibility record with its namespace's registry and the row a SELECT of it returns, for
/// the criterion benches of the database-free paths (`sql/benches/hot_paths.rs`, through
/// [`crate::hot_paths`]). Not a stable API.
#[derive(Debug)]
pub struct VisibilityFixture {
    record: VisibilityRecord,
    registry: Registry,
    row: Row,
}

impl VisibilityFixture {
    /// Registers `custom` (each alias on the first free field of its type, as
    /// `add_search_attributes` does) and maps `record` to its stored row once.
    pub fn new(
        record: VisibilityRecord,
        custom: &BTreeMap<String, SearchAttributeType>,
    ) -> Result<Self> {
        let mut registry = Registry::default();
        for (name, ty) in custom {
            let field = registry
                .free_field(*ty)
                .ok_or_else(|| StoreError::invalid_argument(format!("no free field for {name}")))?;
            registry.custom.insert(name.clone(), (field, *ty));
        }
        let values = encode_row(&record, &registry, "?")?;
        let value_of = |c: &str| {
            values
                .columns
                .iter()
                .position(|have| *have == c)
                .map_or(Value::Null, |i| values.values[i].clone())
        };
        let row = SELECT_COLUMNS
            .split(',')
            .map(|c| match c.trim() {
                // Generated by the database: the close time, or RUNNING_ORDER while open.
                "close_time_order" => match value_of("close_time") {
                    Value::Null => Value::Text(RUNNING_ORDER.to_string()),
                    v => v,
                },
                c => value_of(c),
            })
            .collect();
        Ok(VisibilityFixture {
            record,
            registry,
            row: Row(row),
        })
    }

    /// A write's work before the database: the row's values and its conditional upsert, as
    /// `dialect` writes them. Returns the number of bound values and the statement's length.
    pub fn encode(&self, dialect: &dyn Dialect) -> Result<(usize, usize)> {
        let row = encode_row(&self.record, &self.registry, dialect.json_placeholder())?;
        let sql = dialect.upsert_if_newer(TABLE, &row.columns, &row.placeholders, KEY, "_version");
        Ok((row.values.len(), sql.len()))
    }

    /// A read's work after the database: the record (and its page token) from the row.
    pub fn decode(&self) -> Result<VisibilityRecord> {
        record_from_row(self.record.namespace_id, &self.row, &self.registry, "").map(|(r, _)| r)
    }

    /// The record the fixture was made from.
    pub fn record(&self) -> &VisibilityRecord {
        &self.record
    }

    /// A list or count query's work before the database: parsing `query` against the
    /// registry and translating its filter to `dialect`'s SQL. Returns the condition's SQL.
    pub fn translate(&self, dialect: &dyn Dialect, query: &str, is_count: bool) -> Result<String> {
        let q = parse_query(
            query,
            &SearchAttributes::new(self.registry.types()),
            is_count,
        )?;
        Ok(match &q.filter {
            Some(f) => translate(f, &self.registry, dialect)?.sql,
            None => String::new(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use durastore_api::DataBlob;

    fn record() -> VisibilityRecord {
        let t = chrono::DateTime::<chrono::Utc>::from_timestamp(1_714_557_600, 5).unwrap();
        VisibilityRecord {
            namespace_id: NamespaceId::new_random(),
            workflow_id: "wf".into(),
            run_id: RunId::new_random(),
            workflow_type: "T".into(),
            start_time: t,
            execution_time: t,
            status: WorkflowStatus::Running,
            task_queue: "q".into(),
            task_id: 1,
            shard_id: 1,
            memo: Some(DataBlob::new(vec![1, 2], "Proto3")),
            search_attributes: BTreeMap::new(),
            parent_workflow_id: None,
            parent_run_id: None,
            root_workflow_id: None,
            root_run_id: None,
            close_time: None,
            history_length: None,
            history_size_bytes: None,
            execution_duration_nanos: None,
            state_transition_count: None,
        }
    }

    #[test]
    fn bench_fixture_round_trips_a_record() {
        let mut r = record();
        r.status = WorkflowStatus::Completed;
        r.close_time = Some(r.start_time + chrono::Duration::seconds(90));
        r.history_length = Some(12);
        r.execution_duration_nanos = Some(90_000_000_000);
        r.search_attributes = BTreeMap::from([
            (
                "CustomKeywordField".to_string(),
                SearchAttributeValue::String("k".into()),
            ),
            ("CustomIntField".to_string(), SearchAttributeValue::Int(-7)),
            (
                "CustomKeywordListField".to_string(),
                SearchAttributeValue::KeywordList(vec!["a".into(), "b".into()]),
            ),
        ]);
        let custom = BTreeMap::from([
            (
                "CustomKeywordField".to_string(),
                SearchAttributeType::Keyword,
            ),
            ("CustomIntField".to_string(), SearchAttributeType::Int),
            (
                "CustomKeywordListField".to_string(),
                SearchAttributeType::KeywordList,
            ),
        ]);
        let f = VisibilityFixture::new(r.clone(), &custom).unwrap();
        assert_eq!(f.decode().unwrap(), r);
        let (values, sql_len) = f.encode(&crate::SqliteDialect).unwrap();
        assert!(
            values > 20 && sql_len > 100,
            "{values} values, {sql_len} bytes"
        );
        let sql = f
            .translate(
                &crate::SqliteDialect,
                "CustomIntField < 0 AND ExecutionStatus = 'Completed'",
                false,
            )
            .unwrap();
        assert!(sql.contains("status") && sql.contains('?'), "{sql}");
        assert!(
            f.translate(&crate::SqliteDialect, "Nope = 1", false)
                .is_err()
        );
    }

    #[test]
    fn row_encoding_checks_attributes() {
        let mut reg = Registry::default();
        reg.custom.insert(
            "Tags".into(),
            ("KeywordList01", SearchAttributeType::KeywordList),
        );
        let mut r = record();
        r.search_attributes
            .insert("Tags".into(), SearchAttributeValue::KeywordList(vec![]));
        r.search_attributes.insert(
            "BuildIds".into(),
            SearchAttributeValue::KeywordList(vec!["b1".into()]),
        );
        let row = encode_row(&r, &reg, "?").unwrap();
        assert_eq!(
            row.columns.len(),
            22 + PREDEFINED_COLUMNS.len() + CUSTOM_FIELDS.len()
        );
        let at = |c: &str| row.values[row.columns.iter().position(|x| *x == c).unwrap()].clone();
        assert_eq!(at("KeywordList01"), Value::Null);
        assert_eq!(at("BuildIds"), Value::Text(r#"["b1"]"#.into()));
        let doc = at("search_attributes");
        let back = match doc {
            Value::Text(t) => decode_attributes(Some(t), &reg).unwrap(),
            other => panic!("{other:?}"),
        };
        assert_eq!(back, r.search_attributes);

        for (name, v) in [
            ("Unregistered", SearchAttributeValue::Int(1)),
            ("Tags", SearchAttributeValue::Int(1)),
            ("WorkflowId", SearchAttributeValue::String("x".into())),
            ("TemporalNope", SearchAttributeValue::String("x".into())),
        ] {
            let mut bad = record();
            bad.search_attributes.insert(name.into(), v);
            let e = encode_row(&bad, &reg, "?").unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{name}");
        }
        let mut closed = record();
        assert!(validate_record(&closed, WriteKind::Closed).is_err());
        closed.close_time = Some(closed.start_time);
        assert!(validate_record(&closed, WriteKind::Closed).is_ok());
    }

    #[test]
    fn tokens_reject_garbage() {
        let tok = |s: &str, q: &str| {
            Some(validate::token::encode(&ListToken {
                c: "~".into(),
                s: s.into(),
                r: "r".into(),
                q: q.into(),
            }))
        };
        let good = "2024-05-01T10:00:00.000000000Z";
        assert!(ListToken::decode(&tok(good, "f"), "f").is_ok());
        assert!(ListToken::decode(&tok(good, "f"), "g").is_err());
        assert!(ListToken::decode(&tok("x", "f"), "f").is_err());
        assert!(ListToken::decode(&Some(b"junk".to_vec()), "f").is_err());
        let ns = NamespaceId::new_random();
        let q = durastore_api::query::Query::default();
        assert_eq!(query_fingerprint(ns, &q), query_fingerprint(ns, &q));
        assert_ne!(
            query_fingerprint(ns, &q),
            query_fingerprint(NamespaceId::new_random(), &q)
        );
    }
}
