//! # durastore-api: the storage contract of a Temporal-style durable-execution server
//!
//! This crate defines what every durastore backend keeps: one async trait per store
//! ([`ShardStore`], [`ExecutionStore`], [`HistoryStore`], [`TaskQueueStore`], [`NamespaceStore`],
//! [`ClusterMetadataStore`], [`QueueStore`], [`QueueV1Store`], [`ReplicationDlqStore`],
//! [`NexusEndpointStore`], [`VisibilityStore`]), the request and record types
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
pub mod nexus;
mod primitives;
pub mod query;
pub mod queue;
pub mod queue_v1;
#[cfg(feature = "floor")]
pub mod replay;
pub mod replication_dlq;
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
pub use nexus::{NexusEndpoint, NexusEndpointPage, NexusEndpointStore};
pub use queue::*;
pub use queue_v1::{
    EMPTY_QUEUE_MESSAGE_ID, NAMESPACE_REPLICATION_QUEUE, QueueV1Metadata, QueueV1Store,
};
pub use replication_dlq::{GetReplicationDlqTasksRequest, ReplicationDlqStore, ReplicationDlqTask};
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
    /// The schema sets this backend ships ([`schema::SET_MAIN`]: every store but visibility;
    /// [`schema::SET_VISIBILITY`]: the visibility store). A store of a listed set that is absent
    /// from [`Stores`] means that set is not set up in the database; a store of an unlisted set
    /// is one the backend never provides. Default: both sets, as the SQL backends ship.
    fn schema_sets(&self) -> &'static [&'static str] {
        schema::SET_NAMES
    }
}

/// One opened backend: its stores, each present only if the backend provides it and the schema
/// set holding it is set up.
///
/// Prefer the accessors ([`Stores::shard`], [`Stores::visibility`], …) to the fields: an absent
/// store is then an [`ErrorKind::Unsupported`] error that says why (the backend never provides
/// it, or its schema set is not set up) and the command that sets the set up, instead of a bare
/// `None`.
///
/// ```
/// # async fn demo(stores: &durastore_api::Stores) -> durastore_api::Result<()> {
/// let visibility = stores.visibility()?; // Err names `visibility` and `durastore schema setup`
/// # let _ = visibility;
/// # Ok(())
/// # }
/// ```
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
    /// Queue v1 store (Temporal's namespace replication queue and its DLQ).
    pub queue_v1: Option<Arc<dyn QueueV1Store>>,
    /// Replication DLQ store.
    pub replication_dlq: Option<Arc<dyn ReplicationDlqStore>>,
    /// Nexus endpoint store.
    pub nexus_endpoint: Option<Arc<dyn NexusEndpointStore>>,
    /// Visibility store.
    pub visibility: Option<Arc<dyn VisibilityStore>>,
}

impl Stores {
    /// A bundle with no store yet: a backend fills in the stores it serves
    /// (`Stores { visibility: Some(..), ..Stores::empty(backend) }`).
    pub fn empty(backend: Arc<dyn Backend>) -> Self {
        Stores {
            backend,
            shard: None,
            execution: None,
            history: None,
            task_queue: None,
            namespace: None,
            cluster_metadata: None,
            queue: None,
            queue_v1: None,
            replication_dlq: None,
            nexus_endpoint: None,
            visibility: None,
        }
    }

    /// The backend's capabilities.
    pub fn capability(&self) -> Capability {
        self.backend.capability()
    }

    /// The backend's name.
    pub fn name(&self) -> &str {
        self.backend.name()
    }

    /// The shard store; an error when absent (see [`Stores::missing`]).
    pub fn shard(&self) -> Result<&Arc<dyn ShardStore>> {
        self.shard
            .as_ref()
            .ok_or_else(|| self.missing("shard", schema::SET_MAIN))
    }

    /// The execution store; an error when absent (see [`Stores::missing`]).
    pub fn execution(&self) -> Result<&Arc<dyn ExecutionStore>> {
        self.execution
            .as_ref()
            .ok_or_else(|| self.missing("execution", schema::SET_MAIN))
    }

    /// The history store; an error when absent (see [`Stores::missing`]).
    pub fn history(&self) -> Result<&Arc<dyn HistoryStore>> {
        self.history
            .as_ref()
            .ok_or_else(|| self.missing("history", schema::SET_MAIN))
    }

    /// The task queue store; an error when absent (see [`Stores::missing`]).
    pub fn task_queue(&self) -> Result<&Arc<dyn TaskQueueStore>> {
        self.task_queue
            .as_ref()
            .ok_or_else(|| self.missing("task queue", schema::SET_MAIN))
    }

    /// The namespace store; an error when absent (see [`Stores::missing`]).
    pub fn namespace(&self) -> Result<&Arc<dyn NamespaceStore>> {
        self.namespace
            .as_ref()
            .ok_or_else(|| self.missing("namespace", schema::SET_MAIN))
    }

