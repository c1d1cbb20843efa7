//! Cluster metadata (versioned blobs per cluster) and membership heartbeats.

use std::time::Duration;

use async_trait::async_trait;

use crate::error::Result;
use crate::types::{DataBlob, DateTime, Page, Utc};

/// A cluster metadata row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterMetadataRecord {
    /// Cluster name.
    pub cluster_name: String,
    /// Opaque `ClusterMetadata`.
    pub data: DataBlob,
    /// Version (>= 1).
    pub version: i64,
}

/// A membership heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterMember {
    /// Host id: exactly 16 bytes (a UUID, as Temporal's `BINARY(16)` column).
    pub host_id: Vec<u8>,
    /// RPC address.
    pub rpc_address: String,
    /// RPC port.
    pub rpc_port: u16,
    /// Service role (frontend, history, …) as a number.
    pub role: i32,
    /// When the host's session started.
    pub session_start: DateTime<Utc>,
    /// Last heartbeat.
    pub last_heartbeat: DateTime<Utc>,
    /// When the record expires.
    pub record_expiry: DateTime<Utc>,
}

/// Request for [`ClusterMetadataStore::upsert_cluster_membership`].
#[derive(Debug, Clone)]
pub struct UpsertClusterMembershipRequest {
    /// Host id: exactly 16 bytes (anything else is `InvalidArgument`).
    pub host_id: Vec<u8>,
    /// RPC address.
    pub rpc_address: String,
    /// RPC port.
    pub rpc_port: u16,
    /// Role.
    pub role: i32,
    /// Session start.
    pub session_start: DateTime<Utc>,
    /// The record expires this long after now.
    pub record_expiry: Duration,
}

/// Filter for [`ClusterMetadataStore::get_cluster_members`]; every set field must match.
#[derive(Debug, Clone, Default)]
pub struct ClusterMemberFilter {
    /// Heartbeat no older than this.
    pub last_heartbeat_within: Option<Duration>,
    /// RPC address equals.
    pub rpc_address_equals: Option<String>,
    /// Host id equals.
    pub host_id_equals: Option<Vec<u8>>,
    /// Role equals.
    pub role_equals: Option<i32>,
    /// Session started after.
    pub session_started_after: Option<DateTime<Utc>>,
}

/// Cluster metadata and membership.
///
/// # Contract
/// - `save_cluster_metadata` with version 0 inserts version 1 (`AlreadyExists` if a row exists);
///   with version v it writes v+1 only if the stored version is v, else `ConditionFailed`.
/// - Membership rows are upserted by host id with `last_heartbeat = now` and
///   `record_expiry = now + record_expiry`; reads never return expired rows; prune deletes them.
///
/// # Example
/// Write a cluster's metadata for the first time (version 0 -> 1), then update it as a CAS on
/// the version read:
/// ```
/// use durastore_api::*;
///
/// async fn save_twice(clusters: &dyn ClusterMetadataStore) -> Result<i64> {
///     clusters.save_cluster_metadata("active", DataBlob::proto3(b"v1"), 0).await?;
///     let read = clusters.get_cluster_metadata("active").await?;
///     clusters.save_cluster_metadata("active", DataBlob::proto3(b"v2"), read.version).await?;
///     Ok(clusters.get_cluster_metadata("active").await?.version) // 2
/// }
/// ```
#[async_trait]
pub trait ClusterMetadataStore: Send + Sync {
    /// Lists metadata rows by cluster name, paged.
    async fn list_cluster_metadata(
        &self,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<ClusterMetadataRecord>>;
    /// Reads one, or `NotFound`.
    async fn get_cluster_metadata(&self, cluster_name: &str) -> Result<ClusterMetadataRecord>;
    /// Version CAS write (see contract).
    async fn save_cluster_metadata(
        &self,
        cluster_name: &str,
        data: DataBlob,
        version: i64,
    ) -> Result<()>;
    /// Deletes one (idempotent).
    async fn delete_cluster_metadata(&self, cluster_name: &str) -> Result<()>;
    /// Upserts a heartbeat.
    async fn upsert_cluster_membership(&self, req: UpsertClusterMembershipRequest) -> Result<()>;
    /// Reads live members matching the filter, ordered by host id, paged.
    async fn get_cluster_members(
        &self,
        filter: ClusterMemberFilter,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<ClusterMember>>;
    /// Deletes expired rows (at most `max_records`); returns how many.
    async fn prune_cluster_membership(&self, max_records: i32) -> Result<i64>;
}
