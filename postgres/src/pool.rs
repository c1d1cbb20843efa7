//! The connection pool the store driver runs on.
//!
//! Not sqlx's `PgPool`: that pool tests a connection with a round trip (a `Sync` message) when
//! it hands it out, and again, unconditionally, when it takes it back. A store call is one
//! pool use, so every transaction and every autocommit statement paid two extra round trips
//! next to its own statements: a bench workflow made 33 pool uses, 105 statement round trips
//! and 66 of those tests, which cost the client and the server CPU on every one.
//!
//! This pool tests a connection only when there is a reason to doubt it, and otherwise finds a
//! dead one by using it:
//! - a connection that fails with a connection-level error (I/O, protocol, `57P01`-`57P03`,
//!   class `08`) is discarded, and every connection idle at that moment becomes *suspect*: a
//!   server restart or `pg_terminate_backend` rarely hits one session alone, so suspects are
//!   pinged before their next use;
//! - a connection idle for [`PING_AFTER_IDLE`] or more is pinged before use (server and
//!   network idle timeouts);
//! - a `BEGIN` that fails on a connection-level error is retried on another connection: a
//!   `BEGIN` has no effect to lose (see the driver).
//!
//! A connection given back inside a transaction (its handle dropped without commit or
//! rollback) is rolled back before its next use; one given back in the middle of a statement
//! (a cancelled future) is closed, since its protocol state is unknown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use durastore_api::{ErrorKind, Result, StoreError};
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::PostgresConfig;
use crate::error::{classify, is_connection_error};

/// A connection idle at least this long is pinged before it is used.
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

struct Idle {
    conn: PgConnection,
    created: Instant,
    since: Instant,
    /// [`Inner::failures`] when it was given back: it is suspect once that has moved on.
    failures: u64,
    /// Given back inside a transaction.
    needs_rollback: bool,
}

struct Inner {
    connect: PgConnectOptions,
    /// Bounds and timeouts: `max_connections`, `min_connections`, `connect_timeout`,
    /// `acquire_timeout`, `idle_timeout`, `max_lifetime`.
    opts: PostgresConfig,
    /// One permit per connection in use (or being opened); idle connections hold none, and a
    /// new connection is opened only when none is idle, so open connections never exceed
    /// `max_connections`.
    permits: Arc<Semaphore>,
    /// Most recently given back last (reused first, so the others can age out).
    idle: std::sync::Mutex<Vec<Idle>>,
    /// Connection-level failures seen so far.
    failures: AtomicU64,
    closed: AtomicBool,
}

/// A pool of PostgreSQL connections (cheap to clone).
#[derive(Clone)]
pub(crate) struct ConnPool(Arc<Inner>);

impl std::fmt::Debug for ConnPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnPool")
            .field("options", &self.0.opts)
            .field("idle", &self.idle_count())
            .finish()
    }
}

fn closed_error() -> StoreError {
    StoreError::new(ErrorKind::Unavailable, "postgres store is closed").with_retryable(false)
}

