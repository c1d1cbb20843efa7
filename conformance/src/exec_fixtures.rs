//! Builders and checks for execution-store cases.
//!
//! - Shards: every execution write is fenced by the shard's range id, so a case first creates its
//!   own shard ([`new_shard`]) and uses the returned [`TestShard`] for every request;
//!   [`steal_shard`] moves the lease on so the old range id becomes stale.
//! - Records: [`snapshot`] and [`mutation`] build whole states and changes with random payloads
//!   and random map keys, so a store that mixes up rows or leaves old rows behind is caught.
//! - A model of what a run must read back: [`expected_state`] (after a snapshot) and
//!   [`apply_mutation`] (after each mutation), compared field by field with [`compare_state`].
//! - Request builders ([`create_request`], [`update_request`], [`conflict_resolve_request`],
//!   [`set_request`]) with no history events and no optional parts, for cases to adjust.

use std::collections::{BTreeMap, BTreeSet};

use durastore_api::chrono::TimeDelta;
use durastore_api::{
    AppendHistoryNodesRequest, BranchId, ChasmNode, ConflictDetail, ConflictResolveMode,
    ConflictResolveWorkflowExecutionRequest, CreateMode, CreateWorkflowExecutionRequest,
    CurrentExecution, DateTime, ErrorKind, ExecutionStateColumns, GetHistoryTasksRequest,
    GetOrCreateShardRequest, HistoryBranch, HistoryTask, HistoryTaskKey, NamespaceId,
    SetWorkflowExecutionRequest, ShardId, StoreError, TaskCategory, TreeId, UpdateMode,
    UpdateShardRequest, UpdateWorkflowExecutionRequest, Utc, Uuid, WorkflowId, WorkflowKey,
    WorkflowMutableState, WorkflowMutation, WorkflowSnapshot, WorkflowState, WorkflowStatus,
    truncate_to_micros,
};

use crate::check::{expect_err, ok};
use crate::fixtures::{blob, unique_name};
use crate::{CaseError, Ctx};

/// Range id a fresh test shard is created with (not 0 or 1, so a backend that ignores the
/// stored value and compares with a constant is caught).
pub const INITIAL_RANGE_ID: i64 = 5;

/// Start and last write version of a snapshot built by [`snapshot`] (non-zero, so a reuse
/// condition on the last write version is meaningful).
pub const SNAPSHOT_VERSION: i64 = 10;

/// Next event id of a snapshot built by [`snapshot`].
pub const SNAPSHOT_NEXT_EVENT_ID: i64 = 3;

/// A shard created for one case and the range id that owns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestShard {
    /// Shard id (unique within the run, see [`Ctx::new_shard_id`]).
    pub id: ShardId,
    /// The range id stored for it when this value was made.
    pub range_id: i64,
}

/// Creates a fresh shard with [`INITIAL_RANGE_ID`].
pub async fn new_shard(ctx: &Ctx) -> Result<TestShard, CaseError> {
    create_shard(ctx, ctx.new_shard_id(), INITIAL_RANGE_ID).await
}

/// Creates (or reads) shard `id` with `range_id`; returns the range id actually stored.
pub async fn create_shard(ctx: &Ctx, id: ShardId, range_id: i64) -> Result<TestShard, CaseError> {
    let info = ok(
        "get_or_create_shard",
        ctx.shard()?
            .get_or_create_shard(GetOrCreateShardRequest {
                shard_id: id,
                create_if_missing: Some((range_id, blob(24))),
            })
            .await,
    )?;
    Ok(TestShard {
        id,
        range_id: info.range_id,
    })
}

/// Moves the shard's lease to `range_id + 1` (as a new owner would); the returned value holds
/// the new range id and `shard.range_id` is stale from now on.
pub async fn steal_shard(ctx: &Ctx, shard: &TestShard) -> Result<TestShard, CaseError> {
    let next = shard.range_id + 1;
    ok(
        "update_shard (steal)",
        ctx.shard()?
            .update_shard(UpdateShardRequest {
                shard_id: shard.id,
                range_id: next,
                previous_range_id: shard.range_id,
                data: blob(24),
            })
            .await,
    )?;
    Ok(TestShard {
        id: shard.id,
        range_id: next,
    })
}

