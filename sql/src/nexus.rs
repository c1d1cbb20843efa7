//! NexusEndpointStore on SQL: endpoints in `nexus_endpoints` (id = 16 UUID bytes) and the table
//! version in the single row (`id = 0`) of `nexus_endpoints_partition_status`, as in Temporal.
//!
//! Every write first moves the table version (`UPDATE … WHERE version = ?`, or the insert of the
//! row by the very first write), which locks that row until the transaction ends: writers of the
//! table serialize on it, so the endpoint checks that follow see no concurrent writer. A failed
//! condition is reported with the version actually stored, read under the same lock.

use std::sync::Arc;

use async_trait::async_trait;
use durastore_api::nexus::{list_page_size, not_found, validate_id, validate_write};
use durastore_api::{
    NexusEndpoint, NexusEndpointPage, NexusEndpointStore, Result, StoreError, Uuid, validate,
};
use serde::{Deserialize, Serialize};

use crate::columns::Columns;
use crate::driver::SqlTx;
use crate::value::{Row, Value};
use crate::{SqlStore, params};

pub(crate) fn make(store: &Arc<SqlStore>) -> Option<Arc<dyn NexusEndpointStore>> {
    Some(store.clone() as Arc<dyn NexusEndpointStore>)
}

/// The one row of `nexus_endpoints_partition_status` (its CHECK allows only 0).
const STATUS_ID: i32 = 0;

/// What [`endpoint`] reads.
const COLUMNS: Columns = Columns(&["id", "data", "data_encoding", "version"]);

fn endpoint(row: &Row) -> Result<NexusEndpoint> {
    let row = COLUMNS.read(row);
    let id = row.bytes("id")?;
    Ok(NexusEndpoint {
        id: Uuid::from_slice(&id).map_err(|_| {
            StoreError::internal(format!("nexus_endpoints.id has {} bytes, not 16", id.len()))
        })?,
        version: row.i64("version")?,
        data: row.blob("data", "data_encoding")?,
    })
}

/// Keyset position of a listing: the last id returned.
#[derive(Serialize, Deserialize)]
struct IdToken {
    id: Uuid,
}

impl SqlStore {
    /// The stored table version (0 when the row does not exist yet), read with `lock`.
    async fn nexus_table_version(&self, tx: &mut dyn SqlTx, lock: &str) -> Result<i64> {
        let sql =
            format!("SELECT version FROM nexus_endpoints_partition_status WHERE id = ?{lock}");
        let rows = tx.query(&sql, &params![STATUS_ID]).await?;
        rows.first().map_or(Ok(0), |r| r.i64(0))
    }

    /// Moves the table version from `last_known` to `last_known + 1`, or fails with the stored
    /// version. Holds the row's lock until the transaction ends.
    async fn nexus_advance_table(&self, tx: &mut dyn SqlTx, last_known: i64) -> Result<()> {
        let n = if last_known == 0 {
            // The first write creates the row. Insert-if-absent reports a taken row as 0 rows
            // (a unique violation would abort a PostgreSQL transaction before we could read
            // the stored version).
            let sql = self.dialect().insert_ignore(
                "nexus_endpoints_partition_status",
                &["id", "version"],
                &["id"],
            );
            tx.execute(&sql, &params![STATUS_ID, 1i64]).await?
        } else {
            tx.execute(
                "UPDATE nexus_endpoints_partition_status SET version = ? WHERE id = ? AND version = ?",
                &params![last_known + 1, STATUS_ID, last_known],
            )
            .await?
        };
        if n == 1 {
            return Ok(());
        }
        let lock = self.dialect().lock_update();
        let actual = self.nexus_table_version(tx, lock).await?;
        Err(StoreError::nexus_table_version_mismatch(last_known, actual))
    }

    /// The stored version of one endpoint, if it exists, locked for update.
    async fn nexus_endpoint_version(&self, tx: &mut dyn SqlTx, id: Uuid) -> Result<Option<i64>> {
        let sql = format!(
            "SELECT version FROM nexus_endpoints WHERE id = ?{}",
            self.dialect().lock_update()
        );
        let rows = tx.query(&sql, &params![id.as_bytes()]).await?;
        rows.first().map(|r| r.i64(0)).transpose()
    }

