//! The document a visibility record is stored as, and back.
//!
//! Field names are Temporal's (`WorkflowId`, `StartTime`, …, custom attributes under their own
//! names). Two deliberate differences from Temporal's mapping, both so that every backend
//! answers a query identically (docs/architecture.md#visibility-query-semantics):
//! - Datetimes are `keyword` fields holding fixed-width UTC text with nanoseconds
//!   (`2026-01-02T03:04:05.123456789Z`): that text orders chronologically, keeps nanoseconds
//!   exactly and covers the years 0000..=9999 (`date_nanos` stops at 1970..2262, `date` at ms).
//! - Doubles are `double` (Temporal's `scaled_float` rounds to 1/10000).
//!
//! Every document also carries `PresentAttributes`, the names of the attributes it has, which
//! the query translation uses for "is present" (see [`crate::translate`]), and
//! `DurastoreAttributes`, the typed search attributes as written (not indexed), so a record
//! reads back exactly. A CHASM execution's record also carries `ArchetypeId` and its info blob
//! (`ChasmInfo`, `ChasmInfoEncoding`, like `Memo`); the CHASM attributes (`TemporalKeyword01`, …)
//! are fields of their own name.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use durastore_api::query::{SearchAttributeType, SearchAttributes, is_chasm_attribute};
use durastore_api::{
    ArchetypeId, DataBlob, NamespaceId, Result, RunId, SearchAttributeValue, StoreError,
    VisibilityRecord, WorkflowStatus,
};
use serde_json::{Map, Value, json};

/// Keyword array of the attribute names a document has.
pub(crate) const PRESENT_FIELD: &str = "PresentAttributes";
/// The CHASM archetype id of a CHASM execution's record (`long`, schema 1.1); absent on workflow
/// records.
pub(crate) const ARCHETYPE_FIELD: &str = "ArchetypeId";
/// Non-indexed object with the typed search attributes.
pub(crate) const TYPED_FIELD: &str = "DurastoreAttributes";

/// `CloseTimeOrder` of a running execution.
pub(crate) const RUNNING_ORDER: &str = "~";

const DATETIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.9fZ";

/// The indexed tokens of a Text value: de-duplicated, sorted.
pub(crate) fn text_token_set(s: &str) -> Vec<String> {
    let mut t = durastore_api::query::text_tokens(s);
    t.sort();
    t.dedup();
    t
}

/// The stored text of a datetime; out of 0000..=9999 is `InvalidArgument`.
pub(crate) fn datetime_stored(what: &str, t: &DateTime<Utc>) -> Result<String> {
    if !(0..=9999).contains(&t.year()) {
        return Err(StoreError::invalid_argument(format!(
            "{what} {t} is outside the storable years 0000..=9999"
        )));
    }
    Ok(t.format(DATETIME_FORMAT).to_string())
}

/// A datetime as a query bound: out of the storable range it becomes a string that sorts below
/// (`-`) or above (`A`) every stored value and equals none.
pub(crate) fn datetime_text(t: &DateTime<Utc>) -> String {
    match t.year() {
        y if y < 0 => "-".to_string(),
        y if y > 9999 => "A".to_string(),
        _ => t.format(DATETIME_FORMAT).to_string(),
    }
}

fn parse_datetime(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| StoreError::internal(format!("stored datetime {s:?} is not RFC3339")))
}

/// The document field of an attribute: system and predefined attributes use their own names,
/// and so do the CHASM attributes (`TemporalKeyword01`, …); custom ones live under
/// `Custom.<Type>.<name>` (so one name may have different types in two namespaces).
pub(crate) fn field_name(attr: &str, attrs: &SearchAttributes) -> String {
    if SearchAttributes::is_system(attr)
        || SearchAttributes::is_predefined(attr)
        || is_chasm_attribute(attr)
    {
        return attr.to_string();
    }
    match attrs.custom().get(attr) {
        Some(ty) => custom_field(attr, *ty),
        None => attr.to_string(),
    }
}

/// The field of a custom attribute.
pub(crate) fn custom_field(attr: &str, ty: SearchAttributeType) -> String {
    format!("Custom.{}.{attr}", type_name(ty))
}

