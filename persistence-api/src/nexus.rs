//! Nexus endpoints: versioned blobs under one table-wide version (Temporal's
//! `NexusEndpointStore`).

use async_trait::async_trait;
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::types::DataBlob;
use crate::validate;

/// One Nexus endpoint row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NexusEndpoint {
    /// Id: a UUID the caller chooses (never the nil UUID).
    pub id: Uuid,
    /// On a write, the version the caller read (0: create); as read, the stored version (>= 1).
    pub version: i64,
    /// Opaque `NexusEndpoint` proto.
    pub data: DataBlob,
}

/// One page of [`NexusEndpointStore::list_nexus_endpoints`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NexusEndpointPage {
    /// The table version the page was read at (0 before the first write).
    pub table_version: i64,
    /// Endpoints ordered by id.
    pub endpoints: Vec<NexusEndpoint>,
    /// Token of the next page; `None` on the last page.
    pub next_page_token: Option<Vec<u8>>,
}

/// Nexus endpoints with two optimistic counters: a version per endpoint and one version for the
/// whole table, which every write advances so that a reader can tell whether a listing it paged
/// through is still current.
///
/// # Contract
/// - `create_or_update_nexus_endpoint(last_known_table_version, endpoint)` is one atomic step:
///   the stored table version (0 before the first write) must equal `last_known_table_version`,
///   else `ConditionFailed` with [`ConflictDetail::NexusTableVersion`](crate::ConflictDetail)
///   naming the actual table version. Then `endpoint.version == 0` creates the endpoint (it must
///   not exist) and any other version must equal the stored one; either mismatch, including an
///   update of a missing endpoint, is `ConditionFailed` with
///   [`ConflictDetail::NexusEndpointVersion`](crate::ConflictDetail) (the stored version, `None`
///   when absent), as Temporal reports a version conflict for both. When both conditions fail,
///   the table-version conflict is reported. On success the endpoint is stored at
///   `version + 1` and the table version advances by one; on any error nothing changes.
/// - `delete_nexus_endpoint(last_known_table_version, id)`: the same table-version condition
///   (checked first); a missing endpoint is `NotFound`. On success the row is gone and the table
///   version advances by one; on any error nothing changes.
/// - `get_nexus_endpoint(id)` reads one endpoint, or `NotFound`.
/// - `list_nexus_endpoints(last_known_table_version, page_size, token)` returns endpoints by id
///   with the current table version. `last_known_table_version` 0 means "any version"; another
///   value that is not the current table version is `ConditionFailed`
///   ([`ConflictDetail::NexusTableVersion`](crate::ConflictDetail)): a caller that pages with
///   the version of its first page learns that the table changed under it and starts over
///   (Temporal's rule). `page_size` 0 reads only the table version (no endpoints, no token).
/// - Bad input (the nil id, negative versions or page size, a page size above
///   [`validate::MAX_PAGE_SIZE`], an oversized blob, a garbage token) is `InvalidArgument` /
///   `SizeLimitExceeded` and writes nothing.
///
/// # Example
/// Create an endpoint on the table version just read, then update it:
/// ```
/// use durastore_api::*;
///
/// async fn create_then_update(store: &dyn NexusEndpointStore) -> Result<i64> {
///     let table = store.list_nexus_endpoints(0, 0, None).await?.table_version;
///     let id = Uuid::new_v4();
///     let endpoint = NexusEndpoint { id, version: 0, data: DataBlob::proto3(b"spec v1") };
///     store.create_or_update_nexus_endpoint(table, endpoint).await?;
///     let stored = store.get_nexus_endpoint(id).await?; // version 1
///     let next = NexusEndpoint { data: DataBlob::proto3(b"spec v2"), ..stored };
///     store.create_or_update_nexus_endpoint(table + 1, next).await?;
///     Ok(store.get_nexus_endpoint(id).await?.version) // 2
/// }
/// ```
#[async_trait]
pub trait NexusEndpointStore: Send + Sync {
    /// Creates (`endpoint.version == 0`) or updates an endpoint under the table-version CAS.
    async fn create_or_update_nexus_endpoint(
        &self,
        last_known_table_version: i64,
        endpoint: NexusEndpoint,
    ) -> Result<()>;
    /// Deletes an endpoint under the table-version CAS.
    async fn delete_nexus_endpoint(&self, last_known_table_version: i64, id: Uuid) -> Result<()>;
    /// Reads one endpoint, or `NotFound`.
    async fn get_nexus_endpoint(&self, id: Uuid) -> Result<NexusEndpoint>;
    /// Lists endpoints by id with the table version, paged.
    async fn list_nexus_endpoints(
        &self,
        last_known_table_version: i64,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<NexusEndpointPage>;
}

/// Checks shared by every backend: a usable id, non-negative versions, a storable blob.
pub fn validate_write(last_known_table_version: i64, endpoint: &NexusEndpoint) -> Result<()> {
    validate::non_negative("nexus endpoints table version", last_known_table_version)?;
    validate_id(endpoint.id)?;
    validate::non_negative("nexus endpoint version", endpoint.version)?;
    validate::blob("nexus endpoint data", &endpoint.data)
}

/// The nil UUID is refused: Temporal's Cassandra layout keeps the table version under it.
pub fn validate_id(id: Uuid) -> Result<()> {
    if id.is_nil() {
        return Err(StoreError::invalid_argument(
            "nexus endpoint id must not be the nil UUID",
        ));
    }
    Ok(())
}

/// The `NotFound` of a missing endpoint (Temporal's message text: "nexus endpoint not found").
pub fn not_found(id: Uuid) -> StoreError {
    StoreError::not_found(format!("nexus endpoint not found: {id}"))
}

/// The page size of a listing: 0 (table version only) up to [`validate::MAX_PAGE_SIZE`].
pub fn list_page_size(page_size: i32) -> Result<usize> {
    if page_size == 0 {
        return Ok(0);
    }
    validate::page_size(page_size)
}
