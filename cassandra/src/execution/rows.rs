//! Row-level CQL of the execution store: keys and sentinels of the current-run and execution
//! rows, the statements that write them (each one statement per row, so every condition of a
//! batch belongs to exactly one statement), and the parsing of what they read back.
//!
//! The whole mutable state of a run is one row: the info maps are CQL maps whose values are
//! frozen `serialized_blob` / `chasm_node` user types (each entry keeps its own encoding name),
//! signal-requested ids a `set<text>`, buffered events a `list<frozen<serialized_blob>>`.

use std::collections::{BTreeMap, BTreeSet};

use durastore_api::{
    ArchetypeId, ChasmNode, CurrentExecution, CurrentWorkflowConflict, DataBlob,
    ExecutionStateColumns, NamespaceId, Result, RunId, ShardId, WorkflowId, WorkflowKey,
    WorkflowMutableState, WorkflowMutation, WorkflowSnapshot, WorkflowState, WorkflowStatus,
};
use scylla::value::CqlValue;
use uuid::Uuid;

use crate::error::corrupt;
use crate::session::{CRow, Stmt, Vals, vals};

/// `type` of current-run and execution rows.
pub(super) const EXECUTION_ROW_TYPE: i32 = 1;

/// Builds the sentinel UUID `<p>0000000-<r>000-f000-f000-00000000000<last>`.
const fn sentinel(p: u128, r: u128, last: u128) -> Uuid {
    Uuid::from_u128((p << 124) | (r << 92) | (0xf << 76) | (0xf << 60) | last)
}

/// The run id of every workflow's current-run row (Temporal's "permanent run id"); no real run
/// may use it.
pub(super) const PERMANENT_RUN_ID: Uuid = sentinel(3, 0, 1);

/// The run id of a current-run row in `archetype_id`'s id space: the permanent run id for
/// workflows, else (as in Temporal) the UUID whose last four bytes are the archetype id
/// (big-endian) and whose other bytes are zero. So every archetype has its own current row per
/// id with no schema change, and a 1.0 keyspace's workflow current rows stay where they are.
pub(super) fn current_row_run_id(archetype_id: ArchetypeId) -> Uuid {
    if archetype_id.is_workflow() {
        PERMANENT_RUN_ID
    } else {
        Uuid::from_u128(u128::from(archetype_id.0))
    }
}

/// Whether `run_id` is a current-run row's run id (of any archetype), which no real run may use.
pub(super) fn is_current_row_run_id(run_id: Uuid) -> bool {
    run_id == PERMANENT_RUN_ID || run_id.as_u128() >> 32 == 0
}

/// Sentinel key values of the history-task rows of row type `r`.
pub(super) fn task_namespace(r: i32) -> Uuid {
    sentinel(1, r as u128 & 0xf, 0)
}
/// Sentinel run id of the history-task rows of row type `r`.
pub(super) fn task_run(r: i32) -> Uuid {
    sentinel(3, r as u128 & 0xf, 0)
}
/// Sentinel workflow id of the history-task rows of row type `r`.
pub(super) fn task_workflow(r: i32) -> String {
    format!("20000000-{:x}000-f000-f000-000000000000", r & 0xf)
}

/// `visibility_ts` of every row that is not a scheduled task: 2000-01-01T00:00:00Z.
pub(super) const DEFAULT_VISIBILITY_MS: i64 = 946_684_800_000;

/// `WHERE` clause of an execution row; binds shard id, namespace id, workflow id, run id.
macro_rules! execution_key {
    () => {
        "shard_id = ? AND type = 1 AND namespace_id = ? AND workflow_id = ? AND run_id = ? \
         AND visibility_ts = 946684800000 AND task_id = -10"
    };
}
/// `WHERE` clause of a current-run row; binds shard id, namespace id, workflow (business) id and
/// the archetype's current-row run id ([`current_vals`]).
macro_rules! current_key {
    () => {
        "shard_id = ? AND type = 1 AND namespace_id = ? AND workflow_id = ? AND run_id = ? \
         AND visibility_ts = 946684800000 AND task_id = -10"
    };
}

