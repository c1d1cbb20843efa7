//! The replication DLQ on SQL: Temporal's `replication_tasks_dlq` table (already in schema
//! 1.0), as the [`ReplicationDlqRows`] that [`ReplicationDlq`] builds the store on.

use std::sync::Arc;

use async_trait::async_trait;
use durastore_api::replication_dlq::{ReplicationDlq, ReplicationDlqRows};
use durastore_api::{ErrorKind, ReplicationDlqStore, ReplicationDlqTask, Result, ShardId};

use crate::{SqlStore, params};

pub(crate) fn make(store: &Arc<SqlStore>) -> Option<Arc<dyn ReplicationDlqStore>> {
    Some(Arc::new(ReplicationDlq(store.clone())))
}

#[async_trait]
impl ReplicationDlqRows for SqlStore {
    async fn insert_if_absent(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        task: &ReplicationDlqTask,
    ) -> Result<()> {
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

    async fn read(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        min: i64,
        exclusive_max: i64,
        limit: usize,
    ) -> Result<Vec<ReplicationDlqTask>> {
        let rows = self
            .driver
            .query(
                "SELECT task_id, data, data_encoding FROM replication_tasks_dlq WHERE source_cluster_name = ? AND shard_id = ? AND task_id >= ? AND task_id < ? ORDER BY task_id LIMIT ?",
                &params![source_cluster_name, shard_id.0, min, exclusive_max, limit as i64],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ReplicationDlqTask {
                    task_id: r.i64(0)?,
                    blob: r.blob(1, 2)?,
                })
            })
            .collect()
    }

    async fn delete_one(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        task_id: i64,
    ) -> Result<()> {
        self.driver
            .execute(
                "DELETE FROM replication_tasks_dlq WHERE source_cluster_name = ? AND shard_id = ? AND task_id = ?",
                &params![source_cluster_name, shard_id.0, task_id],
            )
            .await?;
        Ok(())
    }

    async fn delete_range(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        min: i64,
        exclusive_max: i64,
    ) -> Result<()> {
        self.driver
            .execute(
                "DELETE FROM replication_tasks_dlq WHERE source_cluster_name = ? AND shard_id = ? AND task_id >= ? AND task_id < ?",
                &params![source_cluster_name, shard_id.0, min, exclusive_max],
            )
            .await?;
        Ok(())
    }
}
