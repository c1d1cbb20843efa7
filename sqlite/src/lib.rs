//! # durastore-sqlite: the embedded default backend
//!
//! Every durastore store on SQLite (visibility included), through the shared SQL logic of `durastore-sql`. A file
//! database runs in WAL mode with a busy timeout and `BEGIN IMMEDIATE` writers (SQLite has no row
//! locks: writers serialize on the database lock, readers run concurrently). `sqlite::memory:`
//! gives a private in-memory database on a single connection (not durable).
//!
//! URLs and their options: [below](#url-options) (the crate's `docs.md`).
//!
#![doc = include_str!("../docs.md")]

mod driver;
mod error;
pub mod schema;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use durastore_api::{Backend, Capability, Result, StoreError, Stores};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use driver::SqliteDriver;

/// Parsed connection settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteConfig {
    /// Database file, or None for a private in-memory database.
    pub path: Option<PathBuf>,
    /// Pool size (1 for in-memory).
    pub max_connections: u32,
    /// How long a writer waits for the database lock.
    pub busy_timeout: Duration,
    /// `synchronous=FULL` (default) or `NORMAL`.
    pub synchronous_full: bool,
}

impl SqliteConfig {
    /// Parses a `sqlite:` URL.
    pub fn from_url(url: &str) -> Result<Self> {
        let rest = url
            .strip_prefix("sqlite:")
            .ok_or_else(|| StoreError::invalid_argument(format!("not a sqlite URL: {url:?}")))?;
        let (location, query) = match rest.split_once('?') {
            Some((l, q)) => (l, Some(q)),
            None => (rest, None),
        };
        let path = if location == ":memory:" || location == "//:memory:" {
            None
        } else if let Some(p) = location.strip_prefix("//") {
            // sqlite:///abs → "/abs"; sqlite://rel → "rel".
            Some(PathBuf::from(p))
        } else {
            Some(PathBuf::from(location))
        };
        if matches!(&path, Some(p) if p.as_os_str().is_empty()) {
            return Err(StoreError::invalid_argument("sqlite URL has no path"));
        }
        let mut cfg = SqliteConfig {
            max_connections: if path.is_some() { 4 } else { 1 },
            path,
            busy_timeout: Duration::from_secs(60),
            synchronous_full: true,
        };
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let bad = || StoreError::invalid_argument(format!("bad sqlite option {pair:?}"));
            match k {
                "max_connections" => {
                    let n: u32 = v.parse().map_err(|_| bad())?;
                    if n == 0 {
                        return Err(bad());
                    }
                    if cfg.path.is_some() {
                        cfg.max_connections = n;
                    }
                }
                "busy_timeout_ms" => {
                    cfg.busy_timeout = Duration::from_millis(v.parse().map_err(|_| bad())?)
                }
                "synchronous" => match v.to_ascii_lowercase().as_str() {
                    "full" => cfg.synchronous_full = true,
                    "normal" => cfg.synchronous_full = false,
                    _ => return Err(bad()),
                },
                _ => return Err(bad()),
            }
        }
        Ok(cfg)
    }
}

/// Connects without touching the schema (used by the schema tool).
pub async fn connect(cfg: &SqliteConfig) -> Result<SqliteDriver> {
    let mut opts = match &cfg.path {
        Some(p) => SqliteConnectOptions::new()
            .filename(p)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal),
        None => SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(|e| StoreError::invalid_argument(e.to_string()))?,
    };
    // Library logs stay quiet at the default level: sqlx would warn about every statement over
    // a second; durastore's own `--slow-ms` layer reports slow calls when asked.
    opts = sqlx::ConnectOptions::log_slow_statements(
        opts,
        log::LevelFilter::Debug,
        Duration::from_secs(1),
    );
    opts = opts
        .busy_timeout(cfg.busy_timeout)
        .synchronous(if cfg.synchronous_full {
            SqliteSynchronous::Full
        } else {
            SqliteSynchronous::Normal
        });
    let mut pool = SqlitePoolOptions::new()
        .acquire_slow_level(log::LevelFilter::Debug)
        .max_connections(cfg.max_connections);
    if cfg.path.is_none() {
        // An in-memory database lives exactly as long as its one connection.
        pool = pool
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
    }
    let pool = pool.connect_with(opts).await.map_err(|e| {
        StoreError::new(
            durastore_api::ErrorKind::Unavailable,
            format!("cannot open sqlite database: {e}"),
        )
    })?;
    Ok(SqliteDriver::new(pool))
}

