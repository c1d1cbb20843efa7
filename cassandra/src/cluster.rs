//! ClusterMetadataStore on Cassandra: versioned metadata blobs in `cluster_metadata_info` and
//! membership heartbeats in `cluster_membership`, each in one constant partition (0) as in
//! Temporal.
//!
//! - Metadata writes are lightweight transactions on `version`: the first save is
//!   `INSERT … IF NOT EXISTS`, later ones `UPDATE … IF version = ?`, and delete is
//!   `DELETE … IF EXISTS`, so every write of a row goes through Paxos and a delete can never be
//!   ordered behind an older conditional write by timestamps.
//! - Heartbeats are written `USING TTL`, so expired rows vanish by themselves and
//!   [`ClusterMetadataStore::prune_cluster_membership`] has nothing to do (capability
//!   `membership_prune` is false). The TTL is rounded up and padded by a second, and the exact
//!   `record_expiry` is stored as a column that every read compares with "now": the TTL only
//!   reclaims space, the column decides visibility (TTLs count whole seconds from the
//!   coordinator's clock; the contract counts from our clock at millisecond precision).
//! - Member filters other than the host id are evaluated by the server inside the single
//!   partition (`ALLOW FILTERING` on a bounded partition: one row per live host), with keyset
//!   paging on the clustering column `host_id`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use durastore_api::{
    ClusterMember, ClusterMemberFilter, ClusterMetadataRecord, ClusterMetadataStore, DataBlob,
    DateTime, Page, Result, StoreError, UpsertClusterMembershipRequest, Utc, truncate_to_millis,
    validate,
};

use crate::error::corrupt;
use crate::session::{CRow, Cass, IntoCql, Vals, vals};

/// The store.
pub(crate) fn make(cass: &Arc<Cass>) -> Option<Arc<dyn ClusterMetadataStore>> {
    Some(Arc::new(CassClusterStore { cass: cass.clone() }))
}

/// Temporal's constant partitions.
const METADATA_PARTITION: i32 = 0;
const MEMBERSHIP_PARTITION: i32 = 0;

/// Longest RPC address accepted (the SQL stores' `VARCHAR(128)`, kept for one contract).
const MAX_RPC_ADDRESS_BYTES: usize = 128;

/// Longest TTL Cassandra accepts (20 years, in seconds).
const MAX_TTL_SECONDS: u64 = 20 * 365 * 24 * 60 * 60;

/// ClusterMetadataStore over a shared session.
struct CassClusterStore {
    cass: Arc<Cass>,
}

/// Now at the millisecond precision of CQL `timestamp`, so what is written and what reads
/// compare against have the same precision.
fn now() -> DateTime<Utc> {
    truncate_to_millis(Utc::now())
}

fn duration(what: &str, d: Duration) -> Result<chrono::Duration> {
    chrono::Duration::from_std(d)
        .map_err(|_| StoreError::invalid_argument(format!("{what} {d:?} is out of range")))
}

/// The TTL (seconds) that keeps a heartbeat row at least until `record_expiry` has passed.
///
/// Cassandra expires a cell at `write second + ttl`, where the write second is truncated: up
/// to one second early. Rounding up and adding a second covers that and small clock
/// differences; reads filter on the stored `record_expiry` for the exact cut. A TTL of 0 would
/// mean "never expire", hence at least 1.
fn ttl_seconds(record_expiry: Duration) -> Result<i32> {
    let secs = record_expiry
        .as_secs()
        .saturating_add(u64::from(record_expiry.subsec_nanos() > 0))
        .saturating_add(1);
    if secs > MAX_TTL_SECONDS {
        return Err(StoreError::invalid_argument(format!(
            "record expiry {record_expiry:?} exceeds Cassandra's longest TTL ({MAX_TTL_SECONDS} s)"
        )));
    }
    // MAX_TTL_SECONDS fits in an i32.
    Ok(i32::try_from(secs).unwrap_or(i32::MAX))
}

fn metadata(row: &CRow) -> Result<ClusterMetadataRecord> {
    Ok(ClusterMetadataRecord {
        cluster_name: row.text("cluster_name")?,
        data: DataBlob::new(row.blob("data")?, row.text("data_encoding")?),
        version: row.i64("version")?,
    })
}

fn member(row: &CRow) -> Result<ClusterMember> {
    let time = |name: &str| {
        row.opt_time(name)?
            .ok_or_else(|| corrupt(format!("cluster_membership.{name} is null")))
    };
    let port = row.i32("rpc_port")?;
    Ok(ClusterMember {
        host_id: row.blob("host_id")?,
        rpc_address: row.text("rpc_address")?,
        rpc_port: u16::try_from(port)
            .map_err(|_| corrupt(format!("cluster_membership.rpc_port {port} out of range")))?,
        role: row.i32("role")?,
        session_start: time("session_start")?,
        last_heartbeat: time("last_heartbeat")?,
        record_expiry: time("record_expiry")?,
    })
}