/// A random positive integer key (activity / child / signal maps use event ids).
pub fn random_i64() -> i64 {
    (Uuid::new_v4().as_u128() % 1_000_000_000) as i64 + 1
}

/// A key for a fresh workflow of namespace `ns`: unique workflow id, random run id.
pub fn new_key(ns: NamespaceId) -> WorkflowKey {
    WorkflowKey::new(ns, unique_name("wf"), durastore_api::RunId::new_random())
}

/// A key for another run of the same workflow (same namespace and workflow id).
pub fn next_run(key: &WorkflowKey) -> WorkflowKey {
    WorkflowKey::new(
        key.namespace_id,
        key.workflow_id.clone(),
        durastore_api::RunId::new_random(),
    )
}

/// Current-row columns with a fresh request id and a start time of now (to the microsecond,
/// the precision every backend stores).
pub fn state_columns(state: WorkflowState, status: WorkflowStatus) -> ExecutionStateColumns {
    ExecutionStateColumns {
        create_request_id: unique_name("req"),
        state,
        status,
        start_time: Some(truncate_to_micros(Utc::now())),
    }
}

/// A CHASM node with random metadata and, if `with_data`, random data.
pub fn chasm_node(with_data: bool) -> ChasmNode {
    ChasmNode {
        metadata: blob(20),
        data: with_data.then(|| blob(30)),
    }
}

/// A whole run state with random blobs: next event id [`SNAPSHOT_NEXT_EVENT_ID`],
/// `db_record_version` 1, versions [`SNAPSHOT_VERSION`], a checksum, two entries in each of the
/// six maps (random keys; one CHASM node without data) and two signal-requested ids. No tasks.
pub fn snapshot(
    key: WorkflowKey,
    state: WorkflowState,
    status: WorkflowStatus,
) -> WorkflowSnapshot {
    let mut s = empty_snapshot(key, state, status);
    for _ in 0..2 {
        s.activity_infos.insert(random_i64(), blob(48));
        s.timer_infos.insert(unique_name("timer"), blob(24));
        s.child_execution_infos.insert(random_i64(), blob(40));
        s.request_cancel_infos.insert(random_i64(), blob(16));
        s.signal_infos.insert(random_i64(), blob(28));
        s.signal_requested_ids.insert(unique_name("sigreq"));
    }
    s.chasm_nodes.insert(unique_name("chasm"), chasm_node(true));
    s.chasm_nodes
        .insert(unique_name("chasm"), chasm_node(false));
    s
}

/// Like [`snapshot`] but with every map and the signal-requested set empty.
pub fn empty_snapshot(
    key: WorkflowKey,
    state: WorkflowState,
    status: WorkflowStatus,
) -> WorkflowSnapshot {
    let mut s = WorkflowSnapshot::new(
        key,
        blob(64),
        blob(32),
        state_columns(state, status),
        SNAPSHOT_NEXT_EVENT_ID,
    );
    s.start_version = SNAPSHOT_VERSION;
    s.last_write_version = SNAPSHOT_VERSION;
    s.checksum = Some(blob(16));
    s
}

/// A run state a mutation can be built on: a snapshot, a previous mutation, or a state read back.
pub trait MutationBase {
    /// The run.
    fn base_key(&self) -> &WorkflowKey;
    /// Its next event id (the new mutation's legacy `condition`).
    fn base_next_event_id(&self) -> i64;
    /// Its last write version.
    fn base_last_write_version(&self) -> i64;
    /// Its start version.
    fn base_start_version(&self) -> i64;
    /// Its current-row columns.
    fn base_columns(&self) -> ExecutionStateColumns;
}

impl MutationBase for WorkflowSnapshot {
    fn base_key(&self) -> &WorkflowKey {
        &self.key
    }
    fn base_next_event_id(&self) -> i64 {
        self.next_event_id
    }
    fn base_last_write_version(&self) -> i64 {
        self.last_write_version
    }
    fn base_start_version(&self) -> i64 {
        self.start_version
    }
    fn base_columns(&self) -> ExecutionStateColumns {
        self.state.clone()
    }
}

