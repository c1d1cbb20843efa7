//! Conformance cases for the Nexus endpoint store: the per-endpoint version CAS, the table
//! version that every write advances (and its CAS), delete, paged listing with the table-version
//! check, races, and bad input.
//!
//! The table version is one counter per database, so two cases writing endpoints at once would
//! move it under each other. The cases of this module therefore take [`TABLE`] for their whole
//! run (they are the only writers of the table in a suite run): that keeps "nothing changed"
//! checks exact. Endpoints of other cases may be present; each case looks only at its own ids.

use std::collections::BTreeMap;
use std::sync::Arc;

use durastore_api::validate::{MAX_BLOB_BYTES, MAX_PAGE_SIZE};
use durastore_api::{
    ConflictDetail, DataBlob, ErrorKind, NexusEndpoint, NexusEndpointStore, StoreError, Uuid,
};
use futures::future::BoxFuture;

use crate::check::{expect_bad_request, expect_err, ok};
use crate::fixtures::blob;
use crate::util::{MAX_PAGES, race};
use crate::{Case, CaseError, Ctx, ensure, ensure_eq};

/// The cases of this module.
pub fn cases() -> Vec<Case> {
    crate::cases![nexus requires(NexusEndpoint) =>
        create_get_update_delete,
        table_version_condition,
        endpoint_version_condition,
        delete_missing_not_found,
        list_paging_and_table_version,
        concurrent_create_single_winner + ConcurrentWriters,
        concurrent_update_single_winner + ConcurrentWriters,
        bad_input,
    ]
}

/// Held by every case of this module for its whole run (see the module docs).
static TABLE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The current table version.
async fn table_version(s: &dyn NexusEndpointStore) -> Result<i64, CaseError> {
    let page = ok(
        "list_nexus_endpoints(0, 0) (table version only)",
        s.list_nexus_endpoints(0, 0, None).await,
    )?;
    ensure!(
        page.endpoints.is_empty() && page.next_page_token.is_none(),
        "page size 0 returned {} endpoints / a token",
        page.endpoints.len()
    );
    Ok(page.table_version)
}

fn new_endpoint() -> NexusEndpoint {
    NexusEndpoint {
        id: Uuid::new_v4(),
        version: 0,
        data: blob(48),
    }
}

/// Creates `e` at table version `tv` and checks it reads back at version 1; returns the stored row.
async fn create(
    s: &dyn NexusEndpointStore,
    tv: i64,
    e: &NexusEndpoint,
) -> Result<NexusEndpoint, CaseError> {
    ok(
        "create_or_update_nexus_endpoint (create)",
        s.create_or_update_nexus_endpoint(tv, e.clone()).await,
    )?;
    let got = ok("get_nexus_endpoint", s.get_nexus_endpoint(e.id).await)?;
    ensure_eq!(
        got,
        NexusEndpoint {
            version: 1,
            ..e.clone()
        },
        "endpoint read back after create"
    );
    ensure_eq!(
        table_version(s).await?,
        tv + 1,
        "table version after a create"
    );
    Ok(got)
}

/// Expects the typed table-version conflict naming `actual`.
fn expect_table_conflict(
    what: &str,
    r: Result<impl std::fmt::Debug, StoreError>,
    expected: i64,
    actual: i64,
) -> Result<(), CaseError> {
    let e = expect_err(what, r, ErrorKind::ConditionFailed)?;
    ensure_eq!(
        e.detail(),
        Some(&ConflictDetail::NexusTableVersion { expected, actual }),
        "{what}: conflict detail ({e})"
    );
    Ok(())
}

/// Expects the typed endpoint-version conflict naming the stored version.
fn expect_endpoint_conflict(
    what: &str,
    r: Result<impl std::fmt::Debug, StoreError>,
    id: Uuid,
    expected: i64,
    actual: Option<i64>,
) -> Result<(), CaseError> {
    let e = expect_err(what, r, ErrorKind::ConditionFailed)?;
    ensure_eq!(
        e.detail(),
        Some(&ConflictDetail::NexusEndpointVersion {
            id,
            expected,
            actual
        }),
        "{what}: conflict detail ({e})"
    );
    Ok(())
}