/// The document id: namespace and run (the API addresses records by those two).
pub(crate) fn doc_id(ns: &NamespaceId, run: &RunId) -> String {
    format!("{ns}~{run}")
}

/// The Elasticsearch field type an attribute type is mapped to.
pub(crate) fn mapping_for(ty: SearchAttributeType) -> Value {
    match ty {
        SearchAttributeType::Keyword
        | SearchAttributeType::LowCardinalityKeyword
        | SearchAttributeType::KeywordList => json!({"type": "keyword"}),
        SearchAttributeType::Datetime => json!({"type": "keyword"}),
        // The value's tokens (`text_tokens`), so Text `=` is exact token equality as on every
        // backend; an analyzer would tokenize differently (and the integration-test server
        // distributions ship without the analysis modules).
        SearchAttributeType::Text => json!({"type": "keyword"}),
        SearchAttributeType::Int => json!({"type": "long"}),
        SearchAttributeType::Double => json!({"type": "double"}),
        SearchAttributeType::Bool => json!({"type": "boolean"}),
    }
}

/// Stable names of attribute types (registry documents, typed copies).
pub(crate) fn type_name(ty: SearchAttributeType) -> &'static str {
    match ty {
        SearchAttributeType::Keyword => "Keyword",
        SearchAttributeType::Text => "Text",
        SearchAttributeType::Int => "Int",
        SearchAttributeType::Double => "Double",
        SearchAttributeType::Bool => "Bool",
        SearchAttributeType::Datetime => "Datetime",
        SearchAttributeType::KeywordList => "KeywordList",
        SearchAttributeType::LowCardinalityKeyword => "LowCardinalityKeyword",
    }
}

/// Inverse of [`type_name`].
pub(crate) fn type_from_name(s: &str) -> Option<SearchAttributeType> {
    SearchAttributeType::ALL
        .into_iter()
        .find(|t| type_name(*t) == s)
}

/// The indexed value of a search attribute, checked against its type.
fn indexed_value(name: &str, ty: SearchAttributeType, v: &SearchAttributeValue) -> Result<Value> {
    use SearchAttributeType as T;
    use SearchAttributeValue as V;
    let what = format!("search attribute {name:?}");
    Ok(match (ty, v) {
        (T::Keyword | T::LowCardinalityKeyword, V::String(s)) => json!(s),
        (T::Text, V::String(s)) => json!(text_token_set(s)),
        (T::Int, V::Int(i)) => json!(i),
        (T::Double, V::Double(d)) => json!(d),
        (T::Bool, V::Bool(b)) => json!(b),
        (T::Datetime, V::Datetime(t)) => json!(datetime_stored(&what, t)?),
        (T::KeywordList, V::KeywordList(items)) => json!(items),
        (ty, v) => {
            return Err(StoreError::invalid_argument(format!(
                "{what} is registered as {} but the value is {v:?}",
                type_name(ty)
            )));
        }
    })
}

/// The typed copy of a value (read back by [`record_from_doc`]).
fn typed_value(v: &SearchAttributeValue) -> Value {
    use SearchAttributeValue as V;
    match v {
        V::String(s) => json!({"s": s}),
        V::Int(i) => json!({"i": i}),
        V::Double(d) => json!({"d": d}),
        V::Bool(b) => json!({"b": b}),
        V::Datetime(t) => json!({"t": t.format(DATETIME_FORMAT).to_string()}),
        V::KeywordList(l) => json!({"l": l}),
    }
}

fn typed_from(v: &Value) -> Result<SearchAttributeValue> {
    use SearchAttributeValue as V;
    let bad = || StoreError::internal(format!("stored search attribute {v} has no known type"));
    let obj = v.as_object().ok_or_else(bad)?;
    let (k, x) = obj.iter().next().ok_or_else(bad)?;
    Ok(match k.as_str() {
        "s" => V::String(x.as_str().ok_or_else(bad)?.to_string()),
        "i" => V::Int(x.as_i64().ok_or_else(bad)?),
        "d" => V::Double(x.as_f64().ok_or_else(bad)?),
        "b" => V::Bool(x.as_bool().ok_or_else(bad)?),
        "t" => V::Datetime(parse_datetime(x.as_str().ok_or_else(bad)?)?),
        "l" => V::KeywordList(
            x.as_array()
                .ok_or_else(bad)?
                .iter()
                .map(|s| s.as_str().map(str::to_string).ok_or_else(bad))
                .collect::<Result<_>>()?,
        ),
        _ => return Err(bad()),
    })
}