impl MutationBase for WorkflowMutation {
    fn base_key(&self) -> &WorkflowKey {
        &self.key
    }
    fn base_next_event_id(&self) -> i64 {
        self.next_event_id
    }
    fn base_last_write_version(&self) -> i64 {
        self.last_write_version
    }
    fn base_start_version(&self) -> i64 {
        self.start_version
    }
    fn base_columns(&self) -> ExecutionStateColumns {
        self.state.clone()
    }
}

/// A state read back carries no current-row columns or start version: mutations built on it use
/// `Running`/`Running`, an empty request id, no start time, and the last write version as start
/// version.
impl MutationBase for WorkflowMutableState {
    fn base_key(&self) -> &WorkflowKey {
        &self.key
    }
    fn base_next_event_id(&self) -> i64 {
        self.next_event_id
    }
    fn base_last_write_version(&self) -> i64 {
        self.last_write_version
    }
    fn base_start_version(&self) -> i64 {
        self.last_write_version
    }
    fn base_columns(&self) -> ExecutionStateColumns {
        ExecutionStateColumns {
            create_request_id: String::new(),
            state: WorkflowState::Running,
            status: WorkflowStatus::Running,
            start_time: None,
        }
    }
}

/// A mutation of `base`'s run: new random execution info/state blobs and checksum, next event id
/// advanced by 2, the given `db_record_version`, legacy `condition` = base's next event id, the
/// same columns and versions, and no map, buffered-event or task changes.
pub fn mutation(base: &impl MutationBase, db_record_version: i64) -> WorkflowMutation {
    let mut m = WorkflowMutation::new(
        base.base_key().clone(),
        blob(64),
        blob(32),
        base.base_columns(),
        base.base_next_event_id() + 2,
        db_record_version,
    );
    m.start_version = base.base_start_version();
    m.last_write_version = base.base_last_write_version();
    m.condition = base.base_next_event_id();
    m.checksum = Some(blob(16));
    m
}

/// [`mutation`] that leaves the run in `state` (e.g. closed, as continue-as-new requires).
pub fn mutation_in(
    base: &impl MutationBase,
    db_record_version: i64,
    state: WorkflowState,
) -> WorkflowMutation {
    let mut m = mutation(base, db_record_version);
    m.state.state = state;
    m
}

/// What a run reads back right after `snap` was written (create, set or reset): every field and
/// map of the snapshot, and no buffered events (a whole-state write clears them).
pub fn expected_state(snap: &WorkflowSnapshot) -> WorkflowMutableState {
    WorkflowMutableState {
        key: snap.key.clone(),
        execution_info: snap.execution_info.clone(),
        execution_state: snap.execution_state.clone(),
        next_event_id: snap.next_event_id,
        last_write_version: snap.last_write_version,
        db_record_version: snap.db_record_version,
        checksum: snap.checksum.clone(),
        activity_infos: snap.activity_infos.clone(),
        timer_infos: snap.timer_infos.clone(),
        child_execution_infos: snap.child_execution_infos.clone(),
        request_cancel_infos: snap.request_cancel_infos.clone(),
        signal_infos: snap.signal_infos.clone(),
        chasm_nodes: snap.chasm_nodes.clone(),
        signal_requested_ids: snap.signal_requested_ids.clone(),
        buffered_events: Vec::new(),
    }
}

fn apply_map<K: Ord + Clone, V: Clone>(
    map: &mut BTreeMap<K, V>,
    upsert: &BTreeMap<K, V>,
    delete: &BTreeSet<K>,
) {
    for k in delete {
        map.remove(k);
    }
    for (k, v) in upsert {
        map.insert(k.clone(), v.clone());
    }
}

