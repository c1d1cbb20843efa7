//! Restart durability: what one handle committed, a handle opened after it was closed reads
//! back byte for byte; a closed handle fails with an error instead of panicking or hanging.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use durastore_api::{
    BranchId, ErrorKind, GetHistoryTasksRequest, GetOrCreateShardRequest, HistoryBranch,
    HistoryTaskKey, ShardInfo, Stores, TaskCategory, TreeId, UpdateShardRequest, WorkflowId,
};

use crate::cases::history::{
    ReadOpts, Written, append_all, append_req, ascending, read_nodes, tree_info,
};
use crate::cases::history_tasks::{expected, fire, immediate_task, read_all_tasks, scheduled_task};
use crate::check::ok;
use crate::fixtures::{blob, namespace_id, unique_name};
use crate::{Case, CaseError, Ctx, ensure, ensure_eq};

/// The cases of this module.
pub fn cases() -> Vec<Case> {
    crate::cases![durability requires(Durable, Shard) =>
        reopen_keeps_writes + Execution + History,
        closed_handle_fails_cleanly,
    ]
}

/// Bound on any single call here: a closed handle must fail, not hang until the case timeout.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

async fn within<T>(what: &str, fut: impl Future<Output = T>) -> Result<T, CaseError> {
    tokio::time::timeout(CALL_TIMEOUT, fut)
        .await
        .map_err(|_| CaseError::new(format!("{what}: no answer within {CALL_TIMEOUT:?}")))
}

fn need<T: ?Sized>(what: &str, store: &Option<Arc<T>>) -> Result<Arc<T>, CaseError> {
    store
        .clone()
        .ok_or_else(|| CaseError::new(format!("the reopened handle has no {what} store")))
}

/// Shard, history nodes (with a fork) and history tasks written through one handle survive
/// closing it: a third handle reads them back identical.
pub async fn reopen_keeps_writes(ctx: &Ctx) -> Result<(), CaseError> {
    // Write through a second handle.
    let writer = ctx.open_another().await?;
    let shard_store = need("shard", &writer.shard)?;
    let exec = need("execution", &writer.execution)?;
    let history = need("history", &writer.history)?;

    let shard_id = ctx.new_shard_id();
    ok(
        "get_or_create_shard",
        shard_store
            .get_or_create_shard(GetOrCreateShardRequest {
                shard_id,
                create_if_missing: Some((1, blob(100))),
            })
            .await,
    )?;
    let shard_data = blob(3000);
    ok(
        "update_shard",
        shard_store
            .update_shard(UpdateShardRequest {
                shard_id,
                range_id: 2,
                previous_range_id: 1,
                data: shard_data.clone(),
            })
            .await,
    )?;

    let root = HistoryBranch::new_root(TreeId::new_random(), BranchId::new_random());
    let mut nodes: Vec<Written> = (0..4).map(|i| Written::new(1 + 2 * i, 10 + i)).collect();
    // One large node, so a partially flushed write would show.
    nodes[2].events = blob(256 * 1024);
    append_all(&history, shard_id, &root, &nodes, true).await?;
    let fork_id = BranchId::new_random();
    let fork = ok(
        "fork_history_branch",
        history
            .fork_history_branch(durastore_api::ForkHistoryBranchRequest {
                shard_id,
                fork_branch: root.clone(),
                fork_node_id: 5,
                new_branch_id: fork_id,
                tree_info: tree_info(fork_id),
            })
            .await,
    )?;
    let fork_node = Written::new(5, 40);
    ok(
        "append to the fork",
        history
            .append_history_nodes(append_req(shard_id, &fork, &fork_node, false))
            .await,
    )?;

    let transfer: Vec<_> = [3, 1, 2].into_iter().map(immediate_task).collect();
    let timer = vec![
        scheduled_task(fire(5, 123_456), 7),
        scheduled_task(fire(1, 0), 8),
    ];
    let ns = namespace_id();
    let wf = WorkflowId::new(unique_name("durable"));
    ok(
        "add_history_tasks",
        exec.add_history_tasks(
            shard_id,
            2,
            ns,
            &wf,
            [
                (TaskCategory::TRANSFER, transfer.clone()),
                (TaskCategory::TIMER, timer.clone()),
            ]
            .into_iter()
            .collect(),
        )
        .await,
    )?;
    drop((shard_store, exec, history));
    ok(
        "close the writing handle",
        within("close", writer.backend.close()).await?,
    )?;
    drop(writer);

    // Read through a third handle.
    let reader = ctx.open_another().await?;
    let result = check_reopened(
        &reader,
        shard_id,
        &shard_data,
        &root,
        &nodes,
        &fork,
        &fork_node,
    )
    .await
    .and(check_tasks(&reader, shard_id, &transfer, &timer).await);
    let closed = within("close", reader.backend.close()).await;
    result?;
    ok("close the reading handle", closed?)?;
    Ok(())
}

