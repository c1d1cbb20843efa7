//! Matching task queues: classic and fair queues, their tasks, and versioned user data.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::ids::NamespaceId;
use crate::types::{DataBlob, DateTime, Page, Utc};

/// Workflow, activity or Nexus queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(i32)]
pub enum TaskType {
    /// Workflow tasks (1).
    Workflow = 1,
    /// Activity tasks (2).
    Activity = 2,
    /// Nexus tasks (3).
    Nexus = 3,
}

impl TaskType {
    /// From the stored integer.
    pub fn from_i32(v: i32) -> Option<Self> {
        match v {
            1 => Some(Self::Workflow),
            2 => Some(Self::Activity),
            3 => Some(Self::Nexus),
            _ => None,
        }
    }
}

/// Normal or sticky queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(i32)]
pub enum TaskQueueKind {
    /// A normal queue (1).
    Normal = 1,
    /// A sticky queue (2); may expire.
    Sticky = 2,
}

/// Classic queues (`tasks`, ordered by task id) or fair queues (`tasks_v2`, by pass then id).
///
/// The two flavors are separate tables: a classic and a fair queue of the same name are two
/// queues. The fair-queue fields of the requests mean this on a classic queue:
/// [`TaskRecord::pass`] must be 0 (anything else is `InvalidArgument`),
/// [`GetTasksRequest::inclusive_min_pass`] and [`CompleteTasksLessThanRequest::exclusive_max_pass`]
/// are ignored. The other way round, [`GetTasksRequest::exclusive_max_task_id`] is ignored on a
/// fair queue. Subqueues exist in both flavors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TaskQueueFlavor {
    /// Classic.
    Classic,
    /// Fair.
    Fair,
}

/// Identifies a task queue partition's persistence row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TaskQueueKey {
    /// Namespace.
    pub namespace_id: NamespaceId,
    /// Queue (partition) name, 1..=255 bytes.
    pub name: String,
    /// Task type.
    pub task_type: TaskType,
    /// Classic or fair tables.
    pub flavor: TaskQueueFlavor,
}

impl TaskQueueKey {
    /// A queue's key.
    pub fn new(
        namespace_id: NamespaceId,
        name: impl Into<String>,
        task_type: TaskType,
        flavor: TaskQueueFlavor,
    ) -> Self {
        Self {
            namespace_id,
            name: name.into(),
            task_type,
            flavor,
        }
    }
}

/// A task queue row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskQueueRecord {
    /// Key.
    pub key: TaskQueueKey,
    /// Lease. Its owner derives task ids from it (see [`TaskRecord::task_id`]).
    pub range_id: i64,
    /// Opaque `TaskQueueInfo`.
    pub info: DataBlob,
}

/// Request for [`TaskQueueStore::create_task_queue`] and [`TaskQueueStore::update_task_queue`].
#[derive(Debug, Clone)]
pub struct TaskQueueWrite {
    /// Key.
    pub key: TaskQueueKey,
    /// New range id.
    pub range_id: i64,
    /// Opaque `TaskQueueInfo`.
    pub info: DataBlob,
    /// Normal or sticky.
    pub kind: TaskQueueKind,
    /// When a sticky queue may be dropped (backends with TTL use it).
    pub expiry_time: Option<DateTime<Utc>>,
}

impl TaskQueueWrite {
    /// A normal queue row that does not expire.
    pub fn new(key: TaskQueueKey, range_id: i64, info: DataBlob) -> Self {
        Self {
            key,
            range_id,
            info,
            kind: TaskQueueKind::Normal,
            expiry_time: None,
        }
    }
}

/// One matching task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRecord {
    /// Subqueue (0 for the default).
    pub subqueue: i32,
    /// Pass (fair queues; must be 0 for classic, >= 1 for fair).
    pub pass: i64,
    /// Task id (> 0), unique within the queue. The store does not derive it from the queue's
    /// range id (it only checks the range id given with the write); the owner allocates ids from
    /// its lease so a new owner's ids are above an earlier one's: Temporal's matching service
    /// uses the block `(range_id - 1) * 100000 + 1 ..= range_id * 100000` and takes a new range
    /// id (through [`TaskQueueStore::update_task_queue`]) when the block runs out.
    pub task_id: i64,
    /// Expiry, if any (backends with TTL use it).
    pub expiry_time: Option<DateTime<Utc>>,
    /// Opaque `TaskInfo`.
    pub blob: DataBlob,
}

