//! Conformance cases for the visibility store: Temporal's visibility suite (start/close, time
//! skew, short workflows, pagination, filters, upsert, delete, get, count, count by status) and
//! what it lacks: out-of-order writes ordered by task id, paging while records arrive, every
//! operator on every search-attribute type, SQL three-valued null logic, namespace isolation,
//! custom search attributes, and invalid writes.
//!
//! The query corpus over one seeded data set is in [`super::visibility_corpus`], the hostile
//! queries in [`super::visibility_hostile`]. Every case works in a fresh random namespace and
//! registers the custom attributes it queries through `add_search_attributes`; expectations are
//! written by hand from the records the case wrote (the semantics of
//! docs/architecture.md#visibility-query-semantics), never computed by a backend
//! or by the query evaluator.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use durastore_api::query::{Literal, SearchAttributeType};
use durastore_api::validate::{MAX_BLOB_BYTES, MAX_PAGE_SIZE, MAX_SEARCH_ATTRIBUTE_VALUE_BYTES};
use durastore_api::{
    CountResult, DataBlob, DateTime, ErrorKind, ListWorkflowExecutionsRequest, NamespaceId, Page,
    RunId, SearchAttributeValue, Utc, VisibilityRecord, VisibilityStore, WorkflowStatus,
};

use crate::check::{expect_bad_request, expect_err, ok};
use crate::fixtures::{blob, unique_name};
use crate::util::{collect_pages, race};
use crate::{Case, CaseError, Ctx, case, ensure, ensure_eq};

