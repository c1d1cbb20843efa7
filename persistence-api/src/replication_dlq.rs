//! The replication DLQ of Temporal's `ExecutionStore`: replication tasks that a shard could not
//! apply, kept per (shard, source cluster) by task id. Only multi-cluster setups use it.
//!
//! SQL keeps them in Temporal's `replication_tasks_dlq (source_cluster_name, shard_id, task_id,
//! data, data_encoding)`; Cassandra in the shard's `executions` partition as row type 5 with
//! the source cluster in `workflow_id`, as Temporal's Cassandra store does.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::{Result, StoreError};
use crate::ids::ShardId;
use crate::types::{DataBlob, Page};
use crate::validate;

/// One replication task in the DLQ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicationDlqTask {
    /// The replication task's id (its key within the shard and source cluster).
    pub task_id: i64,
    /// The serialized task (Temporal's `ReplicationTaskInfo`).
    pub blob: DataBlob,
}

/// A read of DLQ tasks (Temporal's `GetReplicationTasksFromDLQRequest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetReplicationDlqTasksRequest {
    /// Shard.
    pub shard_id: ShardId,
    /// Cluster the tasks came from, 1..=255 bytes.
    pub source_cluster_name: String,
    /// Lowest task id returned.
    pub inclusive_min_task_id: i64,
    /// Task ids returned are below this.
    pub exclusive_max_task_id: i64,
    /// Most tasks per page (1..=10,000).
    pub page_size: i32,
    /// Token of the previous page.
    pub next_page_token: Option<Vec<u8>>,
}

/// Checks the (shard, source cluster) a DLQ call names.
fn validate_dlq_key(shard_id: ShardId, source_cluster_name: &str) -> Result<()> {
    if shard_id.0 < 0 {
        return Err(StoreError::invalid_argument(format!(
            "shard id must not be negative, got {}",
            shard_id.0
        )));
    }
    validate::id_string("source cluster name", source_cluster_name)
}

/// Position of a DLQ task read: the next task id to return.
#[derive(serde::Serialize, serde::Deserialize)]
struct DlqTaskToken {
    next: i64,
}

/// Checks a read and returns `(inclusive min task id from the token or request, page size)`.
fn validate_get_request(req: &GetReplicationDlqTasksRequest) -> Result<(i64, usize)> {
    validate_dlq_key(req.shard_id, &req.source_cluster_name)?;
    let page_size = validate::page_size(req.page_size)?;
    let min = match &req.next_page_token {
        None => req.inclusive_min_task_id,
        Some(t) => validate::token::decode::<DlqTaskToken>(t)?.next,
    };
    Ok((min, page_size))
}

/// A page from tasks read ascending with a limit of `page_size + 1`.
fn task_page(mut tasks: Vec<ReplicationDlqTask>, page_size: usize) -> Page<ReplicationDlqTask> {
    let more = tasks.len() > page_size;
    tasks.truncate(page_size);
    let next_page_token = match (more, tasks.last()) {
        (true, Some(last)) => Some(validate::token::encode(&DlqTaskToken {
            next: last.task_id.saturating_add(1),
        })),
        _ => None,
    };
    Page {
        items: tasks,
        next_page_token,
    }
}

/// The replication DLQ (the five replication-DLQ methods of Temporal's `ExecutionStore`).
///
/// # Contract
/// - Tasks are kept per (shard, source cluster name) and keyed by task id; different shards and
///   source clusters never see each other's tasks.
/// - **`put_replication_task_to_dlq`** stores a task; a task id already there is kept as it is
///   and the put succeeds (tasks are immutable and puts are retried, as in Temporal).
/// - **`get_replication_tasks_from_dlq`** returns the tasks with
///   `inclusive_min_task_id <= task_id < exclusive_max_task_id`, ascending, paged: a page holds
///   at most `page_size` tasks and carries a token exactly when more tasks of the range follow;
///   with a token, reading continues after the last task returned.
/// - **`delete_replication_task_from_dlq`** deletes one task (none there: no error).
/// - **`range_delete_replication_tasks_from_dlq`** deletes the tasks with
///   `inclusive_min_task_id <= task_id < exclusive_max_task_id`.
/// - **`is_replication_dlq_empty`** is true when no task with `task_id >= inclusive_min_task_id`
///   is stored.
/// - **Bad input** (negative shard id, an empty or over-255-byte source cluster name, a page
///   size outside 1..=10,000, a page token this store did not issue, a blob over the size limit
///   or an encoding name over 16 bytes) fails with `InvalidArgument` or `SizeLimitExceeded` and
///   writes nothing.
#[async_trait]
pub trait ReplicationDlqStore: Send + Sync {
    /// Stores a task (`PutReplicationTaskToDLQ`).
    async fn put_replication_task_to_dlq(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        task: ReplicationDlqTask,
    ) -> Result<()>;
    /// Tasks in `[inclusive_min_task_id, exclusive_max_task_id)`, paged
    /// (`GetReplicationTasksFromDLQ`).
    async fn get_replication_tasks_from_dlq(
        &self,
        req: GetReplicationDlqTasksRequest,
    ) -> Result<Page<ReplicationDlqTask>>;
    /// Deletes one task (`DeleteReplicationTaskFromDLQ`).
    async fn delete_replication_task_from_dlq(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        task_id: i64,
    ) -> Result<()>;
    /// Deletes the tasks in `[inclusive_min_task_id, exclusive_max_task_id)`
    /// (`RangeDeleteReplicationTaskFromDLQ`).
    async fn range_delete_replication_tasks_from_dlq(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        inclusive_min_task_id: i64,
        exclusive_max_task_id: i64,
    ) -> Result<()>;
    /// Whether no task with `task_id >= inclusive_min_task_id` is stored
    /// (`IsReplicationDLQEmpty`).
    async fn is_replication_dlq_empty(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        inclusive_min_task_id: i64,
    ) -> Result<bool>;
}

