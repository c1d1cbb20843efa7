//! HistoryStore on SQL: `history_node` and `history_tree` rows.
//!
//! `history_node.txn_id` is stored negated (Temporal's convention), so the ascending primary key
//! yields the highest transaction first for each node id. `history_tree.branch_ancestors` holds
//! the branch's ancestor ranges as JSON so that branch deletion can reference-count node ranges
//! without decoding the opaque tree-info blob.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use durastore_api::{
    AppendHistoryNodesRequest, BranchId, BranchRange, ForkHistoryBranchRequest, HistoryBranch,
    HistoryNode, HistoryStore, HistoryTreeBranch, Page, ReadHistoryBranchRequest, Result, ShardId,
    StoreError, TreeId, validate,
};
use serde::{Deserialize, Serialize};

use crate::driver::SqlTx;
use crate::paging::keyset_page;
use crate::value::{Row, Value};
use crate::{SqlStore, params};

pub(crate) fn make(store: &Arc<SqlStore>) -> Option<Arc<dyn HistoryStore>> {
    Some(store.clone() as Arc<dyn HistoryStore>)
}

const NODE_COLUMNS: &[&str] = &[
    "shard_id",
    "tree_id",
    "branch_id",
    "node_id",
    "txn_id",
    "prev_txn_id",
    "data",
    "data_encoding",
];
const NODE_KEY: &[&str] = &["shard_id", "tree_id", "branch_id", "node_id", "txn_id"];
const TREE_COLUMNS: &[&str] = &[
    "shard_id",
    "tree_id",
    "branch_id",
    "data",
    "data_encoding",
    "branch_ancestors",
];
const TREE_KEY: &[&str] = &["shard_id", "tree_id", "branch_id"];