/// The cases of this module.
pub fn cases() -> Vec<Case> {
    vec![
        case!(
            "visibility",
            start_get_round_trip,
            ["visibility"],
            start_get_round_trip
        ),
        case!(
            "visibility",
            close_get_round_trip,
            ["visibility"],
            close_get_round_trip
        ),
        case!(
            "visibility",
            basic_open_and_closed,
            ["visibility"],
            basic_open_and_closed
        ),
        case!(
            "visibility",
            time_skew_close_before_start,
            ["visibility"],
            time_skew_close_before_start
        ),
        case!(
            "visibility",
            time_skew_execution_time,
            ["visibility"],
            time_skew_execution_time
        ),
        case!(
            "visibility",
            short_workflow_closed_only,
            ["visibility"],
            short_workflow_closed_only
        ),
        case!(
            "visibility",
            short_workflow_zero_duration,
            ["visibility"],
            short_workflow_zero_duration
        ),
        case!(
            "visibility",
            get_missing_not_found,
            ["visibility"],
            get_missing_not_found
        ),
        case!(
            "visibility",
            delete_removes_record,
            ["visibility"],
            delete_removes_record
        ),
        case!(
            "visibility",
            delete_missing_is_ok,
            ["visibility"],
            delete_missing_is_ok
        ),
        case!(
            "visibility",
            delete_stale_task_id_ignored,
            ["visibility"],
            delete_stale_task_id_ignored
        ),
        case!(
            "visibility",
            upsert_replaces_search_attributes,
            ["visibility"],
            upsert_replaces_search_attributes
        ),
        case!(
            "visibility",
            upsert_replaces_memo,
            ["visibility"],
            upsert_replaces_memo
        ),
        case!(
            "visibility",
            upsert_creates_missing,
            ["visibility"],
            upsert_creates_missing
        ),
        case!("visibility", count_basic, ["visibility"], count_basic),
        case!(
            "visibility",
            count_group_by_status,
            ["visibility"],
            count_group_by_status
        ),
        case!(
            "visibility",
            filter_by_start_time,
            ["visibility"],
            filter_by_start_time
        ),
        case!(
            "visibility",
            filter_by_workflow_type,
            ["visibility"],
            filter_by_workflow_type
        ),
        case!(
            "visibility",
            filter_by_workflow_id,
            ["visibility"],
            filter_by_workflow_id
        ),
        case!(
            "visibility",
            filter_by_status,
            ["visibility"],
            filter_by_status
        ),
        case!(
            "visibility",
            filter_by_close_time,
            ["visibility"],
            filter_by_close_time
        ),
        case!("visibility", page_size_one, ["visibility"], page_size_one),
        case!(
            "visibility",
            page_exact_multiple,
            ["visibility"],
            page_exact_multiple
        ),
        case!(
            "visibility",
            page_empty_result,
            ["visibility"],
            page_empty_result
        ),
        case!(
            "visibility",
            page_size_bounds,
            ["visibility"],
            page_size_bounds
        ),
        case!(
            "visibility",
            page_garbage_token,
            ["visibility"],
            page_garbage_token
        ),
        case!(
            "visibility",
            page_token_from_other_query,
            ["visibility"],
            page_token_from_other_query
        ),
        case!(
            "visibility",
            page_token_is_stable,
            ["visibility"],
            page_token_is_stable
        ),
        case!(
            "visibility",
            page_size_changes_between_pages,
            ["visibility"],
            page_size_changes_between_pages
        ),
        case!(
            "visibility",
            advanced_pagination,
            ["visibility"],
            advanced_pagination
        ),
        case!(
            "visibility",
            paging_ties_by_run_id,
            ["visibility"],
            paging_ties_by_run_id
        ),
        case!(
            "visibility",
            paging_while_records_arrive,
            ["visibility"],
            paging_while_records_arrive
        ),
        case!(
            "visibility",
            paging_while_records_upserted,
            ["visibility"],
            paging_while_records_upserted
        ),
        case!(
            "visibility",
            paging_concurrent_writers,
            ["visibility", "concurrent_writers"],
            paging_concurrent_writers
        ),
        case!(
            "visibility",
            started_after_closed_ignored,
            ["visibility"],
            started_after_closed_ignored
        ),
        case!(
            "visibility",
            upsert_older_task_id_ignored,
            ["visibility"],
            upsert_older_task_id_ignored
        ),
        case!(
            "visibility",
            upsert_equal_task_id_ignored,
            ["visibility"],
            upsert_equal_task_id_ignored
        ),
        case!(
            "visibility",
            closed_older_than_upsert_ignored,
            ["visibility"],
            closed_older_than_upsert_ignored
        ),
        case!(
            "visibility",
            started_newer_replaces_older,
            ["visibility"],
            started_newer_replaces_older
        ),
        case!(
            "visibility",
            highest_task_id_wins_in_every_order,
            ["visibility"],
            highest_task_id_wins_in_every_order
        ),
        case!(
            "visibility",
            concurrent_writes_highest_task_id_wins,
            ["visibility", "concurrent_writers"],
            concurrent_writes_highest_task_id_wins
        ),
        case!(
            "visibility",
            keyword_every_operator,
            ["visibility"],
            keyword_every_operator
        ),
        case!(
            "visibility",
            keyword_equality_is_exact,
            ["visibility"],
            keyword_equality_is_exact
        ),
        case!(
            "visibility",
            starts_with_is_literal_prefix,
            ["visibility"],
            starts_with_is_literal_prefix
        ),
        case!(
            "visibility",
            literal_quotes_and_backslashes,
            ["visibility"],
            literal_quotes_and_backslashes
        ),
        case!(
            "visibility",
            keyword_unicode,
            ["visibility"],
            keyword_unicode
        ),
        case!(
            "visibility",
            keyword_list_every_operator,
            ["visibility"],
            keyword_list_every_operator
        ),
        case!(
            "visibility",
            text_every_operator,
            ["visibility"],
            text_every_operator
        ),
        case!(
            "visibility",
            int_every_operator,
            ["visibility"],
            int_every_operator
        ),
        case!(
            "visibility",
            double_every_operator,
            ["visibility"],
            double_every_operator
        ),
        case!(
            "visibility",
            bool_every_operator,
            ["visibility"],
            bool_every_operator
        ),
        case!(
            "visibility",
            datetime_every_operator,
            ["visibility"],
            datetime_every_operator
        ),
        case!(
            "visibility",
            times_microsecond_precision,
            ["visibility"],
            times_microsecond_precision
        ),
        case!(
            "visibility",
            execution_status_every_operator,
            ["visibility"],
            execution_status_every_operator
        ),
        case!(
            "visibility",
            execution_duration_every_operator,
            ["visibility"],
            execution_duration_every_operator
        ),
        case!(
            "visibility",
            system_keyword_attributes,
            ["visibility"],
            system_keyword_attributes
        ),
        case!(
            "visibility",
            system_int_attributes,
            ["visibility"],
            system_int_attributes
        ),
        case!(
            "visibility",
            operators_not_on_type_rejected,
            ["visibility"],
            operators_not_on_type_rejected
        ),
        case!(
            "visibility",
            wrong_literal_types_rejected,
            ["visibility"],
            wrong_literal_types_rejected
        ),
        case!(
            "visibility",
            null_three_valued_logic,
            ["visibility"],
            null_three_valued_logic
        ),
        case!(
            "visibility",
            null_every_type,
            ["visibility"],
            null_every_type
        ),
        case!(
            "visibility",
            empty_keyword_list_is_absent,
            ["visibility"],
            empty_keyword_list_is_absent
        ),
        case!(
            "visibility",
            null_system_attributes,
            ["visibility"],
            null_system_attributes
        ),
        case!(
            "visibility",
            namespace_isolation_list_count,
            ["visibility"],
            namespace_isolation_list_count
        ),
        case!(
            "visibility",
            namespace_isolation_get_delete,
            ["visibility"],
            namespace_isolation_get_delete
        ),
        case!(
            "visibility",
            namespace_isolation_same_run_id,
            ["visibility"],
            namespace_isolation_same_run_id
        ),
        case!(
            "visibility",
            add_search_attributes_idempotent,
            ["visibility"],
            add_search_attributes_idempotent
        ),
        case!(
            "visibility",
            attribute_registered_through_another_handle,
            ["visibility", "durable"],
            attribute_registered_through_another_handle
        ),
        case!(
            "visibility",
            unregistered_attribute_rejected,
            ["visibility"],
            unregistered_attribute_rejected
        ),
        case!(
            "visibility",
            attribute_added_later,
            ["visibility"],
            attribute_added_later
        ),
        case!(
            "visibility",
            invalid_write_empty_ids,
            ["visibility"],
            invalid_write_empty_ids
        ),
        case!(
            "visibility",
            invalid_write_oversized_memo,
            ["visibility"],
            invalid_write_oversized_memo
        ),
        case!(
            "visibility",
            invalid_write_bad_workflow_id,
            ["visibility"],
            invalid_write_bad_workflow_id
        ),
        case!(
            "visibility",
            invalid_read_nil_ids,
            ["visibility"],
            invalid_read_nil_ids
        ),
        case!(
            "visibility",
            invalid_write_search_attributes,
            ["visibility"],
            invalid_write_search_attributes
        ),
        case!(
            "visibility",
            search_attribute_value_size_limit,
            ["visibility"],
            search_attribute_value_size_limit
        ),
        case!(
            "visibility",
            add_search_attributes_rejects_bad_names,
            ["visibility"],
            add_search_attributes_rejects_bad_names
        ),
        case!(
            "visibility",
            namespace_isolation_search_attributes,
            ["visibility"],
            namespace_isolation_search_attributes
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Helpers (also used by the corpus and hostile-query modules).
// ---------------------------------------------------------------------------------------------

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

/// A list/count request.
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
        s.count(request(ns, query, 0, None)).await,
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
    Ok(out)
}

/// The grouped count of `query` (which ends in `GROUP BY ExecutionStatus`).
pub(crate) async fn count_by_status(
    s: &dyn VisibilityStore,
    ns: NamespaceId,
    query: &str,
) -> Result<BTreeMap<&'static str, i64>, CaseError> {
    let what = format!("count {query:?}");
    let res = ok(&what, s.count(request(ns, query, 0, None)).await)?;
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
fn normalized_attributes(r: &VisibilityRecord) -> BTreeMap<&str, &SearchAttributeValue> {
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
        s.count(request(ns, query, 0, None)).await,
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
    fn ordered(&self, labels: &[&str]) -> Result<Vec<String>, CaseError> {
        let mut recs = Vec::new();
        for l in labels {
            recs.push((*l, self.get(l)?));
        }
        recs.sort_by_key(|(_, r)| order_key(r.close_time, r.start_time, r.run_id));
        Ok(recs.into_iter().map(|(l, _)| l.to_string()).collect())
    }

    /// A label for a run id (or the run id itself for a record this fixture did not write).
    fn label_of(&self, run_id: RunId) -> String {
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
        match self.s.count(request(self.ns, query, 0, None)).await {
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
fn vis(ctx: &Ctx) -> Result<&dyn VisibilityStore, CaseError> {
    Ok(ctx.visibility()?.as_ref())
}

/// A record with every optional field set: memo, parent and root, all custom attributes,
/// execution time after start time.
fn full_record(ns: NamespaceId) -> VisibilityRecord {
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

// ---------------------------------------------------------------------------------------------
// Temporal's visibility suite: start/close, time skew, short workflows, get, delete, upsert,
// count, filters.
// ---------------------------------------------------------------------------------------------

/// A started record reads back with every field as written (memo, parent, root, all custom
/// attribute types, microsecond timestamps) and is listed and counted once.
pub async fn start_get_round_trip(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let r = full_record(ns);
    write(s, &r).await?;
    ensure_stored(s, "started record", &r).await?;
    let listed = list_all(s, ns, "", 10).await?;
    ensure_eq!(listed.len(), 1, "one record listed");
    ensure_same("listed record", &r, &listed[0])?;
    ensure_eq!(count(s, ns, "").await?, 1);
    Ok(())
}

/// A closed record reads back with the close fields (close time, history length and size,
/// duration, state transitions) and replaces the started one in listings.
pub async fn close_get_round_trip(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let r = full_record(ns);
    write(s, &r).await?;
    let mut c = closed(&r, at(90, 654_321), WorkflowStatus::Failed);
    c.history_length = Some(1234);
    c.history_size_bytes = Some(9_876_543);
    c.execution_duration_nanos = Some(85_000_000_001);
    c.state_transition_count = Some(77);
    write(s, &c).await?;
    ensure_stored(s, "closed record", &c).await?;
    let listed = list_all(s, ns, "", 10).await?;
    ensure_eq!(listed.len(), 1, "one record listed after close");
    ensure_same("listed closed record", &c, &listed[0])?;
    ensure_eq!(count(s, ns, "ExecutionStatus = 'Running'").await?, 0);
    ensure_eq!(count(s, ns, "ExecutionStatus = 'Failed'").await?, 1);
    Ok(())
}

/// Temporal's basic visibility test: two runs start, one closes; open and closed listings and
/// start-time ranges see the right ones, running first.
pub async fn basic_open_and_closed(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let a = fx.running("a", 0);
    let b = fx.running("b", 1);
    fx.put("a", a.clone()).await?;
    fx.put("b", b).await?;
    fx.check(&[
        ("", &["a", "b"]),
        ("ExecutionStatus = 'Running'", &["a", "b"]),
        ("CloseTime IS NOT NULL", &[]),
    ])
    .await?;
    fx.put("a", closed(&a, at(2, 0), WorkflowStatus::Completed))
        .await?;
    let t0s = ts(at(0, 0));
    let t1s = ts(at(1, 0));
    fx.check(&[
        ("", &["a", "b"]),
        ("ExecutionStatus = 'Running'", &["b"]),
        ("ExecutionStatus != 'Running'", &["a"]),
        ("CloseTime IS NOT NULL", &["a"]),
        ("CloseTime IS NULL", &["b"]),
        (
            &format!("StartTime >= '{t0s}' AND StartTime <= '{t1s}'"),
            &["a", "b"],
        ),
        (&format!("StartTime > '{t0s}'"), &["b"]),
        (
            &format!("StartTime = '{t0s}' AND ExecutionStatus = 'Completed'"),
            &["a"],
        ),
    ])
    .await
}

/// A close time before the start time (clock skew between hosts) is stored as given: the record
/// is listed by its close time and found by start- and close-time filters.
pub async fn time_skew_close_before_start(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let skewed = fx.running("skewed", 10);
    let normal = fx.running("normal", 0);
    let running_rec = fx.running("running", -100);
    let skewed_closed = closed(&skewed, at(5, 0), WorkflowStatus::Completed);
    fx.put("skewed", skewed).await?;
    fx.put("skewed", skewed_closed.clone()).await?;
    fx.put("normal", normal.clone()).await?;
    fx.put(
        "normal",
        closed(&normal, at(7, 0), WorkflowStatus::Completed),
    )
    .await?;
    fx.put("running", running_rec).await?;
    ensure_stored(fx.s.as_ref(), "skewed record", &skewed_closed).await?;
    fx.check(&[
        ("", &["running", "normal", "skewed"]),
        (
            &format!("CloseTime < '{}'", ts(at(10, 0))),
            &["normal", "skewed"],
        ),
        (&format!("CloseTime <= '{}'", ts(at(5, 0))), &["skewed"]),
        (&format!("StartTime >= '{}'", ts(at(10, 0))), &["skewed"]),
        (
            &format!(
                "StartTime > '{}' AND CloseTime < '{}'",
                ts(at(6, 0)),
                ts(at(6, 0))
            ),
            &["skewed"],
        ),
        ("ExecutionStatus = 'Completed'", &["normal", "skewed"]),
    ])
    .await
}

/// Execution time before the start time (skew) or after it (delayed start) is stored as given
/// and queried as its own attribute.
pub async fn time_skew_execution_time(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let mut early = fx.running("early", 100);
    early.execution_time = at(99, 999_999);
    let mut delayed = fx.running("delayed", 50);
    delayed.execution_time = at(3600, 0);
    let plain = fx.running("plain", 10);
    fx.put("early", early.clone()).await?;
    fx.put("delayed", delayed.clone()).await?;
    fx.put("plain", plain).await?;
    ensure_stored(fx.s.as_ref(), "early execution time", &early).await?;
    ensure_stored(fx.s.as_ref(), "delayed execution time", &delayed).await?;
    fx.check(&[
        (
            &format!("ExecutionTime < '{}'", ts(at(100, 0))),
            &["early", "plain"],
        ),
        (
            &format!("ExecutionTime > '{}'", ts(at(100, 0))),
            &["delayed"],
        ),
        (
            &format!("ExecutionTime = '{}'", ts(at(99, 999_999))),
            &["early"],
        ),
        (
            &format!(
                "ExecutionTime BETWEEN '{}' AND '{}'",
                ts(at(10, 0)),
                ts(at(100, 0))
            ),
            &["early", "plain"],
        ),
    ])
    .await
}

/// A workflow that closes before its start was recorded: the close alone creates the record,
/// which is closed (not running).
pub async fn short_workflow_closed_only(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let r = fx.running("short", 0);
    let c = closed(&r, at(0, 500), WorkflowStatus::Completed);
    fx.put("short", c.clone()).await?;
    let other = fx.running("other", 1);
    fx.put("other", other).await?;
    ensure_stored(fx.s.as_ref(), "closed-only record", &c).await?;
    fx.check(&[
        ("", &["other", "short"]),
        ("ExecutionStatus = 'Running'", &["other"]),
        ("ExecutionStatus = 'Completed'", &["short"]),
        ("CloseTime IS NOT NULL", &["short"]),
    ])
    .await
}

/// A workflow whose close time equals its start time (zero duration) is stored and found by
/// exact start and close times.
pub async fn short_workflow_zero_duration(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let r = fx.running("zero", 20);
    let c = closed(&r, r.start_time, WorkflowStatus::Terminated);
    ensure_eq!(
        c.execution_duration_nanos,
        Some(0),
        "case bug: zero duration"
    );
    fx.put("zero", c.clone()).await?;
    ensure_stored(fx.s.as_ref(), "zero-duration record", &c).await?;
    let t = ts(at(20, 0));
    fx.check(&[
        (
            &format!("CloseTime = '{t}' AND StartTime = '{t}'"),
            &["zero"],
        ),
        ("ExecutionStatus = 'Terminated'", &["zero"]),
    ])
    .await
}

/// `get` of a run never written, or of a run in another namespace, is `NotFound`.
pub async fn get_missing_not_found(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    expect_err(
        "get of a run never written",
        s.get(ns, RunId::new_random()).await,
        ErrorKind::NotFound,
    )?;
    let r = running(ns, "wf", at(0, 0));
    write(s, &r).await?;
    expect_err(
        "get in another namespace",
        s.get(NamespaceId::new_random(), r.run_id).await,
        ErrorKind::NotFound,
    )?;
    ensure_stored(s, "the written record", &r).await
}

/// Delete with a newer task id removes the record from get, list and count; the others stay.
pub async fn delete_removes_record(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    for (l, secs) in [("a", 1), ("b", 2), ("c", 3)] {
        let r = fx.running(l, secs);
        fx.put(l, r).await?;
    }
    let b = fx.get("b")?.clone();
    let b_closed = closed(&b, at(10, 0), WorkflowStatus::Completed);
    fx.put("b", b_closed).await?;
    ok("delete", fx.s.delete(fx.ns, b.run_id, 100).await)?;
    expect_err(
        "get after delete",
        fx.s.get(fx.ns, b.run_id).await,
        ErrorKind::NotFound,
    )?;
    fx.recs.retain(|(l, _)| *l != "b");
    fx.check(&[
        ("", &["a", "c"]),
        ("WorkflowId = 'wf-b'", &[]),
        ("ExecutionStatus = 'Completed'", &[]),
    ])
    .await?;
    ensure_stored(fx.s.as_ref(), "a", fx.get("a")?).await?;
    ensure_stored(fx.s.as_ref(), "c", fx.get("c")?).await
}

/// Deleting a run that does not exist (never written, or already deleted) succeeds and changes
/// nothing.
pub async fn delete_missing_is_ok(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let a = fx.running("a", 1);
    fx.put("a", a.clone()).await?;
    ok(
        "delete of a run never written",
        fx.s.delete(fx.ns, RunId::new_random(), 5).await,
    )?;
    ok(
        "delete in another namespace",
        fx.s.delete(NamespaceId::new_random(), a.run_id, 5).await,
    )?;
    ensure_stored(fx.s.as_ref(), "a", &a).await?;
    ok("delete", fx.s.delete(fx.ns, a.run_id, 5).await)?;
    ok("second delete", fx.s.delete(fx.ns, a.run_id, 6).await)?;
    expect_err(
        "get after delete",
        fx.s.get(fx.ns, a.run_id).await,
        ErrorKind::NotFound,
    )?;
    ensure_eq!(count(fx.s.as_ref(), fx.ns, "").await?, 0);
    Ok(())
}

/// A delete whose task id is below the stored record's is a silent no-op.
pub async fn delete_stale_task_id_ignored(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let mut r = running(ns, "wf", at(0, 0));
    r.task_id = 50;
    write(s, &r).await?;
    ok("stale delete", s.delete(ns, r.run_id, 49).await)?;
    ensure_stored(s, "record after a stale delete", &r).await?;
    ensure_eq!(count(s, ns, "").await?, 1);
    ok("delete", s.delete(ns, r.run_id, 51).await)?;
    expect_err(
        "get after delete",
        s.get(ns, r.run_id).await,
        ErrorKind::NotFound,
    )?;
    ensure_eq!(count(s, ns, "").await?, 0);
    Ok(())
}

/// Upsert replaces the record's search attributes: new values match, old ones no longer do, an
/// attribute left out is absent afterwards.
pub async fn upsert_replaces_search_attributes(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let r = fx.running("u", 1);
    let r = with_attrs(
        &r,
        1,
        &[
            ("CustomKeywordField", kw("before")),
            ("CustomIntField", SearchAttributeValue::Int(1)),
        ],
    );
    fx.put("u", r.clone()).await?;
    let other = fx.running("other", 2);
    fx.put("other", other).await?;
    fx.check(&[
        ("CustomKeywordField = 'before'", &["u"]),
        ("CustomIntField = 1", &["u"]),
    ])
    .await?;
    let up = with_attrs(&r, 2, &[("CustomKeywordField", kw("after"))]);
    ok("upsert", fx.s.upsert(up.clone()).await)?;
    fx.recs.retain(|(l, _)| *l != "u");
    fx.recs.push(("u", up.clone()));
    ensure_stored(fx.s.as_ref(), "upserted record", &up).await?;
    fx.check(&[
        ("CustomKeywordField = 'before'", &[]),
        ("CustomKeywordField = 'after'", &["u"]),
        ("CustomIntField = 1", &[]),
        ("CustomIntField IS NULL", &["u", "other"]),
        ("", &["u", "other"]),
    ])
    .await
}

/// Upsert replaces the memo (a new memo, then none).
pub async fn upsert_replaces_memo(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let mut r = running(ns, "wf", at(0, 0));
    r.memo = Some(blob(64));
    write(s, &r).await?;
    let mut up = r.clone();
    up.task_id = 2;
    up.memo = Some(DataBlob::new(b"other memo".to_vec(), "json/plain"));
    ok("upsert", s.upsert(up.clone()).await)?;
    ensure_stored(s, "new memo", &up).await?;
    up.task_id = 3;
    up.memo = None;
    ok("upsert without memo", s.upsert(up.clone()).await)?;
    ensure_stored(s, "memo removed", &up).await
}

/// Upsert of a run with no record yet creates it.
pub async fn upsert_creates_missing(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let r = with_attrs(
        &running(ns, "wf", at(0, 0)),
        4,
        &[("CustomKeywordField", kw("upserted"))],
    );
    ok("upsert", s.upsert(r.clone()).await)?;
    ensure_stored(s, "upserted record", &r).await?;
    ensure_eq!(
        list_ids(s, ns, "CustomKeywordField = 'upserted'", 10).await?,
        vec![r.run_id]
    );
    Ok(())
}

/// Count: 0 in an empty namespace, then every record, then the matching ones; the page size of
/// the request does not matter.
pub async fn count_basic(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    ensure_eq!(count(s, ns, "").await?, 0, "empty namespace");
    for i in 0..5 {
        let mut r = running(ns, &format!("wf-{i}"), at(i, 0));
        if i % 2 == 0 {
            r.workflow_type = "Even".to_string();
        }
        write(s, &r).await?;
    }
    ensure_eq!(count(s, ns, "").await?, 5);
    ensure_eq!(count(s, ns, "WorkflowType = 'Even'").await?, 3);
    ensure_eq!(count(s, ns, "WorkflowType = 'Odd'").await?, 0);
    for size in [1, 2, MAX_PAGE_SIZE] {
        let res = ok("count", s.count(request(ns, "", size, None)).await)?;
        ensure_eq!(res.count, 5, "count with page size {size}");
    }
    Ok(())
}

/// `GROUP BY ExecutionStatus` returns one group per status present, with or without a filter;
/// no groups when nothing matches.
pub async fn count_group_by_status(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let q = "GROUP BY ExecutionStatus";
    ensure_eq!(count_by_status(s, ns, q).await?, BTreeMap::new(), "empty");
    let statuses = [
        WorkflowStatus::Running,
        WorkflowStatus::Running,
        WorkflowStatus::Running,
        WorkflowStatus::Completed,
        WorkflowStatus::Completed,
        WorkflowStatus::Failed,
        WorkflowStatus::Terminated,
    ];
    for (i, st) in statuses.iter().enumerate() {
        let mut r = running(ns, &format!("wf-{i}"), at(i as i64, 0));
        r.workflow_type = if i < 4 { "A" } else { "B" }.to_string();
        let r = if *st == WorkflowStatus::Running {
            r
        } else {
            closed(&r, at(100, 0), *st)
        };
        write(s, &r).await?;
    }
    ensure_eq!(
        count_by_status(s, ns, q).await?,
        BTreeMap::from([
            ("Running", 3),
            ("Completed", 2),
            ("Failed", 1),
            ("Terminated", 1)
        ])
    );
    ensure_eq!(
        count_by_status(s, ns, "WorkflowType = 'A' GROUP BY ExecutionStatus").await?,
        BTreeMap::from([("Running", 3), ("Completed", 1)])
    );
    ensure_eq!(
        count_by_status(s, ns, "WorkflowType = 'B' GROUP BY ExecutionStatus").await?,
        BTreeMap::from([("Completed", 1), ("Failed", 1), ("Terminated", 1)])
    );
    ensure_eq!(
        count_by_status(s, ns, "WorkflowType = 'C' GROUP BY ExecutionStatus").await?,
        BTreeMap::new()
    );
    Ok(())
}

/// Temporal's filtering by start time: ranges, inclusive bounds, BETWEEN.
pub async fn filter_by_start_time(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    for (l, secs) in [("s1", 1), ("s2", 2), ("s3", 3), ("s4", 4), ("s5", 5)] {
        let r = fx.running(l, secs);
        let r = if secs % 2 == 0 {
            closed(&r, at(secs + 60, 0), WorkflowStatus::Completed)
        } else {
            r
        };
        fx.put(l, r).await?;
    }
    let t = |s| ts(at(s, 0));
    fx.check(&[
        (&format!("StartTime > '{}'", t(2)), &["s3", "s4", "s5"]),
        (
            &format!("StartTime >= '{}'", t(2)),
            &["s2", "s3", "s4", "s5"],
        ),
        (&format!("StartTime < '{}'", t(2)), &["s1"]),
        (&format!("StartTime <= '{}'", t(2)), &["s1", "s2"]),
        (
            &format!("StartTime BETWEEN '{}' AND '{}'", t(2), t(4)),
            &["s2", "s3", "s4"],
        ),
        (&format!("StartTime < '{}'", t(1)), &[]),
        (
            &format!("StartTime > '{}' AND ExecutionStatus = 'Running'", t(1)),
            &["s3", "s5"],
        ),
    ])
    .await
}

/// Temporal's filtering by workflow type (exact, case-sensitive).
pub async fn filter_by_workflow_type(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    for (l, ty, secs) in [
        ("a", "TypeA", 1),
        ("b", "TypeB", 2),
        ("a2", "TypeA", 3),
        ("lower", "typea", 4),
    ] {
        let mut r = fx.running(l, secs);
        r.workflow_type = ty.to_string();
        fx.put(l, r).await?;
    }
    fx.check(&[
        ("WorkflowType = 'TypeA'", &["a", "a2"]),
        ("WorkflowType = 'typea'", &["lower"]),
        ("WorkflowType = 'TypeB'", &["b"]),
        ("WorkflowType = 'TypeC'", &[]),
        ("WorkflowType != 'TypeA'", &["b", "lower"]),
    ])
    .await
}

/// Temporal's filtering by workflow id: every run of the id, and nothing else.
pub async fn filter_by_workflow_id(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    for (l, wid, secs) in [
        ("run1", "order-7", 1),
        ("run2", "order-7", 2),
        ("other", "order-8", 3),
        ("prefix", "order-77", 4),
    ] {
        let mut r = fx.running(l, secs);
        r.workflow_id = wid.to_string();
        let r = if l == "run1" {
            closed(&r, at(5, 0), WorkflowStatus::ContinuedAsNew)
        } else {
            r
        };
        fx.put(l, r).await?;
    }
    fx.check(&[
        ("WorkflowId = 'order-7'", &["run1", "run2"]),
        ("WorkflowId = 'order-8'", &["other"]),
        ("WorkflowId = 'order'", &[]),
        (
            "WorkflowId = 'order-7' AND ExecutionStatus = 'Running'",
            &["run2"],
        ),
        (
            "WorkflowId IN ('order-7', 'order-77')",
            &["run1", "run2", "prefix"],
        ),
    ])
    .await
}

/// Temporal's filtering by status: each closed status finds exactly its records.
pub async fn filter_by_status(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let cases = [
        ("running", WorkflowStatus::Running),
        ("completed", WorkflowStatus::Completed),
        ("failed", WorkflowStatus::Failed),
        ("canceled", WorkflowStatus::Canceled),
        ("terminated", WorkflowStatus::Terminated),
        ("can", WorkflowStatus::ContinuedAsNew),
        ("timedout", WorkflowStatus::TimedOut),
    ];
    for (i, (l, st)) in cases.iter().enumerate() {
        let r = fx.running(l, i as i64);
        let r = if *st == WorkflowStatus::Running {
            r
        } else {
            closed(&r, at(100 + i as i64, 0), *st)
        };
        fx.put(l, r).await?;
    }
    let mut queries: Vec<(String, Vec<&str>)> = Vec::new();
    for (l, st) in &cases {
        queries.push((format!("ExecutionStatus = '{}'", st.name()), vec![*l]));
    }
    let refs: Vec<(&str, &[&str])> = queries
        .iter()
        .map(|(q, l)| (q.as_str(), l.as_slice()))
        .collect();
    fx.check(&refs).await
}

/// Filtering by close time: running records never match a close-time comparison.
pub async fn filter_by_close_time(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    for (l, close) in [
        ("c10", Some(10)),
        ("c20", Some(20)),
        ("c30", Some(30)),
        ("run", None),
    ] {
        let r = fx.running(l, 0);
        let r = match close {
            Some(c) => closed(&r, at(c, 0), WorkflowStatus::Completed),
            None => r,
        };
        fx.put(l, r).await?;
    }
    let t = |s| ts(at(s, 0));
    fx.check(&[
        (&format!("CloseTime > '{}'", t(10)), &["c30", "c20"]),
        (&format!("CloseTime <= '{}'", t(20)), &["c20", "c10"]),
        (&format!("CloseTime = '{}'", t(30)), &["c30"]),
        (&format!("CloseTime != '{}'", t(30)), &["c20", "c10"]),
        (
            &format!("CloseTime BETWEEN '{}' AND '{}'", t(10), t(20)),
            &["c20", "c10"],
        ),
        ("", &["run", "c30", "c20", "c10"]),
    ])
    .await
}

// ---------------------------------------------------------------------------------------------
// Pagination.
// ---------------------------------------------------------------------------------------------

/// Writes `n` running records started 1..=n seconds after t0 (and closes every third), returns
/// them in list order.
async fn seed_plain(
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

/// Page size 1: one record per page, a token on every page but the last, the default order.
pub async fn page_size_one(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let recs = seed_plain(s, ns, 5).await?;
    let pages = list_pages(s, ns, "", 1).await?;
    ensure_eq!(pages.len(), 5, "five pages of one");
    let got: Vec<RunId> = pages
        .iter()
        .flat_map(|p| p.items.iter().map(|r| r.run_id))
        .collect();
    ensure_eq!(got, in_list_order(&recs));
    for (i, p) in pages.iter().enumerate() {
        ensure_eq!(p.next_page_token.is_some(), i < 4, "token on page {i}");
    }
    Ok(())
}

/// A count that is an exact multiple of the page size ends without an empty page; a page size
/// above the count gives one page without a token.
pub async fn page_exact_multiple(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let recs = seed_plain(s, ns, 6).await?;
    let want = in_list_order(&recs);
    for (size, pages) in [(2, 3), (3, 2), (6, 1), (7, 1), (100, 1)] {
        let got = list_pages(s, ns, "", size).await?;
        ensure_eq!(got.len(), pages, "pages at page size {size}");
        let ids: Vec<RunId> = got
            .iter()
            .flat_map(|p| p.items.iter().map(|r| r.run_id))
            .collect();
        ensure_eq!(ids, want, "records at page size {size}");
        ensure!(
            got.last().is_some_and(|p| p.next_page_token.is_none()),
            "the last page at page size {size} has a token"
        );
    }
    Ok(())
}

/// No match (or an empty namespace) is one empty page without a token.
pub async fn page_empty_result(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    for q in ["", "WorkflowId = 'nothing'"] {
        let p = ok("list", s.list(request(ns, q, 10, None)).await)?;
        ensure!(
            p.items.is_empty(),
            "{q:?} in an empty namespace: {:?}",
            p.items
        );
        ensure!(
            p.next_page_token.is_none(),
            "{q:?}: empty result with a token"
        );
    }
    seed_plain(s, ns, 3).await?;
    let p = ok(
        "list",
        s.list(request(ns, "WorkflowId = 'nothing'", 10, None))
            .await,
    )?;
    ensure!(p.items.is_empty() && p.next_page_token.is_none(), "{p:?}");
    Ok(())
}

/// Page sizes outside 1..=MAX_PAGE_SIZE are `InvalidArgument`; the bounds themselves work.
pub async fn page_size_bounds(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    seed_plain(s, ns, 2).await?;
    for size in [0, -1, i32::MIN, MAX_PAGE_SIZE + 1, i32::MAX] {
        expect_err(
            &format!("list with page size {size}"),
            s.list(request(ns, "", size, None)).await,
            ErrorKind::InvalidArgument,
        )?;
    }
    for size in [1, MAX_PAGE_SIZE] {
        ok("list at a bound", s.list(request(ns, "", size, None)).await)?;
    }
    Ok(())
}

/// A first page with a token for `query` at page size 2 (the namespace has enough matches).
async fn first_token(
    s: &dyn VisibilityStore,
    ns: NamespaceId,
    query: &str,
) -> Result<Vec<u8>, CaseError> {
    let p = ok("list", s.list(request(ns, query, 2, None)).await)?;
    p.next_page_token
        .ok_or_else(|| CaseError::new(format!("{query:?}: the first page of 2 has no token")))
}

/// Garbage page tokens are `InvalidArgument`: random bytes, empty, oversized, truncated.
pub async fn page_garbage_token(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    seed_plain(s, ns, 5).await?;
    let real = first_token(s, ns, "").await?;
    let garbage: Vec<(&str, Vec<u8>)> = vec![
        ("text", b"garbage".to_vec()),
        ("0xff bytes", vec![0xff; 64]),
        ("empty", Vec::new()),
        ("5000 bytes", vec![b'a'; 5000]),
        ("json", b"{\"CloseTime\":1}".to_vec()),
        ("truncated", real[..real.len() / 2].to_vec()),
    ];
    for (what, token) in garbage {
        expect_err(
            &format!("list with a {what} token"),
            s.list(request(ns, "", 2, Some(token))).await,
            ErrorKind::InvalidArgument,
        )?;
    }
    ok(
        "the real token still works",
        s.list(request(ns, "", 2, Some(real))).await,
    )?;
    Ok(())
}

/// A token is bound to its query and namespace: using it with another query or in another
/// namespace is `InvalidArgument`.
pub async fn page_token_from_other_query(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let other_ns = fresh_namespace(s).await?;
    for n in [ns, other_ns] {
        for i in 0..6 {
            let r = with_attrs(
                &running(n, &format!("wf-{i}"), at(i, 0)),
                1,
                &[("CustomKeywordField", kw(if i % 2 == 0 { "a" } else { "b" }))],
            );
            write(s, &r).await?;
        }
    }
    let q = "CustomKeywordField = 'a'";
    let token = first_token(s, ns, q).await?;
    for other in [
        "CustomKeywordField = 'b'",
        "",
        "CustomKeywordField = 'a' OR CustomKeywordField = 'b'",
    ] {
        expect_err(
            &format!("token of {q:?} used with {other:?}"),
            s.list(request(ns, other, 2, Some(token.clone()))).await,
            ErrorKind::InvalidArgument,
        )?;
    }
    expect_err(
        "token used in another namespace",
        s.list(request(other_ns, q, 2, Some(token.clone()))).await,
        ErrorKind::InvalidArgument,
    )?;
    let next = ok(
        "token with its own query",
        s.list(request(ns, q, 2, Some(token))).await,
    )?;
    ensure_eq!(next.items.len(), 1, "the second page of three matches");
    Ok(())
}

/// The same token gives the same page twice (tokens are stable).
pub async fn page_token_is_stable(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    seed_plain(s, ns, 7).await?;
    let token = first_token(s, ns, "").await?;
    let a = ok(
        "page 2",
        s.list(request(ns, "", 2, Some(token.clone()))).await,
    )?;
    // Writes elsewhere do not move the position.
    let other = fresh_namespace(s).await?;
    seed_plain(s, other, 3).await?;
    let b = ok(
        "page 2 again",
        s.list(request(ns, "", 2, Some(token))).await,
    )?;
    let ids = |p: &Page<VisibilityRecord>| p.items.iter().map(|r| r.run_id).collect::<Vec<_>>();
    ensure_eq!(ids(&a), ids(&b), "the same token twice");
    ensure_eq!(a.next_page_token.is_some(), b.next_page_token.is_some());
    Ok(())
}

/// The page size may change between pages: the pages still continue exactly.
pub async fn page_size_changes_between_pages(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let recs = seed_plain(s, ns, 10).await?;
    let mut got = Vec::new();
    let mut token = None;
    for size in [2, 3, 1, 10] {
        let p = ok("list", s.list(request(ns, "", size, token.clone())).await)?;
        got.extend(p.items.iter().map(|r| r.run_id));
        token = p.next_page_token;
        if token.is_none() {
            break;
        }
    }
    ensure!(token.is_none(), "pages of 2, 3, 1, 10 cover 10 records");
    ensure_eq!(got, in_list_order(&recs));
    Ok(())
}

/// Temporal's advanced pagination: a filtered listing with ties on close and start time gives
/// the same sequence at every page size from 1 to above the count.
pub async fn advanced_pagination(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let mut mine = Vec::new();
    for i in 0..14i64 {
        let mut r = running(ns, &format!("wf-{i}"), at(i % 3, 0));
        r.workflow_type = if i % 4 == 3 { "Other" } else { "Paged" }.to_string();
        let r = if i % 2 == 0 {
            closed(
                &r,
                at(100 + i % 2 * 5 + i % 5, 0),
                WorkflowStatus::Completed,
            )
        } else {
            r
        };
        write(s, &r).await?;
        if r.workflow_type == "Paged" {
            mine.push(r);
        }
    }
    let want = in_list_order(&mine);
    for size in 1..=(want.len() as i32 + 1) {
        let got = list_ids(s, ns, "WorkflowType = 'Paged'", size).await?;
        ensure_eq!(got, want, "order at page size {size}");
    }
    Ok(())
}

/// Records with identical close and start times are ordered by run id, across page boundaries.
pub async fn paging_ties_by_run_id(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let mut recs = Vec::new();
    for i in 0..12 {
        let r = running(ns, &format!("wf-{i}"), at(0, 0));
        let r = if i >= 7 {
            closed(&r, at(50, 0), WorkflowStatus::Completed)
        } else {
            r
        };
        write(s, &r).await?;
        recs.push(r);
    }
    let want = in_list_order(&recs);
    let mut running_ids: Vec<RunId> = recs
        .iter()
        .filter(|r| r.close_time.is_none())
        .map(|r| r.run_id)
        .collect();
    running_ids.sort();
    ensure_eq!(want[..7].to_vec(), running_ids, "case bug: tie order");
    for size in [1, 2, 5, 12] {
        ensure_eq!(
            list_ids(s, ns, "", size).await?,
            want,
            "order at page size {size}"
        );
    }
    Ok(())
}

/// Checks a listing taken while records were added: every pre-existing record exactly once, in
/// order; nothing twice; nothing unknown.
fn check_listing_under_writes(
    got: &[RunId],
    before: &[RunId],
    added: &BTreeSet<RunId>,
) -> Result<(), CaseError> {
    let mut seen = BTreeSet::new();
    for id in got {
        ensure!(
            seen.insert(*id),
            "record {id} listed twice (listing {got:?})"
        );
        ensure!(
            before.contains(id) || added.contains(id),
            "listed record {id} was never written here"
        );
    }
    let old: Vec<RunId> = got
        .iter()
        .filter(|id| before.contains(id))
        .copied()
        .collect();
    ensure_eq!(
        old,
        before.to_vec(),
        "every record present before the listing, exactly once and in order"
    );
    Ok(())
}

/// New records written between pages (before, inside and after the remaining range) neither
/// duplicate nor hide the records that existed when the listing began.
pub async fn paging_while_records_arrive(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let mut recs = Vec::new();
    for i in 1..=20 {
        let r = running(ns, &format!("wf-{i}"), at(i * 10, 0));
        let r = if i % 4 == 0 {
            closed(&r, at(1000 + i, 0), WorkflowStatus::Completed)
        } else {
            r
        };
        write(s, &r).await?;
        recs.push(r);
    }
    let before = in_list_order(&recs);
    let mut added = BTreeSet::new();
    let mut got = Vec::new();
    let mut token = None;
    let mut round = 0i64;
    loop {
        let p = ok("list", s.list(request(ns, "", 4, token.clone())).await)?;
        got.extend(p.items.iter().map(|r| r.run_id));
        token = p.next_page_token;
        if token.is_none() {
            break;
        }
        ensure!(round < 50, "more than 50 pages");
        round += 1;
        // One record sorting before the cursor, one in the middle of the rest, one at the end,
        // and one closed record.
        for (secs, close) in [
            (5000 + round, None),
            (round * 17 % 200 + 3, None),
            (-round, None),
            (round * 13 % 200 + 1, Some(1000 + round * 7 % 20)),
        ] {
            let r = running(ns, &format!("new-{round}-{secs}"), at(secs, 1));
            let r = match close {
                Some(c) => closed(&r, at(c, 1), WorkflowStatus::Failed),
                None => r,
            };
            write(s, &r).await?;
            added.insert(r.run_id);
        }
    }
    check_listing_under_writes(&got, &before, &added)
}

/// Upserts of listed and not-yet-listed records between pages do not change their position:
/// the listing is exactly the original order.
pub async fn paging_while_records_upserted(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let recs = seed_plain(s, ns, 15).await?;
    let want = in_list_order(&recs);
    let mut got = Vec::new();
    let mut token = None;
    let mut version = 10;
    loop {
        let p = ok("list", s.list(request(ns, "", 4, token.clone())).await)?;
        got.extend(p.items.iter().map(|r| r.run_id));
        token = p.next_page_token;
        if token.is_none() {
            break;
        }
        ensure!(version < 1000, "too many pages");
        version += 1;
        for r in &recs {
            let up = with_attrs(
                r,
                r.task_id + version,
                &[("CustomIntField", SearchAttributeValue::Int(version))],
            );
            ok("upsert", s.upsert(up).await)?;
        }
    }
    ensure_eq!(got, want);
    Ok(())
}

/// A writer inserting records concurrently with a paged listing: the records present before
/// the listing began come exactly once, in order.
pub async fn paging_concurrent_writers(ctx: &Ctx) -> Result<(), CaseError> {
    let store = Arc::clone(ctx.visibility()?);
    let s = store.as_ref();
    let ns = fresh_namespace(s).await?;
    let recs = seed_plain(s, ns, 24).await?;
    let before = in_list_order(&recs);
    let writer_store = Arc::clone(&store);
    let writer = tokio::spawn(async move {
        let mut added = Vec::new();
        for i in 0..40i64 {
            let r = running(ns, &format!("concurrent-{i}"), at((i * 37) % 40 - 5, 3));
            let r = if i % 3 == 0 {
                closed(&r, at(990 + i % 15, 3), WorkflowStatus::Canceled)
            } else {
                r
            };
            let id = r.run_id;
            let res = if r.close_time.is_some() {
                writer_store.record_closed(r).await
            } else {
                writer_store.record_started(r).await
            };
            res?;
            added.push(id);
            tokio::task::yield_now().await;
        }
        Ok::<_, durastore_api::StoreError>(added)
    });
    let mut got = Vec::new();
    let mut token = None;
    for _ in 0..1000 {
        let p = ok("list", s.list(request(ns, "", 3, token.clone())).await)?;
        got.extend(p.items.iter().map(|r| r.run_id));
        token = p.next_page_token;
        if token.is_none() {
            break;
        }
    }
    ensure!(token.is_none(), "the listing did not end");
    let added = writer
        .await
        .map_err(|e| CaseError::new(format!("writer task failed: {e}")))?;
    let added: BTreeSet<RunId> = ok("concurrent writer", added)?.into_iter().collect();
    check_listing_under_writes(&got, &before, &added)?;
    ensure_eq!(
        count(s, ns, "").await?,
        (before.len() + added.len()) as i64,
        "every record after the writer finished"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Out-of-order writes: the task id is the record version.
// ---------------------------------------------------------------------------------------------

/// A start delivered after the close with a lower task id is ignored: the record stays closed.
pub async fn started_after_closed_ignored(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let mut r = running(ns, "wf", at(0, 0));
    r.task_id = 5;
    let c = closed(&r, at(30, 0), WorkflowStatus::Completed);
    write(s, &c).await?;
    write(s, &r).await?;
    ensure_stored(s, "closed record after a late start", &c).await?;
    ensure_eq!(count(s, ns, "ExecutionStatus = 'Running'").await?, 0);
    ensure_eq!(count(s, ns, "CloseTime IS NOT NULL").await?, 1);
    Ok(())
}

/// An upsert with an older task id is ignored; its values match no query.
pub async fn upsert_older_task_id_ignored(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let r = with_attrs(
        &running(ns, "wf", at(0, 0)),
        10,
        &[("CustomKeywordField", kw("new"))],
    );
    write(s, &r).await?;
    let stale = with_attrs(&r, 9, &[("CustomKeywordField", kw("old"))]);
    ok("stale upsert", s.upsert(stale).await)?;
    ensure_stored(s, "record after a stale upsert", &r).await?;
    ensure_eq!(count(s, ns, "CustomKeywordField = 'old'").await?, 0);
    ensure_eq!(count(s, ns, "CustomKeywordField = 'new'").await?, 1);
    Ok(())
}

/// An upsert with the same task id as the stored record is a no-op ("not above").
pub async fn upsert_equal_task_id_ignored(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let r = with_attrs(
        &running(ns, "wf", at(0, 0)),
        10,
        &[("CustomKeywordField", kw("first"))],
    );
    write(s, &r).await?;
    let same = with_attrs(&r, 10, &[("CustomKeywordField", kw("second"))]);
    ok("upsert with the same task id", s.upsert(same).await)?;
    ensure_stored(s, "record after an equal-version upsert", &r).await?;
    ensure_eq!(count(s, ns, "CustomKeywordField = 'second'").await?, 0);
    Ok(())
}

/// A close with a task id below a newer upsert is ignored: the record stays as upserted.
pub async fn closed_older_than_upsert_ignored(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let r = running(ns, "wf", at(0, 0));
    write(s, &r).await?;
    let up = with_attrs(&r, 10, &[("CustomKeywordField", kw("upserted"))]);
    ok("upsert", s.upsert(up.clone()).await)?;
    let mut c = closed(&r, at(40, 0), WorkflowStatus::Completed);
    c.task_id = 5;
    ok("stale close", s.record_closed(c).await)?;
    ensure_stored(s, "record after a stale close", &up).await?;
    ensure_eq!(count(s, ns, "ExecutionStatus = 'Running'").await?, 1);
    Ok(())
}

/// A start with a higher task id replaces an older start (insert if absent or older).
pub async fn started_newer_replaces_older(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let r = with_attrs(
        &running(ns, "wf", at(0, 0)),
        3,
        &[("CustomKeywordField", kw("a"))],
    );
    write(s, &r).await?;
    let mut newer = with_attrs(&r, 4, &[("CustomKeywordField", kw("b"))]);
    newer.workflow_type = "Renamed".to_string();
    write(s, &newer).await?;
    ensure_stored(s, "newer start", &newer).await?;
    let older = with_attrs(&r, 2, &[("CustomKeywordField", kw("c"))]);
    write(s, &older).await?;
    ensure_stored(s, "after an older start", &newer).await
}

/// Start (task 1), upsert (task 2) and close (task 3) applied in each of the six orders end in
/// the same state: the close.
pub async fn highest_task_id_wins_in_every_order(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let orders: [[usize; 3]; 6] = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    let mut finals = Vec::new();
    for (i, order) in orders.iter().enumerate() {
        let start = with_attrs(
            &running(ns, &format!("wf-{i}"), at(i as i64, 0)),
            1,
            &[("CustomKeywordField", kw("started"))],
        );
        let up = with_attrs(&start, 2, &[("CustomKeywordField", kw("upserted"))]);
        let mut close = closed(&start, at(100, 0), WorkflowStatus::Completed);
        close.task_id = 3;
        close.search_attributes = attrs(&[("CustomKeywordField", kw("closed"))]);
        for step in order {
            match step {
                0 => ok("record_started", s.record_started(start.clone()).await)?,
                1 => ok("upsert", s.upsert(up.clone()).await)?,
                _ => ok("record_closed", s.record_closed(close.clone()).await)?,
            }
        }
        ensure_stored(s, &format!("final state after order {order:?}"), &close).await?;
        finals.push(close);
    }
    ensure_eq!(count(s, ns, "CustomKeywordField = 'closed'").await?, 6);
    ensure_eq!(count(s, ns, "ExecutionStatus = 'Running'").await?, 0);
    ensure_eq!(list_ids(s, ns, "", 4).await?, in_list_order(&finals));
    Ok(())
}

/// Concurrent upserts of one run with distinct task ids: the highest task id wins, whatever
/// order they commit in.
pub async fn concurrent_writes_highest_task_id_wins(ctx: &Ctx) -> Result<(), CaseError> {
    let store = Arc::clone(ctx.visibility()?);
    let ns = fresh_namespace(store.as_ref()).await?;
    for round in 0..3 {
        let base = running(ns, &format!("wf-{round}"), at(round, 0));
        write(store.as_ref(), &base).await?;
        let mut futs = Vec::new();
        // Task ids in a shuffled order so the highest is not always spawned last.
        for k in [7i64, 2, 16, 11, 4, 13, 9, 15, 3, 12, 6, 10, 5, 14, 8, 17] {
            let st = Arc::clone(&store);
            let up = with_attrs(
                &base,
                k,
                &[("CustomIntField", SearchAttributeValue::Int(k))],
            );
            futs.push(async move { st.upsert(up).await });
        }
        for (i, r) in race(futs).await?.into_iter().enumerate() {
            ok(&format!("racing upsert {i}"), r)?;
        }
        let want = with_attrs(
            &base,
            17,
            &[("CustomIntField", SearchAttributeValue::Int(17))],
        );
        ensure_stored(store.as_ref(), &format!("round {round}"), &want).await?;
    }
    ensure_eq!(count(store.as_ref(), ns, "CustomIntField = 17").await?, 3);
    ensure_eq!(count(store.as_ref(), ns, "CustomIntField < 17").await?, 0);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Every operator on every type.
// ---------------------------------------------------------------------------------------------

/// Labels and one attribute value each (`None`: attribute absent).
type Column = Vec<(&'static str, Option<SearchAttributeValue>)>;

/// A fixture whose records carry `attr` with the given values.
async fn column_fixture(ctx: &Ctx, attr: &str, values: Column) -> Result<Fixture, CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let rows = values
        .into_iter()
        .map(|(l, v)| (l, v.map(|v| vec![(attr, v)]).unwrap_or_default()))
        .collect();
    fx.put_all(rows).await?;
    Ok(fx)
}

/// Keyword: equality, inequality, code-point ranges, IN, NOT IN, STARTS_WITH, BETWEEN, nulls.
pub async fn keyword_every_operator(ctx: &Ctx) -> Result<(), CaseError> {
    let v = |s: &str| Some(kw(s));
    let fx = column_fixture(
        ctx,
        "CustomKeywordField",
        vec![
            ("a", v("apple")),
            ("b", v("Apple")),
            ("c", v("banana")),
            ("d", v("")),
            ("e", None),
            ("f", v("apple ")),
            ("g", v("app")),
            ("h", v("Zebra")),
            ("i", v("é")),
            ("j", v("100%_x")),
        ],
    )
    .await?;
    // Code-point order: "" < "100%_x" < "Apple" < "Zebra" < "app" < "apple" < "apple " < "banana" < "é".
    fx.check(&[
        ("CustomKeywordField = 'apple'", &["a"]),
        ("CustomKeywordField = ''", &["d"]),
        ("CustomKeywordField = 'APPLE'", &[]),
        (
            "CustomKeywordField != 'apple'",
            &["b", "c", "d", "f", "g", "h", "i", "j"],
        ),
        ("CustomKeywordField < 'apple'", &["d", "j", "b", "h", "g"]),
        (
            "CustomKeywordField <= 'apple'",
            &["a", "d", "j", "b", "h", "g"],
        ),
        ("CustomKeywordField > 'apple'", &["f", "c", "i"]),
        ("CustomKeywordField >= 'apple'", &["a", "f", "c", "i"]),
        (
            "CustomKeywordField > ''",
            &["a", "b", "c", "f", "g", "h", "i", "j"],
        ),
        (
            "CustomKeywordField IN ('apple', 'banana', 'nope')",
            &["a", "c"],
        ),
        (
            "CustomKeywordField NOT IN ('apple', 'banana')",
            &["b", "d", "f", "g", "h", "i", "j"],
        ),
        ("CustomKeywordField STARTS_WITH 'app'", &["a", "f", "g"]),
        (
            "CustomKeywordField NOT STARTS_WITH 'app'",
            &["b", "c", "d", "h", "i", "j"],
        ),
        (
            "CustomKeywordField BETWEEN 'Apple' AND 'apple'",
            &["a", "b", "g", "h"],
        ),
        (
            "CustomKeywordField NOT BETWEEN 'Apple' AND 'apple'",
            &["c", "d", "f", "i", "j"],
        ),
        ("CustomKeywordField BETWEEN 'b' AND 'z'", &["c"]),
        ("CustomKeywordField = 'é'", &["i"]),
        ("CustomKeywordField IS NULL", &["e"]),
        (
            "CustomKeywordField IS NOT NULL",
            &["a", "b", "c", "d", "f", "g", "h", "i", "j"],
        ),
    ])
    .await
}

/// Keyword equality is exact: no case folding, no trailing-space padding, no Unicode
/// normalization, and the empty string is a value distinct from spaces.
pub async fn keyword_equality_is_exact(ctx: &Ctx) -> Result<(), CaseError> {
    let v = |s: &str| Some(kw(s));
    let fx = column_fixture(
        ctx,
        "CustomKeywordField",
        vec![
            ("p1", v("pad")),
            ("p2", v("pad ")),
            ("p3", v(" pad")),
            ("p4", v("PAD")),
            ("p5", v("caf\u{e9}")),
            ("p6", v("cafe\u{301}")),
            ("p7", v("")),
            ("p8", v("  ")),
        ],
    )
    .await?;
    fx.check(&[
        ("CustomKeywordField = 'pad'", &["p1"]),
        ("CustomKeywordField = 'pad '", &["p2"]),
        ("CustomKeywordField = ' pad'", &["p3"]),
        ("CustomKeywordField = 'PAD'", &["p4"]),
        ("CustomKeywordField = 'caf\u{e9}'", &["p5"]),
        ("CustomKeywordField = 'cafe\u{301}'", &["p6"]),
        ("CustomKeywordField = ''", &["p7"]),
        ("CustomKeywordField = ' '", &[]),
        ("CustomKeywordField = '  '", &["p8"]),
        ("CustomKeywordField IN ('pad', '')", &["p1", "p7"]),
        ("CustomKeywordField STARTS_WITH 'pad'", &["p1", "p2"]),
        ("CustomKeywordField STARTS_WITH ' '", &["p3", "p8"]),
        (
            "CustomKeywordField != 'pad'",
            &["p2", "p3", "p4", "p5", "p6", "p7", "p8"],
        ),
    ])
    .await
}

/// STARTS_WITH is a literal prefix: `%`, `_`, `!`, `\`, `[` and `*` are ordinary characters.
pub async fn starts_with_is_literal_prefix(ctx: &Ctx) -> Result<(), CaseError> {
    let v = |s: &str| Some(kw(s));
    let fx = column_fixture(
        ctx,
        "CustomKeywordField",
        vec![
            ("s1", v("100%_done")),
            ("s2", v("100x_done")),
            ("s3", v("100%Xdone")),
            ("s4", v("a_b")),
            ("s5", v("aXb")),
            ("s6", v("a\\b")),
            ("s7", v("a!b")),
            ("s8", v("a%")),
            ("s9", v("[ab]c")),
            ("s10", v("a*")),
        ],
    )
    .await?;
    fx.check(&[
        ("CustomKeywordField STARTS_WITH '100%'", &["s1", "s3"]),
        ("CustomKeywordField STARTS_WITH '100%_'", &["s1"]),
        ("CustomKeywordField STARTS_WITH 'a_'", &["s4"]),
        ("CustomKeywordField STARTS_WITH 'a\\'", &["s6"]),
        ("CustomKeywordField STARTS_WITH 'a!'", &["s7"]),
        ("CustomKeywordField STARTS_WITH 'a%'", &["s8"]),
        ("CustomKeywordField STARTS_WITH '%'", &[]),
        ("CustomKeywordField STARTS_WITH '_'", &[]),
        ("CustomKeywordField STARTS_WITH '['", &["s9"]),
        ("CustomKeywordField STARTS_WITH '[a'", &["s9"]),
        ("CustomKeywordField STARTS_WITH 'a*'", &["s10"]),
        (
            "CustomKeywordField STARTS_WITH 'a'",
            &["s4", "s5", "s6", "s7", "s8", "s10"],
        ),
        (
            "CustomKeywordField NOT STARTS_WITH 'a_'",
            &["s1", "s2", "s3", "s5", "s6", "s7", "s8", "s9", "s10"],
        ),
    ])
    .await
}

/// Quotes are doubled inside literals; backslash, double quotes and comment or statement
/// characters inside a literal are ordinary characters.
pub async fn literal_quotes_and_backslashes(ctx: &Ctx) -> Result<(), CaseError> {
    let v = |s: &str| Some(kw(s));
    let fx = column_fixture(
        ctx,
        "CustomKeywordField",
        vec![
            ("q1", v("O'Brien")),
            ("q2", v("O''Brien")),
            ("q3", v("C:\\tmp\\x")),
            ("q4", v("back\\")),
            ("q5", v("say \"hi\"")),
            ("q6", v("semi;colon")),
            ("q7", v("--dash")),
            ("q8", v("/*c*/")),
            ("q9", v("#hash")),
        ],
    )
    .await?;
    fx.check(&[
        ("CustomKeywordField = 'O''Brien'", &["q1"]),
        ("CustomKeywordField = 'O''''Brien'", &["q2"]),
        ("CustomKeywordField = 'C:\\tmp\\x'", &["q3"]),
        ("CustomKeywordField = 'back\\'", &["q4"]),
        ("CustomKeywordField = 'say \"hi\"'", &["q5"]),
        ("CustomKeywordField = 'semi;colon'", &["q6"]),
        ("CustomKeywordField = '--dash'", &["q7"]),
        ("CustomKeywordField = '/*c*/'", &["q8"]),
        ("CustomKeywordField = '#hash'", &["q9"]),
        (
            "CustomKeywordField IN ('O''Brien', 'back\\')",
            &["q1", "q4"],
        ),
        ("CustomKeywordField STARTS_WITH 'O'''", &["q1", "q2"]),
    ])
    .await?;
    // A backslash does not escape the quote: the literal ends after `O\`, the rest is garbage.
    fx.check_invalid(&["CustomKeywordField = 'O\\'Brien'"])
        .await
}

/// Unicode keywords: exact, case-sensitive, ordered by code point (above ASCII `z`).
pub async fn keyword_unicode(ctx: &Ctx) -> Result<(), CaseError> {
    let v = |s: &str| Some(kw(s));
    let fx = column_fixture(
        ctx,
        "CustomKeywordField",
        vec![
            ("u1", v("日本語")),
            ("u2", v("emoji 🎉")),
            ("u3", v("Ünïcödé")),
            ("u4", v("ünïcödé")),
            ("u5", v("ß")),
            ("u6", v("ss")),
        ],
    )
    .await?;
    fx.check(&[
        ("CustomKeywordField = '日本語'", &["u1"]),
        ("CustomKeywordField = 'emoji 🎉'", &["u2"]),
        ("CustomKeywordField = 'Ünïcödé'", &["u3"]),
        ("CustomKeywordField STARTS_WITH '日本'", &["u1"]),
        ("CustomKeywordField > 'z'", &["u1", "u3", "u4", "u5"]),
        ("CustomKeywordField < 'ß'", &["u2", "u3", "u6"]),
        ("CustomKeywordField = 'ss'", &["u6"]),
        ("CustomKeywordField = 'ß'", &["u5"]),
        ("CustomKeywordField STARTS_WITH 'emoji 🎉'", &["u2"]),
    ])
    .await
}

/// KeywordList: `=` contains, `!=` does not contain, `IN` any, `NOT IN` none; elements are
/// exact (no tokenizing on spaces or commas).
pub async fn keyword_list_every_operator(ctx: &Ctx) -> Result<(), CaseError> {
    let v = |items: &[&str]| Some(kwl(items));
    let fx = column_fixture(
        ctx,
        "CustomKeywordListField",
        vec![
            ("a", v(&["red", "green"])),
            ("b", v(&["blue"])),
            ("c", v(&["red"])),
            ("d", v(&[])),
            ("e", None),
            ("f", v(&["Red", "dark green"])),
            ("g", v(&["x,y", "it's"])),
        ],
    )
    .await?;
    fx.check(&[
        ("CustomKeywordListField = 'red'", &["a", "c"]),
        ("CustomKeywordListField = 'green'", &["a"]),
        ("CustomKeywordListField = 'Red'", &["f"]),
        ("CustomKeywordListField != 'red'", &["b", "f", "g"]),
        (
            "CustomKeywordListField IN ('red', 'blue')",
            &["a", "b", "c"],
        ),
        ("CustomKeywordListField NOT IN ('red', 'blue')", &["f", "g"]),
        ("CustomKeywordListField = 'x,y'", &["g"]),
        ("CustomKeywordListField = 'x'", &[]),
        ("CustomKeywordListField = 'it''s'", &["g"]),
        ("CustomKeywordListField = 'dark green'", &["f"]),
        ("CustomKeywordListField = 'dark'", &[]),
        ("CustomKeywordListField IS NULL", &["d", "e"]),
        (
            "CustomKeywordListField IS NOT NULL",
            &["a", "b", "c", "f", "g"],
        ),
        ("NOT (CustomKeywordListField = 'red')", &["b", "f", "g"]),
        (
            "CustomKeywordListField = 'red' AND CustomKeywordListField = 'green'",
            &["a"],
        ),
        (
            "CustomKeywordListField = 'red' AND CustomKeywordListField != 'green'",
            &["c"],
        ),
    ])
    .await
}

/// Text: tokens split on non-alphanumerics and lower-cased; `=` is any query token equal to a
/// field token (no stemming, no stop words, no prefixes); `!=` is its negation.
pub async fn text_every_operator(ctx: &Ctx) -> Result<(), CaseError> {
    let v = |s: &str| Some(kw(s));
    let fx = column_fixture(
        ctx,
        "CustomTextField",
        vec![
            ("a", v("The quick brown fox")),
            ("b", v("quick-silver Fox!")),
            ("c", v("QUICKSILVER")),
            ("e", None),
            ("f", v("foxes jumped")),
            ("g", v("user@example.com ran 42 times")),
            ("h", v("snake_case words")),
            ("i", v("don't stop")),
        ],
    )
    .await?;
    fx.check(&[
        ("CustomTextField = 'fox'", &["a", "b"]),
        ("CustomTextField = 'QUICK'", &["a", "b"]),
        ("CustomTextField = 'quicksilver'", &["c"]),
        ("CustomTextField = 'silver'", &["b"]),
        ("CustomTextField = 'fox brown'", &["a", "b"]),
        ("CustomTextField = 'Brown'", &["a"]),
        ("CustomTextField = 'the'", &["a"]),
        ("CustomTextField != 'fox'", &["c", "f", "g", "h", "i"]),
        ("CustomTextField = 'example'", &["g"]),
        ("CustomTextField = 'user@example.com'", &["g"]),
        ("CustomTextField = '42'", &["g"]),
        ("CustomTextField = 'jump'", &[]),
        ("CustomTextField = 'foxes'", &["f"]),
        ("CustomTextField = 'case'", &["h"]),
        ("CustomTextField = 'snake_case'", &["h"]),
        ("CustomTextField = 'stop'", &["i"]),
        ("CustomTextField = 'don'", &["i"]),
        ("CustomTextField IS NULL", &["e"]),
        ("NOT (CustomTextField = 'fox')", &["c", "f", "g", "h", "i"]),
    ])
    .await
}

/// Int: every comparison, IN, BETWEEN, the i64 extremes and values above 2^53 (no float
/// rounding anywhere).
pub async fn int_every_operator(ctx: &Ctx) -> Result<(), CaseError> {
    let v = |i: i64| Some(SearchAttributeValue::Int(i));
    let fx = column_fixture(
        ctx,
        "CustomIntField",
        vec![
            ("a", v(0)),
            ("b", v(-5)),
            ("c", v(10)),
            ("d", v(9_007_199_254_740_993)),
            ("e", None),
            ("f", v(i64::MAX)),
            ("g", v(i64::MIN)),
            ("h", v(10)),
        ],
    )
    .await?;
    fx.check(&[
        ("CustomIntField = 10", &["c", "h"]),
        ("CustomIntField = 9007199254740993", &["d"]),
        ("CustomIntField = 9007199254740992", &[]),
        ("CustomIntField != 10", &["a", "b", "d", "f", "g"]),
        ("CustomIntField < 0", &["b", "g"]),
        ("CustomIntField <= 0", &["a", "b", "g"]),
        ("CustomIntField > 10", &["d", "f"]),
        ("CustomIntField >= 10", &["c", "d", "f", "h"]),
        ("CustomIntField > -1", &["a", "c", "d", "f", "h"]),
        ("CustomIntField IN (0, 10, 42)", &["a", "c", "h"]),
        ("CustomIntField NOT IN (0, 10)", &["b", "d", "f", "g"]),
        ("CustomIntField BETWEEN -5 AND 10", &["a", "b", "c", "h"]),
        ("CustomIntField NOT BETWEEN -5 AND 10", &["d", "f", "g"]),
        ("CustomIntField = 9223372036854775807", &["f"]),
        ("CustomIntField = -9223372036854775808", &["g"]),
        ("CustomIntField > 9007199254740992", &["d", "f"]),
        ("CustomIntField IS NULL", &["e"]),
        (
            "CustomIntField IS NOT NULL",
            &["a", "b", "c", "d", "f", "g", "h"],
        ),
    ])
    .await
}

/// Double: every comparison, IN, BETWEEN, negative and fractional values.
pub async fn double_every_operator(ctx: &Ctx) -> Result<(), CaseError> {
    let v = |x: f64| Some(SearchAttributeValue::Double(x));
    let fx = column_fixture(
        ctx,
        "CustomDoubleField",
        vec![
            ("a", v(0.5)),
            ("b", v(-2.25)),
            ("c", v(10.0)),
            ("d", v(0.1)),
            ("e", None),
            ("f", v(1_000_000.0)),
            ("h", v(3.75)),
        ],
    )
    .await?;
    fx.check(&[
        ("CustomDoubleField = 0.5", &["a"]),
        ("CustomDoubleField = 0.1", &["d"]),
        ("CustomDoubleField = 10.0", &["c"]),
        ("CustomDoubleField = -2.25", &["b"]),
        ("CustomDoubleField < 0", &["b"]),
        ("CustomDoubleField > 1.0", &["c", "f", "h"]),
        ("CustomDoubleField >= 0.5", &["a", "c", "f", "h"]),
        ("CustomDoubleField <= 0.1", &["b", "d"]),
        ("CustomDoubleField != 0.5", &["b", "c", "d", "f", "h"]),
        ("CustomDoubleField IN (0.5, 3.75)", &["a", "h"]),
        (
            "CustomDoubleField NOT IN (0.5, 3.75)",
            &["b", "c", "d", "f"],
        ),
        ("CustomDoubleField BETWEEN 0.1 AND 3.75", &["a", "d", "h"]),
        (
            "CustomDoubleField NOT BETWEEN 0.1 AND 3.75",
            &["b", "c", "f"],
        ),
        ("CustomDoubleField > -2.5", &["a", "b", "c", "d", "f", "h"]),
        ("CustomDoubleField > 999999.99", &["f"]),
        ("CustomDoubleField IS NULL", &["e"]),
    ])
    .await
}

/// Bool: `=`, `!=`, nulls.
pub async fn bool_every_operator(ctx: &Ctx) -> Result<(), CaseError> {
    let v = |b: bool| Some(SearchAttributeValue::Bool(b));
    let fx = column_fixture(
        ctx,
        "CustomBoolField",
        vec![("a", v(true)), ("b", v(false)), ("c", None), ("d", v(true))],
    )
    .await?;
    fx.check(&[
        ("CustomBoolField = true", &["a", "d"]),
        ("CustomBoolField = false", &["b"]),
        ("CustomBoolField != true", &["b"]),
        ("CustomBoolField != false", &["a", "d"]),
        ("CustomBoolField IS NULL", &["c"]),
        ("CustomBoolField IS NOT NULL", &["a", "b", "d"]),
        ("NOT (CustomBoolField = true)", &["b"]),
        (
            "CustomBoolField = true OR CustomBoolField = false",
            &["a", "b", "d"],
        ),
    ])
    .await
}

/// Datetime: every comparison, IN, BETWEEN (inclusive), offsets, microsecond differences.
pub async fn datetime_every_operator(ctx: &Ctx) -> Result<(), CaseError> {
    let v = |t: DateTime<Utc>| Some(SearchAttributeValue::Datetime(t));
    let epoch = DateTime::<Utc>::UNIX_EPOCH;
    let far = DateTime::<Utc>::from_timestamp(4_102_444_799, 999_999_000).unwrap_or(epoch);
    let fx = column_fixture(
        ctx,
        "CustomDatetimeField",
        vec![
            ("a", v(at(0, 0))),
            ("b", v(at(0, 1))),
            ("c", v(at(1, 0))),
            ("d", v(at(0, -1))),
            ("e", None),
            ("f", v(at(0, 500_000))),
            ("g", v(epoch)),
            ("h", v(far)),
        ],
    )
    .await?;
    let t = "2024-05-01T10:00:00Z";
    let q = |op: &str, rhs: &str| format!("CustomDatetimeField {op} {rhs}");
    fx.check(&[
        (&q("=", &format!("'{t}'")), &["a"]),
        (&q("=", "'2024-05-01T10:00:00.000000Z'"), &["a"]),
        (&q("=", "'2024-05-01T12:00:00+02:00'"), &["a"]),
        (&q("=", "'2024-05-01T05:30:00-04:30'"), &["a"]),
        (&q("=", "'2024-05-01T10:00:00.000001Z'"), &["b"]),
        (&q("=", "'2024-05-01T09:59:59.999999Z'"), &["d"]),
        (&q(">", &format!("'{t}'")), &["b", "c", "f", "h"]),
        (&q(">=", &format!("'{t}'")), &["a", "b", "c", "f", "h"]),
        (&q("<", &format!("'{t}'")), &["d", "g"]),
        (&q("<=", &format!("'{t}'")), &["a", "d", "g"]),
        (&q("!=", &format!("'{t}'")), &["b", "c", "d", "f", "g", "h"]),
        (
            &q(
                "BETWEEN",
                &format!("'{t}' AND '2024-05-01T10:00:00.000001Z'"),
            ),
            &["a", "b"],
        ),
        (
            &q(
                "NOT BETWEEN",
                &format!("'{t}' AND '2024-05-01T10:00:00.000001Z'"),
            ),
            &["c", "d", "f", "g", "h"],
        ),
        (
            &q("IN", &format!("('{t}', '2024-05-01T10:00:01Z')")),
            &["a", "c"],
        ),
        (
            &q("NOT IN", &format!("('{t}', '2024-05-01T10:00:01Z')")),
            &["b", "d", "f", "g", "h"],
        ),
        (&q(">", "'2024-05-01T10:00:00.4Z'"), &["c", "f", "h"]),
        (&q("<", "'2024-05-01T09:59:59.999999Z'"), &["g"]),
        (&q("=", "'1970-01-01T00:00:00Z'"), &["g"]),
        (&q(">", "'2099-12-31T23:59:59.999998Z'"), &["h"]),
        ("CustomDatetimeField IS NULL", &["e"]),
    ])
    .await
}

/// Start and close times that differ by one microsecond order and filter as different times.
pub async fn times_microsecond_precision(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    for (l, micros) in [("s1", 0), ("s2", 1), ("s3", 2), ("s4", -1)] {
        let r = running(fx.ns, &format!("wf-{l}"), at(0, micros));
        fx.put(l, r).await?;
    }
    for (l, micros) in [("c1", 0), ("c2", 1)] {
        let r = running(fx.ns, &format!("wf-{l}"), at(-100, 0));
        fx.put(l, closed(&r, at(10, micros), WorkflowStatus::Completed))
            .await?;
    }
    ensure_stored(fx.s.as_ref(), "s2", fx.get("s2")?).await?;
    ensure_stored(fx.s.as_ref(), "c2", fx.get("c2")?).await?;
    fx.check(&[
        ("", &["s3", "s2", "s1", "s4", "c2", "c1"]),
        ("StartTime > '2024-05-01T10:00:00Z'", &["s3", "s2"]),
        ("StartTime = '2024-05-01T10:00:00.000001Z'", &["s2"]),
        (
            "StartTime BETWEEN '2024-05-01T10:00:00Z' AND '2024-05-01T10:00:00.000001Z'",
            &["s2", "s1"],
        ),
        (
            "StartTime < '2024-05-01T10:00:00Z' AND CloseTime IS NULL",
            &["s4"],
        ),
        ("CloseTime = '2024-05-01T10:00:10.000001Z'", &["c2"]),
        ("CloseTime < '2024-05-01T10:00:10.000001Z'", &["c1"]),
    ])
    .await
}

/// ExecutionStatus: `=`, `!=`, `IN`, `NOT IN`, `IS [NOT] NULL` by status name.
pub async fn execution_status_every_operator(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let all = [
        ("r", WorkflowStatus::Running),
        ("c", WorkflowStatus::Completed),
        ("f", WorkflowStatus::Failed),
        ("x", WorkflowStatus::Canceled),
        ("t", WorkflowStatus::Terminated),
        ("n", WorkflowStatus::ContinuedAsNew),
        ("o", WorkflowStatus::TimedOut),
    ];
    for (i, (l, st)) in all.iter().enumerate() {
        let r = fx.running(l, i as i64);
        let r = if *st == WorkflowStatus::Running {
            r
        } else {
            closed(&r, at(50 + i as i64, 0), *st)
        };
        fx.put(l, r).await?;
    }
    fx.check(&[
        ("ExecutionStatus = 'Running'", &["r"]),
        (
            "ExecutionStatus != 'Running'",
            &["c", "f", "x", "t", "n", "o"],
        ),
        ("ExecutionStatus IN ('Failed', 'TimedOut')", &["f", "o"]),
        (
            "ExecutionStatus NOT IN ('Running', 'Completed')",
            &["f", "x", "t", "n", "o"],
        ),
        ("ExecutionStatus = 'ContinuedAsNew'", &["n"]),
        ("ExecutionStatus = 'Canceled'", &["x"]),
        ("ExecutionStatus IS NULL", &[]),
        (
            "ExecutionStatus IS NOT NULL",
            &["r", "c", "f", "x", "t", "n", "o"],
        ),
        (
            "NOT (ExecutionStatus = 'Completed')",
            &["r", "f", "x", "t", "n", "o"],
        ),
    ])
    .await?;
    fx.check_invalid(&[
        "ExecutionStatus > 'Running'",
        "ExecutionStatus <= 'Running'",
        "ExecutionStatus STARTS_WITH 'Run'",
        "ExecutionStatus BETWEEN 'Completed' AND 'Running'",
        "ExecutionStatus = 'Bogus'",
        "ExecutionStatus = ''",
        "ExecutionStatus IN ('Running', 'Bogus')",
    ])
    .await
}

/// ExecutionDuration (Int nanoseconds): every comparison, IN, BETWEEN, with integer nanoseconds,
/// quoted integers, `H:MM:SS` and Go-style duration strings; running records have none.
pub async fn execution_duration_every_operator(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let durations: [(&'static str, i64); 5] = [
        ("d0", 0),
        ("d1", 1_500_000_000),
        ("d2", 5_400_000_000_000),
        ("d3", 86_400_000_000_000),
        ("d4", 100_000_000),
    ];
    for (i, (l, nanos)) in durations.iter().enumerate() {
        let r = fx.running(l, i as i64);
        let mut c = closed(&r, at(200_000 + i as i64, 0), WorkflowStatus::Completed);
        c.execution_duration_nanos = Some(*nanos);
        fx.put(l, c).await?;
    }
    let r = fx.running("run", 10);
    fx.put("run", r).await?;
    fx.check(&[
        ("ExecutionDuration = 0", &["d0"]),
        ("ExecutionDuration = '1.5s'", &["d1"]),
        ("ExecutionDuration = 1500000000", &["d1"]),
        ("ExecutionDuration = '1500000000'", &["d1"]),
        ("ExecutionDuration > '1h'", &["d2", "d3"]),
        ("ExecutionDuration >= '1h30m'", &["d2", "d3"]),
        ("ExecutionDuration < '1s'", &["d0", "d4"]),
        ("ExecutionDuration <= '100ms'", &["d0", "d4"]),
        ("ExecutionDuration > '100000us'", &["d1", "d2", "d3"]),
        ("ExecutionDuration != 0", &["d1", "d2", "d3", "d4"]),
        ("ExecutionDuration IN ('100ms', '1d')", &["d3", "d4"]),
        (
            "ExecutionDuration NOT IN ('100ms', '1d')",
            &["d0", "d1", "d2"],
        ),
        ("ExecutionDuration BETWEEN '1s' AND '2h'", &["d1", "d2"]),
        (
            "ExecutionDuration NOT BETWEEN '1s' AND '2h'",
            &["d0", "d3", "d4"],
        ),
        ("ExecutionDuration = '1:30:00'", &["d2"]),
        ("ExecutionDuration = '24h'", &["d3"]),
        ("ExecutionDuration IS NULL", &["run"]),
        ("NOT (ExecutionDuration > 0)", &["d0"]),
    ])
    .await?;
    fx.check_invalid(&[
        "ExecutionDuration = 'forever'",
        "ExecutionDuration = 1.5",
        "ExecutionDuration STARTS_WITH '1'",
        "ExecutionDuration = true",
    ])
    .await
}

/// System keyword attributes: WorkflowId, WorkflowType, TaskQueue, RunId, and the parent and
/// root ids (absent on runs without a parent).
pub async fn system_keyword_attributes(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let specs = [
        ("k1", "order-1", "OrderWorkflow", "tq-orders"),
        ("k2", "order-2", "OrderWorkflow", "tq-orders"),
        ("k3", "pay-1", "PaymentWorkflow", "tq-pay"),
        ("k4", "order-1", "OrderWorkflow", "tq-orders"),
        ("k5", "wf-ü", "Ünicode", "tq-pay"),
    ];
    for (i, (l, wid, ty, tq)) in specs.iter().enumerate() {
        let mut r = fx.running(l, i as i64);
        r.workflow_id = wid.to_string();
        r.workflow_type = ty.to_string();
        r.task_queue = tq.to_string();
        if *l == "k2" {
            let parent = fx.get("k1")?.run_id;
            r.parent_workflow_id = Some("order-1".to_string());
            r.parent_run_id = Some(parent);
            r.root_workflow_id = Some("order-1".to_string());
            r.root_run_id = Some(parent);
        }
        fx.put(l, r).await?;
    }
    ensure_stored(fx.s.as_ref(), "child record", fx.get("k2")?).await?;
    let k1 = fx.get("k1")?.run_id;
    let k3 = fx.get("k3")?.run_id;
    let k5 = fx.get("k5")?.run_id;
    fx.check(&[
        ("WorkflowId = 'order-1'", &["k1", "k4"]),
        ("WorkflowId STARTS_WITH 'order-'", &["k1", "k2", "k4"]),
        ("WorkflowId = 'wf-ü'", &["k5"]),
        ("WorkflowType = 'OrderWorkflow'", &["k1", "k2", "k4"]),
        ("WorkflowType != 'OrderWorkflow'", &["k3", "k5"]),
        ("TaskQueue IN ('tq-pay')", &["k3", "k5"]),
        ("TaskQueue > 'tq-o'", &["k1", "k2", "k3", "k4", "k5"]),
        ("ParentWorkflowId = 'order-1'", &["k2"]),
        ("ParentWorkflowId IS NULL", &["k1", "k3", "k4", "k5"]),
        ("ParentWorkflowId != 'x'", &["k2"]),
        (&format!("ParentRunId = '{k1}'"), &["k2"]),
        ("RootWorkflowId = 'order-1'", &["k2"]),
        ("RootRunId IS NOT NULL", &["k2"]),
        (&format!("RunId = '{k3}'"), &["k3"]),
        (&format!("RunId IN ('{k3}', '{k5}')"), &["k3", "k5"]),
        (&format!("RunId != '{k3}'"), &["k1", "k2", "k4", "k5"]),
    ])
    .await
}

/// System integer attributes of closed runs (HistoryLength, HistorySizeBytes,
/// StateTransitionCount); running records without them never match a comparison.
pub async fn system_int_attributes(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    for (i, (l, len, size, st)) in [
        ("m1", 5, 100, 1),
        ("m2", 50, 2000, 2),
        ("m3", 500, 30_000, 3),
    ]
    .into_iter()
    .enumerate()
    {
        let r = fx.running(l, i as i64);
        let mut c = closed(&r, at(60 + i as i64, 0), WorkflowStatus::Completed);
        c.history_length = Some(len);
        c.history_size_bytes = Some(size);
        c.state_transition_count = Some(st);
        fx.put(l, c).await?;
    }
    let r = fx.running("run", 10);
    fx.put("run", r).await?;
    fx.check(&[
        ("HistoryLength = 50", &["m2"]),
        ("HistoryLength > 10", &["m3", "m2"]),
        ("HistoryLength != 5", &["m3", "m2"]),
        ("HistoryLength IS NULL", &["run"]),
        ("HistorySizeBytes BETWEEN 100 AND 2000", &["m2", "m1"]),
        ("HistorySizeBytes IN (100, 30000)", &["m3", "m1"]),
        ("StateTransitionCount >= 2", &["m3", "m2"]),
        ("NOT (HistoryLength < 50)", &["m3", "m2"]),
    ])
    .await
}

/// Operators a type does not have are `InvalidArgument`.
pub async fn operators_not_on_type_rejected(ctx: &Ctx) -> Result<(), CaseError> {
    let fx = Fixture::new(ctx).await?;
    fx.check_invalid(&[
        "CustomTextField > 'a'",
        "CustomTextField <= 'a'",
        "CustomTextField STARTS_WITH 'a'",
        "CustomTextField BETWEEN 'a' AND 'b'",
        "CustomKeywordListField > 'a'",
        "CustomKeywordListField STARTS_WITH 'a'",
        "CustomKeywordListField BETWEEN 'a' AND 'b'",
        "CustomIntField STARTS_WITH '1'",
        "CustomDoubleField STARTS_WITH '1'",
        "CustomDatetimeField STARTS_WITH '2024'",
        "CustomBoolField STARTS_WITH 't'",
        "CustomBoolField BETWEEN false AND true",
        "StartTime STARTS_WITH '2024'",
        "HistoryLength STARTS_WITH '1'",
    ])
    .await
}

/// Literals of the wrong type are `InvalidArgument`.
pub async fn wrong_literal_types_rejected(ctx: &Ctx) -> Result<(), CaseError> {
    let fx = Fixture::new(ctx).await?;
    fx.check_invalid(&[
        "CustomIntField = 'abc'",
        "CustomIntField = true",
        "CustomIntField = 9223372036854775808",
        "CustomIntField IN (1, 'two')",
        "CustomDoubleField = 'x'",
        "CustomDoubleField = false",
        "CustomBoolField = 'maybe'",
        "CustomDatetimeField = 'yesterday'",
        "CustomDatetimeField = '2024-13-01T00:00:00Z'",
        "CustomDatetimeField = '2024-05-01T25:00:00Z'",
        "CustomDatetimeField = true",
        "StartTime = 'not a time'",
        "CloseTime BETWEEN '2024-01-01T00:00:00Z' AND 'later'",
        "HistoryLength = 'long'",
        "CustomKeywordField = true",
        "CustomKeywordListField = false",
    ])
    .await
}

// ---------------------------------------------------------------------------------------------
// Null semantics (SQL three-valued logic).
// ---------------------------------------------------------------------------------------------

/// Comparisons with an absent attribute are unknown; NOT, AND and OR follow three-valued logic;
/// only a true filter matches.
pub async fn null_three_valued_logic(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let int = |i: i64| ("CustomIntField", SearchAttributeValue::Int(i));
    let key = |s: &str| ("CustomKeywordField", kw(s));
    fx.put_all(vec![
        ("n1", vec![int(5), key("x")]),
        ("n2", vec![int(15), key("k")]),
        ("n3", vec![key("k")]),
        ("n4", vec![key("other")]),
        ("n5", vec![]),
    ])
    .await?;
    fx.check(&[
        ("CustomIntField > 10", &["n2"]),
        ("NOT (CustomIntField > 10)", &["n1"]),
        ("CustomIntField != 5", &["n2"]),
        ("NOT (CustomIntField = 5)", &["n2"]),
        ("CustomIntField NOT IN (5)", &["n2"]),
        ("NOT (CustomIntField IN (5))", &["n2"]),
        ("CustomIntField NOT BETWEEN 1 AND 10", &["n2"]),
        ("NOT (CustomIntField BETWEEN 1 AND 10)", &["n2"]),
        (
            "CustomIntField > 10 OR CustomIntField IS NULL",
            &["n2", "n3", "n4", "n5"],
        ),
        (
            "NOT (CustomIntField > 10 AND CustomKeywordField = 'k')",
            &["n1", "n4"],
        ),
        (
            "CustomIntField > 10 OR CustomKeywordField = 'other'",
            &["n2", "n4"],
        ),
        (
            "NOT (CustomIntField > 10 OR CustomKeywordField = 'k')",
            &["n1"],
        ),
        ("NOT (NOT (CustomIntField = 5))", &["n1"]),
        ("NOT (CustomIntField IS NULL)", &["n1", "n2"]),
        (
            "CustomKeywordField NOT STARTS_WITH 'o'",
            &["n1", "n2", "n3"],
        ),
        (
            "NOT (CustomKeywordField STARTS_WITH 'o')",
            &["n1", "n2", "n3"],
        ),
        (
            "CustomKeywordField != 'k' AND CustomIntField IS NULL",
            &["n4"],
        ),
        (
            "(CustomIntField = 5 OR CustomIntField = 15) AND NOT (CustomKeywordField = 'x')",
            &["n2"],
        ),
        ("CustomKeywordField < 'p'", &["n2", "n3", "n4"]),
        (
            "CustomIntField IS NULL AND CustomKeywordField IS NULL",
            &["n5"],
        ),
        ("NOT (CustomIntField < 100 AND CustomIntField > 0)", &[]),
    ])
    .await
}

/// For every custom type: `!=`, `NOT (=)` and `NOT IN` exclude a record without the attribute;
/// `IS NULL` / `IS NOT NULL` test absence.
pub async fn null_every_type(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let full = full_record(fx.ns);
    fx.put("full", full).await?;
    let empty = fx.running("empty", 100);
    fx.put("empty", empty).await?;
    let others: [(&str, &str); 7] = [
        ("CustomKeywordField", "'zzz'"),
        ("CustomIntField", "7"),
        ("CustomTextField", "'zzz'"),
        ("CustomDoubleField", "7.5"),
        ("CustomBoolField", "false"),
        ("CustomDatetimeField", "'2000-01-01T00:00:00Z'"),
        ("CustomKeywordListField", "'zzz'"),
    ];
    let mut queries: Vec<(String, &[&str])> = Vec::new();
    for (attr, other) in others {
        queries.push((format!("{attr} != {other}"), &["full"]));
        queries.push((format!("NOT ({attr} = {other})"), &["full"]));
        queries.push((format!("{attr} IS NULL"), &["empty"]));
        queries.push((format!("{attr} IS NOT NULL"), &["full"]));
        queries.push((format!("NOT ({attr} IS NOT NULL)"), &["empty"]));
        queries.push((format!("{attr} = {other} OR {attr} IS NULL"), &["empty"]));
        if attr != "CustomTextField" && attr != "CustomBoolField" {
            queries.push((format!("{attr} NOT IN ({other})"), &["full"]));
        }
    }
    let refs: Vec<(&str, &[&str])> = queries.iter().map(|(q, l)| (q.as_str(), *l)).collect();
    fx.check(&refs).await
}

/// An empty KeywordList is the same as an absent one.
pub async fn empty_keyword_list_is_absent(ctx: &Ctx) -> Result<(), CaseError> {
    let fx = column_fixture(
        ctx,
        "CustomKeywordListField",
        vec![
            ("e1", Some(kwl(&[]))),
            ("e2", None),
            ("e3", Some(kwl(&["a"]))),
        ],
    )
    .await?;
    fx.check(&[
        ("CustomKeywordListField IS NULL", &["e1", "e2"]),
        ("CustomKeywordListField IS NOT NULL", &["e3"]),
        ("CustomKeywordListField != 'a'", &[]),
        ("CustomKeywordListField != 'b'", &["e3"]),
        ("CustomKeywordListField NOT IN ('b')", &["e3"]),
        ("NOT (CustomKeywordListField = 'b')", &["e3"]),
    ])
    .await?;
    let got = ok("get", fx.s.get(fx.ns, fx.get("e1")?.run_id).await)?;
    ensure!(
        match got.search_attributes.get("CustomKeywordListField") {
            None => true,
            Some(SearchAttributeValue::KeywordList(v)) => v.is_empty(),
            Some(_) => false,
        },
        "an empty list reads back as absent or empty, got {:?}",
        got.search_attributes
    );
    Ok(())
}

/// System attributes absent on running runs (CloseTime, HistoryLength, ExecutionDuration) or
/// on runs without a parent are NULL; the always-present ones are never NULL.
pub async fn null_system_attributes(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let r = fx.running("run", 0);
    fx.put("run", r).await?;
    let mut child = fx.running("child", 1);
    child.parent_workflow_id = Some("parent".to_string());
    child.parent_run_id = Some(RunId::new_random());
    fx.put(
        "child",
        closed(&child, at(20, 0), WorkflowStatus::Completed),
    )
    .await?;
    let plain = fx.running("plain", 2);
    fx.put("plain", closed(&plain, at(10, 0), WorkflowStatus::Failed))
        .await?;
    fx.check(&[
        ("CloseTime IS NULL", &["run"]),
        ("CloseTime IS NOT NULL", &["child", "plain"]),
        ("HistoryLength IS NULL", &["run"]),
        ("ExecutionDuration IS NULL", &["run"]),
        ("ExecutionDuration IS NOT NULL", &["child", "plain"]),
        ("ParentWorkflowId IS NULL", &["run", "plain"]),
        ("ParentRunId IS NOT NULL", &["child"]),
        ("CloseTime > '1970-01-01T00:00:00Z'", &["child", "plain"]),
        (
            "NOT (CloseTime > '2100-01-01T00:00:00Z')",
            &["child", "plain"],
        ),
        ("NOT (ParentWorkflowId = 'parent')", &[]),
        ("StartTime IS NULL", &[]),
        ("ExecutionStatus IS NULL", &[]),
        ("WorkflowId IS NULL", &[]),
        ("WorkflowType IS NOT NULL", &["run", "child", "plain"]),
    ])
    .await
}

// ---------------------------------------------------------------------------------------------
// Namespace isolation.
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Custom search attributes.
// ---------------------------------------------------------------------------------------------

/// Registering the same attributes again, or a subset, succeeds and changes nothing.
pub async fn add_search_attributes_idempotent(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let r = full_record(ns);
    write(s, &r).await?;
    ok(
        "register again",
        s.add_search_attributes(ns, custom_attributes()).await,
    )?;
    let subset: BTreeMap<String, SearchAttributeType> =
        BTreeMap::from([("CustomIntField".to_string(), SearchAttributeType::Int)]);
    ok(
        "register a subset",
        s.add_search_attributes(ns, subset).await,
    )?;
    ensure_stored(s, "record after re-registration", &r).await?;
    ensure_eq!(count(s, ns, "CustomIntField = -42").await?, 1);
    ensure_eq!(count(s, ns, "CustomKeywordListField = 'two'").await?, 1);
    Ok(())
}

/// An attribute registered through another handle on the same store (another server process)
/// is accepted by this handle's next write, after this handle has written in the namespace
/// (a handle that remembers the namespace's attributes must notice the new one), and the value
/// lands where queries and reads find it.
pub async fn attribute_registered_through_another_handle(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = NamespaceId::new_random();
    let keyword = BTreeMap::from([(
        "CustomKeywordField".to_string(),
        SearchAttributeType::Keyword,
    )]);
    ok(
        "register CustomKeywordField",
        s.add_search_attributes(ns, keyword).await,
    )?;
    let mut first = running(ns, &unique_name("wf-before"), at(0, 0));
    first.search_attributes = attrs(&[("CustomKeywordField", kw("before"))]);
    write(s, &first).await?;

    let other = ctx.open_another().await?;
    let other_vis = other
        .visibility
        .clone()
        .ok_or_else(|| CaseError::new("the second handle has no visibility store"))?;
    let more = BTreeMap::from([
        ("CustomIntField".to_string(), SearchAttributeType::Int),
        ("CustomDoubleField".to_string(), SearchAttributeType::Double),
    ]);
    let registered = other_vis.add_search_attributes(ns, more).await;
    let _ = other.backend.close().await;
    ok("register through the other handle", registered)?;

    let mut second = running(ns, &unique_name("wf-after"), at(10, 0));
    second.search_attributes = attrs(&[
        ("CustomKeywordField", kw("after")),
        ("CustomIntField", SearchAttributeValue::Int(7)),
        ("CustomDoubleField", SearchAttributeValue::Double(0.5)),
    ]);
    write(s, &second).await?;
    ensure_stored(s, "record with the newly registered attributes", &second).await?;
    ensure_stored(s, "record written before", &first).await?;
    ensure_eq!(count(s, ns, "CustomIntField = 7").await?, 1);
    ensure_eq!(count(s, ns, "CustomDoubleField = 0.5").await?, 1);
    ensure_eq!(count(s, ns, "CustomKeywordField = 'before'").await?, 1);
    ensure_eq!(count(s, ns, "CustomKeywordField = 'after'").await?, 1);
    Ok(())
}

/// An attribute is unknown (`InvalidArgument`) until registered in the namespace; registering
/// one attribute does not make the others known.
pub async fn unregistered_attribute_rejected(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = NamespaceId::new_random();
    expect_invalid_query(s, ns, "CustomKeywordField = 'x'").await?;
    ok(
        "register CustomKeywordField",
        s.add_search_attributes(
            ns,
            BTreeMap::from([(
                "CustomKeywordField".to_string(),
                SearchAttributeType::Keyword,
            )]),
        )
        .await,
    )?;
    ensure_eq!(count(s, ns, "CustomKeywordField = 'x'").await?, 0);
    expect_invalid_query(s, ns, "CustomIntField = 1").await?;
    Ok(())
}

/// An attribute registered after records were written is absent on them until they are
/// upserted with it.
pub async fn attribute_added_later(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = NamespaceId::new_random();
    ok(
        "register CustomKeywordField",
        s.add_search_attributes(
            ns,
            BTreeMap::from([(
                "CustomKeywordField".to_string(),
                SearchAttributeType::Keyword,
            )]),
        )
        .await,
    )?;
    let r = with_attrs(
        &running(ns, "wf", at(0, 0)),
        1,
        &[("CustomKeywordField", kw("k"))],
    );
    write(s, &r).await?;
    ok(
        "register CustomIntField",
        s.add_search_attributes(
            ns,
            BTreeMap::from([("CustomIntField".to_string(), SearchAttributeType::Int)]),
        )
        .await,
    )?;
    ensure_eq!(count(s, ns, "CustomIntField IS NULL").await?, 1);
    ensure_eq!(count(s, ns, "CustomIntField = 3").await?, 0);
    let up = with_attrs(
        &r,
        2,
        &[
            ("CustomKeywordField", kw("k")),
            ("CustomIntField", SearchAttributeValue::Int(3)),
        ],
    );
    ok("upsert", s.upsert(up.clone()).await)?;
    ensure_eq!(
        list_ids(s, ns, "CustomIntField = 3", 5).await?,
        vec![r.run_id]
    );
    ensure_stored(s, "upserted", &up).await
}

// ---------------------------------------------------------------------------------------------
// Invalid writes: rejected before anything is written.
// ---------------------------------------------------------------------------------------------

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
        s.count(request(nil_ns, "", 0, None)).await,
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
