//! Visibility cases: pagination (page sizes, tokens, ties, records arriving while paging).

use std::collections::BTreeSet;
use std::sync::Arc;

use durastore_api::validate::MAX_PAGE_SIZE;
use durastore_api::{
    ErrorKind, NamespaceId, Page, RunId, SearchAttributeValue, VisibilityRecord, VisibilityStore,
    WorkflowStatus,
};

use super::helpers::{
    at, closed, count, fresh_namespace, in_list_order, kw, list_ids, list_pages, request, running,
    seed_plain, vis, with_attrs, write,
};
use crate::check::{expect_err, ok};
use crate::{CaseError, Ctx, ensure, ensure_eq};

/// Page size 1: one record per page, a token on every page but the last, the default order.
pub async fn page_size_one(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let recs = seed_plain(s, ns, 5).await?;
    let pages = list_pages(s, ns, "", 1).await?;
    ensure_eq!(pages.len(), 5, "five pages of one");
    let got: Vec<RunId> = pages
        .iter()
        .flat_map(|p| p.items.iter().map(|r| r.run_id))
        .collect();
    ensure_eq!(got, in_list_order(&recs));
    for (i, p) in pages.iter().enumerate() {
        ensure_eq!(p.next_page_token.is_some(), i < 4, "token on page {i}");
    }
    Ok(())
}

/// A count that is an exact multiple of the page size ends without an empty page; a page size
/// above the count gives one page without a token.
pub async fn page_exact_multiple(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let recs = seed_plain(s, ns, 6).await?;
    let want = in_list_order(&recs);
    for (size, pages) in [(2, 3), (3, 2), (6, 1), (7, 1), (100, 1)] {
        let got = list_pages(s, ns, "", size).await?;
        ensure_eq!(got.len(), pages, "pages at page size {size}");
        let ids: Vec<RunId> = got
            .iter()
            .flat_map(|p| p.items.iter().map(|r| r.run_id))
            .collect();
        ensure_eq!(ids, want, "records at page size {size}");
        ensure!(
            got.last().is_some_and(|p| p.next_page_token.is_none()),
            "the last page at page size {size} has a token"
        );
    }
    Ok(())
}

/// No match (or an empty namespace) is one empty page without a token.
pub async fn page_empty_result(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    for q in ["", "WorkflowId = 'nothing'"] {
        let p = ok("list", s.list(request(ns, q, 10, None)).await)?;
        ensure!(
            p.items.is_empty(),
            "{q:?} in an empty namespace: {:?}",
            p.items
        );
        ensure!(
            p.next_page_token.is_none(),
            "{q:?}: empty result with a token"
        );
    }
    seed_plain(s, ns, 3).await?;
    let p = ok(
        "list",
        s.list(request(ns, "WorkflowId = 'nothing'", 10, None))
            .await,
    )?;
    ensure!(p.items.is_empty() && p.next_page_token.is_none(), "{p:?}");
    Ok(())
}

/// Page sizes outside 1..=MAX_PAGE_SIZE are `InvalidArgument`; the bounds themselves work.
pub async fn page_size_bounds(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    seed_plain(s, ns, 2).await?;
    for size in [0, -1, i32::MIN, MAX_PAGE_SIZE + 1, i32::MAX] {
        expect_err(
            &format!("list with page size {size}"),
            s.list(request(ns, "", size, None)).await,
            ErrorKind::InvalidArgument,
        )?;
    }
    for size in [1, MAX_PAGE_SIZE] {
        ok("list at a bound", s.list(request(ns, "", size, None)).await)?;
    }
    Ok(())
}

/// A first page with a token for `query` at page size 2 (the namespace has enough matches).
async fn first_token(
    s: &dyn VisibilityStore,
    ns: NamespaceId,
    query: &str,
) -> Result<Vec<u8>, CaseError> {
    let p = ok("list", s.list(request(ns, query, 2, None)).await)?;
    p.next_page_token
        .ok_or_else(|| CaseError::new(format!("{query:?}: the first page of 2 has no token")))
}

/// Garbage page tokens are `InvalidArgument`: random bytes, empty, oversized, truncated.
pub async fn page_garbage_token(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    seed_plain(s, ns, 5).await?;
    let real = first_token(s, ns, "").await?;
    let garbage: Vec<(&str, Vec<u8>)> = vec![
        ("text", b"garbage".to_vec()),
        ("0xff bytes", vec![0xff; 64]),
        ("empty", Vec::new()),
        ("5000 bytes", vec![b'a'; 5000]),
        ("json", b"{\"CloseTime\":1}".to_vec()),
        ("truncated", real[..real.len() / 2].to_vec()),
    ];
    for (what, token) in garbage {
        expect_err(
            &format!("list with a {what} token"),
            s.list(request(ns, "", 2, Some(token))).await,
            ErrorKind::InvalidArgument,
        )?;
    }
    ok(
        "the real token still works",
        s.list(request(ns, "", 2, Some(real))).await,
    )?;
    Ok(())
}