/// Checks that refused writes left `stored` and the table version `tv` as they were.
async fn unchanged(
    s: &dyn NexusEndpointStore,
    stored: &NexusEndpoint,
    tv: i64,
) -> Result<(), CaseError> {
    ensure_eq!(
        ok("get_nexus_endpoint", s.get_nexus_endpoint(stored.id).await)?,
        *stored,
        "refused writes changed the endpoint"
    );
    ensure_eq!(
        table_version(s).await?,
        tv,
        "refused writes moved the table version"
    );
    Ok(())
}

/// Every endpoint listed with `page_size`, page by page from the table version `tv`.
async fn list_all(
    s: &dyn NexusEndpointStore,
    tv: i64,
    page_size: i32,
) -> Result<Vec<NexusEndpoint>, CaseError> {
    let mut out = Vec::new();
    let mut token = None;
    for _ in 0..MAX_PAGES {
        let page = ok(
            "list_nexus_endpoints",
            s.list_nexus_endpoints(tv, page_size, token.clone()).await,
        )?;
        ensure_eq!(page.table_version, tv, "table version of a page");
        ensure!(
            page.endpoints.len() <= page_size as usize,
            "page of {} endpoints at page size {page_size}",
            page.endpoints.len()
        );
        out.extend(page.endpoints);
        match page.next_page_token {
            None => return Ok(out),
            Some(t) => {
                ensure!(Some(&t) != token.as_ref(), "the page token did not advance");
                token = Some(t);
            }
        }
    }
    Err(CaseError::new(format!("more than {MAX_PAGES} pages")))
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

/// Create (version 0 -> 1), update (1 -> 2) and delete, each advancing the table version by one;
/// the deleted endpoint is `NotFound`.
pub async fn create_get_update_delete(ctx: &Ctx) -> Result<(), CaseError> {
    let _table = TABLE.lock().await;
    let s = ctx.nexus_endpoint()?;
    let tv = table_version(s.as_ref()).await?;
    ensure!(tv >= 0, "negative table version {tv}");
    let e = new_endpoint();
    let stored = create(s.as_ref(), tv, &e).await?;

    let data = blob(96);
    ok(
        "create_or_update_nexus_endpoint (update)",
        s.create_or_update_nexus_endpoint(
            tv + 1,
            NexusEndpoint {
                data: data.clone(),
                ..stored.clone()
            },
        )
        .await,
    )?;
    ensure_eq!(
        ok("get_nexus_endpoint", s.get_nexus_endpoint(e.id).await)?,
        NexusEndpoint {
            id: e.id,
            version: 2,
            data
        },
        "endpoint after update"
    );
    ensure_eq!(
        table_version(s.as_ref()).await?,
        tv + 2,
        "table version after update"
    );

    ok(
        "delete_nexus_endpoint",
        s.delete_nexus_endpoint(tv + 2, e.id).await,
    )?;
    expect_err(
        "get_nexus_endpoint after delete",
        s.get_nexus_endpoint(e.id).await,
        ErrorKind::NotFound,
    )?;
    ensure_eq!(
        table_version(s.as_ref()).await?,
        tv + 3,
        "table version after delete"
    );
    // The id is free again: a create at version 0 works.
    create(s.as_ref(), tv + 3, &NexusEndpoint { data: blob(8), ..e }).await?;
    expect_err(
        "get_nexus_endpoint of an id never written",
        s.get_nexus_endpoint(Uuid::new_v4()).await,
        ErrorKind::NotFound,
    )?;
    Ok(())
}

/// A create, update or delete with a table version other than the stored one (older or newer)
/// is `ConditionFailed` naming the stored version, and changes nothing; when the endpoint
/// version is wrong too, the table-version conflict is the one reported.
pub async fn table_version_condition(ctx: &Ctx) -> Result<(), CaseError> {
    let _table = TABLE.lock().await;
    let s = ctx.nexus_endpoint()?;
    let tv = table_version(s.as_ref()).await?;
    let e = new_endpoint();
    let stored = create(s.as_ref(), tv, &e).await?;
    let now = tv + 1;
    for wrong in [now - 1, now + 1, now + 100, 0] {
        let fresh = new_endpoint();
        expect_table_conflict(
            &format!("create at table version {wrong} (stored {now})"),
            s.create_or_update_nexus_endpoint(wrong, fresh.clone())
                .await,
            wrong,
            now,
        )?;
        expect_err(
            "get_nexus_endpoint of the refused create",
            s.get_nexus_endpoint(fresh.id).await,
            ErrorKind::NotFound,
        )?;
        expect_table_conflict(
            &format!("update at table version {wrong} (stored {now})"),
            s.create_or_update_nexus_endpoint(
                wrong,
                NexusEndpoint {
                    data: blob(16),
                    ..stored.clone()
                },
            )
            .await,
            wrong,
            now,
        )?;
        expect_table_conflict(
            &format!("update with a wrong endpoint version at table version {wrong}"),
            s.create_or_update_nexus_endpoint(
                wrong,
                NexusEndpoint {
                    version: 9,
                    ..stored.clone()
                },
            )
            .await,
            wrong,
            now,
        )?;
        expect_table_conflict(
            &format!("delete at table version {wrong} (stored {now})"),
            s.delete_nexus_endpoint(wrong, e.id).await,
            wrong,
            now,
        )?;
    }
    unchanged(s.as_ref(), &stored, now).await
}

/// With the right table version: creating an existing endpoint, updating with a version other
/// than the stored one, and updating a missing endpoint are `ConditionFailed` naming the stored
/// endpoint version (none when missing); nothing changes.
pub async fn endpoint_version_condition(ctx: &Ctx) -> Result<(), CaseError> {
    let _table = TABLE.lock().await;
    let s = ctx.nexus_endpoint()?;
    let tv = table_version(s.as_ref()).await?;
    let e = new_endpoint();
    let stored = create(s.as_ref(), tv, &e).await?;
    let now = tv + 1;
    expect_endpoint_conflict(
        "create of an existing endpoint",
        s.create_or_update_nexus_endpoint(
            now,
            NexusEndpoint {
                data: blob(8),
                ..e.clone()
            },
        )
        .await,
        e.id,
        0,
        Some(1),
    )?;
    for wrong in [2, 5] {
        expect_endpoint_conflict(
            &format!("update at endpoint version {wrong} (stored 1)"),
            s.create_or_update_nexus_endpoint(
                now,
                NexusEndpoint {
                    version: wrong,
                    data: blob(8),
                    id: e.id,
                },
            )
            .await,
            e.id,
            wrong,
            Some(1),
        )?;
    }
    let ghost = Uuid::new_v4();
    expect_endpoint_conflict(
        "update of a missing endpoint",
        s.create_or_update_nexus_endpoint(
            now,
            NexusEndpoint {
                id: ghost,
                version: 3,
                data: blob(8),
            },
        )
        .await,
        ghost,
        3,
        None,
    )?;
    expect_err(
        "get_nexus_endpoint after the refused update of a missing endpoint",
        s.get_nexus_endpoint(ghost).await,
        ErrorKind::NotFound,
    )?;
    unchanged(s.as_ref(), &stored, now).await
}

/// Deleting an endpoint that does not exist (never written, or already deleted) is `NotFound`
/// and leaves the table version where it was.
pub async fn delete_missing_not_found(ctx: &Ctx) -> Result<(), CaseError> {
    let _table = TABLE.lock().await;
    let s = ctx.nexus_endpoint()?;
    let tv = table_version(s.as_ref()).await?;
    expect_err(
        "delete_nexus_endpoint of an id never written",
        s.delete_nexus_endpoint(tv, Uuid::new_v4()).await,
        ErrorKind::NotFound,
    )?;
    ensure_eq!(
        table_version(s.as_ref()).await?,
        tv,
        "a refused delete moved the table version"
    );
    let e = new_endpoint();
    create(s.as_ref(), tv, &e).await?;
    ok(
        "delete_nexus_endpoint",
        s.delete_nexus_endpoint(tv + 1, e.id).await,
    )?;
    expect_err(
        "delete_nexus_endpoint again",
        s.delete_nexus_endpoint(tv + 2, e.id).await,
        ErrorKind::NotFound,
    )?;
    ensure_eq!(
        table_version(s.as_ref()).await?,
        tv + 2,
        "a refused delete moved the table version"
    );
    Ok(())
}

/// Listing pages through every endpoint by ascending id, each of ours once with its stored
/// values, every page at the same table version; paging on with the first page's table version
/// after a write is `ConditionFailed` (start over), while table version 0 skips the check; page
/// size 0 returns only the table version.
pub async fn list_paging_and_table_version(ctx: &Ctx) -> Result<(), CaseError> {
    let _table = TABLE.lock().await;
    let s = ctx.nexus_endpoint()?;
    let mut tv = table_version(s.as_ref()).await?;
    let mut mine = BTreeMap::new();
    for _ in 0..5 {
        let e = new_endpoint();
        let stored = create(s.as_ref(), tv, &e).await?;
        tv += 1;
        mine.insert(e.id, stored);
    }
    for page_size in [2, 3, MAX_PAGE_SIZE] {
        let all = list_all(s.as_ref(), tv, page_size).await?;
        for w in all.windows(2) {
            ensure!(
                w[0].id < w[1].id,
                "list not ordered by id: {} then {}",
                w[0].id,
                w[1].id
            );
        }
        let listed: BTreeMap<Uuid, &NexusEndpoint> = all
            .iter()
            .filter(|e| mine.contains_key(&e.id))
            .map(|e| (e.id, e))
            .collect();
        ensure_eq!(
            listed.len(),
            mine.len(),
            "own endpoints listed at page size {page_size}"
        );
        for (id, want) in &mine {
            ensure_eq!(listed.get(id).copied(), Some(want), "listed endpoint {id}");
        }
    }

    // A write between two pages: paging on with the first page's version is refused.
    let first = ok(
        "list_nexus_endpoints (first page)",
        s.list_nexus_endpoints(tv, 2, None).await,
    )?;
    let token = first.next_page_token.clone();
    ensure!(token.is_some(), "5+ endpoints at page size 2 gave one page");
    create(s.as_ref(), tv, &new_endpoint()).await?;
    expect_table_conflict(
        "list_nexus_endpoints (second page after a write)",
        s.list_nexus_endpoints(tv, 2, token.clone()).await,
        tv,
        tv + 1,
    )?;
    let any = ok(
        "list_nexus_endpoints (second page, table version 0)",
        s.list_nexus_endpoints(0, 2, token).await,
    )?;
    ensure_eq!(
        any.table_version,
        tv + 1,
        "table version of an unchecked page"
    );
    let head = ok(
        "list_nexus_endpoints(page size 0)",
        s.list_nexus_endpoints(tv + 1, 0, None).await,
    )?;
    ensure_eq!(head.table_version, tv + 1, "table version at page size 0");
    ensure!(head.endpoints.is_empty(), "page size 0 returned endpoints");
    expect_table_conflict(
        "list_nexus_endpoints(page size 0) at a newer table version",
        s.list_nexus_endpoints(tv + 7, 0, None).await,
        tv + 7,
        tv + 1,
    )?;
    Ok(())
}

/// Eight creates of different endpoints at the same table version race: exactly one succeeds,
/// the others get the table-version conflict naming the winner's version, and only the winner's
/// endpoint exists.
pub async fn concurrent_create_single_winner(ctx: &Ctx) -> Result<(), CaseError> {
    let _table = TABLE.lock().await;
    let s = ctx.nexus_endpoint()?;
    let tv = table_version(s.as_ref()).await?;
    let endpoints: Vec<NexusEndpoint> = (0..8).map(|_| new_endpoint()).collect();
    let futs = endpoints
        .iter()
        .map(|e| {
            let s = Arc::clone(s);
            let e = e.clone();
            Box::pin(async move { s.create_or_update_nexus_endpoint(tv, e).await })
                as BoxFuture<'static, _>
        })
        .collect();
    let results = race(futs).await?;
    let mut winners = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(()) => winners.push(i),
            Err(e) => {
                ensure_eq!(
                    e.detail(),
                    Some(&ConflictDetail::NexusTableVersion {
                        expected: tv,
                        actual: tv + 1
                    }),
                    "racing create {i}: {e}"
                );
            }
        }
    }
    ensure_eq!(
        winners.len(),
        1,
        "number of successful creates ({winners:?})"
    );
    for (i, e) in endpoints.iter().enumerate() {
        let got = s.get_nexus_endpoint(e.id).await;
        if i == winners[0] {
            ensure_eq!(
                ok("get_nexus_endpoint (winner)", got)?.version,
                1,
                "winner's version"
            );
        } else {
            expect_err(
                &format!("get_nexus_endpoint (loser {i})"),
                got,
                ErrorKind::NotFound,
            )?;
        }
    }
    ensure_eq!(
        table_version(s.as_ref()).await?,
        tv + 1,
        "table version after the race"
    );
    Ok(())
}

