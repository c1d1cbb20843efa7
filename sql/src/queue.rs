//! QueueStore on SQL (Temporal's "queue v2"): `queues` rows with a metadata blob and
//! `queue_messages` in partition 0.
//!
//! The metadata blob is Temporal's `persistencespb.Queue` in protobuf wire format
//! (`map<int32, QueuePartition{ int64 min_message_id = 1 }> partitions = 1`, encoding `Proto3`),
//! hand-encoded here for partition 0 only. Range deletion never removes the row with the highest
//! id (so ids stay monotonic without a counter); it hides it by advancing `min_message_id`.

use std::sync::Arc;

use async_trait::async_trait;
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

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(b: &[u8], pos: &mut usize) -> Result<u64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*pos).ok_or_else(corrupt)?;
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(corrupt())
}

fn corrupt() -> StoreError {
    StoreError::internal("stored queue metadata is not a valid Queue protobuf")
}

/// Encodes `Queue{partitions: {0: {min_message_id}}}`.
fn encode_metadata(min_message_id: i64) -> Vec<u8> {
    let mut partition = Vec::new();
    if min_message_id != 0 {
        // Field 1, varint; proto3 omits the default 0. Negative int64 is ten-byte two's complement.
        partition.push(0x08);
        put_varint(&mut partition, min_message_id as u64);
    }
    // Map entry: key (field 1, varint 0) then value (field 2, length-delimited).
    let mut entry = vec![0x08, 0x00, 0x12];
    put_varint(&mut entry, partition.len() as u64);
    entry.extend_from_slice(&partition);
    let mut out = vec![0x0a];
    put_varint(&mut out, entry.len() as u64);
    out.extend_from_slice(&entry);
    out
}

/// Skips a field of `wire_type` at `pos`.
fn skip_field(b: &[u8], pos: &mut usize, wire_type: u64) -> Result<()> {
    match wire_type {
        0 => get_varint(b, pos).map(|_| ()),
        1 => advance(b, pos, 8),
        2 => {
            let len = usize::try_from(get_varint(b, pos)?).map_err(|_| corrupt())?;
            advance(b, pos, len)
        }
        5 => advance(b, pos, 4),
        _ => Err(corrupt()),
    }
}

fn advance(b: &[u8], pos: &mut usize, n: usize) -> Result<()> {
    let end = pos
        .checked_add(n)
        .filter(|e| *e <= b.len())
        .ok_or_else(corrupt)?;
    *pos = end;
    Ok(())
}

/// Reads a length-delimited field's bytes at `pos`.
fn bytes_field<'a>(b: &'a [u8], pos: &mut usize) -> Result<&'a [u8]> {
    let len = usize::try_from(get_varint(b, pos)?).map_err(|_| corrupt())?;
    let start = *pos;
    advance(b, pos, len)?;
    Ok(&b[start..*pos])
}

/// Decodes partition 0's `min_message_id` (0 when absent, as proto3 defaults).
fn decode_metadata(b: &[u8]) -> Result<i64> {
    let mut min = 0;
    let mut pos = 0;
    while pos < b.len() {
        let tag = get_varint(b, &mut pos)?;
        if tag >> 3 != 1 || tag & 7 != 2 {
            skip_field(b, &mut pos, tag & 7)?;
            continue;
        }
        let entry = bytes_field(b, &mut pos)?;
        let (mut key, mut value): (i64, Option<&[u8]>) = (0, None);
        let mut p = 0;
        while p < entry.len() {
            let t = get_varint(entry, &mut p)?;
            match (t >> 3, t & 7) {
                (1, 0) => key = get_varint(entry, &mut p)? as i32 as i64,
                (2, 2) => value = Some(bytes_field(entry, &mut p)?),
                (_, w) => skip_field(entry, &mut p, w)?,
            }
        }
        if key != PARTITION {
            continue;
        }
        min = 0;
        let v = value.unwrap_or_default();
        let mut q = 0;
        while q < v.len() {
            let t = get_varint(v, &mut q)?;
            match (t >> 3, t & 7) {
                (1, 0) => min = get_varint(v, &mut q)? as i64,
                (_, w) => skip_field(v, &mut q, w)?,
            }
        }
    }
    Ok(min)
}

fn metadata_min(row: &Row, data: usize, encoding: usize) -> Result<i64> {
    let blob = row.blob(data, encoding)?;
    if blob.encoding != DataBlob::PROTO3 {
        return Err(StoreError::internal(format!(
            "queue metadata has encoding {:?}, expected Proto3",
            blob.encoding
        )));
    }
    decode_metadata(&blob.data)
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
                encode_metadata(upto + 1),
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
                &params![key.queue_type.0, &key.name, encode_metadata(0), DataBlob::PROTO3],
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trip() {
        assert_eq!(encode_metadata(0), vec![0x0a, 0x04, 0x08, 0x00, 0x12, 0x00]);
        assert_eq!(
            encode_metadata(5),
            vec![0x0a, 0x06, 0x08, 0x00, 0x12, 0x02, 0x08, 0x05]
        );
        for v in [0, 1, 127, 128, 300, i64::MAX, -1] {
            assert_eq!(decode_metadata(&encode_metadata(v)).ok(), Some(v));
        }
        assert_eq!(decode_metadata(&[]).ok(), Some(0));
        assert!(decode_metadata(&[0x0a, 0x05]).is_err());
    }
}
