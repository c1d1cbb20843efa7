//! The visibility list-filter language (Temporal's SQL-like `WHERE` clause): types, parser,
//! type checker and reference evaluator.
//!
//! A query is parsed by [`parse_query`] into a [`Query`] checked against the namespace's
//! [`SearchAttributes`] before any backend translates it; backends never see query text, and
//! every value reaches the database as a bind parameter. [`evaluate`] is the reference meaning
//! (docs/architecture.md#visibility-query-semantics) that every backend must reproduce;
//! [`compare_for_list`] is the list order.
//!
//! # The language
//!
//! ```text
//! WorkflowType = 'billing' AND (ExecutionStatus IN ('Failed', 'TimedOut') OR CloseTime IS NULL)
//! CustomKeywordField STARTS_WITH 'order-' AND StartTime >= '2024-05-01T00:00:00Z'
//! ExecutionDuration > '1h30m'            (Count only:)  GROUP BY ExecutionStatus
//! ```
//!
//! - Empty or whitespace-only text is no filter. Whitespace is space, tab, CR, LF.
//! - Keywords (`AND OR NOT IN IS NULL BETWEEN STARTS_WITH GROUP BY TRUE FALSE`) are
//!   case-insensitive; attribute names are case-sensitive and may be written in backticks
//!   (`` `Custom-Name` ``, no escapes inside). Precedence: `NOT` > `AND` > `OR`.
//! - String literals use single quotes, or double quotes as Temporal's parser allows; the quote
//!   character is escaped by doubling it (`'it''s'`, `"say ""hi"""`). Backslash is an ordinary
//!   character. A double-quoted text is always a string, never a name.
//! - Operators per type ( `<>` is `!=`; every type also has `IS [NOT] NULL`):
//!
//! | type | operators |
//! |---|---|
//! | Keyword, LowCardinalityKeyword | `= != < <= > >=`, `[NOT] IN`, `[NOT] STARTS_WITH`, `[NOT] BETWEEN … AND …` |
//! | KeywordList | `=` (contains), `!=` (does not contain), `[NOT] IN` (contains any / none) |
//! | Text | `=` (any word matches), `!=` |
//! | Int, Double, Datetime | `= != < <= > >=`, `[NOT] IN`, `[NOT] BETWEEN … AND …` |
//! | Bool | `=`, `!=` |
//! | `ExecutionStatus` | `=`, `!=`, `[NOT] IN` |
//!
//! - Literals are typed by the attribute. Keyword, KeywordList, Text: a quoted string (a Text
//!   value must contain at least one letter or digit). Int: an unquoted integer with an
//!   optional `-` (no `1.5`, no `'1'`, no `1e3`, range of `i64`). Double: an unquoted integer
//!   or decimal, exponent allowed, finite. Bool: `true`/`false`, any case, quoted or not.
//!   Datetime: a quoted RFC3339 timestamp with `Z` or an offset, nanoseconds kept, compared
//!   exactly (as in Temporal, an unquoted integer is also accepted as Unix nanoseconds).
//!   `ExecutionStatus`: a quoted status name, case-sensitive (`'Running'`, `'ContinuedAsNew'`,
//!   see [`WorkflowStatus::name`]), or Temporal's canonical `'WORKFLOW_EXECUTION_STATUS_RUNNING'`,
//!   or the unquoted integer code. `ExecutionDuration` (Int nanoseconds): an unquoted integer,
//!   or a quoted integer, `'H:MM:SS'`, or a Go duration such as `'1h30m'`, `'1.5s'`, `'100ms'`,
//!   `'10us'`, `'1ns'`, with Temporal's `d` (24h) unit.
//! - `ORDER BY` is rejected in List and Count: lists are always in the default order
//!   ([`compare_for_list`]), identical on every backend (Temporal's SQL stores reject it too).
//!   [`Query::order_by`] is therefore always empty.
//! - `GROUP BY` is accepted only in Count, on one attribute: `ExecutionStatus` or an attribute
//!   of type LowCardinalityKeyword (such as `TemporalLowCardinalityKeyword01`), as in Temporal.
//! - CHASM attributes: the names Temporal pre-allocates for CHASM archetypes
//!   ([`CHASM_ATTRIBUTES`]: `TemporalBool01`, …, `TemporalLowCardinalityKeyword01`,
//!   `TemporalKeywordList02`) are known in every namespace, typed by their name. Any other name
//!   starting with `Temporal` that is not predefined (`TemporalText01`, `TemporalKeyword05`, …)
//!   stays reserved.
//! - Rejected with `InvalidArgument`: unknown or reserved attributes ([`is_reserved_name`]),
//!   operators a type lacks, wrong-type literals, function calls, `LIMIT`/`OFFSET`/`UNION`/
//!   `SELECT`/subqueries, `;`, comments (`--`, `/*`, `#`), control characters anywhere (other
//!   than TAB/CR/LF; DEL and C1 included, inside literals too), non-ASCII characters outside
//!   literals and backticks, a text over [`MAX_QUERY_BYTES`], nesting deeper than
//!   [`MAX_NESTING`] (each `(` and each `NOT` is a level), trailing input, unbalanced
//!   parentheses or quotes, bare attributes (`WorkflowId AND …`), and attribute-to-attribute
//!   comparisons.
//!
//! Error messages have the form `query: at position N: reason`, where `N` is the 1-based
//! position in characters (Unicode scalar values, not bytes) of the offending token.
//!
//! # Shapes
//!
//! `And`/`Or` are flattened (never nested directly in their own kind, never of one element).
//! `NOT` is folded into leaves where that is exact under three-valued logic (`NOT a = x` is
//! `a != x`, `NOT a IN (…)` is `a NOT IN (…)`, likewise `BETWEEN`, `STARTS_WITH`, `IS NULL`;
//! `NOT NOT e` is `e`); it remains only over `And`, `Or` and the ordering comparisons.
//! Literals have the attribute's type: [`Literal::String`] for Keyword, KeywordList and Text
//! (use [`SearchAttributes::type_of`] to tell them apart), [`Literal::Status`] for
//! `ExecutionStatus`, [`Literal::Int`] nanoseconds for `ExecutionDuration`, [`Literal::Double`]
//! for Double even when written as an integer.

