//! Visibility cases: namespace isolation.

use std::collections::BTreeMap;

use durastore_api::ErrorKind;

use super::helpers::{
    at, count, count_by_status, ensure_stored, fresh_namespace, in_list_order, kw, list_ids,
    running, seed_plain, vis, with_attrs, write,
};
use crate::check::{expect_err, ok};
use crate::{CaseError, Ctx, ensure_eq};

/// List and count see only their namespace's records, whatever the query.
pub async fn namespace_isolation_list_count(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let a = fresh_namespace(s).await?;
    let b = fresh_namespace(s).await?;
    let ra = seed_plain(s, a, 3).await?;
    let mut rb = Vec::new();
    for i in 1..=2 {
        let r = running(b, &format!("wf-{i}"), at(i, 0));
        write(s, &r).await?;
        rb.push(r);
    }
    ensure_eq!(list_ids(s, a, "", 10).await?, in_list_order(&ra));
    ensure_eq!(list_ids(s, b, "", 10).await?, in_list_order(&rb));
    ensure_eq!(count(s, a, "").await?, 3);
    ensure_eq!(count(s, b, "").await?, 2);
    ensure_eq!(count(s, b, "WorkflowId = 'wf-3'").await?, 0);
    ensure_eq!(
        count(s, a, "WorkflowId = 'wf-1' OR WorkflowId = 'wf-2'").await?,
        2
    );
    ensure_eq!(
        count_by_status(s, b, "GROUP BY ExecutionStatus").await?,
        BTreeMap::from([("Running", 2)])
    );
    let empty = fresh_namespace(s).await?;
    ensure_eq!(count(s, empty, "").await?, 0);
    Ok(())
}

/// Get and delete address a run in one namespace only.
pub async fn namespace_isolation_get_delete(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let a = fresh_namespace(s).await?;
    let b = fresh_namespace(s).await?;
    let r = running(a, "wf", at(0, 0));
    write(s, &r).await?;
    expect_err("get in b", s.get(b, r.run_id).await, ErrorKind::NotFound)?;
    ok("delete in b", s.delete(b, r.run_id, 100).await)?;
    ensure_stored(s, "a's record after a delete in b", &r).await
}

/// The same run id in two namespaces is two independent records.
pub async fn namespace_isolation_same_run_id(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let a = fresh_namespace(s).await?;
    let b = fresh_namespace(s).await?;
    let ra = with_attrs(
        &running(a, "wf-a", at(0, 0)),
        1,
        &[("CustomKeywordField", kw("a"))],
    );
    let mut rb = with_attrs(
        &running(b, "wf-b", at(5, 0)),
        1,
        &[("CustomKeywordField", kw("b"))],
    );
    rb.run_id = ra.run_id;
    write(s, &ra).await?;
    write(s, &rb).await?;
    ensure_stored(s, "a", &ra).await?;
    ensure_stored(s, "b", &rb).await?;
    let up = with_attrs(&rb, 5, &[("CustomKeywordField", kw("b2"))]);
    ok("upsert in b", s.upsert(up.clone()).await)?;
    ensure_stored(s, "a after b's upsert", &ra).await?;
    ok("delete in a", s.delete(a, ra.run_id, 10).await)?;
    expect_err(
        "get in a after delete",
        s.get(a, ra.run_id).await,
        ErrorKind::NotFound,
    )?;
    ensure_stored(s, "b after a's delete", &up).await?;
    ensure_eq!(count(s, b, "CustomKeywordField = 'b2'").await?, 1);
    Ok(())
}
