//! QueueStore on Cassandra (Temporal's "queue v2"): `queues` rows (one partition per queue
//! type) hold a metadata blob with partition 0's `min_message_id` and a CAS `version`;
//! `queue_messages` holds one partition per queue, clustered by message id.
//!
//! - **Ids without a counter.** An enqueue reads the highest id (`ORDER BY message_id DESC
//!   LIMIT 1`, one reverse seek) and inserts `max + 1` with `INSERT … IF NOT EXISTS`; when a
//!   concurrent enqueuer took that id the insert does not apply and the enqueue retries with the
//!   next one. Paxos settles every competing insert on the same id, so no message is lost or
//!   stored twice, and the id tried is never above `max + 1`: ids stay contiguous.
//! - **Range delete never removes the highest id's row**, so the next enqueue still finds the
//!   last id and ids are never reused; the row is hidden by advancing `min_message_id` instead.
//!   The metadata update is a CAS on `version` (a lost race re-reads and recomputes); the rows
//!   are then removed with one clustering-range `DELETE` (a single range tombstone). A crash
//!   between the two leaves rows below `min_message_id` that reads skip and the next range
//!   delete removes.
//! - Because ids are contiguous and every row in `[min_message_id, last]` exists, counts are
//!   arithmetic (`last - min + 1`, as Temporal's Cassandra store computes them), never scans.

use std::sync::Arc;

use async_trait::async_trait;
use durastore_api::queue::metadata;
use durastore_api::{
    DataBlob, Page, QueueInfo, QueueKey, QueueMessage, QueueStore, QueueType, Result, StoreError,
    validate,
};

use crate::session::{CRow, Cass, vals};

/// The store.
pub(crate) fn make(cass: &Arc<Cass>) -> Option<Arc<dyn QueueStore>> {
    Some(Arc::new(CassQueueStore { cass: cass.clone() }))
}

/// The only message partition used, as in Temporal.
const PARTITION: i32 = 0;

/// Attempts of an enqueue (each lost attempt means another enqueuer got an id) or of a range
/// delete's metadata CAS before giving up with a retryable error.
const MAX_ATTEMPTS: usize = 1000;

/// QueueStore over a shared session.
struct CassQueueStore {
    cass: Arc<Cass>,
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn validate_key(key: &QueueKey) -> Result<()> {
    validate::id_string("queue name", &key.name)
}

fn not_found(key: &QueueKey) -> StoreError {
    StoreError::not_found(format!(
        "queue {:?} of type {} not found",
        key.name, key.queue_type.0
    ))
}

/// The queue row's `min_message_id` (checking the blob's encoding).
fn metadata_min(row: &CRow) -> Result<i64> {
    metadata::min_message_id(
        &row.text("metadata_encoding")?,
        &row.blob("metadata_payload")?,
    )
}

/// The queue row's state: `min_message_id` and CAS version.
struct QueueRow {
    min: i64,
    version: i64,
}

/// Page size as the `int` a `LIMIT ?` marker binds: one more than asked, to know whether a
/// next page exists.
fn limit_plus_one(page_size: usize) -> i32 {
    // page_size is at most validate::MAX_PAGE_SIZE.
    i32::try_from(page_size + 1).unwrap_or(i32::MAX)
}

impl CassQueueStore {
    /// Reads the queue row, or `NotFound`.
    async fn queue_row(&self, key: &QueueKey) -> Result<QueueRow> {
        let row = self
            .cass
            .row(
                "SELECT metadata_payload, metadata_encoding, version FROM queues WHERE queue_type = ? AND queue_name = ?",
                vals![key.queue_type.0, &key.name],
            )
            .await?
            .ok_or_else(|| not_found(key))?;
        Ok(QueueRow {
            min: metadata_min(&row)?,
            version: row.opt_i64("version")?.unwrap_or(0),
        })
    }

    /// The highest message id of a queue (hidden or not), `None` if nothing was ever enqueued.
    async fn last_id(&self, queue_type: i32, name: &str) -> Result<Option<i64>> {
        let row = self
            .cass
            .row(
                "SELECT message_id FROM queue_messages WHERE queue_type = ? AND queue_name = ? AND queue_partition = ? ORDER BY message_id DESC LIMIT 1",
                vals![queue_type, name, PARTITION],
            )
            .await?;
        row.map(|r| r.i64("message_id")).transpose()
    }
}

/// The id after `id`.
fn next_id(id: i64) -> Result<i64> {
    id.checked_add(1)
        .ok_or_else(|| StoreError::internal("queue message ids exhausted"))
}

fn contention(what: &str, key: &QueueKey) -> StoreError {
    StoreError::new(
        durastore_api::ErrorKind::Unavailable,
        format!(
            "{what} on queue {:?} of type {} lost {MAX_ATTEMPTS} races in a row",
            key.name, key.queue_type.0
        ),
    )
    .with_retryable(true)
}

#[async_trait]
impl QueueStore for CassQueueStore {
    async fn create_queue(&self, key: &QueueKey) -> Result<()> {
        validate_key(key)?;
        let res = self
            .cass
            .cas(
                "INSERT INTO queues (queue_type, queue_name, metadata_payload, metadata_encoding, version) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS",
                vals![key.queue_type.0, &key.name, metadata::encode(0), DataBlob::PROTO3, 0i64],
            )
            .await?;
        if !res.applied {
            return Err(StoreError::already_exists(format!(
                "queue {:?} of type {} already exists",
                key.name, key.queue_type.0
            )));
        }
        Ok(())
    }

