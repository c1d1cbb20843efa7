//! Checks of execution-store requests, made by every backend before its first write (history
//! appends included), so every backend refuses the same requests with the same error.

use std::collections::BTreeMap;

use super::history_tasks::{distinct_task_keys, tasks};
use super::{blob, id_string, non_empty_blob, optional_id_string};
use crate::error::{Result, StoreError};
use crate::execution::ConflictResolveMode;
use crate::execution::{
    ChasmNode, ConflictResolveWorkflowExecutionRequest, CreateMode, CreateWorkflowExecutionRequest,
    SetWorkflowExecutionRequest, UpdateMode, UpdateWorkflowExecutionRequest, WorkflowMutation,
    WorkflowSnapshot,
};
use crate::history::AppendHistoryNodesRequest;
use crate::ids::WorkflowKey;
use crate::types::{DataBlob, WorkflowState};

/// Longest CHASM node path, in bytes (Temporal's `VARBINARY(1536)` column).
pub const MAX_CHASM_PATH_BYTES: usize = 1536;

fn blob_map<K>(what: &str, map: &BTreeMap<K, DataBlob>) -> Result<()> {
    map.values().try_for_each(|b| blob(what, b))
}

fn ids<'a>(what: &str, ids: impl IntoIterator<Item = &'a String>) -> Result<()> {
    ids.into_iter().try_for_each(|id| id_string(what, id))
}

/// A CHASM node path: non-empty, at most [`MAX_CHASM_PATH_BYTES`].
pub fn chasm_path(path: &str) -> Result<()> {
    if path.is_empty() {
        return Err(StoreError::invalid_argument("CHASM node path is empty"));
    }
    if path.len() > MAX_CHASM_PATH_BYTES {
        return Err(StoreError::size_limit(format!(
            "CHASM node path is {} bytes, limit {MAX_CHASM_PATH_BYTES}",
            path.len()
        )));
    }
    Ok(())
}

fn chasm_nodes(nodes: &BTreeMap<String, ChasmNode>) -> Result<()> {
    for (path, node) in nodes {
        chasm_path(path)?;
        blob("CHASM node metadata", &node.metadata)?;
        if let Some(data) = &node.data {
            blob("CHASM node data", data)?;
        }
    }
    Ok(())
}

/// A whole run state: key, blobs, ids, CHASM nodes and history tasks.
pub fn snapshot(s: &WorkflowSnapshot) -> Result<()> {
    s.key.validate()?;
    blob("execution info", &s.execution_info)?;
    blob("execution state", &s.execution_state)?;
    optional_id_string("create request id", &s.state.create_request_id)?;
    if let Some(c) = &s.checksum {
        blob("checksum", c)?;
    }
    blob_map("activity info", &s.activity_infos)?;
    ids("timer id", s.timer_infos.keys())?;
    blob_map("timer info", &s.timer_infos)?;
    blob_map("child execution info", &s.child_execution_infos)?;
    blob_map("request cancel info", &s.request_cancel_infos)?;
    blob_map("signal info", &s.signal_infos)?;
    chasm_nodes(&s.chasm_nodes)?;
    ids("signal requested id", &s.signal_requested_ids)?;
    tasks(&s.tasks)
}

/// A change to one run: key, blobs, ids, CHASM nodes, buffered events and history tasks.
pub fn mutation(m: &WorkflowMutation) -> Result<()> {
    m.key.validate()?;
    blob("execution info", &m.execution_info)?;
    blob("execution state", &m.execution_state)?;
    optional_id_string("create request id", &m.state.create_request_id)?;
    if let Some(c) = &m.checksum {
        blob("checksum", c)?;
    }
    blob_map("activity info", &m.upsert_activity_infos)?;
    ids("timer id", m.upsert_timer_infos.keys())?;
    ids("timer id", &m.delete_timer_infos)?;
    blob_map("timer info", &m.upsert_timer_infos)?;
    blob_map("child execution info", &m.upsert_child_execution_infos)?;
    blob_map("request cancel info", &m.upsert_request_cancel_infos)?;
    blob_map("signal info", &m.upsert_signal_infos)?;
    chasm_nodes(&m.upsert_chasm_nodes)?;
    m.delete_chasm_nodes
        .iter()
        .try_for_each(|p| chasm_path(p))?;
    ids("signal requested id", &m.upsert_signal_requested_ids)?;
    ids("signal requested id", &m.delete_signal_requested_ids)?;
    if let Some(b) = &m.new_buffered_events {
        non_empty_blob("buffered events", b)?;
    }
    tasks(&m.tasks)
}

