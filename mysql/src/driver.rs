//! The sqlx-based [`SqlDriver`] for MySQL 8 and MariaDB 10.11, and the MySQL [`Dialect`].

use async_trait::async_trait;
use chrono::NaiveDateTime;
use durastore_api::{Result, StoreError};
use durastore_sql::{Dialect, Row, SqlDriver, SqlTx, Value, json_string, row_placeholders};
use sqlx::mysql::{MySql, MySqlArguments, MySqlPool, MySqlRow};
use sqlx::{AssertSqlSafe, Row as _, Type, TypeInfo, ValueRef};

use crate::error::classify;

/// The MySQL/MariaDB dialect.
///
/// - shared row locks are `LOCK IN SHARE MODE` (MariaDB has no `FOR SHARE`);
/// - upserts are `INSERT … ON DUPLICATE KEY UPDATE c = VALUES(c)` (valid on both servers);
/// - insert-if-absent is `INSERT IGNORE`: it reports an ignored duplicate as 0 rows, which the
///   shared logic relies on (sqlx sets `CLIENT_FOUND_ROWS`, so the `ON DUPLICATE KEY UPDATE k = k`
///   form would report 1 for a duplicate too);
/// - a limited delete is `DELETE … ORDER BY … LIMIT ?` (MySQL rejects `LIMIT` in an `IN`
///   subquery).
#[derive(Debug, Default, Clone, Copy)]
pub struct MysqlDialect;

impl Dialect for MysqlDialect {
    fn name(&self) -> &'static str {
        "mysql"
    }

    fn lock_shared(&self) -> &'static str {
        " LOCK IN SHARE MODE"
    }

    fn lock_update(&self) -> &'static str {
        " FOR UPDATE"
    }

    fn upsert_rows(&self, table: &str, columns: &[&str], key: &[&str], rows: usize) -> String {
        let mut updates: Vec<String> = columns
            .iter()
            .filter(|c| !key.contains(c))
            .map(|c| format!("{c} = VALUES({c})"))
            .collect();
        if updates.is_empty() {
            // Every column is part of the key: a no-op update keeps the statement an upsert
            // without INSERT IGNORE's habit of turning other errors into warnings.
            if let Some(k) = key.first() {
                updates.push(format!("{k} = {k}"));
            }
        }
        format!(
            "INSERT INTO {table} ({}) VALUES {} ON DUPLICATE KEY UPDATE {}",
            columns.join(", "),
            row_placeholders(rows, columns.len()),
            updates.join(", ")
        )
    }

    fn insert_ignore_rows(
        &self,
        table: &str,
        columns: &[&str],
        _key: &[&str],
        rows: usize,
    ) -> String {
        format!(
            "INSERT IGNORE INTO {table} ({}) VALUES {}",
            columns.join(", "),
            row_placeholders(rows, columns.len())
        )
    }

    fn delete_limited(
        &self,
        table: &str,
        _key: &[&str],
        where_clause: &str,
        order_by: &str,
    ) -> String {
        format!("DELETE FROM {table} WHERE {where_clause} ORDER BY {order_by} LIMIT ?")
    }

    fn upsert_if_newer(
        &self,
        table: &str,
        columns: &[&str],
        values: &[&str],
        key: &[&str],
        version: &str,
    ) -> String {
        // No conditional DO UPDATE: every column takes the new value only when the stored
        // version is older. Assignments run left to right and later ones see earlier results,
        // so the version column is assigned last.
        let newer = format!("{version} < VALUES({version})");
        let mut updates: Vec<String> = columns
            .iter()
            .filter(|c| !key.contains(c) && **c != version)
            .map(|c| format!("{c} = IF({newer}, VALUES({c}), {c})"))
            .collect();
        updates.push(format!(
            "{version} = IF({newer}, VALUES({version}), {version})"
        ));
        format!(
            "INSERT INTO {table} ({}) VALUES ({}) ON DUPLICATE KEY UPDATE {}",
            columns.join(", "),
            values.join(", "),
            updates.join(", ")
        )
    }

    fn json_array_contains_any(&self, column: &str, values: &[String]) -> (String, Vec<Value>) {
        // The candidate is bound as a JSON string literal encoded exactly as the stored
        // documents are (MariaDB compares JSON strings as their escaped text).
        let terms: Vec<String> = values
            .iter()
            .map(|_| format!("JSON_CONTAINS({column}, ?)"))
            .collect();
        (
            format!("({})", terms.join(" OR ")),
            values.iter().map(|v| Value::Text(json_string(v))).collect(),
        )
    }
}

/// A pool of MySQL/MariaDB connections, each in `READ COMMITTED`, `utf8mb4`/`utf8mb4_bin`,
/// time zone `+00:00`.
#[derive(Debug, Clone)]
pub struct MysqlDriver {
    pool: MySqlPool,
}

impl MysqlDriver {
    /// Wraps a pool (see [`crate::connect`] for the settings every connection must have).
    pub fn new(pool: MySqlPool) -> Self {
        MysqlDriver { pool }
    }

    /// The underlying pool.
    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }
}

type Q<'q> = sqlx::query::Query<'q, MySql, MySqlArguments>;

pub(crate) fn bind<'q>(sql: &str, params: &'q [Value]) -> Q<'q> {
    let mut q = sqlx::query(AssertSqlSafe(sql.to_string()));
    for p in params {
        q = match p {
            Value::Null => q.bind(None::<i64>),
            Value::Int(v) => q.bind(*v),
            Value::Bool(b) => q.bind(*b),
            Value::Double(v) => q.bind(*v),
            Value::Text(s) => q.bind(s.as_str()),
            Value::Bytes(b) => q.bind(b.as_slice()),
            // DATETIME(6) columns hold UTC wall-clock time; the session time zone is +00:00.
            Value::Time(t) => q.bind(t.naive_utc()),
        };
    }
    q
}

