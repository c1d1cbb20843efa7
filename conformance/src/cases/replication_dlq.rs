//! Conformance cases for the replication DLQ: tasks per (shard, source cluster) by task id,
//! the read and delete bounds (`[min, max)`), pages, idempotent puts and the emptiness check.
//!
//! Every case uses source cluster names of its own, so cases sharing shards never meet.

use durastore_api::validate::MAX_BLOB_BYTES;
use durastore_api::{
    DataBlob, GetReplicationDlqTasksRequest, ReplicationDlqStore, ReplicationDlqTask, ShardId, Uuid,
};

use crate::check::{expect_bad_request, ok};
use crate::fixtures::{blob, unique_name};
use crate::util::collect_pages;
use crate::{Case, CaseError, Ctx, ensure, ensure_eq};

/// The cases of this module.
pub fn cases() -> Vec<Case> {
    crate::cases![replication_dlq requires(ReplicationDlq) =>
        put_get_ascending_and_bounds,
        put_is_idempotent,
        paging,
        delete_and_range_delete,
        is_empty_from_min,
        bad_input,
    ]
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A random shard number.
fn random_shard() -> ShardId {
    ShardId(1 + (Uuid::new_v4().as_u128() % 16_384) as i32)
}

fn task(task_id: i64) -> ReplicationDlqTask {
    ReplicationDlqTask {
        task_id,
        blob: blob(24),
    }
}

/// Puts tasks with the given ids; returns them sorted by id.
async fn put_all(
    s: &dyn ReplicationDlqStore,
    shard: ShardId,
    cluster: &str,
    task_ids: &[i64],
) -> Result<Vec<ReplicationDlqTask>, CaseError> {
    let mut out = Vec::new();
    for &id in task_ids {
        let t = task(id);
        ok(
            "put_replication_task_to_dlq",
            s.put_replication_task_to_dlq(shard, cluster, t.clone())
                .await,
        )?;
        out.push(t);
    }
    out.sort_by_key(|t| t.task_id);
    Ok(out)
}

fn req(
    shard: ShardId,
    cluster: &str,
    min: i64,
    max: i64,
    page_size: i32,
) -> GetReplicationDlqTasksRequest {
    GetReplicationDlqTasksRequest {
        shard_id: shard,
        source_cluster_name: cluster.to_string(),
        inclusive_min_task_id: min,
        exclusive_max_task_id: max,
        page_size,
        next_page_token: None,
    }
}

/// Tasks in `[min, max)` page by page; returns the page sizes and the tasks.
async fn get_pages(
    s: &dyn ReplicationDlqStore,
    r: GetReplicationDlqTasksRequest,
) -> Result<(Vec<usize>, Vec<ReplicationDlqTask>), CaseError> {
    let pages = collect_pages("get_replication_tasks_from_dlq", |token| {
        s.get_replication_tasks_from_dlq(GetReplicationDlqTasksRequest {
            next_page_token: token,
            ..r.clone()
        })
    })
    .await?;
    let sizes = pages.iter().map(|p| p.items.len()).collect();
    Ok((sizes, pages.into_iter().flat_map(|p| p.items).collect()))
}

/// Every task of (shard, cluster).
async fn all_tasks(
    s: &dyn ReplicationDlqStore,
    shard: ShardId,
    cluster: &str,
) -> Result<Vec<ReplicationDlqTask>, CaseError> {
    Ok(get_pages(s, req(shard, cluster, i64::MIN, i64::MAX, 1000))
        .await?
        .1)
}

fn ids(tasks: &[ReplicationDlqTask]) -> Vec<i64> {
    tasks.iter().map(|t| t.task_id).collect()
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

/// Tasks read back ascending by id within `[min, max)`; other shards and source clusters are
/// separate.
pub async fn put_get_ascending_and_bounds(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.replication_dlq()?;
    let (shard, cluster) = (random_shard(), unique_name("src"));
    let sent = put_all(s.as_ref(), shard, &cluster, &[5, 1, 3, 9, 7]).await?;
    ensure_eq!(
        all_tasks(s.as_ref(), shard, &cluster).await?,
        sent,
        "every task, ascending"
    );
    let (_, got) = get_pages(s.as_ref(), req(shard, &cluster, 3, 9, 100)).await?;
    ensure_eq!(ids(&got), vec![3, 5, 7], "tasks in [3, 9)");
    let (_, got) = get_pages(s.as_ref(), req(shard, &cluster, 4, 5, 100)).await?;
    ensure_eq!(got, Vec::new(), "tasks in [4, 5)");
    let (_, got) = get_pages(s.as_ref(), req(shard, &cluster, 9, 9, 100)).await?;
    ensure_eq!(got, Vec::new(), "an empty range [9, 9)");

    let other_cluster = unique_name("src");
    let other_shard = ShardId(shard.0 + 1);
    ensure_eq!(
        all_tasks(s.as_ref(), shard, &other_cluster).await?,
        Vec::new(),
        "another source cluster"
    );
    ensure_eq!(
        all_tasks(s.as_ref(), other_shard, &cluster).await?,
        Vec::new(),
        "another shard"
    );
    put_all(s.as_ref(), other_shard, &cluster, &[3]).await?;
    put_all(s.as_ref(), shard, &other_cluster, &[4]).await?;
    ensure_eq!(
        all_tasks(s.as_ref(), shard, &cluster).await?,
        sent,
        "the tasks after puts elsewhere"
    );
    Ok(())
}

/// Putting a task id that is already there succeeds and keeps the stored task.
pub async fn put_is_idempotent(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.replication_dlq()?;
    let (shard, cluster) = (random_shard(), unique_name("src"));
    let sent = put_all(s.as_ref(), shard, &cluster, &[10, 11]).await?;
    ok(
        "put of an existing task id",
        s.put_replication_task_to_dlq(shard, &cluster, task(10))
            .await,
    )?;
    ensure_eq!(
        all_tasks(s.as_ref(), shard, &cluster).await?,
        sent,
        "the first copy stands"
    );
    Ok(())
}

/// Pages hold at most the page size and carry a token exactly when more tasks follow.
pub async fn paging(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.replication_dlq()?;
    let (shard, cluster) = (random_shard(), unique_name("src"));
    let sent = put_all(s.as_ref(), shard, &cluster, &[1, 2, 3, 4, 5, 6, 7]).await?;
    let (sizes, got) = get_pages(s.as_ref(), req(shard, &cluster, 0, 100, 3)).await?;
    ensure_eq!(sizes, vec![3, 3, 1], "7 tasks at page size 3");
    ensure_eq!(got, sent, "paged tasks");
    let (sizes, got) = get_pages(s.as_ref(), req(shard, &cluster, 2, 8, 3)).await?;
    ensure_eq!(
        sizes,
        vec![3, 3],
        "6 tasks at page size 3: no empty last page"
    );
    ensure_eq!(got, sent[1..].to_vec(), "tasks in [2, 8)");
    Ok(())
}

/// One delete removes one task (a missing one is no error); a range delete removes
/// `[min, max)`; other source clusters keep theirs.
pub async fn delete_and_range_delete(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.replication_dlq()?;
    let (shard, cluster) = (random_shard(), unique_name("src"));
    let other = unique_name("src");
    let sent = put_all(s.as_ref(), shard, &cluster, &[1, 2, 3, 4, 5, 6]).await?;
    let kept = put_all(s.as_ref(), shard, &other, &[2, 3, 4]).await?;
    ok(
        "delete task 2",
        s.delete_replication_task_from_dlq(shard, &cluster, 2).await,
    )?;
    ok(
        "delete task 2 again",
        s.delete_replication_task_from_dlq(shard, &cluster, 2).await,
    )?;
    ensure_eq!(
        ids(&all_tasks(s.as_ref(), shard, &cluster).await?),
        vec![1, 3, 4, 5, 6],
        "after deleting task 2"
    );
    ok(
        "range delete [3, 5)",
        s.range_delete_replication_tasks_from_dlq(shard, &cluster, 3, 5)
            .await,
    )?;
    ensure_eq!(
        all_tasks(s.as_ref(), shard, &cluster).await?,
        vec![sent[0].clone(), sent[4].clone(), sent[5].clone()],
        "after range delete [3, 5): 5 stays"
    );
    ok(
        "range delete [6, 6)",
        s.range_delete_replication_tasks_from_dlq(shard, &cluster, 6, 6)
            .await,
    )?;
    ensure_eq!(
        ids(&all_tasks(s.as_ref(), shard, &cluster).await?),
        vec![1, 5, 6],
        "an empty range deletes nothing"
    );
    ensure_eq!(
        all_tasks(s.as_ref(), shard, &other).await?,
        kept,
        "another source cluster is untouched"
    );
    Ok(())
}

/// `is_replication_dlq_empty` looks at task ids from the given minimum up.
pub async fn is_empty_from_min(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.replication_dlq()?;
    let (shard, cluster) = (random_shard(), unique_name("src"));
    let empty = |min: i64| {
        let (s, cluster) = (s.clone(), cluster.clone());
        async move {
            ok(
                "is_replication_dlq_empty",
                s.is_replication_dlq_empty(shard, &cluster, min).await,
            )
        }
    };
    ensure!(empty(0).await?, "a DLQ never written is empty");
    put_all(s.as_ref(), shard, &cluster, &[5]).await?;
    ensure!(!empty(0).await?, "a task at 5 is seen from 0");
    ensure!(!empty(5).await?, "a task at 5 is seen from 5");
    ensure!(empty(6).await?, "nothing from 6 up");
    ok(
        "delete task 5",
        s.delete_replication_task_from_dlq(shard, &cluster, 5).await,
    )?;
    ensure!(empty(0).await?, "empty again after the delete");
    Ok(())
}

/// Negative shards, bad source cluster names, bad page sizes, foreign tokens and bad blobs are
/// refused and write nothing.
pub async fn bad_input(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.replication_dlq()?;
    let (shard, cluster) = (random_shard(), unique_name("src"));
    for (what, shard, cluster) in [
        ("shard -1", ShardId(-1), cluster.clone()),
        ("an empty source cluster", shard, String::new()),
        ("a 256-byte source cluster", shard, "c".repeat(256)),
    ] {
        expect_bad_request(
            &format!("put with {what}"),
            s.put_replication_task_to_dlq(shard, &cluster, task(1))
                .await,
        )?;
        expect_bad_request(
            &format!("get with {what}"),
            s.get_replication_tasks_from_dlq(req(shard, &cluster, 0, 10, 10))
                .await,
        )?;
        expect_bad_request(
            &format!("delete with {what}"),
            s.delete_replication_task_from_dlq(shard, &cluster, 1).await,
        )?;
        expect_bad_request(
            &format!("range delete with {what}"),
            s.range_delete_replication_tasks_from_dlq(shard, &cluster, 0, 10)
                .await,
        )?;
        expect_bad_request(
            &format!("is empty with {what}"),
            s.is_replication_dlq_empty(shard, &cluster, 0).await,
        )?;
    }
    for (what, b) in [
        ("a blob over 4 MiB", blob(MAX_BLOB_BYTES + 1)),
        (
            "an encoding over 16 bytes",
            DataBlob::new(vec![1], "e".repeat(17)),
        ),
    ] {
        expect_bad_request(
            &format!("put with {what}"),
            s.put_replication_task_to_dlq(
                shard,
                &cluster,
                ReplicationDlqTask {
                    task_id: 1,
                    blob: b,
                },
            )
            .await,
        )?;
    }
    ensure_eq!(
        all_tasks(s.as_ref(), shard, &cluster).await?,
        Vec::new(),
        "tasks after refused puts"
    );
    for n in [0, -1, 10_001] {
        expect_bad_request(
            &format!("get with page size {n}"),
            s.get_replication_tasks_from_dlq(req(shard, &cluster, 0, 10, n))
                .await,
        )?;
    }
    for (what, token) in [
        ("a garbage token", b"\xffgarbage\x00".to_vec()),
        ("an empty token", Vec::new()),
    ] {
        let mut r = req(shard, &cluster, 0, 10, 10);
        r.next_page_token = Some(token);
        expect_bad_request(
            &format!("get with {what}"),
            s.get_replication_tasks_from_dlq(r).await,
        )?;
    }
    Ok(())
}
