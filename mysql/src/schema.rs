//! The embedded, versioned MySQL/MariaDB schema and its [`SchemaDriver`].
//!
//! The statement files live in `mysql/schema/<set>/versioned/v<M.m>/` next to a `manifest.json`
//! and are compiled into the binary. The generic engine in [`durastore_api::schema`] applies and
//! verifies them through [`MysqlSchemaDriver`]:
//!
//! - MySQL DDL is not transactional (each statement commits implicitly), so a crash halfway is
//!   carried by the engine's dirty state plus re-runnable statements (`IF NOT EXISTS`,
//!   `INSERT IGNORE`, and "already exists" error numbers reported as
//!   [`ExecOutcome::AlreadyApplied`]). [`SchemaDriver::begin`] takes a named server lock
//!   (`GET_LOCK`) on one held connection, which serializes concurrent schema tools on the same
//!   database; every statement of the section runs on that connection.
//! - verify builds the expected schema in a scratch database on the same server
//!   ([`MysqlSchemaDriver::scratch`], dropped by [`SchemaDriver::dispose`]) and compares
//!   `information_schema` descriptions.
//!
//! Both sets may share one database: `schema_version.db_name` is the set name and
//! `version_partition` is 0 for `main` (as in Temporal) and 1 for `visibility`.

use durastore_api::schema::{
    self, ColumnDescription, EmbeddedVersion, ExecOutcome, HistoryRecord, IndexDescription,
    SET_MAIN, SET_NAMES, SET_VISIBILITY, SchemaDescription, SchemaDriver, SchemaSet,
    TableDescription, VersionRecord,
};
use durastore_api::{ErrorKind, Result, StoreError, Uuid, async_trait};
use durastore_sql::schema_tables::{self, Statement};
use durastore_sql::{Row, Value};
use sqlx::mysql::{MySql, MySqlConnection, MySqlPool};
use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, Connection};
use tokio::sync::Mutex;

use crate::driver::{MysqlDialect, bind, decode_row};
use crate::error::{classify, codes, error_number};
use crate::{MysqlConfig, redact_url};

/// The main store's versions, oldest first: `(version, manifest JSON, [(file, text)])`.
pub const MAIN_VERSIONS: &[EmbeddedVersion] = &[
    (
        "1.0",
        include_str!("../schema/main/versioned/v1.0/manifest.json"),
        &[(
            "schema.sql",
            include_str!("../schema/main/versioned/v1.0/schema.sql"),
        )],
    ),
    (
        "1.1",
        include_str!("../schema/main/versioned/v1.1/manifest.json"),
        &[
            (
                "nexus.sql",
                include_str!("../schema/main/versioned/v1.1/nexus.sql"),
            ),
            (
                "chasm.sql",
                include_str!("../schema/main/versioned/v1.1/chasm.sql"),
            ),
        ],
    ),
];

/// Seconds `begin` waits for another schema tool to finish.
const LOCK_WAIT_SECONDS: i64 = 60;

/// Prefix of scratch database names (followed by 32 hex digits).
pub const SCRATCH_PREFIX: &str = "durastore_scratch_";

/// The visibility store's versions, oldest first.
pub const VISIBILITY_VERSIONS: &[EmbeddedVersion] = &[
    (
        "1.0",
        include_str!("../schema/visibility/versioned/v1.0/manifest.json"),
        &[(
            "schema.sql",
            include_str!("../schema/visibility/versioned/v1.0/schema.sql"),
        )],
    ),
    (
        "1.1",
        include_str!("../schema/visibility/versioned/v1.1/manifest.json"),
        &[(
            "chasm.sql",
            include_str!("../schema/visibility/versioned/v1.1/chasm.sql"),
        )],
    ),
];

/// The embedded schema set `name` (`main` or `visibility`).
pub fn schema_set(name: &str) -> Result<SchemaSet> {
    match name {
        SET_MAIN => SchemaSet::from_embedded(SET_MAIN, MAIN_VERSIONS),
        SET_VISIBILITY => SchemaSet::from_embedded(SET_VISIBILITY, VISIBILITY_VERSIONS),
        other => Err(StoreError::invalid_argument(format!(
            "unknown schema set {other:?} (known: {})",
            SET_NAMES.join(", ")
        ))),
    }
}

/// A [`SchemaDriver`] for one schema set of one MySQL/MariaDB database.
pub struct MysqlSchemaDriver {
    pool: MySqlPool,
    db_name: String,
    partition: i64,
    // The exclusive section's connection (holding the GET_LOCK); while it is set every call
    // runs on it.
    held: Mutex<Option<PoolConnection<MySql>>>,
    // For a scratch driver: the server config and database to drop on dispose.
    scratch: Option<(MysqlConfig, String)>,
}

