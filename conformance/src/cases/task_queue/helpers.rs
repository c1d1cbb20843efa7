//! Builders and helpers of the task-queue cases.

use std::collections::{BTreeMap, BTreeSet};

use durastore_api::{
    CreateTasksRequest, GetTasksRequest, NamespaceId, Page, StoreError, TaskQueueFlavor,
    TaskQueueKey, TaskQueueKind, TaskQueueRecord, TaskQueueStore, TaskQueueWrite, TaskRecord,
    TaskType, UserDataRecord, UserDataUpdate, Utc,
};

use crate::CaseError;
use crate::check::ok;
use crate::fixtures::{blob, namespace_id, unique_name};
use crate::util::collect_pages;

use TaskQueueFlavor::{Classic, Fair};

/// A fresh key (unique name) in `ns`.
pub(super) fn key_in(ns: NamespaceId, flavor: TaskQueueFlavor) -> TaskQueueKey {
    TaskQueueKey {
        namespace_id: ns,
        name: unique_name("tq"),
        task_type: TaskType::Workflow,
        flavor,
    }
}

/// A fresh key in a fresh namespace.
pub(super) fn new_key(flavor: TaskQueueFlavor) -> TaskQueueKey {
    key_in(namespace_id(), flavor)
}

/// A queue write; sticky queues get an expiry an hour ahead so TTL backends keep them.
pub(super) fn write(key: &TaskQueueKey, range_id: i64, kind: TaskQueueKind) -> TaskQueueWrite {
    TaskQueueWrite {
        key: key.clone(),
        range_id,
        info: blob(48),
        kind,
        expiry_time: match kind {
            TaskQueueKind::Sticky => Some(Utc::now() + chrono::Duration::hours(1)),
            TaskQueueKind::Normal => None,
        },
    }
}

/// The row a write should leave behind.
pub(super) fn record(w: &TaskQueueWrite) -> TaskQueueRecord {
    TaskQueueRecord {
        key: w.key.clone(),
        range_id: w.range_id,
        info: w.info.clone(),
    }
}

/// Creates a normal queue with a fresh key at `range_id`.
pub(super) async fn new_queue(
    s: &dyn TaskQueueStore,
    flavor: TaskQueueFlavor,
    range_id: i64,
) -> Result<TaskQueueWrite, CaseError> {
    let w = write(&new_key(flavor), range_id, TaskQueueKind::Normal);
    ok("create_task_queue", s.create_task_queue(w.clone()).await)?;
    Ok(w)
}

/// The lowest legal pass of a flavor (classic tasks have pass 0, fair ones start at 1).
pub(super) fn base_pass(flavor: TaskQueueFlavor) -> i64 {
    match flavor {
        Classic => 0,
        Fair => 1,
    }
}

/// A task with a random payload.
pub(super) fn task(subqueue: i32, pass: i64, task_id: i64) -> TaskRecord {
    TaskRecord {
        subqueue,
        pass,
        task_id,
        expiry_time: None,
        blob: blob(40),
    }
}

/// Tasks in subqueue 0 at the flavor's base pass.
pub(super) fn tasks(flavor: TaskQueueFlavor, ids: &[i64]) -> Vec<TaskRecord> {
    ids.iter()
        .map(|&id| task(0, base_pass(flavor), id))
        .collect()
}

pub(super) fn create_tasks_req(
    key: &TaskQueueKey,
    range_id: i64,
    tasks: Vec<TaskRecord>,
) -> CreateTasksRequest {
    CreateTasksRequest {
        key: key.clone(),
        range_id,
        tasks,
    }
}

/// A read of one subqueue from (`min_pass`, `min_id`) with no upper bound.
pub(super) fn read_req(key: &TaskQueueKey, subqueue: i32, page_size: i32) -> GetTasksRequest {
    GetTasksRequest {
        key: key.clone(),
        subqueue,
        inclusive_min_pass: base_pass(key.flavor),
        inclusive_min_task_id: 1,
        exclusive_max_task_id: i64::MAX,
        page_size,
        next_page_token: None,
    }
}

/// The items of all pages, in order.
pub(super) fn flatten<T>(pages: Vec<Page<T>>) -> Vec<T> {
    pages.into_iter().flat_map(|p| p.items).collect()
}

/// Every task matching `req`'s bounds, following tokens.
pub(super) async fn read_all(
    s: &dyn TaskQueueStore,
    req: GetTasksRequest,
) -> Result<Vec<TaskRecord>, CaseError> {
    let pages = collect_pages("get_tasks", |token| {
        s.get_tasks(GetTasksRequest {
            next_page_token: token,
            ..req.clone()
        })
    })
    .await?;
    Ok(flatten(pages))
}

/// Every task of one subqueue.
pub(super) async fn read_subqueue(
    s: &dyn TaskQueueStore,
    key: &TaskQueueKey,
    subqueue: i32,
) -> Result<Vec<TaskRecord>, CaseError> {
    read_all(s, read_req(key, subqueue, 1000)).await
}

/// (pass, task id) of each task: the order key of both flavors.
pub(super) fn order_keys(tasks: &[TaskRecord]) -> Vec<(i64, i64)> {
    tasks.iter().map(|t| (t.pass, t.task_id)).collect()
}

/// Sorts tasks into the order the store must return them in.
pub(super) fn sorted(mut tasks: Vec<TaskRecord>) -> Vec<TaskRecord> {
    tasks.sort_by_key(|t| (t.pass, t.task_id));
    tasks
}

/// A user-data update of `version` with fresh data and no build-id changes.
pub(super) fn ud(version: i64) -> UserDataUpdate {
    UserDataUpdate {
        version,
        data: blob(32),
        build_ids_added: BTreeSet::new(),
        build_ids_removed: BTreeSet::new(),
    }
}

pub(super) fn ids(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

pub(super) fn one(name: &str, update: UserDataUpdate) -> BTreeMap<String, UserDataUpdate> {
    BTreeMap::from([(name.to_string(), update)])
}

/// The user data a successful update leaves behind.
pub(super) fn ud_record(name: &str, update: &UserDataUpdate) -> UserDataRecord {
    UserDataRecord {
        task_queue: name.to_string(),
        version: update.version + 1,
        data: update.data.clone(),
    }
}

/// Does the error name `what` in its message or context?
pub(super) fn names(e: &StoreError, what: &str) -> bool {
    e.message().contains(what) || e.context().iter().any(|(_, v)| v.contains(what))
}
