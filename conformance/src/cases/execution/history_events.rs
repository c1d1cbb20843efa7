//! Execution cases: history events appended together with a mutation.

use durastore_api::{
    BranchId, CreateMode, DataBlob, HistoryNode, ReadHistoryBranchRequest, TreeId, UpdateMode,
    WorkflowState as St, WorkflowStatus as Su,
};

use crate::check::ok;
use crate::exec_fixtures::*;
use crate::fixtures::namespace_id;
use crate::{CaseError, Ctx, ensure, ensure_eq};

async fn read_branch(
    ctx: &Ctx,
    shard: &TestShard,
    tree_id: TreeId,
    branch_id: BranchId,
) -> Result<Vec<HistoryNode>, CaseError> {
    let page = ok(
        "read_history_branch",
        ctx.history()?
            .read_history_branch(ReadHistoryBranchRequest {
                shard_id: shard.id,
                tree_id,
                branch_id,
                min_node_id: 1,
                max_node_id: i64::MAX,
                page_size: 100,
                next_page_token: None,
                metadata_only: false,
                reverse: false,
            })
            .await,
    )?;
    ensure!(
        page.next_page_token.is_none(),
        "a short branch came with a next page token"
    );
    Ok(page.items)
}

/// History nodes in `new_events` (create) and `mutation_events` / `new_events` (update with a
/// new run) are appended and read back from the history store.
pub async fn history_events_appended(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let snap = snapshot(new_key(namespace_id()), St::Running, Su::Running);
    let tree = TreeId::from_uuid(*snap.key.run_id.as_uuid());
    let first = first_history_append(&shard, tree);
    let mut req = create_request(&shard, CreateMode::BrandNew, snap.clone());
    req.new_events = vec![first.clone()];
    ok(
        "create with events",
        ctx.execution()?.create_workflow_execution(req).await,
    )?;

    let second = next_history_append(&first, SNAPSHOT_NEXT_EVENT_ID, 2);
    let m = mutation_in(&snap, 2, St::Completed);
    let new_run = snapshot(next_run(&snap.key), St::Running, Su::Running);
    let new_tree = TreeId::from_uuid(*new_run.key.run_id.as_uuid());
    let new_first = first_history_append(&shard, new_tree);
    let mut req = update_request(&shard, UpdateMode::UpdateCurrent, m.clone());
    req.mutation_events = vec![second.clone()];
    req.new_snapshot = Some(new_run.clone());
    req.new_events = vec![new_first.clone()];
    ok(
        "update with events and new run",
        ctx.execution()?.update_workflow_execution(req).await,
    )?;

    let nodes = read_branch(ctx, &shard, tree, first.branch.branch_id).await?;
    let got: Vec<(i64, i64, Option<DataBlob>)> = nodes
        .into_iter()
        .map(|n| (n.node_id, n.txn_id, n.events))
        .collect();
    ensure_eq!(
        got,
        vec![
            (first.node_id, first.txn_id, Some(first.events.clone())),
            (second.node_id, second.txn_id, Some(second.events.clone())),
        ],
        "nodes of the first run's branch"
    );
    let nodes = read_branch(ctx, &shard, new_tree, new_first.branch.branch_id).await?;
    let got: Vec<(i64, Option<DataBlob>)> =
        nodes.into_iter().map(|n| (n.node_id, n.events)).collect();
    ensure_eq!(
        got,
        vec![(new_first.node_id, Some(new_first.events.clone()))],
        "nodes of the new run's branch"
    );
    expect_state(ctx, &shard, "mutated run", &expected_after(&snap, &[&m])).await?;
    expect_snapshot_state(ctx, &shard, "new run", &new_run).await
}
