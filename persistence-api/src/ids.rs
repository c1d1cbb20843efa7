//! Typed identifiers.
//!
//! Namespace ids, run ids, history tree and branch ids are UUIDs (stored as 16 raw bytes in SQL,
//! as `uuid` in CQL). The nil UUID counts as "empty" and is rejected as `InvalidArgument` by every
//! store. Workflow ids are free-form strings of 1..=255 bytes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Result, StoreError};

/// Longest workflow id, task-queue name, namespace name, timer id or request id, in bytes
/// (the width of Temporal's `VARCHAR(255)` columns).
pub const MAX_ID_BYTES: usize = 255;

macro_rules! uuid_id {
    ($(#[$m:meta])* $name:ident, $what:literal) => {
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
            /// Parses 16 raw bytes, as stored in SQL columns.
            pub fn from_slice(b: &[u8]) -> Result<Self> {
                Uuid::from_slice(b).map(Self).map_err(|e| {
                    StoreError::internal(format!(concat!("stored ", $what, " is not 16 bytes: {}"), e))
                })
            }
            /// Rejects the nil UUID, which stands for "empty".
            pub fn validate(&self) -> Result<()> {
                if self.0.is_nil() {
                    Err(StoreError::invalid_argument(concat!($what, " is empty")))
                } else {
                    Ok(())
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = StoreError;
            fn from_str(s: &str) -> Result<Self> {
                Uuid::parse_str(s).map(Self).map_err(|e| {
                    StoreError::invalid_argument(format!(concat!("invalid ", $what, " {:?}: {}"), s, e))
                })
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
    NamespaceId,
    "namespace id"
);
uuid_id!(
    /// A workflow run's id.
    RunId,
    "run id"
);
uuid_id!(
    /// A history tree's id: by convention the run id of the run that started the tree (see
    /// [`HistoryBranch`](crate::HistoryBranch)); `TreeId(run_id.0)` for a new run.
    TreeId,
    "tree id"
);
uuid_id!(
    /// A history branch's id.
    BranchId,
    "branch id"
);

/// A history shard's number. Shards are numbered from 1 in Temporal; any `i32 >= 0` is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShardId(pub i32);

impl ShardId {
    /// Rejects negative shard ids.
    pub fn validate(&self) -> Result<()> {
        if self.0 < 0 {
            Err(StoreError::invalid_argument(format!(
                "shard id {} is negative",
                self.0
            )))
        } else {
            Ok(())
        }
    }
}

impl fmt::Display for ShardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A workflow id: 1..=255 bytes of UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WorkflowId(pub String);

impl WorkflowId {
    /// Wraps a string (not validated until a store sees it).
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Rejects empty and over-long ids.
    pub fn validate(&self) -> Result<()> {
        crate::validate::id_string("workflow id", &self.0)
    }
}

impl fmt::Display for WorkflowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for WorkflowId {
    fn from(s: &str) -> Self {
        Self(s.to_string())
    }
}

/// Identifies one workflow run.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WorkflowKey {
    /// Namespace.
    pub namespace_id: NamespaceId,
    /// Workflow id.
    pub workflow_id: WorkflowId,
    /// Run id.
    pub run_id: RunId,
}

impl WorkflowKey {
    /// Builds a key.
    pub fn new(
        namespace_id: NamespaceId,
        workflow_id: impl Into<WorkflowId>,
        run_id: RunId,
    ) -> Self {
        Self {
            namespace_id,
            workflow_id: workflow_id.into(),
            run_id,
        }
    }
    /// Validates all three parts.
    pub fn validate(&self) -> Result<()> {
        self.namespace_id.validate()?;
        self.workflow_id.validate()?;
        self.run_id.validate()
    }
}

impl From<String> for WorkflowId {
    fn from(s: String) -> Self {
        Self(s)
    }
}
