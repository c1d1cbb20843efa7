//! History-task cases: every category written and read back.

use std::collections::BTreeMap;

use durastore_api::{HistoryTask, HistoryTaskKey, TaskCategory, TaskCategoryKind};

use super::helpers::{RANGE, Setup, expected, fire, immediate_task, keys, scheduled_task};
use crate::check::ok;
use crate::{CaseError, Ctx, ensure, ensure_eq};

async fn immediate_roundtrip(ctx: &Ctx, category: TaskCategory) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    let first: Vec<HistoryTask> = [5, 1, 9, 3, 7, 1 << 40]
        .into_iter()
        .map(immediate_task)
        .collect();
    s.add(category, &first).await?;
    ensure_eq!(s.all(category).await?, expected(category, &first));
    // A second add for the same workflow interleaves by task id.
    let second: Vec<HistoryTask> = [2, 4].into_iter().map(immediate_task).collect();
    s.add(category, &second).await?;
    let all: Vec<HistoryTask> = first.iter().chain(&second).cloned().collect();
    let got = s.all(category).await?;
    ensure_eq!(
        keys(&got),
        vec![1, 2, 3, 4, 5, 7, 9, 1 << 40],
        "ordered by task id"
    );
    ensure_eq!(got, expected(category, &all));
    Ok(())
}

async fn scheduled_roundtrip(ctx: &Ctx, category: TaskCategory) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    let tasks = vec![
        scheduled_task(fire(3, 0), 1),
        scheduled_task(fire(1, 0), 9),
        scheduled_task(fire(1, 0), 2),
        scheduled_task(fire(2, 500), 5),
        // Truncates to fire(1, 0): sorts between task ids 2 and 9 of that instant.
        scheduled_task(fire(1, 999_999), 4),
        scheduled_task(fire(-86_400 * 365, 1_000_000), 100),
    ];
    s.add(category, &tasks).await?;
    let got = s.all(category).await?;
    let want = expected(category, &tasks);
    ensure_eq!(
        keys(&got),
        vec![100, 2, 4, 9, 5, 1],
        "ordered by (fire time, task id)"
    );
    ensure_eq!(got, want);
    Ok(())
}

/// Transfer tasks round-trip, ordered by task id.
pub async fn add_get_transfer(ctx: &Ctx) -> Result<(), CaseError> {
    immediate_roundtrip(ctx, TaskCategory::TRANSFER).await
}
/// Visibility tasks round-trip, ordered by task id.
pub async fn add_get_visibility(ctx: &Ctx) -> Result<(), CaseError> {
    immediate_roundtrip(ctx, TaskCategory::VISIBILITY).await
}
/// Replication tasks round-trip, ordered by task id.
pub async fn add_get_replication(ctx: &Ctx) -> Result<(), CaseError> {
    immediate_roundtrip(ctx, TaskCategory::REPLICATION).await
}
/// Outbound tasks round-trip, ordered by task id.
pub async fn add_get_outbound(ctx: &Ctx) -> Result<(), CaseError> {
    immediate_roundtrip(ctx, TaskCategory::OUTBOUND).await
}
/// Timer tasks round-trip, ordered by (fire time, task id).
pub async fn add_get_timer(ctx: &Ctx) -> Result<(), CaseError> {
    scheduled_roundtrip(ctx, TaskCategory::TIMER).await
}
/// Archival tasks round-trip, ordered by (fire time, task id).
pub async fn add_get_archival(ctx: &Ctx) -> Result<(), CaseError> {
    scheduled_roundtrip(ctx, TaskCategory::ARCHIVAL).await
}

/// Scheduled fire times come back truncated to whole milliseconds, and range reads compare the
/// truncated value.
pub async fn scheduled_millis_truncation(ctx: &Ctx) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    let sub_ms = scheduled_task(fire(10, 123_456_789), 1);
    let exact = scheduled_task(fire(11, 7_000_000), 2);
    s.add(TaskCategory::TIMER, &[sub_ms.clone(), exact.clone()])
        .await?;
    let got = s.all(TaskCategory::TIMER).await?;
    ensure_eq!(got.len(), 2);
    ensure_eq!(
        got[0].key.fire_time,
        fire(10, 123_000_000),
        "truncated, not rounded"
    );
    ensure_eq!(
        got[1].key.fire_time,
        fire(11, 7_000_000),
        "whole milliseconds unchanged"
    );
    ensure_eq!(got[0].blob, sub_ms.blob);
    // [10.123, 10.124) holds the truncated task; [10.124, …) does not.
    let inside = s
        .range(
            TaskCategory::TIMER,
            HistoryTaskKey::scheduled(fire(10, 123_000_000), 0),
            HistoryTaskKey::scheduled(fire(10, 124_000_000), 0),
        )
        .await?;
    ensure_eq!(keys(&inside), vec![1]);
    let after = s
        .range(
            TaskCategory::TIMER,
            HistoryTaskKey::scheduled(fire(10, 124_000_000), 0),
            HistoryTaskKey::scheduled(fire(11, 0), 0),
        )
        .await?;
    ensure!(after.is_empty(), "nothing in [10.124, 11): {after:?}");
    Ok(())
}

/// Categories other than the well-known ones are stored and read by id and kind.
pub async fn other_categories(ctx: &Ctx) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    let imm = TaskCategory::new(42, TaskCategoryKind::Immediate);
    let sch = TaskCategory::new(43, TaskCategoryKind::Scheduled);
    let a: Vec<HistoryTask> = [3, 1, 2].into_iter().map(immediate_task).collect();
    let b = vec![scheduled_task(fire(5, 0), 1), scheduled_task(fire(4, 1), 2)];
    s.add(imm, &a).await?;
    s.add(sch, &b).await?;
    ensure_eq!(s.all(imm).await?, expected(imm, &a));
    ensure_eq!(s.all(sch).await?, expected(sch, &b));
    s.ensure_empty(
        &[TaskCategory::TRANSFER, TaskCategory::TIMER],
        "well-known categories",
    )
    .await
}

/// One `add_history_tasks` call with several categories stores all of them.
pub async fn multi_category_add(ctx: &Ctx) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    let transfer: Vec<HistoryTask> = [1, 2].into_iter().map(immediate_task).collect();
    let visibility: Vec<HistoryTask> = [1, 3].into_iter().map(immediate_task).collect();
    let timer = vec![scheduled_task(fire(1, 0), 1), scheduled_task(fire(0, 0), 2)];
    let map = BTreeMap::from([
        (TaskCategory::TRANSFER, transfer.clone()),
        (TaskCategory::VISIBILITY, visibility.clone()),
        (TaskCategory::TIMER, timer.clone()),
    ]);
    ok(
        "add_history_tasks (three categories)",
        s.add_map(RANGE, map).await,
    )?;
    ensure_eq!(
        s.all(TaskCategory::TRANSFER).await?,
        expected(TaskCategory::TRANSFER, &transfer)
    );
    ensure_eq!(
        s.all(TaskCategory::VISIBILITY).await?,
        expected(TaskCategory::VISIBILITY, &visibility)
    );
    ensure_eq!(
        s.all(TaskCategory::TIMER).await?,
        expected(TaskCategory::TIMER, &timer)
    );
    Ok(())
}