impl std::fmt::Debug for MysqlSchemaDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MysqlSchemaDriver")
            .field("db_name", &self.db_name)
            .field("scratch", &self.scratch.as_ref().map(|(_, db)| db))
            .finish()
    }
}

/// Runs `$body` with `$c: &mut MySqlConnection`: the held connection, else a pooled one.
macro_rules! with_conn {
    ($self:ident, |$c:ident| $body:expr) => {{
        let mut guard = $self.held.lock().await;
        match guard.as_mut() {
            Some(held) => {
                let $c: &mut MySqlConnection = &mut **held;
                $body
            }
            None => {
                let mut pooled = $self.pool.acquire().await.map_err(|e| classify(e, false))?;
                let $c: &mut MySqlConnection = &mut *pooled;
                $body
            }
        }
    }};
}

fn map(e: sqlx::Error) -> StoreError {
    classify(e, false)
}

async fn query_rows(c: &mut MySqlConnection, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
    let rows = bind(sql, params).fetch_all(&mut *c).await.map_err(map)?;
    rows.iter().map(decode_row).collect()
}

/// Runs `statements` on `c`, in order.
async fn run_on(c: &mut MySqlConnection, statements: &[Statement]) -> Result<()> {
    for (sql, params) in statements {
        bind(sql, params).execute(&mut *c).await.map_err(map)?;
    }
    Ok(())
}

async fn finish_on(
    c: &mut MySqlConnection,
    partition: i64,
    version: &VersionRecord,
    remove: &[HistoryRecord],
    done: &HistoryRecord,
) -> Result<()> {
    // DML is transactional even though DDL is not: the three writes land together.
    let mut tx = c.begin().await.map_err(map)?;
    let statements = schema_tables::finish_version(&MysqlDialect, partition, version, remove, done);
    run_on(&mut tx, &statements).await?;
    tx.commit().await.map_err(|e| classify(e, true))
}

/// Why a failed schema statement only means "its effect is already there", by error number.
fn already_applied(err: &sqlx::Error, statement: &str) -> Option<String> {
    let what = match error_number(err)? {
        codes::TABLE_EXISTS => "table already exists",
        codes::DUP_KEYNAME => "index already exists",
        codes::DUP_FIELDNAME => "column already exists",
        codes::FK_DUP_NAME => "foreign key already exists",
        codes::CANT_DROP_FIELD_OR_KEY if statement_drops(statement) => {
            "column or index already dropped"
        }
        _ => return None,
    };
    Some(format!("{what}: {err}"))
}

fn statement_drops(statement: &str) -> bool {
    let upper = statement.trim_start().to_ascii_uppercase();
    upper.starts_with("DROP") || upper.contains(" DROP ")
}

/// A named-lock name for `database` (server-wide names, at most 64 characters).
fn lock_name(database: &str) -> String {
    let name = format!("durastore_schema:{database}");
    if name.len() <= 64 {
        name
    } else {
        format!("durastore_schema:{}", schema::md5_hex(database.as_bytes()))
    }
}

impl MysqlSchemaDriver {
    /// A driver for schema set `set` (`main` or `visibility`) over an open pool.
    pub fn new(pool: MySqlPool, set: &str) -> Self {
        MysqlSchemaDriver {
            pool,
            db_name: set.to_string(),
            partition: if set == SET_VISIBILITY { 1 } else { 0 },
            held: Mutex::new(None),
            scratch: None,
        }
    }

    /// Connects to the database of `url` for schema set `set`. A database that does not exist
    /// is `NotFound` (see [`MysqlSchemaDriver::connect_creating`]).
    pub async fn connect(url: &str, set: &str) -> Result<Self> {
        let cfg = Self::schema_config(url)?;
        let driver = crate::connect(&cfg).await?;
        Ok(Self::new(driver.pool().clone(), set))
    }

    /// Like [`MysqlSchemaDriver::connect`], but first creates the URL's database (`utf8mb4`,
    /// `utf8mb4_bin`) if it does not exist: what `schema setup` uses.
    pub async fn connect_creating(url: &str, set: &str) -> Result<Self> {
        let cfg = Self::schema_config(url)?;
        if let Some(db) = &cfg.database {
            crate::create_database(url, db).await?;
        }
        Self::connect(url, set).await
    }

    /// A driver over a new, uniquely named empty database on the server `url` points at: the
    /// scratch database `verify` builds the expected schema in. [`SchemaDriver::dispose`]
    /// drops it.
    pub async fn scratch(url: &str, set: &str) -> Result<Self> {
        let cfg = Self::schema_config(url)?.with_database(None);
        let name = format!("{SCRATCH_PREFIX}{}", Uuid::new_v4().simple());
        crate::create_database(url, &name).await?;
        let cfg = cfg.with_database(Some(&name));
        let driver = match crate::connect(&cfg).await {
            Ok(d) => d,
            Err(e) => {
                // Best effort: do not leave the empty database behind.
                let _ = crate::drop_database(url, &name).await;
                return Err(e);
            }
        };
        let mut sd = Self::new(driver.pool().clone(), set);
        sd.scratch = Some((cfg, name));
        Ok(sd)
    }

