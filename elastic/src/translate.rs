//! Query AST -> Elasticsearch query DSL, with SQL three-valued logic
//! (docs/architecture.md#null-and-missing-attributes).
//!
//! Elasticsearch has no "unknown": a document either matches or not. Each expression is
//! therefore translated twice: `T(e)` matches the documents where `e` is true and `F(e)` those
//! where it is false; documents in neither are unknown. Then `NOT e` is `(F(e), T(e))`,
//! `a AND b` is `(T(a) ∧ T(b), F(a) ∨ F(b))`, `a OR b` is `(T(a) ∨ T(b), F(a) ∧ F(b))`, and a
//! leaf predicate `P` on attribute `x` is `(P, present(x) ∧ ¬P)`. Only `T(filter)` is sent.
//!
//! Presence is a term on the `PresentAttributes` keyword field, which every document carries
//! with the names of the attributes it has (an empty KeywordList counts as absent), so
//! presence never depends on how a field type indexes (a Text value with no tokens is still
//! present).

use durastore_api::query::{CompareOp, Expr, Literal, SearchAttributeType, SearchAttributes};
use serde_json::{Value, json};

use crate::doc::{ARCHETYPE_FIELD, PRESENT_FIELD, datetime_text, field_name, text_token_set};

/// A query that matches no document.
fn none() -> Value {
    json!({"match_none": {}})
}

fn present(attr: &str) -> Value {
    json!({"term": {PRESENT_FIELD: attr}})
}

fn must(items: Vec<Value>) -> Value {
    json!({"bool": {"filter": items}})
}

fn should(items: Vec<Value>) -> Value {
    json!({"bool": {"should": items, "minimum_should_match": 1}})
}

fn not(q: Value) -> Value {
    json!({"bool": {"must_not": [q]}})
}

/// `present(x) ∧ ¬P`
fn present_and_not(attr: &str, p: Value) -> Value {
    json!({"bool": {"filter": [present(attr)], "must_not": [p]}})
}

/// The JSON value a literal is indexed/queried as.
fn literal_value(lit: &Literal) -> Value {
    match lit {
        Literal::String(s) => json!(s),
        Literal::Int(i) => json!(i),
        Literal::Double(d) => json!(d),
        Literal::Bool(b) => json!(b),
        Literal::Datetime(t) => json!(datetime_text(t)),
        Literal::Status(s) => json!(s.name()),
    }
}

/// Translates `expr` into `(T, F)`.
fn tf(expr: &Expr, attrs: &SearchAttributes) -> (Value, Value) {
    match expr {
        Expr::And(items) => {
            let (ts, fs): (Vec<_>, Vec<_>) = items.iter().map(|e| tf(e, attrs)).unzip();
            (must(ts), should(fs))
        }
        Expr::Or(items) => {
            let (ts, fs): (Vec<_>, Vec<_>) = items.iter().map(|e| tf(e, attrs)).unzip();
            (should(ts), must(fs))
        }
        Expr::Not(inner) => {
            let (t, f) = tf(inner, attrs);
            (f, t)
        }
        Expr::IsNull { attr, negated } => {
            let is_null = not(present(attr));
            if *negated {
                (present(attr), is_null)
            } else {
                (is_null, present(attr))
            }
        }
        Expr::Compare { attr, op, value } => compare(attr, *op, value, attrs),
        Expr::In {
            attr,
            values,
            negated,
        } => {
            let field = field_name(attr, attrs);
            let vals: Vec<Value> = values.iter().map(literal_value).collect();
            let p = json!({"terms": {field: vals}});
            leaf(attr, p, *negated)
        }
        Expr::Between {
            attr,
            low,
            high,
            negated,
        } => {
            let field = field_name(attr, attrs);
            let p = if attrs.type_of(attr) == Some(SearchAttributeType::Bool) {
                bool_set(&field, |v| {
                    lit_cmp_bool(v, low).is_some_and(|o| o.is_ge())
                        && lit_cmp_bool(v, high).is_some_and(|o| o.is_le())
                })
            } else {
                json!({"range": {field: {"gte": literal_value(low), "lte": literal_value(high)}}})
            };
            leaf(attr, p, *negated)
        }
        Expr::StartsWith {
            attr,
            prefix,
            negated,
        } => {
            let field = field_name(attr, attrs);
            let p = json!({"prefix": {field: {"value": prefix}}});
            leaf(attr, p, *negated)
        }
    }
}

/// A leaf predicate `p` on `attr`, optionally negated.
fn leaf(attr: &str, p: Value, negated: bool) -> (Value, Value) {
    if negated {
        (present_and_not(attr, p.clone()), p)
    } else {
        (p.clone(), present_and_not(attr, p))
    }
}

fn lit_cmp_bool(v: bool, lit: &Literal) -> Option<std::cmp::Ordering> {
    match lit {
        Literal::Bool(b) => Some(v.cmp(b)),
        _ => None,
    }
}

/// A Bool predicate as the set of values that satisfy it (booleans have no useful range query).
fn bool_set(field: &str, keep: impl Fn(bool) -> bool) -> Value {
    let vals: Vec<bool> = [false, true].into_iter().filter(|v| keep(*v)).collect();
    if vals.is_empty() {
        none()
    } else {
        json!({"terms": {field: vals}})
    }
}

