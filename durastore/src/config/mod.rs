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
//!     temporal-sql:
//!       sql:
//!         pluginName: postgres12   # sqlite | postgres12 | postgres12_pgx | mysql8
//!         databaseName: temporal
//!         connectAddr: "db.internal:5432"
//!         user: temporal
//!         password: secret
//!         maxConns: 20
//!         maxIdleConns: 20
//!         maxConnLifetime: 1h
//!         tls: { enabled: true, caFile: /etc/ca.pem, enableHostVerification: true }
//!     temporal-cassandra:
//!       cassandra: { hosts: "10.0.0.1,10.0.0.2", keyspace: temporal }
//!     temporal-es:
//!       elasticsearch:
//!         version: v7
//!         url: { scheme: http, host: "127.0.0.1:9200" }
//!         indices: { visibility: temporal_visibility_v1_dev }
//!     shorthand:
//!       url: sqlite:///tmp/other.db
//! ```
//!
//! A whole Temporal server config is accepted too: only `persistence` is read, and Temporal's
//! datastore forms (`sql:`, `cassandra:`, `elasticsearch:`) load unchanged.
//!
//! **Nothing is ignored silently.** Inside `persistence:` every key is known: a key durastore does
//! not know (a typo such as `databseName:`) is an error naming the key and its line. A known key
//! whose meaning durastore cannot honour (`faultInjection`, `customDatastore`, `sql.authPlugin`,
//! `tls.caData`, several Elasticsearch nodes, AWS request signing, …) is refused with a message
//! naming it. TLS settings map onto each backend's verified modes, and a CA, certificate or key
//! file that does not exist is an error when the config is loaded, never a plaintext connection.
//! The few keys that tune only a client-side detail durastore does differently
//! (`elasticsearch.logLevel`, `closeIdleConnectionsInterval`; `maxConnLifetime`, `maxIdleConns`,
//! `connectAddr` on an embedded SQLite file) are accepted, and what they do is documented on the
//! field.
//!
//! Every datastore becomes a URL ([`DatastoreConfig::to_url`]), so the
//! [factory](crate::factory) has one input.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use durastore_api::urltext::parse_duration;
use durastore_api::{Result, StoreError};
use serde::{Deserialize, Deserializer};

mod cassandra;
mod elastic;
mod sql;
mod url_parts;

use cassandra::cassandra_url;
use elastic::elastic_url;
use sql::{sql_url, sqlite_url};

/// A config file. Keys outside `persistence:` belong to the rest of a Temporal server config and
/// are not read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// The `persistence:` section.
    pub persistence: PersistenceConfig,
}

/// Temporal's `persistence:` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PersistenceConfig {
    /// Datastore holding everything but visibility.
    pub default_store: String,
    /// Datastore holding visibility (defaults to `advancedVisibilityStore`, then `defaultStore`).
    #[serde(default, deserialize_with = "non_empty")]
    pub visibility_store: Option<String>,
    /// Temporal's older name for the (Elasticsearch) visibility datastore; used when
    /// `visibilityStore` is empty. Naming two different visibility datastores is refused:
    /// durastore keeps visibility in one.
    #[serde(default, deserialize_with = "non_empty")]
    pub advanced_visibility_store: Option<String>,
    /// Number of history shards (informational for the stores; the server uses it).
    #[serde(default)]
    pub num_history_shards: Option<i32>,
    /// Datastores by name.
    pub datastores: BTreeMap<String, DatastoreConfig>,
}

/// One datastore: exactly one of `url`, `sqlite`, `sql`, `cassandra`, `elasticsearch`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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
    /// Temporal's `cassandra:` form.
    #[serde(default)]
    pub cassandra: Option<CassandraDatastore>,
    /// Temporal's `elasticsearch:` form (visibility on Elasticsearch or OpenSearch).
    #[serde(default)]
    pub elasticsearch: Option<ElasticsearchDatastore>,
    /// Temporal's fault injection: refused (durastore has no fault-injecting wrapper).
    #[serde(default)]
    pub fault_injection: Option<serde_yaml_ng::Value>,
    /// Temporal's plug-in datastore: refused (durastore opens only its own backends).
    #[serde(default)]
    pub custom_datastore: Option<serde_yaml_ng::Value>,
}