impl ConnPool {
    /// Opens `max(min_connections, 1)` connections (so bad settings fail here) and returns the
    /// pool.
    pub async fn connect(
        connect: PgConnectOptions,
        opts: PostgresConfig,
    ) -> std::result::Result<Self, sqlx::Error> {
        let pool = ConnPool(Arc::new(Inner {
            permits: Arc::new(Semaphore::new(opts.max_connections as usize)),
            connect,
            opts,
            idle: std::sync::Mutex::new(Vec::new()),
            failures: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        }));
        let n = pool
            .0
            .opts
            .min_connections
            .clamp(1, pool.0.opts.max_connections);
        for _ in 0..n {
            let conn = PgConnection::connect_with(&pool.0.connect).await?;
            let now = Instant::now();
            pool.lock_idle().push(Idle {
                conn,
                created: now,
                since: now,
                failures: pool.0.failures.load(Ordering::Relaxed),
                needs_rollback: false,
            });
        }
        Ok(pool)
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        self.0.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn idle_count(&self) -> usize {
        self.lock_idle().len()
    }

    /// The most connections the pool opens.
    pub fn max_connections(&self) -> u32 {
        self.0.opts.max_connections
    }

    /// A connection: an idle one (tested first when suspect or long idle) or a new one.
    pub async fn acquire(&self) -> Result<Conn> {
        if self.0.closed.load(Ordering::Acquire) {
            return Err(closed_error());
        }
        let permit = match tokio::time::timeout(
            self.0.opts.acquire_timeout,
            self.0.permits.clone().acquire_owned(),
        )
        .await
        {
            Ok(Ok(p)) => p,
            Ok(Err(_)) => return Err(closed_error()),
            Err(_) => {
                return Err(StoreError::new(
                    ErrorKind::ResourceExhausted,
                    "postgres: no pooled connection became available in time",
                )
                .with_retryable(true));
            }
        };
        loop {
            let next = self.lock_idle().pop();
            let Some(mut idle) = next else { break };
            if self.expired(idle.created, idle.since) {
                let _ = idle.conn.close().await;
                continue;
            }
            if idle.needs_rollback
                && let Err(e) = sqlx::raw_sql("ROLLBACK").execute(&mut idle.conn).await
            {
                self.failed(&e);
                continue;
            }
            let suspect = idle.failures != self.0.failures.load(Ordering::Relaxed)
                || idle.since.elapsed() >= PING_AFTER_IDLE;
            if suspect && let Err(e) = idle.conn.ping().await {
                self.failed(&e);
                continue;
            }
            return Ok(Conn {
                conn: Some(idle.conn),
                created: idle.created,
                pool: self.clone(),
                _permit: permit,
                busy: false,
                broken: false,
                in_tx: false,
            });
        }
        let conn = match tokio::time::timeout(
            self.0.opts.connect_timeout,
            PgConnection::connect_with(&self.0.connect),
        )
        .await
        {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Err(classify(e, false)),
            Err(_) => {
                return Err(StoreError::new(
                    ErrorKind::Unavailable,
                    format!(
                        "postgres: no new connection within {:?}",
                        self.0.opts.connect_timeout
                    ),
                )
                .with_retryable(true));
            }
        };
        Ok(Conn {
            conn: Some(conn),
            created: Instant::now(),
            pool: self.clone(),
            _permit: permit,
            busy: false,
            broken: false,
            in_tx: false,
        })
    }

    fn expired(&self, created: Instant, idle_since: Instant) -> bool {
        self.0
            .opts
            .max_lifetime
            .is_some_and(|l| created.elapsed() >= l)
            || self
                .0
                .opts
                .idle_timeout
                .is_some_and(|t| idle_since.elapsed() >= t)
    }

    /// Records a failure of some connection: if it is connection-level, every connection idle
    /// now becomes suspect.
    fn failed(&self, e: &sqlx::Error) {
        if is_connection_error(e) {
            self.0.failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn give_back(&self, conn: PgConnection, created: Instant, in_tx: bool) {
        if self.0.closed.load(Ordering::Acquire) {
            return;
        }
        let now = Instant::now();
        let mut idle = self.lock_idle();
        // The least recently used connections sit at the front: close those past their idle
        // time or lifetime, keeping `min_connections`.
        while idle.len() >= self.0.opts.min_connections.max(1) as usize
            && idle
                .first()
                .is_some_and(|c| self.expired(c.created, c.since))
        {
            idle.remove(0);
        }
        idle.push(Idle {
            conn,
            created,
            since: now,
            failures: self.0.failures.load(Ordering::Relaxed),
            needs_rollback: in_tx,
        });
    }

    /// Closes the pool: idle connections are closed now, connections in use when given back.
    pub async fn close(&self) {
        self.0.closed.store(true, Ordering::Release);
        self.0.permits.close();
        let idle = std::mem::take(&mut *self.lock_idle());
        for c in idle {
            let _ = c.conn.close().await;
        }
    }
}

/// A connection taken from the pool; given back when dropped.
pub(crate) struct Conn {
    conn: Option<PgConnection>,
    created: Instant,
    pool: ConnPool,
    _permit: OwnedSemaphorePermit,
    /// A statement is in flight: if the handle is dropped now, the protocol state is unknown.
    busy: bool,
    /// A connection-level error happened: close it.
    broken: bool,
    /// Inside `BEGIN` … `COMMIT`/`ROLLBACK`.
    pub in_tx: bool,
}

/// A statement with its parameters bound (see the driver's `bind`).
pub(crate) type Query<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

impl Conn {
    fn conn(&mut self) -> std::result::Result<&mut PgConnection, sqlx::Error> {
        // Present until drop.
        self.conn.as_mut().ok_or(sqlx::Error::PoolClosed)
    }

    /// Marks the start of a statement: a handle dropped before [`Conn::end`] is closed.
    fn start(&mut self) {
        self.busy = true;
    }

    fn end<T>(
        &mut self,
        r: std::result::Result<T, sqlx::Error>,
    ) -> std::result::Result<T, sqlx::Error> {
        self.busy = false;
        if let Err(e) = &r
            && is_connection_error(e)
        {
            self.broken = true;
            self.pool.failed(e);
        }
        r
    }

    /// Runs a query and returns its rows.
    pub async fn fetch_all(
        &mut self,
        q: Query<'_>,
    ) -> std::result::Result<Vec<sqlx::postgres::PgRow>, sqlx::Error> {
        self.start();
        let r = match self.conn() {
            Ok(c) => q.fetch_all(c).await,
            Err(e) => Err(e),
        };
        self.end(r)
    }

    /// Runs a statement and returns the rows it affected.
    pub async fn execute(&mut self, q: Query<'_>) -> std::result::Result<u64, sqlx::Error> {
        self.start();
        let r = match self.conn() {
            Ok(c) => q.execute(c).await.map(|d| d.rows_affected()),
            Err(e) => Err(e),
        };
        self.end(r)
    }

    /// Runs a fixed statement through the simple protocol (`BEGIN`, `COMMIT`, `ROLLBACK`).
    pub async fn simple(&mut self, sql: &'static str) -> std::result::Result<(), sqlx::Error> {
        self.start();
        let r = match self.conn() {
            Ok(c) => sqlx::raw_sql(sql).execute(c).await.map(|_| ()),
            Err(e) => Err(e),
        };
        self.end(r)
    }

    /// Whether a connection-level error ended this connection.
    pub fn broken(&self) -> bool {
        self.broken
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take()
            && !(self.busy || self.broken)
        {
            self.pool.give_back(conn, self.created, self.in_tx);
        }
    }
}
