//! Visibility cases: CHASM executions (issue 16 item 4). Records of a CHASM archetype are listed
//! and counted only in their archetype's scope (Temporal's `ListChasmExecutions` /
//! `CountChasmExecutions`), carry a CHASM info blob, and use Temporal's pre-allocated
//! `Temporal<Type>NN` attributes, including the LowCardinalityKeyword one that `GROUP BY`
//! accepts.

use std::collections::BTreeMap;
use std::sync::Arc;

use durastore_api::query::{Literal, SearchAttributeType};
use durastore_api::{
    ArchetypeId, CountResult, CountWorkflowExecutionsRequest, DataBlob, ErrorKind,
    ListWorkflowExecutionsRequest, NamespaceId, RunId, SearchAttributeValue, VisibilityRecord,
    VisibilityStore, WorkflowStatus,
};

use super::helpers::{
    at, closed, count, ensure_stored, fresh_namespace, in_list_order, kw, kwl, list_ids, running,
    ts, vis, with_attrs, write,
};
use crate::check::{expect_err, ok};
use crate::util::{collect_pages, race};
use crate::{CaseError, Ctx, ensure, ensure_eq};

/// The archetype ids the cases use (any non-zero u32 is a CHASM archetype; one near the top of
/// the range checks the full width is kept).
const ACTIVITY: ArchetypeId = ArchetypeId(7);
const SCHEDULER: ArchetypeId = ArchetypeId(4_000_000_001);

/// `r` as a record of `archetype`, with an info blob.
fn chasm(r: VisibilityRecord, archetype: ArchetypeId) -> VisibilityRecord {
    VisibilityRecord {
        archetype_id: archetype,
        chasm_info: Some(DataBlob::new(
            format!("info-{}-{}", archetype.0, r.workflow_id).into_bytes(),
            "Proto3",
        )),
        ..r
    }
}

/// Every record of `archetype` matching `query`, following tokens with `page_size`.
async fn chasm_ids(
    s: &dyn VisibilityStore,
    ns: NamespaceId,
    archetype: ArchetypeId,
    query: &str,
    page_size: i32,
) -> Result<Vec<RunId>, CaseError> {
    let what = format!("list archetype {archetype} {query:?}");
    let pages = collect_pages(&what, |token| {
        s.list(ListWorkflowExecutionsRequest {
            page_size,
            next_page_token: token,
            ..ListWorkflowExecutionsRequest::chasm(ns, archetype, query)
        })
    })
    .await?;
    Ok(pages
        .into_iter()
        .flat_map(|p| p.items)
        .map(|r| r.run_id)
        .collect())
}

async fn chasm_count(
    s: &dyn VisibilityStore,
    ns: NamespaceId,
    archetype: ArchetypeId,
    query: &str,
) -> Result<CountResult, CaseError> {
    ok(
        &format!("count archetype {archetype} {query:?}"),
        s.count(CountWorkflowExecutionsRequest::chasm(ns, archetype, query))
            .await,
    )
}

/// Three workflows, two activity records and one scheduler record in one namespace.
async fn seed(
    s: &dyn VisibilityStore,
    ns: NamespaceId,
) -> Result<
    (
        Vec<VisibilityRecord>,
        Vec<VisibilityRecord>,
        VisibilityRecord,
    ),
    CaseError,
> {
    let mut wfs = Vec::new();
    for i in 1..=3 {
        let r = running(ns, &format!("wf-{i}"), at(i, 0));
        write(s, &r).await?;
        wfs.push(r);
    }
    let mut acts = Vec::new();
    for i in 1..=2 {
        // Same business ids and start times as workflows: only the archetype tells them apart.
        let r = chasm(running(ns, &format!("wf-{i}"), at(i, 0)), ACTIVITY);
        write(s, &r).await?;
        acts.push(r);
    }
    let sched = chasm(running(ns, "sched-1", at(9, 0)), SCHEDULER);
    write(s, &sched).await?;
    Ok((wfs, acts, sched))
}

