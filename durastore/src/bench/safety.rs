//! The bench never takes over shards it did not make: before the first write it checks that
//! the shards it will use are free, unless told the database is scratch.
//!
//! A bench acquires its shards as a history host does (it moves their range ids on and writes
//! their shard info), which on a database a cluster uses would fence out the hosts that own
//! them. So every shard in the range must have no shard row and no executions. Without
//! `--first-shard` the range starts at shard 1, where every Temporal cluster's shards start, so
//! any database a cluster has used is refused.

use durastore_api::{ErrorKind, GetOrCreateShardRequest, Result, ShardId, StoreError, Stores};

/// What a shard of the range already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Taken {
    /// A shard row with this range id.
    ShardRow(i64),
    /// Executions, without a shard row.
    Executions,
}

/// The first shard in `first..first + count` that is not free, and what it holds.
pub(super) async fn first_taken(
    stores: &Stores,
    first: i32,
    count: u32,
) -> Result<Option<(ShardId, Taken)>> {
    // Without a shard store the run cannot acquire shards and stops with its own error.
    let Some(shards) = &stores.shard else {
        return Ok(None);
    };
    let executions = stores
        .execution
        .as_ref()
        .filter(|_| stores.backend.capability().list_concrete_executions);
    for id in (first..=last_shard(first, count)?).map(ShardId) {
        let row = shards
            .get_or_create_shard(GetOrCreateShardRequest {
                shard_id: id,
                create_if_missing: None,
            })
            .await;
        match row {
            Ok(info) => return Ok(Some((id, Taken::ShardRow(info.range_id)))),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        if let Some(exec) = executions
            && !exec
                .list_concrete_executions(id, 1, None)
                .await?
                .items
                .is_empty()
        {
            return Ok(Some((id, Taken::Executions)));
        }
    }
    Ok(None)
}

/// The last shard id of `count` shards from `first`; an error when it is not a shard id.
pub(super) fn last_shard(first: i32, count: u32) -> Result<i32> {
    let last = i64::from(first) + i64::from(count) - 1;
    i32::try_from(last)
        .ok()
        .filter(|_| first >= 0)
        .ok_or_else(|| {
            StoreError::invalid_argument(format!(
                "--first-shard {first} with --shards {count} ends past the largest shard id ({})",
                i32::MAX
            ))
        })
}

/// Refuses, before anything is written, to bench shards `first..first + count` of `stores`
/// when any of them holds a shard row or executions. `first_given`: the range came from
/// `--first-shard` (the message says which flag to change).
pub(super) async fn ensure_free(
    stores: &Stores,
    first: i32,
    count: u32,
    first_given: bool,
) -> Result<()> {
    let Some((id, taken)) = first_taken(stores, first, count).await? else {
        return Ok(());
    };
    let last = last_shard(first, count)?;
    let what = match taken {
        Taken::ShardRow(range_id) => format!("shard {id} exists (range id {range_id})"),
        Taken::Executions => format!("shard {id} has executions"),
    };
    let fix = if first_given {
        "choose a --first-shard whose range is free"
    } else {
        "pass --first-shard N with a range of shards that do not exist"
    };
    Err(StoreError::invalid_argument(format!(
        "refusing to bench {}: {what}, and the bench would take shards {first}..={last} over \
         (move their range ids on, overwrite their shard info), fencing out whatever owns them. \
         Point it at a scratch database, {fix}, or pass --scratch if this database is disposable",
        stores.name()
    )))
}
