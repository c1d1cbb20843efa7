//! Document writes in `_bulk` requests, and the in-process batcher that coalesces concurrent
//! single writes into them.
//!
//! Every document is written as it is alone: `version_type=external` with the task id as
//! version, so a bulk item whose task id is not above the stored version gets 409, which is
//! success (a stale write is a no-op), and a stale or repeated delete likewise. Items for one
//! document in one bulk are applied in request order (they go to the same shard), so the
//! external version decides between them exactly as between separate requests in that order.
//!
//! # Outcomes
//!
//! Each item's result is the one the single request would have had: its status and error go
//! through the same mapping. When the bulk request as a whole fails (transport error, 429,
//! 5xx, a reply without one item per write), every item of it fails with that error,
//! retryable and outcome unknown where the single write's would be: some items may have been
//! applied. Each item is an idempotent versioned write, so retrying it is safe: an applied one
//! comes back as a stale no-op. A `write_batch` larger than one bulk is sent bulk after bulk,
//! in order; after a bulk fails as a whole, the later ones are not sent and their writes fail
//! as retryable (not applied).
//!
//! # The batcher
//!
//! A single write (`record_started`, `delete`, …) queues and waits for its own result, so a
//! call returns what it did before batching, and an acknowledged write is written. At most
//! [`BulkOptions::concurrency`] flush tasks send at a time; a flush task takes what is queued
//! (up to [`BulkOptions::max_items`] items and [`BulkOptions::max_bytes`] bytes), sends it,
//! hands each caller its result and takes more until the queue is empty. So an idle store
//! sends a lone write as the single request it always was (no added latency, no linger by
//! default), and a loaded one sends what piles up behind the requests in flight as one bulk,
//! with one refresh per bulk instead of one per record. Flushes run in spawned tasks, so a
//! caller that stops waiting (a timeout dropping its future) never strands the others.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use durastore_api::{ErrorKind, Result, StoreError};
use elasticsearch::http::Method;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::client::{Client, Reply, classify};

/// How writes are grouped into `_bulk` requests (URL options `bulk_size`, `bulk_bytes`,
/// `bulk_linger`, `bulk_concurrency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkOptions {
    /// Most items in one bulk request; 1 turns batching off (every write its own request).
    pub max_items: usize,
    /// Most bytes (about: action lines and documents) in one bulk request; a single larger
    /// document is sent alone.
    pub max_bytes: usize,
    /// How long a flush waits for more writes before sending, when fewer than `max_items` are
    /// queued (zero: send at once; batches then form from writes queued behind the requests in
    /// flight).
    pub linger: Duration,
    /// Most write requests in flight from the batcher at a time.
    pub concurrency: usize,
}

impl BulkOptions {
    /// Limits of `bulk_size`.
    pub const MAX_ITEMS_RANGE: (usize, usize) = (1, 10_000);
    /// Limits of `bulk_bytes` (the upper one is the servers' default `http.max_content_length`).
    pub const MAX_BYTES_RANGE: (usize, usize) = (1024, 100 * 1024 * 1024);
    /// Upper limit of `bulk_linger`.
    pub const MAX_LINGER: Duration = Duration::from_secs(10);
    /// Limits of `bulk_concurrency`.
    pub const CONCURRENCY_RANGE: (usize, usize) = (1, 256);
}

impl Default for BulkOptions {
    /// 500 items or 5 MiB per bulk (the size the servers' docs suggest starting from), no
    /// linger, 4 requests in flight.
    fn default() -> Self {
        BulkOptions {
            max_items: 500,
            max_bytes: 5 * 1024 * 1024,
            linger: Duration::ZERO,
            concurrency: 4,
        }
    }
}

/// One document write: index `doc` (or delete, when `None`) at `id` with external version
/// `version`.
#[derive(Debug)]
pub(crate) struct Op {
    id: String,
    version: i64,
    doc: Option<Value>,
    /// Bytes of the document's JSON (0 for a delete).
    doc_bytes: usize,
}

/// Counts bytes written, so a document's size is known without keeping its text.
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Op {
    /// Indexes `doc` at `id` unless the stored version is not below `version`.
    pub fn index(id: String, version: i64, doc: Value) -> Self {
        let mut n = ByteCount(0);
        // Writing a `Value` into a counter cannot fail.
        let _ = serde_json::to_writer(&mut n, &doc);
        Op {
            id,
            version,
            doc: Some(doc),
            doc_bytes: n.0,
        }
    }

    /// Deletes `id` unless the stored version is not below `version`.
    pub fn delete(id: String, version: i64) -> Self {
        Op {
            id,
            version,
            doc: None,
            doc_bytes: 0,
        }
    }

    fn is_delete(&self) -> bool {
        self.doc.is_none()
    }

    /// Size in a bulk body: the action line (about 80 bytes besides the id) and the document.
    fn bulk_bytes(&self) -> usize {
        80 + self.id.len() + self.doc_bytes
    }
}

