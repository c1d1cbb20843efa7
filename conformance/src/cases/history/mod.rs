//! Conformance cases for the history store: node upserts and shadowing, ordered and paged
//! reads, forks that copy nothing, reference-counted branch deletion, and input limits.

mod append_read;
mod bad_input;
mod concurrency;
mod forks;
mod helpers;

pub use append_read::*;
pub use bad_input::*;
pub use concurrency::*;
pub use forks::*;
pub(crate) use helpers::*;

use crate::Case;

/// The cases of this store, in order.
pub fn cases() -> Vec<Case> {
    crate::cases![history requires(History) =>
        append_and_read,
        read_paging,
        read_range_bounds,
        shadowing_higher_txn,
        upsert_same_key_replaces,
        metadata_only,
        reverse_order,
        fork_copies_nothing,
        fork_of_fork_chain,
        delete_base_then_fork,
        delete_fork_then_base,
        delete_nodes_one_version,
        delete_nodes_in_ancestor_rejected,
        all_tree_branches_paging,
        events_size_limit,
        bad_append,
        append_into_ancestor_rejected,
        bad_fork,
        bad_read,
        concurrent_append_branches + ConcurrentWriters,
    ]
}
