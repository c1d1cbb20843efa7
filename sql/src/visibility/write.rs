//! Writes: checking a record, encoding it as a row of `executions_visibility`, and the
//! conditional upsert and delete (see the module docs of [`super`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use durastore_api::query::{
    CHASM_ATTRIBUTES, SearchAttributeType, SearchAttributes, is_reserved_name,
};
use durastore_api::{
    NamespaceId, Result, RunId, SearchAttributeValue, StoreError, VisibilityRecord, validate,
};

use super::KEY;
use crate::value::Value;
use crate::visibility_columns::{
    CUSTOM_FIELDS, Kind, PREDEFINED_COLUMNS, Registry, TABLE, datetime_text, json_array, token_set,
    type_name,
};
use crate::{SqlStore, params};

/// Which write a record comes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WriteKind {
    Started,
    Closed,
    Upsert,
}

/// Checks the parts of a record that do not depend on the namespace's registry.
pub(super) fn validate_record(r: &VisibilityRecord, kind: WriteKind) -> Result<()> {
    validate::visibility_record(r, kind == WriteKind::Closed)
}

/// A column's placeholder and value in the upsert.
#[derive(Debug)]
pub(super) struct RowValues {
    pub(super) columns: Vec<&'static str>,
    pub(super) placeholders: Vec<&'static str>,
    pub(super) values: Vec<Value>,
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
        (t, V::String(s)) if t.is_keyword() => (Value::Text(s.clone()), J::from(s.clone())),
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
pub(super) fn encode_row(
    r: &VisibilityRecord,
    reg: &Registry,
    json_ph: &'static str,
) -> Result<RowValues> {
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
    p(
        "archetype_id",
        Value::Int(i64::from(r.archetype_id.visibility_code())),
    );
    p(
        "chasm_info",
        Value::from(r.chasm_info.as_ref().map(|m| m.data.clone())),
    );
    p(
        "chasm_info_encoding",
        Value::from(r.chasm_info.as_ref().map(|m| &m.encoding)),
    );
    row.push(
        "search_attributes",
        true,
        json_ph,
        Value::Text(serde_json::Value::Object(doc).to_string()),
    );
    let slots = PREDEFINED_COLUMNS
        .iter()
        .chain(CHASM_ATTRIBUTES)
        .chain(CUSTOM_FIELDS)
        .map(|(n, t)| (*n, Kind::of(*t)));
    for (column, kind) in slots {
        let v = by_column.remove(column).unwrap_or(Value::Null);
        row.push(column, kind.is_json(), json_ph, v);
    }
    Ok(row)
}

impl SqlStore {
    /// The body of `VisibilityStore::record_started`, `record_closed` and `upsert`.
    pub(super) async fn vis_write(&self, r: VisibilityRecord, kind: WriteKind) -> Result<()> {
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

    /// The body of `VisibilityStore::delete`.
    pub(super) async fn vis_delete(
        &self,
        namespace_id: NamespaceId,
        run_id: RunId,
        task_id: i64,
    ) -> Result<()> {
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
}
