//! Tests of the visibility query language, by topic: `parses` (the grammar per attribute
//! type), `errors` (positions, reasons, limits), `fuzz`, `attributes` (tables, names,
//! tokenization) and `evaluator` (the in-memory evaluation); the shared helpers are here.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::error::ErrorKind;
use crate::ids::{NamespaceId, RunId};
use crate::types::WorkflowStatus;
use crate::visibility::{SearchAttributeValue as V, VisibilityRecord};

// ---------------------------------------------------------------- helpers

fn attrs() -> SearchAttributes {
    let mut m = BTreeMap::new();
    for (n, t) in [
        ("CustomKeywordField", SearchAttributeType::Keyword),
        ("CustomIntField", SearchAttributeType::Int),
        ("CustomTextField", SearchAttributeType::Text),
        ("CustomDoubleField", SearchAttributeType::Double),
        ("CustomBoolField", SearchAttributeType::Bool),
        ("CustomDatetimeField", SearchAttributeType::Datetime),
        ("CustomKeywordListField", SearchAttributeType::KeywordList),
        ("Custom-Dash", SearchAttributeType::Keyword),
    ] {
        m.insert(n.to_string(), t);
    }
    SearchAttributes::new(m)
}

fn parse(q: &str) -> Result<Query> {
    parse_query(q, &attrs(), false)
}

#[track_caller]
fn filter(q: &str) -> Expr {
    match parse(q) {
        Ok(Query {
            filter: Some(e),
            order_by,
            group_by,
        }) => {
            assert!(order_by.is_empty() && group_by.is_empty(), "{q}");
            e
        }
        other => panic!("{q:?}: {other:?}"),
    }
}

/// Asserts rejection (List and Count), returns the List message.
#[track_caller]
fn rejected(q: &str) -> String {
    rejected_with(q, &attrs())
}

#[track_caller]
fn rejected_with(q: &str, a: &SearchAttributes) -> String {
    let mut msg = String::new();
    for is_count in [false, true] {
        match parse_query(q, a, is_count) {
            Ok(parsed) => panic!("{:?} (count={is_count}) was accepted: {parsed:?}", show(q)),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{q:?}: {e}");
                assert!(
                    e.message().starts_with("query: at position "),
                    "{q:?}: {}",
                    e.message()
                );
                if !is_count {
                    msg = e.message().to_string();
                }
            }
        }
    }
    msg
}

/// The 1-based position named by an error message.
fn position(msg: &str) -> usize {
    let rest = msg
        .strip_prefix("query: at position ")
        .expect("position prefix");
    rest[..rest.find(':').expect("colon")]
        .parse()
        .expect("number")
}

fn cmp(attr: &str, op: CompareOp, value: Literal) -> Expr {
    Expr::Compare {
        attr: attr.to_string(),
        op,
        value,
    }
}

fn s(v: &str) -> Literal {
    Literal::String(v.to_string())
}

fn ts(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("test timestamp")
        .with_timezone(&Utc)
}

fn dt(text: &str) -> Literal {
    Literal::Datetime(ts(text))
}

fn in_list(attr: &str, values: Vec<Literal>, negated: bool) -> Expr {
    Expr::In {
        attr: attr.to_string(),
        values,
        negated,
    }
}

fn between(attr: &str, low: Literal, high: Literal, negated: bool) -> Expr {
    Expr::Between {
        attr: attr.to_string(),
        low,
        high,
        negated,
    }
}

fn starts(attr: &str, prefix: &str, negated: bool) -> Expr {
    Expr::StartsWith {
        attr: attr.to_string(),
        prefix: prefix.to_string(),
        negated,
    }
}

fn is_null(attr: &str, negated: bool) -> Expr {
    Expr::IsNull {
        attr: attr.to_string(),
        negated,
    }
}

use CompareOp::{Eq, Ge, Gt, Le, Lt, Ne};

// ---------------------------------------------------------------- records

fn at(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, h, 0, 0).unwrap()
}

fn record() -> VisibilityRecord {
    let mut sa = BTreeMap::new();
    sa.insert(
        "CustomKeywordField".to_string(),
        V::String("Order-42".into()),
    );
    sa.insert("CustomIntField".to_string(), V::Int(7));
    sa.insert(
        "CustomTextField".to_string(),
        V::String("The quick brown Fox".into()),
    );
    sa.insert("CustomDoubleField".to_string(), V::Double(2.5));
    sa.insert("CustomBoolField".to_string(), V::Bool(true));
    sa.insert(
        "CustomDatetimeField".to_string(),
        V::Datetime(ts("2024-05-01T10:00:00.000000500Z")),
    );
    sa.insert(
        "CustomKeywordListField".to_string(),
        V::KeywordList(vec!["red".into(), "green".into()]),
    );
    VisibilityRecord {
        namespace_id: NamespaceId(Uuid::from_u128(1)),
        workflow_id: "wf-1".into(),
        run_id: RunId(Uuid::from_u128(0x10)),
        workflow_type: "billing".into(),
        start_time: at(9),
        execution_time: at(9),
        status: WorkflowStatus::Running,
        task_queue: "q".into(),
        task_id: 1,
        shard_id: 1,
        memo: None,
        search_attributes: sa,
        parent_workflow_id: None,
        parent_run_id: None,
        root_workflow_id: Some("wf-1".into()),
        root_run_id: Some(RunId(Uuid::from_u128(0x10))),
        close_time: None,
        history_length: None,
        history_size_bytes: None,
        execution_duration_nanos: None,
        state_transition_count: Some(3),
        archetype_id: crate::ArchetypeId::WORKFLOW,
        chasm_info: None,
    }
}

fn closed_record() -> VisibilityRecord {
    VisibilityRecord {
        workflow_id: "wf-2".into(),
        run_id: RunId(Uuid::from_u128(0x20)),
        status: WorkflowStatus::Completed,
        search_attributes: BTreeMap::new(),
        close_time: Some(at(11)),
        history_length: Some(20),
        history_size_bytes: Some(2048),
        execution_duration_nanos: Some(2 * 3_600_000_000_000),
        parent_workflow_id: Some(String::new()),
        ..record()
    }
}

fn list_record() -> VisibilityRecord {
    let mut r = closed_record();
    r.search_attributes
        .insert("CustomKeywordListField".into(), V::KeywordList(vec![]));
    r.search_attributes
        .insert("CustomKeywordField".into(), V::String(String::new()));
    r
}

mod attributes;
mod errors;
mod evaluator;
mod fuzz;
mod parses;
