//! Hostile and malformed visibility queries, replayed against the live backend: each must be
//! `InvalidArgument` from `list` and from `count`, and afterwards the data must be exactly as
//! before (the queried namespace and a canary namespace: full listings, counts, per-status
//! counts, and every canary record read back field by field).
//!
//! The queries are the parser crate's shared [`HOSTILE_QUERIES`] and
//! [`hostile_generated_queries`] plus this module's own [`EXTRA_HOSTILE_QUERIES`] and a few
//! built per run (oversized, deeply nested, naming the canary namespace).

use durastore_api::query::{HOSTILE_QUERIES, hostile_generated_queries};
use durastore_api::{
    NamespaceId, SearchAttributeValue, VisibilityRecord, VisibilityStore, WorkflowStatus,
};

use super::helpers::{
    at, closed, count, count_by_status, ensure_stored, expect_invalid_query, fresh_namespace, kw,
    kwl, list_all, running, with_attrs, write,
};
use crate::{CaseError, Ctx, ensure, ensure_eq};

/// Hostile queries of this suite, in addition to the parser crate's [`HOSTILE_QUERIES`]: SQL
/// fragments, comments, unbalanced quotes, unknown and reserved attributes, wrong types,
/// function calls, LIMIT/OFFSET, ORDER BY, GROUP BY misuse, subqueries, casts, placeholders and
/// control characters. Each is `InvalidArgument` in both List and Count.
pub const EXTRA_HOSTILE_QUERIES: &[&str] = &[
    "' OR '1'='1",
    "WorkflowId = 'x' OR '1'='1'",
    "WorkflowId = 'x' OR 1=1",
    "WorkflowId = 'x'; DELETE FROM executions_visibility",
    "WorkflowId = 'x'; UPDATE executions_visibility SET workflow_id = 'pwned'",
    "WorkflowId = 'x'; TRUNCATE executions_visibility",
    "WorkflowId = 'x' UNION ALL SELECT namespace_id, run_id FROM executions_visibility --",
    "WorkflowId = 'x' UNION SELECT 1",
    "/**/WorkflowId = 'x'",
    "WorkflowId = 'x' --",
    "WorkflowId = 'x' #",
    "WorkflowId = 'x' /*",
    "WorkflowId = 'x''",
    "WorkflowId = x'",
    "WorkflowId = 'x' AND CustomIntField = 1 AND (((((",
    "RunId = 'x' OR RunId IS NOT NULL) OR (1=1",
    "NoSuchAttribute = 'x'",
    "customkeywordfield = 'x'",
    "CUSTOMKEYWORDFIELD = 'x'",
    "CustomBoolField = 'maybe'",
    "CustomBoolField = 1",
    "CustomDatetimeField = 'not a date'",
    "CustomDoubleField = 'NaN'",
    "CustomDoubleField = NaN",
    "CustomDoubleField = 1e999",
    "CustomKeywordListField = 5",
    "Memo = 'x' OR WorkflowId = 'x'",
    "WorkflowId = 'x' AND NamespaceId != ''",
    "`Memo` IS NOT NULL",
    "NamespaceId IS NOT NULL",
    "TemporalNamespaceDivision2 = 'x'",
    "lower(WorkflowId) = 'x'",
    "WorkflowId = lower('X')",
    "WorkflowId = concat('a', 'b')",
    "COUNT(*) > 0",
    "WorkflowId = 'x' LIMIT 1 OFFSET 5",
    "WorkflowId = 'x' LIMIT 10000000",
    "ORDER BY StartTime",
    "WorkflowId = 'x' ORDER BY RunId ASC",
    "ORDER BY CloseTime DESC, StartTime DESC",
    "ExecutionStatus = 'Running' GROUP BY ExecutionStatus ORDER BY ExecutionStatus",
    "GROUP BY CustomKeywordField",
    "GROUP BY StartTime",
    "GROUP BY ExecutionStatus HAVING COUNT(*) > 1",
    "WorkflowId = (SELECT 'x')",
    "WorkflowId IN ('a', (SELECT 'b'))",
    "EXISTS (SELECT 1)",
    "WorkflowId = 'x' INTO OUTFILE '/tmp/x'",
    "WorkflowId = 'x' FOR UPDATE",
    "WorkflowId = 'x'::text",
    "WorkflowId = :name",
    "WorkflowId = %s",
    "CustomKeywordListField > 'a'",
    "CustomKeywordListField BETWEEN 'a' AND 'b'",
    "CustomBoolField > false",
    "CustomBoolField IN (true)",
    "CustomDoubleField STARTS_WITH '1'",
    "CustomTextField NOT IN ('a')",
    "CustomTextField = ''",
    "ExecutionDuration > 'forever'",
    "ExecutionStatus IN ()",
    "WorkflowId BETWEEN 'a' AND",
    "WorkflowId STARTS_WITH",
    "WorkflowId STARTS_WITH 5",
    "WorkflowId IS NULL OR",
    "WorkflowId = 'x' AND 1",
    "CustomIntField = 1 OR 1",
    "*",
    "WorkflowId = 'x' AND CustomIntField = 1;",
    "`CustomKeywordField` = 'a' OR `NamespaceId` IS NOT NULL",
    "WorkflowId = 'it''s' OR 'a'='a'",
    "CustomKeywordField = 'a' ESCAPE '!'",
    "WorkflowId\0 = 'x'",
    "\0",
    "WorkflowId = 'x'\u{1}",
    "WorkflowId = 'x' AND RunId = 'y'\u{8}",
    "WorkflowId = 'x\u{b}'",
    "WorkflowId = 'x' AND CustomTextField = 'a\u{c}b'",
    "WorkflowId = 'x' \u{3000}AND CustomIntField = 1",
];

