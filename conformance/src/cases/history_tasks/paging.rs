//! History-task cases: paged reads of immediate and scheduled tasks.

use durastore_api::{HistoryTask, TaskCategory};

use super::helpers::{
    Setup, expected, fire, full_range, immediate_task, read_pages, scheduled_task,
};
use crate::{CaseError, Ctx, ensure, ensure_eq};

/// Pages `[min, max)` with `batch` and checks every task comes exactly once, in order.
async fn check_paging(
    s: &Setup,
    category: TaskCategory,
    tasks: &[HistoryTask],
    batch: i32,
) -> Result<(), CaseError> {
    let (min, max) = full_range(category);
    let pages = read_pages(&s.exec, s.shard_id, category, min, max, batch).await?;
    let n = tasks.len();
    let b = batch as usize;
    // Full pages need ceil(n / b) reads, plus at most one empty read at the end.
    ensure!(
        pages.len() <= n.div_ceil(b) + 1,
        "{} pages for {n} tasks at batch size {b}",
        pages.len()
    );
    let flat: Vec<HistoryTask> = pages.into_iter().flatten().collect();
    ensure_eq!(
        flat,
        expected(category, tasks),
        "paging at batch size {batch} returns every task exactly once, in order"
    );
    Ok(())
}

/// Immediate tasks page by task id; the last page has no token.
pub async fn paging_immediate(ctx: &Ctx) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    let tasks: Vec<HistoryTask> = (0..25).map(|i| immediate_task(100 + 3 * i)).collect();
    s.add(TaskCategory::TRANSFER, &tasks).await?;
    for batch in [7, 1, 24, 26, 10_000] {
        check_paging(&s, TaskCategory::TRANSFER, &tasks, batch).await?;
    }
    Ok(())
}

/// Scheduled tasks page by (fire time, task id), also inside one fire time.
pub async fn paging_scheduled(ctx: &Ctx) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    // 23 tasks over 6 instants, task ids not monotonic in time.
    let tasks: Vec<HistoryTask> = (0..23)
        .map(|i| scheduled_task(fire(i % 6, (i % 3) * 100), 50 - i))
        .collect();
    s.add(TaskCategory::TIMER, &tasks).await?;
    for batch in [4, 1, 5, 23] {
        check_paging(&s, TaskCategory::TIMER, &tasks, batch).await?;
    }
    Ok(())
}

/// A batch size that divides the count exactly ends with either no token or one empty last
/// page, never a token that loops.
pub async fn paging_exact_multiple(ctx: &Ctx) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    let tasks: Vec<HistoryTask> = (1..=20).map(immediate_task).collect();
    s.add(TaskCategory::TRANSFER, &tasks).await?;
    let timers: Vec<HistoryTask> = (1..=20).map(|i| scheduled_task(fire(i, 0), i)).collect();
    s.add(TaskCategory::TIMER, &timers).await?;
    for batch in [5, 10, 20] {
        check_paging(&s, TaskCategory::TRANSFER, &tasks, batch).await?;
        check_paging(&s, TaskCategory::TIMER, &timers, batch).await?;
    }
    Ok(())
}
