//! Task-queue cases: tasks (fencing, paging, ordering, subqueues, completion), classic and fair.

use durastore_api::{
    CompleteTasksLessThanRequest, ErrorKind, GetTasksRequest, TaskQueueFlavor, TaskQueueKey,
    TaskQueueKind, TaskRecord,
};

use crate::check::{expect_bad_request, expect_err, ok};
use crate::util::collect_pages;
use crate::{CaseError, Ctx, ensure, ensure_eq};

use super::helpers::{
    base_pass, create_tasks_req, flatten, new_key, new_queue, order_keys, read_all, read_req,
    read_subqueue, record, sorted, task, tasks, write,
};
use TaskQueueFlavor::{Classic, Fair};

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
            condition_range_id: None,
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
                condition_range_id: None,
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
