//! Reads of a run's whole state and of a shard's run keys.

use std::collections::{BTreeMap, BTreeSet};

use durastore_api::{
    ChasmNode, DataBlob, NamespaceId, Result, RunId, ShardId, WorkflowId, WorkflowKey,
    WorkflowMutableState,
};

use super::children::{
    ACTIVITY_MAP, BUFFERED_EVENTS_TABLE, CANCEL_MAP, CHASM_TABLE, CHILD_MAP, SIGNAL_MAP,
    SIGNALS_REQUESTED_TABLE, TIMER_MAP,
};
use super::rows::{RUN_WHERE, run_params};
use crate::driver::{SqlDriver, SqlTx};
use crate::params;
use crate::value::{Row, Value};

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