/// A workflow list or count never sees a CHASM record, a CHASM one sees only its archetype's
/// records, whatever the query (also one naming TemporalNamespaceDivision), on every page size.
pub async fn chasm_archetype_isolation_list_count(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let (wfs, acts, sched) = seed(s, ns).await?;
    for page in [1, 2, 10] {
        ensure_eq!(list_ids(s, ns, "", page).await?, in_list_order(&wfs));
        ensure_eq!(
            chasm_ids(s, ns, ACTIVITY, "", page).await?,
            in_list_order(&acts)
        );
    }
    ensure_eq!(
        chasm_ids(s, ns, SCHEDULER, "", 10).await?,
        vec![sched.run_id]
    );
    ensure_eq!(
        chasm_ids(s, ns, ArchetypeId(8), "", 10).await?,
        Vec::<RunId>::new()
    );
    ensure_eq!(count(s, ns, "").await?, 3);
    ensure_eq!(chasm_count(s, ns, ACTIVITY, "").await?.count, 2);
    ensure_eq!(chasm_count(s, ns, SCHEDULER, "").await?.count, 1);
    ensure_eq!(chasm_count(s, ns, ArchetypeId(8), "").await?.count, 0);
    // The same filter in both scopes: each sees its own record only.
    let q = "WorkflowId = 'wf-1'";
    ensure_eq!(list_ids(s, ns, q, 10).await?, vec![wfs[0].run_id]);
    ensure_eq!(
        chasm_ids(s, ns, ACTIVITY, q, 10).await?,
        vec![acts[0].run_id]
    );
    ensure_eq!(count(s, ns, q).await?, 1);
    ensure_eq!(chasm_count(s, ns, ACTIVITY, q).await?.count, 1);
    // Naming TemporalNamespaceDivision does not widen the scope.
    let any = "TemporalNamespaceDivision IS NULL OR TemporalNamespaceDivision IS NOT NULL";
    ensure_eq!(count(s, ns, any).await?, 3);
    ensure_eq!(chasm_count(s, ns, ACTIVITY, any).await?.count, 2);
    // A workflow's status group counts no CHASM record.
    let g = ok(
        "count GROUP BY ExecutionStatus",
        s.count(CountWorkflowExecutionsRequest::new(
            ns,
            "GROUP BY ExecutionStatus",
        ))
        .await,
    )?;
    ensure_eq!(
        g.groups,
        vec![(vec![Literal::Status(WorkflowStatus::Running)], 3)]
    );
    // Closing a CHASM record keeps it in its scope.
    let c = closed(&acts[1], at(50, 0), WorkflowStatus::Completed);
    write(s, &c).await?;
    ensure_eq!(count(s, ns, "ExecutionStatus = 'Completed'").await?, 0);
    ensure_eq!(
        chasm_count(s, ns, ACTIVITY, "ExecutionStatus = 'Completed'")
            .await?
            .count,
        1
    );
    // get addresses a run whatever its archetype, and returns it.
    ensure_stored(s, "closed activity record", &c).await?;
    ensure_stored(s, "scheduler record", &sched).await
}

/// A page token continues only the listing that issued it: not the same query in another
/// archetype's scope.
pub async fn chasm_page_token_bound_to_archetype(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let (_, acts, _) = seed(s, ns).await?;
    let first = ok(
        "first activity page",
        s.list(ListWorkflowExecutionsRequest {
            page_size: 1,
            ..ListWorkflowExecutionsRequest::chasm(ns, ACTIVITY, "")
        })
        .await,
    )?;
    ensure_eq!(first.items.len(), 1);
    ensure!(
        acts.iter().any(|a| a.run_id == first.items[0].run_id),
        "the activity page holds {:?}, not an activity record",
        first.items[0].run_id
    );
    let token = first.next_page_token.clone();
    ensure!(token.is_some(), "a page of 1 of 2 records has a token");
    for (what, req) in [
        (
            "workflow scope",
            ListWorkflowExecutionsRequest {
                page_size: 1,
                next_page_token: token.clone(),
                ..ListWorkflowExecutionsRequest::new(ns, "")
            },
        ),
        (
            "scheduler scope",
            ListWorkflowExecutionsRequest {
                page_size: 1,
                next_page_token: token.clone(),
                ..ListWorkflowExecutionsRequest::chasm(ns, SCHEDULER, "")
            },
        ),
    ] {
        expect_err(
            &format!("activity token in the {what}"),
            s.list(req).await,
            ErrorKind::InvalidArgument,
        )?;
    }
    Ok(())
}