use serde::{Deserialize, Serialize};

use crate::types::{DateTime, Utc, WorkflowStatus};

/// A search attribute's value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SearchAttributeType {
    /// Exact-match string.
    Keyword,
    /// Tokenized full text.
    Text,
    /// 64-bit integer.
    Int,
    /// 64-bit float.
    Double,
    /// Boolean.
    Bool,
    /// RFC3339 timestamp.
    Datetime,
    /// List of keywords.
    KeywordList,
    /// Exact-match string with few distinct values (a CHASM status, a category): Keyword's
    /// operators, and the only type besides `ExecutionStatus` that `GROUP BY` accepts (Temporal's
    /// `TemporalLowCardinalityKeyword01`, which its converter types as Keyword).
    LowCardinalityKeyword,
}

impl SearchAttributeType {
    /// Every type, in declaration order.
    pub const ALL: [SearchAttributeType; 8] = [
        SearchAttributeType::Keyword,
        SearchAttributeType::Text,
        SearchAttributeType::Int,
        SearchAttributeType::Double,
        SearchAttributeType::Bool,
        SearchAttributeType::Datetime,
        SearchAttributeType::KeywordList,
        SearchAttributeType::LowCardinalityKeyword,
    ];

    /// True for the types whose values are single exact-match strings (Keyword and
    /// LowCardinalityKeyword): they share operators, storage and value encoding.
    pub fn is_keyword(self) -> bool {
        matches!(
            self,
            SearchAttributeType::Keyword | SearchAttributeType::LowCardinalityKeyword
        )
    }
}

/// A typed literal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Literal {
    /// Keyword or Text string.
    String(String),
    /// Integer (also ExecutionDuration in nanoseconds).
    Int(i64),
    /// Double.
    Double(f64),
    /// Bool.
    Bool(bool),
    /// Datetime.
    Datetime(DateTime<Utc>),
    /// ExecutionStatus.
    Status(WorkflowStatus),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A filter expression over search attributes (three-valued: absent attributes are unknown).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    /// `a AND b AND …`
    And(Vec<Expr>),
    /// `a OR b OR …`
    Or(Vec<Expr>),
    /// `NOT a`
    Not(Box<Expr>),
    /// `attr op literal`
    Compare {
        /// Attribute name.
        attr: String,
        /// Operator.
        op: CompareOp,
        /// Value.
        value: Literal,
    },
    /// `attr [NOT] IN (…)`
    In {
        /// Attribute name.
        attr: String,
        /// Values.
        values: Vec<Literal>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `attr [NOT] BETWEEN lo AND hi` (inclusive)
    Between {
        /// Attribute name.
        attr: String,
        /// Lower bound.
        low: Literal,
        /// Upper bound.
        high: Literal,
        /// `NOT BETWEEN`.
        negated: bool,
    },
    /// `attr [NOT] STARTS_WITH 'prefix'` (literal prefix)
    StartsWith {
        /// Attribute name.
        attr: String,
        /// Prefix.
        prefix: String,
        /// `NOT STARTS_WITH`.
        negated: bool,
    },
    /// `attr IS [NOT] NULL`
    IsNull {
        /// Attribute name.
        attr: String,
        /// `IS NOT NULL`.
        negated: bool,
    },
}

