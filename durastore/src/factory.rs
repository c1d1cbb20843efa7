//! The opener: URL or config -> [`Stores`], and URL -> schema target.
//!
//! Every backend is one match arm in [`open_with`], [`open_schema`] and the test-database
//! helpers; the URL scheme picks the arm (`sqlite:`, `postgres://` / `postgresql://`,
//! `mysql://` / `mariadb://`, `cassandra://` / `scylla://`). On Cassandra the "database" of
//! the schema tool and the test helpers is a keyspace.

use std::path::PathBuf;

use durastore_api::schema::ApplyOptions;
use durastore_api::schema::{SchemaDriver, SchemaSet};
use durastore_api::{ErrorKind, Result, StoreError, Stores};
use durastore_cassandra::CassandraConfig;
use durastore_cassandra::schema::CassandraSchemaDriver;
use durastore_elastic::ElasticConfig;
use durastore_elastic::schema::ElasticSchemaDriver;
use durastore_mysql::schema::MysqlSchemaDriver;
use durastore_postgres::schema::PostgresSchemaDriver;
use durastore_sqlite::SqliteConfig;
use durastore_sqlite::schema::SqliteSchemaDriver;

use crate::config::{Config, StoreRole};

/// URL schemes [`open`] understands.
pub const KNOWN_SCHEMES: &[&str] = &[
    "sqlite",
    "postgres",
    "postgresql",
    "mysql",
    "mariadb",
    "cassandra",
    "scylla",
    "elasticsearch",
    "opensearch",
];

/// What to do when a file database does not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create it (and its schema).
    CreateIfMissing,
    /// Fail with `NotFound` (inspection must not leave new files behind).
    MustExist,
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

fn unknown_scheme(scheme: &str) -> StoreError {
    StoreError::invalid_argument(format!(
        "unknown store URL scheme {scheme:?} (known: {})",
        KNOWN_SCHEMES.join(", ")
    ))
}

/// Opens the stores at `url`, creating a file database if missing.
///
/// The scheme picks the backend: `sqlite:///path/file.db` (created with its schema if missing)
/// and `sqlite::memory:`, `postgres://` / `postgresql://`, `mysql://` / `mariadb://`,
/// `cassandra://` / `scylla://`, `elasticsearch://` / `opensearch://` (each backend's URL
/// options are in its crate's `docs.md`). Unknown schemes and options are `InvalidArgument`.
///
/// Each field of [`Stores`] is `None` when the backend does not provide that store: Cassandra
/// has no visibility store, the search backends only have one. On the server SQL backends a
/// store is also `None` when its schema set is not set up in the database (`durastore schema
/// setup [--set visibility]`); with neither set up, `open` fails with `NotFound`.
///
/// # Example
/// A namespace, a shard lease and a workflow run on an in-memory SQLite database
/// (`durastore/examples/walkthrough.rs` goes on through matching, history and visibility):
/// ```
/// use durastore_api::*;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<()> {
/// let stores = durastore::open("sqlite::memory:").await?;
/// let missing = |name: &str| StoreError::unsupported(format!("no {name} store"));
/// let namespaces = stores.namespace.clone().ok_or_else(|| missing("namespace"))?;
/// let shards = stores.shard.clone().ok_or_else(|| missing("shard"))?;
/// let executions = stores.execution.clone().ok_or_else(|| missing("execution"))?;
///
/// // A namespace's id is a UUID of the caller's choosing; the name resolves to it.
/// let ns = NamespaceId::new_random();
/// namespaces
///     .create_namespace(CreateNamespaceRequest {
///         id: ns,
///         name: "orders".into(),
///         detail: DataBlob::proto3(b"detail"),
///         is_global: false,
///     })
///     .await?;
/// assert_eq!(namespaces.get_namespace_by_name("orders").await?.id, ns);
///
/// // Every execution write carries the shard's range id (its lease).
/// let shard = ShardId(1);
/// let create = GetOrCreateShardRequest::create_if_missing(shard, 1, DataBlob::proto3(b""));
/// let range_id = shards.get_or_create_shard(create).await?.range_id;
///
/// let key = WorkflowKey::new(ns, "order-42", RunId::new_random());
/// let cols = ExecutionStateColumns::new(WorkflowState::Running, WorkflowStatus::Running);
/// let (info, state) = (DataBlob::proto3(b"info"), DataBlob::proto3(b"state"));
/// // The first history task id of this lease (Temporal's scheme: range_id << 20 on).
/// let task = HistoryTask::new(HistoryTaskKey::immediate(range_id << 20), DataBlob::proto3(b"wf task"));
/// let snapshot = WorkflowSnapshot::new(key.clone(), info, state, cols, 3)
///     .with_task(TaskCategory::TRANSFER, task);
/// executions
///     .create_workflow_execution(CreateWorkflowExecutionRequest::new(shard, range_id, snapshot))
///     .await?;
///
/// let current = executions.get_current_execution(shard, ns, &key.workflow_id).await?;
/// assert_eq!(current.run_id, key.run_id);
/// // A new run starts at db_record_version 1; each update writes the stored version + 1.
/// let state = executions.get_workflow_execution(shard, &key).await?;
/// assert_eq!(state.db_record_version, 1);
/// # Ok(())
/// # }
/// ```
pub async fn open(url: &str) -> Result<Stores> {
    open_with(url, OpenMode::CreateIfMissing).await
}

