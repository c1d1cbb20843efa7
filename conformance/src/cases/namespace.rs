//! Conformance cases for the namespace store: unique ids and names, the global notification
//! version and the CAS that update and rename perform on it, rename with a new detail blob,
//! idempotent deletes, and listing.
//!
//! The notification version is global, and other cases bump it at the same time, so these cases
//! check "strictly greater" rather than "+1", and retry an update whose version went stale
//! because of someone else.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use durastore_api::validate::MAX_BLOB_BYTES;
use durastore_api::{
    ConflictDetail, CreateNamespaceRequest, DataBlob, ErrorKind, NamespaceId, NamespaceRecord,
    NamespaceStore, RenameNamespaceRequest, Result as StoreResult, UpdateNamespaceRequest, Uuid,
};
use futures::future::BoxFuture;

use crate::check::{expect_bad_request, expect_err, ok};
use crate::fixtures::{blob, namespace_id, unique_name};
use crate::util::{MAX_PAGES, race};
use crate::{Case, CaseError, Ctx, ensure, ensure_eq};

/// The cases of this module.
pub fn cases() -> Vec<Case> {
    crate::cases![namespace requires(Namespace) =>
        create_get_by_id_and_name,
        create_taken_id_already_exists,
        create_taken_name_already_exists,
        notification_version_increments,
        update_with_current_version,
        update_stale_version_condition_failed,
        update_missing_not_found,
        rename,
        rename_refused_changes_nothing,
        delete_by_id_idempotent,
        delete_by_name_idempotent,
        list_paging,
        concurrent_create_same_name + ConcurrentWriters,
        concurrent_update_single_winner + ConcurrentWriters,
        concurrent_rename_single_winner + ConcurrentWriters,
        bad_input,
    ]
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// How often an update is retried when a concurrent writer moved the global version first.
const UPDATE_ATTEMPTS: usize = 50;

/// A create request with a fresh id and name.
fn new_req() -> CreateNamespaceRequest {
    CreateNamespaceRequest {
        id: namespace_id(),
        name: unique_name("ns"),
        detail: blob(64),
        is_global: false,
    }
}

/// Creates a namespace and checks it reads back by id and by name, written at a notification
/// version taken between the metadata reads before and after.
async fn create(
    s: &dyn NamespaceStore,
    req: &CreateNamespaceRequest,
) -> Result<NamespaceRecord, CaseError> {
    let before = ok("get_metadata", s.get_metadata().await)?;
    ok("create_namespace", s.create_namespace(req.clone()).await)?;
    let after = ok("get_metadata", s.get_metadata().await)?;
    ensure!(
        after > before,
        "create did not bump the notification version ({before} -> {after})"
    );
    let got = ok("get_namespace_by_id", s.get_namespace_by_id(req.id).await)?;
    ensure!(
        before <= got.notification_version && got.notification_version < after,
        "the new row records notification version {}, outside [{before}, {after})",
        got.notification_version
    );
    ensure_eq!(
        got,
        NamespaceRecord {
            id: req.id,
            name: req.name.clone(),
            detail: req.detail.clone(),
            is_global: req.is_global,
            notification_version: got.notification_version,
        },
        "namespace read back by id"
    );
    let by_name = ok(
        "get_namespace_by_name",
        s.get_namespace_by_name(&req.name).await,
    )?;
    ensure_eq!(by_name, got, "by name and by id differ");
    Ok(got)
}

fn update_req(rec: &NamespaceRecord, detail: DataBlob, version: i64) -> UpdateNamespaceRequest {
    UpdateNamespaceRequest {
        id: rec.id,
        name: rec.name.clone(),
        detail,
        is_global: rec.is_global,
        notification_version: version,
    }
}

/// Runs `write` with the current notification version, retrying when a concurrent writer bumped
/// it between the read and the write. Returns the version the successful write used.
async fn with_current_version<F, Fut>(
    s: &dyn NamespaceStore,
    what: &str,
    mut write: F,
) -> Result<i64, CaseError>
where
    F: FnMut(i64) -> Fut,
    Fut: std::future::Future<Output = StoreResult<()>>,
{
    for _ in 0..UPDATE_ATTEMPTS {
        let v = ok("get_metadata", s.get_metadata().await)?;
        match write(v).await {
            Ok(()) => return Ok(v),
            Err(e) if e.kind() == ErrorKind::ConditionFailed => {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err(e) => {
                return Err(CaseError::new(format!(
                    "{what} with the current version: {e}"
                )));
            }
        }
    }
    Err(CaseError::new(format!(
        "{what} failed {UPDATE_ATTEMPTS} times with ConditionFailed although each attempt used \
         the version just read"
    )))
}

/// Updates with the current notification version (see [`with_current_version`]).
async fn update_retrying(
    s: &dyn NamespaceStore,
    req: UpdateNamespaceRequest,
) -> Result<i64, CaseError> {
    with_current_version(s, "update_namespace", |v| {
        s.update_namespace(UpdateNamespaceRequest {
            notification_version: v,
            ..req.clone()
        })
    })
    .await
}

/// Indexes of the successful results; every failure must be of `loser` kind.
fn winners<T>(
    what: &str,
    results: Vec<StoreResult<T>>,
    loser: ErrorKind,
) -> Result<Vec<usize>, CaseError> {
    let mut won = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(_) => won.push(i),
            Err(e) if e.kind() == loser => {}
            Err(e) => {
                return Err(CaseError::new(format!(
                    "{what} {i}: expected Ok or {loser}, got {e}"
                )));
            }
        }
    }
    Ok(won)
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

/// A created namespace reads back equal by id and by name.
pub async fn create_get_by_id_and_name(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.namespace()?;
    create(s.as_ref(), &new_req()).await?;
    let global = CreateNamespaceRequest {
        is_global: true,
        ..new_req()
    };
    create(s.as_ref(), &global).await?;
    expect_err(
        "get_namespace_by_id of a missing namespace",
        s.get_namespace_by_id(namespace_id()).await,
        ErrorKind::NotFound,
    )?;
    expect_err(
        "get_namespace_by_name of a missing namespace",
        s.get_namespace_by_name(&unique_name("ns")).await,
        ErrorKind::NotFound,
    )?;
    Ok(())
}

/// Creating a namespace with a taken id is `AlreadyExists` and writes nothing.
pub async fn create_taken_id_already_exists(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.namespace()?;
    let first = create(s.as_ref(), &new_req()).await?;
    let dup = CreateNamespaceRequest {
        id: first.id,
        ..new_req()
    };
    expect_err(
        "create_namespace with a taken id",
        s.create_namespace(dup.clone()).await,
        ErrorKind::AlreadyExists,
    )?;
    expect_err(
        "get_namespace_by_name of the refused namespace",
        s.get_namespace_by_name(&dup.name).await,
        ErrorKind::NotFound,
    )?;
    ensure_eq!(
        ok("get_namespace_by_id", s.get_namespace_by_id(first.id).await)?,
        first,
        "the refused create changed the existing namespace"
    );
    Ok(())
}

/// Creating a namespace with a taken name is `AlreadyExists` and writes nothing.
pub async fn create_taken_name_already_exists(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.namespace()?;
    let first = create(s.as_ref(), &new_req()).await?;
    let dup = CreateNamespaceRequest {
        name: first.name.clone(),
        ..new_req()
    };
    expect_err(
        "create_namespace with a taken name",
        s.create_namespace(dup.clone()).await,
        ErrorKind::AlreadyExists,
    )?;
    expect_err(
        "get_namespace_by_id of the refused namespace",
        s.get_namespace_by_id(dup.id).await,
        ErrorKind::NotFound,
    )?;
    ensure_eq!(
        ok(
            "get_namespace_by_name",
            s.get_namespace_by_name(&first.name).await
        )?,
        first,
        "the refused create changed the existing namespace"
    );
    Ok(())
}

/// Every create and every update moves the global notification version forward, and an update
/// row records the version it was written at.
pub async fn notification_version_increments(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.namespace()?;
    let mut last = ok("get_metadata", s.get_metadata().await)?;
    ensure!(last >= 0, "negative notification version {last}");
    let mut mine = Vec::new();
    for _ in 0..3 {
        mine.push(create(s.as_ref(), &new_req()).await?);
        let now = ok("get_metadata", s.get_metadata().await)?;
        ensure!(now > last, "create: notification version {last} -> {now}");
        last = now;
    }
    for rec in &mine {
        let used = update_retrying(s.as_ref(), update_req(rec, blob(32), 0)).await?;
        ensure!(
            used >= last,
            "update succeeded with version {used}, older than the {last} read before"
        );
        let now = ok("get_metadata", s.get_metadata().await)?;
        ensure!(
            now > used,
            "update at version {used} left the notification version at {now}"
        );
        let got = ok("get_namespace_by_id", s.get_namespace_by_id(rec.id).await)?;
        ensure_eq!(
            got.notification_version,
            used,
            "version recorded by the update"
        );
        last = now;
    }
    Ok(())
}

/// An update with the current notification version replaces detail and global flag; the row
/// records that version, read by id and by name.
pub async fn update_with_current_version(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.namespace()?;
    let rec = create(s.as_ref(), &new_req()).await?;
    let detail = blob(80);
    let req = UpdateNamespaceRequest {
        is_global: true,
        ..update_req(&rec, detail.clone(), 0)
    };
    let used = update_retrying(s.as_ref(), req).await?;
    let want = NamespaceRecord {
        detail,
        is_global: true,
        notification_version: used,
        ..rec.clone()
    };
    ensure_eq!(
        ok("get_namespace_by_id", s.get_namespace_by_id(rec.id).await)?,
        want,
        "namespace after update (by id)"
    );
    ensure_eq!(
        ok(
            "get_namespace_by_name",
            s.get_namespace_by_name(&rec.name).await
        )?,
        want,
        "namespace after update (by name)"
    );
    Ok(())
}

/// An update with a notification version older than the current one is `ConditionFailed` and
/// changes nothing.
pub async fn update_stale_version_condition_failed(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.namespace()?;
    let rec = create(s.as_ref(), &new_req()).await?;
    // The version only grows, so anything below the current one is stale for good.
    let current = ok("get_metadata", s.get_metadata().await)?;
    for stale in [current - 1, rec.notification_version - 1, -5] {
        let e = expect_err(
            &format!("update_namespace with stale version {stale} (current {current})"),
            s.update_namespace(update_req(&rec, blob(16), stale)).await,
            ErrorKind::ConditionFailed,
        )?;
        ensure!(
            matches!(
                e.detail(),
                Some(ConflictDetail::NamespaceNotificationVersion { expected, actual })
                    if *expected == stale && *actual >= current
            ),
            "stale update: expected the typed version conflict, got {:?}",
            e.detail()
        );
    }
    ensure_eq!(
        ok("get_namespace_by_id", s.get_namespace_by_id(rec.id).await)?,
        rec,
        "a failed update changed the namespace"
    );
    Ok(())
}

/// Updating a namespace that does not exist is `NotFound` (retried while the version races).
pub async fn update_missing_not_found(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.namespace()?;
    let ghost = NamespaceRecord {
        id: namespace_id(),
        name: unique_name("ns"),
        detail: blob(8),
        is_global: false,
        notification_version: 0,
    };
    for _ in 0..UPDATE_ATTEMPTS {
        let v = ok("get_metadata", s.get_metadata().await)?;
        match s.update_namespace(update_req(&ghost, blob(8), v)).await {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                expect_err(
                    "get_namespace_by_id after updating a missing namespace",
                    s.get_namespace_by_id(ghost.id).await,
                    ErrorKind::NotFound,
                )?;
                return Ok(());
            }
            // A concurrent writer may have moved the version between the read and the update.
            Err(e) if e.kind() == ErrorKind::ConditionFailed => {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            other => {
                return Err(CaseError::new(format!(
                    "update_namespace of a missing namespace: expected NotFound, got {other:?}"
                )));
            }
        }
    }
    Err(CaseError::new(
        "update_namespace of a missing namespace never returned NotFound",
    ))
}

/// A rename request moving `rec` to `new_name` with `detail`, at notification version `version`.
fn rename_req(
    rec: &NamespaceRecord,
    new_name: &str,
    detail: DataBlob,
    version: i64,
) -> RenameNamespaceRequest {
    RenameNamespaceRequest {
        update: UpdateNamespaceRequest {
            id: rec.id,
            name: new_name.to_string(),
            detail,
            is_global: !rec.is_global,
            notification_version: version,
        },
        previous_name: rec.name.clone(),
    }
}

/// Renames with the current notification version (see [`with_current_version`]).
async fn rename_retrying(
    s: &dyn NamespaceStore,
    req: RenameNamespaceRequest,
) -> Result<i64, CaseError> {
    with_current_version(s, "rename_namespace", |v| {
        let mut attempt = req.clone();
        attempt.update.notification_version = v;
        s.rename_namespace(attempt)
    })
    .await
}

/// Rename carries the whole update: the new name reads the namespace with the new detail and
/// global flag, recorded at the notification version used, and the global version moves on; the
/// old name is `NotFound` and free again.
pub async fn rename(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.namespace()?;
    let a = create(s.as_ref(), &new_req()).await?;
    let new_name = unique_name("ns-renamed");
    let detail = blob(72);
    let used = rename_retrying(s.as_ref(), rename_req(&a, &new_name, detail.clone(), 0)).await?;
    let want = NamespaceRecord {
        id: a.id,
        name: new_name.clone(),
        detail,
        is_global: !a.is_global,
        notification_version: used,
    };
    ensure_eq!(
        ok(
            "get_namespace_by_name (new name)",
            s.get_namespace_by_name(&new_name).await
        )?,
        want,
        "namespace read by its new name"
    );
    ensure_eq!(
        ok("get_namespace_by_id", s.get_namespace_by_id(a.id).await)?,
        want,
        "namespace read by id after rename"
    );
    let now = ok("get_metadata", s.get_metadata().await)?;
    ensure!(
        now > used,
        "the rename at version {used} left the version at {now}"
    );
    expect_err(
        "get_namespace_by_name (old name)",
        s.get_namespace_by_name(&a.name).await,
        ErrorKind::NotFound,
    )?;
    // Renaming to its own name is an update of the detail.
    let same = rename_req(&want, &new_name, blob(12), 0);
    let used = rename_retrying(s.as_ref(), same.clone()).await?;
    ensure_eq!(
        ok("get_namespace_by_id", s.get_namespace_by_id(a.id).await)?,
        NamespaceRecord {
            detail: same.update.detail.clone(),
            is_global: same.update.is_global,
            notification_version: used,
            ..want.clone()
        },
        "namespace after a rename to its own name"
    );
    // The old name is free again.
    let reuse = CreateNamespaceRequest {
        name: a.name.clone(),
        ..new_req()
    };
    create(s.as_ref(), &reuse).await?;
    Ok(())
}

/// A rename with a stale notification version is `ConditionFailed` naming the stored version,
/// a taken new name is `AlreadyExists`, and a previous name that is missing or belongs to
/// another id is `NotFound`; none of them changes anything.
pub async fn rename_refused_changes_nothing(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.namespace()?;
    let a = create(s.as_ref(), &new_req()).await?;
    let b = create(s.as_ref(), &new_req()).await?;
    let target = unique_name("ns-renamed");
    let current = ok("get_metadata", s.get_metadata().await)?;
    for stale in [current - 1, a.notification_version - 1] {
        let e = expect_err(
            &format!("rename_namespace with stale version {stale} (current {current})"),
            s.rename_namespace(rename_req(&a, &target, blob(16), stale))
                .await,
            ErrorKind::ConditionFailed,
        )?;
        match e.detail() {
            Some(ConflictDetail::NamespaceNotificationVersion { expected, actual }) => {
                ensure_eq!(*expected, stale, "expected version in the conflict");
                ensure!(
                    *actual >= current,
                    "conflict names stored version {actual}, below the {current} read before"
                );
            }
            other => {
                return Err(CaseError::new(format!(
                    "stale rename: expected a NamespaceNotificationVersion detail, got {other:?}"
                )));
            }
        }
    }
    for _ in 0..UPDATE_ATTEMPTS {
        let v = ok("get_metadata", s.get_metadata().await)?;
        match s
            .rename_namespace(rename_req(&a, &b.name, blob(16), v))
            .await
        {
            Err(e) if e.kind() == ErrorKind::AlreadyExists => break,
            Err(e) if e.kind() == ErrorKind::ConditionFailed => {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            other => {
                return Err(CaseError::new(format!(
                    "rename to a taken name: expected AlreadyExists, got {other:?}"
                )));
            }
        }
    }
    let ghost = NamespaceRecord {
        name: unique_name("ns-missing"),
        ..a.clone()
    };
    let other_id = NamespaceRecord {
        id: namespace_id(),
        ..a.clone()
    };
    for (what, rec) in [("a missing name", &ghost), ("another id", &other_id)] {
        let mut found = false;
        for _ in 0..UPDATE_ATTEMPTS {
            let v = ok("get_metadata", s.get_metadata().await)?;
            match s
                .rename_namespace(rename_req(rec, &target, blob(16), v))
                .await
            {
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    found = true;
                    break;
                }
                Err(e) if e.kind() == ErrorKind::ConditionFailed => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                other => {
                    return Err(CaseError::new(format!(
                        "rename of {what}: expected NotFound, got {other:?}"
                    )));
                }
            }
        }
        ensure!(found, "rename of {what} never returned NotFound");
    }
    ensure_eq!(
        ok("get_namespace_by_id", s.get_namespace_by_id(a.id).await)?,
        a,
        "refused renames changed the namespace"
    );
    ensure_eq!(
        ok("get_namespace_by_id", s.get_namespace_by_id(b.id).await)?,
        b,
        "a refused rename changed the namespace holding the name"
    );
    expect_err(
        "get_namespace_by_name of the refused new name",
        s.get_namespace_by_name(&target).await,
        ErrorKind::NotFound,
    )?;
    Ok(())
}

/// Eight renames of one namespace to eight new names from the same notification version race:
/// exactly one succeeds, the others get `ConditionFailed` with the typed version conflict, and
/// only the winner's name (with its detail) exists. A round that a writer outside this case
/// spoiled (no winner) is repeated.
pub async fn concurrent_rename_single_winner(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.namespace()?;
    let rec = create(s.as_ref(), &new_req()).await?;
    for _ in 0..UPDATE_ATTEMPTS {
        let v = ok("get_metadata", s.get_metadata().await)?;
        let reqs: Vec<_> = (0..8)
            .map(|_| rename_req(&rec, &unique_name("ns-race"), blob(24), v))
            .collect();
        let futs = reqs
            .iter()
            .map(|r| {
                let s = Arc::clone(s);
                let r = r.clone();
                Box::pin(async move { s.rename_namespace(r).await }) as BoxFuture<'static, _>
            })
            .collect();
        let results = race(futs).await?;
        for r in results.iter().filter_map(|r| r.as_ref().err()) {
            ensure!(
                matches!(
                    r.detail(),
                    Some(ConflictDetail::NamespaceNotificationVersion { expected, .. }) if *expected == v
                ),
                "a losing rename: expected the typed version conflict, got {r}"
            );
        }
        let won = winners("racing rename", results, ErrorKind::ConditionFailed)?;
        ensure!(
            won.len() <= 1,
            "{} renames from version {v} all succeeded",
            won.len()
        );
        let Some(&w) = won.first() else {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        let got = ok("get_namespace_by_id", s.get_namespace_by_id(rec.id).await)?;
        ensure_eq!(got.name, reqs[w].update.name, "name after the race");
        ensure_eq!(got.detail, reqs[w].update.detail, "detail after the race");
        ensure_eq!(
            got.notification_version,
            v,
            "version recorded by the winner"
        );
        for (i, r) in reqs.iter().enumerate() {
            if i != w {
                expect_err(
                    &format!("get_namespace_by_name of loser {i}'s name"),
                    s.get_namespace_by_name(&r.update.name).await,
                    ErrorKind::NotFound,
                )?;
            }
        }
        expect_err(
            "get_namespace_by_name (old name)",
            s.get_namespace_by_name(&rec.name).await,
            ErrorKind::NotFound,
        )?;
        return Ok(());
    }
    Err(CaseError::new(format!(
        "no racing rename won in {UPDATE_ATTEMPTS} rounds"
    )))
}

/// Deleting by id removes the namespace from both lookups; repeating it, or deleting an id that
/// never existed, succeeds.
pub async fn delete_by_id_idempotent(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.namespace()?;
    let rec = create(s.as_ref(), &new_req()).await?;
    let keep = create(s.as_ref(), &new_req()).await?;
    ok("delete_namespace", s.delete_namespace(rec.id).await)?;
    expect_err(
        "get_namespace_by_id after delete",
        s.get_namespace_by_id(rec.id).await,
        ErrorKind::NotFound,
    )?;
    expect_err(
        "get_namespace_by_name after delete",
        s.get_namespace_by_name(&rec.name).await,
        ErrorKind::NotFound,
    )?;
    ok("delete_namespace again", s.delete_namespace(rec.id).await)?;
    ok(
        "delete_namespace of an id that never existed",
        s.delete_namespace(namespace_id()).await,
    )?;
    ensure_eq!(
        ok("get_namespace_by_id", s.get_namespace_by_id(keep.id).await)?,
        keep,
        "deleting one namespace changed another"
    );
    // Id and name are free again.
    let again = CreateNamespaceRequest {
        id: rec.id,
        name: rec.name.clone(),
        ..new_req()
    };
    create(s.as_ref(), &again).await?;
    Ok(())
}

/// Deleting by name removes the namespace from both lookups; repeating it, or deleting a name
/// that never existed, succeeds.
pub async fn delete_by_name_idempotent(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.namespace()?;
    let rec = create(s.as_ref(), &new_req()).await?;
    ok(
        "delete_namespace_by_name",
        s.delete_namespace_by_name(&rec.name).await,
    )?;
    expect_err(
        "get_namespace_by_name after delete",
        s.get_namespace_by_name(&rec.name).await,
        ErrorKind::NotFound,
    )?;
    expect_err(
        "get_namespace_by_id after delete",
        s.get_namespace_by_id(rec.id).await,
        ErrorKind::NotFound,
    )?;
    ok(
        "delete_namespace_by_name again",
        s.delete_namespace_by_name(&rec.name).await,
    )?;
    ok(
        "delete_namespace_by_name of a name that never existed",
        s.delete_namespace_by_name(&unique_name("ns-never")).await,
    )?;
    Ok(())
}

/// Lists every namespace page by page: ids strictly ascending across pages, each of ours
/// exactly once with its stored values, a deleted one absent, and the last page without token.
pub async fn list_paging(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.namespace()?;
    let mut mine = BTreeMap::new();
    for _ in 0..5 {
        let rec = create(s.as_ref(), &new_req()).await?;
        mine.insert(rec.id, rec);
    }
    let gone = create(s.as_ref(), &new_req()).await?;
    ok("delete_namespace", s.delete_namespace(gone.id).await)?;

    let mut seen: BTreeMap<NamespaceId, usize> = BTreeMap::new();
    let mut previous: Option<NamespaceId> = None;
    let mut token = None;
    for page_no in 0.. {
        ensure!(page_no < MAX_PAGES, "more than {MAX_PAGES} pages");
        let page = ok("list_namespaces", s.list_namespaces(3, token.clone()).await)?;
        ensure!(
            page.items.len() <= 3,
            "page of {} items at page size 3",
            page.items.len()
        );
        for r in &page.items {
            if let Some(p) = previous {
                ensure!(p < r.id, "list not ordered by id: {p} then {}", r.id);
            }
            previous = Some(r.id);
            ensure!(r.id != gone.id, "a deleted namespace is listed");
            if let Some(want) = mine.get(&r.id) {
                ensure_eq!(r, want, "a listed namespace differs from the stored one");
                *seen.entry(r.id).or_default() += 1;
            }
        }
        match page.next_page_token {
            None => break,
            Some(t) => {
                ensure!(Some(&t) != token.as_ref(), "the page token did not advance");
                token = Some(t);
            }
        }
    }
    for id in mine.keys() {
        ensure_eq!(
            seen.get(id).copied().unwrap_or(0),
            1,
            "namespace {id} listed this many times"
        );
    }
    Ok(())
}

/// Sixteen concurrent creates of one name with different ids: exactly one succeeds, the others
/// get `AlreadyExists` and leave nothing behind.
pub async fn concurrent_create_same_name(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.namespace()?;
    let name = unique_name("ns-race");
    let reqs: Vec<_> = (0..16)
        .map(|_| CreateNamespaceRequest {
            name: name.clone(),
            ..new_req()
        })
        .collect();
    let futs = reqs
        .iter()
        .map(|r| {
            let s = Arc::clone(s);
            let r = r.clone();
            Box::pin(async move { s.create_namespace(r).await }) as BoxFuture<'static, _>
        })
        .collect();
    let won = winners("racing create", race(futs).await?, ErrorKind::AlreadyExists)?;
    ensure_eq!(won.len(), 1, "number of successful creates ({won:?})");
    let winner = &reqs[won[0]];
    let got = ok(
        "get_namespace_by_name",
        s.get_namespace_by_name(&name).await,
    )?;
    ensure_eq!(got.id, winner.id, "the name belongs to a loser");
    ensure_eq!(got.detail, winner.detail, "detail of the stored namespace");
    for (i, r) in reqs.iter().enumerate() {
        if i != won[0] {
            expect_err(
                &format!("get_namespace_by_id of loser {i}"),
                s.get_namespace_by_id(r.id).await,
                ErrorKind::NotFound,
            )?;
        }
    }
    Ok(())
}

/// Eight concurrent updates of one namespace from the same notification version: exactly one
/// succeeds, the others get `ConditionFailed`, and the row is the winner's. A round in which a
/// writer outside this case moved the version first (no winner at all) is repeated.
pub async fn concurrent_update_single_winner(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.namespace()?;
    let rec = create(s.as_ref(), &new_req()).await?;
    for _ in 0..UPDATE_ATTEMPTS {
        let v = ok("get_metadata", s.get_metadata().await)?;
        let reqs: Vec<_> = (0..8).map(|_| update_req(&rec, blob(24), v)).collect();
        let futs = reqs
            .iter()
            .map(|r| {
                let s = Arc::clone(s);
                let r = r.clone();
                Box::pin(async move { s.update_namespace(r).await }) as BoxFuture<'static, _>
            })
            .collect();
        let won = winners(
            "racing update",
            race(futs).await?,
            ErrorKind::ConditionFailed,
        )?;
        ensure!(
            won.len() <= 1,
            "{} updates from version {v} all succeeded",
            won.len()
        );
        if let Some(&w) = won.first() {
            let got = ok("get_namespace_by_id", s.get_namespace_by_id(rec.id).await)?;
            ensure_eq!(
                got.detail,
                reqs[w].detail,
                "stored detail is not the winner's"
            );
            ensure_eq!(
                got.notification_version,
                v,
                "version recorded by the winner"
            );
            let now = ok("get_metadata", s.get_metadata().await)?;
            ensure!(now > v, "the winning update did not bump the version");
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Err(CaseError::new(format!(
        "no racing update won in {UPDATE_ATTEMPTS} rounds"
    )))
}

/// Empty and 256-byte names, the nil id, oversized detail blobs and bad paging are refused, and
/// a refused create writes nothing.
pub async fn bad_input(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.namespace()?;
    let creates = [
        (
            "an empty name",
            CreateNamespaceRequest {
                name: String::new(),
                ..new_req()
            },
        ),
        (
            "a 256-byte name",
            CreateNamespaceRequest {
                name: "n".repeat(256),
                ..new_req()
            },
        ),
        (
            "detail over 4 MiB",
            CreateNamespaceRequest {
                detail: blob(MAX_BLOB_BYTES + 1),
                ..new_req()
            },
        ),
        (
            "a detail encoding over 16 bytes",
            CreateNamespaceRequest {
                detail: DataBlob::new(vec![1], "e".repeat(17)),
                ..new_req()
            },
        ),
    ];
    for (what, req) in creates {
        expect_bad_request(
            &format!("create_namespace with {what}"),
            s.create_namespace(req.clone()).await,
        )?;
        expect_err(
            &format!("get_namespace_by_id after a create with {what}"),
            s.get_namespace_by_id(req.id).await,
            ErrorKind::NotFound,
        )?;
    }
    let nil = CreateNamespaceRequest {
        id: NamespaceId(Uuid::nil()),
        ..new_req()
    };
    expect_bad_request(
        "create_namespace with the nil id",
        s.create_namespace(nil.clone()).await,
    )?;
    expect_err(
        "get_namespace_by_name after a create with the nil id",
        s.get_namespace_by_name(&nil.name).await,
        ErrorKind::NotFound,
    )?;
    expect_bad_request(
        "get_namespace_by_id(nil)",
        s.get_namespace_by_id(NamespaceId(Uuid::nil())).await,
    )?;
    expect_bad_request(
        "get_namespace_by_name(\"\")",
        s.get_namespace_by_name("").await,
    )?;

    // Oversized detail on update: refused before the version is even looked at.
    let rec = create(s.as_ref(), &new_req()).await?;
    let v = ok("get_metadata", s.get_metadata().await)?;
    expect_bad_request(
        "update_namespace with detail over 4 MiB",
        s.update_namespace(update_req(&rec, blob(MAX_BLOB_BYTES + 1), v))
            .await,
    )?;
    ensure_eq!(
        ok("get_namespace_by_id", s.get_namespace_by_id(rec.id).await)?,
        rec,
        "a refused update changed the namespace"
    );
    let bad_renames = [
        ("an empty new name", rename_req(&rec, "", blob(8), v)),
        (
            "a 256-byte new name",
            rename_req(&rec, &"r".repeat(256), blob(8), v),
        ),
        (
            "detail over 4 MiB",
            rename_req(&rec, &unique_name("ns"), blob(MAX_BLOB_BYTES + 1), v),
        ),
        (
            "an empty previous name",
            RenameNamespaceRequest {
                previous_name: String::new(),
                ..rename_req(&rec, &unique_name("ns"), blob(8), v)
            },
        ),
        (
            "the nil id",
            RenameNamespaceRequest {
                update: UpdateNamespaceRequest {
                    id: NamespaceId(Uuid::nil()),
                    ..rename_req(&rec, &unique_name("ns"), blob(8), v).update
                },
                ..rename_req(&rec, &unique_name("ns"), blob(8), v)
            },
        ),
    ];
    for (what, req) in bad_renames {
        expect_bad_request(
            &format!("rename_namespace with {what}"),
            s.rename_namespace(req.clone()).await,
        )?;
        if !req.update.name.is_empty() && req.update.name.len() <= 255 {
            expect_err(
                &format!("get_namespace_by_name after a rename with {what}"),
                s.get_namespace_by_name(&req.update.name).await,
                ErrorKind::NotFound,
            )?;
        }
    }
    ensure_eq!(
        ok(
            "get_namespace_by_name",
            s.get_namespace_by_name(&rec.name).await
        )?,
        rec,
        "a refused rename changed the namespace"
    );

    for size in [0, -1, 10_001] {
        expect_bad_request(
            &format!("list_namespaces with page size {size}"),
            s.list_namespaces(size, None).await,
        )?;
    }
    expect_bad_request(
        "list_namespaces with a garbage token",
        s.list_namespaces(10, Some(b"\xffgarbage\x00".to_vec()))
            .await,
    )?;
    Ok(())
}