/// Conditions that are true for every stored current-run row. Added to a condition that already
/// requires the row to exist, they make a failed batch return these columns too (Cassandra
/// returns the columns named in conditions), so the conflict detail comes from the same Paxos
/// read that failed. `start_time_micros` may be NULL, hence `!=` with a value no timestamp has.
/// Every stored current row has an execution-state blob and encoding (the empty blob is the
/// smallest), so `>=` the empty value holds for them too.
const CURRENT_DETAIL: &str = "create_request_id >= '' AND workflow_state >= -2147483648 \
     AND workflow_status >= -2147483648 AND workflow_last_write_version >= -9223372036854775808 \
     AND start_time_micros != -9223372036854775808 AND execution_state >= 0x \
     AND execution_state_encoding >= ''";

/// The execution CAS: stored `db_record_version = ?`, and an always-true condition on the other
/// CAS column so a failed batch returns both (`WorkflowConditionFailed` carries both).
const CAS_VERSION: &str = "IF db_record_version = ? AND next_event_id >= -9223372036854775808";
/// The legacy execution CAS on `next_event_id` (when the record version is 0).
const CAS_NEXT_EVENT_ID: &str =
    "IF next_event_id = ? AND db_record_version >= -9223372036854775808";

/// The execution CAS a whole-state or mutation write carries: condition text and its value.
fn cas(db_record_version: i64, condition: i64) -> (&'static str, i64) {
    if db_record_version != 0 {
        // Wrapping: `i64::MIN` must not panic; no stored version can precede it anyway.
        (CAS_VERSION, db_record_version.wrapping_sub(1))
    } else {
        (CAS_NEXT_EVENT_ID, condition)
    }
}

/// The `WHERE` clause of an execution row (see [`run_vals`]).
pub(super) fn execution_key_clause() -> &'static str {
    execution_key!()
}

/// Bound values of [`execution_key!`].
pub(super) fn run_vals(shard_id: ShardId, key: &WorkflowKey) -> Vals {
    vals![
        shard_id.0,
        key.namespace_id.0,
        key.workflow_id.as_str(),
        key.run_id.0
    ]
}

/// The current-run row of one id in one archetype's id space.
#[derive(Debug, Clone, Copy)]
pub(super) struct CurrentKey<'a> {
    pub(super) shard_id: ShardId,
    pub(super) namespace_id: NamespaceId,
    pub(super) workflow_id: &'a WorkflowId,
    pub(super) archetype_id: ArchetypeId,
}

/// Bound values of [`current_key!`].
pub(super) fn current_vals(k: CurrentKey<'_>) -> Vals {
    vals![
        k.shard_id.0,
        k.namespace_id.0,
        k.workflow_id.as_str(),
        current_row_run_id(k.archetype_id)
    ]
}

// ---------------------------------------------------------------------------------------------
// Collection values.

/// A `serialized_blob` value.
fn blob_udt(keyspace: &str, b: &DataBlob) -> CqlValue {
    CqlValue::UserDefinedType {
        keyspace: keyspace.to_string(),
        name: "serialized_blob".to_string(),
        fields: vec![
            ("data".to_string(), Some(CqlValue::Blob(b.data.clone()))),
            (
                "encoding".to_string(),
                Some(CqlValue::Text(b.encoding.clone())),
            ),
        ],
    }
}

/// A `chasm_node` value; a node without data has NULL `data` and `data_encoding`.
fn chasm_udt(keyspace: &str, n: &ChasmNode) -> CqlValue {
    CqlValue::UserDefinedType {
        keyspace: keyspace.to_string(),
        name: "chasm_node".to_string(),
        fields: vec![
            (
                "metadata".to_string(),
                Some(CqlValue::Blob(n.metadata.data.clone())),
            ),
            (
                "metadata_encoding".to_string(),
                Some(CqlValue::Text(n.metadata.encoding.clone())),
            ),
            (
                "data".to_string(),
                n.data.as_ref().map(|d| CqlValue::Blob(d.data.clone())),
            ),
            (
                "data_encoding".to_string(),
                n.data.as_ref().map(|d| CqlValue::Text(d.encoding.clone())),
            ),
        ],
    }
}

