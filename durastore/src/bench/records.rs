//! What the workloads send: payloads of typical sizes, the requests' records, and their
//! logical write costs.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use durastore_api::{
    AppendHistoryNodesRequest, CreateTasksRequest, DataBlob, DateTime, ExecutionStateColumns,
    HistoryTask, HistoryTaskKey, NamespaceId, Result, ShardId, TaskQueueFlavor, TaskQueueKey,
    TaskQueueKind, TaskQueueWrite, TaskRecord, TaskType, Utc, Uuid, VisibilityRecord, WorkflowKey,
    WorkflowMutation, WorkflowSnapshot, WorkflowState, WorkflowStatus, truncate_to_micros,
};

use super::ctx::Ctx;

/// Size of an execution-info blob (Temporal's `WorkflowExecutionInfo` of a simple workflow).
pub const EXECUTION_INFO_BYTES: usize = 1024;
/// Size of an execution-state blob.
pub const EXECUTION_STATE_BYTES: usize = 96;
/// Serialized size of one history event.
pub const EVENT_BYTES: usize = 256;
/// Size of an activity-info blob.
pub const ACTIVITY_INFO_BYTES: usize = 320;
/// Size of a history (transfer / visibility) task blob.
pub const HISTORY_TASK_BYTES: usize = 96;
/// Size of a matching task blob.
pub const MATCHING_TASK_BYTES: usize = 160;
/// Size of a history tree-info blob.
pub const TREE_INFO_BYTES: usize = 128;
/// Size of a shard-info or task-queue-info blob.
pub const INFO_BYTES: usize = 64;

/// The namespace every bench writes in (fixed, so records of earlier runs and preloads count).
pub const BENCH_NAMESPACE: NamespaceId =
    NamespaceId(Uuid::from_u128(0x6475_7261_7374_6f72_652d_6265_6e63_6801));

/// A random Proto3 blob of `len` bytes: a slice of a random pool, so making one costs a copy.
pub(super) fn payload(len: usize) -> DataBlob {
    const POOL_BYTES: usize = 1 << 18;
    static POOL: OnceLock<Vec<u8>> = OnceLock::new();
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let pool = POOL.get_or_init(|| {
        let mut v = Vec::with_capacity(POOL_BYTES);
        while v.len() < POOL_BYTES {
            v.extend_from_slice(Uuid::new_v4().as_bytes());
        }
        v
    });
    let len = len.min(POOL_BYTES / 2);
    let start = NEXT.fetch_add(len + 7919, Ordering::Relaxed) % (POOL_BYTES - len);
    DataBlob::proto3(pool[start..start + len].to_vec())
}

pub(super) fn blob_len(b: &DataBlob) -> u64 {
    b.len() as u64
}

/// A small deterministic generator (SplitMix64) for spreading preload values.
pub(super) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

pub(super) fn now() -> DateTime<Utc> {
    truncate_to_micros(Utc::now())
}

pub(super) fn columns(
    state: WorkflowState,
    status: WorkflowStatus,
    start: DateTime<Utc>,
) -> ExecutionStateColumns {
    ExecutionStateColumns {
        create_request_id: Uuid::new_v4().to_string(),
        state,
        status,
        start_time: Some(start),
    }
}

/// A whole new run with no maps, tasks or checksum.
pub(super) fn snapshot(
    key: WorkflowKey,
    cols: ExecutionStateColumns,
    next_event_id: i64,
) -> WorkflowSnapshot {
    WorkflowSnapshot::new(
        key,
        payload(EXECUTION_INFO_BYTES),
        payload(EXECUTION_STATE_BYTES),
        cols,
        next_event_id,
    )
}

/// Logical rows and blob bytes a create writes (execution + current row + maps + tasks).
pub(super) fn snapshot_cost(s: &WorkflowSnapshot) -> (u64, u64) {
    let tasks: Vec<&HistoryTask> = s.tasks.values().flatten().collect();
    let rows = 2 + s.activity_infos.len() + tasks.len();
    let bytes = blob_len(&s.execution_info)
        + blob_len(&s.execution_state)
        + s.activity_infos.values().map(blob_len).sum::<u64>()
        + tasks.iter().map(|t| blob_len(&t.blob)).sum::<u64>();
    (rows as u64, bytes)
}

