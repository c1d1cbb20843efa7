//! History cases: malformed input is `InvalidArgument` and writes nothing.

use durastore_api::validate::MAX_BLOB_BYTES;
use durastore_api::{
    AppendHistoryNodesRequest, BranchId, DataBlob, ForkHistoryBranchRequest, ShardId, TreeId, Uuid,
};

use super::helpers::{
    ReadOpts, Tree, Written, append_req, ascending, base_nodes, expect_empty_tree, ids, read_req,
    tree_info,
};
use crate::check::{expect_bad_request, ok};
use crate::fixtures::blob;
use crate::{CaseError, Ctx, ensure, ensure_eq};

/// Events of exactly `MAX_BLOB_BYTES` are accepted; one byte more is a bad request.
pub async fn events_size_limit(ctx: &Ctx) -> Result<(), CaseError> {
    let t = Tree::new(ctx)?;
    let mut max = Written::new(1, 10);
    max.events = blob(MAX_BLOB_BYTES);
    t.create_root(std::slice::from_ref(&max)).await?;
    let got = t.read_all(t.root.branch_id).await?;
    ensure!(
        got == vec![max.as_node()],
        "a node at the size limit reads back byte for byte"
    );
    let mut over = Written::new(2, 11);
    over.events = blob(MAX_BLOB_BYTES + 1);
    expect_bad_request(
        "append_history_nodes with events over the limit",
        t.store
            .append_history_nodes(append_req(t.shard_id, &t.root, &over, false))
            .await,
    )?;
    let got = t
        .read(
            t.root.branch_id,
            ReadOpts {
                metadata_only: true,
                ..ReadOpts::default()
            },
        )
        .await?;
    ensure_eq!(
        ids(&got),
        vec![(1, 10)],
        "the oversized node was not written"
    );
    Ok(())
}

/// Malformed appends are bad requests and write neither a node nor a tree row.
pub async fn bad_append(ctx: &Ctx) -> Result<(), CaseError> {
    let t = Tree::new(ctx)?;
    let good = Written::new(1, 10);
    let mut cases: Vec<(&str, AppendHistoryNodesRequest)> = Vec::new();
    let base = append_req(t.shard_id, &t.root, &good, true);

    let mut r = base.clone();
    r.events = DataBlob::proto3(Vec::new());
    cases.push(("empty events", r));
    let mut r = base.clone();
    r.node_id = 0;
    cases.push(("node id 0", r));
    let mut r = base.clone();
    r.node_id = -3;
    cases.push(("negative node id", r));
    let mut r = base.clone();
    r.txn_id = -1;
    cases.push(("negative txn id", r));
    let mut r = base.clone();
    r.events = DataBlob::new(vec![1, 2], "x".repeat(DataBlob::MAX_ENCODING_BYTES + 1));
    cases.push(("17-byte events encoding", r));
    let mut r = base.clone();
    r.tree_info = blob(MAX_BLOB_BYTES + 1);
    cases.push(("oversized tree info", r));
    let mut r = base.clone();
    r.branch.tree_id = TreeId::from_uuid(Uuid::nil());
    cases.push(("nil tree id", r));
    let mut r = base.clone();
    r.branch.branch_id = BranchId::from_uuid(Uuid::nil());
    cases.push(("nil branch id", r));
    let mut r = base.clone();
    r.shard_id = ShardId(-1);
    cases.push(("negative shard id", r));

    for (what, req) in cases {
        expect_bad_request(
            &format!("append_history_nodes with {what}"),
            t.store.append_history_nodes(req).await,
        )?;
        ensure!(
            t.read_all(t.root.branch_id).await?.is_empty(),
            "{what}: no node written"
        );
        expect_empty_tree(&t).await?;
    }
    // The same request without the defect works.
    ok(
        "append_history_nodes (valid)",
        t.store.append_history_nodes(base).await,
    )?;
    ensure_eq!(t.read_all(t.root.branch_id).await?, vec![good.as_node()]);
    Ok(())
}

/// Appending a node below a branch's begin node id (into its ancestors) is a bad request.
pub async fn append_into_ancestor_rejected(ctx: &Ctx) -> Result<(), CaseError> {
    let t = Tree::new(ctx)?;
    let base = base_nodes();
    t.create_root(&base).await?;
    let fork = t.fork(&t.root, 4).await?;
    expect_bad_request(
        "append_history_nodes of node 3 to a fork beginning at 4",
        t.store
            .append_history_nodes(append_req(t.shard_id, &fork, &Written::new(3, 50), false))
            .await,
    )?;
    ensure!(
        t.read_all(fork.branch_id).await?.is_empty(),
        "nothing written to the fork"
    );
    ensure_eq!(
        t.read_all(t.root.branch_id).await?,
        ascending(&base),
        "base intact"
    );
    Ok(())
}

/// A fork point of 1 or less is a bad request and creates no branch.
pub async fn bad_fork(ctx: &Ctx) -> Result<(), CaseError> {
    let t = Tree::new(ctx)?;
    t.create_root(&base_nodes()).await?;
    for at in [1, 0, -4] {
        let new_branch_id = BranchId::new_random();
        expect_bad_request(
            &format!("fork_history_branch at {at}"),
            t.store
                .fork_history_branch(ForkHistoryBranchRequest {
                    shard_id: t.shard_id,
                    fork_branch: t.root.clone(),
                    fork_node_id: at,
                    new_branch_id,
                    tree_info: tree_info(new_branch_id),
                })
                .await,
        )?;
    }
    let nil = BranchId::from_uuid(Uuid::nil());
    expect_bad_request(
        "fork_history_branch with a nil new branch id",
        t.store
            .fork_history_branch(ForkHistoryBranchRequest {
                shard_id: t.shard_id,
                fork_branch: t.root.clone(),
                fork_node_id: 4,
                new_branch_id: nil,
                tree_info: tree_info(nil),
            })
            .await,
    )?;
    t.expect_branches(&[&t.root]).await
}

/// Page sizes outside 1..=10000 and foreign page tokens are bad requests on every read.
pub async fn bad_read(ctx: &Ctx) -> Result<(), CaseError> {
    let t = Tree::new(ctx)?;
    t.create_root(&base_nodes()).await?;
    for page_size in [0, -1, 10_001] {
        expect_bad_request(
            &format!("read_history_branch with page size {page_size}"),
            t.store
                .read_history_branch(read_req(
                    t.shard_id,
                    t.root.tree_id,
                    t.root.branch_id,
                    ReadOpts {
                        page_size,
                        ..ReadOpts::default()
                    },
                    None,
                ))
                .await,
        )?;
    }
    for token in [vec![0xff, 1, 2], Vec::new()] {
        for reverse in [false, true] {
            expect_bad_request(
                &format!(
                    "read_history_branch (reverse {reverse}) with a token of {} bytes",
                    token.len()
                ),
                t.store
                    .read_history_branch(read_req(
                        t.shard_id,
                        t.root.tree_id,
                        t.root.branch_id,
                        ReadOpts {
                            reverse,
                            ..ReadOpts::default()
                        },
                        Some(token.clone()),
                    ))
                    .await,
            )?;
        }
    }
    for page_size in [0, -1] {
        expect_bad_request(
            &format!("get_all_history_tree_branches with page size {page_size}"),
            t.store.get_all_history_tree_branches(page_size, None).await,
        )?;
    }
    expect_bad_request(
        "get_all_history_tree_branches with a garbage token",
        t.store
            .get_all_history_tree_branches(10, Some(vec![0xff, 1, 2]))
            .await,
    )?;
    Ok(())
}
