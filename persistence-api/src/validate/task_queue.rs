//! Checks of task-queue (matching) requests, shared by every backend.

use super::{blob, id_string, positive};
use crate::error::{Result, StoreError};
use crate::task_queue::{CompleteTasksLessThanRequest, TaskQueueFlavor, TaskQueueKey, TaskRecord};

/// A queue key: namespace id set, name 1..=255 bytes without NUL.
pub fn key(key: &TaskQueueKey) -> Result<()> {
    key.namespace_id.validate()?;
    id_string("task queue name", &key.name)
}

/// A subqueue number: not negative.
pub fn subqueue(subqueue: i32) -> Result<()> {
    if subqueue < 0 {
        return Err(StoreError::invalid_argument(format!(
            "subqueue must not be negative, got {subqueue}"
        )));
    }
    Ok(())
}

/// A completion: key, subqueue, a limit of 1..=[`super::MAX_PAGE_SIZE`], and a range-id
/// condition only on a fair queue (Temporal's `ConditionRangeID` exists for fair queues only).
pub fn complete(req: &CompleteTasksLessThanRequest) -> Result<()> {
    key(&req.key)?;
    subqueue(req.subqueue)?;
    if req.limit <= 0 || req.limit > super::MAX_PAGE_SIZE {
        return Err(StoreError::invalid_argument(format!(
            "limit must be in 1..={}, got {}",
            super::MAX_PAGE_SIZE,
            req.limit
        )));
    }
    if req.key.flavor == TaskQueueFlavor::Classic && req.condition_range_id.is_some() {
        return Err(StoreError::invalid_argument(
            "a range-id condition on task completion is supported for fair queues only",
        ));
    }
    Ok(())
}

/// A task against its queue's flavor: subqueue, task id > 0, pass 0 (classic) or >= 1 (fair),
/// blob size.
pub fn task(flavor: TaskQueueFlavor, t: &TaskRecord) -> Result<()> {
    subqueue(t.subqueue)?;
    positive("task id", t.task_id)?;
    match flavor {
        TaskQueueFlavor::Classic if t.pass != 0 => Err(StoreError::invalid_argument(format!(
            "classic queue tasks must have pass 0, task {} has {}",
            t.task_id, t.pass
        ))),
        TaskQueueFlavor::Fair if t.pass < 1 => Err(StoreError::invalid_argument(format!(
            "fair queue tasks must have pass >= 1, task {} has {}",
            t.task_id, t.pass
        ))),
        _ => blob("task", &t.blob),
    }
}
