//! Task-queue cases: the range-id condition of a fair queue's task completion, and the typed
//! detail that names the queues of a conflicting user-data update.

use std::collections::BTreeMap;
use std::sync::Arc;

use durastore_api::{
    CompleteTasksLessThanRequest, ConflictDetail, ErrorKind, TaskQueueFlavor, TaskQueueKey,
    TaskQueueKind,
};
use futures::future::BoxFuture;

use crate::check::{expect_bad_request, expect_err, ok};
use crate::fixtures::{namespace_id, unique_name};
use crate::util::race;
use crate::{CaseError, Ctx, ensure, ensure_eq};

use super::helpers::{
    create_tasks_req, new_key, new_queue, read_subqueue, sorted, task, tasks, ud, write,
};
use TaskQueueFlavor::{Classic, Fair};

/// A completion of everything below `(pass, id)` with an optional range-id condition.
fn complete(
    key: &TaskQueueKey,
    bound: (i64, i64),
    condition_range_id: Option<i64>,
) -> CompleteTasksLessThanRequest {
    CompleteTasksLessThanRequest {
        key: key.clone(),
        subqueue: 0,
        exclusive_max_pass: bound.0,
        exclusive_max_task_id: bound.1,
        limit: 1000,
        condition_range_id,
    }
}

/// Expects the typed range conflict naming the stored range id (None: no queue).
fn expect_range_conflict(
    what: &str,
    r: durastore_api::Result<i64>,
    expected: i64,
    actual: Option<i64>,
) -> Result<(), CaseError> {
    let e = expect_err(what, r, ErrorKind::ConditionFailed)?;
    ensure_eq!(
        e.detail(),
        Some(&ConflictDetail::TaskQueueRange { expected, actual }),
        "{what}: conflict detail ({e})"
    );
    Ok(())
}

/// On a fair queue, a completion conditioned on the stored range id deletes; one conditioned on
/// another range id (older, newer, or of a queue that does not exist) is `ConditionFailed` naming
/// the stored range id and deletes nothing. After the lease moves, the old range id is refused.
pub async fn fair_complete_range_condition(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let w = new_queue(s.as_ref(), Fair, 3).await?;
    let written = sorted((1..=6).map(|id| task(0, 1 + id % 2, id)).collect());
    ok(
        "create_tasks",
        s.create_tasks(create_tasks_req(&w.key, 3, written.clone()))
            .await,
    )?;
    for wrong in [2, 4] {
        expect_range_conflict(
            &format!("complete with range condition {wrong} (stored 3)"),
            s.complete_tasks_less_than(complete(&w.key, (i64::MAX, i64::MAX), Some(wrong)))
                .await,
            wrong,
            Some(3),
        )?;
    }
    ensure_eq!(
        read_subqueue(s.as_ref(), &w.key, 0).await?,
        written,
        "a refused completion deleted tasks"
    );

    // The stored range id: the tasks below (2, 0) (pass 1) go, the others stay.
    let n = ok(
        "complete with the stored range id",
        s.complete_tasks_less_than(complete(&w.key, (2, 0), Some(3)))
            .await,
    )?;
    let left: Vec<_> = written.iter().filter(|t| t.pass >= 2).cloned().collect();
    ensure!(
        n == -1 || n == (written.len() - left.len()) as i64,
        "completion reported {n} deleted"
    );
    ensure_eq!(
        read_subqueue(s.as_ref(), &w.key, 0).await?,
        left,
        "tasks after a conditioned completion"
    );

    // A new owner takes the lease: the old owner's conditioned completion is refused.
    let mut next = w.clone();
    next.range_id = 4;
    ok(
        "update_task_queue (3 -> 4)",
        s.update_task_queue(next, 3).await,
    )?;
    expect_range_conflict(
        "complete with the previous owner's range id",
        s.complete_tasks_less_than(complete(&w.key, (i64::MAX, i64::MAX), Some(3)))
            .await,
        3,
        Some(4),
    )?;
    ensure_eq!(
        read_subqueue(s.as_ref(), &w.key, 0).await?,
        left,
        "a fenced completion deleted tasks"
    );
    // Without a condition a completion is not fenced (as before).
    ok(
        "complete without a condition",
        s.complete_tasks_less_than(complete(&w.key, (i64::MAX, i64::MAX), None))
            .await,
    )?;
    ensure!(
        read_subqueue(s.as_ref(), &w.key, 0).await?.is_empty(),
        "tasks left after completing everything"
    );

    let missing = new_key(Fair);
    expect_range_conflict(
        "complete on a fair queue that does not exist",
        s.complete_tasks_less_than(complete(&missing, (i64::MAX, i64::MAX), Some(1)))
            .await,
        1,
        None,
    )?;
    Ok(())
}

