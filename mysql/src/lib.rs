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
//! `mysql://user:password@host:port/database?option=value&…` (`mariadb://` is accepted too).
//! User and password default to `DURASTORE_MYSQL_USER` / `DURASTORE_MYSQL_PASSWORD` when the URL
//! has none. Options:
//!
//! | option | values | default |
//! |---|---|---|
//! | `ssl-mode` (`sslmode`) | `disabled`, `preferred`, `required`, `verify_ca` (`verify-ca`), `verify_identity` (`verify-full`) | `preferred` |
//! | `ssl-ca`, `ssl-cert`, `ssl-key` | PEM file paths | none |
//! | `max_connections`, `min_connections` | pool bounds | 10, 0 |
//! | `connect_timeout`, `acquire_timeout` | seconds, or `500ms` / `5s` | 10 s, 30 s |
//! | `idle_timeout`, `max_lifetime` | duration, or `0` for none | 10 min, 30 min |
//!
//! The password is never printed: [`MysqlConfig`]'s `Debug` and [`redact_url`] mask it.

mod driver;
mod error;
pub mod schema;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use durastore_api::schema::{SET_MAIN, SET_VISIBILITY, Version};
use durastore_api::{Backend, Capability, ErrorKind, Result, StoreError, Stores};
use durastore_sql::SchemaSets;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlPoolOptions, MySqlSslMode};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor};

pub use driver::{MysqlDialect, MysqlDriver};

/// Environment variable holding the user when the URL has none.
pub const ENV_USER: &str = "DURASTORE_MYSQL_USER";
/// Environment variable holding the password when the URL has none.
pub const ENV_PASSWORD: &str = "DURASTORE_MYSQL_PASSWORD";

/// Statement run on every new connection: the isolation level Temporal's MySQL plugin uses.
/// (`SET SESSION TRANSACTION …` works on MySQL 8 and on MariaDB, which lacks
/// `transaction_isolation`.)
const SESSION_SETUP: &str = "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED";

/// TLS mode of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Plain TCP.
    Disabled,
    /// TLS when the server offers it, else plain.
    #[default]
    Preferred,
    /// TLS, without certificate verification.
    Required,
    /// TLS, server certificate verified against `ssl-ca`.
    VerifyCa,
    /// TLS, certificate verified and its host name checked (`verify-full`).
    VerifyIdentity,
}

impl SslMode {
    /// Parses the MySQL spellings and the PostgreSQL-style ones (`verify-ca`, `verify-full`).
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().replace('-', "_").as_str() {
            "disabled" | "disable" => Ok(SslMode::Disabled),
            "preferred" | "prefer" => Ok(SslMode::Preferred),
            "required" | "require" => Ok(SslMode::Required),
            "verify_ca" => Ok(SslMode::VerifyCa),
            "verify_identity" | "verify_full" => Ok(SslMode::VerifyIdentity),
            _ => Err(StoreError::invalid_argument(format!(
                "unknown ssl-mode {s:?} (disabled, preferred, required, verify_ca, \
                 verify_identity / verify-full)"
            ))),
        }
    }

    fn to_sqlx(self) -> MySqlSslMode {
        match self {
            SslMode::Disabled => MySqlSslMode::Disabled,
            SslMode::Preferred => MySqlSslMode::Preferred,
            SslMode::Required => MySqlSslMode::Required,
            SslMode::VerifyCa => MySqlSslMode::VerifyCa,
            SslMode::VerifyIdentity => MySqlSslMode::VerifyIdentity,
        }
    }
}

/// Parsed connection settings. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct MysqlConfig {
    /// Server host name or address.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// User name.
    pub user: String,
    password: Option<String>,
    /// Database (schema) name; `None` addresses the server only (create/drop database).
    pub database: Option<String>,
    /// TLS mode.
    pub ssl_mode: SslMode,
    /// CA certificate file (PEM) for `verify_ca` / `verify_identity`.
    pub ssl_ca: Option<PathBuf>,
    /// Client certificate file (PEM).
    pub ssl_cert: Option<PathBuf>,
    /// Client key file (PEM).
    pub ssl_key: Option<PathBuf>,
    /// Pool size.
    pub max_connections: u32,
    /// Connections kept open while idle.
    pub min_connections: u32,
    /// How long opening the first connection may take.
    pub connect_timeout: Duration,
    /// How long a call waits for a pooled connection (including opening a new one).
    pub acquire_timeout: Duration,
    /// Idle connections are closed after this long (`None`: never).
    pub idle_timeout: Option<Duration>,
    /// Connections are replaced after this long (`None`: never).
    pub max_lifetime: Option<Duration>,
}

