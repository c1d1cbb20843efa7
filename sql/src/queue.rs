//! QueueStore on SQL (Temporal's "queue v2"): `queues` rows with a metadata blob and
//! `queue_messages` in partition 0.
//!
//! The metadata blob is Temporal's `persistencespb.Queue` in protobuf wire format
//! (`map<int32, QueuePartition{ int64 min_message_id = 1 }> partitions = 1`, encoding `Proto3`),
//! hand-encoded here for partition 0 only. Range deletion never removes the row with the highest
//! id (so ids stay monotonic without a counter); it hides it by advancing `min_message_id`.

use std::sync::Arc;

use async_trait::async_trait;
use durastore_api::queue::metadata;
use durastore_api::{
    DataBlob, ErrorKind, Page, QueueInfo, QueueKey, QueueMessage, QueueStore, QueueType, Result,
    StoreError, validate,
};
use serde::{Deserialize, Serialize};

use crate::driver::SqlTx;
use crate::paging::keyset_page;
use crate::value::{Row, Value};
use crate::{SqlStore, params};

pub(crate) fn make(store: &Arc<SqlStore>) -> Option<Arc<dyn QueueStore>> {
    Some(store.clone() as Arc<dyn QueueStore>)
}

/// The only partition used, as in Temporal.
const PARTITION: i64 = 0;

fn metadata_min(row: &Row, data: usize, encoding: usize) -> Result<i64> {
    let blob = row.blob(data, encoding)?;
    metadata::min_message_id(&blob.encoding, &blob.data)
}

fn validate_key(key: &QueueKey) -> Result<()> {
    validate::id_string("queue name", &key.name)
}

fn not_found(key: &QueueKey) -> StoreError {
    StoreError::not_found(format!(
        "queue {:?} of type {} not found",
        key.name, key.queue_type.0
    ))
}

/// Keyset position of a message read: the next id to return.
#[derive(Serialize, Deserialize)]
struct MessageToken {
    next: i64,
}

/// Keyset position of a queue listing.
#[derive(Serialize, Deserialize)]
struct NameToken {
    n: String,
}

impl SqlStore {
    /// Reads the queue's `min_message_id`, locking its row inside `tx`.
    async fn queue_lock_row(&self, tx: &mut dyn SqlTx, key: &QueueKey) -> Result<i64> {
        let sql = format!(
            "SELECT metadata_payload, metadata_encoding FROM queues WHERE queue_type = ? AND queue_name = ?{}",
            self.dialect().lock_update()
        );
        let rows = tx
            .query(&sql, &params![key.queue_type.0, &key.name])
            .await?;
        match rows.first() {
            Some(r) => metadata_min(r, 0, 1),
            None => Err(not_found(key)),
        }
    }

    async fn queue_enqueue_tx(
        &self,
        tx: &mut dyn SqlTx,
        key: &QueueKey,
        blob: &DataBlob,
    ) -> Result<i64> {
        // The queue row's lock serializes enqueuers (PostgreSQL/MySQL); SQLite's BEGIN
        // IMMEDIATE already does. Without it two first enqueues would both pick id 0.
        self.queue_lock_row(tx, key).await?;
        let rows = tx
            .query(
                "SELECT MAX(message_id) FROM queue_messages WHERE queue_type = ? AND queue_name = ? AND queue_partition = ?",
                &params![key.queue_type.0, &key.name, PARTITION],
            )
            .await?;
        let id = match rows.first().map(|r| r.opt_i64(0)).transpose()?.flatten() {
            Some(max) => max
                .checked_add(1)
                .ok_or_else(|| StoreError::internal("queue message ids exhausted"))?,
            None => 0,
        };
        tx.execute(
            "INSERT INTO queue_messages (queue_type, queue_name, queue_partition, message_id, message_payload, message_encoding) VALUES (?, ?, ?, ?, ?, ?)",
            &params![
                key.queue_type.0,
                &key.name,
                PARTITION,
                id,
                blob.data.as_slice(),
                &blob.encoding
            ],
        )
        .await?;
        Ok(id)
    }

    async fn queue_range_delete_tx(
        &self,
        tx: &mut dyn SqlTx,
        key: &QueueKey,
        inclusive_max_id: i64,
    ) -> Result<i64> {
        let min = self.queue_lock_row(tx, key).await?;
        let p = params![key.queue_type.0, &key.name, PARTITION];
        let rows = tx
            .query(
                "SELECT MAX(message_id) FROM queue_messages WHERE queue_type = ? AND queue_name = ? AND queue_partition = ?",
                &p,
            )
            .await?;
        let Some(last) = rows.first().map(|r| r.opt_i64(0)).transpose()?.flatten() else {
            // Never enqueued: nothing to hide, and the next id must still be 0.
            return Ok(0);
        };
        // Never advance past the last id: the next enqueue (last + 1) must stay visible.
        let upto = inclusive_max_id.min(last);
        if upto < min {
            return Ok(0);
        }
        let mut cp = p.clone();
        cp.extend(params![min, upto]);
        let rows = tx
            .query(
                "SELECT COUNT(*) FROM queue_messages WHERE queue_type = ? AND queue_name = ? AND queue_partition = ? AND message_id >= ? AND message_id <= ?",
                &cp,
            )
            .await?;
        let hidden = rows.first().map_or(Ok(0), |r| r.i64(0))?;
        let mut dp = p.clone();
        // The row with the highest id stays, hidden below, so ids are never reused.
        dp.extend(params![upto, last]);
        tx.execute(
            "DELETE FROM queue_messages WHERE queue_type = ? AND queue_name = ? AND queue_partition = ? AND message_id <= ? AND message_id < ?",
            &dp,
        )
        .await?;
        tx.execute(
            "UPDATE queues SET metadata_payload = ?, metadata_encoding = ? WHERE queue_type = ? AND queue_name = ?",
            &params![
                metadata::encode(upto + 1),
                DataBlob::PROTO3,
                key.queue_type.0,
                &key.name
            ],
        )
        .await?;
        Ok(hidden)
    }
}

