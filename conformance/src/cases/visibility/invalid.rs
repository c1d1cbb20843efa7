//! Visibility cases: invalid writes and reads, rejected before anything is written.

use std::collections::BTreeMap;

use durastore_api::query::SearchAttributeType;
use durastore_api::validate::{MAX_BLOB_BYTES, MAX_SEARCH_ATTRIBUTE_VALUE_BYTES};
use durastore_api::{
    DataBlob, ErrorKind, NamespaceId, RunId, SearchAttributeValue, VisibilityRecord,
    VisibilityStore, WorkflowStatus,
};

use super::helpers::{
    at, closed, count, count_request, ensure_stored, expect_invalid_query, fresh_namespace, kw,
    kwl, list_ids, request, running, vis, with_attrs, write,
};
use crate::check::{expect_bad_request, expect_err, ok};
use crate::{CaseError, Ctx, ensure_eq};

/// Sends `bad` through record_started, record_closed and upsert; each must fail with a
/// bad-request kind (`exact` when given), and the namespace's records must be unchanged.
async fn expect_rejected_write(
    s: &dyn VisibilityStore,
    what: &str,
    bad: &VisibilityRecord,
    exact: Option<ErrorKind>,
) -> Result<(), CaseError> {
    let scoped = !bad.namespace_id.as_uuid().is_nil();
    let before = if scoped {
        Some(list_ids(s, bad.namespace_id, "", 100).await?)
    } else {
        None
    };
    let mut c = closed(bad, at(100, 0), WorkflowStatus::Completed);
    c.task_id = bad.task_id;
    let results = [
        ("record_started", s.record_started(bad.clone()).await),
        ("record_closed", s.record_closed(c).await),
        ("upsert", s.upsert(bad.clone()).await),
    ];
    for (call, res) in results {
        let label = format!("{call} with {what}");
        match exact {
            Some(kind) => {
                expect_err(&label, res, kind)?;
            }
            None => {
                expect_bad_request(&label, res)?;
            }
        }
    }
    if scoped && !bad.run_id.as_uuid().is_nil() {
        expect_err(
            &format!("get after the rejected writes ({what})"),
            s.get(bad.namespace_id, bad.run_id).await,
            ErrorKind::NotFound,
        )?;
    }
    if let Some(before) = before {
        ensure_eq!(
            list_ids(s, bad.namespace_id, "", 100).await?,
            before,
            "the namespace's records after rejected writes ({what})"
        );
    }
    Ok(())
}

/// Empty workflow id, nil run id and nil namespace id are `InvalidArgument`.
pub async fn invalid_write_empty_ids(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let good = running(ns, "wf", at(0, 0));
    let mut no_wid = good.clone();
    no_wid.workflow_id = String::new();
    expect_rejected_write(
        s,
        "an empty workflow id",
        &no_wid,
        Some(ErrorKind::InvalidArgument),
    )
    .await?;
    let mut nil_run = good.clone();
    nil_run.run_id = RunId::from_uuid(durastore_api::Uuid::nil());
    expect_rejected_write(
        s,
        "a nil run id",
        &nil_run,
        Some(ErrorKind::InvalidArgument),
    )
    .await?;
    ensure_eq!(count(s, ns, "").await?, 0);
    let mut nil_ns = good;
    nil_ns.namespace_id = NamespaceId::from_uuid(durastore_api::Uuid::nil());
    expect_rejected_write(
        s,
        "a nil namespace id",
        &nil_ns,
        Some(ErrorKind::InvalidArgument),
    )
    .await?;
    Ok(())
}

/// A memo above the blob limit is a bad request and writes nothing; at the limit it is stored.
pub async fn invalid_write_oversized_memo(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let mut r = running(ns, "wf", at(0, 0));
    r.memo = Some(DataBlob::proto3(vec![7u8; MAX_BLOB_BYTES + 1]));
    expect_rejected_write(s, "an oversized memo", &r, None).await?;
    let mut bad_encoding = running(ns, "wf", at(0, 0));
    bad_encoding.memo = Some(DataBlob::new(
        b"x".to_vec(),
        "e".repeat(DataBlob::MAX_ENCODING_BYTES + 1),
    ));
    expect_rejected_write(
        s,
        "an over-long memo encoding",
        &bad_encoding,
        Some(ErrorKind::InvalidArgument),
    )
    .await?;
    Ok(())
}

