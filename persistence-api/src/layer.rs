//! Layers: wrappers that implement the store traits around another store
//! (docs/architecture.md#layers).
//!
//! [`instrument`] wraps every store present in a [`Stores`] bundle so that each call
//!
//! - records its latency in the histogram [`OPERATION_SECONDS`]
//!   (`durastore_store_operation_seconds{backend, store, operation}`, seconds) and, when it fails,
//!   increments [`ERRORS_TOTAL`] (`durastore_store_errors_total{backend, store, operation, kind}`,
//!   `kind` being [`ErrorKind::as_str`](crate::ErrorKind::as_str)), through the [`metrics`]
//!   facade: this crate installs no exporter, the process picks one (the `durastore` CLI exports
//!   for Prometheus with `--metrics-addr`); with none installed the calls cost next to nothing;
//! - runs inside a `tracing` span `store_call` at DEBUG level with `backend`, `store` and
//!   `operation` fields (and `error` when it fails), so a subscriber sees which store call a log
//!   line or a slow request belongs to;
//! - logs a WARN `slow store operation` when it took at least
//!   [`LayerOptions::slow_threshold`];
//! - is reported to an optional [`CallObserver`] (the `durastore bench` command collects its
//!   per-operation percentiles this way, so benchmark and production see the same calls).
//!
//! `store` is the [`Stores`] field name (`shard`, `execution`, `history`, `task_queue`,
//! `namespace`, `cluster_metadata`, `queue`, `queue_v1`, `replication_dlq`, `nexus_endpoint`,
//! `visibility`) and `operation` the trait method name (`update_workflow_execution`). Every error
//! counts, including `not_found`: whether a miss is expected is the caller's business, and the
//! `kind` label lets a dashboard filter it.
//!
//! The wrappers forward every method unchanged (same request, same result, same error), so a
//! layered bundle passes the conformance suite exactly as the bare one. They are written by one
//! macro per trait that lists the methods: a method added to a trait and not to its list fails
//! to compile here, so no call can bypass the layer unnoticed.
//!
//! Wrapping a bundle twice records every call twice. The `backend` label is the bundle's backend
//! name ([`Stores::name`]), also for a visibility store that a composite config took from another
//! datastore.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use metrics::SharedString;
use tracing::Instrument as _;

use crate::error::{Result, StoreError};
use crate::query::SearchAttributeType;
use crate::{
    AppendHistoryNodesRequest, ArchetypeId, ClusterMember, ClusterMemberFilter,
    ClusterMetadataRecord, ClusterMetadataStore, CompleteTasksLessThanRequest,
    ConflictResolveWorkflowExecutionRequest, CountResult, CountWorkflowExecutionsRequest,
    CreateNamespaceRequest, CreateTasksRequest, CreateWorkflowExecutionRequest, CurrentExecution,
    DataBlob, ExecutionStore, ForkHistoryBranchRequest, GetHistoryTasksRequest,
    GetOrCreateShardRequest, GetReplicationDlqTasksRequest, GetTasksRequest, HistoryBranch,
    HistoryNode, HistoryStore, HistoryTask, HistoryTaskKey, HistoryTreeBranch,
    ListWorkflowExecutionsRequest, NamespaceId, NamespaceRecord, NamespaceStore, NexusEndpoint,
    NexusEndpointPage, NexusEndpointStore, Page, QueueInfo, QueueKey, QueueMessage, QueueStore,
    QueueType, QueueV1Metadata, QueueV1Store, ReadHistoryBranchRequest, RenameNamespaceRequest,
    ReplicationDlqStore, ReplicationDlqTask, RunId, SetWorkflowExecutionRequest, ShardId,
    ShardInfo, ShardStore, Stores, TaskCategory, TaskQueueFlavor, TaskQueueKey, TaskQueueRecord,
    TaskQueueStore, TaskQueueWrite, TaskRecord, TreeId, UpdateNamespaceRequest, UpdateShardRequest,
    UpdateWorkflowExecutionRequest, UpsertClusterMembershipRequest, UserDataRecord, UserDataUpdate,
    Uuid, VisibilityRecord, VisibilityStore, VisibilityWrite, WorkflowId, WorkflowKey,
    WorkflowMutableState,
};

/// Name of the per-call latency histogram (seconds), labels `backend`, `store`, `operation`.
pub const OPERATION_SECONDS: &str = "durastore_store_operation_seconds";

/// Name of the error counter, labels `backend`, `store`, `operation`, `kind`.
pub const ERRORS_TOTAL: &str = "durastore_store_errors_total";

