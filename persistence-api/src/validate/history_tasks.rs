//! Checks of history (shard) task keys and categories, shared by every backend.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};

use super::{blob, non_negative};
use crate::error::{Result, StoreError};
use crate::types::{
    HistoryTask, HistoryTaskKey, TaskCategory, TaskCategoryKind, truncate_to_millis,
};

/// Latest fire time the timestamp columns of every backend can hold (end of year 9999).
pub fn max_fire_time() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|d| d.and_hms_milli_opt(23, 59, 59, 999))
        .map_or(DateTime::<Utc>::MAX_UTC, |n| n.and_utc())
}

/// Clamps a fire time used in a read or delete predicate into the storable range, at
/// millisecond precision.
pub fn predicate_time(t: DateTime<Utc>) -> DateTime<Utc> {
    truncate_to_millis(t.clamp(DateTime::<Utc>::UNIX_EPOCH, max_fire_time()))
}

/// A category: the well-known ids (1 transfer, 2 timer, 3 replication, 4 visibility) must have
/// their well-known kind, since each has its own fixed storage.
pub fn category(category: TaskCategory) -> Result<()> {
    let scheduled = match category.id {
        2 => true,
        1 | 3 | 4 => false,
        _ => return Ok(()),
    };
    if scheduled != (category.kind == TaskCategoryKind::Scheduled) {
        return Err(StoreError::invalid_argument(format!(
            "task category {} is {}, not {:?}",
            category.id,
            if scheduled { "scheduled" } else { "immediate" },
            category.kind
        )));
    }
    Ok(())
}

/// A task key: task id >= 0; for scheduled categories a fire time in 1970-01-01..9999-12-31.
pub fn task_key(category: TaskCategory, key: &HistoryTaskKey) -> Result<()> {
    non_negative("task id", key.task_id)?;
    if category.kind == TaskCategoryKind::Scheduled
        && (key.fire_time < DateTime::<Utc>::UNIX_EPOCH || key.fire_time > max_fire_time())
    {
        return Err(StoreError::invalid_argument(format!(
            "task fire time {} is outside 1970-01-01..9999-12-31",
            key.fire_time
        )));
    }
    Ok(())
}

/// The key a task is stored under: immediate keys carry the epoch, scheduled ones milliseconds.
pub fn stored_key(category: TaskCategory, key: &HistoryTaskKey) -> HistoryTaskKey {
    if category.kind == TaskCategoryKind::Scheduled {
        HistoryTaskKey::scheduled(key.fire_time, key.task_id)
    } else {
        HistoryTaskKey::immediate(key.task_id)
    }
}

/// Tasks to be written: categories, keys, blobs, no key twice.
pub fn tasks(tasks: &BTreeMap<TaskCategory, Vec<HistoryTask>>) -> Result<()> {
    for (c, list) in tasks {
        category(*c)?;
        for task in list {
            task_key(*c, &task.key)?;
            blob("history task", &task.blob)?;
        }
    }
    distinct_task_keys(&[tasks])
}

/// Rejects a task key that appears twice among the task maps of one request (after the
/// millisecond truncation of scheduled keys): the second would fail mid-transaction as a
/// unique-key violation on SQL, or silently overwrite the first on Cassandra.
pub fn distinct_task_keys(sets: &[&BTreeMap<TaskCategory, Vec<HistoryTask>>]) -> Result<()> {
    let mut seen = BTreeSet::new();
    for tasks in sets {
        for (category, list) in tasks.iter() {
            for task in list {
                let key = stored_key(*category, &task.key);
                if !seen.insert((*category, key)) {
                    return Err(StoreError::invalid_argument(format!(
                        "history task key {key:?} appears twice in category {}",
                        category.id
                    )));
                }
            }
        }
    }
    Ok(())
}
