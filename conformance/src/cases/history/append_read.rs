//! History cases: appends (upserts, shadowing) and ordered, paged reads.

use durastore_api::{BranchId, HistoryNode};

use super::helpers::{ReadOpts, Tree, Written, append_req, ascending, ids, read_pages};
use crate::check::ok;
use crate::fixtures::blob;
use crate::{CaseError, Ctx, ensure, ensure_eq};

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
