//! The one error type every store returns.
//!
//! A [`StoreError`] has a [`ErrorKind`] (what happened) and two independent flags: `retryable`
//! (the same call may succeed if repeated) and `outcome_unknown` (the write may or may not have
//! been committed; the caller must not assume either). Backends classify driver errors into this
//! shape in exactly one function each, from error codes rather than message text.
//!
//! **Messages and causes.** An error's `Display` is its own one-line message (kind, message,
//! flags, context) and never repeats its cause; the underlying driver error, when kept, is
//! [`std::error::Error::source`]. So a report prints each cause once, on its own line
//! ([`StoreError::causes`] lists them, leaving out a driver's inner error that its own message
//! already repeats). Messages carry no driver-internal fields (server source files, lines or
//! routines).
//!
//! A conflict (`ShardOwnershipLost`, `CurrentWorkflowConditionFailed`, `WorkflowConditionFailed`,
//! `ConditionFailed`) always means *definitely not committed*: the server above uses that to tell
//! a lost race from an I/O failure, so a real conflict is never reported as a generic error.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::primitives::{RunId, WorkflowState, WorkflowStatus};
use crate::types::DataBlob;

/// Result alias used by every store method.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What kind of failure a [`StoreError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The addressed record does not exist.
    NotFound,
    /// A record with the same identity already exists.
    AlreadyExists,
    /// The caller's shard range id is stale: another owner has taken the shard.
    /// Wins over every other conflict of the same write.
    ShardOwnershipLost,
    /// The current-run row of a workflow is not what the write mode requires.
    CurrentWorkflowConditionFailed,
    /// The execution row's `db_record_version` / `next_event_id` is not what the caller expected,
    /// or the run to create already exists.
    WorkflowConditionFailed,
    /// Any other compare-and-set failure (task-queue range id, versions, missing row on update).
    ConditionFailed,
    /// The request is malformed (empty ids, bad page token, negative page size, …).
    InvalidArgument,
    /// A blob, id or collection is larger than the store accepts.
    SizeLimitExceeded,
    /// The backend refused for load reasons (throttling, pool exhausted).
    ResourceExhausted,
    /// The backend could not be reached or is temporarily failing.
    Unavailable,
    /// The server refused the credentials (wrong user or password). Not retryable: the same
    /// credentials will be refused again.
    Unauthenticated,
    /// The credentials were accepted but do not allow this (a database, keyspace or index the
    /// user may not use). Not retryable.
    PermissionDenied,
    /// The operation timed out.
    Timeout,
    /// The backend does not support this operation (see [`crate::Capability`]).
    Unsupported,
    /// Anything else: a bug, corrupt data, an unclassified driver error.
    Internal,
}

