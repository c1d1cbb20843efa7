//! Helpers of the history cases (also used by the durability cases).

use std::collections::HashSet;
use std::sync::Arc;

use durastore_api::{
    AppendHistoryNodesRequest, BranchId, DataBlob, ErrorKind, ForkHistoryBranchRequest,
    HistoryBranch, HistoryNode, HistoryStore, HistoryTreeBranch, ReadHistoryBranchRequest, ShardId,
    TreeId,
};

use crate::check::ok;
use crate::fixtures::blob;
use crate::{CaseError, Ctx, ensure, ensure_eq};

/// One node as the cases write it; compared against what reads return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Written {
    pub node_id: i64,
    pub txn_id: i64,
    pub prev_txn_id: i64,
    pub events: DataBlob,
}

impl Written {
    pub(crate) fn new(node_id: i64, txn_id: i64) -> Self {
        Written {
            node_id,
            txn_id,
            prev_txn_id: txn_id - 1,
            events: blob(40 + node_id as usize % 17),
        }
    }
    pub(crate) fn as_node(&self) -> HistoryNode {
        HistoryNode {
            node_id: self.node_id,
            txn_id: self.txn_id,
            prev_txn_id: self.prev_txn_id,
            events: Some(self.events.clone()),
        }
    }
}

/// A tree-info blob that names the branch, so mixed-up rows are caught.
pub(crate) fn tree_info(branch: BranchId) -> DataBlob {
    DataBlob::proto3(format!("info:{branch}").into_bytes())
}

/// Builds the append request; the first node of a branch writes its tree row.
pub(crate) fn append_req(
    shard_id: ShardId,
    branch: &HistoryBranch,
    node: &Written,
    is_new_branch: bool,
) -> AppendHistoryNodesRequest {
    AppendHistoryNodesRequest {
        shard_id,
        branch: branch.clone(),
        is_new_branch,
        tree_info: tree_info(branch.branch_id),
        node_id: node.node_id,
        txn_id: node.txn_id,
        prev_txn_id: node.prev_txn_id,
        events: node.events.clone(),
    }
}

/// Appends nodes in order; the first one creates the branch when `new_branch`.
pub(crate) async fn append_all(
    store: &Arc<dyn HistoryStore>,
    shard_id: ShardId,
    branch: &HistoryBranch,
    nodes: &[Written],
    new_branch: bool,
) -> Result<(), CaseError> {
    for (i, n) in nodes.iter().enumerate() {
        ok(
            &format!("append_history_nodes node {} txn {}", n.node_id, n.txn_id),
            store
                .append_history_nodes(append_req(shard_id, branch, n, new_branch && i == 0))
                .await,
        )?;
    }
    Ok(())
}

/// Read options.
#[derive(Clone, Copy)]
pub(crate) struct ReadOpts {
    pub min: i64,
    pub max: i64,
    pub page_size: i32,
    pub metadata_only: bool,
    pub reverse: bool,
}

impl Default for ReadOpts {
    fn default() -> Self {
        ReadOpts {
            min: 1,
            max: i64::MAX,
            page_size: 1000,
            metadata_only: false,
            reverse: false,
        }
    }
}

pub(super) fn read_req(
    shard_id: ShardId,
    tree_id: TreeId,
    branch_id: BranchId,
    o: ReadOpts,
    next_page_token: Option<Vec<u8>>,
) -> ReadHistoryBranchRequest {
    ReadHistoryBranchRequest {
        shard_id,
        tree_id,
        branch_id,
        min_node_id: o.min,
        max_node_id: o.max,
        page_size: o.page_size,
        next_page_token,
        metadata_only: o.metadata_only,
        reverse: o.reverse,
    }
}

/// Reads a branch's own nodes page by page, checking page sizes and that tokens never repeat.
pub(crate) async fn read_pages(
    store: &Arc<dyn HistoryStore>,
    shard_id: ShardId,
    tree_id: TreeId,
    branch_id: BranchId,
    o: ReadOpts,
) -> Result<Vec<Vec<HistoryNode>>, CaseError> {
    let mut pages = Vec::new();
    let mut token = None;
    let mut seen = HashSet::new();
    loop {
        let page = ok(
            "read_history_branch",
            store
                .read_history_branch(read_req(shard_id, tree_id, branch_id, o, token.clone()))
                .await,
        )?;
        ensure!(
            page.items.len() <= o.page_size as usize,
            "a page has {} nodes, page size is {}",
            page.items.len(),
            o.page_size
        );
        let empty = page.items.is_empty();
        pages.push(page.items);
        match page.next_page_token {
            None => return Ok(pages),
            Some(t) => {
                ensure!(
                    !empty || pages.len() == 1 || !pages[pages.len() - 2].is_empty(),
                    "two empty pages in a row, both with a next-page token"
                );
                ensure!(
                    seen.insert(t.clone()),
                    "page token {t:?} repeats: paging would loop"
                );
                ensure!(pages.len() <= 100_000, "more than 100000 pages");
                token = Some(t);
            }
        }
    }
}

