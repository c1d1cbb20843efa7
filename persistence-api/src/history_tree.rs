//! History-tree algebra shared by every backend: the ancestors of a forked branch, and which
//! node ranges a branch deletion may remove (reference counting over the tree's branches).
//!
//! A branch owns the nodes from its begin node id (the end of its last ancestor range) up; it
//! reads the nodes below from its ancestors' ranges, which forks share instead of copying.

use std::collections::{BTreeMap, HashSet};

use crate::history::{BranchRange, HistoryBranch};
use crate::ids::BranchId;

/// The new branch's ancestors when forking `fork` at `fork_node_id`: the fork branch's ranges cut
/// at the fork point, plus the fork branch's own range up to it.
pub fn fork_ancestors(fork: &HistoryBranch, fork_node_id: i64) -> Vec<BranchRange> {
    let mut out: Vec<BranchRange> = fork
        .ancestors
        .iter()
        .filter(|a| a.begin_node_id < fork_node_id)
        .map(|a| BranchRange {
            end_node_id: a.end_node_id.min(fork_node_id),
            ..*a
        })
        .collect();
    let begin = fork.begin_node_id();
    if fork_node_id > begin {
        out.push(BranchRange {
            branch_id: fork.branch_id,
            begin_node_id: begin,
            end_node_id: fork_node_id,
        });
    }
    out
}

/// One stored branch of a tree as a deletion sees it: its id and its recorded ancestor ranges
/// (`None` when the row has none recorded, e.g. a row written by another tool).
#[derive(Debug, Clone)]
pub struct StoredBranch {
    /// Branch id.
    pub branch_id: BranchId,
    /// Recorded ancestors, if any.
    pub ancestors: Option<Vec<BranchRange>>,
}

/// A node range of one branch, `[begin, end)`; `end` `None` means unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeRange {
    /// The branch id the nodes are stored under.
    pub branch_id: BranchId,
    /// First node id (inclusive).
    pub begin: i64,
    /// End (exclusive), or `None` for every node from `begin` up.
    pub end: Option<i64>,
}

/// What deleting a branch removes besides its tree row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BranchDeletion {
    /// Another branch of the tree has no recorded ancestors, so it may reference any node: every
    /// node is kept.
    KeepAllNodes,
    /// The node ranges no remaining branch references.
    Nodes(Vec<NodeRange>),
}

/// Node ranges `[begin, end)` (end `None` = unbounded) of each branch id still referenced by the
/// branches that remain.
fn referenced_ranges(remaining: &[StoredBranch]) -> BTreeMap<BranchId, Vec<(i64, Option<i64>)>> {
    let mut refs: BTreeMap<BranchId, Vec<(i64, Option<i64>)>> = BTreeMap::new();
    for r in remaining {
        for a in r.ancestors.as_deref().unwrap_or_default() {
            refs.entry(a.branch_id)
                .or_default()
                .push((a.begin_node_id, Some(a.end_node_id)));
        }
        // A remaining branch needs every node of its own (no node of it lies below its begin).
        refs.entry(r.branch_id).or_default().push((i64::MIN, None));
    }
    refs
}

/// The gaps of `[from, ∞)` not covered by `ranges`, as `[begin, end)` (end `None` = unbounded).
fn unreferenced_gaps(from: i64, ranges: &[(i64, Option<i64>)]) -> Vec<(i64, Option<i64>)> {
    let mut sorted = ranges.to_vec();
    sorted.sort_by_key(|r| r.0);
    let mut gaps = Vec::new();
    let mut cursor = Some(from);
    for (begin, end) in sorted {
        let Some(c) = cursor else { break };
        if begin > c {
            gaps.push((c, Some(begin)));
        }
        cursor = end.map(|e| e.max(c));
    }
    if let Some(c) = cursor {
        gaps.push((c, None));
    }
    gaps
}