impl std::fmt::Debug for MysqlConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MysqlConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("database", &self.database)
            .field("ssl_mode", &self.ssl_mode)
            .field("ssl_ca", &self.ssl_ca)
            .field("ssl_cert", &self.ssl_cert)
            .field("ssl_key", &self.ssl_key)
            .field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("connect_timeout", &self.connect_timeout)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_lifetime", &self.max_lifetime)
            .finish()
    }
}

fn percent_decode(s: &str) -> Result<String> {
    let bad = || StoreError::invalid_argument("bad percent-encoding in the MySQL URL");
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or_else(bad)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

/// Parses `30`, `30s`, `500ms`, `2m` into a duration.
fn parse_duration(key: &str, v: &str) -> Result<Duration> {
    let bad = || {
        StoreError::invalid_argument(format!(
            "MySQL option {key}={v:?} is not a duration (e.g. 30, 30s, 500ms, 2m)"
        ))
    };
    let v = v.trim();
    let (num, unit) = match v.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => v.split_at(i),
        None => (v, "s"),
    };
    let n: u64 = num.parse().map_err(|_| bad())?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n.checked_mul(60).ok_or_else(bad)?)),
        _ => Err(bad()),
    }
}

/// A duration where `0` means "none".
fn parse_optional_duration(key: &str, v: &str) -> Result<Option<Duration>> {
    let d = parse_duration(key, v)?;
    Ok((!d.is_zero()).then_some(d))
}

impl MysqlConfig {
    /// Parses a `mysql://` (or `mariadb://`) URL, taking a missing user or password from
    /// `DURASTORE_MYSQL_USER` / `DURASTORE_MYSQL_PASSWORD`.
    pub fn from_url(url: &str) -> Result<Self> {
        Self::from_url_with_env(url, &|k| std::env::var(k).ok())
    }