/// Page size as the `int` a `LIMIT ?` marker binds: one more than asked, to know whether a
/// next page exists.
fn limit_plus_one(page_size: usize) -> i32 {
    // page_size is at most validate::MAX_PAGE_SIZE.
    i32::try_from(page_size + 1).unwrap_or(i32::MAX)
}

/// Builds a page from rows fetched with `LIMIT page_size + 1`; the token (only when the extra
/// row exists) holds the keyset position of the last returned item.
fn keyset_page<T>(
    rows: &[CRow],
    page_size: usize,
    map: impl FnMut(&CRow) -> Result<T>,
    key_of: impl Fn(&T) -> String,
) -> Result<Page<T>> {
    let more = rows.len() > page_size;
    let items = rows
        .iter()
        .take(page_size)
        .map(map)
        .collect::<Result<Vec<_>>>()?;
    let next_page_token = match (more, items.last()) {
        (true, Some(last)) => Some(validate::token::encode(&key_of(last))),
        _ => None,
    };
    Ok(Page {
        items,
        next_page_token,
    })
}

/// Lower-case hex of a binary key, for a JSON page token.
fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Inverse of [`hex`]; anything else is an invalid page token.
fn unhex(s: &str) -> Result<Vec<u8>> {
    let bad = || StoreError::invalid_argument("invalid page token");
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return Err(bad());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| bad()))
        .collect()
}

