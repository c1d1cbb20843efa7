//! Conformance cases for the task queue store: queue leases (range-id CAS), classic and fair
//! tasks, and versioned user data with its build-id index.
//!
//! Every case works in a fresh random namespace, so cases can share a database and run at the
//! same time; listing cases look only for their own rows.

mod bad_input;
mod concurrency;
mod conditions;
mod helpers;
mod queues;
mod tasks;
mod user_data;

pub use bad_input::*;
pub use concurrency::*;
pub use conditions::*;
pub use queues::*;
pub use tasks::*;
pub use user_data::*;

use crate::Case;

/// The cases of this store, in order.
pub fn cases() -> Vec<Case> {
    crate::cases![task_queue requires(TaskQueue) =>
        create_get_normal,
        create_get_sticky,
        fair_create_get + FairTaskQueue,
        create_existing_already_exists,
        fair_create_existing_already_exists + FairTaskQueue,
        get_missing_not_found,
        update_range_cas,
        fair_update_range_cas + FairTaskQueue,
        update_stale_range_condition_failed,
        fair_update_stale_range_condition_failed + FairTaskQueue,
        delete_fenced_by_range,
        fair_delete_fenced_by_range + FairTaskQueue,
        list_task_queues_paging + ListTaskQueues,
        create_tasks_fenced,
        fair_create_tasks_fenced + FairTaskQueue,
        get_tasks_order_and_bounds,
        get_tasks_paging,
        fair_get_tasks_paging + FairTaskQueue,
        fair_order_by_pass_then_id + FairTaskQueue,
        subqueues_separate,
        fair_subqueues_separate + FairTaskQueue,
        complete_tasks_bound_and_limit,
        fair_complete_tasks_bound_and_limit + FairTaskQueue,
        classic_rejects_nonzero_pass,
        fair_rejects_pass_below_one + FairTaskQueue,
        classic_and_fair_independent + FairTaskQueue,
        fair_complete_range_condition + FairTaskQueue,
        fair_complete_races_lease_change + FairTaskQueue + ConcurrentWriters,
        classic_complete_condition_refused,
        user_data_conflict_names_queues + TaskQueueUserData + ConcurrentWriters,
        user_data_versioning + TaskQueueUserData,
        user_data_multi_update_atomic + TaskQueueUserData,
        user_data_build_id_index + TaskQueueUserData,
        list_user_data_paging + TaskQueueUserData,
        concurrent_range_cas_single_winner + ConcurrentWriters,
        concurrent_user_data_single_winner + TaskQueueUserData + ConcurrentWriters,
        bad_input_names,
        bad_input_paging,
        bad_input_tasks,
        user_data_bad_input + TaskQueueUserData,
    ]
}
