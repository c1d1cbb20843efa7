//! # durastore-mysql: every durastore store on MySQL 8 and MariaDB 10.11
//!
//! The stores are the shared SQL logic of `durastore-sql` over a sqlx pool ([`MysqlDriver`]) and
//! the MySQL dialect ([`MysqlDialect`]). Every connection runs in `READ COMMITTED` (as Temporal's
//! MySQL plugin does), with `utf8mb4` / `utf8mb4_bin` and time zone `+00:00`. Execution and
//! history-task writes take a shared lock on the shard row (`LOCK IN SHARE MODE`), shard renewal
//! an exclusive one (`FOR UPDATE`), so a renewal waits for in-flight writes and fences later ones.
//!
//! The schema is not created by [`open`]: a server database belongs to an operator, who runs
//! `durastore schema setup --url mysql://…` (see [`schema`]), and `durastore schema setup --set
//! visibility --url …` for the visibility store (same or another database); [`open`] serves the
//! stores of the sets it finds and refuses a database with neither, or with a set that is older,
//! half-applied or newer than this binary.
//!
//! ## URLs
//!
//! `mysql://user:password@host:port/database?option=value&…` (`mariadb://` is accepted too);
//! every option is [below](#url-options) (the crate's `docs.md`).
//!
//! The password is never printed: [`MysqlConfig`]'s `Debug` and [`redact_url`] mask it.
//!
#![doc = include_str!("../docs.md")]

mod admin;
mod config;
mod driver;
mod error;
#[cfg(feature = "floor")]
pub mod floor;
pub mod schema;

use std::sync::Arc;

use async_trait::async_trait;
use durastore_api::schema::{SET_MAIN, SET_VISIBILITY, Version};
use durastore_api::{Backend, Capability, ErrorKind, Result, StoreError, Stores};
use durastore_sql::SchemaSets;
use sqlx::mysql::MySqlPoolOptions;
use sqlx::{ConnectOptions, Connection, Executor};

pub(crate) use admin::admin_connection;
pub use admin::{
    create_database, database_exists, drop_database, url_with_database, validate_database_name,
};
pub use config::{ENV_PASSWORD, ENV_USER, MysqlConfig, SslMode, redact_url};
pub use driver::{MysqlDialect, MysqlDriver};

/// Statement run on every new connection: the isolation level Temporal's MySQL plugin uses.
/// (`SET SESSION TRANSACTION …` works on MySQL 8 and on MariaDB, which lacks
/// `transaction_isolation`.)
const SESSION_SETUP: &str = "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED";

/// An error for a failed connection attempt, naming the server but not the password.
pub(crate) fn connect_error(cfg: &MysqlConfig, e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Io(io) = &e {
        // "Connection refused", "No route to host": the OS says it all, at once.
        return StoreError::new(
            ErrorKind::Unavailable,
            format!("cannot connect to MySQL at {}: {io}", cfg.display_target()),
        );
    }
    let number = error::error_number(&e);
    let hint = match number {
        Some(error::codes::BAD_DB) => format!(
            "database {:?} does not exist on {}:{} (`durastore schema setup --url …` creates it)",
            cfg.database.as_deref().unwrap_or(""),
            cfg.host,
            cfg.port
        ),
        Some(error::codes::ACCESS_DENIED | error::codes::DBACCESS_DENIED) => format!(
            "access denied for user {:?} at {} (check the URL or {ENV_USER}/{ENV_PASSWORD})",
            cfg.user,
            cfg.display_target()
        ),
        _ => format!("cannot connect to MySQL at {}", cfg.display_target()),
    };
    error::classify(e, false).with_message_prefix(&hint)
}

/// The error for a server that did not answer within `connect_timeout`.
pub(crate) fn no_answer_error(cfg: &MysqlConfig) -> StoreError {
    StoreError::new(
        ErrorKind::Unavailable,
        format!(
            "cannot connect to MySQL at {}: no answer within {:?}",
            cfg.display_target(),
            cfg.connect_timeout
        ),
    )
}

