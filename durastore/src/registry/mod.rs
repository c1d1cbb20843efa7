//! The backend registry: the one place that knows which backends exist.
//!
//! A store URL is parsed once into a [`BackendKind`] (by its scheme), and the kind's
//! [`Provider`] does everything the facade does per backend: open the stores, reach the schema
//! (driver and embedded set), create and drop the database, make test databases, declare the
//! backend's capabilities and redact its URLs. The [factory](crate::factory) and the CLI only
//! dispatch through it, so adding a backend is a variant here plus a provider module.
//!
//! Each provider is compiled only with its cargo feature (`sqlite`, `postgres`, `mysql`,
//! `cassandra`, `elastic`); a URL of a backend that is compiled out is refused with the feature
//! to enable ([`BackendKind::provider`]).

#[cfg(feature = "cassandra")]
mod cassandra;
#[cfg(feature = "elastic")]
mod elastic;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

use durastore_api::schema::{SchemaDriver, SchemaSet};
use durastore_api::{Capability, Result, StoreError, Stores, async_trait};

/// What to do when a file database does not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create it (and its schema).
    CreateIfMissing,
    /// Fail with `NotFound` (inspection must not leave new files behind).
    MustExist,
}

/// What opening a schema target does when a file database does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaOpen {
    /// Create it (setup, update).
    Create,
    /// Describe an empty database instead and create nothing (dry runs).
    EmptyIfMissing,
    /// Fail with `NotFound` (version, verify).
    MustExist,
}

/// What [`Provider::create_database`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// The database (file, keyspace) was created.
    New,
    /// It existed already; nothing changed.
    Existed,
    /// This backend has no database apart from its schema: `durastore schema setup` creates
    /// it (the indexes of Elasticsearch/OpenSearch).
    BySchemaSetup,
}

/// A backend, as named by the scheme of a store URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// SQLite (`sqlite:`), embedded.
    Sqlite,
    /// PostgreSQL (`postgres:`, `postgresql:`).
    Postgres,
    /// MySQL or MariaDB (`mysql:`, `mariadb:`).
    Mysql,
    /// Apache Cassandra or ScyllaDB (`cassandra:`, `scylla:`).
    Cassandra,
    /// Elasticsearch or OpenSearch (`elasticsearch:`, `opensearch:`), visibility only.
    Elastic,
}

impl BackendKind {
    /// Every backend, compiled in or not.
    pub const ALL: [BackendKind; 5] = [
        BackendKind::Sqlite,
        BackendKind::Postgres,
        BackendKind::Mysql,
        BackendKind::Cassandra,
        BackendKind::Elastic,
    ];

