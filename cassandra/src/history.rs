//! HistoryStore on Cassandra: `history_node` and `history_tree`, one partition per tree.
//!
//! Nodes are keyed `((tree_id), branch_id, node_id, txn_id)` with transaction ids clustered
//! descending (Temporal's layout), so a forward read meets the highest transaction of each node
//! first. Appends are plain upserts; the first append of a branch writes its tree row in the same
//! single-partition batch. A fork writes only a tree row. Deleting a branch reads the tree's rows
//! (their `ancestors` column), reference-counts node ranges like the SQL store, and deletes the
//! tree row and the unreferenced node ranges in one batch, which Cassandra applies as one
//! mutation because both tables share the partition key.
//!
//! Page tokens are keyset positions (the last returned node id and txn id; for the all-trees
//! scan the last row's partition token, tree and branch), not the driver's paging state: the last
//! page never carries a token and a foreign token is `InvalidArgument`.

use std::sync::Arc;

use async_trait::async_trait;
use durastore_api::history_tree::{BranchDeletion, StoredBranch, branch_deletion, fork_ancestors};
use durastore_api::{
    AppendHistoryNodesRequest, BranchId, BranchRange, DataBlob, ForkHistoryBranchRequest,
    HistoryBranch, HistoryNode, HistoryStore, HistoryTreeBranch, Page, ReadHistoryBranchRequest,
    Result, ShardId, TreeId, validate,
};
use scylla::value::CqlValue;

use crate::error::corrupt;
use crate::session::{CRow, Cass, Stmt, vals};

/// The store.
pub(crate) struct CassHistoryStore {
    cass: Arc<Cass>,
}

/// The store over a shared session.
pub(crate) fn make(cass: &Arc<Cass>) -> Option<Arc<dyn HistoryStore>> {
    Some(Arc::new(CassHistoryStore { cass: cass.clone() }))
}

const INSERT_NODE: &str = "INSERT INTO history_node (tree_id, branch_id, node_id, txn_id, prev_txn_id, data, data_encoding) VALUES (?, ?, ?, ?, ?, ?, ?)";
const INSERT_TREE: &str = "INSERT INTO history_tree (tree_id, branch_id, shard_id, branch, branch_encoding, ancestors) VALUES (?, ?, ?, ?, ?, ?)";
const TREE_COLUMNS: &str = "tree_id, branch_id, shard_id, branch, branch_encoding, ancestors";

/// The `ancestors` column value: a frozen list of `(branch_id, begin, end)` tuples. An empty
/// frozen list is stored as such (not as NULL), so a root branch reads back as "no ancestors"
/// while NULL keeps meaning "not recorded".
fn ancestors_value(ancestors: &[BranchRange]) -> CqlValue {
    CqlValue::List(
        ancestors
            .iter()
            .map(|a| {
                CqlValue::Tuple(vec![
                    Some(CqlValue::Uuid(a.branch_id.0)),
                    Some(CqlValue::BigInt(a.begin_node_id)),
                    Some(CqlValue::BigInt(a.end_node_id)),
                ])
            })
            .collect(),
    )
}

