//! Visibility: searchable records of workflow executions.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::ids::{ArchetypeId, NamespaceId, RunId, WorkflowKey};
use crate::query::{Literal, SearchAttributeType};
use crate::types::{DataBlob, DateTime, Page, Utc, WorkflowStatus};

/// A search attribute value as stored on a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SearchAttributeValue {
    /// Keyword or Text.
    String(String),
    /// Int.
    Int(i64),
    /// Double.
    Double(f64),
    /// Bool.
    Bool(bool),
    /// Datetime.
    Datetime(DateTime<Utc>),
    /// KeywordList.
    KeywordList(Vec<String>),
}

/// A visibility record as written.
///
/// [`VisibilityRecord::new`] builds a running workflow's record; a later write of the same run
/// (an upsert, the close) is the same record with what changed and a higher `task_id`:
///
/// ```
/// use durastore_api::*;
///
/// let key = WorkflowKey::new(NamespaceId::new_random(), "order-42", RunId::new_random());
/// let started = VisibilityRecord {
///     task_queue: "orders".into(),
///     ..VisibilityRecord::new(&key, "OrderWorkflow", Utc::now(), 1 << 20)
/// };
/// let closed = VisibilityRecord {
///     status: WorkflowStatus::Completed,
///     close_time: Some(Utc::now()),
///     history_length: Some(11),
///     task_id: started.task_id + 5,
///     ..started.clone()
/// };
/// assert_eq!(started.execution_time, started.start_time);
/// assert_eq!(closed.workflow_type, "OrderWorkflow");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct VisibilityRecord {
    /// Namespace.
    pub namespace_id: NamespaceId,
    /// Workflow id.
    pub workflow_id: String,
    /// Run id.
    pub run_id: RunId,
    /// Workflow type name.
    pub workflow_type: String,
    /// Start time.
    pub start_time: DateTime<Utc>,
    /// Execution time.
    pub execution_time: DateTime<Utc>,
    /// Status.
    pub status: WorkflowStatus,
    /// Task queue.
    pub task_queue: String,
    /// Record version: the id of the visibility task that carries the write (a history task id
    /// of the run's shard, so later writes of a run carry higher ids). A write with a version not
    /// above the stored one is a silent no-op.
    pub task_id: i64,
    /// Shard that wrote it.
    pub shard_id: i32,
    /// Memo.
    pub memo: Option<DataBlob>,
    /// Custom and predefined search attributes.
    pub search_attributes: BTreeMap<String, SearchAttributeValue>,
    /// Parent workflow id.
    pub parent_workflow_id: Option<String>,
    /// Parent run id.
    pub parent_run_id: Option<RunId>,
    /// Root workflow id.
    pub root_workflow_id: Option<String>,
    /// Root run id.
    pub root_run_id: Option<RunId>,
    /// Close time (closed records).
    pub close_time: Option<DateTime<Utc>>,
    /// History length (closed records).
    pub history_length: Option<i64>,
    /// History size in bytes (closed records).
    pub history_size_bytes: Option<i64>,
    /// Execution duration in nanoseconds (closed records).
    pub execution_duration_nanos: Option<i64>,
    /// State transition count.
    pub state_transition_count: Option<i64>,
    /// Whose record this is: [`ArchetypeId::WORKFLOW`] for a workflow, else the CHASM archetype
    /// id of the execution (a standalone activity, a scheduler, …). Lists and counts see only
    /// the records of the archetype they ask for.
    pub archetype_id: ArchetypeId,
    /// The CHASM execution's visibility info (Temporal's `ChasmExecutionInfo` memo): an opaque
    /// blob stored and returned as given, like `memo`. `None` for workflows.
    pub chasm_info: Option<DataBlob>,
}