    /// Short name (`sqlite`, `postgres`, `mysql`, `cassandra`, `elastic`).
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgres",
            BackendKind::Mysql => "mysql",
            BackendKind::Cassandra => "cassandra",
            BackendKind::Elastic => "elastic",
        }
    }

    /// The URL schemes that name this backend.
    pub fn schemes(self) -> &'static [&'static str] {
        match self {
            BackendKind::Sqlite => &["sqlite"],
            BackendKind::Postgres => &["postgres", "postgresql"],
            BackendKind::Mysql => &["mysql", "mariadb"],
            BackendKind::Cassandra => &["cassandra", "scylla"],
            BackendKind::Elastic => &["elasticsearch", "opensearch"],
        }
    }

    /// The cargo feature of the `durastore` crate that compiles this backend in.
    pub fn feature(self) -> &'static str {
        self.name()
    }

    /// The backend a URL scheme names, if any.
    pub fn from_scheme(scheme: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.schemes().contains(&scheme))
    }

    /// The backend of a store URL; `InvalidArgument` for a text that is not a store URL or an
    /// unknown scheme (with the known ones listed).
    pub fn from_url(url: &str) -> Result<Self> {
        let scheme = scheme_of(url)?;
        Self::from_scheme(scheme).ok_or_else(|| {
            StoreError::invalid_argument(format!(
                "unknown store URL scheme {scheme:?} (known: {})",
                known_schemes().join(", ")
            ))
        })
    }

    /// This backend's provider; `Unsupported` naming the cargo feature when this build does not
    /// have the backend.
    pub fn provider(self) -> Result<&'static dyn Provider> {
        match self {
            #[cfg(feature = "sqlite")]
            BackendKind::Sqlite => Ok(&sqlite::SqliteProvider),
            #[cfg(feature = "postgres")]
            BackendKind::Postgres => Ok(&postgres::PostgresProvider),
            #[cfg(feature = "mysql")]
            BackendKind::Mysql => Ok(&mysql::MysqlProvider),
            #[cfg(feature = "cassandra")]
            BackendKind::Cassandra => Ok(&cassandra::CassandraProvider),
            #[cfg(feature = "elastic")]
            BackendKind::Elastic => Ok(&elastic::ElasticProvider),
            // Reachable only when a backend feature is off.
            #[allow(unreachable_patterns)]
            other => Err(StoreError::unsupported(format!(
                "{} URLs ({}) need the `{}` cargo feature of the durastore crate, which this \
                 build does not have (depend on durastore with features = [\"{}\"])",
                other.name(),
                other
                    .schemes()
                    .iter()
                    .map(|s| format!("{s}:"))
                    .collect::<Vec<_>>()
                    .join(", "),
                other.feature(),
                other.feature()
            ))),
        }
    }

    /// The providers of the backends compiled into this build.
    pub fn compiled() -> impl Iterator<Item = &'static dyn Provider> {
        Self::ALL.into_iter().filter_map(|k| k.provider().ok())
    }
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Every URL scheme a backend answers to, compiled in or not.
pub fn known_schemes() -> Vec<&'static str> {
    BackendKind::ALL
        .into_iter()
        .flat_map(BackendKind::schemes)
        .copied()
        .collect()
}

/// The provider of the backend `url` names.
pub fn provider_for(url: &str) -> Result<&'static dyn Provider> {
    BackendKind::from_url(url)?.provider()
}

/// The scheme of a URL: the text before the first `:` (`sqlite::memory:` -> `sqlite`).
pub fn scheme_of(url: &str) -> Result<&str> {
    match url.split_once(':') {
        Some((s, _))
            if !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) =>
        {
            Ok(s)
        }
        _ => Err(StoreError::invalid_argument(format!(
            "{url:?} is not a store URL (expected e.g. sqlite:///path/to/file.db or sqlite::memory:)"
        ))),
    }
}

/// Everything the facade does that differs per backend. One implementation per backend, each
/// behind the backend's cargo feature; reach it with [`BackendKind::provider`].
#[async_trait]
pub trait Provider: Send + Sync {
    /// Which backend this is.
    fn kind(&self) -> BackendKind;

    /// What the backend supports with every schema set it ships set up (a database missing a
    /// set serves less; see [`Stores::capability`]).
    fn capability(&self) -> Capability;

    /// The schema sets the backend ships, in setup order (`main` first).
    fn schema_sets(&self) -> &'static [&'static str];

    /// Whether the backend runs on a server (conformance runs then get a database of their
    /// own) rather than embedded.
    fn is_server(&self) -> bool {
        true
    }

    /// `url` with its password replaced by `***`, for printing.
    fn redact(&self, url: &str) -> String {
        redact_url(url)
    }

    /// Opens the stores at `url`.
    async fn open(&self, url: &str, mode: OpenMode) -> Result<Stores>;

    /// The embedded schema set `set` of this backend.
    fn embedded_set(&self, set: &str) -> Result<SchemaSet>;

    /// Connects to `url` for schema set `set` without touching its schema.
    async fn schema_driver(
        &self,
        url: &str,
        set: &str,
        mode: SchemaOpen,
    ) -> Result<Box<dyn SchemaDriver>>;

    /// An empty database of this backend next to `url`, where `schema verify` builds the
    /// expected schema of `set`.
    async fn scratch(&self, url: &str, set: &str) -> Result<Box<dyn SchemaDriver>>;

    /// Creates the database `url` names (Temporal's `create-database`).
    async fn create_database(&self, url: &str) -> Result<Created>;

    /// Drops the database `url` names (Temporal's `drop-database`).
    async fn drop_database(&self, url: &str) -> Result<()>;

    /// The servers of this backend the conformance test binary provisions (one per flavor).
    #[cfg(feature = "test-support")]
    fn test_servers(&self) -> &'static [crate::provision::ServerBackend] {
        &[]
    }

    /// Creates the empty database `name` on the server of `admin_url` and returns its URL.
    #[cfg(feature = "test-support")]
    async fn create_test_database(&self, admin_url: &str, name: &str) -> Result<String> {
        let _ = (admin_url, name);
        Err(no_test_database(self.kind()))
    }

    /// Drops the test database `name` on the server of `admin_url`.
    #[cfg(feature = "test-support")]
    async fn drop_test_database(&self, admin_url: &str, name: &str) -> Result<()> {
        let _ = (admin_url, name);
        Err(no_test_database(self.kind()))
    }
}