fn int_blob_map(keyspace: &str, m: &BTreeMap<i64, DataBlob>) -> CqlValue {
    CqlValue::Map(
        m.iter()
            .map(|(k, v)| (CqlValue::BigInt(*k), blob_udt(keyspace, v)))
            .collect(),
    )
}

fn text_blob_map(keyspace: &str, m: &BTreeMap<String, DataBlob>) -> CqlValue {
    CqlValue::Map(
        m.iter()
            .map(|(k, v)| (CqlValue::Text(k.clone()), blob_udt(keyspace, v)))
            .collect(),
    )
}

fn chasm_map(keyspace: &str, m: &BTreeMap<String, ChasmNode>) -> CqlValue {
    CqlValue::Map(
        m.iter()
            .map(|(k, v)| (CqlValue::Text(k.clone()), chasm_udt(keyspace, v)))
            .collect(),
    )
}

fn int_set<'a>(keys: impl IntoIterator<Item = &'a i64>) -> CqlValue {
    CqlValue::Set(keys.into_iter().map(|k| CqlValue::BigInt(*k)).collect())
}

fn text_set<'a>(keys: impl IntoIterator<Item = &'a String>) -> CqlValue {
    CqlValue::Set(
        keys.into_iter()
            .map(|k| CqlValue::Text(k.clone()))
            .collect(),
    )
}

/// Keys deleted by a mutation that it does not upsert again. In one batch every cell has the
/// same timestamp and a tombstone wins a tie, so a key both deleted and upserted must only be
/// upserted (the contract: deletes first, then upserts).
fn effective_deletes<'a, K: Ord, V>(
    deletes: &'a BTreeSet<K>,
    upserts: &BTreeMap<K, V>,
) -> impl Iterator<Item = &'a K> {
    deletes.iter().filter(move |k| !upserts.contains_key(*k))
}

// ---------------------------------------------------------------------------------------------
// The execution row.

/// Columns of the execution row a whole-state write sets, in the order of [`scalar_vals`].
const SCALAR_COLUMNS: [&str; 9] = [
    "execution",
    "execution_encoding",
    "execution_state",
    "execution_state_encoding",
    "next_event_id",
    "workflow_last_write_version",
    "db_record_version",
    "checksum",
    "checksum_encoding",
];

/// The scalar fields every execution-row write sets.
struct Scalars<'a> {
    execution_info: &'a DataBlob,
    execution_state: &'a DataBlob,
    next_event_id: i64,
    last_write_version: i64,
    db_record_version: i64,
    checksum: Option<&'a DataBlob>,
}

impl<'a> Scalars<'a> {
    fn of_snapshot(s: &'a WorkflowSnapshot) -> Self {
        Scalars {
            execution_info: &s.execution_info,
            execution_state: &s.execution_state,
            next_event_id: s.next_event_id,
            last_write_version: s.last_write_version,
            db_record_version: s.db_record_version,
            checksum: s.checksum.as_ref(),
        }
    }

    fn of_mutation(m: &'a WorkflowMutation) -> Self {
        Scalars {
            execution_info: &m.execution_info,
            execution_state: &m.execution_state,
            next_event_id: m.next_event_id,
            last_write_version: m.last_write_version,
            db_record_version: m.db_record_version,
            checksum: m.checksum.as_ref(),
        }
    }

    fn vals(&self) -> Vals {
        vals![
            &self.execution_info.data,
            &self.execution_info.encoding,
            &self.execution_state.data,
            &self.execution_state.encoding,
            self.next_event_id,
            self.last_write_version,
            self.db_record_version,
            self.checksum.map(|c| c.data.clone()),
            self.checksum.map(|c| c.encoding.clone())
        ]
    }
}

