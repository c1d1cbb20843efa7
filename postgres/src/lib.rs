//! # durastore-postgres: every durastore store on PostgreSQL
//!
//! The shared SQL store logic of `durastore-sql` over a sqlx connection pool. Transactions run
//! at READ COMMITTED with Temporal's locking: every execution and history-task write first reads
//! its shard row `FOR SHARE` (the range-id fence), and shard renewal takes it `FOR UPDATE`, so a
//! renewal waits for in-flight writes and fences every later one. Rows a write compares
//! (current run, execution CAS fields, task-queue range ids) are read `FOR UPDATE`.
//!
//! URLs: `postgres://user:password@host:5432/database?sslmode=…`; every option and the
//! credential environment variables are [below](#url-options) (the crate's `docs.md`).
//!
//! The schema is not created on open: run `durastore schema setup --url postgres://…` once
//! (it creates the database too), and `durastore schema setup --set visibility --url …` for the
//! visibility store (same or another database); [`open`] serves the stores of the sets it finds
//! and refuses a database with neither, or with a set older or newer than this binary's. Database names should be created with [`create_database`],
//! which uses `C` collation so text sorts by code point on every platform.
//!
#![doc = include_str!("../docs.md")]

mod config;
mod driver;
mod error;
#[cfg(feature = "floor")]
pub mod floor;
mod pool;
pub mod schema;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use durastore_api::schema::{SET_MAIN, SET_VISIBILITY};
use durastore_api::{Backend, Capability, ErrorKind, Result, StoreError, Stores};
use durastore_sql::SchemaSets;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};

pub use config::{DEFAULT_PORT, PostgresConfig, SslMode};
pub use driver::{PostgresDialect, PostgresDriver};

/// Maintenance databases [`ensure_database`] tries, in order, to create the URL's database from.
pub const MAINTENANCE_DATABASES: &[&str] = &["postgres", "template1"];

/// The TLS files of a config exist (checked before every connect).
fn check_tls_files(cfg: &PostgresConfig) -> Result<()> {
    durastore_sql::tls::check_files(
        "postgres",
        &[
            ("sslrootcert", cfg.ssl_root_cert.as_deref()),
            ("sslcert", cfg.ssl_cert.as_deref()),
            ("sslkey", cfg.ssl_key.as_deref()),
        ],
    )
}

/// sqlx connect options for a parsed config (no connection is made).
fn connect_options(cfg: &PostgresConfig) -> PgConnectOptions {
    let mut o = PgConnectOptions::new_without_pgpass()
        .port(cfg.port)
        .username(&cfg.user)
        .database(&cfg.database)
        .application_name(&cfg.application_name)
        .ssl_mode(match cfg.ssl_mode {
            SslMode::Disable => PgSslMode::Disable,
            SslMode::Prefer => PgSslMode::Prefer,
            SslMode::Require => PgSslMode::Require,
            SslMode::VerifyCa => PgSslMode::VerifyCa,
            SslMode::VerifyFull => PgSslMode::VerifyFull,
        });
    o = match &cfg.socket_dir {
        Some(dir) => o.socket(dir),
        None => o.host(&cfg.host),
    };
    if let Some(p) = &cfg.password {
        o = o.password(p);
    }
    if let Some(p) = &cfg.ssl_root_cert {
        o = o.ssl_root_cert(p);
    }
    if let Some(p) = &cfg.ssl_cert {
        o = o.ssl_client_cert(p);
    }
    if let Some(p) = &cfg.ssl_key {
        o = o.ssl_client_key(p);
    }
    if let Some(t) = cfg.statement_timeout {
        o = o.options([("statement_timeout", format!("{}ms", t.as_millis()))]);
    }
    // Library logs stay quiet at the default level: sqlx would warn about every statement over
    // a second; durastore's own `--slow-ms` layer reports slow calls when asked.
    sqlx::ConnectOptions::log_slow_statements(o, SLOW_STATEMENT_LEVEL, Duration::from_secs(1))
}

/// The level of sqlx's slow-statement and slow-acquire notes.
const SLOW_STATEMENT_LEVEL: log::LevelFilter = log::LevelFilter::Debug;

/// Where a config points, for messages (never includes the password).
fn describe_target(cfg: &PostgresConfig) -> String {
    match &cfg.socket_dir {
        Some(dir) => format!("{}@{}/{}", cfg.user, dir.display(), cfg.database),
        None => format!("{}@{}:{}/{}", cfg.user, cfg.host, cfg.port, cfg.database),
    }
}