/// Bucket bounds (seconds) that suit store calls, from an in-process SQLite read (tens of
/// microseconds) to a visibility count over millions of rows (seconds). Exporters that need
/// explicit buckets (Prometheus histograms) can use these.
pub const LATENCY_BUCKETS_SECONDS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// One finished store call, as reported to a [`CallObserver`].
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// Backend name ([`Stores::name`]).
    pub backend: &'a str,
    /// Store: the [`Stores`] field name (`execution`, `visibility`, …).
    pub store: &'static str,
    /// Operation: the trait method name (`create_workflow_execution`, …).
    pub operation: &'static str,
    /// Wall time from the call to its result.
    pub elapsed: Duration,
    /// The error, when the call failed.
    pub error: Option<&'a StoreError>,
}

/// Receives every finished call of a layered bundle (after metrics and logs are recorded).
///
/// Called on the task that made the call, once per call: keep it cheap and never block on I/O.
pub trait CallObserver: Send + Sync {
    /// One call finished.
    fn observe(&self, call: &Call<'_>);
}

/// What [`instrument`] records.
#[derive(Clone)]
pub struct LayerOptions {
    /// Record [`OPERATION_SECONDS`] and [`ERRORS_TOTAL`] through the `metrics` facade.
    pub metrics: bool,
    /// Run each call in a DEBUG `store_call` span.
    pub tracing: bool,
    /// Log a WARN for every call that takes at least this long (`None`: never).
    pub slow_threshold: Option<Duration>,
    /// Also report every call to this observer.
    pub observer: Option<Arc<dyn CallObserver>>,
}

impl LayerOptions {
    /// The default slow-operation threshold: one second, far above any healthy store call, so
    /// the log stays quiet unless something is wrong.
    pub const DEFAULT_SLOW_THRESHOLD: Duration = Duration::from_secs(1);
}

impl Default for LayerOptions {
    /// Metrics and spans on, slow log at [`LayerOptions::DEFAULT_SLOW_THRESHOLD`], no observer.
    fn default() -> Self {
        Self {
            metrics: true,
            tracing: true,
            slow_threshold: Some(Self::DEFAULT_SLOW_THRESHOLD),
            observer: None,
        }
    }
}

impl fmt::Debug for LayerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LayerOptions")
            .field("metrics", &self.metrics)
            .field("tracing", &self.tracing)
            .field("slow_threshold", &self.slow_threshold)
            .field("observer", &self.observer.is_some())
            .finish()
    }
}

/// Registers the descriptions (HELP text, unit) of the layer's metrics with the installed
/// recorder. [`instrument`] calls it; call it again after installing a recorder later.
pub fn describe_metrics() {
    metrics::describe_histogram!(
        OPERATION_SECONDS,
        metrics::Unit::Seconds,
        "Latency of durastore store calls, by backend, store and operation."
    );
    metrics::describe_counter!(
        ERRORS_TOTAL,
        metrics::Unit::Count,
        "Failed durastore store calls, by backend, store, operation and error kind."
    );
}

/// Wraps every store present in `stores` with the layer described by `opts`; absent stores stay
/// absent and the backend handle is shared unchanged.
pub fn instrument(stores: Stores, opts: &LayerOptions) -> Stores {
    describe_metrics();
    let shared = Arc::new(Shared::new(stores.name(), opts.clone()));
    Stores {
        shard: wrap::<dyn ShardStore>(stores.shard, &shared).map(|s| s as Arc<dyn ShardStore>),
        execution: wrap::<dyn ExecutionStore>(stores.execution, &shared)
            .map(|s| s as Arc<dyn ExecutionStore>),
        history: wrap::<dyn HistoryStore>(stores.history, &shared)
            .map(|s| s as Arc<dyn HistoryStore>),
        task_queue: wrap::<dyn TaskQueueStore>(stores.task_queue, &shared)
            .map(|s| s as Arc<dyn TaskQueueStore>),
        namespace: wrap::<dyn NamespaceStore>(stores.namespace, &shared)
            .map(|s| s as Arc<dyn NamespaceStore>),
        cluster_metadata: wrap::<dyn ClusterMetadataStore>(stores.cluster_metadata, &shared)
            .map(|s| s as Arc<dyn ClusterMetadataStore>),
        queue: wrap::<dyn QueueStore>(stores.queue, &shared).map(|s| s as Arc<dyn QueueStore>),
        queue_v1: wrap::<dyn QueueV1Store>(stores.queue_v1, &shared)
            .map(|s| s as Arc<dyn QueueV1Store>),
        replication_dlq: wrap::<dyn ReplicationDlqStore>(stores.replication_dlq, &shared)
            .map(|s| s as Arc<dyn ReplicationDlqStore>),
        nexus_endpoint: wrap::<dyn NexusEndpointStore>(stores.nexus_endpoint, &shared)
            .map(|s| s as Arc<dyn NexusEndpointStore>),
        visibility: wrap::<dyn VisibilityStore>(stores.visibility, &shared)
            .map(|s| s as Arc<dyn VisibilityStore>),
        backend: stores.backend,
    }
}

