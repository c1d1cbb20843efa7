//! Visibility cases from Temporal's visibility suite: start/close, time skew, short workflows,
//! get, delete, upsert, count, filters.

use std::collections::BTreeMap;

use durastore_api::{
    DataBlob, ErrorKind, NamespaceId, RunId, SearchAttributeValue, WorkflowStatus,
};

use super::helpers::{
    Fixture, at, closed, count, count_by_status, ensure_same, ensure_stored, fresh_namespace,
    full_record, kw, list_all, list_ids, running, ts, vis, with_attrs, write,
};
use crate::check::{expect_err, ok};
use crate::fixtures::blob;
use crate::{CaseError, Ctx, ensure_eq};

/// A started record reads back with every field as written (memo, parent, root, all custom
/// attribute types, microsecond timestamps) and is listed and counted once.
pub async fn start_get_round_trip(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let r = full_record(ns);
    write(s, &r).await?;
    ensure_stored(s, "started record", &r).await?;
    let listed = list_all(s, ns, "", 10).await?;
    ensure_eq!(listed.len(), 1, "one record listed");
    ensure_same("listed record", &r, &listed[0])?;
    ensure_eq!(count(s, ns, "").await?, 1);
    Ok(())
}

/// A closed record reads back with the close fields (close time, history length and size,
/// duration, state transitions) and replaces the started one in listings.
pub async fn close_get_round_trip(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let r = full_record(ns);
    write(s, &r).await?;
    let mut c = closed(&r, at(90, 654_321), WorkflowStatus::Failed);
    c.history_length = Some(1234);
    c.history_size_bytes = Some(9_876_543);
    c.execution_duration_nanos = Some(85_000_000_001);
    c.state_transition_count = Some(77);
    write(s, &c).await?;
    ensure_stored(s, "closed record", &c).await?;
    let listed = list_all(s, ns, "", 10).await?;
    ensure_eq!(listed.len(), 1, "one record listed after close");
    ensure_same("listed closed record", &c, &listed[0])?;
    ensure_eq!(count(s, ns, "ExecutionStatus = 'Running'").await?, 0);
    ensure_eq!(count(s, ns, "ExecutionStatus = 'Failed'").await?, 1);
    Ok(())
}

/// Temporal's basic visibility test: two runs start, one closes; open and closed listings and
/// start-time ranges see the right ones, running first.
pub async fn basic_open_and_closed(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let a = fx.running("a", 0);
    let b = fx.running("b", 1);
    fx.put("a", a.clone()).await?;
    fx.put("b", b).await?;
    fx.check(&[
        ("", &["a", "b"]),
        ("ExecutionStatus = 'Running'", &["a", "b"]),
        ("CloseTime IS NOT NULL", &[]),
    ])
    .await?;
    fx.put("a", closed(&a, at(2, 0), WorkflowStatus::Completed))
        .await?;
    let t0s = ts(at(0, 0));
    let t1s = ts(at(1, 0));
    fx.check(&[
        ("", &["a", "b"]),
        ("ExecutionStatus = 'Running'", &["b"]),
        ("ExecutionStatus != 'Running'", &["a"]),
        ("CloseTime IS NOT NULL", &["a"]),
        ("CloseTime IS NULL", &["b"]),
        (
            &format!("StartTime >= '{t0s}' AND StartTime <= '{t1s}'"),
            &["a", "b"],
        ),
        (&format!("StartTime > '{t0s}'"), &["b"]),
        (
            &format!("StartTime = '{t0s}' AND ExecutionStatus = 'Completed'"),
            &["a"],
        ),
    ])
    .await
}

/// A close time before the start time (clock skew between hosts) is stored as given: the record
/// is listed by its close time and found by start- and close-time filters.
pub async fn time_skew_close_before_start(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let skewed = fx.running("skewed", 10);
    let normal = fx.running("normal", 0);
    let running_rec = fx.running("running", -100);
    let skewed_closed = closed(&skewed, at(5, 0), WorkflowStatus::Completed);
    fx.put("skewed", skewed).await?;
    fx.put("skewed", skewed_closed.clone()).await?;
    fx.put("normal", normal.clone()).await?;
    fx.put(
        "normal",
        closed(&normal, at(7, 0), WorkflowStatus::Completed),
    )
    .await?;
    fx.put("running", running_rec).await?;
    ensure_stored(fx.s.as_ref(), "skewed record", &skewed_closed).await?;
    fx.check(&[
        ("", &["running", "normal", "skewed"]),
        (
            &format!("CloseTime < '{}'", ts(at(10, 0))),
            &["normal", "skewed"],
        ),
        (&format!("CloseTime <= '{}'", ts(at(5, 0))), &["skewed"]),
        (&format!("StartTime >= '{}'", ts(at(10, 0))), &["skewed"]),
        (
            &format!(
                "StartTime > '{}' AND CloseTime < '{}'",
                ts(at(6, 0)),
                ts(at(6, 0))
            ),
            &["skewed"],
        ),
        ("ExecutionStatus = 'Completed'", &["normal", "skewed"]),
    ])
    .await
}

