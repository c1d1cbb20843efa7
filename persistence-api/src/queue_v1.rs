//! Temporal's "queue v1": one message queue per [`QueueType`] with an ack-level metadata blob
//! under a version compare-and-swap, and a dead-letter queue (DLQ) beside it. Temporal's
//! namespace replication queue (type [`NAMESPACE_REPLICATION_QUEUE`]) uses it, and the server
//! calls [`QueueV1Store::init`] at start-up.
//!
//! Stored in Temporal's tables: `queue (queue_type, message_id, message_payload,
//! message_encoding)` and `queue_metadata (queue_type, data, data_encoding, version)`. A queue's
//! DLQ is stored under the negated type (the DLQ of type 1 is type -1), as in Temporal.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::{ConflictDetail, Result, StoreError};
use crate::queue::{QueueMessage, QueueType};
use crate::types::{DataBlob, Page};
use crate::validate;

/// Temporal's `NamespaceReplicationQueueType`.
pub const NAMESPACE_REPLICATION_QUEUE: QueueType = QueueType(1);

/// The message id before the first one (Temporal's `EmptyQueueMessageID`): reading after it
/// reads from the start, and the first message of a queue gets `EMPTY_QUEUE_MESSAGE_ID + 1`.
pub const EMPTY_QUEUE_MESSAGE_ID: i64 = -1;

/// A queue's ack-level metadata: an opaque blob (Temporal's `QueueMetadata` proto) and the
/// version its compare-and-swap checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueV1Metadata {
    /// The metadata blob.
    pub blob: DataBlob,
    /// The stored version (0 after [`QueueV1Store::init`], +1 per successful update).
    pub version: i64,
}

/// The queue type a DLQ is stored under: the negated type.
pub fn dlq_type(queue_type: QueueType) -> QueueType {
    QueueType(-queue_type.0)
}

/// Checks a queue type: positive, since its DLQ is stored under the negated type.
pub fn validate_queue_type(queue_type: QueueType) -> Result<()> {
    if queue_type.0 <= 0 {
        return Err(StoreError::invalid_argument(format!(
            "queue type must be positive (its DLQ is stored under the negated type), got {}",
            queue_type.0
        )));
    }
    Ok(())
}

/// Checks a metadata update: a valid blob and a non-negative version.
fn validate_metadata(metadata: &QueueV1Metadata) -> Result<()> {
    validate::blob("queue metadata", &metadata.blob)?;
    validate::non_negative("queue metadata version", metadata.version)
}

/// The `ConditionFailed` error of a failed ack-level update: `expected` is the version the
/// caller presented, `actual` the stored one.
pub fn metadata_conflict(queue_type: QueueType, expected: i64, actual: i64) -> StoreError {
    StoreError::condition_failed(format!(
        "queue type {}: metadata version {expected} is stale (stored: {actual})",
        queue_type.0
    ))
    .with_detail(ConflictDetail::QueueMetadata {
        queue_type: queue_type.0,
        expected_version: expected,
        actual_version: actual,
    })
}

/// The `NotFound` error for a queue type whose metadata was never created.
pub fn metadata_not_found(queue_type: QueueType) -> StoreError {
    StoreError::not_found(format!(
        "queue type {} has no metadata row: call init first",
        queue_type.0
    ))
}