impl TaskRecord {
    /// A classic-queue task: subqueue 0, pass 0, no expiry. For a fair queue set `pass` (>= 1).
    pub fn new(task_id: i64, blob: DataBlob) -> Self {
        Self {
            subqueue: 0,
            pass: 0,
            task_id,
            expiry_time: None,
            blob,
        }
    }
}

/// Request for [`TaskQueueStore::create_tasks`].
#[derive(Debug, Clone)]
pub struct CreateTasksRequest {
    /// Queue.
    pub key: TaskQueueKey,
    /// The caller's lease; must equal the stored range id.
    pub range_id: i64,
    /// Tasks to insert.
    pub tasks: Vec<TaskRecord>,
}

/// Request for [`TaskQueueStore::get_tasks`].
#[derive(Debug, Clone)]
pub struct GetTasksRequest {
    /// Queue.
    pub key: TaskQueueKey,
    /// Subqueue.
    pub subqueue: i32,
    /// Inclusive minimum pass (fair only; ignored for classic).
    pub inclusive_min_pass: i64,
    /// Inclusive minimum task id (with `inclusive_min_pass` for fair queues).
    pub inclusive_min_task_id: i64,
    /// Exclusive maximum task id (classic only; `i64::MAX` for no bound).
    pub exclusive_max_task_id: i64,
    /// Page size (1..=10000).
    pub page_size: i32,
    /// Token from the previous page.
    pub next_page_token: Option<Vec<u8>>,
}

impl GetTasksRequest {
    /// Reads subqueue 0 of `key` from its first task (either flavor), with no upper bound.
    pub fn new(key: TaskQueueKey, page_size: i32) -> Self {
        Self {
            key,
            subqueue: 0,
            inclusive_min_pass: 0,
            inclusive_min_task_id: 0,
            exclusive_max_task_id: i64::MAX,
            page_size,
            next_page_token: None,
        }
    }
}

/// Request for [`TaskQueueStore::complete_tasks_less_than`].
#[derive(Debug, Clone)]
pub struct CompleteTasksLessThanRequest {
    /// Queue.
    pub key: TaskQueueKey,
    /// Subqueue.
    pub subqueue: i32,
    /// Exclusive maximum pass (fair only; ignored for classic).
    pub exclusive_max_pass: i64,
    /// Exclusive maximum task id (for fair queues, within `exclusive_max_pass`).
    pub exclusive_max_task_id: i64,
    /// Delete at most this many (1..=10000).
    pub limit: i32,
    /// Fair queues only (Temporal's `ConditionRangeID`): delete only if the queue's stored range
    /// id is this one, checked in the same atomic step as the delete; otherwise
    /// `ConditionFailed` with [`ConflictDetail::TaskQueueRange`](crate::ConflictDetail) and
    /// nothing deleted. `None`: no condition. On a classic queue a condition is
    /// `InvalidArgument`.
    pub condition_range_id: Option<i64>,
}

/// A task queue's versioned user data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDataRecord {
    /// Queue name.
    pub task_queue: String,
    /// Version (>= 1).
    pub version: i64,
    /// Opaque `TaskQueueUserData`.
    pub data: DataBlob,
}

/// One entry of [`TaskQueueStore::update_task_queue_user_data`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDataUpdate {
    /// Version the caller read (0: the entry must not exist yet); the stored version becomes
    /// `version + 1`.
    pub version: i64,
    /// New data.
    pub data: DataBlob,
    /// Build ids to add to the build-id index for this queue.
    pub build_ids_added: BTreeSet<String>,
    /// Build ids to remove from the index.
    pub build_ids_removed: BTreeSet<String>,
}

impl UserDataUpdate {
    /// Writes `data` over the `version` the caller read, with no build-id index change.
    pub fn new(version: i64, data: DataBlob) -> Self {
        Self {
            version,
            data,
            build_ids_added: BTreeSet::new(),
            build_ids_removed: BTreeSet::new(),
        }
    }
}

