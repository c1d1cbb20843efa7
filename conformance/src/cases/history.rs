//! Conformance cases for the history store: node upserts and shadowing, ordered and paged
//! reads, forks that copy nothing, reference-counted branch deletion, and input limits.

use std::collections::HashSet;
use std::sync::Arc;

use durastore_api::validate::MAX_BLOB_BYTES;
use durastore_api::{
    AppendHistoryNodesRequest, BranchId, BranchRange, DataBlob, ErrorKind,
    ForkHistoryBranchRequest, HistoryBranch, HistoryNode, HistoryStore, HistoryTreeBranch,
    ReadHistoryBranchRequest, ShardId, TreeId, Uuid,
};

use crate::cases::shard::join;
use crate::check::{expect_bad_request, expect_err, ok};
use crate::fixtures::blob;
use crate::{Case, CaseError, Ctx, case, ensure, ensure_eq};

/// The cases of this module.
pub fn cases() -> Vec<Case> {
    vec![
        case!("history", append_and_read, ["history"], append_and_read),
        case!("history", read_paging, ["history"], read_paging),
        case!("history", read_range_bounds, ["history"], read_range_bounds),
        case!(
            "history",
            shadowing_higher_txn,
            ["history"],
            shadowing_higher_txn
        ),
        case!(
            "history",
            upsert_same_key_replaces,
            ["history"],
            upsert_same_key_replaces
        ),
        case!("history", metadata_only, ["history"], metadata_only),
        case!("history", reverse_order, ["history"], reverse_order),
        case!(
            "history",
            fork_copies_nothing,
            ["history"],
            fork_copies_nothing
        ),
        case!(
            "history",
            fork_of_fork_chain,
            ["history"],
            fork_of_fork_chain
        ),
        case!(
            "history",
            delete_base_then_fork,
            ["history"],
            delete_base_then_fork
        ),
        case!(
            "history",
            delete_fork_then_base,
            ["history"],
            delete_fork_then_base
        ),
        case!(
            "history",
            delete_nodes_one_version,
            ["history"],
            delete_nodes_one_version
        ),
        case!(
            "history",
            delete_nodes_in_ancestor_rejected,
            ["history"],
            delete_nodes_in_ancestor_rejected
        ),
        case!(
            "history",
            all_tree_branches_paging,
            ["history"],
            all_tree_branches_paging
        ),
        case!("history", events_size_limit, ["history"], events_size_limit),
        case!("history", bad_append, ["history"], bad_append),
        case!(
            "history",
            append_into_ancestor_rejected,
            ["history"],
            append_into_ancestor_rejected
        ),
        case!("history", bad_fork, ["history"], bad_fork),
        case!("history", bad_read, ["history"], bad_read),
        case!(
            "history",
            concurrent_append_branches,
            ["history", "concurrent_writers"],
            concurrent_append_branches
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Helpers (also used by the durability cases).

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

fn read_req(
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
    async fn create_root(&self, nodes: &[Written]) -> Result<(), CaseError> {
        append_all(&self.store, self.shard_id, &self.root, nodes, true).await
    }

    async fn append(&self, branch: &HistoryBranch, nodes: &[Written]) -> Result<(), CaseError> {
        append_all(&self.store, self.shard_id, branch, nodes, false).await
    }

    async fn read(&self, branch_id: BranchId, o: ReadOpts) -> Result<Vec<HistoryNode>, CaseError> {
        read_nodes(&self.store, self.shard_id, self.root.tree_id, branch_id, o).await
    }

    async fn read_all(&self, branch_id: BranchId) -> Result<Vec<HistoryNode>, CaseError> {
        self.read(branch_id, ReadOpts::default()).await
    }

    async fn fork(&self, from: &HistoryBranch, at: i64) -> Result<HistoryBranch, CaseError> {
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
    async fn branches(&self) -> Result<Vec<HistoryTreeBranch>, CaseError> {
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
    async fn expect_branches(&self, branches: &[&HistoryBranch]) -> Result<(), CaseError> {
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

    async fn delete(&self, branch: &HistoryBranch) -> Result<(), CaseError> {
        ok(
            "delete_history_branch",
            self.store
                .delete_history_branch(self.shard_id, branch)
                .await,
        )
    }
}

fn ids(nodes: &[HistoryNode]) -> Vec<(i64, i64)> {
    nodes.iter().map(|n| (n.node_id, n.txn_id)).collect()
}

/// Nodes 1, 3, 4, 6 with txn ids 10, 11, 12, 13: the base of the fork cases.
fn base_nodes() -> Vec<Written> {
    [(1, 10), (3, 11), (4, 12), (6, 13)]
        .into_iter()
        .map(|(n, t)| Written::new(n, t))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Append and read.

/// A new branch plus more nodes reads back byte for byte, and the tree row exists.
pub async fn append_and_read(ctx: &Ctx) -> Result<(), CaseError> {
    let t = Tree::new(ctx)?;
    let nodes = vec![
        Written::new(1, 100),
        Written::new(3, 101),
        Written::new(6, 102),
        Written::new(8, 103),
    ];
    t.create_root(&nodes[..1]).await?;
    t.expect_branches(&[&t.root]).await?;
    t.append(&t.root, &nodes[1..]).await?;
    ensure_eq!(t.read_all(t.root.branch_id).await?, ascending(&nodes));
    // Another branch id of the same tree has no nodes.
    ensure!(
        t.read_all(BranchId::new_random()).await?.is_empty(),
        "an unknown branch reads empty"
    );
    t.expect_branches(&[&t.root]).await
}

/// Reads page by node rows; every node exactly once, the last page without token.
pub async fn read_paging(ctx: &Ctx) -> Result<(), CaseError> {
    let t = Tree::new(ctx)?;
    let nodes: Vec<Written> = (0..12).map(|i| Written::new(1 + 2 * i, 10 + i)).collect();
    t.create_root(&nodes).await?;
    let want = ascending(&nodes);
    for page_size in [5, 1, 4, 6, 12, 13] {
        let o = ReadOpts {
            page_size,
            ..ReadOpts::default()
        };
        let pages = read_pages(&t.store, t.shard_id, t.root.tree_id, t.root.branch_id, o).await?;
        let n = nodes.len();
        let b = page_size as usize;
        ensure!(
            pages.len() <= n.div_ceil(b) + 1,
            "{} pages for {n} nodes at page size {b}",
            pages.len()
        );
        let flat: Vec<HistoryNode> = pages.into_iter().flatten().collect();
        ensure_eq!(flat, want, "page size {page_size}");
    }
    Ok(())
}

/// Reads cover exactly `[min, max)` of node ids.
pub async fn read_range_bounds(ctx: &Ctx) -> Result<(), CaseError> {
    let t = Tree::new(ctx)?;
    let nodes: Vec<Written> = (1..=10).map(|i| Written::new(i, 100 + i)).collect();
    t.create_root(&nodes).await?;
    let got = t
        .read(
            t.root.branch_id,
            ReadOpts {
                min: 3,
                max: 8,
                page_size: 2,
                ..ReadOpts::default()
            },
        )
        .await?;
    ensure_eq!(got, ascending(&nodes[2..7]), "[3, 8)");
    let empty = t
        .read(
            t.root.branch_id,
            ReadOpts {
                min: 5,
                max: 5,
                ..ReadOpts::default()
            },
        )
        .await?;
    ensure!(empty.is_empty(), "[5, 5) is empty: {empty:?}");
    let tail = t
        .read(
            t.root.branch_id,
            ReadOpts {
                min: 10,
                ..ReadOpts::default()
            },
        )
        .await?;
    ensure_eq!(ids(&tail), vec![(10, 110)]);
    Ok(())
}

/// A higher txn id for the same node id shadows the lower one: both are returned, the
/// highest txn first, also when paging one row at a time.
pub async fn shadowing_higher_txn(ctx: &Ctx) -> Result<(), CaseError> {
    let t = Tree::new(ctx)?;
    let nodes = vec![
        Written::new(1, 10),
        Written::new(3, 11),
        Written::new(3, 15),
        Written::new(5, 16),
        Written::new(3, 13),
    ];
    t.create_root(&nodes).await?;
    let want = ascending(&nodes);
    ensure_eq!(
        ids(&want),
        vec![(1, 10), (3, 15), (3, 13), (3, 11), (5, 16)],
        "expected order"
    );
    ensure_eq!(t.read_all(t.root.branch_id).await?, want);
    for page_size in [1, 2] {
        let got = t
            .read(
                t.root.branch_id,
                ReadOpts {
                    page_size,
                    ..ReadOpts::default()
                },
            )
            .await?;
        ensure_eq!(got, want, "paging at {page_size} inside one node id");
    }
    Ok(())
}

/// Appending the same (node id, txn id) again replaces the row.
pub async fn upsert_same_key_replaces(ctx: &Ctx) -> Result<(), CaseError> {
    let t = Tree::new(ctx)?;
    let first = vec![Written::new(1, 10), Written::new(3, 11)];
    t.create_root(&first).await?;
    let mut again = Written::new(3, 11);
    again.prev_txn_id = 7;
    t.append(&t.root, std::slice::from_ref(&again)).await?;
    ensure_eq!(
        t.read_all(t.root.branch_id).await?,
        vec![first[0].as_node(), again.as_node()],
        "the second write of (3, 11) replaced the first"
    );
    // Re-appending the first node as a "new branch" again is also an upsert.
    let mut first_again = Written::new(1, 10);
    first_again.events = blob(9);
    ok(
        "append_history_nodes (new branch again)",
        t.store
            .append_history_nodes(append_req(t.shard_id, &t.root, &first_again, true))
            .await,
    )?;
    ensure_eq!(
        t.read_all(t.root.branch_id).await?,
        vec![first_again.as_node(), again.as_node()]
    );
    t.expect_branches(&[&t.root]).await
}

/// Metadata-only reads return ids and txn ids without events.
pub async fn metadata_only(ctx: &Ctx) -> Result<(), CaseError> {
    let t = Tree::new(ctx)?;
    let nodes = vec![
        Written::new(1, 10),
        Written::new(2, 12),
        Written::new(2, 14),
        Written::new(4, 15),
    ];
    t.create_root(&nodes).await?;
    let want: Vec<HistoryNode> = ascending(&nodes)
        .into_iter()
        .map(|mut n| {
            n.events = None;
            n
        })
        .collect();
    for page_size in [1000, 3] {
        let got = t
            .read(
                t.root.branch_id,
                ReadOpts {
                    page_size,
                    metadata_only: true,
                    ..ReadOpts::default()
                },
            )
            .await?;
        ensure_eq!(got, want, "metadata-only at page size {page_size}");
    }
    Ok(())
}

/// Reverse reads go node id descending, txn id still descending, also across pages.
pub async fn reverse_order(ctx: &Ctx) -> Result<(), CaseError> {
    let t = Tree::new(ctx)?;
    let nodes = vec![
        Written::new(1, 10),
        Written::new(3, 11),
        Written::new(3, 14),
        Written::new(5, 15),
        Written::new(7, 16),
        Written::new(9, 17),
    ];
    t.create_root(&nodes).await?;
    let mut want: Vec<HistoryNode> = nodes.iter().map(Written::as_node).collect();
    want.sort_by_key(|n| (std::cmp::Reverse(n.node_id), std::cmp::Reverse(n.txn_id)));
    ensure_eq!(
        ids(&want),
        vec![(9, 17), (7, 16), (5, 15), (3, 14), (3, 11), (1, 10)]
    );
    for page_size in [1000, 2, 1] {
        let got = t
            .read(
                t.root.branch_id,
                ReadOpts {
                    page_size,
                    reverse: true,
                    ..ReadOpts::default()
                },
            )
            .await?;
        ensure_eq!(got, want, "reverse at page size {page_size}");
    }
    let bounded = t
        .read(
            t.root.branch_id,
            ReadOpts {
                min: 3,
                max: 7,
                page_size: 1,
                reverse: true,
                ..ReadOpts::default()
            },
        )
        .await?;
    ensure_eq!(
        ids(&bounded),
        vec![(5, 15), (3, 14), (3, 11)],
        "reverse [3, 7)"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Forks.

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

/// After every branch is deleted the tree has no branch (an empty list or `NotFound`).
async fn expect_empty_tree(t: &Tree) -> Result<(), CaseError> {
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

// ---------------------------------------------------------------------------------------------
// Bad input.

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

// ---------------------------------------------------------------------------------------------
// Concurrency.

/// Eight writers each create their own branch in one tree and append five nodes at once; every
/// branch and node reads back intact.
pub async fn concurrent_append_branches(ctx: &Ctx) -> Result<(), CaseError> {
    const WRITERS: usize = 8;
    let store = ctx.history()?;
    let shard_id = ctx.new_shard_id();
    let tree_id = TreeId::new_random();
    let barrier = Arc::new(tokio::sync::Barrier::new(WRITERS));
    let handles: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = Arc::clone(store);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                let branch = HistoryBranch::new_root(tree_id, BranchId::new_random());
                let nodes: Vec<Written> = (0..5)
                    .map(|i| Written::new(1 + 3 * i, 100 * w as i64 + i))
                    .collect();
                barrier.wait().await;
                let r = append_all(&store, shard_id, &branch, &nodes, true).await;
                (branch, nodes, r)
            })
        })
        .collect();
    let mut written = Vec::new();
    for h in handles {
        let (branch, nodes, r) = join(h).await?;
        r?;
        written.push((branch, nodes));
    }
    for (branch, nodes) in &written {
        let got = read_nodes(
            store,
            shard_id,
            tree_id,
            branch.branch_id,
            ReadOpts::default(),
        )
        .await?;
        ensure_eq!(got, ascending(nodes), "branch {} intact", branch.branch_id);
    }
    let mut tree = ok(
        "get_history_tree",
        store.get_history_tree(shard_id, tree_id).await,
    )?;
    tree.sort_by_key(|b| b.branch.branch_id);
    let mut want: Vec<HistoryTreeBranch> = written
        .iter()
        .map(|(b, _)| HistoryTreeBranch {
            shard_id,
            branch: b.clone(),
            tree_info: tree_info(b.branch_id),
        })
        .collect();
    want.sort_by_key(|b| b.branch.branch_id);
    ensure_eq!(tree, want, "every branch has its tree row");
    Ok(())
}
