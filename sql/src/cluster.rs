//! ClusterMetadataStore on SQL: versioned blobs in `cluster_metadata_info` (partition 0) and
//! membership heartbeats in `cluster_membership` (partition 0), as in Temporal.
//!
//! "Now" is computed here, truncated to microseconds and bound as a parameter, so every database
//! compares expiry against the same clock and precision.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use durastore_api::{
    ClusterMember, ClusterMemberFilter, ClusterMetadataRecord, ClusterMetadataStore, DataBlob,
    DateTime, ErrorKind, Page, Result, StoreError, UpsertClusterMembershipRequest, Utc,
    truncate_to_micros, validate,
};
use serde::{Deserialize, Serialize};

use crate::columns::{Columns, NamedRow};
use crate::driver::SqlTx;
use crate::paging::{hex, keyset_page, unhex};
use crate::value::{Row, Value};
use crate::{SqlStore, params};

pub(crate) fn make(store: &Arc<SqlStore>) -> Option<Arc<dyn ClusterMetadataStore>> {
    Some(store.clone() as Arc<dyn ClusterMetadataStore>)
}

/// Temporal's constant partitions.
const METADATA_PARTITION: i32 = 0;
const MEMBERSHIP_PARTITION: i32 = 0;

/// Width of the `rpc_address` column (`VARCHAR(128)`).
const MAX_RPC_ADDRESS_BYTES: usize = 128;

fn now() -> DateTime<Utc> {
    truncate_to_micros(Utc::now())
}

fn duration(what: &str, d: Duration) -> Result<chrono::Duration> {
    chrono::Duration::from_std(d)
        .map_err(|_| StoreError::invalid_argument(format!("{what} {d:?} is out of range")))
}

fn checked_add(t: DateTime<Utc>, d: chrono::Duration, what: &str) -> Result<DateTime<Utc>> {
    t.checked_add_signed(d)
        .ok_or_else(|| StoreError::invalid_argument(format!("{what} is out of range")))
}

fn checked_sub(t: DateTime<Utc>, d: chrono::Duration, what: &str) -> Result<DateTime<Utc>> {
    t.checked_sub_signed(d)
        .ok_or_else(|| StoreError::invalid_argument(format!("{what} is out of range")))
}

/// Reads a port stored in a signed 16-bit column: values above 32767 come back negative on
/// databases that wrap, so both forms are accepted.
fn port(row: &NamedRow, name: &str) -> Result<u16> {
    let v = row.i64(name)?;
    if let Ok(p) = u16::try_from(v) {
        return Ok(p);
    }
    i16::try_from(v)
        .map(|p| p as u16)
        .map_err(|_| StoreError::internal(format!("stored rpc port {v} is out of range")))
}

/// What [`member`] reads.
const MEMBER_COLUMNS: Columns = Columns(&[
    "host_id",
    "rpc_address",
    "rpc_port",
    "role",
    "session_start",
    "last_heartbeat",
    "record_expiry",
]);

fn member(row: &Row) -> Result<ClusterMember> {
    let row = MEMBER_COLUMNS.read(row);
    Ok(ClusterMember {
        host_id: row.bytes("host_id")?,
        rpc_address: row.string("rpc_address")?,
        rpc_port: port(&row, "rpc_port")?,
        role: row.i32("role")?,
        session_start: row.time("session_start")?,
        last_heartbeat: row.time("last_heartbeat")?,
        record_expiry: row.time("record_expiry")?,
    })
}

/// What [`metadata`] reads.
const METADATA_COLUMNS: Columns = Columns(&["cluster_name", "data", "data_encoding", "version"]);

fn metadata(row: &Row) -> Result<ClusterMetadataRecord> {
    let row = METADATA_COLUMNS.read(row);
    Ok(ClusterMetadataRecord {
        cluster_name: row.string("cluster_name")?,
        data: row.blob("data", "data_encoding")?,
        version: row.i64("version")?,
    })
}

/// Keyset position of a metadata listing.
#[derive(Serialize, Deserialize)]
struct NameToken {
    n: String,
}

/// Keyset position of a member listing: the last host id, hex.
#[derive(Serialize, Deserialize)]
struct HostToken {
    h: String,
}

