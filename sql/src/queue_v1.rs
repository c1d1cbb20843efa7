//! Queue v1 on SQL: Temporal's `queue` and `queue_metadata` tables (already in schema 1.0),
//! as the [`QueueV1Rows`] that [`QueueV1`] builds the store on.
//!
//! Ids are `MAX(message_id) + 1` read and inserted in one transaction. Two enqueuers that read
//! the same maximum collide on the primary key; the loser's transaction rolls back and it
//! retries with a fresh read, so ids stay distinct and no enqueue is lost. Each retry follows
//! a commit by another enqueuer, so the number of attempts is bounded by the number of racing
//! enqueuers.

use std::sync::Arc;

use async_trait::async_trait;
use durastore_api::queue_v1::{
    EMPTY_QUEUE_MESSAGE_ID, QueueV1, QueueV1Metadata, QueueV1Rows, QueueV1Store, metadata_conflict,
    metadata_not_found,
};
use durastore_api::{DataBlob, ErrorKind, QueueMessage, QueueType, Result, StoreError};

use crate::driver::SqlTx;
use crate::value::Row;
use crate::{SqlStore, params};

pub(crate) fn make(store: &Arc<SqlStore>) -> Option<Arc<dyn QueueV1Store>> {
    Some(Arc::new(QueueV1(store.clone())))
}

/// Attempts of one enqueue before giving up (each failed attempt means another enqueuer won).
const ENQUEUE_ATTEMPTS: usize = 100;

fn message(r: &Row) -> Result<QueueMessage> {
    Ok(QueueMessage {
        id: r.i64(0)?,
        blob: r.blob(1, 2)?,
    })
}

impl SqlStore {
    async fn qv1_insert_next(
        &self,
        tx: &mut dyn SqlTx,
        stored: QueueType,
        blob: &DataBlob,
    ) -> Result<i64> {
        let rows = tx
            .query(
                "SELECT MAX(message_id) FROM queue WHERE queue_type = ?",
                &params![stored.0],
            )
            .await?;
        let id = match rows.first().map(|r| r.opt_i64(0)).transpose()?.flatten() {
            Some(max) => max
                .checked_add(1)
                .ok_or_else(|| StoreError::internal("queue message ids exhausted"))?,
            None => EMPTY_QUEUE_MESSAGE_ID + 1,
        };
        tx.execute(
            "INSERT INTO queue (queue_type, message_id, message_payload, message_encoding) VALUES (?, ?, ?, ?)",
            &params![stored.0, id, blob.data.as_slice(), &blob.encoding],
        )
        .await?;
        Ok(id)
    }

    async fn qv1_update_metadata_tx(
        &self,
        tx: &mut dyn SqlTx,
        stored: QueueType,
        m: &QueueV1Metadata,
    ) -> Result<()> {
        // The row lock makes the check and the write one step (SQLite's BEGIN IMMEDIATE
        // already serializes writers).
        let sql = format!(
            "SELECT version FROM queue_metadata WHERE queue_type = ?{}",
            self.dialect().lock_update()
        );
        let rows = tx.query(&sql, &params![stored.0]).await?;
        let actual = match rows.first() {
            Some(r) => r.i64(0)?,
            None => return Err(metadata_not_found(stored)),
        };
        if actual != m.version {
            return Err(metadata_conflict(stored, m.version, actual));
        }
        tx.execute(
            "UPDATE queue_metadata SET data = ?, data_encoding = ?, version = ? WHERE queue_type = ?",
            &params![
                m.blob.data.as_slice(),
                &m.blob.encoding,
                m.version + 1,
                stored.0
            ],
        )
        .await?;
        Ok(())
    }
}

#[async_trait]
impl QueueV1Rows for SqlStore {
    async fn insert_metadata_if_absent(&self, stored: QueueType, blob: &DataBlob) -> Result<()> {
        let inserted = self
            .driver
            .execute(
                "INSERT INTO queue_metadata (queue_type, data, data_encoding, version) VALUES (?, ?, ?, 0)",
                &params![stored.0, blob.data.as_slice(), &blob.encoding],
            )
            .await;
        match inserted {
            // Already there (possibly from a racing init): keep it.
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
            other => other.map(|_| ()),
        }
    }

    async fn metadata(&self, stored: QueueType) -> Result<QueueV1Metadata> {
        let rows = self
            .driver
            .query(
                "SELECT data, data_encoding, version FROM queue_metadata WHERE queue_type = ?",
                &params![stored.0],
            )
            .await?;
        match rows.first() {
            Some(r) => Ok(QueueV1Metadata {
                blob: r.blob(0, 1)?,
                version: r.i64(2)?,
            }),
            None => Err(metadata_not_found(stored)),
        }
    }

    async fn update_metadata(&self, stored: QueueType, m: &QueueV1Metadata) -> Result<()> {
        let mut tx = self.driver.begin().await?;
        let result = self.qv1_update_metadata_tx(tx.as_mut(), stored, m).await;
        SqlStore::finish(tx, result).await
    }

    async fn enqueue(&self, stored: QueueType, blob: &DataBlob) -> Result<i64> {
        let mut last = None;
        for _ in 0..ENQUEUE_ATTEMPTS {
            let mut tx = self.driver.begin().await?;
            let result = self.qv1_insert_next(tx.as_mut(), stored, blob).await;
            match SqlStore::finish(tx, result).await {
                Ok(id) => return Ok(id),
                // Another enqueuer took the id (or the database broke a lock cycle between
                // them): nothing was written, read the maximum again.
                Err(e)
                    if e.kind() == ErrorKind::AlreadyExists
                        || (e.is_retryable() && !e.is_outcome_unknown()) =>
                {
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last
            .unwrap_or_else(|| StoreError::internal("enqueue failed"))
            .with_message_prefix("queue enqueue kept colliding with concurrent enqueuers"))
    }

    async fn read(
        &self,
        stored: QueueType,
        after: i64,
        inclusive_max: i64,
        limit: usize,
    ) -> Result<Vec<QueueMessage>> {
        let rows = self
            .driver
            .query(
                "SELECT message_id, message_payload, message_encoding FROM queue WHERE queue_type = ? AND message_id > ? AND message_id <= ? ORDER BY message_id LIMIT ?",
                &params![stored.0, after, inclusive_max, limit as i64],
            )
            .await?;
        rows.iter().map(message).collect()
    }

    async fn delete_before(&self, stored: QueueType, before: i64) -> Result<()> {
        self.driver
            .execute(
                "DELETE FROM queue WHERE queue_type = ? AND message_id < ?",
                &params![stored.0, before],
            )
            .await?;
        Ok(())
    }

    async fn delete_one(&self, stored: QueueType, id: i64) -> Result<()> {
        self.driver
            .execute(
                "DELETE FROM queue WHERE queue_type = ? AND message_id = ?",
                &params![stored.0, id],
            )
            .await?;
        Ok(())
    }

    async fn delete_range(&self, stored: QueueType, after: i64, inclusive_max: i64) -> Result<()> {
        self.driver
            .execute(
                "DELETE FROM queue WHERE queue_type = ? AND message_id > ? AND message_id <= ?",
                &params![stored.0, after, inclusive_max],
            )
            .await?;
        Ok(())
    }
}