/// Task queues, their tasks, and user data.
///
/// # Contract
/// - A queue is leased by its range id: `update_task_queue` and `delete_task_queue` are CAS on
///   it, and `create_tasks` checks it in the same transaction as the inserts; a mismatch is
///   `ConditionFailed` and nothing is written. Creating an existing queue is `AlreadyExists`.
/// - Tasks come back ordered by task id (classic) or by (pass, task id) (fair), paged; the last
///   page has no token. `complete_tasks_less_than` deletes up to `limit` tasks below the bound in
///   that order and returns how many it deleted (or -1 when the backend cannot tell). On a fair
///   queue, [`CompleteTasksLessThanRequest::condition_range_id`] fences the completion by the
///   queue's range id (a mismatch, or a missing queue, is `ConditionFailed` naming the stored
///   range id, and nothing is deleted); on a classic queue that condition is `InvalidArgument`.
/// - A range-id mismatch carries
///   [`ConflictDetail::TaskQueueRange`](crate::ConflictDetail) with the stored range id.
/// - User data is versioned per queue: an update applies only if the stored version equals the
///   given one (0 = absent); all entries of one call commit together or none does
///   (`ConditionFailed` with [`ConflictDetail::TaskQueueUserData`](crate::ConflictDetail) listing
///   the conflicting queues, sorted, also in the `task_queues` context for humans). The build-id
///   index changes in the same transaction.
///
/// # Example
/// Matching: lease a queue, add a task under the lease, take it and complete it
/// (`durastore/examples/walkthrough.rs` runs this on a backend):
/// ```
/// use durastore_api::*;
///
/// async fn add_and_take(queues: &dyn TaskQueueStore, ns: NamespaceId) -> Result<TaskRecord> {
///     let key = TaskQueueKey::new(ns, "orders", TaskType::Activity, TaskQueueFlavor::Classic);
///     let range_id = 1;
///     let queue = TaskQueueWrite::new(key.clone(), range_id, DataBlob::proto3(b"info"));
///     queues.create_task_queue(queue).await?;
///     // The first task id of range id 1's block (Temporal: (range_id - 1) * 100000 + 1).
///     let task = TaskRecord::new(1, DataBlob::proto3(b"activity task"));
///     queues
///         .create_tasks(CreateTasksRequest { key: key.clone(), range_id, tasks: vec![task] })
///         .await?;
///     let page = queues.get_tasks(GetTasksRequest::new(key.clone(), 10)).await?;
///     let taken = page.items.into_iter().next().ok_or_else(|| StoreError::not_found("no task"))?;
///     queues
///         .complete_tasks_less_than(CompleteTasksLessThanRequest {
///             key,
///             subqueue: 0,
///             exclusive_max_pass: 0,
///             exclusive_max_task_id: taken.task_id + 1,
///             limit: 100,
///             condition_range_id: None,
///         })
///         .await?;
///     Ok(taken)
/// }
/// ```
#[async_trait]
pub trait TaskQueueStore: Send + Sync {
    /// Creates a queue row.
    async fn create_task_queue(&self, req: TaskQueueWrite) -> Result<()>;
    /// Reads a queue row, or `NotFound`.
    async fn get_task_queue(&self, key: &TaskQueueKey) -> Result<TaskQueueRecord>;
    /// CAS on the range id: stored must equal `previous_range_id`.
    async fn update_task_queue(&self, req: TaskQueueWrite, previous_range_id: i64) -> Result<()>;
    /// Lists queues of one flavor, paged (needs `list_task_queues`).
    async fn list_task_queues(
        &self,
        flavor: TaskQueueFlavor,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<TaskQueueRecord>>;
    /// Deletes a queue row if its range id matches.
    async fn delete_task_queue(&self, key: &TaskQueueKey, range_id: i64) -> Result<()>;
    /// Inserts tasks, fenced by the queue's range id.
    async fn create_tasks(&self, req: CreateTasksRequest) -> Result<()>;
    /// Reads tasks, paged.
    async fn get_tasks(&self, req: GetTasksRequest) -> Result<Page<TaskRecord>>;
    /// Deletes tasks below a bound; returns the number deleted (-1 if unknown).
    async fn complete_tasks_less_than(&self, req: CompleteTasksLessThanRequest) -> Result<i64>;

    /// Reads a queue's user data, or `NotFound`.
    async fn get_task_queue_user_data(
        &self,
        namespace_id: NamespaceId,
        task_queue: &str,
    ) -> Result<UserDataRecord>;
    /// Applies versioned updates atomically.
    async fn update_task_queue_user_data(
        &self,
        namespace_id: NamespaceId,
        updates: BTreeMap<String, UserDataUpdate>,
    ) -> Result<()>;
    /// Lists a namespace's user data entries, paged by queue name.
    async fn list_task_queue_user_data(
        &self,
        namespace_id: NamespaceId,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<UserDataRecord>>;
    /// Queue names whose user data references the build id (sorted).
    async fn get_task_queues_by_build_id(
        &self,
        namespace_id: NamespaceId,
        build_id: &str,
    ) -> Result<Vec<String>>;
    /// How many queues reference the build id.
    async fn count_task_queues_by_build_id(
        &self,
        namespace_id: NamespaceId,
        build_id: &str,
    ) -> Result<i64>;
}
