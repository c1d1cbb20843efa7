//! Visibility: searchable records of workflow executions.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::ids::{NamespaceId, RunId};
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
    /// Record version: the visibility task id. A write with a version not above the stored one
    /// is a silent no-op.
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
}

/// Request for list and count.
#[derive(Debug, Clone)]
pub struct ListWorkflowExecutionsRequest {
    /// Namespace (every query is scoped to one).
    pub namespace_id: NamespaceId,
    /// Query text in the list-filter language ("" = all).
    pub query: String,
    /// Page size (1..=10000; ignored by count).
    pub page_size: i32,
    /// Token from the previous page.
    pub next_page_token: Option<Vec<u8>>,
}

/// Result of a count.
#[derive(Debug, Clone, PartialEq)]
pub struct CountResult {
    /// Total matching.
    pub count: i64,
    /// Per-group counts for `GROUP BY`.
    pub groups: Vec<(Vec<Literal>, i64)>,
}

/// Visibility records and queries over them.
///
/// # Contract
/// - Writes are ordered by `task_id`: a write whose task id is not above the stored record's is
///   a silent no-op, so out-of-order delivery never regresses a record.
/// - Queries are scoped to one namespace and mean the same on every backend (DESIGN.md §3a).
/// - Lists are ordered by close time descending (running first), start time descending, run id
///   ascending; page tokens continue exactly where the previous page ended.
/// - Malformed or hostile queries are `InvalidArgument` naming the position; nothing is written.
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
    /// Counts matching records (optionally grouped).
    async fn count(&self, req: ListWorkflowExecutionsRequest) -> Result<CountResult>;
    /// Registers custom search attributes (idempotent).
    async fn add_search_attributes(
        &self,
        namespace_id: NamespaceId,
        attributes: BTreeMap<String, SearchAttributeType>,
    ) -> Result<()>;
}