/// `sqlite:` datastore.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SqliteDatastore {
    /// Database file (Temporal's name for it).
    #[serde(default, deserialize_with = "non_empty")]
    pub database_name: Option<String>,
    /// Database file (alias of `databaseName`).
    #[serde(default, deserialize_with = "non_empty")]
    pub path: Option<String>,
    /// Connection attributes (see [`SQLITE_ATTRIBUTES`]).
    #[serde(default)]
    pub connect_attributes: BTreeMap<String, serde_yaml_ng::Value>,
    /// Pool size.
    #[serde(default)]
    pub max_conns: Option<u32>,
}

/// Temporal's `tls:` block (its `auth.TLS`), as used by `sql:`, `cassandra:` and
/// `elasticsearch:`. Empty strings mean "not set", as in Temporal's templates.
///
/// With `enabled: true` the connection is encrypted, and the server is verified as follows:
/// `enableHostVerification: true` checks the chain and the host name (PostgreSQL `verify-full`,
/// MySQL `VERIFY_IDENTITY`); `false` with a `caFile` checks the chain against it (`verify-ca`);
/// `false` without a `caFile` encrypts without verifying (`require`, as Temporal does), with a
/// warning. The `*Data` (inline base64) forms are refused: give files.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TlsConfig {
    /// TLS on.
    #[serde(default)]
    pub enabled: bool,
    /// PEM file with the CA that signed the server certificate.
    #[serde(default, deserialize_with = "non_empty")]
    pub ca_file: Option<String>,
    /// Client certificate (PEM), with `keyFile`.
    #[serde(default, deserialize_with = "non_empty")]
    pub cert_file: Option<String>,
    /// Client private key (PEM), with `certFile`.
    #[serde(default, deserialize_with = "non_empty")]
    pub key_file: Option<String>,
    /// Check the server certificate's host name too.
    #[serde(default)]
    pub enable_host_verification: bool,
    /// Name checked against the server certificate.
    #[serde(default, deserialize_with = "non_empty")]
    pub server_name: Option<String>,
    /// Inline client certificate: refused.
    #[serde(default, deserialize_with = "non_empty")]
    pub cert_data: Option<String>,
    /// Inline client key: refused.
    #[serde(default, deserialize_with = "non_empty")]
    pub key_data: Option<String>,
    /// Inline CA: refused.
    #[serde(default, deserialize_with = "non_empty")]
    pub ca_data: Option<String>,
}

/// Temporal's `sql:` datastore.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SqlDatastore {
    /// `sqlite`, `postgres12`, `postgres12_pgx` or `mysql8`.
    pub plugin_name: String,
    /// Database name (a file for SQLite). Required for the server databases.
    #[serde(default, deserialize_with = "non_empty")]
    pub database_name: Option<String>,
    /// `host:port` (not used by SQLite).
    #[serde(default, deserialize_with = "non_empty")]
    pub connect_addr: Option<String>,
    /// `tcp` (the only protocol durastore speaks; `unix` is refused). Not used by SQLite.
    #[serde(default, deserialize_with = "non_empty")]
    pub connect_protocol: Option<String>,
    /// User (SQLite has none: a non-empty one is refused).
    #[serde(default, deserialize_with = "non_empty")]
    pub user: Option<String>,
    /// Password (SQLite has none: a non-empty one is refused).
    #[serde(default, deserialize_with = "non_empty")]
    pub password: Option<String>,
    /// Connection attributes, passed to the backend as URL options (each backend refuses the
    /// ones it does not know). MySQL's `transaction_isolation` / `tx_isolation` are accepted
    /// when they ask for `READ-COMMITTED`, which durastore always uses.
    #[serde(default)]
    pub connect_attributes: BTreeMap<String, serde_yaml_ng::Value>,
    /// Pool size (`max_connections`).
    #[serde(default)]
    pub max_conns: Option<u32>,
    /// Most idle connections kept. durastore's pool keeps idle connections until their idle
    /// timeout (`connectAttributes.idle_timeout`, 10 min by default) and cannot cap them below
    /// the pool size, so a value below `maxConns` is refused; `0` means unset, as in Temporal.
    #[serde(default)]
    pub max_idle_conns: Option<u32>,
    /// Connections are replaced after this long (`max_lifetime`; `0` means never). Has no
    /// effect on SQLite, whose connections are to a local file.
    #[serde(default, deserialize_with = "duration")]
    pub max_conn_lifetime: Option<Duration>,
    /// Temporal's experimental task-scan partitions for sharded SQL: only the default (1) is
    /// accepted.
    #[serde(default)]
    pub task_scan_partitions: Option<u32>,
    /// TLS (see [`TlsConfig`]).
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// Temporal's SQL authentication plug-in (`rds-iam-auth`): refused.
    #[serde(default)]
    pub auth_plugin: Option<serde_yaml_ng::Value>,
}

