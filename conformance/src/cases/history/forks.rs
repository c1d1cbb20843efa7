//! History cases: forks that copy nothing, and reference-counted branch deletion.

use std::collections::HashSet;

use durastore_api::{BranchId, BranchRange, ErrorKind, HistoryBranch, HistoryTreeBranch};

use super::helpers::{Tree, Written, ascending, base_nodes, expect_empty_tree, ids, tree_info};
use crate::check::{expect_err, ok};
use crate::{CaseError, Ctx, ensure, ensure_eq};

/// A fork writes only a tree row: its ancestors name the base range, no node is copied, and
/// the fork's own nodes start at the fork point.
pub async fn fork_copies_nothing(ctx: &Ctx) -> Result<(), CaseError> {
    let t = Tree::new(ctx)?;
    let base = base_nodes();
    t.create_root(&base).await?;
    let fork = t.fork(&t.root, 4).await?;
    ensure_eq!(
        fork.ancestors,
        vec![BranchRange {
            branch_id: t.root.branch_id,
            begin_node_id: 1,
            end_node_id: 4
        }],
        "ancestors of a fork at node 4"
    );
    ensure_eq!(fork.begin_node_id(), 4);
    ensure!(
        t.read_all(fork.branch_id).await?.is_empty(),
        "the fork's own range is empty: nothing was copied"
    );
    ensure_eq!(
        t.read_all(t.root.branch_id).await?,
        ascending(&base),
        "base intact"
    );
    t.expect_branches(&[&t.root, &fork]).await?;

    let own = vec![Written::new(4, 20), Written::new(5, 21)];
    t.append(&fork, &own).await?;
    ensure_eq!(t.read_all(fork.branch_id).await?, ascending(&own));
    ensure_eq!(
        t.read_all(t.root.branch_id).await?,
        ascending(&base),
        "base intact"
    );
    Ok(())
}

/// A fork of a fork keeps the whole ancestor chain, cut at the fork point.
pub async fn fork_of_fork_chain(ctx: &Ctx) -> Result<(), CaseError> {
    let t = Tree::new(ctx)?;
    let base: Vec<Written> = [1, 3, 5, 7, 9]
        .into_iter()
        .map(|n| Written::new(n, 10 + n))
        .collect();
    t.create_root(&base).await?;
    let a = t.fork(&t.root, 7).await?;
    let range = |b: &HistoryBranch, begin, end| BranchRange {
        branch_id: b.branch_id,
        begin_node_id: begin,
        end_node_id: end,
    };
    ensure_eq!(a.ancestors, vec![range(&t.root, 1, 7)]);
    t.append(
        &a,
        &[
            Written::new(7, 30),
            Written::new(9, 31),
            Written::new(11, 32),
        ],
    )
    .await?;

    let b = t.fork(&a, 9).await?;
    ensure_eq!(
        b.ancestors,
        vec![range(&t.root, 1, 7), range(&a, 7, 9)],
        "fork of a fork inside its own range"
    );
    ensure_eq!(b.begin_node_id(), 9);

    let c = t.fork(&a, 5).await?;
    ensure_eq!(
        c.ancestors,
        vec![range(&t.root, 1, 5)],
        "fork of a fork inside an ancestor range cuts the chain"
    );
    ensure_eq!(c.begin_node_id(), 5);

    let d = t.fork(&b, 13).await?;
    ensure_eq!(
        d.ancestors,
        vec![range(&t.root, 1, 7), range(&a, 7, 9), range(&b, 9, 13)]
    );
    t.expect_branches(&[&t.root, &a, &b, &c, &d]).await
}

/// Deleting the base first keeps the base nodes the fork still references; deleting the fork
/// then removes everything.
pub async fn delete_base_then_fork(ctx: &Ctx) -> Result<(), CaseError> {
    let t = Tree::new(ctx)?;
    let base = base_nodes();
    t.create_root(&base).await?;
    let fork = t.fork(&t.root, 4).await?;
    let own = vec![Written::new(4, 20), Written::new(5, 21)];
    t.append(&fork, &own).await?;

    t.delete(&t.root).await?;
    ensure_eq!(
        t.read_all(t.root.branch_id).await?,
        ascending(&base[..2]),
        "base nodes 1 and 3 (below the fork point) are still referenced by the fork"
    );
    ensure_eq!(
        t.read_all(fork.branch_id).await?,
        ascending(&own),
        "fork intact"
    );
    t.expect_branches(&[&fork]).await?;

    t.delete(&fork).await?;
    ensure!(
        t.read_all(t.root.branch_id).await?.is_empty(),
        "base nodes gone"
    );
    ensure!(
        t.read_all(fork.branch_id).await?.is_empty(),
        "fork nodes gone"
    );
    expect_empty_tree(&t).await
}

