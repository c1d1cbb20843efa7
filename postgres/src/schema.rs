//! The embedded, versioned PostgreSQL schema and its [`SchemaDriver`].
//!
//! The statement files live in `postgres/schema/<set>/versioned/v<M.m>/` next to a
//! `manifest.json` and are compiled into the binary. The generic engine in
//! [`durastore_api::schema`] applies and verifies them through [`PostgresSchemaDriver`]:
//!
//! - setup/update run inside one transaction (PostgreSQL DDL is transactional, so a crash
//!   halfway leaves the database as it was) that first takes a transaction-scoped advisory lock,
//!   so concurrent schema tools on one database serialize;
//! - each statement runs under a savepoint, so a statement that fails only because its effect is
//!   already there (SQLSTATE 42P07, 42710, 42701, …) is reported as already applied without
//!   aborting the transaction;
//! - verify builds the expected schema in a scratch database on the same server
//!   ([`PostgresSchemaDriver::scratch`], dropped by `dispose`) and compares both through
//!   `pg_catalog`.
//!
//! Both schema sets may share one database: `schema_version.db_name` is the set name and
//! `version_partition` is 0 for `main` (as in Temporal) and 1 for `visibility`.

use durastore_api::schema::{
    self, ColumnDescription, EmbeddedVersion, ExecOutcome, HistoryRecord, IndexDescription,
    SchemaDescription, SchemaDriver, SchemaSet, TableDescription, VersionRecord,
};
use durastore_api::{Result, StoreError, async_trait};
use durastore_sql::Row;
use durastore_sql::schema_tables::{self, Statement};
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgConnection, PgPool, Postgres};
use sqlx::{AssertSqlSafe, Transaction};
use tokio::sync::Mutex;

use crate::driver::{PostgresDialect, bind, bound, decode};
use crate::error::classify;
use crate::{PostgresConfig, connect_pool, create_database, drop_database, url_with_database};

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

/// Key of the transaction-scoped advisory lock schema tools take ("durastor" in ASCII).
const SCHEMA_LOCK_KEY: i64 = 0x6475_7261_7374_6f72;

/// Connections a schema driver keeps: one for the exclusive section, one spare.
const SCHEMA_POOL_SIZE: u32 = 2;

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

/// A [`SchemaDriver`] for one schema set of one PostgreSQL database.
pub struct PostgresSchemaDriver {
    pool: PgPool,
    db_name: String,
    partition: i64,
    // The exclusive section's transaction; while it is open every call runs on it.
    tx: Mutex<Option<Transaction<'static, Postgres>>>,
    // For a scratch database: (URL of the database it was created from, its name).
    scratch: Option<(String, String)>,
}

impl std::fmt::Debug for PostgresSchemaDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSchemaDriver")
            .field("db_name", &self.db_name)
            .field("scratch", &self.scratch.as_ref().map(|(_, n)| n))
            .finish()
    }
}

/// Runs `$body` with `$c: &mut PgConnection`: the open transaction's, else a pooled one.
macro_rules! with_conn {
    ($self:ident, |$c:ident| $body:expr) => {{
        let mut guard = $self.tx.lock().await;
        match guard.as_mut() {
            Some(tx) => {
                let $c: &mut PgConnection = &mut **tx;
                $body
            }
            None => {
                let mut pooled = $self.pool.acquire().await.map_err(|e| classify(e, false))?;
                let $c: &mut PgConnection = &mut *pooled;
                $body
            }
        }
    }};
}

impl PostgresSchemaDriver {
    /// A driver for schema set `set` (`main` or `visibility`) over an existing pool.
    pub fn over_pool(pool: PgPool, set: &str) -> Self {
        PostgresSchemaDriver {
            pool,
            db_name: set.to_string(),
            partition: schema_tables::partition(set),
            tx: Mutex::new(None),
            scratch: None,
        }
    }

    /// Connects to the database `url` names, for schema set `set`. A database that does not
    /// exist is `NotFound` (create it with [`crate::ensure_database`] first).
    pub async fn connect(url: &str, set: &str) -> Result<Self> {
        let cfg = PostgresConfig::from_url(url)?;
        let pool = connect_pool(&cfg, SCHEMA_POOL_SIZE).await?;
        Ok(Self::over_pool(pool, set))
    }