/// Applies a successful mutation to the model of a run's state: scalar fields replaced, map
/// deletes then upserts, buffered events cleared (if asked) then appended.
pub fn apply_mutation(state: &mut WorkflowMutableState, m: &WorkflowMutation) {
    state.execution_info = m.execution_info.clone();
    state.execution_state = m.execution_state.clone();
    state.next_event_id = m.next_event_id;
    state.last_write_version = m.last_write_version;
    state.db_record_version = m.db_record_version;
    state.checksum = m.checksum.clone();
    apply_map(
        &mut state.activity_infos,
        &m.upsert_activity_infos,
        &m.delete_activity_infos,
    );
    apply_map(
        &mut state.timer_infos,
        &m.upsert_timer_infos,
        &m.delete_timer_infos,
    );
    apply_map(
        &mut state.child_execution_infos,
        &m.upsert_child_execution_infos,
        &m.delete_child_execution_infos,
    );
    apply_map(
        &mut state.request_cancel_infos,
        &m.upsert_request_cancel_infos,
        &m.delete_request_cancel_infos,
    );
    apply_map(
        &mut state.signal_infos,
        &m.upsert_signal_infos,
        &m.delete_signal_infos,
    );
    apply_map(
        &mut state.chasm_nodes,
        &m.upsert_chasm_nodes,
        &m.delete_chasm_nodes,
    );
    for id in &m.delete_signal_requested_ids {
        state.signal_requested_ids.remove(id);
    }
    state
        .signal_requested_ids
        .extend(m.upsert_signal_requested_ids.iter().cloned());
    if m.clear_buffered_events {
        state.buffered_events.clear();
    }
    if let Some(b) = &m.new_buffered_events {
        state.buffered_events.push(b.clone());
    }
}

/// The model state after `snap` and then each mutation in order.
pub fn expected_after(
    snap: &WorkflowSnapshot,
    mutations: &[&WorkflowMutation],
) -> WorkflowMutableState {
    let mut s = expected_state(snap);
    for m in mutations {
        apply_mutation(&mut s, m);
    }
    s
}

/// The current-run row a snapshot's run leaves when it becomes (or stays) current.
pub fn expected_current(snap: &WorkflowSnapshot) -> CurrentExecution {
    CurrentExecution {
        run_id: snap.key.run_id,
        state: snap.state.clone(),
        last_write_version: snap.last_write_version,
        execution_state: snap.execution_state.clone(),
    }
}

/// The current-run row after an `UpdateCurrent` mutation refreshed it.
pub fn expected_current_after(m: &WorkflowMutation) -> CurrentExecution {
    CurrentExecution {
        run_id: m.key.run_id,
        state: m.state.clone(),
        last_write_version: m.last_write_version,
        execution_state: m.execution_state.clone(),
    }
}

/// Compares a state read back with the model, naming every field that differs.
pub fn compare_state(
    what: &str,
    actual: &WorkflowMutableState,
    expected: &WorkflowMutableState,
) -> Result<(), CaseError> {
    let mut diffs = Vec::new();
    macro_rules! field {
        ($f:ident) => {
            if actual.$f != expected.$f {
                diffs.push(format!(
                    "{}:\n    got:  {:?}\n    want: {:?}",
                    stringify!($f),
                    actual.$f,
                    expected.$f
                ));
            }
        };
    }
    field!(key);
    field!(execution_info);
    field!(execution_state);
    field!(next_event_id);
    field!(last_write_version);
    field!(db_record_version);
    field!(checksum);
    field!(activity_infos);
    field!(timer_infos);
    field!(child_execution_infos);
    field!(request_cancel_infos);
    field!(signal_infos);
    field!(chasm_nodes);
    field!(signal_requested_ids);
    field!(buffered_events);
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(CaseError::new(format!(
            "{what}: state of run {} differs from what was written:\n  {}",
            expected.key.run_id,
            diffs.join("\n  ")
        )))
    }
}

/// Reads the run `expected.key` and compares it with the model.
pub async fn expect_state(
    ctx: &Ctx,
    shard: &TestShard,
    what: &str,
    expected: &WorkflowMutableState,
) -> Result<(), CaseError> {
    let actual = ok(
        &format!("{what}: get_workflow_execution"),
        ctx.execution()?
            .get_workflow_execution(shard.id, &expected.key)
            .await,
    )?;
    compare_state(what, &actual, expected)
}

/// Reads the run and compares it with what `snap` wrote.
pub async fn expect_snapshot_state(
    ctx: &Ctx,
    shard: &TestShard,
    what: &str,
    snap: &WorkflowSnapshot,
) -> Result<(), CaseError> {
    expect_state(ctx, shard, what, &expected_state(snap)).await
}