/// Temporal's queue v1 (`persistence.Queue`), for every queue type at once: each method names
/// the (positive) queue type it acts on; the `*_dlq*` methods act on that type's DLQ.
///
/// # Contract
/// - **Queue types.** A type must be positive (`InvalidArgument` otherwise); its DLQ is stored
///   under the negated type. Queues of different types never see each other's messages.
/// - **`init(type, blob)`** creates the metadata of the queue and of its DLQ, each with `blob`
///   and version 0, where it does not exist yet; existing metadata is left as it is (a second
///   `init`, or one racing another, never overwrites). Temporal calls it at server start.
/// - **Message ids** are assigned by the store: one more than the highest id the queue (or DLQ)
///   holds, `0` when it holds none, as in Temporal. Concurrent enqueuers get distinct ids and
///   every successful enqueue is stored. Deleting every message lets ids start again at 0
///   (Temporal's behaviour too; its replication queue deletes only *before* the ack level, so
///   the newest message stays).
/// - **`enqueue_message` / `enqueue_message_to_dlq`** append a message and return its id
///   (Temporal's `EnqueueMessage` returns none; the id costs nothing). No `init` is needed.
/// - **`read_messages(type, last_message_id, max_count)`** returns up to `max_count` messages
///   with `id > last_message_id`, ascending; `max_count` must be positive.
///   Pass [`EMPTY_QUEUE_MESSAGE_ID`] to read from the start.
/// - **`delete_messages_before(type, id)`** deletes the messages with `id < given id`.
/// - **`read_messages_from_dlq(type, first, last, page_size, token)`** returns DLQ messages with
///   `first < id <= last`, ascending, paged: a page holds at most `page_size` (positive)
///   messages and carries a token exactly when more messages of the range follow; with a token,
///   reading continues after the last message returned (the token replaces `first`).
/// - **`delete_message_from_dlq(type, id)`** deletes one DLQ message (none there: no error).
/// - **`range_delete_messages_from_dlq(type, first, last)`** deletes the DLQ messages with
///   `first < id <= last` (the read bounds); `first >= last` deletes nothing.
/// - **Ack-level metadata.** `get_ack_levels` / `get_dlq_ack_levels` return the stored blob and
///   version (`NotFound` before `init`). `update_ack_level` / `update_dlq_ack_level` with
///   `{blob, version}` store `blob` and `version + 1` only if the stored version equals
///   `version` (a compare-and-swap, atomic against concurrent updates: of N concurrent updates
///   presenting the same version exactly one succeeds). Otherwise they fail with
///   `ConditionFailed` carrying [`ConflictDetail::QueueMetadata`] (the stored version) and change
///   nothing; before `init` they fail with `NotFound` (Temporal reports a condition failure;
///   `NotFound` says what is wrong). Temporal's SQL store skips the version check for the DLQ
///   metadata; durastore checks it for both, as Temporal's Cassandra store does.
/// - **Bad input** (non-positive type, page size or count, negative version, a blob over the
///   size limit or an encoding name over 16 bytes, a page token this store did not issue) fails
///   with `InvalidArgument` or `SizeLimitExceeded` and writes nothing.
///
/// # Example
/// The namespace replication queue as the server drives it:
/// ```
/// use durastore_api::*;
///
/// async fn replicate(q: &dyn QueueV1Store) -> Result<()> {
///     let t = NAMESPACE_REPLICATION_QUEUE;
///     q.init(t, DataBlob::proto3(b"")).await?;
///     let id = q.enqueue_message(t, DataBlob::proto3(b"namespace task")).await?;
///     let read = q.read_messages(t, EMPTY_QUEUE_MESSAGE_ID, 100).await?;
///     assert_eq!(read.last().map(|m| m.id), Some(id));
///     let acks = q.get_ack_levels(t).await?;
///     q.update_ack_level(t, QueueV1Metadata { blob: DataBlob::proto3(b"acked"), version: acks.version })
///         .await?;
///     q.delete_messages_before(t, id).await?;
///     Ok(())
/// }
/// ```
#[async_trait]
pub trait QueueV1Store: Send + Sync {
    /// Creates the metadata of the queue and its DLQ where absent (Temporal's `Init`).
    async fn init(&self, queue_type: QueueType, blob: DataBlob) -> Result<()>;
    /// Appends a message; returns its id (`EnqueueMessage`).
    async fn enqueue_message(&self, queue_type: QueueType, blob: DataBlob) -> Result<i64>;
    /// Messages with `id > last_message_id`, ascending, at most `max_count` (`ReadMessages`).
    async fn read_messages(
        &self,
        queue_type: QueueType,
        last_message_id: i64,
        max_count: i32,
    ) -> Result<Vec<QueueMessage>>;
    /// Deletes the messages with `id < message_id` (`DeleteMessagesBefore`).
    async fn delete_messages_before(&self, queue_type: QueueType, message_id: i64) -> Result<()>;
    /// Version compare-and-swap of the ack-level metadata (`UpdateAckLevel`).
    async fn update_ack_level(
        &self,
        queue_type: QueueType,
        metadata: QueueV1Metadata,
    ) -> Result<()>;
    /// The ack-level metadata (`GetAckLevels`).
    async fn get_ack_levels(&self, queue_type: QueueType) -> Result<QueueV1Metadata>;
    /// Appends a message to the DLQ; returns its id (`EnqueueMessageToDLQ`).
    async fn enqueue_message_to_dlq(&self, queue_type: QueueType, blob: DataBlob) -> Result<i64>;
    /// DLQ messages with `first_message_id < id <= last_message_id`, paged
    /// (`ReadMessagesFromDLQ`).
    async fn read_messages_from_dlq(
        &self,
        queue_type: QueueType,
        first_message_id: i64,
        last_message_id: i64,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<QueueMessage>>;
    /// Deletes one DLQ message (`DeleteMessageFromDLQ`).
    async fn delete_message_from_dlq(&self, queue_type: QueueType, message_id: i64) -> Result<()>;
    /// Deletes the DLQ messages with `first_message_id < id <= last_message_id`
    /// (`RangeDeleteMessagesFromDLQ`).
    async fn range_delete_messages_from_dlq(
        &self,
        queue_type: QueueType,
        first_message_id: i64,
        last_message_id: i64,
    ) -> Result<()>;
    /// Version compare-and-swap of the DLQ's ack-level metadata (`UpdateDLQAckLevel`).
    async fn update_dlq_ack_level(
        &self,
        queue_type: QueueType,
        metadata: QueueV1Metadata,
    ) -> Result<()>;
    /// The DLQ's ack-level metadata (`GetDLQAckLevels`).
    async fn get_dlq_ack_levels(&self, queue_type: QueueType) -> Result<QueueV1Metadata>;
}

/// Position of a DLQ read: the id of the last message returned.
#[derive(serde::Serialize, serde::Deserialize)]
struct DlqReadToken {
    after: i64,
}

/// The exclusive lower bound of a DLQ read: `first_message_id`, or the position a page token
/// carries (`InvalidArgument` for a token this contract did not issue).
fn dlq_read_after(first_message_id: i64, next_page_token: Option<&[u8]>) -> Result<i64> {
    match next_page_token {
        None => Ok(first_message_id),
        Some(t) => Ok(validate::token::decode::<DlqReadToken>(t)?.after),
    }
}

/// A DLQ page from messages read ascending with a limit of `page_size + 1`: at most
/// `page_size` of them, and a token only when the extra one was there.
fn dlq_page(mut messages: Vec<QueueMessage>, page_size: usize) -> Page<QueueMessage> {
    let more = messages.len() > page_size;
    messages.truncate(page_size);
    let next_page_token = match (more, messages.last()) {
        (true, Some(last)) => Some(validate::token::encode(&DlqReadToken { after: last.id })),
        _ => None,
    };
    Page {
        items: messages,
        next_page_token,
    }
}

/// The storage operations a backend provides for queue v1, on a *stored* queue type (a queue's
/// type, or its DLQ's negated type). [`QueueV1`] builds the whole [`QueueV1Store`] on them, so
/// every backend validates input, maps DLQ types and pages alike.
///
/// Arguments arrive validated (blobs within limits, versions non-negative, `limit >= 1`).
#[async_trait]
pub trait QueueV1Rows: Send + Sync {
    /// Creates the metadata row `{blob, version 0}` unless one exists (which is kept).
    async fn insert_metadata_if_absent(&self, stored: QueueType, blob: &DataBlob) -> Result<()>;
    /// The metadata row, or [`metadata_not_found`].
    async fn metadata(&self, stored: QueueType) -> Result<QueueV1Metadata>;
    /// Stores `{m.blob, m.version + 1}` if the stored version is `m.version`; otherwise
    /// [`metadata_conflict`] (or [`metadata_not_found`]) and nothing changes.
    async fn update_metadata(&self, stored: QueueType, m: &QueueV1Metadata) -> Result<()>;
    /// Inserts a message with the next id (highest stored + 1, or 0), safe against concurrent
    /// enqueuers; returns the id.
    async fn enqueue(&self, stored: QueueType, blob: &DataBlob) -> Result<i64>;
    /// Up to `limit` messages with `after < id <= inclusive_max`, ascending.
    async fn read(
        &self,
        stored: QueueType,
        after: i64,
        inclusive_max: i64,
        limit: usize,
    ) -> Result<Vec<QueueMessage>>;
    /// Deletes the messages with `id < before`.
    async fn delete_before(&self, stored: QueueType, before: i64) -> Result<()>;
    /// Deletes the message `id`, if there.
    async fn delete_one(&self, stored: QueueType, id: i64) -> Result<()>;
    /// Deletes the messages with `after < id <= inclusive_max` (called only with
    /// `after < inclusive_max`).
    async fn delete_range(&self, stored: QueueType, after: i64, inclusive_max: i64) -> Result<()>;
}

/// The [`QueueV1Store`] of a backend's [`QueueV1Rows`].
pub struct QueueV1<R: ?Sized>(pub Arc<R>);

impl<R: QueueV1Rows + ?Sized> QueueV1<R> {
    async fn update(&self, stored: QueueType, metadata: QueueV1Metadata) -> Result<()> {
        validate_metadata(&metadata)?;
        self.0.update_metadata(stored, &metadata).await
    }