#[async_trait]
impl ClusterMetadataStore for CassClusterStore {
    async fn list_cluster_metadata(
        &self,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<ClusterMetadataRecord>> {
        let page_size = validate::page_size(page_size)?;
        let after: Option<String> = next_page_token
            .as_deref()
            .map(validate::token::decode)
            .transpose()?;
        let limit = limit_plus_one(page_size);
        let rows = match after {
            None => {
                self.cass
                    .rows(
                        "SELECT cluster_name, data, data_encoding, version FROM cluster_metadata_info WHERE metadata_partition = ? LIMIT ?",
                        vals![METADATA_PARTITION, limit],
                    )
                    .await?
            }
            Some(after) => {
                self.cass
                    .rows(
                        "SELECT cluster_name, data, data_encoding, version FROM cluster_metadata_info WHERE metadata_partition = ? AND cluster_name > ? LIMIT ?",
                        vals![METADATA_PARTITION, after, limit],
                    )
                    .await?
            }
        };
        keyset_page(&rows, page_size, metadata, |r| r.cluster_name.clone())
    }

    async fn get_cluster_metadata(&self, cluster_name: &str) -> Result<ClusterMetadataRecord> {
        validate::id_string("cluster name", cluster_name)?;
        let row = self
            .cass
            .row(
                "SELECT cluster_name, data, data_encoding, version FROM cluster_metadata_info WHERE metadata_partition = ? AND cluster_name = ?",
                vals![METADATA_PARTITION, cluster_name],
            )
            .await?;
        match row {
            Some(r) => metadata(&r),
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
            let res = self
                .cass
                .cas(
                    "INSERT INTO cluster_metadata_info (metadata_partition, cluster_name, data, data_encoding, version) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS",
                    vals![METADATA_PARTITION, cluster_name, data.data, data.encoding, 1i64],
                )
                .await?;
            if !res.applied {
                return Err(StoreError::already_exists(format!(
                    "cluster metadata {cluster_name:?} already exists"
                )));
            }
            return Ok(());
        }
        let next = version
            .checked_add(1)
            .ok_or_else(|| StoreError::invalid_argument("cluster metadata version overflows"))?;
        let res = self
            .cass
            .cas(
                "UPDATE cluster_metadata_info SET data = ?, data_encoding = ?, version = ? WHERE metadata_partition = ? AND cluster_name = ? IF version = ?",
                vals![data.data, data.encoding, next, METADATA_PARTITION, cluster_name, version],
            )
            .await?;
        if res.applied {
            return Ok(());
        }
        // The failed condition returns the stored version; a missing row returns none (an
        // `UPDATE … IF` never creates the row).
        let stored = res
            .rows
            .first()
            .map(|r| r.opt_i64("version"))
            .transpose()?
            .flatten();
        Err(StoreError::condition_failed(match stored {
            Some(s) => {
                format!("cluster metadata {cluster_name:?} is at version {s}, not {version}")
            }
            None => format!(
                "cluster metadata {cluster_name:?} does not exist (expected version {version})"
            ),
        }))
    }

    async fn delete_cluster_metadata(&self, cluster_name: &str) -> Result<()> {
        validate::id_string("cluster name", cluster_name)?;
        // Conditional like every other write of the row; "not applied" means it was already
        // gone, which is success (idempotent delete).
        self.cass
            .cas(
                "DELETE FROM cluster_metadata_info WHERE metadata_partition = ? AND cluster_name = ? IF EXISTS",
                vals![METADATA_PARTITION, cluster_name],
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
        let ttl = ttl_seconds(req.record_expiry)?;
        let now = now();
        let expiry = now
            .checked_add_signed(duration("record expiry", req.record_expiry)?)
            .ok_or_else(|| StoreError::invalid_argument("record expiry is out of range"))?;
        // Every column is written (with the same TTL), so an upsert replaces the whole row and
        // the row dies as one.
        self.cass
            .exec(
                "INSERT INTO cluster_membership (membership_partition, host_id, rpc_address, rpc_port, role, session_start, last_heartbeat, record_expiry) VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?",
                vals![
                    MEMBERSHIP_PARTITION,
                    req.host_id,
                    req.rpc_address,
                    i32::from(req.rpc_port),
                    req.role,
                    req.session_start,
                    now,
                    expiry,
                    ttl
                ],
            )
            .await
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
        let after: Option<Vec<u8>> = match &next_page_token {
            None => None,
            Some(t) => Some(unhex(&validate::token::decode::<String>(t)?)?),
        };
        let now = now();
        let mut cql = String::from(
            "SELECT host_id, rpc_address, rpc_port, role, session_start, last_heartbeat, record_expiry FROM cluster_membership WHERE membership_partition = ?",
        );
        let mut v: Vals = vals![MEMBERSHIP_PARTITION];
        match (filter.host_id_equals, after) {
            (Some(h), Some(a)) => {
                // At most one row matches an equal host id; past it there is nothing.
                if h <= a {
                    return Ok(Page {
                        items: Vec::new(),
                        next_page_token: None,
                    });
                }
                cql.push_str(" AND host_id = ?");
                v.push(h.cql());
            }
            (Some(h), None) => {
                cql.push_str(" AND host_id = ?");
                v.push(h.cql());
            }
            (None, Some(a)) => {
                cql.push_str(" AND host_id > ?");
                v.push(a.cql());
            }
            (None, None) => {}
        }
        // The TTL removes rows up to a second late (it is rounded up): the stored expiry decides.
        cql.push_str(" AND record_expiry > ?");
        v.push(now.cql());
        if let Some(within) = filter.last_heartbeat_within {
            let since = now
                .checked_sub_signed(duration("last heartbeat window", within)?)
                .ok_or_else(|| {
                    StoreError::invalid_argument("last heartbeat window is out of range")
                })?;
            cql.push_str(" AND last_heartbeat > ?");
            v.push(since.cql());
        }
        if let Some(addr) = filter.rpc_address_equals {
            cql.push_str(" AND rpc_address = ?");
            v.push(addr.cql());
        }
        if let Some(role) = filter.role_equals {
            cql.push_str(" AND role = ?");
            v.push(role.cql());
        }
        if let Some(after_start) = filter.session_started_after {
            cql.push_str(" AND session_start > ?");
            v.push(after_start.cql());
        }
        cql.push_str(" LIMIT ? ALLOW FILTERING");
        v.push(limit_plus_one(page_size).cql());
        let rows = self.cass.rows(&cql, v).await?;
        keyset_page(&rows, page_size, member, |m| hex(&m.host_id))
    }

    async fn prune_cluster_membership(&self, max_records: i32) -> Result<i64> {
        if max_records <= 0 {
            return Err(StoreError::invalid_argument(format!(
                "max records must be positive, got {max_records}"
            )));
        }
        // Heartbeats are written with a TTL: Cassandra removes expired rows itself (as
        // Temporal's Cassandra store, a no-op). Capability `membership_prune` is false.
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_covers_the_expiry() {
        assert_eq!(ttl_seconds(Duration::ZERO).ok(), Some(1));
        assert_eq!(ttl_seconds(Duration::from_millis(1)).ok(), Some(2));
        assert_eq!(ttl_seconds(Duration::from_secs(1)).ok(), Some(2));
        assert_eq!(ttl_seconds(Duration::from_millis(1500)).ok(), Some(3));
        assert_eq!(ttl_seconds(Duration::from_secs(300)).ok(), Some(301));
        assert!(ttl_seconds(Duration::from_secs(MAX_TTL_SECONDS)).is_err());
        assert!(ttl_seconds(Duration::from_secs(u64::MAX)).is_err());
        assert!(ttl_seconds(Duration::from_secs(MAX_TTL_SECONDS - 1)).is_ok());
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(unhex(&hex(&[0, 1, 0xff])).ok(), Some(vec![0, 1, 0xff]));
        assert!(unhex("zz").is_err());
        assert!(unhex("abc").is_err());
        assert!(unhex("é1").is_err());
    }
}