/// Execution time before the start time (skew) or after it (delayed start) is stored as given
/// and queried as its own attribute.
pub async fn time_skew_execution_time(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let mut early = fx.running("early", 100);
    early.execution_time = at(99, 999_999);
    let mut delayed = fx.running("delayed", 50);
    delayed.execution_time = at(3600, 0);
    let plain = fx.running("plain", 10);
    fx.put("early", early.clone()).await?;
    fx.put("delayed", delayed.clone()).await?;
    fx.put("plain", plain).await?;
    ensure_stored(fx.s.as_ref(), "early execution time", &early).await?;
    ensure_stored(fx.s.as_ref(), "delayed execution time", &delayed).await?;
    fx.check(&[
        (
            &format!("ExecutionTime < '{}'", ts(at(100, 0))),
            &["early", "plain"],
        ),
        (
            &format!("ExecutionTime > '{}'", ts(at(100, 0))),
            &["delayed"],
        ),
        (
            &format!("ExecutionTime = '{}'", ts(at(99, 999_999))),
            &["early"],
        ),
        (
            &format!(
                "ExecutionTime BETWEEN '{}' AND '{}'",
                ts(at(10, 0)),
                ts(at(100, 0))
            ),
            &["early", "plain"],
        ),
    ])
    .await
}

/// A workflow that closes before its start was recorded: the close alone creates the record,
/// which is closed (not running).
pub async fn short_workflow_closed_only(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let r = fx.running("short", 0);
    let c = closed(&r, at(0, 500), WorkflowStatus::Completed);
    fx.put("short", c.clone()).await?;
    let other = fx.running("other", 1);
    fx.put("other", other).await?;
    ensure_stored(fx.s.as_ref(), "closed-only record", &c).await?;
    fx.check(&[
        ("", &["other", "short"]),
        ("ExecutionStatus = 'Running'", &["other"]),
        ("ExecutionStatus = 'Completed'", &["short"]),
        ("CloseTime IS NOT NULL", &["short"]),
    ])
    .await
}

/// A workflow whose close time equals its start time (zero duration) is stored and found by
/// exact start and close times.
pub async fn short_workflow_zero_duration(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let r = fx.running("zero", 20);
    let c = closed(&r, r.start_time, WorkflowStatus::Terminated);
    ensure_eq!(
        c.execution_duration_nanos,
        Some(0),
        "case bug: zero duration"
    );
    fx.put("zero", c.clone()).await?;
    ensure_stored(fx.s.as_ref(), "zero-duration record", &c).await?;
    let t = ts(at(20, 0));
    fx.check(&[
        (
            &format!("CloseTime = '{t}' AND StartTime = '{t}'"),
            &["zero"],
        ),
        ("ExecutionStatus = 'Terminated'", &["zero"]),
    ])
    .await
}

/// `get` of a run never written, or of a run in another namespace, is `NotFound`.
pub async fn get_missing_not_found(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    expect_err(
        "get of a run never written",
        s.get(ns, RunId::new_random()).await,
        ErrorKind::NotFound,
    )?;
    let r = running(ns, "wf", at(0, 0));
    write(s, &r).await?;
    expect_err(
        "get in another namespace",
        s.get(NamespaceId::new_random(), r.run_id).await,
        ErrorKind::NotFound,
    )?;
    ensure_stored(s, "the written record", &r).await
}