    /// The name of the scratch database this driver owns, if it is one.
    pub fn scratch_database(&self) -> Option<&str> {
        self.scratch.as_ref().map(|(_, n)| n.as_str())
    }

    fn schema_config(url: &str) -> Result<MysqlConfig> {
        let mut cfg = MysqlConfig::from_url(url)?;
        if cfg.database.is_none() {
            return Err(StoreError::invalid_argument(format!(
                "the MySQL URL names no database: {}",
                redact_url(url)
            )));
        }
        // The schema tool needs one connection for its exclusive section and one spare.
        cfg.max_connections = cfg.max_connections.clamp(1, 2);
        cfg.min_connections = 0;
        Ok(cfg)
    }

    async fn database(c: &mut MySqlConnection) -> Result<String> {
        let rows = query_rows(c, "SELECT DATABASE()", &[]).await?;
        match rows.first().map(|r| r.opt_string(0)).transpose()?.flatten() {
            Some(db) => Ok(db),
            None => Err(StoreError::invalid_argument(
                "the MySQL connection has no current database",
            )),
        }
    }
}

#[async_trait]
impl SchemaDriver for MysqlSchemaDriver {
    fn backend(&self) -> &str {
        "mysql"
    }

    fn db_name(&self) -> &str {
        &self.db_name
    }

    fn version_table_statements(&self) -> Vec<String> {
        schema_tables::version_table_statements(
            "DATETIME(6)",
            " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
        )
    }

    async fn version_tables_exist(&self) -> Result<bool> {
        with_conn!(self, |c| {
            let rows = query_rows(
                c,
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() \
                 AND table_name IN ('schema_version', 'schema_update_history')",
                &[],
            )
            .await?;
            Ok(rows.first().map(|r| r.i64(0)).transpose()?.unwrap_or(0) == 2)
        })
    }

    async fn begin(&self) -> Result<()> {
        let mut guard = self.held.lock().await;
        if guard.is_some() {
            return Err(StoreError::internal("schema section already open"));
        }
        let mut conn = self.pool.acquire().await.map_err(map)?;
        let database = Self::database(&mut conn).await?;
        // A named lock, not a transaction: MySQL DDL commits implicitly. It serializes schema
        // tools on this database and is released when the connection ends, even on a crash.
        let rows = query_rows(
            &mut conn,
            "SELECT GET_LOCK(?, ?)",
            &[
                Value::Text(lock_name(&database)),
                Value::Int(LOCK_WAIT_SECONDS),
            ],
        )
        .await?;
        match rows.first().map(|r| r.opt_i64(0)).transpose()?.flatten() {
            Some(1) => {
                *guard = Some(conn);
                Ok(())
            }
            Some(_) => Err(StoreError::new(
                ErrorKind::Timeout,
                format!(
                    "another schema tool has held the schema lock of database {database:?} for \
                     {LOCK_WAIT_SECONDS} s; try again when it has finished"
                ),
            )),
            None => Err(StoreError::internal(
                "GET_LOCK returned NULL (lock name rejected by the server)",
            )),
        }
    }

    async fn end(&self, _commit: bool) -> Result<()> {
        // Nothing to roll back: each statement committed on its own. What is left of a failed
        // run is carried by the engine's in-progress history row.
        let Some(mut conn) = self.held.lock().await.take() else {
            return Ok(());
        };
        let released = async {
            let database = Self::database(&mut conn).await?;
            query_rows(
                &mut conn,
                "SELECT RELEASE_LOCK(?)",
                &[Value::Text(lock_name(&database))],
            )
            .await
        }
        .await;
        if released.is_err() {
            // Never return a connection that may still hold the lock to the pool: closing it
            // releases the lock on the server.
            conn.close_on_drop();
        }
        released.map(|_| ())
    }

    async fn execute(&self, statement: &str) -> Result<ExecOutcome> {
        with_conn!(self, |c| {
            match sqlx::raw_sql(AssertSqlSafe(statement.to_string()))
                .execute(&mut *c)
                .await
            {
                Ok(_) => Ok(ExecOutcome::Applied),
                Err(e) => match already_applied(&e, statement) {
                    Some(why) => Ok(ExecOutcome::AlreadyApplied(why)),
                    None => Err(classify(e, false)),
                },
            }
        })
    }

