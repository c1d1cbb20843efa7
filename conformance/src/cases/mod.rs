//! The cases, one module per store.

use crate::Case;

pub mod cluster;
pub mod durability;
pub mod execution;
pub mod history;
pub mod history_tasks;
pub mod namespace;
pub mod queue;
pub mod shard;
pub mod task_queue;
pub mod visibility;
pub mod visibility_corpus;
pub mod visibility_hostile;

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
    v.extend(durability::cases());
    v.extend(visibility::cases());
    v.extend(visibility_corpus::cases());
    v.extend(visibility_hostile::cases());
    v
}