/// Opens a connection pool without touching the schema (the schema tool uses this too).
///
/// A pooled connection is tested with a round trip before use only when it has been idle for
/// a second or more, or when another connection has failed since it was last used; a dead one
/// is replaced, and a transaction whose `BEGIN` meets one starts again on another connection.
/// Details: `pool.rs`.
pub async fn connect(cfg: &PostgresConfig) -> Result<PostgresDriver> {
    durastore_sql::tls::install_crypto_provider();
    check_tls_files(cfg)?;
    let target = describe_target(cfg);
    let conns = match tokio::time::timeout(
        cfg.connect_timeout,
        pool::ConnPool::connect(connect_options(cfg), cfg.clone()),
    )
    .await
    {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => return Err(connect_error(e, &target)),
        Err(_) => return Err(connect_timeout_error(cfg, &target)),
    };
    // The schema tool's pool opens its connections only when it is used.
    let schema_pool = PgPoolOptions::new()
        .acquire_slow_level(SLOW_STATEMENT_LEVEL)
        .max_connections(2)
        .acquire_timeout(cfg.acquire_timeout)
        .idle_timeout(cfg.idle_timeout)
        .max_lifetime(cfg.max_lifetime)
        .test_before_acquire(true)
        .connect_lazy_with(connect_options(cfg));
    Ok(PostgresDriver::new(schema_pool, conns))
}

fn connect_error(e: sqlx::Error, target: &str) -> StoreError {
    let missing_db = e
        .as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == "3D000");
    let hint = if missing_db {
        " (create it with `durastore schema setup --url …`)"
    } else {
        ""
    };
    let context = format!("cannot connect to postgres at {target}{hint}");
    error::classify_in(e, false, Some(&context))
}

fn connect_timeout_error(cfg: &PostgresConfig, target: &str) -> StoreError {
    StoreError::new(
        ErrorKind::Unavailable,
        format!(
            "cannot connect to postgres at {target}: no answer within {:?}",
            cfg.connect_timeout
        ),
    )
}

async fn connect_pool(cfg: &PostgresConfig, max_connections: u32) -> Result<sqlx::PgPool> {
    durastore_sql::tls::install_crypto_provider();
    check_tls_files(cfg)?;
    let pool = PgPoolOptions::new()
        .acquire_slow_level(SLOW_STATEMENT_LEVEL)
        .max_connections(max_connections)
        .min_connections(cfg.min_connections.min(max_connections))
        .acquire_timeout(cfg.acquire_timeout)
        .idle_timeout(cfg.idle_timeout)
        .max_lifetime(cfg.max_lifetime)
        .test_before_acquire(true);
    let target = describe_target(cfg);
    let opts = connect_options(cfg);
    // sqlx's pool retries a refused connection until the timeout runs out; one direct
    // connection first reports a refused, unreachable or misconfigured server at once (as
    // `open` does), and the pool then opens its own connections on use.
    let probe = async {
        let conn = <sqlx::PgConnection as sqlx::Connection>::connect_with(&opts).await?;
        let _ = sqlx::Connection::close(conn).await;
        Ok::<_, sqlx::Error>(pool.connect_lazy_with(opts.clone()))
    };
    match tokio::time::timeout(cfg.connect_timeout, probe).await {
        Ok(Ok(pool)) => Ok(pool),
        Ok(Err(e)) => Err(connect_error(e, &target)),
        Err(_) => Err(connect_timeout_error(cfg, &target)),
    }
}

/// The PostgreSQL backend handle.
#[derive(Debug)]
pub struct PostgresBackend {
    driver: Arc<PostgresDriver>,
    sets: SchemaSets,
}

#[async_trait]
impl Backend for PostgresBackend {
    fn name(&self) -> &str {
        "postgres"
    }

    fn capability(&self) -> Capability {
        self.sets.capability(true, true)
    }

    async fn close(&self) -> Result<()> {
        durastore_sql::SqlDriver::close(&*self.driver).await
    }
}

/// Opens the stores of a PostgreSQL database.
///
/// The stores are those of the schema sets set up in it: `main` (every store but visibility)
/// and `visibility` (`durastore schema setup [--set visibility]`); a database may hold one or
/// both (Temporal keeps visibility in a database of its own). A database with neither is refused
/// with the command to run, and so is a set that is older than this binary, half-applied, or
/// newer (written by a newer binary).
pub async fn open(url: &str) -> Result<Stores> {
    open_over(url, |d| d).await
}

