//! Helpers of the history-task cases (also used by the shard and durability cases).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use durastore_api::chrono::TimeDelta;
use durastore_api::{
    DateTime, ExecutionStore, GetHistoryTasksRequest, HistoryTask, HistoryTaskKey, NamespaceId,
    ShardId, TaskCategory, TaskCategoryKind, Utc, WorkflowId, truncate_to_millis,
};

use crate::cases::shard::create_shard;
use crate::check::ok;
use crate::fixtures::{blob, namespace_id, unique_name};
use crate::{CaseError, Ctx, ensure};

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
pub(super) fn far_future() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(7_258_118_400, 0).unwrap_or(DateTime::UNIX_EPOCH)
}

/// The whole key range of a category.
pub(super) fn full_range(category: TaskCategory) -> (HistoryTaskKey, HistoryTaskKey) {
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

pub(super) fn get_req(
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
pub(super) struct Setup {
    pub(super) exec: Arc<dyn ExecutionStore>,
    pub(super) shard_id: ShardId,
    pub(super) namespace_id: NamespaceId,
    pub(super) workflow_id: WorkflowId,
}

pub(super) const RANGE: i64 = 3;

impl Setup {
    pub(super) async fn new(ctx: &Ctx) -> Result<Self, CaseError> {
        let shard_id = ctx.new_shard_id();
        create_shard(ctx.shard()?, shard_id, RANGE).await?;
        Ok(Setup {
            exec: Arc::clone(ctx.execution()?),
            shard_id,
            namespace_id: namespace_id(),
            workflow_id: WorkflowId::new(unique_name("wf")),
        })
    }

    pub(super) async fn add_map(
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

    pub(super) async fn add(
        &self,
        category: TaskCategory,
        tasks: &[HistoryTask],
    ) -> Result<(), CaseError> {
        ok(
            "add_history_tasks",
            self.add_map(RANGE, task_map(category, tasks.to_vec()))
                .await,
        )
    }

    pub(super) async fn all(&self, category: TaskCategory) -> Result<Vec<HistoryTask>, CaseError> {
        read_all_tasks(&self.exec, self.shard_id, category, 1000).await
    }

    pub(super) async fn range(
        &self,
        category: TaskCategory,
        min: HistoryTaskKey,
        max: HistoryTaskKey,
    ) -> Result<Vec<HistoryTask>, CaseError> {
        read_range(&self.exec, self.shard_id, category, min, max, 1000).await
    }

    /// Fails unless no category in `categories` has any task.
    pub(super) async fn ensure_empty(
        &self,
        categories: &[TaskCategory],
        what: &str,
    ) -> Result<(), CaseError> {
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

pub(super) fn keys(tasks: &[HistoryTask]) -> Vec<i64> {
    tasks.iter().map(|t| t.key.task_id).collect()
}