/// The history appends of a request, checked up front so that a bad node is rejected before
/// any node of the request is written.
fn events(events: &[AppendHistoryNodesRequest]) -> Result<()> {
    events.iter().try_for_each(super::history::append)
}

/// A second run written by the same request must belong to the same workflow.
pub fn same_workflow(what: &str, first: &WorkflowKey, other: &WorkflowKey) -> Result<()> {
    if first.namespace_id != other.namespace_id || first.workflow_id != other.workflow_id {
        return Err(StoreError::invalid_argument(format!(
            "{what} belongs to workflow {}/{}, not {}/{}",
            other.namespace_id, other.workflow_id, first.namespace_id, first.workflow_id
        )));
    }
    if first.run_id == other.run_id {
        return Err(StoreError::invalid_argument(format!(
            "{what} has the same run id {} as the run it accompanies",
            other.run_id
        )));
    }
    Ok(())
}

/// Everything a create is checked for before anything is written.
pub fn create_request(req: &CreateWorkflowExecutionRequest) -> Result<()> {
    req.shard_id.validate()?;
    req.archetype_id.validate()?;
    snapshot(&req.new_snapshot)?;
    if let CreateMode::UpdateCurrent {
        previous_run_id, ..
    } = &req.mode
    {
        previous_run_id.validate()?;
    }
    create_mode_state(req)?;
    events(&req.new_events)
}

/// Everything an update is checked for before anything is written.
pub fn update_request(req: &UpdateWorkflowExecutionRequest) -> Result<()> {
    req.shard_id.validate()?;
    req.archetype_id.validate()?;
    mutation(&req.mutation)?;
    if let Some(n) = &req.new_snapshot {
        snapshot(n)?;
        same_workflow("new run", &req.mutation.key, &n.key)?;
        if req.mode == UpdateMode::IgnoreCurrent {
            return Err(StoreError::invalid_argument(
                "update mode IgnoreCurrent cannot create a new run",
            ));
        }
        distinct_task_keys(&[&req.mutation.tasks, &n.tasks])?;
    }
    update_mode_state(req)?;
    events(&req.mutation_events)?;
    events(&req.new_events)
}

/// Everything a conflict-resolve is checked for before anything is written.
pub fn conflict_resolve_request(req: &ConflictResolveWorkflowExecutionRequest) -> Result<()> {
    req.shard_id.validate()?;
    req.archetype_id.validate()?;
    snapshot(&req.reset_snapshot)?;
    let reset_key = &req.reset_snapshot.key;
    if let Some(n) = &req.new_snapshot {
        snapshot(n)?;
        same_workflow("new run", reset_key, &n.key)?;
    }
    if let Some(m) = &req.current_mutation {
        mutation(m)?;
        same_workflow("current run", reset_key, &m.key)?;
        if let Some(n) = &req.new_snapshot {
            same_workflow("new run", &m.key, &n.key)?;
        }
    }
    let mut task_sets = vec![&req.reset_snapshot.tasks];
    task_sets.extend(req.new_snapshot.as_ref().map(|n| &n.tasks));
    task_sets.extend(req.current_mutation.as_ref().map(|m| &m.tasks));
    distinct_task_keys(&task_sets)?;
    conflict_resolve_mode_state(req)?;
    events(&req.reset_events)?;
    events(&req.new_events)?;
    events(&req.current_events)
}

/// Everything a set is checked for before anything is written.
pub fn set_request(req: &SetWorkflowExecutionRequest) -> Result<()> {
    req.shard_id.validate()?;
    req.archetype_id.validate()?;
    snapshot(&req.snapshot)
}

// ---------------------------------------------------------------------------------------------
// Mode against state (Temporal's `Validate*WorkflowModeState`): the current-run row must only
// ever point at a run that may be current, and a run written past it must not look running.

use WorkflowState::{Completed, Created, Running, Zombie};

/// A state a run may be written in: Created, Running, Zombie, Completed or Corrupted.
fn known_state(what: &str, state: WorkflowState) -> Result<()> {
    match state {
        Created | Running | Zombie | Completed | WorkflowState::Corrupted => Ok(()),
        WorkflowState::Unspecified | WorkflowState::Void => Err(StoreError::invalid_argument(
            format!("{what} has state {state:?}, which no run can be written in"),
        )),
    }
}

