//! Helpers of the visibility cases (also used by the corpus and hostile-query cases).

use std::collections::BTreeMap;
use std::sync::Arc;

use durastore_api::query::{Literal, SearchAttributeType};
use durastore_api::{
    ArchetypeId, CountResult, CountWorkflowExecutionsRequest, DateTime, ErrorKind,
    ListWorkflowExecutionsRequest, NamespaceId, Page, RunId, SearchAttributeValue, Utc,
    VisibilityRecord, VisibilityStore, WorkflowStatus,
};

use crate::check::{expect_err, ok};
use crate::fixtures::{blob, unique_name};
use crate::util::collect_pages;
use crate::{CaseError, Ctx, ensure, ensure_eq};

/// The custom search attributes every visibility case registers in its namespace.
pub(crate) const CUSTOM_ATTRIBUTES: &[(&str, SearchAttributeType)] = &[
    ("CustomKeywordField", SearchAttributeType::Keyword),
    ("CustomIntField", SearchAttributeType::Int),
    ("CustomTextField", SearchAttributeType::Text),
    ("CustomDoubleField", SearchAttributeType::Double),
    ("CustomBoolField", SearchAttributeType::Bool),
    ("CustomDatetimeField", SearchAttributeType::Datetime),
    ("CustomKeywordListField", SearchAttributeType::KeywordList),
];

/// [`CUSTOM_ATTRIBUTES`] as the map `add_search_attributes` takes.
pub(crate) fn custom_attributes() -> BTreeMap<String, SearchAttributeType> {
    CUSTOM_ATTRIBUTES
        .iter()
        .map(|(n, t)| (n.to_string(), *t))
        .collect()
}

/// A fresh namespace with the custom attributes registered.
pub(crate) async fn fresh_namespace(s: &dyn VisibilityStore) -> Result<NamespaceId, CaseError> {
    let ns = NamespaceId::new_random();
    ok(
        "add_search_attributes",
        s.add_search_attributes(ns, custom_attributes()).await,
    )?;
    Ok(ns)
}

/// 2024-05-01T10:00:00Z, the base of every timestamp the cases write.
pub(crate) fn t0() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_714_557_600, 0).unwrap_or(DateTime::UNIX_EPOCH)
}

/// [`t0`] plus whole seconds and microseconds.
pub(crate) fn at(secs: i64, micros: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::seconds(secs) + chrono::Duration::microseconds(micros)
}

/// A timestamp as a query literal body (RFC3339, microseconds, `Z`).
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A Keyword or Text value.
pub(crate) fn kw(s: &str) -> SearchAttributeValue {
    SearchAttributeValue::String(s.to_string())
}

/// A KeywordList value.
pub(crate) fn kwl(items: &[&str]) -> SearchAttributeValue {
    SearchAttributeValue::KeywordList(items.iter().map(|s| s.to_string()).collect())
}

/// Search attributes from pairs.
pub(crate) fn attrs(
    pairs: &[(&str, SearchAttributeValue)],
) -> BTreeMap<String, SearchAttributeValue> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// A running record: fresh run id, type `VisType`, queue `vis-tq`, task id 1, no memo, no
/// search attributes, no parent.
pub(crate) fn running(
    ns: NamespaceId,
    workflow_id: &str,
    start: DateTime<Utc>,
) -> VisibilityRecord {
    VisibilityRecord {
        namespace_id: ns,
        workflow_id: workflow_id.to_string(),
        run_id: RunId::new_random(),
        workflow_type: "VisType".to_string(),
        start_time: start,
        execution_time: start,
        status: WorkflowStatus::Running,
        task_queue: "vis-tq".to_string(),
        task_id: 1,
        shard_id: 1,
        memo: None,
        search_attributes: BTreeMap::new(),
        parent_workflow_id: None,
        parent_run_id: None,
        root_workflow_id: None,
        root_run_id: None,
        close_time: None,
        history_length: None,
        history_size_bytes: None,
        execution_duration_nanos: None,
        state_transition_count: None,
        archetype_id: ArchetypeId::WORKFLOW,
        chasm_info: None,
    }
}

/// The record closed at `close` with `status`, task id one above the given record's.
pub(crate) fn closed(
    r: &VisibilityRecord,
    close: DateTime<Utc>,
    status: WorkflowStatus,
) -> VisibilityRecord {
    let nanos = (close - r.execution_time)
        .num_nanoseconds()
        .unwrap_or(0)
        .max(0);
    VisibilityRecord {
        status,
        task_id: r.task_id + 1,
        close_time: Some(close),
        history_length: Some(11),
        history_size_bytes: Some(2048),
        execution_duration_nanos: Some(nanos),
        state_transition_count: Some(7),
        ..r.clone()
    }
}

