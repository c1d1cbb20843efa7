//! Where the stores live: a URL, or a YAML file shaped like Temporal's `persistence:` section.
//!
//! ```yaml
//! persistence:
//!   defaultStore: main
//!   visibilityStore: main          # optional; defaults to defaultStore
//!   numHistoryShards: 4
//!   datastores:
//!     main:
//!       sqlite:
//!         databaseName: /var/lib/durastore/main.db   # or `path:`
//!         connectAttributes:
//!           busy_timeout_ms: 5000
//!     temporal-style:
//!       sql:
//!         pluginName: sqlite       # sqlite | postgres12 | postgres12_pgx | mysql8
//!         databaseName: temporal.db
//!         connectAttributes: { mode: memory, cache: private }
//!     shorthand:
//!       url: sqlite:///tmp/other.db
//! ```
//!
//! A whole Temporal server config is accepted too: only `persistence` is read. Every datastore
//! becomes a URL ([`DatastoreConfig::to_url`]), so the [factory](crate::factory) has one input.

use std::collections::BTreeMap;
use std::path::Path;

use durastore_api::{ErrorKind, Result, StoreError};
use serde::Deserialize;

/// A config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// The `persistence:` section.
    pub persistence: PersistenceConfig,
}

/// Temporal's `persistence:` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersistenceConfig {
    /// Datastore holding everything but visibility.
    pub default_store: String,
    /// Datastore holding visibility (defaults to `defaultStore`).
    #[serde(default)]
    pub visibility_store: Option<String>,
    /// Number of history shards (informational for the stores; the server uses it).
    #[serde(default)]
    pub num_history_shards: Option<i32>,
    /// Datastores by name.
    pub datastores: BTreeMap<String, DatastoreConfig>,
}

/// One datastore: exactly one of `url`, `sqlite`, `sql`, `cassandra`, `elasticsearch`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatastoreConfig {
    /// durastore's shorthand: a URL as accepted by [`crate::factory::open`].
    #[serde(default)]
    pub url: Option<String>,
    /// An embedded SQLite database.
    #[serde(default)]
    pub sqlite: Option<SqliteDatastore>,
    /// Temporal's `sql:` form.
    #[serde(default)]
    pub sql: Option<SqlDatastore>,
    /// Temporal's `cassandra:` form (not built yet).
    #[serde(default)]
    pub cassandra: Option<serde_yaml_ng::Value>,
    /// Temporal's `elasticsearch:` form (not built yet).
    #[serde(default)]
    pub elasticsearch: Option<serde_yaml_ng::Value>,
}

/// `sqlite:` datastore.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SqliteDatastore {
    /// Database file (Temporal's name for it).
    #[serde(default)]
    pub database_name: Option<String>,
    /// Database file (alias of `databaseName`).
    #[serde(default)]
    pub path: Option<String>,
    /// Connection attributes (see [`SQLITE_ATTRIBUTES`]).
    #[serde(default)]
    pub connect_attributes: BTreeMap<String, serde_yaml_ng::Value>,
    /// Pool size.
    #[serde(default)]
    pub max_conns: Option<u32>,
}

/// Temporal's `sql:` datastore.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SqlDatastore {
    /// `sqlite`, `postgres12`, `postgres12_pgx` or `mysql8`.
    pub plugin_name: String,
    /// Database name (a file for SQLite).
    #[serde(default)]
    pub database_name: Option<String>,
    /// `host:port`.
    #[serde(default)]
    pub connect_addr: Option<String>,
    /// `tcp` or `unix` (informational).
    #[serde(default)]
    pub connect_protocol: Option<String>,
    /// User.
    #[serde(default)]
    pub user: Option<String>,
    /// Password.
    #[serde(default)]
    pub password: Option<String>,
    /// Connection attributes, passed as URL query parameters.
    #[serde(default)]
    pub connect_attributes: BTreeMap<String, serde_yaml_ng::Value>,
    /// Pool size.
    #[serde(default)]
    pub max_conns: Option<u32>,
    /// Idle pool size (accepted, not used yet).
    #[serde(default)]
    pub max_idle_conns: Option<u32>,
    /// Connection lifetime (accepted, not used yet).
    #[serde(default)]
    pub max_conn_lifetime: Option<String>,
}