/// Opens the stores at `url`.
pub async fn open_with(url: &str, mode: OpenMode) -> Result<Stores> {
    match scheme_of(url)? {
        "sqlite" => {
            if mode == OpenMode::MustExist {
                sqlite_must_exist(url)?;
            }
            durastore_sqlite::open(url).await
        }
        "postgres" | "postgresql" => durastore_postgres::open(url).await,
        "mysql" | "mariadb" => durastore_mysql::open(url).await,
        "cassandra" | "scylla" => durastore_cassandra::open(url).await,
        "elasticsearch" | "opensearch" => durastore_elastic::open(url).await,
        other => Err(unknown_scheme(other)),
    }
}

/// Opens the stores a config describes: `defaultStore`, with visibility from `visibilityStore`
/// when that is a different datastore (Temporal's composite layout).
pub async fn open_config(cfg: &Config, mode: OpenMode) -> Result<Stores> {
    let mut stores = open_with(&cfg.store_url(StoreRole::Default)?, mode).await?;
    if cfg.store_name(StoreRole::Visibility) != cfg.store_name(StoreRole::Default) {
        let vis = open_with(&cfg.store_url(StoreRole::Visibility)?, mode).await?;
        stores.visibility = vis.visibility;
    }
    Ok(stores)
}

fn sqlite_path(url: &str) -> Result<Option<PathBuf>> {
    Ok(SqliteConfig::from_url(url)?.path)
}

fn sqlite_must_exist(url: &str) -> Result<()> {
    if let Some(p) = sqlite_path(url)?
        && !p.exists()
    {
        return Err(StoreError::not_found(format!(
            "no SQLite database at {} (create it with `durastore schema setup --url {url}`)",
            p.display()
        )));
    }
    Ok(())
}

/// What the schema tool works on: the embedded set of one backend and a driver for the database.
pub struct SchemaTarget {
    /// The embedded schema set.
    pub set: SchemaSet,
    /// The database.
    pub driver: Box<dyn SchemaDriver>,
    scheme: String,
    url: String,
}

impl std::fmt::Debug for SchemaTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaTarget")
            .field("set", &self.set.name)
            .field("backend", &self.scheme)
            .finish()
    }
}

impl SchemaTarget {
    /// An empty database of the same backend, where `verify` builds the expected schema.
    pub async fn scratch(&self) -> Result<Box<dyn SchemaDriver>> {
        match self.scheme.as_str() {
            "sqlite" => Ok(Box::new(SqliteSchemaDriver::scratch(&self.set.name).await?)),
            "postgres" | "postgresql" => Ok(Box::new(
                PostgresSchemaDriver::scratch(&self.url, &self.set.name).await?,
            )),
            "mysql" | "mariadb" => Ok(Box::new(
                MysqlSchemaDriver::scratch(&self.url, &self.set.name).await?,
            )),
            "cassandra" | "scylla" => Ok(Box::new(
                CassandraSchemaDriver::scratch(&self.url, &self.set.name).await?,
            )),
            "elasticsearch" | "opensearch" => Ok(Box::new(ElasticSchemaDriver::scratch(
                &ElasticConfig::from_url(&self.url)?,
            )?)),
            other => Err(unknown_scheme(other)),
        }
    }
}

/// What [`open_schema`] does when a file database does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaOpen {
    /// Create it (setup, update).
    Create,
    /// Describe an empty database instead and create nothing (dry runs).
    EmptyIfMissing,
    /// Fail with `NotFound` (version, verify).
    MustExist,
}

