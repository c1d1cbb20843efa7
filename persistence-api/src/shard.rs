//! Shard ownership: the range-id lease that fences every execution write.

use async_trait::async_trait;

use crate::error::Result;
use crate::ids::ShardId;
use crate::types::DataBlob;

/// A shard row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardInfo {
    /// Shard id.
    pub shard_id: ShardId,
    /// Current lease: every execution write of the shard must carry it. The owner also derives
    /// its history task ids from it (see [`HistoryTaskKey`](crate::HistoryTaskKey)).
    pub range_id: i64,
    /// Opaque `ShardInfo` payload.
    pub data: DataBlob,
}

/// Request for [`ShardStore::get_or_create_shard`].
#[derive(Debug, Clone)]
pub struct GetOrCreateShardRequest {
    /// Shard id.
    pub shard_id: ShardId,
    /// If the shard does not exist, create it with this range id and payload.
    /// With `None`, a missing shard is `NotFound`.
    pub create_if_missing: Option<(i64, DataBlob)>,
}

impl GetOrCreateShardRequest {
    /// Reads shard `shard_id`, creating it with `range_id` and `data` if it does not exist.
    pub fn create_if_missing(shard_id: ShardId, range_id: i64, data: DataBlob) -> Self {
        Self {
            shard_id,
            create_if_missing: Some((range_id, data)),
        }
    }
    /// Reads shard `shard_id`; a missing shard is `NotFound`.
    pub fn get(shard_id: ShardId) -> Self {
        Self {
            shard_id,
            create_if_missing: None,
        }
    }
}

/// Request for [`ShardStore::update_shard`].
#[derive(Debug, Clone)]
pub struct UpdateShardRequest {
    /// Shard id.
    pub shard_id: ShardId,
    /// The new range id.
    pub range_id: i64,
    /// The range id the caller believes is stored.
    pub previous_range_id: i64,
    /// The new payload.
    pub data: DataBlob,
}

/// Shard rows and their range-id lease.
///
/// # Contract
/// - `get_or_create_shard` returns the stored row; if none exists and `create_if_missing` is set it
///   inserts one. Two concurrent creators both succeed and both see the same (first) row.
/// - `update_shard` is a compare-and-set: it writes only if the stored range id equals
///   `previous_range_id`, else `ShardOwnershipLost` with the stored value and nothing changes. On
///   SQL backends it takes an exclusive lock on the shard row, so it waits for in-flight execution
///   writes (which hold a shared lock) and fences every later one.
/// - `assert_shard_ownership` returns `ShardOwnershipLost` unless the stored range id equals the one given.
///
/// The store does not allocate history task ids; an owner derives them from its range id (see
/// [`HistoryTaskKey`](crate::HistoryTaskKey)).
///
/// # Example
/// Acquiring a shard as a history host does: read (or create) the row, then move the lease on so
/// an earlier owner's writes are fenced out. A runnable version on SQLite is on
/// `durastore::open`, and `durastore/examples/walkthrough.rs` walks a workflow through every
/// store.
/// ```
/// use durastore_api::*;
///
/// async fn acquire(shards: &dyn ShardStore, id: ShardId) -> Result<i64> {
///     let create = GetOrCreateShardRequest::create_if_missing(id, 1, DataBlob::proto3(b""));
///     let info = shards.get_or_create_shard(create).await?;
///     let range_id = info.range_id + 1;
///     shards
///         .update_shard(UpdateShardRequest {
///             shard_id: id,
///             range_id,
///             previous_range_id: info.range_id,
///             data: info.data,
///         })
///         .await?;
///     Ok(range_id) // history task ids of this lease: range_id << 20 ..
/// }
/// ```
#[async_trait]
pub trait ShardStore: Send + Sync {
    /// Reads the shard, creating it if asked.
    async fn get_or_create_shard(&self, req: GetOrCreateShardRequest) -> Result<ShardInfo>;
    /// Compare-and-set of the range id (and payload).
    async fn update_shard(&self, req: UpdateShardRequest) -> Result<()>;
    /// Checks the lease without writing.
    async fn assert_shard_ownership(&self, shard_id: ShardId, range_id: i64) -> Result<()>;
}