    async fn enqueue(&self, stored: QueueType, blob: DataBlob) -> Result<i64> {
        validate::blob("queue message", &blob)?;
        self.0.enqueue(stored, &blob).await
    }
}

/// The queue type, checked ([`validate_queue_type`]).
fn queue(queue_type: QueueType) -> Result<QueueType> {
    validate_queue_type(queue_type)?;
    Ok(queue_type)
}

/// The stored type of a queue's DLQ, the queue type checked.
fn dlq(queue_type: QueueType) -> Result<QueueType> {
    validate_queue_type(queue_type)?;
    Ok(dlq_type(queue_type))
}

#[async_trait]
impl<R: QueueV1Rows + ?Sized> QueueV1Store for QueueV1<R> {
    async fn init(&self, queue_type: QueueType, blob: DataBlob) -> Result<()> {
        let (q, d) = (queue(queue_type)?, dlq(queue_type)?);
        validate::blob("queue metadata", &blob)?;
        self.0.insert_metadata_if_absent(q, &blob).await?;
        self.0.insert_metadata_if_absent(d, &blob).await
    }

    async fn enqueue_message(&self, queue_type: QueueType, blob: DataBlob) -> Result<i64> {
        self.enqueue(queue(queue_type)?, blob).await
    }

    async fn read_messages(
        &self,
        queue_type: QueueType,
        last_message_id: i64,
        max_count: i32,
    ) -> Result<Vec<QueueMessage>> {
        let q = queue(queue_type)?;
        let limit = validate::page_size(max_count)?;
        if last_message_id == i64::MAX {
            return Ok(Vec::new());
        }
        self.0.read(q, last_message_id, i64::MAX, limit).await
    }