    async fn read_version(&self) -> Result<Option<VersionRecord>> {
        let (sql, params) = schema_tables::select_version(self.partition, &self.db_name);
        let rows = with_conn!(self, |c| query_rows(c, &sql, &params).await?);
        rows.first()
            .map(|r| schema_tables::version_from_row(&self.db_name, r))
            .transpose()
    }

    async fn read_history(&self) -> Result<Vec<HistoryRecord>> {
        let (sql, params) = schema_tables::select_history(self.partition);
        let rows = with_conn!(self, |c| query_rows(c, &sql, &params).await?);
        rows.iter().map(schema_tables::history_from_row).collect()
    }

    async fn insert_history(&self, record: &HistoryRecord) -> Result<()> {
        let insert = schema_tables::insert_history(self.partition, record);
        with_conn!(self, |c| run_on(c, std::slice::from_ref(&insert)).await)
    }

    async fn finish_version(
        &self,
        version: &VersionRecord,
        remove: &[HistoryRecord],
        done: &HistoryRecord,
    ) -> Result<()> {
        with_conn!(self, |c| {
            finish_on(c, self.partition, version, remove, done).await
        })
    }

    async fn data_step(&self, name: &str) -> Result<String> {
        schema_tables::run_data_step(
            name,
            |(sql, params)| async move { with_conn!(self, |c| query_rows(c, &sql, &params).await) },
            |updates| async move { with_conn!(self, |c| run_on(c, &updates).await) },
        )
        .await
    }

    async fn describe(&self) -> Result<SchemaDescription> {
        with_conn!(self, |c| {
            let tables = query_rows(
                c,
                "SELECT table_name FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' \
                 ORDER BY table_name",
                &[],
            )
            .await?;
            let mut out = SchemaDescription::default();
            for t in &tables {
                let table = t.string(0)?;
                let p = [Value::Text(table.clone())];
                let mut desc = TableDescription::default();
                let cols = query_rows(
                    c,
                    "SELECT column_name, column_type, is_nullable, column_default \
                     FROM information_schema.columns \
                     WHERE table_schema = DATABASE() AND table_name = ? \
                     ORDER BY ordinal_position",
                    &p,
                )
                .await?;
                for col in &cols {
                    desc.columns.push(ColumnDescription {
                        name: col.string(0)?,
                        data_type: schema::normalize_type(&col.string(1)?),
                        nullable: col.string(2)? == "YES",
                        default: col.opt_string(3)?,
                    });
                }
                let stats = query_rows(
                    c,
                    "SELECT index_name, non_unique, column_name \
                     FROM information_schema.statistics \
                     WHERE table_schema = DATABASE() AND table_name = ? \
                     ORDER BY index_name, seq_in_index",
                    &p,
                )
                .await?;
                for s in &stats {
                    let index = s.string(0)?;
                    let column = s
                        .opt_string(2)?
                        .unwrap_or_else(|| "<expression>".to_string());
                    if index == "PRIMARY" {
                        desc.primary_key.push(column);
                        continue;
                    }
                    desc.indexes
                        .entry(index)
                        .or_insert_with(|| IndexDescription {
                            unique: s.i64(1).map(|n| n == 0).unwrap_or(false),
                            columns: Vec::new(),
                        })
                        .columns
                        .push(column);
                }
                out.tables.insert(table, desc);
            }
            // The other set's tables may share this database; they are not this set's drift.
            let others = SET_NAMES
                .iter()
                .filter(|n| **n != self.db_name)
                .map(|n| schema_set(n))
                .collect::<Result<Vec<_>>>()?;
            schema_tables::without_other_sets(&mut out, &others);
            Ok(out)
        })
    }

    async fn dispose(&self) -> Result<()> {
        let Some((cfg, name)) = &self.scratch else {
            return Ok(());
        };
        // Give back the held connection (if a failed run left one) before closing the pool.
        drop(self.held.lock().await.take());
        self.pool.close().await;
        let mut conn = crate::admin_connection(cfg).await?;
        let r = sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{name}`")))
            .execute(&mut conn)
            .await
            .map_err(map);
        let _ = conn.close().await;
        r.map(|_| ())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn embedded_set_loads() {
        let set = schema_set(SET_MAIN).unwrap();
        assert_eq!(set.latest_version().to_string(), "1.1");
        assert!(set.versions[0].statements().len() > 30);
        let vis = schema_set(SET_VISIBILITY).unwrap();
        assert_eq!(vis.latest_version().to_string(), "1.1");
        assert!(schema_set("nope").is_err());
    }

    #[test]
    fn lock_names_fit() {
        assert_eq!(lock_name("temporal"), "durastore_schema:temporal");
        assert!(lock_name(&"x".repeat(64)).len() <= 64);
        assert!(statement_drops("ALTER TABLE t DROP COLUMN c"));
        assert!(!statement_drops("CREATE TABLE t (c INT)"));
    }
}
