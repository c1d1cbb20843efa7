//! Workflow mutable state and history (shard) tasks.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;

use crate::error::Result;
use crate::history::AppendHistoryNodesRequest;
use crate::ids::{ArchetypeId, NamespaceId, RunId, ShardId, WorkflowId, WorkflowKey};
use crate::types::{
    DataBlob, DateTime, HistoryTask, HistoryTaskKey, Page, TaskCategory, Utc, WorkflowState,
    WorkflowStatus,
};

/// The explicit columns a run contributes to its workflow's current-run row.
///
/// The server keeps these inside the (opaque) execution-state blob too; the store needs them as
/// columns for the current-run conditions.
///
/// ```
/// use durastore_api::{ExecutionStateColumns, WorkflowState, WorkflowStatus};
///
/// let cols = ExecutionStateColumns {
///     create_request_id: "request-1".into(),
///     ..ExecutionStateColumns::new(WorkflowState::Running, WorkflowStatus::Running)
/// };
/// assert_eq!(cols.start_time, None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionStateColumns {
    /// Request id that created the run (may be empty).
    pub create_request_id: String,
    /// Persistence state.
    pub state: WorkflowState,
    /// Status.
    pub status: WorkflowStatus,
    /// Start time, when known.
    pub start_time: Option<DateTime<Utc>>,
}

impl ExecutionStateColumns {
    /// Columns with the given state and status, an empty create request id and no start time.
    pub fn new(state: WorkflowState, status: WorkflowStatus) -> Self {
        Self {
            create_request_id: String::new(),
            state,
            status,
            start_time: None,
        }
    }
}

/// One CHASM tree node: metadata plus optional data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChasmNode {
    /// Node metadata.
    pub metadata: DataBlob,
    /// Node data, if any.
    pub data: Option<DataBlob>,
}

/// The whole state of one run, written by create, set and conflict-resolve.
///
/// [`WorkflowSnapshot::new`] takes what has no default and leaves the rest empty; set other
/// fields with struct update syntax or by assignment (every field is public):
///
/// ```
/// use durastore_api::*;
///
/// let key = WorkflowKey::new(NamespaceId::new_random(), "order-42", RunId::new_random());
/// let cols = ExecutionStateColumns::new(WorkflowState::Created, WorkflowStatus::Running);
/// let (info, state) = (DataBlob::proto3(b"info"), DataBlob::proto3(b"state"));
/// let task = HistoryTask::new(HistoryTaskKey::immediate(1 << 20), DataBlob::proto3(b"task"));
/// let snapshot = WorkflowSnapshot {
///     last_write_version: 7,
///     ..WorkflowSnapshot::new(key, info, state, cols, 3)
/// }
/// .with_task(TaskCategory::TRANSFER, task);
/// assert_eq!(snapshot.db_record_version, 1); // a new run's first version
/// assert!(snapshot.activity_infos.is_empty() && snapshot.checksum.is_none());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowSnapshot {
    /// The run.
    pub key: WorkflowKey,
    /// Opaque `WorkflowExecutionInfo`.
    pub execution_info: DataBlob,
    /// Opaque `WorkflowExecutionState`.
    pub execution_state: DataBlob,
    /// Columns of the current-run row.
    pub state: ExecutionStateColumns,
    /// Start version.
    pub start_version: i64,
    /// Last write version.
    pub last_write_version: i64,
    /// Next event id.
    pub next_event_id: i64,
    /// The record version this write leaves stored (the store keeps the value given).
    ///
    /// A create has nothing to compare with: a new run starts at 1 by convention (Temporal's,
    /// and [`WorkflowSnapshot::new`]'s). A set or conflict-resolve is a CAS: the stored version
    /// must be `db_record_version - 1`, so pass the version read plus one; 0 selects the legacy
    /// `condition` instead.
    pub db_record_version: i64,
    /// Legacy CAS value for set and conflict-resolve: expected stored `next_event_id` when
    /// `db_record_version` is 0. Unused by create.
    pub condition: i64,
    /// Optional checksum.
    pub checksum: Option<DataBlob>,
    /// Activity infos by scheduled event id.
    pub activity_infos: BTreeMap<i64, DataBlob>,
    /// Timer infos by timer id.
    pub timer_infos: BTreeMap<String, DataBlob>,
    /// Child execution infos by initiated event id.
    pub child_execution_infos: BTreeMap<i64, DataBlob>,
    /// Request-cancel infos by initiated event id.
    pub request_cancel_infos: BTreeMap<i64, DataBlob>,
    /// Signal infos by initiated event id.
    pub signal_infos: BTreeMap<i64, DataBlob>,
    /// CHASM nodes by path.
    pub chasm_nodes: BTreeMap<String, ChasmNode>,
    /// Signal-requested ids.
    pub signal_requested_ids: BTreeSet<String>,
    /// History tasks to add with this write, by category.
    pub tasks: BTreeMap<TaskCategory, Vec<HistoryTask>>,
}

