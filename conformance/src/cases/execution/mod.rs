//! Conformance cases for the execution store: workflow mutable state.
//!
//! Modelled on Temporal's `ExecutionMutableStateSuite`: every create / update / conflict-resolve
//! mode with its conflicts, and the stored state (run rows, map rows, current-run row, tasks)
//! checked after every step, failed steps included. Beyond it: fencing on every write kind and
//! its priority over other conflicts, concurrent single-winner CAS, and malformed input.
//!
//! Every case works on its own shard ([`new_shard`](crate::exec_fixtures::new_shard)) and fresh
//! namespace and workflow ids.

mod bad_input;
mod chasm;
mod concurrency;
mod conflict_resolve;
mod create;
mod fencing;
mod get_delete_list;
mod history_events;
mod modes;
mod set;
mod update;

pub use bad_input::*;
pub use chasm::*;
pub use concurrency::*;
pub use conflict_resolve::*;
pub use create::*;
pub use fencing::*;
pub use get_delete_list::*;
pub use history_events::*;
pub use modes::*;
pub use set::*;
pub use update::*;

use std::collections::BTreeMap;
use std::sync::Arc;

use durastore_api::ExecutionStore;

use crate::{Case, CaseError, Ctx};

/// The cases of this store, in order.
pub fn cases() -> Vec<Case> {
    crate::cases![execution requires(Execution, Shard) =>
        // create
        create_brand_new,
        create_brand_new_current_conflict,
        create_run_exists,
        create_workflow_id_reuse,
        create_reuse_previous_running,
        create_reuse_run_id_mismatch,
        create_reuse_version_mismatch,
        create_reuse_without_current_row,
        create_zombie = create_zombie_run,
        create_zombie_without_current_row,
        create_zombie_current_is_self,
        create_writes_history_tasks_atomically,
        // update
        update_current,
        update_maps_upsert_delete,
        update_buffered_events,
        update_conflict_db_version,
        update_legacy_next_event_id_condition,
        update_missing_run,
        update_current_points_elsewhere,
        update_bypass_current,
        update_bypass_current_conflict,
        update_ignore_current,
        update_continue_as_new,
        update_continue_as_new_run_exists,
        update_continue_as_new_stale_mutation,
        // conflict resolve
        reset_current,
        reset_current_with_new_run,
        reset_with_current_mutation,
        reset_with_current_mutation_and_new_run,
        reset_conflict_db_version,
        reset_current_mutation_conflict,
        reset_current_row_mismatch,
        reset_new_run_exists,
        reset_zombie,
        // set
        set_overwrites_state,
        set_missing_run,
        set_conflict_db_version,
        // get / delete / list
        get_not_found,
        delete_execution,
        delete_current_only_matching_run,
        list_concrete_executions + ListConcreteExecutions,
        list_concrete_executions_bad_input + ListConcreteExecutions,
        // fencing
        fencing_create,
        fencing_update,
        fencing_conflict_resolve,
        fencing_set,
        fencing_missing_shard,
        fencing_wins_over_other_conflicts,
        // history events
        history_events_appended + History,
        // concurrency
        concurrent_update_single_winner + ConcurrentWriters,
        read_sees_one_snapshot + ConcurrentWriters,
        concurrent_brand_new_single_winner + ConcurrentWriters,
        // bad input
        bad_input_ids,
        bad_input_blob_size,
        bad_input_encoding_name,
        bad_input_map_keys,
        bad_input_task_key,
        bad_input_shard_id,
        bad_input_mutation,
        // mode against state
        mode_state_create + History,
        mode_state_update,
        mode_state_conflict_resolve,
        // CHASM archetypes: separate current-run id spaces, the state blob in conflicts
        chasm_separate_id_space,
        chasm_modes_follow_archetype,
        chasm_brand_new_race_single_winner + ConcurrentWriters,
        chasm_conflict_carries_state_blob,
        chasm_bad_archetype,
    ]
}

/// The execution store as an owned handle (for spawned tasks).
fn store(ctx: &Ctx) -> Result<Arc<dyn ExecutionStore>, CaseError> {
    Ok(Arc::clone(ctx.execution()?))
}

/// The first two keys of a map, which [`snapshot`](crate::exec_fixtures::snapshot) always fills
/// with two entries.
fn two_keys<K: Clone, V>(map: &BTreeMap<K, V>) -> Result<(K, K), CaseError> {
    let mut it = map.keys();
    match (it.next(), it.next()) {
        (Some(a), Some(b)) => Ok((a.clone(), b.clone())),
        _ => Err(CaseError::new(
            "fixture snapshot has fewer than two map entries",
        )),
    }
}
