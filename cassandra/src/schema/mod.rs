//! The embedded, versioned CQL schema, its [`SchemaDriver`] and keyspace administration.
//!
//! The statement files live in `cassandra/schema/main/versioned/v<M.m>/` next to a
//! `manifest.json` and are compiled into the binary. The generic engine in
//! [`durastore_api::schema`] applies and verifies them through [`CassandraSchemaDriver`]:
//!
//! - **Version tables** are the ones Temporal's Cassandra tool keeps: `schema_version` keyed by
//!   `keyspace_name` (the keyspace itself, so the driver's `db_name` is the keyspace), and
//!   `schema_update_history` partitioned by `(year, month)` and clustered by `update_time`. CQL
//!   timestamps have millisecond precision while the engine keys history rows by microsecond, so
//!   the sub-millisecond part is a second clustering column (`update_time_micros`): two rows
//!   written within one millisecond (a version's in-progress row and its final row) stay two
//!   rows instead of overwriting each other.
//! - **No transactions.** CQL has no transactional DDL and no cheap lock, so
//!   [`SchemaDriver::begin`]/[`SchemaDriver::end`] do nothing; crash safety comes from the
//!   engine's in-progress history row plus statements that can be re-run (`IF NOT EXISTS`, and
//!   "already exists" failures reported as [`ExecOutcome::AlreadyApplied`]). Run one schema tool
//!   at a time per keyspace.
//! - **Schema agreement.** After every DDL statement the driver waits until all reachable nodes
//!   report the same schema version, so the next statement (and the stores opened afterwards)
//!   never see a table that only some nodes know.
//! - **verify** builds the expected schema in a scratch keyspace on the same cluster
//!   ([`CassandraSchemaDriver::scratch`], dropped by [`SchemaDriver::dispose`]) and compares the
//!   `system_schema` descriptions: tables, columns (type, static), primary keys (partition key,
//!   clustering columns and their order), secondary indexes, and user-defined types (described
//!   as `type <name>` entries whose columns are the fields).
//!
//! Only the `main` set exists on Cassandra: visibility lives on Elasticsearch/OpenSearch or SQL.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use durastore_api::schema::{
    self, EmbeddedVersion, ExecOutcome, HistoryRecord, SET_MAIN, SET_NAMES, SET_VISIBILITY,
    SchemaDescription, SchemaDriver, SchemaSet, VersionRecord,
};
use durastore_api::{ErrorKind, Result, StoreError, async_trait};
use scylla::errors::{DbError, ExecutionError, RequestAttemptError};

use crate::error::{classify, corrupt};
use crate::session::{CRow, Cass, Stmt, vals};
use crate::{CassandraConfig, validate_keyspace};

mod describe;

use describe::describe_keyspace;

/// The main store's versions, oldest first: `(version, manifest JSON, [(file, text)])`.
pub const MAIN_VERSIONS: &[EmbeddedVersion] = &[
    (
        "1.0",
        include_str!("../../schema/main/versioned/v1.0/manifest.json"),
        &[
            (
                "executions.cql",
                include_str!("../../schema/main/versioned/v1.0/executions.cql"),
            ),
            (
                "history.cql",
                include_str!("../../schema/main/versioned/v1.0/history.cql"),
            ),
            (
                "task_queues.cql",
                include_str!("../../schema/main/versioned/v1.0/task_queues.cql"),
            ),
            (
                "metadata.cql",
                include_str!("../../schema/main/versioned/v1.0/metadata.cql"),
            ),
        ],
    ),
    (
        "1.1",
        include_str!("../../schema/main/versioned/v1.1/manifest.json"),
        &[
            (
                "queue_v1.cql",
                include_str!("../../schema/main/versioned/v1.1/queue_v1.cql"),
            ),
            (
                "nexus.cql",
                include_str!("../../schema/main/versioned/v1.1/nexus.cql"),
            ),
        ],
    ),
];

/// Prefix of scratch keyspace names (followed by 16 hex digits; keyspace names have at most
/// 48 characters).
pub const SCRATCH_PREFIX: &str = "durastore_scratch_";

