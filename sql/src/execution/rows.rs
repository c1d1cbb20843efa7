//! Row-level SQL of the execution store: the execution row, the current-run row, the five info
//! maps, CHASM nodes, the signal-requested set and buffered events.
//!
//! Everything here runs inside a transaction the caller opened (and fenced), except the reads
//! used by `get_workflow_execution`, `get_current_execution` and `list_concrete_executions`.

use std::collections::{BTreeMap, BTreeSet};

use durastore_api::{
    ChasmNode, CurrentExecution, CurrentWorkflowConflict, DataBlob, ExecutionStateColumns,
    NamespaceId, Result, RunId, ShardId, StoreError, WorkflowId, WorkflowKey, WorkflowMutableState,
    WorkflowMutation, WorkflowSnapshot, WorkflowState, WorkflowStatus,
};

use crate::dialect::{Dialect, placeholders, row_placeholders};
use crate::driver::{SqlDriver, SqlTx};
use crate::params;
use crate::value::{Row, Value};

/// Rows per multi-row statement (and keys per `IN (…)` list): far below every backend's
/// bind-parameter limit.
const CHUNK: usize = 500;

/// Columns that identify a run in every per-run table.
const RUN_COLUMNS: [&str; 4] = ["shard_id", "namespace_id", "workflow_id", "run_id"];
const RUN_WHERE: &str = "shard_id = ? AND namespace_id = ? AND workflow_id = ? AND run_id = ?";
const WORKFLOW_WHERE: &str = "shard_id = ? AND namespace_id = ? AND workflow_id = ?";

/// Bind parameters for [`RUN_WHERE`].
pub(super) fn run_params(shard_id: ShardId, key: &WorkflowKey) -> Vec<Value> {
    params![
        shard_id.0,
        key.namespace_id.as_bytes(),
        key.workflow_id.as_str(),
        key.run_id.as_bytes()
    ]
}

fn workflow_params(
    shard_id: ShardId,
    namespace_id: NamespaceId,
    workflow_id: &WorkflowId,
) -> Vec<Value> {
    params![shard_id.0, namespace_id.as_bytes(), workflow_id.as_str()]
}

/// One of the five blob maps keyed by an event id or a timer id.
#[derive(Debug, Clone, Copy)]
pub(super) struct MapTable {
    table: &'static str,
    key_column: &'static str,
}

pub(super) const ACTIVITY_MAP: MapTable = MapTable {
    table: "activity_info_maps",
    key_column: "schedule_id",
};
pub(super) const TIMER_MAP: MapTable = MapTable {
    table: "timer_info_maps",
    key_column: "timer_id",
};
pub(super) const CHILD_MAP: MapTable = MapTable {
    table: "child_execution_info_maps",
    key_column: "initiated_id",
};
pub(super) const CANCEL_MAP: MapTable = MapTable {
    table: "request_cancel_info_maps",
    key_column: "initiated_id",
};
pub(super) const SIGNAL_MAP: MapTable = MapTable {
    table: "signal_info_maps",
    key_column: "initiated_id",
};
const CHASM_TABLE: &str = "chasm_node_maps";
const SIGNALS_REQUESTED_TABLE: &str = "signals_requested_sets";
const BUFFERED_EVENTS_TABLE: &str = "buffered_events";

/// Every per-run child table, for whole-state rewrites and deletes.
const CHILD_TABLES: [&str; 8] = [
    ACTIVITY_MAP.table,
    TIMER_MAP.table,
    CHILD_MAP.table,
    CANCEL_MAP.table,
    SIGNAL_MAP.table,
    CHASM_TABLE,
    SIGNALS_REQUESTED_TABLE,
    BUFFERED_EVENTS_TABLE,
];

// ---------------------------------------------------------------------------------------------
// Generic multi-row statements.

/// Plain multi-row INSERT of `rows` (each `columns.len()` values), chunked.
async fn insert_rows(
    tx: &mut dyn SqlTx,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) -> Result<()> {
    for chunk in rows.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {}",
            columns.join(", "),
            row_placeholders(chunk.len(), columns.len())
        );
        let values: Vec<Value> = chunk.iter().flatten().cloned().collect();
        tx.execute(&sql, &values).await?;
    }
    Ok(())
}

