//! # durastore-api: the storage contract of a Temporal-style durable-execution server
//!
//! This crate defines what every durastore backend keeps: one async trait per store
//! ([`ShardStore`], [`ExecutionStore`], [`HistoryStore`], [`TaskQueueStore`], [`NamespaceStore`],
//! [`ClusterMetadataStore`], [`QueueStore`], [`VisibilityStore`]), the request and record types
//! they exchange, one error type ([`StoreError`]), and the [`Capability`] flags a backend declares.
//! It has no database dependency.
//!
//! Stores persist **opaque blobs** ([`DataBlob`]) plus the explicit columns that keys and
//! conditions need; the server above serializes its own protobufs. Each trait's rustdoc has a
//! *Contract* section; the `durastore-conformance` crate checks it against a live backend.
//!
//! Traits are `#[async_trait]` and used as `Arc<dyn Trait>` so a backend can be chosen from a
//! config file at run time and wrapped in layers ([`layer`]: metrics, spans, slow-call log).

pub mod capability;
pub mod cluster;
pub mod error;
pub mod execution;
pub mod history;
pub mod history_tree;
pub mod ids;
pub mod layer;
pub mod namespace;
mod primitives;
pub mod query;
pub mod queue;
#[cfg(feature = "floor")]
pub mod replay;
pub mod schema;
pub mod shard;
pub mod task_queue;
pub mod types;
pub mod urltext;
pub mod validate;
pub mod visibility;

use std::sync::Arc;

pub use async_trait::async_trait;
pub use capability::{Capability, CapabilityFlag};
pub use chrono;
pub use cluster::*;
pub use error::{ConflictDetail, CurrentWorkflowConflict, ErrorKind, Result, StoreError};
pub use execution::*;
pub use history::*;
pub use ids::*;
pub use layer::{LayerOptions, instrument};
pub use namespace::*;
pub use queue::*;
pub use shard::*;
pub use task_queue::*;
pub use types::*;
pub use uuid::Uuid;
pub use visibility::*;

/// Lifecycle of an opened backend.
#[async_trait]
pub trait Backend: Send + Sync {
    /// Backend name (`sqlite`, `postgres`, …).
    fn name(&self) -> &str;
    /// What it supports.
    fn capability(&self) -> Capability;
    /// Closes connections; the stores fail with `Unavailable` afterwards.
    async fn close(&self) -> Result<()>;
}

/// One opened backend: its stores, each present only if the backend provides it.
#[derive(Clone)]
pub struct Stores {
    /// The backend's lifecycle handle.
    pub backend: Arc<dyn Backend>,
    /// Shard store.
    pub shard: Option<Arc<dyn ShardStore>>,
    /// Execution store.
    pub execution: Option<Arc<dyn ExecutionStore>>,
    /// History store.
    pub history: Option<Arc<dyn HistoryStore>>,
    /// Task queue store.
    pub task_queue: Option<Arc<dyn TaskQueueStore>>,
    /// Namespace store.
    pub namespace: Option<Arc<dyn NamespaceStore>>,
    /// Cluster metadata store.
    pub cluster_metadata: Option<Arc<dyn ClusterMetadataStore>>,
    /// Queue store.
    pub queue: Option<Arc<dyn QueueStore>>,
    /// Visibility store.
    pub visibility: Option<Arc<dyn VisibilityStore>>,
}

impl Stores {
    /// The backend's capabilities.
    pub fn capability(&self) -> Capability {
        self.backend.capability()
    }

    /// The backend's name.
    pub fn name(&self) -> &str {
        self.backend.name()
    }
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores")
            .field("backend", &self.backend.name())
            .field("capability", &self.backend.capability().names())
            .finish()
    }
}
