//! Search-attribute names and types: system columns, Temporal's predefined attributes, reserved
//! names, and a namespace's custom attributes.

use std::collections::BTreeMap;

use super::SearchAttributeType;
use super::lexer::{is_language_keyword, is_unsupported_sql_word};
use crate::error::{Result, StoreError};
use crate::ids::MAX_ID_BYTES;

/// The system attributes: columns every visibility record has (some only once closed).
///
/// `ExecutionStatus` is typed `Keyword` (as Temporal reports it) but the query language treats it
/// specially: its values are status names and it has only `=`, `!=`, `IN`, `NOT IN` and
/// `IS [NOT] NULL`. `ExecutionDuration` is `Int` nanoseconds and also takes duration strings.
pub const SYSTEM_ATTRIBUTES: &[(&str, SearchAttributeType)] = &[
    ("WorkflowId", SearchAttributeType::Keyword),
    ("RunId", SearchAttributeType::Keyword),
    ("WorkflowType", SearchAttributeType::Keyword),
    ("TaskQueue", SearchAttributeType::Keyword),
    ("ExecutionStatus", SearchAttributeType::Keyword),
    ("StartTime", SearchAttributeType::Datetime),
    ("ExecutionTime", SearchAttributeType::Datetime),
    ("CloseTime", SearchAttributeType::Datetime),
    ("HistoryLength", SearchAttributeType::Int),
    ("ExecutionDuration", SearchAttributeType::Int),
    ("StateTransitionCount", SearchAttributeType::Int),
    ("HistorySizeBytes", SearchAttributeType::Int),
    ("ParentWorkflowId", SearchAttributeType::Keyword),
    ("ParentRunId", SearchAttributeType::Keyword),
    ("RootWorkflowId", SearchAttributeType::Keyword),
    ("RootRunId", SearchAttributeType::Keyword),
];

/// Temporal's predefined search attributes (present in every namespace, stored in the record's
/// `search_attributes` map like custom ones).
pub const PREDEFINED_ATTRIBUTES: &[(&str, SearchAttributeType)] = &[
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

/// The search attributes Temporal pre-allocates for CHASM archetypes (its visibility schemas'
/// `Temporal<Type>NN` columns: Bool01-02, Datetime01-02, Double01-02, Int01-02, Keyword01-04,
/// LowCardinalityKeyword01, KeywordList01-02; Temporal allocates no CHASM Text column). Each is
/// typed by its name and known in every namespace; an archetype maps its own aliases onto them
/// (in Temporal's CHASM registry, above the store).
pub const CHASM_ATTRIBUTES: &[(&str, SearchAttributeType)] = &[
    ("TemporalBool01", SearchAttributeType::Bool),
    ("TemporalBool02", SearchAttributeType::Bool),
    ("TemporalDatetime01", SearchAttributeType::Datetime),
    ("TemporalDatetime02", SearchAttributeType::Datetime),
    ("TemporalDouble01", SearchAttributeType::Double),
    ("TemporalDouble02", SearchAttributeType::Double),
    ("TemporalInt01", SearchAttributeType::Int),
    ("TemporalInt02", SearchAttributeType::Int),
    ("TemporalKeyword01", SearchAttributeType::Keyword),
    ("TemporalKeyword02", SearchAttributeType::Keyword),
    ("TemporalKeyword03", SearchAttributeType::Keyword),
    ("TemporalKeyword04", SearchAttributeType::Keyword),
    (
        "TemporalLowCardinalityKeyword01",
        SearchAttributeType::LowCardinalityKeyword,
    ),
    ("TemporalKeywordList01", SearchAttributeType::KeywordList),
    ("TemporalKeywordList02", SearchAttributeType::KeywordList),
];

/// Names that can never be queried nor registered: they are storage internals.
pub const RESERVED_NAMES: &[&str] = &["NamespaceId", "Memo", "MemoEncoding", "VisibilityTaskKey"];

/// The prefix Temporal reserves for its own attributes.
pub const RESERVED_PREFIX: &str = "Temporal";

/// The custom attributes the conformance suite registers before replaying
/// [`HOSTILE_QUERIES`](super::HOSTILE_QUERIES).
pub const HOSTILE_QUERY_CUSTOM_ATTRIBUTES: &[(&str, SearchAttributeType)] = &[
    ("CustomKeywordField", SearchAttributeType::Keyword),
    ("CustomIntField", SearchAttributeType::Int),
    ("CustomTextField", SearchAttributeType::Text),
];

/// The name of the status attribute (values are [`WorkflowStatus`](crate::WorkflowStatus) names).
pub const EXECUTION_STATUS: &str = "ExecutionStatus";
/// The name of the duration attribute (Int nanoseconds; also takes duration strings).
pub const EXECUTION_DURATION: &str = "ExecutionDuration";

/// True for storage-internal names (`NamespaceId`, `Memo`, `MemoEncoding`, `VisibilityTaskKey`)
/// and for names starting with `Temporal` that are neither predefined attributes nor
/// pre-allocated CHASM attributes ([`CHASM_ATTRIBUTES`]). Case-sensitive, as in Temporal.
pub fn is_reserved_name(name: &str) -> bool {
    RESERVED_NAMES.contains(&name)
        || (name.starts_with(RESERVED_PREFIX) && !is_predefined(name) && !is_chasm_attribute(name))
}

/// True for the pre-allocated CHASM attributes ([`CHASM_ATTRIBUTES`]), case-sensitive.
pub fn is_chasm_attribute(name: &str) -> bool {
    lookup(CHASM_ATTRIBUTES, name).is_some()
}

/// True for Temporal's predefined attributes ([`PREDEFINED_ATTRIBUTES`]).
pub fn is_predefined(name: &str) -> bool {
    PREDEFINED_ATTRIBUTES.iter().any(|(n, _)| *n == name)
}

fn lookup(table: &[(&str, SearchAttributeType)], name: &str) -> Option<SearchAttributeType> {
    table.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Checks a custom search-attribute name before it is registered
/// ([`VisibilityStore::add_search_attributes`](crate::VisibilityStore::add_search_attributes)).
///
/// A valid name is 1..=255 bytes, starts with an ASCII letter and continues with ASCII letters,
/// digits, `_` or `-` (a name with `-` must be written in backticks in a query). It must not equal,
/// ignoring ASCII case, a system, predefined or reserved name, must not start with `Temporal`
/// (ignoring case; that covers the CHASM attributes), and must not be a word of the query language or of SQL (`AND`, `Order`,
/// `Select`, …), so that every registered name can be written unquoted without ambiguity.
/// Violations are `InvalidArgument`.
pub fn validate_custom_name(name: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(StoreError::invalid_argument(format!(
            "search attribute name {}: {why}",
            super::show(name)
        )))
    };
    if name.is_empty() {
        return Err(StoreError::invalid_argument(
            "search attribute name is empty",
        ));
    }
    if name.len() > MAX_ID_BYTES {
        return bad(&format!(
            "is {} bytes, longer than {MAX_ID_BYTES}",
            name.len()
        ));
    }
    let mut chars = name.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_alphabetic()) {
        return bad("must start with an ASCII letter");
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return bad("may contain only ASCII letters, digits, '_' and '-'");
    }
    let eq = |n: &&str| n.eq_ignore_ascii_case(name);
    if RESERVED_NAMES.iter().any(eq)
        || name
            .get(..RESERVED_PREFIX.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(RESERVED_PREFIX))
    {
        return bad("is reserved");
    }
    if SYSTEM_ATTRIBUTES.iter().map(|(n, _)| n).any(eq) {
        return bad("is a system attribute");
    }
    if PREDEFINED_ATTRIBUTES.iter().map(|(n, _)| n).any(eq) {
        return bad("is a predefined attribute");
    }
    if is_language_keyword(name) || is_unsupported_sql_word(name) {
        return bad("is a keyword of the query language or of SQL");
    }
    Ok(())
}