/// Decodes the `ancestors` column; `None` when NULL (a row written without it, which makes
/// reference counting impossible for that tree).
fn decode_ancestors(row: &CRow) -> Result<Option<Vec<BranchRange>>> {
    let items = match row.get("ancestors") {
        None => return Ok(None),
        Some(CqlValue::List(items)) => items,
        Some(other) => {
            return Err(corrupt(format!(
                "ancestors: expected a list, got {other:?}"
            )));
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let range = match item {
            CqlValue::Tuple(f) => match f.as_slice() {
                [
                    Some(CqlValue::Uuid(b)),
                    Some(CqlValue::BigInt(begin)),
                    Some(CqlValue::BigInt(end)),
                ] => BranchRange {
                    branch_id: BranchId(*b),
                    begin_node_id: *begin,
                    end_node_id: *end,
                },
                _ => return Err(corrupt(format!("ancestors: bad range {f:?}"))),
            },
            other => return Err(corrupt(format!("ancestors: bad range {other:?}"))),
        };
        out.push(range);
    }
    Ok(Some(out))
}

/// The tree-row insert (new branch or fork): an upsert, so a retried call succeeds.
fn tree_insert(shard_id: ShardId, branch: &HistoryBranch, info: &DataBlob) -> Stmt {
    Stmt::new(
        INSERT_TREE,
        vals![
            branch.tree_id.0,
            branch.branch_id.0,
            shard_id.0,
            &info.data,
            &info.encoding,
            ancestors_value(&branch.ancestors)
        ],
    )
}

/// Appends one history node (and the tree row for a new branch), validating the request first.
/// Other stores (executions) may append through this before their own batch.
pub(crate) async fn append_nodes(cass: &Cass, req: &AppendHistoryNodesRequest) -> Result<()> {
    validate::history::append(req)?;
    let node = Stmt::new(
        INSERT_NODE,
        vals![
            req.branch.tree_id.0,
            req.branch.branch_id.0,
            req.node_id,
            req.txn_id,
            req.prev_txn_id,
            &req.events.data,
            &req.events.encoding
        ],
    );
    if req.is_new_branch {
        // Same partition key in both tables: one mutation, applied together or not at all.
        let tree = tree_insert(req.shard_id, &req.branch, &req.tree_info);
        cass.batch(vec![node, tree]).await?;
    } else {
        cass.exec(&node.cql, node.vals).await?;
    }
    Ok(())
}

/// A tree row as the listings return it.
fn tree_branch(row: &CRow) -> Result<HistoryTreeBranch> {
    let shard_id = row
        .opt_i64("shard_id")?
        .map(|s| i32::try_from(s).map_err(|_| corrupt(format!("shard_id {s} out of range"))))
        .transpose()?
        .unwrap_or(0);
    Ok(HistoryTreeBranch {
        shard_id: ShardId(shard_id),
        branch: HistoryBranch {
            tree_id: TreeId(row.uuid("tree_id")?),
            branch_id: BranchId(row.uuid("branch_id")?),
            ancestors: decode_ancestors(row)?.unwrap_or_default(),
        },
        tree_info: DataBlob {
            data: row.blob("branch")?,
            encoding: row.text("branch_encoding")?,
        },
    })
}

fn node_of(row: &CRow, metadata_only: bool) -> Result<HistoryNode> {
    Ok(HistoryNode {
        node_id: row.i64("node_id")?,
        txn_id: row.i64("txn_id")?,
        prev_txn_id: row.i64("prev_txn_id")?,
        events: if metadata_only {
            None
        } else {
            Some(DataBlob {
                data: row.blob("data")?,
                encoding: row.text("data_encoding")?,
            })
        },
    })
}

/// Reorders rows read in fully reversed clustering order (node id descending, txn id
/// ascending) into the contract's reverse order (node id descending, txn id descending).
fn regroup_reversed(rows: Vec<HistoryNode>) -> Vec<HistoryNode> {
    let mut out = Vec::with_capacity(rows.len());
    let mut group: Vec<HistoryNode> = Vec::new();
    for n in rows {
        if group.last().is_some_and(|g| g.node_id != n.node_id) {
            out.extend(group.drain(..).rev());
        }
        group.push(n);
    }
    out.extend(group.into_iter().rev());
    out
}

/// The CQL `LIMIT` for `n` more rows.
fn limit(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl CassHistoryStore {
    /// Rows of one node id of a branch (every transaction below `below_txn`, if given), highest
    /// transaction first.
    async fn node_versions(
        &self,
        req: &ReadHistoryBranchRequest,
        cols: &str,
        node_id: i64,
        below_txn: Option<i64>,
        n: usize,
    ) -> Result<Vec<HistoryNode>> {
        let base = req.tree_id.0;
        let rows = match below_txn {
            Some(t) => {
                self.cass
                    .rows(
                        &format!("SELECT {cols} FROM history_node WHERE tree_id = ? AND branch_id = ? AND node_id = ? AND txn_id < ? LIMIT ?"),
                        vals![base, req.branch_id.0, node_id, t, limit(n)],
                    )
                    .await?
            }
            None => {
                self.cass
                    .rows(
                        &format!("SELECT {cols} FROM history_node WHERE tree_id = ? AND branch_id = ? AND node_id = ? LIMIT ?"),
                        vals![base, req.branch_id.0, node_id, limit(n)],
                    )
                    .await?
            }
        };
        rows.iter().map(|r| node_of(r, req.metadata_only)).collect()
    }

    /// Rows with node ids in `[lo, hi)`, at most `n`, in clustering order (`reverse`: fully
    /// reversed, i.e. node id descending and txn id ascending).
    async fn node_range(
        &self,
        req: &ReadHistoryBranchRequest,
        cols: &str,
        lo: i64,
        hi: i64,
        n: usize,
        reverse: bool,
    ) -> Result<Vec<HistoryNode>> {
        let order = if reverse {
            " ORDER BY branch_id DESC, node_id DESC, txn_id ASC"
        } else {
            ""
        };
        let rows = self
            .cass
            .rows(
                &format!("SELECT {cols} FROM history_node WHERE tree_id = ? AND branch_id = ? AND node_id >= ? AND node_id < ?{order} LIMIT ?"),
                vals![req.tree_id.0, req.branch_id.0, lo, hi, limit(n)],
            )
            .await?;
        rows.iter().map(|r| node_of(r, req.metadata_only)).collect()
    }

    /// Up to `need` nodes of `[lo, hi)` after the keyset position `after`, in read order.
    async fn read_nodes(
        &self,
        req: &ReadHistoryBranchRequest,
        after: Option<(i64, i64)>,
        need: usize,
    ) -> Result<Vec<HistoryNode>> {
        let cols = if req.metadata_only {
            "node_id, txn_id, prev_txn_id"
        } else {
            "node_id, txn_id, prev_txn_id, data, data_encoding"
        };
        let (lo, hi) = (req.min_node_id, req.max_node_id);
        let mut out = Vec::new();
        if lo >= hi {
            return Ok(out);
        }
        // The node ids still to read: [lower, upper).
        let (mut lower, mut upper) = (lo, hi);
        if let Some((n, t)) = after {
            if (lo..hi).contains(&n) {
                // The rest of the node the last page ended in (lower transactions).
                out = self.node_versions(req, cols, n, Some(t), need).await?;
            }
            if req.reverse {
                upper = upper.min(n);
            } else {
                lower = lower.max(n.saturating_add(1));
            }
        }
        if !req.reverse {
            if out.len() < need && lower < upper {
                let more = self
                    .node_range(req, cols, lower, upper, need - out.len(), false)
                    .await?;
                out.extend(more);
            }
            return Ok(out);
        }
        // Reverse: Cassandra reads a partition only in clustering order or fully reversed, which
        // yields each node's transactions ascending. Whole nodes are regrouped; the last node of a
        // full batch may be cut short, so it is read again on its own, highest transaction first.
        while out.len() < need && lower < upper {
            let want = need - out.len();
            let rows = self.node_range(req, cols, lower, upper, want, true).await?;
            if rows.len() < want {
                out.extend(regroup_reversed(rows));
                break;
            }
            let Some(last) = rows.last().map(|r| r.node_id) else {
                break;
            };
            let whole: Vec<HistoryNode> = rows.into_iter().filter(|r| r.node_id != last).collect();
            out.extend(regroup_reversed(whole));
            let want = need - out.len();
            if want > 0 {
                let versions = self.node_versions(req, cols, last, None, want).await?;
                out.extend(versions);
            }
            upper = last;
        }
        Ok(out)
    }

    async fn delete_branch(&self, branch: &HistoryBranch) -> Result<()> {
        let tree = branch.tree_id.0;
        let rows = self
            .cass
            .rows(
                "SELECT branch_id, ancestors FROM history_tree WHERE tree_id = ?",
                vals![tree],
            )
            .await?;
        let mut tree_rows = Vec::with_capacity(rows.len());
        for row in &rows {
            tree_rows.push(StoredBranch {
                branch_id: BranchId(row.uuid("branch_id")?),
                ancestors: decode_ancestors(row)?,
            });
        }
        let mut batch = vec![Stmt::new(
            "DELETE FROM history_tree WHERE tree_id = ? AND branch_id = ?",
            vals![tree, branch.branch_id.0],
        )];
        match branch_deletion(branch, tree_rows) {
            BranchDeletion::KeepAllNodes => tracing::warn!(
                tree_id = %branch.tree_id,
                "history tree has a branch without recorded ancestors; nodes kept"
            ),
            // Clustering-range deletions: one range tombstone each.
            BranchDeletion::Nodes(ranges) => batch.extend(ranges.into_iter().map(|r| match r.end {
                Some(e) => Stmt::new(
                    "DELETE FROM history_node WHERE tree_id = ? AND branch_id = ? AND node_id >= ? AND node_id < ?",
                    vals![tree, r.branch_id.0, r.begin, e],
                ),
                None => Stmt::new(
                    "DELETE FROM history_node WHERE tree_id = ? AND branch_id = ? AND node_id >= ?",
                    vals![tree, r.branch_id.0, r.begin],
                ),
            })),
        }
        // Both tables share the partition key: the batch is a single mutation, so the tree row
        // and the node ranges go together.
        self.cass.batch(batch).await?;
        Ok(())
    }

    /// Up to `n` tree rows of the scan after `after` (token, tree, branch), with their partition
    /// tokens.
    async fn scan_trees(
        &self,
        after: Option<(i64, TreeId, BranchId)>,
        n: usize,
    ) -> Result<Vec<(i64, HistoryTreeBranch)>> {
        let mut out = Vec::new();
        let Some((tok, tree, branch)) = after else {
            let rows = self
                .cass
                .rows(
                    &format!(
                        "SELECT token(tree_id) AS tok, {TREE_COLUMNS} FROM history_tree LIMIT ?"
                    ),
                    vals![limit(n)],
                )
                .await?;
            for r in &rows {
                out.push((r.i64("tok")?, tree_branch(r)?));
            }
            return Ok(out);
        };
        // The rest of the partition the last page ended in (in the server's clustering order).
        let rest = self
            .cass
            .rows(
                &format!("SELECT {TREE_COLUMNS} FROM history_tree WHERE tree_id = ? AND branch_id > ? LIMIT ?"),
                vals![tree.0, branch.0, limit(n)],
            )
            .await?;
        for r in &rest {
            out.push((tok, tree_branch(r)?));
        }
        // Other partitions with the same token (a 64-bit hash collision: rare, but possible among
        // billions of trees) follow it in key byte order, which is the uuid's byte order.
        if out.len() < n {
            let same = self
                .cass
                .rows(
                    &format!("SELECT {TREE_COLUMNS} FROM history_tree WHERE token(tree_id) = ?"),
                    vals![tok],
                )
                .await?;
            for r in &same {
                let b = tree_branch(r)?;
                if b.branch.tree_id > tree && out.len() < n {
                    out.push((tok, b));
                }
            }
        }
        if out.len() < n {
            let rows = self
                .cass
                .rows(
                    &format!("SELECT token(tree_id) AS tok, {TREE_COLUMNS} FROM history_tree WHERE token(tree_id) > ? LIMIT ?"),
                    vals![tok, limit(n - out.len())],
                )
                .await?;
            for r in &rows {
                out.push((r.i64("tok")?, tree_branch(r)?));
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl HistoryStore for CassHistoryStore {
    async fn append_history_nodes(&self, req: AppendHistoryNodesRequest) -> Result<()> {
        append_nodes(&self.cass, &req).await
    }

    async fn read_history_branch(
        &self,
        req: ReadHistoryBranchRequest,
    ) -> Result<Page<HistoryNode>> {
        req.shard_id.validate()?;
        req.tree_id.validate()?;
        req.branch_id.validate()?;
        let page_size = validate::page_size(req.page_size)?;
        let after: Option<(i64, i64)> = match &req.next_page_token {
            None => None,
            Some(t) => Some(validate::token::decode(t)?),
        };
        // One row more than the page tells whether another page follows.
        let mut nodes = self.read_nodes(&req, after, page_size + 1).await?;
        let more = nodes.len() > page_size;
        nodes.truncate(page_size);
        let next_page_token = match (more, nodes.last()) {
            (true, Some(l)) => Some(validate::token::encode(&(l.node_id, l.txn_id))),
            _ => None,
        };
        Ok(Page {
            items: nodes,
            next_page_token,
        })
    }

    async fn fork_history_branch(&self, req: ForkHistoryBranchRequest) -> Result<HistoryBranch> {
        validate::history::fork(&req)?;
        let new_branch = HistoryBranch {
            tree_id: req.fork_branch.tree_id,
            branch_id: req.new_branch_id,
            ancestors: fork_ancestors(&req.fork_branch, req.fork_node_id),
        };
        // Only the tree row: the new branch reads its shared range under the ancestors' ids.
        let s = tree_insert(req.shard_id, &new_branch, &req.tree_info);
        self.cass.exec(&s.cql, s.vals).await?;
        Ok(new_branch)
    }

    async fn delete_history_nodes(
        &self,
        shard_id: ShardId,
        branch: &HistoryBranch,
        node_id: i64,
        txn_id: i64,
    ) -> Result<()> {
        validate::history::delete_nodes(shard_id, branch, node_id)?;
        self.cass
            .exec(
                "DELETE FROM history_node WHERE tree_id = ? AND branch_id = ? AND node_id = ? AND txn_id = ?",
                vals![branch.tree_id.0, branch.branch_id.0, node_id, txn_id],
            )
            .await
    }

    async fn delete_history_branch(&self, shard_id: ShardId, branch: &HistoryBranch) -> Result<()> {
        shard_id.validate()?;
        validate::history::branch(branch)?;
        self.delete_branch(branch).await
    }

    async fn get_history_tree(
        &self,
        shard_id: ShardId,
        tree_id: TreeId,
    ) -> Result<Vec<HistoryTreeBranch>> {
        shard_id.validate()?;
        tree_id.validate()?;
        let rows = self
            .cass
            .rows(
                &format!("SELECT {TREE_COLUMNS} FROM history_tree WHERE tree_id = ?"),
                vals![tree_id.0],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let b = tree_branch(r)?;
            // A tree belongs to one shard; rows of another shard are not this shard's (as in SQL,
            // where the shard id is part of the key).
            if b.shard_id == shard_id {
                out.push(b);
            }
        }
        // Byte order of the branch id, like the SQL store (CQL orders uuids differently).
        out.sort_by_key(|b| b.branch.branch_id);
        Ok(out)
    }

    async fn get_all_history_tree_branches(
        &self,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<HistoryTreeBranch>> {
        let page_size = validate::page_size(page_size)?;
        let after: Option<(i64, TreeId, BranchId)> = match &next_page_token {
            None => None,
            Some(t) => Some(validate::token::decode(t)?),
        };
        // A full scan in partition-token order, resumed from the last row's (token, tree,
        // branch): stable under concurrent writes (rows added behind the position are missed,
        // none is returned twice).
        let mut rows = self.scan_trees(after, page_size + 1).await?;
        let more = rows.len() > page_size;
        rows.truncate(page_size);
        let next_page_token = match (more, rows.last()) {
            (true, Some((tok, b))) => Some(validate::token::encode(&(
                *tok,
                b.branch.tree_id,
                b.branch.branch_id,
            ))),
            _ => None,
        };
        Ok(Page {
            items: rows.into_iter().map(|(_, b)| b).collect(),
            next_page_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use durastore_api::Uuid;

    fn b(n: u128) -> BranchId {
        BranchId(Uuid::from_u128(n))
    }

    fn node(node_id: i64, txn_id: i64) -> HistoryNode {
        HistoryNode {
            node_id,
            txn_id,
            prev_txn_id: 0,
            events: None,
        }
    }

    #[test]
    fn regroup_reverses_each_node() {
        let rows = vec![node(9, 1), node(7, 2), node(7, 5), node(3, 1), node(3, 4)];
        let ids: Vec<(i64, i64)> = regroup_reversed(rows)
            .iter()
            .map(|n| (n.node_id, n.txn_id))
            .collect();
        assert_eq!(ids, vec![(9, 1), (7, 5), (7, 2), (3, 4), (3, 1)]);
        assert!(regroup_reversed(Vec::new()).is_empty());
    }

    #[test]
    fn ancestors_round_trip() {
        let ranges = vec![
            BranchRange {
                branch_id: b(1),
                begin_node_id: 1,
                end_node_id: 7,
            },
            BranchRange {
                branch_id: b(2),
                begin_node_id: 7,
                end_node_id: 9,
            },
        ];
        let v = ancestors_value(&ranges);
        let CqlValue::List(items) = &v else {
            panic!("not a list")
        };
        assert_eq!(items.len(), 2);
    }
}