/// A token is bound to its query and namespace: using it with another query or in another
/// namespace is `InvalidArgument`.
pub async fn page_token_from_other_query(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let other_ns = fresh_namespace(s).await?;
    for n in [ns, other_ns] {
        for i in 0..6 {
            let r = with_attrs(
                &running(n, &format!("wf-{i}"), at(i, 0)),
                1,
                &[("CustomKeywordField", kw(if i % 2 == 0 { "a" } else { "b" }))],
            );
            write(s, &r).await?;
        }
    }
    let q = "CustomKeywordField = 'a'";
    let token = first_token(s, ns, q).await?;
    for other in [
        "CustomKeywordField = 'b'",
        "",
        "CustomKeywordField = 'a' OR CustomKeywordField = 'b'",
    ] {
        expect_err(
            &format!("token of {q:?} used with {other:?}"),
            s.list(request(ns, other, 2, Some(token.clone()))).await,
            ErrorKind::InvalidArgument,
        )?;
    }
    expect_err(
        "token used in another namespace",
        s.list(request(other_ns, q, 2, Some(token.clone()))).await,
        ErrorKind::InvalidArgument,
    )?;
    let next = ok(
        "token with its own query",
        s.list(request(ns, q, 2, Some(token))).await,
    )?;
    ensure_eq!(next.items.len(), 1, "the second page of three matches");
    Ok(())
}

/// The same token gives the same page twice (tokens are stable).
pub async fn page_token_is_stable(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    seed_plain(s, ns, 7).await?;
    let token = first_token(s, ns, "").await?;
    let a = ok(
        "page 2",
        s.list(request(ns, "", 2, Some(token.clone()))).await,
    )?;
    // Writes elsewhere do not move the position.
    let other = fresh_namespace(s).await?;
    seed_plain(s, other, 3).await?;
    let b = ok(
        "page 2 again",
        s.list(request(ns, "", 2, Some(token))).await,
    )?;
    let ids = |p: &Page<VisibilityRecord>| p.items.iter().map(|r| r.run_id).collect::<Vec<_>>();
    ensure_eq!(ids(&a), ids(&b), "the same token twice");
    ensure_eq!(a.next_page_token.is_some(), b.next_page_token.is_some());
    Ok(())
}

/// The page size may change between pages: the pages still continue exactly.
pub async fn page_size_changes_between_pages(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let recs = seed_plain(s, ns, 10).await?;
    let mut got = Vec::new();
    let mut token = None;
    for size in [2, 3, 1, 10] {
        let p = ok("list", s.list(request(ns, "", size, token.clone())).await)?;
        got.extend(p.items.iter().map(|r| r.run_id));
        token = p.next_page_token;
        if token.is_none() {
            break;
        }
    }
    ensure!(token.is_none(), "pages of 2, 3, 1, 10 cover 10 records");
    ensure_eq!(got, in_list_order(&recs));
    Ok(())
}

/// Temporal's advanced pagination: a filtered listing with ties on close and start time gives
/// the same sequence at every page size from 1 to above the count.
pub async fn advanced_pagination(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let mut mine = Vec::new();
    for i in 0..14i64 {
        let mut r = running(ns, &format!("wf-{i}"), at(i % 3, 0));
        r.workflow_type = if i % 4 == 3 { "Other" } else { "Paged" }.to_string();
        let r = if i % 2 == 0 {
            closed(
                &r,
                at(100 + i % 2 * 5 + i % 5, 0),
                WorkflowStatus::Completed,
            )
        } else {
            r
        };
        write(s, &r).await?;
        if r.workflow_type == "Paged" {
            mine.push(r);
        }
    }
    let want = in_list_order(&mine);
    for size in 1..=(want.len() as i32 + 1) {
        let got = list_ids(s, ns, "WorkflowType = 'Paged'", size).await?;
        ensure_eq!(got, want, "order at page size {size}");
    }
    Ok(())
}

/// Records with identical close and start times are ordered by run id, across page boundaries.
pub async fn paging_ties_by_run_id(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let mut recs = Vec::new();
    for i in 0..12 {
        let r = running(ns, &format!("wf-{i}"), at(0, 0));
        let r = if i >= 7 {
            closed(&r, at(50, 0), WorkflowStatus::Completed)
        } else {
            r
        };
        write(s, &r).await?;
        recs.push(r);
    }
    let want = in_list_order(&recs);
    let mut running_ids: Vec<RunId> = recs
        .iter()
        .filter(|r| r.close_time.is_none())
        .map(|r| r.run_id)
        .collect();
    running_ids.sort();
    ensure_eq!(want[..7].to_vec(), running_ids, "case bug: tie order");
    for size in [1, 2, 5, 12] {
        ensure_eq!(
            list_ids(s, ns, "", size).await?,
            want,
            "order at page size {size}"
        );
    }
    Ok(())
}