/// Like [`open`], with the store logic running over `wrap(driver)` instead of the driver itself:
/// the seam a driver decorator goes in (the `floor` feature's recording driver is one).
pub(crate) async fn open_over(
    url: &str,
    wrap: impl FnOnce(Arc<dyn durastore_sql::SqlDriver>) -> Arc<dyn durastore_sql::SqlDriver>,
) -> Result<Stores> {
    let cfg = PostgresConfig::from_url(url)?;
    let driver = Arc::new(connect(&cfg).await?);
    let sets = match check_schema(&driver, url).await {
        Ok(s) => s,
        Err(e) => {
            durastore_sql::SqlDriver::close(&*driver).await?;
            return Err(e);
        }
    };
    let backend = Arc::new(PostgresBackend {
        driver: driver.clone(),
        sets,
    });
    Ok(durastore_sql::stores_for(backend, wrap(driver), sets))
}

/// Which schema sets are set up and current; an error for a set that is there but unusable, or
/// when neither is there.
async fn check_schema(driver: &PostgresDriver, url: &str) -> Result<SchemaSets> {
    let shown = redact_url(url);
    let main = check_set(driver, &shown, SET_MAIN).await?;
    let visibility = check_set(driver, &shown, SET_VISIBILITY).await?;
    if !main && !visibility {
        return Err(StoreError::new(
            ErrorKind::NotFound,
            format!(
                "the durastore main schema is not set up in this database; run \
                 `durastore schema setup --url {shown}` (and `durastore schema setup --set \
                 visibility --url {shown}` for the visibility store)"
            ),
        )
        .with_retryable(false));
    }
    if !visibility {
        tracing::info!(
            "postgres: no visibility schema in this database; its visibility store is off \
             (`durastore schema setup --set visibility`)"
        );
    }
    warn_unless_c_collation(driver).await;
    Ok(SchemaSets { main, visibility })
}

/// Whether schema set `name` is set up and current (false: not set up at all); an error when
/// it is older than this binary, half-applied or newer.
async fn check_set(driver: &PostgresDriver, shown: &str, name: &str) -> Result<bool> {
    let set = schema::schema_set(name)?;
    let sd = schema::PostgresSchemaDriver::over_pool(driver.pool().clone(), name);
    let st = durastore_api::schema::status(&set, &sd).await?;
    let flag = if name == SET_MAIN {
        String::new()
    } else {
        format!(" --set {name}")
    };
    if st.newer_than_binary {
        let current = st
            .current
            .unwrap_or_else(durastore_api::schema::Version::zero);
        return Err(durastore_api::schema::newer_than_binary(
            &set.name, &current, &st.latest,
        ));
    }
    if let Some(d) = st.dirty {
        return Err(StoreError::condition_failed(format!(
            "version {d} of the {name} schema was left half-applied by an interrupted schema \
             tool; run `durastore schema update{flag} --url {shown}` to finish it"
        )));
    }
    match st.current {
        None => Ok(false),
        Some(c) if c < st.latest => Err(StoreError::condition_failed(format!(
            "the {name} schema is at {c}, this binary needs {}; run \
             `durastore schema update{flag} --url {shown}`",
            st.latest
        ))),
        Some(_) => Ok(true),
    }
}

/// Text keys (workflow ids, queue and cluster names) are listed in the database's collation
/// order; only `C` gives the code-point order every other backend uses.
async fn warn_unless_c_collation(driver: &PostgresDriver) {
    use durastore_sql::SqlDriver as _;
    let rows = driver
        .query(
            "SELECT datcollate FROM pg_database WHERE datname = current_database()",
            &[],
        )
        .await;
    if let Ok(rows) = rows
        && let Some(Ok(collate)) = rows.first().map(|r| r.string(0))
        && collate != "C"
        && collate != "POSIX"
    {
        tracing::warn!(
            collation = %collate,
            "postgres: the database's collation is not C, so listings order text keys by that \
             collation rather than by code point (create databases with `durastore schema setup`)"
        );
    }
}

/// The URL with its password replaced by `***` (for messages and logs).
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                // Setting a password only fails for URLs that cannot have one.
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "<postgres URL>".to_string(),
    }
}

/// Checks that `name` is a plain identifier (`[A-Za-z0-9_]{1,63}`), so it can be quoted into
/// `CREATE DATABASE` / `DROP DATABASE`, which take no bind parameters.
pub fn validate_database_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid_argument(format!(
            "{name:?} is not a usable database name (1 to 63 letters, digits or underscores)"
        )))
    }
}