impl WorkflowSnapshot {
    /// A run's whole state with what has no default: its key, the two opaque blobs, the
    /// current-row columns and the next event id. The rest is empty: `db_record_version` 1 (where a
    /// new run starts), start and last write version 0 (a local namespace's version), `condition`
    /// 0, no checksum, empty maps and signal-requested ids, no history tasks.
    pub fn new(
        key: WorkflowKey,
        execution_info: DataBlob,
        execution_state: DataBlob,
        state: ExecutionStateColumns,
        next_event_id: i64,
    ) -> Self {
        Self {
            key,
            execution_info,
            execution_state,
            state,
            start_version: 0,
            last_write_version: 0,
            next_event_id,
            db_record_version: 1,
            condition: 0,
            checksum: None,
            activity_infos: BTreeMap::new(),
            timer_infos: BTreeMap::new(),
            child_execution_infos: BTreeMap::new(),
            request_cancel_infos: BTreeMap::new(),
            signal_infos: BTreeMap::new(),
            chasm_nodes: BTreeMap::new(),
            signal_requested_ids: BTreeSet::new(),
            tasks: BTreeMap::new(),
        }
    }

    /// Adds a history task of `category` to write with this state.
    pub fn with_task(mut self, category: TaskCategory, task: HistoryTask) -> Self {
        self.tasks.entry(category).or_default().push(task);
        self
    }
}

/// A change to one run, written by update.
///
/// [`WorkflowMutation::new`] takes what has no default and changes nothing else; add map
/// changes, buffered events and tasks to the value it returns:
///
/// ```
/// use durastore_api::*;
///
/// # let key = WorkflowKey::new(NamespaceId::new_random(), "order-42", RunId::new_random());
/// # let cols = ExecutionStateColumns::new(WorkflowState::Running, WorkflowStatus::Running);
/// // The run was created with db_record_version 1 and next event id 3.
/// let (info, state) = (DataBlob::proto3(b"info 2"), DataBlob::proto3(b"state 2"));
/// let mut m = WorkflowMutation::new(key, info, state, cols, 5, 2);
/// m.upsert_activity_infos.insert(5, DataBlob::proto3(b"activity"));
/// m.upsert_timer_infos.insert("timer-1".into(), DataBlob::proto3(b"timer"));
/// assert!(m.delete_activity_infos.is_empty() && m.new_buffered_events.is_none());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowMutation {
    /// The run.
    pub key: WorkflowKey,
    /// New `WorkflowExecutionInfo`.
    pub execution_info: DataBlob,
    /// New `WorkflowExecutionState`.
    pub execution_state: DataBlob,
    /// Columns of the current-run row.
    pub state: ExecutionStateColumns,
    /// Start version.
    pub start_version: i64,
    /// Last write version.
    pub last_write_version: i64,
    /// New next event id.
    pub next_event_id: i64,
    /// New record version: the stored one must be `db_record_version - 1`, so pass the version
    /// last written plus one (2 for the first update of a run created at 1); the store keeps the
    /// value given. When 0, the legacy condition applies instead: stored `next_event_id` must
    /// equal `condition`.
    pub db_record_version: i64,
    /// Legacy CAS value (expected stored next event id) used when `db_record_version` is 0.
    pub condition: i64,
    /// Optional checksum.
    pub checksum: Option<DataBlob>,
    /// Activity infos to insert or replace.
    pub upsert_activity_infos: BTreeMap<i64, DataBlob>,
    /// Activity infos to delete.
    pub delete_activity_infos: BTreeSet<i64>,
    /// Timer infos to insert or replace.
    pub upsert_timer_infos: BTreeMap<String, DataBlob>,
    /// Timer infos to delete.
    pub delete_timer_infos: BTreeSet<String>,
    /// Child execution infos to insert or replace.
    pub upsert_child_execution_infos: BTreeMap<i64, DataBlob>,
    /// Child execution infos to delete.
    pub delete_child_execution_infos: BTreeSet<i64>,
    /// Request-cancel infos to insert or replace.
    pub upsert_request_cancel_infos: BTreeMap<i64, DataBlob>,
    /// Request-cancel infos to delete.
    pub delete_request_cancel_infos: BTreeSet<i64>,
    /// Signal infos to insert or replace.
    pub upsert_signal_infos: BTreeMap<i64, DataBlob>,
    /// Signal infos to delete.
    pub delete_signal_infos: BTreeSet<i64>,
    /// CHASM nodes to insert or replace.
    pub upsert_chasm_nodes: BTreeMap<String, ChasmNode>,
    /// CHASM nodes to delete.
    pub delete_chasm_nodes: BTreeSet<String>,
    /// Signal-requested ids to add.
    pub upsert_signal_requested_ids: BTreeSet<String>,
    /// Signal-requested ids to remove.
    pub delete_signal_requested_ids: BTreeSet<String>,
    /// A batch of buffered events to append (after clearing, if both are set).
    pub new_buffered_events: Option<DataBlob>,
    /// Remove all buffered events.
    pub clear_buffered_events: bool,
    /// History tasks to add with this write, by category.
    pub tasks: BTreeMap<TaskCategory, Vec<HistoryTask>>,
}

