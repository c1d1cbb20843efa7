//! Task-queue cases: concurrent range-id and user-data compare-and-set, one winner.

use std::sync::Arc;

use durastore_api::{ErrorKind, TaskQueueFlavor, TaskQueueKind};
use futures::future::BoxFuture;

use crate::check::ok;
use crate::fixtures::{namespace_id, unique_name};
use crate::util::race;
use crate::{CaseError, Ctx, ensure_eq};

use super::helpers::{ids, new_queue, one, record, ud, ud_record, write};
use TaskQueueFlavor::Classic;

/// Eight owners race to move a queue's lease from the same range id: exactly one wins, the rest
/// get `ConditionFailed`, and the stored row is the winner's.
pub async fn concurrent_range_cas_single_winner(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let w = new_queue(s.as_ref(), Classic, 1).await?;
    let writes: Vec<_> = (0..8)
        .map(|i| write(&w.key, 10 + i, TaskQueueKind::Normal))
        .collect();
    let futs = writes
        .iter()
        .map(|req| {
            let s = Arc::clone(s);
            let req = req.clone();
            Box::pin(async move { s.update_task_queue(req, 1).await }) as BoxFuture<'static, _>
        })
        .collect();
    let results = race(futs).await?;
    let mut winners = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(()) => winners.push(i),
            Err(e) if e.kind() == ErrorKind::ConditionFailed => {}
            Err(e) => {
                return Err(CaseError::new(format!(
                    "racing update {i}: expected Ok or ConditionFailed, got {e}"
                )));
            }
        }
    }
    ensure_eq!(winners.len(), 1, "number of winners ({winners:?})");
    let got = ok("get_task_queue", s.get_task_queue(&w.key).await)?;
    ensure_eq!(
        got,
        record(&writes[winners[0]]),
        "stored row is not the winner's"
    );
    Ok(())
}

/// Eight writers race to update one queue's user data from version 1: exactly one applies.
pub async fn concurrent_user_data_single_winner(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let ns = namespace_id();
    let tq = unique_name("tq");
    ok(
        "first write",
        s.update_task_queue_user_data(ns, one(&tq, ud(0))).await,
    )?;
    let updates: Vec<_> = (0..8)
        .map(|i| {
            let mut u = ud(1);
            u.build_ids_added = ids(&[format!("race-{i}").as_str()]);
            u
        })
        .collect();
    let futs = updates
        .iter()
        .map(|u| {
            let s = Arc::clone(s);
            let m = one(&tq, u.clone());
            Box::pin(async move { s.update_task_queue_user_data(ns, m).await })
                as BoxFuture<'static, _>
        })
        .collect();
    let results = race(futs).await?;
    let mut winners = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(()) => winners.push(i),
            Err(e) if e.kind() == ErrorKind::ConditionFailed => {}
            Err(e) => {
                return Err(CaseError::new(format!(
                    "racing user data update {i}: expected Ok or ConditionFailed, got {e}"
                )));
            }
        }
    }
    ensure_eq!(winners.len(), 1, "number of winners ({winners:?})");
    let win = winners[0];
    ensure_eq!(
        ok("get", s.get_task_queue_user_data(ns, &tq).await)?,
        ud_record(&tq, &updates[win]),
        "stored user data is not the winner's"
    );
    // Only the winner's build id made it into the index.
    for i in 0..8 {
        let n = ok(
            "count_task_queues_by_build_id",
            s.count_task_queues_by_build_id(ns, &format!("race-{i}"))
                .await,
        )?;
        ensure_eq!(
            n,
            i64::from(i == win),
            "index count of racer {i}'s build id"
        );
    }
    Ok(())
}
