//! HistoryStore on SQL: `history_node` and `history_tree` rows.
//!
//! `history_node.txn_id` is stored negated (Temporal's convention), so the ascending primary key
//! yields the highest transaction first for each node id. `history_tree.branch_ancestors` holds
//! the branch's ancestor ranges as JSON so that branch deletion can reference-count node ranges
//! without decoding the opaque tree-info blob.

use std::sync::Arc;

use async_trait::async_trait;
use durastore_api::history_tree::{BranchDeletion, StoredBranch, branch_deletion, fork_ancestors};
use durastore_api::{
    AppendHistoryNodesRequest, BranchId, BranchRange, ForkHistoryBranchRequest, HistoryBranch,
    HistoryNode, HistoryStore, HistoryTreeBranch, Page, ReadHistoryBranchRequest, Result, ShardId,
    StoreError, TreeId, validate,
};
use serde::{Deserialize, Serialize};

use crate::columns::{Columns, NamedRow};
use crate::driver::SqlTx;
use crate::paging::keyset_page;
use crate::value::Value;
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

fn encode_ancestors(ancestors: &[BranchRange]) -> Result<Vec<u8>> {
    serde_json::to_vec(ancestors)
        .map_err(|e| StoreError::internal(format!("cannot encode branch ancestors: {e}")))
}

/// Decodes the `branch_ancestors` column; `None` when the row has none recorded (a tree row
/// written by another tool), which makes reference counting impossible for that tree.
fn decode_ancestors(row: &NamedRow) -> Result<Option<Vec<BranchRange>>> {
    match row.opt_bytes("branch_ancestors")? {
        None => Ok(None),
        Some(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| StoreError::internal(format!("stored branch ancestors are corrupt: {e}"))),
    }
}

/// Appends one history node (and the tree row for a new branch), validating the request first.
/// Shared with the execution store, which appends `*_events` before its state transaction.
pub(crate) async fn append_nodes(store: &SqlStore, req: &AppendHistoryNodesRequest) -> Result<()> {
    validate::history::append(req)?;
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
        const COLUMNS: Columns = Columns(&["branch_id", "branch_ancestors"]);
        let sql = format!(
            "SELECT {} FROM history_tree WHERE shard_id = ? AND tree_id = ?{}",
            COLUMNS.list(),
            self.dialect().lock_update()
        );
        let rows = tx.query(&sql, &params![shard_id.0, tree]).await?;
        let mut tree_rows = Vec::with_capacity(rows.len());
        for row in &rows {
            let row = COLUMNS.read(row);
            tree_rows.push(StoredBranch {
                branch_id: BranchId::from_slice(&row.bytes("branch_id")?)?,
                ancestors: decode_ancestors(&row)?,
            });
        }
        tx.execute(
            "DELETE FROM history_tree WHERE shard_id = ? AND tree_id = ? AND branch_id = ?",
            &params![shard_id.0, tree, branch.branch_id.as_bytes()],
        )
        .await?;
        let ranges = match branch_deletion(branch, tree_rows) {
            BranchDeletion::Nodes(ranges) => ranges,
            BranchDeletion::KeepAllNodes => {
                tracing::warn!(
                    tree_id = %branch.tree_id,
                    "history tree has a branch without recorded ancestors; nodes kept"
                );
                return Ok(());
            }
        };
        for r in ranges {
            let mut sql = String::from(
                "DELETE FROM history_node WHERE shard_id = ? AND tree_id = ? AND branch_id = ? AND node_id >= ?",
            );
            let mut p = params![shard_id.0, tree, r.branch_id.as_bytes(), r.begin];
            if let Some(e) = r.end {
                sql.push_str(" AND node_id < ?");
                p.push(Value::Int(e));
            }
            tx.execute(&sql, &p).await?;
        }
        Ok(())
    }
}

/// What [`tree_branch`] reads (a SELECT may list more columns before these).
const TREE_BRANCH_COLUMNS: Columns =
    Columns(&["branch_id", "data", "data_encoding", "branch_ancestors"]);
/// The tree rows of every shard: every column of the table ([`TREE_COLUMNS`]).
const ALL_TREE_COLUMNS: Columns = Columns(TREE_COLUMNS);

fn tree_branch(shard_id: ShardId, tree_id: TreeId, row: &NamedRow) -> Result<HistoryTreeBranch> {
    Ok(HistoryTreeBranch {
        shard_id,
        branch: HistoryBranch {
            tree_id,
            branch_id: BranchId::from_slice(&row.bytes("branch_id")?)?,
            ancestors: decode_ancestors(row)?.unwrap_or_default(),
        },
        tree_info: row.blob("data", "data_encoding")?,
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
            Columns(&["node_id", "txn_id", "prev_txn_id"])
        } else {
            Columns(&["node_id", "txn_id", "prev_txn_id", "data", "data_encoding"])
        };
        let mut sql = format!(
            "SELECT {} FROM history_node WHERE shard_id = ? AND tree_id = ? AND branch_id = ? AND node_id >= ? AND node_id < ?",
            columns.list()
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
            let row = columns.read(row);
            let node_id = row.i64("node_id")?;
            let stored_txn = row.i64("txn_id")?;
            last = Some(NodeToken {
                n: node_id,
                t: stored_txn,
            });
            items.push(HistoryNode {
                node_id,
                txn_id: -stored_txn,
                prev_txn_id: row.i64("prev_txn_id")?,
                events: if req.metadata_only {
                    None
                } else {
                    Some(row.blob("data", "data_encoding")?)
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
        validate::history::fork(&req)?;
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
        validate::history::delete_nodes(shard_id, branch, node_id)?;
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
        validate::history::branch(branch)?;
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
                &format!(
                    "SELECT {} FROM history_tree WHERE shard_id = ? AND tree_id = ? ORDER BY branch_id",
                    TREE_BRANCH_COLUMNS.list()
                ),
                &params![shard_id.0, tree_id.as_bytes()],
            )
            .await?;
        rows.iter()
            .map(|r| tree_branch(shard_id, tree_id, &TREE_BRANCH_COLUMNS.read(r)))
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
        let mut sql = format!("SELECT {} FROM history_tree", ALL_TREE_COLUMNS.list());
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
                let row = ALL_TREE_COLUMNS.read(row);
                let shard_id = ShardId(row.i32("shard_id")?);
                let tree_id = TreeId::from_slice(&row.bytes("tree_id")?)?;
                tree_branch(shard_id, tree_id, &row)
            },
            |last| TreeToken {
                s: last.shard_id.0,
                t: last.branch.tree_id,
                b: last.branch.branch_id,
            },
        )
    }
}
