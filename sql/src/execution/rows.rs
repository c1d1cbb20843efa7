//! Row-level SQL of the execution store: the execution row and the current-run row, and the
//! run key every per-run table shares. The child rows of a run are in `children.rs`, the
//! whole-state reads in `read.rs`.
//!
//! Everything here runs inside a transaction the caller opened (and fenced), except
//! [`read_current`] and [`delete_current`].

use durastore_api::{
    ArchetypeId, CurrentExecution, CurrentWorkflowConflict, DataBlob, ExecutionStateColumns,
    NamespaceId, Result, RunId, ShardId, StoreError, WorkflowId, WorkflowKey, WorkflowMutation,
    WorkflowSnapshot, WorkflowState, WorkflowStatus,
};

use crate::columns::Columns;
use crate::dialect::Dialect;
use crate::driver::{SqlDriver, SqlTx};
use crate::params;
use crate::value::{Row, Value};

/// Columns that identify a run in every per-run table.
pub(super) const RUN_COLUMNS: [&str; 4] = ["shard_id", "namespace_id", "workflow_id", "run_id"];
pub(super) const RUN_WHERE: &str =
    "shard_id = ? AND namespace_id = ? AND workflow_id = ? AND run_id = ?";

/// Bind parameters for [`RUN_WHERE`].
pub(super) fn run_params(shard_id: ShardId, key: &WorkflowKey) -> Vec<Value> {
    params![
        shard_id.0,
        key.namespace_id.as_bytes(),
        key.workflow_id.as_str(),
        key.run_id.as_bytes()
    ]
}

/// A row of a per-run table: the run key, then `rest`.
pub(super) fn run_row(shard_id: ShardId, key: &WorkflowKey, rest: Vec<Value>) -> Vec<Value> {
    let mut row = run_params(shard_id, key);
    row.extend(rest);
    row
}

// ---------------------------------------------------------------------------------------------
// The current-run row.

/// What [`CurrentRow::parse`] reads.
const CURRENT_COLUMNS: Columns = Columns(&[
    "run_id",
    "create_request_id",
    "state",
    "status",
    "start_time",
    "last_write_version",
    "data",
    "data_encoding",
]);

/// Where a current-run row lives: the workflow archetype's in `current_executions` (keyed by
/// `workflow_id`, schema 1.0), every other archetype's in `current_chasm_executions` (keyed by
/// `business_id` and `archetype_id`, schema 1.1), as in Temporal.
#[derive(Debug, Clone, Copy)]
pub(super) struct CurrentKey<'a> {
    pub(super) shard_id: ShardId,
    pub(super) namespace_id: NamespaceId,
    pub(super) id: &'a WorkflowId,
    pub(super) archetype_id: ArchetypeId,
}

impl<'a> CurrentKey<'a> {
    /// The current row of `key`'s workflow (or business) id in `archetype_id`'s id space.
    pub(super) fn of(shard_id: ShardId, key: &'a WorkflowKey, archetype_id: ArchetypeId) -> Self {
        CurrentKey {
            shard_id,
            namespace_id: key.namespace_id,
            id: &key.workflow_id,
            archetype_id,
        }
    }