/// The SQLite backend handle.
#[derive(Debug)]
pub struct SqliteBackend {
    driver: Arc<SqliteDriver>,
    durable: bool,
}

#[async_trait]
impl Backend for SqliteBackend {
    fn name(&self) -> &str {
        "sqlite"
    }

    fn capability(&self) -> Capability {
        let mut c = Capability::all();
        c.durable = self.durable;
        c.concurrent_writers = true;
        c
    }

    async fn close(&self) -> Result<()> {
        durastore_sql::SqlDriver::close(&*self.driver).await
    }
}

/// Opens a SQLite database: a new database gets the embedded schema, an older one is updated
/// (the embedded default should just work), a newer or half-migrated one is refused.
pub async fn open(url: &str) -> Result<Stores> {
    let cfg = SqliteConfig::from_url(url)?;
    let driver = Arc::new(connect(&cfg).await?);
    schema::ensure_current(&driver).await?;
    let backend = Arc::new(SqliteBackend {
        driver: driver.clone(),
        durable: cfg.path.is_some(),
    });
    Ok(durastore_sql::stores(backend, driver))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let c = SqliteConfig::from_url("sqlite:///tmp/a.db").unwrap();
        assert_eq!(c.path, Some(PathBuf::from("/tmp/a.db")));
        let c = SqliteConfig::from_url("sqlite::memory:").unwrap();
        assert_eq!(c.path, None);
        assert_eq!(c.max_connections, 1);
        let c = SqliteConfig::from_url("sqlite:x.db?max_connections=2&synchronous=normal").unwrap();
        assert_eq!(c.path, Some(PathBuf::from("x.db")));
        assert_eq!(c.max_connections, 2);
        assert!(!c.synchronous_full);
        assert!(SqliteConfig::from_url("postgres://x").is_err());
        assert!(SqliteConfig::from_url("sqlite:x.db?bogus=1").is_err());
        assert!(SqliteConfig::from_url("sqlite://").is_err());
    }
}

#[cfg(test)]
mod driver_tests {
    use super::*;
    use durastore_sql::{SqlDriver, Value, params};

    #[tokio::test]
    async fn roundtrip_values_and_tx() {
        let cfg = SqliteConfig::from_url("sqlite::memory:").unwrap();
        let d = connect(&cfg).await.unwrap();
        schema::ensure_current(&d).await.unwrap();
        let t =
            chrono::DateTime::<chrono::Utc>::from_timestamp_micros(1_700_000_000_123_456).unwrap();
        d.execute(
            "INSERT INTO timer_tasks (shard_id, visibility_timestamp, task_id, data, data_encoding) VALUES (?, ?, ?, ?, ?)",
            &params![1i32, t, 7i64, vec![0u8, 1, 2], "Proto3"],
        )
        .await
        .unwrap();
        let rows = d
            .query("SELECT visibility_timestamp, task_id, data, data_encoding FROM timer_tasks WHERE shard_id = ?", &params![1i32])
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].time(0).unwrap(), t);
        assert_eq!(rows[0].i64(1).unwrap(), 7);
        assert_eq!(rows[0].blob(2, 3).unwrap().data, vec![0u8, 1, 2]);
        // A duplicate key is AlreadyExists; a dropped transaction rolls back.
        let err = d
            .execute(
                "INSERT INTO timer_tasks (shard_id, visibility_timestamp, task_id, data, data_encoding) VALUES (?, ?, ?, ?, ?)",
                &params![1i32, t, 7i64, vec![0u8], "Proto3"],
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), durastore_api::ErrorKind::AlreadyExists);
        {
            let mut tx = d.begin().await.unwrap();
            tx.execute("DELETE FROM timer_tasks", &[]).await.unwrap();
        }
        let rows = d
            .query("SELECT COUNT(*) FROM timer_tasks", &[Value::Null; 0])
            .await
            .unwrap();
        assert_eq!(rows[0].i64(0).unwrap(), 1);
    }
}