/// Connects to `url` for schema set `set` without touching its schema.
pub async fn open_schema(url: &str, set: &str, mode: SchemaOpen) -> Result<SchemaTarget> {
    let scheme = scheme_of(url)?.to_string();
    match scheme.as_str() {
        "sqlite" => {
            let schema_set = durastore_sqlite::schema::schema_set(set)?;
            let mut cfg = SqliteConfig::from_url(url)?;
            if let Some(p) = cfg.path.clone()
                && !p.exists()
            {
                match mode {
                    SchemaOpen::Create => {}
                    SchemaOpen::EmptyIfMissing => cfg = SqliteConfig::from_url("sqlite::memory:")?,
                    SchemaOpen::MustExist => {
                        return Err(StoreError::new(
                            ErrorKind::NotFound,
                            format!(
                                "no SQLite database at {} (create it with \
                                 `durastore schema setup --url {url}`)",
                                p.display()
                            ),
                        ));
                    }
                }
            }
            let driver = durastore_sqlite::connect(&cfg).await?;
            Ok(SchemaTarget {
                driver: Box::new(SqliteSchemaDriver::new(&driver, set)),
                set: schema_set,
                scheme,
                url: url.to_string(),
            })
        }
        "postgres" | "postgresql" => {
            let schema_set = durastore_postgres::schema::schema_set(set)?;
            if mode == SchemaOpen::Create {
                durastore_postgres::ensure_database(url).await?;
            }
            Ok(SchemaTarget {
                driver: Box::new(PostgresSchemaDriver::connect(url, set).await?),
                set: schema_set,
                scheme,
                url: url.to_string(),
            })
        }
        "mysql" | "mariadb" => {
            let schema_set = durastore_mysql::schema::schema_set(set)?;
            let driver = if mode == SchemaOpen::Create {
                MysqlSchemaDriver::connect_creating(url, set).await?
            } else {
                MysqlSchemaDriver::connect(url, set).await?
            };
            Ok(SchemaTarget {
                driver: Box::new(driver),
                set: schema_set,
                scheme,
                url: url.to_string(),
            })
        }
        "cassandra" | "scylla" => {
            let schema_set = durastore_cassandra::schema::schema_set(set)?;
            // The keyspace plays the database: setup creates it (with the URL's replication
            // settings), a dry run describes a missing one as empty.
            let driver = match mode {
                SchemaOpen::Create => CassandraSchemaDriver::connect_creating(url, set).await?,
                SchemaOpen::EmptyIfMissing => {
                    CassandraSchemaDriver::connect_or_empty(url, set).await?
                }
                SchemaOpen::MustExist => CassandraSchemaDriver::connect(url, set).await?,
            };
            Ok(SchemaTarget {
                driver: Box::new(driver),
                set: schema_set,
                scheme,
                url: url.to_string(),
            })
        }
        "elasticsearch" | "opensearch" => {
            // The index plays the database; setup creates it.
            let schema_set = durastore_elastic::schema::embedded_set(set)?;
            let cfg = ElasticConfig::from_url(url)?;
            Ok(SchemaTarget {
                driver: Box::new(ElasticSchemaDriver::new(&cfg)?),
                set: schema_set,
                scheme,
                url: url.to_string(),
            })
        }
        other => Err(unknown_scheme(other)),
    }
}

/// The database name a server URL's path names (`postgres://h/db` -> `db`).
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

/// Creates the database `url` names (Temporal's `create-database`). Returns false when it
/// already existed. SQLite creates the file.
pub async fn create_database(url: &str) -> Result<bool> {
    match scheme_of(url)? {
        "sqlite" => {
            let cfg = SqliteConfig::from_url(url)?;
            let existed = cfg.path.as_ref().is_some_and(|p| p.exists());
            durastore_sqlite::connect(&cfg).await?;
            Ok(!existed)
        }
        "postgres" | "postgresql" => durastore_postgres::ensure_database(url).await,
        "mysql" | "mariadb" => {
            let name = database_of(url)?;
            let existed = durastore_mysql::database_exists(url, &name).await?;
            durastore_mysql::create_database(url, &name).await?;
            Ok(!existed)
        }
        "cassandra" | "scylla" => {
            durastore_cassandra::schema::create_keyspace(&cassandra_keyspace_of(url)?).await
        }
        // Indexes are created by `schema setup` (they are the schema).
        "elasticsearch" | "opensearch" => Ok(false),
        other => Err(unknown_scheme(other)),
    }
}