impl VisibilityRecord {
    /// A running workflow's record: status `Running`, execution time = start time, empty task
    /// queue, shard 0, no memo, no search attributes, no parent or root, and no close fields.
    pub fn new(
        key: &WorkflowKey,
        workflow_type: impl Into<String>,
        start_time: DateTime<Utc>,
        task_id: i64,
    ) -> Self {
        Self {
            namespace_id: key.namespace_id,
            workflow_id: key.workflow_id.0.clone(),
            run_id: key.run_id,
            workflow_type: workflow_type.into(),
            start_time,
            execution_time: start_time,
            status: WorkflowStatus::Running,
            task_queue: String::new(),
            task_id,
            shard_id: 0,
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
}

/// Request for [`VisibilityStore::list`]: one page of the records matching a query.
#[derive(Debug, Clone)]
pub struct ListWorkflowExecutionsRequest {
    /// Namespace (every query is scoped to one).
    pub namespace_id: NamespaceId,
    /// Query text in the list-filter language ("" = all). `GROUP BY` is refused here (it is
    /// accepted by [`VisibilityStore::count`] only).
    pub query: String,
    /// Page size (1..=10000).
    pub page_size: i32,
    /// Token from the previous page.
    pub next_page_token: Option<Vec<u8>>,
    /// The archetype whose records are listed: [`ArchetypeId::WORKFLOW`] (Temporal's
    /// `ListWorkflowExecutions`) or a CHASM archetype id (`ListChasmExecutions`).
    pub archetype_id: ArchetypeId,
}

impl ListWorkflowExecutionsRequest {
    /// Page size of [`ListWorkflowExecutionsRequest::new`] (the one Temporal's frontend uses when
    /// a list request gives none).
    pub const DEFAULT_PAGE_SIZE: i32 = 1000;

    /// The first page of `query` in `namespace_id`, [`Self::DEFAULT_PAGE_SIZE`] records per
    /// page.
    pub fn new(namespace_id: NamespaceId, query: impl Into<String>) -> Self {
        Self {
            namespace_id,
            query: query.into(),
            page_size: Self::DEFAULT_PAGE_SIZE,
            next_page_token: None,
            archetype_id: ArchetypeId::WORKFLOW,
        }
    }

    /// The first page of `query` over the records of CHASM archetype `archetype_id` (Temporal's
    /// `ListChasmExecutions`).
    pub fn chasm(
        namespace_id: NamespaceId,
        archetype_id: ArchetypeId,
        query: impl Into<String>,
    ) -> Self {
        Self {
            archetype_id,
            ..Self::new(namespace_id, query)
        }
    }
}

/// Request for [`VisibilityStore::count`] (Temporal's `CountWorkflowExecutionsRequest`): the
/// namespace and the query. A count is answered whole, so it has no paging fields.
///
/// ```
/// use durastore_api::*;
///
/// let ns = NamespaceId::new_random();
/// // The same filter as a list, answered as one number.
/// let total = CountWorkflowExecutionsRequest::new(ns, "WorkflowType = 'OrderWorkflow'");
/// // With `GROUP BY ExecutionStatus`, one group per status present as well.
/// let by_status = CountWorkflowExecutionsRequest::new(
///     ns,
///     "WorkflowType = 'OrderWorkflow' GROUP BY ExecutionStatus",
/// );
/// assert_eq!(total.namespace_id, by_status.namespace_id);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountWorkflowExecutionsRequest {
    /// Namespace (every query is scoped to one).
    pub namespace_id: NamespaceId,
    /// Query text in the list-filter language ("" = all), optionally ending in
    /// `GROUP BY ExecutionStatus` or `GROUP BY <a LowCardinalityKeyword attribute>`.
    pub query: String,
    /// The archetype whose records are counted: [`ArchetypeId::WORKFLOW`] (Temporal's
    /// `CountWorkflowExecutions`) or a CHASM archetype id (`CountChasmExecutions`).
    pub archetype_id: ArchetypeId,
}

impl CountWorkflowExecutionsRequest {
    /// The count of `query` in `namespace_id`.
    pub fn new(namespace_id: NamespaceId, query: impl Into<String>) -> Self {
        Self {
            namespace_id,
            query: query.into(),
            archetype_id: ArchetypeId::WORKFLOW,
        }
    }

