//! The sqlx-based [`SqlDriver`] for PostgreSQL and its [`Dialect`].

use async_trait::async_trait;
use durastore_api::Result;
use durastore_sql::{Dialect, Row, SqlDriver, SqlTx, Value, push_parameter, rewrite_placeholders};
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArguments, PgPool, PgRow, PgValueFormat, PgValueRef, Postgres};
use sqlx::{AssertSqlSafe, Row as _, TypeInfo, ValueRef};

use crate::error::classify;
use crate::pool::{Conn, ConnPool};

/// PostgreSQL's SQL dialect: the shared default (`ON CONFLICT` upserts, `FOR SHARE` /
/// `FOR UPDATE` row locks, `LIMIT` subqueries, `LIKE … ESCAPE` prefixes) is already
/// PostgreSQL's; only the JSON fragments differ (`JSONB` parameters, `@>` containment).
#[derive(Debug, Default, Clone, Copy)]
pub struct PostgresDialect;

impl Dialect for PostgresDialect {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn json_placeholder(&self) -> &'static str {
        // A text parameter does not convert to JSONB implicitly.
        "CAST(? AS JSONB)"
    }

    fn json_array_contains_any(&self, column: &str, values: &[String]) -> (String, Vec<Value>) {
        // `@>` compares JSONB strings exactly and can use a GIN index on the column.
        let terms: Vec<String> = values
            .iter()
            .map(|_| format!("{column} @> jsonb_build_array(CAST(? AS TEXT))"))
            .collect();
        (
            format!("({})", terms.join(" OR ")),
            values.iter().map(|v| Value::Text(v.clone())).collect(),
        )
    }
}

static DIALECT: PostgresDialect = PostgresDialect;

/// A pool of PostgreSQL connections running the shared SQL store logic.
///
/// Store statements run on a pool of its own that tests connections only when there is a
/// reason to doubt them (see `pool.rs`); [`PostgresDriver::pool`] is a sqlx pool on the same
/// database for the schema tool, which opens its connections only when used.
#[derive(Debug, Clone)]
pub struct PostgresDriver {
    pool: PgPool,
    conns: ConnPool,
}

impl PostgresDriver {
    pub(crate) fn new(pool: PgPool, conns: ConnPool) -> Self {
        PostgresDriver { pool, conns }
    }

    /// A sqlx pool on the same database (the schema tool's).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// `BEGIN …` on a pooled connection. A `BEGIN` that fails because the connection was dead
    /// has changed nothing, so it is tried again on another (at most once per pooled
    /// connection, plus a new one).
    async fn begin_with(&self, begin: &'static str) -> Result<Box<dyn SqlTx>> {
        let mut attempts = self.conns.max_connections() + 1;
        loop {
            let mut conn = self.conns.acquire().await?;
            match conn.simple(begin).await {
                Ok(()) => {
                    conn.in_tx = true;
                    return Ok(Box::new(PostgresTx { conn }));
                }
                Err(e) if conn.broken() && attempts > 1 => {
                    attempts -= 1;
                    tracing::debug!("postgres: BEGIN on a dead connection ({e}); trying another");
                }
                Err(e) => return Err(classify(e, false)),
            }
        }
    }
}