/// The same record with other search attributes and task id.
pub(crate) fn with_attrs(
    r: &VisibilityRecord,
    task_id: i64,
    pairs: &[(&str, SearchAttributeValue)],
) -> VisibilityRecord {
    VisibilityRecord {
        task_id,
        search_attributes: attrs(pairs),
        ..r.clone()
    }
}

/// Writes a record: `record_closed` when it has a close time, else `record_started`.
pub(crate) async fn write(s: &dyn VisibilityStore, r: &VisibilityRecord) -> Result<(), CaseError> {
    if r.close_time.is_some() {
        ok("record_closed", s.record_closed(r.clone()).await)
    } else {
        ok("record_started", s.record_started(r.clone()).await)
    }
}

/// A count request.
pub(crate) fn count_request(ns: NamespaceId, query: &str) -> CountWorkflowExecutionsRequest {
    CountWorkflowExecutionsRequest::new(ns, query)
}

/// A list request.
pub(crate) fn request(
    ns: NamespaceId,
    query: &str,
    page_size: i32,
    token: Option<Vec<u8>>,
) -> ListWorkflowExecutionsRequest {
    ListWorkflowExecutionsRequest {
        namespace_id: ns,
        query: query.to_string(),
        page_size,
        next_page_token: token,
        archetype_id: ArchetypeId::WORKFLOW,
    }
}

/// Every page of a listing. Checks the page shapes: no page above `page_size`, every page but
/// the last full, and the last page non-empty unless it is the only one (the last page carries no
/// token, even when the count is a multiple of the page size).
pub(crate) async fn list_pages(
    s: &dyn VisibilityStore,
    ns: NamespaceId,
    query: &str,
    page_size: i32,
) -> Result<Vec<Page<VisibilityRecord>>, CaseError> {
    let what = format!("list {query:?} (page size {page_size})");
    let pages = collect_pages(&what, |token| s.list(request(ns, query, page_size, token))).await?;
    let sizes: Vec<usize> = pages.iter().map(|p| p.items.len()).collect();
    let size = usize::try_from(page_size).unwrap_or(0);
    let last = sizes.len() - 1;
    for (i, n) in sizes.iter().enumerate() {
        ensure!(
            *n <= size,
            "{what}: page {i} has {n} items, above the page size (page sizes {sizes:?})"
        );
        ensure!(
            i == last || *n == size,
            "{what}: page {i} is not full but has a next page token (page sizes {sizes:?})"
        );
    }
    ensure!(
        last == 0 || sizes[last] > 0,
        "{what}: the last page is empty: the page before it should have had no token \
         (page sizes {sizes:?})"
    );
    Ok(pages)
}

/// Every matching record, following page tokens (see [`list_pages`] for the checks).
pub(crate) async fn list_all(
    s: &dyn VisibilityStore,
    ns: NamespaceId,
    query: &str,
    page_size: i32,
) -> Result<Vec<VisibilityRecord>, CaseError> {
    Ok(list_pages(s, ns, query, page_size)
        .await?
        .into_iter()
        .flat_map(|p| p.items)
        .collect())
}

/// The run ids of [`list_all`].
pub(crate) async fn list_ids(
    s: &dyn VisibilityStore,
    ns: NamespaceId,
    query: &str,
    page_size: i32,
) -> Result<Vec<RunId>, CaseError> {
    Ok(list_all(s, ns, query, page_size)
        .await?
        .into_iter()
        .map(|r| r.run_id)
        .collect())
}

/// The count of a query.
pub(crate) async fn count(
    s: &dyn VisibilityStore,
    ns: NamespaceId,
    query: &str,
) -> Result<i64, CaseError> {
    let res = ok(
        &format!("count {query:?}"),
        s.count(count_request(ns, query)).await,
    )?;
    ensure!(
        res.groups.is_empty(),
        "count {query:?} without GROUP BY returned groups {:?}",
        res.groups
    );
    Ok(res.count)
}

