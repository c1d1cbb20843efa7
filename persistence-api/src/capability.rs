//! What a backend supports, declared once.
//!
//! The conformance suite selects cases by these flags: a case whose required flags a backend
//! does not set is reported as *skipped by capability*, with the missing flag named; it is never
//! counted as passed. Cases name their flags with [`CapabilityFlag`], so a misspelt flag is a
//! compile error rather than a case silently skipped on every backend.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Capability flags of a backend. `Default` is "supports nothing".
///
/// Each field has a [`CapabilityFlag`] of the same name ([`Capability::get`] reads it).
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
    /// [`crate::QueueV1Store`] is provided.
    pub queue_v1: bool,
    /// [`crate::ReplicationDlqStore`] is provided.
    pub replication_dlq: bool,
    /// [`crate::NexusEndpointStore`] is provided.
    pub nexus_endpoint: bool,
    /// [`crate::VisibilityStore`] is provided.
    pub visibility: bool,
    /// Data survives closing and reopening the store (false for in-memory databases).
    pub durable: bool,
    /// Several connections may write at once (concurrency cases race real writers).
    pub concurrent_writers: bool,
}

/// One capability flag: a typed name for a field of [`Capability`].
///
/// Its [`name`](Self::name) (also its `Display`, `FromStr` and serde form) is the field name,
/// e.g. `list_task_queues`; these names appear in conformance skip reasons and are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CapabilityFlag {
    /// [`Capability::shard`].
    Shard,
    /// [`Capability::execution`].
    Execution,
    /// [`Capability::list_concrete_executions`].
    ListConcreteExecutions,
    /// [`Capability::history`].
    History,
    /// [`Capability::task_queue`].
    TaskQueue,
    /// [`Capability::fair_task_queue`].
    FairTaskQueue,
    /// [`Capability::list_task_queues`].
    ListTaskQueues,
    /// [`Capability::task_queue_user_data`].
    TaskQueueUserData,
    /// [`Capability::namespace`].
    Namespace,
    /// [`Capability::cluster_metadata`].
    ClusterMetadata,
    /// [`Capability::membership_prune`].
    MembershipPrune,
    /// [`Capability::queue`].
    Queue,
    /// [`Capability::queue_v1`].
    QueueV1,
    /// [`Capability::replication_dlq`].
    ReplicationDlq,
    /// [`Capability::nexus_endpoint`].
    NexusEndpoint,
    /// [`Capability::visibility`].
    Visibility,
    /// [`Capability::durable`].
    Durable,
    /// [`Capability::concurrent_writers`].
    ConcurrentWriters,
}

impl CapabilityFlag {
    /// Every flag, in the declaration order of the [`Capability`] fields.
    pub const ALL: [CapabilityFlag; 18] = [
        Self::Shard,
        Self::Execution,
        Self::ListConcreteExecutions,
        Self::History,
        Self::TaskQueue,
        Self::FairTaskQueue,
        Self::ListTaskQueues,
        Self::TaskQueueUserData,
        Self::Namespace,
        Self::ClusterMetadata,
        Self::MembershipPrune,
        Self::Queue,
        Self::QueueV1,
        Self::ReplicationDlq,
        Self::NexusEndpoint,
        Self::Visibility,
        Self::Durable,
        Self::ConcurrentWriters,
    ];

    /// The flag's name, the same as its [`Capability`] field (`task_queue_user_data`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Shard => "shard",
            Self::Execution => "execution",
            Self::ListConcreteExecutions => "list_concrete_executions",
            Self::History => "history",
            Self::TaskQueue => "task_queue",
            Self::FairTaskQueue => "fair_task_queue",
            Self::ListTaskQueues => "list_task_queues",
            Self::TaskQueueUserData => "task_queue_user_data",
            Self::Namespace => "namespace",
            Self::ClusterMetadata => "cluster_metadata",
            Self::MembershipPrune => "membership_prune",
            Self::Queue => "queue",
            Self::QueueV1 => "queue_v1",
            Self::ReplicationDlq => "replication_dlq",
            Self::NexusEndpoint => "nexus_endpoint",
            Self::Visibility => "visibility",
            Self::Durable => "durable",
            Self::ConcurrentWriters => "concurrent_writers",
        }
    }

    /// The flag with this [`name`](Self::name), or `None`. A `const fn`, so a name known at
    /// compile time can be checked at compile time (see `durastore_conformance::case!`).
    pub const fn from_name(name: &str) -> Option<Self> {
        let mut i = 0;
        while i < Self::ALL.len() {
            if const_str_eq(Self::ALL[i].name(), name) {
                return Some(Self::ALL[i]);
            }
            i += 1;
        }
        None
    }
}