    /// The count of `query` over the records of CHASM archetype `archetype_id` (Temporal's
    /// `CountChasmExecutions`).
    pub fn chasm(
        namespace_id: NamespaceId,
        archetype_id: ArchetypeId,
        query: impl Into<String>,
    ) -> Self {
        Self {
            archetype_id,
            ..Self::new(namespace_id, query)
        }
    }
}

/// Result of a count.
#[derive(Debug, Clone, PartialEq)]
pub struct CountResult {
    /// Total matching.
    pub count: i64,
    /// Per-group counts for `GROUP BY` (empty without it): the group's values (one
    /// [`Literal::Status`] for `GROUP BY ExecutionStatus`; one [`Literal::String`] for a
    /// LowCardinalityKeyword attribute, or no value for the records without it) and its count.
    /// Groups sum to `count` and come largest first, ties by status number or by value (the
    /// group without a value last), on every backend (as [`CountResult::by_status`] and
    /// [`CountResult::by_value`] order them).
    pub groups: Vec<(Vec<Literal>, i64)>,
}

impl CountResult {
    /// The result of a `GROUP BY ExecutionStatus` count: `count` matching in all, and the
    /// per-status counts in the contract's order (largest group first, ties by status number),
    /// whatever order the backend returned them in.
    ///
    /// ```
    /// use durastore_api::{CountResult, WorkflowStatus};
    /// use durastore_api::query::Literal;
    ///
    /// let r = CountResult::by_status(
    ///     5,
    ///     vec![(WorkflowStatus::Completed, 1), (WorkflowStatus::Failed, 2), (WorkflowStatus::Running, 2)],
    /// );
    /// assert_eq!(r.groups[0], (vec![Literal::Status(WorkflowStatus::Running)], 2));
    /// assert_eq!(r.groups[2], (vec![Literal::Status(WorkflowStatus::Completed)], 1));
    /// ```
    pub fn by_status(count: i64, mut groups: Vec<(WorkflowStatus, i64)>) -> Self {
        groups.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.as_i32().cmp(&b.0.as_i32())));
        Self {
            count,
            groups: groups
                .into_iter()
                .map(|(s, n)| (vec![Literal::Status(s)], n))
                .collect(),
        }
    }

    /// The result of a count grouped by a LowCardinalityKeyword attribute: `count` matching in
    /// all, and the per-value counts (`None`: the records without the attribute) in the
    /// contract's order (largest group first, ties by value in byte order, the group without a
    /// value last).
    ///
    /// ```
    /// use durastore_api::CountResult;
    /// use durastore_api::query::Literal;
    ///
    /// let r = CountResult::by_value(5, vec![(None, 2), (Some("b".into()), 1), (Some("a".into()), 2)]);
    /// assert_eq!(r.groups[0], (vec![Literal::String("a".into())], 2));
    /// assert_eq!(r.groups[1], (vec![], 2));
    /// ```
    pub fn by_value(count: i64, mut groups: Vec<(Option<String>, i64)>) -> Self {
        // `None` last among equal counts: compare (is_none, value).
        groups.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then_with(|| (a.0.is_none(), &a.0).cmp(&(b.0.is_none(), &b.0)))
        });
        Self {
            count,
            groups: groups
                .into_iter()
                .map(|(v, n)| (v.map(Literal::String).into_iter().collect(), n))
                .collect(),
        }
    }
}

/// One write of [`VisibilityStore::write_batch`]: the arguments of one single-write method.
#[derive(Debug, Clone, PartialEq)]
pub enum VisibilityWrite {
    /// [`VisibilityStore::record_started`].
    Started(VisibilityRecord),
    /// [`VisibilityStore::record_closed`].
    Closed(VisibilityRecord),
    /// [`VisibilityStore::upsert`].
    Upsert(VisibilityRecord),
    /// [`VisibilityStore::delete`].
    Delete {
        /// Namespace.
        namespace_id: NamespaceId,
        /// Run id.
        run_id: RunId,
        /// Task id of the delete (a stored record with a task id not below it stays).
        task_id: i64,
    },
}

impl VisibilityWrite {
    /// The backend-independent checks the single method makes before sending anything
    /// ([`crate::validate::visibility_record`], or the ids and task id of a delete).
    pub fn validate(&self) -> Result<()> {
        match self {
            VisibilityWrite::Started(r) | VisibilityWrite::Upsert(r) => {
                crate::validate::visibility_record(r, false)
            }
            VisibilityWrite::Closed(r) => crate::validate::visibility_record(r, true),
            VisibilityWrite::Delete {
                namespace_id,
                run_id,
                task_id,
            } => {
                namespace_id.validate()?;
                run_id.validate()?;
                crate::validate::non_negative("task id", *task_id)
            }
        }
    }

    /// The record this write is about: namespace and run id.
    pub fn key(&self) -> (NamespaceId, RunId) {
        match self {
            VisibilityWrite::Started(r)
            | VisibilityWrite::Closed(r)
            | VisibilityWrite::Upsert(r) => (r.namespace_id, r.run_id),
            VisibilityWrite::Delete {
                namespace_id,
                run_id,
                ..
            } => (*namespace_id, *run_id),
        }
    }
}

/// Checks every write of a batch ([`VisibilityWrite::validate`]); the first invalid one is
/// returned with its position as the `batch_index` context.
pub fn validate_batch(writes: &[VisibilityWrite]) -> Result<()> {
    for (i, w) in writes.iter().enumerate() {
        w.validate()
            .map_err(|e| e.with_context("batch_index", i.to_string()))?;
    }
    Ok(())
}