/// Expects `get_workflow_execution` to be `NotFound`.
pub async fn expect_no_run(
    ctx: &Ctx,
    shard: &TestShard,
    what: &str,
    key: &WorkflowKey,
) -> Result<(), CaseError> {
    expect_err(
        &format!("{what}: get_workflow_execution of run {}", key.run_id),
        ctx.execution()?.get_workflow_execution(shard.id, key).await,
        ErrorKind::NotFound,
    )
    .map(|_| ())
}

/// Reads the workflow's current-run row and compares it with `expected` (every column).
pub async fn expect_current(
    ctx: &Ctx,
    shard: &TestShard,
    what: &str,
    key: &WorkflowKey,
    expected: &CurrentExecution,
) -> Result<(), CaseError> {
    let actual = ok(
        &format!("{what}: get_current_execution"),
        ctx.execution()?
            .get_current_execution(shard.id, key.namespace_id, &key.workflow_id)
            .await,
    )?;
    if actual != *expected {
        return Err(CaseError::new(format!(
            "{what}: current row of workflow {} differs:\n  got:  {actual:?}\n  want: {expected:?}",
            key.workflow_id
        )));
    }
    Ok(())
}

/// Reads the workflow's current-run row and checks only which run it points at.
pub async fn expect_current_run(
    ctx: &Ctx,
    shard: &TestShard,
    what: &str,
    key: &WorkflowKey,
) -> Result<(), CaseError> {
    let actual = ok(
        &format!("{what}: get_current_execution"),
        ctx.execution()?
            .get_current_execution(shard.id, key.namespace_id, &key.workflow_id)
            .await,
    )?;
    if actual.run_id != key.run_id {
        return Err(CaseError::new(format!(
            "{what}: current row of workflow {} points at run {}, want {}",
            key.workflow_id, actual.run_id, key.run_id
        )));
    }
    Ok(())
}

/// Expects the workflow to have no current-run row.
pub async fn expect_no_current(
    ctx: &Ctx,
    shard: &TestShard,
    what: &str,
    namespace_id: NamespaceId,
    workflow_id: &WorkflowId,
) -> Result<(), CaseError> {
    expect_err(
        &format!("{what}: get_current_execution"),
        ctx.execution()?
            .get_current_execution(shard.id, namespace_id, workflow_id)
            .await,
        ErrorKind::NotFound,
    )
    .map(|_| ())
}

/// Checks a `CurrentWorkflowConditionFailed` error's detail against the current row that was
/// stored: run id, create request id, state, status, last write version, execution-state blob
/// (start time only when the error carries one).
pub fn expect_current_conflict(
    what: &str,
    err: &StoreError,
    expected: &CurrentExecution,
) -> Result<(), CaseError> {
    if err.kind() != ErrorKind::CurrentWorkflowConditionFailed {
        return Err(CaseError::new(format!(
            "{what}: expected current_workflow_condition_failed, got {err}"
        )));
    }
    let Some(found) = err.current_workflow() else {
        return Err(CaseError::new(format!(
            "{what}: CurrentWorkflowConditionFailed carries no current row detail: {err:?}"
        )));
    };
    let mut diffs = Vec::new();
    if found.run_id != expected.run_id {
        diffs.push(format!("run_id {} != {}", found.run_id, expected.run_id));
    }
    if found.create_request_id != expected.state.create_request_id {
        diffs.push(format!(
            "create_request_id {:?} != {:?}",
            found.create_request_id, expected.state.create_request_id
        ));
    }
    if found.state != expected.state.state {
        diffs.push(format!(
            "state {:?} != {:?}",
            found.state, expected.state.state
        ));
    }
    if found.status != expected.state.status {
        diffs.push(format!(
            "status {:?} != {:?}",
            found.status, expected.state.status
        ));
    }
    if found.last_write_version != expected.last_write_version {
        diffs.push(format!(
            "last_write_version {} != {}",
            found.last_write_version, expected.last_write_version
        ));
    }
    if found.execution_state != expected.execution_state {
        diffs.push(format!(
            "execution_state {:?} != {:?}",
            found.execution_state, expected.execution_state
        ));
    }
    if found.start_time.is_some() && found.start_time != expected.state.start_time {
        diffs.push(format!(
            "start_time {:?} != {:?}",
            found.start_time, expected.state.start_time
        ));
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(CaseError::new(format!(
            "{what}: CurrentWorkflowConditionFailed detail (got != stored): {}",
            diffs.join(", ")
        )))
    }
}

