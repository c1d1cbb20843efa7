//! QueueV1Store on SQL: Temporal's `queue` and `queue_metadata` tables (already in schema 1.0).
//!
//! Ids are `MAX(message_id) + 1` read and inserted in one transaction. Two enqueuers that read
//! the same maximum collide on the primary key; the loser's transaction rolls back and it
//! retries with a fresh read, so ids stay distinct and no enqueue is lost. Each retry follows
//! a commit by another enqueuer, so the number of attempts is bounded by the number of racing
//! enqueuers.

use std::sync::Arc;

use async_trait::async_trait;
use durastore_api::queue_v1::{
    self, QueueV1Metadata, QueueV1Store, dlq_page, dlq_read_after, dlq_type, metadata_conflict,
    metadata_not_found, validate_metadata, validate_queue_type,
};
use durastore_api::{
    DataBlob, ErrorKind, Page, QueueMessage, QueueType, Result, StoreError, validate,
};

use crate::driver::SqlTx;
use crate::value::Row;
use crate::{SqlStore, params};

pub(crate) fn make(store: &Arc<SqlStore>) -> Option<Arc<dyn QueueV1Store>> {
    Some(store.clone() as Arc<dyn QueueV1Store>)
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
            None => queue_v1::EMPTY_QUEUE_MESSAGE_ID + 1,
        };
        tx.execute(
            "INSERT INTO queue (queue_type, message_id, message_payload, message_encoding) VALUES (?, ?, ?, ?)",
            &params![stored.0, id, blob.data.as_slice(), &blob.encoding],
        )
        .await?;
        Ok(id)
    }

    /// Enqueues under the stored type `stored` (a queue's type or its DLQ's negated type).
    async fn qv1_enqueue(&self, stored: QueueType, blob: DataBlob) -> Result<i64> {
        validate::blob("queue message", &blob)?;
        let mut last = None;
        for _ in 0..ENQUEUE_ATTEMPTS {
            let mut tx = self.driver.begin().await?;
            let result = self.qv1_insert_next(tx.as_mut(), stored, &blob).await;
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

    async fn qv1_read(
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

    async fn qv1_init_one(&self, stored: QueueType, blob: &DataBlob) -> Result<()> {
        let inserted = self
            .driver
            .execute(
                "INSERT INTO queue_metadata (queue_type, data, data_encoding, version) VALUES (?, ?, ?, 0)",
                &params![stored.0, blob.data.as_slice(), &blob.encoding],
            )
            .await;
        match inserted {
            // Already initialized (possibly by a racing init): keep what is there.
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
            other => other.map(|_| ()),
        }
    }

    async fn qv1_get_metadata(&self, stored: QueueType) -> Result<QueueV1Metadata> {
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

    async fn qv1_update_metadata_tx(
        &self,
        tx: &mut dyn SqlTx,
        stored: QueueType,
        m: &QueueV1Metadata,
    ) -> Result<()> {
        // The row lock makes the check and the write one step; the UPDATE's own version
        // condition guards SQLite, whose BEGIN IMMEDIATE already serializes writers.
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
        let n = tx
            .execute(
                "UPDATE queue_metadata SET data = ?, data_encoding = ?, version = ? WHERE queue_type = ? AND version = ?",
                &params![
                    m.blob.data.as_slice(),
                    &m.blob.encoding,
                    m.version + 1,
                    stored.0,
                    m.version
                ],
            )
            .await?;
        if n != 1 {
            return Err(StoreError::condition_failed(format!(
                "queue type {}: metadata version {} changed concurrently",
                stored.0, m.version
            )));
        }
        Ok(())
    }

    async fn qv1_update_metadata(&self, stored: QueueType, m: QueueV1Metadata) -> Result<()> {
        validate_metadata(&m)?;
        let mut tx = self.driver.begin().await?;
        let result = self.qv1_update_metadata_tx(tx.as_mut(), stored, &m).await;
        SqlStore::finish(tx, result).await
    }
}

#[async_trait]
impl QueueV1Store for SqlStore {
    async fn init(&self, queue_type: QueueType, blob: DataBlob) -> Result<()> {
        validate_queue_type(queue_type)?;
        validate::blob("queue metadata", &blob)?;
        self.qv1_init_one(queue_type, &blob).await?;
        self.qv1_init_one(dlq_type(queue_type), &blob).await
    }

    async fn enqueue_message(&self, queue_type: QueueType, blob: DataBlob) -> Result<i64> {
        validate_queue_type(queue_type)?;
        self.qv1_enqueue(queue_type, blob).await
    }

    async fn read_messages(
        &self,
        queue_type: QueueType,
        last_message_id: i64,
        max_count: i32,
    ) -> Result<Vec<QueueMessage>> {
        validate_queue_type(queue_type)?;
        let limit = validate::page_size(max_count)?;
        self.qv1_read(queue_type, last_message_id, i64::MAX, limit)
            .await
    }

    async fn delete_messages_before(&self, queue_type: QueueType, message_id: i64) -> Result<()> {
        validate_queue_type(queue_type)?;
        self.driver
            .execute(
                "DELETE FROM queue WHERE queue_type = ? AND message_id < ?",
                &params![queue_type.0, message_id],
            )
            .await?;
        Ok(())
    }

    async fn update_ack_level(
        &self,
        queue_type: QueueType,
        metadata: QueueV1Metadata,
    ) -> Result<()> {
        validate_queue_type(queue_type)?;
        self.qv1_update_metadata(queue_type, metadata).await
    }

    async fn get_ack_levels(&self, queue_type: QueueType) -> Result<QueueV1Metadata> {
        validate_queue_type(queue_type)?;
        self.qv1_get_metadata(queue_type).await
    }

    async fn enqueue_message_to_dlq(&self, queue_type: QueueType, blob: DataBlob) -> Result<i64> {
        validate_queue_type(queue_type)?;
        self.qv1_enqueue(dlq_type(queue_type), blob).await
    }

    async fn read_messages_from_dlq(
        &self,
        queue_type: QueueType,
        first_message_id: i64,
        last_message_id: i64,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<QueueMessage>> {
        validate_queue_type(queue_type)?;
        let page_size = validate::page_size(page_size)?;
        let after = dlq_read_after(first_message_id, next_page_token.as_deref())?;
        let messages = self
            .qv1_read(dlq_type(queue_type), after, last_message_id, page_size + 1)
            .await?;
        Ok(dlq_page(messages, page_size))
    }

    async fn delete_message_from_dlq(&self, queue_type: QueueType, message_id: i64) -> Result<()> {
        validate_queue_type(queue_type)?;
        self.driver
            .execute(
                "DELETE FROM queue WHERE queue_type = ? AND message_id = ?",
                &params![dlq_type(queue_type).0, message_id],
            )
            .await?;
        Ok(())
    }

    async fn range_delete_messages_from_dlq(
        &self,
        queue_type: QueueType,
        first_message_id: i64,
        last_message_id: i64,
    ) -> Result<()> {
        validate_queue_type(queue_type)?;
        self.driver
            .execute(
                "DELETE FROM queue WHERE queue_type = ? AND message_id > ? AND message_id <= ?",
                &params![dlq_type(queue_type).0, first_message_id, last_message_id],
            )
            .await?;
        Ok(())
    }

    async fn update_dlq_ack_level(
        &self,
        queue_type: QueueType,
        metadata: QueueV1Metadata,
    ) -> Result<()> {
        validate_queue_type(queue_type)?;
        self.qv1_update_metadata(dlq_type(queue_type), metadata)
            .await
    }

    async fn get_dlq_ack_levels(&self, queue_type: QueueType) -> Result<QueueV1Metadata> {
        validate_queue_type(queue_type)?;
        self.qv1_get_metadata(dlq_type(queue_type)).await
    }
}
