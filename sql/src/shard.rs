//! ShardStore on SQL, and the range-id fence every execution and history-task write runs first.

use std::sync::Arc;

use async_trait::async_trait;
use durastore_api::{
    GetOrCreateShardRequest, Result, ShardId, ShardInfo, ShardStore, StoreError,
    UpdateShardRequest, validate,
};

use crate::columns::Columns;
use crate::dialect::Dialect;
use crate::driver::SqlTx;
use crate::{SqlStore, params};

pub(crate) fn make(store: &Arc<SqlStore>) -> Option<Arc<dyn ShardStore>> {
    Some(store.clone() as Arc<dyn ShardStore>)
}

/// Checks the shard's stored range id inside the caller's transaction, taking a shared lock on
/// the shard row so that a concurrent `update_shard` (exclusive lock) waits for this transaction
/// and fences every later one.
///
/// It must be the first statement of every fenced transaction: shard ownership lost then wins
/// over every other failed condition of the write.
pub(crate) async fn check_range(
    tx: &mut dyn SqlTx,
    dialect: &dyn Dialect,
    shard_id: ShardId,
    range_id: i64,
) -> Result<()> {
    let sql = range_select(dialect.lock_shared());
    let rows = tx.query(&sql, &params![shard_id.0]).await?;
    match rows.first() {
        None => Err(StoreError::shard_ownership_lost(shard_id.0, range_id, None)),
        Some(row) => {
            let stored = RANGE_COLUMNS.read(row).i64("range_id")?;
            if stored == range_id {
                Ok(())
            } else {
                Err(StoreError::shard_ownership_lost(
                    shard_id.0,
                    range_id,
                    Some(stored),
                ))
            }
        }
    }
}

/// What the range-id reads select.
const RANGE_COLUMNS: Columns<'static> = Columns(&["range_id"]);

/// `SELECT range_id FROM shards WHERE shard_id = ?`, plus the row lock `lock`.
fn range_select(lock: &str) -> String {
    format!(
        "SELECT {} FROM shards WHERE shard_id = ?{lock}",
        RANGE_COLUMNS.list()
    )
}

/// What [`SqlStore::read_shard`] selects.
const SHARD_COLUMNS: Columns<'static> = Columns(&["range_id", "data", "data_encoding"]);

impl SqlStore {
    async fn read_shard(&self, shard_id: ShardId) -> Result<Option<ShardInfo>> {
        let rows = self
            .driver
            .query(
                &format!(
                    "SELECT {} FROM shards WHERE shard_id = ?",
                    SHARD_COLUMNS.list()
                ),
                &params![shard_id.0],
            )
            .await?;
        match rows.first() {
            None => Ok(None),
            Some(row) => {
                let row = SHARD_COLUMNS.read(row);
                Ok(Some(ShardInfo {
                    shard_id,
                    range_id: row.i64("range_id")?,
                    data: row.blob("data", "data_encoding")?,
                }))
            }
        }
    }
}

#[async_trait]
impl ShardStore for SqlStore {
    async fn get_or_create_shard(&self, req: GetOrCreateShardRequest) -> Result<ShardInfo> {
        req.shard_id.validate()?;
        if let Some((_, data)) = &req.create_if_missing {
            validate::blob("shard info", data)?;
        }
        if let Some(info) = self.read_shard(req.shard_id).await? {
            return Ok(info);
        }
        let Some((range_id, data)) = req.create_if_missing else {
            return Err(StoreError::not_found(format!(
                "shard {} does not exist",
                req.shard_id
            )));
        };
        // Insert-if-absent, then read: concurrent creators all end up reading the first row.
        let sql = self.dialect().insert_ignore(
            "shards",
            &["shard_id", "range_id", "data", "data_encoding"],
            &["shard_id"],
        );
        self.driver
            .execute(
                &sql,
                &params![req.shard_id.0, range_id, data.data, data.encoding],
            )
            .await?;
        self.read_shard(req.shard_id).await?.ok_or_else(|| {
            StoreError::not_found(format!(
                "shard {} was deleted while being created",
                req.shard_id
            ))
        })
    }

    async fn update_shard(&self, req: UpdateShardRequest) -> Result<()> {
        req.shard_id.validate()?;
        validate::blob("shard info", &req.data)?;
        let mut tx = self.driver.begin().await?;
        let result = async {
            let sql = range_select(self.dialect().lock_update());
            let rows = tx.query(&sql, &params![req.shard_id.0]).await?;
            let stored = match rows.first() {
                None => {
                    return Err(StoreError::shard_ownership_lost(
                        req.shard_id.0,
                        req.previous_range_id,
                        None,
                    ));
                }
                Some(row) => RANGE_COLUMNS.read(row).i64("range_id")?,
            };
            if stored != req.previous_range_id {
                return Err(StoreError::shard_ownership_lost(
                    req.shard_id.0,
                    req.previous_range_id,
                    Some(stored),
                ));
            }
            let n = tx
                .execute(
                    "UPDATE shards SET range_id = ?, data = ?, data_encoding = ? WHERE shard_id = ?",
                    &params![
                        req.range_id,
                        req.data.data.as_slice(),
                        &req.data.encoding,
                        req.shard_id.0
                    ],
                )
                .await?;
            if n != 1 {
                return Err(StoreError::internal(format!(
                    "update of locked shard {} changed {n} rows",
                    req.shard_id
                )));
            }
            Ok(())
        }
        .await;
        SqlStore::finish(tx, result).await
    }

    async fn assert_shard_ownership(&self, shard_id: ShardId, range_id: i64) -> Result<()> {
        shard_id.validate()?;
        match self.read_shard(shard_id).await? {
            Some(info) if info.range_id == range_id => Ok(()),
            Some(info) => Err(StoreError::shard_ownership_lost(
                shard_id.0,
                range_id,
                Some(info.range_id),
            )),
            None => Err(StoreError::shard_ownership_lost(shard_id.0, range_id, None)),
        }
    }
}
