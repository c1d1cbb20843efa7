//! The `executions_visibility` table as the visibility store sees it: which column holds which
//! attribute, how each kind of value is encoded, and the per-namespace alias registry.
//!
//! Encodings are chosen so that every backend compares values the same way with plain SQL:
//!
//! - **Keyword** strings are stored as they are, in columns that compare bytes (PostgreSQL
//!   `COLLATE "C"`, MySQL `VARBINARY`, SQLite's default `BINARY`): exact, case-sensitive, no
//!   trailing-space padding, ordered by code point (UTF-8 byte order is code-point order).
//! - **Datetime** values are fixed-width UTC text, `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`, in the same
//!   kind of column: text order is time order, and nanoseconds survive on every backend
//!   (PostgreSQL and MySQL timestamps stop at microseconds). Years 0000..=9999 are storable.
//! - **KeywordList** values are JSON arrays of strings; an empty list is stored as NULL (absent).
//! - **Text** values are stored twice: as written in the `search_attributes` document, and as
//!   the JSON array of their tokens ([`text_tokens`]: split at non-alphanumeric characters,
//!   lower-cased, here de-duplicated and sorted) in the `Text0N` column, which is queried like a
//!   KeywordList. PostgreSQL `tsvector` and MySQL `FULLTEXT` are deliberately not used: their
//!   tokenizers, stemming and stop words differ from each other and from the Text rule of
//!   docs/architecture.md#types-and-operators.
//! - **Int** `BIGINT`, **Double** IEEE double (`DOUBLE PRECISION` / `DOUBLE` / `REAL`, never
//!   MySQL's `DECIMAL(20,5)`, which would round), **Bool** a boolean (0/1 on SQLite and MySQL).
//! - `ExecutionStatus` is Temporal's integer status code.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use durastore_api::query::{CHASM_ATTRIBUTES, SearchAttributeType, text_tokens};
use durastore_api::{Result, StoreError};

/// The records table (Temporal's name).
pub(crate) const TABLE: &str = "executions_visibility";

/// The per-namespace custom attribute registry: `(namespace_id, alias) -> (field, type)`.
pub(crate) const ALIAS_TABLE: &str = "visibility_search_attributes";

/// How an attribute's column stores and compares values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Exact string.
    Keyword,
    /// JSON array of tokens.
    Text,
    /// 64-bit integer.
    Int,
    /// IEEE double.
    Double,
    /// Boolean.
    Bool,
    /// Fixed-width UTC text.
    Datetime,
    /// JSON array of strings (NULL when empty).
    KeywordList,
    /// Integer workflow status code.
    Status,
}

impl Kind {
    /// The kind that stores a search-attribute type.
    pub(crate) fn of(t: SearchAttributeType) -> Kind {
        match t {
            SearchAttributeType::Keyword | SearchAttributeType::LowCardinalityKeyword => {
                Kind::Keyword
            }
            SearchAttributeType::Text => Kind::Text,
            SearchAttributeType::Int => Kind::Int,
            SearchAttributeType::Double => Kind::Double,
            SearchAttributeType::Bool => Kind::Bool,
            SearchAttributeType::Datetime => Kind::Datetime,
            SearchAttributeType::KeywordList => Kind::KeywordList,
        }
    }

    /// Whether the column holds a JSON document (bound through the dialect's JSON placeholder).
    pub(crate) fn is_json(self) -> bool {
        matches!(self, Kind::Text | Kind::KeywordList)
    }
}

/// A column an attribute name resolves to. `name` is always one of the fixed column names of
/// this module, never text from a query or a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Column {
    /// SQL column name.
    pub name: &'static str,
    /// Storage kind.
    pub kind: Kind,
}