/// Deleting the fork first removes only its own nodes; deleting the base then removes the rest.
pub async fn delete_fork_then_base(ctx: &Ctx) -> Result<(), CaseError> {
    let t = Tree::new(ctx)?;
    let base = base_nodes();
    t.create_root(&base).await?;
    let fork = t.fork(&t.root, 4).await?;
    let own = vec![Written::new(4, 20), Written::new(5, 21)];
    t.append(&fork, &own).await?;

    t.delete(&fork).await?;
    ensure!(
        t.read_all(fork.branch_id).await?.is_empty(),
        "fork nodes gone"
    );
    ensure_eq!(
        t.read_all(t.root.branch_id).await?,
        ascending(&base),
        "base intact"
    );
    t.expect_branches(&[&t.root]).await?;

    t.delete(&t.root).await?;
    ensure!(
        t.read_all(t.root.branch_id).await?.is_empty(),
        "base nodes gone"
    );
    expect_empty_tree(&t).await
}

/// `delete_history_nodes` removes exactly one (node id, txn id) version.
pub async fn delete_nodes_one_version(ctx: &Ctx) -> Result<(), CaseError> {
    let t = Tree::new(ctx)?;
    let nodes = vec![
        Written::new(1, 10),
        Written::new(3, 11),
        Written::new(3, 15),
        Written::new(5, 16),
    ];
    t.create_root(&nodes).await?;
    ok(
        "delete_history_nodes (3, 15)",
        t.store
            .delete_history_nodes(t.shard_id, &t.root, 3, 15)
            .await,
    )?;
    ensure_eq!(
        ids(&t.read_all(t.root.branch_id).await?),
        vec![(1, 10), (3, 11), (5, 16)]
    );
    ensure_eq!(
        t.read_all(t.root.branch_id).await?,
        ascending(&[nodes[0].clone(), nodes[1].clone(), nodes[3].clone()])
    );
    t.expect_branches(&[&t.root]).await
}

/// `delete_history_nodes` refuses a node id inside an ancestor range.
pub async fn delete_nodes_in_ancestor_rejected(ctx: &Ctx) -> Result<(), CaseError> {
    let t = Tree::new(ctx)?;
    let base = base_nodes();
    t.create_root(&base).await?;
    let fork = t.fork(&t.root, 4).await?;
    t.append(&fork, &[Written::new(4, 20)]).await?;
    expect_err(
        "delete_history_nodes of node 3 through the fork (ancestor range [1, 4))",
        t.store.delete_history_nodes(t.shard_id, &fork, 3, 11).await,
        ErrorKind::InvalidArgument,
    )?;
    ensure_eq!(
        t.read_all(t.root.branch_id).await?,
        ascending(&base),
        "base intact"
    );
    ok(
        "delete_history_nodes of the fork's own node 4",
        t.store.delete_history_nodes(t.shard_id, &fork, 4, 20).await,
    )?;
    ensure!(
        t.read_all(fork.branch_id).await?.is_empty(),
        "fork node 4 deleted"
    );
    ensure_eq!(
        t.read_all(t.root.branch_id).await?,
        ascending(&base),
        "base intact"
    );
    Ok(())
}

/// Scanning every branch of every tree finds each of this case's branches exactly once, with
/// its shard, ancestors and tree info.
pub async fn all_tree_branches_paging(ctx: &Ctx) -> Result<(), CaseError> {
    let mut mine = Vec::new();
    for _ in 0..3 {
        let t = Tree::new(ctx)?;
        t.create_root(&base_nodes()).await?;
        let fork = t.fork(&t.root, 4).await?;
        for b in [&t.root, &fork] {
            mine.push(HistoryTreeBranch {
                shard_id: t.shard_id,
                branch: b.clone(),
                tree_info: tree_info(b.branch_id),
            });
        }
    }
    let store = ctx.history()?;
    let wanted: HashSet<BranchId> = mine.iter().map(|b| b.branch.branch_id).collect();
    let mut found: Vec<HistoryTreeBranch> = Vec::new();
    let mut token = None;
    let mut seen_tokens = HashSet::new();
    let mut pages = 0usize;
    loop {
        let page = ok(
            "get_all_history_tree_branches",
            store.get_all_history_tree_branches(7, token.clone()).await,
        )?;
        ensure!(
            page.items.len() <= 7,
            "page of {} rows at size 7",
            page.items.len()
        );
        found.extend(
            page.items
                .into_iter()
                .filter(|b| wanted.contains(&b.branch.branch_id)),
        );
        pages += 1;
        match page.next_page_token {
            None => break,
            Some(t) => {
                ensure!(
                    seen_tokens.insert(t.clone()),
                    "page token repeats: paging would loop"
                );
                ensure!(pages < 1_000_000, "more than a million pages");
                token = Some(t);
            }
        }
    }
    found.sort_by_key(|b| b.branch.branch_id);
    mine.sort_by_key(|b| b.branch.branch_id);
    ensure_eq!(found, mine, "each of this case's branches exactly once");
    Ok(())
}
