//! Named FIFO queues (Temporal's "queue v2": history-task DLQs and similar).

pub mod metadata;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::types::{DataBlob, Page};

/// Queue type (1 = history normal, 2 = history DLQ; others allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QueueType(pub i32);

/// Identifies a queue.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QueueKey {
    /// Type.
    pub queue_type: QueueType,
    /// Name, 1..=255 bytes.
    pub name: String,
}

/// One message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    /// Id (0, 1, 2, … per queue).
    pub id: i64,
    /// Payload.
    pub blob: DataBlob,
}

/// One queue as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueInfo {
    /// Name.
    pub name: String,
    /// Messages not yet range-deleted.
    pub message_count: i64,
    /// Id of the last message ever enqueued (-1 if none).
    pub last_message_id: i64,
}

/// Named FIFO queues.
///
/// # Contract
/// - `create_queue` of an existing queue is `AlreadyExists`; enqueue/read/delete on a missing
///   queue is `NotFound`.
/// - Message ids start at 0 and increase by one per enqueue; concurrent enqueues get distinct ids.
/// - `read_messages` returns messages ascending by id from the first not deleted, paged.
/// - `range_delete_messages` deletes ids `<= inclusive_max_id` and returns how many; ids are never
///   reused, even after deleting every message.
///
/// # Example
/// A dead-letter queue: create it, enqueue, read, and delete what was handled:
/// ```
/// use durastore_api::*;
///
/// async fn dlq(queues: &dyn QueueStore) -> Result<()> {
///     let key = QueueKey { queue_type: QueueType(2), name: "dlq-transfer".into() };
///     queues.create_queue(&key).await?;
///     let id = queues.enqueue_message(&key, DataBlob::proto3(b"failed task")).await?;
///     let page = queues.read_messages(&key, 100, None).await?;
///     assert_eq!(page.items[0].id, id);
///     queues.range_delete_messages(&key, id).await?;
///     Ok(())
/// }
/// ```
#[async_trait]
pub trait QueueStore: Send + Sync {
    /// Creates a queue.
    async fn create_queue(&self, key: &QueueKey) -> Result<()>;
    /// Appends a message; returns its id.
    async fn enqueue_message(&self, key: &QueueKey, blob: DataBlob) -> Result<i64>;
    /// Reads messages, paged.
    async fn read_messages(
        &self,
        key: &QueueKey,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<QueueMessage>>;
    /// Deletes messages up to and including an id.
    async fn range_delete_messages(&self, key: &QueueKey, inclusive_max_id: i64) -> Result<i64>;
    /// Lists queues of a type by name, paged.
    async fn list_queues(
        &self,
        queue_type: QueueType,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<QueueInfo>>;
}
