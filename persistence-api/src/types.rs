//! Shared value types: blobs, workflow state enums, history task categories and keys.

use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
pub use crate::primitives::{WorkflowState, WorkflowStatus};

pub use chrono::{DateTime, Utc};

/// An opaque serialized payload plus the name of its encoding (usually `"Proto3"`).
///
/// Stores never look inside `data`; they persist it and its encoding name byte for byte.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct DataBlob {
    /// The bytes.
    pub data: Vec<u8>,
    /// Encoding name, at most [`DataBlob::MAX_ENCODING_BYTES`] bytes (a `VARCHAR(16)` column).
    pub encoding: String,
}

impl DataBlob {
    /// Longest encoding name.
    pub const MAX_ENCODING_BYTES: usize = 16;
    /// The usual encoding name.
    pub const PROTO3: &'static str = "Proto3";

    /// A blob with the given encoding.
    pub fn new(data: impl Into<Vec<u8>>, encoding: impl Into<String>) -> Self {
        Self {
            data: data.into(),
            encoding: encoding.into(),
        }
    }
    /// A `Proto3` blob.
    pub fn proto3(data: impl Into<Vec<u8>>) -> Self {
        Self::new(data, Self::PROTO3)
    }
    /// Number of payload bytes.
    pub fn len(&self) -> usize {
        self.data.len()
    }
    /// True when there are no payload bytes.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

impl std::fmt::Debug for DataBlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Payloads can be megabytes; print a short prefix only.
        let shown = &self.data[..self.data.len().min(16)];
        write!(
            f,
            "DataBlob({} bytes, {:?}, {:02x?}{})",
            self.data.len(),
            self.encoding,
            shown,
            if self.data.len() > 16 { "…" } else { "" }
        )
    }
}

impl WorkflowState {
    /// From the stored integer.
    pub fn from_i32(v: i32) -> Result<Self> {
        Ok(match v {
            0 => Self::Unspecified,
            1 => Self::Created,
            2 => Self::Running,
            3 => Self::Completed,
            4 => Self::Zombie,
            5 => Self::Void,
            6 => Self::Corrupted,
            _ => return Err(StoreError::internal(format!("unknown workflow state {v}"))),
        })
    }
}

impl WorkflowStatus {
    /// From the stored integer.
    pub fn from_i32(v: i32) -> Result<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|s| s.as_i32() == v)
            .ok_or_else(|| StoreError::internal(format!("unknown workflow status {v}")))
    }
}

/// Whether a history task category is keyed by task id alone or by fire time then task id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TaskCategoryKind {
    /// Keyed by task id; fire time is always the Unix epoch.
    Immediate,
    /// Keyed by (fire time, task id); fire times have millisecond precision.
    Scheduled,
}

/// A history task category (transfer, timer, replication, visibility, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TaskCategory {
    /// Category id (1 transfer, 2 timer, 3 replication, 4 visibility, 5 archival, 6 memory timer,
    /// 7 outbound; others are allowed).
    pub id: i32,
    /// Immediate or scheduled.
    pub kind: TaskCategoryKind,
}

impl PartialOrd for TaskCategoryKind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for TaskCategoryKind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (*self as u8).cmp(&(*other as u8))
    }
}

impl TaskCategory {
    /// Transfer tasks (immediate).
    pub const TRANSFER: TaskCategory = TaskCategory::new(1, TaskCategoryKind::Immediate);
    /// Timer tasks (scheduled).
    pub const TIMER: TaskCategory = TaskCategory::new(2, TaskCategoryKind::Scheduled);
    /// Replication tasks (immediate).
    pub const REPLICATION: TaskCategory = TaskCategory::new(3, TaskCategoryKind::Immediate);
    /// Visibility tasks (immediate).
    pub const VISIBILITY: TaskCategory = TaskCategory::new(4, TaskCategoryKind::Immediate);
    /// Archival tasks (scheduled).
    pub const ARCHIVAL: TaskCategory = TaskCategory::new(5, TaskCategoryKind::Scheduled);
    /// Outbound tasks (immediate).
    pub const OUTBOUND: TaskCategory = TaskCategory::new(7, TaskCategoryKind::Immediate);

    /// A category.
    pub const fn new(id: i32, kind: TaskCategoryKind) -> Self {
        Self { id, kind }
    }
    /// Is this an immediate category?
    pub fn is_immediate(&self) -> bool {
        self.kind == TaskCategoryKind::Immediate
    }
}

/// A history task's key: ordered by fire time, then task id.
///
/// # Task ids and the shard's range id
/// The store neither allocates task ids nor checks them against the shard's range id (the range
/// id fences the *write*, see [`ShardStore`](crate::ShardStore)); it only orders by them. The
/// owner of a shard allocates them from its lease so that ids stay unique and increasing across
/// owners: Temporal's history service hands out `range_id << 20` up to (not including)
/// `(range_id + 1) << 20` under a lease and renews the lease (range id + 1, through
/// [`ShardStore::update_shard`](crate::ShardStore::update_shard)) when the block runs out, so a
/// new owner's ids are above every id an earlier owner used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HistoryTaskKey {
    /// Fire time (Unix epoch for immediate tasks; millisecond precision for scheduled ones).
    pub fire_time: DateTime<Utc>,
    /// Task id (>= 0), allocated by the shard owner from its range id (see above).
    pub task_id: i64,
}

impl HistoryTaskKey {
    /// An immediate-task key.
    pub fn immediate(task_id: i64) -> Self {
        Self {
            fire_time: DateTime::<Utc>::UNIX_EPOCH,
            task_id,
        }
    }
    /// A scheduled-task key; the fire time is truncated to whole milliseconds.
    pub fn scheduled(fire_time: DateTime<Utc>, task_id: i64) -> Self {
        Self {
            fire_time: truncate_to_millis(fire_time),
            task_id,
        }
    }
}

/// Truncates a timestamp to whole milliseconds (scheduled task precision).
pub fn truncate_to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// Truncates a timestamp to whole microseconds (the precision every backend stores).
pub fn truncate_to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// One history task as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryTask {
    /// Its key.
    pub key: HistoryTaskKey,
    /// Its payload.
    pub blob: DataBlob,
}

impl HistoryTask {
    /// A task with its key and payload.
    pub fn new(key: HistoryTaskKey, blob: DataBlob) -> Self {
        Self { key, blob }
    }
}

/// A page of results plus the token for the next page (None on the last page).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Opaque token for the next page; `None` means there is no next page.
    pub next_page_token: Option<Vec<u8>>,
}

impl<T> Page<T> {
    /// A page with no successor.
    pub fn last(items: Vec<T>) -> Self {
        Self {
            items,
            next_page_token: None,
        }
    }
}
