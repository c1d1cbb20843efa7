//! History-task cases: range bounds, single and range completion.

use durastore_api::{HistoryTask, HistoryTaskKey, TaskCategory};

use super::helpers::{Setup, expected, fire, immediate_task, keys, scheduled_task};
use crate::check::ok;
use crate::{CaseError, Ctx, ensure, ensure_eq};

/// Immediate reads cover exactly `[min, max)` by task id.
pub async fn range_bounds_immediate(ctx: &Ctx) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    let cat = TaskCategory::TRANSFER;
    let tasks: Vec<HistoryTask> = (10..20).map(immediate_task).collect();
    s.add(cat, &tasks).await?;
    let got = s
        .range(
            cat,
            HistoryTaskKey::immediate(12),
            HistoryTaskKey::immediate(17),
        )
        .await?;
    ensure_eq!(keys(&got), vec![12, 13, 14, 15, 16]);
    ensure_eq!(got, expected(cat, &tasks[2..7]));
    let none = s
        .range(
            cat,
            HistoryTaskKey::immediate(15),
            HistoryTaskKey::immediate(15),
        )
        .await?;
    ensure!(none.is_empty(), "[15, 15) is empty: {none:?}");
    let below = s
        .range(
            cat,
            HistoryTaskKey::immediate(0),
            HistoryTaskKey::immediate(10),
        )
        .await?;
    ensure!(below.is_empty(), "[0, 10) is empty: {below:?}");
    let top = s
        .range(
            cat,
            HistoryTaskKey::immediate(19),
            HistoryTaskKey::immediate(i64::MAX),
        )
        .await?;
    ensure_eq!(keys(&top), vec![19]);
    Ok(())
}

/// Scheduled reads cover `[min, max)`; the upper bound compares fire times only.
pub async fn range_bounds_scheduled(ctx: &Ctx) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    let cat = TaskCategory::TIMER;
    // Two tasks per second: task ids 2i (low) and 1000 + i (high).
    let tasks: Vec<HistoryTask> = (0..10)
        .flat_map(|i| {
            [
                scheduled_task(fire(i, 0), 2 * i),
                scheduled_task(fire(i, 0), 1000 + i),
            ]
        })
        .collect();
    s.add(cat, &tasks).await?;
    let got = s
        .range(
            cat,
            HistoryTaskKey::scheduled(fire(3, 0), 0),
            // A large task id in the upper bound must not pull in tasks at second 7.
            HistoryTaskKey::scheduled(fire(7, 0), 5000),
        )
        .await?;
    let want: Vec<HistoryTask> = expected(cat, &tasks)
        .into_iter()
        .filter(|t| t.key.fire_time >= fire(3, 0) && t.key.fire_time < fire(7, 0))
        .collect();
    ensure_eq!(want.len(), 8);
    ensure_eq!(got, want, "[second 3, second 7) by fire time");
    Ok(())
}

/// Completing a task deletes exactly that task; completing again or a missing one is fine.
pub async fn complete_one(ctx: &Ctx) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    let imm: Vec<HistoryTask> = (1..=5).map(immediate_task).collect();
    s.add(TaskCategory::TRANSFER, &imm).await?;
    let sch = vec![
        scheduled_task(fire(1, 0), 1),
        scheduled_task(fire(1, 0), 2),
        scheduled_task(fire(2, 0), 1),
    ];
    s.add(TaskCategory::TIMER, &sch).await?;

    for _ in 0..2 {
        ok(
            "complete_history_task (immediate)",
            s.exec
                .complete_history_task(
                    s.shard_id,
                    TaskCategory::TRANSFER,
                    HistoryTaskKey::immediate(3),
                )
                .await,
        )?;
    }
    ok(
        "complete_history_task (missing)",
        s.exec
            .complete_history_task(
                s.shard_id,
                TaskCategory::TRANSFER,
                HistoryTaskKey::immediate(77),
            )
            .await,
    )?;
    ensure_eq!(
        keys(&s.all(TaskCategory::TRANSFER).await?),
        vec![1, 2, 4, 5]
    );

    // A scheduled task is addressed by (fire time, task id): the other task at the same
    // instant and the same task id at another instant stay.
    ok(
        "complete_history_task (scheduled)",
        s.exec
            .complete_history_task(
                s.shard_id,
                TaskCategory::TIMER,
                HistoryTaskKey::scheduled(fire(1, 0), 1),
            )
            .await,
    )?;
    let left = s.all(TaskCategory::TIMER).await?;
    ensure_eq!(left, expected(TaskCategory::TIMER, &sch[1..]));
    Ok(())
}

/// Range completion of an immediate category deletes task ids in `[min, max)`.
pub async fn range_complete_immediate(ctx: &Ctx) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    let cat = TaskCategory::VISIBILITY;
    let tasks: Vec<HistoryTask> = (1..10).map(immediate_task).collect();
    s.add(cat, &tasks).await?;
    // Another category of the same shard is untouched.
    let other: Vec<HistoryTask> = (1..10).map(immediate_task).collect();
    s.add(TaskCategory::TRANSFER, &other).await?;
    ok(
        "range_complete_history_tasks [3, 7)",
        s.exec
            .range_complete_history_tasks(
                s.shard_id,
                cat,
                HistoryTaskKey::immediate(3),
                HistoryTaskKey::immediate(7),
            )
            .await,
    )?;
    ensure_eq!(keys(&s.all(cat).await?), vec![1, 2, 7, 8, 9]);
    ensure_eq!(
        s.all(TaskCategory::TRANSFER).await?,
        expected(TaskCategory::TRANSFER, &other),
        "other category untouched"
    );
    ok(
        "range_complete_history_tasks of everything",
        s.exec
            .range_complete_history_tasks(
                s.shard_id,
                cat,
                HistoryTaskKey::immediate(0),
                HistoryTaskKey::immediate(i64::MAX),
            )
            .await,
    )?;
    s.ensure_empty(&[cat], "after completing everything").await
}

/// Range completion of a scheduled category deletes by fire time only; task ids in the
/// bounds are ignored.
pub async fn range_complete_scheduled(ctx: &Ctx) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    let cat = TaskCategory::TIMER;
    let tasks = vec![
        scheduled_task(fire(1, 0), 50),
        scheduled_task(fire(2, 0), 1),
        scheduled_task(fire(3, 0), 60),
        scheduled_task(fire(4, 999_000_000), 70),
        scheduled_task(fire(5, 0), 5),
        scheduled_task(fire(6, 0), 2),
    ];
    s.add(cat, &tasks).await?;
    ok(
        "range_complete_history_tasks [2s, 5s)",
        s.exec
            .range_complete_history_tasks(
                s.shard_id,
                cat,
                // Task id 999 at the lower bound must not protect the task at 2s with id 1.
                HistoryTaskKey::scheduled(fire(2, 0), 999),
                // Task id 0 at the upper bound must not matter for the task at 5s.
                HistoryTaskKey::scheduled(fire(5, 0), 0),
            )
            .await,
    )?;
    let left = s.all(cat).await?;
    ensure_eq!(keys(&left), vec![50, 5, 2], "tasks at 1s, 5s and 6s remain");
    ensure_eq!(
        left,
        expected(cat, &[tasks[0].clone(), tasks[4].clone(), tasks[5].clone()])
    );
    Ok(())
}