/// Logical rows and blob bytes an update writes (execution + current row + maps + tasks).
pub(super) fn mutation_cost(m: &WorkflowMutation) -> (u64, u64) {
    let tasks: Vec<&HistoryTask> = m.tasks.values().flatten().collect();
    let rows = 2 + m.upsert_activity_infos.len() + m.delete_activity_infos.len() + tasks.len();
    let bytes = blob_len(&m.execution_info)
        + blob_len(&m.execution_state)
        + m.upsert_activity_infos.values().map(blob_len).sum::<u64>()
        + tasks.iter().map(|t| blob_len(&t.blob)).sum::<u64>();
    (rows as u64, bytes)
}

/// Logical rows and blob bytes of history appends (a node row; a tree row on a new branch).
pub(super) fn events_cost(events: &[AppendHistoryNodesRequest]) -> (u64, u64) {
    events.iter().fold((0, 0), |(r, b), e| {
        let tree = u64::from(e.is_new_branch);
        (
            r + 1 + tree,
            b + blob_len(&e.events) + tree * blob_len(&e.tree_info),
        )
    })
}

pub(super) fn history_task(task_id: i64) -> HistoryTask {
    HistoryTask {
        key: HistoryTaskKey::immediate(task_id),
        blob: payload(HISTORY_TASK_BYTES),
    }
}

pub(super) fn matching_key(name: String, task_type: TaskType) -> TaskQueueKey {
    TaskQueueKey {
        namespace_id: BENCH_NAMESPACE,
        name,
        task_type,
        flavor: TaskQueueFlavor::Classic,
    }
}

/// Creates a task queue owned by one worker (range id 1, as matching's first lease).
pub(super) async fn create_queue(ctx: &Ctx, key: &TaskQueueKey) -> Result<()> {
    ctx.task_queue
        .create_task_queue(TaskQueueWrite {
            key: key.clone(),
            range_id: 1,
            info: payload(INFO_BYTES),
            kind: TaskQueueKind::Normal,
            expiry_time: None,
        })
        .await
}

pub(super) fn visibility_record(
    key: &WorkflowKey,
    shard: ShardId,
    workflow_type: String,
    status: WorkflowStatus,
    start: DateTime<Utc>,
    close: Option<DateTime<Utc>>,
    task_id: i64,
) -> VisibilityRecord {
    VisibilityRecord {
        namespace_id: key.namespace_id,
        workflow_id: key.workflow_id.0.clone(),
        run_id: key.run_id,
        workflow_type,
        start_time: start,
        execution_time: start,
        status,
        task_queue: "bench-queue".to_string(),
        task_id,
        shard_id: shard.0,
        memo: None,
        search_attributes: BTreeMap::new(),
        parent_workflow_id: None,
        parent_run_id: None,
        root_workflow_id: Some(key.workflow_id.0.clone()),
        root_run_id: Some(key.run_id),
        close_time: close,
        history_length: close.map(|_| 11),
        history_size_bytes: close.map(|_| 11 * EVENT_BYTES as i64),
        execution_duration_nanos: close.and_then(|c| (c - start).num_nanoseconds()),
        state_transition_count: Some(if close.is_some() { 8 } else { 1 }),
        archetype_id: durastore_api::ArchetypeId::WORKFLOW,
        chasm_info: None,
    }
}

/// A mutation with new info/state blobs and no map, buffer or task changes.
pub(super) fn mutation(
    key: &WorkflowKey,
    cols: &ExecutionStateColumns,
    next_event_id: i64,
    db_record_version: i64,
    condition: i64,
) -> WorkflowMutation {
    let mut m = WorkflowMutation::new(
        key.clone(),
        payload(EXECUTION_INFO_BYTES),
        payload(EXECUTION_STATE_BYTES),
        cols.clone(),
        next_event_id,
        db_record_version,
    );
    m.condition = condition;
    m
}

/// Persists one matching task `id` in `key`'s queue (range id 1, the worker's own lease);
/// returns its blob bytes.
pub(super) async fn create_matching_task(ctx: &Ctx, key: &TaskQueueKey, id: i64) -> Result<u64> {
    let blob = payload(MATCHING_TASK_BYTES);
    let bytes = blob_len(&blob);
    ctx.task_queue
        .create_tasks(CreateTasksRequest {
            key: key.clone(),
            range_id: 1,
            tasks: vec![TaskRecord {
                subqueue: 0,
                pass: 0,
                task_id: id,
                expiry_time: None,
                blob,
            }],
        })
        .await?;
    Ok(bytes)
}
