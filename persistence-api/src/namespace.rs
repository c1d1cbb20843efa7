//! Namespaces and the global notification version.

use async_trait::async_trait;

use crate::error::Result;
use crate::ids::NamespaceId;
use crate::types::{DataBlob, Page};

/// A namespace row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceRecord {
    /// Id.
    pub id: NamespaceId,
    /// Unique name, 1..=255 bytes.
    pub name: String,
    /// Opaque `NamespaceDetail`.
    pub detail: DataBlob,
    /// Global (replicated) namespace?
    pub is_global: bool,
    /// The metadata notification version this row was last written at.
    pub notification_version: i64,
}

/// Request for [`NamespaceStore::create_namespace`].
#[derive(Debug, Clone)]
pub struct CreateNamespaceRequest {
    /// Id: a UUID the caller chooses (the key every other store uses), not the name.
    pub id: NamespaceId,
    /// Name.
    pub name: String,
    /// Detail.
    pub detail: DataBlob,
    /// Global?
    pub is_global: bool,
}

/// Request for [`NamespaceStore::update_namespace`].
#[derive(Debug, Clone)]
pub struct UpdateNamespaceRequest {
    /// Id of the namespace to update.
    pub id: NamespaceId,
    /// Its (unchanged) name.
    pub name: String,
    /// New detail.
    pub detail: DataBlob,
    /// Global?
    pub is_global: bool,
    /// The metadata notification version the caller read; must equal the stored one.
    pub notification_version: i64,
}

/// Request for [`NamespaceStore::rename_namespace`]: Temporal's `InternalRenameNamespaceRequest`,
/// the full update under the new name plus the name the namespace has now.
#[derive(Debug, Clone)]
pub struct RenameNamespaceRequest {
    /// The update: the namespace's id, its **new** name, its new detail (Temporal's
    /// `NamespaceDetail` carries the name too, so it changes with it), global flag, and the
    /// notification version the caller read.
    pub update: UpdateNamespaceRequest,
    /// The name the namespace has now.
    pub previous_name: String,
}

/// Namespace rows plus one global notification version.
///
/// # Contract
/// - Every create and update bumps the global notification version by one in the same transaction;
///   the row records the version it was written at.
/// - `create_namespace` with a taken id or name is `AlreadyExists` and writes nothing.
/// - `update_namespace` is a CAS on the global notification version: if it is not the one given,
///   `ConditionFailed` and nothing changes. A missing namespace is `NotFound`.
/// - A stale notification version is reported as `ConditionFailed` with
///   [`ConflictDetail::NamespaceNotificationVersion`](crate::ConflictDetail) (the stored version).
/// - `rename_namespace` is `update_namespace` under a new name, as one atomic step: the namespace
///   called `previous_name`, which must have id `update.id` (else `NotFound`), takes the new
///   name, detail and global flag and records the notification version, and the global version
///   advances by one; or nothing changes. It is the same CAS as an update: a stale notification
///   version is `ConditionFailed` (checked first), and a new name held by another namespace is
///   `AlreadyExists`. Renaming to the current name is an update.
/// - Deletes are idempotent. Lists are ordered by id and paged; the last page has no token.
///
/// # Example
/// Create a namespace under a fresh UUID, then resolve its name to that id as a frontend does:
/// ```
/// use durastore_api::*;
///
/// async fn create(namespaces: &dyn NamespaceStore, name: &str) -> Result<NamespaceId> {
///     namespaces
///         .create_namespace(CreateNamespaceRequest {
///             id: NamespaceId::new_random(),
///             name: name.to_string(),
///             detail: DataBlob::proto3(b"namespace detail"),
///             is_global: false,
///         })
///         .await?;
///     Ok(namespaces.get_namespace_by_name(name).await?.id)
/// }
/// ```
#[async_trait]
pub trait NamespaceStore: Send + Sync {
    /// Creates a namespace.
    async fn create_namespace(&self, req: CreateNamespaceRequest) -> Result<()>;
    /// Reads by id, or `NotFound`.
    async fn get_namespace_by_id(&self, id: NamespaceId) -> Result<NamespaceRecord>;
    /// Reads by name, or `NotFound`.
    async fn get_namespace_by_name(&self, name: &str) -> Result<NamespaceRecord>;
    /// CAS update on the notification version.
    async fn update_namespace(&self, req: UpdateNamespaceRequest) -> Result<()>;
    /// Renames a namespace, rewriting its detail, as a CAS on the notification version.
    async fn rename_namespace(&self, req: RenameNamespaceRequest) -> Result<()>;
    /// Deletes by id (idempotent).
    async fn delete_namespace(&self, id: NamespaceId) -> Result<()>;
    /// Deletes by name (idempotent).
    async fn delete_namespace_by_name(&self, name: &str) -> Result<()>;
    /// Lists namespaces by id, paged.
    async fn list_namespaces(
        &self,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<NamespaceRecord>>;
    /// The global notification version.
    async fn get_metadata(&self) -> Result<i64>;
}