/// Every type of CHASM attribute is stored and queried with its type's operators, and the
/// record (with its info blob) reads back as written, through get and list.
pub async fn chasm_attributes_every_type(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let t = |secs| at(secs, 250);
    let mk = |id: &str, secs: i64, vals: &[(&str, SearchAttributeValue)]| {
        let r = chasm(running(ns, id, at(secs, 0)), ACTIVITY);
        with_attrs(&r, 1, vals)
    };
    let a = mk(
        "a",
        1,
        &[
            ("TemporalBool01", SearchAttributeValue::Bool(true)),
            ("TemporalBool02", SearchAttributeValue::Bool(false)),
            ("TemporalDatetime01", SearchAttributeValue::Datetime(t(10))),
            ("TemporalDatetime02", SearchAttributeValue::Datetime(t(20))),
            ("TemporalDouble01", SearchAttributeValue::Double(1.5)),
            ("TemporalDouble02", SearchAttributeValue::Double(-2.25)),
            ("TemporalInt01", SearchAttributeValue::Int(10)),
            ("TemporalInt02", SearchAttributeValue::Int(i64::MIN)),
            ("TemporalKeyword01", kw("order-1")),
            ("TemporalKeyword02", kw("x")),
            ("TemporalKeyword03", kw("y")),
            ("TemporalKeyword04", kw("z")),
            ("TemporalLowCardinalityKeyword01", kw("Running")),
            ("TemporalKeywordList01", kwl(&["red", "green"])),
            ("TemporalKeywordList02", kwl(&["p"])),
        ],
    );
    let b = mk(
        "b",
        2,
        &[
            ("TemporalBool01", SearchAttributeValue::Bool(false)),
            ("TemporalDatetime01", SearchAttributeValue::Datetime(t(30))),
            ("TemporalDouble01", SearchAttributeValue::Double(3.0)),
            ("TemporalInt01", SearchAttributeValue::Int(20)),
            ("TemporalKeyword01", kw("order-2")),
            ("TemporalLowCardinalityKeyword01", kw("Failed")),
            ("TemporalKeywordList01", kwl(&["blue"])),
        ],
    );
    let c = mk("c", 3, &[]);
    for r in [&a, &b, &c] {
        write(s, r).await?;
    }
    // A workflow with the same values: never in the CHASM answers below.
    let wf = with_attrs(
        &running(ns, "wf", at(4, 0)),
        1,
        &[
            ("TemporalInt01", SearchAttributeValue::Int(10)),
            ("TemporalLowCardinalityKeyword01", kw("Running")),
        ],
    );
    write(s, &wf).await?;
    ensure_stored(s, "record a", &a).await?;
    ensure_stored(s, "record b", &b).await?;
    ensure_stored(s, "workflow", &wf).await?;
    let listed = ok(
        "list activity records",
        s.list(ListWorkflowExecutionsRequest::chasm(
            ns,
            ACTIVITY,
            "TemporalInt01 = 10",
        ))
        .await,
    )?;
    ensure_eq!(listed.items.len(), 1);
    super::helpers::ensure_same("record a as listed", &a, &listed.items[0])?;
    let (ra, rb, rc) = (a.run_id, b.run_id, c.run_id);
    let cases: Vec<(String, Vec<RunId>)> = vec![
        ("TemporalBool01 = true".into(), vec![ra]),
        ("TemporalBool01 != true".into(), vec![rb]),
        ("TemporalBool02 IS NULL".into(), vec![rc, rb]),
        (format!("TemporalDatetime01 > '{}'", ts(t(10))), vec![rb]),
        (
            format!(
                "TemporalDatetime01 BETWEEN '{}' AND '{}'",
                ts(t(10)),
                ts(t(30))
            ),
            vec![rb, ra],
        ),
        ("TemporalDatetime02 IS NOT NULL".into(), vec![ra]),
        ("TemporalDouble01 >= 1.5".into(), vec![rb, ra]),
        ("TemporalDouble01 < 2".into(), vec![ra]),
        ("TemporalDouble02 = -2.25".into(), vec![ra]),
        ("TemporalInt01 IN (10, 30)".into(), vec![ra]),
        ("TemporalInt01 NOT BETWEEN 11 AND 100".into(), vec![ra]),
        (format!("TemporalInt02 = {}", i64::MIN), vec![ra]),
        (
            "TemporalKeyword01 STARTS_WITH 'order-'".into(),
            vec![rb, ra],
        ),
        ("TemporalKeyword01 > 'order-1'".into(), vec![rb]),
        (
            "TemporalKeyword02 = 'x' AND TemporalKeyword03 = 'y' AND TemporalKeyword04 = 'z'"
                .into(),
            vec![ra],
        ),
        (
            "TemporalLowCardinalityKeyword01 = 'Running'".into(),
            vec![ra],
        ),
        (
            "TemporalLowCardinalityKeyword01 != 'Running'".into(),
            vec![rb],
        ),
        (
            "TemporalLowCardinalityKeyword01 IN ('Failed', 'Completed')".into(),
            vec![rb],
        ),
        (
            "TemporalLowCardinalityKeyword01 STARTS_WITH 'Fa'".into(),
            vec![rb],
        ),
        ("TemporalLowCardinalityKeyword01 IS NULL".into(), vec![rc]),
        ("TemporalKeywordList01 = 'green'".into(), vec![ra]),
        ("TemporalKeywordList01 IN ('blue', 'nope')".into(), vec![rb]),
        ("TemporalKeywordList01 != 'red'".into(), vec![rb]),
        ("TemporalKeywordList02 IS NULL".into(), vec![rc, rb]),
    ];
    let mut failures = Vec::new();
    for (q, want) in &cases {
        let got = chasm_ids(s, ns, ACTIVITY, q, 10).await?;
        let n = chasm_count(s, ns, ACTIVITY, q).await?.count;
        if &got != want || n != want.len() as i64 {
            failures.push(format!(
                "{q}: listed {got:?} (count {n}), expected {want:?}"
            ));
        }
    }
    ensure!(
        failures.is_empty(),
        "{} of {} CHASM attribute queries differ:\n  {}",
        failures.len(),
        cases.len(),
        failures.join("\n  ")
    );
    Ok(())
}