/// Delete with a newer task id removes the record from get, list and count; the others stay.
pub async fn delete_removes_record(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    for (l, secs) in [("a", 1), ("b", 2), ("c", 3)] {
        let r = fx.running(l, secs);
        fx.put(l, r).await?;
    }
    let b = fx.get("b")?.clone();
    let b_closed = closed(&b, at(10, 0), WorkflowStatus::Completed);
    fx.put("b", b_closed).await?;
    ok("delete", fx.s.delete(fx.ns, b.run_id, 100).await)?;
    expect_err(
        "get after delete",
        fx.s.get(fx.ns, b.run_id).await,
        ErrorKind::NotFound,
    )?;
    fx.recs.retain(|(l, _)| *l != "b");
    fx.check(&[
        ("", &["a", "c"]),
        ("WorkflowId = 'wf-b'", &[]),
        ("ExecutionStatus = 'Completed'", &[]),
    ])
    .await?;
    ensure_stored(fx.s.as_ref(), "a", fx.get("a")?).await?;
    ensure_stored(fx.s.as_ref(), "c", fx.get("c")?).await
}

/// Deleting a run that does not exist (never written, or already deleted) succeeds and changes
/// nothing.
pub async fn delete_missing_is_ok(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let a = fx.running("a", 1);
    fx.put("a", a.clone()).await?;
    ok(
        "delete of a run never written",
        fx.s.delete(fx.ns, RunId::new_random(), 5).await,
    )?;
    ok(
        "delete in another namespace",
        fx.s.delete(NamespaceId::new_random(), a.run_id, 5).await,
    )?;
    ensure_stored(fx.s.as_ref(), "a", &a).await?;
    ok("delete", fx.s.delete(fx.ns, a.run_id, 5).await)?;
    ok("second delete", fx.s.delete(fx.ns, a.run_id, 6).await)?;
    expect_err(
        "get after delete",
        fx.s.get(fx.ns, a.run_id).await,
        ErrorKind::NotFound,
    )?;
    ensure_eq!(count(fx.s.as_ref(), fx.ns, "").await?, 0);
    Ok(())
}

/// A delete whose task id is below the stored record's is a silent no-op.
pub async fn delete_stale_task_id_ignored(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let mut r = running(ns, "wf", at(0, 0));
    r.task_id = 50;
    write(s, &r).await?;
    ok("stale delete", s.delete(ns, r.run_id, 49).await)?;
    ensure_stored(s, "record after a stale delete", &r).await?;
    ensure_eq!(count(s, ns, "").await?, 1);
    ok("delete", s.delete(ns, r.run_id, 51).await)?;
    expect_err(
        "get after delete",
        s.get(ns, r.run_id).await,
        ErrorKind::NotFound,
    )?;
    ensure_eq!(count(s, ns, "").await?, 0);
    Ok(())
}

/// Upsert replaces the record's search attributes: new values match, old ones no longer do, an
/// attribute left out is absent afterwards.
pub async fn upsert_replaces_search_attributes(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let r = fx.running("u", 1);
    let r = with_attrs(
        &r,
        1,
        &[
            ("CustomKeywordField", kw("before")),
            ("CustomIntField", SearchAttributeValue::Int(1)),
        ],
    );
    fx.put("u", r.clone()).await?;
    let other = fx.running("other", 2);
    fx.put("other", other).await?;
    fx.check(&[
        ("CustomKeywordField = 'before'", &["u"]),
        ("CustomIntField = 1", &["u"]),
    ])
    .await?;
    let up = with_attrs(&r, 2, &[("CustomKeywordField", kw("after"))]);
    ok("upsert", fx.s.upsert(up.clone()).await)?;
    fx.recs.retain(|(l, _)| *l != "u");
    fx.recs.push(("u", up.clone()));
    ensure_stored(fx.s.as_ref(), "upserted record", &up).await?;
    fx.check(&[
        ("CustomKeywordField = 'before'", &[]),
        ("CustomKeywordField = 'after'", &["u"]),
        ("CustomIntField = 1", &[]),
        ("CustomIntField IS NULL", &["u", "other"]),
        ("", &["u", "other"]),
    ])
    .await
}

/// Upsert replaces the memo (a new memo, then none).
pub async fn upsert_replaces_memo(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let mut r = running(ns, "wf", at(0, 0));
    r.memo = Some(blob(64));
    write(s, &r).await?;
    let mut up = r.clone();
    up.task_id = 2;
    up.memo = Some(DataBlob::new(b"other memo".to_vec(), "json/plain"));
    ok("upsert", s.upsert(up.clone()).await)?;
    ensure_stored(s, "new memo", &up).await?;
    up.task_id = 3;
    up.memo = None;
    ok("upsert without memo", s.upsert(up.clone()).await)?;
    ensure_stored(s, "memo removed", &up).await
}

