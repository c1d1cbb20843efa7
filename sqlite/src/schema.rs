//! The embedded, versioned SQLite schema and its [`SchemaDriver`].
//!
//! The statement files live in `sqlite/schema/<set>/versioned/v<M.m>/` next to a `manifest.json`
//! and are compiled into the binary. The generic engine in [`durastore_api::schema`] applies and
//! verifies them through [`SqliteSchemaDriver`]:
//!
//! - setup/update run inside one `BEGIN IMMEDIATE` transaction (SQLite DDL is transactional), so a
//!   crash halfway leaves the database as it was, and concurrent openers of a new file serialize
//!   on the write lock instead of racing;
//! - verify builds the expected schema by applying the embedded files to a scratch in-memory
//!   database and compares it with `sqlite_master` / `PRAGMA table_info` / `PRAGMA index_list`.
//!
//! **Opening** ([`ensure_current`], called by [`crate::open`]): a new database is set up, an older
//! one is updated automatically (SQLite is the embedded default, owned by the process that opens
//! it, so there is no separate operator step to wait for), a newer one is refused, and a version
//! left half-applied by an interrupted tool is reported by name.
//!
//! Both schema sets may share one database file: `schema_version.db_name` is the set name and
//! `version_partition` is 0 for `main` (as in Temporal) and 1 for `visibility`.

use durastore_api::schema::{
    self, ApplyOptions, ColumnDescription, EmbeddedVersion, ExecOutcome, HistoryRecord,
    IndexDescription, SET_MAIN, SET_NAMES, SchemaDescription, SchemaDriver, SchemaSet,
    TableDescription, Version, VersionRecord,
};
use durastore_api::{ErrorKind, Result, StoreError, async_trait};
use durastore_sql::schema_tables::{self, Statement};
use durastore_sql::{Row, SqliteDialect};
use sqlx::sqlite::{Sqlite, SqliteConnection, SqlitePool};
use sqlx::{AssertSqlSafe, Transaction};
use tokio::sync::Mutex;

use crate::driver::{bind, decode};
use crate::error::classify;
use crate::{SqliteConfig, SqliteDriver};

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
    schema_tables::embedded_set(name, MAIN_VERSIONS, VISIBILITY_VERSIONS)
}

/// The embedded main schema set.
pub fn main_set() -> Result<SchemaSet> {
    schema_set(SET_MAIN)
}

/// Splits a schema file into statements (see [`durastore_api::schema::split_statements`]).
pub fn split_statements(text: &str) -> Vec<String> {
    schema::split_statements(text)
}

/// A [`SchemaDriver`] for one schema set of one SQLite database.
pub struct SqliteSchemaDriver {
    pool: SqlitePool,
    db_name: String,
    partition: i64,
    // The exclusive section's transaction; while it is open every call runs on it (an in-memory
    // database has a single connection, which the transaction holds).
    tx: Mutex<Option<Transaction<'static, Sqlite>>>,
}

impl std::fmt::Debug for SqliteSchemaDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteSchemaDriver")
            .field("db_name", &self.db_name)
            .finish()
    }
}

/// Runs `$body` with `$c: &mut SqliteConnection`: the open transaction's, else a pooled one.
macro_rules! with_conn {
    ($self:ident, |$c:ident| $body:expr) => {{
        let mut guard = $self.tx.lock().await;
        match guard.as_mut() {
            Some(tx) => {
                let $c: &mut SqliteConnection = &mut **tx;
                $body
            }
            None => {
                let mut pooled = $self.pool.acquire().await.map_err(|e| classify(e, false))?;
                let $c: &mut SqliteConnection = &mut *pooled;
                $body
            }
        }
    }};
}

impl SqliteSchemaDriver {
    /// A driver for schema set `set` (`main` or `visibility`) over an open database.
    pub fn new(driver: &SqliteDriver, set: &str) -> Self {
        SqliteSchemaDriver {
            pool: driver.pool().clone(),
            db_name: set.to_string(),
            partition: schema_tables::partition(set),
            tx: Mutex::new(None),
        }
    }

    /// A driver over a new private in-memory database: the scratch database `verify` builds the
    /// expected schema in.
    pub async fn scratch(set: &str) -> Result<Self> {
        let cfg = SqliteConfig::from_url("sqlite::memory:")?;
        let driver = crate::connect(&cfg).await?;
        Ok(Self::new(&driver, set))
    }
}

