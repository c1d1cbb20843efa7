//! The child rows of a run: the five info maps, CHASM nodes, the signal-requested set and
//! buffered events. Everything here runs inside a transaction the caller opened (and fenced).

use std::collections::{BTreeMap, BTreeSet};

use durastore_api::{
    ChasmNode, DataBlob, Result, ShardId, WorkflowKey, WorkflowMutation, WorkflowSnapshot,
};

use super::rows::{RUN_COLUMNS, RUN_WHERE, run_params, run_row};
use crate::dialect::{Dialect, placeholders, row_placeholders};
use crate::driver::SqlTx;
use crate::value::Value;

/// Rows per multi-row statement (and keys per `IN (…)` list): far below every backend's
/// bind-parameter limit.
const CHUNK: usize = 500;

/// One of the five blob maps keyed by an event id or a timer id.
#[derive(Debug, Clone, Copy)]
pub(super) struct MapTable {
    pub(super) table: &'static str,
    pub(super) key_column: &'static str,
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
pub(super) const CHASM_TABLE: &str = "chasm_node_maps";
pub(super) const SIGNALS_REQUESTED_TABLE: &str = "signals_requested_sets";
pub(super) const BUFFERED_EVENTS_TABLE: &str = "buffered_events";

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
    apply_info_maps(tx, dialect, shard_id, m).await?;
    apply_chasm_nodes(tx, dialect, shard_id, m).await?;
    apply_signal_requested_ids(tx, dialect, shard_id, m).await?;
    apply_buffered_events(tx, shard_id, m).await
}

/// The five info maps (activities, timers, children, cancel requests, signals).
async fn apply_info_maps(
    tx: &mut dyn SqlTx,
    dialect: &dyn Dialect,
    shard_id: ShardId,
    m: &WorkflowMutation,
) -> Result<()> {
    let key = &m.key;
    let int_maps = [
        (
            ACTIVITY_MAP,
            &m.upsert_activity_infos,
            &m.delete_activity_infos,
        ),
        (
            CHILD_MAP,
            &m.upsert_child_execution_infos,
            &m.delete_child_execution_infos,
        ),
        (
            CANCEL_MAP,
            &m.upsert_request_cancel_infos,
            &m.delete_request_cancel_infos,
        ),
        (SIGNAL_MAP, &m.upsert_signal_infos, &m.delete_signal_infos),
    ];
    for (map, upserts, deletes) in int_maps {
        apply_blob_map(tx, dialect, shard_id, key, map, upserts, deletes).await?;
    }
    apply_blob_map(
        tx,
        dialect,
        shard_id,
        key,
        TIMER_MAP,
        &m.upsert_timer_infos,
        &m.delete_timer_infos,
    )
    .await
}

/// CHASM node deletes, then upserts.
async fn apply_chasm_nodes(
    tx: &mut dyn SqlTx,
    dialect: &dyn Dialect,
    shard_id: ShardId,
    m: &WorkflowMutation,
) -> Result<()> {
    let key = &m.key;
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
    Ok(())
}

/// Signal-requested id deletes, then inserts (insert-or-ignore: the set has no value column).
async fn apply_signal_requested_ids(
    tx: &mut dyn SqlTx,
    dialect: &dyn Dialect,
    shard_id: ShardId,
    m: &WorkflowMutation,
) -> Result<()> {
    let key = &m.key;
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
    Ok(())
}

/// Buffered events: cleared first, then the new batch (if any) appended.
async fn apply_buffered_events(
    tx: &mut dyn SqlTx,
    shard_id: ShardId,
    m: &WorkflowMutation,
) -> Result<()> {
    let key = &m.key;
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