/// The whole-state collections of a snapshot, in the order of [`STATE_COLLECTIONS`].
fn snapshot_collections(keyspace: &str, s: &WorkflowSnapshot) -> Vals {
    vals![
        int_blob_map(keyspace, &s.activity_infos),
        text_blob_map(keyspace, &s.timer_infos),
        int_blob_map(keyspace, &s.child_execution_infos),
        int_blob_map(keyspace, &s.request_cancel_infos),
        int_blob_map(keyspace, &s.signal_infos),
        chasm_map(keyspace, &s.chasm_nodes),
        text_set(&s.signal_requested_ids)
    ]
}

const STATE_COLLECTIONS: [&str; 7] = [
    "activity_map",
    "timer_map",
    "child_executions_map",
    "request_cancel_map",
    "signal_map",
    "chasm_node_map",
    "signal_requested",
];

/// `INSERT … IF NOT EXISTS` of a new run's execution row (a run that exists fails the batch:
/// `WorkflowConditionFailed`).
pub(super) fn insert_run(keyspace: &str, shard_id: ShardId, s: &WorkflowSnapshot) -> Stmt {
    let columns: Vec<&str> = SCALAR_COLUMNS
        .iter()
        .chain(STATE_COLLECTIONS.iter())
        .copied()
        .collect();
    let cql = format!(
        "INSERT INTO executions (shard_id, type, namespace_id, workflow_id, run_id, \
         visibility_ts, task_id, {}) VALUES (?, {EXECUTION_ROW_TYPE}, ?, ?, ?, \
         {DEFAULT_VISIBILITY_MS}, -10{}) IF NOT EXISTS",
        columns.join(", "),
        ", ?".repeat(columns.len())
    );
    let mut v = run_vals(shard_id, &s.key);
    v.extend(Scalars::of_snapshot(s).vals());
    v.extend(snapshot_collections(keyspace, s));
    Stmt::new(cql, v)
}

/// Overwrites an existing run's whole state (reset / set) under the execution CAS; buffered
/// events are cleared.
pub(super) fn rewrite_run(keyspace: &str, shard_id: ShardId, s: &WorkflowSnapshot) -> Stmt {
    let (cond, expected) = cas(s.db_record_version, s.condition);
    let sets: Vec<String> = SCALAR_COLUMNS
        .iter()
        .chain(STATE_COLLECTIONS.iter())
        .map(|c| format!("{c} = ?"))
        .collect();
    let cql = format!(
        "UPDATE executions SET {}, buffered_events_list = null WHERE {} {cond}",
        sets.join(", "),
        execution_key!()
    );
    let mut v = Scalars::of_snapshot(s).vals();
    v.extend(snapshot_collections(keyspace, s));
    v.extend(run_vals(shard_id, &s.key));
    v.extend(vals![expected]);
    Stmt::new(cql, v)
}

