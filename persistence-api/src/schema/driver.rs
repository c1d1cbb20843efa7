//! The driver seam: what a backend implements for the engine.

use async_trait::async_trait;

use super::{ExecOutcome, HistoryRecord, SchemaDescription, VersionRecord};
use crate::error::Result;

/// What a backend provides so the engine can manage its schema.
///
/// One driver value addresses one schema set of one database ([`SchemaDriver::db_name`] tells
/// the sets apart in `schema_version`, so a `visibility` set is never mistaken for `main`).
#[async_trait]
pub trait SchemaDriver: Send + Sync {
    /// Backend name (`sqlite`, `postgres`, …), for messages.
    fn backend(&self) -> &str;
    /// The `db_name` of this set's `schema_version` row.
    fn db_name(&self) -> &str;
    /// DDL creating `schema_version` and `schema_update_history` (re-runnable).
    fn version_table_statements(&self) -> Vec<String>;
    /// True when the version tables exist.
    async fn version_tables_exist(&self) -> Result<bool>;
    /// Starts an exclusive section: serializes schema tools against each other and, where the
    /// database has transactional DDL, makes everything up to [`SchemaDriver::end`] atomic.
    async fn begin(&self) -> Result<()>;
    /// Ends the section started by [`SchemaDriver::begin`]: commits, or rolls back if `commit`
    /// is false (where the database can).
    async fn end(&self, commit: bool) -> Result<()>;
    /// Runs one schema statement. A failure that only means "already there" is
    /// [`ExecOutcome::AlreadyApplied`], classified by error code where the database has one.
    async fn execute(&self, statement: &str) -> Result<ExecOutcome>;
    /// This set's `schema_version` row, if any.
    async fn read_version(&self) -> Result<Option<VersionRecord>>;
    /// All `schema_update_history` rows, in `update_time` order.
    async fn read_history(&self) -> Result<Vec<HistoryRecord>>;
    /// Inserts a history row.
    async fn insert_history(&self, record: &HistoryRecord) -> Result<()>;
    /// Records a finished version, atomically where the database can: upserts this set's
    /// `schema_version` row, deletes the `remove` history rows (by their key) and inserts `done`.
    async fn finish_version(
        &self,
        version: &VersionRecord,
        remove: &[HistoryRecord],
        done: &HistoryRecord,
    ) -> Result<()>;
    /// Runs the named data step of a version (see [`super::Manifest::data_steps`]) inside the
    /// section started by [`SchemaDriver::begin`], and says what it changed.
    ///
    /// A data step must be idempotent and resumable: run twice, or again after a crash halfway,
    /// it leaves the same rows. Default: the backend has no data steps, so a manifest naming one
    /// is refused.
    async fn data_step(&self, name: &str) -> Result<String> {
        Err(crate::error::StoreError::new(
            crate::error::ErrorKind::Unsupported,
            format!(
                "the {} schema driver has no data step {name:?}",
                self.backend()
            ),
        ))
    }
    /// Describes the live schema.
    async fn describe(&self) -> Result<SchemaDescription>;
    /// Releases what the driver created for itself, such as the scratch database a server
    /// backend makes for `verify`. Default: nothing to release.
    async fn dispose(&self) -> Result<()> {
        Ok(())
    }
}
