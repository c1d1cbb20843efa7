//! Connection settings parsed from a `postgres://` URL.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use durastore_api::urltext;
use durastore_api::{Result, StoreError};
use url::Url;

/// Default PostgreSQL port.
pub const DEFAULT_PORT: u16 = 5432;

/// How (and whether) the connection is encrypted and the server authenticated, as libpq's
/// `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Plain TCP only.
    Disable,
    /// TLS when the server offers it, else plain (libpq's default).
    #[default]
    Prefer,
    /// TLS required; the certificate is checked against `sslrootcert` only if one is given.
    Require,
    /// TLS required and the server certificate must chain to a trusted CA.
    VerifyCa,
    /// As `VerifyCa`, and the certificate must name the host connected to.
    VerifyFull,
}

impl SslMode {
    fn parse(v: &str) -> Option<Self> {
        Some(match v.to_ascii_lowercase().as_str() {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    /// The libpq spelling (`verify-full`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Parsed connection settings of a PostgreSQL store.
///
/// URL: `postgres://[user[:password]@]host[:port]/database?option=value&…` (`postgresql://`
/// too); its options, defaults and credential variables are in the
/// [crate documentation](crate#url-options).
///
/// The password is never printed: `Debug` shows `***` in its place.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresConfig {
    /// Server host name or address (ignored when `socket_dir` is set).
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Directory of the server's Unix socket, if connecting through one.
    pub socket_dir: Option<PathBuf>,
    /// Database name.
    pub database: String,
    /// Role name.
    pub user: String,
    /// Password, if any (never logged).
    pub password: Option<String>,
    /// TLS mode.
    pub ssl_mode: SslMode,
    /// CA certificate file for verifying the server.
    pub ssl_root_cert: Option<PathBuf>,
    /// Client certificate file.
    pub ssl_cert: Option<PathBuf>,
    /// Client private key file.
    pub ssl_key: Option<PathBuf>,
    /// Most pooled connections.
    pub max_connections: u32,
    /// Connections the pool keeps open when idle.
    pub min_connections: u32,
    /// Limit on establishing the first connection.
    pub connect_timeout: Duration,
    /// Limit on waiting for a pooled connection (including opening a new one).
    pub acquire_timeout: Duration,
    /// Idle connections are closed after this long (None: never).
    pub idle_timeout: Option<Duration>,
    /// Connections are replaced after this long (None: never).
    pub max_lifetime: Option<Duration>,
    /// Server-side `statement_timeout` (None: the server's default).
    pub statement_timeout: Option<Duration>,
    /// `application_name` reported to the server.
    pub application_name: String,
}

impl fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("socket_dir", &self.socket_dir)
            .field("database", &self.database)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("ssl_mode", &self.ssl_mode)
            .field("ssl_root_cert", &self.ssl_root_cert)
            .field("ssl_cert", &self.ssl_cert)
            .field("ssl_key", &self.ssl_key)
            .field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("connect_timeout", &self.connect_timeout)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_lifetime", &self.max_lifetime)
            .field("statement_timeout", &self.statement_timeout)
            .field("application_name", &self.application_name)
            .finish()
    }
}

/// Environment variables consulted for credentials, in order.
const USER_VARS: &[&str] = &["DURASTORE_POSTGRES_USER", "PGUSER"];
const PASSWORD_VARS: &[&str] = &["DURASTORE_POSTGRES_PASSWORD", "PGPASSWORD"];

impl PostgresConfig {
    /// Parses a `postgres://` URL, taking missing credentials from the process environment.
    pub fn from_url(url: &str) -> Result<Self> {
        Self::from_url_with_env(url, &|k| std::env::var(k).ok())
    }

    /// Parses a URL with `env` standing in for the process environment (for tests).
    pub fn from_url_with_env(url: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let u = parse_url(url)?;
        let from_env = |vars: &[&str]| vars.iter().find_map(|k| env(k).filter(|v| !v.is_empty()));
        let user = match u.username() {
            "" => from_env(USER_VARS),
            name => Some(decode(name, "user name")?),
        };
        let password = match u.password() {
            Some(p) => Some(decode(p, "password")?),
            None => from_env(PASSWORD_VARS),
        };
        let host = match u.host() {
            Some(url::Host::Ipv6(a)) => a.to_string(),
            Some(h) => decode(&h.to_string(), "host")?,
            None => String::new(),
        };
        let database = match u.path().trim_start_matches('/') {
            "" => None,
            path => Some(decode(path, "database name")?),
        };
        let mut login = Login {
            user,
            password,
            database,
        };
        let mut cfg = PostgresConfig::defaults(host, u.port().unwrap_or(DEFAULT_PORT));
        let pairs = urltext::query_pairs(u.query().unwrap_or("")).ok_or_else(|| {
            StoreError::invalid_argument("postgres URL: the options are not valid percent-encoding")
        })?;
        for (k, v) in pairs {
            cfg.apply_option(&mut login, &k, &v)?;
        }
        cfg.check_combination()?;
        cfg.user = login.user.ok_or_else(|| {
            StoreError::invalid_argument(
                "postgres URL names no user, and neither DURASTORE_POSTGRES_USER nor PGUSER is set",
            )
        })?;
        cfg.password = login.password;
        cfg.database = login.database.unwrap_or_else(|| cfg.user.clone());
        Ok(cfg)
    }