/// System attributes and their columns (Temporal's column names).
pub(crate) const SYSTEM_COLUMNS: &[(&str, Column)] = &[
    ("WorkflowId", col("workflow_id", Kind::Keyword)),
    ("RunId", col("run_id", Kind::Keyword)),
    ("WorkflowType", col("workflow_type_name", Kind::Keyword)),
    ("TaskQueue", col("task_queue", Kind::Keyword)),
    ("ExecutionStatus", col("status", Kind::Status)),
    ("StartTime", col("start_time", Kind::Datetime)),
    ("ExecutionTime", col("execution_time", Kind::Datetime)),
    ("CloseTime", col("close_time", Kind::Datetime)),
    ("HistoryLength", col("history_length", Kind::Int)),
    ("ExecutionDuration", col("execution_duration", Kind::Int)),
    (
        "StateTransitionCount",
        col("state_transition_count", Kind::Int),
    ),
    ("HistorySizeBytes", col("history_size_bytes", Kind::Int)),
    ("ParentWorkflowId", col("parent_workflow_id", Kind::Keyword)),
    ("ParentRunId", col("parent_run_id", Kind::Keyword)),
    ("RootWorkflowId", col("root_workflow_id", Kind::Keyword)),
    ("RootRunId", col("root_run_id", Kind::Keyword)),
];

const fn col(name: &'static str, kind: Kind) -> Column {
    Column { name, kind }
}

/// Temporal's predefined attributes, each in a column of its own name (as in Temporal's SQL
/// schema; `BatcherNamespace`, which Temporal maps only in Elasticsearch, gets one too so every
/// predefined attribute is queryable here).
pub(crate) const PREDEFINED_COLUMNS: &[(&str, SearchAttributeType)] = &[
    ("TemporalChangeVersion", SearchAttributeType::KeywordList),
    ("BinaryChecksums", SearchAttributeType::KeywordList),
    ("BuildIds", SearchAttributeType::KeywordList),
    ("TemporalPauseInfo", SearchAttributeType::KeywordList),
    ("TemporalReportedProblems", SearchAttributeType::KeywordList),
    (
        "TemporalUsedWorkerDeploymentVersions",
        SearchAttributeType::KeywordList,
    ),
    ("BatcherNamespace", SearchAttributeType::Keyword),
    ("BatcherUser", SearchAttributeType::Keyword),
    ("TemporalScheduledById", SearchAttributeType::Keyword),
    ("TemporalNamespaceDivision", SearchAttributeType::Keyword),
    (
        "TemporalWorkerDeploymentVersion",
        SearchAttributeType::Keyword,
    ),
    (
        "TemporalWorkflowVersioningBehavior",
        SearchAttributeType::Keyword,
    ),
    ("TemporalWorkerDeployment", SearchAttributeType::Keyword),
    ("TemporalScheduledStartTime", SearchAttributeType::Datetime),
    ("TemporalSchedulePaused", SearchAttributeType::Bool),
    ("TemporalExternalPayloadCount", SearchAttributeType::Int),
    ("TemporalExternalPayloadSizeBytes", SearchAttributeType::Int),
];

/// The pre-allocated custom columns, in the order a type's slots are handed out (Temporal's
/// names and counts: Bool01-03, Datetime01-03, Double01-03, Int01-03, Keyword01-10, Text01-03,
/// KeywordList01-03).
pub(crate) const CUSTOM_FIELDS: &[(&str, SearchAttributeType)] = &[
    ("Bool01", SearchAttributeType::Bool),
    ("Bool02", SearchAttributeType::Bool),
    ("Bool03", SearchAttributeType::Bool),
    ("Datetime01", SearchAttributeType::Datetime),
    ("Datetime02", SearchAttributeType::Datetime),
    ("Datetime03", SearchAttributeType::Datetime),
    ("Double01", SearchAttributeType::Double),
    ("Double02", SearchAttributeType::Double),
    ("Double03", SearchAttributeType::Double),
    ("Int01", SearchAttributeType::Int),
    ("Int02", SearchAttributeType::Int),
    ("Int03", SearchAttributeType::Int),
    ("Keyword01", SearchAttributeType::Keyword),
    ("Keyword02", SearchAttributeType::Keyword),
    ("Keyword03", SearchAttributeType::Keyword),
    ("Keyword04", SearchAttributeType::Keyword),
    ("Keyword05", SearchAttributeType::Keyword),
    ("Keyword06", SearchAttributeType::Keyword),
    ("Keyword07", SearchAttributeType::Keyword),
    ("Keyword08", SearchAttributeType::Keyword),
    ("Keyword09", SearchAttributeType::Keyword),
    ("Keyword10", SearchAttributeType::Keyword),
    ("Text01", SearchAttributeType::Text),
    ("Text02", SearchAttributeType::Text),
    ("Text03", SearchAttributeType::Text),
    ("KeywordList01", SearchAttributeType::KeywordList),
    ("KeywordList02", SearchAttributeType::KeywordList),
    ("KeywordList03", SearchAttributeType::KeywordList),
];