/// The embedded schema set `name` (only `main` exists on Cassandra).
pub fn schema_set(name: &str) -> Result<SchemaSet> {
    match name {
        SET_MAIN => SchemaSet::from_embedded(SET_MAIN, MAIN_VERSIONS),
        SET_VISIBILITY => Err(StoreError::invalid_argument(
            "Cassandra has no visibility schema: visibility lives on Elasticsearch/OpenSearch \
             or a SQL database (only the main set exists)",
        )),
        other => Err(StoreError::invalid_argument(format!(
            "unknown schema set {other:?} (known: {})",
            SET_NAMES.join(", ")
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// Keyspaces
// ---------------------------------------------------------------------------------------------

/// Data-center names are interpolated into `CREATE KEYSPACE` (replication maps take no bind
/// markers), so they are restricted to the characters real DC names use.
fn validate_datacenter(dc: &str) -> Result<()> {
    let ok = !dc.is_empty()
        && dc.len() <= 128
        && dc
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid_argument(format!(
            "cassandra URL: datacenter={dc:?} is not a data-center name (letters, digits, _ - .)"
        )))
    }
}

/// The `CREATE KEYSPACE IF NOT EXISTS` statement for `cfg`: SimpleStrategy with
/// `replication_factor`, or NetworkTopologyStrategy `{datacenter: replication_factor}` when a
/// data center is set. The keyspace is quoted, so its case is kept (the session opens it
/// case-sensitively).
pub fn create_keyspace_statement(cfg: &CassandraConfig) -> Result<String> {
    validate_keyspace(&cfg.keyspace)?;
    let rf = cfg.replication_factor.max(1);
    let replication = match &cfg.datacenter {
        Some(dc) => {
            validate_datacenter(dc)?;
            format!("{{'class': 'NetworkTopologyStrategy', '{dc}': {rf}}}")
        }
        None => format!("{{'class': 'SimpleStrategy', 'replication_factor': {rf}}}"),
    };
    Ok(format!(
        "CREATE KEYSPACE IF NOT EXISTS \"{}\" WITH replication = {replication} \
         AND durable_writes = true",
        cfg.keyspace
    ))
}

async fn keyspace_exists_in(cass: &Cass, keyspace: &str) -> Result<bool> {
    Ok(cass
        .row(
            "SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?",
            vals![keyspace],
        )
        .await?
        .is_some())
}

/// Runs one DDL statement (never bound values) and waits for schema agreement.
/// How long one schema statement may take before the client gives up.
const DDL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

async fn run_ddl(cass: &Cass, cql: &str) -> std::result::Result<(), ExecutionError> {
    // A schema change flushes and rewrites schema tables on every node; on a loaded node that
    // takes far longer than a data request, so it gets its own, longer, timeout.
    let mut st = scylla::statement::Statement::new(cql);
    st.set_request_timeout(Some(DDL_TIMEOUT));
    cass.session().query_unpaged(st, &[]).await?;
    await_agreement(cass).await;
    Ok(())
}

/// Waits until every reachable node has the same schema version. The driver already waits
/// after each schema change; this makes it explicit and survives a driver configured not to.
/// A timeout is logged, not fatal: the statement itself succeeded, and the next one (or the
/// stores) fail visibly if a node really lags.
async fn await_agreement(cass: &Cass) {
    if let Err(e) = cass.session().await_schema_agreement().await {
        tracing::warn!(error = %e, "cassandra: no schema agreement after a schema change");
    }
}

/// Whether the keyspace `cfg` names exists.
pub async fn keyspace_exists(cfg: &CassandraConfig) -> Result<bool> {
    validate_keyspace(&cfg.keyspace)?;
    let cass = Cass::new(cfg.connect(false).await?, cfg.keyspace.clone());
    keyspace_exists_in(&cass, &cfg.keyspace).await
}

/// Creates the keyspace `cfg` names (Temporal's `create-keyspace`) with the URL's replication
/// settings. Returns false when it already existed (its replication is then left as it is).
pub async fn create_keyspace(cfg: &CassandraConfig) -> Result<bool> {
    let cql = create_keyspace_statement(cfg)?;
    let cass = Cass::new(cfg.connect(false).await?, cfg.keyspace.clone());
    if keyspace_exists_in(&cass, &cfg.keyspace).await? {
        return Ok(false);
    }
    run_ddl(&cass, &cql).await.map_err(|e| classify(e, false))?;
    tracing::info!(keyspace = %cfg.keyspace, "cassandra: created keyspace");
    Ok(true)
}

/// Drops the keyspace `cfg` names and everything in it (Temporal's `drop-keyspace`); a missing
/// keyspace is not an error.
pub async fn drop_keyspace(cfg: &CassandraConfig) -> Result<()> {
    validate_keyspace(&cfg.keyspace)?;
    let cass = Cass::new(cfg.connect(false).await?, cfg.keyspace.clone());
    run_ddl(
        &cass,
        &format!("DROP KEYSPACE IF EXISTS \"{}\"", cfg.keyspace),
    )
    .await
    .map_err(|e| classify(e, false))
}

// ---------------------------------------------------------------------------------------------
// Version tables
// ---------------------------------------------------------------------------------------------

const VERSION_TABLES: &[&str] = &["schema_version", "schema_update_history"];

const SELECT_VERSION: &str = "SELECT creation_time, curr_version, min_compatible_version \
     FROM schema_version WHERE keyspace_name = ?";

const SELECT_HISTORY: &str = "SELECT update_time, update_time_micros, old_version, \
     new_version, manifest_md5, description FROM schema_update_history";

const INSERT_HISTORY: &str = "INSERT INTO schema_update_history (year, month, update_time, \
     update_time_micros, old_version, new_version, manifest_md5, description) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

const DELETE_HISTORY: &str = "DELETE FROM schema_update_history WHERE year = ? AND month = ? \
     AND update_time = ? AND update_time_micros = ?";

const UPSERT_VERSION: &str = "INSERT INTO schema_version (keyspace_name, creation_time, \
     curr_version, min_compatible_version) VALUES (?, ?, ?, ?)";

/// The microseconds of `t` below its millisecond (what a CQL timestamp cannot hold).
fn sub_millis_micros(t: &DateTime<Utc>) -> i32 {
    // rem_euclid keeps it in 0..1000 for times before 1970 too.
    (t.timestamp_micros().rem_euclid(1000)) as i32
}

fn history_key(r: &HistoryRecord) -> crate::session::Vals {
    vals![
        r.year(),
        r.month() as i32,
        r.update_time,
        sub_millis_micros(&r.update_time)
    ]
}

fn insert_history_stmt(r: &HistoryRecord) -> Stmt {
    let mut v = history_key(r);
    v.extend(vals![
        r.old_version.to_string(),
        r.new_version.to_string(),
        r.manifest_md5.as_str(),
        r.description.as_str()
    ]);
    Stmt::new(INSERT_HISTORY, v)
}

fn history_from_row(row: &CRow) -> Result<HistoryRecord> {
    let millis = row
        .opt_time("update_time")?
        .ok_or_else(|| corrupt("schema_update_history.update_time is null"))?;
    let micros = row.opt_i64("update_time_micros")?.unwrap_or(0);
    HistoryRecord::from_stored(
        millis + TimeDelta::microseconds(micros),
        row.opt_text("old_version")?.as_deref(),
        row.opt_text("new_version")?.as_deref(),
        row.opt_text("manifest_md5")?,
        row.opt_text("description")?,
    )
}

async fn version_tables_exist_in(cass: &Cass) -> Result<bool> {
    let rows = cass
        .rows(
            "SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?",
            vals![cass.keyspace()],
        )
        .await?;
    let names: Vec<String> = rows
        .iter()
        .map(|r| r.text("table_name"))
        .collect::<Result<_>>()?;
    Ok(VERSION_TABLES.iter().all(|t| names.iter().any(|n| n == t)))
}

async fn read_version_in(cass: &Cass) -> Result<Option<VersionRecord>> {
    let Some(row) = cass.row(SELECT_VERSION, vals![cass.keyspace()]).await? else {
        return Ok(None);
    };
    VersionRecord::from_stored(
        cass.keyspace(),
        row.opt_time("creation_time")?,
        row.opt_text("curr_version")?.as_deref(),
        row.opt_text("min_compatible_version")?.as_deref(),
    )
    .map(Some)
}

async fn read_history_in(cass: &Cass) -> Result<Vec<HistoryRecord>> {
    // A handful of rows spread over (year, month) partitions: a full scan, sorted here.
    let rows = cass.rows(SELECT_HISTORY, vals![]).await?;
    let mut out = rows
        .iter()
        .map(history_from_row)
        .collect::<Result<Vec<_>>>()?;
    out.sort_by_key(|h| h.update_time);
    Ok(out)
}

/// Why a failed schema statement only means "its effect is already there".
///
/// Cassandra reports an existing keyspace, table, type or index with error code `0x2400`
/// (AlreadyExists); an `ALTER TABLE … ADD` of an existing column and a `DROP` of something
/// already gone are plain `Invalid` requests, told apart by their message (as Temporal's tool
/// does, which ignores "already exist" and "not found" failures).
fn already_applied(err: &ExecutionError, statement: &str) -> Option<String> {
    let ExecutionError::LastAttemptError(RequestAttemptError::DbError(db, msg)) = err else {
        return None;
    };
    let lower = msg.to_ascii_lowercase();
    match db {
        DbError::AlreadyExists { .. } => Some(format!("already exists: {msg}")),
        DbError::Invalid
            if lower.contains("already exist")
                || lower.contains("conflicts with an existing column") =>
        {
            Some(format!("already exists: {msg}"))
        }
        DbError::Invalid
            if statement_drops(statement)
                && (lower.contains("not found")
                    || lower.contains("doesn't exist")
                    || lower.contains("does not exist")) =>
        {
            Some(format!("already dropped: {msg}"))
        }
        _ => None,
    }
}

fn statement_drops(statement: &str) -> bool {
    let upper = statement.trim_start().to_ascii_uppercase();
    upper.starts_with("DROP") || upper.contains(" DROP ")
}

// ---------------------------------------------------------------------------------------------
// The driver
// ---------------------------------------------------------------------------------------------

/// A [`SchemaDriver`] for the main schema set of one keyspace.
pub struct CassandraSchemaDriver {
    cass: Arc<Cass>,
    // For a scratch driver: the settings of the keyspace to drop on dispose.
    scratch: Option<CassandraConfig>,
}

impl std::fmt::Debug for CassandraSchemaDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CassandraSchemaDriver")
            .field("keyspace", &self.cass.keyspace())
            .field("scratch", &self.scratch.is_some())
            .finish()
    }
}

fn check_set(set: &str) -> Result<()> {
    schema_set(set).map(|_| ())
}

impl CassandraSchemaDriver {
    /// Connects to the URL's keyspace, which must exist (`NotFound` otherwise; see
    /// [`CassandraSchemaDriver::connect_creating`]).
    pub async fn connect(url: &str, set: &str) -> Result<Self> {
        check_set(set)?;
        let cfg = CassandraConfig::from_url(url)?;
        Self::connect_config(&cfg).await
    }

    /// Like [`CassandraSchemaDriver::connect`], but first creates the keyspace with the URL's
    /// replication settings if it does not exist: what `schema setup` uses.
    pub async fn connect_creating(url: &str, set: &str) -> Result<Self> {
        check_set(set)?;
        let cfg = CassandraConfig::from_url(url)?;
        create_keyspace(&cfg).await?;
        Self::connect_config(&cfg).await
    }

    /// Like [`CassandraSchemaDriver::connect`], but a missing keyspace is described as an empty
    /// one and nothing is created: what dry runs use.
    pub async fn connect_or_empty(url: &str, set: &str) -> Result<Self> {
        check_set(set)?;
        let cfg = CassandraConfig::from_url(url)?;
        if keyspace_exists(&cfg).await? {
            return Self::connect_config(&cfg).await;
        }
        // No current keyspace: the version tables "do not exist", which is all a dry run asks.
        let session = cfg.connect(false).await?;
        Ok(CassandraSchemaDriver {
            cass: Arc::new(Cass::new(session, cfg.keyspace.clone())),
            scratch: None,
        })
    }

    /// A driver over a new, uniquely named empty keyspace on the cluster `url` points at: the
    /// scratch keyspace `verify` builds the expected schema in. [`SchemaDriver::dispose`] drops
    /// it.
    pub async fn scratch(url: &str, set: &str) -> Result<Self> {
        check_set(set)?;
        let name = format!(
            "{SCRATCH_PREFIX}{}",
            &uuid::Uuid::new_v4().simple().to_string()[..16]
        );
        let cfg = CassandraConfig::from_url(url)?.with_keyspace(&name)?;
        create_keyspace(&cfg).await?;
        match Self::connect_config(&cfg).await {
            Ok(mut d) => {
                d.scratch = Some(cfg);
                Ok(d)
            }
            Err(e) => {
                // Best effort: do not leave the empty keyspace behind.
                let _ = drop_keyspace(&cfg).await;
                Err(e)
            }
        }
    }

    async fn connect_config(cfg: &CassandraConfig) -> Result<Self> {
        let session = cfg.connect(true).await.map_err(|e| {
            if e.kind() == ErrorKind::NotFound {
                StoreError::not_found(format!(
                    "cassandra keyspace {:?} does not exist (`durastore schema create-database` \
                     or `durastore schema setup` creates it): {}",
                    cfg.keyspace,
                    e.message()
                ))
            } else {
                e
            }
        })?;
        Ok(CassandraSchemaDriver {
            cass: Arc::new(Cass::new(session, cfg.keyspace.clone())),
            scratch: None,
        })
    }

    /// The keyspace this driver works on.
    pub fn keyspace(&self) -> &str {
        self.cass.keyspace()
    }

    /// The name of the scratch keyspace this driver owns, if it is one.
    pub fn scratch_keyspace(&self) -> Option<&str> {
        self.scratch.as_ref().map(|c| c.keyspace.as_str())
    }
}

#[async_trait]
impl SchemaDriver for CassandraSchemaDriver {
    fn backend(&self) -> &str {
        "cassandra"
    }

    fn db_name(&self) -> &str {
        // Temporal's Cassandra tool keys schema_version by keyspace name.
        self.cass.keyspace()
    }

    fn version_table_statements(&self) -> Vec<String> {
        vec![
            "CREATE TABLE IF NOT EXISTS schema_version (\n  \
             keyspace_name text,\n  \
             creation_time timestamp,\n  \
             curr_version text,\n  \
             min_compatible_version text,\n  \
             PRIMARY KEY (keyspace_name)\n\
             )"
            .to_string(),
            "CREATE TABLE IF NOT EXISTS schema_update_history (\n  \
             year int,\n  \
             month int,\n  \
             update_time timestamp,\n  \
             update_time_micros int,\n  \
             description text,\n  \
             manifest_md5 text,\n  \
             new_version text,\n  \
             old_version text,\n  \
             PRIMARY KEY ((year, month), update_time, update_time_micros)\n\
             )"
            .to_string(),
        ]
    }

    async fn version_tables_exist(&self) -> Result<bool> {
        version_tables_exist_in(&self.cass).await
    }

    async fn begin(&self) -> Result<()> {
        // CQL has neither transactional DDL nor a lock worth taking here: crash safety rests on
        // the engine's in-progress row and re-runnable statements.
        Ok(())
    }

    async fn end(&self, _commit: bool) -> Result<()> {
        Ok(())
    }

    async fn execute(&self, statement: &str) -> Result<ExecOutcome> {
        match run_ddl(&self.cass, statement).await {
            Ok(()) => Ok(ExecOutcome::Applied),
            Err(e) => match already_applied(&e, statement) {
                Some(why) => Ok(ExecOutcome::AlreadyApplied(why)),
                None => Err(classify(e, false)),
            },
        }
    }

    async fn read_version(&self) -> Result<Option<VersionRecord>> {
        read_version_in(&self.cass).await
    }

    async fn read_history(&self) -> Result<Vec<HistoryRecord>> {
        read_history_in(&self.cass).await
    }

    async fn insert_history(&self, record: &HistoryRecord) -> Result<()> {
        let s = insert_history_stmt(record);
        self.cass.exec(&s.cql, s.vals).await
    }

    async fn finish_version(
        &self,
        version: &VersionRecord,
        remove: &[HistoryRecord],
        done: &HistoryRecord,
    ) -> Result<()> {
        // One logged batch: Cassandra applies all of it eventually even if the coordinator dies
        // halfway (the batch log replays it), which is as atomic as CQL gets across partitions.
        let mut batch = Vec::with_capacity(remove.len() + 2);
        batch.push(Stmt::new(
            UPSERT_VERSION,
            vals![
                self.cass.keyspace(),
                version.creation_time,
                version.curr_version.to_string(),
                version.min_compatible_version.to_string()
            ],
        ));
        for r in remove {
            batch.push(Stmt::new(DELETE_HISTORY, history_key(r)));
        }
        batch.push(insert_history_stmt(done));
        self.cass.batch(batch).await.map(|_| ())
    }

    async fn describe(&self) -> Result<SchemaDescription> {
        describe_keyspace(&self.cass).await
    }

    async fn dispose(&self) -> Result<()> {
        match &self.scratch {
            Some(cfg) => drop_keyspace(cfg).await,
            None => Ok(()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The check on open
// ---------------------------------------------------------------------------------------------

/// A read-only view of an open keyspace for [`schema::status`] (writes are refused: opening
/// the stores never changes the schema).
struct ReadOnly<'a>(&'a Cass);

#[async_trait]
impl SchemaDriver for ReadOnly<'_> {
    fn backend(&self) -> &str {
        "cassandra"
    }
    fn db_name(&self) -> &str {
        self.0.keyspace()
    }
    fn version_table_statements(&self) -> Vec<String> {
        Vec::new()
    }
    async fn version_tables_exist(&self) -> Result<bool> {
        version_tables_exist_in(self.0).await
    }
    async fn begin(&self) -> Result<()> {
        Ok(())
    }
    async fn end(&self, _commit: bool) -> Result<()> {
        Ok(())
    }
    async fn execute(&self, _statement: &str) -> Result<ExecOutcome> {
        Err(StoreError::internal(
            "the schema check on open does not write",
        ))
    }
    async fn read_version(&self) -> Result<Option<VersionRecord>> {
        read_version_in(self.0).await
    }
    async fn read_history(&self) -> Result<Vec<HistoryRecord>> {
        read_history_in(self.0).await
    }
    async fn insert_history(&self, _record: &HistoryRecord) -> Result<()> {
        Err(StoreError::internal(
            "the schema check on open does not write",
        ))
    }
    async fn finish_version(
        &self,
        _version: &VersionRecord,
        _remove: &[HistoryRecord],
        _done: &HistoryRecord,
    ) -> Result<()> {
        Err(StoreError::internal(
            "the schema check on open does not write",
        ))
    }
    async fn describe(&self) -> Result<SchemaDescription> {
        describe_keyspace(self.0).await
    }
}

/// Refuses a keyspace whose main schema is missing, older than this binary's, half-applied by
/// an interrupted schema tool, or newer than this binary (written by a newer durastore), with
/// the command that fixes it.
pub(crate) async fn check_current(cass: &Cass) -> Result<()> {
    let set = schema_set(SET_MAIN)?;
    let st = schema::status(&set, &ReadOnly(cass)).await?;
    let ks = cass.keyspace();
    if st.newer_than_binary {
        let current = st.current.unwrap_or_else(schema::Version::zero);
        return Err(schema::newer_than_binary(&set.name, &current, &st.latest));
    }
    if let Some(d) = st.dirty {
        return Err(StoreError::condition_failed(format!(
            "version {d} of the main schema in keyspace {ks:?} was left half-applied by an \
             interrupted schema tool; run `durastore schema update --url cassandra://…/{ks}` \
             to finish it"
        )));
    }
    match st.current {
        None => Err(StoreError::new(
            ErrorKind::NotFound,
            format!(
                "the durastore main schema is not set up in cassandra keyspace {ks:?}; run \
                 `durastore schema setup --url cassandra://…/{ks}`"
            ),
        )
        .with_retryable(false)),
        Some(c) if c < st.latest => Err(StoreError::condition_failed(format!(
            "the main schema in cassandra keyspace {ks:?} is at {c}, this binary needs {}; run \
             `durastore schema update --url cassandra://…/{ks}`",
            st.latest
        ))),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