    async fn delete_messages_before(&self, queue_type: QueueType, message_id: i64) -> Result<()> {
        self.0.delete_before(queue(queue_type)?, message_id).await
    }

    async fn update_ack_level(
        &self,
        queue_type: QueueType,
        metadata: QueueV1Metadata,
    ) -> Result<()> {
        self.update(queue(queue_type)?, metadata).await
    }

    async fn get_ack_levels(&self, queue_type: QueueType) -> Result<QueueV1Metadata> {
        self.0.metadata(queue(queue_type)?).await
    }

    async fn enqueue_message_to_dlq(&self, queue_type: QueueType, blob: DataBlob) -> Result<i64> {
        self.enqueue(dlq(queue_type)?, blob).await
    }

    async fn read_messages_from_dlq(
        &self,
        queue_type: QueueType,
        first_message_id: i64,
        last_message_id: i64,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<QueueMessage>> {
        let d = dlq(queue_type)?;
        let page_size = validate::page_size(page_size)?;
        let after = dlq_read_after(first_message_id, next_page_token.as_deref())?;
        if after >= last_message_id {
            return Ok(dlq_page(Vec::new(), page_size));
        }
        let messages = self
            .0
            .read(d, after, last_message_id, page_size + 1)
            .await?;
        Ok(dlq_page(messages, page_size))
    }

    async fn delete_message_from_dlq(&self, queue_type: QueueType, message_id: i64) -> Result<()> {
        self.0.delete_one(dlq(queue_type)?, message_id).await
    }

    async fn range_delete_messages_from_dlq(
        &self,
        queue_type: QueueType,
        first_message_id: i64,
        last_message_id: i64,
    ) -> Result<()> {
        let d = dlq(queue_type)?;
        if first_message_id >= last_message_id {
            return Ok(());
        }
        self.0
            .delete_range(d, first_message_id, last_message_id)
            .await
    }

    async fn update_dlq_ack_level(
        &self,
        queue_type: QueueType,
        metadata: QueueV1Metadata,
    ) -> Result<()> {
        self.update(dlq(queue_type)?, metadata).await
    }

    async fn get_dlq_ack_levels(&self, queue_type: QueueType) -> Result<QueueV1Metadata> {
        self.0.metadata(dlq(queue_type)?).await
    }
}