/// The CHASM attribute `name`'s column: Temporal's pre-allocated `Temporal<Type>NN` columns, each
/// of its own name (schema version 1.1).
pub(crate) fn chasm_column(name: &str) -> Option<Column> {
    CHASM_ATTRIBUTES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, t)| col(n, Kind::of(*t)))
}

/// The type whose pre-allocated custom columns store `t`: a LowCardinalityKeyword attribute takes
/// a Keyword column (Temporal allocates no custom LowCardinalityKeyword columns).
pub(crate) fn slot_type(t: SearchAttributeType) -> SearchAttributeType {
    if t.is_keyword() {
        SearchAttributeType::Keyword
    } else {
        t
    }
}

/// The system attribute `name`'s column.
pub(crate) fn system_column(name: &str) -> Option<Column> {
    SYSTEM_COLUMNS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| *c)
}

/// The predefined attribute `name`'s column.
pub(crate) fn predefined_column(name: &str) -> Option<Column> {
    PREDEFINED_COLUMNS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, t)| col(n, Kind::of(*t)))
}

/// The pre-allocated custom column named `field` (as stored in the registry).
pub(crate) fn custom_column(field: &str) -> Option<Column> {
    CUSTOM_FIELDS
        .iter()
        .find(|(n, _)| *n == field)
        .map(|(n, t)| col(n, Kind::of(*t)))
}

/// The type's name as stored in the registry (`field_type` is `VARCHAR(16)`, hence the short
/// name of LowCardinalityKeyword).
pub(crate) fn type_name(t: SearchAttributeType) -> &'static str {
    match t {
        SearchAttributeType::LowCardinalityKeyword => "LowCardKeyword",
        SearchAttributeType::Keyword => "Keyword",
        SearchAttributeType::Text => "Text",
        SearchAttributeType::Int => "Int",
        SearchAttributeType::Double => "Double",
        SearchAttributeType::Bool => "Bool",
        SearchAttributeType::Datetime => "Datetime",
        SearchAttributeType::KeywordList => "KeywordList",
    }
}

/// Inverse of [`type_name`].
pub(crate) fn type_from_name(s: &str) -> Option<SearchAttributeType> {
    SearchAttributeType::ALL
        .into_iter()
        .find(|t| type_name(*t) == s)
}

/// One namespace's registered custom attributes: alias -> (pre-allocated field, type).
#[derive(Debug, Clone, Default)]
pub(crate) struct Registry {
    pub(crate) custom: BTreeMap<String, (&'static str, SearchAttributeType)>,
}

impl Registry {
    /// The custom attributes as the query parser takes them.
    pub(crate) fn types(&self) -> BTreeMap<String, SearchAttributeType> {
        self.custom
            .iter()
            .map(|(n, (_, t))| (n.clone(), *t))
            .collect()
    }

    /// The column of a searchable (non-system) attribute: predefined, else CHASM, else
    /// registered custom.
    pub(crate) fn attribute_column(&self, name: &str) -> Option<Column> {
        predefined_column(name)
            .or_else(|| chasm_column(name))
            .or_else(|| {
                self.custom
                    .get(name)
                    .and_then(|(field, _)| custom_column(field))
            })
    }

    /// The column of any queryable attribute: system, predefined or custom.
    pub(crate) fn query_column(&self, name: &str) -> Option<Column> {
        system_column(name).or_else(|| self.attribute_column(name))
    }

    /// The first pre-allocated field of type `ty` no alias uses yet (the one registration
    /// gives the next alias of that type).
    pub(crate) fn free_field(&self, ty: SearchAttributeType) -> Option<&'static str> {
        CUSTOM_FIELDS
            .iter()
            .find(|(f, t)| *t == slot_type(ty) && !self.custom.values().any(|(used, _)| used == f))
            .map(|(f, _)| *f)
    }

    /// The type of a searchable (non-system) attribute, if known.
    pub(crate) fn attribute_type(&self, name: &str) -> Option<SearchAttributeType> {
        PREDEFINED_COLUMNS
            .iter()
            .chain(CHASM_ATTRIBUTES)
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .or_else(|| self.custom.get(name).map(|(_, t)| *t))
    }
}

/// `chrono` format of the stored datetime text.
const DATETIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.9fZ";