/// The result of one write from its reply (a single request's, or a bulk item's status and
/// error): 409 is a stale write or delete, a no-op; a delete of a missing document is done.
pub(crate) fn outcome(delete: bool, r: &Reply) -> Result<()> {
    match r.status {
        200 | 201 | 409 if !delete => Ok(()),
        200 | 404 | 409 if delete && !r.error_type().contains("index_not_found") => Ok(()),
        _ => Err(classify(if delete { "delete" } else { "write" }, r, true)),
    }
}

/// The same error again, for each write a failed request carried.
fn copy_error(e: &StoreError) -> StoreError {
    StoreError::new(e.kind(), e.message())
        .with_retryable(e.is_retryable())
        .with_outcome_unknown(e.is_outcome_unknown())
}

/// Pops the next bulk's worth from the front of `queue`: at least one item, then while under
/// both limits.
fn take_chunk<T>(
    queue: &mut VecDeque<T>,
    opts: &BulkOptions,
    bytes: impl Fn(&T) -> usize,
) -> Vec<T> {
    let mut out = Vec::new();
    let mut total = 0;
    while let Some(next) = queue.front() {
        let b = bytes(next);
        if !out.is_empty() && (out.len() >= opts.max_items || total + b > opts.max_bytes) {
            break;
        }
        total += b;
        if let Some(item) = queue.pop_front() {
            out.push(item);
        }
    }
    out
}

/// The writes waiting for a flush, and how many flush tasks run.
#[derive(Default)]
struct Queue {
    pending: VecDeque<(Op, oneshot::Sender<Result<()>>)>,
    flushers: usize,
}

/// Sends the writes of one index, alone or in bulks (see the module doc).
pub(crate) struct Batcher {
    client: Client,
    index: String,
    /// `refresh` parameter of every write request (one refresh per bulk).
    refresh: String,
    opts: BulkOptions,
    queue: Mutex<Queue>,
}

/// Gives a flush task's slot back if the task ends without doing so (a panic, or its runtime
/// shutting down): later writes then start a new one.
struct FlusherSlot<'a> {
    batcher: &'a Batcher,
    held: bool,
}

impl Drop for FlusherSlot<'_> {
    fn drop(&mut self) {
        if self.held {
            self.batcher.lock().flushers -= 1;
        }
    }
}