/// Applies a mutation to an existing run under the execution CAS: scalars replaced, map entries
/// added and removed, signal-requested ids added and removed, buffered events appended (or
/// replaced, when the mutation clears them).
pub(super) fn mutate_run(keyspace: &str, shard_id: ShardId, m: &WorkflowMutation) -> Stmt {
    let (cond, expected) = cas(m.db_record_version, m.condition);
    let mut sets: Vec<String> = SCALAR_COLUMNS.iter().map(|c| format!("{c} = ?")).collect();
    for c in STATE_COLLECTIONS {
        sets.push(format!("{c} = {c} + ?"));
        sets.push(format!("{c} = {c} - ?"));
    }
    let mut v = Scalars::of_mutation(m).vals();
    v.extend(vals![
        int_blob_map(keyspace, &m.upsert_activity_infos),
        int_set(effective_deletes(
            &m.delete_activity_infos,
            &m.upsert_activity_infos
        )),
        text_blob_map(keyspace, &m.upsert_timer_infos),
        text_set(effective_deletes(
            &m.delete_timer_infos,
            &m.upsert_timer_infos
        )),
        int_blob_map(keyspace, &m.upsert_child_execution_infos),
        int_set(effective_deletes(
            &m.delete_child_execution_infos,
            &m.upsert_child_execution_infos
        )),
        int_blob_map(keyspace, &m.upsert_request_cancel_infos),
        int_set(effective_deletes(
            &m.delete_request_cancel_infos,
            &m.upsert_request_cancel_infos
        )),
        int_blob_map(keyspace, &m.upsert_signal_infos),
        int_set(effective_deletes(
            &m.delete_signal_infos,
            &m.upsert_signal_infos
        )),
        chasm_map(keyspace, &m.upsert_chasm_nodes),
        text_set(effective_deletes(
            &m.delete_chasm_nodes,
            &m.upsert_chasm_nodes
        )),
        text_set(&m.upsert_signal_requested_ids),
        text_set(
            m.delete_signal_requested_ids
                .iter()
                .filter(|id| !m.upsert_signal_requested_ids.contains(*id))
        )
    ]);
    let appended = CqlValue::List(
        m.new_buffered_events
            .iter()
            .map(|b| blob_udt(keyspace, b))
            .collect(),
    );
    if m.clear_buffered_events {
        // Clear-then-append is one assignment: the new list (possibly empty) replaces the old.
        sets.push("buffered_events_list = ?".to_string());
        v.extend(vals![appended]);
    } else if m.new_buffered_events.is_some() {
        sets.push("buffered_events_list = buffered_events_list + ?".to_string());
        v.extend(vals![appended]);
    }
    let cql = format!(
        "UPDATE executions SET {} WHERE {} {cond}",
        sets.join(", "),
        execution_key!()
    );
    v.extend(run_vals(shard_id, &m.key));
    v.extend(vals![expected]);
    Stmt::new(cql, v)
}

/// Columns read for a run's whole state (and its key, for listings).
const STATE_SELECT: &str = "namespace_id, workflow_id, run_id, execution, execution_encoding, \
     execution_state, execution_state_encoding, next_event_id, workflow_last_write_version, \
     db_record_version, checksum, checksum_encoding, activity_map, timer_map, \
     child_executions_map, request_cancel_map, signal_map, chasm_node_map, signal_requested, \
     buffered_events_list";

/// `SELECT` of one run's whole state (one row: one consistent snapshot).
pub(super) fn select_run_cql() -> String {
    format!(
        "SELECT {STATE_SELECT} FROM executions WHERE {}",
        execution_key!()
    )
}

/// `SELECT` of a shard's execution rows (and current-run rows, which the caller skips) in
/// clustering order, after the run `(namespace_id, workflow_id, run_id)` when `after` is set.
pub(super) fn list_runs_cql(after: bool) -> String {
    let keyset = if after {
        " AND (namespace_id, workflow_id, run_id) > (?, ?, ?)"
    } else {
        ""
    };
    format!(
        "SELECT {STATE_SELECT} FROM executions WHERE shard_id = ? AND type = \
         {EXECUTION_ROW_TYPE}{keyset}"
    )
}

/// `DELETE` of a run's execution row (with all its maps, which live in the row).
pub(super) fn delete_run_cql() -> String {
    format!("DELETE FROM executions WHERE {}", execution_key!())
}

// ---------------------------------------------------------------------------------------------
// The current-run row.

const CURRENT_COLUMNS: [&str; 9] = [
    "current_run_id",
    "create_request_id",
    "workflow_state",
    "workflow_status",
    "start_version",
    "start_time_micros",
    "workflow_last_write_version",
    "execution_state",
    "execution_state_encoding",
];

/// What a write puts into the current-run row.
#[derive(Debug, Clone, Copy)]
pub(super) struct CurrentFields<'a> {
    run_id: RunId,
    columns: &'a ExecutionStateColumns,
    start_version: i64,
    last_write_version: i64,
    execution_state: &'a DataBlob,
}

impl<'a> CurrentFields<'a> {
    pub(super) fn of_snapshot(s: &'a WorkflowSnapshot) -> Self {
        CurrentFields {
            run_id: s.key.run_id,
            columns: &s.state,
            start_version: s.start_version,
            last_write_version: s.last_write_version,
            execution_state: &s.execution_state,
        }
    }