type Q<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// The statement for `sql` with `params` bound.
///
/// A NULL parameter is written into the SQL text as `NULL` instead of being bound: the server
/// then infers its type from the context, as the store logic (which binds a bare NULL for any
/// nullable column) needs, and the statement stays a cached prepared statement. Binding an
/// untyped NULL instead would force an unnamed statement, which sqlx parses and describes on
/// every call: an extra round trip and a fresh plan (measured: 9 of the 81 statements of a
/// bench workflow). Each pattern of NULL positions is its own cached statement; call sites use
/// few.
pub(crate) fn bind<'q>(sql: &str, params: &'q [Value]) -> std::result::Result<Q<'q>, sqlx::Error> {
    use sqlx::Arguments as _;
    let mut bound = 0;
    let text = rewrite_placeholders(sql, |i, out| match params.get(i) {
        Some(Value::Null) => out.push_str("NULL"),
        _ => {
            bound += 1;
            push_parameter(out, bound);
        }
    });
    // Sized once: growing the argument buffer value by value showed in client profiles.
    let mut args = PgArguments::default();
    args.reserve(params.len(), params.iter().map(encoded_len).sum());
    for p in params {
        // int8 parameters are accepted by INTEGER/SMALLINT columns (assignment casts) and
        // compare with them through the cross-type integer operators, indexes included.
        match p {
            Value::Null => Ok(()),
            Value::Int(v) => args.add(*v),
            Value::Bool(b) => args.add(*b),
            Value::Double(v) => args.add(*v),
            Value::Text(s) => args.add(s.as_str()),
            Value::Bytes(b) => args.add(b.as_slice()),
            Value::Time(t) => args.add(t.naive_utc()),
        }
        // Only a value over PostgreSQL's 1 GiB field limit fails to encode.
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(sqlx::query_with(AssertSqlSafe(text), args))
}

/// [`bind`] for the store: an encode failure as a [`durastore_api::StoreError`].
pub(crate) fn bound<'q>(sql: &str, params: &'q [Value]) -> Result<Q<'q>> {
    bind(sql, params).map_err(|e| classify(e, false))
}

/// The bytes `v` takes in the argument buffer (a length prefix and the value).
fn encoded_len(v: &Value) -> usize {
    4 + match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Int(_) | Value::Double(_) | Value::Time(_) => 8,
        Value::Text(s) => s.len(),
        Value::Bytes(b) => b.len(),
    }
}

fn decode_err(e: sqlx::Error) -> durastore_api::StoreError {
    classify(e, false)
}

/// Decodes a raw column value whose PostgreSQL type the caller has matched to `T`.
fn dec<'r, T: sqlx::Decode<'r, Postgres>>(raw: &PgValueRef<'r>) -> Result<T> {
    T::decode(raw.clone()).map_err(|e| decode_err(sqlx::Error::Decode(e)))
}

pub(crate) fn decode(row: &PgRow) -> Result<Row> {
    let n = row.columns().len();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let raw = row.try_get_raw(i).map_err(decode_err)?;
        if raw.is_null() {
            out.push(Value::Null);
            continue;
        }
        let type_info = raw.type_info();
        let type_name = type_info.name();
        // Decoded from the raw value already in hand: `try_get` would look the column up again
        // and re-check the type this match has just chosen.
        let v = match type_name {
            "INT8" => Value::Int(dec::<i64>(&raw)?),
            "INT4" => Value::Int(dec::<i32>(&raw)?.into()),
            "INT2" => Value::Int(dec::<i16>(&raw)?.into()),
            "OID" => Value::Int(dec::<Oid>(&raw)?.0.into()),
            "BOOL" => Value::Bool(dec::<bool>(&raw)?),
            "BYTEA" => Value::Bytes(dec::<Vec<u8>>(&raw)?),
            "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "UNKNOWN" => Value::Text(dec::<String>(&raw)?),
            "TIMESTAMP" => Value::Time(dec::<chrono::NaiveDateTime>(&raw)?.and_utc()),
            "TIMESTAMPTZ" => Value::Time(dec::<chrono::DateTime<chrono::Utc>>(&raw)?),
            // JSON documents come back as their text. In the binary wire format a JSONB value
            // is a version byte (1) followed by the text; JSON is the text itself.
            "JSON" | "JSONB" => {
                let bytes = raw
                    .as_bytes()
                    .map_err(|e| durastore_api::StoreError::internal(format!("column {i}: {e}")))?;
                let text = match (type_name, raw.format(), bytes.split_first()) {
                    ("JSONB", PgValueFormat::Binary, Some((1, rest))) => rest,
                    ("JSONB", PgValueFormat::Binary, _) => {
                        return Err(durastore_api::StoreError::internal(format!(
                            "column {i}: unknown JSONB wire version"
                        )));
                    }
                    _ => bytes,
                };
                Value::Text(String::from_utf8(text.to_vec()).map_err(|_| {
                    durastore_api::StoreError::internal(format!("column {i}: JSON is not UTF-8"))
                })?)
            }
            "FLOAT4" => Value::Text(dec::<f32>(&raw)?.to_string()),
            "FLOAT8" => Value::Text(dec::<f64>(&raw)?.to_string()),
            "NUMERIC" => {
                let bytes = raw
                    .as_bytes()
                    .map_err(|e| durastore_api::StoreError::internal(format!("column {i}: {e}")))?;
                let text = match raw.format() {
                    PgValueFormat::Binary => numeric_to_text(bytes),
                    PgValueFormat::Text => std::str::from_utf8(bytes).ok().map(str::to_string),
                };
                Value::Text(text.ok_or_else(|| {
                    durastore_api::StoreError::internal(format!(
                        "column {i}: malformed NUMERIC value"
                    ))
                })?)
            }
            other => {
                return Err(durastore_api::StoreError::internal(format!(
                    "column {i} has PostgreSQL type {other}, which the store does not read"
                )));
            }
        };
        out.push(v);
    }
    Ok(Row(out))
}