/// Refuses `state` for the run named `what` when `forbidden` lists it.
fn forbid(op: &str, what: &str, state: WorkflowState, forbidden: &[WorkflowState]) -> Result<()> {
    if forbidden.contains(&state) {
        return Err(StoreError::invalid_argument(format!(
            "{op}: {what} must not be in state {state:?} (refused here: {forbidden:?})"
        )));
    }
    Ok(())
}

/// A create: a run that becomes current (BrandNew, UpdateCurrent) must not be a zombie; a run
/// created past the current row (BypassCurrent) must not be Created or Running.
pub fn create_mode_state(req: &CreateWorkflowExecutionRequest) -> Result<()> {
    let state = req.new_snapshot.state.state;
    known_state("the new run", state)?;
    match req.mode {
        CreateMode::BrandNew => forbid("create mode BrandNew", "the new run", state, &[Zombie]),
        CreateMode::UpdateCurrent { .. } => {
            forbid("create mode UpdateCurrent", "the new run", state, &[Zombie])
        }
        CreateMode::BypassCurrent => forbid(
            "create mode BypassCurrent",
            "the new run",
            state,
            &[Created, Running],
        ),
    }
}

/// An update: with UpdateCurrent the mutated run must not be a zombie, and when a new run
/// takes over the current row (continue-as-new) the mutated run must be closed and the new run
/// not a zombie; with BypassCurrent neither run may be Created or Running.
pub fn update_mode_state(req: &UpdateWorkflowExecutionRequest) -> Result<()> {
    let state = req.mutation.state.state;
    known_state("the mutated run", state)?;
    let new = req.new_snapshot.as_ref().map(|n| n.state.state);
    if let Some(n) = new {
        known_state("the new run", n)?;
    }
    match (req.mode, new) {
        (UpdateMode::UpdateCurrent, None) => forbid(
            "update mode UpdateCurrent",
            "the mutated run",
            state,
            &[Zombie],
        ),
        (UpdateMode::UpdateCurrent, Some(n)) => {
            let op = "update mode UpdateCurrent with a new run";
            forbid(op, "the mutated run", state, &[Created, Running])?;
            forbid(op, "the new run", n, &[Zombie])
        }
        (UpdateMode::BypassCurrent, new) => {
            let op = "update mode BypassCurrent";
            forbid(op, "the mutated run", state, &[Created, Running])?;
            match new {
                Some(n) => forbid(op, "the new run", n, &[Created, Running]),
                None => Ok(()),
            }
        }
        (UpdateMode::IgnoreCurrent, _) => Ok(()),
    }
}

/// A conflict-resolve: with UpdateCurrent the current run's mutation must be closed, the reset
/// run must not be a zombie (nor Created or Running when a new run becomes current) and the new
/// run must not be a zombie; with BypassCurrent there is no current-run mutation, the reset run
/// is not Created or Running (nor a zombie when a new run comes along) and the new run is a
/// zombie or corrupted.
pub fn conflict_resolve_mode_state(req: &ConflictResolveWorkflowExecutionRequest) -> Result<()> {
    let reset = req.reset_snapshot.state.state;
    known_state("the reset run", reset)?;
    let new = req.new_snapshot.as_ref().map(|n| n.state.state);
    if let Some(n) = new {
        known_state("the new run", n)?;
    }
    let current = req.current_mutation.as_ref().map(|m| m.state.state);
    if let Some(c) = current {
        known_state("the current run", c)?;
    }
    match req.mode {
        ConflictResolveMode::UpdateCurrent => {
            let op = "conflict-resolve mode UpdateCurrent";
            if let Some(c) = current {
                forbid(op, "the current run", c, &[Created, Running])?;
            }
            match new {
                Some(n) => {
                    forbid(op, "the reset run", reset, &[Created, Running, Zombie])?;
                    forbid(op, "the new run", n, &[Zombie])
                }
                None => forbid(op, "the reset run", reset, &[Zombie]),
            }
        }
        ConflictResolveMode::BypassCurrent => {
            let op = "conflict-resolve mode BypassCurrent";
            if current.is_some() {
                return Err(StoreError::invalid_argument(format!(
                    "{op} cannot carry a current-run mutation: it does not touch the current run"
                )));
            }
            match new {
                Some(n) => {
                    forbid(op, "the reset run", reset, &[Created, Running, Zombie])?;
                    forbid(op, "the new run", n, &[Created, Running, Completed])
                }
                None => forbid(op, "the reset run", reset, &[Created, Running]),
            }
        }
    }
}