/// `a == b` in a `const fn` (`str` equality is not callable in const contexts).
const fn const_str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

impl fmt::Display for CapabilityFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CapabilityFlag {
    type Err = crate::StoreError;

    fn from_str(s: &str) -> crate::Result<Self> {
        Self::from_name(s).ok_or_else(|| {
            crate::StoreError::invalid_argument(format!("unknown capability flag {s:?}"))
        })
    }
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
            queue_v1: true,
            replication_dlq: true,
            nexus_endpoint: true,
            visibility: true,
            durable: true,
            concurrent_writers: true,
        }
    }

    /// Whether `flag` is set.
    pub const fn get(&self, flag: CapabilityFlag) -> bool {
        match flag {
            CapabilityFlag::Shard => self.shard,
            CapabilityFlag::Execution => self.execution,
            CapabilityFlag::ListConcreteExecutions => self.list_concrete_executions,
            CapabilityFlag::History => self.history,
            CapabilityFlag::TaskQueue => self.task_queue,
            CapabilityFlag::FairTaskQueue => self.fair_task_queue,
            CapabilityFlag::ListTaskQueues => self.list_task_queues,
            CapabilityFlag::TaskQueueUserData => self.task_queue_user_data,
            CapabilityFlag::Namespace => self.namespace,
            CapabilityFlag::ClusterMetadata => self.cluster_metadata,
            CapabilityFlag::MembershipPrune => self.membership_prune,
            CapabilityFlag::Queue => self.queue,
            CapabilityFlag::QueueV1 => self.queue_v1,
            CapabilityFlag::ReplicationDlq => self.replication_dlq,
            CapabilityFlag::NexusEndpoint => self.nexus_endpoint,
            CapabilityFlag::Visibility => self.visibility,
            CapabilityFlag::Durable => self.durable,
            CapabilityFlag::ConcurrentWriters => self.concurrent_writers,
        }
    }

    /// Names of the flags that are set, in declaration order.
    pub fn names(&self) -> Vec<&'static str> {
        CapabilityFlag::ALL
            .iter()
            .filter(|f| self.get(**f))
            .map(|f| f.name())
            .collect()
    }

    /// Looks a flag up by name; `None` for a name that is not a flag.
    pub fn has(&self, name: &str) -> Option<bool> {
        CapabilityFlag::from_name(name).map(|f| self.get(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each flag's name is the serde name of the field `get` reads, for every field: setting
    /// only that field sets only that flag.
    #[test]
    fn flags_match_fields_one_to_one() {
        let all = serde_json::to_value(Capability::all()).unwrap_or_default();
        let fields: Vec<&str> = all
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut names: Vec<&str> = CapabilityFlag::ALL.iter().map(|f| f.name()).collect();
        let mut sorted_fields = fields.clone();
        sorted_fields.sort_unstable();
        names.sort_unstable();
        assert_eq!(names, sorted_fields);
        for flag in CapabilityFlag::ALL {
            let mut one = serde_json::Map::new();
            for f in &fields {
                one.insert((*f).to_string(), serde_json::Value::Bool(*f == flag.name()));
            }
            let cap: Capability =
                serde_json::from_value(serde_json::Value::Object(one)).unwrap_or_default();
            assert_eq!(cap.names(), vec![flag.name()], "{flag}");
            assert!(cap.get(flag));
            assert_eq!(cap.has(flag.name()), Some(true));
        }
        assert_eq!(Capability::all().names().len(), CapabilityFlag::ALL.len());
        assert!(Capability::default().names().is_empty());
    }

    #[test]
    fn names_parse_and_print() {
        for flag in CapabilityFlag::ALL {
            assert_eq!(CapabilityFlag::from_name(flag.name()), Some(flag));
            assert_eq!(flag.name().parse::<CapabilityFlag>().ok(), Some(flag));
            assert_eq!(flag.to_string(), flag.name());
            assert_eq!(
                serde_json::to_value(flag).ok(),
                Some(serde_json::Value::from(flag.name()))
            );
        }
        assert_eq!(CapabilityFlag::from_name("visibilty"), None);
        assert_eq!(CapabilityFlag::from_name("visibility "), None);
        assert_eq!(CapabilityFlag::from_name(""), None);
        assert_eq!(Capability::all().has("no_such_flag"), None);
        assert!(
            "Visibility"
                .parse::<CapabilityFlag>()
                .is_err_and(|e| e.kind() == crate::ErrorKind::InvalidArgument)
        );
    }
}