/// Queries built per run: over 64 KiB of valid terms, 100 KB literals, 200 nested parentheses,
/// 150 NOTs, and scope escapes naming real namespaces.
fn generated_extra(target: NamespaceId, canary: NamespaceId) -> Vec<String> {
    let mut out = Vec::new();
    // 100 KB of individually valid terms.
    let term = "WorkflowId = 'x' OR ";
    out.push(format!(
        "{}WorkflowId = 'y'",
        term.repeat(100 * 1024 / term.len())
    ));
    // A 100 KB literal.
    out.push(format!("CustomKeywordField = '{}'", "a".repeat(100 * 1024)));
    // 100 KB of whitespace around a valid term.
    out.push(format!("{}WorkflowId = 'x'", " ".repeat(100 * 1024)));
    // 200 nested parentheses around a valid term.
    out.push(format!(
        "{}WorkflowId = 'x'{}",
        "(".repeat(200),
        ")".repeat(200)
    ));
    // 150 NOTs.
    out.push(format!("{}WorkflowId = 'x'", "NOT ".repeat(150)));
    // 101 nested parentheses: one level past the limit.
    out.push(format!(
        "{}CustomIntField = 1{}",
        "(".repeat(101),
        ")".repeat(101)
    ));
    // Scope escapes.
    out.push(format!("NamespaceId = '{canary}'"));
    out.push(format!("WorkflowId = 'x' OR NamespaceId = '{canary}'"));
    out.push(format!("NamespaceId IN ('{target}', '{canary}')"));
    out
}

/// What a namespace holds, as seen through list, count and grouped count.
#[derive(Debug, PartialEq)]
struct Snapshot {
    listed: Vec<VisibilityRecord>,
    count: i64,
    by_status: std::collections::BTreeMap<&'static str, i64>,
}

async fn snapshot(s: &dyn VisibilityStore, ns: NamespaceId) -> Result<Snapshot, CaseError> {
    Ok(Snapshot {
        listed: list_all(s, ns, "", 4).await?,
        count: count(s, ns, "").await?,
        by_status: count_by_status(s, ns, "GROUP BY ExecutionStatus").await?,
    })
}

/// A namespace with a few records of every kind, returned as written.
async fn populate(
    s: &dyn VisibilityStore,
    ns: NamespaceId,
) -> Result<Vec<VisibilityRecord>, CaseError> {
    let mut out = Vec::new();
    for i in 0..8i64 {
        let r = with_attrs(
            &running(ns, &format!("canary-{i}"), at(i, 7)),
            1,
            &[
                ("CustomKeywordField", kw(&format!("k{i}"))),
                ("CustomIntField", SearchAttributeValue::Int(i)),
                ("CustomTextField", kw("canary text")),
                ("CustomKeywordListField", kwl(&["x", "y"])),
            ],
        );
        let r = if i % 3 == 0 {
            closed(&r, at(100 + i, 0), WorkflowStatus::Completed)
        } else {
            r
        };
        write(s, &r).await?;
        out.push(r);
    }
    Ok(out)
}

/// Replays `queries` in `target`, expecting `InvalidArgument` from list and count for each, and
/// checks that `target` and a canary namespace are unchanged.
async fn replay(ctx: &Ctx, queries: &[String], with_generated: bool) -> Result<(), CaseError> {
    let s = ctx.visibility()?.as_ref();
    let target = fresh_namespace(s).await?;
    let canary = fresh_namespace(s).await?;
    let target_recs = populate(s, target).await?;
    let canary_recs = populate(s, canary).await?;
    let before = (snapshot(s, target).await?, snapshot(s, canary).await?);
    let mut all: Vec<String> = queries.to_vec();
    if with_generated {
        all.extend(generated_extra(target, canary));
    }
    let mut failures = Vec::new();
    for q in &all {
        if let Err(e) = expect_invalid_query(s, target, q).await {
            let mut m = e.message().to_string();
            if m.len() > 600 {
                let cut = (0..=600)
                    .rev()
                    .find(|i| m.is_char_boundary(*i))
                    .unwrap_or(0);
                m.truncate(cut);
                m.push('…');
            }
            failures.push(m);
        }
    }
    let after = (snapshot(s, target).await?, snapshot(s, canary).await?);
    ensure!(
        before == after,
        "data changed while replaying hostile queries:\n  before: {before:?}\n  after: {after:?}"
    );
    for r in target_recs.iter().chain(&canary_recs) {
        ensure_stored(s, "record after hostile queries", r).await?;
    }
    ensure!(
        failures.is_empty(),
        "{} of {} hostile queries were not InvalidArgument from both list and count:\n  {}",
        failures.len(),
        all.len(),
        failures.join("\n  ")
    );
    Ok(())
}