/// Visibility records and queries over them.
///
/// # Contract
/// - Writes are ordered by `task_id`: a write whose task id is not above the stored record's is
///   a silent no-op, so out-of-order delivery never regresses a record.
/// - Queries are scoped to one namespace and mean the same on every backend
///   (docs/architecture.md#visibility-query-semantics).
/// - Lists are ordered by close time descending (running first), start time descending, run id
///   ascending; page tokens continue exactly where the previous page ended.
/// - Malformed or hostile queries are `InvalidArgument` naming the position; nothing is written.
///
/// # Example
/// Record a start, then find and count it (`durastore/examples/walkthrough.rs` runs this on a
/// backend):
/// ```
/// use durastore_api::*;
///
/// async fn record_and_find(visibility: &dyn VisibilityStore, key: &WorkflowKey) -> Result<i64> {
///     let record = VisibilityRecord::new(key, "OrderWorkflow", Utc::now(), 1 << 20);
///     visibility.record_started(record).await?;
///     let query = format!("WorkflowId = '{}' AND ExecutionStatus = 'Running'", key.workflow_id);
///     let page = visibility
///         .list(ListWorkflowExecutionsRequest::new(key.namespace_id, query.clone()))
///         .await?;
///     assert_eq!(page.items.len(), 1);
///     let count = CountWorkflowExecutionsRequest::new(key.namespace_id, query);
///     Ok(visibility.count(count).await?.count)
/// }
/// ```
#[async_trait]
pub trait VisibilityStore: Send + Sync {
    /// Records a start (insert if absent or older).
    async fn record_started(&self, record: VisibilityRecord) -> Result<()>;
    /// Records a close.
    async fn record_closed(&self, record: VisibilityRecord) -> Result<()>;
    /// Upserts search attributes / memo.
    async fn upsert(&self, record: VisibilityRecord) -> Result<()>;
    /// Deletes a record (stale deletes, by task id, are no-ops).
    async fn delete(&self, namespace_id: NamespaceId, run_id: RunId, task_id: i64) -> Result<()>;
    /// Reads one record, or `NotFound`.
    async fn get(&self, namespace_id: NamespaceId, run_id: RunId) -> Result<VisibilityRecord>;
    /// Lists matching records, paged.
    async fn list(&self, req: ListWorkflowExecutionsRequest) -> Result<Page<VisibilityRecord>>;
    /// Counts matching records (optionally grouped by `ExecutionStatus`): the number the full
    /// listing of the same query would return.
    async fn count(&self, req: CountWorkflowExecutionsRequest) -> Result<CountResult>;
    /// Registers custom search attributes (idempotent).
    async fn add_search_attributes(
        &self,
        namespace_id: NamespaceId,
        attributes: BTreeMap<String, SearchAttributeType>,
    ) -> Result<()>;

    /// Applies many writes in one call (loaders, backfills): the search backends send them as
    /// few bulk requests instead of one request (and one refresh) per record.
    ///
    /// # Contract
    /// - If any write fails [`VisibilityWrite::validate`], the call fails with that error
    ///   (`InvalidArgument`, its position in the `batch_index` context) and nothing is written.
    /// - Otherwise it returns one result per write, in order, each exactly what the single
    ///   method would have returned for it: a stale write (task id not above the stored one)
    ///   is `Ok`, a no-op; an unregistered search attribute is that write's `InvalidArgument`.
    ///   One write failing does not stop the others.
    /// - Writes to the same record take effect in the order given, so the task-id rule decides
    ///   between them as between separate calls made in that order.
    /// - A write whose result is an error with [`is_outcome_unknown`] may or may not have been
    ///   applied (the request failed in flight). Every write is versioned by its task id, so
    ///   sending it again is safe: if it was applied, the retry is a stale no-op.
    /// - An `Ok` write is written and visible to list and count as a single write would be
    ///   (see [`VisibilityStore::refresh`]).
    ///
    /// The default applies the writes one by one through the single methods.
    ///
    /// [`is_outcome_unknown`]: crate::StoreError::is_outcome_unknown
    async fn write_batch(&self, writes: Vec<VisibilityWrite>) -> Result<Vec<Result<()>>> {
        validate_batch(&writes)?;
        let mut results = Vec::with_capacity(writes.len());
        for w in writes {
            results.push(match w {
                VisibilityWrite::Started(r) => self.record_started(r).await,
                VisibilityWrite::Closed(r) => self.record_closed(r).await,
                VisibilityWrite::Upsert(r) => self.upsert(r).await,
                VisibilityWrite::Delete {
                    namespace_id,
                    run_id,
                    task_id,
                } => self.delete(namespace_id, run_id, task_id).await,
            });
        }
        Ok(results)
    }

    /// Makes every acknowledged write visible to list and count.
    ///
    /// # Contract
    /// - After it returns `Ok`, every write acknowledged (returned `Ok`) before the call is
    ///   visible to get, list and count, whatever the store's refresh setting (a search
    ///   backend opened with `refresh=false` shows writes only after a refresh).
    /// - It changes no data and may be called at any time, concurrently with writes.
    ///
    /// The default does nothing: it suits stores whose writes are visible once acknowledged
    /// (the SQL stores).
    async fn refresh(&self) -> Result<()> {
        Ok(())
    }
}