/// Eight updates of one endpoint from the same endpoint and table versions race: exactly one
/// succeeds, the others get a typed conflict, and the endpoint holds the winner's data.
pub async fn concurrent_update_single_winner(ctx: &Ctx) -> Result<(), CaseError> {
    let _table = TABLE.lock().await;
    let s = ctx.nexus_endpoint()?;
    let tv = table_version(s.as_ref()).await?;
    let stored = create(s.as_ref(), tv, &new_endpoint()).await?;
    let updates: Vec<NexusEndpoint> = (0..8)
        .map(|_| NexusEndpoint {
            data: blob(40),
            ..stored.clone()
        })
        .collect();
    let futs = updates
        .iter()
        .map(|e| {
            let s = Arc::clone(s);
            let e = e.clone();
            Box::pin(async move { s.create_or_update_nexus_endpoint(tv + 1, e).await })
                as BoxFuture<'static, _>
        })
        .collect();
    let results = race(futs).await?;
    let mut winners = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(()) => winners.push(i),
            // The table version is checked first, so a loser sees the winner's table version.
            Err(e) => ensure_eq!(
                e.detail(),
                Some(&ConflictDetail::NexusTableVersion {
                    expected: tv + 1,
                    actual: tv + 2
                }),
                "racing update {i}: {e}"
            ),
        }
    }
    ensure_eq!(
        winners.len(),
        1,
        "number of successful updates ({winners:?})"
    );
    ensure_eq!(
        ok("get_nexus_endpoint", s.get_nexus_endpoint(stored.id).await)?,
        NexusEndpoint {
            version: 2,
            ..updates[winners[0]].clone()
        },
        "endpoint after the race"
    );
    Ok(())
}

