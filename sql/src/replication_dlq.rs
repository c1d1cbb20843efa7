//! ReplicationDlqStore on SQL: Temporal's `replication_tasks_dlq` table (already in schema 1.0).

use std::sync::Arc;

use async_trait::async_trait;
use durastore_api::replication_dlq::{task_page, validate_dlq_key, validate_get_request};
use durastore_api::{
    ErrorKind, GetReplicationDlqTasksRequest, Page, ReplicationDlqStore, ReplicationDlqTask,
    Result, ShardId, validate,
};

use crate::{SqlStore, params};

pub(crate) fn make(store: &Arc<SqlStore>) -> Option<Arc<dyn ReplicationDlqStore>> {
    Some(store.clone() as Arc<dyn ReplicationDlqStore>)
}

#[async_trait]
impl ReplicationDlqStore for SqlStore {
    async fn put_replication_task_to_dlq(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        task: ReplicationDlqTask,
    ) -> Result<()> {
        validate_dlq_key(shard_id, source_cluster_name)?;
        validate::blob("replication task", &task.blob)?;
        let inserted = self
            .driver
            .execute(
                "INSERT INTO replication_tasks_dlq (source_cluster_name, shard_id, task_id, data, data_encoding) VALUES (?, ?, ?, ?, ?)",
                &params![
                    source_cluster_name,
                    shard_id.0,
                    task.task_id,
                    task.blob.data.as_slice(),
                    &task.blob.encoding
                ],
            )
            .await;
        match inserted {
            // Tasks are immutable and puts are retried: the stored copy stands.
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
            other => other.map(|_| ()),
        }
    }

    async fn get_replication_tasks_from_dlq(
        &self,
        req: GetReplicationDlqTasksRequest,
    ) -> Result<Page<ReplicationDlqTask>> {
        let (min, page_size) = validate_get_request(&req)?;
        let rows = self
            .driver
            .query(
                "SELECT task_id, data, data_encoding FROM replication_tasks_dlq WHERE source_cluster_name = ? AND shard_id = ? AND task_id >= ? AND task_id < ? ORDER BY task_id LIMIT ?",
                &params![
                    &req.source_cluster_name,
                    req.shard_id.0,
                    min,
                    req.exclusive_max_task_id,
                    page_size as i64 + 1
                ],
            )
            .await?;
        let tasks = rows
            .iter()
            .map(|r| {
                Ok(ReplicationDlqTask {
                    task_id: r.i64(0)?,
                    blob: r.blob(1, 2)?,
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
        self.driver
            .execute(
                "DELETE FROM replication_tasks_dlq WHERE source_cluster_name = ? AND shard_id = ? AND task_id = ?",
                &params![source_cluster_name, shard_id.0, task_id],
            )
            .await?;
        Ok(())
    }

    async fn range_delete_replication_tasks_from_dlq(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        inclusive_min_task_id: i64,
        exclusive_max_task_id: i64,
    ) -> Result<()> {
        validate_dlq_key(shard_id, source_cluster_name)?;
        self.driver
            .execute(
                "DELETE FROM replication_tasks_dlq WHERE source_cluster_name = ? AND shard_id = ? AND task_id >= ? AND task_id < ?",
                &params![
                    source_cluster_name,
                    shard_id.0,
                    inclusive_min_task_id,
                    exclusive_max_task_id
                ],
            )
            .await?;
        Ok(())
    }

    async fn is_replication_dlq_empty(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        inclusive_min_task_id: i64,
    ) -> Result<bool> {
        validate_dlq_key(shard_id, source_cluster_name)?;
        let rows = self
            .driver
            .query(
                "SELECT task_id FROM replication_tasks_dlq WHERE source_cluster_name = ? AND shard_id = ? AND task_id >= ? ORDER BY task_id LIMIT 1",
                &params![source_cluster_name, shard_id.0, inclusive_min_task_id],
            )
            .await?;
        Ok(rows.is_empty())
    }
}
