//! ShardStore on Cassandra: the shard row of the shard's `executions` partition, and the lease
//! check every execution and history-task batch carries.
//!
//! The shard row lives in the same partition as everything else of the shard (see
//! `schema/…/executions.cql`), so the lease check is one more conditional statement of the same
//! Paxos round as the write it fences: `UPDATE … SET range_id = ? … IF range_id = ?` with the
//! caller's range id on both sides. `update_shard` is a Paxos round on the same partition too, so
//! it is linearized with every fenced write: once it returns, no write with the old range id can
//! commit, not even one already in flight.

use std::sync::Arc;

use async_trait::async_trait;
use durastore_api::{
    GetOrCreateShardRequest, Result, ShardId, ShardInfo, ShardStore, StoreError,
    UpdateShardRequest, validate,
};

use crate::error::corrupt;
use crate::session::{CRow, Cass, Stmt, vals};

/// `WHERE` clause of a shard's shard row (type 0 with its sentinel key values); binds `shard_id`.
macro_rules! shard_row_key {
    () => {
        "shard_id = ? AND type = 0 AND namespace_id = 10000000-1000-f000-f000-000000000000 \
         AND workflow_id = '20000000-1000-f000-f000-000000000000' \
         AND run_id = 30000000-1000-f000-f000-000000000000 \
         AND visibility_ts = 946684800000 AND task_id = -11"
    };
}

/// `type` of the shard row.
pub(crate) const SHARD_ROW_TYPE: i32 = 0;

const SELECT_SHARD: &str = concat!(
    "SELECT range_id, shard, shard_encoding FROM executions WHERE ",
    shard_row_key!()
);
const INSERT_SHARD: &str = "INSERT INTO executions (shard_id, type, namespace_id, workflow_id, \
     run_id, visibility_ts, task_id, shard, shard_encoding, range_id) VALUES (?, 0, \
     10000000-1000-f000-f000-000000000000, '20000000-1000-f000-f000-000000000000', \
     30000000-1000-f000-f000-000000000000, 946684800000, -11, ?, ?, ?) IF NOT EXISTS";
const UPDATE_SHARD: &str = concat!(
    "UPDATE executions SET shard = ?, shard_encoding = ?, range_id = ? WHERE ",
    shard_row_key!(),
    " IF range_id = ?"
);
/// The lease check: rewrites the stored range id with itself, only if it is the caller's.
const FENCE: &str = concat!(
    "UPDATE executions SET range_id = ? WHERE ",
    shard_row_key!(),
    " IF range_id = ?"
);
const SELECT_RANGE: &str = concat!("SELECT range_id FROM executions WHERE ", shard_row_key!());

/// The lease-check statement for a conditional batch on the shard's partition.
pub(crate) fn fence(shard_id: ShardId, range_id: i64) -> Stmt {
    Stmt::new(FENCE, vals![range_id, shard_id.0, range_id])
}

/// Whether a row returned by a failed conditional batch is the shard row.
pub(crate) fn is_shard_row(row: &CRow) -> Result<bool> {
    Ok(row.opt_i64("type")? == Some(i64::from(SHARD_ROW_TYPE)))
}

/// `ShardOwnershipLost` from the shard row a failed batch returned (`None`: the row does not
/// exist), or `None` when the lease held.
pub(crate) fn lease_error(
    shard_id: ShardId,
    range_id: i64,
    shard_row: Option<&CRow>,
) -> Result<Option<StoreError>> {
    // A single conditional statement on a missing row returns `[applied] = false` with NULL
    // columns; a batch returns no row for it. Both mean there is no shard row.
    let stored = match shard_row {
        None => None,
        Some(row) => row.opt_i64("range_id")?,
    };
    if stored == Some(range_id) {
        Ok(None)
    } else {
        Ok(Some(StoreError::shard_ownership_lost(
            shard_id.0, range_id, stored,
        )))
    }
}

/// The store.
pub(crate) struct CassShardStore {
    cass: Arc<Cass>,
}

/// The store over a shared session.
pub(crate) fn make(cass: &Arc<Cass>) -> Option<Arc<dyn ShardStore>> {
    Some(Arc::new(CassShardStore { cass: cass.clone() }))
}

fn shard_info(shard_id: ShardId, row: &CRow) -> Result<ShardInfo> {
    let range_id = row
        .opt_i64("range_id")?
        .ok_or_else(|| corrupt(format!("shard {shard_id} row has no range_id")))?;
    Ok(ShardInfo {
        shard_id,
        range_id,
        data: durastore_api::DataBlob::new(row.blob("shard")?, row.text("shard_encoding")?),
    })
}

#[async_trait]
impl ShardStore for CassShardStore {
    async fn get_or_create_shard(&self, req: GetOrCreateShardRequest) -> Result<ShardInfo> {
        req.shard_id.validate()?;
        if let Some((_, data)) = &req.create_if_missing {
            validate::blob("shard info", data)?;
        }
        if let Some(row) = self.cass.row(SELECT_SHARD, vals![req.shard_id.0]).await? {
            return shard_info(req.shard_id, &row);
        }
        let Some((range_id, data)) = req.create_if_missing else {
            return Err(StoreError::not_found(format!(
                "shard {} does not exist",
                req.shard_id
            )));
        };
        let res = self
            .cass
            .cas(
                INSERT_SHARD,
                vals![req.shard_id.0, &data.data, &data.encoding, range_id],
            )
            .await?;
        if res.applied {
            return Ok(ShardInfo {
                shard_id: req.shard_id,
                range_id,
                data,
            });
        }
        // Another creator won: the failed IF NOT EXISTS returns the stored row, read in the same
        // Paxos round, so every creator sees the same (first) row.
        match res.rows.first() {
            Some(row) if row.has("range_id") => shard_info(req.shard_id, row),
            _ => {
                let row = self
                    .cass
                    .serial_row(SELECT_SHARD, vals![req.shard_id.0])
                    .await?
                    .ok_or_else(|| {
                        StoreError::not_found(format!(
                            "shard {} was deleted while being created",
                            req.shard_id
                        ))
                    })?;
                shard_info(req.shard_id, &row)
            }
        }
    }

    async fn update_shard(&self, req: UpdateShardRequest) -> Result<()> {
        req.shard_id.validate()?;
        validate::blob("shard info", &req.data)?;
        let res = self
            .cass
            .cas(
                UPDATE_SHARD,
                vals![
                    &req.data.data,
                    &req.data.encoding,
                    req.range_id,
                    req.shard_id.0,
                    req.previous_range_id
                ],
            )
            .await?;
        if res.applied {
            return Ok(());
        }
        // Not applied: the returned row holds the stored range id; no row means no shard.
        match lease_error(req.shard_id, req.previous_range_id, res.rows.first())? {
            Some(e) => Err(e),
            None => Err(StoreError::condition_failed(format!(
                "update of shard {} was not applied although its range id matched",
                req.shard_id
            ))),
        }
    }

    async fn assert_shard_ownership(&self, shard_id: ShardId, range_id: i64) -> Result<()> {
        shard_id.validate()?;
        // A serial read: it sees every committed renewal (and finishes one in flight), so a
        // passing check is not contradicted by an `update_shard` that already returned.
        let row = self
            .cass
            .serial_row(SELECT_RANGE, vals![shard_id.0])
            .await?;
        match lease_error(shard_id, range_id, row.as_ref())? {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
