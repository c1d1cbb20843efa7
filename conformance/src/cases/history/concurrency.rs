//! History cases: concurrent appends to different branches of one tree.

use std::sync::Arc;

use durastore_api::{BranchId, HistoryBranch, HistoryTreeBranch, TreeId};

use super::helpers::{ReadOpts, Written, append_all, ascending, read_nodes, tree_info};
use crate::cases::shard::join;
use crate::check::ok;
use crate::{CaseError, Ctx, ensure_eq};

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
