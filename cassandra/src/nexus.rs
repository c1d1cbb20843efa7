//! NexusEndpointStore on Cassandra, in Temporal's layout: one table `nexus_endpoints` with a
//! single partition (`partition = 0`) clustered by `(type, id)`. The row of type 0 under the nil
//! UUID is the partition status and holds the table version; rows of type 1 are endpoints.
//!
//! Sharing the partition is what makes every write **one conditional batch** (one Paxos round):
//! the endpoint's condition (`IF NOT EXISTS` / `IF version = ?` / `IF EXISTS`) and the table
//! version's (`IF NOT EXISTS` for the first write, else `IF version = ?`) apply together or not
//! at all. A batch that did not apply returns the rows it checked; the failed condition and the
//! stored versions are read from them.
//!
//! A listing reads the table version (serially, so an in-flight write is settled first), the
//! page, and the version again: when it moved in between, the page is read again, so the
//! endpoints returned are those of the version returned. Ids are ordered by Cassandra's `uuid`
//! order, which is byte order for random (version 4) UUIDs.

use std::sync::Arc;

use async_trait::async_trait;
use durastore_api::nexus::{list_page_size, not_found, validate_id, validate_write};
use durastore_api::{
    DataBlob, ErrorKind, NexusEndpoint, NexusEndpointPage, NexusEndpointStore, Result, StoreError,
    Uuid, validate,
};
use scylla::value::CqlValue;

use crate::session::{CRow, CasResult, Cass, Stmt, vals};

/// The store.
pub(crate) fn make(cass: &Arc<Cass>) -> Option<Arc<dyn NexusEndpointStore>> {
    Some(Arc::new(CassNexusStore { cass: cass.clone() }))
}

struct CassNexusStore {
    cass: Arc<Cass>,
}

/// Row types of the partition (Temporal's).
const TYPE_STATUS: i32 = 0;
const TYPE_ENDPOINT: i32 = 1;

/// How often a listing re-reads a page whose table version moved while it was read.
const LIST_ATTEMPTS: usize = 20;

const INIT_TABLE: &str = "INSERT INTO nexus_endpoints (partition, type, id, version) \
     VALUES (0, ?, ?, 1) IF NOT EXISTS";
const ADVANCE_TABLE: &str = "UPDATE nexus_endpoints SET version = ? \
     WHERE partition = 0 AND type = ? AND id = ? IF version = ?";
const SELECT_TABLE: &str =
    "SELECT version FROM nexus_endpoints WHERE partition = 0 AND type = ? AND id = ?";

const INSERT_ENDPOINT: &str = "INSERT INTO nexus_endpoints \
     (partition, type, id, data, data_encoding, version) VALUES (0, ?, ?, ?, ?, 1) IF NOT EXISTS";
const UPDATE_ENDPOINT: &str = "UPDATE nexus_endpoints SET data = ?, data_encoding = ?, \
     version = ? WHERE partition = 0 AND type = ? AND id = ? IF version = ?";
const DELETE_ENDPOINT: &str =
    "DELETE FROM nexus_endpoints WHERE partition = 0 AND type = ? AND id = ? IF EXISTS";
const SELECT_ENDPOINT: &str = "SELECT id, data, data_encoding, version FROM nexus_endpoints \
     WHERE partition = 0 AND type = ? AND id = ?";
const LIST_FIRST: &str = "SELECT id, data, data_encoding, version FROM nexus_endpoints \
     WHERE partition = 0 AND type = ? LIMIT ?";
const LIST_AFTER: &str = "SELECT id, data, data_encoding, version FROM nexus_endpoints \
     WHERE partition = 0 AND type = ? AND id > ? LIMIT ?";

fn endpoint(row: &CRow) -> Result<NexusEndpoint> {
    Ok(NexusEndpoint {
        id: row.uuid("id")?,
        version: row.i64("version")?,
        data: DataBlob::new(row.blob("data")?, row.text("data_encoding")?),
    })
}

/// The statement that moves the table version from `last_known` to `last_known + 1`.
fn advance_table(last_known: i64) -> Stmt {
    if last_known == 0 {
        Stmt::new(INIT_TABLE, vals![TYPE_STATUS, Uuid::nil()])
    } else {
        Stmt::new(
            ADVANCE_TABLE,
            vals![last_known + 1, TYPE_STATUS, Uuid::nil(), last_known],
        )
    }
}

/// The row a failed batch returned for `(type, id)`, if any.
fn returned(res: &CasResult, row_type: i32, id: Uuid) -> Option<&CRow> {
    res.rows.iter().find(|r| {
        matches!(r.get("type"), Some(CqlValue::Int(t)) if *t == row_type)
            && matches!(r.get("id"), Some(CqlValue::Uuid(u)) if *u == id)
    })
}

/// The table version a failed batch saw (0 when the status row does not exist yet).
fn returned_table_version(res: &CasResult) -> Result<i64> {
    match returned(res, TYPE_STATUS, Uuid::nil()) {
        Some(r) => Ok(r.opt_i64("version")?.unwrap_or(0)),
        None => Ok(0),
    }
}

/// The endpoint version a failed batch saw (None when the endpoint does not exist).
fn returned_endpoint_version(res: &CasResult, id: Uuid) -> Result<Option<i64>> {
    match returned(res, TYPE_ENDPOINT, id) {
        Some(r) => r.opt_i64("version"),
        None => Ok(None),
    }
}

