//! Reads: parsing and translating a query, list pages and their tokens, counts, and decoding a
//! row back into a record (see the module docs of [`super`]).

use std::collections::BTreeMap;

use durastore_api::query::{SearchAttributeType, SearchAttributes, parse_query};
use durastore_api::{
    ArchetypeId, CountResult, CountWorkflowExecutionsRequest, ListWorkflowExecutionsRequest,
    NamespaceId, Page, Result, RunId, SearchAttributeValue, StoreError, VisibilityRecord,
    WorkflowStatus, validate,
};
use serde::{Deserialize, Serialize};

use super::{RUNNING_ORDER, SELECT_COLUMNS};
use crate::paging::keyset_page;
use crate::value::{Row, Value};
use crate::visibility_columns::{Kind, Registry, TABLE, datetime_from_text};
use crate::visibility_query::{Condition, translate};
use crate::{SqlStore, params};

/// The list order; must match the keyset predicate of [`ListToken`].
const ORDER_BY: &str = "close_time_order DESC, start_time DESC, run_id ASC";

/// Keyset position of a listing: the last returned row's order columns, and the fingerprint of
/// the namespace and query it belongs to (a token is refused with any other).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct ListToken {
    /// `close_time_order`.
    pub(super) c: String,
    /// `start_time`.
    pub(super) s: String,
    /// `run_id`.
    pub(super) r: String,
    /// [`query_fingerprint`] of the listing.
    pub(super) q: String,
}

/// A short hash of the namespace, the archetype and the parsed query (not its text, so spacing
/// and keyword case do not matter): what a page token is bound to.
pub(super) fn query_fingerprint(
    ns: NamespaceId,
    archetype_id: u32,
    q: &durastore_api::query::Query,
) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(ns.as_bytes());
    // Workflow listings hash as before 1.1, so their tokens stay valid across the upgrade.
    if archetype_id != 0 {
        h.update(archetype_id.to_be_bytes());
    }
    // Serializing the plain AST cannot fail; an empty rendering would still bind the namespace.
    h.update(serde_json::to_vec(q).unwrap_or_default());
    crate::paging::hex(&h.finalize()[..12])
}

impl ListToken {
    pub(super) fn decode(token: &Option<Vec<u8>>, fingerprint: &str) -> Result<Option<Self>> {
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

/// Decodes the `search_attributes` document with the types the namespace registered.
pub(super) fn decode_attributes(
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
                Some(
                    SearchAttributeType::Keyword
                    | SearchAttributeType::LowCardinalityKeyword
                    | SearchAttributeType::Text,
                )
                | None,
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
pub(super) fn record_from_row(
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
        archetype_id: ArchetypeId::from_visibility_code(
            u32::try_from(row.i64(22)?)
                .map_err(|_| StoreError::internal("stored archetype id is not a u32"))?,
        ),
        chasm_info: row.opt_blob(23, 24)?,
    };
    let token = ListToken {
        c: row.string(21)?,
        s: start_text,
        r: run_text,
        q: fingerprint.to_string(),
    };
    Ok((rec, token))
}

/// A query ready to run.
struct Parsed {
    registry: Registry,
    condition: Option<Condition>,
    group_by: Vec<String>,
    fingerprint: String,
}

impl SqlStore {
    /// Parses `text` and translates its filter.
    async fn vis_query(
        &self,
        ns: NamespaceId,
        archetype_id: u32,
        text: &str,
        is_count: bool,
    ) -> Result<Parsed> {
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
            fingerprint: query_fingerprint(ns, archetype_id, &q),
            registry: reg,
            condition: cond,
            group_by: q.group_by,
        })
    }

    /// The body of `VisibilityStore::get`.
    pub(super) async fn vis_get(
        &self,
        namespace_id: NamespaceId,
        run_id: RunId,
    ) -> Result<VisibilityRecord> {
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

    /// The body of `VisibilityStore::list`.
    pub(super) async fn vis_list(
        &self,
        req: ListWorkflowExecutionsRequest,
    ) -> Result<Page<VisibilityRecord>> {
        req.namespace_id.validate()?;
        let page_size = validate::page_size(req.page_size)?;
        validate::page_token(req.next_page_token.as_deref())?;
        let Parsed {
            registry: reg,
            condition: cond,
            group_by,
            fingerprint,
        } = self
            .vis_query(
                req.namespace_id,
                validate::visibility_scope(req.archetype_id)?,
                &req.query,
                false,
            )
            .await?;
        let token = ListToken::decode(&req.next_page_token, &fingerprint)?;
        if !group_by.is_empty() {
            return Err(StoreError::invalid_argument(
                "query: GROUP BY is only allowed in a count",
            ));
        }
        let mut sql = format!(
            "SELECT {SELECT_COLUMNS} FROM {TABLE} WHERE namespace_id = ? AND archetype_id = ?"
        );
        let mut p = params![
            req.namespace_id.to_string(),
            i64::from(validate::visibility_scope(req.archetype_id)?)
        ];
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

    /// The body of `VisibilityStore::count`.
    pub(super) async fn vis_count(
        &self,
        req: CountWorkflowExecutionsRequest,
    ) -> Result<CountResult> {
        req.namespace_id.validate()?;
        let Parsed {
            registry: reg,
            condition: cond,
            group_by,
            ..
        } = self
            .vis_query(
                req.namespace_id,
                validate::visibility_scope(req.archetype_id)?,
                &req.query,
                true,
            )
            .await?;
        // The parser admits only ExecutionStatus or a LowCardinalityKeyword attribute.
        let group = match group_by.as_slice() {
            [] => None,
            [g] => Some(reg.query_column(g).ok_or_else(|| {
                StoreError::invalid_argument(format!("query: cannot GROUP BY {g:?}"))
            })?),
            more => {
                return Err(StoreError::invalid_argument(format!(
                    "query: GROUP BY supports one attribute, not {more:?}"
                )));
            }
        };
        let select = match group {
            Some(c) => format!("SELECT {}, COUNT(*)", c.name),
            None => "SELECT COUNT(*)".to_string(),
        };
        let mut sql = format!("{select} FROM {TABLE} WHERE namespace_id = ? AND archetype_id = ?");
        let mut p = params![
            req.namespace_id.to_string(),
            i64::from(validate::visibility_scope(req.archetype_id)?)
        ];
        if let Some(c) = cond {
            sql.push_str(" AND ");
            sql.push_str(&c.sql);
            p.extend(c.params);
        }
        let Some(group) = group else {
            let rows = self.driver.query(&sql, &p).await?;
            let count = rows.first().map(|r| r.i64(0)).transpose()?.unwrap_or(0);
            return Ok(CountResult {
                count,
                groups: Vec::new(),
            });
        };
        sql.push_str(&format!(" GROUP BY {}", group.name));
        let rows = self.driver.query(&sql, &p).await?;
        if group.kind == Kind::Status {
            let groups = rows
                .iter()
                .map(|r| Ok((WorkflowStatus::from_i32(r.i32(0)?)?, r.i64(1)?)))
                .collect::<Result<Vec<_>>>()?;
            let count = groups.iter().map(|(_, n)| n).sum();
            return Ok(CountResult::by_status(count, groups));
        }
        let groups = rows
            .iter()
            .map(|r| Ok((r.opt_string(0)?, r.i64(1)?)))
            .collect::<Result<Vec<_>>>()?;
        let count = groups.iter().map(|(_, n)| n).sum();
        Ok(CountResult::by_value(count, groups))
    }
}