/// Checks a `WorkflowConditionFailed` error carries the stored next event id and record version.
pub fn expect_workflow_conflict(
    what: &str,
    err: &StoreError,
    next_event_id: i64,
    db_record_version: i64,
) -> Result<(), CaseError> {
    let want = ConflictDetail::Workflow {
        next_event_id: Some(next_event_id),
        db_record_version: Some(db_record_version),
    };
    if err.kind() != ErrorKind::WorkflowConditionFailed || err.detail() != Some(&want) {
        return Err(CaseError::new(format!(
            "{what}: expected WorkflowConditionFailed with detail {want:?}, got {err:?}"
        )));
    }
    Ok(())
}

/// Checks a `ShardOwnershipLost` error; if it carries detail, the detail must name the shard,
/// the range id presented and the one stored.
pub fn expect_ownership_lost(
    what: &str,
    err: &StoreError,
    stale: &TestShard,
    owner: &TestShard,
) -> Result<(), CaseError> {
    if err.kind() != ErrorKind::ShardOwnershipLost {
        return Err(CaseError::new(format!(
            "{what}: expected shard_ownership_lost, got {err}"
        )));
    }
    if let Some(d) = err.detail() {
        let want = ConflictDetail::ShardOwnershipLost {
            shard_id: stale.id.0,
            request_range_id: stale.range_id,
            actual_range_id: Some(owner.range_id),
        };
        if *d != want {
            return Err(CaseError::new(format!(
                "{what}: ShardOwnershipLost detail {d:?}, want {want:?}"
            )));
        }
    }
    Ok(())
}

/// A create request with no history events.
pub fn create_request(
    shard: &TestShard,
    mode: CreateMode,
    snap: WorkflowSnapshot,
) -> CreateWorkflowExecutionRequest {
    CreateWorkflowExecutionRequest {
        mode,
        ..CreateWorkflowExecutionRequest::new(shard.id, shard.range_id, snap)
    }
}

/// The create mode that reuses the workflow id of `previous` (which must be current and closed).
pub fn reuse_mode(previous: &WorkflowSnapshot) -> CreateMode {
    CreateMode::UpdateCurrent {
        previous_run_id: previous.key.run_id,
        previous_last_write_version: previous.last_write_version,
    }
}

/// An update request with no history events and no new run.
pub fn update_request(
    shard: &TestShard,
    mode: UpdateMode,
    mutation: WorkflowMutation,
) -> UpdateWorkflowExecutionRequest {
    UpdateWorkflowExecutionRequest {
        mode,
        ..UpdateWorkflowExecutionRequest::new(shard.id, shard.range_id, mutation)
    }
}

/// A conflict-resolve request with no history events, no new run and no current mutation.
pub fn conflict_resolve_request(
    shard: &TestShard,
    mode: ConflictResolveMode,
    reset: WorkflowSnapshot,
) -> ConflictResolveWorkflowExecutionRequest {
    ConflictResolveWorkflowExecutionRequest::new(shard.id, shard.range_id, mode, reset)
}

/// A set request.
pub fn set_request(shard: &TestShard, snap: WorkflowSnapshot) -> SetWorkflowExecutionRequest {
    SetWorkflowExecutionRequest::new(shard.id, shard.range_id, snap)
}

/// Creates `snap` with `mode`, failing the case on any error.
pub async fn create_ok(
    ctx: &Ctx,
    shard: &TestShard,
    what: &str,
    mode: CreateMode,
    snap: &WorkflowSnapshot,
) -> Result<(), CaseError> {
    ok(
        what,
        ctx.execution()?
            .create_workflow_execution(create_request(shard, mode, snap.clone()))
            .await,
    )
}

/// Creates a new workflow's first run (`BrandNew`) in namespace `ns` and returns its snapshot.
pub async fn create_new_workflow(
    ctx: &Ctx,
    shard: &TestShard,
    ns: NamespaceId,
    state: WorkflowState,
    status: WorkflowStatus,
) -> Result<WorkflowSnapshot, CaseError> {
    let snap = snapshot(new_key(ns), state, status);
    create_ok(ctx, shard, "create BrandNew", CreateMode::BrandNew, &snap).await?;
    Ok(snap)
}