/// The search attributes a namespace can query: system, predefined and its custom ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchAttributes {
    custom: BTreeMap<String, SearchAttributeType>,
}

impl SearchAttributes {
    /// System and predefined attributes plus `custom` (name -> type). Custom entries that shadow
    /// a system or predefined name, or use a reserved name, are kept but never consulted.
    pub fn new(custom: BTreeMap<String, SearchAttributeType>) -> Self {
        Self { custom }
    }

    /// System and predefined attributes only.
    pub fn system() -> Self {
        Self::default()
    }

    /// The attributes the conformance suite uses for [`HOSTILE_QUERIES`](super::HOSTILE_QUERIES):
    /// system, predefined, and [`HOSTILE_QUERY_CUSTOM_ATTRIBUTES`].
    pub fn for_hostile_queries() -> Self {
        Self::new(
            HOSTILE_QUERY_CUSTOM_ATTRIBUTES
                .iter()
                .map(|(n, t)| ((*n).to_string(), *t))
                .collect(),
        )
    }

    /// The custom attributes as registered.
    pub fn custom(&self) -> &BTreeMap<String, SearchAttributeType> {
        &self.custom
    }

    /// The type of `name` (case-sensitive): a system attribute, else a predefined one, else a
    /// CHASM one, else a custom one. Reserved names are never found.
    pub fn type_of(&self, name: &str) -> Option<SearchAttributeType> {
        if let Some(t) = lookup(SYSTEM_ATTRIBUTES, name) {
            return Some(t);
        }
        if let Some(t) = lookup(PREDEFINED_ATTRIBUTES, name) {
            return Some(t);
        }
        if let Some(t) = lookup(CHASM_ATTRIBUTES, name) {
            return Some(t);
        }
        if is_reserved_name(name) {
            return None;
        }
        self.custom.get(name).copied()
    }

    /// True for the system columns ([`SYSTEM_ATTRIBUTES`]), case-sensitive.
    pub fn is_system(name: &str) -> bool {
        lookup(SYSTEM_ATTRIBUTES, name).is_some()
    }

    /// True for Temporal's predefined attributes ([`PREDEFINED_ATTRIBUTES`]).
    pub fn is_predefined(name: &str) -> bool {
        is_predefined(name)
    }

    /// A known name equal to `name` ignoring ASCII case (for "did you mean" hints).
    pub(crate) fn similar(&self, name: &str) -> Option<String> {
        SYSTEM_ATTRIBUTES
            .iter()
            .chain(PREDEFINED_ATTRIBUTES)
            .chain(CHASM_ATTRIBUTES)
            .map(|(n, _)| *n)
            .chain(self.custom.keys().map(String::as_str))
            .find(|n| n.eq_ignore_ascii_case(name))
            .map(str::to_string)
    }
}