/// The per-status counts of a `GROUP BY ExecutionStatus` count result, checked: one status
/// literal per group, no status twice, no empty group, and the groups sum to the total.
pub(crate) fn status_groups(
    what: &str,
    res: &CountResult,
) -> Result<BTreeMap<&'static str, i64>, CaseError> {
    let mut out = BTreeMap::new();
    for (values, n) in &res.groups {
        let status = match values.as_slice() {
            [Literal::Status(s)] => *s,
            other => {
                return Err(CaseError::new(format!(
                    "{what}: a group's values are {other:?}, expected one ExecutionStatus"
                )));
            }
        };
        ensure!(*n > 0, "{what}: group {} has count {n}", status.name());
        ensure!(
            out.insert(status.name(), *n).is_none(),
            "{what}: status {} appears in two groups: {:?}",
            status.name(),
            res.groups
        );
    }
    let sum: i64 = out.values().sum();
    ensure_eq!(sum, res.count, "{what}: the groups sum to the total count");
    // The contract's order, the same on every backend: largest group first, ties by status number.
    let order: Vec<(i64, i32)> = res
        .groups
        .iter()
        .filter_map(|(v, n)| match v.as_slice() {
            [Literal::Status(s)] => Some((-*n, s.as_i32())),
            _ => None,
        })
        .collect();
    ensure!(
        order.windows(2).all(|w| w[0] <= w[1]),
        "{what}: groups are not largest first, ties by status number: {:?}",
        res.groups
    );
    Ok(out)
}

/// The grouped count of `query` (which ends in `GROUP BY ExecutionStatus`).
pub(crate) async fn count_by_status(
    s: &dyn VisibilityStore,
    ns: NamespaceId,
    query: &str,
) -> Result<BTreeMap<&'static str, i64>, CaseError> {
    let what = format!("count {query:?}");
    let res = ok(&what, s.count(count_request(ns, query)).await)?;
    status_groups(&what, &res)
}

/// The list order key of a record (see [`order_key`]).
pub(crate) type OrderKey = (
    bool,
    std::cmp::Reverse<Option<DateTime<Utc>>>,
    std::cmp::Reverse<DateTime<Utc>>,
    RunId,
);

/// The list order key: running (no close time) first, close time descending, start time
/// descending, run id ascending.
pub(crate) fn order_key(
    close: Option<DateTime<Utc>>,
    start: DateTime<Utc>,
    run_id: RunId,
) -> OrderKey {
    (
        close.is_some(),
        std::cmp::Reverse(close),
        std::cmp::Reverse(start),
        run_id,
    )
}

/// The run ids of `records` in list order.
pub(crate) fn in_list_order<'a>(
    records: impl IntoIterator<Item = &'a VisibilityRecord>,
) -> Vec<RunId> {
    let mut v: Vec<&VisibilityRecord> = records.into_iter().collect();
    v.sort_by_key(|r| order_key(r.close_time, r.start_time, r.run_id));
    v.into_iter().map(|r| r.run_id).collect()
}

/// The search attributes without empty KeywordLists (an empty list is the same as absent).
pub(super) fn normalized_attributes(r: &VisibilityRecord) -> BTreeMap<&str, &SearchAttributeValue> {
    r.search_attributes
        .iter()
        .filter(|(_, v)| !matches!(v, SearchAttributeValue::KeywordList(l) if l.is_empty()))
        .map(|(k, v)| (k.as_str(), v))
        .collect()
}

/// Differences between a written and a read record (empty when they agree).
pub(crate) fn record_diff(expected: &VisibilityRecord, got: &VisibilityRecord) -> Vec<String> {
    let mut d = Vec::new();
    macro_rules! field {
        ($f:ident) => {
            if expected.$f != got.$f {
                d.push(format!(
                    "{}: wrote {:?}, read {:?}",
                    stringify!($f),
                    expected.$f,
                    got.$f
                ));
            }
        };
    }
    field!(namespace_id);
    field!(workflow_id);
    field!(run_id);
    field!(workflow_type);
    field!(start_time);
    field!(execution_time);
    field!(status);
    field!(task_queue);
    field!(task_id);
    field!(memo);
    if normalized_attributes(expected) != normalized_attributes(got) {
        d.push(format!(
            "search_attributes: wrote {:?}, read {:?}",
            expected.search_attributes, got.search_attributes
        ));
    }
    field!(parent_workflow_id);
    field!(parent_run_id);
    field!(root_workflow_id);
    field!(root_run_id);
    field!(close_time);
    field!(history_length);
    field!(history_size_bytes);
    field!(execution_duration_nanos);
    field!(state_transition_count);
    field!(archetype_id);
    field!(chasm_info);
    d
}

/// Fails unless the read record has every field as written.
pub(crate) fn ensure_same(
    what: &str,
    expected: &VisibilityRecord,
    got: &VisibilityRecord,
) -> Result<(), CaseError> {
    let d = record_diff(expected, got);
    ensure!(
        d.is_empty(),
        "{what}: record differs:\n  {}",
        d.join("\n  ")
    );
    Ok(())
}