/// The settings of a Cassandra URL that must name its keyspace explicitly: creating or dropping
/// the default keyspace because a path was forgotten would be a surprise.
fn cassandra_keyspace_of(url: &str) -> Result<CassandraConfig> {
    // By text: multi-host Cassandra URLs (`a:9042,b:9042`) are not `url::Url`s.
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split_once('?').map_or(rest, |(r, _)| r);
    let named = rest
        .split_once('/')
        .is_some_and(|(_, path)| !path.trim_matches('/').is_empty());
    if !named {
        return Err(StoreError::invalid_argument(
            "the URL names no keyspace (expected cassandra://HOST:PORT/KEYSPACE)",
        ));
    }
    CassandraConfig::from_url(url)
}

/// Drops the database `url` names (Temporal's `drop-database`). SQLite removes the file.
pub async fn drop_database(url: &str) -> Result<()> {
    match scheme_of(url)? {
        "sqlite" => match SqliteConfig::from_url(url)?.path {
            Some(p) => {
                for suffix in ["", "-wal", "-shm"] {
                    let f = PathBuf::from(format!("{}{suffix}", p.display()));
                    if f.exists() {
                        std::fs::remove_file(&f).map_err(|e| {
                            StoreError::internal(format!("cannot remove {}: {e}", f.display()))
                        })?;
                    }
                }
                Ok(())
            }
            None => Ok(()),
        },
        "postgres" | "postgresql" => {
            let name = database_of(url)?;
            // Dropped through a maintenance database: a session cannot drop its own database.
            let maint = if name == "postgres" {
                "template1"
            } else {
                "postgres"
            };
            let admin = durastore_postgres::url_with_database(url, maint)?;
            durastore_postgres::drop_database(&admin, &name).await
        }
        "mysql" | "mariadb" => durastore_mysql::drop_database(url, &database_of(url)?).await,
        "cassandra" | "scylla" => {
            durastore_cassandra::schema::drop_keyspace(&cassandra_keyspace_of(url)?).await
        }
        "elasticsearch" | "opensearch" => {
            durastore_elastic::drop_indexes(&ElasticConfig::from_url(url)?).await
        }
        other => Err(unknown_scheme(other)),
    }
}

/// A database made for one conformance run on a server backend
/// (docs/architecture.md#provisioning-and-isolation): created
/// with a unique name next to the database the admin URL names, given the current schema, and
/// dropped by [`TestDatabase::drop`].
#[derive(Debug, Clone)]
pub struct TestDatabase {
    /// URL of the new database (what the stores are opened with).
    pub url: String,
    admin_url: String,
    name: String,
}

/// `url` (a `cassandra://` or `scylla://` URL) with its path replaced by `keyspace`, keeping
/// hosts, credentials and options. Cassandra URLs may list several hosts, which `url::Url` does
/// not parse, so this works on the text.
fn cassandra_url_with_keyspace(url: &str, keyspace: &str) -> Result<String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| StoreError::invalid_argument("cassandra URL: missing ://"))?;
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let authority = before_query
        .split_once('/')
        .map_or(before_query, |(a, _)| a);
    let mut out = format!("{scheme}://{authority}/{keyspace}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    // Parse it back: the result must be a URL the backend accepts, naming that keyspace.
    let cfg = CassandraConfig::from_url(&out)?;
    if cfg.keyspace != keyspace {
        return Err(StoreError::internal(format!(
            "cassandra URL: could not point the URL at keyspace {keyspace}"
        )));
    }
    Ok(out)
}

/// The schema sets the backend of `url` ships, in setup order (`main` first; SQL backends also
/// `visibility`).
pub fn schema_sets(url: &str) -> Result<&'static [&'static str]> {
    use durastore_api::schema::{SET_MAIN, SET_NAMES, SET_VISIBILITY};
    match scheme_of(url)? {
        "sqlite" | "postgres" | "postgresql" | "mysql" | "mariadb" => Ok(SET_NAMES),
        "cassandra" | "scylla" => Ok(&[SET_MAIN]),
        "elasticsearch" | "opensearch" => Ok(&[SET_VISIBILITY]),
        other => Err(unknown_scheme(other)),
    }
}

/// Whether `url` names a server backend whose runs get their own database.
pub fn is_server_url(url: &str) -> bool {
    matches!(
        scheme_of(url),
        Ok("postgres"
            | "postgresql"
            | "mysql"
            | "mariadb"
            | "cassandra"
            | "scylla"
            | "elasticsearch"
            | "opensearch")
    )
}

