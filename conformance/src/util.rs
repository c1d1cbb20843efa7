//! Helpers shared by cases (and usable by third-party cases): racing writers and following
//! page tokens.

use std::future::Future;
use std::sync::Arc;

use durastore_api::{Page, Result as StoreResult};

use crate::check::ok;
use crate::{CaseError, ensure};

/// Upper bound on pages a listing may take before a case calls it an endless loop.
pub const MAX_PAGES: usize = 100_000;

/// Runs the futures as separate tokio tasks released together by a barrier, so they really race
/// on a multi-threaded runtime; returns their results in input order.
pub async fn race<T, F>(futs: Vec<F>) -> Result<Vec<StoreResult<T>>, CaseError>
where
    T: Send + 'static,
    F: Future<Output = StoreResult<T>> + Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(futs.len()));
    let handles: Vec<_> = futs
        .into_iter()
        .map(|f| {
            let b = Arc::clone(&barrier);
            tokio::spawn(async move {
                b.wait().await;
                f.await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(
            h.await
                .map_err(|e| CaseError::new(format!("racing task failed: {e}")))?,
        );
    }
    Ok(out)
}

/// Follows page tokens until a page has none; fails on a token that does not advance.
pub async fn collect_pages<T, F, Fut>(what: &str, mut fetch: F) -> Result<Vec<Page<T>>, CaseError>
where
    F: FnMut(Option<Vec<u8>>) -> Fut,
    Fut: Future<Output = StoreResult<Page<T>>>,
{
    let mut out = Vec::new();
    let mut token: Option<Vec<u8>> = None;
    loop {
        let page = ok(what, fetch(token.clone()).await)?;
        let next = page.next_page_token.clone();
        ensure!(
            next.is_none() || next != token,
            "{what}: the next page token equals the one just used"
        );
        out.push(page);
        match next {
            None => return Ok(out),
            Some(t) => token = Some(t),
        }
        ensure!(out.len() < MAX_PAGES, "{what}: more than {MAX_PAGES} pages");
    }
}