/// Checks a listing taken while records were added: every pre-existing record exactly once, in
/// order; nothing twice; nothing unknown.
fn check_listing_under_writes(
    got: &[RunId],
    before: &[RunId],
    added: &BTreeSet<RunId>,
) -> Result<(), CaseError> {
    let mut seen = BTreeSet::new();
    for id in got {
        ensure!(
            seen.insert(*id),
            "record {id} listed twice (listing {got:?})"
        );
        ensure!(
            before.contains(id) || added.contains(id),
            "listed record {id} was never written here"
        );
    }
    let old: Vec<RunId> = got
        .iter()
        .filter(|id| before.contains(id))
        .copied()
        .collect();
    ensure_eq!(
        old,
        before.to_vec(),
        "every record present before the listing, exactly once and in order"
    );
    Ok(())
}

/// New records written between pages (before, inside and after the remaining range) neither
/// duplicate nor hide the records that existed when the listing began.
pub async fn paging_while_records_arrive(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let mut recs = Vec::new();
    for i in 1..=20 {
        let r = running(ns, &format!("wf-{i}"), at(i * 10, 0));
        let r = if i % 4 == 0 {
            closed(&r, at(1000 + i, 0), WorkflowStatus::Completed)
        } else {
            r
        };
        write(s, &r).await?;
        recs.push(r);
    }
    let before = in_list_order(&recs);
    let mut added = BTreeSet::new();
    let mut got = Vec::new();
    let mut token = None;
    let mut round = 0i64;
    loop {
        let p = ok("list", s.list(request(ns, "", 4, token.clone())).await)?;
        got.extend(p.items.iter().map(|r| r.run_id));
        token = p.next_page_token;
        if token.is_none() {
            break;
        }
        ensure!(round < 50, "more than 50 pages");
        round += 1;
        // One record sorting before the cursor, one in the middle of the rest, one at the end,
        // and one closed record.
        for (secs, close) in [
            (5000 + round, None),
            (round * 17 % 200 + 3, None),
            (-round, None),
            (round * 13 % 200 + 1, Some(1000 + round * 7 % 20)),
        ] {
            let r = running(ns, &format!("new-{round}-{secs}"), at(secs, 1));
            let r = match close {
                Some(c) => closed(&r, at(c, 1), WorkflowStatus::Failed),
                None => r,
            };
            write(s, &r).await?;
            added.insert(r.run_id);
        }
    }
    check_listing_under_writes(&got, &before, &added)
}

/// Upserts of listed and not-yet-listed records between pages do not change their position:
/// the listing is exactly the original order.
pub async fn paging_while_records_upserted(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let recs = seed_plain(s, ns, 15).await?;
    let want = in_list_order(&recs);
    let mut got = Vec::new();
    let mut token = None;
    let mut version = 10;
    loop {
        let p = ok("list", s.list(request(ns, "", 4, token.clone())).await)?;
        got.extend(p.items.iter().map(|r| r.run_id));
        token = p.next_page_token;
        if token.is_none() {
            break;
        }
        ensure!(version < 1000, "too many pages");
        version += 1;
        for r in &recs {
            let up = with_attrs(
                r,
                r.task_id + version,
                &[("CustomIntField", SearchAttributeValue::Int(version))],
            );
            ok("upsert", s.upsert(up).await)?;
        }
    }
    ensure_eq!(got, want);
    Ok(())
}

/// A writer inserting records concurrently with a paged listing: the records present before
/// the listing began come exactly once, in order.
pub async fn paging_concurrent_writers(ctx: &Ctx) -> Result<(), CaseError> {
    let store = Arc::clone(ctx.visibility()?);
    let s = store.as_ref();
    let ns = fresh_namespace(s).await?;
    let recs = seed_plain(s, ns, 24).await?;
    let before = in_list_order(&recs);
    let writer_store = Arc::clone(&store);
    let writer = tokio::spawn(async move {
        let mut added = Vec::new();
        for i in 0..40i64 {
            let r = running(ns, &format!("concurrent-{i}"), at((i * 37) % 40 - 5, 3));
            let r = if i % 3 == 0 {
                closed(&r, at(990 + i % 15, 3), WorkflowStatus::Canceled)
            } else {
                r
            };
            let id = r.run_id;
            let res = if r.close_time.is_some() {
                writer_store.record_closed(r).await
            } else {
                writer_store.record_started(r).await
            };
            res?;
            added.push(id);
            tokio::task::yield_now().await;
        }
        Ok::<_, durastore_api::StoreError>(added)
    });
    let mut got = Vec::new();
    let mut token = None;
    for _ in 0..1000 {
        let p = ok("list", s.list(request(ns, "", 3, token.clone())).await)?;
        got.extend(p.items.iter().map(|r| r.run_id));
        token = p.next_page_token;
        if token.is_none() {
            break;
        }
    }
    ensure!(token.is_none(), "the listing did not end");
    let added = writer
        .await
        .map_err(|e| CaseError::new(format!("writer task failed: {e}")))?;
    let added: BTreeSet<RunId> = ok("concurrent writer", added)?.into_iter().collect();
    check_listing_under_writes(&got, &before, &added)?;
    ensure_eq!(
        count(s, ns, "").await?,
        (before.len() + added.len()) as i64,
        "every record after the writer finished"
    );
    Ok(())
}