    /// [`MysqlConfig::from_url`] with an explicit environment lookup.
    pub fn from_url_with_env(url: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let parsed = url::Url::parse(url).map_err(|e| {
            StoreError::invalid_argument(format!("not a MySQL URL ({e}): {}", redact_url(url)))
        })?;
        if !matches!(parsed.scheme(), "mysql" | "mariadb") {
            return Err(StoreError::invalid_argument(format!(
                "not a MySQL URL (scheme {:?}, expected mysql://): {}",
                parsed.scheme(),
                redact_url(url)
            )));
        }
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .unwrap_or("localhost")
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let user = match parsed.username() {
            "" => env(ENV_USER)
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| "root".to_string()),
            u => percent_decode(u)?,
        };
        let password = match parsed.password() {
            Some(p) => Some(percent_decode(p)?),
            None => env(ENV_PASSWORD),
        };
        let path = percent_decode(parsed.path().trim_start_matches('/'))?;
        let database = (!path.is_empty()).then_some(path);
        let mut cfg = MysqlConfig {
            host,
            port: parsed.port().unwrap_or(3306),
            user,
            password,
            database,
            ssl_mode: SslMode::default(),
            ssl_ca: None,
            ssl_cert: None,
            ssl_key: None,
            max_connections: 10,
            min_connections: 0,
            connect_timeout: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(30),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
        };
        for (k, v) in parsed.query_pairs() {
            let count = |v: &str| {
                v.parse::<u32>().map_err(|_| {
                    StoreError::invalid_argument(format!("MySQL option {k}={v:?} is not a count"))
                })
            };
            match k.as_ref() {
                "ssl-mode" | "sslmode" | "ssl_mode" => cfg.ssl_mode = SslMode::parse(&v)?,
                "ssl-ca" | "sslca" | "sslrootcert" => cfg.ssl_ca = Some(PathBuf::from(&*v)),
                "ssl-cert" | "sslcert" => cfg.ssl_cert = Some(PathBuf::from(&*v)),
                "ssl-key" | "sslkey" => cfg.ssl_key = Some(PathBuf::from(&*v)),
                "max_connections" => {
                    cfg.max_connections = count(&v)?;
                    if cfg.max_connections == 0 {
                        return Err(StoreError::invalid_argument(
                            "MySQL option max_connections must be at least 1",
                        ));
                    }
                }
                "min_connections" => cfg.min_connections = count(&v)?,
                "connect_timeout" => cfg.connect_timeout = parse_duration(&k, &v)?,
                "acquire_timeout" => cfg.acquire_timeout = parse_duration(&k, &v)?,
                "idle_timeout" => cfg.idle_timeout = parse_optional_duration(&k, &v)?,
                "max_lifetime" => cfg.max_lifetime = parse_optional_duration(&k, &v)?,
                other => {
                    return Err(StoreError::invalid_argument(format!(
                        "unknown MySQL URL option {other:?}"
                    )));
                }
            }
        }
        if cfg.min_connections > cfg.max_connections {
            return Err(StoreError::invalid_argument(format!(
                "MySQL option min_connections ({}) exceeds max_connections ({})",
                cfg.min_connections, cfg.max_connections
            )));
        }
        Ok(cfg)
    }

    /// Sets the password.
    pub fn with_password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// The password, if any (never printed by this crate).
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// The same server with another database (or none).
    pub fn with_database(mut self, database: Option<&str>) -> Self {
        self.database = database.map(str::to_string);
        self
    }

    /// `host:port/database`, for messages.
    pub fn display_target(&self) -> String {
        format!(
            "{}:{}/{}",
            self.host,
            self.port,
            self.database.as_deref().unwrap_or("")
        )
    }

    /// sqlx connection options: charset `utf8mb4` with collation `utf8mb4_bin`, time zone
    /// `+00:00`, TLS as configured.
    pub fn connect_options(&self) -> MySqlConnectOptions {
        let mut o = MySqlConnectOptions::new()
            .host(&self.host)
            .port(self.port)
            .username(&self.user)
            .charset("utf8mb4")
            .collation("utf8mb4_bin")
            .timezone(Some("+00:00".to_string()))
            .ssl_mode(self.ssl_mode.to_sqlx());
        if let Some(p) = &self.password {
            o = o.password(p);
        }
        if let Some(db) = &self.database {
            o = o.database(db);
        }
        if let Some(ca) = &self.ssl_ca {
            o = o.ssl_ca(ca);
        }
        if let Some(c) = &self.ssl_cert {
            o = o.ssl_client_cert(c);
        }
        if let Some(k) = &self.ssl_key {
            o = o.ssl_client_key(k);
        }
        o
    }
}

/// The URL with its password replaced by `***` (for messages and logs).
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                // Only fails for URLs that cannot have credentials, which this one has.
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        // Unparseable: drop everything between "://" and "@" rather than risk printing it.
        Err(_) => match (url.find("://"), url.rfind('@')) {
            (Some(s), Some(a)) if a > s => format!("{}***{}", &url[..s + 3], &url[a..]),
            _ => url.to_string(),
        },
    }
}

/// An error for a failed connection attempt, naming the server but not the password.
fn connect_error(cfg: &MysqlConfig, e: sqlx::Error) -> StoreError {
    let number = error::error_number(&e);
    let base = error::classify(e, false);
    let kind = base.kind();
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
    StoreError::new(kind, hint)
        .with_retryable(base.is_retryable())
        .with_source(base)
}

/// Opens a pool without touching the schema (used by [`open`] and the schema tool).
///
/// Every connection gets `READ COMMITTED`, `utf8mb4`/`utf8mb4_bin` and time zone `+00:00`; idle
/// connections are pinged before use, so a connection the server dropped is replaced instead of
/// failing the next call.
pub async fn connect(cfg: &MysqlConfig) -> Result<MysqlDriver> {
    durastore_sql::tls::install_crypto_provider();
    let opts = cfg.connect_options();
    let pool = MySqlPoolOptions::new()
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
    let pool = tokio::time::timeout(cfg.connect_timeout, pool.connect_with(opts))
        .await
        .map_err(|_| {
            StoreError::new(
                ErrorKind::Unavailable,
                format!(
                    "cannot connect to MySQL at {}: no answer within {:?}",
                    cfg.display_target(),
                    cfg.connect_timeout
                ),
            )
        })?
        .map_err(|e| connect_error(cfg, e))?;
    Ok(MysqlDriver::new(pool))
}