    /// Every option at its default, on `host` (`localhost` if empty) and `port`; no user yet.
    fn defaults(host: String, port: u16) -> Self {
        PostgresConfig {
            host: if host.is_empty() {
                "localhost".to_string()
            } else {
                host
            },
            port,
            socket_dir: None,
            database: String::new(),
            user: String::new(),
            password: None,
            ssl_mode: SslMode::default(),
            ssl_root_cert: None,
            ssl_cert: None,
            ssl_key: None,
            max_connections: 10,
            min_connections: 0,
            connect_timeout: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(30),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
            statement_timeout: None,
            application_name: "durastore".to_string(),
        }
    }

    /// Applies one URL option `k=v`; the login options go to `login`. An unknown option or a
    /// bad value is refused.
    fn apply_option(&mut self, login: &mut Login, k: &str, v: &str) -> Result<()> {
        let bad = || {
            StoreError::invalid_argument(format!("postgres URL: bad value {v:?} for option {k}"))
        };
        let path = || -> Result<PathBuf> {
            if v.is_empty() {
                Err(bad())
            } else {
                Ok(PathBuf::from(v))
            }
        };
        let cfg = self;
        match k {
            "sslmode" => cfg.ssl_mode = SslMode::parse(v).ok_or_else(bad)?,
            "sslrootcert" => cfg.ssl_root_cert = Some(path()?),
            "sslcert" => cfg.ssl_cert = Some(path()?),
            "sslkey" => cfg.ssl_key = Some(path()?),
            "max_connections" => {
                cfg.max_connections = v.parse().ok().filter(|n| *n > 0).ok_or_else(bad)?
            }
            "min_connections" => cfg.min_connections = v.parse().map_err(|_| bad())?,
            "connect_timeout" => {
                cfg.connect_timeout = parse_duration(v).filter(|d| !d.is_zero()).ok_or_else(bad)?
            }
            "acquire_timeout" => {
                cfg.acquire_timeout = parse_duration(v).filter(|d| !d.is_zero()).ok_or_else(bad)?
            }
            "idle_timeout" => cfg.idle_timeout = optional_duration(v).ok_or_else(bad)?,
            "max_lifetime" => cfg.max_lifetime = optional_duration(v).ok_or_else(bad)?,
            "statement_timeout" => cfg.statement_timeout = optional_duration(v).ok_or_else(bad)?,
            "application_name" => cfg.application_name = v.to_string(),
            "host" if v.starts_with('/') => cfg.socket_dir = Some(path()?),
            "host" if !v.is_empty() => cfg.host = v.to_string(),
            "user" if !v.is_empty() => login.user = Some(v.to_string()),
            "password" => login.password = Some(v.to_string()),
            "dbname" if !v.is_empty() => login.database = Some(v.to_string()),
            "port" => cfg.port = v.parse().map_err(|_| bad())?,
            other => {
                return Err(StoreError::invalid_argument(format!(
                    "postgres URL: unknown option {other:?} (known: sslmode, sslrootcert, \
                     sslcert, sslkey, max_connections, min_connections, connect_timeout, \
                     acquire_timeout, idle_timeout, max_lifetime, statement_timeout, \
                     application_name, host, port, user, password, dbname)"
                )));
            }
        }
        Ok(())
    }