/// Multi-row upsert (insert-ignore when every column is part of the key), chunked.
async fn upsert_rows(
    tx: &mut dyn SqlTx,
    dialect: &dyn Dialect,
    table: &str,
    columns: &[&str],
    key: &[&str],
    rows: Vec<Vec<Value>>,
) -> Result<()> {
    for chunk in rows.chunks(CHUNK) {
        let sql = if columns.len() == key.len() {
            dialect.insert_ignore_rows(table, columns, key, chunk.len())
        } else {
            dialect.upsert_rows(table, columns, key, chunk.len())
        };
        let values: Vec<Value> = chunk.iter().flatten().cloned().collect();
        tx.execute(&sql, &values).await?;
    }
    Ok(())
}

/// `DELETE … WHERE <run> AND key IN (…)`, chunked.
async fn delete_keys(
    tx: &mut dyn SqlTx,
    shard_id: ShardId,
    key: &WorkflowKey,
    table: &str,
    key_column: &str,
    keys: Vec<Value>,
) -> Result<()> {
    for chunk in keys.chunks(CHUNK) {
        let sql = format!(
            "DELETE FROM {table} WHERE {RUN_WHERE} AND {key_column} IN ({})",
            placeholders(chunk.len())
        );
        let mut values = run_params(shard_id, key);
        values.extend(chunk.iter().cloned());
        tx.execute(&sql, &values).await?;
    }
    Ok(())
}

fn run_row(shard_id: ShardId, key: &WorkflowKey, rest: Vec<Value>) -> Vec<Value> {
    let mut row = run_params(shard_id, key);
    row.extend(rest);
    row
}

// ---------------------------------------------------------------------------------------------
// The current-run row.

const CURRENT_SELECT: &str = "SELECT run_id, create_request_id, state, status, start_time, \
     last_write_version, data, data_encoding FROM current_executions WHERE ";

/// A current-run row as read.
#[derive(Debug, Clone)]
pub(super) struct CurrentRow {
    pub(super) run_id: RunId,
    pub(super) columns: ExecutionStateColumns,
    pub(super) last_write_version: i64,
    pub(super) execution_state: DataBlob,
}