/// A completion whose range condition races a lease change: either the completion ran first
/// (tasks gone, lease moved) or it was fenced (tasks kept, typed conflict naming the new range
/// id); never a completion under the old lease after the new owner took over.
pub async fn fair_complete_races_lease_change(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    for round in 0..5 {
        let w = new_queue(s.as_ref(), Fair, 7).await?;
        let written = sorted((1..=4).map(|id| task(0, 1, id)).collect());
        ok(
            "create_tasks",
            s.create_tasks(create_tasks_req(&w.key, 7, written.clone()))
                .await,
        )?;
        let mut next = write(&w.key, 8, TaskQueueKind::Normal);
        next.info = w.info.clone();
        let (s1, s2) = (Arc::clone(s), Arc::clone(s));
        let key = w.key.clone();
        let completing = tokio::spawn(async move {
            s1.complete_tasks_less_than(complete(&key, (i64::MAX, i64::MAX), Some(7)))
                .await
        });
        let leasing = tokio::spawn(async move { s2.update_task_queue(next, 7).await });
        let completed = completing
            .await
            .map_err(|e| CaseError::new(format!("completion task failed: {e}")))?;
        let leased = leasing
            .await
            .map_err(|e| CaseError::new(format!("lease task failed: {e}")))?;
        ok(&format!("round {round}: update_task_queue"), leased)?;
        let left = read_subqueue(s.as_ref(), &w.key, 0).await?;
        match completed {
            Ok(_) => ensure!(
                left.is_empty(),
                "round {round}: the completion succeeded but left {} tasks",
                left.len()
            ),
            Err(e) => {
                ensure_eq!(
                    e.detail(),
                    Some(&ConflictDetail::TaskQueueRange {
                        expected: 7,
                        actual: Some(8)
                    }),
                    "round {round}: fenced completion ({e})"
                );
                ensure_eq!(
                    left,
                    written,
                    "round {round}: a fenced completion deleted tasks"
                );
            }
        }
    }
    Ok(())
}

/// A range condition on a classic queue is refused as `InvalidArgument` (Temporal's condition
/// exists for fair queues only) and deletes nothing.
pub async fn classic_complete_condition_refused(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let w = new_queue(s.as_ref(), Classic, 2).await?;
    let written = tasks(Classic, &[1, 2, 3]);
    ok(
        "create_tasks",
        s.create_tasks(create_tasks_req(&w.key, 2, written.clone()))
            .await,
    )?;
    for condition in [2, 5] {
        expect_bad_request(
            &format!("classic completion with range condition {condition}"),
            s.complete_tasks_less_than(complete(&w.key, (0, i64::MAX), Some(condition)))
                .await,
        )?;
    }
    ensure_eq!(
        read_subqueue(s.as_ref(), &w.key, 0).await?,
        written,
        "a refused completion deleted tasks"
    );
    Ok(())
}

/// A user-data update that conflicts on some entries names exactly those queues in the typed
/// detail (sorted), keeps them in the `task_queues` context, and applies nothing; racing
/// writers that lose name the queue they lost on.
pub async fn user_data_conflict_names_queues(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let ns = namespace_id();
    let [a, b, c, d] = [0; 4].map(|_| unique_name("tq"));
    ok(
        "create a and b",
        s.update_task_queue_user_data(ns, BTreeMap::from([(a.clone(), ud(0)), (b.clone(), ud(0))]))
            .await,
    )?;
    // a: right version; b: stale; c: new but "update" of version 3; d: new (right).
    let e = expect_err(
        "update with two conflicting entries",
        s.update_task_queue_user_data(
            ns,
            BTreeMap::from([
                (a.clone(), ud(1)),
                (b.clone(), ud(4)),
                (c.clone(), ud(3)),
                (d.clone(), ud(0)),
            ]),
        )
        .await,
        ErrorKind::ConditionFailed,
    )?;
    let mut want = vec![b.clone(), c.clone()];
    want.sort();
    ensure_eq!(
        e.detail(),
        Some(&ConflictDetail::TaskQueueUserData {
            conflicting: want.clone()
        }),
        "conflict detail ({e})"
    );
    ensure_eq!(
        e.context()
            .iter()
            .find(|(k, _)| *k == "task_queues")
            .map(|(_, v)| v.clone()),
        Some(want.join(",")),
        "task_queues context"
    );
    for (name, version) in [(&a, Some(1)), (&b, Some(1)), (&c, None), (&d, None)] {
        let got = s.get_task_queue_user_data(ns, name).await;
        match version {
            Some(v) => ensure_eq!(ok("get", got)?.version, v, "version of {name}"),
            None => {
                expect_err(&format!("get {name}"), got, ErrorKind::NotFound)?;
            }
        }
    }

    // Eight writers of one entry from version 1: the losers name it.
    let futs = (0..8)
        .map(|_| {
            let s = Arc::clone(s);
            let m = BTreeMap::from([(a.clone(), ud(1))]);
            Box::pin(async move { s.update_task_queue_user_data(ns, m).await })
                as BoxFuture<'static, _>
        })
        .collect();
    let mut won = 0;
    for (i, r) in race(futs).await?.into_iter().enumerate() {
        match r {
            Ok(()) => won += 1,
            Err(e) => ensure_eq!(
                e.detail(),
                Some(&ConflictDetail::TaskQueueUserData {
                    conflicting: vec![a.clone()]
                }),
                "racing writer {i} ({e})"
            ),
        }
    }
    ensure_eq!(won, 1, "number of winning user-data writers");
    Ok(())
}