/// Reads a branch's own nodes completely.
pub(crate) async fn read_nodes(
    store: &Arc<dyn HistoryStore>,
    shard_id: ShardId,
    tree_id: TreeId,
    branch_id: BranchId,
    o: ReadOpts,
) -> Result<Vec<HistoryNode>, CaseError> {
    Ok(read_pages(store, shard_id, tree_id, branch_id, o)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

/// What an ascending read of `nodes` returns: node id ascending, txn id descending.
pub(crate) fn ascending(nodes: &[Written]) -> Vec<HistoryNode> {
    let mut v: Vec<HistoryNode> = nodes.iter().map(Written::as_node).collect();
    v.sort_by_key(|n| (n.node_id, std::cmp::Reverse(n.txn_id)));
    v
}

/// A fresh tree with one root branch in a fresh shard.
pub(crate) struct Tree {
    pub store: Arc<dyn HistoryStore>,
    pub shard_id: ShardId,
    pub root: HistoryBranch,
}

impl Tree {
    pub(crate) fn new(ctx: &Ctx) -> Result<Self, CaseError> {
        Ok(Tree {
            store: Arc::clone(ctx.history()?),
            shard_id: ctx.new_shard_id(),
            root: HistoryBranch::new_root(TreeId::new_random(), BranchId::new_random()),
        })
    }

    /// Creates the root branch with `nodes`.
    pub(super) async fn create_root(&self, nodes: &[Written]) -> Result<(), CaseError> {
        append_all(&self.store, self.shard_id, &self.root, nodes, true).await
    }

    pub(super) async fn append(
        &self,
        branch: &HistoryBranch,
        nodes: &[Written],
    ) -> Result<(), CaseError> {
        append_all(&self.store, self.shard_id, branch, nodes, false).await
    }

    pub(super) async fn read(
        &self,
        branch_id: BranchId,
        o: ReadOpts,
    ) -> Result<Vec<HistoryNode>, CaseError> {
        read_nodes(&self.store, self.shard_id, self.root.tree_id, branch_id, o).await
    }

    pub(super) async fn read_all(
        &self,
        branch_id: BranchId,
    ) -> Result<Vec<HistoryNode>, CaseError> {
        self.read(branch_id, ReadOpts::default()).await
    }

    pub(super) async fn fork(
        &self,
        from: &HistoryBranch,
        at: i64,
    ) -> Result<HistoryBranch, CaseError> {
        let new_branch_id = BranchId::new_random();
        let got = ok(
            &format!("fork_history_branch at {at}"),
            self.store
                .fork_history_branch(ForkHistoryBranchRequest {
                    shard_id: self.shard_id,
                    fork_branch: from.clone(),
                    fork_node_id: at,
                    new_branch_id,
                    tree_info: tree_info(new_branch_id),
                })
                .await,
        )?;
        ensure_eq!(got.tree_id, from.tree_id, "fork stays in the tree");
        ensure_eq!(
            got.branch_id,
            new_branch_id,
            "fork uses the given branch id"
        );
        Ok(got)
    }

    /// The tree's branches sorted by branch id.
    pub(super) async fn branches(&self) -> Result<Vec<HistoryTreeBranch>, CaseError> {
        let mut v = ok(
            "get_history_tree",
            self.store
                .get_history_tree(self.shard_id, self.root.tree_id)
                .await,
        )?;
        v.sort_by_key(|b| b.branch.branch_id);
        Ok(v)
    }

    /// Expects the tree to hold exactly `branches` (with their ancestors and tree info).
    pub(super) async fn expect_branches(
        &self,
        branches: &[&HistoryBranch],
    ) -> Result<(), CaseError> {
        let mut want: Vec<HistoryTreeBranch> = branches
            .iter()
            .map(|b| HistoryTreeBranch {
                shard_id: self.shard_id,
                branch: (*b).clone(),
                tree_info: tree_info(b.branch_id),
            })
            .collect();
        want.sort_by_key(|b| b.branch.branch_id);
        ensure_eq!(self.branches().await?, want, "branches of the tree");
        Ok(())
    }

    pub(super) async fn delete(&self, branch: &HistoryBranch) -> Result<(), CaseError> {
        ok(
            "delete_history_branch",
            self.store
                .delete_history_branch(self.shard_id, branch)
                .await,
        )
    }
}

pub(super) fn ids(nodes: &[HistoryNode]) -> Vec<(i64, i64)> {
    nodes.iter().map(|n| (n.node_id, n.txn_id)).collect()
}

/// Nodes 1, 3, 4, 6 with txn ids 10, 11, 12, 13: the base of the fork cases.
pub(super) fn base_nodes() -> Vec<Written> {
    [(1, 10), (3, 11), (4, 12), (6, 13)]
        .into_iter()
        .map(|(n, t)| Written::new(n, t))
        .collect()
}

/// After every branch is deleted the tree has no branch (an empty list or `NotFound`).
pub(super) async fn expect_empty_tree(t: &Tree) -> Result<(), CaseError> {
    match t.store.get_history_tree(t.shard_id, t.root.tree_id).await {
        Ok(v) => {
            ensure!(
                v.is_empty(),
                "tree rows left after deleting every branch: {v:?}"
            );
            Ok(())
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(CaseError::new(format!(
            "get_history_tree of an emptied tree: {e}"
        ))),
    }
}
