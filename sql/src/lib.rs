//! # durastore-sql: every store once, for every SQL database
//!
//! The store logic of SQLite, PostgreSQL and MySQL/MariaDB lives here, written against two small
//! seams: a [`SqlDriver`] (run statements, open transactions, classify errors) and a [`Dialect`]
//! (the fragments that differ between databases). A backend crate implements the driver for its
//! database and overrides only the dialect methods that differ.
//!
//! Tables, columns and keys follow Temporal's SQL schema; see each backend's `schema/` folder.
//! Every value is a bind parameter: no user input is ever interpolated into SQL text.

pub mod dialect;
pub mod driver;
pub mod schema_tables;
pub mod value;

mod cluster;
mod execution;
mod history;
mod history_tasks;
mod namespace;
mod paging;
mod queue;
mod shard;
mod task_queue;

use std::sync::Arc;

use durastore_api::{Backend, Result, Stores};

pub use dialect::{Dialect, SqliteDialect, number_placeholders, placeholders, row_placeholders};
pub use driver::{SqlDriver, SqlTx};
pub use value::{Row, TIME_TEXT_FORMAT, Value, time_from_text, time_to_text};

/// The shared implementation of every store over one [`SqlDriver`].
pub struct SqlStore {
    pub(crate) driver: Arc<dyn SqlDriver>,
}

impl SqlStore {
    /// Wraps a driver.
    pub fn new(driver: Arc<dyn SqlDriver>) -> Arc<Self> {
        Arc::new(SqlStore { driver })
    }

    /// The driver's dialect.
    pub(crate) fn dialect(&self) -> &dyn Dialect {
        self.driver.dialect()
    }

    /// Commits `tx` if `result` is Ok, else rolls it back; returns `result` (or the commit error).
    pub(crate) async fn finish<T>(tx: Box<dyn SqlTx>, result: Result<T>) -> Result<T> {
        match result {
            Ok(v) => {
                tx.commit().await?;
                Ok(v)
            }
            Err(e) => {
                // The original error matters more than a failed rollback, which the database
                // performs anyway when the connection drops.
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SqlStore({})", self.driver.dialect().name())
    }
}

/// Builds the [`Stores`] bundle for a SQL backend.
pub fn stores(backend: Arc<dyn Backend>, driver: Arc<dyn SqlDriver>) -> Stores {
    let store = SqlStore::new(driver);
    Stores {
        backend,
        shard: shard::make(&store),
        execution: execution::make(&store),
        history: history::make(&store),
        task_queue: task_queue::make(&store),
        namespace: namespace::make(&store),
        cluster_metadata: cluster::make(&store),
        queue: queue::make(&store),
        visibility: None,
    }
}