    /// Refuses options that are valid alone but not together.
    fn check_combination(&self) -> Result<()> {
        if self.min_connections > self.max_connections {
            return Err(StoreError::invalid_argument(format!(
                "postgres URL: min_connections {} exceeds max_connections {}",
                self.min_connections, self.max_connections
            )));
        }
        if (self.ssl_cert.is_some()) != (self.ssl_key.is_some()) {
            return Err(StoreError::invalid_argument(
                "postgres URL: sslcert and sslkey must be given together",
            ));
        }
        Ok(())
    }
}

/// Who logs in to which database, as the URL (then its options, then the environment) says;
/// the user and database defaults are applied last.
struct Login {
    user: Option<String>,
    password: Option<String>,
    database: Option<String>,
}

/// Percent-decodes one part of the URL; `what` names the part in the error (never its value,
/// which may be a password).
fn decode(s: &str, what: &str) -> Result<String> {
    urltext::percent_decode(s).ok_or_else(|| {
        StoreError::invalid_argument(format!(
            "postgres URL: the {what} is not valid percent-encoded UTF-8"
        ))
    })
}

/// Parses and checks the scheme of a PostgreSQL URL.
pub(crate) fn parse_url(url: &str) -> Result<Url> {
    // Never echo the URL itself: it may carry a password.
    let u = Url::parse(url)
        .map_err(|e| StoreError::invalid_argument(format!("not a valid postgres URL ({e})")))?;
    if !matches!(u.scheme(), "postgres" | "postgresql") {
        return Err(StoreError::invalid_argument(format!(
            "not a postgres URL (scheme {:?}; expected postgres://)",
            u.scheme()
        )));
    }
    Ok(u)
}

/// The shared duration grammar ([`urltext::parse_duration`]: `30`, `500ms`, `5m`, `1h`).
fn parse_duration(v: &str) -> Option<Duration> {
    urltext::parse_duration(v)
}

/// A duration where zero means "none".
fn optional_duration(v: &str) -> Option<Option<Duration>> {
    parse_duration(v).map(|d| (!d.is_zero()).then_some(d))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn full_url() {
        let c = PostgresConfig::from_url_with_env(
            "postgres://temporal:p%40ss%20word@db.example:6543/temporal?sslmode=verify-full\
             &sslrootcert=/ca.pem&sslcert=/c.pem&sslkey=/k.pem&max_connections=20\
             &min_connections=2&connect_timeout=5&acquire_timeout=500ms&idle_timeout=0\
             &max_lifetime=1h&statement_timeout=30s&application_name=x",
            &no_env,
        )
        .unwrap();
        assert_eq!(c.host, "db.example");
        assert_eq!(c.port, 6543);
        assert_eq!(c.user, "temporal");
        assert_eq!(c.password.as_deref(), Some("p@ss word"));
        assert_eq!(c.database, "temporal");
        assert_eq!(c.ssl_mode, SslMode::VerifyFull);
        assert_eq!(c.ssl_root_cert, Some(PathBuf::from("/ca.pem")));
        assert_eq!(c.max_connections, 20);
        assert_eq!(c.min_connections, 2);
        assert_eq!(c.connect_timeout, Duration::from_secs(5));
        assert_eq!(c.acquire_timeout, Duration::from_millis(500));
        assert_eq!(c.idle_timeout, None);
        assert_eq!(c.max_lifetime, Some(Duration::from_secs(3600)));
        assert_eq!(c.statement_timeout, Some(Duration::from_secs(30)));
        assert_eq!(c.application_name, "x");
    }

    #[test]
    fn debug_hides_password() {
        let c =
            PostgresConfig::from_url_with_env("postgres://u:hunter2secret@h/db", &no_env).unwrap();
        let s = format!("{c:?}");
        assert!(!s.contains("hunter2secret"), "{s}");
        assert!(s.contains("***"), "{s}");
    }

    #[test]
    fn env_fallbacks() {
        let env = |k: &str| match k {
            "DURASTORE_POSTGRES_USER" => Some("dsuser".to_string()),
            "PGUSER" => Some("pguser".to_string()),
            "PGPASSWORD" => Some("pgpw".to_string()),
            _ => None,
        };
        let c = PostgresConfig::from_url_with_env("postgres://h:1/", &env).unwrap();
        assert_eq!(c.user, "dsuser");
        assert_eq!(c.password.as_deref(), Some("pgpw"));
        assert_eq!(c.database, "dsuser");
        assert_eq!(c.port, 1);
        // The URL wins over the environment.
        let c = PostgresConfig::from_url_with_env("postgresql://a:b@h/d", &env).unwrap();
        assert_eq!((c.user.as_str(), c.password.as_deref()), ("a", Some("b")));
        let pg_only = |k: &str| (k == "PGUSER").then(|| "pguser".to_string());
        let c = PostgresConfig::from_url_with_env("postgres://h/d", &pg_only).unwrap();
        assert_eq!(c.user, "pguser");
        assert_eq!(c.password, None);
        assert!(PostgresConfig::from_url_with_env("postgres://h/d", &no_env).is_err());
    }

    #[test]
    fn bad_urls() {
        for url in [
            "mysql://u@h/d",
            "postgres://u@h/d?sslmode=sometimes",
            "postgres://u@h/d?bogus=1",
            "postgres://u@h/d?max_connections=0",
            "postgres://u@h/d?max_connections=2&min_connections=3",
            "postgres://u@h/d?connect_timeout=5x",
            "postgres://u@h/d?sslcert=/c.pem",
            "not a url",
        ] {
            let e = PostgresConfig::from_url_with_env(url, &no_env).unwrap_err();
            assert_eq!(e.kind(), durastore_api::ErrorKind::InvalidArgument, "{url}");
        }
        // Messages never echo a password.
        let e = PostgresConfig::from_url_with_env("postgres://u:sekret@h/d?bogus=1", &no_env)
            .unwrap_err();
        assert!(!e.to_string().contains("sekret"));
    }

    #[test]
    fn socket_and_ipv6() {
        let c = PostgresConfig::from_url_with_env(
            "postgres:///d?host=/var/run/postgresql&user=u",
            &no_env,
        )
        .unwrap();
        assert_eq!(c.socket_dir, Some(PathBuf::from("/var/run/postgresql")));
        let c = PostgresConfig::from_url_with_env("postgres://u@[::1]:5433/d", &no_env).unwrap();
        assert_eq!((c.host.as_str(), c.port), ("::1", 5433));
    }
}