    pub(super) fn of_mutation(m: &'a WorkflowMutation) -> Self {
        CurrentFields {
            run_id: m.key.run_id,
            columns: &m.state,
            start_version: m.start_version,
            last_write_version: m.last_write_version,
            execution_state: &m.execution_state,
        }
    }

    fn vals(&self) -> Vals {
        vals![
            self.run_id.0,
            &self.columns.create_request_id,
            self.columns.state.as_i32(),
            self.columns.status.as_i32(),
            self.start_version,
            self.columns.start_time.map(|t| t.timestamp_micros()),
            self.last_write_version,
            &self.execution_state.data,
            &self.execution_state.encoding
        ]
    }
}

/// BrandNew: `INSERT … IF NOT EXISTS` of the current-run row.
pub(super) fn insert_current(k: CurrentKey<'_>, f: CurrentFields<'_>) -> Stmt {
    let cql = format!(
        "INSERT INTO executions (shard_id, type, namespace_id, workflow_id, run_id, \
         visibility_ts, task_id, {}) VALUES (?, {EXECUTION_ROW_TYPE}, ?, ?, ?, \
         {DEFAULT_VISIBILITY_MS}, -10{}) IF NOT EXISTS",
        CURRENT_COLUMNS.join(", "),
        ", ?".repeat(CURRENT_COLUMNS.len())
    );
    let mut v = current_vals(k);
    v.extend(f.vals());
    Stmt::new(cql, v)
}

/// Points the current-run row at `f.run_id` (and refreshes its columns) if it points at
/// `expected`; with `reuse_version`, also only if the expected run has that last write version
/// and is `Completed` (workflow-id reuse).
pub(super) fn move_current(
    k: CurrentKey<'_>,
    expected: RunId,
    reuse_version: Option<i64>,
    f: CurrentFields<'_>,
) -> Stmt {
    let sets: Vec<String> = CURRENT_COLUMNS.iter().map(|c| format!("{c} = ?")).collect();
    let mut v = f.vals();
    v.extend(current_vals(k));
    v.extend(vals![expected.0]);
    let reuse = match reuse_version {
        Some(version) => {
            v.extend(vals![version]);
            format!(
                " AND workflow_last_write_version = ? AND workflow_state = {}",
                WorkflowState::Completed.as_i32()
            )
        }
        None => String::new(),
    };
    let cql = format!(
        "UPDATE executions SET {} WHERE {} IF current_run_id = ?{reuse} AND {CURRENT_DETAIL}",
        sets.join(", "),
        current_key!()
    );
    Stmt::new(cql, v)
}

/// A condition without a write: the current-run row (if any) must point at none of `runs`.
/// It deletes a cell no current-run row uses, which writes nothing visible and, unlike an
/// `UPDATE`, does not create the row when it is absent.
pub(super) fn current_is_none_of(k: CurrentKey<'_>, runs: &[RunId]) -> Stmt {
    let conds: Vec<&str> = runs.iter().map(|_| "current_run_id != ?").collect();
    let cql = format!(
        "DELETE checksum FROM executions WHERE {} IF {}",
        current_key!(),
        conds.join(" AND ")
    );
    let mut v = current_vals(k);
    v.extend(runs.iter().map(|r| Some(CqlValue::Uuid(r.0))));
    Stmt::new(cql, v)
}

/// `DELETE` of the current-run row if it points at the run (binds the workflow, then the run).
pub(super) fn delete_current_cql() -> String {
    format!(
        "DELETE FROM executions WHERE {} IF current_run_id = ?",
        current_key!()
    )
}

/// `SELECT` of the current-run row.
pub(super) fn select_current_cql() -> String {
    format!(
        "SELECT {} FROM executions WHERE {}",
        CURRENT_COLUMNS.join(", "),
        current_key!()
    )
}

