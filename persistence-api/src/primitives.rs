//! Identifier and workflow-state types that need nothing else from this crate.
//!
//! They live apart so that [`crate::error`] (whose conflict detail carries a run id and a
//! workflow state and status) imports only this leaf module and sits in no module cycle. Their
//! parsing and validation, which return [`crate::StoreError`], are implemented in
//! [`crate::ids`] and [`crate::types`], which re-export these types.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random id.
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }
            /// Wraps a UUID.
            pub fn from_uuid(u: Uuid) -> Self {
                Self(u)
            }
            /// The UUID.
            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
            /// The 16 raw bytes.
            pub fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

uuid_id!(
    /// A namespace's id: a UUID, not the namespace's name.
    ///
    /// The caller chooses it when creating the namespace
    /// ([`NamespaceStore::create_namespace`](crate::NamespaceStore::create_namespace)) and every
    /// other store is keyed by it (executions, task queues, visibility). Text that is not a UUID
    /// fails to parse with `InvalidArgument`; a name resolves to its id through
    /// [`NamespaceStore::get_namespace_by_name`](crate::NamespaceStore::get_namespace_by_name).
    ///
    /// ```
    /// use durastore_api::{ErrorKind, NamespaceId};
    ///
    /// let id: NamespaceId = "5d3fb4a6-1c9e-4b8e-9a43-2f0f5a7c1e20".parse()?;
    /// assert!(id.validate().is_ok());
    /// let err = "default".parse::<NamespaceId>().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    /// # Ok::<(), durastore_api::StoreError>(())
    /// ```
    NamespaceId
);
uuid_id!(
    /// A workflow run's id.
    RunId
);
uuid_id!(
    /// A history tree's id: by convention the run id of the run that started the tree (see
    /// [`HistoryBranch`](crate::HistoryBranch)); `TreeId(run_id.0)` for a new run.
    TreeId
);
uuid_id!(
    /// A history branch's id.
    BranchId
);

/// A workflow run's persistence state (Temporal's `WorkflowExecutionState` enum values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(i32)]
pub enum WorkflowState {
    /// Unspecified (0).
    Unspecified = 0,
    /// Created, not yet running.
    Created = 1,
    /// Running.
    Running = 2,
    /// Completed (closed).
    Completed = 3,
    /// A zombie run: exists but is not current.
    Zombie = 4,
    /// Void.
    Void = 5,
    /// Corrupted.
    Corrupted = 6,
}

impl WorkflowState {
    /// The stored integer.
    pub fn as_i32(self) -> i32 {
        self as i32
    }
}

/// A workflow run's status (Temporal's `WorkflowExecutionStatus` enum values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(i32)]
pub enum WorkflowStatus {
    /// Unspecified (0).
    Unspecified = 0,
    /// Running.
    Running = 1,
    /// Completed.
    Completed = 2,
    /// Failed.
    Failed = 3,
    /// Canceled.
    Canceled = 4,
    /// Terminated.
    Terminated = 5,
    /// Continued as new.
    ContinuedAsNew = 6,
    /// Timed out.
    TimedOut = 7,
    /// Paused.
    Paused = 8,
}

impl WorkflowStatus {
    /// All statuses in enum order.
    pub const ALL: [WorkflowStatus; 9] = [
        Self::Unspecified,
        Self::Running,
        Self::Completed,
        Self::Failed,
        Self::Canceled,
        Self::Terminated,
        Self::ContinuedAsNew,
        Self::TimedOut,
        Self::Paused,
    ];
    /// The stored integer.
    pub fn as_i32(self) -> i32 {
        self as i32
    }
    /// The name used by the visibility query language (`Running`, `ContinuedAsNew`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Unspecified => "Unspecified",
            Self::Running => "Running",
            Self::Completed => "Completed",
            Self::Failed => "Failed",
            Self::Canceled => "Canceled",
            Self::Terminated => "Terminated",
            Self::ContinuedAsNew => "ContinuedAsNew",
            Self::TimedOut => "TimedOut",
            Self::Paused => "Paused",
        }
    }
    /// Parses a status name (exact, case-sensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.name() == name)
    }
}
