//! Visibility cases: null semantics (SQL three-valued logic).

use durastore_api::{RunId, SearchAttributeValue, WorkflowStatus};

use super::helpers::{Fixture, at, closed, column_fixture, full_record, kw, kwl};
use crate::check::ok;
use crate::{CaseError, Ctx, ensure};

/// Comparisons with an absent attribute are unknown; NOT, AND and OR follow three-valued logic;
/// only a true filter matches.
pub async fn null_three_valued_logic(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let int = |i: i64| ("CustomIntField", SearchAttributeValue::Int(i));
    let key = |s: &str| ("CustomKeywordField", kw(s));
    fx.put_all(vec![
        ("n1", vec![int(5), key("x")]),
        ("n2", vec![int(15), key("k")]),
        ("n3", vec![key("k")]),
        ("n4", vec![key("other")]),
        ("n5", vec![]),
    ])
    .await?;
    fx.check(&[
        ("CustomIntField > 10", &["n2"]),
        ("NOT (CustomIntField > 10)", &["n1"]),
        ("CustomIntField != 5", &["n2"]),
        ("NOT (CustomIntField = 5)", &["n2"]),
        ("CustomIntField NOT IN (5)", &["n2"]),
        ("NOT (CustomIntField IN (5))", &["n2"]),
        ("CustomIntField NOT BETWEEN 1 AND 10", &["n2"]),
        ("NOT (CustomIntField BETWEEN 1 AND 10)", &["n2"]),
        (
            "CustomIntField > 10 OR CustomIntField IS NULL",
            &["n2", "n3", "n4", "n5"],
        ),
        (
            "NOT (CustomIntField > 10 AND CustomKeywordField = 'k')",
            &["n1", "n4"],
        ),
        (
            "CustomIntField > 10 OR CustomKeywordField = 'other'",
            &["n2", "n4"],
        ),
        (
            "NOT (CustomIntField > 10 OR CustomKeywordField = 'k')",
            &["n1"],
        ),
        ("NOT (NOT (CustomIntField = 5))", &["n1"]),
        ("NOT (CustomIntField IS NULL)", &["n1", "n2"]),
        (
            "CustomKeywordField NOT STARTS_WITH 'o'",
            &["n1", "n2", "n3"],
        ),
        (
            "NOT (CustomKeywordField STARTS_WITH 'o')",
            &["n1", "n2", "n3"],
        ),
        (
            "CustomKeywordField != 'k' AND CustomIntField IS NULL",
            &["n4"],
        ),
        (
            "(CustomIntField = 5 OR CustomIntField = 15) AND NOT (CustomKeywordField = 'x')",
            &["n2"],
        ),
        ("CustomKeywordField < 'p'", &["n2", "n3", "n4"]),
        (
            "CustomIntField IS NULL AND CustomKeywordField IS NULL",
            &["n5"],
        ),
        ("NOT (CustomIntField < 100 AND CustomIntField > 0)", &[]),
    ])
    .await
}

/// For every custom type: `!=`, `NOT (=)` and `NOT IN` exclude a record without the attribute;
/// `IS NULL` / `IS NOT NULL` test absence.
pub async fn null_every_type(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let full = full_record(fx.ns);
    fx.put("full", full).await?;
    let empty = fx.running("empty", 100);
    fx.put("empty", empty).await?;
    let others: [(&str, &str); 7] = [
        ("CustomKeywordField", "'zzz'"),
        ("CustomIntField", "7"),
        ("CustomTextField", "'zzz'"),
        ("CustomDoubleField", "7.5"),
        ("CustomBoolField", "false"),
        ("CustomDatetimeField", "'2000-01-01T00:00:00Z'"),
        ("CustomKeywordListField", "'zzz'"),
    ];
    let mut queries: Vec<(String, &[&str])> = Vec::new();
    for (attr, other) in others {
        queries.push((format!("{attr} != {other}"), &["full"]));
        queries.push((format!("NOT ({attr} = {other})"), &["full"]));
        queries.push((format!("{attr} IS NULL"), &["empty"]));
        queries.push((format!("{attr} IS NOT NULL"), &["full"]));
        queries.push((format!("NOT ({attr} IS NOT NULL)"), &["empty"]));
        queries.push((format!("{attr} = {other} OR {attr} IS NULL"), &["empty"]));
        if attr != "CustomTextField" && attr != "CustomBoolField" {
            queries.push((format!("{attr} NOT IN ({other})"), &["full"]));
        }
    }
    let refs: Vec<(&str, &[&str])> = queries.iter().map(|(q, l)| (q.as_str(), *l)).collect();
    fx.check(&refs).await
}

/// An empty KeywordList is the same as an absent one.
pub async fn empty_keyword_list_is_absent(ctx: &Ctx) -> Result<(), CaseError> {
    let fx = column_fixture(
        ctx,
        "CustomKeywordListField",
        vec![
            ("e1", Some(kwl(&[]))),
            ("e2", None),
            ("e3", Some(kwl(&["a"]))),
        ],
    )
    .await?;
    fx.check(&[
        ("CustomKeywordListField IS NULL", &["e1", "e2"]),
        ("CustomKeywordListField IS NOT NULL", &["e3"]),
        ("CustomKeywordListField != 'a'", &[]),
        ("CustomKeywordListField != 'b'", &["e3"]),
        ("CustomKeywordListField NOT IN ('b')", &["e3"]),
        ("NOT (CustomKeywordListField = 'b')", &["e3"]),
    ])
    .await?;
    let got = ok("get", fx.s.get(fx.ns, fx.get("e1")?.run_id).await)?;
    ensure!(
        match got.search_attributes.get("CustomKeywordListField") {
            None => true,
            Some(SearchAttributeValue::KeywordList(v)) => v.is_empty(),
            Some(_) => false,
        },
        "an empty list reads back as absent or empty, got {:?}",
        got.search_attributes
    );
    Ok(())
}

/// System attributes absent on running runs (CloseTime, HistoryLength, ExecutionDuration) or
/// on runs without a parent are NULL; the always-present ones are never NULL.
pub async fn null_system_attributes(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let r = fx.running("run", 0);
    fx.put("run", r).await?;
    let mut child = fx.running("child", 1);
    child.parent_workflow_id = Some("parent".to_string());
    child.parent_run_id = Some(RunId::new_random());
    fx.put(
        "child",
        closed(&child, at(20, 0), WorkflowStatus::Completed),
    )
    .await?;
    let plain = fx.running("plain", 2);
    fx.put("plain", closed(&plain, at(10, 0), WorkflowStatus::Failed))
        .await?;
    fx.check(&[
        ("CloseTime IS NULL", &["run"]),
        ("CloseTime IS NOT NULL", &["child", "plain"]),
        ("HistoryLength IS NULL", &["run"]),
        ("ExecutionDuration IS NULL", &["run"]),
        ("ExecutionDuration IS NOT NULL", &["child", "plain"]),
        ("ParentWorkflowId IS NULL", &["run", "plain"]),
        ("ParentRunId IS NOT NULL", &["child"]),
        ("CloseTime > '1970-01-01T00:00:00Z'", &["child", "plain"]),
        (
            "NOT (CloseTime > '2100-01-01T00:00:00Z')",
            &["child", "plain"],
        ),
        ("NOT (ParentWorkflowId = 'parent')", &[]),
        ("StartTime IS NULL", &[]),
        ("ExecutionStatus IS NULL", &[]),
        ("WorkflowId IS NULL", &[]),
        ("WorkflowType IS NOT NULL", &["run", "child", "plain"]),
    ])
    .await
}
