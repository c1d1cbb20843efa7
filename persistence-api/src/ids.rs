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
pub use crate::primitives::{BranchId, NamespaceId, RunId, TreeId};

/// Longest workflow id, task-queue name, namespace name, timer id or request id, in bytes
/// (the width of Temporal's `VARCHAR(255)` columns).
pub const MAX_ID_BYTES: usize = 255;

/// The parsing and validation of a UUID id (they return [`StoreError`], so they live here rather
/// than next to the type in the leaf module `primitives`).
macro_rules! uuid_id_checks {
    ($name:ident, $what:literal) => {
        impl $name {
            /// Parses 16 raw bytes, as stored in SQL columns.
            pub fn from_slice(b: &[u8]) -> Result<Self> {
                Uuid::from_slice(b).map(Self).map_err(|e| {
                    StoreError::internal(format!(
                        concat!("stored ", $what, " is not 16 bytes: {}"),
                        e
                    ))
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

        impl FromStr for $name {
            type Err = StoreError;
            fn from_str(s: &str) -> Result<Self> {
                Uuid::parse_str(s).map(Self).map_err(|e| {
                    StoreError::invalid_argument(format!(
                        concat!("invalid ", $what, " {:?}: {}"),
                        s, e
                    ))
                })
            }
        }
    };
}

uuid_id_checks!(NamespaceId, "namespace id");
uuid_id_checks!(RunId, "run id");
uuid_id_checks!(TreeId, "tree id");
uuid_id_checks!(BranchId, "branch id");

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

/// A CHASM archetype: the kind of root component an execution has (Temporal's `ArchetypeID`,
/// `farm.Fingerprint32("<library>.<component>")` of the root component's fully qualified name).
///
/// Every archetype has its own current-run id space: a workflow and, say, a standalone activity
/// may use the same id (Temporal's business id) in one namespace, each with its own current-run
/// row. Workflows ([`ArchetypeId::WORKFLOW`], the default) keep their current row where schema
/// 1.0 keeps it (SQL `current_executions`; Cassandra's permanent current-row run id); every other
/// archetype's lives in SQL `current_chasm_executions` (schema 1.1) or, on Cassandra, under a
/// current-row run id derived from the archetype. The concrete run rows are keyed by
/// (namespace, id, run id) whatever the archetype.
///
/// [`ArchetypeId::UNSPECIFIED`] (0) is refused as `InvalidArgument` by every store: Temporal
/// reserves it for "not yet known", and its SQL stores refuse it too (its Cassandra store falls
/// back to the workflow archetype with an assertion; durastore does not guess).
///
/// ```
/// use durastore_api::ArchetypeId;
///
/// assert_eq!(ArchetypeId::default(), ArchetypeId::WORKFLOW);
/// assert!(ArchetypeId::WORKFLOW.is_workflow());
/// assert!(ArchetypeId(7).validate().is_ok() && !ArchetypeId(7).is_workflow());
/// assert!(ArchetypeId::UNSPECIFIED.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ArchetypeId(pub u32);

impl ArchetypeId {
    /// "Not specified" (Temporal's `UnspecifiedArchetypeID`); refused by every store.
    pub const UNSPECIFIED: ArchetypeId = ArchetypeId(0);
    /// The workflow archetype: Temporal's `WorkflowArchetypeID`, farmhash `Fingerprint32` of
    /// `"workflow.workflow"`.
    pub const WORKFLOW: ArchetypeId = ArchetypeId(2_918_170_192);

    /// Whether this is the workflow archetype (whose current rows are schema 1.0's).
    pub fn is_workflow(self) -> bool {
        self == Self::WORKFLOW
    }

    /// How visibility stores keep it: 0 for the workflow archetype, else the id. Temporal leaves
    /// a workflow's record without an archetype (no `TemporalNamespaceDivision`), and records
    /// written before schema 1.1 have none; both read back as workflows.
    pub fn visibility_code(self) -> u32 {
        if self.is_workflow() { 0 } else { self.0 }
    }

    /// The archetype a stored visibility code stands for (see [`ArchetypeId::visibility_code`]).
    pub fn from_visibility_code(code: u32) -> Self {
        if code == 0 {
            Self::WORKFLOW
        } else {
            ArchetypeId(code)
        }
    }

    /// Rejects [`ArchetypeId::UNSPECIFIED`].
    pub fn validate(self) -> Result<()> {
        if self == Self::UNSPECIFIED {
            Err(StoreError::invalid_argument(
                "archetype id is 0 (unspecified); pass ArchetypeId::WORKFLOW for workflows",
            ))
        } else {
            Ok(())
        }
    }
}

impl Default for ArchetypeId {
    /// The workflow archetype, so that callers unaware of CHASM address workflows.
    fn default() -> Self {
        Self::WORKFLOW
    }
}

impl fmt::Display for ArchetypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