impl WorkflowMutation {
    /// A change with what has no default: the run's key, its new blobs and current-row columns,
    /// its new next event id and its new `db_record_version` (the stored one plus one). Nothing
    /// else changes: start and last write version 0, `condition` 0, no checksum, no map upserts or
    /// deletes, no buffered events, no history tasks.
    pub fn new(
        key: WorkflowKey,
        execution_info: DataBlob,
        execution_state: DataBlob,
        state: ExecutionStateColumns,
        next_event_id: i64,
        db_record_version: i64,
    ) -> Self {
        Self {
            key,
            execution_info,
            execution_state,
            state,
            start_version: 0,
            last_write_version: 0,
            next_event_id,
            db_record_version,
            condition: 0,
            checksum: None,
            upsert_activity_infos: BTreeMap::new(),
            delete_activity_infos: BTreeSet::new(),
            upsert_timer_infos: BTreeMap::new(),
            delete_timer_infos: BTreeSet::new(),
            upsert_child_execution_infos: BTreeMap::new(),
            delete_child_execution_infos: BTreeSet::new(),
            upsert_request_cancel_infos: BTreeMap::new(),
            delete_request_cancel_infos: BTreeSet::new(),
            upsert_signal_infos: BTreeMap::new(),
            delete_signal_infos: BTreeSet::new(),
            upsert_chasm_nodes: BTreeMap::new(),
            delete_chasm_nodes: BTreeSet::new(),
            upsert_signal_requested_ids: BTreeSet::new(),
            delete_signal_requested_ids: BTreeSet::new(),
            new_buffered_events: None,
            clear_buffered_events: false,
            tasks: BTreeMap::new(),
        }
    }

    /// Adds a history task of `category` to write with this change.
    pub fn with_task(mut self, category: TaskCategory, task: HistoryTask) -> Self {
        self.tasks.entry(category).or_default().push(task);
        self
    }
}

/// How a create treats the workflow's current-run row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateMode {
    /// No current row may exist; one (for any run) gives `CurrentWorkflowConditionFailed`
    /// carrying that row.
    BrandNew,
    /// Workflow-id reuse: the current row must point at `previous_run_id` with
    /// `previous_last_write_version` and state `Completed`; it then moves to the new run.
    UpdateCurrent {
        /// The run the current row must point at.
        previous_run_id: RunId,
        /// Its last write version.
        previous_last_write_version: i64,
    },
    /// Zombie: the current row is not touched (and must not point at this run).
    BypassCurrent,
}

/// How an update treats the current-run row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateMode {
    /// The current row must point at the mutated run; it is refreshed (or moves to the new run).
    UpdateCurrent,
    /// The current row must not point at the mutated run and is not touched.
    BypassCurrent,
    /// No check at all (closed runs whose current-ness is unknown).
    IgnoreCurrent,
}