/// Upsert of a run with no record yet creates it.
pub async fn upsert_creates_missing(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let r = with_attrs(
        &running(ns, "wf", at(0, 0)),
        4,
        &[("CustomKeywordField", kw("upserted"))],
    );
    ok("upsert", s.upsert(r.clone()).await)?;
    ensure_stored(s, "upserted record", &r).await?;
    ensure_eq!(
        list_ids(s, ns, "CustomKeywordField = 'upserted'", 10).await?,
        vec![r.run_id]
    );
    Ok(())
}

/// Count: 0 in an empty namespace, then every record, then the matching ones: each count is
/// the number of records the full listing of the same query returns.
pub async fn count_basic(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    ensure_eq!(count(s, ns, "").await?, 0, "empty namespace");
    for i in 0..5 {
        let mut r = running(ns, &format!("wf-{i}"), at(i, 0));
        if i % 2 == 0 {
            r.workflow_type = "Even".to_string();
        }
        write(s, &r).await?;
    }
    for (q, want) in [
        ("", 5),
        ("WorkflowType = 'Even'", 3),
        ("WorkflowType = 'Odd'", 0),
    ] {
        ensure_eq!(count(s, ns, q).await?, want, "count {q:?}");
        ensure_eq!(
            list_ids(s, ns, q, 2).await?.len(),
            want as usize,
            "list {q:?}"
        );
    }
    Ok(())
}

/// `GROUP BY ExecutionStatus` returns one group per status present, with or without a filter;
/// no groups when nothing matches.
pub async fn count_group_by_status(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let q = "GROUP BY ExecutionStatus";
    ensure_eq!(count_by_status(s, ns, q).await?, BTreeMap::new(), "empty");
    let statuses = [
        WorkflowStatus::Running,
        WorkflowStatus::Running,
        WorkflowStatus::Running,
        WorkflowStatus::Completed,
        WorkflowStatus::Completed,
        WorkflowStatus::Failed,
        WorkflowStatus::Terminated,
    ];
    for (i, st) in statuses.iter().enumerate() {
        let mut r = running(ns, &format!("wf-{i}"), at(i as i64, 0));
        r.workflow_type = if i < 4 { "A" } else { "B" }.to_string();
        let r = if *st == WorkflowStatus::Running {
            r
        } else {
            closed(&r, at(100, 0), *st)
        };
        write(s, &r).await?;
    }
    ensure_eq!(
        count_by_status(s, ns, q).await?,
        BTreeMap::from([
            ("Running", 3),
            ("Completed", 2),
            ("Failed", 1),
            ("Terminated", 1)
        ])
    );
    ensure_eq!(
        count_by_status(s, ns, "WorkflowType = 'A' GROUP BY ExecutionStatus").await?,
        BTreeMap::from([("Running", 3), ("Completed", 1)])
    );
    ensure_eq!(
        count_by_status(s, ns, "WorkflowType = 'B' GROUP BY ExecutionStatus").await?,
        BTreeMap::from([("Completed", 1), ("Failed", 1), ("Terminated", 1)])
    );
    ensure_eq!(
        count_by_status(s, ns, "WorkflowType = 'C' GROUP BY ExecutionStatus").await?,
        BTreeMap::new()
    );
    Ok(())
}

/// Temporal's filtering by start time: ranges, inclusive bounds, BETWEEN.
pub async fn filter_by_start_time(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    for (l, secs) in [("s1", 1), ("s2", 2), ("s3", 3), ("s4", 4), ("s5", 5)] {
        let r = fx.running(l, secs);
        let r = if secs % 2 == 0 {
            closed(&r, at(secs + 60, 0), WorkflowStatus::Completed)
        } else {
            r
        };
        fx.put(l, r).await?;
    }
    let t = |s| ts(at(s, 0));
    fx.check(&[
        (&format!("StartTime > '{}'", t(2)), &["s3", "s4", "s5"]),
        (
            &format!("StartTime >= '{}'", t(2)),
            &["s2", "s3", "s4", "s5"],
        ),
        (&format!("StartTime < '{}'", t(2)), &["s1"]),
        (&format!("StartTime <= '{}'", t(2)), &["s1", "s2"]),
        (
            &format!("StartTime BETWEEN '{}' AND '{}'", t(2), t(4)),
            &["s2", "s3", "s4"],
        ),
        (&format!("StartTime < '{}'", t(1)), &[]),
        (
            &format!("StartTime > '{}' AND ExecutionStatus = 'Running'", t(1)),
            &["s3", "s5"],
        ),
    ])
    .await
}