impl Batcher {
    /// A batcher writing to `index` of `client`'s cluster.
    pub fn new(client: Client, index: String, refresh: String, opts: BulkOptions) -> Arc<Self> {
        Arc::new(Batcher {
            client,
            index,
            refresh,
            opts,
            queue: Mutex::new(Queue::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes one document, coalesced with concurrent writes; returns its own result.
    pub async fn write(self: &Arc<Self>, op: Op) -> Result<()> {
        if self.opts.max_items == 1 {
            return self.send_one(op).await;
        }
        let (tx, rx) = oneshot::channel();
        let start = {
            let mut q = self.lock();
            q.pending.push_back((op, tx));
            // Counted under the lock that a finishing flusher checks the queue under, so a
            // queued write always has a flusher to take it.
            let start = q.flushers < self.opts.concurrency;
            if start {
                q.flushers += 1;
            }
            start
        };
        if start {
            tokio::spawn(Arc::clone(self).flush());
        }
        rx.await.unwrap_or_else(|_| {
            Err(StoreError::new(
                ErrorKind::Unavailable,
                "elasticsearch: write: the bulk writer stopped before the reply (runtime shut \
                 down?)",
            )
            .with_retryable(true)
            .with_outcome_unknown(true))
        })
    }

    /// A flush task: sends what is queued, bulk by bulk, until the queue is empty.
    async fn flush(self: Arc<Self>) {
        let mut slot = FlusherSlot {
            batcher: &self,
            held: true,
        };
        loop {
            if !self.opts.linger.is_zero() && self.lock().pending.len() < self.opts.max_items {
                tokio::time::sleep(self.opts.linger).await;
            }
            let batch = {
                let mut q = self.lock();
                if q.pending.is_empty() {
                    q.flushers -= 1;
                    slot.held = false;
                    return;
                }
                take_chunk(&mut q.pending, &self.opts, |(op, _)| op.bulk_bytes())
            };
            let (ops, waiters): (Vec<Op>, Vec<_>) = batch.into_iter().unzip();
            let results = match self.send(ops).await {
                Ok(results) => results,
                Err(e) => waiters.iter().map(|_| Err(copy_error(&e))).collect(),
            };
            for (waiter, r) in waiters.into_iter().zip(results) {
                // A caller that stopped waiting does not want its result.
                let _ = waiter.send(r);
            }
        }
    }

    /// Writes `ops` in order, in as few bulks as the limits allow, one bulk at a time; one
    /// result per op. After a bulk request fails as a whole, the later ones are not sent.
    pub async fn write_all(&self, ops: Vec<Op>) -> Vec<Result<()>> {
        let mut queue: VecDeque<Op> = ops.into();
        let mut results = Vec::with_capacity(queue.len());
        while !queue.is_empty() {
            let chunk = take_chunk(&mut queue, &self.opts, Op::bulk_bytes);
            let n = chunk.len();
            match self.send(chunk).await {
                Ok(r) => results.extend(r),
                Err(e) => {
                    results.extend((0..n).map(|_| Err(copy_error(&e))));
                    let skipped = StoreError::new(
                        ErrorKind::Unavailable,
                        format!(
                            "elasticsearch: write: not sent, an earlier bulk request of the \
                             batch failed: {}",
                            e.message()
                        ),
                    )
                    .with_retryable(true);
                    results.extend(queue.drain(..).map(|_| Err(copy_error(&skipped))));
                }
            }
        }
        results
    }

    /// Sends `ops`: a lone one as the single request, more as one bulk. `Err` when the request
    /// as a whole failed (it applies to every op).
    async fn send(&self, mut ops: Vec<Op>) -> Result<Vec<Result<()>>> {
        if ops.len() > 1 {
            return self.send_bulk(&ops).await;
        }
        match ops.pop() {
            Some(op) => Ok(vec![self.send_one(op).await]),
            None => Ok(Vec::new()),
        }
    }

    /// The single-document request (`PUT` or `DELETE /<index>/_doc/<id>`).
    async fn send_one(&self, op: Op) -> Result<()> {
        let path = format!("/{}/_doc/{}", self.index, op.id);
        let query = [
            ("version", op.version.to_string()),
            ("version_type", "external".to_string()),
            ("refresh", self.refresh.clone()),
        ];
        let delete = op.is_delete();
        let reply = match op.doc {
            Some(doc) => {
                self.client
                    .send(Method::Put, &path, &query, Some(doc))
                    .await?
            }
            None => {
                self.client
                    .send(Method::Delete, &path, &query, None)
                    .await?
            }
        };
        outcome(delete, &reply)
    }

    /// One `_bulk` request for `ops` (two or more).
    async fn send_bulk(&self, ops: &[Op]) -> Result<Vec<Result<()>>> {
        let mut body = Vec::with_capacity(ops.iter().map(Op::bulk_bytes).sum());
        for op in ops {
            let action = if op.is_delete() { "delete" } else { "index" };
            let line = json!({action: {
                "_id": op.id,
                "version": op.version,
                "version_type": "external"
            }});
            serde_json::to_writer(&mut body, &line).map_err(encode_error)?;
            body.push(b'\n');
            if let Some(doc) = &op.doc {
                serde_json::to_writer(&mut body, doc).map_err(encode_error)?;
                body.push(b'\n');
            }
        }
        // Built from serde_json output only, so it is UTF-8.
        let body = String::from_utf8(body).map_err(encode_error)?;
        let reply = self
            .client
            .bulk(
                &format!("/{}/_bulk", self.index),
                &[("refresh", self.refresh.clone())],
                body,
            )
            .await?;
        if !(200..300).contains(&reply.status) {
            return Err(classify("bulk write", &reply, true));
        }
        bulk_outcomes(ops, &reply.body)
    }
}

fn encode_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::internal(format!("elasticsearch: encoding a bulk request: {e}"))
}

/// Each op's result from a 2xx `_bulk` reply (`items`, one per op, in order).
fn bulk_outcomes(ops: &[Op], body: &Value) -> Result<Vec<Result<()>>> {
    let items = body
        .get("items")
        .and_then(Value::as_array)
        .filter(|items| items.len() == ops.len())
        .ok_or_else(|| {
            StoreError::internal(format!(
                "elasticsearch: bulk write: the reply does not have one item per write ({} sent)",
                ops.len()
            ))
            .with_outcome_unknown(true)
        })?;
    Ok(ops
        .iter()
        .zip(items)
        .map(|(op, item)| {
            // `{"index": {...}}` or `{"delete": {...}}`.
            let inner = item
                .as_object()
                .and_then(|o| o.values().next())
                .unwrap_or(&Value::Null);
            let status = inner
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(0);
            let error = inner.get("error").cloned().unwrap_or(Value::Null);
            outcome(
                op.is_delete(),
                &Reply {
                    status,
                    body: json!({ "error": error }),
                },
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn ops() -> Vec<Op> {
        vec![
            Op::index("a".into(), 5, json!({"x": 1})),
            Op::index("a".into(), 3, json!({"x": 2})),
            Op::delete("b".into(), 7),
            Op::delete("c".into(), 7),
            Op::index("d".into(), 1, json!({"x": "not a number"})),
            Op::index("e".into(), 1, json!({})),
            Op::delete("f".into(), 2),
        ]
    }

    #[test]
    fn bulk_items_map_as_single_writes() {
        let reply = json!({"errors": true, "items": [
            {"index": {"_id": "a", "status": 201}},
            {"index": {"_id": "a", "status": 409, "error": {
                "type": "version_conflict_engine_exception", "reason": "stale"}}},
            {"delete": {"_id": "b", "status": 404, "result": "not_found"}},
            {"delete": {"_id": "c", "status": 409, "error": {
                "type": "version_conflict_engine_exception", "reason": "stale"}}},
            {"index": {"_id": "d", "status": 400, "error": {
                "type": "mapper_parsing_exception", "reason": "failed to parse field [x]"}}},
            {"index": {"_id": "e", "status": 429, "error": {
                "type": "es_rejected_execution_exception", "reason": "queue full"}}},
            {"delete": {"_id": "f", "status": 503, "error": {
                "type": "unavailable_shards_exception", "reason": "primary not active"}}}
        ]});
        let r = bulk_outcomes(&ops(), &reply).unwrap();
        assert!(r[0].is_ok() && r[1].is_ok() && r[2].is_ok() && r[3].is_ok());
        let bad = r[4].as_ref().unwrap_err();
        assert_eq!(bad.kind(), ErrorKind::InvalidArgument);
        assert!(!bad.is_retryable());
        assert!(bad.message().contains("failed to parse field [x]"));
        let busy = r[5].as_ref().unwrap_err();
        assert_eq!(busy.kind(), ErrorKind::ResourceExhausted);
        assert!(busy.is_retryable());
        let down = r[6].as_ref().unwrap_err();
        assert_eq!(down.kind(), ErrorKind::Unavailable);
        assert!(down.is_retryable() && down.is_outcome_unknown());
    }

    #[test]
    fn a_missing_index_is_an_error_for_a_delete_too() {
        let reply = json!({"items": [
            {"delete": {"status": 404, "error": {"type": "index_not_found_exception"}}},
            {"index": {"status": 404, "error": {"type": "index_not_found_exception"}}}
        ]});
        let ops = vec![
            Op::delete("a".into(), 1),
            Op::index("b".into(), 1, json!({})),
        ];
        let r = bulk_outcomes(&ops, &reply).unwrap();
        assert_eq!(r[0].as_ref().unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(r[1].as_ref().unwrap_err().kind(), ErrorKind::NotFound);
    }

    #[test]
    fn a_reply_without_one_item_per_write_fails_them_all_outcome_unknown() {
        let reply = json!({"items": [{"index": {"status": 201}}]});
        let e = bulk_outcomes(&ops(), &reply).unwrap_err();
        assert!(e.is_outcome_unknown());
        assert!(bulk_outcomes(&ops(), &json!({})).is_err());
    }

    #[test]
    fn chunks_respect_both_limits_and_never_come_out_empty() {
        let opts = BulkOptions {
            max_items: 3,
            max_bytes: 100,
            ..BulkOptions::default()
        };
        let mut q: VecDeque<usize> = vec![10, 10, 10, 10, 60, 50, 500, 1].into();
        let sizes = |q: &mut VecDeque<usize>| take_chunk(q, &opts, |b| *b);
        assert_eq!(sizes(&mut q), vec![10, 10, 10]); // items
        assert_eq!(sizes(&mut q), vec![10, 60]); // bytes: 10 + 60 + 50 > 100
        assert_eq!(sizes(&mut q), vec![50]); // 50 + 500 > 100
        assert_eq!(sizes(&mut q), vec![500]); // too big alone: sent alone
        assert_eq!(sizes(&mut q), vec![1]);
        assert!(sizes(&mut q).is_empty());
    }

    #[test]
    fn op_sizes_count_the_document() {
        let doc = json!({"WorkflowId": "w".repeat(1000)});
        let op = Op::index("id".into(), 1, doc.clone());
        assert_eq!(op.doc_bytes, doc.to_string().len());
        assert!(op.bulk_bytes() > 1000);
        assert_eq!(Op::delete("id".into(), 1).doc_bytes, 0);
    }
}