/// Sets a field that counts as a present attribute.
fn put(d: &mut Map<String, Value>, present: &mut Vec<String>, k: &str, v: Value) {
    present.push(k.to_string());
    d.insert(k.to_string(), v);
}

/// Builds the document of `r`; every search attribute must be predefined or registered for the
/// namespace in `attrs`, with a value of its type (else `InvalidArgument`).
pub(crate) fn record_to_doc(r: &VisibilityRecord, attrs: &SearchAttributes) -> Result<Value> {
    let mut d = Map::new();
    let mut present: Vec<String> = Vec::new();
    d.insert("NamespaceId".into(), json!(r.namespace_id.to_string()));
    put(&mut d, &mut present, "RunId", json!(r.run_id.to_string()));
    put(&mut d, &mut present, "WorkflowId", json!(r.workflow_id));
    put(&mut d, &mut present, "WorkflowType", json!(r.workflow_type));
    put(&mut d, &mut present, "TaskQueue", json!(r.task_queue));
    put(
        &mut d,
        &mut present,
        "ExecutionStatus",
        json!(r.status.name()),
    );
    put(
        &mut d,
        &mut present,
        "StartTime",
        json!(datetime_stored("start time", &r.start_time)?),
    );
    put(
        &mut d,
        &mut present,
        "ExecutionTime",
        json!(datetime_stored("execution time", &r.execution_time)?),
    );
    let close_order = match &r.close_time {
        Some(t) => {
            let text = datetime_stored("close time", t)?;
            put(&mut d, &mut present, "CloseTime", json!(text));
            text
        }
        // Sorts above every datetime text: running executions come first in a descending sort.
        None => RUNNING_ORDER.to_string(),
    };
    d.insert("CloseTimeOrder".into(), json!(close_order));
    let ints = [
        ("HistoryLength", r.history_length),
        ("HistorySizeBytes", r.history_size_bytes),
        ("ExecutionDuration", r.execution_duration_nanos),
        ("StateTransitionCount", r.state_transition_count),
    ];
    for (k, v) in ints {
        if let Some(v) = v {
            put(&mut d, &mut present, k, json!(v));
        }
    }
    let strs = [
        ("ParentWorkflowId", r.parent_workflow_id.clone()),
        ("ParentRunId", r.parent_run_id.map(|x| x.to_string())),
        ("RootWorkflowId", r.root_workflow_id.clone()),
        ("RootRunId", r.root_run_id.map(|x| x.to_string())),
    ];
    for (k, v) in strs {
        if let Some(v) = v {
            put(&mut d, &mut present, k, json!(v));
        }
    }
    let mut typed = Map::new();
    for (name, v) in &r.search_attributes {
        if SearchAttributes::is_system(name) {
            return Err(StoreError::invalid_argument(format!(
                "search attribute {name:?} is a system attribute; it comes from the record's fields"
            )));
        }
        let ty = attrs.type_of(name).ok_or_else(|| {
            StoreError::invalid_argument(format!(
                "search attribute {name:?} is neither predefined nor registered for namespace {}",
                r.namespace_id
            ))
        })?;
        let value = indexed_value(name, ty, v)?;
        typed.insert(name.clone(), typed_value(v));
        // An empty KeywordList is absent for queries.
        if matches!(v, SearchAttributeValue::KeywordList(l) if l.is_empty()) {
            continue;
        }
        present.push(name.clone());
        d.insert(field_name(name, attrs), value);
    }
    d.insert(TYPED_FIELD.into(), Value::Object(typed));
    if let Some(m) = &r.memo {
        d.insert("Memo".into(), json!(base64_encode(&m.data)));
        d.insert("MemoEncoding".into(), json!(m.encoding));
    }
    // Workflows carry no ArchetypeId, like every document written before schema 1.1.
    if !r.archetype_id.is_workflow() {
        d.insert(ARCHETYPE_FIELD.into(), json!(r.archetype_id.0));
    }
    if let Some(m) = &r.chasm_info {
        d.insert("ChasmInfo".into(), json!(base64_encode(&m.data)));
        d.insert("ChasmInfoEncoding".into(), json!(m.encoding));
    }
    d.insert(
        "VisibilityTaskKey".into(),
        json!(format!("{}~{}", r.shard_id, r.task_id)),
    );
    d.insert("TaskId".into(), json!(r.task_id));
    d.insert("ShardId".into(), json!(r.shard_id));
    d.insert(PRESENT_FIELD.into(), json!(present));
    Ok(Value::Object(d))
}

