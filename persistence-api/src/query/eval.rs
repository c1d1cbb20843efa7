//! Reference evaluator (docs/architecture.md#visibility-query-semantics) and the list order.

use std::cmp::Ordering;

use super::attrs::SearchAttributes;
use super::{CompareOp, Expr, Literal, SearchAttributeType};
use crate::visibility::{SearchAttributeValue, VisibilityRecord};

/// Splits text into lower-cased tokens at every character that is not alphanumeric (Unicode
/// `Alphabetic` or `Numeric`); empty pieces are dropped. This is the tokenization of Text `=`.
pub fn text_tokens(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The value of attribute `name` on `record`: a system field (`ExecutionStatus` as its status
/// name, run ids in hyphenated lower-case form, `ExecutionDuration` in nanoseconds), otherwise
/// the record's `search_attributes` entry. `None` when absent; an empty KeywordList is absent.
pub fn attribute_value(record: &VisibilityRecord, name: &str) -> Option<SearchAttributeValue> {
    use SearchAttributeValue as V;
    let s = |v: &str| Some(V::String(v.to_string()));
    match name {
        "WorkflowId" => s(&record.workflow_id),
        "RunId" => Some(V::String(record.run_id.to_string())),
        "WorkflowType" => s(&record.workflow_type),
        "TaskQueue" => s(&record.task_queue),
        "ExecutionStatus" => s(record.status.name()),
        "StartTime" => Some(V::Datetime(record.start_time)),
        "ExecutionTime" => Some(V::Datetime(record.execution_time)),
        "CloseTime" => record.close_time.map(V::Datetime),
        "HistoryLength" => record.history_length.map(V::Int),
        "ExecutionDuration" => record.execution_duration_nanos.map(V::Int),
        "StateTransitionCount" => record.state_transition_count.map(V::Int),
        "HistorySizeBytes" => record.history_size_bytes.map(V::Int),
        "ParentWorkflowId" => record.parent_workflow_id.clone().map(V::String),
        "ParentRunId" => record.parent_run_id.map(|r| V::String(r.to_string())),
        "RootWorkflowId" => record.root_workflow_id.clone().map(V::String),
        "RootRunId" => record.root_run_id.map(|r| V::String(r.to_string())),
        _ => match record.search_attributes.get(name) {
            Some(V::KeywordList(l)) if l.is_empty() => None,
            other => other.cloned(),
        },
    }
}

/// Evaluates `expr` on `record` with SQL three-valued logic: `Some(true)`, `Some(false)`, or
/// `None` (unknown). A record matches a filter only when the result is `Some(true)`.
///
/// `attrs` supplies attribute types: a string compares as Text (token match) or as Keyword
/// (exact) depending on the attribute's type, which the expression alone does not say.
///
/// - A comparison, `IN`, `BETWEEN` or `STARTS_WITH` on an absent attribute is unknown, and so is
///   one whose stored value has a type the literal cannot be compared with. `NOT` of unknown is
///   unknown; `AND`/`OR` follow Kleene logic. `IS [NOT] NULL` is never unknown.
/// - Keyword: exact, ordered by code point. KeywordList: `=` contains, `!=` does not contain,
///   `IN` contains any, `NOT IN` contains none. Text: `=` is true when a token of the literal
///   equals a token of the value ([`text_tokens`]); `!=` is its negation.
/// - Int, Double, Datetime, Bool compare by value (Int against Double as `f64`); `BETWEEN` is
///   inclusive.
pub fn evaluate(expr: &Expr, record: &VisibilityRecord, attrs: &SearchAttributes) -> Option<bool> {
    match expr {
        Expr::And(terms) => {
            let mut result = Some(true);
            for t in terms {
                match evaluate(t, record, attrs) {
                    Some(false) => return Some(false),
                    None => result = None,
                    Some(true) => {}
                }
            }
            result
        }
        Expr::Or(terms) => {
            let mut result = Some(false);
            for t in terms {
                match evaluate(t, record, attrs) {
                    Some(true) => return Some(true),
                    None => result = None,
                    Some(false) => {}
                }
            }
            result
        }
        Expr::Not(inner) => evaluate(inner, record, attrs).map(|b| !b),
        Expr::IsNull { attr, negated } => Some(attribute_value(record, attr).is_none() != *negated),
        Expr::Compare { attr, op, value } => {
            let v = attribute_value(record, attr)?;
            compare(&v, *op, value, is_text(attrs, attr))
        }
        Expr::In {
            attr,
            values,
            negated,
        } => {
            let v = attribute_value(record, attr)?;
            let mut any = false;
            for lit in values {
                if compare(&v, CompareOp::Eq, lit, false)? {
                    any = true;
                    break;
                }
            }
            Some(any != *negated)
        }
        Expr::Between {
            attr,
            low,
            high,
            negated,
        } => {
            let v = attribute_value(record, attr)?;
            let inside = order(&v, low)? != Ordering::Less && order(&v, high)? != Ordering::Greater;
            Some(inside != *negated)
        }
        Expr::StartsWith {
            attr,
            prefix,
            negated,
        } => match attribute_value(record, attr)? {
            SearchAttributeValue::String(s) => Some(s.starts_with(prefix.as_str()) != *negated),
            _ => None,
        },
    }
}

fn is_text(attrs: &SearchAttributes, attr: &str) -> bool {
    attrs.type_of(attr) == Some(SearchAttributeType::Text)
}

/// `value op literal`; None when the two cannot be compared.
fn compare(v: &SearchAttributeValue, op: CompareOp, lit: &Literal, text: bool) -> Option<bool> {
    use SearchAttributeValue as V;
    let eq = match (v, lit) {
        (V::KeywordList(items), Literal::String(s)) => Some(items.iter().any(|i| i == s)),
        (V::String(field), Literal::String(s)) if text => {
            let field_tokens = text_tokens(field);
            Some(text_tokens(s).iter().any(|t| field_tokens.contains(t)))
        }
        (V::String(name), Literal::Status(st)) => Some(name == st.name()),
        _ => None,
    };
    if let Some(eq) = eq {
        return match op {
            CompareOp::Eq => Some(eq),
            CompareOp::Ne => Some(!eq),
            _ => None,
        };
    }
    let ord = order(v, lit)?;
    Some(match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
    })
}

/// Orders a scalar value against a literal of a compatible type.
fn order(v: &SearchAttributeValue, lit: &Literal) -> Option<Ordering> {
    use SearchAttributeValue as V;
    match (v, lit) {
        (V::String(a), Literal::String(b)) => Some(a.as_str().cmp(b.as_str())),
        (V::Int(a), Literal::Int(b)) => Some(a.cmp(b)),
        (V::Int(a), Literal::Double(b)) => (*a as f64).partial_cmp(b),
        (V::Double(a), Literal::Double(b)) => a.partial_cmp(b),
        (V::Double(a), Literal::Int(b)) => a.partial_cmp(&(*b as f64)),
        (V::Datetime(a), Literal::Datetime(b)) => Some(a.cmp(b)),
        (V::Bool(a), Literal::Bool(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

/// The default list order: CloseTime descending with running executions (no close time) first,
/// then StartTime descending, then RunId ascending (UUID byte order, which is also the order of
/// the hyphenated lower-case text).
pub fn compare_for_list(a: &VisibilityRecord, b: &VisibilityRecord) -> Ordering {
    let close = match (a.close_time, b.close_time) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => y.cmp(&x),
    };
    close
        .then_with(|| b.start_time.cmp(&a.start_time))
        .then_with(|| a.run_id.cmp(&b.run_id))
}