impl SqlStore {
    async fn cluster_save_metadata_tx(
        &self,
        tx: &mut dyn SqlTx,
        cluster_name: &str,
        data: &DataBlob,
        version: i64,
    ) -> Result<()> {
        let sql = format!(
            "SELECT version FROM cluster_metadata_info WHERE metadata_partition = ? AND cluster_name = ?{}",
            self.dialect().lock_update()
        );
        let rows = tx
            .query(&sql, &params![METADATA_PARTITION, cluster_name])
            .await?;
        let stored = match rows.first() {
            Some(r) => r.i64(0)?,
            // A missing row has no version v: the CAS fails (contract: "else ConditionFailed").
            None => {
                return Err(StoreError::condition_failed(format!(
                    "cluster metadata {cluster_name:?} does not exist (expected version {version})"
                )));
            }
        };
        if stored != version {
            return Err(StoreError::condition_failed(format!(
                "cluster metadata {cluster_name:?} is at version {stored}, not {version}"
            )));
        }
        tx.execute(
            "UPDATE cluster_metadata_info SET data = ?, data_encoding = ?, version = ? WHERE metadata_partition = ? AND cluster_name = ?",
            &params![
                data.data.as_slice(),
                &data.encoding,
                version + 1,
                METADATA_PARTITION,
                cluster_name
            ],
        )
        .await?;
        Ok(())
    }
}