impl ErrorKind {
    /// Short stable name, used in metrics labels and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::AlreadyExists => "already_exists",
            ErrorKind::ShardOwnershipLost => "shard_ownership_lost",
            ErrorKind::CurrentWorkflowConditionFailed => "current_workflow_condition_failed",
            ErrorKind::WorkflowConditionFailed => "workflow_condition_failed",
            ErrorKind::ConditionFailed => "condition_failed",
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::SizeLimitExceeded => "size_limit_exceeded",
            ErrorKind::ResourceExhausted => "resource_exhausted",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Internal => "internal",
        }
    }

    /// True for the four conflict kinds, which always mean "not committed".
    pub fn is_conflict(self) -> bool {
        matches!(
            self,
            ErrorKind::ShardOwnershipLost
                | ErrorKind::CurrentWorkflowConditionFailed
                | ErrorKind::WorkflowConditionFailed
                | ErrorKind::ConditionFailed
        )
    }

    /// Conflict priority used when one write fails several conditions at once
    /// (lower wins): shard ownership > current workflow > workflow > generic.
    pub fn conflict_priority(self) -> Option<u8> {
        match self {
            ErrorKind::ShardOwnershipLost => Some(0),
            ErrorKind::CurrentWorkflowConditionFailed => Some(1),
            ErrorKind::WorkflowConditionFailed => Some(2),
            ErrorKind::ConditionFailed => Some(3),
            _ => None,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stored values a failed condition found, so callers can deduplicate and reuse ids.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConflictDetail {
    /// The shard's stored range id.
    ShardOwnershipLost {
        /// Shard whose lease was checked.
        shard_id: i32,
        /// The range id the caller presented.
        request_range_id: i64,
        /// The range id actually stored (None when the shard row is missing).
        actual_range_id: Option<i64>,
    },
    /// The current-run row as found.
    CurrentWorkflow(Box<CurrentWorkflowConflict>),
    /// The execution row's CAS fields as found (None when the row is missing).
    Workflow {
        /// Stored next event id.
        next_event_id: Option<i64>,
        /// Stored db record version.
        db_record_version: Option<i64>,
    },
    /// A queue v1 ack-level metadata row's version as found.
    QueueMetadata {
        /// The queue type whose metadata was updated (negative for a DLQ).
        queue_type: i32,
        /// The version the caller presented.
        expected_version: i64,
        /// The version actually stored.
        actual_version: i64,
    },
    /// The Nexus endpoints table version found by a failed table-version condition.
    NexusTableVersion {
        /// The table version the caller presented.
        expected: i64,
        /// The stored table version (0 before the first write).
        actual: i64,
    },
    /// A Nexus endpoint's stored version, found by a failed endpoint-version condition.
    NexusEndpointVersion {
        /// The endpoint.
        id: uuid::Uuid,
        /// The version the caller presented (0: create).
        expected: i64,
        /// The stored version (None when the endpoint does not exist).
        actual: Option<i64>,
    },
    /// The global namespace notification version found by a failed namespace write.
    NamespaceNotificationVersion {
        /// The version the caller presented.
        expected: i64,
        /// The stored version.
        actual: i64,
    },
    /// A task queue's stored range id, found by a failed range-id condition.
    TaskQueueRange {
        /// The range id the caller presented.
        expected: i64,
        /// The stored range id (None when the queue does not exist).
        actual: Option<i64>,
    },
    /// The queues of a task-queue user-data update whose version condition failed (sorted by
    /// name; the entries not listed would have applied, but none did).
    TaskQueueUserData {
        /// Names of the conflicting queues.
        conflicting: Vec<String>,
    },
}

/// The current-run row found by a failed current-workflow condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentWorkflowConflict {
    /// Run the current row points at.
    pub run_id: RunId,
    /// Request id that created that run.
    pub create_request_id: String,
    /// Its state.
    pub state: WorkflowState,
    /// Its status.
    pub status: WorkflowStatus,
    /// Its last write version.
    pub last_write_version: i64,
    /// Its start time, when known.
    pub start_time: Option<DateTime<Utc>>,
    /// Its execution-state blob (the opaque `WorkflowExecutionState` the current row keeps), as
    /// read by the same transaction or LWT result that failed the condition. Temporal decodes it
    /// for the run's request ids and first execution run id, to deduplicate starts.
    pub execution_state: DataBlob,
}

/// The error every store method returns.
///
/// Boxed inside so that `Result<T, StoreError>` stays one pointer wide on the hot path.
pub struct StoreError(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    message: String,
    retryable: bool,
    outcome_unknown: bool,
    operation: &'static str,
    context: Vec<(&'static str, String)>,
    detail: Option<ConflictDetail>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl StoreError {
    /// A new error of `kind`. Retryable defaults to true for `Unavailable`, `Timeout` and
    /// `ResourceExhausted`, false otherwise.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let retryable = matches!(
            kind,
            ErrorKind::Unavailable | ErrorKind::Timeout | ErrorKind::ResourceExhausted
        );
        StoreError(Box::new(Inner {
            kind,
            message: message.into(),
            retryable,
            outcome_unknown: false,
            operation: "",
            context: Vec::new(),
            detail: None,
            source: None,
        }))
    }

    /// Shorthand for [`ErrorKind::InvalidArgument`].
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }
    /// Shorthand for [`ErrorKind::NotFound`].
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    /// Shorthand for [`ErrorKind::AlreadyExists`].
    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::AlreadyExists, message)
    }
    /// Shorthand for [`ErrorKind::ConditionFailed`].
    pub fn condition_failed(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ConditionFailed, message)
    }
    /// Shorthand for [`ErrorKind::Internal`].
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
    /// Shorthand for [`ErrorKind::Unsupported`].
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }
    /// Shorthand for [`ErrorKind::Unauthenticated`].
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthenticated, message)
    }
    /// Shorthand for [`ErrorKind::PermissionDenied`].
    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::PermissionDenied, message)
    }
    /// Shorthand for [`ErrorKind::SizeLimitExceeded`].
    pub fn size_limit(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::SizeLimitExceeded, message)
    }

    /// Shard ownership lost, with the values found.
    pub fn shard_ownership_lost(shard_id: i32, request_range_id: i64, actual: Option<i64>) -> Self {
        Self::new(
            ErrorKind::ShardOwnershipLost,
            format!(
                "shard {shard_id}: range id {request_range_id} is stale (stored: {})",
                actual.map_or_else(|| "none".to_string(), |a| a.to_string())
            ),
        )
        .with_detail(ConflictDetail::ShardOwnershipLost {
            shard_id,
            request_range_id,
            actual_range_id: actual,
        })
    }

    /// Current-workflow condition failed, with the current row found (None when absent).
    pub fn current_workflow_condition_failed(
        message: impl Into<String>,
        found: Option<CurrentWorkflowConflict>,
    ) -> Self {
        let e = Self::new(ErrorKind::CurrentWorkflowConditionFailed, message);
        match found {
            Some(c) => e.with_detail(ConflictDetail::CurrentWorkflow(Box::new(c))),
            None => e,
        }
    }

    /// Workflow condition failed, with the stored CAS values.
    pub fn workflow_condition_failed(
        message: impl Into<String>,
        next_event_id: Option<i64>,
        db_record_version: Option<i64>,
    ) -> Self {
        Self::new(ErrorKind::WorkflowConditionFailed, message).with_detail(
            ConflictDetail::Workflow {
                next_event_id,
                db_record_version,
            },
        )
    }

    /// `ConditionFailed` for a Nexus endpoints table version that is not the stored one.
    pub fn nexus_table_version_mismatch(expected: i64, actual: i64) -> Self {
        Self::condition_failed(format!(
            "nexus endpoints table version mismatch: expected {expected}, stored {actual}"
        ))
        .with_detail(ConflictDetail::NexusTableVersion { expected, actual })
    }

    /// `ConditionFailed` for a Nexus endpoint version that is not the stored one (`actual`
    /// None: the endpoint does not exist).
    pub fn nexus_endpoint_version_mismatch(
        id: uuid::Uuid,
        expected: i64,
        actual: Option<i64>,
    ) -> Self {
        let stored =
            actual.map_or_else(|| "none (no such endpoint)".to_string(), |a| a.to_string());
        Self::condition_failed(format!(
            "nexus endpoint version mismatch: endpoint {id}: expected {expected}, stored {stored}"
        ))
        .with_detail(ConflictDetail::NexusEndpointVersion {
            id,
            expected,
            actual,
        })
    }

    /// `ConditionFailed` for a namespace notification version that is not the stored one.
    pub fn namespace_version_mismatch(expected: i64, actual: i64) -> Self {
        Self::condition_failed(format!(
            "namespace notification version is {actual}, not {expected}"
        ))
        .with_detail(ConflictDetail::NamespaceNotificationVersion { expected, actual })
    }

    /// `ConditionFailed` for a task queue range id that is not the stored one (`actual` None:
    /// the queue does not exist); `message` names the queue.
    pub fn task_queue_range_mismatch(
        message: impl Into<String>,
        expected: i64,
        actual: Option<i64>,
    ) -> Self {
        Self::condition_failed(message)
            .with_detail(ConflictDetail::TaskQueueRange { expected, actual })
    }

    /// `ConditionFailed` for a user-data update whose version condition failed on these queues;
    /// also keeps them in the `task_queues` context (comma-separated) for humans and logs.
    pub fn task_queue_user_data_conflict(mut conflicting: Vec<String>) -> Self {
        conflicting.sort();
        conflicting.dedup();
        let listed = conflicting
            .iter()
            .map(|c| format!("{c:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        let context = conflicting.join(",");
        Self::condition_failed(format!("task queue user data version conflict on {listed}"))
            .with_context("task_queues", context)
            .with_detail(ConflictDetail::TaskQueueUserData { conflicting })
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }
    /// The human message.
    pub fn message(&self) -> &str {
        &self.0.message
    }
    /// May the same call succeed if repeated?
    pub fn is_retryable(&self) -> bool {
        self.0.retryable
    }
    /// Might the write have been committed despite the error?
    pub fn is_outcome_unknown(&self) -> bool {
        self.0.outcome_unknown
    }
    /// True for the four conflict kinds.
    pub fn is_conflict(&self) -> bool {
        self.0.kind.is_conflict()
    }
    /// True for `InvalidArgument` and `SizeLimitExceeded`: the request itself is bad.
    pub fn is_bad_request(&self) -> bool {
        matches!(
            self.0.kind,
            ErrorKind::InvalidArgument | ErrorKind::SizeLimitExceeded
        )
    }
    /// The operation that failed (set by wrappers), or "".
    pub fn operation(&self) -> &'static str {
        self.0.operation
    }
    /// Extra key/value context.
    pub fn context(&self) -> &[(&'static str, String)] {
        &self.0.context
    }
    /// Values found by a failed condition.
    pub fn detail(&self) -> Option<&ConflictDetail> {
        self.0.detail.as_ref()
    }
    /// The current row found by a failed current-workflow condition.
    pub fn current_workflow(&self) -> Option<&CurrentWorkflowConflict> {
        match &self.0.detail {
            Some(ConflictDetail::CurrentWorkflow(c)) => Some(c),
            _ => None,
        }
    }

    /// The messages of the causes under this error ([`std::error::Error::source`] chain),
    /// outermost first, each once: a cause whose text is already part of this error's message
    /// or of an earlier cause is left out (drivers often repeat their inner error in their own
    /// message). For printing one line per cause.
    pub fn causes(&self) -> Vec<String> {
        let mut seen = vec![self.to_string()];
        let mut out = Vec::new();
        let mut next = std::error::Error::source(self);
        while let Some(cause) = next {
            let text = cause.to_string();
            if !text.is_empty() && !seen.iter().any(|s| s.contains(&text)) {
                out.push(text.clone());
            }
            seen.push(text);
            next = cause.source();
        }
        out
    }

    /// Puts `prefix: ` before the message (context such as "cannot connect to X"), keeping the
    /// kind, flags and cause.
    pub fn with_message_prefix(mut self, prefix: &str) -> Self {
        self.0.message = format!("{prefix}: {}", self.0.message);
        self
    }

    /// Sets the retryable flag.
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.0.retryable = retryable;
        self
    }
    /// Marks the outcome as unknown (e.g. connection lost during COMMIT).
    pub fn with_outcome_unknown(mut self, unknown: bool) -> Self {
        self.0.outcome_unknown = unknown;
        self
    }
    /// Sets the operation name.
    pub fn with_operation(mut self, op: &'static str) -> Self {
        self.0.operation = op;
        self
    }
    /// Adds a context pair.
    pub fn with_context(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.0.context.push((key, value.into()));
        self
    }
    /// Attaches conflict detail.
    pub fn with_detail(mut self, detail: ConflictDetail) -> Self {
        self.0.detail = Some(detail);
        self
    }
    /// Attaches the underlying error.
    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        self.0.source = Some(source.into());
        self
    }
}