/// How a conflict-resolve treats the current-run row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictResolveMode {
    /// The current row must point at the current mutation's run (or the reset run) and moves
    /// to the new run if any, else to the reset run.
    UpdateCurrent,
    /// The current row must not point at the reset run and is not touched.
    BypassCurrent,
}

/// Request for [`ExecutionStore::create_workflow_execution`].
#[derive(Debug, Clone)]
pub struct CreateWorkflowExecutionRequest {
    /// Shard.
    pub shard_id: ShardId,
    /// The caller's lease.
    pub range_id: i64,
    /// The execution's archetype: selects the current-run id space (see [`ArchetypeId`]).
    pub archetype_id: ArchetypeId,
    /// Current-row mode.
    pub mode: CreateMode,
    /// The new run.
    pub new_snapshot: WorkflowSnapshot,
    /// History nodes appended before the state write.
    pub new_events: Vec<AppendHistoryNodesRequest>,
}

impl CreateWorkflowExecutionRequest {
    /// Creates `new_snapshot`'s run as a brand-new workflow ([`CreateMode::BrandNew`], workflow
    /// archetype) with no history nodes; push the run's first history nodes onto `new_events`.
    pub fn new(shard_id: ShardId, range_id: i64, new_snapshot: WorkflowSnapshot) -> Self {
        Self {
            shard_id,
            range_id,
            archetype_id: ArchetypeId::WORKFLOW,
            mode: CreateMode::BrandNew,
            new_snapshot,
            new_events: Vec::new(),
        }
    }
}

/// Request for [`ExecutionStore::update_workflow_execution`].
#[derive(Debug, Clone)]
pub struct UpdateWorkflowExecutionRequest {
    /// Shard.
    pub shard_id: ShardId,
    /// The caller's lease.
    pub range_id: i64,
    /// The execution's archetype: selects the current-run id space (see [`ArchetypeId`]).
    pub archetype_id: ArchetypeId,
    /// Current-row mode.
    pub mode: UpdateMode,
    /// The change to the existing run.
    pub mutation: WorkflowMutation,
    /// History nodes for the mutated run, appended before the state write.
    pub mutation_events: Vec<AppendHistoryNodesRequest>,
    /// A new run created in the same transaction (continue-as-new).
    pub new_snapshot: Option<WorkflowSnapshot>,
    /// History nodes for the new run.
    pub new_events: Vec<AppendHistoryNodesRequest>,
}

impl UpdateWorkflowExecutionRequest {
    /// Applies `mutation` to the current run ([`UpdateMode::UpdateCurrent`], workflow archetype)
    /// with no history nodes and no new run.
    pub fn new(shard_id: ShardId, range_id: i64, mutation: WorkflowMutation) -> Self {
        Self {
            shard_id,
            range_id,
            archetype_id: ArchetypeId::WORKFLOW,
            mode: UpdateMode::UpdateCurrent,
            mutation,
            mutation_events: Vec::new(),
            new_snapshot: None,
            new_events: Vec::new(),
        }
    }
}

/// Request for [`ExecutionStore::conflict_resolve_workflow_execution`].
#[derive(Debug, Clone)]
pub struct ConflictResolveWorkflowExecutionRequest {
    /// Shard.
    pub shard_id: ShardId,
    /// The caller's lease.
    pub range_id: i64,
    /// The execution's archetype: selects the current-run id space (see [`ArchetypeId`]).
    pub archetype_id: ArchetypeId,
    /// Current-row mode.
    pub mode: ConflictResolveMode,
    /// The run whose whole state is rewritten.
    pub reset_snapshot: WorkflowSnapshot,
    /// History nodes for the reset run.
    pub reset_events: Vec<AppendHistoryNodesRequest>,
    /// An optional new run.
    pub new_snapshot: Option<WorkflowSnapshot>,
    /// History nodes for the new run.
    pub new_events: Vec<AppendHistoryNodesRequest>,
    /// An optional mutation of the (other) current run.
    pub current_mutation: Option<WorkflowMutation>,
    /// History nodes for the current run.
    pub current_events: Vec<AppendHistoryNodesRequest>,
}