/// A datetime as stored: fixed-width UTC text with nanoseconds. `InvalidArgument` outside the
/// years 0000..=9999, which the fixed width cannot order.
pub(crate) fn datetime_text(what: &str, t: &DateTime<Utc>) -> Result<String> {
    if !(0..=9999).contains(&t.year()) {
        return Err(StoreError::invalid_argument(format!(
            "{what} {t} is outside the storable years 0000..=9999"
        )));
    }
    Ok(t.format(DATETIME_FORMAT).to_string())
}

/// A datetime as a query bound. Out of the storable range it becomes a string that orders
/// below (`"-"`) or above (`"A"`) every stored value and equals none, so comparisons with it
/// still mean what they say (`"-"` < `"0"`, `"9"` < `"A"` bytewise).
pub(crate) fn datetime_bound(t: &DateTime<Utc>) -> String {
    match t.year() {
        y if y < 0 => "-".to_string(),
        y if y > 9999 => "A".to_string(),
        _ => t.format(DATETIME_FORMAT).to_string(),
    }
}

/// Parses a stored datetime.
pub(crate) fn datetime_from_text(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| StoreError::internal(format!("stored datetime {s:?} is not RFC3339")))
}

/// The stored token array of a Text value: its tokens, de-duplicated and sorted.
pub(crate) fn token_set(text: &str) -> Vec<String> {
    let mut t = text_tokens(text);
    t.sort();
    t.dedup();
    t
}

/// JSON text of a list of strings.
pub(crate) fn json_array(items: &[String]) -> String {
    serde_json::Value::Array(
        items
            .iter()
            .map(|s| serde_json::Value::String(s.clone()))
            .collect(),
    )
    .to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use durastore_api::query::PREDEFINED_ATTRIBUTES;

    #[test]
    fn every_language_attribute_has_a_column() {
        for (n, t) in PREDEFINED_ATTRIBUTES {
            assert_eq!(
                predefined_column(n).map(|c| c.kind),
                Some(Kind::of(*t)),
                "{n}"
            );
        }
        assert_eq!(PREDEFINED_ATTRIBUTES.len(), PREDEFINED_COLUMNS.len());
        for (name, _) in durastore_api::query::SYSTEM_ATTRIBUTES {
            assert!(system_column(name).is_some(), "{name}");
        }
        assert_eq!(CUSTOM_FIELDS.len(), 28);
    }

    #[test]
    fn datetimes_are_fixed_width_and_ordered() {
        let a = DateTime::<Utc>::from_timestamp(1_714_557_600, 1).unwrap();
        let b = DateTime::<Utc>::from_timestamp(1_714_557_600, 2).unwrap();
        let ta = datetime_text("t", &a).unwrap();
        assert_eq!(ta, "2024-05-01T10:00:00.000000001Z");
        assert!(ta < datetime_text("t", &b).unwrap());
        assert_eq!(datetime_from_text(&ta).unwrap(), a);
        let zero = DateTime::parse_from_rfc3339("0001-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            datetime_text("t", &zero).unwrap(),
            "0001-01-01T00:00:00.000000000Z"
        );
        let late = DateTime::parse_from_rfc3339("9999-12-31T23:00:00-05:00")
            .unwrap()
            .with_timezone(&Utc);
        assert!(datetime_text("t", &late).is_err());
        assert_eq!(datetime_bound(&late), "A");
        assert!("9999-12-31T23:59:59.999999999Z" < "A");
        assert!("-" < "0000-01-01T00:00:00.000000000Z");
    }

    #[test]
    fn text_tokens_are_a_sorted_set() {
        assert_eq!(token_set("b A, a-b"), vec!["a", "b"]);
        assert_eq!(json_array(&token_set("x \"y\"")), r#"["x","y"]"#);
        assert!(token_set("!!").is_empty());
    }

    #[test]
    fn type_names_round_trip() {
        for t in SearchAttributeType::ALL {
            assert_eq!(type_from_name(type_name(t)), Some(t));
            assert!(type_name(t).len() <= 16, "fits field_type VARCHAR(16)");
        }
        for (n, t) in CHASM_ATTRIBUTES {
            assert_eq!(
                chasm_column(n).map(|c| (c.name, c.kind)),
                Some((*n, Kind::of(*t)))
            );
        }
        assert_eq!(type_from_name("keyword"), None);
    }
}
