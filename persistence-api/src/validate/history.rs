//! Checks of history-store requests, made by every backend before it writes anything.

use super::{blob, non_empty_blob, non_negative};
use crate::error::{Result, StoreError};
use crate::history::{AppendHistoryNodesRequest, ForkHistoryBranchRequest, HistoryBranch};
use crate::ids::ShardId;

/// A branch's ids and the shape of its ancestor ranges.
pub fn branch(branch: &HistoryBranch) -> Result<()> {
    branch.tree_id.validate()?;
    branch.branch_id.validate()?;
    for a in &branch.ancestors {
        a.branch_id.validate()?;
        if a.begin_node_id < 1 || a.end_node_id <= a.begin_node_id {
            return Err(StoreError::invalid_argument(format!(
                "ancestor range [{}, {}) of branch {} is not a non-empty range of node ids >= 1",
                a.begin_node_id, a.end_node_id, a.branch_id
            )));
        }
    }
    Ok(())
}

/// An append: ids, a non-empty event blob, a node id of the branch itself (not of an
/// ancestor), a transaction id >= 0, and the tree info of a new branch.
pub fn append(req: &AppendHistoryNodesRequest) -> Result<()> {
    req.shard_id.validate()?;
    branch(&req.branch)?;
    non_empty_blob("history events", &req.events)?;
    if req.node_id < 1 {
        return Err(StoreError::invalid_argument(format!(
            "node id must be >= 1, got {}",
            req.node_id
        )));
    }
    let begin = req.branch.begin_node_id();
    if req.node_id < begin {
        return Err(StoreError::invalid_argument(format!(
            "cannot append node {} to ancestors' nodes: branch {} begins at node {begin}",
            req.node_id, req.branch.branch_id
        )));
    }
    non_negative("transaction id", req.txn_id)?;
    if req.is_new_branch {
        blob("history tree info", &req.tree_info)?;
    }
    Ok(())
}

/// A fork: ids, tree info, a fork node id > 1 and a new branch id other than the fork's.
pub fn fork(req: &ForkHistoryBranchRequest) -> Result<()> {
    req.shard_id.validate()?;
    branch(&req.fork_branch)?;
    req.new_branch_id.validate()?;
    blob("history tree info", &req.tree_info)?;
    if req.fork_node_id <= 1 {
        return Err(StoreError::invalid_argument(format!(
            "fork node id must be > 1, got {}",
            req.fork_node_id
        )));
    }
    if req.new_branch_id == req.fork_branch.branch_id {
        return Err(StoreError::invalid_argument(
            "the new branch id equals the fork branch id",
        ));
    }
    Ok(())
}

/// A node deletion: ids, and a node of the branch itself (an ancestor's nodes are shared).
pub fn delete_nodes(shard_id: ShardId, b: &HistoryBranch, node_id: i64) -> Result<()> {
    shard_id.validate()?;
    branch(b)?;
    let begin = b.begin_node_id();
    if node_id < begin {
        return Err(StoreError::invalid_argument(format!(
            "cannot delete node {node_id}: it belongs to an ancestor (branch {} begins at node {begin})",
            b.branch_id
        )));
    }
    Ok(())
}