/// Workflow ids over 255 bytes or with a NUL character are bad requests and write nothing.
pub async fn invalid_write_bad_workflow_id(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let mut long = running(ns, "wf", at(0, 0));
    long.workflow_id = "w".repeat(256);
    expect_rejected_write(s, "a 256-byte workflow id", &long, None).await?;
    let mut nul = running(ns, "wf", at(0, 0));
    nul.workflow_id = "wf\0x".to_string();
    expect_rejected_write(
        s,
        "a NUL in the workflow id",
        &nul,
        Some(ErrorKind::InvalidArgument),
    )
    .await?;
    let mut max = running(ns, "wf", at(0, 0));
    max.workflow_id = "w".repeat(255);
    write(s, &max).await?;
    ensure_stored(s, "255-byte workflow id", &max).await
}

/// Reads and deletes with nil namespace or run ids are `InvalidArgument`.
pub async fn invalid_read_nil_ids(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let nil_ns = NamespaceId::from_uuid(durastore_api::Uuid::nil());
    let nil_run = RunId::from_uuid(durastore_api::Uuid::nil());
    let ns = fresh_namespace(s).await?;
    expect_err(
        "get nil run",
        s.get(ns, nil_run).await,
        ErrorKind::InvalidArgument,
    )?;
    expect_err(
        "get nil namespace",
        s.get(nil_ns, RunId::new_random()).await,
        ErrorKind::InvalidArgument,
    )?;
    expect_err(
        "delete nil run",
        s.delete(ns, nil_run, 1).await,
        ErrorKind::InvalidArgument,
    )?;
    expect_err(
        "list nil namespace",
        s.list(request(nil_ns, "", 10, None)).await,
        ErrorKind::InvalidArgument,
    )?;
    expect_err(
        "count nil namespace",
        s.count(count_request(nil_ns, "")).await,
        ErrorKind::InvalidArgument,
    )?;
    Ok(())
}

/// Search attributes a namespace does not have, of the wrong type, system or reserved names,
/// non-finite doubles and NUL characters are `InvalidArgument` and write nothing.
pub async fn invalid_write_search_attributes(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let base = running(ns, "wf", at(0, 0));
    let bad: Vec<(&str, Vec<(&str, SearchAttributeValue)>)> = vec![
        (
            "an unregistered attribute",
            vec![("CustomUnknownField", kw("x"))],
        ),
        ("a string for an Int", vec![("CustomIntField", kw("1"))]),
        (
            "an Int for a Keyword",
            vec![("CustomKeywordField", SearchAttributeValue::Int(1))],
        ),
        (
            "a string for a KeywordList",
            vec![("CustomKeywordListField", kw("a"))],
        ),
        (
            "an Int for a Datetime",
            vec![("CustomDatetimeField", SearchAttributeValue::Int(0))],
        ),
        (
            "a Double for a Bool",
            vec![("CustomBoolField", SearchAttributeValue::Double(1.0))],
        ),
        ("a system attribute", vec![("WorkflowId", kw("other"))]),
        ("a reserved attribute", vec![("NamespaceId", kw("other"))]),
        (
            "a NaN Double",
            vec![("CustomDoubleField", SearchAttributeValue::Double(f64::NAN))],
        ),
        (
            "an infinite Double",
            vec![(
                "CustomDoubleField",
                SearchAttributeValue::Double(f64::INFINITY),
            )],
        ),
        (
            "a NUL in a Keyword",
            vec![("CustomKeywordField", kw("a\0b"))],
        ),
        (
            "a NUL in a KeywordList",
            vec![("CustomKeywordListField", kwl(&["ok", "a\0b"]))],
        ),
    ];
    for (what, pairs) in bad {
        let mut r = with_attrs(&base, 1, &pairs);
        r.run_id = RunId::new_random();
        expect_rejected_write(s, what, &r, Some(ErrorKind::InvalidArgument)).await?;
    }
    Ok(())
}