/// `GROUP BY` on the LowCardinalityKeyword attribute and on ExecutionStatus in a CHASM scope:
/// the archetype's records only, the records without the attribute as a group without a value,
/// in the contract's order.
pub async fn chasm_group_by_in_scope(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let status = |v: Option<&str>| -> Vec<(&str, SearchAttributeValue)> {
        v.map(|v| vec![("TemporalLowCardinalityKeyword01", kw(v))])
            .unwrap_or_default()
    };
    let spec = [
        Some("Running"),
        Some("Running"),
        Some("Failed"),
        Some("Completed"),
        Some("Completed"),
        None,
    ];
    for (i, v) in spec.iter().enumerate() {
        let r = chasm(running(ns, &format!("act-{i}"), at(i as i64, 0)), ACTIVITY);
        let r = with_attrs(&r, 1, &status(*v));
        if i == 3 {
            write(s, &closed(&r, at(40, 0), WorkflowStatus::Completed)).await?;
        } else {
            write(s, &r).await?;
        }
    }
    // Other scopes with the same attribute: never counted here.
    let other = with_attrs(
        &chasm(running(ns, "sched", at(1, 0)), SCHEDULER),
        1,
        &status(Some("Running")),
    );
    write(s, &other).await?;
    let wf = with_attrs(&running(ns, "wf", at(1, 0)), 1, &status(Some("Failed")));
    write(s, &wf).await?;

    let g = chasm_count(s, ns, ACTIVITY, "GROUP BY TemporalLowCardinalityKeyword01").await?;
    let v = |x: &str| vec![Literal::String(x.to_string())];
    ensure_eq!(g.count, 6);
    ensure_eq!(
        g.groups,
        vec![
            (v("Completed"), 2),
            (v("Running"), 2),
            (v("Failed"), 1),
            (vec![], 1),
        ],
        "largest first, ties by value, the group without a value last"
    );
    let g = chasm_count(
        s,
        ns,
        ACTIVITY,
        "TemporalLowCardinalityKeyword01 IS NOT NULL GROUP BY TemporalLowCardinalityKeyword01",
    )
    .await?;
    ensure_eq!(g.count, 5);
    ensure_eq!(g.groups.len(), 3);
    let g = chasm_count(s, ns, ACTIVITY, "GROUP BY ExecutionStatus").await?;
    ensure_eq!(
        g.groups,
        vec![
            (vec![Literal::Status(WorkflowStatus::Running)], 5),
            (vec![Literal::Status(WorkflowStatus::Completed)], 1),
        ]
    );
    let g = chasm_count(s, ns, SCHEDULER, "GROUP BY TemporalLowCardinalityKeyword01").await?;
    ensure_eq!(g.groups, vec![(v("Running"), 1)]);
    let g = ok(
        "workflow count GROUP BY TemporalLowCardinalityKeyword01",
        s.count(CountWorkflowExecutionsRequest::new(
            ns,
            "GROUP BY TemporalLowCardinalityKeyword01",
        ))
        .await,
    )?;
    ensure_eq!(g.groups, vec![(v("Failed"), 1)]);
    // GROUP BY stays count-only and limited to the groupable attributes.
    for q in [
        "GROUP BY TemporalKeyword01",
        "GROUP BY TemporalLowCardinalityKeyword01, ExecutionStatus",
    ] {
        expect_err(
            &format!("count {q:?}"),
            s.count(CountWorkflowExecutionsRequest::chasm(ns, ACTIVITY, q))
                .await,
            ErrorKind::InvalidArgument,
        )?;
    }
    expect_err(
        "list with GROUP BY",
        s.list(ListWorkflowExecutionsRequest::chasm(
            ns,
            ACTIVITY,
            "GROUP BY TemporalLowCardinalityKeyword01",
        ))
        .await,
        ErrorKind::InvalidArgument,
    )?;
    Ok(())
}