impl ConflictResolveWorkflowExecutionRequest {
    /// Rewrites `reset_snapshot`'s run with `mode` (workflow archetype), with no history nodes, no
    /// new run and no mutation of another current run.
    pub fn new(
        shard_id: ShardId,
        range_id: i64,
        mode: ConflictResolveMode,
        reset_snapshot: WorkflowSnapshot,
    ) -> Self {
        Self {
            shard_id,
            range_id,
            archetype_id: ArchetypeId::WORKFLOW,
            mode,
            reset_snapshot,
            reset_events: Vec::new(),
            new_snapshot: None,
            new_events: Vec::new(),
            current_mutation: None,
            current_events: Vec::new(),
        }
    }
}

/// Request for [`ExecutionStore::set_workflow_execution`].
#[derive(Debug, Clone)]
pub struct SetWorkflowExecutionRequest {
    /// Shard.
    pub shard_id: ShardId,
    /// The caller's lease.
    pub range_id: i64,
    /// The execution's archetype (see [`ArchetypeId`]); a set leaves the current row alone, so it
    /// is only checked.
    pub archetype_id: ArchetypeId,
    /// The run's whole new state.
    pub snapshot: WorkflowSnapshot,
}

impl SetWorkflowExecutionRequest {
    /// Overwrites `snapshot`'s run (workflow archetype).
    pub fn new(shard_id: ShardId, range_id: i64, snapshot: WorkflowSnapshot) -> Self {
        Self {
            shard_id,
            range_id,
            archetype_id: ArchetypeId::WORKFLOW,
            snapshot,
        }
    }
}

/// A run's state as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowMutableState {
    /// The run.
    pub key: WorkflowKey,
    /// `WorkflowExecutionInfo`.
    pub execution_info: DataBlob,
    /// `WorkflowExecutionState`.
    pub execution_state: DataBlob,
    /// Next event id.
    pub next_event_id: i64,
    /// Last write version.
    pub last_write_version: i64,
    /// Record version.
    pub db_record_version: i64,
    /// Checksum, if stored.
    pub checksum: Option<DataBlob>,
    /// Activity infos.
    pub activity_infos: BTreeMap<i64, DataBlob>,
    /// Timer infos.
    pub timer_infos: BTreeMap<String, DataBlob>,
    /// Child execution infos.
    pub child_execution_infos: BTreeMap<i64, DataBlob>,
    /// Request-cancel infos.
    pub request_cancel_infos: BTreeMap<i64, DataBlob>,
    /// Signal infos.
    pub signal_infos: BTreeMap<i64, DataBlob>,
    /// CHASM nodes.
    pub chasm_nodes: BTreeMap<String, ChasmNode>,
    /// Signal-requested ids.
    pub signal_requested_ids: BTreeSet<String>,
    /// Buffered event batches in insertion order.
    pub buffered_events: Vec<DataBlob>,
}

/// A workflow's current-run row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentExecution {
    /// The current run.
    pub run_id: RunId,
    /// Its state columns.
    pub state: ExecutionStateColumns,
    /// Its last write version.
    pub last_write_version: i64,
    /// Copy of its execution-state blob.
    pub execution_state: DataBlob,
}

/// Request for [`ExecutionStore::get_history_tasks`].
#[derive(Debug, Clone)]
pub struct GetHistoryTasksRequest {
    /// Shard.
    pub shard_id: ShardId,
    /// Category.
    pub category: TaskCategory,
    /// Inclusive lower key. For immediate categories only `task_id` counts.
    pub inclusive_min_key: HistoryTaskKey,
    /// Exclusive upper key. For immediate categories only `task_id` counts; for scheduled
    /// categories only `fire_time` counts.
    pub exclusive_max_key: HistoryTaskKey,
    /// Page size (1..=10000).
    pub batch_size: i32,
    /// Token from the previous page.
    pub next_page_token: Option<Vec<u8>>,
}