impl CurrentRow {
    fn parse(row: &Row) -> Result<Self> {
        Ok(CurrentRow {
            run_id: RunId::from_slice(&row.bytes(0)?)?,
            columns: ExecutionStateColumns {
                create_request_id: row.string(1)?,
                state: WorkflowState::from_i32(row.i32(2)?)?,
                status: WorkflowStatus::from_i32(row.i32(3)?)?,
                start_time: row.opt_time(4)?,
            },
            last_write_version: row.i64(5)?,
            execution_state: DataBlob::new(row.bytes(6)?, row.opt_string(7)?.unwrap_or_default()),
        })
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

/// What a write puts into the current-run row.
#[derive(Debug, Clone, Copy)]
pub(super) struct CurrentFields<'a> {
    pub(super) run_id: RunId,
    pub(super) columns: &'a ExecutionStateColumns,
    pub(super) start_version: i64,
    pub(super) last_write_version: i64,
    pub(super) execution_state: &'a DataBlob,
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
}

/// Reads the current-run row inside a transaction with an exclusive row lock.
pub(super) async fn lock_current(
    tx: &mut dyn SqlTx,
    dialect: &dyn Dialect,
    shard_id: ShardId,
    namespace_id: NamespaceId,
    workflow_id: &WorkflowId,
) -> Result<Option<CurrentRow>> {
    let sql = format!("{CURRENT_SELECT}{WORKFLOW_WHERE}{}", dialect.lock_update());
    let rows = tx
        .query(&sql, &workflow_params(shard_id, namespace_id, workflow_id))
        .await?;
    rows.first().map(CurrentRow::parse).transpose()
}

/// Reads the current-run row inside a transaction with a shared row lock.
///
/// Used after an insert-if-absent found the row taken: the duplicate check already holds a
/// shared lock on it (InnoDB), and asking for an exclusive one there would deadlock with every
/// other loser of the same race holding its own shared lock.
pub(super) async fn share_current(
    tx: &mut dyn SqlTx,
    dialect: &dyn Dialect,
    shard_id: ShardId,
    namespace_id: NamespaceId,
    workflow_id: &WorkflowId,
) -> Result<Option<CurrentRow>> {
    let sql = format!("{CURRENT_SELECT}{WORKFLOW_WHERE}{}", dialect.lock_shared());
    let rows = tx
        .query(&sql, &workflow_params(shard_id, namespace_id, workflow_id))
        .await?;
    rows.first().map(CurrentRow::parse).transpose()
}

/// Reads the current-run row outside a transaction.
pub(super) async fn read_current(
    driver: &dyn SqlDriver,
    shard_id: ShardId,
    namespace_id: NamespaceId,
    workflow_id: &WorkflowId,
) -> Result<Option<CurrentRow>> {
    let sql = format!("{CURRENT_SELECT}{WORKFLOW_WHERE}");
    let rows = driver
        .query(&sql, &workflow_params(shard_id, namespace_id, workflow_id))
        .await?;
    rows.first().map(CurrentRow::parse).transpose()
}

/// Inserts the current-run row unless one exists; returns whether it was inserted.
pub(super) async fn insert_current(
    tx: &mut dyn SqlTx,
    dialect: &dyn Dialect,
    shard_id: ShardId,
    namespace_id: NamespaceId,
    workflow_id: &WorkflowId,
    f: CurrentFields<'_>,
) -> Result<bool> {
    let sql = dialect.insert_ignore(
        "current_executions",
        &[
            "shard_id",
            "namespace_id",
            "workflow_id",
            "run_id",
            "create_request_id",
            "state",
            "status",
            "start_version",
            "start_time",
            "last_write_version",
            "data",
            "data_encoding",
        ],
        &["shard_id", "namespace_id", "workflow_id"],
    );
    let n = tx
        .execute(
            &sql,
            &params![
                shard_id.0,
                namespace_id.as_bytes(),
                workflow_id.as_str(),
                f.run_id.as_bytes(),
                &f.columns.create_request_id,
                f.columns.state.as_i32(),
                f.columns.status.as_i32(),
                f.start_version,
                f.columns.start_time,
                f.last_write_version,
                f.execution_state.data.as_slice(),
                &f.execution_state.encoding
            ],
        )
        .await?;
    Ok(n > 0)
}

/// Points the (locked, checked) current-run row at `f.run_id` and refreshes its columns.
/// `expected_run_id` repeats the checked condition in the statement itself.
pub(super) async fn update_current(
    tx: &mut dyn SqlTx,
    shard_id: ShardId,
    namespace_id: NamespaceId,
    workflow_id: &WorkflowId,
    expected_run_id: RunId,
    f: CurrentFields<'_>,
) -> Result<()> {
    let sql = format!(
        "UPDATE current_executions SET run_id = ?, create_request_id = ?, state = ?, status = ?, \
         start_version = ?, start_time = ?, last_write_version = ?, data = ?, data_encoding = ? \
         WHERE {WORKFLOW_WHERE} AND run_id = ?"
    );
    let mut values = params![
        f.run_id.as_bytes(),
        &f.columns.create_request_id,
        f.columns.state.as_i32(),
        f.columns.status.as_i32(),
        f.start_version,
        f.columns.start_time,
        f.last_write_version,
        f.execution_state.data.as_slice(),
        &f.execution_state.encoding
    ];
    values.extend(workflow_params(shard_id, namespace_id, workflow_id));
    values.push(Value::from(expected_run_id.as_bytes()));
    // Rows-affected is not checked: MySQL counts only rows whose values changed, and the row
    // was locked and checked earlier in this transaction.
    tx.execute(&sql, &values).await?;
    Ok(())
}

/// Deletes the current-run row if it points at `key.run_id`.
pub(super) async fn delete_current(
    driver: &dyn SqlDriver,
    shard_id: ShardId,
    key: &WorkflowKey,
) -> Result<()> {
    let sql = format!("DELETE FROM current_executions WHERE {WORKFLOW_WHERE} AND run_id = ?");
    let mut values = workflow_params(shard_id, key.namespace_id, &key.workflow_id);
    values.push(Value::from(key.run_id.as_bytes()));
    driver.execute(&sql, &values).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The execution row.

/// The execution row's CAS columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ExecutionVersion {
    pub(super) next_event_id: i64,
    pub(super) db_record_version: i64,
}

/// Reads the execution row's CAS columns with an exclusive row lock.
pub(super) async fn lock_execution(
    tx: &mut dyn SqlTx,
    dialect: &dyn Dialect,
    shard_id: ShardId,
    key: &WorkflowKey,
) -> Result<Option<ExecutionVersion>> {
    read_execution_version(tx, dialect.lock_update(), shard_id, key).await
}

/// Reads the execution row's CAS columns with the row lock `lock` (a dialect lock clause).
async fn read_execution_version(
    tx: &mut dyn SqlTx,
    lock: &str,
    shard_id: ShardId,
    key: &WorkflowKey,
) -> Result<Option<ExecutionVersion>> {
    let sql =
        format!("SELECT next_event_id, db_record_version FROM executions WHERE {RUN_WHERE}{lock}");
    let rows = tx.query(&sql, &run_params(shard_id, key)).await?;
    rows.first()
        .map(|r| {
            Ok(ExecutionVersion {
                next_event_id: r.i64(0)?,
                db_record_version: r.i64(1)?,
            })
        })
        .transpose()
}

/// Checks the execution CAS: `db_record_version - 1` when the version is set, else the legacy
/// next-event-id condition. A missing row is `ConditionFailed`.
pub(super) fn check_execution_cas(
    key: &WorkflowKey,
    stored: Option<ExecutionVersion>,
    db_record_version: i64,
    condition: i64,
) -> Result<()> {
    let Some(stored) = stored else {
        return Err(StoreError::condition_failed(format!(
            "workflow run {}/{} does not exist",
            key.workflow_id, key.run_id
        )));
    };
    let holds = if db_record_version != 0 {
        stored.db_record_version.checked_add(1) == Some(db_record_version)
    } else {
        stored.next_event_id == condition
    };
    if holds {
        Ok(())
    } else {
        Err(StoreError::workflow_condition_failed(
            format!(
                "workflow run {}/{}: stored next_event_id {} / db_record_version {} does not \
                 match db_record_version {db_record_version} / condition {condition}",
                key.workflow_id, key.run_id, stored.next_event_id, stored.db_record_version
            ),
            Some(stored.next_event_id),
            Some(stored.db_record_version),
        ))
    }
}

/// The columns of an execution row a write sets.
#[derive(Debug, Clone, Copy)]
pub(super) struct ExecutionFields<'a> {
    pub(super) key: &'a WorkflowKey,
    pub(super) execution_info: &'a DataBlob,
    pub(super) execution_state: &'a DataBlob,
    pub(super) next_event_id: i64,
    pub(super) last_write_version: i64,
    pub(super) db_record_version: i64,
    pub(super) checksum: Option<&'a DataBlob>,
}