impl fmt::Debug for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("StoreError");
        d.field("kind", &self.0.kind)
            .field("message", &self.0.message)
            .field("retryable", &self.0.retryable)
            .field("outcome_unknown", &self.0.outcome_unknown);
        if !self.0.operation.is_empty() {
            d.field("operation", &self.0.operation);
        }
        if !self.0.context.is_empty() {
            d.field("context", &self.0.context);
        }
        if let Some(detail) = &self.0.detail {
            d.field("detail", detail);
        }
        if let Some(src) = &self.0.source {
            d.field("source", &src.to_string());
        }
        d.finish()
    }
}

/// The error's own message, without its cause (see the module docs; the cause is
/// [`std::error::Error::source`], and [`StoreError::causes`] lists the chain).
impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.0.operation.is_empty() {
            write!(f, "{}: ", self.0.operation)?;
        }
        write!(f, "{}: {}", self.0.kind, self.0.message)?;
        if self.0.retryable {
            f.write_str(" (retryable)")?;
        }
        if self.0.outcome_unknown {
            f.write_str(" (outcome unknown)")?;
        }
        for (k, v) in &self.0.context {
            write!(f, " {k}={v}")?;
        }
        Ok(())
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Driver(&'static str, Option<Box<Driver>>);
    impl fmt::Display for Driver {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Driver {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|d| d as _)
        }
    }

    #[test]
    fn each_cause_is_printed_once() {
        // A driver error that repeats its inner error in its own message, as sqlx's does.
        let inner = Driver("Connection refused (os error 111)", None);
        let outer = Driver(
            "error communicating with database: Connection refused (os error 111)",
            Some(Box::new(inner)),
        );
        let e = StoreError::new(ErrorKind::Unavailable, "cannot connect to postgres at h:1")
            .with_source(outer);
        let shown = e.to_string();
        assert_eq!(
            shown,
            "unavailable: cannot connect to postgres at h:1 (retryable)"
        );
        assert!(std::error::Error::source(&e).is_some());
        assert_eq!(
            e.causes(),
            vec!["error communicating with database: Connection refused (os error 111)"]
        );
        // A StoreError wrapping another: its text appears once, as a cause.
        let wrapped = StoreError::unauthenticated("access denied for user \"u\"").with_source(e);
        assert_eq!(wrapped.causes().len(), 2, "{:?}", wrapped.causes());
        assert!(!wrapped.is_retryable());
        assert_eq!(wrapped.kind().as_str(), "unauthenticated");
    }
}