fn already_applied(err: &sqlx::Error, statement: &str) -> Option<String> {
    // SQLite reports these with the generic SQLITE_ERROR code (1) and no finer code, so the
    // message is all there is to go on.
    let sqlx::Error::Database(db) = err else {
        return None;
    };
    if db.code().as_deref() != Some("1") {
        return None;
    }
    let msg = db.message();
    let upper = statement.trim_start().to_ascii_uppercase();
    let dropping = upper.starts_with("DROP") || upper.contains(" DROP COLUMN ");
    if msg.contains("already exists")
        || msg.starts_with("duplicate column name")
        || (dropping && msg.starts_with("no such"))
    {
        Some(msg.to_string())
    } else {
        None
    }
}

/// Runs `statements` on `c`, in order.
async fn run_on(
    c: &mut SqliteConnection,
    statements: &[Statement],
) -> std::result::Result<(), sqlx::Error> {
    for (sql, params) in statements {
        bind(sql, params).execute(&mut *c).await?;
    }
    Ok(())
}

/// Runs the query `statement` on `c`.
async fn query_on(c: &mut SqliteConnection, (sql, params): &Statement) -> Result<Vec<Row>> {
    let rows = bind(sql, params)
        .fetch_all(&mut *c)
        .await
        .map_err(|e| classify(e, false))?;
    rows.iter().map(decode).collect()
}

async fn finish_on(
    c: &mut SqliteConnection,
    partition: i64,
    version: &VersionRecord,
    remove: &[HistoryRecord],
    done: &HistoryRecord,
) -> std::result::Result<(), sqlx::Error> {
    let statements =
        schema_tables::finish_version(&SqliteDialect, partition, version, remove, done);
    run_on(c, &statements).await
}

#[async_trait]
impl SchemaDriver for SqliteSchemaDriver {
    fn backend(&self) -> &str {
        "sqlite"
    }

    fn db_name(&self) -> &str {
        &self.db_name
    }

    fn version_table_statements(&self) -> Vec<String> {
        schema_tables::version_table_statements("DATETIME(6)", "")
    }

    async fn version_tables_exist(&self) -> Result<bool> {
        with_conn!(self, |c| {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' \
                 AND name IN ('schema_version', 'schema_update_history')",
            )
            .fetch_one(&mut *c)
            .await
            .map_err(|e| classify(e, false))?;
            Ok(n == 2)
        })
    }

    async fn begin(&self) -> Result<()> {
        let mut guard = self.tx.lock().await;
        if guard.is_some() {
            return Err(StoreError::internal("schema transaction already open"));
        }
        // IMMEDIATE takes the write lock now: a second schema tool (or a second process
        // opening the same new file) waits here, then sees the finished work.
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| classify(e, false))?;
        *guard = Some(tx);
        Ok(())
    }

    async fn end(&self, commit: bool) -> Result<()> {
        let Some(tx) = self.tx.lock().await.take() else {
            return Ok(());
        };
        if commit {
            tx.commit().await.map_err(|e| classify(e, true))
        } else {
            tx.rollback().await.map_err(|e| classify(e, false))
        }
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
        let select = schema_tables::select_version(self.partition, &self.db_name);
        let rows = with_conn!(self, |c| query_on(c, &select).await?);
        schema_tables::version_from_rows(&self.db_name, &rows)
    }

    async fn read_history(&self) -> Result<Vec<HistoryRecord>> {
        let select = schema_tables::select_history(self.partition);
        let rows = with_conn!(self, |c| query_on(c, &select).await?);
        schema_tables::history_from_rows(&rows)
    }

    async fn insert_history(&self, record: &HistoryRecord) -> Result<()> {
        let insert = schema_tables::insert_history(self.partition, record);
        with_conn!(self, |c| {
            run_on(c, std::slice::from_ref(&insert))
                .await
                .map_err(|e| classify(e, false))
        })
    }

    async fn finish_version(
        &self,
        version: &VersionRecord,
        remove: &[HistoryRecord],
        done: &HistoryRecord,
    ) -> Result<()> {
        let mut guard = self.tx.lock().await;
        match guard.as_mut() {
            Some(tx) => finish_on(tx, self.partition, version, remove, done)
                .await
                .map_err(|e| classify(e, false)),
            None => {
                // Outside the exclusive section: still make the three writes one transaction.
                let mut tx = self
                    .pool
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err(|e| classify(e, false))?;
                finish_on(&mut tx, self.partition, version, remove, done)
                    .await
                    .map_err(|e| classify(e, false))?;
                tx.commit().await.map_err(|e| classify(e, true))
            }
        }
    }

    async fn data_step(&self, name: &str) -> Result<String> {
        schema_tables::run_data_step(
            name,
            |select| async move { with_conn!(self, |c| query_on(c, &select).await) },
            |updates| async move {
                with_conn!(self, |c| run_on(c, &updates)
                    .await
                    .map_err(|e| classify(e, false)))
            },
        )
        .await
    }

    async fn describe(&self) -> Result<SchemaDescription> {
        let mut desc = self.describe_all().await?;
        // The other set's tables may share this file; they are not this set's drift.
        schema_tables::only_this_set(&mut desc, &self.db_name, schema_set)?;
        Ok(desc)
    }
}

