//! Conformance cases for the execution store.

use crate::Case;

/// The cases of this module.
pub fn cases() -> Vec<Case> {
    Vec::new()
}
