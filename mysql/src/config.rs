//! The connection settings of a `mysql://` / `mariadb://` URL (options: `docs.md`).

use std::path::PathBuf;
use std::time::Duration;

use durastore_api::{Result, StoreError};
use sqlx::ConnectOptions;
use sqlx::mysql::{MySqlConnectOptions, MySqlSslMode};

/// Environment variable holding the user when the URL has none.
pub const ENV_USER: &str = "DURASTORE_MYSQL_USER";
/// Environment variable holding the password when the URL has none.
pub const ENV_PASSWORD: &str = "DURASTORE_MYSQL_PASSWORD";

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
    durastore_api::urltext::percent_decode(s)
        .ok_or_else(|| StoreError::invalid_argument("bad percent-encoding in the MySQL URL"))
}

/// The shared duration grammar ([`durastore_api::urltext::parse_duration`]: `30`, `500ms`,
/// `2m`, `1h`).
fn parse_duration(key: &str, v: &str) -> Result<Duration> {
    durastore_api::urltext::parse_duration(v).ok_or_else(|| {
        StoreError::invalid_argument(format!(
            "MySQL option {key}={v:?} is not a duration (e.g. 30, 30s, 500ms, 2m, 1h)"
        ))
    })
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
        for (k, v) in durastore_api::urltext::query_pairs(parsed.query().unwrap_or(""))
            .ok_or_else(|| StoreError::invalid_argument("bad percent-encoding in the MySQL URL"))?
        {
            let count = |v: &str| {
                v.parse::<u32>().map_err(|_| {
                    StoreError::invalid_argument(format!("MySQL option {k}={v:?} is not a count"))
                })
            };
            match k.as_str() {
                "ssl-mode" | "sslmode" | "ssl_mode" => cfg.ssl_mode = SslMode::parse(&v)?,
                "ssl-ca" | "sslca" | "sslrootcert" => cfg.ssl_ca = Some(PathBuf::from(&v)),
                "ssl-cert" | "sslcert" => cfg.ssl_cert = Some(PathBuf::from(&v)),
                "ssl-key" | "sslkey" => cfg.ssl_key = Some(PathBuf::from(&v)),
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

    /// Fails when a TLS file the URL names cannot be read (checked before every connect).
    pub fn check_tls_files(&self) -> Result<()> {
        durastore_sql::tls::check_files(
            "MySQL",
            &[
                ("ssl-ca", self.ssl_ca.as_deref()),
                ("ssl-cert", self.ssl_cert.as_deref()),
                ("ssl-key", self.ssl_key.as_deref()),
            ],
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
        // Library logs stay quiet at the default level: sqlx would warn about every statement
        // over a second; durastore's own `--slow-ms` layer reports slow calls when asked.
        o.log_slow_statements(log::LevelFilter::Debug, Duration::from_secs(1))
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
}