/// The nil id, negative versions, bad page sizes, oversized data, a long encoding name and a
/// garbage token are refused, and a refused write changes nothing.
pub async fn bad_input(ctx: &Ctx) -> Result<(), CaseError> {
    let _table = TABLE.lock().await;
    let s = ctx.nexus_endpoint()?;
    let tv = table_version(s.as_ref()).await?;
    let nil = NexusEndpoint {
        id: Uuid::nil(),
        ..new_endpoint()
    };
    let writes = [
        ("the nil id", tv, nil),
        ("a negative table version", -1, new_endpoint()),
        (
            "a negative endpoint version",
            tv,
            NexusEndpoint {
                version: -1,
                ..new_endpoint()
            },
        ),
        (
            "data over 4 MiB",
            tv,
            NexusEndpoint {
                data: blob(MAX_BLOB_BYTES + 1),
                ..new_endpoint()
            },
        ),
        (
            "an encoding name over 16 bytes",
            tv,
            NexusEndpoint {
                data: DataBlob::new(vec![1], "e".repeat(17)),
                ..new_endpoint()
            },
        ),
    ];
    for (what, table, e) in writes {
        expect_bad_request(
            &format!("create_or_update_nexus_endpoint with {what}"),
            s.create_or_update_nexus_endpoint(table, e.clone()).await,
        )?;
        if !e.id.is_nil() {
            expect_err(
                &format!("get_nexus_endpoint after a write with {what}"),
                s.get_nexus_endpoint(e.id).await,
                ErrorKind::NotFound,
            )?;
        }
    }
    expect_bad_request(
        "delete_nexus_endpoint(nil)",
        s.delete_nexus_endpoint(tv, Uuid::nil()).await,
    )?;
    expect_bad_request(
        "delete_nexus_endpoint with a negative table version",
        s.delete_nexus_endpoint(-1, Uuid::new_v4()).await,
    )?;
    expect_bad_request(
        "get_nexus_endpoint(nil)",
        s.get_nexus_endpoint(Uuid::nil()).await,
    )?;
    for size in [-1, MAX_PAGE_SIZE + 1] {
        expect_bad_request(
            &format!("list_nexus_endpoints with page size {size}"),
            s.list_nexus_endpoints(0, size, None).await,
        )?;
    }
    expect_bad_request(
        "list_nexus_endpoints with a negative table version",
        s.list_nexus_endpoints(-1, 10, None).await,
    )?;
    expect_bad_request(
        "list_nexus_endpoints with a garbage token",
        s.list_nexus_endpoints(0, 10, Some(b"\xffgarbage\x00".to_vec()))
            .await,
    )?;
    ensure_eq!(
        table_version(s.as_ref()).await?,
        tv,
        "refused requests moved the table version"
    );
    Ok(())
}