fn compare(attr: &str, op: CompareOp, value: &Literal, attrs: &SearchAttributes) -> (Value, Value) {
    let field = field_name(attr, attrs);
    let ty = attrs.type_of(attr);
    // Text: any token of the literal equals a token of the field (the field holds the
    // value's tokens, see `doc::text_token_set`).
    if ty == Some(SearchAttributeType::Text) {
        let tokens = match value {
            Literal::String(s) => text_token_set(s),
            other => text_token_set(&literal_value(other).to_string()),
        };
        let p = if tokens.is_empty() {
            none()
        } else {
            json!({"terms": {field: tokens}})
        };
        return leaf(attr, p, op == CompareOp::Ne);
    }
    if ty == Some(SearchAttributeType::Bool) {
        let p = bool_set(&field, |v| {
            lit_cmp_bool(v, value).is_some_and(|o| match op {
                CompareOp::Eq | CompareOp::Ne => o.is_eq(),
                CompareOp::Lt => o.is_lt(),
                CompareOp::Le => o.is_le(),
                CompareOp::Gt => o.is_gt(),
                CompareOp::Ge => o.is_ge(),
            })
        });
        return leaf(attr, p, op == CompareOp::Ne);
    }
    let v = literal_value(value);
    match op {
        CompareOp::Eq => leaf(attr, json!({"term": {field: v}}), false),
        // KeywordList `!=` is "does not contain": the negation of contains, like every `!=`.
        CompareOp::Ne => leaf(attr, json!({"term": {field: v}}), true),
        CompareOp::Lt => leaf(attr, json!({"range": {field: {"lt": v}}}), false),
        CompareOp::Le => leaf(attr, json!({"range": {field: {"lte": v}}}), false),
        CompareOp::Gt => leaf(attr, json!({"range": {field: {"gt": v}}}), false),
        CompareOp::Ge => leaf(attr, json!({"range": {field: {"gte": v}}}), false),
    }
}

/// The `query` of a search or count: the namespace and archetype scope and `T(filter)`.
///
/// Only CHASM records carry `ArchetypeId` (documents written before schema 1.1 have none and
/// are workflows), so the workflow scope is "no `ArchetypeId`".
pub fn to_query(
    namespace_id: &str,
    archetype_id: u32,
    filter: Option<&Expr>,
    attrs: &SearchAttributes,
) -> Value {
    let archetype = if archetype_id == 0 {
        not(json!({"exists": {"field": ARCHETYPE_FIELD}}))
    } else {
        json!({"term": {ARCHETYPE_FIELD: archetype_id}})
    };
    let mut filters = vec![json!({"term": {"NamespaceId": namespace_id}}), archetype];
    if let Some(e) = filter {
        filters.push(tf(e, attrs).0);
    }
    json!({"bool": {"filter": filters}})
}

#[cfg(test)]
mod tests {
    use super::*;
    use durastore_api::query::parse_query;

    fn q(text: &str) -> Value {
        let attrs = SearchAttributes::system();
        let parsed = parse_query(text, &attrs, false).expect("parses");
        to_query("ns", 0, parsed.filter.as_ref(), &attrs)
    }

    #[test]
    fn scope_is_always_present() {
        let v = q("");
        assert_eq!(v["bool"]["filter"][0]["term"]["NamespaceId"], "ns");
        assert_eq!(v["bool"]["filter"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            v["bool"]["filter"][1]["bool"]["must_not"][0]["exists"]["field"],
            ARCHETYPE_FIELD
        );
        let attrs = SearchAttributes::system();
        let chasm = to_query("ns", 7, None, &attrs);
        assert_eq!(chasm["bool"]["filter"][1]["term"][ARCHETYPE_FIELD], 7);
    }

    #[test]
    fn not_equal_requires_presence() {
        let v = q("WorkflowType != 'a'");
        let t = &v["bool"]["filter"][2];
        assert_eq!(
            t["bool"]["filter"][0]["term"][PRESENT_FIELD],
            "WorkflowType"
        );
        assert_eq!(t["bool"]["must_not"][0]["term"]["WorkflowType"], "a");
    }

    #[test]
    fn not_swaps_true_and_false_sets() {
        // NOT (x = 1) is true only where x is present and not 1.
        let v = q("NOT HistoryLength = 1");
        let t = &v["bool"]["filter"][2];
        assert_eq!(
            t["bool"]["filter"][0]["term"][PRESENT_FIELD],
            "HistoryLength"
        );
        assert_eq!(t["bool"]["must_not"][0]["term"]["HistoryLength"], 1);
    }

    #[test]
    fn or_of_negations_keeps_unknowns_out() {
        let v = q("NOT (HistoryLength = 1 OR WorkflowId = 'w')");
        // NOT(a OR b) = F(a) AND F(b): both must be present-and-different.
        let t = &v["bool"]["filter"][2];
        assert_eq!(t["bool"]["filter"].as_array().map(Vec::len), Some(2));
    }
}