    async fn enqueue_message(&self, key: &QueueKey, blob: DataBlob) -> Result<i64> {
        validate_key(key)?;
        validate::blob("queue message", &blob)?;
        self.queue_row(key).await?;
        let qt = key.queue_type.0;
        let mut id = match self.last_id(qt, &key.name).await? {
            Some(last) => next_id(last)?,
            None => 0,
        };
        for _ in 0..MAX_ATTEMPTS {
            let res = self
                .cass
                .cas(
                    "INSERT INTO queue_messages (queue_type, queue_name, queue_partition, message_id, message_payload, message_encoding) VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS",
                    vals![qt, &key.name, PARTITION, id, &blob.data, &blob.encoding],
                )
                .await?;
            if res.applied {
                return Ok(id);
            }
            // Another enqueuer holds `id` (its Paxos round is now committed). Re-read the last
            // id in case several went ahead, but never go back: `id` is taken.
            let last = self.last_id(qt, &key.name).await?.unwrap_or(id);
            id = next_id(last.max(id))?;
        }
        Err(contention("enqueue", key))
    }

    async fn read_messages(
        &self,
        key: &QueueKey,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<QueueMessage>> {
        validate_key(key)?;
        let page_size = validate::page_size(page_size)?;
        let after: Option<i64> = next_page_token
            .as_deref()
            .map(validate::token::decode)
            .transpose()?;
        let q = self.queue_row(key).await?;
        let from = after.map_or(q.min, |next| next.max(q.min));
        let rows = self
            .cass
            .rows(
                "SELECT message_id, message_payload, message_encoding FROM queue_messages WHERE queue_type = ? AND queue_name = ? AND queue_partition = ? AND message_id >= ? LIMIT ?",
                vals![
                    key.queue_type.0,
                    &key.name,
                    PARTITION,
                    from,
                    limit_plus_one(page_size)
                ],
            )
            .await?;
        let more = rows.len() > page_size;
        let items = rows
            .iter()
            .take(page_size)
            .map(|r| {
                Ok(QueueMessage {
                    id: r.i64("message_id")?,
                    blob: DataBlob::new(r.blob("message_payload")?, r.text("message_encoding")?),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let next_page_token = match (more, items.last()) {
            (true, Some(last)) => Some(validate::token::encode(&last.id.saturating_add(1))),
            _ => None,
        };
        Ok(Page {
            items,
            next_page_token,
        })
    }

    async fn range_delete_messages(&self, key: &QueueKey, inclusive_max_id: i64) -> Result<i64> {
        validate_key(key)?;
        let qt = key.queue_type.0;
        for _ in 0..MAX_ATTEMPTS {
            let q = self.queue_row(key).await?;
            let Some(last) = self.last_id(qt, &key.name).await? else {
                // Never enqueued: nothing to hide, and the next id must still be 0.
                return Ok(0);
            };
            // Never advance past the last id: the next enqueue (last + 1) must stay visible.
            let upto = inclusive_max_id.min(last);
            if upto < q.min {
                return Ok(0);
            }
            let res = self
                .cass
                .cas(
                    "UPDATE queues SET metadata_payload = ?, metadata_encoding = ?, version = ? WHERE queue_type = ? AND queue_name = ? IF version = ?",
                    vals![
                        metadata::encode(next_id(upto)?),
                        DataBlob::PROTO3,
                        next_id(q.version)?,
                        qt,
                        &key.name,
                        q.version
                    ],
                )
                .await?;
            if !res.applied {
                // A concurrent range delete moved the minimum: recompute from its result.
                continue;
            }
            // The row of the last id stays (hidden by the new minimum) so ids are never
            // reused; everything below it up to `upto` goes, in one range tombstone. The range
            // is open below so rows a crashed earlier delete left behind go too.
            let hi = upto.min(last - 1);
            if hi >= q.min {
                self.cass
                    .exec(
                        "DELETE FROM queue_messages WHERE queue_type = ? AND queue_name = ? AND queue_partition = ? AND message_id <= ?",
                        vals![qt, &key.name, PARTITION, hi],
                    )
                    .await?;
            }
            // Ids are contiguous and rows in [min, last] exist: this many were hidden.
            return Ok(upto - q.min + 1);
        }
        Err(contention("range delete", key))
    }

    async fn list_queues(
        &self,
        queue_type: QueueType,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<QueueInfo>> {
        let page_size = validate::page_size(page_size)?;
        let after: Option<String> = next_page_token
            .as_deref()
            .map(validate::token::decode)
            .transpose()?;
        let limit = limit_plus_one(page_size);
        let rows = match after {
            None => {
                self.cass
                    .rows(
                        "SELECT queue_name, metadata_payload, metadata_encoding FROM queues WHERE queue_type = ? LIMIT ?",
                        vals![queue_type.0, limit],
                    )
                    .await?
            }
            Some(after) => {
                self.cass
                    .rows(
                        "SELECT queue_name, metadata_payload, metadata_encoding FROM queues WHERE queue_type = ? AND queue_name > ? LIMIT ?",
                        vals![queue_type.0, after, limit],
                    )
                    .await?
            }
        };
        let more = rows.len() > page_size;
        let mut items = Vec::with_capacity(rows.len().min(page_size));
        for row in rows.iter().take(page_size) {
            let name = row.text("queue_name")?;
            let min = metadata_min(row)?;
            let last = self.last_id(queue_type.0, &name).await?.unwrap_or(-1);
            items.push(QueueInfo {
                message_count: (last - min + 1).max(0),
                last_message_id: last,
                name,
            });
        }
        let next_page_token = match (more, items.last()) {
            (true, Some(l)) => Some(validate::token::encode(&l.name)),
            _ => None,
        };
        Ok(Page {
            items,
            next_page_token,
        })
    }
}