    fn table(&self) -> &'static str {
        if self.archetype_id.is_workflow() {
            "current_executions"
        } else {
            "current_chasm_executions"
        }
    }

    /// The key columns, in the order of [`CurrentKey::params`].
    fn columns(&self) -> &'static [&'static str] {
        if self.archetype_id.is_workflow() {
            &["shard_id", "namespace_id", "workflow_id"]
        } else {
            &["shard_id", "namespace_id", "business_id", "archetype_id"]
        }
    }

    fn where_clause(&self) -> String {
        let conds: Vec<String> = self.columns().iter().map(|c| format!("{c} = ?")).collect();
        conds.join(" AND ")
    }

    fn params(&self) -> Vec<Value> {
        let mut v = params![
            self.shard_id.0,
            self.namespace_id.as_bytes(),
            self.id.as_str()
        ];
        if !self.archetype_id.is_workflow() {
            v.push(Value::from(i64::from(self.archetype_id.0)));
        }
        v
    }

    /// `SELECT <CURRENT_COLUMNS> FROM <table> WHERE <key>`, plus `lock`.
    fn select(&self, lock: &str) -> String {
        format!(
            "SELECT {} FROM {} WHERE {}{lock}",
            CURRENT_COLUMNS.list(),
            self.table(),
            self.where_clause()
        )
    }
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
    fn parse(row: &Row) -> Result<Self> {
        let row = CURRENT_COLUMNS.read(row);
        Ok(CurrentRow {
            run_id: RunId::from_slice(&row.bytes("run_id")?)?,
            columns: ExecutionStateColumns {
                create_request_id: row.string("create_request_id")?,
                state: WorkflowState::from_i32(row.i32("state")?)?,
                status: WorkflowStatus::from_i32(row.i32("status")?)?,
                start_time: row.opt_time("start_time")?,
            },
            last_write_version: row.i64("last_write_version")?,
            execution_state: row.blob_lenient("data", "data_encoding")?,
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
    key: CurrentKey<'_>,
) -> Result<Option<CurrentRow>> {
    let rows = tx
        .query(&key.select(dialect.lock_update()), &key.params())
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
    key: CurrentKey<'_>,
) -> Result<Option<CurrentRow>> {
    let rows = tx
        .query(&key.select(dialect.lock_shared()), &key.params())
        .await?;
    rows.first().map(CurrentRow::parse).transpose()
}

/// Reads the current-run row outside a transaction.
pub(super) async fn read_current(
    driver: &dyn SqlDriver,
    key: CurrentKey<'_>,
) -> Result<Option<CurrentRow>> {
    let rows = driver.query(&key.select(""), &key.params()).await?;
    rows.first().map(CurrentRow::parse).transpose()
}

/// The non-key columns of a current-run row, in the order of [`CurrentFields::values`].
const CURRENT_WRITE_COLUMNS: [&str; 9] = [
    "run_id",
    "create_request_id",
    "state",
    "status",
    "start_version",
    "start_time",
    "last_write_version",
    "data",
    "data_encoding",
];

impl CurrentFields<'_> {
    fn values(&self) -> Vec<Value> {
        params![
            self.run_id.as_bytes(),
            &self.columns.create_request_id,
            self.columns.state.as_i32(),
            self.columns.status.as_i32(),
            self.start_version,
            self.columns.start_time,
            self.last_write_version,
            self.execution_state.data.as_slice(),
            &self.execution_state.encoding
        ]
    }
}

/// Inserts the current-run row unless one exists; returns whether it was inserted.
pub(super) async fn insert_current(
    tx: &mut dyn SqlTx,
    dialect: &dyn Dialect,
    key: CurrentKey<'_>,
    f: CurrentFields<'_>,
) -> Result<bool> {
    let mut columns: Vec<&str> = key.columns().to_vec();
    columns.extend(CURRENT_WRITE_COLUMNS);
    let sql = dialect.insert_ignore(key.table(), &columns, key.columns());
    let mut values = key.params();
    values.extend(f.values());
    let n = tx.execute(&sql, &values).await?;
    Ok(n > 0)
}

/// Points the (locked, checked) current-run row at `f.run_id` and refreshes its columns.
/// `expected_run_id` repeats the checked condition in the statement itself.
pub(super) async fn update_current(
    tx: &mut dyn SqlTx,
    key: CurrentKey<'_>,
    expected_run_id: RunId,
    f: CurrentFields<'_>,
) -> Result<()> {
    let sets: Vec<String> = CURRENT_WRITE_COLUMNS
        .iter()
        .map(|c| format!("{c} = ?"))
        .collect();
    let sql = format!(
        "UPDATE {} SET {} WHERE {} AND run_id = ?",
        key.table(),
        sets.join(", "),
        key.where_clause()
    );
    let mut values = f.values();
    values.extend(key.params());
    values.push(Value::from(expected_run_id.as_bytes()));
    // Rows-affected is not checked: MySQL counts only rows whose values changed, and the row
    // was locked and checked earlier in this transaction.
    tx.execute(&sql, &values).await?;
    Ok(())
}

/// Deletes the current-run row if it points at `run_id`.
pub(super) async fn delete_current(
    driver: &dyn SqlDriver,
    key: CurrentKey<'_>,
    run_id: RunId,
) -> Result<()> {
    let sql = format!(
        "DELETE FROM {} WHERE {} AND run_id = ?",
        key.table(),
        key.where_clause()
    );
    let mut values = key.params();
    values.push(Value::from(run_id.as_bytes()));
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
    const COLUMNS: Columns = Columns(&["next_event_id", "db_record_version"]);
    let sql = format!(
        "SELECT {} FROM executions WHERE {RUN_WHERE}{lock}",
        COLUMNS.list()
    );
    let rows = tx.query(&sql, &run_params(shard_id, key)).await?;
    rows.first()
        .map(|r| {
            let r = COLUMNS.read(r);
            Ok(ExecutionVersion {
                next_event_id: r.i64("next_event_id")?,
                db_record_version: r.i64("db_record_version")?,
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