    /// The cluster metadata store; an error when absent (see [`Stores::missing`]).
    pub fn cluster_metadata(&self) -> Result<&Arc<dyn ClusterMetadataStore>> {
        self.cluster_metadata
            .as_ref()
            .ok_or_else(|| self.missing("cluster metadata", schema::SET_MAIN))
    }

    /// The queue store; an error when absent (see [`Stores::missing`]).
    pub fn queue(&self) -> Result<&Arc<dyn QueueStore>> {
        self.queue
            .as_ref()
            .ok_or_else(|| self.missing("queue", schema::SET_MAIN))
    }

    /// The queue v1 store; an error when absent (see [`Stores::missing`]).
    pub fn queue_v1(&self) -> Result<&Arc<dyn QueueV1Store>> {
        self.queue_v1
            .as_ref()
            .ok_or_else(|| self.missing("queue v1", schema::SET_MAIN))
    }

    /// The replication DLQ store; an error when absent (see [`Stores::missing`]).
    pub fn replication_dlq(&self) -> Result<&Arc<dyn ReplicationDlqStore>> {
        self.replication_dlq
            .as_ref()
            .ok_or_else(|| self.missing("replication DLQ", schema::SET_MAIN))
    }

    /// The Nexus endpoint store; an error when absent (see [`Stores::missing`]).
    pub fn nexus_endpoint(&self) -> Result<&Arc<dyn NexusEndpointStore>> {
        self.nexus_endpoint
            .as_ref()
            .ok_or_else(|| self.missing("nexus endpoint", schema::SET_MAIN))
    }

    /// The visibility store; an error when absent (see [`Stores::missing`]).
    pub fn visibility(&self) -> Result<&Arc<dyn VisibilityStore>> {
        self.visibility
            .as_ref()
            .ok_or_else(|| self.missing("visibility", schema::SET_VISIBILITY))
    }

    /// The error for an absent `store` of schema set `set`: [`ErrorKind::Unsupported`], saying
    /// whether the backend never provides that store or the set is not set up in the database
    /// (with the `durastore schema setup` command that sets it up).
    pub fn missing(&self, store: &str, set: &str) -> StoreError {
        let backend = self.backend.name();
        let sets = self.backend.schema_sets();
        let message = if sets.contains(&set) {
            format!(
                "no {store} store: the `{set}` schema set is not set up in this {backend} \
                 database; run `durastore schema setup --set {set} --url <its URL>`, then open \
                 it again"
            )
        } else {
            format!(
                "no {store} store: the {backend} backend does not provide one (it ships the {} \
                 schema set{}); open the {store} store from a backend that does (in a config \
                 file, a separate datastore)",
                sets.join(" and "),
                if sets.len() == 1 { "" } else { "s" }
            )
        };
        StoreError::unsupported(message)
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

#[cfg(test)]
mod tests {
    use super::*;

    struct Named(&'static str, &'static [&'static str]);

    #[async_trait]
    impl Backend for Named {
        fn name(&self) -> &str {
            self.0
        }
        fn capability(&self) -> Capability {
            Capability::default()
        }
        async fn close(&self) -> Result<()> {
            Ok(())
        }
        fn schema_sets(&self) -> &'static [&'static str] {
            self.1
        }
    }

    fn empty(backend: Named) -> Stores {
        Stores::empty(Arc::new(backend))
    }

    #[test]
    fn absent_stores_say_why() {
        let sql = empty(Named("postgres", schema::SET_NAMES));
        let e = sql
            .visibility()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("no visibility store: the `visibility` schema set is not set up in this postgres database")
                && e.contains("`durastore schema setup --set visibility --url <its URL>`"),
            "{e}"
        );
        let e = sql.queue().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            e.contains("`main` schema set is not set up") && e.contains("--set main"),
            "{e}"
        );

        let cassandra = empty(Named("cassandra", &[schema::SET_MAIN]));
        let e = cassandra.visibility().err();
        assert_eq!(
            e.as_ref().map(StoreError::kind),
            Some(ErrorKind::Unsupported)
        );
        let e = e.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            e.contains("the cassandra backend does not provide one (it ships the main schema set)"),
            "{e}"
        );
        let search = empty(Named("opensearch", &[schema::SET_VISIBILITY]));
        for e in [
            search.shard().err(),
            search.execution().err(),
            search.history().err(),
            search.task_queue().err(),
            search.namespace().err(),
            search.cluster_metadata().err(),
            search.queue_v1().err(),
            search.replication_dlq().err(),
            search.nexus_endpoint().err(),
        ] {
            let e = e.map(|e| e.to_string()).unwrap_or_default();
            assert!(
                e.contains("the opensearch backend does not provide one"),
                "{e}"
            );
        }
    }
}