/// A current-run row as read.
#[derive(Debug, Clone)]
pub(super) struct CurrentRow {
    pub(super) run_id: RunId,
    pub(super) columns: ExecutionStateColumns,
    pub(super) last_write_version: i64,
    pub(super) execution_state: DataBlob,
}

impl CurrentRow {
    /// Parses a current-run row; `None` when it points at no run.
    pub(super) fn parse(row: &CRow) -> Result<Option<Self>> {
        let Some(run_id) = row.opt_uuid("current_run_id")? else {
            return Ok(None);
        };
        let start_time = match row.opt_i64("start_time_micros")? {
            None => None,
            Some(us) => Some(
                chrono::DateTime::<chrono::Utc>::from_timestamp_micros(us)
                    .ok_or_else(|| corrupt(format!("start_time_micros {us} out of range")))?,
            ),
        };
        Ok(Some(CurrentRow {
            run_id: RunId(run_id),
            columns: ExecutionStateColumns {
                create_request_id: row.text("create_request_id")?,
                state: WorkflowState::from_i32(row.i32("workflow_state")?)?,
                status: WorkflowStatus::from_i32(row.i32("workflow_status")?)?,
                start_time,
            },
            last_write_version: row.i64("workflow_last_write_version")?,
            execution_state: DataBlob::new(
                row.blob("execution_state")?,
                row.text("execution_state_encoding")?,
            ),
        }))
    }

    /// Whether a row returned by a failed batch carries every column [`CurrentRow::conflict`]
    /// needs (Cassandra returns only the columns named in the batch's conditions).
    pub(super) fn has_detail(row: &CRow) -> bool {
        [
            "current_run_id",
            "create_request_id",
            "workflow_state",
            "workflow_status",
            "start_time_micros",
            "workflow_last_write_version",
            "execution_state",
            "execution_state_encoding",
        ]
        .iter()
        .all(|c| row.has(c))
    }

    /// The detail a `CurrentWorkflowConditionFailed` carries.
    pub(super) fn conflict(&self) -> CurrentWorkflowConflict {
        CurrentWorkflowConflict {
            run_id: self.run_id,
            create_request_id: self.columns.create_request_id.clone(),
            state: self.columns.state,
            status: self.columns.status,
            last_write_version: self.last_write_version,
            start_time: self.columns.start_time,
            execution_state: self.execution_state.clone(),
        }
    }

    pub(super) fn into_current(self) -> CurrentExecution {
        CurrentExecution {
            run_id: self.run_id,
            state: self.columns,
            last_write_version: self.last_write_version,
            execution_state: self.execution_state,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing a run's state.

fn udt_field<'a>(v: &'a CqlValue, field: &str) -> Result<Option<&'a CqlValue>> {
    match v {
        CqlValue::UserDefinedType { fields, .. } => Ok(fields
            .iter()
            .find(|(n, _)| n == field)
            .and_then(|(_, v)| v.as_ref())),
        other => Err(corrupt(format!("expected a user type, got {other:?}"))),
    }
}

fn udt_blob(v: &CqlValue, data: &str, encoding: &str) -> Result<Option<DataBlob>> {
    let bytes = match udt_field(v, data)? {
        None => return Ok(None),
        Some(CqlValue::Blob(b)) => b.clone(),
        Some(other) => return Err(corrupt(format!("{data}: expected blob, got {other:?}"))),
    };
    let enc = match udt_field(v, encoding)? {
        None => String::new(),
        Some(CqlValue::Text(s)) | Some(CqlValue::Ascii(s)) => s.clone(),
        Some(other) => return Err(corrupt(format!("{encoding}: expected text, got {other:?}"))),
    };
    Ok(Some(DataBlob::new(bytes, enc)))
}

fn serialized_blob(v: &CqlValue) -> Result<DataBlob> {
    // An empty blob reads back as an empty value, not NULL; NULL would be corrupt data.
    udt_blob(v, "data", "encoding")?.ok_or_else(|| corrupt("serialized_blob without data"))
}

fn map_entries<'a>(row: &'a CRow, column: &str) -> Result<&'a [(CqlValue, CqlValue)]> {
    match row.get(column) {
        None => Ok(&[]),
        Some(CqlValue::Map(entries)) => Ok(entries),
        Some(other) => Err(corrupt(format!("{column}: expected a map, got {other:?}"))),
    }
}