impl CassNexusStore {
    /// The table version, read serially (0 before the first write).
    async fn table_version(&self) -> Result<i64> {
        match self
            .cass
            .serial_row(SELECT_TABLE, vals![TYPE_STATUS, Uuid::nil()])
            .await?
        {
            Some(r) => Ok(r.opt_i64("version")?.unwrap_or(0)),
            None => Ok(0),
        }
    }

    /// One page of endpoints after `after`, `page_size + 1` rows asked for.
    async fn page_rows(&self, page_size: usize, after: Option<Uuid>) -> Result<Vec<CRow>> {
        // page_size is at most validate::MAX_PAGE_SIZE.
        let limit = i32::try_from(page_size + 1).unwrap_or(i32::MAX);
        match after {
            None => {
                self.cass
                    .rows(LIST_FIRST, vals![TYPE_ENDPOINT, limit])
                    .await
            }
            Some(a) => {
                self.cass
                    .rows(LIST_AFTER, vals![TYPE_ENDPOINT, a, limit])
                    .await
            }
        }
    }
}

#[async_trait]
impl NexusEndpointStore for CassNexusStore {
    async fn create_or_update_nexus_endpoint(
        &self,
        last_known_table_version: i64,
        e: NexusEndpoint,
    ) -> Result<()> {
        validate_write(last_known_table_version, &e)?;
        let write = if e.version == 0 {
            Stmt::new(
                INSERT_ENDPOINT,
                vals![
                    TYPE_ENDPOINT,
                    e.id,
                    e.data.data.as_slice(),
                    e.data.encoding.as_str()
                ],
            )
        } else {
            Stmt::new(
                UPDATE_ENDPOINT,
                vals![
                    e.data.data.as_slice(),
                    e.data.encoding.as_str(),
                    e.version + 1,
                    TYPE_ENDPOINT,
                    e.id,
                    e.version
                ],
            )
        };
        let res = self
            .cass
            .batch(vec![advance_table(last_known_table_version), write])
            .await?;
        if res.applied {
            return Ok(());
        }
        let table = returned_table_version(&res)?;
        if table != last_known_table_version {
            return Err(StoreError::nexus_table_version_mismatch(
                last_known_table_version,
                table,
            ));
        }
        let stored = returned_endpoint_version(&res, e.id)?;
        let holds = match stored {
            None => e.version == 0,
            Some(v) => e.version != 0 && v == e.version,
        };
        if !holds {
            return Err(StoreError::nexus_endpoint_version_mismatch(
                e.id, e.version, stored,
            ));
        }
        // Both conditions held by the rows returned, yet the batch did not apply.
        Err(StoreError::new(
            ErrorKind::Unavailable,
            "cassandra: the nexus endpoint batch did not apply although its conditions held; \
             nothing was written, try again",
        )
        .with_retryable(true))
    }

    async fn delete_nexus_endpoint(&self, last_known_table_version: i64, id: Uuid) -> Result<()> {
        validate::non_negative("nexus endpoints table version", last_known_table_version)?;
        validate_id(id)?;
        let res = self
            .cass
            .batch(vec![
                advance_table(last_known_table_version),
                Stmt::new(DELETE_ENDPOINT, vals![TYPE_ENDPOINT, id]),
            ])
            .await?;
        if res.applied {
            return Ok(());
        }
        let table = returned_table_version(&res)?;
        if table != last_known_table_version {
            return Err(StoreError::nexus_table_version_mismatch(
                last_known_table_version,
                table,
            ));
        }
        Err(not_found(id))
    }

    async fn get_nexus_endpoint(&self, id: Uuid) -> Result<NexusEndpoint> {
        validate_id(id)?;
        match self
            .cass
            .row(SELECT_ENDPOINT, vals![TYPE_ENDPOINT, id])
            .await?
        {
            Some(r) => endpoint(&r),
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
        let after: Option<Uuid> = next_page_token
            .as_deref()
            .map(validate::token::decode)
            .transpose()?;
        for _ in 0..LIST_ATTEMPTS {
            let table_version = self.table_version().await?;
            if last_known_table_version != 0 && last_known_table_version != table_version {
                return Err(StoreError::nexus_table_version_mismatch(
                    last_known_table_version,
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
            let rows = self.page_rows(page_size, after).await?;
            if self.table_version().await? != table_version {
                continue;
            }
            let more = rows.len() > page_size;
            let endpoints = rows
                .iter()
                .take(page_size)
                .map(endpoint)
                .collect::<Result<Vec<_>>>()?;
            let next_page_token = match (more, endpoints.last()) {
                (true, Some(last)) => Some(validate::token::encode(&last.id)),
                _ => None,
            };
            return Ok(NexusEndpointPage {
                table_version,
                endpoints,
                next_page_token,
            });
        }
        Err(StoreError::new(
            ErrorKind::Unavailable,
            format!(
                "list_nexus_endpoints: the table version kept moving ({LIST_ATTEMPTS} reads); \
                 try again"
            ),
        )
        .with_retryable(true))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn table_statements() {
        assert_eq!(advance_table(0).cql, INIT_TABLE);
        let s = advance_table(7);
        assert_eq!(s.cql, ADVANCE_TABLE);
        assert_eq!(s.vals.first(), Some(&Some(CqlValue::BigInt(8))));
        assert_eq!(s.vals.last(), Some(&Some(CqlValue::BigInt(7))));
    }
}
