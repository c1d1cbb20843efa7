//! Task-queue cases: versioned user data and its build-id index.

use std::collections::BTreeMap;

use durastore_api::ErrorKind;

use crate::check::{expect_err, ok};
use crate::fixtures::{namespace_id, unique_name};
use crate::util::collect_pages;
use crate::{CaseError, Ctx, ensure, ensure_eq};

use super::helpers::{flatten, ids, names, one, ud, ud_record};

/// User data versions go 0 (absent) -> 1 -> 2; a stale version is `ConditionFailed` and changes
/// nothing.
pub async fn user_data_versioning(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let ns = namespace_id();
    let tq = unique_name("tq");
    expect_err(
        "get_task_queue_user_data before any write",
        s.get_task_queue_user_data(ns, &tq).await,
        ErrorKind::NotFound,
    )?;
    let v0 = ud(0);
    ok(
        "first user data write",
        s.update_task_queue_user_data(ns, one(&tq, v0.clone()))
            .await,
    )?;
    let got = ok("get user data", s.get_task_queue_user_data(ns, &tq).await)?;
    ensure_eq!(got, ud_record(&tq, &v0), "after the first write");

    let v1 = ud(1);
    ok(
        "update from version 1",
        s.update_task_queue_user_data(ns, one(&tq, v1.clone()))
            .await,
    )?;
    let want = ud_record(&tq, &v1);
    ensure_eq!(
        ok("get", s.get_task_queue_user_data(ns, &tq).await)?,
        want,
        "after 1 -> 2"
    );

    for stale in [1, 0, 3] {
        expect_err(
            &format!("user data update from version {stale} (stored 2)"),
            s.update_task_queue_user_data(ns, one(&tq, ud(stale))).await,
            ErrorKind::ConditionFailed,
        )?;
        ensure_eq!(
            ok("get", s.get_task_queue_user_data(ns, &tq).await)?,
            want,
            "a stale update from version {stale} changed the data"
        );
    }
    // Same name in another namespace: separate data.
    expect_err(
        "user data of the same queue name in another namespace",
        s.get_task_queue_user_data(namespace_id(), &tq).await,
        ErrorKind::NotFound,
    )?;
    Ok(())
}

/// A multi-queue update in which one entry conflicts applies none of them (nor their build ids)
/// and names the conflicting queue.
pub async fn user_data_multi_update_atomic(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let ns = namespace_id();
    let (a, b, c) = (
        unique_name("tq-a"),
        unique_name("tq-b"),
        unique_name("tq-c"),
    );
    let (a0, b0) = (ud(0), ud(0));
    ok(
        "create two entries in one call",
        s.update_task_queue_user_data(
            ns,
            BTreeMap::from([(a.clone(), a0.clone()), (b.clone(), b0.clone())]),
        )
        .await,
    )?;
    let mut a1 = ud(1);
    a1.build_ids_added = ids(&["bid-atomic"]);
    let mut c0 = ud(0);
    c0.build_ids_added = ids(&["bid-atomic"]);
    let e = expect_err(
        "multi update with one stale entry",
        s.update_task_queue_user_data(
            ns,
            BTreeMap::from([(a.clone(), a1.clone()), (b.clone(), ud(7)), (c.clone(), c0)]),
        )
        .await,
        ErrorKind::ConditionFailed,
    )?;
    ensure!(
        names(&e, &b),
        "the error does not name the conflicting queue {b}: {e}"
    );
    ensure_eq!(
        ok("get a", s.get_task_queue_user_data(ns, &a).await)?,
        ud_record(&a, &a0),
        "a non-conflicting entry of a failed update was applied"
    );
    ensure_eq!(
        ok("get b", s.get_task_queue_user_data(ns, &b).await)?,
        ud_record(&b, &b0),
        "the conflicting entry changed"
    );
    expect_err(
        "get c (new entry of a failed update)",
        s.get_task_queue_user_data(ns, &c).await,
        ErrorKind::NotFound,
    )?;
    ensure_eq!(
        ok(
            "by build id",
            s.get_task_queues_by_build_id(ns, "bid-atomic").await
        )?,
        Vec::<String>::new(),
        "build ids of a failed update were indexed"
    );

    // Both entries at the right versions: both apply.
    let b1 = ud(1);
    ok(
        "multi update with current versions",
        s.update_task_queue_user_data(
            ns,
            BTreeMap::from([(a.clone(), a1.clone()), (b.clone(), b1.clone())]),
        )
        .await,
    )?;
    ensure_eq!(
        ok("get a", s.get_task_queue_user_data(ns, &a).await)?,
        ud_record(&a, &a1),
        "a"
    );
    ensure_eq!(
        ok("get b", s.get_task_queue_user_data(ns, &b).await)?,
        ud_record(&b, &b1),
        "b"
    );
    ensure_eq!(
        ok(
            "by build id",
            s.get_task_queues_by_build_id(ns, "bid-atomic").await
        )?,
        vec![a.clone()],
        "build id added by the applied update"
    );
    Ok(())
}

