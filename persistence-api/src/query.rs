//! Types of the visibility list-filter language (Temporal's SQL-like `WHERE` clause).
//!
//! A query is parsed into a [`Query`] and checked against the namespace's search attributes
//! before any backend translates it; backends never see query text. The parser lives with these
//! types (see the visibility issue); this module fixes the shapes every backend consumes.

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
    /// Explicit order (empty: the default list order).
    pub order_by: Vec<OrderBy>,
    /// `GROUP BY` attributes (Count only; only `ExecutionStatus`).
    pub group_by: Vec<String>,
}
