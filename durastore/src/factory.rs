//! The opener: URL or config -> [`Stores`], and URL -> schema target.
//!
//! Every function here parses the URL once into a [`BackendKind`](crate::registry::BackendKind)
//! and hands the work to that backend's [`Provider`]; the scheme picks the backend (`sqlite:`,
//! `postgres://` / `postgresql://`, `mysql://` / `mariadb://`, `cassandra://` / `scylla://`,
//! `elasticsearch://` / `opensearch://`). On Cassandra the "database" of the schema tool is a
//! keyspace; on Elasticsearch/OpenSearch it is the index.

use durastore_api::schema::{SchemaDriver, SchemaSet};
use durastore_api::{Result, Stores};

use crate::config::{Config, StoreRole};
use crate::registry::{Provider, provider_for};

pub use crate::registry::{Created, OpenMode, SchemaOpen, scheme_of};

/// A store URL with its password replaced by `***`, for printing. Multi-host Cassandra URLs
/// (`cassandra://u:p@a:9042,b:9042/ks`) are not `url::Url`s, so those are masked by text.
pub fn redact_url(url: &str) -> String {
    match provider_for(url) {
        Ok(p) => p.redact(url),
        // An unknown or compiled-out backend is still masked as well as its text allows.
        Err(_) => crate::registry::redact_url(url),
    }
}

/// Opens the stores at `url`, creating a file database if missing.
///
/// The scheme picks the backend: `sqlite:///path/file.db` (created with its schema if missing)
/// and `sqlite::memory:`, `postgres://` / `postgresql://`, `mysql://` / `mariadb://`,
/// `cassandra://` / `scylla://`, `elasticsearch://` / `opensearch://` (each backend's URL
/// options are in its crate's `docs.md`). Unknown schemes and options are `InvalidArgument`.
///
/// A store the backend does not provide, or whose schema set is not set up in the database, is
/// `None` in its [`Stores`] field, and its accessor ([`Stores::visibility`], [`Stores::shard`],
/// …) returns an `Unsupported` error that says which: Cassandra ships the `main` set only (no
/// visibility store), Elasticsearch/OpenSearch the `visibility` set only; on the server SQL
/// backends `main` and `visibility` may be set up apart (`durastore schema setup [--set
/// visibility]`), and the error names the missing set and that command. A SQLite database is
/// given both sets when it is created; a server database with no set at all, or with a set that
/// is older than this build, half-applied or newer, is refused with the command to run.
///
/// A URL whose backend is not compiled into this build is refused with the cargo feature to
/// enable (`postgres`, `mysql`, `cassandra`, `elastic`; `sqlite` is on by default).
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
/// // Each accessor is an error naming the schema set (and the setup command) when absent.
/// let namespaces = stores.namespace()?;
/// let shards = stores.shard()?;
/// let executions = stores.execution()?;
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

/// Opens the stores at `url` (see [`open`]); with [`OpenMode::MustExist`] a missing file
/// database is `NotFound` instead of created.
pub async fn open_with(url: &str, mode: OpenMode) -> Result<Stores> {
    provider_for(url)?.open(url, mode).await
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

/// What the schema tool works on: the embedded set of one backend and a driver for the database.
pub struct SchemaTarget {
    /// The embedded schema set.
    pub set: SchemaSet,
    /// The database.
    pub driver: Box<dyn SchemaDriver>,
    provider: &'static dyn Provider,
    url: String,
}

impl std::fmt::Debug for SchemaTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaTarget")
            .field("set", &self.set.name)
            .field("backend", &self.provider.kind())
            .finish()
    }
}

impl SchemaTarget {
    /// An empty database of the same backend, where `verify` builds the expected schema.
    pub async fn scratch(&self) -> Result<Box<dyn SchemaDriver>> {
        self.provider.scratch(&self.url, &self.set.name).await
    }
}

/// Connects to `url` for schema set `set` without touching its schema.
pub async fn open_schema(url: &str, set: &str, mode: SchemaOpen) -> Result<SchemaTarget> {
    let provider = provider_for(url)?;
    let schema_set = provider.embedded_set(set)?;
    Ok(SchemaTarget {
        driver: provider.schema_driver(url, set, mode).await?,
        set: schema_set,
        provider,
        url: url.to_string(),
    })
}

/// Creates the database `url` names (Temporal's `create-database`); SQLite creates the file,
/// Cassandra the keyspace.
pub async fn create_database(url: &str) -> Result<Created> {
    provider_for(url)?.create_database(url).await
}

/// Drops the database `url` names (Temporal's `drop-database`). SQLite removes the file,
/// Cassandra the keyspace, Elasticsearch/OpenSearch the indexes.
pub async fn drop_database(url: &str) -> Result<()> {
    provider_for(url)?.drop_database(url).await
}

/// The schema sets the backend of `url` ships, in setup order (`main` first; SQL backends also
/// `visibility`).
pub fn schema_sets(url: &str) -> Result<&'static [&'static str]> {
    Ok(provider_for(url)?.schema_sets())
}

/// Whether `url` names a server backend (compiled into this build) whose conformance runs get
/// a database of their own.
pub fn is_server_url(url: &str) -> bool {
    provider_for(url).is_ok_and(|p| p.is_server())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use durastore_api::ErrorKind;

    use super::*;

    #[tokio::test]
    async fn open_by_scheme() {
        let e = open("oracle://127.0.0.1/ks").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.message().contains("known: sqlite, postgres"), "{e}");
        assert!(e.message().contains("cassandra"), "{e}");
        assert!(!is_server_url("sqlite::memory:"));
        assert!(!is_server_url("oracle://h/x"));
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

    #[cfg(feature = "cassandra")]
    #[test]
    fn server_urls() {
        assert!(is_server_url("cassandra://127.0.0.1/ks"));
        assert!(is_server_url("scylla://a,b:9043/ks"));
        assert_eq!(
            redact_url("scylla://u:secret@a,b:9043/ks"),
            "scylla://u:***@a,b:9043/ks"
        );
    }
}