fn int_map(row: &CRow, column: &str) -> Result<BTreeMap<i64, DataBlob>> {
    map_entries(row, column)?
        .iter()
        .map(|(k, v)| match k {
            CqlValue::BigInt(k) => Ok((*k, serialized_blob(v)?)),
            other => Err(corrupt(format!("{column}: bad key {other:?}"))),
        })
        .collect()
}

fn text_key(column: &str, k: &CqlValue) -> Result<String> {
    match k {
        CqlValue::Text(s) | CqlValue::Ascii(s) => Ok(s.clone()),
        other => Err(corrupt(format!("{column}: bad key {other:?}"))),
    }
}

/// Parses a run's whole state from its execution row.
pub(super) fn parse_state(key: WorkflowKey, row: &CRow) -> Result<WorkflowMutableState> {
    let checksum = row
        .opt_blob("checksum")?
        .map(|c| -> Result<DataBlob> { Ok(DataBlob::new(c, row.text("checksum_encoding")?)) })
        .transpose()?;
    let timer_infos = map_entries(row, "timer_map")?
        .iter()
        .map(|(k, v)| Ok((text_key("timer_map", k)?, serialized_blob(v)?)))
        .collect::<Result<_>>()?;
    let chasm_nodes = map_entries(row, "chasm_node_map")?
        .iter()
        .map(|(k, v)| {
            let metadata = udt_blob(v, "metadata", "metadata_encoding")?
                .ok_or_else(|| corrupt("chasm node without metadata"))?;
            let data = udt_blob(v, "data", "data_encoding")?;
            Ok((text_key("chasm_node_map", k)?, ChasmNode { metadata, data }))
        })
        .collect::<Result<_>>()?;
    let signal_requested_ids = match row.get("signal_requested") {
        None => BTreeSet::new(),
        Some(CqlValue::Set(items)) => items
            .iter()
            .map(|i| text_key("signal_requested", i))
            .collect::<Result<_>>()?,
        Some(other) => {
            return Err(corrupt(format!(
                "signal_requested: expected a set, got {other:?}"
            )));
        }
    };
    let buffered_events = match row.get("buffered_events_list") {
        None => Vec::new(),
        Some(CqlValue::List(items)) => items.iter().map(serialized_blob).collect::<Result<_>>()?,
        Some(other) => {
            return Err(corrupt(format!(
                "buffered_events_list: expected a list, got {other:?}"
            )));
        }
    };
    Ok(WorkflowMutableState {
        key,
        execution_info: DataBlob::new(row.blob("execution")?, row.text("execution_encoding")?),
        execution_state: DataBlob::new(
            row.blob("execution_state")?,
            row.text("execution_state_encoding")?,
        ),
        next_event_id: row.i64("next_event_id")?,
        last_write_version: row.i64("workflow_last_write_version")?,
        db_record_version: row.i64("db_record_version")?,
        checksum,
        activity_infos: int_map(row, "activity_map")?,
        timer_infos,
        child_execution_infos: int_map(row, "child_executions_map")?,
        request_cancel_infos: int_map(row, "request_cancel_map")?,
        signal_infos: int_map(row, "signal_map")?,
        chasm_nodes,
        signal_requested_ids,
        buffered_events,
    })
}

/// The run key of a row read with [`STATE_SELECT`] (or returned by a failed batch).
pub(super) fn row_key(row: &CRow) -> Result<WorkflowKey> {
    Ok(WorkflowKey {
        namespace_id: NamespaceId(row.uuid("namespace_id")?),
        workflow_id: WorkflowId::new(
            row.opt_text("workflow_id")?
                .ok_or_else(|| corrupt("workflow_id is null"))?,
        ),
        run_id: RunId(row.uuid("run_id")?),
    })
}