/// Opens a pool without touching the schema (used by [`open`] and the schema tool).
///
/// Every connection gets `READ COMMITTED`, `utf8mb4`/`utf8mb4_bin` and time zone `+00:00`; idle
/// connections are pinged before use, so a connection the server dropped is replaced instead of
/// failing the next call.
pub async fn connect(cfg: &MysqlConfig) -> Result<MysqlDriver> {
    durastore_sql::tls::install_crypto_provider();
    cfg.check_tls_files()?;
    let opts = cfg.connect_options();
    let pool = MySqlPoolOptions::new()
        .acquire_slow_level(log::LevelFilter::Debug)
        .max_connections(cfg.max_connections)
        .min_connections(cfg.min_connections)
        .acquire_timeout(cfg.acquire_timeout)
        .idle_timeout(cfg.idle_timeout)
        .max_lifetime(cfg.max_lifetime)
        .test_before_acquire(true)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute(SESSION_SETUP).await?;
                Ok(())
            })
        });
    // sqlx's pool retries a refused connection until the timeout runs out; one direct
    // connection first reports a refused, unreachable or misconfigured server at once, and the
    // pool then opens its own connections on use.
    let probe = async {
        let conn = opts.connect().await?;
        let _ = conn.close().await;
        Ok::<_, sqlx::Error>(pool.connect_lazy_with(opts))
    };
    let pool = tokio::time::timeout(cfg.connect_timeout, probe)
        .await
        .map_err(|_| no_answer_error(cfg))?
        .map_err(|e| connect_error(cfg, e))?;
    Ok(MysqlDriver::new(pool))
}

/// The MySQL backend handle.
#[derive(Debug)]
pub struct MysqlBackend {
    driver: Arc<MysqlDriver>,
    sets: SchemaSets,
}

#[async_trait]
impl Backend for MysqlBackend {
    fn name(&self) -> &str {
        "mysql"
    }

    fn capability(&self) -> Capability {
        self.sets.capability(true, true)
    }

    async fn close(&self) -> Result<()> {
        durastore_sql::SqlDriver::close(&*self.driver).await
    }
}

/// Which schema sets are set up and current; an error for a set that is there but unusable, or
/// when neither is there.
async fn check_schema(driver: &MysqlDriver, url: &str) -> Result<SchemaSets> {
    let shown = redact_url(url);
    let main = check_set(driver, &shown, SET_MAIN).await?;
    let visibility = check_set(driver, &shown, SET_VISIBILITY).await?;
    if !main && !visibility {
        return Err(StoreError::new(
            ErrorKind::NotFound,
            format!(
                "the main schema is not set up in this MySQL database; run \
                 `durastore schema setup --url {shown}` (and `durastore schema setup --set \
                 visibility --url {shown}` for the visibility store)"
            ),
        ));
    }
    if !visibility {
        tracing::info!(
            "mysql: no visibility schema in this database; its visibility store is off \
             (`durastore schema setup --set visibility`)"
        );
    }
    Ok(SchemaSets { main, visibility })
}

/// Whether schema set `name` is set up and current (false: not set up at all); an error when
/// it is older than this binary, half-applied or newer.
async fn check_set(driver: &MysqlDriver, shown: &str, name: &str) -> Result<bool> {
    let set = schema::schema_set(name)?;
    let sd = schema::MysqlSchemaDriver::new(driver.pool().clone(), name);
    let st = durastore_api::schema::status(&set, &sd).await?;
    let flag = if name == SET_MAIN {
        String::new()
    } else {
        format!(" --set {name}")
    };
    if st.newer_than_binary {
        let current = st.current.unwrap_or_else(Version::zero);
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
    match &st.current {
        None => Ok(false),
        Some(c) if !st.pending.is_empty() => Err(StoreError::condition_failed(format!(
            "the {name} schema is at {c}, this binary needs {}; run \
             `durastore schema update{flag} --url {shown}`",
            st.latest
        ))),
        Some(_) => Ok(true),
    }
}

/// Opens the stores of the MySQL/MariaDB database at `url`: those of the schema sets set up in
/// it (`main`: every store but visibility; `visibility`), which must be current; a database with
/// neither, or with a newer set, is refused.
pub async fn open(url: &str) -> Result<Stores> {
    open_over(url, |d| d).await
}

/// Like [`open`], with the store logic running over `wrap(driver)` instead of the driver itself:
/// the seam a driver decorator goes in (the `floor` feature's recording driver is one).
pub(crate) async fn open_over(
    url: &str,
    wrap: impl FnOnce(Arc<dyn durastore_sql::SqlDriver>) -> Arc<dyn durastore_sql::SqlDriver>,
) -> Result<Stores> {
    let cfg = MysqlConfig::from_url(url)?;
    if cfg.database.is_none() {
        return Err(StoreError::invalid_argument(format!(
            "the MySQL URL names no database: {}",
            redact_url(url)
        )));
    }
    let driver = Arc::new(connect(&cfg).await?);
    let sets = match check_schema(&driver, url).await {
        Ok(s) => s,
        Err(e) => {
            durastore_sql::SqlDriver::close(&*driver).await?;
            return Err(e);
        }
    };
    let backend = Arc::new(MysqlBackend {
        driver: driver.clone(),
        sets,
    });
    Ok(durastore_sql::stores_for(backend, wrap(driver), sets))
}