/// `url` with its database replaced by `name` (credentials and options kept).
pub fn url_with_database(url: &str, name: &str) -> Result<String> {
    validate_database_name(name)?;
    let mut u = config::parse_url(url)?;
    u.set_path(&format!("/{name}"));
    Ok(u.to_string())
}

/// A one-connection pool on the database `url` names, for administrative statements.
async fn admin_pool(url: &str) -> Result<sqlx::PgPool> {
    let cfg = PostgresConfig::from_url(url)?;
    connect_pool(&cfg, 1).await
}

async fn create_on(pool: &sqlx::PgPool, name: &str) -> Result<bool> {
    let sql = format!(
        "CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
    );
    match sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(pool).await {
        Ok(_) => Ok(true),
        Err(e) => {
            let code = e
                .as_database_error()
                .and_then(|d| d.code())
                .map(|c| c.into_owned());
            // duplicate_database; a unique violation when two creators race on pg_database.
            if matches!(code.as_deref(), Some("42P04" | "23505")) {
                Ok(false)
            } else {
                Err(error::classify(e, false).with_context("database", name.to_string()))
            }
        }
    }
}

/// Creates database `name` on the server of `url`, connecting to the database `url` names as
/// the maintenance database. Created from `template0` with UTF-8 encoding and `C` collation, so
/// text orders by code point. Returns false if it already existed.
pub async fn create_database(url: &str, name: &str) -> Result<bool> {
    validate_database_name(name)?;
    let pool = admin_pool(url).await?;
    let r = create_on(&pool, name).await;
    pool.close().await;
    r
}

/// Creates the database `url` names if it does not exist, connecting through a maintenance
/// database ([`MAINTENANCE_DATABASES`]). Returns true if it was created.
pub async fn ensure_database(url: &str) -> Result<bool> {
    let cfg = PostgresConfig::from_url(url)?;
    validate_database_name(&cfg.database)?;
    // Already there (and reachable with these credentials): nothing to do.
    match connect_pool(&cfg, 1).await {
        Ok(pool) => {
            pool.close().await;
            return Ok(false);
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut last = None;
    for maint in MAINTENANCE_DATABASES {
        let maint_url = url_with_database(url, maint)?;
        match admin_pool(&maint_url).await {
            Ok(pool) => {
                let r = create_on(&pool, &cfg.database).await;
                pool.close().await;
                return r;
            }
            Err(e) if e.kind() == ErrorKind::NotFound => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| StoreError::not_found("no maintenance database to connect to")))
}

/// Drops database `name` on the server of `url` (connecting to the database `url` names),
/// ending its sessions first (`WITH (FORCE)`). A missing database is not an error.
pub async fn drop_database(url: &str, name: &str) -> Result<()> {
    validate_database_name(name)?;
    let cfg = PostgresConfig::from_url(url)?;
    if cfg.database == name {
        return Err(StoreError::invalid_argument(format!(
            "cannot drop database {name:?} through a connection to itself; give a URL naming \
             another database of the server"
        )));
    }
    let pool = connect_pool(&cfg, 1).await?;
    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    let mut attempt = 0;
    let r = loop {
        let r = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
            .execute(&pool)
            .await;
        match r {
            Ok(_) => break Ok(()),
            // An autovacuum worker in a fresh database belongs to no role, so FORCE may not
            // terminate it (42501) and the drop sees the database in use (55006). It leaves
            // within moments: retry briefly.
            Err(sqlx::Error::Database(db))
                if matches!(db.code().as_deref(), Some("42501" | "55006")) && attempt < 40 =>
            {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
            Err(e) => {
                break Err(error::classify(e, false).with_context("database", name.to_string()));
            }
        }
    };
    pool.close().await;
    r
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn database_names_and_urls() {
        assert!(validate_database_name("durastore_test_01").is_ok());
        for bad in ["", "a-b", "a\"b", "x;drop", &"a".repeat(64), "é"] {
            assert!(validate_database_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            url_with_database("postgres://u:p@h:5/old?sslmode=disable", "new").unwrap(),
            "postgres://u:p@h:5/new?sslmode=disable"
        );
        assert_eq!(
            url_with_database("postgres://u@h", "new").unwrap(),
            "postgres://u@h/new"
        );
        assert!(url_with_database("postgres://u@h/x", "bad name").is_err());
        assert!(url_with_database("mysql://u@h/x", "ok").is_err());
        assert_eq!(
            redact_url("postgres://u:secret@h/d"),
            "postgres://u:***@h/d"
        );
        assert_eq!(redact_url("postgres://u@h/d"), "postgres://u@h/d");
    }
}
