//! Task-queue cases: queue rows (create, get, range-id CAS, delete, list), classic and fair.

use std::collections::BTreeMap;

use durastore_api::{ErrorKind, TaskQueueFlavor, TaskQueueKey, TaskQueueKind, TaskType};

use crate::check::{expect_err, ok};
use crate::fixtures::namespace_id;
use crate::util::collect_pages;
use crate::{CaseError, Ctx, ensure, ensure_eq};

use super::helpers::{flatten, key_in, new_key, new_queue, record, write};
use TaskQueueFlavor::{Classic, Fair};

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