fn wrap<S: ?Sized>(inner: Option<Arc<S>>, shared: &Arc<Shared>) -> Option<Arc<Layered<S>>> {
    inner.map(|inner| {
        Arc::new(Layered {
            inner,
            shared: Arc::clone(shared),
        })
    })
}

/// What every wrapper of one bundle shares.
struct Shared {
    /// The backend label, shared so that recording a metric does not copy the name.
    backend_label: SharedString,
    backend: Arc<str>,
    opts: LayerOptions,
}

impl Shared {
    fn new(backend: &str, opts: LayerOptions) -> Self {
        let backend: Arc<str> = Arc::from(backend);
        Self {
            backend_label: SharedString::from_shared(Arc::clone(&backend)),
            backend,
            opts,
        }
    }

    /// Runs one store call with everything the options ask for around it.
    async fn call<T, F>(&self, store: &'static str, operation: &'static str, fut: F) -> Result<T>
    where
        F: Future<Output = Result<T>> + Send,
    {
        let start = Instant::now();
        let result = if self.opts.tracing {
            let span = tracing::debug_span!(
                "store_call",
                backend = %self.backend,
                store,
                operation,
                error = tracing::field::Empty,
            );
            let result = fut.instrument(span.clone()).await;
            if let Err(e) = &result {
                span.record("error", e.kind().as_str());
            }
            result
        } else {
            fut.await
        };
        self.finished(store, operation, start.elapsed(), result.as_ref().err());
        result
    }

    fn finished(
        &self,
        store: &'static str,
        operation: &'static str,
        elapsed: Duration,
        error: Option<&StoreError>,
    ) {
        if self.opts.metrics {
            metrics::histogram!(
                OPERATION_SECONDS,
                "backend" => self.backend_label.clone(),
                "store" => store,
                "operation" => operation,
            )
            .record(elapsed.as_secs_f64());
            if let Some(e) = error {
                metrics::counter!(
                    ERRORS_TOTAL,
                    "backend" => self.backend_label.clone(),
                    "store" => store,
                    "operation" => operation,
                    "kind" => e.kind().as_str(),
                )
                .increment(1);
            }
        }
        if let Some(threshold) = self.opts.slow_threshold
            && elapsed >= threshold
        {
            tracing::warn!(
                backend = %self.backend,
                store,
                operation,
                elapsed_ms = elapsed.as_secs_f64() * 1000.0,
                threshold_ms = threshold.as_secs_f64() * 1000.0,
                error = error.map(|e| e.kind().as_str()),
                "slow store operation"
            );
        }
        if let Some(observer) = &self.opts.observer {
            observer.observe(&Call {
                backend: &self.backend,
                store,
                operation,
                elapsed,
                error,
            });
        }
    }
}

/// A store of type `S` (a `dyn` store trait) with the layer around it.
struct Layered<S: ?Sized> {
    inner: Arc<S>,
    shared: Arc<Shared>,
}

/// Implements `$trait` for `Layered<dyn $trait>`: every listed method forwards its arguments to
/// the inner store inside [`Shared::call`], labelled with `$store` and the method's name.
macro_rules! layered {
    (
        $trait:ident as $store:literal {
            $( fn $op:ident ( $( $arg:ident : $ty:ty ),* $(,)? ) -> $ret:ty; )*
        }
    ) => {
        #[async_trait]
        impl $trait for Layered<dyn $trait> {
            $(
                async fn $op(&self, $( $arg: $ty ),*) -> Result<$ret> {
                    self.shared
                        .call($store, stringify!($op), self.inner.$op($( $arg ),*))
                        .await
                }
            )*
        }
    };
}

layered!(ShardStore as "shard" {
    fn get_or_create_shard(req: GetOrCreateShardRequest) -> ShardInfo;
    fn update_shard(req: UpdateShardRequest) -> ();
    fn assert_shard_ownership(shard_id: ShardId, range_id: i64) -> ();
});