#[async_trait]
impl ClusterMetadataStore for SqlStore {
    async fn list_cluster_metadata(
        &self,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<ClusterMetadataRecord>> {
        let page_size = validate::page_size(page_size)?;
        let mut sql = format!(
            "SELECT {} FROM cluster_metadata_info WHERE metadata_partition = ?",
            METADATA_COLUMNS.list()
        );
        let mut p = params![METADATA_PARTITION];
        if let Some(t) = &next_page_token {
            let after: NameToken = validate::token::decode(t)?;
            sql.push_str(" AND cluster_name > ?");
            p.push(Value::Text(after.n));
        }
        sql.push_str(" ORDER BY cluster_name LIMIT ?");
        p.push(Value::Int(page_size as i64 + 1));
        let rows = self.driver.query(&sql, &p).await?;
        keyset_page(&rows, page_size, metadata, |l| NameToken {
            n: l.cluster_name.clone(),
        })
    }

    async fn get_cluster_metadata(&self, cluster_name: &str) -> Result<ClusterMetadataRecord> {
        validate::id_string("cluster name", cluster_name)?;
        let rows = self
            .driver
            .query(
                &format!(
                    "SELECT {} FROM cluster_metadata_info WHERE metadata_partition = ? AND cluster_name = ?",
                    METADATA_COLUMNS.list()
                ),
                &params![METADATA_PARTITION, cluster_name],
            )
            .await?;
        match rows.first() {
            Some(r) => metadata(r),
            None => Err(StoreError::not_found(format!(
                "cluster metadata {cluster_name:?} not found"
            ))),
        }
    }

    async fn save_cluster_metadata(
        &self,
        cluster_name: &str,
        data: DataBlob,
        version: i64,
    ) -> Result<()> {
        validate::id_string("cluster name", cluster_name)?;
        validate::blob("cluster metadata", &data)?;
        validate::non_negative("cluster metadata version", version)?;
        if version == 0 {
            self.driver
                .execute(
                    "INSERT INTO cluster_metadata_info (metadata_partition, cluster_name, data, data_encoding, version) VALUES (?, ?, ?, ?, ?)",
                    &params![METADATA_PARTITION, cluster_name, data.data, data.encoding, 1i64],
                )
                .await
                .map_err(|e| {
                    if e.kind() == ErrorKind::AlreadyExists {
                        StoreError::already_exists(format!(
                            "cluster metadata {cluster_name:?} already exists"
                        ))
                    } else {
                        e
                    }
                })?;
            return Ok(());
        }
        let mut tx = self.driver.begin().await?;
        let result = self
            .cluster_save_metadata_tx(tx.as_mut(), cluster_name, &data, version)
            .await;
        SqlStore::finish(tx, result).await
    }

    async fn delete_cluster_metadata(&self, cluster_name: &str) -> Result<()> {
        validate::id_string("cluster name", cluster_name)?;
        self.driver
            .execute(
                "DELETE FROM cluster_metadata_info WHERE metadata_partition = ? AND cluster_name = ?",
                &params![METADATA_PARTITION, cluster_name],
            )
            .await?;
        Ok(())
    }

    async fn upsert_cluster_membership(&self, req: UpsertClusterMembershipRequest) -> Result<()> {
        validate::host_id("host id", &req.host_id)?;
        if req.rpc_address.len() > MAX_RPC_ADDRESS_BYTES {
            return Err(StoreError::size_limit(format!(
                "rpc address is {} bytes, limit {MAX_RPC_ADDRESS_BYTES}",
                req.rpc_address.len()
            )));
        }
        if req.rpc_address.contains('\0') {
            return Err(StoreError::invalid_argument(
                "rpc address contains a NUL character",
            ));
        }
        let now = now();
        let expiry = checked_add(
            now,
            duration("record expiry", req.record_expiry)?,
            "record expiry",
        )?;
        let sql = self.dialect().upsert(
            "cluster_membership",
            &[
                "membership_partition",
                "host_id",
                "rpc_address",
                "rpc_port",
                "role",
                "session_start",
                "last_heartbeat",
                "record_expiry",
            ],
            &["membership_partition", "host_id"],
        );
        self.driver
            .execute(
                &sql,
                &params![
                    MEMBERSHIP_PARTITION,
                    req.host_id,
                    req.rpc_address,
                    // Stored as the same 16 bits in a signed SMALLINT column (Temporal's type),
                    // so ports above 32767 fit on every database; `port` reads both forms.
                    i64::from(req.rpc_port as i16),
                    req.role,
                    truncate_to_micros(req.session_start),
                    now,
                    expiry
                ],
            )
            .await?;
        Ok(())
    }

    async fn get_cluster_members(
        &self,
        filter: ClusterMemberFilter,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<ClusterMember>> {
        let page_size = validate::page_size(page_size)?;
        if let Some(h) = &filter.host_id_equals {
            validate::host_id("host id filter", h)?;
        }
        let after: Option<HostToken> = match &next_page_token {
            None => None,
            Some(t) => Some(validate::token::decode(t)?),
        };
        let now = now();
        let mut sql = format!(
            "SELECT {} FROM cluster_membership WHERE membership_partition = ? AND record_expiry > ?",
            MEMBER_COLUMNS.list()
        );
        let mut p = params![MEMBERSHIP_PARTITION, now];
        if let Some(within) = filter.last_heartbeat_within {
            let since = checked_sub(
                now,
                duration("last heartbeat window", within)?,
                "last heartbeat window",
            )?;
            sql.push_str(" AND last_heartbeat > ?");
            p.push(Value::Time(since));
        }
        if let Some(addr) = filter.rpc_address_equals {
            sql.push_str(" AND rpc_address = ?");
            p.push(Value::Text(addr));
        }
        if let Some(h) = filter.host_id_equals {
            sql.push_str(" AND host_id = ?");
            p.push(Value::Bytes(h));
        }
        if let Some(role) = filter.role_equals {
            sql.push_str(" AND role = ?");
            p.push(Value::Int(i64::from(role)));
        }
        if let Some(after_start) = filter.session_started_after {
            sql.push_str(" AND session_start > ?");
            p.push(Value::Time(truncate_to_micros(after_start)));
        }
        if let Some(t) = after {
            sql.push_str(" AND host_id > ?");
            p.push(Value::Bytes(unhex(&t.h)?));
        }
        sql.push_str(" ORDER BY host_id LIMIT ?");
        p.push(Value::Int(page_size as i64 + 1));
        let rows = self.driver.query(&sql, &p).await?;
        keyset_page(&rows, page_size, member, |l| HostToken {
            h: hex(&l.host_id),
        })
    }

    async fn prune_cluster_membership(&self, max_records: i32) -> Result<i64> {
        if max_records <= 0 {
            return Err(StoreError::invalid_argument(format!(
                "max records must be positive, got {max_records}"
            )));
        }
        let sql = self.dialect().delete_limited(
            "cluster_membership",
            &["membership_partition", "host_id"],
            "membership_partition = ? AND record_expiry < ?",
            "record_expiry",
        );
        let n = self
            .driver
            .execute(
                &sql,
                &params![MEMBERSHIP_PARTITION, now(), i64::from(max_records)],
            )
            .await?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }
}
