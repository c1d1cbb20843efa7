//! The cases, one module per store.
//!
//! A store whose cases fit in one file is a file (`shard.rs`); a larger store is a folder
//! (`visibility/`) whose `mod.rs` registers every case of the store in order with
//! [`cases!`](crate::cases!) and whose other files hold one section each (helpers, then groups
//! of cases such as `paging.rs` or `bad_input.rs`). Every case function is re-exported at its
//! store module, so `cases::visibility::page_size_one` names it wherever it lives (the query
//! corpus and the hostile queries, formerly `cases::visibility_corpus` and
//! `cases::visibility_hostile`, are `cases::visibility` too).

use crate::Case;

pub mod cluster;
pub mod durability;
pub mod execution;
pub mod history;
pub mod history_tasks;
pub mod namespace;
pub mod nexus;
pub mod queue;
pub mod queue_v1;
pub mod replication_dlq;
pub mod shard;
pub mod task_queue;
pub mod visibility;

/// Every case, in a stable order.
pub fn all() -> Vec<Case> {
    let mut v = Vec::new();
    v.extend(shard::cases());
    v.extend(execution::cases());
    v.extend(history_tasks::cases());
    v.extend(history::cases());
    v.extend(task_queue::cases());
    v.extend(namespace::cases());
    v.extend(cluster::cases());
    v.extend(queue::cases());
    v.extend(queue_v1::cases());
    v.extend(replication_dlq::cases());
    v.extend(nexus::cases());
    v.extend(durability::cases());
    v.extend(visibility::cases());
    v
}