/// The build-id index follows the ids added and removed with each user data write, per
/// namespace.
pub async fn user_data_build_id_index(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let ns = namespace_id();
    let (a, b) = (unique_name("tq-a"), unique_name("tq-b"));
    let mut sorted_ab = vec![a.clone(), b.clone()];
    sorted_ab.sort();

    let mut ua = ud(0);
    ua.build_ids_added = ids(&["b1", "b2"]);
    let mut ub = ud(0);
    ub.build_ids_added = ids(&["b1"]);
    ok(
        "write a",
        s.update_task_queue_user_data(ns, one(&a, ua)).await,
    )?;
    ok(
        "write b",
        s.update_task_queue_user_data(ns, one(&b, ub)).await,
    )?;

    let lookup = |build: &'static str| async move {
        let names = ok(
            "get_task_queues_by_build_id",
            s.get_task_queues_by_build_id(ns, build).await,
        )?;
        let count = ok(
            "count_task_queues_by_build_id",
            s.count_task_queues_by_build_id(ns, build).await,
        )?;
        Ok::<_, CaseError>((names, count))
    };
    ensure_eq!(
        lookup("b1").await?,
        (sorted_ab.clone(), 2),
        "b1 after adding"
    );
    ensure_eq!(lookup("b2").await?, (vec![a.clone()], 1), "b2 after adding");
    ensure_eq!(
        lookup("b-none").await?,
        (Vec::new(), 0),
        "an unknown build id"
    );

    // Another namespace with the same queue and build id does not leak in.
    let other_ns = namespace_id();
    let mut other = ud(0);
    other.build_ids_added = ids(&["b1"]);
    ok(
        "write other namespace",
        s.update_task_queue_user_data(other_ns, one(&a, other))
            .await,
    )?;

    let mut ua = ud(1);
    ua.build_ids_removed = ids(&["b1"]);
    ua.build_ids_added = ids(&["b3"]);
    ok(
        "update a",
        s.update_task_queue_user_data(ns, one(&a, ua)).await,
    )?;
    ensure_eq!(
        lookup("b1").await?,
        (vec![b.clone()], 1),
        "b1 after removing it from a"
    );
    ensure_eq!(lookup("b2").await?, (vec![a.clone()], 1), "b2 is untouched");
    ensure_eq!(
        lookup("b3").await?,
        (vec![a.clone()], 1),
        "b3 added by the update"
    );
    Ok(())
}

/// `list_task_queue_user_data` pages through a namespace's entries by queue name.
pub async fn list_user_data_paging(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let ns = namespace_id();
    let mut want = Vec::new();
    for i in 0..5 {
        let name = unique_name(&format!("tq{i}"));
        let first = ud(0);
        ok(
            "write user data",
            s.update_task_queue_user_data(ns, one(&name, first.clone()))
                .await,
        )?;
        let rec = if i % 2 == 0 {
            let second = ud(1);
            ok(
                "update user data",
                s.update_task_queue_user_data(ns, one(&name, second.clone()))
                    .await,
            )?;
            ud_record(&name, &second)
        } else {
            ud_record(&name, &first)
        };
        want.push(rec);
    }
    // Another namespace's entry must not appear.
    ok(
        "write user data in another namespace",
        s.update_task_queue_user_data(namespace_id(), one(&unique_name("tq"), ud(0)))
            .await,
    )?;
    want.sort_by(|x, y| x.task_queue.cmp(&y.task_queue));

    let pages = collect_pages("list_task_queue_user_data", |token| {
        s.list_task_queue_user_data(ns, 2, token)
    })
    .await?;
    let sizes: Vec<_> = pages.iter().map(|p| p.items.len()).collect();
    ensure_eq!(
        sizes,
        vec![2, 2, 1],
        "page sizes for 5 entries at page size 2"
    );
    ensure_eq!(
        flatten(pages),
        want,
        "listed user data (ordered by queue name)"
    );
    Ok(())
}
