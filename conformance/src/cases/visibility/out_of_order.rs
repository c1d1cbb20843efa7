//! Visibility cases: out-of-order writes, where the task id is the record version.

use std::sync::Arc;

use durastore_api::{SearchAttributeValue, WorkflowStatus};

use super::helpers::{
    at, attrs, closed, count, ensure_stored, fresh_namespace, in_list_order, kw, list_ids, running,
    vis, with_attrs, write,
};
use crate::check::ok;
use crate::util::race;
use crate::{CaseError, Ctx, ensure_eq};

/// A start delivered after the close with a lower task id is ignored: the record stays closed.
pub async fn started_after_closed_ignored(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let mut r = running(ns, "wf", at(0, 0));
    r.task_id = 5;
    let c = closed(&r, at(30, 0), WorkflowStatus::Completed);
    write(s, &c).await?;
    write(s, &r).await?;
    ensure_stored(s, "closed record after a late start", &c).await?;
    ensure_eq!(count(s, ns, "ExecutionStatus = 'Running'").await?, 0);
    ensure_eq!(count(s, ns, "CloseTime IS NOT NULL").await?, 1);
    Ok(())
}

/// An upsert with an older task id is ignored; its values match no query.
pub async fn upsert_older_task_id_ignored(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let r = with_attrs(
        &running(ns, "wf", at(0, 0)),
        10,
        &[("CustomKeywordField", kw("new"))],
    );
    write(s, &r).await?;
    let stale = with_attrs(&r, 9, &[("CustomKeywordField", kw("old"))]);
    ok("stale upsert", s.upsert(stale).await)?;
    ensure_stored(s, "record after a stale upsert", &r).await?;
    ensure_eq!(count(s, ns, "CustomKeywordField = 'old'").await?, 0);
    ensure_eq!(count(s, ns, "CustomKeywordField = 'new'").await?, 1);
    Ok(())
}

/// An upsert with the same task id as the stored record is a no-op ("not above").
pub async fn upsert_equal_task_id_ignored(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let r = with_attrs(
        &running(ns, "wf", at(0, 0)),
        10,
        &[("CustomKeywordField", kw("first"))],
    );
    write(s, &r).await?;
    let same = with_attrs(&r, 10, &[("CustomKeywordField", kw("second"))]);
    ok("upsert with the same task id", s.upsert(same).await)?;
    ensure_stored(s, "record after an equal-version upsert", &r).await?;
    ensure_eq!(count(s, ns, "CustomKeywordField = 'second'").await?, 0);
    Ok(())
}

/// A close with a task id below a newer upsert is ignored: the record stays as upserted.
pub async fn closed_older_than_upsert_ignored(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let r = running(ns, "wf", at(0, 0));
    write(s, &r).await?;
    let up = with_attrs(&r, 10, &[("CustomKeywordField", kw("upserted"))]);
    ok("upsert", s.upsert(up.clone()).await)?;
    let mut c = closed(&r, at(40, 0), WorkflowStatus::Completed);
    c.task_id = 5;
    ok("stale close", s.record_closed(c).await)?;
    ensure_stored(s, "record after a stale close", &up).await?;
    ensure_eq!(count(s, ns, "ExecutionStatus = 'Running'").await?, 1);
    Ok(())
}

/// A start with a higher task id replaces an older start (insert if absent or older).
pub async fn started_newer_replaces_older(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let r = with_attrs(
        &running(ns, "wf", at(0, 0)),
        3,
        &[("CustomKeywordField", kw("a"))],
    );
    write(s, &r).await?;
    let mut newer = with_attrs(&r, 4, &[("CustomKeywordField", kw("b"))]);
    newer.workflow_type = "Renamed".to_string();
    write(s, &newer).await?;
    ensure_stored(s, "newer start", &newer).await?;
    let older = with_attrs(&r, 2, &[("CustomKeywordField", kw("c"))]);
    write(s, &older).await?;
    ensure_stored(s, "after an older start", &newer).await
}

/// Start (task 1), upsert (task 2) and close (task 3) applied in each of the six orders end in
/// the same state: the close.
pub async fn highest_task_id_wins_in_every_order(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let orders: [[usize; 3]; 6] = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    let mut finals = Vec::new();
    for (i, order) in orders.iter().enumerate() {
        let start = with_attrs(
            &running(ns, &format!("wf-{i}"), at(i as i64, 0)),
            1,
            &[("CustomKeywordField", kw("started"))],
        );
        let up = with_attrs(&start, 2, &[("CustomKeywordField", kw("upserted"))]);
        let mut close = closed(&start, at(100, 0), WorkflowStatus::Completed);
        close.task_id = 3;
        close.search_attributes = attrs(&[("CustomKeywordField", kw("closed"))]);
        for step in order {
            match step {
                0 => ok("record_started", s.record_started(start.clone()).await)?,
                1 => ok("upsert", s.upsert(up.clone()).await)?,
                _ => ok("record_closed", s.record_closed(close.clone()).await)?,
            }
        }
        ensure_stored(s, &format!("final state after order {order:?}"), &close).await?;
        finals.push(close);
    }
    ensure_eq!(count(s, ns, "CustomKeywordField = 'closed'").await?, 6);
    ensure_eq!(count(s, ns, "ExecutionStatus = 'Running'").await?, 0);
    ensure_eq!(list_ids(s, ns, "", 4).await?, in_list_order(&finals));
    Ok(())
}

/// Concurrent upserts of one run with distinct task ids: the highest task id wins, whatever
/// order they commit in.
pub async fn concurrent_writes_highest_task_id_wins(ctx: &Ctx) -> Result<(), CaseError> {
    let store = Arc::clone(ctx.visibility()?);
    let ns = fresh_namespace(store.as_ref()).await?;
    for round in 0..3 {
        let base = running(ns, &format!("wf-{round}"), at(round, 0));
        write(store.as_ref(), &base).await?;
        let mut futs = Vec::new();
        // Task ids in a shuffled order so the highest is not always spawned last.
        for k in [7i64, 2, 16, 11, 4, 13, 9, 15, 3, 12, 6, 10, 5, 14, 8, 17] {
            let st = Arc::clone(&store);
            let up = with_attrs(
                &base,
                k,
                &[("CustomIntField", SearchAttributeValue::Int(k))],
            );
            futs.push(async move { st.upsert(up).await });
        }
        for (i, r) in race(futs).await?.into_iter().enumerate() {
            ok(&format!("racing upsert {i}"), r)?;
        }
        let want = with_attrs(
            &base,
            17,
            &[("CustomIntField", SearchAttributeValue::Int(17))],
        );
        ensure_stored(store.as_ref(), &format!("round {round}"), &want).await?;
    }
    ensure_eq!(count(store.as_ref(), ns, "CustomIntField = 17").await?, 3);
    ensure_eq!(count(store.as_ref(), ns, "CustomIntField < 17").await?, 0);
    Ok(())
}
