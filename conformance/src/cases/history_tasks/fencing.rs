//! History-task cases: range-id fencing and isolation by shard and category.

use std::collections::BTreeMap;

use durastore_api::{ErrorKind, HistoryTask, HistoryTaskKey, TaskCategory};

use super::helpers::{
    RANGE, Setup, expected, fire, immediate_task, read_all_tasks, scheduled_task, task_map,
};
use crate::check::{expect_err, ok};
use crate::fixtures::blob;
use crate::{CaseError, Ctx, ensure, ensure_eq};

/// A stale or future range id is `ShardOwnershipLost` and writes nothing, in any category.
pub async fn stale_range_lost(ctx: &Ctx) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    for range in [RANGE - 1, RANGE + 1, 0] {
        let map = BTreeMap::from([
            (TaskCategory::TRANSFER, vec![immediate_task(1)]),
            (TaskCategory::TIMER, vec![scheduled_task(fire(1, 0), 1)]),
        ]);
        let e = expect_err(
            &format!("add_history_tasks with range {range} (stored {RANGE})"),
            s.add_map(range, map).await,
            ErrorKind::ShardOwnershipLost,
        )?;
        ensure!(
            !e.is_outcome_unknown(),
            "a fenced write is not committed: {e}"
        );
    }
    s.ensure_empty(
        &[TaskCategory::TRANSFER, TaskCategory::TIMER],
        "after fenced adds",
    )
    .await?;
    // A shard that does not exist fences every write too.
    let missing = ctx.new_shard_id();
    expect_err(
        "add_history_tasks on a missing shard",
        s.exec
            .add_history_tasks(
                missing,
                1,
                s.namespace_id,
                &s.workflow_id,
                task_map(TaskCategory::TRANSFER, vec![immediate_task(1)]),
            )
            .await,
        ErrorKind::ShardOwnershipLost,
    )?;
    ensure!(
        read_all_tasks(&s.exec, missing, TaskCategory::TRANSFER, 100)
            .await?
            .is_empty(),
        "the fenced write on a missing shard stored nothing"
    );
    Ok(())
}

/// After `update_shard` renews the range, the old range id is fenced and the new one works.
pub async fn fenced_after_range_update(ctx: &Ctx) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    let before = immediate_task(1);
    s.add(TaskCategory::TRANSFER, std::slice::from_ref(&before))
        .await?;
    let shard = ctx.shard()?;
    ok(
        "update_shard",
        shard
            .update_shard(durastore_api::UpdateShardRequest {
                shard_id: s.shard_id,
                range_id: RANGE + 1,
                previous_range_id: RANGE,
                data: blob(10),
            })
            .await,
    )?;
    expect_err(
        "add_history_tasks with the old range id",
        s.add_map(
            RANGE,
            task_map(TaskCategory::TRANSFER, vec![immediate_task(2)]),
        )
        .await,
        ErrorKind::ShardOwnershipLost,
    )?;
    let after = immediate_task(3);
    ok(
        "add_history_tasks with the new range id",
        s.add_map(
            RANGE + 1,
            task_map(TaskCategory::TRANSFER, vec![after.clone()]),
        )
        .await,
    )?;
    ensure_eq!(s.all(TaskCategory::TRANSFER).await?, vec![before, after]);
    Ok(())
}

/// Reads never return tasks of another shard or another category.
pub async fn isolated_by_shard_and_category(ctx: &Ctx) -> Result<(), CaseError> {
    let a = Setup::new(ctx).await?;
    let b = Setup::new(ctx).await?;
    let a_transfer: Vec<HistoryTask> = (1..=3).map(immediate_task).collect();
    let a_visibility: Vec<HistoryTask> = (1..=3).map(immediate_task).collect();
    let b_transfer: Vec<HistoryTask> = (1..=3).map(immediate_task).collect();
    let a_timer = vec![scheduled_task(fire(1, 0), 1)];
    let a_archival = vec![scheduled_task(fire(1, 0), 1)];
    let b_timer = vec![scheduled_task(fire(1, 0), 1)];
    a.add(TaskCategory::TRANSFER, &a_transfer).await?;
    a.add(TaskCategory::VISIBILITY, &a_visibility).await?;
    b.add(TaskCategory::TRANSFER, &b_transfer).await?;
    a.add(TaskCategory::TIMER, &a_timer).await?;
    a.add(TaskCategory::ARCHIVAL, &a_archival).await?;
    b.add(TaskCategory::TIMER, &b_timer).await?;

    ensure_eq!(a.all(TaskCategory::TRANSFER).await?, a_transfer);
    ensure_eq!(a.all(TaskCategory::VISIBILITY).await?, a_visibility);
    ensure_eq!(b.all(TaskCategory::TRANSFER).await?, b_transfer);
    ensure_eq!(
        a.all(TaskCategory::TIMER).await?,
        expected(TaskCategory::TIMER, &a_timer)
    );
    ensure_eq!(
        a.all(TaskCategory::ARCHIVAL).await?,
        expected(TaskCategory::ARCHIVAL, &a_archival)
    );
    ensure_eq!(
        b.all(TaskCategory::TIMER).await?,
        expected(TaskCategory::TIMER, &b_timer)
    );
    b.ensure_empty(
        &[
            TaskCategory::VISIBILITY,
            TaskCategory::ARCHIVAL,
            TaskCategory::REPLICATION,
        ],
        "shard b",
    )
    .await?;

    // Completing in one shard / category leaves the others alone.
    ok(
        "range_complete_history_tasks on shard a",
        a.exec
            .range_complete_history_tasks(
                a.shard_id,
                TaskCategory::TRANSFER,
                HistoryTaskKey::immediate(0),
                HistoryTaskKey::immediate(i64::MAX),
            )
            .await,
    )?;
    ensure_eq!(b.all(TaskCategory::TRANSFER).await?, b_transfer);
    ensure_eq!(a.all(TaskCategory::VISIBILITY).await?, a_visibility);
    Ok(())
}