impl SqliteSchemaDriver {
    /// Every table of the database (both schema sets).
    async fn describe_all(&self) -> Result<SchemaDescription> {
        with_conn!(self, |c| {
            let map = |e| classify(e, false);
            let tables: Vec<(String,)> = sqlx::query_as(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
            )
            .fetch_all(&mut *c)
            .await
            .map_err(map)?;
            let mut out = SchemaDescription::default();
            for (table,) in tables {
                let cols: Vec<(String, String, i64, Option<String>, i64)> = sqlx::query_as(
                    "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) \
                     ORDER BY cid",
                )
                .bind(&table)
                .fetch_all(&mut *c)
                .await
                .map_err(map)?;
                let mut desc = TableDescription::default();
                let mut pk: Vec<(i64, String)> = Vec::new();
                for (name, ty, notnull, default, pk_pos) in cols {
                    if pk_pos > 0 {
                        pk.push((pk_pos, name.clone()));
                    }
                    desc.columns.push(ColumnDescription {
                        name,
                        data_type: schema::normalize_type(&ty),
                        nullable: notnull == 0,
                        default,
                    });
                }
                pk.sort();
                desc.primary_key = pk.into_iter().map(|(_, n)| n).collect();
                let indexes: Vec<(String, i64, String)> = sqlx::query_as(
                    "SELECT name, \"unique\", origin FROM pragma_index_list(?) ORDER BY name",
                )
                .bind(&table)
                .fetch_all(&mut *c)
                .await
                .map_err(map)?;
                for (iname, unique, origin) in indexes {
                    if origin == "pk" {
                        continue; // described as the primary key
                    }
                    let cols: Vec<(Option<String>,)> =
                        sqlx::query_as("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                            .bind(&iname)
                            .fetch_all(&mut *c)
                            .await
                            .map_err(map)?;
                    let columns: Vec<String> = cols
                        .into_iter()
                        .map(|(n,)| n.unwrap_or_else(|| "<expression>".to_string()))
                        .collect();
                    // Indexes behind UNIQUE constraints get generated names that depend on
                    // column order in the DDL; name them by their columns instead.
                    let key = if origin == "u" {
                        format!("UNIQUE ({})", columns.join(", "))
                    } else {
                        iname
                    };
                    desc.indexes.insert(
                        key,
                        IndexDescription {
                            unique: unique != 0,
                            columns,
                        },
                    );
                }
                out.tables.insert(table, desc);
            }
            Ok(out)
        })
    }
}

/// Brings a database opened by [`crate::open`] to the embedded schemas, main then visibility:
/// sets up a new one, updates an older one, refuses a newer one, and reports a half-applied
/// version by name.
pub async fn ensure_current(driver: &SqliteDriver) -> Result<()> {
    for name in SET_NAMES {
        ensure_set_current(driver, name).await?;
    }
    Ok(())
}

async fn ensure_set_current(driver: &SqliteDriver, name: &str) -> Result<()> {
    let set = schema_set(name)?;
    let sd = SqliteSchemaDriver::new(driver, name);
    let st = schema::status(&set, &sd).await?;
    if st.newer_than_binary {
        let current = st.current.unwrap_or_else(Version::zero);
        return Err(schema::newer_than_binary(&set.name, &current, &st.latest));
    }
    if let Some(d) = st.dirty {
        return Err(StoreError::new(
            ErrorKind::ConditionFailed,
            format!(
                "version {d} of the {name} schema was left half-applied by an interrupted \
                 schema tool; run `durastore schema update --set {name} --url <this database>` \
                 to finish it"
            ),
        ));
    }
    if st.initialized && st.pending.is_empty() {
        return Ok(());
    }
    match &st.current {
        None => tracing::info!(latest = %st.latest, set = name, "sqlite: setting up a schema"),
        Some(c) => {
            tracing::info!(from = %c, to = %st.latest, set = name, "sqlite: updating a schema")
        }
    }
    schema::setup(&set, &sd, &ApplyOptions::default()).await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use durastore_api::schema::{IN_PROGRESS_MARKER, SET_VISIBILITY, status, update, verify};

    async fn memory() -> SqliteDriver {
        crate::connect(&SqliteConfig::from_url("sqlite::memory:").unwrap())
            .await
            .unwrap()
    }

    #[test]
    fn embedded_set_loads() {
        let set = main_set().unwrap();
        assert_eq!(set.latest_version().to_string(), "1.1");
        assert!(set.versions[0].statements().len() > 30);
        let vis = schema_set("visibility").unwrap();
        assert_eq!(vis.latest_version().to_string(), "1.1");
        assert!(schema_set("nope").is_err());
    }

    #[tokio::test]
    async fn setup_verify_and_drift() {
        let d = memory().await;
        let set = main_set().unwrap();
        let sd = SqliteSchemaDriver::new(&d, SET_MAIN);
        let dry = schema::setup(
            &set,
            &sd,
            &ApplyOptions {
                target: None,
                dry_run: true,
            },
        )
        .await
        .unwrap();
        assert!(dry.statements().len() > 30);
        assert!(!sd.version_tables_exist().await.unwrap(), "dry run wrote");

        ensure_current(&d).await.unwrap();
        ensure_current(&d).await.unwrap();
        let st = status(&set, &sd).await.unwrap();
        assert_eq!(st.current.as_ref(), Some(&set.latest_version()));
        assert!(st.pending.is_empty());
        let up = update(&set, &sd, &ApplyOptions::default()).await.unwrap();
        assert!(up.up_to_date());

        let scratch = SqliteSchemaDriver::scratch(SET_MAIN).await.unwrap();
        let rep = verify(&set, &sd, &scratch).await.unwrap();
        assert!(rep.is_clean(), "{:?}", rep.drift);
        assert!(rep.notes.is_empty(), "{:?}", rep.notes);
        // The visibility set shares the file and verifies clean on its own.
        let vis = schema_set(SET_VISIBILITY).unwrap();
        let vsd = SqliteSchemaDriver::new(&d, SET_VISIBILITY);
        let vscratch = SqliteSchemaDriver::scratch(SET_VISIBILITY).await.unwrap();
        let rep = verify(&vis, &vsd, &vscratch).await.unwrap();
        assert!(rep.is_clean(), "{:?}", rep.drift);
        assert!(rep.notes.is_empty(), "{:?}", rep.notes);

        sd.execute("ALTER TABLE executions DROP COLUMN checksum_encoding")
            .await
            .unwrap();
        sd.execute("DROP INDEX cm_idx_lasthb").await.unwrap();
        let scratch = SqliteSchemaDriver::scratch(SET_MAIN).await.unwrap();
        let rep = verify(&set, &sd, &scratch).await.unwrap();
        assert_eq!(
            rep.drift,
            [
                "table cluster_membership: missing index cm_idx_lasthb",
                "table executions: missing column checksum_encoding",
            ]
        );
        // Re-running a drop of something missing counts as already applied.
        let again = sd.execute("DROP INDEX cm_idx_lasthb").await.unwrap();
        assert!(matches!(again, ExecOutcome::AlreadyApplied(_)));
    }

    #[tokio::test]
    async fn crash_halfway_is_resumed_and_newer_is_refused() {
        let d = memory().await;
        let set = main_set().unwrap();
        let sd = SqliteSchemaDriver::new(&d, SET_MAIN);
        // Simulate a non-transactional tool that died inside 1.0: version tables, the
        // in-progress row and a third of the statements.
        for s in sd.version_table_statements() {
            sd.execute(&s).await.unwrap();
        }
        let v10 = &set.versions[0];
        sd.insert_history(&HistoryRecord {
            update_time: chrono::Utc::now(),
            old_version: Version::zero(),
            new_version: v10.version.clone(),
            manifest_md5: v10.checksum(),
            description: format!("{IN_PROGRESS_MARKER}{}", v10.description),
        })
        .await
        .unwrap();
        let stmts = v10.statements();
        for s in &stmts[..stmts.len() / 3] {
            sd.execute(s).await.unwrap();
        }
        let st = status(&set, &sd).await.unwrap();
        assert_eq!(
            st.dirty.as_ref().map(ToString::to_string).as_deref(),
            Some("1.0")
        );
        let err = ensure_current(&d).await.unwrap_err();
        assert!(err.message().contains("version 1.0"), "{err}");
        // setup (not yet initialized) finishes it.
        let rep = schema::setup(&set, &sd, &ApplyOptions::default())
            .await
            .unwrap();
        assert!(rep.applied[0].reapplied);
        ensure_current(&d).await.unwrap();
        let scratch = SqliteSchemaDriver::scratch(SET_MAIN).await.unwrap();
        let v = verify(&set, &sd, &scratch).await.unwrap();
        assert!(v.is_clean(), "{:?}", v.drift);

        sqlx::query("UPDATE schema_version SET curr_version = '1.3'")
            .execute(d.pool())
            .await
            .unwrap();
        let err = ensure_current(&d).await.unwrap_err();
        assert_eq!(
            err.message(),
            format!(
                "database schema 1.3 is newer than this binary's {}; upgrade durastore",
                set.latest_version()
            )
        );
    }
}