fn decode_err(i: usize, type_name: &str, e: sqlx::Error) -> StoreError {
    StoreError::internal(format!(
        "mysql: cannot decode column {i} of type {type_name}"
    ))
    .with_source(e)
}

pub(crate) fn decode_row(row: &MySqlRow) -> Result<Row> {
    let n = row.columns().len();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let raw = row.try_get_raw(i).map_err(|e| classify(e, false))?;
        if raw.is_null() {
            out.push(Value::Null);
            continue;
        }
        let info = raw.type_info().into_owned();
        let name = info.name().to_string();
        let err = |e| decode_err(i, &name, e);
        let v = match name.as_str() {
            "BOOLEAN" => Value::Bool(row.try_get::<bool, _>(i).map_err(err)?),
            "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR" => {
                Value::Int(row.try_get::<i64, _>(i).map_err(err)?)
            }
            "TINYINT UNSIGNED" | "SMALLINT UNSIGNED" | "MEDIUMINT UNSIGNED" | "INT UNSIGNED"
            | "BIGINT UNSIGNED" => {
                let u: u64 = row.try_get(i).map_err(err)?;
                Value::Int(i64::try_from(u).map_err(|_| {
                    StoreError::internal(format!("mysql: column {i}: {u} overflows i64"))
                })?)
            }
            "DATETIME" | "TIMESTAMP" => {
                Value::Time(row.try_get::<NaiveDateTime, _>(i).map_err(err)?.and_utc())
            }
            "DOUBLE" | "FLOAT" => Value::Text(row.try_get::<f64, _>(i).map_err(err)?.to_string()),
            // MySQL 8's binary JSON arrives as its text (MariaDB's JSON is LONGTEXT anyway).
            "JSON" => Value::Text(row.try_get_unchecked::<String, _>(i).map_err(err)?),
            // DECIMAL arrives as text on the wire (e.g. SUM, or MAX over mixed types).
            "DECIMAL" => Value::Text(row.try_get_unchecked::<String, _>(i).map_err(err)?),
            _ => {
                // Character columns of any collation (a `_bin` collation makes the server flag
                // them binary, so the type name alone says VARBINARY) decode as text; columns
                // of the `binary` character set (BINARY, VARBINARY, BLOB) as bytes.
                if <String as Type<MySql>>::compatible(&info) {
                    Value::Text(row.try_get::<String, _>(i).map_err(err)?)
                } else {
                    Value::Bytes(row.try_get::<Vec<u8>, _>(i).map_err(err)?)
                }
            }
        };
        out.push(v);
    }
    Ok(Row(out))
}

static DIALECT: MysqlDialect = MysqlDialect;

#[async_trait]
impl SqlDriver for MysqlDriver {
    fn dialect(&self) -> &dyn Dialect {
        &DIALECT
    }

    async fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let rows = bind(sql, params)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| classify(e, false))?;
        rows.iter().map(decode_row).collect()
    }

    async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        // Autocommit: a connection lost mid-statement may or may not have applied it.
        let r = bind(sql, params)
            .execute(&self.pool)
            .await
            .map_err(|e| classify(e, true))?;
        Ok(r.rows_affected())
    }

    async fn begin(&self) -> Result<Box<dyn SqlTx>> {
        // READ COMMITTED comes from the session (set when the connection was opened).
        let tx = self.pool.begin().await.map_err(|e| classify(e, false))?;
        Ok(Box::new(MysqlTx { tx }))
    }

    async fn begin_read(&self) -> Result<Box<dyn SqlTx>> {
        // The session runs READ COMMITTED (a fresh snapshot per statement); this one
        // transaction is REPEATABLE READ so every statement reads the snapshot taken at its
        // start. SET TRANSACTION applies to the next transaction only.
        let tx = self
            .pool
            .begin_with(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; \
                 START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT",
            )
            .await
            .map_err(|e| classify(e, false))?;
        Ok(Box::new(MysqlTx { tx }))
    }

    async fn close(&self) -> Result<()> {
        self.pool.close().await;
        Ok(())
    }
}

struct MysqlTx {
    tx: sqlx::Transaction<'static, MySql>,
}

#[async_trait]
impl SqlTx for MysqlTx {
    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let rows = bind(sql, params)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(|e| classify(e, false))?;
        rows.iter().map(decode_row).collect()
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let r = bind(sql, params)
            .execute(&mut *self.tx)
            .await
            .map_err(|e| classify(e, false))?;
        Ok(r.rows_affected())
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        self.tx.commit().await.map_err(|e| classify(e, true))
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        self.tx.rollback().await.map_err(|e| classify(e, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialect_statements() {
        let d = MysqlDialect;
        assert_eq!(
            d.upsert("t", &["a", "b", "c"], &["a"]),
            "INSERT INTO t (a, b, c) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE b = VALUES(b), c = VALUES(c)"
        );
        assert_eq!(
            d.upsert_rows("t", &["a", "b"], &["a", "b"], 2),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?) ON DUPLICATE KEY UPDATE a = a"
        );
        assert_eq!(
            d.insert_ignore("t", &["a", "b"], &["a"]),
            "INSERT IGNORE INTO t (a, b) VALUES (?, ?)"
        );
        assert_eq!(
            d.delete_limited("t", &["a"], "a < ?", "a"),
            "DELETE FROM t WHERE a < ? ORDER BY a LIMIT ?"
        );
        assert_eq!(d.lock_shared(), " LOCK IN SHARE MODE");
    }
}
