//! The replication DLQ on Cassandra, where Temporal's Cassandra store keeps it: rows of type 5
//! in the shard's `executions` partition, with the source cluster name in `workflow_id`, the
//! DLQ sentinels (`…-6000-…`) as namespace and run ids, the default `visibility_ts`, and the
//! task in `task_data` / `task_encoding`. No schema change: schema 1.0 has every column.

use std::sync::Arc;

use async_trait::async_trait;
use durastore_api::replication_dlq::{task_page, validate_dlq_key, validate_get_request};
use durastore_api::{
    DataBlob, GetReplicationDlqTasksRequest, Page, ReplicationDlqStore, ReplicationDlqTask, Result,
    ShardId, validate,
};

use super::rows::{DEFAULT_VISIBILITY_MS, task_namespace, task_run};
use crate::session::{Cass, Vals, vals};

/// Temporal's row type of replication DLQ tasks.
const DLQ_ROW_TYPE: i32 = 5;
/// The sentinel digit of the DLQ rows' namespace and run ids (Temporal's).
const DLQ_SENTINEL: i32 = 6;

/// The store over a shared session.
pub(crate) fn make(cass: &Arc<Cass>) -> Option<Arc<dyn ReplicationDlqStore>> {
    Some(Arc::new(CassReplicationDlq { cass: cass.clone() }))
}

struct CassReplicationDlq {
    cass: Arc<Cass>,
}

/// `WHERE` prefix down to `visibility_ts`; binds [`prefix`].
const PREFIX: &str = "shard_id = ? AND type = ? AND namespace_id = ? AND workflow_id = ? \
     AND run_id = ? AND visibility_ts = ?";

fn prefix(shard_id: ShardId, source_cluster_name: &str) -> Vals {
    vals![
        shard_id.0,
        DLQ_ROW_TYPE,
        task_namespace(DLQ_SENTINEL),
        source_cluster_name,
        task_run(DLQ_SENTINEL),
        scylla::value::CqlValue::Timestamp(scylla::value::CqlTimestamp(DEFAULT_VISIBILITY_MS))
    ]
}

/// A `LIMIT ?` value (`n` is at most a page size plus one).
fn limit(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[async_trait]
impl ReplicationDlqStore for CassReplicationDlq {
    async fn put_replication_task_to_dlq(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        task: ReplicationDlqTask,
    ) -> Result<()> {
        validate_dlq_key(shard_id, source_cluster_name)?;
        validate::blob("replication task", &task.blob)?;
        let mut v = prefix(shard_id, source_cluster_name);
        v.extend(vals![task.task_id, &task.blob.data, &task.blob.encoding]);
        // IF NOT EXISTS: a task already there stands (puts are retried; tasks are immutable).
        self.cass
            .cas(
                "INSERT INTO executions (shard_id, type, namespace_id, workflow_id, run_id, \
                 visibility_ts, task_id, task_data, task_encoding) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS",
                v,
            )
            .await?;
        Ok(())
    }

    async fn get_replication_tasks_from_dlq(
        &self,
        req: GetReplicationDlqTasksRequest,
    ) -> Result<Page<ReplicationDlqTask>> {
        let (min, page_size) = validate_get_request(&req)?;
        if min >= req.exclusive_max_task_id {
            return Ok(task_page(Vec::new(), page_size));
        }
        let mut v = prefix(req.shard_id, &req.source_cluster_name);
        v.extend(vals![min, req.exclusive_max_task_id, limit(page_size + 1)]);
        let rows = self
            .cass
            .rows(
                &format!(
                    "SELECT task_id, task_data, task_encoding FROM executions WHERE {PREFIX} \
                     AND task_id >= ? AND task_id < ? LIMIT ?"
                ),
                v,
            )
            .await?;
        let tasks = rows
            .iter()
            .map(|r| {
                Ok(ReplicationDlqTask {
                    task_id: r.i64("task_id")?,
                    blob: DataBlob::new(r.blob("task_data")?, r.text("task_encoding")?),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(task_page(tasks, page_size))
    }

    async fn delete_replication_task_from_dlq(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        task_id: i64,
    ) -> Result<()> {
        validate_dlq_key(shard_id, source_cluster_name)?;
        let mut v = prefix(shard_id, source_cluster_name);
        v.extend(vals![task_id]);
        self.cass
            .exec(
                &format!("DELETE FROM executions WHERE {PREFIX} AND task_id = ?"),
                v,
            )
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
            // An empty range: nothing to delete (and no inverted slice for the server).
            return Ok(());
        }
        let mut v = prefix(shard_id, source_cluster_name);
        v.extend(vals![inclusive_min_task_id, exclusive_max_task_id]);
        self.cass
            .exec(
                &format!("DELETE FROM executions WHERE {PREFIX} AND task_id >= ? AND task_id < ?"),
                v,
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
        let mut v = prefix(shard_id, source_cluster_name);
        v.extend(vals![inclusive_min_task_id]);
        let row = self
            .cass
            .row(
                &format!("SELECT task_id FROM executions WHERE {PREFIX} AND task_id >= ? LIMIT 1"),
                v,
            )
            .await?;
        Ok(row.is_none())
    }
}