/// Workflow mutable state and history tasks of one shard.
///
/// # Contract
/// - **Fencing.** Every create / update / conflict-resolve / set and `add_history_tasks` checks the
///   shard's stored range id in the same transaction (or LWT batch) as the write. A mismatch is
///   `ShardOwnershipLost` and wins over every other failed condition of that write. On SQL backends
///   the check takes a shared lock on the shard row, so it serializes against `update_shard`.
/// - **Execution CAS.** An update/reset/set with `db_record_version != 0` requires the stored
///   version to be `db_record_version - 1`; with 0, the stored `next_event_id` must equal
///   `condition`. Mismatch is `WorkflowConditionFailed` carrying the stored values; a missing row
///   is `ConditionFailed` for both update and set. Creating a run that exists is
///   `WorkflowConditionFailed`.
/// - **Current row** per mode (see [`CreateMode`], [`UpdateMode`], [`ConflictResolveMode`]);
///   failures are `CurrentWorkflowConditionFailed` carrying the current row found, including its
///   execution-state blob (from which Temporal reads the request ids and first execution run id
///   to deduplicate starts), as read by the same transaction (SQL: the locked row) or the same
///   LWT result (Cassandra) that failed the condition.
/// - **Archetypes.** The current row is keyed by (namespace, id, [`ArchetypeId`]): each archetype
///   has its own current-run id space, so a workflow and a non-workflow execution with the same id
///   have separate current rows, conflicts and deletes, with the same fencing and CAS guarantees.
///   Create / update / conflict-resolve use the request's `archetype_id` for every current-row
///   condition and write; [`get_current_execution_for_archetype`] and
///   [`delete_current_execution_for_archetype`] take it explicitly (the archetype-less
///   methods mean the workflow archetype). Run rows, history tasks, `get` / `delete` /
///   `list_concrete_executions` are keyed by run and ignore the archetype, as in Temporal.
///   [`ArchetypeId::UNSPECIFIED`] is `InvalidArgument`.
///
/// [`get_current_execution_for_archetype`]: ExecutionStore::get_current_execution_for_archetype
/// [`delete_current_execution_for_archetype`]: ExecutionStore::delete_current_execution_for_archetype
/// - **Atomicity.** Everything but the history nodes is one transaction: a failed condition
///   changes nothing. History nodes in `*_events` are appended first, outside it (as Temporal
///   does); a reader ignores nodes no committed state refers to.
/// - **Validation** happens before anything is written: ids, blob sizes, task keys.
/// - **History tasks** are ordered by (fire time, task id); pages continue exactly after the last
///   returned key and the last page has no token. Scheduled fire times are stored with
///   millisecond precision.
///
/// # Example
/// Create a run with its first history node and a transfer task, then update it; the
/// `range_id` is the shard lease from [`ShardStore`](crate::ShardStore)
/// (`durastore/examples/walkthrough.rs` runs the whole lifecycle on a backend):
/// ```
/// use durastore_api::*;
///
/// async fn start_and_update(
///     executions: &dyn ExecutionStore,
///     shard: ShardId,
///     range_id: i64,
///     key: WorkflowKey,
/// ) -> Result<i64> {
///     let first_task_id = range_id << 20; // Temporal's task ids of this lease
///     let cols = ExecutionStateColumns::new(WorkflowState::Running, WorkflowStatus::Running);
///     let snapshot = WorkflowSnapshot::new(
///         key.clone(),
///         DataBlob::proto3(b"execution info"),
///         DataBlob::proto3(b"execution state"),
///         cols.clone(),
///         3, // events 1 and 2 are written
///     )
///     .with_task(
///         TaskCategory::TRANSFER,
///         HistoryTask::new(HistoryTaskKey::immediate(first_task_id), DataBlob::proto3(b"wf task")),
///     );
///     let mut create = CreateWorkflowExecutionRequest::new(shard, range_id, snapshot);
///     create.new_events.push(AppendHistoryNodesRequest {
///         shard_id: shard,
///         branch: HistoryBranch::new_root(TreeId(key.run_id.0), BranchId::new_random()),
///         is_new_branch: true,
///         tree_info: DataBlob::proto3(b"tree info"),
///         node_id: 1,
///         txn_id: first_task_id,
///         prev_txn_id: 0,
///         events: DataBlob::proto3(b"events 1-2"),
///     });
///     executions.create_workflow_execution(create).await?;
///
///     // Created at db_record_version 1, so the first update writes 2.
///     let mut change = WorkflowMutation::new(
///         key.clone(),
///         DataBlob::proto3(b"execution info 2"),
///         DataBlob::proto3(b"execution state 2"),
///         cols,
///         5,
///         2,
///     );
///     change.upsert_timer_infos.insert("timer-1".into(), DataBlob::proto3(b"timer"));
///     executions
///         .update_workflow_execution(UpdateWorkflowExecutionRequest::new(shard, range_id, change))
///         .await?;
///     Ok(executions.get_workflow_execution(shard, &key).await?.db_record_version) // 2
/// }
/// ```
#[async_trait]
pub trait ExecutionStore: Send + Sync {
    /// Creates a run (and moves the current row per mode).
    async fn create_workflow_execution(&self, req: CreateWorkflowExecutionRequest) -> Result<()>;
    /// Updates a run (and optionally creates a new one).
    async fn update_workflow_execution(&self, req: UpdateWorkflowExecutionRequest) -> Result<()>;
    /// Rewrites a run's whole state, with optional new run and current mutation.
    async fn conflict_resolve_workflow_execution(
        &self,
        req: ConflictResolveWorkflowExecutionRequest,
    ) -> Result<()>;
    /// Overwrites a run's whole state; the current row is untouched. Missing run: `ConditionFailed`.
    async fn set_workflow_execution(&self, req: SetWorkflowExecutionRequest) -> Result<()>;
    /// Reads a run's whole state, or `NotFound`.
    async fn get_workflow_execution(
        &self,
        shard_id: ShardId,
        key: &WorkflowKey,
    ) -> Result<WorkflowMutableState>;
    /// Reads the workflow archetype's current-run row, or `NotFound`
    /// ([`get_current_execution_for_archetype`](Self::get_current_execution_for_archetype) with
    /// [`ArchetypeId::WORKFLOW`]).
    async fn get_current_execution(
        &self,
        shard_id: ShardId,
        namespace_id: NamespaceId,
        workflow_id: &WorkflowId,
    ) -> Result<CurrentExecution> {
        self.get_current_execution_for_archetype(
            shard_id,
            namespace_id,
            workflow_id,
            ArchetypeId::WORKFLOW,
        )
        .await
    }
    /// Reads the current-run row of `id` in `archetype_id`'s id space, or `NotFound`.
    async fn get_current_execution_for_archetype(
        &self,
        shard_id: ShardId,
        namespace_id: NamespaceId,
        id: &WorkflowId,
        archetype_id: ArchetypeId,
    ) -> Result<CurrentExecution>;
    /// Deletes a run and all its map rows (idempotent; not fenced).
    async fn delete_workflow_execution(&self, shard_id: ShardId, key: &WorkflowKey) -> Result<()>;
    /// Deletes the workflow archetype's current row only if it points at `key.run_id`
    /// (idempotent; [`delete_current_execution_for_archetype`] with [`ArchetypeId::WORKFLOW`]).
    ///
    /// [`delete_current_execution_for_archetype`]: Self::delete_current_execution_for_archetype
    async fn delete_current_workflow_execution(
        &self,
        shard_id: ShardId,
        key: &WorkflowKey,
    ) -> Result<()> {
        self.delete_current_execution_for_archetype(shard_id, key, ArchetypeId::WORKFLOW)
            .await
    }
    /// Deletes the current row of `key`'s id in `archetype_id`'s id space only if it points at
    /// `key.run_id` (idempotent); other archetypes' current rows are untouched.
    async fn delete_current_execution_for_archetype(
        &self,
        shard_id: ShardId,
        key: &WorkflowKey,
        archetype_id: ArchetypeId,
    ) -> Result<()>;
    /// Lists every run of a shard, paged (needs `list_concrete_executions`).
    async fn list_concrete_executions(
        &self,
        shard_id: ShardId,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<WorkflowMutableState>>;

    /// Adds history tasks for one workflow, fenced by the range id.
    async fn add_history_tasks(
        &self,
        shard_id: ShardId,
        range_id: i64,
        namespace_id: NamespaceId,
        workflow_id: &WorkflowId,
        tasks: BTreeMap<TaskCategory, Vec<HistoryTask>>,
    ) -> Result<()>;
    /// Reads tasks in `[min, max)`, ascending, paged.
    async fn get_history_tasks(&self, req: GetHistoryTasksRequest) -> Result<Page<HistoryTask>>;
    /// Deletes one task (idempotent).
    async fn complete_history_task(
        &self,
        shard_id: ShardId,
        category: TaskCategory,
        key: HistoryTaskKey,
    ) -> Result<()>;
    /// Deletes tasks in `[min, max)`: by task id for immediate categories, by fire time for
    /// scheduled ones.
    async fn range_complete_history_tasks(
        &self,
        shard_id: ShardId,
        category: TaskCategory,
        inclusive_min_key: HistoryTaskKey,
        exclusive_max_key: HistoryTaskKey,
    ) -> Result<()>;
}