impl<'a> ExecutionFields<'a> {
    pub(super) fn of_snapshot(s: &'a WorkflowSnapshot) -> Self {
        ExecutionFields {
            key: &s.key,
            execution_info: &s.execution_info,
            execution_state: &s.execution_state,
            next_event_id: s.next_event_id,
            last_write_version: s.last_write_version,
            db_record_version: s.db_record_version,
            checksum: s.checksum.as_ref(),
        }
    }

    pub(super) fn of_mutation(m: &'a WorkflowMutation) -> Self {
        ExecutionFields {
            key: &m.key,
            execution_info: &m.execution_info,
            execution_state: &m.execution_state,
            next_event_id: m.next_event_id,
            last_write_version: m.last_write_version,
            db_record_version: m.db_record_version,
            checksum: m.checksum.as_ref(),
        }
    }

    fn checksum_values(&self) -> (Value, Value) {
        match self.checksum {
            Some(c) => (
                Value::from(c.data.as_slice()),
                Value::from(c.encoding.as_str()),
            ),
            None => (Value::Null, Value::Null),
        }
    }
}

/// Inserts a new execution row. If the run exists, nothing is written and the result is
/// `WorkflowConditionFailed` with the stored CAS values.
pub(super) async fn insert_execution(
    tx: &mut dyn SqlTx,
    dialect: &dyn Dialect,
    shard_id: ShardId,
    f: ExecutionFields<'_>,
) -> Result<()> {
    let sql = dialect.insert_ignore(
        "executions",
        &[
            "shard_id",
            "namespace_id",
            "workflow_id",
            "run_id",
            "next_event_id",
            "last_write_version",
            "data",
            "data_encoding",
            "state",
            "state_encoding",
            "db_record_version",
            "checksum",
            "checksum_encoding",
        ],
        &RUN_COLUMNS,
    );
    let (checksum, checksum_encoding) = f.checksum_values();
    let values = run_row(
        shard_id,
        f.key,
        vec![
            Value::from(f.next_event_id),
            Value::from(f.last_write_version),
            Value::from(f.execution_info.data.as_slice()),
            Value::from(f.execution_info.encoding.as_str()),
            Value::from(f.execution_state.data.as_slice()),
            Value::from(f.execution_state.encoding.as_str()),
            Value::from(f.db_record_version),
            checksum,
            checksum_encoding,
        ],
    );
    if tx.execute(&sql, &values).await? > 0 {
        return Ok(());
    }
    // The insert was ignored because the run exists: report what is stored. A shared lock,
    // as in `share_current`: the duplicate check already holds one.
    let stored = read_execution_version(tx, dialect.lock_shared(), shard_id, f.key).await?;
    Err(StoreError::workflow_condition_failed(
        format!(
            "workflow run {}/{} already exists",
            f.key.workflow_id, f.key.run_id
        ),
        stored.map(|s| s.next_event_id),
        stored.map(|s| s.db_record_version),
    ))
}

