//! Conformance cases for the task queue store: queue leases (range-id CAS), classic and fair
//! tasks, and versioned user data with its build-id index.
//!
//! Every case works in a fresh random namespace, so cases can share a database and run at the
//! same time; listing cases look only for their own rows.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use durastore_api::validate::MAX_BLOB_BYTES;
use durastore_api::{
    CompleteTasksLessThanRequest, CreateTasksRequest, DataBlob, ErrorKind, GetTasksRequest,
    NamespaceId, Page, StoreError, TaskQueueFlavor, TaskQueueKey, TaskQueueKind, TaskQueueRecord,
    TaskQueueStore, TaskQueueWrite, TaskRecord, TaskType, UserDataRecord, UserDataUpdate, Utc,
    Uuid,
};
use futures::future::BoxFuture;

use crate::check::{expect_bad_request, expect_err, ok};
use crate::fixtures::{blob, namespace_id, unique_name};
use crate::util::{collect_pages, race};
use crate::{Case, CaseError, Ctx, case, ensure, ensure_eq};

use TaskQueueFlavor::{Classic, Fair};

/// The cases of this module.
pub fn cases() -> Vec<Case> {
    vec![
        case!(
            "task_queue",
            create_get_normal,
            ["task_queue"],
            create_get_normal
        ),
        case!(
            "task_queue",
            create_get_sticky,
            ["task_queue"],
            create_get_sticky
        ),
        case!(
            "task_queue",
            fair_create_get,
            ["task_queue", "fair_task_queue"],
            fair_create_get
        ),
        case!(
            "task_queue",
            create_existing_already_exists,
            ["task_queue"],
            create_existing_already_exists
        ),
        case!(
            "task_queue",
            fair_create_existing_already_exists,
            ["task_queue", "fair_task_queue"],
            fair_create_existing_already_exists
        ),
        case!(
            "task_queue",
            get_missing_not_found,
            ["task_queue"],
            get_missing_not_found
        ),
        case!(
            "task_queue",
            update_range_cas,
            ["task_queue"],
            update_range_cas
        ),
        case!(
            "task_queue",
            fair_update_range_cas,
            ["task_queue", "fair_task_queue"],
            fair_update_range_cas
        ),
        case!(
            "task_queue",
            update_stale_range_condition_failed,
            ["task_queue"],
            update_stale_range_condition_failed
        ),
        case!(
            "task_queue",
            fair_update_stale_range_condition_failed,
            ["task_queue", "fair_task_queue"],
            fair_update_stale_range_condition_failed
        ),
        case!(
            "task_queue",
            delete_fenced_by_range,
            ["task_queue"],
            delete_fenced_by_range
        ),
        case!(
            "task_queue",
            fair_delete_fenced_by_range,
            ["task_queue", "fair_task_queue"],
            fair_delete_fenced_by_range
        ),
        case!(
            "task_queue",
            list_task_queues_paging,
            ["task_queue", "list_task_queues"],
            list_task_queues_paging
        ),
        case!(
            "task_queue",
            create_tasks_fenced,
            ["task_queue"],
            create_tasks_fenced
        ),
        case!(
            "task_queue",
            fair_create_tasks_fenced,
            ["task_queue", "fair_task_queue"],
            fair_create_tasks_fenced
        ),
        case!(
            "task_queue",
            get_tasks_order_and_bounds,
            ["task_queue"],
            get_tasks_order_and_bounds
        ),
        case!(
            "task_queue",
            get_tasks_paging,
            ["task_queue"],
            get_tasks_paging
        ),
        case!(
            "task_queue",
            fair_get_tasks_paging,
            ["task_queue", "fair_task_queue"],
            fair_get_tasks_paging
        ),
        case!(
            "task_queue",
            fair_order_by_pass_then_id,
            ["task_queue", "fair_task_queue"],
            fair_order_by_pass_then_id
        ),
        case!(
            "task_queue",
            subqueues_separate,
            ["task_queue"],
            subqueues_separate
        ),
        case!(
            "task_queue",
            fair_subqueues_separate,
            ["task_queue", "fair_task_queue"],
            fair_subqueues_separate
        ),
        case!(
            "task_queue",
            complete_tasks_bound_and_limit,
            ["task_queue"],
            complete_tasks_bound_and_limit
        ),
        case!(
            "task_queue",
            fair_complete_tasks_bound_and_limit,
            ["task_queue", "fair_task_queue"],
            fair_complete_tasks_bound_and_limit
        ),
        case!(
            "task_queue",
            classic_rejects_nonzero_pass,
            ["task_queue"],
            classic_rejects_nonzero_pass
        ),
        case!(
            "task_queue",
            fair_rejects_pass_below_one,
            ["task_queue", "fair_task_queue"],
            fair_rejects_pass_below_one
        ),
        case!(
            "task_queue",
            classic_and_fair_independent,
            ["task_queue", "fair_task_queue"],
            classic_and_fair_independent
        ),
        case!(
            "task_queue",
            user_data_versioning,
            ["task_queue", "task_queue_user_data"],
            user_data_versioning
        ),
        case!(
            "task_queue",
            user_data_multi_update_atomic,
            ["task_queue", "task_queue_user_data"],
            user_data_multi_update_atomic
        ),
        case!(
            "task_queue",
            user_data_build_id_index,
            ["task_queue", "task_queue_user_data"],
            user_data_build_id_index
        ),
        case!(
            "task_queue",
            list_user_data_paging,
            ["task_queue", "task_queue_user_data"],
            list_user_data_paging
        ),
        case!(
            "task_queue",
            concurrent_range_cas_single_winner,
            ["task_queue", "concurrent_writers"],
            concurrent_range_cas_single_winner
        ),
        case!(
            "task_queue",
            concurrent_user_data_single_winner,
            ["task_queue", "task_queue_user_data", "concurrent_writers"],
            concurrent_user_data_single_winner
        ),
        case!(
            "task_queue",
            bad_input_names,
            ["task_queue"],
            bad_input_names
        ),
        case!(
            "task_queue",
            bad_input_paging,
            ["task_queue"],
            bad_input_paging
        ),
        case!(
            "task_queue",
            bad_input_tasks,
            ["task_queue"],
            bad_input_tasks
        ),
        case!(
            "task_queue",
            user_data_bad_input,
            ["task_queue", "task_queue_user_data"],
            user_data_bad_input
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Builders and helpers
// ---------------------------------------------------------------------------------------------

/// A fresh key (unique name) in `ns`.
fn key_in(ns: NamespaceId, flavor: TaskQueueFlavor) -> TaskQueueKey {
    TaskQueueKey {
        namespace_id: ns,
        name: unique_name("tq"),
        task_type: TaskType::Workflow,
        flavor,
    }
}

/// A fresh key in a fresh namespace.
fn new_key(flavor: TaskQueueFlavor) -> TaskQueueKey {
    key_in(namespace_id(), flavor)
}

/// A queue write; sticky queues get an expiry an hour ahead so TTL backends keep them.
fn write(key: &TaskQueueKey, range_id: i64, kind: TaskQueueKind) -> TaskQueueWrite {
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
fn record(w: &TaskQueueWrite) -> TaskQueueRecord {
    TaskQueueRecord {
        key: w.key.clone(),
        range_id: w.range_id,
        info: w.info.clone(),
    }
}

/// Creates a normal queue with a fresh key at `range_id`.
async fn new_queue(
    s: &dyn TaskQueueStore,
    flavor: TaskQueueFlavor,
    range_id: i64,
) -> Result<TaskQueueWrite, CaseError> {
    let w = write(&new_key(flavor), range_id, TaskQueueKind::Normal);
    ok("create_task_queue", s.create_task_queue(w.clone()).await)?;
    Ok(w)
}

/// The lowest legal pass of a flavor (classic tasks have pass 0, fair ones start at 1).
fn base_pass(flavor: TaskQueueFlavor) -> i64 {
    match flavor {
        Classic => 0,
        Fair => 1,
    }
}

/// A task with a random payload.
fn task(subqueue: i32, pass: i64, task_id: i64) -> TaskRecord {
    TaskRecord {
        subqueue,
        pass,
        task_id,
        expiry_time: None,
        blob: blob(40),
    }
}

/// Tasks in subqueue 0 at the flavor's base pass.
fn tasks(flavor: TaskQueueFlavor, ids: &[i64]) -> Vec<TaskRecord> {
    ids.iter()
        .map(|&id| task(0, base_pass(flavor), id))
        .collect()
}

fn create_tasks_req(
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
fn read_req(key: &TaskQueueKey, subqueue: i32, page_size: i32) -> GetTasksRequest {
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
fn flatten<T>(pages: Vec<Page<T>>) -> Vec<T> {
    pages.into_iter().flat_map(|p| p.items).collect()
}

/// Every task matching `req`'s bounds, following tokens.
async fn read_all(
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
async fn read_subqueue(
    s: &dyn TaskQueueStore,
    key: &TaskQueueKey,
    subqueue: i32,
) -> Result<Vec<TaskRecord>, CaseError> {
    read_all(s, read_req(key, subqueue, 1000)).await
}

/// (pass, task id) of each task: the order key of both flavors.
fn order_keys(tasks: &[TaskRecord]) -> Vec<(i64, i64)> {
    tasks.iter().map(|t| (t.pass, t.task_id)).collect()
}

/// Sorts tasks into the order the store must return them in.
fn sorted(mut tasks: Vec<TaskRecord>) -> Vec<TaskRecord> {
    tasks.sort_by_key(|t| (t.pass, t.task_id));
    tasks
}

/// A user-data update of `version` with fresh data and no build-id changes.
fn ud(version: i64) -> UserDataUpdate {
    UserDataUpdate {
        version,
        data: blob(32),
        build_ids_added: BTreeSet::new(),
        build_ids_removed: BTreeSet::new(),
    }
}

fn ids(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn one(name: &str, update: UserDataUpdate) -> BTreeMap<String, UserDataUpdate> {
    BTreeMap::from([(name.to_string(), update)])
}

/// The user data a successful update leaves behind.
fn ud_record(name: &str, update: &UserDataUpdate) -> UserDataRecord {
    UserDataRecord {
        task_queue: name.to_string(),
        version: update.version + 1,
        data: update.data.clone(),
    }
}

/// Does the error name `what` in its message or context?
fn names(e: &StoreError, what: &str) -> bool {
    e.message().contains(what) || e.context().iter().any(|(_, v)| v.contains(what))
}

// ---------------------------------------------------------------------------------------------
// Queue rows
// ---------------------------------------------------------------------------------------------

async fn create_get(
    ctx: &Ctx,
    flavor: TaskQueueFlavor,
    kind: TaskQueueKind,
) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let w = write(&new_key(flavor), 3, kind);
    ok("create_task_queue", s.create_task_queue(w.clone()).await)?;
    let got = ok("get_task_queue", s.get_task_queue(&w.key).await)?;
    ensure_eq!(
        got,
        record(&w),
        "the queue read back differs from the one created"
    );
    // Same name, other task type: a different queue.
    let other = TaskQueueKey {
        task_type: TaskType::Activity,
        ..w.key.clone()
    };
    expect_err(
        "get_task_queue of another task type",
        s.get_task_queue(&other).await,
        ErrorKind::NotFound,
    )?;
    Ok(())
}

/// A normal classic queue reads back exactly as created.
pub async fn create_get_normal(ctx: &Ctx) -> Result<(), CaseError> {
    create_get(ctx, Classic, TaskQueueKind::Normal).await
}

/// A sticky classic queue (with an expiry) reads back exactly as created.
pub async fn create_get_sticky(ctx: &Ctx) -> Result<(), CaseError> {
    create_get(ctx, Classic, TaskQueueKind::Sticky).await
}

/// A fair queue reads back exactly as created.
pub async fn fair_create_get(ctx: &Ctx) -> Result<(), CaseError> {
    create_get(ctx, Fair, TaskQueueKind::Normal).await
}

async fn create_existing(ctx: &Ctx, flavor: TaskQueueFlavor) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let w = new_queue(s.as_ref(), flavor, 3).await?;
    let again = write(&w.key, 9, TaskQueueKind::Normal);
    expect_err(
        "create_task_queue of an existing queue",
        s.create_task_queue(again).await,
        ErrorKind::AlreadyExists,
    )?;
    let got = ok("get_task_queue", s.get_task_queue(&w.key).await)?;
    ensure_eq!(got, record(&w), "a rejected create changed the queue");
    Ok(())
}

/// Creating an existing classic queue is `AlreadyExists` and leaves it unchanged.
pub async fn create_existing_already_exists(ctx: &Ctx) -> Result<(), CaseError> {
    create_existing(ctx, Classic).await
}

/// Creating an existing fair queue is `AlreadyExists` and leaves it unchanged.
pub async fn fair_create_existing_already_exists(ctx: &Ctx) -> Result<(), CaseError> {
    create_existing(ctx, Fair).await
}

/// Reading a queue that was never created is `NotFound`.
pub async fn get_missing_not_found(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    expect_err(
        "get_task_queue of a missing queue",
        s.get_task_queue(&new_key(Classic)).await,
        ErrorKind::NotFound,
    )?;
    Ok(())
}

async fn update_cas(ctx: &Ctx, flavor: TaskQueueFlavor) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let w = new_queue(s.as_ref(), flavor, 5).await?;
    let w6 = write(&w.key, 6, TaskQueueKind::Normal);
    ok(
        "update_task_queue 5 -> 6",
        s.update_task_queue(w6.clone(), 5).await,
    )?;
    let got = ok("get_task_queue", s.get_task_queue(&w.key).await)?;
    ensure_eq!(got, record(&w6), "the update was not stored");
    // Range ids need not be consecutive; the lease just has to match.
    let w9 = write(&w.key, 9, TaskQueueKind::Normal);
    ok(
        "update_task_queue 6 -> 9",
        s.update_task_queue(w9.clone(), 6).await,
    )?;
    let got = ok("get_task_queue", s.get_task_queue(&w.key).await)?;
    ensure_eq!(got, record(&w9), "the second update was not stored");
    Ok(())
}

/// `update_task_queue` with the stored range id as the previous one succeeds and is read back.
pub async fn update_range_cas(ctx: &Ctx) -> Result<(), CaseError> {
    update_cas(ctx, Classic).await
}

/// Same as `update_range_cas`, on a fair queue.
pub async fn fair_update_range_cas(ctx: &Ctx) -> Result<(), CaseError> {
    update_cas(ctx, Fair).await
}

async fn update_stale(ctx: &Ctx, flavor: TaskQueueFlavor) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let w = new_queue(s.as_ref(), flavor, 5).await?;
    for prev in [4, 6, 0] {
        expect_err(
            &format!("update_task_queue with previous range id {prev} (stored 5)"),
            s.update_task_queue(write(&w.key, 7, TaskQueueKind::Normal), prev)
                .await,
            ErrorKind::ConditionFailed,
        )?;
    }
    let got = ok("get_task_queue", s.get_task_queue(&w.key).await)?;
    ensure_eq!(got, record(&w), "a failed range CAS changed the queue");
    // A missing row is a failed condition too (ErrorKind::ConditionFailed docs).
    let missing = new_key(flavor);
    expect_err(
        "update_task_queue of a missing queue",
        s.update_task_queue(write(&missing, 2, TaskQueueKind::Normal), 1)
            .await,
        ErrorKind::ConditionFailed,
    )?;
    expect_err(
        "get_task_queue after a failed update of a missing queue",
        s.get_task_queue(&missing).await,
        ErrorKind::NotFound,
    )?;
    Ok(())
}

/// A stale previous range id is `ConditionFailed` and leaves the queue unchanged.
pub async fn update_stale_range_condition_failed(ctx: &Ctx) -> Result<(), CaseError> {
    update_stale(ctx, Classic).await
}

/// Same as `update_stale_range_condition_failed`, on a fair queue.
pub async fn fair_update_stale_range_condition_failed(ctx: &Ctx) -> Result<(), CaseError> {
    update_stale(ctx, Fair).await
}

async fn delete_fenced(ctx: &Ctx, flavor: TaskQueueFlavor) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let w = new_queue(s.as_ref(), flavor, 5).await?;
    expect_err(
        "delete_task_queue with range id 4 (stored 5)",
        s.delete_task_queue(&w.key, 4).await,
        ErrorKind::ConditionFailed,
    )?;
    let got = ok("get_task_queue", s.get_task_queue(&w.key).await)?;
    ensure_eq!(got, record(&w), "a fenced-out delete changed the queue");
    ok("delete_task_queue", s.delete_task_queue(&w.key, 5).await)?;
    expect_err(
        "get_task_queue after delete",
        s.get_task_queue(&w.key).await,
        ErrorKind::NotFound,
    )?;
    // The name is free again.
    ok(
        "create_task_queue after delete",
        s.create_task_queue(w.clone()).await,
    )?;
    Ok(())
}

/// `delete_task_queue` with a wrong range id is `ConditionFailed`; with the right one the queue
/// is gone.
pub async fn delete_fenced_by_range(ctx: &Ctx) -> Result<(), CaseError> {
    delete_fenced(ctx, Classic).await
}

/// Same as `delete_fenced_by_range`, on a fair queue.
pub async fn fair_delete_fenced_by_range(ctx: &Ctx) -> Result<(), CaseError> {
    delete_fenced(ctx, Fair).await
}

/// Lists every classic queue page by page: each of ours appears exactly once with its stored
/// values, a deleted one does not, and no fair queue shows up in the classic listing.
pub async fn list_task_queues_paging(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let ns = namespace_id();
    let mut mine = BTreeMap::new();
    for i in 0..5 {
        let w = write(&key_in(ns, Classic), 10 + i, TaskQueueKind::Normal);
        ok("create_task_queue", s.create_task_queue(w.clone()).await)?;
        mine.insert(w.key.clone(), record(&w));
    }
    let gone = write(&key_in(ns, Classic), 1, TaskQueueKind::Normal);
    ok("create_task_queue", s.create_task_queue(gone.clone()).await)?;
    ok("delete_task_queue", s.delete_task_queue(&gone.key, 1).await)?;
    let fair = if ctx.stores.capability().fair_task_queue {
        let w = write(&key_in(ns, Fair), 1, TaskQueueKind::Normal);
        ok(
            "create_task_queue (fair)",
            s.create_task_queue(w.clone()).await,
        )?;
        Some(w)
    } else {
        None
    };

    let pages = collect_pages("list_task_queues", |token| {
        s.list_task_queues(Classic, 4, token)
    })
    .await?;
    let mut seen: BTreeMap<TaskQueueKey, usize> = BTreeMap::new();
    for p in &pages {
        ensure!(
            p.items.len() <= 4,
            "a page holds {} items, page size 4",
            p.items.len()
        );
        for r in &p.items {
            ensure_eq!(
                r.key.flavor,
                Classic,
                "the classic listing returned a fair queue"
            );
            if let Some(want) = mine.get(&r.key) {
                ensure_eq!(r, want, "a listed queue differs from the stored one");
                *seen.entry(r.key.clone()).or_default() += 1;
            }
            ensure!(r.key != gone.key, "a deleted queue is still listed");
        }
    }
    for k in mine.keys() {
        ensure_eq!(
            seen.get(k).copied().unwrap_or(0),
            1,
            "queue {} listed this many times",
            k.name
        );
    }

    if let Some(f) = fair {
        let pages = collect_pages("list_task_queues (fair)", |token| {
            s.list_task_queues(Fair, 50, token)
        })
        .await?;
        let listed = flatten(pages);
        ensure!(
            listed.iter().all(|r| r.key.flavor == Fair),
            "the fair listing returned a classic queue"
        );
        ensure_eq!(
            listed.iter().filter(|r| r.key == f.key).count(),
            1,
            "our fair queue in the fair listing"
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Tasks
// ---------------------------------------------------------------------------------------------

async fn tasks_fenced(ctx: &Ctx, flavor: TaskQueueFlavor) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let w = new_queue(s.as_ref(), flavor, 5).await?;
    let first = tasks(flavor, &[1, 2]);
    ok(
        "create_tasks with the current range id",
        s.create_tasks(create_tasks_req(&w.key, 5, first.clone()))
            .await,
    )?;
    for (range, id) in [(4, 3), (6, 4)] {
        expect_err(
            &format!("create_tasks with range id {range} (stored 5)"),
            s.create_tasks(create_tasks_req(&w.key, range, tasks(flavor, &[id])))
                .await,
            ErrorKind::ConditionFailed,
        )?;
    }
    // The queue moves on to range 6: the old owner is fenced out.
    ok(
        "update_task_queue 5 -> 6",
        s.update_task_queue(write(&w.key, 6, TaskQueueKind::Normal), 5)
            .await,
    )?;
    expect_err(
        "create_tasks with the previous lease",
        s.create_tasks(create_tasks_req(&w.key, 5, tasks(flavor, &[5])))
            .await,
        ErrorKind::ConditionFailed,
    )?;
    let last = tasks(flavor, &[6]);
    ok(
        "create_tasks with the new range id",
        s.create_tasks(create_tasks_req(&w.key, 6, last.clone()))
            .await,
    )?;
    let got = read_subqueue(s.as_ref(), &w.key, 0).await?;
    let want: Vec<_> = first.into_iter().chain(last).collect();
    ensure_eq!(
        got,
        want,
        "only the tasks written under the current lease may exist"
    );

    // Tasks for a queue that does not exist have no lease to check.
    let missing = new_key(flavor);
    let e = s
        .create_tasks(create_tasks_req(&missing, 1, tasks(flavor, &[1])))
        .await;
    match e {
        Err(e) if matches!(e.kind(), ErrorKind::ConditionFailed | ErrorKind::NotFound) => {}
        other => {
            return Err(CaseError::new(format!(
                "create_tasks on a missing queue: expected ConditionFailed or NotFound, got {other:?}"
            )));
        }
    }
    Ok(())
}

/// `create_tasks` is fenced by the queue's range id: a stale or future lease is
/// `ConditionFailed` and writes no task.
pub async fn create_tasks_fenced(ctx: &Ctx) -> Result<(), CaseError> {
    tasks_fenced(ctx, Classic).await
}

/// Same as `create_tasks_fenced`, on a fair queue.
pub async fn fair_create_tasks_fenced(ctx: &Ctx) -> Result<(), CaseError> {
    tasks_fenced(ctx, Fair).await
}

/// Classic tasks come back ordered by task id, within `[min, max)`.
pub async fn get_tasks_order_and_bounds(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let w = new_queue(s.as_ref(), Classic, 1).await?;
    let written = tasks(Classic, &[50, 10, 90, 30, 70]);
    ok(
        "create_tasks",
        s.create_tasks(create_tasks_req(&w.key, 1, written.clone()))
            .await,
    )?;
    let all = sorted(written);
    let got = read_subqueue(s.as_ref(), &w.key, 0).await?;
    ensure_eq!(got, all, "tasks not returned in task id order");

    let between = |min: i64, max: i64| GetTasksRequest {
        inclusive_min_task_id: min,
        exclusive_max_task_id: max,
        ..read_req(&w.key, 0, 100)
    };
    let ids_of = |v: &[TaskRecord]| v.iter().map(|t| t.task_id).collect::<Vec<_>>();
    for (min, max, want) in [
        (30, 90, vec![30, 50, 70]),
        (31, 70, vec![50]),
        (10, 11, vec![10]),
        (90, 91, vec![90]),
        (91, i64::MAX, vec![]),
        (1, 10, vec![]),
    ] {
        let got = read_all(s.as_ref(), between(min, max)).await?;
        ensure_eq!(ids_of(&got), want, "get_tasks in [{min}, {max})");
    }
    Ok(())
}

async fn tasks_paging(ctx: &Ctx, flavor: TaskQueueFlavor) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let w = new_queue(s.as_ref(), flavor, 1).await?;
    let written = tasks(flavor, &(1..=10).collect::<Vec<_>>());
    ok(
        "create_tasks",
        s.create_tasks(create_tasks_req(&w.key, 1, written.clone()))
            .await,
    )?;
    let pages = collect_pages("get_tasks", |token| {
        s.get_tasks(GetTasksRequest {
            next_page_token: token,
            ..read_req(&w.key, 0, 3)
        })
    })
    .await?;
    let sizes: Vec<_> = pages.iter().map(|p| p.items.len()).collect();
    ensure_eq!(
        sizes,
        vec![3, 3, 3, 1],
        "page sizes for 10 tasks at page size 3"
    );
    ensure_eq!(flatten(pages), written, "paged tasks");
    Ok(())
}

/// Classic tasks page by page: full pages, a short last page without a token, nothing twice.
pub async fn get_tasks_paging(ctx: &Ctx) -> Result<(), CaseError> {
    tasks_paging(ctx, Classic).await
}

/// Same as `get_tasks_paging`, on a fair queue.
pub async fn fair_get_tasks_paging(ctx: &Ctx) -> Result<(), CaseError> {
    tasks_paging(ctx, Fair).await
}

/// Fair tasks come back ordered by (pass, task id), from an inclusive (pass, id) bound.
pub async fn fair_order_by_pass_then_id(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let w = new_queue(s.as_ref(), Fair, 1).await?;
    let written: Vec<_> = [(2, 1), (1, 5), (3, 1), (1, 3), (2, 4)]
        .into_iter()
        .map(|(pass, id)| task(0, pass, id))
        .collect();
    ok(
        "create_tasks",
        s.create_tasks(create_tasks_req(&w.key, 1, written.clone()))
            .await,
    )?;
    let all = sorted(written);
    let got = read_subqueue(s.as_ref(), &w.key, 0).await?;
    ensure_eq!(got, all, "fair tasks not in (pass, task id) order");

    // The bound is a tuple: (3, 1) is after (2, 2) although 1 < 2.
    for ((pass, id), want) in [
        ((2, 2), vec![(2, 4), (3, 1)]),
        ((1, 4), vec![(1, 5), (2, 1), (2, 4), (3, 1)]),
        ((2, 1), vec![(2, 1), (2, 4), (3, 1)]),
        ((3, 2), vec![]),
    ] {
        let got = read_all(
            s.as_ref(),
            GetTasksRequest {
                inclusive_min_pass: pass,
                inclusive_min_task_id: id,
                ..read_req(&w.key, 0, 100)
            },
        )
        .await?;
        ensure_eq!(order_keys(&got), want, "fair tasks from ({pass}, {id})");
    }

    let paged = read_all(s.as_ref(), read_req(&w.key, 0, 2)).await?;
    ensure_eq!(paged, all, "fair tasks paged by 2");
    Ok(())
}

async fn subqueues(ctx: &Ctx, flavor: TaskQueueFlavor) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let w = new_queue(s.as_ref(), flavor, 1).await?;
    let p = base_pass(flavor);
    let sub0: Vec<_> = [1, 2, 3].into_iter().map(|id| task(0, p, id)).collect();
    let sub1: Vec<_> = [2, 3, 4].into_iter().map(|id| task(1, p, id)).collect();
    ok(
        "create_tasks in two subqueues",
        s.create_tasks(create_tasks_req(
            &w.key,
            1,
            sub0.iter().chain(&sub1).cloned().collect(),
        ))
        .await,
    )?;
    ensure_eq!(
        read_subqueue(s.as_ref(), &w.key, 0).await?,
        sub0,
        "subqueue 0"
    );
    ensure_eq!(
        read_subqueue(s.as_ref(), &w.key, 1).await?,
        sub1,
        "subqueue 1"
    );
    ensure_eq!(
        read_subqueue(s.as_ref(), &w.key, 2).await?,
        Vec::<TaskRecord>::new(),
        "subqueue 2 (never written)"
    );
    let n = ok(
        "complete_tasks_less_than in subqueue 1",
        s.complete_tasks_less_than(CompleteTasksLessThanRequest {
            key: w.key.clone(),
            subqueue: 1,
            exclusive_max_pass: p,
            exclusive_max_task_id: 4,
            limit: 100,
        })
        .await,
    )?;
    ensure!(n == 2 || n == -1, "completed {n} tasks, expected 2 (or -1)");
    ensure_eq!(
        read_subqueue(s.as_ref(), &w.key, 1).await?,
        sub1[2..].to_vec(),
        "subqueue 1 after completing below 4"
    );
    ensure_eq!(
        read_subqueue(s.as_ref(), &w.key, 0).await?,
        sub0,
        "completing in subqueue 1 touched subqueue 0"
    );
    Ok(())
}

/// Subqueues of one classic queue hold separate tasks, even with the same task ids.
pub async fn subqueues_separate(ctx: &Ctx) -> Result<(), CaseError> {
    subqueues(ctx, Classic).await
}

/// Same as `subqueues_separate`, on a fair queue.
pub async fn fair_subqueues_separate(ctx: &Ctx) -> Result<(), CaseError> {
    subqueues(ctx, Fair).await
}

/// Checks one `complete_tasks_less_than` call: what is left is a suffix of what was there
/// (deletion goes in order), nothing at or above the bound is gone, and the count is exact
/// unless the backend reported -1 ("unknown"), which also may ignore the limit.
fn check_completed(
    what: &str,
    before: &[(i64, i64)],
    after: &[(i64, i64)],
    bound: (i64, i64),
    limit: usize,
    reported: i64,
) -> Result<(), CaseError> {
    ensure!(after.len() <= before.len(), "{what}: tasks appeared");
    let deleted = before.len() - after.len();
    ensure_eq!(
        after,
        &before[deleted..],
        "{what}: remaining tasks are not the ones above the deleted prefix"
    );
    let below = before.iter().filter(|k| **k < bound).count();
    ensure!(
        deleted <= below,
        "{what}: deleted tasks at or above the bound"
    );
    if reported == -1 {
        ensure!(
            deleted >= limit.min(below),
            "{what}: deleted {deleted}, expected at least {}",
            limit.min(below)
        );
    } else {
        ensure_eq!(reported, limit.min(below) as i64, "{what}: reported count");
        ensure_eq!(deleted as i64, reported, "{what}: tasks actually deleted");
    }
    Ok(())
}

async fn complete_bound_and_limit(ctx: &Ctx, flavor: TaskQueueFlavor) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let w = new_queue(s.as_ref(), flavor, 1).await?;
    let written: Vec<_> = match flavor {
        Classic => tasks(Classic, &(1..=10).collect::<Vec<_>>()),
        // Two passes, so the (pass, id) bound is exercised: (1, 9) sorts before (2, 1).
        Fair => (1..=5)
            .map(|id| task(0, 1, id * 2 - 1))
            .chain((1..=5).map(|id| task(0, 2, id)))
            .collect(),
    };
    ok(
        "create_tasks",
        s.create_tasks(create_tasks_req(&w.key, 1, written.clone()))
            .await,
    )?;
    let mut before = order_keys(&sorted(written));

    // First bound: 5 tasks below it, limit not reached; second: 4 below, limit 2; last: all.
    let steps = match flavor {
        Classic => [
            ((0, 6), 100usize),
            ((0, 10), 2),
            ((i64::MAX, i64::MAX), 1000),
        ],
        Fair => [
            ((2, 1), 100usize),
            ((2, 5), 2),
            ((i64::MAX, i64::MAX), 1000),
        ],
    };
    for (bound, limit) in steps {
        let n = ok(
            "complete_tasks_less_than",
            s.complete_tasks_less_than(CompleteTasksLessThanRequest {
                key: w.key.clone(),
                subqueue: 0,
                exclusive_max_pass: bound.0,
                exclusive_max_task_id: bound.1,
                limit: limit as i32,
            })
            .await,
        )?;
        let after = order_keys(&read_subqueue(s.as_ref(), &w.key, 0).await?);
        check_completed(
            &format!("complete below {bound:?} with limit {limit}"),
            &before,
            &after,
            bound,
            limit,
            n,
        )?;
        before = after;
    }
    ensure!(
        before.is_empty(),
        "tasks left after completing everything: {before:?}"
    );
    Ok(())
}

/// `complete_tasks_less_than` deletes the lowest tasks below the bound, at most `limit`, and
/// reports how many (or -1, checked by reading).
pub async fn complete_tasks_bound_and_limit(ctx: &Ctx) -> Result<(), CaseError> {
    complete_bound_and_limit(ctx, Classic).await
}

/// Same as `complete_tasks_bound_and_limit`, on a fair queue with a (pass, id) bound.
pub async fn fair_complete_tasks_bound_and_limit(ctx: &Ctx) -> Result<(), CaseError> {
    complete_bound_and_limit(ctx, Fair).await
}

async fn rejects_pass(ctx: &Ctx, flavor: TaskQueueFlavor, bad: &[i64]) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let w = new_queue(s.as_ref(), flavor, 1).await?;
    for &pass in bad {
        // A valid task rides along: the whole request must be refused.
        let batch = vec![task(0, base_pass(flavor), 1), task(0, pass, 2)];
        expect_bad_request(
            &format!("create_tasks with pass {pass} on a {flavor:?} queue"),
            s.create_tasks(create_tasks_req(&w.key, 1, batch)).await,
        )?;
    }
    ensure_eq!(
        read_subqueue(s.as_ref(), &w.key, 0).await?,
        Vec::<TaskRecord>::new(),
        "a rejected create_tasks wrote tasks"
    );
    Ok(())
}

/// Classic queues refuse tasks with a pass other than 0, writing nothing.
pub async fn classic_rejects_nonzero_pass(ctx: &Ctx) -> Result<(), CaseError> {
    rejects_pass(ctx, Classic, &[1, -1]).await
}

/// Fair queues refuse tasks with a pass below 1, writing nothing.
pub async fn fair_rejects_pass_below_one(ctx: &Ctx) -> Result<(), CaseError> {
    rejects_pass(ctx, Fair, &[0, -1]).await
}

/// A classic and a fair queue with the same namespace, name and type are separate rows with
/// separate tasks.
pub async fn classic_and_fair_independent(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let classic = write(&new_key(Classic), 3, TaskQueueKind::Normal);
    let fair_key = TaskQueueKey {
        flavor: Fair,
        ..classic.key.clone()
    };
    expect_err(
        "get of the fair twin before it exists",
        s.get_task_queue(&fair_key).await,
        ErrorKind::NotFound,
    )?;
    ok("create classic", s.create_task_queue(classic.clone()).await)?;
    expect_err(
        "get of the fair twin of a classic queue",
        s.get_task_queue(&fair_key).await,
        ErrorKind::NotFound,
    )?;
    let fair = write(&fair_key, 8, TaskQueueKind::Normal);
    ok("create fair", s.create_task_queue(fair.clone()).await)?;

    let classic_tasks = tasks(Classic, &[1, 2]);
    let fair_tasks = tasks(Fair, &[1]);
    ok(
        "create classic tasks",
        s.create_tasks(create_tasks_req(&classic.key, 3, classic_tasks.clone()))
            .await,
    )?;
    // Each queue is fenced by its own lease.
    expect_err(
        "create fair tasks with the classic lease",
        s.create_tasks(create_tasks_req(&fair.key, 3, fair_tasks.clone()))
            .await,
        ErrorKind::ConditionFailed,
    )?;
    ok(
        "create fair tasks",
        s.create_tasks(create_tasks_req(&fair.key, 8, fair_tasks.clone()))
            .await,
    )?;
    ensure_eq!(
        read_subqueue(s.as_ref(), &classic.key, 0).await?,
        classic_tasks,
        "classic tasks"
    );
    ensure_eq!(
        read_subqueue(s.as_ref(), &fair.key, 0).await?,
        fair_tasks,
        "fair tasks"
    );

    let classic4 = write(&classic.key, 4, TaskQueueKind::Normal);
    ok(
        "update classic",
        s.update_task_queue(classic4.clone(), 3).await,
    )?;
    ensure_eq!(
        ok("get fair", s.get_task_queue(&fair.key).await)?,
        record(&fair),
        "updating the classic queue changed the fair one"
    );
    ok("delete classic", s.delete_task_queue(&classic.key, 4).await)?;
    ensure_eq!(
        ok("get fair", s.get_task_queue(&fair.key).await)?,
        record(&fair),
        "deleting the classic queue changed the fair one"
    );
    ensure_eq!(
        read_subqueue(s.as_ref(), &fair.key, 0).await?,
        fair_tasks,
        "fair tasks after the classic queue was deleted"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// User data
// ---------------------------------------------------------------------------------------------

/// User data versions go 0 (absent) -> 1 -> 2; a stale version is `ConditionFailed` and changes
/// nothing.
pub async fn user_data_versioning(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let ns = namespace_id();
    let tq = unique_name("tq");
    expect_err(
        "get_task_queue_user_data before any write",
        s.get_task_queue_user_data(ns, &tq).await,
        ErrorKind::NotFound,
    )?;
    let v0 = ud(0);
    ok(
        "first user data write",
        s.update_task_queue_user_data(ns, one(&tq, v0.clone()))
            .await,
    )?;
    let got = ok("get user data", s.get_task_queue_user_data(ns, &tq).await)?;
    ensure_eq!(got, ud_record(&tq, &v0), "after the first write");

    let v1 = ud(1);
    ok(
        "update from version 1",
        s.update_task_queue_user_data(ns, one(&tq, v1.clone()))
            .await,
    )?;
    let want = ud_record(&tq, &v1);
    ensure_eq!(
        ok("get", s.get_task_queue_user_data(ns, &tq).await)?,
        want,
        "after 1 -> 2"
    );

    for stale in [1, 0, 3] {
        expect_err(
            &format!("user data update from version {stale} (stored 2)"),
            s.update_task_queue_user_data(ns, one(&tq, ud(stale))).await,
            ErrorKind::ConditionFailed,
        )?;
        ensure_eq!(
            ok("get", s.get_task_queue_user_data(ns, &tq).await)?,
            want,
            "a stale update from version {stale} changed the data"
        );
    }
    // Same name in another namespace: separate data.
    expect_err(
        "user data of the same queue name in another namespace",
        s.get_task_queue_user_data(namespace_id(), &tq).await,
        ErrorKind::NotFound,
    )?;
    Ok(())
}

/// A multi-queue update in which one entry conflicts applies none of them (nor their build ids)
/// and names the conflicting queue.
pub async fn user_data_multi_update_atomic(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let ns = namespace_id();
    let (a, b, c) = (
        unique_name("tq-a"),
        unique_name("tq-b"),
        unique_name("tq-c"),
    );
    let (a0, b0) = (ud(0), ud(0));
    ok(
        "create two entries in one call",
        s.update_task_queue_user_data(
            ns,
            BTreeMap::from([(a.clone(), a0.clone()), (b.clone(), b0.clone())]),
        )
        .await,
    )?;
    let mut a1 = ud(1);
    a1.build_ids_added = ids(&["bid-atomic"]);
    let mut c0 = ud(0);
    c0.build_ids_added = ids(&["bid-atomic"]);
    let e = expect_err(
        "multi update with one stale entry",
        s.update_task_queue_user_data(
            ns,
            BTreeMap::from([(a.clone(), a1.clone()), (b.clone(), ud(7)), (c.clone(), c0)]),
        )
        .await,
        ErrorKind::ConditionFailed,
    )?;
    ensure!(
        names(&e, &b),
        "the error does not name the conflicting queue {b}: {e}"
    );
    ensure_eq!(
        ok("get a", s.get_task_queue_user_data(ns, &a).await)?,
        ud_record(&a, &a0),
        "a non-conflicting entry of a failed update was applied"
    );
    ensure_eq!(
        ok("get b", s.get_task_queue_user_data(ns, &b).await)?,
        ud_record(&b, &b0),
        "the conflicting entry changed"
    );
    expect_err(
        "get c (new entry of a failed update)",
        s.get_task_queue_user_data(ns, &c).await,
        ErrorKind::NotFound,
    )?;
    ensure_eq!(
        ok(
            "by build id",
            s.get_task_queues_by_build_id(ns, "bid-atomic").await
        )?,
        Vec::<String>::new(),
        "build ids of a failed update were indexed"
    );

    // Both entries at the right versions: both apply.
    let b1 = ud(1);
    ok(
        "multi update with current versions",
        s.update_task_queue_user_data(
            ns,
            BTreeMap::from([(a.clone(), a1.clone()), (b.clone(), b1.clone())]),
        )
        .await,
    )?;
    ensure_eq!(
        ok("get a", s.get_task_queue_user_data(ns, &a).await)?,
        ud_record(&a, &a1),
        "a"
    );
    ensure_eq!(
        ok("get b", s.get_task_queue_user_data(ns, &b).await)?,
        ud_record(&b, &b1),
        "b"
    );
    ensure_eq!(
        ok(
            "by build id",
            s.get_task_queues_by_build_id(ns, "bid-atomic").await
        )?,
        vec![a.clone()],
        "build id added by the applied update"
    );
    Ok(())
}

/// The build-id index follows the ids added and removed with each user data write, per
/// namespace.
pub async fn user_data_build_id_index(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let ns = namespace_id();
    let (a, b) = (unique_name("tq-a"), unique_name("tq-b"));
    let mut sorted_ab = vec![a.clone(), b.clone()];
    sorted_ab.sort();

    let mut ua = ud(0);
    ua.build_ids_added = ids(&["b1", "b2"]);
    let mut ub = ud(0);
    ub.build_ids_added = ids(&["b1"]);
    ok(
        "write a",
        s.update_task_queue_user_data(ns, one(&a, ua)).await,
    )?;
    ok(
        "write b",
        s.update_task_queue_user_data(ns, one(&b, ub)).await,
    )?;

    let lookup = |build: &'static str| async move {
        let names = ok(
            "get_task_queues_by_build_id",
            s.get_task_queues_by_build_id(ns, build).await,
        )?;
        let count = ok(
            "count_task_queues_by_build_id",
            s.count_task_queues_by_build_id(ns, build).await,
        )?;
        Ok::<_, CaseError>((names, count))
    };
    ensure_eq!(
        lookup("b1").await?,
        (sorted_ab.clone(), 2),
        "b1 after adding"
    );
    ensure_eq!(lookup("b2").await?, (vec![a.clone()], 1), "b2 after adding");
    ensure_eq!(
        lookup("b-none").await?,
        (Vec::new(), 0),
        "an unknown build id"
    );

    // Another namespace with the same queue and build id does not leak in.
    let other_ns = namespace_id();
    let mut other = ud(0);
    other.build_ids_added = ids(&["b1"]);
    ok(
        "write other namespace",
        s.update_task_queue_user_data(other_ns, one(&a, other))
            .await,
    )?;

    let mut ua = ud(1);
    ua.build_ids_removed = ids(&["b1"]);
    ua.build_ids_added = ids(&["b3"]);
    ok(
        "update a",
        s.update_task_queue_user_data(ns, one(&a, ua)).await,
    )?;
    ensure_eq!(
        lookup("b1").await?,
        (vec![b.clone()], 1),
        "b1 after removing it from a"
    );
    ensure_eq!(lookup("b2").await?, (vec![a.clone()], 1), "b2 is untouched");
    ensure_eq!(
        lookup("b3").await?,
        (vec![a.clone()], 1),
        "b3 added by the update"
    );
    Ok(())
}

/// `list_task_queue_user_data` pages through a namespace's entries by queue name.
pub async fn list_user_data_paging(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let ns = namespace_id();
    let mut want = Vec::new();
    for i in 0..5 {
        let name = unique_name(&format!("tq{i}"));
        let first = ud(0);
        ok(
            "write user data",
            s.update_task_queue_user_data(ns, one(&name, first.clone()))
                .await,
        )?;
        let rec = if i % 2 == 0 {
            let second = ud(1);
            ok(
                "update user data",
                s.update_task_queue_user_data(ns, one(&name, second.clone()))
                    .await,
            )?;
            ud_record(&name, &second)
        } else {
            ud_record(&name, &first)
        };
        want.push(rec);
    }
    // Another namespace's entry must not appear.
    ok(
        "write user data in another namespace",
        s.update_task_queue_user_data(namespace_id(), one(&unique_name("tq"), ud(0)))
            .await,
    )?;
    want.sort_by(|x, y| x.task_queue.cmp(&y.task_queue));

    let pages = collect_pages("list_task_queue_user_data", |token| {
        s.list_task_queue_user_data(ns, 2, token)
    })
    .await?;
    let sizes: Vec<_> = pages.iter().map(|p| p.items.len()).collect();
    ensure_eq!(
        sizes,
        vec![2, 2, 1],
        "page sizes for 5 entries at page size 2"
    );
    ensure_eq!(
        flatten(pages),
        want,
        "listed user data (ordered by queue name)"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------------------

/// Eight owners race to move a queue's lease from the same range id: exactly one wins, the rest
/// get `ConditionFailed`, and the stored row is the winner's.
pub async fn concurrent_range_cas_single_winner(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let w = new_queue(s.as_ref(), Classic, 1).await?;
    let writes: Vec<_> = (0..8)
        .map(|i| write(&w.key, 10 + i, TaskQueueKind::Normal))
        .collect();
    let futs = writes
        .iter()
        .map(|req| {
            let s = Arc::clone(s);
            let req = req.clone();
            Box::pin(async move { s.update_task_queue(req, 1).await }) as BoxFuture<'static, _>
        })
        .collect();
    let results = race(futs).await?;
    let mut winners = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(()) => winners.push(i),
            Err(e) if e.kind() == ErrorKind::ConditionFailed => {}
            Err(e) => {
                return Err(CaseError::new(format!(
                    "racing update {i}: expected Ok or ConditionFailed, got {e}"
                )));
            }
        }
    }
    ensure_eq!(winners.len(), 1, "number of winners ({winners:?})");
    let got = ok("get_task_queue", s.get_task_queue(&w.key).await)?;
    ensure_eq!(
        got,
        record(&writes[winners[0]]),
        "stored row is not the winner's"
    );
    Ok(())
}

/// Eight writers race to update one queue's user data from version 1: exactly one applies.
pub async fn concurrent_user_data_single_winner(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let ns = namespace_id();
    let tq = unique_name("tq");
    ok(
        "first write",
        s.update_task_queue_user_data(ns, one(&tq, ud(0))).await,
    )?;
    let updates: Vec<_> = (0..8)
        .map(|i| {
            let mut u = ud(1);
            u.build_ids_added = ids(&[format!("race-{i}").as_str()]);
            u
        })
        .collect();
    let futs = updates
        .iter()
        .map(|u| {
            let s = Arc::clone(s);
            let m = one(&tq, u.clone());
            Box::pin(async move { s.update_task_queue_user_data(ns, m).await })
                as BoxFuture<'static, _>
        })
        .collect();
    let results = race(futs).await?;
    let mut winners = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(()) => winners.push(i),
            Err(e) if e.kind() == ErrorKind::ConditionFailed => {}
            Err(e) => {
                return Err(CaseError::new(format!(
                    "racing user data update {i}: expected Ok or ConditionFailed, got {e}"
                )));
            }
        }
    }
    ensure_eq!(winners.len(), 1, "number of winners ({winners:?})");
    let win = winners[0];
    ensure_eq!(
        ok("get", s.get_task_queue_user_data(ns, &tq).await)?,
        ud_record(&tq, &updates[win]),
        "stored user data is not the winner's"
    );
    // Only the winner's build id made it into the index.
    for i in 0..8 {
        let n = ok(
            "count_task_queues_by_build_id",
            s.count_task_queues_by_build_id(ns, &format!("race-{i}"))
                .await,
        )?;
        ensure_eq!(
            n,
            i64::from(i == win),
            "index count of racer {i}'s build id"
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

/// Empty and 256-byte queue names and the nil namespace id are refused by every call that takes
/// a key; a 255-byte name is fine.
pub async fn bad_input_names(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let good = new_key(Classic);
    let bad = [
        (
            "empty name",
            TaskQueueKey {
                name: String::new(),
                ..good.clone()
            },
        ),
        (
            "256-byte name",
            TaskQueueKey {
                name: "n".repeat(256),
                ..good.clone()
            },
        ),
        (
            "nil namespace id",
            TaskQueueKey {
                namespace_id: NamespaceId(Uuid::nil()),
                ..good.clone()
            },
        ),
    ];
    for (what, key) in &bad {
        expect_bad_request(
            &format!("create_task_queue with {what}"),
            s.create_task_queue(write(key, 1, TaskQueueKind::Normal))
                .await,
        )?;
        expect_bad_request(
            &format!("get_task_queue with {what}"),
            s.get_task_queue(key).await,
        )?;
        expect_bad_request(
            &format!("update_task_queue with {what}"),
            s.update_task_queue(write(key, 2, TaskQueueKind::Normal), 1)
                .await,
        )?;
        expect_bad_request(
            &format!("delete_task_queue with {what}"),
            s.delete_task_queue(key, 1).await,
        )?;
        expect_bad_request(
            &format!("create_tasks with {what}"),
            s.create_tasks(create_tasks_req(key, 1, tasks(Classic, &[1])))
                .await,
        )?;
        expect_bad_request(
            &format!("get_tasks with {what}"),
            s.get_tasks(read_req(key, 0, 10)).await,
        )?;
    }
    // The longest legal name works, and the refused writes above left nothing behind.
    let longest = write(
        &TaskQueueKey {
            name: format!("{}{}", good.name, "x".repeat(255 - good.name.len())),
            ..good.clone()
        },
        1,
        TaskQueueKind::Normal,
    );
    ok(
        "create_task_queue with a 255-byte name",
        s.create_task_queue(longest.clone()).await,
    )?;
    ensure_eq!(
        ok("get", s.get_task_queue(&longest.key).await)?,
        record(&longest),
        "queue with a 255-byte name"
    );
    Ok(())
}

/// Page sizes of 0, negative or above the limit, and garbage page tokens are refused.
pub async fn bad_input_paging(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let caps = ctx.stores.capability();
    let w = new_queue(s.as_ref(), Classic, 1).await?;
    ok(
        "create_tasks",
        s.create_tasks(create_tasks_req(&w.key, 1, tasks(Classic, &[1, 2])))
            .await,
    )?;
    let garbage = Some(b"\xffnot-a-token\x00".to_vec());
    for size in [0, -1, i32::MIN, 10_001] {
        expect_bad_request(
            &format!("get_tasks with page size {size}"),
            s.get_tasks(read_req(&w.key, 0, size)).await,
        )?;
        if caps.list_task_queues {
            expect_bad_request(
                &format!("list_task_queues with page size {size}"),
                s.list_task_queues(Classic, size, None).await,
            )?;
        }
        if caps.task_queue_user_data {
            expect_bad_request(
                &format!("list_task_queue_user_data with page size {size}"),
                s.list_task_queue_user_data(namespace_id(), size, None)
                    .await,
            )?;
        }
    }
    expect_bad_request(
        "get_tasks with a garbage token",
        s.get_tasks(GetTasksRequest {
            next_page_token: garbage.clone(),
            ..read_req(&w.key, 0, 1)
        })
        .await,
    )?;
    expect_bad_request(
        "get_tasks with an empty token",
        s.get_tasks(GetTasksRequest {
            next_page_token: Some(Vec::new()),
            ..read_req(&w.key, 0, 1)
        })
        .await,
    )?;
    if caps.list_task_queues {
        expect_bad_request(
            "list_task_queues with a garbage token",
            s.list_task_queues(Classic, 10, garbage.clone()).await,
        )?;
    }
    if caps.task_queue_user_data {
        expect_bad_request(
            "list_task_queue_user_data with a garbage token",
            s.list_task_queue_user_data(namespace_id(), 10, garbage)
                .await,
        )?;
    }
    Ok(())
}

/// Oversized blobs, task ids of 0 or below, and a zero completion limit are refused, and a
/// refused batch writes none of its tasks.
pub async fn bad_input_tasks(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let w = new_queue(s.as_ref(), Classic, 1).await?;

    let mut big = task(0, 0, 2);
    big.blob = blob(MAX_BLOB_BYTES + 1);
    let batches = [
        ("a task blob over 4 MiB", vec![task(0, 0, 1), big]),
        ("task id 0", vec![task(0, 0, 1), task(0, 0, 0)]),
        ("a negative task id", vec![task(0, 0, 1), task(0, 0, -3)]),
        (
            "an encoding name over 16 bytes",
            vec![TaskRecord {
                blob: DataBlob::new(vec![1, 2, 3], "e".repeat(17)),
                ..task(0, 0, 1)
            }],
        ),
    ];
    for (what, batch) in batches {
        expect_bad_request(
            &format!("create_tasks with {what}"),
            s.create_tasks(create_tasks_req(&w.key, 1, batch)).await,
        )?;
    }
    ensure_eq!(
        read_subqueue(s.as_ref(), &w.key, 0).await?,
        Vec::<TaskRecord>::new(),
        "refused batches wrote tasks"
    );

    for limit in [0, -1] {
        expect_bad_request(
            &format!("complete_tasks_less_than with limit {limit}"),
            s.complete_tasks_less_than(CompleteTasksLessThanRequest {
                key: w.key.clone(),
                subqueue: 0,
                exclusive_max_pass: 0,
                exclusive_max_task_id: 10,
                limit,
            })
            .await,
        )?;
    }

    // Oversized queue info: refused on create and on update, nothing changes.
    let mut huge = write(&new_key(Classic), 1, TaskQueueKind::Normal);
    huge.info = blob(MAX_BLOB_BYTES + 1);
    expect_bad_request(
        "create_task_queue with info over 4 MiB",
        s.create_task_queue(huge.clone()).await,
    )?;
    expect_err(
        "get after a refused create",
        s.get_task_queue(&huge.key).await,
        ErrorKind::NotFound,
    )?;
    let mut huge_update = write(&w.key, 2, TaskQueueKind::Normal);
    huge_update.info = blob(MAX_BLOB_BYTES + 1);
    expect_bad_request(
        "update_task_queue with info over 4 MiB",
        s.update_task_queue(huge_update, 1).await,
    )?;
    ensure_eq!(
        ok("get", s.get_task_queue(&w.key).await)?,
        record(&w),
        "a refused update changed the queue"
    );
    Ok(())
}

/// User data writes with an empty or 256-byte queue name, a nil namespace, a negative version or
/// an oversized blob are refused and write nothing.
pub async fn user_data_bad_input(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let ns = namespace_id();
    let tq = unique_name("tq");
    let mut huge = ud(0);
    huge.data = blob(MAX_BLOB_BYTES + 1);
    let cases: [(&str, NamespaceId, BTreeMap<String, UserDataUpdate>); 4] = [
        (
            "an empty queue name",
            ns,
            BTreeMap::from([(String::new(), ud(0)), (tq.clone(), ud(0))]),
        ),
        (
            "a 256-byte queue name",
            ns,
            BTreeMap::from([("q".repeat(256), ud(0)), (tq.clone(), ud(0))]),
        ),
        (
            "a nil namespace id",
            NamespaceId(Uuid::nil()),
            one(&tq, ud(0)),
        ),
        ("data over 4 MiB", ns, one(&tq, huge)),
    ];
    for (what, n, updates) in cases {
        expect_bad_request(
            &format!("update_task_queue_user_data with {what}"),
            s.update_task_queue_user_data(n, updates).await,
        )?;
    }
    // A negative version can never match: refused as bad input or as a failed condition.
    match s.update_task_queue_user_data(ns, one(&tq, ud(-1))).await {
        Err(e) if e.is_bad_request() || e.kind() == ErrorKind::ConditionFailed => {}
        other => {
            return Err(CaseError::new(format!(
                "user data update from version -1: expected a bad request or ConditionFailed, got {other:?}"
            )));
        }
    }
    expect_err(
        "get user data after refused writes",
        s.get_task_queue_user_data(ns, &tq).await,
        ErrorKind::NotFound,
    )?;
    expect_bad_request(
        "get_task_queue_user_data with an empty name",
        s.get_task_queue_user_data(ns, "").await,
    )?;
    expect_bad_request(
        "get_task_queue_user_data with a nil namespace id",
        s.get_task_queue_user_data(NamespaceId(Uuid::nil()), &tq)
            .await,
    )?;
    Ok(())
}
