//! Conformance cases for the task_queue store.

use crate::Case;

/// The cases of this module.
pub fn cases() -> Vec<Case> {
    Vec::new()
}