/// The nodes that deleting `branch` frees, given every stored branch of its tree (`tree`, the
/// deleted branch's own row included if it still exists). The stored ancestors of the deleted
/// branch are authoritative; the caller's copy serves when its row is gone.
pub fn branch_deletion(branch: &HistoryBranch, tree: Vec<StoredBranch>) -> BranchDeletion {
    let (mine, remaining): (Vec<StoredBranch>, Vec<StoredBranch>) = tree
        .into_iter()
        .partition(|r| r.branch_id == branch.branch_id);
    if remaining.iter().any(|r| r.ancestors.is_none()) {
        return BranchDeletion::KeepAllNodes;
    }
    let ancestors = mine
        .into_iter()
        .find_map(|r| r.ancestors)
        .unwrap_or_else(|| branch.ancestors.clone());
    let own_begin = ancestors.last().map_or(1, |a| a.end_node_id);
    let refs = referenced_ranges(&remaining);
    let mut targets: Vec<(BranchId, i64)> = vec![(branch.branch_id, own_begin)];
    targets.extend(ancestors.iter().map(|a| (a.branch_id, a.begin_node_id)));
    let mut done = HashSet::new();
    let mut out = Vec::new();
    for (target, from) in targets {
        if !done.insert((target, from)) {
            continue;
        }
        let used = refs.get(&target).map(Vec::as_slice).unwrap_or_default();
        out.extend(
            unreferenced_gaps(from, used)
                .into_iter()
                .map(|(begin, end)| NodeRange {
                    branch_id: target,
                    begin,
                    end,
                }),
        );
    }
    BranchDeletion::Nodes(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TreeId;
    use uuid::Uuid;

    fn b(n: u128) -> BranchId {
        BranchId(Uuid::from_u128(n))
    }

    #[test]
    fn fork_cuts_ancestors() {
        let t = TreeId(Uuid::from_u128(9));
        let root = HistoryBranch::new_root(t, b(1));
        let f = fork_ancestors(&root, 5);
        assert_eq!(
            f,
            vec![BranchRange {
                branch_id: b(1),
                begin_node_id: 1,
                end_node_id: 5
            }]
        );
        let child = HistoryBranch {
            tree_id: t,
            branch_id: b(2),
            ancestors: f,
        };
        assert_eq!(fork_ancestors(&child, 3)[0].end_node_id, 3);
        assert_eq!(fork_ancestors(&child, 3).len(), 1);
        assert_eq!(fork_ancestors(&child, 5).len(), 1);
        let g = fork_ancestors(&child, 8);
        assert_eq!(g.len(), 2);
        assert_eq!(
            (g[1].branch_id, g[1].begin_node_id, g[1].end_node_id),
            (b(2), 5, 8)
        );
    }

    #[test]
    fn gaps() {
        assert_eq!(unreferenced_gaps(1, &[]), vec![(1, None)]);
        assert_eq!(unreferenced_gaps(1, &[(1, Some(5))]), vec![(5, None)]);
        assert_eq!(unreferenced_gaps(1, &[(i64::MIN, None)]), vec![]);
        assert_eq!(
            unreferenced_gaps(1, &[(3, Some(5)), (1, Some(2))]),
            vec![(2, Some(3)), (5, None)]
        );
        assert_eq!(unreferenced_gaps(4, &[(1, Some(5))]), vec![(5, None)]);
    }

    #[test]
    fn deletion_keeps_shared_ranges() {
        let t = TreeId(Uuid::from_u128(9));
        let root = HistoryBranch::new_root(t, b(1));
        let child = HistoryBranch {
            tree_id: t,
            branch_id: b(2),
            ancestors: fork_ancestors(&root, 5),
        };
        let stored = |br: &HistoryBranch| StoredBranch {
            branch_id: br.branch_id,
            ancestors: Some(br.ancestors.clone()),
        };
        // Deleting the root while the child remains frees only the root's nodes from 5 up.
        assert_eq!(
            branch_deletion(&root, vec![stored(&root), stored(&child)]),
            BranchDeletion::Nodes(vec![NodeRange {
                branch_id: b(1),
                begin: 5,
                end: None
            }])
        );
        // Deleting the child (root gone) frees the child's own nodes and the root's 1..5.
        assert_eq!(
            branch_deletion(&child, vec![stored(&child)]),
            BranchDeletion::Nodes(vec![
                NodeRange {
                    branch_id: b(2),
                    begin: 5,
                    end: None
                },
                NodeRange {
                    branch_id: b(1),
                    begin: 1,
                    end: None
                },
            ])
        );
        let unknown = StoredBranch {
            branch_id: b(3),
            ancestors: None,
        };
        assert_eq!(
            branch_deletion(&child, vec![stored(&child), unknown]),
            BranchDeletion::KeepAllNodes
        );
    }
}