/// Test databases are for server backends; an embedded one runs on a temporary file.
#[cfg(feature = "test-support")]
fn no_test_database(kind: BackendKind) -> StoreError {
    StoreError::unsupported(format!(
        "{kind} is embedded: tests run on a temporary file, not a database of their own"
    ))
}

/// A store URL with its password replaced by `***`, for printing. Multi-host Cassandra URLs
/// (`cassandra://u:p@a:9042,b:9042/ks`) are not `url::Url`s, so those are masked by text.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(_) => url.to_string(),
        Err(_) => {
            let Some((scheme, rest)) = url.split_once("://") else {
                return url.to_string();
            };
            let end = rest.find(['/', '?']).unwrap_or(rest.len());
            let (authority, tail) = rest.split_at(end);
            match authority.rsplit_once('@') {
                Some((userinfo, hosts)) if userinfo.contains(':') => {
                    let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
                    format!("{scheme}://{user}:***@{hosts}{tail}")
                }
                _ => url.to_string(),
            }
        }
    }
}

/// The database name a server URL's path names (`postgres://h/db` -> `db`).
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn database_of(url: &str) -> Result<String> {
    let u = url::Url::parse(url)
        .map_err(|e| StoreError::invalid_argument(format!("not a URL ({e})")))?;
    let name = u.path().trim_start_matches('/').to_string();
    if name.is_empty() {
        return Err(StoreError::invalid_argument(
            "the URL names no database (expected …/DATABASE)",
        ));
    }
    Ok(name)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_urls() {
        assert_eq!(scheme_of("sqlite::memory:").unwrap(), "sqlite");
        assert_eq!(scheme_of("postgres://h/db").unwrap(), "postgres");
        assert!(scheme_of("/just/a/path").is_err());
        assert!(scheme_of("").is_err());
        for kind in BackendKind::ALL {
            for scheme in kind.schemes() {
                let url = format!("{scheme}://h/x");
                assert_eq!(BackendKind::from_url(&url).unwrap(), kind, "{url}");
            }
        }
        let e = BackendKind::from_url("oracle://h/x").unwrap_err();
        assert_eq!(e.kind(), durastore_api::ErrorKind::InvalidArgument);
        assert!(e.message().contains("known: sqlite, postgres"), "{e}");
        // Every scheme belongs to exactly one backend.
        let all = known_schemes();
        let mut dedup = all.clone();
        dedup.sort_unstable();
        dedup.dedup();
        assert_eq!(all.len(), dedup.len());
    }

    #[test]
    fn providers_match_their_kind() {
        for kind in BackendKind::ALL {
            match kind.provider() {
                Ok(p) => {
                    assert_eq!(p.kind(), kind);
                    assert!(!p.schema_sets().is_empty());
                    for set in p.schema_sets() {
                        assert_eq!(p.embedded_set(set).unwrap().name, *set);
                    }
                }
                Err(e) => {
                    assert_eq!(e.kind(), durastore_api::ErrorKind::Unsupported);
                    let feature = format!("`{}` cargo feature", kind.feature());
                    assert!(e.message().contains(&feature), "{e}");
                }
            }
        }
    }

    #[test]
    fn redaction() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(
            redact_url("cassandra://u:secret@a:9042,b:9042/ks?tls=true"),
            "cassandra://u:***@a:9042,b:9042/ks?tls=true"
        );
        assert_eq!(redact_url("cassandra://a,b/ks"), "cassandra://a,b/ks");
        assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
    }
}