/// Renders PostgreSQL's binary NUMERIC (base-10000 digits with a weight and a display scale)
/// as decimal text. `NaN` and infinities come out as their names.
fn numeric_to_text(b: &[u8]) -> Option<String> {
    let word = |i: usize| -> Option<u16> { Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?])) };
    let ndigits = usize::from(word(0)?);
    let weight = i32::from(word(2)? as i16);
    let sign = word(4)?;
    let dscale = usize::from(word(6)?);
    match sign {
        0xC000 => return Some("NaN".into()),
        0xD000 => return Some("Infinity".into()),
        0xF000 => return Some("-Infinity".into()),
        0x0000 | 0x4000 => {}
        _ => return None,
    }
    let digits: Vec<u16> = (0..ndigits)
        .map(|k| word(8 + 2 * k))
        .collect::<Option<_>>()?;
    let digit_at = |pos: i32| -> u16 {
        // Base-10000 digit at `pos` (weight numbering); zero outside the stored range.
        let idx = weight - pos;
        if idx < 0 {
            0
        } else {
            usize::try_from(idx)
                .ok()
                .and_then(|i| digits.get(i).copied())
                .unwrap_or(0)
        }
    };
    let mut int_part = String::new();
    let mut pos = weight.max(0);
    while pos >= 0 {
        let d = digit_at(pos);
        if int_part.is_empty() {
            if d != 0 {
                int_part = d.to_string();
            }
        } else {
            int_part.push_str(&format!("{d:04}"));
        }
        pos -= 1;
    }
    if int_part.is_empty() {
        int_part.push('0');
    }
    let mut frac = String::new();
    let mut pos = -1;
    while frac.len() < dscale {
        frac.push_str(&format!("{:04}", digit_at(pos)));
        pos -= 1;
    }
    frac.truncate(dscale);
    let mut s = String::new();
    if sign == 0x4000 {
        s.push('-');
    }
    s.push_str(&int_part);
    if !frac.is_empty() {
        s.push('.');
        s.push_str(&frac);
    }
    Some(s)
}

#[async_trait]
impl SqlDriver for PostgresDriver {
    fn dialect(&self) -> &dyn Dialect {
        &DIALECT
    }

    async fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let mut conn = self.conns.acquire().await?;
        let rows = conn
            .fetch_all(bound(sql, params)?)
            .await
            .map_err(|e| classify(e, false))?;
        rows.iter().map(decode).collect()
    }

    async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        // A single statement outside a transaction commits as it completes: losing the
        // connection before the reply leaves its outcome unknown.
        let mut conn = self.conns.acquire().await?;
        conn.execute(bound(sql, params)?)
            .await
            .map_err(|e| classify(e, true))
    }

    async fn begin(&self) -> Result<Box<dyn SqlTx>> {
        // Row locks (FOR SHARE on the shard row, FOR UPDATE on the rows a write checks) give
        // the isolation the store logic needs; READ COMMITTED re-reads a locked row's newest
        // version after waiting, so no serialization failures are raised for lost races.
        self.begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
            .await
    }

    async fn begin_read(&self) -> Result<Box<dyn SqlTx>> {
        // One snapshot for every statement; read-only transactions never raise serialization
        // failures at REPEATABLE READ.
        self.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
    }

    async fn close(&self) -> Result<()> {
        self.conns.close().await;
        self.pool.close().await;
        Ok(())
    }
}

