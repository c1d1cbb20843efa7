//! Runs cases against one backend and reports outcomes. (Filled in by the runner work.)

/// Placeholder.
pub struct SuiteReport;
/// Placeholder.
pub struct CaseReport;
/// Placeholder.
pub enum Outcome {}
/// Placeholder.
pub struct CaseOutcome;
/// Placeholder.
pub fn run_suite() {}