/// Cassandra `hosts:`: Temporal's comma-separated string, or a list.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Hosts {
    /// `"a,b,c"`.
    Csv(String),
    /// `[a, b, c]`.
    List(Vec<String>),
}

impl Default for Hosts {
    fn default() -> Self {
        Hosts::List(Vec::new())
    }
}

/// Temporal's `cassandra:` datastore.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CassandraDatastore {
    /// Contact points (host names or addresses, optionally `host:port`).
    pub hosts: Hosts,
    /// Port of every host without one (9042 by default).
    #[serde(default)]
    pub port: Option<u16>,
    /// User (PasswordAuthenticator).
    #[serde(default, deserialize_with = "non_empty")]
    pub user: Option<String>,
    /// Password.
    #[serde(default, deserialize_with = "non_empty")]
    pub password: Option<String>,
    /// Keyspace.
    pub keyspace: String,
    /// Local data center: requests are routed to its nodes first (and `create-database` uses
    /// NetworkTopologyStrategy in it).
    #[serde(default, deserialize_with = "non_empty")]
    pub datacenter: Option<String>,
    /// Connections per host.
    #[serde(default)]
    pub max_conns: Option<u32>,
    /// Limit on opening a connection.
    #[serde(default, deserialize_with = "duration")]
    pub connect_timeout: Option<Duration>,
    /// TLS (see [`TlsConfig`]; `caFile` is required).
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// `consistency: { default: { consistency, serialConsistency } }`.
    #[serde(default)]
    pub consistency: Option<CassandraConsistency>,
    /// Connect only to the given hosts: refused when true (the driver discovers the ring).
    #[serde(default)]
    pub disable_initial_host_lookup: bool,
    /// Replication factor `create-database` gives the keyspace (durastore's addition).
    #[serde(default)]
    pub replication_factor: Option<u32>,
}

/// Temporal's `cassandra.consistency`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CassandraConsistency {
    /// The levels for every store.
    #[serde(default)]
    pub default: Option<CassandraConsistencySettings>,
}

/// Consistency levels, in gocql's spelling (`LOCAL_QUORUM`, `LOCAL_SERIAL`, …).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CassandraConsistencySettings {
    /// Reads and writes (default `LOCAL_QUORUM`).
    #[serde(default, deserialize_with = "non_empty")]
    pub consistency: Option<String>,
    /// The Paxos phase of conditional writes (default `LOCAL_SERIAL`).
    #[serde(default, deserialize_with = "non_empty")]
    pub serial_consistency: Option<String>,
}

/// `elasticsearch.url` (Go's `url.URL` fields as Temporal's YAML gives them).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ElasticUrl {
    /// `http` or `https`.
    pub scheme: String,
    /// `host:port`.
    pub host: String,
    /// A path prefix: refused unless empty or `/`.
    #[serde(default, deserialize_with = "non_empty")]
    pub path: Option<String>,
}