#[async_trait]
impl QueueStore for SqlStore {
    async fn create_queue(&self, key: &QueueKey) -> Result<()> {
        validate_key(key)?;
        self.driver
            .execute(
                "INSERT INTO queues (queue_type, queue_name, metadata_payload, metadata_encoding) VALUES (?, ?, ?, ?)",
                &params![key.queue_type.0, &key.name, metadata::encode(0), DataBlob::PROTO3],
            )
            .await
            .map_err(|e| {
                if e.kind() == ErrorKind::AlreadyExists {
                    StoreError::already_exists(format!(
                        "queue {:?} of type {} already exists",
                        key.name, key.queue_type.0
                    ))
                } else {
                    e
                }
            })?;
        Ok(())
    }

    async fn enqueue_message(&self, key: &QueueKey, blob: DataBlob) -> Result<i64> {
        validate_key(key)?;
        validate::blob("queue message", &blob)?;
        let mut tx = self.driver.begin().await?;
        let result = self.queue_enqueue_tx(tx.as_mut(), key, &blob).await;
        SqlStore::finish(tx, result).await
    }

    async fn read_messages(
        &self,
        key: &QueueKey,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<QueueMessage>> {
        validate_key(key)?;
        let page_size = validate::page_size(page_size)?;
        let after: Option<MessageToken> = match &next_page_token {
            None => None,
            Some(t) => Some(validate::token::decode(t)?),
        };
        let rows = self
            .driver
            .query(
                "SELECT metadata_payload, metadata_encoding FROM queues WHERE queue_type = ? AND queue_name = ?",
                &params![key.queue_type.0, &key.name],
            )
            .await?;
        let min = match rows.first() {
            Some(r) => metadata_min(r, 0, 1)?,
            None => return Err(not_found(key)),
        };
        let from = after.map_or(min, |t| t.next.max(min));
        let rows = self
            .driver
            .query(
                "SELECT message_id, message_payload, message_encoding FROM queue_messages WHERE queue_type = ? AND queue_name = ? AND queue_partition = ? AND message_id >= ? ORDER BY message_id LIMIT ?",
                &params![
                    key.queue_type.0,
                    &key.name,
                    PARTITION,
                    from,
                    page_size as i64 + 1
                ],
            )
            .await?;
        keyset_page(
            &rows,
            page_size,
            |r| {
                Ok(QueueMessage {
                    id: r.i64(0)?,
                    blob: r.blob(1, 2)?,
                })
            },
            |l| MessageToken {
                next: l.id.saturating_add(1),
            },
        )
    }

    async fn range_delete_messages(&self, key: &QueueKey, inclusive_max_id: i64) -> Result<i64> {
        validate_key(key)?;
        let mut tx = self.driver.begin().await?;
        let result = self
            .queue_range_delete_tx(tx.as_mut(), key, inclusive_max_id)
            .await;
        SqlStore::finish(tx, result).await
    }

    async fn list_queues(
        &self,
        queue_type: QueueType,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<QueueInfo>> {
        let page_size = validate::page_size(page_size)?;
        let mut sql = String::from(
            "SELECT queue_name, metadata_payload, metadata_encoding FROM queues WHERE queue_type = ?",
        );
        let mut p = params![queue_type.0];
        if let Some(t) = &next_page_token {
            let after: NameToken = validate::token::decode(t)?;
            sql.push_str(" AND queue_name > ?");
            p.push(Value::Text(after.n));
        }
        sql.push_str(" ORDER BY queue_name LIMIT ?");
        p.push(Value::Int(page_size as i64 + 1));
        let rows = self.driver.query(&sql, &p).await?;
        let more = rows.len() > page_size;
        let mut items = Vec::with_capacity(rows.len().min(page_size));
        for row in rows.iter().take(page_size) {
            let name = row.string(0)?;
            let min = metadata_min(row, 1, 2)?;
            let stats = self
                .driver
                .query(
                    "SELECT COUNT(CASE WHEN message_id >= ? THEN 1 END), MAX(message_id) FROM queue_messages WHERE queue_type = ? AND queue_name = ? AND queue_partition = ?",
                    &params![min, queue_type.0, &name, PARTITION],
                )
                .await?;
            let (count, last) = match stats.first() {
                Some(r) => (r.i64(0)?, r.opt_i64(1)?.unwrap_or(-1)),
                None => (0, -1),
            };
            items.push(QueueInfo {
                name,
                message_count: count,
                last_message_id: last,
            });
        }
        let next_page_token = match (more, items.last()) {
            (true, Some(l)) => Some(validate::token::encode(&NameToken { n: l.name.clone() })),
            _ => None,
        };
        Ok(Page {
            items,
            next_page_token,
        })
    }
}
