//! The driver seam: what a SQL backend provides so the shared store logic can run on it.

use async_trait::async_trait;
use durastore_api::Result;

use crate::dialect::Dialect;
use crate::value::{Row, Value};

/// A connection pool to one SQL database.
///
/// Statements use `?` placeholders; a driver whose database numbers them (`$1`) rewrites them
/// (see [`crate::dialect::number_placeholders`]). Every driver error is classified into a
/// [`durastore_api::StoreError`] in one place per backend: a unique-key violation is
/// `AlreadyExists`, serialization failures and deadlocks are retryable, a lost connection during
/// COMMIT is outcome-unknown.
#[async_trait]
pub trait SqlDriver: Send + Sync + 'static {
    /// The backend's SQL dialect.
    fn dialect(&self) -> &dyn Dialect;
    /// Runs a query outside a transaction.
    async fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>>;
    /// Runs a statement outside a transaction; returns rows affected.
    async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64>;
    /// Starts a read-write transaction (SQLite: `BEGIN IMMEDIATE`, so writers serialize at
    /// the start instead of failing at commit).
    async fn begin(&self) -> Result<Box<dyn SqlTx>>;
    /// Starts a read-only transaction whose statements all see one snapshot (PostgreSQL
    /// `REPEATABLE READ READ ONLY`, MySQL a consistent-snapshot transaction, SQLite a deferred
    /// transaction in WAL mode). Used where one logical read takes several statements.
    /// Default: [`SqlDriver::begin`].
    async fn begin_read(&self) -> Result<Box<dyn SqlTx>> {
        self.begin().await
    }
    /// Closes the pool; later calls fail with `Unavailable`.
    async fn close(&self) -> Result<()>;
}

/// An open transaction. Dropping it without `commit` rolls it back.
#[async_trait]
pub trait SqlTx: Send {
    /// Runs a query in the transaction.
    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>>;
    /// Runs a statement in the transaction; returns rows affected.
    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64>;
    /// Commits. A connection failure here is reported as outcome-unknown.
    async fn commit(self: Box<Self>) -> Result<()>;
    /// Rolls back.
    async fn rollback(self: Box<Self>) -> Result<()>;
}