/// A custom attribute of type LowCardinalityKeyword: registered like any other type, queried
/// with Keyword's operators and groupable.
pub async fn chasm_custom_low_cardinality_keyword(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let reg = BTreeMap::from([(
        "Category".to_string(),
        SearchAttributeType::LowCardinalityKeyword,
    )]);
    ok(
        "register Category",
        s.add_search_attributes(ns, reg.clone()).await,
    )?;
    ok(
        "register Category again",
        s.add_search_attributes(ns, reg).await,
    )?;
    expect_err(
        "register Category as Keyword",
        s.add_search_attributes(
            ns,
            BTreeMap::from([("Category".to_string(), SearchAttributeType::Keyword)]),
        )
        .await,
        ErrorKind::InvalidArgument,
    )?;
    let mut ids = Vec::new();
    for (i, c) in ["red", "blue", "red"].iter().enumerate() {
        let r = with_attrs(
            &running(ns, &format!("wf-{i}"), at(i as i64, 0)),
            1,
            &[("Category", kw(c))],
        );
        write(s, &r).await?;
        ensure_stored(s, "record with Category", &r).await?;
        ids.push(r.run_id);
    }
    ensure_eq!(
        list_ids(s, ns, "Category = 'red'", 10).await?,
        vec![ids[2], ids[0]]
    );
    ensure_eq!(count(s, ns, "Category STARTS_WITH 'bl'").await?, 1);
    let g = ok(
        "count GROUP BY Category",
        s.count(CountWorkflowExecutionsRequest::new(ns, "GROUP BY Category"))
            .await,
    )?;
    let v = |x: &str| vec![Literal::String(x.to_string())];
    ensure_eq!(g.groups, vec![(v("red"), 2), (v("blue"), 1)]);
    Ok(())
}

/// Temporal* names that are neither predefined nor a pre-allocated CHASM column are refused in
/// queries and writes (`InvalidArgument`), and nothing is written; so is a CHASM info blob on a
/// workflow record, and a CHASM attribute value of the wrong type.
pub async fn chasm_bad_input_rejected(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    for q in [
        "TemporalText01 = 'x'",
        "TemporalKeyword05 = 'x'",
        "TemporalBool03 = true",
        "TemporalLowCardinalityKeyword02 = 'x'",
        "TemporalInt01 = 'x'",
        "TemporalLowCardinalityKeyword01 = 5",
    ] {
        for archetype in [ArchetypeId::WORKFLOW, ACTIVITY] {
            expect_err(
                &format!("list {q:?} in archetype {}", archetype.0),
                s.list(ListWorkflowExecutionsRequest::chasm(ns, archetype, q))
                    .await,
                ErrorKind::InvalidArgument,
            )?;
            expect_err(
                &format!("count {q:?} in archetype {archetype}"),
                s.count(CountWorkflowExecutionsRequest::chasm(ns, archetype, q))
                    .await,
                ErrorKind::InvalidArgument,
            )?;
        }
    }
    // A scope of archetype 0 (unspecified) is refused, never read as the workflows' scope.
    let zero = ArchetypeId::UNSPECIFIED;
    expect_err(
        "list in archetype 0",
        s.list(ListWorkflowExecutionsRequest::chasm(ns, zero, ""))
            .await,
        ErrorKind::InvalidArgument,
    )?;
    expect_err(
        "count in archetype 0",
        s.count(CountWorkflowExecutionsRequest::chasm(ns, zero, ""))
            .await,
        ErrorKind::InvalidArgument,
    )?;
    let base = chasm(running(ns, "bad", at(1, 0)), ACTIVITY);
    let mut info_on_workflow = running(ns, "bad-wf", at(1, 0));
    info_on_workflow.chasm_info = Some(DataBlob::new(vec![1], "Proto3"));
    let bad: Vec<(&str, VisibilityRecord)> = vec![
        (
            "TemporalText01",
            with_attrs(&base, 1, &[("TemporalText01", kw("x"))]),
        ),
        (
            "TemporalKeyword05",
            with_attrs(&base, 1, &[("TemporalKeyword05", kw("x"))]),
        ),
        (
            "TemporalInt01 as a string",
            with_attrs(&base, 1, &[("TemporalInt01", kw("1"))]),
        ),
        (
            "TemporalLowCardinalityKeyword01 as a list",
            with_attrs(
                &base,
                1,
                &[("TemporalLowCardinalityKeyword01", kwl(&["a"]))],
            ),
        ),
        ("chasm_info on a workflow", info_on_workflow),
        (
            "the unspecified archetype 0",
            chasm(running(ns, "bad-0", at(1, 0)), ArchetypeId::UNSPECIFIED),
        ),
    ];
    for (what, r) in bad {
        for (call, res) in [
            ("record_started", s.record_started(r.clone()).await),
            ("upsert", s.upsert(r.clone()).await),
        ] {
            expect_err(
                &format!("{call} with {what}"),
                res,
                ErrorKind::InvalidArgument,
            )?;
        }
        expect_err(
            &format!("get after the rejected {what}"),
            s.get(ns, r.run_id).await,
            ErrorKind::NotFound,
        )?;
    }
    ensure_eq!(count(s, ns, "").await?, 0);
    ensure_eq!(chasm_count(s, ns, ACTIVITY, "").await?.count, 0);
    Ok(())
}