/// The parser crate's shared hostile queries ([`HOSTILE_QUERIES`] and the generated ones).
pub async fn hostile_shared_queries_rejected(ctx: &Ctx) -> Result<(), CaseError> {
    let mut qs: Vec<String> = HOSTILE_QUERIES.iter().map(|q| q.to_string()).collect();
    qs.extend(hostile_generated_queries());
    ensure!(qs.len() >= 50, "only {} shared hostile queries", qs.len());
    replay(ctx, &qs, false).await
}

/// This suite's own hostile queries ([`EXTRA_HOSTILE_QUERIES`] and per-run generated ones).
pub async fn hostile_extra_queries_rejected(ctx: &Ctx) -> Result<(), CaseError> {
    let qs: Vec<String> = EXTRA_HOSTILE_QUERIES
        .iter()
        .map(|q| q.to_string())
        .collect();
    replay(ctx, &qs, true).await
}

/// `GROUP BY ExecutionStatus` is a Count feature: in List it is `InvalidArgument`, in Count it
/// works; `GROUP BY` anything else is rejected in both.
pub async fn hostile_group_by_only_in_count(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.visibility()?.as_ref();
    let ns = fresh_namespace(s).await?;
    populate(s, ns).await?;
    for q in [
        "GROUP BY ExecutionStatus",
        "CustomIntField > 2 GROUP BY ExecutionStatus",
    ] {
        crate::check::expect_err(
            &format!("list {q:?}"),
            s.list(super::helpers::request(ns, q, 10, None)).await,
            durastore_api::ErrorKind::InvalidArgument,
        )?;
    }
    ensure_eq!(
        count_by_status(s, ns, "GROUP BY ExecutionStatus").await?,
        std::collections::BTreeMap::from([("Running", 5), ("Completed", 3)])
    );
    ensure_eq!(
        count_by_status(s, ns, "CustomIntField > 2 GROUP BY ExecutionStatus").await?,
        std::collections::BTreeMap::from([("Running", 3), ("Completed", 2)])
    );
    for q in [
        "GROUP BY WorkflowType",
        "GROUP BY CustomKeywordField",
        "GROUP BY RunId",
    ] {
        expect_invalid_query(s, ns, q).await?;
    }
    Ok(())
}

/// Injection payloads stored as values and queried as quoted literals are plain data: each
/// query finds exactly the record holding that string, and nothing else changes.
pub async fn hostile_payloads_as_values(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.visibility()?.as_ref();
    let ns = fresh_namespace(s).await?;
    let payloads = [
        "'; DROP TABLE executions_visibility; --",
        "x' OR '1'='1",
        "\\'; SELECT pg_sleep(5); --",
        "a%' OR workflow_id LIKE '%",
        "') UNION SELECT * FROM executions_visibility --",
        "$1",
        "?",
        "/* */",
        "\"CustomKeywordField\"",
    ];
    let mut recs = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        let mut r = with_attrs(
            &running(ns, p, at(i as i64, 0)),
            1,
            &[
                ("CustomKeywordField", kw(p)),
                ("CustomKeywordListField", kwl(&[p])),
            ],
        );
        r.workflow_type = p.to_string();
        write(s, &r).await?;
        recs.push(r);
    }
    for (p, r) in payloads.iter().zip(&recs) {
        let lit = format!("'{}'", p.replace('\'', "''"));
        for q in [
            format!("CustomKeywordField = {lit}"),
            format!("WorkflowId = {lit}"),
            format!("WorkflowType = {lit}"),
            format!("CustomKeywordListField = {lit}"),
            format!("CustomKeywordField STARTS_WITH {lit}"),
        ] {
            let got: Vec<_> = list_all(s, ns, &q, 3)
                .await?
                .into_iter()
                .map(|x| x.run_id)
                .collect();
            ensure_eq!(got, vec![r.run_id], "{q}");
            ensure_eq!(count(s, ns, &q).await?, 1, "count {q}");
        }
    }
    ensure_eq!(count(s, ns, "").await?, payloads.len() as i64);
    for r in &recs {
        ensure_stored(s, "payload record", r).await?;
    }
    Ok(())
}
