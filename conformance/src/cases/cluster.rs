//! Conformance cases for the cluster metadata store: versioned metadata rows and membership
//! heartbeats (filters, expiry, pruning, paging).
//!
//! Cluster names, host ids and RPC addresses are random, so cases can share a database; reads
//! of members filter on them or look only for their own rows.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use durastore_api::types::truncate_to_millis;
use durastore_api::validate::MAX_BLOB_BYTES;
use durastore_api::{
    ClusterMember, ClusterMemberFilter, ClusterMetadataRecord, ClusterMetadataStore, DataBlob,
    DateTime, ErrorKind, UpsertClusterMembershipRequest, Utc, Uuid,
};

use crate::check::{expect_bad_request, expect_err, ok};
use crate::fixtures::{blob, unique_name};
use crate::util::collect_pages;
use crate::{Case, CaseError, Ctx, ensure, ensure_eq};

/// The cases of this module.
pub fn cases() -> Vec<Case> {
    crate::cases![cluster requires(ClusterMetadata) =>
        metadata_save_creates_version_1,
        metadata_save_version_cas,
        metadata_get_missing_not_found,
        metadata_delete_idempotent,
        metadata_list_paging,
        membership_upsert_get,
        membership_filters,
        membership_upsert_updates_heartbeat,
        membership_expired_not_returned,
        membership_prune_removes_expired + MembershipPrune,
        membership_paging,
        bad_input,
    ]
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Tolerance for timestamps the backend sets (`last_heartbeat`, `record_expiry`): the database
/// clock may differ a little from ours.
const CLOCK_SLACK: chrono::Duration = chrono::Duration::seconds(5);

/// A fresh random host id (16 bytes).
fn host_id() -> Vec<u8> {
    Uuid::new_v4().as_bytes().to_vec()
}

/// A random private IPv4 address, so that filtering on it finds (almost surely) only our rows.
fn rpc_address() -> String {
    let [a, b, c, ..] = *Uuid::new_v4().as_bytes();
    format!("10.{a}.{b}.{c}")
}

/// Now, at the millisecond precision every backend keeps.
fn now_ms() -> DateTime<Utc> {
    truncate_to_millis(Utc::now())
}

/// A heartbeat for a new host at `address`.
fn heartbeat(address: &str, role: i32, expiry: Duration) -> UpsertClusterMembershipRequest {
    UpsertClusterMembershipRequest {
        host_id: host_id(),
        rpc_address: address.to_string(),
        rpc_port: 7233,
        role,
        session_start: now_ms(),
        record_expiry: expiry,
    }
}

const LONG: Duration = Duration::from_secs(300);

/// Every live member matching `filter`.
async fn members(
    s: &dyn ClusterMetadataStore,
    filter: ClusterMemberFilter,
) -> Result<Vec<ClusterMember>, CaseError> {
    let pages = collect_pages("get_cluster_members", |token| {
        s.get_cluster_members(filter.clone(), 100, token)
    })
    .await?;
    Ok(pages.into_iter().flat_map(|p| p.items).collect())
}

/// The live rows of one host.
async fn by_host(
    s: &dyn ClusterMetadataStore,
    host: &[u8],
) -> Result<Vec<ClusterMember>, CaseError> {
    members(
        s,
        ClusterMemberFilter {
            host_id_equals: Some(host.to_vec()),
            ..Default::default()
        },
    )
    .await
}

/// The one live row of a host.
async fn the_host(s: &dyn ClusterMetadataStore, host: &[u8]) -> Result<ClusterMember, CaseError> {
    let mut rows = by_host(s, host).await?;
    ensure_eq!(rows.len(), 1, "rows for host {host:02x?}");
    rows.pop()
        .ok_or_else(|| CaseError::new("host row vanished"))
}

/// Checks a member row against the heartbeat that wrote it between `before` and `after`.
fn check_member(
    got: &ClusterMember,
    req: &UpsertClusterMembershipRequest,
    before: DateTime<Utc>,
    after: DateTime<Utc>,
) -> Result<(), CaseError> {
    ensure_eq!(got.host_id, req.host_id, "host id");
    ensure_eq!(got.rpc_address, req.rpc_address, "rpc address");
    ensure_eq!(got.rpc_port, req.rpc_port, "rpc port");
    ensure_eq!(got.role, req.role, "role");
    ensure_eq!(
        truncate_to_millis(got.session_start),
        req.session_start,
        "session start"
    );
    ensure!(
        got.last_heartbeat >= before - CLOCK_SLACK && got.last_heartbeat <= after + CLOCK_SLACK,
        "last heartbeat {} not within the upsert call [{before}, {after}]",
        got.last_heartbeat
    );
    let expiry = chrono::Duration::from_std(req.record_expiry)
        .map_err(|e| CaseError::new(format!("expiry out of range: {e}")))?;
    let lag = got.record_expiry - (got.last_heartbeat + expiry);
    ensure!(
        lag.abs() <= CLOCK_SLACK,
        "record expiry {} is not last heartbeat {} + {:?}",
        got.record_expiry,
        got.last_heartbeat,
        req.record_expiry
    );
    Ok(())
}

/// Upserts and returns the time window around the call.
async fn upsert(
    s: &dyn ClusterMetadataStore,
    req: &UpsertClusterMembershipRequest,
) -> Result<(DateTime<Utc>, DateTime<Utc>), CaseError> {
    let before = Utc::now();
    ok(
        "upsert_cluster_membership",
        s.upsert_cluster_membership(req.clone()).await,
    )?;
    Ok((before, Utc::now()))
}

/// Host ids of rows that are ours.
fn ours(rows: &[ClusterMember], mine: &BTreeSet<Vec<u8>>) -> BTreeSet<Vec<u8>> {
    rows.iter()
        .filter(|r| mine.contains(&r.host_id))
        .map(|r| r.host_id.clone())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Metadata
// ---------------------------------------------------------------------------------------------

/// Saving version 0 creates the row at version 1; saving version 0 again is `AlreadyExists`.
pub async fn metadata_save_creates_version_1(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.cluster()?;
    let name = unique_name("cluster");
    let data = blob(64);
    ok(
        "save_cluster_metadata version 0",
        s.save_cluster_metadata(&name, data.clone(), 0).await,
    )?;
    let want = ClusterMetadataRecord {
        cluster_name: name.clone(),
        data,
        version: 1,
    };
    ensure_eq!(
        ok("get_cluster_metadata", s.get_cluster_metadata(&name).await)?,
        want,
        "after the first save"
    );
    expect_err(
        "save_cluster_metadata version 0 on an existing row",
        s.save_cluster_metadata(&name, blob(8), 0).await,
        ErrorKind::AlreadyExists,
    )?;
    ensure_eq!(
        ok("get_cluster_metadata", s.get_cluster_metadata(&name).await)?,
        want,
        "a refused create changed the row"
    );
    Ok(())
}

/// Saving with the stored version writes version + 1; a stale or future version is
/// `ConditionFailed` and changes nothing.
pub async fn metadata_save_version_cas(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.cluster()?;
    let name = unique_name("cluster");
    ok("create", s.save_cluster_metadata(&name, blob(16), 0).await)?;
    let d2 = blob(32);
    ok(
        "save version 1",
        s.save_cluster_metadata(&name, d2.clone(), 1).await,
    )?;
    let want = ClusterMetadataRecord {
        cluster_name: name.clone(),
        data: d2,
        version: 2,
    };
    ensure_eq!(
        ok("get_cluster_metadata", s.get_cluster_metadata(&name).await)?,
        want,
        "after 1 -> 2"
    );
    for v in [1, 3, 7] {
        expect_err(
            &format!("save_cluster_metadata version {v} (stored 2)"),
            s.save_cluster_metadata(&name, blob(8), v).await,
            ErrorKind::ConditionFailed,
        )?;
    }
    ensure_eq!(
        ok("get_cluster_metadata", s.get_cluster_metadata(&name).await)?,
        want,
        "a failed CAS changed the row"
    );
    let d3 = blob(48);
    ok(
        "save version 2",
        s.save_cluster_metadata(&name, d3.clone(), 2).await,
    )?;
    ensure_eq!(
        ok("get_cluster_metadata", s.get_cluster_metadata(&name).await)?,
        ClusterMetadataRecord {
            cluster_name: name.clone(),
            data: d3,
            version: 3
        },
        "after 2 -> 3"
    );
    // Version > 0 on a row that does not exist: no stored version to match.
    let missing = unique_name("cluster");
    expect_err(
        "save_cluster_metadata version 1 of a missing row",
        s.save_cluster_metadata(&missing, blob(8), 1).await,
        ErrorKind::ConditionFailed,
    )?;
    expect_err(
        "get after a failed save of a missing row",
        s.get_cluster_metadata(&missing).await,
        ErrorKind::NotFound,
    )?;
    Ok(())
}

/// Reading metadata of a cluster never saved is `NotFound`.
pub async fn metadata_get_missing_not_found(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.cluster()?;
    expect_err(
        "get_cluster_metadata of a missing cluster",
        s.get_cluster_metadata(&unique_name("cluster")).await,
        ErrorKind::NotFound,
    )?;
    Ok(())
}

/// Deleting metadata removes the row; deleting again or deleting a missing row succeeds; the
/// name can then be created anew at version 1.
pub async fn metadata_delete_idempotent(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.cluster()?;
    let name = unique_name("cluster");
    ok("create", s.save_cluster_metadata(&name, blob(16), 0).await)?;
    ok(
        "save version 1",
        s.save_cluster_metadata(&name, blob(16), 1).await,
    )?;
    ok(
        "delete_cluster_metadata",
        s.delete_cluster_metadata(&name).await,
    )?;
    expect_err(
        "get after delete",
        s.get_cluster_metadata(&name).await,
        ErrorKind::NotFound,
    )?;
    ok("delete again", s.delete_cluster_metadata(&name).await)?;
    ok(
        "delete of a cluster never saved",
        s.delete_cluster_metadata(&unique_name("cluster")).await,
    )?;
    let data = blob(24);
    ok(
        "create again after delete",
        s.save_cluster_metadata(&name, data.clone(), 0).await,
    )?;
    ensure_eq!(
        ok("get", s.get_cluster_metadata(&name).await)?,
        ClusterMetadataRecord {
            cluster_name: name.clone(),
            data,
            version: 1
        },
        "re-created row"
    );
    Ok(())
}

/// Lists all metadata rows page by page: names ascending, each of ours exactly once with its
/// stored values, a deleted one absent.
pub async fn metadata_list_paging(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.cluster()?;
    let prefix = unique_name("cluster");
    let mut mine = BTreeMap::new();
    for i in 0..3 {
        let name = format!("{prefix}-{i}");
        let data = blob(16 + i);
        ok(
            "save",
            s.save_cluster_metadata(&name, data.clone(), 0).await,
        )?;
        mine.insert(
            name.clone(),
            ClusterMetadataRecord {
                cluster_name: name,
                data,
                version: 1,
            },
        );
    }
    let gone = format!("{prefix}-gone");
    ok("save", s.save_cluster_metadata(&gone, blob(8), 0).await)?;
    ok("delete", s.delete_cluster_metadata(&gone).await)?;

    let pages = collect_pages("list_cluster_metadata", |token| {
        s.list_cluster_metadata(2, token)
    })
    .await?;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut previous: Option<String> = None;
    for p in &pages {
        ensure!(
            p.items.len() <= 2,
            "page of {} items at page size 2",
            p.items.len()
        );
        for r in &p.items {
            if let Some(prev) = &previous {
                ensure!(
                    prev < &r.cluster_name,
                    "list not ordered by cluster name: {prev:?} then {:?}",
                    r.cluster_name
                );
            }
            previous = Some(r.cluster_name.clone());
            ensure!(r.cluster_name != gone, "a deleted row is listed");
            if let Some(want) = mine.get(&r.cluster_name) {
                ensure_eq!(r, want, "a listed row differs from the stored one");
                *seen.entry(r.cluster_name.clone()).or_default() += 1;
            }
        }
    }
    for name in mine.keys() {
        ensure_eq!(
            seen.get(name).copied().unwrap_or(0),
            1,
            "{name} listed this many times"
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Membership
// ---------------------------------------------------------------------------------------------

/// An upserted heartbeat reads back through the host id filter with the values written and
/// server-set heartbeat and expiry times.
pub async fn membership_upsert_get(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.cluster()?;
    let req = heartbeat(&rpc_address(), 3, LONG);
    let (before, after) = upsert(s.as_ref(), &req).await?;
    let got = the_host(s.as_ref(), &req.host_id).await?;
    check_member(&got, &req, before, after)?;
    ensure_eq!(
        by_host(s.as_ref(), &host_id()).await?,
        Vec::<ClusterMember>::new(),
        "members of a host that never heartbeated"
    );
    Ok(())
}

/// Each filter (RPC address, role, session start, heartbeat age, host id) selects exactly the
/// matching rows, and set filters combine with AND.
pub async fn membership_filters(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.cluster()?;
    let addr = rpc_address();
    let other_addr = rpc_address();
    let mut a = heartbeat(&addr, 1, LONG);
    a.session_start = now_ms() - chrono::Duration::hours(1);
    let b = heartbeat(&addr, 2, LONG);
    let c = heartbeat(&other_addr, 1, LONG);
    for r in [&a, &b, &c] {
        upsert(s.as_ref(), r).await?;
    }
    let mine: BTreeSet<Vec<u8>> = [&a, &b, &c].iter().map(|r| r.host_id.clone()).collect();
    let set = |hosts: &[&UpsertClusterMembershipRequest]| -> BTreeSet<Vec<u8>> {
        hosts.iter().map(|r| r.host_id.clone()).collect()
    };
    let addr_filter = ClusterMemberFilter {
        rpc_address_equals: Some(addr.clone()),
        ..Default::default()
    };

    let rows = members(s.as_ref(), addr_filter.clone()).await?;
    ensure!(
        rows.iter().all(|r| r.rpc_address == addr),
        "address filter returned another address"
    );
    ensure_eq!(ours(&rows, &mine), set(&[&a, &b]), "hosts at {addr}");

    let rows = members(
        s.as_ref(),
        ClusterMemberFilter {
            role_equals: Some(1),
            ..addr_filter.clone()
        },
    )
    .await?;
    ensure!(
        rows.iter().all(|r| r.role == 1 && r.rpc_address == addr),
        "address + role filter"
    );
    ensure_eq!(ours(&rows, &mine), set(&[&a]), "role 1 at {addr}");

    let rows = members(
        s.as_ref(),
        ClusterMemberFilter {
            role_equals: Some(1),
            ..Default::default()
        },
    )
    .await?;
    ensure!(
        rows.iter().all(|r| r.role == 1),
        "role filter returned another role"
    );
    ensure_eq!(ours(&rows, &mine), set(&[&a, &c]), "role 1 anywhere");

    let cutoff = now_ms() - chrono::Duration::minutes(30);
    let rows = members(
        s.as_ref(),
        ClusterMemberFilter {
            session_started_after: Some(cutoff),
            ..addr_filter.clone()
        },
    )
    .await?;
    ensure!(
        rows.iter().all(|r| r.session_start > cutoff),
        "session_started_after returned an older session"
    );
    ensure_eq!(
        ours(&rows, &mine),
        set(&[&b]),
        "sessions started after {cutoff}"
    );

    let rows = members(
        s.as_ref(),
        ClusterMemberFilter {
            last_heartbeat_within: Some(Duration::from_secs(60)),
            ..addr_filter.clone()
        },
    )
    .await?;
    ensure_eq!(
        ours(&rows, &mine),
        set(&[&a, &b]),
        "heartbeats within 60 s at {addr}"
    );

    let rows = members(
        s.as_ref(),
        ClusterMemberFilter {
            host_id_equals: Some(a.host_id.clone()),
            role_equals: Some(2),
            ..Default::default()
        },
    )
    .await?;
    ensure_eq!(rows, Vec::<ClusterMember>::new(), "host a with role 2");
    Ok(())
}

/// A second heartbeat of a host updates its row (new heartbeat time, port, session) instead of
/// adding one; `last_heartbeat_within` sees the age of the latest heartbeat.
pub async fn membership_upsert_updates_heartbeat(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.cluster()?;
    let first = heartbeat(&rpc_address(), 2, LONG);
    upsert(s.as_ref(), &first).await?;
    let r1 = the_host(s.as_ref(), &first.host_id).await?;

    tokio::time::sleep(Duration::from_millis(1300)).await;
    let within = |d: Duration| ClusterMemberFilter {
        host_id_equals: Some(first.host_id.clone()),
        last_heartbeat_within: Some(d),
        ..Default::default()
    };
    ensure_eq!(
        members(s.as_ref(), within(Duration::from_secs(1))).await?,
        Vec::<ClusterMember>::new(),
        "a heartbeat 1.3 s old matched last_heartbeat_within 1 s"
    );
    ensure_eq!(
        members(s.as_ref(), within(Duration::from_secs(60)))
            .await?
            .len(),
        1,
        "a heartbeat 1.3 s old within 60 s"
    );

    let second = UpsertClusterMembershipRequest {
        rpc_port: 7234,
        session_start: now_ms(),
        ..first.clone()
    };
    let (before, after) = upsert(s.as_ref(), &second).await?;
    let r2 = the_host(s.as_ref(), &second.host_id).await?;
    check_member(&r2, &second, before, after)?;
    ensure!(
        r2.last_heartbeat > r1.last_heartbeat,
        "heartbeat did not advance: {} then {}",
        r1.last_heartbeat,
        r2.last_heartbeat
    );
    ensure_eq!(
        members(s.as_ref(), within(Duration::from_secs(1)))
            .await?
            .len(),
        1,
        "a fresh heartbeat within 1 s"
    );
    Ok(())
}

/// A heartbeat with a 1 s expiry is visible at once and not returned after it expired.
pub async fn membership_expired_not_returned(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.cluster()?;
    let req = heartbeat(&rpc_address(), 4, Duration::from_secs(1));
    upsert(s.as_ref(), &req).await?;
    ensure_eq!(
        by_host(s.as_ref(), &req.host_id).await?.len(),
        1,
        "a fresh heartbeat with a 1 s expiry"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    ensure_eq!(
        by_host(s.as_ref(), &req.host_id).await?,
        Vec::<ClusterMember>::new(),
        "an expired heartbeat was returned"
    );
    let rows = members(
        s.as_ref(),
        ClusterMemberFilter {
            rpc_address_equals: Some(req.rpc_address.clone()),
            ..Default::default()
        },
    )
    .await?;
    ensure!(
        rows.iter().all(|r| r.host_id != req.host_id),
        "an expired heartbeat was returned by the address filter"
    );
    Ok(())
}

/// Prune deletes expired rows (ours among them) and keeps live ones; the pruned host can
/// heartbeat again.
pub async fn membership_prune_removes_expired(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.cluster()?;
    let addr = rpc_address();
    let dying = heartbeat(&addr, 5, Duration::from_secs(1));
    let live = heartbeat(&addr, 5, LONG);
    upsert(s.as_ref(), &dying).await?;
    upsert(s.as_ref(), &live).await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let pruned = ok(
        "prune_cluster_membership",
        s.prune_cluster_membership(10_000).await,
    )?;
    ensure!(
        pruned >= 1,
        "prune removed {pruned} rows although ours had expired"
    );
    ensure_eq!(
        by_host(s.as_ref(), &dying.host_id).await?,
        Vec::<ClusterMember>::new(),
        "the pruned host"
    );
    the_host(s.as_ref(), &live.host_id).await?;

    // The pruned host comes back with a fresh heartbeat: one row again.
    let back = UpsertClusterMembershipRequest {
        record_expiry: LONG,
        ..dying.clone()
    };
    let (before, after) = upsert(s.as_ref(), &back).await?;
    let got = the_host(s.as_ref(), &back.host_id).await?;
    check_member(&got, &back, before, after)?;
    Ok(())
}

/// Members page by page, ordered by host id: full pages, a short last page without a token.
pub async fn membership_paging(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.cluster()?;
    let addr = rpc_address();
    let mut hosts = Vec::new();
    for _ in 0..5 {
        let req = heartbeat(&addr, 1, LONG);
        upsert(s.as_ref(), &req).await?;
        hosts.push(req.host_id);
    }
    hosts.sort();
    let filter = ClusterMemberFilter {
        rpc_address_equals: Some(addr.clone()),
        ..Default::default()
    };
    let pages = collect_pages("get_cluster_members", |token| {
        s.get_cluster_members(filter.clone(), 2, token)
    })
    .await?;
    let sizes: Vec<_> = pages.iter().map(|p| p.items.len()).collect();
    ensure_eq!(
        sizes,
        vec![2, 2, 1],
        "page sizes for 5 members at page size 2"
    );
    let listed: Vec<_> = pages
        .into_iter()
        .flat_map(|p| p.items)
        .map(|m| m.host_id)
        .collect();
    ensure_eq!(listed, hosts, "members in host id order");
    Ok(())
}

/// Empty or too long cluster names and host ids, oversized blobs and bad paging are refused.
pub async fn bad_input(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.cluster()?;
    for (what, name) in [("an empty", String::new()), ("a 256-byte", "c".repeat(256))] {
        expect_bad_request(
            &format!("save_cluster_metadata with {what} name"),
            s.save_cluster_metadata(&name, blob(8), 0).await,
        )?;
        expect_bad_request(
            &format!("get_cluster_metadata with {what} name"),
            s.get_cluster_metadata(&name).await,
        )?;
        expect_bad_request(
            &format!("delete_cluster_metadata with {what} name"),
            s.delete_cluster_metadata(&name).await,
        )?;
    }
    let name = unique_name("cluster");
    for (what, data) in [
        ("data over 4 MiB", blob(MAX_BLOB_BYTES + 1)),
        (
            "an encoding over 16 bytes",
            DataBlob::new(vec![1], "e".repeat(17)),
        ),
    ] {
        expect_bad_request(
            &format!("save_cluster_metadata with {what}"),
            s.save_cluster_metadata(&name, data, 0).await,
        )?;
    }
    expect_err(
        "get after refused saves",
        s.get_cluster_metadata(&name).await,
        ErrorKind::NotFound,
    )?;

    let addr = rpc_address();
    for (what, host) in [("an empty", Vec::new()), ("a 256-byte", vec![7u8; 256])] {
        let req = UpsertClusterMembershipRequest {
            host_id: host,
            ..heartbeat(&addr, 1, LONG)
        };
        expect_bad_request(
            &format!("upsert_cluster_membership with {what} host id"),
            s.upsert_cluster_membership(req).await,
        )?;
    }
    let rows = members(
        s.as_ref(),
        ClusterMemberFilter {
            rpc_address_equals: Some(addr),
            ..Default::default()
        },
    )
    .await?;
    ensure_eq!(
        rows,
        Vec::<ClusterMember>::new(),
        "rows written by refused upserts"
    );

    let garbage = Some(b"\xffgarbage\x00".to_vec());
    for size in [0, -1, 10_001] {
        expect_bad_request(
            &format!("list_cluster_metadata with page size {size}"),
            s.list_cluster_metadata(size, None).await,
        )?;
        expect_bad_request(
            &format!("get_cluster_members with page size {size}"),
            s.get_cluster_members(ClusterMemberFilter::default(), size, None)
                .await,
        )?;
    }
    expect_bad_request(
        "list_cluster_metadata with a garbage token",
        s.list_cluster_metadata(10, garbage.clone()).await,
    )?;
    expect_bad_request(
        "get_cluster_members with a garbage token",
        s.get_cluster_members(ClusterMemberFilter::default(), 10, garbage)
            .await,
    )?;
    Ok(())
}
