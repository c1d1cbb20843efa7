//! History trees, branches and nodes ("history v2").

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::ids::{BranchId, ShardId, TreeId};
use crate::types::{DataBlob, Page};

/// A range of an ancestor branch that a branch shares: nodes `[begin_node_id, end_node_id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BranchRange {
    /// The ancestor branch.
    pub branch_id: BranchId,
    /// First node id of the range (inclusive).
    pub begin_node_id: i64,
    /// End of the range (exclusive).
    pub end_node_id: i64,
}

/// A history branch: its tree, its id, and the ancestor ranges it shares (oldest first).
///
/// By Temporal's convention a tree is named after the run that started it: a new run (a start or
/// a continue-as-new) creates a tree whose id is its own run id, with a root branch of a fresh
/// random id; a reset forks a branch inside the tree of the run it resets, so that tree keeps
/// the first run's id. The store does not check this: any non-nil UUID is a valid tree id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HistoryBranch {
    /// Tree id: the run id of the run that started the tree (see above).
    pub tree_id: TreeId,
    /// Branch id.
    pub branch_id: BranchId,
    /// Ancestor ranges, oldest first, contiguous from node 1.
    pub ancestors: Vec<BranchRange>,
}

impl HistoryBranch {
    /// A new root branch (no ancestors).
    pub fn new_root(tree_id: TreeId, branch_id: BranchId) -> Self {
        Self {
            tree_id,
            branch_id,
            ancestors: Vec::new(),
        }
    }
    /// First node id that belongs to this branch itself (1 for a root branch).
    pub fn begin_node_id(&self) -> i64 {
        self.ancestors.last().map_or(1, |a| a.end_node_id)
    }
}

/// One stored history node (a batch of events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryNode {
    /// Node id (first event id of the batch).
    pub node_id: i64,
    /// Transaction id; among nodes with the same id the highest wins.
    pub txn_id: i64,
    /// Transaction id of the previous batch.
    pub prev_txn_id: i64,
    /// The events; `None` in metadata-only reads.
    pub events: Option<DataBlob>,
}

/// Request for [`HistoryStore::append_history_nodes`].
#[derive(Debug, Clone, PartialEq)]
pub struct AppendHistoryNodesRequest {
    /// Shard that owns the tree.
    pub shard_id: ShardId,
    /// The branch to append to.
    pub branch: HistoryBranch,
    /// True for the first append to a new branch: also writes the tree row.
    pub is_new_branch: bool,
    /// Opaque `HistoryTreeInfo` for the tree row (used when `is_new_branch`).
    pub tree_info: DataBlob,
    /// Node id (>= the branch's begin node id).
    pub node_id: i64,
    /// Transaction id (>= 0).
    pub txn_id: i64,
    /// Previous transaction id.
    pub prev_txn_id: i64,
    /// The serialized events (non-empty).
    pub events: DataBlob,
}

/// Request for [`HistoryStore::read_history_branch`].
#[derive(Debug, Clone)]
pub struct ReadHistoryBranchRequest {
    /// Shard that owns the tree.
    pub shard_id: ShardId,
    /// Tree id.
    pub tree_id: TreeId,
    /// The branch id whose own rows are read (not its ancestors).
    pub branch_id: BranchId,
    /// Inclusive lower node id.
    pub min_node_id: i64,
    /// Exclusive upper node id.
    pub max_node_id: i64,
    /// Page size in nodes (1..=10000).
    pub page_size: i32,
    /// Token from the previous page.
    pub next_page_token: Option<Vec<u8>>,
    /// Return node ids and txn ids only.
    pub metadata_only: bool,
    /// Node id descending instead of ascending (txn id stays descending).
    pub reverse: bool,
}

impl ReadHistoryBranchRequest {
    /// Reads `branch`'s own nodes in `[min_node_id, max_node_id)`, ascending, events included,
    /// from the first page.
    pub fn new(
        shard_id: ShardId,
        branch: &HistoryBranch,
        min_node_id: i64,
        max_node_id: i64,
        page_size: i32,
    ) -> Self {
        Self {
            shard_id,
            tree_id: branch.tree_id,
            branch_id: branch.branch_id,
            min_node_id,
            max_node_id,
            page_size,
            next_page_token: None,
            metadata_only: false,
            reverse: false,
        }
    }
}

