//! Visibility cases: batch writes and refresh ([`durastore_api::VisibilityStore::write_batch`],
//! [`durastore_api::VisibilityStore::refresh`]): after a refresh every acknowledged write
//! (single, concurrent or batched) is listed and counted; inside a batch the task-id rule orders
//! writes to one record exactly as separate calls in that order; a stale write or delete is a
//! no-op success; an invalid write refuses the whole batch.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use durastore_api::{
    ErrorKind, RunId, SearchAttributeValue, VisibilityRecord, VisibilityWrite, WorkflowStatus,
};

use super::helpers::{
    at, closed, count, ensure_stored, fresh_namespace, kw, list_ids, running, with_attrs,
};
use crate::check::{expect_err, ok};
use crate::util::race;
use crate::{CaseError, Ctx, ensure, ensure_eq};

/// Records written by concurrent callers (which a search backend coalesces into bulks) and by
/// one `write_batch` are all listed and counted after `refresh`, each exactly as written.
pub async fn refresh_shows_every_acknowledged_write(ctx: &Ctx) -> Result<(), CaseError> {
    const N: i64 = 40;
    let store = Arc::clone(ctx.visibility()?);
    let s = store.as_ref();
    ok("refresh with nothing written", s.refresh().await)?;
    let ns = fresh_namespace(s).await?;
    let raced: Vec<VisibilityRecord> = (0..N)
        .map(|i| running(ns, &format!("raced-{i}"), at(i, 0)))
        .collect();
    let futs = raced
        .iter()
        .map(|r| {
            let (st, r) = (Arc::clone(&store), r.clone());
            async move { st.record_started(r).await }
        })
        .collect();
    for (i, r) in race(futs).await?.into_iter().enumerate() {
        ok(&format!("concurrent record_started {i}"), r)?;
    }
    let batched: Vec<VisibilityRecord> = (0..N)
        .map(|i| {
            let r = running(ns, &format!("batched-{i}"), at(N + i, 0));
            if i % 2 == 0 {
                closed(&r, at(1000 + i, 0), WorkflowStatus::Completed)
            } else {
                r
            }
        })
        .collect();
    let writes = batched
        .iter()
        .map(|r| match r.close_time {
            Some(_) => VisibilityWrite::Closed(r.clone()),
            None => VisibilityWrite::Started(r.clone()),
        })
        .collect();
    let results = ok("write_batch", s.write_batch(writes).await)?;
    ensure_eq!(results.len(), batched.len(), "one result per write");
    for (i, r) in results.into_iter().enumerate() {
        ok(&format!("batched write {i}"), r)?;
    }
    ok("refresh", s.refresh().await)?;
    ensure_eq!(count(s, ns, "").await?, 2 * N);
    ensure_eq!(count(s, ns, "ExecutionStatus = 'Completed'").await?, N / 2);
    let listed: BTreeSet<RunId> = list_ids(s, ns, "", 25).await?.into_iter().collect();
    let written: BTreeSet<RunId> = raced.iter().chain(&batched).map(|r| r.run_id).collect();
    ensure_eq!(listed, written, "listed run ids after refresh");
    for r in [&raced[0], &raced[N as usize - 1], &batched[0], &batched[1]] {
        ensure_stored(s, "written record", r).await?;
    }
    Ok(())
}

