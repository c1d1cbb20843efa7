//! The sqlx-based [`SqlDriver`] for SQLite.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_trait::async_trait;
use durastore_api::{Result, StoreError};
use durastore_sql::{Dialect, Row, SqlDriver, SqlTx, SqliteDialect, Value, time_to_text};
use sqlx::sqlite::{Sqlite, SqliteArguments, SqlitePool, SqliteRow};
use sqlx::{AssertSqlSafe, Row as _, TypeInfo, ValueRef};

use crate::error::classify;

/// A pool of SQLite connections.
#[derive(Debug, Clone)]
pub struct SqliteDriver {
    pool: SqlitePool,
    wal: Arc<WalBound>,
}

/// Write commits between two `wal_checkpoint(TRUNCATE)` calls.
const CHECKPOINT_EVERY: u64 = 1000;

/// Keeps the WAL from growing without bound.
///
/// SQLite's automatic checkpoint is PASSIVE: it copies what no reader still needs, and the WAL
/// restarts from its beginning only when a checkpoint finds no reader inside it. With several
/// pooled connections under steady load some reader always is, so the WAL never restarts and
/// grows by every commit (measured: gigabytes for a few thousand workflows). Every
/// [`CHECKPOINT_EVERY`] write commits one background `wal_checkpoint(TRUNCATE)` waits (busy
/// timeout) for the readers of older snapshots to finish, copies the WAL back and truncates it.
#[derive(Debug, Default)]
struct WalBound {
    commits: AtomicU64,
    running: Arc<AtomicBool>,
}

impl WalBound {
    fn after_write(&self, pool: &SqlitePool) {
        if self.commits.fetch_add(1, Ordering::Relaxed) % CHECKPOINT_EVERY != CHECKPOINT_EVERY - 1 {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        // One checkpoint at a time.
        if self.running.swap(true, Ordering::AcqRel) {
            return;
        }
        let (pool, running) = (pool.clone(), self.running.clone());
        rt.spawn(async move {
            match sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_all(&pool)
                .await
            {
                Ok(_) => tracing::debug!("sqlite: WAL checkpointed and truncated"),
                Err(e) => tracing::debug!("sqlite: WAL checkpoint skipped: {e}"),
            }
            running.store(false, Ordering::Release);
        });
    }
}

impl SqliteDriver {
    /// Wraps a pool.
    pub fn new(pool: SqlitePool) -> Self {
        SqliteDriver {
            pool,
            wal: Arc::new(WalBound::default()),
        }
    }

    /// The underlying pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

type Q<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments>;

pub(crate) fn bind<'q>(sql: &str, params: &'q [Value]) -> Q<'q> {
    let mut q = sqlx::query(AssertSqlSafe(sql.to_string()));
    for p in params {
        q = match p {
            Value::Null => q.bind(None::<i64>),
            Value::Int(v) => q.bind(*v),
            Value::Bool(b) => q.bind(*b as i64),
            Value::Double(v) => q.bind(*v),
            Value::Text(s) => q.bind(s.as_str()),
            Value::Bytes(b) => q.bind(b.as_slice()),
            // Fixed-width text keeps SQL comparisons in time order.
            Value::Time(t) => q.bind(time_to_text(t)),
        };
    }
    q
}

pub(crate) fn decode(row: &SqliteRow) -> Result<Row> {
    let mut out = Vec::with_capacity(row.columns().len());
    for i in 0..row.columns().len() {
        let raw = row.try_get_raw(i).map_err(|e| classify(e, false))?;
        if raw.is_null() {
            out.push(Value::Null);
            continue;
        }
        let type_name = raw.type_info().name().to_ascii_uppercase();
        let v = match type_name.as_str() {
            "INTEGER" | "BOOLEAN" | "INT" | "BIGINT" => {
                Value::Int(row.try_get::<i64, _>(i).map_err(|e| classify(e, false))?)
            }
            "TEXT" | "DATETIME" | "DATE" | "TIME" => Value::Text(
                row.try_get::<String, _>(i)
                    .map_err(|e| classify(e, false))?,
            ),
            "REAL" => {
                let f: f64 = row.try_get(i).map_err(|e| classify(e, false))?;
                Value::Text(f.to_string())
            }
            _ => Value::Bytes(
                row.try_get::<Vec<u8>, _>(i)
                    .map_err(|e| classify(e, false))?,
            ),
        };
        out.push(v);
    }
    Ok(Row(out))
}

static DIALECT: SqliteDialect = SqliteDialect;

#[async_trait]
impl SqlDriver for SqliteDriver {
    fn dialect(&self) -> &dyn Dialect {
        &DIALECT
    }

    async fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let rows = bind(sql, params)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| classify(e, false))?;
        rows.iter().map(decode).collect()
    }

    async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        let r = bind(sql, params)
            .execute(&self.pool)
            .await
            .map_err(|e| classify(e, false))?;
        self.wal.after_write(&self.pool);
        Ok(r.rows_affected())
    }

    async fn begin(&self) -> Result<Box<dyn SqlTx>> {
        // IMMEDIATE takes the write lock up front: two writers never both read then fail to
        // upgrade, so conditions checked inside the transaction hold until commit.
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| classify(e, false))?;
        Ok(Box::new(SqliteTx {
            tx,
            after_commit: Some((self.wal.clone(), self.pool.clone())),
        }))
    }

    async fn begin_read(&self) -> Result<Box<dyn SqlTx>> {
        // Deferred: takes no write lock, and in WAL mode its reads share one snapshot.
        let tx = self.pool.begin().await.map_err(|e| classify(e, false))?;
        Ok(Box::new(SqliteTx {
            tx,
            after_commit: None,
        }))
    }

    async fn close(&self) -> Result<()> {
        self.pool.close().await;
        Ok(())
    }
}

struct SqliteTx {
    tx: sqlx::Transaction<'static, Sqlite>,
    /// Write transactions: the WAL bound to tell about the commit.
    after_commit: Option<(Arc<WalBound>, SqlitePool)>,
}

#[async_trait]
impl SqlTx for SqliteTx {
    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let rows = bind(sql, params)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(|e| classify(e, false))?;
        rows.iter().map(decode).collect()
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let r = bind(sql, params)
            .execute(&mut *self.tx)
            .await
            .map_err(|e| classify(e, false))?;
        Ok(r.rows_affected())
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        self.tx.commit().await.map_err(|e| classify(e, true))?;
        if let Some((wal, pool)) = &self.after_commit {
            wal.after_write(pool);
        }
        Ok(())
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        self.tx.rollback().await.map_err(|e| classify(e, false))
    }
}

/// Turns a closed-pool error into `Unavailable` for callers that check early.
#[allow(dead_code)]
pub(crate) fn closed() -> StoreError {
    StoreError::new(
        durastore_api::ErrorKind::Unavailable,
        "sqlite store is closed",
    )
    .with_retryable(false)
}