/// Temporal's `elasticsearch:` datastore (visibility on Elasticsearch 7/8 or OpenSearch 2).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ElasticsearchDatastore {
    /// `v7` or `v8` (OpenSearch answers as `v7`).
    #[serde(default, deserialize_with = "non_empty")]
    pub version: Option<String>,
    /// The server.
    #[serde(default)]
    pub url: Option<ElasticUrl>,
    /// Several nodes: refused unless it is one node (durastore talks to one endpoint).
    #[serde(default)]
    pub urls: Option<Vec<ElasticUrl>>,
    /// Basic-auth user.
    #[serde(default, deserialize_with = "non_empty")]
    pub username: Option<String>,
    /// Basic-auth password.
    #[serde(default, deserialize_with = "non_empty")]
    pub password: Option<String>,
    /// `visibility: <index>` (required); `secondary_visibility` is refused.
    #[serde(default)]
    pub indices: BTreeMap<String, String>,
    /// The Go client's own log level. durastore's logs follow `--log-level` / `RUST_LOG`, so
    /// this is accepted and has no effect.
    #[serde(default)]
    pub log_level: Option<String>,
    /// AWS request signing: refused when enabled.
    #[serde(default, rename = "aws-request-signing")]
    pub aws_request_signing: Option<serde_yaml_ng::Value>,
    /// How often the Go client closes idle HTTP connections. durastore's HTTP client closes
    /// idle connections on its own timer, so this is accepted (it must be a duration) and has
    /// no effect.
    #[serde(default, deserialize_with = "duration")]
    pub close_idle_connections_interval: Option<Duration>,
    /// Node sniffing: refused when true (durastore talks to the configured endpoint only).
    #[serde(default)]
    pub enable_sniff: bool,
    /// Node health checks: refused when true (one endpoint, no node pool to check).
    #[serde(default)]
    pub enable_healthcheck: bool,
    /// TLS (see [`TlsConfig`]; with `url.scheme: https`). Host names are always verified on
    /// the search backends, so `enableHostVerification: false` verifies more than asked.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
}

/// Which datastore of a config a caller wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreRole {
    /// `defaultStore`: shards, executions, history, task queues, namespaces, queues.
    Default,
    /// `visibilityStore` (else `advancedVisibilityStore`, else `defaultStore`).
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

/// `Option<String>` where an empty string (Temporal's templates write `caFile: ""`) is `None`.
fn non_empty<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()))
}

/// A duration in the shared grammar ([`parse_duration`]: `1h`, `15s`, `500ms`, `30`).
fn duration<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Duration>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    if text.is_empty() {
        return Ok(None);
    }
    parse_duration(&text).map(Some).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "{text:?} is not a duration (e.g. 30s, 500ms, 1m, 1h30m)"
        ))
    })
}

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

/// A duration as a URL option value (whole milliseconds, in the shared grammar).
fn duration_option(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

impl Config {
    /// Parses YAML text. Every datastore is checked, not only the ones a command uses.
    pub fn parse(yaml: &str) -> Result<Self> {
        let cfg: Config =
            serde_yaml_ng::from_str(yaml).map_err(|e| invalid(format!("bad config: {e}")))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reads and parses a YAML file. A file that cannot be read is invalid input too.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| invalid(format!("cannot read config {}: {e}", path.display())))?;
        Self::parse(&text).map_err(|e| invalid(format!("{}: {}", path.display(), e.message())))
    }

    fn validate(&self) -> Result<()> {
        let p = &self.persistence;
        if let (Some(v), Some(a)) = (&p.visibility_store, &p.advanced_visibility_store)
            && v != a
        {
            return Err(invalid(format!(
                "persistence.visibilityStore ({v:?}) and persistence.advancedVisibilityStore \
                 ({a:?}) name two datastores; durastore keeps visibility in one (Temporal's dual \
                 visibility is not supported): keep one of them"
            )));
        }
        for (role, name) in [
            ("defaultStore", Some(&p.default_store)),
            ("visibilityStore", p.visibility_store.as_ref()),
            (
                "advancedVisibilityStore",
                p.advanced_visibility_store.as_ref(),
            ),
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
        for (name, ds) in &p.datastores {
            ds.to_url(name)?;
        }
        Ok(())
    }

    /// The datastore name for a role.
    pub fn store_name(&self, role: StoreRole) -> &str {
        let p = &self.persistence;
        match role {
            StoreRole::Default => &p.default_store,
            StoreRole::Visibility => p
                .visibility_store
                .as_deref()
                .or(p.advanced_visibility_store.as_deref())
                .unwrap_or(&p.default_store),
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
        let at = |key: &str| format!("persistence.datastores.{name}.{key}");
        if self.fault_injection.is_some() {
            return Err(invalid(format!(
                "{}: fault injection is not supported by durastore; remove it",
                at("faultInjection")
            )));
        }
        if self.custom_datastore.is_some() {
            return Err(invalid(format!(
                "{}: custom datastores are not supported by durastore (use sql, cassandra, \
                 elasticsearch, sqlite or url)",
                at("customDatastore")
            )));
        }
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
        if let Some(c) = &self.cassandra {
            return cassandra_url(name, c);
        }
        match &self.elasticsearch {
            Some(e) => elastic_url(name, e),
            None => Err(invalid(format!("datastore {name:?} is empty"))),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