/// One connection to the server without a default database, for administrative statements.
pub(crate) async fn admin_connection(cfg: &MysqlConfig) -> Result<MySqlConnection> {
    let cfg = cfg.clone().with_database(None);
    let opts = cfg.connect_options();
    tokio::time::timeout(cfg.connect_timeout, opts.connect())
        .await
        .map_err(|_| {
            StoreError::new(
                ErrorKind::Unavailable,
                format!(
                    "cannot connect to MySQL at {}: no answer within {:?}",
                    cfg.display_target(),
                    cfg.connect_timeout
                ),
            )
        })?
        .map_err(|e| connect_error(&cfg, e))
}

/// Checks a database name: 1 to 64 of `[A-Za-z0-9_]` (it is interpolated as an identifier).
pub fn validate_database_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(StoreError::invalid_argument(format!(
            "database name {name:?} must be 1 to 64 characters of [A-Za-z0-9_]"
        )));
    }
    Ok(())
}

/// Creates database `name` on the server `url` points at (its own database part is ignored)
/// with `utf8mb4` / `utf8mb4_bin`; an existing database is left as it is.
pub async fn create_database(url: &str, name: &str) -> Result<()> {
    validate_database_name(name)?;
    let cfg = MysqlConfig::from_url(url)?;
    let mut conn = admin_connection(&cfg).await?;
    let sql =
        format!("CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
    let r = conn
        .execute(AssertSqlSafe(sql))
        .await
        .map_err(|e| error::classify(e, false));
    // Closing politely is best effort; the server drops the session either way.
    let _ = conn.close().await;
    r.map(|_| ())
}

/// Drops database `name` on the server `url` points at, if it exists.
pub async fn drop_database(url: &str, name: &str) -> Result<()> {
    validate_database_name(name)?;
    let cfg = MysqlConfig::from_url(url)?;
    let mut conn = admin_connection(&cfg).await?;
    let r = conn
        .execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{name}`")))
        .await
        .map_err(|e| error::classify(e, false));
    let _ = conn.close().await;
    r.map(|_| ())
}

/// Whether database `name` exists on the server `url` points at (for dry runs, which must not
/// create it).
pub async fn database_exists(url: &str, name: &str) -> Result<bool> {
    validate_database_name(name)?;
    let cfg = MysqlConfig::from_url(url)?;
    let mut conn = admin_connection(&cfg).await?;
    let r = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?",
    )
    .bind(name)
    .fetch_one(&mut conn)
    .await
    .map_err(|e| error::classify(e, false));
    let _ = conn.close().await;
    r.map(|n| n > 0)
}

/// `url` with its database replaced by `name` (query options and credentials kept).
pub fn url_with_database(url: &str, name: &str) -> Result<String> {
    validate_database_name(name)?;
    let mut u = url::Url::parse(url).map_err(|e| {
        StoreError::invalid_argument(format!("not a MySQL URL ({e}): {}", redact_url(url)))
    })?;
    if !matches!(u.scheme(), "mysql" | "mariadb") {
        return Err(StoreError::invalid_argument(format!(
            "not a MySQL URL: {}",
            redact_url(url)
        )));
    }
    u.set_path(&format!("/{name}"));
    Ok(u.to_string())
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
        return Err(StoreError::new(
            ErrorKind::Unavailable,
            format!(
                "version {d} of the {name} schema was left half-applied by an interrupted schema \
                 tool; run `durastore schema update{flag} --url {shown}` to finish it"
            ),
        )
        .with_retryable(false));
    }
    match &st.current {
        None => Ok(false),
        Some(c) if !st.pending.is_empty() => Err(StoreError::new(
            ErrorKind::Unavailable,
            format!(
                "the {name} schema is at version {c}, this binary needs {}; run \
                 `durastore schema update{flag} --url {shown}`",
                st.latest
            ),
        )
        .with_retryable(false)),
        Some(_) => Ok(true),
    }
}

/// Opens the stores of the MySQL/MariaDB database at `url`: those of the schema sets set up in
/// it (`main`: every store but visibility; `visibility`), which must be current; a database with
/// neither, or with a newer set, is refused.
pub async fn open(url: &str) -> Result<Stores> {
    open_wrapped(url, &|d| d).await
}

/// Like [`open`], with the store logic running over `wrap(driver)` instead of the driver itself
/// (`durastore bench --floor` wraps it in a [`durastore_sql::record::RecordingDriver`]).
pub async fn open_wrapped(url: &str, wrap: &durastore_sql::record::WrapDriver) -> Result<Stores> {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn url_parsing() {
        let c = MysqlConfig::from_url_with_env(
            "mysql://u%40x:p%3Aw@db.example:3307/temporal?ssl-mode=verify-full&ssl-ca=/ca.pem\
             &max_connections=20&min_connections=2&connect_timeout=5&acquire_timeout=500ms\
             &idle_timeout=0&max_lifetime=2m",
            &no_env,
        )
        .unwrap();
        assert_eq!(c.host, "db.example");
        assert_eq!(c.port, 3307);
        assert_eq!(c.user, "u@x");
        assert_eq!(c.password(), Some("p:w"));
        assert_eq!(c.database.as_deref(), Some("temporal"));
        assert_eq!(c.ssl_mode, SslMode::VerifyIdentity);
        assert_eq!(c.ssl_ca, Some(PathBuf::from("/ca.pem")));
        assert_eq!((c.max_connections, c.min_connections), (20, 2));
        assert_eq!(c.connect_timeout, Duration::from_secs(5));
        assert_eq!(c.acquire_timeout, Duration::from_millis(500));
        assert_eq!(c.idle_timeout, None);
        assert_eq!(c.max_lifetime, Some(Duration::from_secs(120)));
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("p:w"), "{dbg}");
        assert!(dbg.contains("<redacted>"), "{dbg}");

        for (mode, want) in [
            ("disabled", SslMode::Disabled),
            ("preferred", SslMode::Preferred),
            ("required", SslMode::Required),
            ("verify_ca", SslMode::VerifyCa),
            ("verify-ca", SslMode::VerifyCa),
            ("VERIFY_IDENTITY", SslMode::VerifyIdentity),
        ] {
            let c = MysqlConfig::from_url_with_env(&format!("mysql://h/d?sslmode={mode}"), &no_env)
                .unwrap();
            assert_eq!(c.ssl_mode, want, "{mode}");
        }
        assert!(MysqlConfig::from_url_with_env("mysql://h/d?ssl-mode=bogus", &no_env).is_err());
        assert!(MysqlConfig::from_url_with_env("mysql://h/d?bogus=1", &no_env).is_err());
        assert!(MysqlConfig::from_url_with_env("mysql://h/d?max_connections=0", &no_env).is_err());
        assert!(MysqlConfig::from_url_with_env("mysql://h/d?idle_timeout=5x", &no_env).is_err());
        assert!(MysqlConfig::from_url_with_env("postgres://h/d", &no_env).is_err());
    }

    #[test]
    fn env_credentials() {
        let env = |k: &str| match k {
            ENV_USER => Some("envuser".to_string()),
            ENV_PASSWORD => Some("envpass".to_string()),
            _ => None,
        };
        let c = MysqlConfig::from_url_with_env("mysql://127.0.0.1/db", &env).unwrap();
        assert_eq!(
            (c.user.as_str(), c.password()),
            ("envuser", Some("envpass"))
        );
        assert_eq!(c.port, 3306);
        // The URL wins over the environment.
        let c = MysqlConfig::from_url_with_env("mysql://a:b@127.0.0.1/db", &env).unwrap();
        assert_eq!((c.user.as_str(), c.password()), ("a", Some("b")));
        let c = MysqlConfig::from_url_with_env("mysql://127.0.0.1", &no_env).unwrap();
        assert_eq!(c.database, None);
        assert_eq!(c.password(), None);
    }

    #[test]
    fn urls_and_names() {
        assert_eq!(
            url_with_database("mysql://u:p@h:1/old?ssl-mode=disabled", "new_1").unwrap(),
            "mysql://u:p@h:1/new_1?ssl-mode=disabled"
        );
        assert_eq!(url_with_database("mysql://h", "x").unwrap(), "mysql://h/x");
        assert!(url_with_database("mysql://h/d", "bad-name").is_err());
        assert!(url_with_database("mysql://h/d", "").is_err());
        assert!(url_with_database("mysql://h/d", &"a".repeat(65)).is_err());
        assert!(url_with_database("sqlite::memory:", "x").is_err());
        assert_eq!(redact_url("mysql://u:secret@h/d"), "mysql://u:***@h/d");
        assert!(!redact_url("mysql://u:se cret@h/d").contains("se cret"));
    }
}