/// A Keyword, Text or KeywordList value of exactly the size limit is stored; one byte more is
/// `SizeLimitExceeded` and writes nothing.
pub async fn search_attribute_value_size_limit(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let max = MAX_SEARCH_ATTRIBUTE_VALUE_BYTES;
    let at_limit = "k".repeat(max);
    let half = "l".repeat(max / 2);
    let r = with_attrs(
        &running(ns, "wf", at(0, 0)),
        1,
        &[
            ("CustomKeywordField", kw(&at_limit)),
            ("CustomTextField", kw(&"word ".repeat(max / 5))),
            ("CustomKeywordListField", kwl(&[&half, &half])),
        ],
    );
    write(s, &r).await?;
    ensure_stored(s, "values at the size limit", &r).await?;
    ensure_eq!(
        list_ids(s, ns, &format!("CustomKeywordField = '{at_limit}'"), 5).await?,
        vec![r.run_id]
    );
    ensure_eq!(
        list_ids(s, ns, &format!("CustomKeywordListField = '{half}'"), 5).await?,
        vec![r.run_id]
    );
    let over = "k".repeat(max + 1);
    for (what, pairs) in [
        (
            "an oversized Keyword",
            vec![("CustomKeywordField", kw(&over))],
        ),
        ("an oversized Text", vec![("CustomTextField", kw(&over))]),
        (
            "an oversized KeywordList",
            vec![("CustomKeywordListField", kwl(&[&half, &half, "x"]))],
        ),
    ] {
        let mut bad = with_attrs(&r, 1, &pairs);
        bad.run_id = RunId::new_random();
        expect_rejected_write(s, what, &bad, Some(ErrorKind::SizeLimitExceeded)).await?;
    }
    Ok(())
}

/// Registering a system, predefined or reserved name, a malformed name, or an existing name with
/// another type is `InvalidArgument` and registers nothing of the call.
pub async fn add_search_attributes_rejects_bad_names(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let long = "A".repeat(256);
    for name in [
        "",
        "WorkflowId",
        "workflowid",
        "ExecutionStatus",
        "NamespaceId",
        "Memo",
        "TemporalFoo",
        "temporalFoo",
        "BuildIds",
        "1abc",
        "has space",
        "quote'name",
        "And",
        "Select",
        long.as_str(),
    ] {
        let res = s
            .add_search_attributes(
                ns,
                BTreeMap::from([(name.to_string(), SearchAttributeType::Keyword)]),
            )
            .await;
        expect_err(
            &format!("register {name:?}"),
            res,
            ErrorKind::InvalidArgument,
        )?;
    }
    expect_err(
        "re-register CustomIntField as Keyword",
        s.add_search_attributes(
            ns,
            BTreeMap::from([("CustomIntField".to_string(), SearchAttributeType::Keyword)]),
        )
        .await,
        ErrorKind::InvalidArgument,
    )?;
    ensure_eq!(count(s, ns, "CustomIntField = 1").await?, 0, "still an Int");
    expect_invalid_query(s, ns, "CustomIntField = 'a'").await?;
    expect_err(
        "register a good and a bad name together",
        s.add_search_attributes(
            ns,
            BTreeMap::from([
                ("GoodField".to_string(), SearchAttributeType::Keyword),
                ("bad name".to_string(), SearchAttributeType::Keyword),
            ]),
        )
        .await,
        ErrorKind::InvalidArgument,
    )?;
    expect_invalid_query(s, ns, "GoodField = 'x'").await
}

/// Custom attributes are registered per namespace: another namespace neither queries nor
/// writes them.
pub async fn namespace_isolation_search_attributes(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let a = NamespaceId::new_random();
    let b = NamespaceId::new_random();
    ok(
        "register in a",
        s.add_search_attributes(
            a,
            BTreeMap::from([("IsoField".to_string(), SearchAttributeType::Keyword)]),
        )
        .await,
    )?;
    ensure_eq!(count(s, a, "IsoField = 'x'").await?, 0);
    expect_invalid_query(s, b, "IsoField = 'x'").await?;
    let r = with_attrs(&running(b, "wf", at(0, 0)), 1, &[("IsoField", kw("x"))]);
    expect_rejected_write(
        s,
        "an attribute of another namespace",
        &r,
        Some(ErrorKind::InvalidArgument),
    )
    .await?;
    let ok_rec = with_attrs(&running(a, "wf", at(0, 0)), 1, &[("IsoField", kw("x"))]);
    write(s, &ok_rec).await?;
    ensure_eq!(count(s, a, "IsoField = 'x'").await?, 1);
    Ok(())
}