    async fn nexus_write_tx(
        &self,
        tx: &mut dyn SqlTx,
        last_known: i64,
        e: &NexusEndpoint,
    ) -> Result<()> {
        self.nexus_advance_table(tx, last_known).await?;
        let stored = self.nexus_endpoint_version(tx, e.id).await?;
        match stored {
            None if e.version == 0 => {
                tx.execute(
                    "INSERT INTO nexus_endpoints (id, data, data_encoding, version) VALUES (?, ?, ?, ?)",
                    &params![e.id.as_bytes(), e.data.data.as_slice(), &e.data.encoding, 1i64],
                )
                .await?;
            }
            Some(v) if v == e.version && e.version > 0 => {
                tx.execute(
                    "UPDATE nexus_endpoints SET data = ?, data_encoding = ?, version = ? WHERE id = ? AND version = ?",
                    &params![
                        e.data.data.as_slice(),
                        &e.data.encoding,
                        e.version + 1,
                        e.id.as_bytes(),
                        e.version
                    ],
                )
                .await?;
            }
            other => {
                return Err(StoreError::nexus_endpoint_version_mismatch(
                    e.id, e.version, other,
                ));
            }
        }
        Ok(())
    }

    async fn nexus_delete_tx(&self, tx: &mut dyn SqlTx, last_known: i64, id: Uuid) -> Result<()> {
        self.nexus_advance_table(tx, last_known).await?;
        let n = tx
            .execute(
                "DELETE FROM nexus_endpoints WHERE id = ?",
                &params![id.as_bytes()],
            )
            .await?;
        if n == 0 {
            return Err(not_found(id));
        }
        Ok(())
    }

    async fn nexus_list_tx(
        &self,
        tx: &mut dyn SqlTx,
        last_known: i64,
        page_size: usize,
        after: Option<Uuid>,
    ) -> Result<NexusEndpointPage> {
        // A shared lock on the version row: no writer commits between the two reads, so the
        // endpoints are those of the version returned.
        let table_version = self
            .nexus_table_version(tx, self.dialect().lock_shared())
            .await?;
        if last_known != 0 && last_known != table_version {
            return Err(StoreError::nexus_table_version_mismatch(
                last_known,
                table_version,
            ));
        }
        if page_size == 0 {
            return Ok(NexusEndpointPage {
                table_version,
                endpoints: Vec::new(),
                next_page_token: None,
            });
        }
        let mut sql = format!("SELECT {} FROM nexus_endpoints", COLUMNS.list());
        let mut p = Vec::new();
        if let Some(after) = after {
            sql.push_str(" WHERE id > ?");
            p.push(Value::Bytes(after.as_bytes().to_vec()));
        }
        sql.push_str(" ORDER BY id LIMIT ?");
        p.push(Value::Int(page_size as i64 + 1));
        let rows = tx.query(&sql, &p).await?;
        let page =
            crate::paging::keyset_page(&rows, page_size, endpoint, |e| IdToken { id: e.id })?;
        Ok(NexusEndpointPage {
            table_version,
            endpoints: page.items,
            next_page_token: page.next_page_token,
        })
    }
}

#[async_trait]
impl NexusEndpointStore for SqlStore {
    async fn create_or_update_nexus_endpoint(
        &self,
        last_known_table_version: i64,
        endpoint: NexusEndpoint,
    ) -> Result<()> {
        validate_write(last_known_table_version, &endpoint)?;
        let mut tx = self.driver.begin().await?;
        let result = self
            .nexus_write_tx(tx.as_mut(), last_known_table_version, &endpoint)
            .await;
        SqlStore::finish(tx, result).await
    }

    async fn delete_nexus_endpoint(&self, last_known_table_version: i64, id: Uuid) -> Result<()> {
        validate::non_negative("nexus endpoints table version", last_known_table_version)?;
        validate_id(id)?;
        let mut tx = self.driver.begin().await?;
        let result = self
            .nexus_delete_tx(tx.as_mut(), last_known_table_version, id)
            .await;
        SqlStore::finish(tx, result).await
    }

    async fn get_nexus_endpoint(&self, id: Uuid) -> Result<NexusEndpoint> {
        validate_id(id)?;
        let sql = format!(
            "SELECT {} FROM nexus_endpoints WHERE id = ?",
            COLUMNS.list()
        );
        let rows = self.driver.query(&sql, &params![id.as_bytes()]).await?;
        match rows.first() {
            Some(r) => endpoint(r),
            None => Err(not_found(id)),
        }
    }

    async fn list_nexus_endpoints(
        &self,
        last_known_table_version: i64,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<NexusEndpointPage> {
        validate::non_negative("nexus endpoints table version", last_known_table_version)?;
        let page_size = list_page_size(page_size)?;
        let after = match &next_page_token {
            Some(t) => Some(validate::token::decode::<IdToken>(t)?.id),
            None => None,
        };
        let mut tx = self.driver.begin().await?;
        let result = self
            .nexus_list_tx(tx.as_mut(), last_known_table_version, page_size, after)
            .await;
        SqlStore::finish(tx, result).await
    }
}