async fn check_reopened(
    reader: &Stores,
    shard_id: durastore_api::ShardId,
    shard_data: &durastore_api::DataBlob,
    root: &HistoryBranch,
    nodes: &[Written],
    fork: &HistoryBranch,
    fork_node: &Written,
) -> Result<(), CaseError> {
    let shard_store = need("shard", &reader.shard)?;
    let history = need("history", &reader.history)?;
    let shard = ok(
        "get_or_create_shard after reopen",
        shard_store
            .get_or_create_shard(GetOrCreateShardRequest {
                shard_id,
                create_if_missing: None,
            })
            .await,
    )?;
    ensure!(
        shard
            == ShardInfo {
                shard_id,
                range_id: 2,
                data: shard_data.clone()
            },
        "shard after reopen: {shard:?}"
    );
    ok(
        "assert_shard_ownership after reopen",
        shard_store.assert_shard_ownership(shard_id, 2).await,
    )?;

    let got = read_nodes(
        &history,
        shard_id,
        root.tree_id,
        root.branch_id,
        ReadOpts::default(),
    )
    .await?;
    ensure!(got == ascending(nodes), "root nodes after reopen differ");
    let got = read_nodes(
        &history,
        shard_id,
        root.tree_id,
        fork.branch_id,
        ReadOpts::default(),
    )
    .await?;
    ensure_eq!(
        got,
        ascending(std::slice::from_ref(fork_node)),
        "fork nodes"
    );
    let mut tree = ok(
        "get_history_tree after reopen",
        history.get_history_tree(shard_id, root.tree_id).await,
    )?;
    tree.sort_by_key(|b| b.branch.branch_id);
    let mut want = vec![root.clone(), fork.clone()];
    want.sort_by_key(|b| b.branch_id);
    ensure_eq!(
        tree.iter().map(|b| b.branch.clone()).collect::<Vec<_>>(),
        want,
        "branches after reopen"
    );
    for b in &tree {
        ensure_eq!(b.tree_info, tree_info(b.branch.branch_id), "tree info");
        ensure_eq!(b.shard_id, shard_id);
    }
    Ok(())
}

async fn check_tasks(
    reader: &Stores,
    shard_id: durastore_api::ShardId,
    transfer: &[durastore_api::HistoryTask],
    timer: &[durastore_api::HistoryTask],
) -> Result<(), CaseError> {
    let exec = need("execution", &reader.execution)?;
    ensure_eq!(
        read_all_tasks(&exec, shard_id, TaskCategory::TRANSFER, 100).await?,
        expected(TaskCategory::TRANSFER, transfer),
        "transfer tasks after reopen"
    );
    ensure_eq!(
        read_all_tasks(&exec, shard_id, TaskCategory::TIMER, 100).await?,
        expected(TaskCategory::TIMER, timer),
        "timer tasks after reopen"
    );
    // The fence survived too: the old range id is still refused.
    let stale = exec
        .add_history_tasks(
            shard_id,
            1,
            namespace_id(),
            &WorkflowId::new("w"),
            [(TaskCategory::TRANSFER, vec![immediate_task(99)])]
                .into_iter()
                .collect(),
        )
        .await;
    crate::check::expect_err(
        "add_history_tasks with the pre-restart range id",
        stale,
        ErrorKind::ShardOwnershipLost,
    )?;
    Ok(())
}