    /// Creates an empty, uniquely named database on the server of `url` (connecting to the
    /// database `url` names to create it) and connects to it: the scratch database `verify`
    /// builds the expected schema in. [`SchemaDriver::dispose`] drops it.
    pub async fn scratch(url: &str, set: &str) -> Result<Self> {
        let name = format!(
            "durastore_scratch_{}",
            durastore_api::Uuid::new_v4().simple()
        );
        create_database(url, &name).await?;
        let scratch_url = url_with_database(url, &name)?;
        match Self::connect(&scratch_url, set).await {
            Ok(mut d) => {
                d.scratch = Some((url.to_string(), name));
                Ok(d)
            }
            Err(e) => {
                if let Err(de) = drop_database(url, &name).await {
                    tracing::warn!(error = %de, database = %name, "postgres: could not drop scratch database");
                }
                Err(e)
            }
        }
    }

    /// The connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// What was found instead, if `err` only means the statement's effect is already present.
fn already_applied(err: &sqlx::Error, statement: &str) -> Option<String> {
    let db = err.as_database_error()?;
    let code = db.code()?;
    let upper = statement.trim_start().to_ascii_uppercase();
    let dropping = upper.starts_with("DROP") || upper.contains(" DROP ");
    match code.as_ref() {
        // duplicate_table, duplicate_object, duplicate_column, duplicate_schema,
        // duplicate_function, duplicate_database
        "42P07" | "42710" | "42701" | "42P06" | "42723" | "42P04" => Some(db.message().to_string()),
        // undefined_table, undefined_column, undefined_object: a drop that already ran.
        "42P01" | "42703" | "42704" if dropping => Some(db.message().to_string()),
        _ => None,
    }
}

/// Runs `statements` on `c`, in order.
async fn run_on(
    c: &mut PgConnection,
    statements: &[Statement],
) -> std::result::Result<(), sqlx::Error> {
    for (sql, params) in statements {
        bind(sql, params)?.execute(&mut *c).await?;
    }
    Ok(())
}

/// Runs the query `statement` on `c`.
async fn query_on(c: &mut PgConnection, (sql, params): &Statement) -> Result<Vec<Row>> {
    let rows = bound(sql, params)?
        .fetch_all(&mut *c)
        .await
        .map_err(|e| classify(e, false))?;
    rows.iter().map(decode).collect()
}

async fn finish_on(
    c: &mut PgConnection,
    partition: i64,
    version: &VersionRecord,
    remove: &[HistoryRecord],
    done: &HistoryRecord,
) -> std::result::Result<(), sqlx::Error> {
    let statements =
        schema_tables::finish_version(&PostgresDialect, partition, version, remove, done);
    run_on(c, &statements).await
}

/// Runs `statement` on `c`; inside a transaction, under a savepoint so a failure leaves the
/// transaction usable.
async fn execute_on(
    c: &mut PgConnection,
    in_tx: bool,
    statement: &str,
) -> std::result::Result<ExecOutcome, sqlx::Error> {
    let sql = || AssertSqlSafe(statement.to_string());
    if !in_tx {
        return match sqlx::raw_sql(sql()).execute(&mut *c).await {
            Ok(_) => Ok(ExecOutcome::Applied),
            Err(e) => already_applied(&e, statement)
                .map(ExecOutcome::AlreadyApplied)
                .ok_or(e),
        };
    }
    sqlx::raw_sql("SAVEPOINT durastore_stmt")
        .execute(&mut *c)
        .await?;
    match sqlx::raw_sql(sql()).execute(&mut *c).await {
        Ok(_) => {
            sqlx::raw_sql("RELEASE SAVEPOINT durastore_stmt")
                .execute(&mut *c)
                .await?;
            Ok(ExecOutcome::Applied)
        }
        Err(e) => {
            sqlx::raw_sql("ROLLBACK TO SAVEPOINT durastore_stmt")
                .execute(&mut *c)
                .await?;
            already_applied(&e, statement)
                .map(ExecOutcome::AlreadyApplied)
                .ok_or(e)
        }
    }
}

/// A type as `format_type` prints it, in the short upper-case spelling of the schema files.
fn pg_type_name(t: &str) -> String {
    let t = t
        .replace("character varying", "varchar")
        .replace("timestamp without time zone", "timestamp")
        .replace("timestamp with time zone", "timestamptz")
        .replace("time without time zone", "time")
        .replace("double precision", "float8");
    schema::normalize_type(&t)
}

/// Column names of `key` (an `indkey` vector), in order; `<expression>` for expression columns.
async fn index_columns(
    c: &mut PgConnection,
    index: Oid,
) -> std::result::Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(Option<String>,)> = sqlx::query_as(
        "SELECT a.attname::text FROM pg_index i \
         CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
         LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
         WHERE i.indexrelid = $1 ORDER BY k.ord",
    )
    .bind(index)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(n,)| n.unwrap_or_else(|| "<expression>".to_string()))
        .collect())
}