/// Reads a record back and checks every field.
pub(crate) async fn ensure_stored(
    s: &dyn VisibilityStore,
    what: &str,
    expected: &VisibilityRecord,
) -> Result<(), CaseError> {
    let got = ok(
        &format!("{what}: get"),
        s.get(expected.namespace_id, expected.run_id).await,
    )?;
    ensure_same(what, expected, &got)
}

/// Expects `InvalidArgument` from both list and count of `query`.
pub(crate) async fn expect_invalid_query(
    s: &dyn VisibilityStore,
    ns: NamespaceId,
    query: &str,
) -> Result<(), CaseError> {
    expect_err(
        &format!("list {query:?}"),
        s.list(request(ns, query, 10, None)).await,
        ErrorKind::InvalidArgument,
    )?;
    expect_err(
        &format!("count {query:?}"),
        s.count(count_request(ns, query)).await,
        ErrorKind::InvalidArgument,
    )?;
    Ok(())
}

/// A namespace with labelled records whose expected query answers are written as label lists.
pub(crate) struct Fixture {
    /// The store.
    pub s: Arc<dyn VisibilityStore>,
    /// The namespace (custom attributes registered).
    pub ns: NamespaceId,
    /// The records as last written, by label.
    pub recs: Vec<(&'static str, VisibilityRecord)>,
}

impl Fixture {
    /// A fresh namespace with no records.
    pub(crate) async fn new(ctx: &Ctx) -> Result<Self, CaseError> {
        let s = Arc::clone(ctx.visibility()?);
        let ns = fresh_namespace(s.as_ref()).await?;
        Ok(Fixture {
            s,
            ns,
            recs: Vec::new(),
        })
    }

    /// A running record in this namespace, started `secs` after [`t0`], workflow id = label.
    pub(crate) fn running(&self, label: &str, secs: i64) -> VisibilityRecord {
        running(self.ns, &format!("wf-{label}"), at(secs, 0))
    }

    /// Writes `r` under `label` (started or closed by its close time).
    pub(crate) async fn put(
        &mut self,
        label: &'static str,
        r: VisibilityRecord,
    ) -> Result<(), CaseError> {
        write(self.s.as_ref(), &r).await?;
        self.recs.retain(|(l, _)| *l != label);
        self.recs.push((label, r));
        Ok(())
    }

