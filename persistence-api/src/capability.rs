//! What a backend supports, declared once.
//!
//! The conformance suite selects cases by these flags: a case whose required flags a backend
//! does not set is reported as *skipped by capability*, with the missing flag named; it is never
//! counted as passed.

use serde::{Deserialize, Serialize};

/// Capability flags of a backend. `Default` is "supports nothing".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Capability {
    /// [`crate::ShardStore`] is provided.
    pub shard: bool,
    /// [`crate::ExecutionStore`] is provided (mutable state and history tasks).
    pub execution: bool,
    /// `ExecutionStore::list_concrete_executions` works.
    pub list_concrete_executions: bool,
    /// [`crate::HistoryStore`] is provided.
    pub history: bool,
    /// [`crate::TaskQueueStore`] is provided for classic queues.
    pub task_queue: bool,
    /// Fair task queues (`tasks_v2`, ordered by pass then task id) are supported.
    pub fair_task_queue: bool,
    /// `TaskQueueStore::list_task_queues` works (Cassandra cannot list unordered).
    pub list_task_queues: bool,
    /// Task-queue user data and the build-id index are supported.
    pub task_queue_user_data: bool,
    /// [`crate::NamespaceStore`] is provided.
    pub namespace: bool,
    /// [`crate::ClusterMetadataStore`] is provided (metadata and membership).
    pub cluster_metadata: bool,
    /// `prune_cluster_membership` deletes expired rows (TTL backends prune by themselves).
    pub membership_prune: bool,
    /// [`crate::QueueStore`] is provided.
    pub queue: bool,
    /// [`crate::VisibilityStore`] is provided.
    pub visibility: bool,
    /// Data survives closing and reopening the store (false for in-memory databases).
    pub durable: bool,
    /// Several connections may write at once (concurrency cases race real writers).
    pub concurrent_writers: bool,
}

impl Capability {
    /// Every flag set.
    pub fn all() -> Self {
        Self {
            shard: true,
            execution: true,
            list_concrete_executions: true,
            history: true,
            task_queue: true,
            fair_task_queue: true,
            list_task_queues: true,
            task_queue_user_data: true,
            namespace: true,
            cluster_metadata: true,
            membership_prune: true,
            queue: true,
            visibility: true,
            durable: true,
            concurrent_writers: true,
        }
    }

    /// Names of the flags that are set, in declaration order.
    pub fn names(&self) -> Vec<&'static str> {
        Self::FLAGS
            .iter()
            .filter(|(_, get)| get(self))
            .map(|(n, _)| *n)
            .collect()
    }

    /// Looks a flag up by name (as used in conformance case requirements).
    pub fn has(&self, name: &str) -> Option<bool> {
        Self::FLAGS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, get)| get(self))
    }

    /// Every flag name with its getter.
    #[allow(clippy::type_complexity)]
    pub const FLAGS: &'static [(&'static str, fn(&Capability) -> bool)] = &[
        ("shard", |c| c.shard),
        ("execution", |c| c.execution),
        ("list_concrete_executions", |c| c.list_concrete_executions),
        ("history", |c| c.history),
        ("task_queue", |c| c.task_queue),
        ("fair_task_queue", |c| c.fair_task_queue),
        ("list_task_queues", |c| c.list_task_queues),
        ("task_queue_user_data", |c| c.task_queue_user_data),
        ("namespace", |c| c.namespace),
        ("cluster_metadata", |c| c.cluster_metadata),
        ("membership_prune", |c| c.membership_prune),
        ("queue", |c| c.queue),
        ("visibility", |c| c.visibility),
        ("durable", |c| c.durable),
        ("concurrent_writers", |c| c.concurrent_writers),
    ];
}
