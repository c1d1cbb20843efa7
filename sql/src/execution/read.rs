//! Reads of a run's whole state and of a shard's run keys.

use std::collections::{BTreeMap, BTreeSet};

use durastore_api::{
    ChasmNode, NamespaceId, Result, RunId, ShardId, WorkflowId, WorkflowKey, WorkflowMutableState,
};

use super::children::{
    ACTIVITY_MAP, BUFFERED_EVENTS_TABLE, CANCEL_MAP, CHASM_TABLE, CHILD_MAP, MapTable, SIGNAL_MAP,
    SIGNALS_REQUESTED_TABLE, TIMER_MAP,
};
use super::rows::{RUN_WHERE, run_params};
use crate::columns::Columns;
use crate::driver::{SqlDriver, SqlTx};
use crate::params;
use crate::value::Value;

/// The execution row's columns, as [`read_state`] reads them.
const EXECUTION_COLUMNS: Columns = Columns(&[
    "next_event_id",
    "last_write_version",
    "data",
    "data_encoding",
    "state",
    "state_encoding",
    "db_record_version",
    "checksum",
    "checksum_encoding",
]);
const CHASM_COLUMNS: Columns = Columns(&[
    "chasm_path",
    "metadata",
    "metadata_encoding",
    "data",
    "data_encoding",
]);
const BLOB_COLUMNS: Columns = Columns(&["data", "data_encoding"]);

/// Reads a run's whole state (the execution row and eight child queries) inside `tx`, which
/// should be a [`SqlDriver::begin_read`] snapshot so the nine reads agree; `None` if the
/// execution row does not exist.
pub(super) async fn read_state(
    tx: &mut dyn SqlTx,
    shard_id: ShardId,
    key: &WorkflowKey,
) -> Result<Option<WorkflowMutableState>> {
    let by_run = run_params(shard_id, key);
    let Some(mut state) = read_execution_row(tx, key, &by_run).await? else {
        return Ok(None);
    };
    read_info_maps(tx, &by_run, &mut state).await?;
    read_chasm_nodes(tx, &by_run, &mut state).await?;
    let sql = format!("SELECT signal_id FROM {SIGNALS_REQUESTED_TABLE} WHERE {RUN_WHERE}");
    for r in tx.query(&sql, &by_run).await? {
        let r = Columns(&["signal_id"]).read(&r);
        state.signal_requested_ids.insert(r.string("signal_id")?);
    }
    let sql = format!(
        "SELECT {} FROM {BUFFERED_EVENTS_TABLE} WHERE {RUN_WHERE} ORDER BY id",
        BLOB_COLUMNS.list()
    );
    for r in tx.query(&sql, &by_run).await? {
        let r = BLOB_COLUMNS.read(&r);
        state
            .buffered_events
            .push(r.blob_lenient("data", "data_encoding")?);
    }
    Ok(Some(state))
}

/// The execution row, as a state with no child rows yet.
async fn read_execution_row(
    tx: &mut dyn SqlTx,
    key: &WorkflowKey,
    by_run: &[Value],
) -> Result<Option<WorkflowMutableState>> {
    let sql = format!(
        "SELECT {} FROM executions WHERE {RUN_WHERE}",
        EXECUTION_COLUMNS.list()
    );
    let rows = tx.query(&sql, by_run).await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let row = EXECUTION_COLUMNS.read(row);
    Ok(Some(WorkflowMutableState {
        key: key.clone(),
        execution_info: row.blob_lenient("data", "data_encoding")?,
        execution_state: row.blob_lenient("state", "state_encoding")?,
        next_event_id: row.i64("next_event_id")?,
        last_write_version: row.i64("last_write_version")?,
        db_record_version: row.i64("db_record_version")?,
        checksum: row.opt_blob_lenient("checksum", "checksum_encoding")?,
        activity_infos: BTreeMap::new(),
        timer_infos: BTreeMap::new(),
        child_execution_infos: BTreeMap::new(),
        request_cancel_infos: BTreeMap::new(),
        signal_infos: BTreeMap::new(),
        chasm_nodes: BTreeMap::new(),
        signal_requested_ids: BTreeSet::new(),
        buffered_events: Vec::new(),
    }))
}

/// The five info maps: four keyed by an event id, the timers by a timer id.
async fn read_info_maps(
    tx: &mut dyn SqlTx,
    by_run: &[Value],
    state: &mut WorkflowMutableState,
) -> Result<()> {
    let int_maps = [
        (ACTIVITY_MAP, &mut state.activity_infos),
        (CHILD_MAP, &mut state.child_execution_infos),
        (CANCEL_MAP, &mut state.request_cancel_infos),
        (SIGNAL_MAP, &mut state.signal_infos),
    ];
    for (map, out) in int_maps {
        let columns = map_columns(map);
        for r in tx.query(&map_select(map, columns), by_run).await? {
            let r = Columns(&columns).read(&r);
            out.insert(
                r.i64(map.key_column)?,
                r.blob_lenient("data", "data_encoding")?,
            );
        }
    }
    let columns = map_columns(TIMER_MAP);
    for r in tx.query(&map_select(TIMER_MAP, columns), by_run).await? {
        let r = Columns(&columns).read(&r);
        state.timer_infos.insert(
            r.string(TIMER_MAP.key_column)?,
            r.blob_lenient("data", "data_encoding")?,
        );
    }
    Ok(())
}

/// An info map's columns: its key column (named per table), then the blob.
fn map_columns(map: MapTable) -> [&'static str; 3] {
    [map.key_column, "data", "data_encoding"]
}

fn map_select(map: MapTable, columns: [&str; 3]) -> String {
    format!(
        "SELECT {} FROM {} WHERE {RUN_WHERE}",
        columns.join(", "),
        map.table
    )
}

/// CHASM nodes (the data blob is absent where its column is NULL).
async fn read_chasm_nodes(
    tx: &mut dyn SqlTx,
    by_run: &[Value],
    state: &mut WorkflowMutableState,
) -> Result<()> {
    let sql = format!(
        "SELECT {} FROM {CHASM_TABLE} WHERE {RUN_WHERE}",
        CHASM_COLUMNS.list()
    );
    for r in tx.query(&sql, by_run).await? {
        let r = CHASM_COLUMNS.read(&r);
        state.chasm_nodes.insert(
            r.string("chasm_path")?,
            ChasmNode {
                metadata: r.blob_lenient("metadata", "metadata_encoding")?,
                data: r.opt_blob_lenient("data", "data_encoding")?,
            },
        );
    }
    Ok(())
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
    const COLUMNS: Columns = Columns(&["namespace_id", "workflow_id", "run_id"]);
    let sql = format!(
        "SELECT {} FROM executions WHERE shard_id = ?{keyset} \
         ORDER BY namespace_id, workflow_id, run_id LIMIT ?",
        COLUMNS.list()
    );
    driver
        .query(&sql, &values)
        .await?
        .iter()
        .map(|r| {
            let r = COLUMNS.read(r);
            Ok(WorkflowKey {
                namespace_id: NamespaceId::from_slice(&r.bytes("namespace_id")?)?,
                workflow_id: WorkflowId::new(r.string("workflow_id")?),
                run_id: RunId::from_slice(&r.bytes("run_id")?)?,
            })
        })
        .collect()
}