layered!(ExecutionStore as "execution" {
    fn create_workflow_execution(req: CreateWorkflowExecutionRequest) -> ();
    fn update_workflow_execution(req: UpdateWorkflowExecutionRequest) -> ();
    fn conflict_resolve_workflow_execution(req: ConflictResolveWorkflowExecutionRequest) -> ();
    fn set_workflow_execution(req: SetWorkflowExecutionRequest) -> ();
    fn get_workflow_execution(shard_id: ShardId, key: &WorkflowKey) -> WorkflowMutableState;
    fn get_current_execution_for_archetype(
        shard_id: ShardId,
        namespace_id: NamespaceId,
        id: &WorkflowId,
        archetype_id: ArchetypeId,
    ) -> CurrentExecution;
    fn delete_workflow_execution(shard_id: ShardId, key: &WorkflowKey) -> ();
    fn delete_current_execution_for_archetype(
        shard_id: ShardId,
        key: &WorkflowKey,
        archetype_id: ArchetypeId,
    ) -> ();
    fn list_concrete_executions(
        shard_id: ShardId,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Page<WorkflowMutableState>;
    fn add_history_tasks(
        shard_id: ShardId,
        range_id: i64,
        namespace_id: NamespaceId,
        workflow_id: &WorkflowId,
        tasks: BTreeMap<TaskCategory, Vec<HistoryTask>>,
    ) -> ();
    fn get_history_tasks(req: GetHistoryTasksRequest) -> Page<HistoryTask>;
    fn complete_history_task(
        shard_id: ShardId,
        category: TaskCategory,
        key: HistoryTaskKey,
    ) -> ();
    fn range_complete_history_tasks(
        shard_id: ShardId,
        category: TaskCategory,
        inclusive_min_key: HistoryTaskKey,
        exclusive_max_key: HistoryTaskKey,
    ) -> ();
});

layered!(HistoryStore as "history" {
    fn append_history_nodes(req: AppendHistoryNodesRequest) -> ();
    fn read_history_branch(req: ReadHistoryBranchRequest) -> Page<HistoryNode>;
    fn fork_history_branch(req: ForkHistoryBranchRequest) -> HistoryBranch;
    fn delete_history_nodes(
        shard_id: ShardId,
        branch: &HistoryBranch,
        node_id: i64,
        txn_id: i64,
    ) -> ();
    fn delete_history_branch(shard_id: ShardId, branch: &HistoryBranch) -> ();
    fn get_history_tree(shard_id: ShardId, tree_id: TreeId) -> Vec<HistoryTreeBranch>;
    fn get_all_history_tree_branches(
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Page<HistoryTreeBranch>;
});

layered!(TaskQueueStore as "task_queue" {
    fn create_task_queue(req: TaskQueueWrite) -> ();
    fn get_task_queue(key: &TaskQueueKey) -> TaskQueueRecord;
    fn update_task_queue(req: TaskQueueWrite, previous_range_id: i64) -> ();
    fn list_task_queues(
        flavor: TaskQueueFlavor,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Page<TaskQueueRecord>;
    fn delete_task_queue(key: &TaskQueueKey, range_id: i64) -> ();
    fn create_tasks(req: CreateTasksRequest) -> ();
    fn get_tasks(req: GetTasksRequest) -> Page<TaskRecord>;
    fn complete_tasks_less_than(req: CompleteTasksLessThanRequest) -> i64;
    fn get_task_queue_user_data(namespace_id: NamespaceId, task_queue: &str) -> UserDataRecord;
    fn update_task_queue_user_data(
        namespace_id: NamespaceId,
        updates: BTreeMap<String, UserDataUpdate>,
    ) -> ();
    fn list_task_queue_user_data(
        namespace_id: NamespaceId,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Page<UserDataRecord>;
    fn get_task_queues_by_build_id(namespace_id: NamespaceId, build_id: &str) -> Vec<String>;
    fn count_task_queues_by_build_id(namespace_id: NamespaceId, build_id: &str) -> i64;
});

layered!(NamespaceStore as "namespace" {
    fn create_namespace(req: CreateNamespaceRequest) -> ();
    fn get_namespace_by_id(id: NamespaceId) -> NamespaceRecord;
    fn get_namespace_by_name(name: &str) -> NamespaceRecord;
    fn update_namespace(req: UpdateNamespaceRequest) -> ();
    fn rename_namespace(req: RenameNamespaceRequest) -> ();
    fn delete_namespace(id: NamespaceId) -> ();
    fn delete_namespace_by_name(name: &str) -> ();
    fn list_namespaces(page_size: i32, next_page_token: Option<Vec<u8>>) -> Page<NamespaceRecord>;
    fn get_metadata() -> i64;
});

layered!(ClusterMetadataStore as "cluster_metadata" {
    fn list_cluster_metadata(
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Page<ClusterMetadataRecord>;
    fn get_cluster_metadata(cluster_name: &str) -> ClusterMetadataRecord;
    fn save_cluster_metadata(cluster_name: &str, data: DataBlob, version: i64) -> ();
    fn delete_cluster_metadata(cluster_name: &str) -> ();
    fn upsert_cluster_membership(req: UpsertClusterMembershipRequest) -> ();
    fn get_cluster_members(
        filter: ClusterMemberFilter,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Page<ClusterMember>;
    fn prune_cluster_membership(max_records: i32) -> i64;
});

layered!(QueueStore as "queue" {
    fn create_queue(key: &QueueKey) -> ();
    fn enqueue_message(key: &QueueKey, blob: DataBlob) -> i64;
    fn read_messages(
        key: &QueueKey,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Page<QueueMessage>;
    fn range_delete_messages(key: &QueueKey, inclusive_max_id: i64) -> i64;
    fn list_queues(
        queue_type: QueueType,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Page<QueueInfo>;
});

layered!(QueueV1Store as "queue_v1" {
    fn init(queue_type: QueueType, blob: DataBlob) -> ();
    fn enqueue_message(queue_type: QueueType, blob: DataBlob) -> i64;
    fn read_messages(
        queue_type: QueueType,
        last_message_id: i64,
        max_count: i32,
    ) -> Vec<QueueMessage>;
    fn delete_messages_before(queue_type: QueueType, message_id: i64) -> ();
    fn update_ack_level(queue_type: QueueType, metadata: QueueV1Metadata) -> ();
    fn get_ack_levels(queue_type: QueueType) -> QueueV1Metadata;
    fn enqueue_message_to_dlq(queue_type: QueueType, blob: DataBlob) -> i64;
    fn read_messages_from_dlq(
        queue_type: QueueType,
        first_message_id: i64,
        last_message_id: i64,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Page<QueueMessage>;
    fn delete_message_from_dlq(queue_type: QueueType, message_id: i64) -> ();
    fn range_delete_messages_from_dlq(
        queue_type: QueueType,
        first_message_id: i64,
        last_message_id: i64,
    ) -> ();
    fn update_dlq_ack_level(queue_type: QueueType, metadata: QueueV1Metadata) -> ();
    fn get_dlq_ack_levels(queue_type: QueueType) -> QueueV1Metadata;
});

layered!(ReplicationDlqStore as "replication_dlq" {
    fn put_replication_task_to_dlq(
        shard_id: ShardId,
        source_cluster_name: &str,
        task: ReplicationDlqTask,
    ) -> ();
    fn get_replication_tasks_from_dlq(
        req: GetReplicationDlqTasksRequest,
    ) -> Page<ReplicationDlqTask>;
    fn delete_replication_task_from_dlq(
        shard_id: ShardId,
        source_cluster_name: &str,
        task_id: i64,
    ) -> ();
    fn range_delete_replication_tasks_from_dlq(
        shard_id: ShardId,
        source_cluster_name: &str,
        inclusive_min_task_id: i64,
        exclusive_max_task_id: i64,
    ) -> ();
    fn is_replication_dlq_empty(
        shard_id: ShardId,
        source_cluster_name: &str,
        inclusive_min_task_id: i64,
    ) -> bool;
});

layered!(NexusEndpointStore as "nexus_endpoint" {
    fn create_or_update_nexus_endpoint(
        last_known_table_version: i64,
        endpoint: NexusEndpoint,
    ) -> ();
    fn delete_nexus_endpoint(last_known_table_version: i64, id: Uuid) -> ();
    fn get_nexus_endpoint(id: Uuid) -> NexusEndpoint;
    fn list_nexus_endpoints(
        last_known_table_version: i64,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> NexusEndpointPage;
});

layered!(VisibilityStore as "visibility" {
    fn record_started(record: VisibilityRecord) -> ();
    fn record_closed(record: VisibilityRecord) -> ();
    fn upsert(record: VisibilityRecord) -> ();
    fn delete(namespace_id: NamespaceId, run_id: RunId, task_id: i64) -> ();
    fn get(namespace_id: NamespaceId, run_id: RunId) -> VisibilityRecord;
    fn list(req: ListWorkflowExecutionsRequest) -> Page<VisibilityRecord>;
    fn count(req: CountWorkflowExecutionsRequest) -> CountResult;
    fn add_search_attributes(
        namespace_id: NamespaceId,
        attributes: BTreeMap<String, SearchAttributeType>,
    ) -> ();
    fn write_batch(writes: Vec<VisibilityWrite>) -> Vec<Result<()>>;
    fn refresh() -> ();
});
