//! Conformance cases for history (shard) tasks of the execution store: add, ordered and paged
//! reads, completion, range completion, range-id fencing and input limits.

mod bad_input;
mod fencing;
mod helpers;
mod paging;
mod ranges;
mod round_trips;

pub use bad_input::*;
pub use fencing::*;
pub(crate) use helpers::*;
pub use paging::*;
pub use ranges::*;
pub use round_trips::*;

use crate::Case;

/// The cases of this store, in order.
pub fn cases() -> Vec<Case> {
    crate::cases![history_tasks requires(Shard, Execution) =>
        add_get_transfer,
        add_get_visibility,
        add_get_replication,
        add_get_outbound,
        add_get_timer,
        add_get_archival,
        scheduled_millis_truncation,
        other_categories,
        multi_category_add,
        paging_immediate,
        paging_scheduled,
        paging_exact_multiple,
        range_bounds_immediate,
        range_bounds_scheduled,
        complete_one,
        range_complete_immediate,
        range_complete_scheduled,
        stale_range_lost,
        fenced_after_range_update,
        isolated_by_shard_and_category,
        bad_batch_size,
        bad_page_token,
        bad_task_key,
        bad_task_blob,
        bad_shard_id,
    ]
}
