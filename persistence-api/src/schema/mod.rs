//! The versioned schema engine shared by every backend (no database dependency).
//!
//! A backend ships one [`SchemaSet`] per store (`main`, `visibility`): versioned directories, each
//! with a manifest (`{"version", "min_compatible_version", "description", "files"}`) and its
//! statement files, embedded in the binary. The backend implements [`SchemaDriver`] (run one
//! statement, read and write the version tables, describe the live schema); the engine does the
//! rest, the same way for every backend:
//!
//! - [`setup`] creates the version tables `schema_version` and `schema_update_history` (the shape
//!   Temporal uses) and applies every version up to the target;
//! - [`update`] applies the versions in `(current, target]` in order;
//! - [`status`] reports the current and latest versions and a half-applied ("dirty") one;
//! - [`verify`] compares the live schema with the expected one (built by applying the embedded
//!   files to a scratch database) and checks the recorded checksums of applied versions;
//! - every operation has a dry run that returns the statements it would execute.
//!
//! # Crash safety
//! Each version is applied as: write an *in-progress* history row, run the statements, then (in
//! one [`SchemaDriver::finish_version`] call) set `curr_version`, drop the in-progress row and
//! write the final history row with the checksum of the version's files. A crash halfway leaves
//! the in-progress row behind: the version is reported as dirty and the next `setup`/`update`
//! re-applies it. That is safe because statement files are written to be re-runnable
//! (`IF NOT EXISTS`), and a driver reports "already exists" failures as
//! [`ExecOutcome::AlreadyApplied`] rather than errors. Backends with transactional DDL also wrap
//! the whole operation in [`SchemaDriver::begin`]/[`SchemaDriver::end`], which additionally
//! serializes concurrent schema tools.
//!
//! A database whose `curr_version` is newer than the newest embedded version is refused: an old
//! binary must not write to (or "repair") a schema it does not know.

mod driver;
mod engine;
mod live;
mod sets;
mod statements;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
mod version;

pub use driver::*;
pub use engine::*;
pub use live::*;
pub use sets::*;
pub use statements::*;
pub use version::*;

/// Name of the main (execution, history, task queue, …) schema set.
pub const SET_MAIN: &str = "main";
/// Name of the visibility schema set.
pub const SET_VISIBILITY: &str = "visibility";
/// The schema set names a backend may ship.
pub const SET_NAMES: &[&str] = &[SET_MAIN, SET_VISIBILITY];

/// Prefix of the description of a history row written before a version's statements run and
/// removed once they all succeeded; a row still carrying it marks a half-applied version.
pub const IN_PROGRESS_MARKER: &str = "[in progress] ";

/// Leading keywords a schema statement may have. Anything else (a `SELECT`, transaction
/// control) in a schema file is a packaging mistake and is rejected when the set is loaded.
/// `PUT` and `POST` are the Elasticsearch schema's requests (`PUT /{index} {body}`).
const ALLOWED_STATEMENTS: &[&str] = &[
    "CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE", "DO", "PUT", "POST",
];