/// An upsert of a CHASM record replaces its info blob and attributes; a stale one changes
/// nothing; a delete removes it from its scope.
pub async fn chasm_info_upsert_and_delete(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let r = with_attrs(
        &chasm(running(ns, "act", at(1, 0)), ACTIVITY),
        5,
        &[("TemporalKeyword01", kw("v1"))],
    );
    write(s, &r).await?;
    let mut up = with_attrs(&r, 10, &[("TemporalKeyword01", kw("v2"))]);
    up.chasm_info = Some(DataBlob::new(vec![0, 255, 7], "json/plain"));
    ok("upsert", s.upsert(up.clone()).await)?;
    ensure_stored(s, "after the upsert", &up).await?;
    let mut stale = with_attrs(&r, 7, &[("TemporalKeyword01", kw("stale"))]);
    stale.chasm_info = None;
    ok("stale upsert", s.upsert(stale).await)?;
    ensure_stored(s, "after the stale upsert", &up).await?;
    ensure_eq!(
        chasm_ids(s, ns, ACTIVITY, "TemporalKeyword01 = 'v2'", 10).await?,
        vec![r.run_id]
    );
    ok("delete", s.delete(ns, r.run_id, 11).await)?;
    ensure_eq!(chasm_count(s, ns, ACTIVITY, "").await?.count, 0);
    Ok(())
}

/// Concurrent upserts of one CHASM record with different task ids: exactly the highest wins,
/// with its attributes and info blob, and the record stays in its archetype's scope.
pub async fn chasm_concurrent_upserts_highest_wins(ctx: &Ctx) -> Result<(), CaseError> {
    let store = Arc::clone(ctx.visibility()?);
    let ns = fresh_namespace(store.as_ref()).await?;
    let base = chasm(running(ns, "act-race", at(1, 0)), ACTIVITY);
    write(store.as_ref(), &base).await?;
    let version = |k: i64| {
        let mut r = with_attrs(&base, k, &[("TemporalInt01", SearchAttributeValue::Int(k))]);
        r.chasm_info = Some(DataBlob::new(k.to_be_bytes().to_vec(), "Proto3"));
        r
    };
    let mut futs = Vec::new();
    for k in [7i64, 2, 16, 11, 4, 13, 9, 15, 3, 12, 6, 10, 5, 14, 8] {
        let st = Arc::clone(&store);
        let up = version(k);
        futs.push(async move { st.upsert(up).await });
    }
    for (i, r) in race(futs).await?.into_iter().enumerate() {
        ok(&format!("racing upsert {i}"), r)?;
    }
    ensure_stored(store.as_ref(), "after the race", &version(16)).await?;
    ensure_eq!(
        chasm_count(store.as_ref(), ns, ACTIVITY, "TemporalInt01 = 16")
            .await?
            .count,
        1
    );
    ensure_eq!(count(store.as_ref(), ns, "").await?, 0);
    Ok(())
}