/// A transaction on a pooled connection. Dropped without commit or rollback, the connection
/// is rolled back before its next use (see `pool.rs`).
struct PostgresTx {
    conn: Conn,
}

#[async_trait]
impl SqlTx for PostgresTx {
    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let rows = self
            .conn
            .fetch_all(bound(sql, params)?)
            .await
            .map_err(|e| classify(e, false))?;
        rows.iter().map(decode).collect()
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        self.conn
            .execute(bound(sql, params)?)
            .await
            .map_err(|e| classify(e, false))
    }

    async fn commit(mut self: Box<Self>) -> Result<()> {
        let r = self.conn.simple("COMMIT").await;
        // A COMMIT that reached the server ended the transaction, committed or not.
        self.conn.in_tx = false;
        r.map_err(|e| classify(e, true))
    }

    async fn rollback(mut self: Box<Self>) -> Result<()> {
        let r = self.conn.simple("ROLLBACK").await;
        self.conn.in_tx = r.is_err();
        r.map_err(|e| classify(e, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(ndigits: u16, weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut b = Vec::new();
        for w in [ndigits, weight as u16, sign, dscale] {
            b.extend_from_slice(&w.to_be_bytes());
        }
        for d in digits {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b
    }

    #[test]
    fn numeric_text() {
        assert_eq!(
            numeric_to_text(&numeric(0, 0, 0, 0, &[])).as_deref(),
            Some("0")
        );
        // 12345678 = [1234, 5678], weight 1
        assert_eq!(
            numeric_to_text(&numeric(2, 1, 0, 0, &[1234, 5678])).as_deref(),
            Some("12345678")
        );
        // 10000 = [1], weight 1 (trailing zero digits are not stored)
        assert_eq!(
            numeric_to_text(&numeric(1, 1, 0, 0, &[1])).as_deref(),
            Some("10000")
        );
        // -1.5 = [1, 5000], weight 0, dscale 1
        assert_eq!(
            numeric_to_text(&numeric(2, 0, 0x4000, 1, &[1, 5000])).as_deref(),
            Some("-1.5")
        );
        // 0.0001 = [1], weight -1, dscale 4
        assert_eq!(
            numeric_to_text(&numeric(1, -1, 0, 4, &[1])).as_deref(),
            Some("0.0001")
        );
        assert_eq!(
            numeric_to_text(&numeric(0, 0, 0xC000, 0, &[])).as_deref(),
            Some("NaN")
        );
        assert_eq!(numeric_to_text(&[0, 1]), None);
        assert_eq!(numeric_to_text(&numeric(2, 0, 0, 0, &[1])), None);
    }

    #[test]
    fn nulls_are_inlined_and_the_rest_numbered() {
        use sqlx::Execute as _;
        let params = [Value::Int(1), Value::Null, Value::Text("x".into())];
        let q = bind("SELECT ?, ?, '?', ?", &params).unwrap();
        assert_eq!(q.sql().as_str(), "SELECT $1, NULL, '?', $2");
    }

    #[test]
    fn dialect_defaults_are_postgres() {
        let d = PostgresDialect;
        assert_eq!(d.lock_shared(), " FOR SHARE");
        assert_eq!(d.lock_update(), " FOR UPDATE");
        assert_eq!(
            durastore_sql::number_placeholders(&d.upsert("t", &["a", "b"], &["a"])),
            "INSERT INTO t (a, b) VALUES ($1, $2) ON CONFLICT (a) DO UPDATE SET b = excluded.b"
        );
    }
}
