//! Queue v1 on Cassandra, as the [`QueueV1Rows`] that [`QueueV1`] builds the store on:
//! Temporal's `queue` (one partition per queue type, clustered by message id) and
//! `queue_metadata` tables (schema 1.1).
//!
//! - **Ids** as Temporal assigns them: read the highest id (`ORDER BY message_id DESC LIMIT 1`)
//!   and claim `max + 1` with `INSERT … IF NOT EXISTS`. A lost claim means a concurrent enqueuer
//!   holds that id (its Paxos round is committed), so the enqueue moves on to the next id: no
//!   id is handed out twice and no message is lost.
//! - **Ack-level metadata** is one row per type, updated with `UPDATE … IF version = ?`; a
//!   refused update returns the stored version, which becomes the conflict's detail.

use std::sync::Arc;

use async_trait::async_trait;
use durastore_api::queue_v1::{
    EMPTY_QUEUE_MESSAGE_ID, QueueV1, QueueV1Metadata, QueueV1Rows, QueueV1Store, metadata_conflict,
    metadata_not_found,
};
use durastore_api::{DataBlob, ErrorKind, QueueMessage, QueueType, Result, StoreError};

use crate::session::{CRow, Cass, vals};

/// The store.
pub(crate) fn make(cass: &Arc<Cass>) -> Option<Arc<dyn QueueV1Store>> {
    Some(Arc::new(QueueV1(Arc::new(CassQueueV1 {
        cass: cass.clone(),
    }))))
}

/// Attempts of one enqueue (each lost one means another enqueuer got an id) before giving up
/// with a retryable error.
const MAX_ATTEMPTS: usize = 1000;

/// Queue v1 rows over a shared session.
struct CassQueueV1 {
    cass: Arc<Cass>,
}

fn message(r: &CRow) -> Result<QueueMessage> {
    Ok(QueueMessage {
        id: r.i64("message_id")?,
        blob: DataBlob::new(r.blob("message_payload")?, r.text("message_encoding")?),
    })
}

fn next_id(id: i64) -> Result<i64> {
    id.checked_add(1)
        .ok_or_else(|| StoreError::internal("queue message ids exhausted"))
}

impl CassQueueV1 {
    /// The highest id stored under `stored`, if any.
    async fn last_id(&self, stored: QueueType) -> Result<Option<i64>> {
        let row = self
            .cass
            .row(
                "SELECT message_id FROM queue WHERE queue_type = ? ORDER BY message_id DESC LIMIT 1",
                vals![stored.0],
            )
            .await?;
        row.map(|r| r.i64("message_id")).transpose()
    }
}

#[async_trait]
impl QueueV1Rows for CassQueueV1 {
    async fn insert_metadata_if_absent(&self, stored: QueueType, blob: &DataBlob) -> Result<()> {
        // Not applied means the row exists (maybe from a racing init): it stays as it is.
        self.cass
            .cas(
                "INSERT INTO queue_metadata (queue_type, data, data_encoding, version) VALUES (?, ?, ?, ?) IF NOT EXISTS",
                vals![stored.0, &blob.data, &blob.encoding, 0i64],
            )
            .await?;
        Ok(())
    }

    async fn metadata(&self, stored: QueueType) -> Result<QueueV1Metadata> {
        let row = self
            .cass
            .row(
                "SELECT data, data_encoding, version FROM queue_metadata WHERE queue_type = ?",
                vals![stored.0],
            )
            .await?
            .ok_or_else(|| metadata_not_found(stored))?;
        Ok(QueueV1Metadata {
            blob: DataBlob::new(row.blob("data")?, row.text("data_encoding")?),
            version: row.i64("version")?,
        })
    }

    async fn update_metadata(&self, stored: QueueType, m: &QueueV1Metadata) -> Result<()> {
        let res = self
            .cass
            .cas(
                "UPDATE queue_metadata SET data = ?, data_encoding = ?, version = ? WHERE queue_type = ? IF version = ?",
                vals![&m.blob.data, &m.blob.encoding, m.version + 1, stored.0, m.version],
            )
            .await?;
        if res.applied {
            return Ok(());
        }
        // A refused condition returns the stored version; none means the row does not exist.
        match res
            .rows
            .first()
            .map(|r| r.opt_i64("version"))
            .transpose()?
            .flatten()
        {
            Some(actual) => Err(metadata_conflict(stored, m.version, actual)),
            None => Err(metadata_not_found(stored)),
        }
    }

    async fn enqueue(&self, stored: QueueType, blob: &DataBlob) -> Result<i64> {
        let mut id = match self.last_id(stored).await? {
            Some(last) => next_id(last)?,
            None => EMPTY_QUEUE_MESSAGE_ID + 1,
        };
        for _ in 0..MAX_ATTEMPTS {
            let res = self
                .cass
                .cas(
                    "INSERT INTO queue (queue_type, message_id, message_payload, message_encoding) VALUES (?, ?, ?, ?) IF NOT EXISTS",
                    vals![stored.0, id, &blob.data, &blob.encoding],
                )
                .await?;
            if res.applied {
                return Ok(id);
            }
            // `id` is taken; several enqueuers may have gone further, but never go back.
            let last = self.last_id(stored).await?.unwrap_or(id);
            id = next_id(last.max(id))?;
        }
        Err(StoreError::new(
            ErrorKind::Unavailable,
            format!(
                "enqueue on queue type {} lost {MAX_ATTEMPTS} races in a row",
                stored.0
            ),
        )
        .with_retryable(true))
    }

    async fn read(
        &self,
        stored: QueueType,
        after: i64,
        inclusive_max: i64,
        limit: usize,
    ) -> Result<Vec<QueueMessage>> {
        let rows = self
            .cass
            .rows(
                "SELECT message_id, message_payload, message_encoding FROM queue WHERE queue_type = ? AND message_id > ? AND message_id <= ? LIMIT ?",
                vals![stored.0, after, inclusive_max, i32::try_from(limit).unwrap_or(i32::MAX)],
            )
            .await?;
        rows.iter().map(message).collect()
    }

    async fn delete_before(&self, stored: QueueType, before: i64) -> Result<()> {
        self.cass
            .exec(
                "DELETE FROM queue WHERE queue_type = ? AND message_id < ?",
                vals![stored.0, before],
            )
            .await
    }

    async fn delete_one(&self, stored: QueueType, id: i64) -> Result<()> {
        self.cass
            .exec(
                "DELETE FROM queue WHERE queue_type = ? AND message_id = ?",
                vals![stored.0, id],
            )
            .await
    }

    async fn delete_range(&self, stored: QueueType, after: i64, inclusive_max: i64) -> Result<()> {
        self.cass
            .exec(
                "DELETE FROM queue WHERE queue_type = ? AND message_id > ? AND message_id <= ?",
                vals![stored.0, after, inclusive_max],
            )
            .await
    }
}