/// Request for [`HistoryStore::fork_history_branch`].
#[derive(Debug, Clone)]
pub struct ForkHistoryBranchRequest {
    /// Shard that owns the tree.
    pub shard_id: ShardId,
    /// The branch to fork from.
    pub fork_branch: HistoryBranch,
    /// The new branch shares nodes `< fork_node_id`; must be > 1.
    pub fork_node_id: i64,
    /// Id of the new branch.
    pub new_branch_id: BranchId,
    /// Opaque `HistoryTreeInfo` for the new tree row.
    pub tree_info: DataBlob,
}

/// One branch of a tree, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryTreeBranch {
    /// Shard.
    pub shard_id: ShardId,
    /// The branch, with its ancestors.
    pub branch: HistoryBranch,
    /// Its opaque tree info.
    pub tree_info: DataBlob,
}

/// History nodes and the tree rows that describe branches.
///
/// # Contract
/// - Nodes are keyed by (tree, branch, node id, txn id) and upserted: appending the same key
///   again replaces it; a higher txn id for the same node id *shadows* the lower one.
/// - Reads return a branch's own nodes in `[min, max)` ordered by node id (ascending, or
///   descending with `reverse`) then txn id descending, paged by node rows; the last page has no
///   token. Ancestor ranges are read by the caller with the ancestor's branch id.
/// - A fork inserts only a tree row: no node is copied. The new branch's ancestors are the fork
///   branch's ranges cut at `fork_node_id`, plus the fork branch's own range up to it.
/// - `delete_history_branch` deletes the branch's tree row and every node range no other branch of
///   the tree still references; deleting the branches of a tree in any order leaves no node behind.
/// - `delete_history_nodes` deletes one (node id, txn id) row of the branch's own range and refuses
///   (`InvalidArgument`) a node id inside an ancestor range.
/// - Appends are not fenced by the shard range id (they happen before the state write).
///
/// # Example
/// A new run's first batch of events opens a root branch in a tree named after the run, and the
/// branch reads back page by page (`durastore/examples/walkthrough.rs` runs this on a backend):
/// ```
/// use durastore_api::*;
///
/// async fn first_events(history: &dyn HistoryStore, shard: ShardId, run: RunId) -> Result<usize> {
///     let branch = HistoryBranch::new_root(TreeId(run.0), BranchId::new_random());
///     history
///         .append_history_nodes(AppendHistoryNodesRequest {
///             shard_id: shard,
///             branch: branch.clone(),
///             is_new_branch: true,
///             tree_info: DataBlob::proto3(b"tree info"),
///             node_id: 1, // the batch's first event id
///             txn_id: 1,
///             prev_txn_id: 0,
///             events: DataBlob::proto3(b"events 1 and 2"),
///         })
///         .await?;
///     let mut req = ReadHistoryBranchRequest::new(shard, &branch, 1, i64::MAX, 100);
///     let mut nodes = 0;
///     loop {
///         let page = history.read_history_branch(req.clone()).await?;
///         nodes += page.items.len();
///         match page.next_page_token {
///             Some(token) => req.next_page_token = Some(token),
///             None => return Ok(nodes),
///         }
///     }
/// }
/// ```
#[async_trait]
pub trait HistoryStore: Send + Sync {
    /// Upserts one node (and the tree row for a new branch).
    async fn append_history_nodes(&self, req: AppendHistoryNodesRequest) -> Result<()>;
    /// Reads a branch's own nodes.
    async fn read_history_branch(&self, req: ReadHistoryBranchRequest)
    -> Result<Page<HistoryNode>>;
    /// Creates a branch sharing the fork branch's nodes below `fork_node_id`.
    async fn fork_history_branch(&self, req: ForkHistoryBranchRequest) -> Result<HistoryBranch>;
    /// Deletes one node version of a branch's own range.
    async fn delete_history_nodes(
        &self,
        shard_id: ShardId,
        branch: &HistoryBranch,
        node_id: i64,
        txn_id: i64,
    ) -> Result<()>;
    /// Deletes a branch, keeping node ranges other branches still use.
    async fn delete_history_branch(&self, shard_id: ShardId, branch: &HistoryBranch) -> Result<()>;
    /// Every branch of a tree.
    async fn get_history_tree(
        &self,
        shard_id: ShardId,
        tree_id: TreeId,
    ) -> Result<Vec<HistoryTreeBranch>>;
    /// Every branch of every tree, paged (for scavengers).
    async fn get_all_history_tree_branches(
        &self,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<HistoryTreeBranch>>;
}