/// One batch with several writes per record: each returns what the single call would (stale
/// writes and deletes `Ok`), the highest task id wins in the order given, and a write with an
/// unregistered attribute fails alone.
pub async fn write_batch_orders_by_task_id(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.visibility()?.as_ref();
    let ns = fresh_namespace(s).await?;
    let tag = |v: &str| [("CustomKeywordField", kw(v))];
    // a: started 1, upserted 3, then a stale start 2: the upsert stays.
    let a1 = with_attrs(&running(ns, "wf-a", at(1, 0)), 1, &tag("a1"));
    let a3 = with_attrs(&a1, 3, &tag("a3"));
    let a2 = with_attrs(&a1, 2, &tag("a2"));
    // b: started 5, then a stale delete 4: b stays.
    let b5 = with_attrs(&running(ns, "wf-b", at(2, 0)), 5, &tag("b5"));
    // c: started 1, deleted 2: gone.
    let c1 = with_attrs(&running(ns, "wf-c", at(3, 0)), 1, &tag("c1"));
    // d: closed 2, then a stale start 1: stays closed.
    let d1 = with_attrs(&running(ns, "wf-d", at(4, 0)), 1, &tag("d1"));
    let d2 = closed(&d1, at(100, 0), WorkflowStatus::Failed);
    // e: an unregistered attribute: that write alone fails.
    let mut e = running(ns, "wf-e", at(5, 0));
    e.search_attributes = BTreeMap::from([(
        "NotRegisteredAnywhere".to_string(),
        SearchAttributeValue::Int(1),
    )]);
    // f: equal task ids: the first write stays.
    let f4 = with_attrs(&running(ns, "wf-f", at(6, 0)), 4, &tag("f-first"));
    let f4b = with_attrs(&f4, 4, &tag("f-second"));
    let writes = vec![
        VisibilityWrite::Started(a1.clone()),
        VisibilityWrite::Upsert(a3.clone()),
        VisibilityWrite::Started(a2),
        VisibilityWrite::Started(b5.clone()),
        VisibilityWrite::Delete {
            namespace_id: ns,
            run_id: b5.run_id,
            task_id: 4,
        },
        VisibilityWrite::Started(c1.clone()),
        VisibilityWrite::Delete {
            namespace_id: ns,
            run_id: c1.run_id,
            task_id: 2,
        },
        VisibilityWrite::Closed(d2.clone()),
        VisibilityWrite::Started(d1),
        VisibilityWrite::Started(e.clone()),
        VisibilityWrite::Delete {
            namespace_id: ns,
            run_id: RunId::new_random(),
            task_id: 1,
        },
        VisibilityWrite::Upsert(f4.clone()),
        VisibilityWrite::Upsert(f4b),
    ];
    let n = writes.len();
    let results = ok("write_batch", s.write_batch(writes).await)?;
    ensure_eq!(results.len(), n, "one result per write");
    for (i, r) in results.into_iter().enumerate() {
        if i == 9 {
            expect_err(
                "write with an unregistered attribute",
                r,
                ErrorKind::InvalidArgument,
            )?;
        } else {
            ok(&format!("batched write {i}"), r)?;
        }
    }
    ok("refresh", s.refresh().await)?;
    ensure_stored(s, "a after a stale start", &a3).await?;
    ensure_stored(s, "b after a stale delete", &b5).await?;
    expect_err(
        "get c after its delete",
        s.get(ns, c1.run_id).await,
        ErrorKind::NotFound,
    )?;
    ensure_stored(s, "d after a stale start", &d2).await?;
    expect_err(
        "get e (its write failed)",
        s.get(ns, e.run_id).await,
        ErrorKind::NotFound,
    )?;
    ensure_stored(s, "f after an equal task id", &f4).await?;
    ensure_eq!(count(s, ns, "").await?, 4);
    for (v, want) in [
        ("a3", 1),
        ("a2", 0),
        ("b5", 1),
        ("f-first", 1),
        ("f-second", 0),
    ] {
        ensure_eq!(
            count(s, ns, &format!("CustomKeywordField = '{v}'")).await?,
            want,
            "records tagged {v}"
        );
    }
    ensure_eq!(count(s, ns, "ExecutionStatus = 'Failed'").await?, 1);
    Ok(())
}

/// A batch with an invalid write is refused as a whole (`InvalidArgument` naming its position)
/// and writes nothing; an empty batch is fine.
pub async fn write_batch_invalid_writes_nothing(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.visibility()?.as_ref();
    let ns = fresh_namespace(s).await?;
    let good = running(ns, "wf-good", at(1, 0));
    let mut bad = running(ns, "wf-bad", at(2, 0));
    bad.task_id = -1;
    // Closed without a close time.
    let unclosed = running(ns, "wf-unclosed", at(3, 0));
    for (what, invalid) in [
        ("a negative task id", VisibilityWrite::Started(bad)),
        (
            "a close without a close time",
            VisibilityWrite::Closed(unclosed),
        ),
        (
            "a delete with a negative task id",
            VisibilityWrite::Delete {
                namespace_id: ns,
                run_id: good.run_id,
                task_id: -5,
            },
        ),
    ] {
        let e = expect_err(
            &format!("write_batch with {what}"),
            s.write_batch(vec![VisibilityWrite::Started(good.clone()), invalid])
                .await,
            ErrorKind::InvalidArgument,
        )?;
        ensure!(
            e.context()
                .iter()
                .any(|(k, v)| *k == "batch_index" && v == "1"),
            "write_batch with {what}: the error does not name position 1: {e}"
        );
    }
    ok("refresh", s.refresh().await)?;
    expect_err(
        "get the valid record of refused batches",
        s.get(ns, good.run_id).await,
        ErrorKind::NotFound,
    )?;
    ensure_eq!(count(s, ns, "").await?, 0);
    let none = ok("empty write_batch", s.write_batch(Vec::new()).await)?;
    ensure!(
        none.is_empty(),
        "an empty batch returned {} results",
        none.len()
    );
    Ok(())
}