/// One `ORDER BY` term.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderBy {
    /// Attribute name.
    pub attr: String,
    /// Descending?
    pub descending: bool,
}

/// A parsed, type-checked list/count query.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Query {
    /// The filter (None: every execution of the namespace).
    pub filter: Option<Expr>,
    /// Explicit order. Always empty from [`parse_query`], which rejects `ORDER BY`: lists use
    /// the default order ([`compare_for_list`]).
    pub order_by: Vec<OrderBy>,
    /// `GROUP BY` attributes (Count only; at most one: `ExecutionStatus` or a
    /// LowCardinalityKeyword attribute).
    pub group_by: Vec<String>,
}

mod attrs;
mod eval;
mod hostile;
mod lexer;
mod literal;
mod parser;
#[cfg(test)]
mod tests;

pub use attrs::{
    CHASM_ATTRIBUTES, EXECUTION_DURATION, EXECUTION_STATUS, HOSTILE_QUERY_CUSTOM_ATTRIBUTES,
    PREDEFINED_ATTRIBUTES, RESERVED_NAMES, RESERVED_PREFIX, SYSTEM_ATTRIBUTES, SearchAttributes,
    is_chasm_attribute, is_reserved_name, validate_custom_name,
};
pub use eval::{attribute_value, compare_for_list, evaluate, text_tokens};
pub use hostile::{HOSTILE_QUERIES, hostile_generated_queries};

use crate::error::{Result, StoreError};

/// Representative visibility queries as `(name, text, is_count)`: what a UI list, an SDK
/// `ListWorkflowExecutions`, a worker-versioning dashboard and a status count send. Their
/// custom attributes are `CustomKeywordField` (Keyword), `CustomIntField` (Int) and
/// `CustomTextField` (Text). The criterion benches of parsing (here) and of SQL translation
/// (`durastore-sql`) run the same ones, so the two can be compared.
pub const REPRESENTATIVE_QUERIES: &[(&str, &str, bool)] = &[
    ("empty", "", false),
    ("status", "ExecutionStatus = 'Running'", false),
    (
        "type_and_time",
        "WorkflowType = 'billing' AND StartTime >= '2024-05-01T00:00:00Z' \
         AND ExecutionStatus IN ('Failed', 'TimedOut')",
        false,
    ),
    (
        "custom_attrs",
        "CustomKeywordField STARTS_WITH 'order-' AND CustomIntField BETWEEN 10 AND 20 \
         AND (CloseTime IS NULL OR ExecutionDuration > '1h30m') AND CustomTextField = 'refund'",
        false,
    ),
    ("count_group_by", "GROUP BY ExecutionStatus", true),
    (
        "count_filtered_group_by",
        "WorkflowType = 'billing' AND StartTime > '2024-05-01T00:00:00Z' GROUP BY ExecutionStatus",
        true,
    ),
];

/// Longest query text accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 64 * 1024;

/// Deepest nesting accepted; each `(` and each `NOT` opens a level.
pub const MAX_NESTING: usize = 100;

/// Parses and type-checks a query for List (`is_count = false`) or Count (`is_count = true`,
/// which alone allows `GROUP BY`).
///
/// Errors are `InvalidArgument` with the message `query: at position N: reason` (`N`: 1-based
/// character position). Never panics, whatever the input.
pub fn parse_query(text: &str, attrs: &SearchAttributes, is_count: bool) -> Result<Query> {
    parser::parse(text, attrs, is_count).map_err(|e| {
        StoreError::invalid_argument(format!(
            "query: at position {}: {}",
            parser::char_position(text, e.at),
            e.msg
        ))
    })
}

/// A user-supplied string for an error message: Debug-quoted (controls escaped), cut at 64
/// characters.
pub(crate) fn show(s: &str) -> String {
    const MAX: usize = 64;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{:?}…", &s[..i]),
        None => format!("{s:?}"),
    }
}