/// Overwrites the (locked, checked) execution row.
pub(super) async fn update_execution(
    tx: &mut dyn SqlTx,
    shard_id: ShardId,
    f: ExecutionFields<'_>,
) -> Result<()> {
    let sql = format!(
        "UPDATE executions SET next_event_id = ?, last_write_version = ?, data = ?, \
         data_encoding = ?, state = ?, state_encoding = ?, db_record_version = ?, checksum = ?, \
         checksum_encoding = ? WHERE {RUN_WHERE}"
    );
    let (checksum, checksum_encoding) = f.checksum_values();
    let mut values = vec![
        Value::from(f.next_event_id),
        Value::from(f.last_write_version),
        Value::from(f.execution_info.data.as_slice()),
        Value::from(f.execution_info.encoding.as_str()),
        Value::from(f.execution_state.data.as_slice()),
        Value::from(f.execution_state.encoding.as_str()),
        Value::from(f.db_record_version),
        checksum,
        checksum_encoding,
    ];
    values.extend(run_params(shard_id, f.key));
    tx.execute(&sql, &values).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Child rows.

fn blob_map_rows<K: Clone + Into<Value>>(
    shard_id: ShardId,
    key: &WorkflowKey,
    map: &BTreeMap<K, DataBlob>,
) -> Vec<Vec<Value>> {
    map.iter()
        .map(|(k, b)| {
            run_row(
                shard_id,
                key,
                vec![
                    k.clone().into(),
                    Value::from(b.data.as_slice()),
                    Value::from(b.encoding.as_str()),
                ],
            )
        })
        .collect()
}

fn chasm_rows(
    shard_id: ShardId,
    key: &WorkflowKey,
    nodes: &BTreeMap<String, ChasmNode>,
) -> Vec<Vec<Value>> {
    nodes
        .iter()
        .map(|(path, node)| {
            let (data, data_encoding) = match &node.data {
                Some(d) => (
                    Value::from(d.data.as_slice()),
                    Value::from(d.encoding.as_str()),
                ),
                // The column is NOT NULL DEFAULT '' in Temporal's schema.
                None => (Value::Null, Value::from("")),
            };
            run_row(
                shard_id,
                key,
                vec![
                    chasm_path(path),
                    Value::from(node.metadata.data.as_slice()),
                    Value::from(node.metadata.encoding.as_str()),
                    data,
                    data_encoding,
                ],
            )
        })
        .collect()
}

/// CHASM paths are stored as bytes (`VARBINARY` / `BYTEA`).
fn chasm_path(path: &str) -> Value {
    Value::Bytes(path.as_bytes().to_vec())
}

fn signal_rows(shard_id: ShardId, key: &WorkflowKey, ids: &BTreeSet<String>) -> Vec<Vec<Value>> {
    ids.iter()
        .map(|id| run_row(shard_id, key, vec![Value::from(id.as_str())]))
        .collect()
}

fn columns_with(table_key: &str, rest: &[&'static str]) -> Vec<String> {
    RUN_COLUMNS
        .iter()
        .map(|c| c.to_string())
        .chain(std::iter::once(table_key.to_string()))
        .chain(rest.iter().map(|c| c.to_string()))
        .collect()
}

fn as_strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

const CHASM_VALUE_COLUMNS: [&str; 4] = ["metadata", "metadata_encoding", "data", "data_encoding"];

/// Writes every child row of a whole-state snapshot. The run must have no child rows (new run,
/// or after [`delete_children`]).
pub(super) async fn insert_snapshot_children(
    tx: &mut dyn SqlTx,
    shard_id: ShardId,
    s: &WorkflowSnapshot,
) -> Result<()> {
    let key = &s.key;
    let int_maps = [
        (ACTIVITY_MAP, &s.activity_infos),
        (CHILD_MAP, &s.child_execution_infos),
        (CANCEL_MAP, &s.request_cancel_infos),
        (SIGNAL_MAP, &s.signal_infos),
    ];
    for (map, entries) in int_maps {
        if !entries.is_empty() {
            let cols = columns_with(map.key_column, &["data", "data_encoding"]);
            insert_rows(
                tx,
                map.table,
                &as_strs(&cols),
                blob_map_rows(shard_id, key, entries),
            )
            .await?;
        }
    }
    if !s.timer_infos.is_empty() {
        let cols = columns_with(TIMER_MAP.key_column, &["data", "data_encoding"]);
        let rows = blob_map_rows(shard_id, key, &s.timer_infos);
        insert_rows(tx, TIMER_MAP.table, &as_strs(&cols), rows).await?;
    }
    if !s.chasm_nodes.is_empty() {
        let cols = columns_with("chasm_path", &CHASM_VALUE_COLUMNS);
        let rows = chasm_rows(shard_id, key, &s.chasm_nodes);
        insert_rows(tx, CHASM_TABLE, &as_strs(&cols), rows).await?;
    }
    if !s.signal_requested_ids.is_empty() {
        let cols = columns_with("signal_id", &[]);
        let rows = signal_rows(shard_id, key, &s.signal_requested_ids);
        insert_rows(tx, SIGNALS_REQUESTED_TABLE, &as_strs(&cols), rows).await?;
    }
    Ok(())
}

/// Deletes every child row of a run (maps, CHASM nodes, signal-requested ids, buffered events).
pub(super) async fn delete_children(
    tx: &mut dyn SqlTx,
    shard_id: ShardId,
    key: &WorkflowKey,
) -> Result<()> {
    let values = run_params(shard_id, key);
    for table in CHILD_TABLES {
        tx.execute(&format!("DELETE FROM {table} WHERE {RUN_WHERE}"), &values)
            .await?;
    }
    Ok(())
}

/// Deletes the execution row and every child row of a run.
pub(super) async fn delete_run(
    tx: &mut dyn SqlTx,
    shard_id: ShardId,
    key: &WorkflowKey,
) -> Result<()> {
    tx.execute(
        &format!("DELETE FROM executions WHERE {RUN_WHERE}"),
        &run_params(shard_id, key),
    )
    .await?;
    delete_children(tx, shard_id, key).await
}

async fn apply_blob_map<K: Clone + Into<Value>>(
    tx: &mut dyn SqlTx,
    dialect: &dyn Dialect,
    shard_id: ShardId,
    key: &WorkflowKey,
    map: MapTable,
    upserts: &BTreeMap<K, DataBlob>,
    deletes: &BTreeSet<K>,
) -> Result<()> {
    // Deletes first, then upserts: a key in both ends up upserted.
    if !deletes.is_empty() {
        let keys = deletes.iter().map(|k| k.clone().into()).collect();
        delete_keys(tx, shard_id, key, map.table, map.key_column, keys).await?;
    }
    if !upserts.is_empty() {
        let cols = columns_with(map.key_column, &["data", "data_encoding"]);
        let key_cols = columns_with(map.key_column, &[]);
        let rows = blob_map_rows(shard_id, key, upserts);
        upsert_rows(
            tx,
            dialect,
            map.table,
            &as_strs(&cols),
            &as_strs(&key_cols),
            rows,
        )
        .await?;
    }
    Ok(())
}

/// Applies a mutation's map, set and buffered-event changes.
pub(super) async fn apply_mutation_children(
    tx: &mut dyn SqlTx,
    dialect: &dyn Dialect,
    shard_id: ShardId,
    m: &WorkflowMutation,
) -> Result<()> {
    let key = &m.key;
    apply_blob_map(
        tx,
        dialect,
        shard_id,
        key,
        ACTIVITY_MAP,
        &m.upsert_activity_infos,
        &m.delete_activity_infos,
    )
    .await?;
    apply_blob_map(
        tx,
        dialect,
        shard_id,
        key,
        TIMER_MAP,
        &m.upsert_timer_infos,
        &m.delete_timer_infos,
    )
    .await?;
    apply_blob_map(
        tx,
        dialect,
        shard_id,
        key,
        CHILD_MAP,
        &m.upsert_child_execution_infos,
        &m.delete_child_execution_infos,
    )
    .await?;
    apply_blob_map(
        tx,
        dialect,
        shard_id,
        key,
        CANCEL_MAP,
        &m.upsert_request_cancel_infos,
        &m.delete_request_cancel_infos,
    )
    .await?;
    apply_blob_map(
        tx,
        dialect,
        shard_id,
        key,
        SIGNAL_MAP,
        &m.upsert_signal_infos,
        &m.delete_signal_infos,
    )
    .await?;

    if !m.delete_chasm_nodes.is_empty() {
        let keys = m.delete_chasm_nodes.iter().map(|p| chasm_path(p)).collect();
        delete_keys(tx, shard_id, key, CHASM_TABLE, "chasm_path", keys).await?;
    }
    if !m.upsert_chasm_nodes.is_empty() {
        let cols = columns_with("chasm_path", &CHASM_VALUE_COLUMNS);
        let key_cols = columns_with("chasm_path", &[]);
        let rows = chasm_rows(shard_id, key, &m.upsert_chasm_nodes);
        upsert_rows(
            tx,
            dialect,
            CHASM_TABLE,
            &as_strs(&cols),
            &as_strs(&key_cols),
            rows,
        )
        .await?;
    }

    if !m.delete_signal_requested_ids.is_empty() {
        let keys = m
            .delete_signal_requested_ids
            .iter()
            .map(|s| Value::from(s.as_str()))
            .collect();
        delete_keys(
            tx,
            shard_id,
            key,
            SIGNALS_REQUESTED_TABLE,
            "signal_id",
            keys,
        )
        .await?;
    }
    if !m.upsert_signal_requested_ids.is_empty() {
        let cols = columns_with("signal_id", &[]);
        let rows = signal_rows(shard_id, key, &m.upsert_signal_requested_ids);
        upsert_rows(
            tx,
            dialect,
            SIGNALS_REQUESTED_TABLE,
            &as_strs(&cols),
            &as_strs(&cols),
            rows,
        )
        .await?;
    }

    if m.clear_buffered_events {
        tx.execute(
            &format!("DELETE FROM {BUFFERED_EVENTS_TABLE} WHERE {RUN_WHERE}"),
            &run_params(shard_id, key),
        )
        .await?;
    }
    if let Some(events) = &m.new_buffered_events {
        let cols = columns_with("data", &["data_encoding"]);
        let row = run_row(
            shard_id,
            key,
            vec![
                Value::from(events.data.as_slice()),
                Value::from(events.encoding.as_str()),
            ],
        );
        insert_rows(tx, BUFFERED_EVENTS_TABLE, &as_strs(&cols), vec![row]).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reads.

/// A blob from a (data, nullable encoding) column pair.
fn map_blob(row: &Row, data: usize, encoding: usize) -> Result<DataBlob> {
    Ok(DataBlob::new(
        row.bytes(data)?,
        row.opt_string(encoding)?.unwrap_or_default(),
    ))
}

/// Reads a run's whole state (the execution row and eight child queries) inside `tx`, which
/// should be a [`SqlDriver::begin_read`] snapshot so the nine reads agree; `None` if the
/// execution row does not exist.
pub(super) async fn read_state(
    tx: &mut dyn SqlTx,
    shard_id: ShardId,
    key: &WorkflowKey,
) -> Result<Option<WorkflowMutableState>> {
    let by_run = run_params(shard_id, key);
    let rows = tx
        .query(
            &format!(
                "SELECT next_event_id, last_write_version, data, data_encoding, state, \
                 state_encoding, db_record_version, checksum, checksum_encoding \
                 FROM executions WHERE {RUN_WHERE}"
            ),
            &by_run,
        )
        .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let checksum = if row.is_null(7)? {
        None
    } else {
        Some(map_blob(row, 7, 8)?)
    };
    let mut state = WorkflowMutableState {
        key: key.clone(),
        execution_info: map_blob(row, 2, 3)?,
        execution_state: map_blob(row, 4, 5)?,
        next_event_id: row.i64(0)?,
        last_write_version: row.i64(1)?,
        db_record_version: row.i64(6)?,
        checksum,
        activity_infos: BTreeMap::new(),
        timer_infos: BTreeMap::new(),
        child_execution_infos: BTreeMap::new(),
        request_cancel_infos: BTreeMap::new(),
        signal_infos: BTreeMap::new(),
        chasm_nodes: BTreeMap::new(),
        signal_requested_ids: BTreeSet::new(),
        buffered_events: Vec::new(),
    };

    let int_maps = [
        (ACTIVITY_MAP, &mut state.activity_infos),
        (CHILD_MAP, &mut state.child_execution_infos),
        (CANCEL_MAP, &mut state.request_cancel_infos),
        (SIGNAL_MAP, &mut state.signal_infos),
    ];
    for (map, out) in int_maps {
        let sql = format!(
            "SELECT {}, data, data_encoding FROM {} WHERE {RUN_WHERE}",
            map.key_column, map.table
        );
        for r in tx.query(&sql, &by_run).await? {
            out.insert(r.i64(0)?, map_blob(&r, 1, 2)?);
        }
    }
    let sql = format!(
        "SELECT timer_id, data, data_encoding FROM {} WHERE {RUN_WHERE}",
        TIMER_MAP.table
    );
    for r in tx.query(&sql, &by_run).await? {
        state.timer_infos.insert(r.string(0)?, map_blob(&r, 1, 2)?);
    }
    let sql = format!(
        "SELECT chasm_path, metadata, metadata_encoding, data, data_encoding \
         FROM {CHASM_TABLE} WHERE {RUN_WHERE}"
    );
    for r in tx.query(&sql, &by_run).await? {
        let data = if r.is_null(3)? {
            None
        } else {
            Some(map_blob(&r, 3, 4)?)
        };
        state.chasm_nodes.insert(
            r.string(0)?,
            ChasmNode {
                metadata: map_blob(&r, 1, 2)?,
                data,
            },
        );
    }
    let sql = format!("SELECT signal_id FROM {SIGNALS_REQUESTED_TABLE} WHERE {RUN_WHERE}");
    for r in tx.query(&sql, &by_run).await? {
        state.signal_requested_ids.insert(r.string(0)?);
    }
    let sql = format!(
        "SELECT data, data_encoding FROM {BUFFERED_EVENTS_TABLE} WHERE {RUN_WHERE} ORDER BY id"
    );
    for r in tx.query(&sql, &by_run).await? {
        state.buffered_events.push(map_blob(&r, 0, 1)?);
    }
    Ok(Some(state))
}

/// Keys of a shard's runs after `after` (exclusive), in primary-key order, at most `limit`.
pub(super) async fn list_run_keys(
    driver: &dyn SqlDriver,
    shard_id: ShardId,
    after: Option<&WorkflowKey>,
    limit: usize,
) -> Result<Vec<WorkflowKey>> {
    let mut values = params![shard_id.0];
    let keyset = match after {
        Some(k) => {
            values.extend(params![
                k.namespace_id.as_bytes(),
                k.namespace_id.as_bytes(),
                k.workflow_id.as_str(),
                k.workflow_id.as_str(),
                k.run_id.as_bytes()
            ]);
            " AND (namespace_id > ? OR (namespace_id = ? AND (workflow_id > ? OR \
             (workflow_id = ? AND run_id > ?))))"
        }
        None => "",
    };
    values.push(Value::from(i64::try_from(limit).unwrap_or(i64::MAX)));
    let sql = format!(
        "SELECT namespace_id, workflow_id, run_id FROM executions WHERE shard_id = ?{keyset} \
         ORDER BY namespace_id, workflow_id, run_id LIMIT ?"
    );
    driver
        .query(&sql, &values)
        .await?
        .iter()
        .map(|r| {
            Ok(WorkflowKey {
                namespace_id: NamespaceId::from_slice(&r.bytes(0)?)?,
                workflow_id: WorkflowId::new(r.string(1)?),
                run_id: RunId::from_slice(&r.bytes(2)?)?,
            })
        })
        .collect()
}