/// Creates a zombie run (`BypassCurrent`, state `Zombie`) of `key`'s workflow and returns it.
pub async fn create_zombie(
    ctx: &Ctx,
    shard: &TestShard,
    key: WorkflowKey,
) -> Result<WorkflowSnapshot, CaseError> {
    let snap = snapshot(key, WorkflowState::Zombie, WorkflowStatus::Running);
    create_ok(
        ctx,
        shard,
        "create BypassCurrent (zombie)",
        CreateMode::BypassCurrent,
        &snap,
    )
    .await?;
    Ok(snap)
}

/// Updates with `mode`, failing the case on any error.
pub async fn update_ok(
    ctx: &Ctx,
    shard: &TestShard,
    what: &str,
    mode: UpdateMode,
    m: &WorkflowMutation,
) -> Result<(), CaseError> {
    ok(
        what,
        ctx.execution()?
            .update_workflow_execution(update_request(shard, mode, m.clone()))
            .await,
    )
}

/// One immediate history task with a random payload.
pub fn immediate_task(task_id: i64) -> HistoryTask {
    HistoryTask {
        key: HistoryTaskKey::immediate(task_id),
        blob: blob(24),
    }
}

/// One scheduled history task firing `minutes_ahead` minutes from now.
pub fn scheduled_task(task_id: i64, minutes_ahead: i64) -> HistoryTask {
    HistoryTask {
        key: HistoryTaskKey::scheduled(Utc::now() + TimeDelta::minutes(minutes_ahead), task_id),
        blob: blob(24),
    }
}

/// Every history task of one category of the shard, paging with `batch_size` 100.
pub async fn read_all_tasks(
    ctx: &Ctx,
    shard: &TestShard,
    category: TaskCategory,
) -> Result<Vec<HistoryTask>, CaseError> {
    let (min, max) = if category.is_immediate() {
        (
            HistoryTaskKey::immediate(0),
            HistoryTaskKey::immediate(i64::MAX),
        )
    } else {
        (
            HistoryTaskKey::scheduled(DateTime::<Utc>::UNIX_EPOCH, 0),
            HistoryTaskKey::scheduled(Utc::now() + TimeDelta::days(3650), 0),
        )
    };
    let mut out = Vec::new();
    let mut token = None;
    // Bounded so a store that always returns a token cannot hang the case.
    for _ in 0..1000 {
        let page = ok(
            "get_history_tasks",
            ctx.execution()?
                .get_history_tasks(GetHistoryTasksRequest {
                    shard_id: shard.id,
                    category,
                    inclusive_min_key: min,
                    exclusive_max_key: max,
                    batch_size: 100,
                    next_page_token: token,
                })
                .await,
        )?;
        out.extend(page.items);
        match page.next_page_token {
            Some(t) => token = Some(t),
            None => return Ok(out),
        }
    }
    Err(CaseError::new(
        "get_history_tasks: more than 1000 pages; the last page never came without a token",
    ))
}

/// A first append to a new root branch of tree `tree_id` (node 1, txn 1) with random events.
pub fn first_history_append(shard: &TestShard, tree_id: TreeId) -> AppendHistoryNodesRequest {
    AppendHistoryNodesRequest {
        shard_id: shard.id,
        branch: HistoryBranch::new_root(tree_id, BranchId::new_random()),
        is_new_branch: true,
        tree_info: blob(20),
        node_id: 1,
        txn_id: 1,
        prev_txn_id: 0,
        events: blob(80),
    }
}

/// A later append to the same branch as `prev`.
pub fn next_history_append(
    prev: &AppendHistoryNodesRequest,
    node_id: i64,
    txn_id: i64,
) -> AppendHistoryNodesRequest {
    AppendHistoryNodesRequest {
        shard_id: prev.shard_id,
        branch: prev.branch.clone(),
        is_new_branch: false,
        tree_info: blob(20),
        node_id,
        txn_id,
        prev_txn_id: prev.txn_id,
        events: blob(80),
    }
}