/// After `close`, calls fail with `Unavailable` (or `Internal`) instead of panicking or hanging.
pub async fn closed_handle_fails_cleanly(ctx: &Ctx) -> Result<(), CaseError> {
    let stores = ctx.open_another().await?;
    let shard_store = need("shard", &stores.shard)?;
    let shard_id = ctx.new_shard_id();
    // Use the handle once so lazily opened connections exist before closing.
    ok(
        "get_or_create_shard before close",
        shard_store
            .get_or_create_shard(GetOrCreateShardRequest {
                shard_id,
                create_if_missing: Some((1, blob(8))),
            })
            .await,
    )?;
    ok("close", within("close", stores.backend.close()).await?)?;

    let check = |what: &str, r: durastore_api::Result<()>| -> Result<(), CaseError> {
        match r {
            Ok(()) => Err(CaseError::new(format!("{what} after close succeeded"))),
            Err(e) if matches!(e.kind(), ErrorKind::Unavailable | ErrorKind::Internal) => Ok(()),
            Err(e) => Err(CaseError::new(format!(
                "{what} after close: expected Unavailable or Internal, got {e}"
            ))),
        }
    };
    let r = within(
        "get_or_create_shard after close",
        shard_store.get_or_create_shard(GetOrCreateShardRequest {
            shard_id,
            create_if_missing: None,
        }),
    )
    .await?;
    check("get_or_create_shard", r.map(|_| ()))?;
    let r = within(
        "update_shard after close",
        shard_store.update_shard(UpdateShardRequest {
            shard_id,
            range_id: 2,
            previous_range_id: 1,
            data: blob(8),
        }),
    )
    .await?;
    check("update_shard", r)?;

    if let Some(exec) = &stores.execution {
        let r = within(
            "get_history_tasks after close",
            exec.get_history_tasks(GetHistoryTasksRequest {
                shard_id,
                category: TaskCategory::TRANSFER,
                inclusive_min_key: HistoryTaskKey::immediate(0),
                exclusive_max_key: HistoryTaskKey::immediate(100),
                batch_size: 10,
                next_page_token: None,
            }),
        )
        .await?;
        check("get_history_tasks", r.map(|_| ()))?;
        let r = within(
            "add_history_tasks after close",
            exec.add_history_tasks(
                shard_id,
                1,
                namespace_id(),
                &WorkflowId::new("w"),
                [(TaskCategory::TRANSFER, vec![immediate_task(1)])]
                    .into_iter()
                    .collect(),
            ),
        )
        .await?;
        check("add_history_tasks", r)?;
    }
    if let Some(history) = &stores.history {
        let branch = HistoryBranch::new_root(TreeId::new_random(), BranchId::new_random());
        let r = within(
            "append_history_nodes after close",
            history.append_history_nodes(append_req(shard_id, &branch, &Written::new(1, 1), true)),
        )
        .await?;
        check("append_history_nodes", r)?;
    }
    // Closing twice must not panic; either answer is acceptable.
    let _ = within("second close", stores.backend.close()).await?;

    // The main handle is unaffected.
    let main = ctx.shard()?;
    let still = ok(
        "get_or_create_shard through the main handle",
        main.get_or_create_shard(GetOrCreateShardRequest {
            shard_id,
            create_if_missing: None,
        })
        .await,
    )?;
    ensure_eq!(still.range_id, 1);
    Ok(())
}