    /// Writes one running record per label, started 1, 2, … seconds after [`t0`], each with the
    /// given search attributes.
    pub(crate) async fn put_all(
        &mut self,
        rows: Vec<(&'static str, Vec<(&str, SearchAttributeValue)>)>,
    ) -> Result<(), CaseError> {
        for (i, (label, pairs)) in rows.into_iter().enumerate() {
            let mut r = self.running(label, i as i64 + 1);
            r.search_attributes = attrs(&pairs);
            self.put(label, r).await?;
        }
        Ok(())
    }

    /// The record of a label.
    pub(crate) fn get(&self, label: &str) -> Result<&VisibilityRecord, CaseError> {
        self.recs
            .iter()
            .find(|(l, _)| *l == label)
            .map(|(_, r)| r)
            .ok_or_else(|| CaseError::new(format!("case bug: no record labelled {label}")))
    }

    /// The labels of `labels` in list order.
    pub(super) fn ordered(&self, labels: &[&str]) -> Result<Vec<String>, CaseError> {
        let mut recs = Vec::new();
        for l in labels {
            recs.push((*l, self.get(l)?));
        }
        recs.sort_by_key(|(_, r)| order_key(r.close_time, r.start_time, r.run_id));
        Ok(recs.into_iter().map(|(l, _)| l.to_string()).collect())
    }

    /// A label for a run id (or the run id itself for a record this fixture did not write).
    pub(super) fn label_of(&self, run_id: RunId) -> String {
        self.recs
            .iter()
            .find(|(_, r)| r.run_id == run_id)
            .map(|(l, _)| l.to_string())
            .unwrap_or_else(|| format!("<unknown {run_id}>"))
    }

    /// Checks one query: list (page size 3) returns exactly `labels` in list order, and count
    /// equals their number. Returns a description of the mismatch, if any.
    pub(crate) async fn mismatch(
        &self,
        query: &str,
        labels: &[&str],
    ) -> Result<Option<String>, CaseError> {
        let expected = self.ordered(labels)?;
        let listed = match list_all(self.s.as_ref(), self.ns, query, 3).await {
            Ok(v) => v,
            Err(e) => return Ok(Some(format!("{query:?}: {e}"))),
        };
        let got: Vec<String> = listed.iter().map(|r| self.label_of(r.run_id)).collect();
        let mut problems = Vec::new();
        if got != expected {
            problems.push(format!("list expected {expected:?}, got {got:?}"));
        }
        match self.s.count(count_request(self.ns, query)).await {
            Ok(c) if c.count == expected.len() as i64 && c.groups.is_empty() => {}
            Ok(c) => problems.push(format!(
                "count expected {}, got {} (groups {:?})",
                expected.len(),
                c.count,
                c.groups
            )),
            Err(e) => problems.push(format!("count failed: {e}")),
        }
        Ok((!problems.is_empty()).then(|| format!("{query:?}: {}", problems.join("; "))))
    }

    /// Checks every `(query, expected labels)` pair and reports all mismatches at once.
    pub(crate) async fn check(&self, cases: &[(&str, &[&str])]) -> Result<(), CaseError> {
        let mut failures = Vec::new();
        for (q, labels) in cases {
            if let Some(m) = self.mismatch(q, labels).await? {
                failures.push(m);
            }
        }
        ensure!(
            failures.is_empty(),
            "{} of {} queries disagree with the records written:\n  {}",
            failures.len(),
            cases.len(),
            failures.join("\n  ")
        );
        Ok(())
    }

    /// Expects `InvalidArgument` from list and count of every query; reports all that were not.
    pub(crate) async fn check_invalid(&self, queries: &[&str]) -> Result<(), CaseError> {
        let mut failures = Vec::new();
        for q in queries {
            if let Err(e) = expect_invalid_query(self.s.as_ref(), self.ns, q).await {
                failures.push(e.message().to_string());
            }
        }
        ensure!(
            failures.is_empty(),
            "{} of {} invalid queries were not rejected as InvalidArgument:\n  {}",
            failures.len(),
            queries.len(),
            failures.join("\n  ")
        );
        Ok(())
    }
}

/// The store of a case.
pub(super) fn vis(ctx: &Ctx) -> Result<&dyn VisibilityStore, CaseError> {
    Ok(ctx.visibility()?.as_ref())
}

/// A record with every optional field set: memo, parent and root, all custom attributes,
/// execution time after start time.
pub(super) fn full_record(ns: NamespaceId) -> VisibilityRecord {
    let mut r = running(ns, &unique_name("wf-full"), at(0, 123_456));
    r.execution_time = at(5, 1);
    r.workflow_type = "FullWorkflow".to_string();
    r.task_queue = "full-tq".to_string();
    r.task_id = 10;
    r.shard_id = 3;
    r.memo = Some(blob(40));
    r.parent_workflow_id = Some("parent-wf".to_string());
    r.parent_run_id = Some(RunId::new_random());
    r.root_workflow_id = Some("root-wf".to_string());
    r.root_run_id = Some(RunId::new_random());
    r.state_transition_count = Some(3);
    r.search_attributes = attrs(&[
        ("CustomKeywordField", kw("keyword value")),
        ("CustomIntField", SearchAttributeValue::Int(-42)),
        ("CustomTextField", kw("some searchable text")),
        ("CustomDoubleField", SearchAttributeValue::Double(2.5)),
        ("CustomBoolField", SearchAttributeValue::Bool(true)),
        (
            "CustomDatetimeField",
            SearchAttributeValue::Datetime(at(-3600, 999_999)),
        ),
        ("CustomKeywordListField", kwl(&["one", "two"])),
    ]);
    r
}

/// Labels and one attribute value each (`None`: attribute absent).
pub(super) type Column = Vec<(&'static str, Option<SearchAttributeValue>)>;

/// A fixture whose records carry `attr` with the given values.
pub(super) async fn column_fixture(
    ctx: &Ctx,
    attr: &str,
    values: Column,
) -> Result<Fixture, CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let rows = values
        .into_iter()
        .map(|(l, v)| (l, v.map(|v| vec![(attr, v)]).unwrap_or_default()))
        .collect();
    fx.put_all(rows).await?;
    Ok(fx)
}

/// Writes `n` running records started 1..=n seconds after t0 (and closes every third), returns
/// them in list order.
pub(super) async fn seed_plain(
    s: &dyn VisibilityStore,
    ns: NamespaceId,
    n: i64,
) -> Result<Vec<VisibilityRecord>, CaseError> {
    let mut recs = Vec::new();
    for i in 1..=n {
        let r = running(ns, &format!("wf-{i}"), at(i, 0));
        let r = if i % 3 == 0 {
            closed(&r, at(1000 - i, 0), WorkflowStatus::Completed)
        } else {
            r
        };
        write(s, &r).await?;
        recs.push(r);
    }
    let order = in_list_order(&recs);
    recs.sort_by_key(|r| order.iter().position(|id| *id == r.run_id));
    Ok(recs)
}