/// The storage operations a backend provides for the replication DLQ; [`ReplicationDlq`] builds
/// the whole [`ReplicationDlqStore`] on them, so every backend validates and pages alike.
/// Arguments arrive validated.
#[async_trait]
pub trait ReplicationDlqRows: Send + Sync {
    /// Stores a task unless its id is there (the stored one is kept).
    async fn insert_if_absent(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        task: &ReplicationDlqTask,
    ) -> Result<()>;
    /// Up to `limit` tasks with `min <= task_id < exclusive_max`, ascending (called only with
    /// `min < exclusive_max`).
    async fn read(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        min: i64,
        exclusive_max: i64,
        limit: usize,
    ) -> Result<Vec<ReplicationDlqTask>>;
    /// Deletes the task `task_id`, if there.
    async fn delete_one(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        task_id: i64,
    ) -> Result<()>;
    /// Deletes the tasks with `min <= task_id < exclusive_max` (called only with
    /// `min < exclusive_max`).
    async fn delete_range(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        min: i64,
        exclusive_max: i64,
    ) -> Result<()>;
}

/// The [`ReplicationDlqStore`] of a backend's [`ReplicationDlqRows`].
pub struct ReplicationDlq<R: ?Sized>(pub Arc<R>);

#[async_trait]
impl<R: ReplicationDlqRows + ?Sized> ReplicationDlqStore for ReplicationDlq<R> {
    async fn put_replication_task_to_dlq(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        task: ReplicationDlqTask,
    ) -> Result<()> {
        validate_dlq_key(shard_id, source_cluster_name)?;
        validate::blob("replication task", &task.blob)?;
        self.0
            .insert_if_absent(shard_id, source_cluster_name, &task)
            .await
    }

    async fn get_replication_tasks_from_dlq(
        &self,
        req: GetReplicationDlqTasksRequest,
    ) -> Result<Page<ReplicationDlqTask>> {
        let (min, page_size) = validate_get_request(&req)?;
        if min >= req.exclusive_max_task_id {
            return Ok(task_page(Vec::new(), page_size));
        }
        let tasks = self
            .0
            .read(
                req.shard_id,
                &req.source_cluster_name,
                min,
                req.exclusive_max_task_id,
                page_size + 1,
            )
            .await?;
        Ok(task_page(tasks, page_size))
    }

    async fn delete_replication_task_from_dlq(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        task_id: i64,
    ) -> Result<()> {
        validate_dlq_key(shard_id, source_cluster_name)?;
        self.0
            .delete_one(shard_id, source_cluster_name, task_id)
            .await
    }

    async fn range_delete_replication_tasks_from_dlq(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        inclusive_min_task_id: i64,
        exclusive_max_task_id: i64,
    ) -> Result<()> {
        validate_dlq_key(shard_id, source_cluster_name)?;
        if inclusive_min_task_id >= exclusive_max_task_id {
            return Ok(());
        }
        self.0
            .delete_range(
                shard_id,
                source_cluster_name,
                inclusive_min_task_id,
                exclusive_max_task_id,
            )
            .await
    }

    async fn is_replication_dlq_empty(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        inclusive_min_task_id: i64,
    ) -> Result<bool> {
        validate_dlq_key(shard_id, source_cluster_name)?;
        if inclusive_min_task_id == i64::MAX {
            return Ok(true);
        }
        let first = self
            .0
            .read(
                shard_id,
                source_cluster_name,
                inclusive_min_task_id,
                i64::MAX,
                1,
            )
            .await?;
        Ok(first.is_empty())
    }
}
