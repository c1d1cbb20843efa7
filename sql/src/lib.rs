//! # durastore-sql: every store once, for every SQL database
//!
//! The store logic of SQLite, PostgreSQL and MySQL/MariaDB lives here, written against two small
//! seams: a [`SqlDriver`] (run statements, open transactions, classify errors) and a [`Dialect`]
//! (the fragments that differ between databases). A backend crate implements the driver for its
//! database and overrides only the dialect methods that differ.
//!
//! Tables, columns and keys follow Temporal's SQL schema; see each backend's `schema/` folder.
//! Every value is a bind parameter: no user input is ever interpolated into SQL text.
//!
//! The `floor` feature adds `record` (a [`SqlDriver`] decorator that logs every statement) and
//! `floor` (their replay without the store logic) for `durastore bench --floor`; a default
//! build has neither.

pub mod dialect;
pub mod driver;
#[cfg(feature = "floor")]
pub mod floor;
#[cfg(feature = "floor")]
pub mod record;
pub mod schema_tables;
#[cfg(feature = "tls")]
pub mod tls;
pub mod value;

mod cluster;
mod columns;
mod execution;
mod history;
mod namespace;
mod nexus;
mod paging;
mod queue;
mod queue_v1;
mod replication_dlq;
mod shard;
mod task_queue;
mod visibility;
mod visibility_columns;
mod visibility_query;

use std::sync::Arc;

use durastore_api::{Backend, Capability, Result, Stores};

pub use dialect::{
    Dialect, SqliteDialect, json_string, like_prefix_pattern, number_placeholders, placeholders,
    push_parameter, rewrite_placeholders, row_placeholders,
};
pub use driver::{SqlDriver, SqlTx};
pub use task_queue::range_hash;

/// Hooks for the criterion benches of the database-free paths (`sql/benches/hot_paths.rs`):
/// crate-private work behind a small surface. Not a stable API.
#[doc(hidden)]
pub mod hot_paths {
    pub use crate::visibility::VisibilityFixture;
}
pub use value::{Row, TIME_TEXT_FORMAT, Value, time_from_text, time_to_text};

/// The shared implementation of every store over one [`SqlDriver`].
pub struct SqlStore {
    pub(crate) driver: Arc<dyn SqlDriver>,
    /// Custom search attributes per namespace, as last read (see `visibility/attributes.rs`).
    pub(crate) registries: visibility::RegistryCache,
}

impl SqlStore {
    /// Wraps a driver.
    pub fn new(driver: Arc<dyn SqlDriver>) -> Arc<Self> {
        Arc::new(SqlStore {
            driver,
            registries: Default::default(),
        })
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

/// Which schema sets a SQL database has set up, so which stores it can serve: `main` (every
/// store but visibility) and `visibility`. The two sets may share one database or live apart
/// (Temporal's `defaultStore` / `visibilityStore`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaSets {
    /// The main set is set up and current.
    pub main: bool,
    /// The visibility set is set up and current.
    pub visibility: bool,
}

impl SchemaSets {
    /// Both sets.
    pub const ALL: SchemaSets = SchemaSets {
        main: true,
        visibility: true,
    };

    /// The capability flags of a SQL backend serving these sets (`durable` and
    /// `concurrent_writers` as given).
    pub fn capability(self, durable: bool, concurrent_writers: bool) -> Capability {
        let mut c = if self.main {
            Capability::all()
        } else {
            Capability::default()
        };
        c.visibility = self.visibility;
        c.durable = durable;
        c.concurrent_writers = concurrent_writers;
        c
    }
}

/// Builds the [`Stores`] bundle for a SQL backend with both schema sets.
pub fn stores(backend: Arc<dyn Backend>, driver: Arc<dyn SqlDriver>) -> Stores {
    stores_for(backend, driver, SchemaSets::ALL)
}

/// Builds the [`Stores`] bundle for a SQL backend: the stores of the schema sets present.
pub fn stores_for(
    backend: Arc<dyn Backend>,
    driver: Arc<dyn SqlDriver>,
    sets: SchemaSets,
) -> Stores {
    let store = SqlStore::new(driver);
    Stores {
        backend,
        shard: shard::make(&store).filter(|_| sets.main),
        execution: execution::make(&store).filter(|_| sets.main),
        history: history::make(&store).filter(|_| sets.main),
        task_queue: task_queue::make(&store).filter(|_| sets.main),
        namespace: namespace::make(&store).filter(|_| sets.main),
        cluster_metadata: cluster::make(&store).filter(|_| sets.main),
        queue: queue::make(&store).filter(|_| sets.main),
        queue_v1: queue_v1::make(&store).filter(|_| sets.main),
        replication_dlq: replication_dlq::make(&store).filter(|_| sets.main),
        nexus_endpoint: nexus::make(&store).filter(|_| sets.main),
        visibility: visibility::make(&store).filter(|_| sets.visibility),
    }
}
