//! The replication DLQ on Cassandra, where Temporal's Cassandra store keeps it: rows of type 5
//! in the shard's `executions` partition, with the source cluster name in `workflow_id`, the
//! DLQ sentinels (`…-6000-…`) as namespace and run ids, the default `visibility_ts`, and the
//! task in `task_data` / `task_encoding`. No schema change: schema 1.0 has every column.

use std::sync::Arc;

use async_trait::async_trait;
use durastore_api::replication_dlq::{ReplicationDlq, ReplicationDlqRows};
use durastore_api::{DataBlob, ReplicationDlqStore, ReplicationDlqTask, Result, ShardId};

use super::rows::{DEFAULT_VISIBILITY_MS, task_namespace, task_run};
use crate::session::{Cass, Vals, vals};

/// Temporal's row type of replication DLQ tasks.
const DLQ_ROW_TYPE: i32 = 5;
/// The sentinel digit of the DLQ rows' namespace and run ids (Temporal's).
const DLQ_SENTINEL: i32 = 6;

/// The store over a shared session.
pub(crate) fn make(cass: &Arc<Cass>) -> Option<Arc<dyn ReplicationDlqStore>> {
    Some(Arc::new(ReplicationDlq(Arc::new(CassReplicationDlq {
        cass: cass.clone(),
    }))))
}

struct CassReplicationDlq {
    cass: Arc<Cass>,
}

/// `WHERE` prefix down to `visibility_ts`; binds [`prefix`].
const PREFIX: &str = "shard_id = ? AND type = ? AND namespace_id = ? AND workflow_id = ? \
     AND run_id = ? AND visibility_ts = ?";

/// The clustering prefix of (shard, source cluster)'s DLQ rows, with `more` bound after it.
fn prefix(shard_id: ShardId, source_cluster_name: &str, more: Vals) -> Vals {
    let mut v = vals![
        shard_id.0,
        DLQ_ROW_TYPE,
        task_namespace(DLQ_SENTINEL),
        source_cluster_name,
        task_run(DLQ_SENTINEL),
        scylla::value::CqlValue::Timestamp(scylla::value::CqlTimestamp(DEFAULT_VISIBILITY_MS))
    ];
    v.extend(more);
    v
}

#[async_trait]
impl ReplicationDlqRows for CassReplicationDlq {
    async fn insert_if_absent(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        task: &ReplicationDlqTask,
    ) -> Result<()> {
        let v = prefix(
            shard_id,
            source_cluster_name,
            vals![task.task_id, &task.blob.data, &task.blob.encoding],
        );
        // Not applied means the task is there: it stands (tasks are immutable).
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

    async fn read(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        min: i64,
        exclusive_max: i64,
        limit: usize,
    ) -> Result<Vec<ReplicationDlqTask>> {
        let limit = i32::try_from(limit).unwrap_or(i32::MAX);
        let rows = self
            .cass
            .rows(
                &format!(
                    "SELECT task_id, task_data, task_encoding FROM executions WHERE {PREFIX} \
                     AND task_id >= ? AND task_id < ? LIMIT ?"
                ),
                prefix(
                    shard_id,
                    source_cluster_name,
                    vals![min, exclusive_max, limit],
                ),
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ReplicationDlqTask {
                    task_id: r.i64("task_id")?,
                    blob: DataBlob::new(r.blob("task_data")?, r.text("task_encoding")?),
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
        self.cass
            .exec(
                &format!("DELETE FROM executions WHERE {PREFIX} AND task_id = ?"),
                prefix(shard_id, source_cluster_name, vals![task_id]),
            )
            .await
    }

    async fn delete_range(
        &self,
        shard_id: ShardId,
        source_cluster_name: &str,
        min: i64,
        exclusive_max: i64,
    ) -> Result<()> {
        self.cass
            .exec(
                &format!("DELETE FROM executions WHERE {PREFIX} AND task_id >= ? AND task_id < ?"),
                prefix(shard_id, source_cluster_name, vals![min, exclusive_max]),
            )
            .await
    }
}