/// Which datastore of a config a caller wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreRole {
    /// `defaultStore`: shards, executions, history, task queues, namespaces, queues.
    Default,
    /// `visibilityStore` (falls back to `defaultStore`).
    Visibility,
}

/// The SQLite `connectAttributes` understood (Temporal's plus durastore's URL options).
pub const SQLITE_ATTRIBUTES: &[&str] = &[
    "mode",
    "cache",
    "setup",
    "journal_mode",
    "busy_timeout_ms",
    "max_connections",
    "synchronous",
];

/// Temporal `sql` plugin names and the URL scheme each maps to.
pub const SQL_PLUGINS: &[(&str, &str)] = &[
    ("sqlite", "sqlite"),
    ("postgres12", "postgres"),
    ("postgres12_pgx", "postgres"),
    ("mysql8", "mysql"),
];

fn invalid(msg: impl Into<String>) -> StoreError {
    StoreError::invalid_argument(msg)
}

fn scalar(v: &serde_yaml_ng::Value) -> Option<String> {
    match v {
        serde_yaml_ng::Value::String(s) => Some(s.clone()),
        serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
        serde_yaml_ng::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Config {
    /// Parses YAML text.
    pub fn parse(yaml: &str) -> Result<Self> {
        let cfg: Config =
            serde_yaml_ng::from_str(yaml).map_err(|e| invalid(format!("bad config: {e}")))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reads and parses a YAML file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            StoreError::new(
                ErrorKind::NotFound,
                format!("cannot read config {}: {e}", path.display()),
            )
        })?;
        Self::parse(&text).map_err(|e| {
            StoreError::invalid_argument(format!("{}: {}", path.display(), e.message()))
        })
    }

    fn validate(&self) -> Result<()> {
        let p = &self.persistence;
        for (role, name) in [
            ("defaultStore", Some(&p.default_store)),
            ("visibilityStore", p.visibility_store.as_ref()),
        ] {
            if let Some(name) = name
                && !p.datastores.contains_key(name)
            {
                return Err(invalid(format!(
                    "persistence.{role} names datastore {name:?}, which is not under \
                     persistence.datastores (have: {})",
                    p.datastores.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
        }
        if let Some(n) = p.num_history_shards
            && n < 1
        {
            return Err(invalid(format!(
                "persistence.numHistoryShards must be at least 1, got {n}"
            )));
        }
        Ok(())
    }

    /// The datastore name for a role.
    pub fn store_name(&self, role: StoreRole) -> &str {
        let p = &self.persistence;
        match role {
            StoreRole::Default => &p.default_store,
            StoreRole::Visibility => p.visibility_store.as_deref().unwrap_or(&p.default_store),
        }
    }

    /// The URL of the datastore for a role.
    pub fn store_url(&self, role: StoreRole) -> Result<String> {
        let name = self.store_name(role);
        let ds = self
            .persistence
            .datastores
            .get(name)
            .ok_or_else(|| invalid(format!("no datastore named {name:?}")))?;
        ds.to_url(name)
    }
}

impl DatastoreConfig {
    /// The datastore as a URL for [`crate::factory::open`].
    pub fn to_url(&self, name: &str) -> Result<String> {
        let set = [
            self.url.is_some(),
            self.sqlite.is_some(),
            self.sql.is_some(),
            self.cassandra.is_some(),
            self.elasticsearch.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if set != 1 {
            return Err(invalid(format!(
                "datastore {name:?} must have exactly one of url, sqlite, sql, cassandra, \
                 elasticsearch (has {set})"
            )));
        }
        if let Some(u) = &self.url {
            return Ok(u.clone());
        }
        if let Some(s) = &self.sqlite {
            let path = match (&s.path, &s.database_name) {
                (Some(p), None) | (None, Some(p)) => Some(p.as_str()),
                (None, None) => None,
                (Some(_), Some(_)) => {
                    return Err(invalid(format!(
                        "datastore {name:?}: give sqlite.path or sqlite.databaseName, not both"
                    )));
                }
            };
            return sqlite_url(name, path, &s.connect_attributes, s.max_conns);
        }
        if let Some(s) = &self.sql {
            return sql_url(name, s);
        }
        let kind = if self.cassandra.is_some() {
            "cassandra"
        } else {
            "elasticsearch"
        };
        Err(StoreError::unsupported(format!(
            "datastore {name:?}: {kind} datastores are not built yet in this durastore"
        )))
    }
}

fn sqlite_url(
    name: &str,
    path: Option<&str>,
    attrs: &BTreeMap<String, serde_yaml_ng::Value>,
    max_conns: Option<u32>,
) -> Result<String> {
    let mut memory = false;
    let mut query: Vec<String> = Vec::new();
    for (k, v) in attrs {
        let v = scalar(v).ok_or_else(|| {
            invalid(format!(
                "datastore {name:?}: connectAttributes.{k} must be a string, number or bool"
            ))
        })?;
        match k.as_str() {
            "mode" => match v.as_str() {
                "memory" => memory = true,
                "rwc" | "rw" => {}
                other => {
                    return Err(invalid(format!(
                        "datastore {name:?}: sqlite mode {other:?} is not supported \
                         (memory, rwc, rw)"
                    )));
                }
            },
            // A private cache is what durastore does anyway; the schema is always set up.
            "cache" | "setup" => {}
            "journal_mode" => {
                if !v.eq_ignore_ascii_case("wal") {
                    return Err(invalid(format!(
                        "datastore {name:?}: durastore runs SQLite files in WAL mode only \
                         (journal_mode {v:?})"
                    )));
                }
            }
            "busy_timeout_ms" | "max_connections" | "synchronous" => {
                query.push(format!("{k}={v}"));
            }
            other => {
                return Err(invalid(format!(
                    "datastore {name:?}: unknown sqlite connectAttributes key {other:?} \
                     (known: {})",
                    SQLITE_ATTRIBUTES.join(", ")
                )));
            }
        }
    }
    if let Some(n) = max_conns {
        query.push(format!("max_connections={n}"));
    }
    let q = if query.is_empty() {
        String::new()
    } else {
        format!("?{}", query.join("&"))
    };
    if memory {
        return Ok(format!("sqlite::memory:{q}"));
    }
    let path = path.filter(|p| !p.is_empty()).ok_or_else(|| {
        invalid(format!(
            "datastore {name:?}: sqlite needs databaseName (a file) or connectAttributes.mode: memory"
        ))
    })?;
    if path.contains('?') || path.contains('#') {
        return Err(invalid(format!(
            "datastore {name:?}: sqlite file name {path:?} may not contain '?' or '#'"
        )));
    }
    Ok(format!("sqlite://{path}{q}"))
}

fn sql_url(name: &str, s: &SqlDatastore) -> Result<String> {
    let scheme = SQL_PLUGINS
        .iter()
        .find(|(p, _)| *p == s.plugin_name)
        .map(|(_, scheme)| *scheme)
        .ok_or_else(|| {
            invalid(format!(
                "datastore {name:?}: unknown sql pluginName {:?} (known: {})",
                s.plugin_name,
                SQL_PLUGINS
                    .iter()
                    .map(|(p, _)| *p)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
    if scheme == "sqlite" {
        return sqlite_url(
            name,
            s.database_name.as_deref(),
            &s.connect_attributes,
            s.max_conns,
        );
    }
    // Server databases: build a URL now so that adding the backend is one factory arm.
    let addr = s
        .connect_addr
        .as_deref()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| invalid(format!("datastore {name:?}: sql.connectAddr is required")))?;
    let mut u = url::Url::parse(&format!("{scheme}://{addr}"))
        .map_err(|e| invalid(format!("datastore {name:?}: bad connectAddr {addr:?}: {e}")))?;
    if let Some(user) = &s.user {
        u.set_username(user)
            .map_err(|_| invalid(format!("datastore {name:?}: bad user")))?;
    }
    if let Some(pw) = &s.password {
        u.set_password(Some(pw))
            .map_err(|_| invalid(format!("datastore {name:?}: bad password")))?;
    }
    u.set_path(s.database_name.as_deref().unwrap_or("temporal"));
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (k, v) in &s.connect_attributes {
        let v = scalar(v).ok_or_else(|| {
            invalid(format!(
                "datastore {name:?}: connectAttributes.{k} must be a string, number or bool"
            ))
        })?;
        pairs.push((k.clone(), v));
    }
    if let Some(n) = s.max_conns {
        pairs.push(("max_connections".into(), n.to_string()));
    }
    if !pairs.is_empty() {
        u.query_pairs_mut().extend_pairs(pairs);
    }
    Ok(u.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn temporal_shaped_yaml() {
        let cfg = Config::parse(
            r#"
global: { membership: { maxJoinDuration: 30s } }
persistence:
  defaultStore: main
  visibilityStore: vis
  numHistoryShards: 4
  datastores:
    main:
      sqlite:
        databaseName: /tmp/x.db
        connectAttributes: { busy_timeout_ms: 5000, cache: private }
        maxConns: 2
    vis:
      sql:
        pluginName: sqlite
        databaseName: ignored
        connectAttributes: { mode: memory, cache: private }
    pg:
      sql:
        pluginName: postgres12
        databaseName: temporal
        connectAddr: "127.0.0.1:5432"
        user: temporal
        password: "p@ss word"
        connectAttributes: { sslmode: disable }
    short:
      url: sqlite:///tmp/y.db
"#,
        )
        .unwrap();
        assert_eq!(cfg.persistence.num_history_shards, Some(4));
        assert_eq!(
            cfg.store_url(StoreRole::Default).unwrap(),
            "sqlite:///tmp/x.db?busy_timeout_ms=5000&max_connections=2"
        );
        assert_eq!(
            cfg.store_url(StoreRole::Visibility).unwrap(),
            "sqlite::memory:"
        );
        let ds = &cfg.persistence.datastores;
        assert_eq!(ds["short"].to_url("short").unwrap(), "sqlite:///tmp/y.db");
        assert_eq!(
            ds["pg"].to_url("pg").unwrap(),
            "postgres://temporal:p%40ss%20word@127.0.0.1:5432/temporal?sslmode=disable"
        );
    }

    #[test]
    fn bad_configs_are_invalid_argument() {
        let cases = [
            "persistence: { defaultStore: a, datastores: {} }",
            "persistence: { defaultStore: a, datastores: { a: {} } }",
            "persistence: { defaultStore: a, datastores: { a: { url: 'sqlite::memory:', sqlite: {} } } }",
            "persistence: { defaultStore: a, datastores: { a: { sqlite: { connectAttributes: { bogus: 1 } } } } }",
            "persistence: { defaultStore: a, datastores: { a: { sqlite: {} } } }",
            "persistence: { defaultStore: a, datastores: { a: { sql: { pluginName: oracle } } } }",
            "persistence: { defaultStore: a, datastores: { a: { sql: { pluginName: mysql8 } } } }",
            "persistence: { defaultStore: a, numHistoryShards: 0, datastores: { a: { url: x } } }",
            "not: [valid",
        ];
        for yaml in cases {
            let r = Config::parse(yaml).and_then(|c| c.store_url(StoreRole::Default));
            let e = r.expect_err(yaml);
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{yaml}: {e}");
        }
        let c = Config::parse(
            "persistence: { defaultStore: a, datastores: { a: { cassandra: { hosts: x } } } }",
        )
        .unwrap();
        assert_eq!(
            c.store_url(StoreRole::Default).unwrap_err().kind(),
            ErrorKind::Unsupported
        );
    }
}