/// Creates a uniquely named database on the server of `admin_url` and sets up every schema set
/// its backend ships ([`schema_sets`]).
pub async fn create_test_database(admin_url: &str) -> Result<TestDatabase> {
    let name = format!(
        "durastore_conf_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    );
    let url = match scheme_of(admin_url)? {
        "postgres" | "postgresql" => {
            durastore_postgres::create_database(admin_url, &name).await?;
            durastore_postgres::url_with_database(admin_url, &name)?
        }
        "mysql" | "mariadb" => {
            durastore_mysql::create_database(admin_url, &name).await?;
            durastore_mysql::url_with_database(admin_url, &name)?
        }
        "cassandra" | "scylla" => {
            let cfg = CassandraConfig::from_url(admin_url)?.with_keyspace(&name)?;
            durastore_cassandra::schema::create_keyspace(&cfg).await?;
            cassandra_url_with_keyspace(admin_url, &name)?
        }
        // An index per run (created by the schema setup below).
        "elasticsearch" | "opensearch" => durastore_elastic::url_with_index(admin_url, &name)?,
        other => return Err(unknown_scheme(other)),
    };
    let db = TestDatabase {
        url,
        admin_url: admin_url.to_string(),
        name,
    };
    let setup = async {
        for set in schema_sets(&db.url)? {
            let t = open_schema(&db.url, set, SchemaOpen::MustExist).await?;
            durastore_api::schema::setup(&t.set, t.driver.as_ref(), &ApplyOptions::default())
                .await?;
        }
        Ok::<_, StoreError>(())
    };
    if let Err(e) = setup.await {
        // Do not leave a half-made database behind.
        let _ = db.clone().drop().await;
        return Err(e);
    }
    Ok(db)
}

impl TestDatabase {
    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database.
    pub async fn drop(self) -> Result<()> {
        match scheme_of(&self.admin_url)? {
            "postgres" | "postgresql" => {
                durastore_postgres::drop_database(&self.admin_url, &self.name).await
            }
            "mysql" | "mariadb" => {
                durastore_mysql::drop_database(&self.admin_url, &self.name).await
            }
            "cassandra" | "scylla" => {
                let cfg = CassandraConfig::from_url(&self.admin_url)?.with_keyspace(&self.name)?;
                durastore_cassandra::schema::drop_keyspace(&cfg).await
            }
            "elasticsearch" | "opensearch" => {
                let cfg = ElasticConfig::from_url(&self.admin_url)?.with_index(&self.name)?;
                durastore_elastic::drop_indexes(&cfg).await
            }
            other => Err(unknown_scheme(other)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn schemes() {
        assert_eq!(scheme_of("sqlite::memory:").unwrap(), "sqlite");
        assert_eq!(scheme_of("postgres://h/db").unwrap(), "postgres");
        assert!(scheme_of("/just/a/path").is_err());
        assert!(scheme_of("").is_err());
        let e = open("oracle://127.0.0.1/ks").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.message().contains("known: sqlite, postgres"), "{e}");
        assert!(e.message().contains("cassandra"), "{e}");
        assert!(is_server_url("cassandra://127.0.0.1/ks"));
        assert!(is_server_url("scylla://a,b:9043/ks"));
        let stores = open("sqlite::memory:").await.unwrap();
        assert_eq!(stores.name(), "sqlite");
        let e = open_with("sqlite:///nonexistent/dir/x.db", OpenMode::MustExist)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        let e = open_schema("sqlite:///nonexistent/x.db", "main", SchemaOpen::MustExist)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(
            open_schema(
                "sqlite:///nonexistent/x.db",
                "main",
                SchemaOpen::EmptyIfMissing
            )
            .await
            .is_ok()
        );
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

    #[test]
    fn cassandra_test_urls() {
        assert_eq!(
            cassandra_url_with_keyspace("cassandra://127.0.0.1:9042", "ks_1").unwrap(),
            "cassandra://127.0.0.1:9042/ks_1"
        );
        assert_eq!(
            cassandra_url_with_keyspace(
                "scylla://u:p@a:9042,b/old?consistency=one&replication_factor=3",
                "k"
            )
            .unwrap(),
            "scylla://u:p@a:9042,b/k?consistency=one&replication_factor=3"
        );
        assert!(cassandra_url_with_keyspace("cassandra://h/", "bad-name").is_err());
        assert!(cassandra_keyspace_of("cassandra://127.0.0.1:9042").is_err());
        assert_eq!(
            cassandra_keyspace_of("cassandra://127.0.0.1:9042/abc")
                .unwrap()
                .keyspace,
            "abc"
        );
    }
}