/// Checks a branch's ids and the shape of its ancestor ranges.
fn validate_branch(branch: &HistoryBranch) -> Result<()> {
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

fn encode_ancestors(ancestors: &[BranchRange]) -> Result<Vec<u8>> {
    serde_json::to_vec(ancestors)
        .map_err(|e| StoreError::internal(format!("cannot encode branch ancestors: {e}")))
}

/// Decodes the `branch_ancestors` column; `None` when the row has none recorded (a tree row
/// written by another tool), which makes reference counting impossible for that tree.
fn decode_ancestors(row: &Row, i: usize) -> Result<Option<Vec<BranchRange>>> {
    match row.opt_bytes(i)? {
        None => Ok(None),
        Some(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| StoreError::internal(format!("stored branch ancestors are corrupt: {e}"))),
    }
}

/// Validates an append without touching the database.
pub(crate) fn validate_append(req: &AppendHistoryNodesRequest) -> Result<()> {
    req.shard_id.validate()?;
    validate_branch(&req.branch)?;
    validate::non_empty_blob("history events", &req.events)?;
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
    validate::non_negative("transaction id", req.txn_id)?;
    if req.is_new_branch {
        validate::blob("history tree info", &req.tree_info)?;
    }
    Ok(())
}

/// Appends one history node (and the tree row for a new branch), validating the request first.
/// Shared with the execution store, which appends `*_events` before its state transaction.
pub(crate) async fn append_nodes(store: &SqlStore, req: &AppendHistoryNodesRequest) -> Result<()> {
    validate_append(req)?;
    let node_sql = store
        .dialect()
        .upsert("history_node", NODE_COLUMNS, NODE_KEY);
    let node_params = params![
        req.shard_id.0,
        req.branch.tree_id.as_bytes(),
        req.branch.branch_id.as_bytes(),
        req.node_id,
        // Negated: ascending key order is highest transaction first.
        -req.txn_id,
        req.prev_txn_id,
        req.events.data.as_slice(),
        &req.events.encoding
    ];
    if !req.is_new_branch {
        store.driver.execute(&node_sql, &node_params).await?;
        return Ok(());
    }
    let tree_sql = store
        .dialect()
        .upsert("history_tree", TREE_COLUMNS, TREE_KEY);
    let tree_params = params![
        req.shard_id.0,
        req.branch.tree_id.as_bytes(),
        req.branch.branch_id.as_bytes(),
        req.tree_info.data.as_slice(),
        &req.tree_info.encoding,
        encode_ancestors(&req.branch.ancestors)?
    ];
    let mut tx = store.driver.begin().await?;
    let result = async {
        tx.execute(&node_sql, &node_params).await?;
        tx.execute(&tree_sql, &tree_params).await?;
        Ok(())
    }
    .await;
    SqlStore::finish(tx, result).await
}

/// Keyset position of a history read: the last returned node id and its stored (negated) txn id.
#[derive(Serialize, Deserialize)]
struct NodeToken {
    n: i64,
    t: i64,
}

/// Keyset position of the all-branches scan.
#[derive(Serialize, Deserialize)]
struct TreeToken {
    s: i32,
    t: TreeId,
    b: BranchId,
}

/// One tree row as loaded for reference counting.
struct TreeRow {
    branch_id: BranchId,
    ancestors: Option<Vec<BranchRange>>,
}

/// The new branch's ancestors when forking `fork` at `fork_node_id`: the fork branch's ranges cut
/// at the fork point, plus the fork branch's own range up to it.
fn fork_ancestors(fork: &HistoryBranch, fork_node_id: i64) -> Vec<BranchRange> {
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

/// Node ranges `[begin, end)` (end `None` = unbounded) of each branch id still referenced by the
/// branches that remain.
fn referenced_ranges(remaining: &[TreeRow]) -> BTreeMap<BranchId, Vec<(i64, Option<i64>)>> {
    let mut refs: BTreeMap<BranchId, Vec<(i64, Option<i64>)>> = BTreeMap::new();
    for r in remaining {
        let ancestors = r.ancestors.as_deref().unwrap_or_default();
        for a in ancestors {
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

impl SqlStore {
    async fn history_delete_branch_tx(
        &self,
        tx: &mut dyn SqlTx,
        shard_id: ShardId,
        branch: &HistoryBranch,
    ) -> Result<()> {
        let tree = branch.tree_id.as_bytes();
        // Locking every row of the tree serializes concurrent deletions of its branches, so
        // each one sees the others' tree rows gone or present, never half-way.
        let sql = format!(
            "SELECT branch_id, branch_ancestors FROM history_tree WHERE shard_id = ? AND tree_id = ?{}",
            self.dialect().lock_update()
        );
        let rows = tx.query(&sql, &params![shard_id.0, tree]).await?;
        let mut all = Vec::with_capacity(rows.len());
        for row in &rows {
            all.push(TreeRow {
                branch_id: BranchId::from_slice(&row.bytes(0)?)?,
                ancestors: decode_ancestors(row, 1)?,
            });
        }
        let (mine, remaining): (Vec<TreeRow>, Vec<TreeRow>) = all
            .into_iter()
            .partition(|r| r.branch_id == branch.branch_id);
        tx.execute(
            "DELETE FROM history_tree WHERE shard_id = ? AND tree_id = ? AND branch_id = ?",
            &params![shard_id.0, tree, branch.branch_id.as_bytes()],
        )
        .await?;
        if remaining.iter().any(|r| r.ancestors.is_none()) {
            // A branch whose ranges are unknown may reference any node: keep them all.
            tracing::warn!(
                tree_id = %branch.tree_id,
                "history tree has a branch without recorded ancestors; nodes kept"
            );
            return Ok(());
        }
        // The stored ancestors are authoritative; the caller's copy serves when the row is gone.
        let ancestors = mine
            .into_iter()
            .find_map(|r| r.ancestors)
            .unwrap_or_else(|| branch.ancestors.clone());
        let own_begin = ancestors.last().map_or(1, |a| a.end_node_id);
        let refs = referenced_ranges(&remaining);
        let mut targets: Vec<(BranchId, i64)> = vec![(branch.branch_id, own_begin)];
        targets.extend(ancestors.iter().map(|a| (a.branch_id, a.begin_node_id)));
        let mut done = HashSet::new();
        for (target, from) in targets {
            if !done.insert((target, from)) {
                continue;
            }
            let used = refs.get(&target).map(Vec::as_slice).unwrap_or_default();
            for (begin, end) in unreferenced_gaps(from, used) {
                let mut sql = String::from(
                    "DELETE FROM history_node WHERE shard_id = ? AND tree_id = ? AND branch_id = ? AND node_id >= ?",
                );
                let mut p = params![shard_id.0, tree, target.as_bytes(), begin];
                if let Some(e) = end {
                    sql.push_str(" AND node_id < ?");
                    p.push(Value::Int(e));
                }
                tx.execute(&sql, &p).await?;
            }
        }
        Ok(())
    }
}

fn tree_branch(
    shard_id: ShardId,
    tree_id: TreeId,
    row: &Row,
    first: usize,
) -> Result<HistoryTreeBranch> {
    Ok(HistoryTreeBranch {
        shard_id,
        branch: HistoryBranch {
            tree_id,
            branch_id: BranchId::from_slice(&row.bytes(first)?)?,
            ancestors: decode_ancestors(row, first + 3)?.unwrap_or_default(),
        },
        tree_info: row.blob(first + 1, first + 2)?,
    })
}

#[async_trait]
impl HistoryStore for SqlStore {
    async fn append_history_nodes(&self, req: AppendHistoryNodesRequest) -> Result<()> {
        append_nodes(self, &req).await
    }

    async fn read_history_branch(
        &self,
        req: ReadHistoryBranchRequest,
    ) -> Result<Page<HistoryNode>> {
        req.shard_id.validate()?;
        req.tree_id.validate()?;
        req.branch_id.validate()?;
        let page_size = validate::page_size(req.page_size)?;
        let after: Option<NodeToken> = match &req.next_page_token {
            None => None,
            Some(t) => Some(validate::token::decode(t)?),
        };
        let columns = if req.metadata_only {
            "node_id, txn_id, prev_txn_id"
        } else {
            "node_id, txn_id, prev_txn_id, data, data_encoding"
        };
        let mut sql = format!(
            "SELECT {columns} FROM history_node WHERE shard_id = ? AND tree_id = ? AND branch_id = ? AND node_id >= ? AND node_id < ?"
        );
        let mut p = params![
            req.shard_id.0,
            req.tree_id.as_bytes(),
            req.branch_id.as_bytes(),
            req.min_node_id,
            req.max_node_id
        ];
        if let Some(t) = &after {
            // Within the same node, stored (negated) txn ids ascend in both directions.
            let cmp = if req.reverse { "<" } else { ">" };
            sql.push_str(&format!(
                " AND ((node_id = ? AND txn_id > ?) OR node_id {cmp} ?)"
            ));
            p.extend(params![t.n, t.t, t.n]);
        }
        let dir = if req.reverse { "DESC" } else { "ASC" };
        sql.push_str(&format!(" ORDER BY node_id {dir}, txn_id ASC LIMIT ?"));
        p.push(Value::Int(page_size as i64 + 1));
        let rows = self.driver.query(&sql, &p).await?;
        let more = rows.len() > page_size;
        let mut items = Vec::with_capacity(rows.len().min(page_size));
        let mut last = None;
        for row in rows.iter().take(page_size) {
            let node_id = row.i64(0)?;
            let stored_txn = row.i64(1)?;
            last = Some(NodeToken {
                n: node_id,
                t: stored_txn,
            });
            items.push(HistoryNode {
                node_id,
                txn_id: -stored_txn,
                prev_txn_id: row.i64(2)?,
                events: if req.metadata_only {
                    None
                } else {
                    Some(row.blob(3, 4)?)
                },
            });
        }
        let next_page_token = match (more, last) {
            (true, Some(l)) => Some(validate::token::encode(&l)),
            _ => None,
        };
        Ok(Page {
            items,
            next_page_token,
        })
    }

    async fn fork_history_branch(&self, req: ForkHistoryBranchRequest) -> Result<HistoryBranch> {
        req.shard_id.validate()?;
        validate_branch(&req.fork_branch)?;
        req.new_branch_id.validate()?;
        validate::blob("history tree info", &req.tree_info)?;
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
        let new_branch = HistoryBranch {
            tree_id: req.fork_branch.tree_id,
            branch_id: req.new_branch_id,
            ancestors: fork_ancestors(&req.fork_branch, req.fork_node_id),
        };
        // Upsert, so a retried fork (same new branch id) succeeds.
        let sql = self
            .dialect()
            .upsert("history_tree", TREE_COLUMNS, TREE_KEY);
        self.driver
            .execute(
                &sql,
                &params![
                    req.shard_id.0,
                    new_branch.tree_id.as_bytes(),
                    new_branch.branch_id.as_bytes(),
                    req.tree_info.data.as_slice(),
                    &req.tree_info.encoding,
                    encode_ancestors(&new_branch.ancestors)?
                ],
            )
            .await?;
        Ok(new_branch)
    }

    async fn delete_history_nodes(
        &self,
        shard_id: ShardId,
        branch: &HistoryBranch,
        node_id: i64,
        txn_id: i64,
    ) -> Result<()> {
        shard_id.validate()?;
        validate_branch(branch)?;
        let begin = branch.begin_node_id();
        if node_id < begin {
            return Err(StoreError::invalid_argument(format!(
                "cannot delete node {node_id}: it belongs to an ancestor (branch {} begins at node {begin})",
                branch.branch_id
            )));
        }
        self.driver
            .execute(
                "DELETE FROM history_node WHERE shard_id = ? AND tree_id = ? AND branch_id = ? AND node_id = ? AND txn_id = ?",
                &params![
                    shard_id.0,
                    branch.tree_id.as_bytes(),
                    branch.branch_id.as_bytes(),
                    node_id,
                    -txn_id
                ],
            )
            .await?;
        Ok(())
    }

    async fn delete_history_branch(&self, shard_id: ShardId, branch: &HistoryBranch) -> Result<()> {
        shard_id.validate()?;
        validate_branch(branch)?;
        let mut tx = self.driver.begin().await?;
        let result = self
            .history_delete_branch_tx(tx.as_mut(), shard_id, branch)
            .await;
        SqlStore::finish(tx, result).await
    }

    async fn get_history_tree(
        &self,
        shard_id: ShardId,
        tree_id: TreeId,
    ) -> Result<Vec<HistoryTreeBranch>> {
        shard_id.validate()?;
        tree_id.validate()?;
        let rows = self
            .driver
            .query(
                "SELECT branch_id, data, data_encoding, branch_ancestors FROM history_tree WHERE shard_id = ? AND tree_id = ? ORDER BY branch_id",
                &params![shard_id.0, tree_id.as_bytes()],
            )
            .await?;
        rows.iter()
            .map(|r| tree_branch(shard_id, tree_id, r, 0))
            .collect()
    }

    async fn get_all_history_tree_branches(
        &self,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<HistoryTreeBranch>> {
        let page_size = validate::page_size(page_size)?;
        let after: Option<TreeToken> = match &next_page_token {
            None => None,
            Some(t) => Some(validate::token::decode(t)?),
        };
        let mut sql = String::from(
            "SELECT shard_id, tree_id, branch_id, data, data_encoding, branch_ancestors FROM history_tree",
        );
        let mut p = Vec::new();
        if let Some(t) = &after {
            // The tuple comparison spelled out, so every database can use the primary key.
            sql.push_str(
                " WHERE shard_id > ? OR (shard_id = ? AND tree_id > ?) OR (shard_id = ? AND tree_id = ? AND branch_id > ?)",
            );
            p = params![
                t.s,
                t.s,
                t.t.as_bytes(),
                t.s,
                t.t.as_bytes(),
                t.b.as_bytes()
            ];
        }
        sql.push_str(" ORDER BY shard_id, tree_id, branch_id LIMIT ?");
        p.push(Value::Int(page_size as i64 + 1));
        let rows = self.driver.query(&sql, &p).await?;
        keyset_page(
            &rows,
            page_size,
            |row| {
                let shard_id = ShardId(row.i32(0)?);
                let tree_id = TreeId::from_slice(&row.bytes(1)?)?;
                tree_branch(shard_id, tree_id, row, 2)
            },
            |last| TreeToken {
                s: last.shard_id.0,
                t: last.branch.tree_id,
                b: last.branch.branch_id,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(n: u128) -> BranchId {
        BranchId(durastore_api::Uuid::from_u128(n))
    }

    #[test]
    fn fork_cuts_ancestors() {
        let t = TreeId(durastore_api::Uuid::from_u128(9));
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
}