/// Reads a record back from its `_source`.
pub(crate) fn record_from_doc(src: &Value) -> Result<VisibilityRecord> {
    let bad = |what: &str| StoreError::internal(format!("visibility document: bad {what}"));
    let s = |k: &str| src.get(k).and_then(Value::as_str);
    let req = |k: &str| s(k).ok_or_else(|| bad(k));
    let time = |k: &str| s(k).map(parse_datetime).transpose();
    let int = |k: &str| src.get(k).and_then(Value::as_i64);
    let run = |k: &str| -> Result<Option<RunId>> { s(k).map(str::parse).transpose() };
    let mut search_attributes = BTreeMap::new();
    if let Some(obj) = src.get(TYPED_FIELD).and_then(Value::as_object) {
        for (k, v) in obj {
            search_attributes.insert(k.clone(), typed_from(v)?);
        }
    }
    let blob = |data: &str, encoding: &str| -> Result<Option<DataBlob>> {
        Ok(match (s(data), s(encoding)) {
            (Some(m), Some(enc)) => Some(DataBlob {
                data: base64_decode(m).ok_or_else(|| bad(data))?,
                encoding: enc.to_string(),
            }),
            _ => None,
        })
    };
    let memo = blob("Memo", "MemoEncoding")?;
    let chasm_info = blob("ChasmInfo", "ChasmInfoEncoding")?;
    let archetype_id = match src.get(ARCHETYPE_FIELD) {
        None | Some(Value::Null) => ArchetypeId::WORKFLOW,
        Some(v) => v
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .map(ArchetypeId::from_visibility_code)
            .ok_or_else(|| bad(ARCHETYPE_FIELD))?,
    };
    Ok(VisibilityRecord {
        namespace_id: req("NamespaceId")?.parse()?,
        workflow_id: req("WorkflowId")?.to_string(),
        run_id: req("RunId")?.parse()?,
        workflow_type: req("WorkflowType")?.to_string(),
        start_time: time("StartTime")?.ok_or_else(|| bad("StartTime"))?,
        execution_time: time("ExecutionTime")?.ok_or_else(|| bad("ExecutionTime"))?,
        status: WorkflowStatus::from_name(req("ExecutionStatus")?)
            .ok_or_else(|| bad("ExecutionStatus"))?,
        task_queue: req("TaskQueue")?.to_string(),
        task_id: int("TaskId").ok_or_else(|| bad("TaskId"))?,
        shard_id: int("ShardId")
            .and_then(|v| i32::try_from(v).ok())
            .ok_or_else(|| bad("ShardId"))?,
        memo,
        search_attributes,
        parent_workflow_id: s("ParentWorkflowId").map(str::to_string),
        parent_run_id: run("ParentRunId")?,
        root_workflow_id: s("RootWorkflowId").map(str::to_string),
        root_run_id: run("RootRunId")?,
        close_time: time("CloseTime")?,
        history_length: int("HistoryLength"),
        history_size_bytes: int("HistorySizeBytes"),
        execution_duration_nanos: int("ExecutionDuration"),
        state_transition_count: int("StateTransitionCount"),
        archetype_id,
        chasm_info,
    })
}

/// Standard base64 (the `binary` field type's encoding).
pub(crate) fn base64_encode(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Inverse of [`base64_encode`]; `None` on malformed input.
pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        for len in 0..20 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(
                base64_decode(&base64_encode(&data)).as_deref(),
                Some(&data[..])
            );
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
    }
}