async fn describe_on(c: &mut PgConnection) -> std::result::Result<SchemaDescription, sqlx::Error> {
    let tables: Vec<(Oid, String)> = sqlx::query_as(
        "SELECT c.oid, c.relname::text FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname",
    )
    .fetch_all(&mut *c)
    .await?;
    let mut out = SchemaDescription::default();
    for (oid, table) in tables {
        let cols: Vec<(String, String, bool, Option<String>)> = sqlx::query_as(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
             pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        )
        .bind(oid)
        .fetch_all(&mut *c)
        .await?;
        let mut desc = TableDescription::default();
        for (name, ty, notnull, default) in cols {
            desc.columns.push(ColumnDescription {
                name,
                data_type: pg_type_name(&ty),
                nullable: !notnull,
                default,
            });
        }
        let indexes: Vec<(Oid, String, bool, bool, bool)> = sqlx::query_as(
            "SELECT i.indexrelid, ic.relname::text, i.indisunique, i.indisprimary, \
             EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid \
                     AND con.conrelid = i.indrelid AND con.contype = 'u') \
             FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
             WHERE i.indrelid = $1 ORDER BY ic.relname",
        )
        .bind(oid)
        .fetch_all(&mut *c)
        .await?;
        for (ioid, iname, unique, primary, constraint) in indexes {
            let columns = index_columns(c, ioid).await?;
            if primary {
                desc.primary_key = columns;
                continue;
            }
            // A UNIQUE constraint's index gets a generated name; name it by its columns, as the
            // SQLite driver does, so drift reports read the same on every backend.
            let key = if constraint {
                format!("UNIQUE ({})", columns.join(", "))
            } else {
                iname
            };
            desc.indexes
                .insert(key, IndexDescription { unique, columns });
        }
        out.tables.insert(table, desc);
    }
    Ok(out)
}

#[async_trait]
impl SchemaDriver for PostgresSchemaDriver {
    fn backend(&self) -> &str {
        "postgres"
    }

    fn db_name(&self) -> &str {
        &self.db_name
    }

    fn version_table_statements(&self) -> Vec<String> {
        schema_tables::version_table_statements("TIMESTAMP", "")
    }

    async fn version_tables_exist(&self) -> Result<bool> {
        with_conn!(self, |c| {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() \
                 AND tablename IN ('schema_version', 'schema_update_history')",
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
        let mut tx = self.pool.begin().await.map_err(|e| classify(e, false))?;
        // A second schema tool waits here until the first commits, then sees its work.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(SCHEMA_LOCK_KEY)
            .execute(&mut *tx)
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
        let mut guard = self.tx.lock().await;
        let r = match guard.as_mut() {
            Some(tx) => execute_on(tx, true, statement).await,
            None => {
                let mut c = self.pool.acquire().await.map_err(|e| classify(e, false))?;
                execute_on(&mut c, false, statement).await
            }
        };
        r.map_err(|e| classify(e, false))
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
                let mut tx = self.pool.begin().await.map_err(|e| classify(e, false))?;
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
        let mut desc = with_conn!(self, |c| {
            describe_on(c).await.map_err(|e| classify(e, false))
        })?;
        // The other set's tables may share this database; they are not this set's drift.
        schema_tables::only_this_set(&mut desc, &self.db_name, schema_set)?;
        Ok(desc)
    }

    async fn dispose(&self) -> Result<()> {
        // An open section would hold a connection the pool waits for; roll it back first.
        if let Some(tx) = self.tx.lock().await.take() {
            let _ = tx.rollback().await;
        }
        self.pool.close().await;
        match &self.scratch {
            Some((url, name)) => drop_database(url, name).await,
            None => Ok(()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use durastore_api::schema::{SET_MAIN, SET_VISIBILITY};

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
    fn type_names() {
        assert_eq!(pg_type_name("character varying(255)"), "VARCHAR(255)");
        assert_eq!(pg_type_name("timestamp without time zone"), "TIMESTAMP");
        assert_eq!(pg_type_name("bigint"), "BIGINT");
        assert_eq!(pg_type_name("bytea"), "BYTEA");
    }
}