/// Temporal's filtering by workflow type (exact, case-sensitive).
pub async fn filter_by_workflow_type(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    for (l, ty, secs) in [
        ("a", "TypeA", 1),
        ("b", "TypeB", 2),
        ("a2", "TypeA", 3),
        ("lower", "typea", 4),
    ] {
        let mut r = fx.running(l, secs);
        r.workflow_type = ty.to_string();
        fx.put(l, r).await?;
    }
    fx.check(&[
        ("WorkflowType = 'TypeA'", &["a", "a2"]),
        ("WorkflowType = 'typea'", &["lower"]),
        ("WorkflowType = 'TypeB'", &["b"]),
        ("WorkflowType = 'TypeC'", &[]),
        ("WorkflowType != 'TypeA'", &["b", "lower"]),
    ])
    .await
}

/// Temporal's filtering by workflow id: every run of the id, and nothing else.
pub async fn filter_by_workflow_id(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    for (l, wid, secs) in [
        ("run1", "order-7", 1),
        ("run2", "order-7", 2),
        ("other", "order-8", 3),
        ("prefix", "order-77", 4),
    ] {
        let mut r = fx.running(l, secs);
        r.workflow_id = wid.to_string();
        let r = if l == "run1" {
            closed(&r, at(5, 0), WorkflowStatus::ContinuedAsNew)
        } else {
            r
        };
        fx.put(l, r).await?;
    }
    fx.check(&[
        ("WorkflowId = 'order-7'", &["run1", "run2"]),
        ("WorkflowId = 'order-8'", &["other"]),
        ("WorkflowId = 'order'", &[]),
        (
            "WorkflowId = 'order-7' AND ExecutionStatus = 'Running'",
            &["run2"],
        ),
        (
            "WorkflowId IN ('order-7', 'order-77')",
            &["run1", "run2", "prefix"],
        ),
    ])
    .await
}

/// Temporal's filtering by status: each closed status finds exactly its records.
pub async fn filter_by_status(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let cases = [
        ("running", WorkflowStatus::Running),
        ("completed", WorkflowStatus::Completed),
        ("failed", WorkflowStatus::Failed),
        ("canceled", WorkflowStatus::Canceled),
        ("terminated", WorkflowStatus::Terminated),
        ("can", WorkflowStatus::ContinuedAsNew),
        ("timedout", WorkflowStatus::TimedOut),
    ];
    for (i, (l, st)) in cases.iter().enumerate() {
        let r = fx.running(l, i as i64);
        let r = if *st == WorkflowStatus::Running {
            r
        } else {
            closed(&r, at(100 + i as i64, 0), *st)
        };
        fx.put(l, r).await?;
    }
    let mut queries: Vec<(String, Vec<&str>)> = Vec::new();
    for (l, st) in &cases {
        queries.push((format!("ExecutionStatus = '{}'", st.name()), vec![*l]));
    }
    let refs: Vec<(&str, &[&str])> = queries
        .iter()
        .map(|(q, l)| (q.as_str(), l.as_slice()))
        .collect();
    fx.check(&refs).await
}

/// Filtering by close time: running records never match a close-time comparison.
pub async fn filter_by_close_time(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    for (l, close) in [
        ("c10", Some(10)),
        ("c20", Some(20)),
        ("c30", Some(30)),
        ("run", None),
    ] {
        let r = fx.running(l, 0);
        let r = match close {
            Some(c) => closed(&r, at(c, 0), WorkflowStatus::Completed),
            None => r,
        };
        fx.put(l, r).await?;
    }
    let t = |s| ts(at(s, 0));
    fx.check(&[
        (&format!("CloseTime > '{}'", t(10)), &["c30", "c20"]),
        (&format!("CloseTime <= '{}'", t(20)), &["c20", "c10"]),
        (&format!("CloseTime = '{}'", t(30)), &["c30"]),
        (&format!("CloseTime != '{}'", t(30)), &["c20", "c10"]),
        (
            &format!("CloseTime BETWEEN '{}' AND '{}'", t(10), t(20)),
            &["c20", "c10"],
        ),
        ("", &["run", "c30", "c20", "c10"]),
    ])
    .await
}
