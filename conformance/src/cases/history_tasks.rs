//! Conformance cases for history (shard) tasks of the execution store: add, ordered and paged
//! reads, completion, range completion, range-id fencing and input limits.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use durastore_api::chrono::TimeDelta;
use durastore_api::validate::MAX_BLOB_BYTES;
use durastore_api::{
    DataBlob, DateTime, ErrorKind, ExecutionStore, GetHistoryTasksRequest, HistoryTask,
    HistoryTaskKey, NamespaceId, ShardId, TaskCategory, TaskCategoryKind, Utc, WorkflowId,
    truncate_to_millis,
};

use crate::cases::shard::create_shard;
use crate::check::{expect_bad_request, expect_err, ok};
use crate::fixtures::{blob, namespace_id, unique_name};
use crate::{Case, CaseError, Ctx, case, ensure, ensure_eq};

/// The cases of this module.
pub fn cases() -> Vec<Case> {
    vec![
        case!(
            "history_tasks",
            add_get_transfer,
            ["shard", "execution"],
            add_get_transfer
        ),
        case!(
            "history_tasks",
            add_get_visibility,
            ["shard", "execution"],
            add_get_visibility
        ),
        case!(
            "history_tasks",
            add_get_replication,
            ["shard", "execution"],
            add_get_replication
        ),
        case!(
            "history_tasks",
            add_get_outbound,
            ["shard", "execution"],
            add_get_outbound
        ),
        case!(
            "history_tasks",
            add_get_timer,
            ["shard", "execution"],
            add_get_timer
        ),
        case!(
            "history_tasks",
            add_get_archival,
            ["shard", "execution"],
            add_get_archival
        ),
        case!(
            "history_tasks",
            scheduled_millis_truncation,
            ["shard", "execution"],
            scheduled_millis_truncation
        ),
        case!(
            "history_tasks",
            other_categories,
            ["shard", "execution"],
            other_categories
        ),
        case!(
            "history_tasks",
            multi_category_add,
            ["shard", "execution"],
            multi_category_add
        ),
        case!(
            "history_tasks",
            paging_immediate,
            ["shard", "execution"],
            paging_immediate
        ),
        case!(
            "history_tasks",
            paging_scheduled,
            ["shard", "execution"],
            paging_scheduled
        ),
        case!(
            "history_tasks",
            paging_exact_multiple,
            ["shard", "execution"],
            paging_exact_multiple
        ),
        case!(
            "history_tasks",
            range_bounds_immediate,
            ["shard", "execution"],
            range_bounds_immediate
        ),
        case!(
            "history_tasks",
            range_bounds_scheduled,
            ["shard", "execution"],
            range_bounds_scheduled
        ),
        case!(
            "history_tasks",
            complete_one,
            ["shard", "execution"],
            complete_one
        ),
        case!(
            "history_tasks",
            range_complete_immediate,
            ["shard", "execution"],
            range_complete_immediate
        ),
        case!(
            "history_tasks",
            range_complete_scheduled,
            ["shard", "execution"],
            range_complete_scheduled
        ),
        case!(
            "history_tasks",
            stale_range_lost,
            ["shard", "execution"],
            stale_range_lost
        ),
        case!(
            "history_tasks",
            fenced_after_range_update,
            ["shard", "execution"],
            fenced_after_range_update
        ),
        case!(
            "history_tasks",
            isolated_by_shard_and_category,
            ["shard", "execution"],
            isolated_by_shard_and_category
        ),
        case!(
            "history_tasks",
            bad_batch_size,
            ["shard", "execution"],
            bad_batch_size
        ),
        case!(
            "history_tasks",
            bad_page_token,
            ["shard", "execution"],
            bad_page_token
        ),
        case!(
            "history_tasks",
            bad_task_key,
            ["shard", "execution"],
            bad_task_key
        ),
        case!(
            "history_tasks",
            bad_task_blob,
            ["shard", "execution"],
            bad_task_blob
        ),
        case!(
            "history_tasks",
            bad_shard_id,
            ["shard", "execution"],
            bad_shard_id
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Helpers (also used by the shard and durability cases).

/// An immediate task with a random payload.
pub(crate) fn immediate_task(task_id: i64) -> HistoryTask {
    HistoryTask {
        key: HistoryTaskKey::immediate(task_id),
        blob: blob(24),
    }
}

/// A scheduled task with a random payload; the fire time is *not* truncated, so the store's
/// truncation is exercised.
pub(crate) fn scheduled_task(fire_time: DateTime<Utc>, task_id: i64) -> HistoryTask {
    HistoryTask {
        key: HistoryTaskKey { fire_time, task_id },
        blob: blob(24),
    }
}

/// The argument of `add_history_tasks` for one category.
pub(crate) fn task_map(
    category: TaskCategory,
    tasks: Vec<HistoryTask>,
) -> BTreeMap<TaskCategory, Vec<HistoryTask>> {
    BTreeMap::from([(category, tasks)])
}

/// A fire time `secs` seconds plus `nanos` nanoseconds after 2030-01-01T00:00:00Z.
pub(crate) fn fire(secs: i64, nanos: i64) -> DateTime<Utc> {
    let base = DateTime::<Utc>::from_timestamp(1_893_456_000, 0).unwrap_or(DateTime::UNIX_EPOCH);
    base + TimeDelta::seconds(secs) + TimeDelta::nanoseconds(nanos)
}

/// Far enough in the future to cover every fire time the cases use, yet within every
/// backend's timestamp range (2200-01-01, below the i64-nanosecond limit of 2262).
fn far_future() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(7_258_118_400, 0).unwrap_or(DateTime::UNIX_EPOCH)
}

/// The whole key range of a category.
fn full_range(category: TaskCategory) -> (HistoryTaskKey, HistoryTaskKey) {
    match category.kind {
        TaskCategoryKind::Immediate => (
            HistoryTaskKey::immediate(0),
            HistoryTaskKey::immediate(i64::MAX),
        ),
        TaskCategoryKind::Scheduled => (
            HistoryTaskKey::scheduled(DateTime::UNIX_EPOCH, 0),
            HistoryTaskKey::scheduled(far_future(), 0),
        ),
    }
}

/// What a read must return for `tasks`: scheduled fire times truncated to milliseconds,
/// sorted by (fire time, task id).
pub(crate) fn expected(category: TaskCategory, tasks: &[HistoryTask]) -> Vec<HistoryTask> {
    let mut v: Vec<HistoryTask> = tasks
        .iter()
        .map(|t| {
            let mut t = t.clone();
            if !category.is_immediate() {
                t.key.fire_time = truncate_to_millis(t.key.fire_time);
            }
            t
        })
        .collect();
    v.sort_by_key(|t| t.key);
    v
}

fn get_req(
    shard_id: ShardId,
    category: TaskCategory,
    min: HistoryTaskKey,
    max: HistoryTaskKey,
    batch_size: i32,
    next_page_token: Option<Vec<u8>>,
) -> GetHistoryTasksRequest {
    GetHistoryTasksRequest {
        shard_id,
        category,
        inclusive_min_key: min,
        exclusive_max_key: max,
        batch_size,
        next_page_token,
    }
}

/// Reads `[min, max)` page by page. Checks that no page exceeds `batch_size`, that only the
/// last page may be empty, and that no token repeats (a looping token fails the case).
/// Returns the pages.
pub(crate) async fn read_pages(
    exec: &Arc<dyn ExecutionStore>,
    shard_id: ShardId,
    category: TaskCategory,
    min: HistoryTaskKey,
    max: HistoryTaskKey,
    batch_size: i32,
) -> Result<Vec<Vec<HistoryTask>>, CaseError> {
    let mut pages = Vec::new();
    let mut token: Option<Vec<u8>> = None;
    let mut seen = HashSet::new();
    loop {
        let page = ok(
            "get_history_tasks",
            exec.get_history_tasks(get_req(
                shard_id,
                category,
                min,
                max,
                batch_size,
                token.clone(),
            ))
            .await,
        )?;
        ensure!(
            page.items.len() <= batch_size as usize,
            "a page has {} tasks, batch size is {batch_size}",
            page.items.len()
        );
        let empty = page.items.is_empty();
        pages.push(page.items);
        match page.next_page_token {
            None => return Ok(pages),
            Some(t) => {
                ensure!(
                    !empty || pages.len() == 1 || !pages[pages.len() - 2].is_empty(),
                    "two empty pages in a row, both with a next-page token"
                );
                ensure!(
                    seen.insert(t.clone()),
                    "page token {t:?} repeats: paging would loop"
                );
                ensure!(pages.len() <= 100_000, "more than 100000 pages");
                token = Some(t);
            }
        }
    }
}

/// Reads `[min, max)` completely and returns the tasks in order.
pub(crate) async fn read_range(
    exec: &Arc<dyn ExecutionStore>,
    shard_id: ShardId,
    category: TaskCategory,
    min: HistoryTaskKey,
    max: HistoryTaskKey,
    batch_size: i32,
) -> Result<Vec<HistoryTask>, CaseError> {
    Ok(read_pages(exec, shard_id, category, min, max, batch_size)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

/// Reads every task of a category of a shard.
pub(crate) async fn read_all_tasks(
    exec: &Arc<dyn ExecutionStore>,
    shard_id: ShardId,
    category: TaskCategory,
    batch_size: i32,
) -> Result<Vec<HistoryTask>, CaseError> {
    let (min, max) = full_range(category);
    read_range(exec, shard_id, category, min, max, batch_size).await
}

/// A fresh shard owned at `RANGE` plus a fresh workflow to attach tasks to.
struct Setup {
    exec: Arc<dyn ExecutionStore>,
    shard_id: ShardId,
    namespace_id: NamespaceId,
    workflow_id: WorkflowId,
}

const RANGE: i64 = 3;

impl Setup {
    async fn new(ctx: &Ctx) -> Result<Self, CaseError> {
        let shard_id = ctx.new_shard_id();
        create_shard(ctx.shard()?, shard_id, RANGE).await?;
        Ok(Setup {
            exec: Arc::clone(ctx.execution()?),
            shard_id,
            namespace_id: namespace_id(),
            workflow_id: WorkflowId::new(unique_name("wf")),
        })
    }

    async fn add_map(
        &self,
        range_id: i64,
        tasks: BTreeMap<TaskCategory, Vec<HistoryTask>>,
    ) -> durastore_api::Result<()> {
        self.exec
            .add_history_tasks(
                self.shard_id,
                range_id,
                self.namespace_id,
                &self.workflow_id,
                tasks,
            )
            .await
    }

    async fn add(&self, category: TaskCategory, tasks: &[HistoryTask]) -> Result<(), CaseError> {
        ok(
            "add_history_tasks",
            self.add_map(RANGE, task_map(category, tasks.to_vec()))
                .await,
        )
    }

    async fn all(&self, category: TaskCategory) -> Result<Vec<HistoryTask>, CaseError> {
        read_all_tasks(&self.exec, self.shard_id, category, 1000).await
    }

    async fn range(
        &self,
        category: TaskCategory,
        min: HistoryTaskKey,
        max: HistoryTaskKey,
    ) -> Result<Vec<HistoryTask>, CaseError> {
        read_range(&self.exec, self.shard_id, category, min, max, 1000).await
    }

    /// Fails unless no category in `categories` has any task.
    async fn ensure_empty(&self, categories: &[TaskCategory], what: &str) -> Result<(), CaseError> {
        for c in categories {
            let got = self.all(*c).await?;
            ensure!(
                got.is_empty(),
                "{what}: category {} has tasks: {got:?}",
                c.id
            );
        }
        Ok(())
    }
}

fn keys(tasks: &[HistoryTask]) -> Vec<i64> {
    tasks.iter().map(|t| t.key.task_id).collect()
}

// ---------------------------------------------------------------------------------------------
// Round trips.

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

// ---------------------------------------------------------------------------------------------
// Paging.

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

// ---------------------------------------------------------------------------------------------
// Range bounds and completion.

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

// ---------------------------------------------------------------------------------------------
// Fencing and isolation.

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

// ---------------------------------------------------------------------------------------------
// Bad input.

fn read_once(s: &Setup, batch_size: i32, token: Option<Vec<u8>>) -> GetHistoryTasksRequest {
    let (min, max) = full_range(TaskCategory::TRANSFER);
    get_req(
        s.shard_id,
        TaskCategory::TRANSFER,
        min,
        max,
        batch_size,
        token,
    )
}

/// Batch sizes outside 1..=10000 are bad requests.
pub async fn bad_batch_size(ctx: &Ctx) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    s.add(TaskCategory::TRANSFER, &[immediate_task(1)]).await?;
    for size in [0, -1, i32::MIN, 10_001] {
        expect_bad_request(
            &format!("get_history_tasks with batch size {size}"),
            s.exec.get_history_tasks(read_once(&s, size, None)).await,
        )?;
    }
    Ok(())
}

/// A page token the store did not issue is a bad request, not a panic or a silent restart.
pub async fn bad_page_token(ctx: &Ctx) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    s.add(TaskCategory::TRANSFER, &[immediate_task(1)]).await?;
    for token in [vec![0xff, 1, 2], Vec::new(), vec![0; 5000]] {
        expect_bad_request(
            &format!("get_history_tasks with token of {} bytes", token.len()),
            s.exec
                .get_history_tasks(read_once(&s, 10, Some(token)))
                .await,
        )?;
    }
    let timer_req = get_req(
        s.shard_id,
        TaskCategory::TIMER,
        HistoryTaskKey::scheduled(DateTime::UNIX_EPOCH, 0),
        HistoryTaskKey::scheduled(far_future(), 0),
        10,
        Some(vec![0xff, 1, 2]),
    );
    expect_bad_request(
        "get_history_tasks (timer) with a garbage token",
        s.exec.get_history_tasks(timer_req).await,
    )?;
    Ok(())
}

/// Negative task ids and fire times before the epoch are bad requests; the whole call writes
/// nothing, not even its valid tasks.
pub async fn bad_task_key(ctx: &Ctx) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    let cats = [TaskCategory::TRANSFER, TaskCategory::TIMER];
    let bad_calls = [
        (
            "negative immediate task id",
            BTreeMap::from([(
                TaskCategory::TRANSFER,
                vec![immediate_task(1), immediate_task(-5)],
            )]),
        ),
        (
            "negative scheduled task id",
            BTreeMap::from([
                (TaskCategory::TRANSFER, vec![immediate_task(1)]),
                (TaskCategory::TIMER, vec![scheduled_task(fire(1, 0), -1)]),
            ]),
        ),
        (
            "fire time before the epoch",
            BTreeMap::from([
                (TaskCategory::TRANSFER, vec![immediate_task(1)]),
                (
                    TaskCategory::TIMER,
                    vec![scheduled_task(
                        DateTime::UNIX_EPOCH - TimeDelta::seconds(10),
                        1,
                    )],
                ),
            ]),
        ),
    ];
    for (what, map) in bad_calls {
        expect_bad_request(
            &format!("add_history_tasks with {what}"),
            s.add_map(RANGE, map).await,
        )?;
        s.ensure_empty(&cats, what).await?;
    }
    Ok(())
}

/// A task blob over `MAX_BLOB_BYTES` or with an encoding name over 16 bytes is a bad request
/// and nothing of the call is written.
pub async fn bad_task_blob(ctx: &Ctx) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    let big = HistoryTask {
        key: HistoryTaskKey::immediate(2),
        blob: blob(MAX_BLOB_BYTES + 1),
    };
    let long_enc = HistoryTask {
        key: HistoryTaskKey::immediate(3),
        blob: DataBlob::new(vec![1], "e".repeat(DataBlob::MAX_ENCODING_BYTES + 1)),
    };
    for (what, bad) in [("oversized blob", big), ("17-byte encoding", long_enc)] {
        expect_bad_request(
            &format!("add_history_tasks with {what}"),
            s.add_map(
                RANGE,
                BTreeMap::from([
                    (TaskCategory::TRANSFER, vec![immediate_task(1), bad]),
                    (TaskCategory::TIMER, vec![scheduled_task(fire(1, 0), 1)]),
                ]),
            )
            .await,
        )?;
        s.ensure_empty(&[TaskCategory::TRANSFER, TaskCategory::TIMER], what)
            .await?;
    }
    Ok(())
}

/// A negative shard id is a bad request on every history-task call.
pub async fn bad_shard_id(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = ctx.execution()?;
    let bad = ShardId(-7);
    let ns = namespace_id();
    let wf = WorkflowId::new(unique_name("wf"));
    expect_bad_request(
        "add_history_tasks with a negative shard id",
        exec.add_history_tasks(
            bad,
            1,
            ns,
            &wf,
            task_map(TaskCategory::TRANSFER, vec![immediate_task(1)]),
        )
        .await,
    )?;
    let (min, max) = full_range(TaskCategory::TRANSFER);
    expect_bad_request(
        "get_history_tasks with a negative shard id",
        exec.get_history_tasks(get_req(bad, TaskCategory::TRANSFER, min, max, 10, None))
            .await,
    )?;
    expect_bad_request(
        "complete_history_task with a negative shard id",
        exec.complete_history_task(bad, TaskCategory::TRANSFER, HistoryTaskKey::immediate(1))
            .await,
    )?;
    expect_bad_request(
        "range_complete_history_tasks with a negative shard id",
        exec.range_complete_history_tasks(bad, TaskCategory::TRANSFER, min, max)
            .await,
    )?;
    Ok(())
}
