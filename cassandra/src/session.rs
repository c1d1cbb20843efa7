//! A thin layer over the scylla session: cached prepared statements, dynamic rows, single-page
//! reads with the driver's paging state, and logged (conditional) batches.
//!
//! Every statement is prepared once and executed with bound values; no value is ever
//! interpolated into CQL text.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use durastore_api::{Result, StoreError};
use scylla::client::session::Session;
use scylla::response::{PagingState, PagingStateResponse};
use scylla::statement::batch::{Batch, BatchType};
use scylla::statement::prepared::PreparedStatement;
use scylla::value::{CqlTimestamp, CqlValue, Row};
use uuid::Uuid;

use crate::error::{classify, classify_prepare, corrupt};

/// Bound values of one statement (`None` binds NULL).
pub(crate) type Vals = Vec<Option<CqlValue>>;

/// How a request is sent, as a [`Tap`] sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// A statement whose rows (if any) are ignored.
    Exec,
    /// A query read whole.
    Rows,
    /// A linearizable read at the serial consistency.
    Serial,
    /// One page of a query.
    Page {
        /// Rows per page.
        page_size: i32,
    },
    /// One conditional statement (`… IF …`).
    Cas,
    /// A logged batch.
    Batch {
        /// Whether any statement carries a condition (one Paxos round).
        conditional: bool,
    },
}

/// Sees every request a [`Cass`] sends, just before it is sent: the seam a request decorator
/// goes in without the session knowing what it does (the `floor` feature's recorder is one).
pub(crate) trait Tap: Send + Sync {
    /// One request: how it is sent, its statements with their bound values, and the paging
    /// state a page read continues from.
    fn request(&self, kind: CallKind, stmts: &[(&str, &Vals)], token: Option<&[u8]>);
}

/// Conversion of a Rust value into a bound CQL value.
pub(crate) trait IntoCql {
    /// The CQL value (`None` = NULL).
    fn cql(self) -> Option<CqlValue>;
}

impl IntoCql for i32 {
    fn cql(self) -> Option<CqlValue> {
        Some(CqlValue::Int(self))
    }
}
impl IntoCql for i64 {
    fn cql(self) -> Option<CqlValue> {
        Some(CqlValue::BigInt(self))
    }
}
impl IntoCql for bool {
    fn cql(self) -> Option<CqlValue> {
        Some(CqlValue::Boolean(self))
    }
}
impl IntoCql for String {
    fn cql(self) -> Option<CqlValue> {
        Some(CqlValue::Text(self))
    }
}
impl IntoCql for &str {
    fn cql(self) -> Option<CqlValue> {
        Some(CqlValue::Text(self.to_string()))
    }
}
impl IntoCql for &String {
    fn cql(self) -> Option<CqlValue> {
        Some(CqlValue::Text(self.clone()))
    }
}
impl IntoCql for Vec<u8> {
    fn cql(self) -> Option<CqlValue> {
        Some(CqlValue::Blob(self))
    }
}
impl IntoCql for &[u8] {
    fn cql(self) -> Option<CqlValue> {
        Some(CqlValue::Blob(self.to_vec()))
    }
}
impl IntoCql for &Vec<u8> {
    fn cql(self) -> Option<CqlValue> {
        Some(CqlValue::Blob(self.clone()))
    }
}
impl IntoCql for Uuid {
    fn cql(self) -> Option<CqlValue> {
        Some(CqlValue::Uuid(self))
    }
}
/// CQL `timestamp` has millisecond precision; sub-millisecond parts are truncated.
impl IntoCql for DateTime<Utc> {
    fn cql(self) -> Option<CqlValue> {
        Some(CqlValue::Timestamp(CqlTimestamp(self.timestamp_millis())))
    }
}
impl IntoCql for CqlValue {
    fn cql(self) -> Option<CqlValue> {
        Some(self)
    }
}
impl<T: IntoCql> IntoCql for Option<T> {
    fn cql(self) -> Option<CqlValue> {
        self.and_then(IntoCql::cql)
    }
}

/// Builds a [`Vals`] from values of mixed types: `vals![shard_id, "x", blob]`.
macro_rules! vals {
    () => { Vec::<Option<scylla::value::CqlValue>>::new() };
    ($($v:expr),+ $(,)?) => {
        vec![$($crate::session::IntoCql::cql($v)),+]
    };
}
pub(crate) use vals;

/// One result row with its column names (rows of conditional writes have `[applied]` first and
/// then whichever columns the server chose to return).
#[derive(Debug, Clone)]
pub(crate) struct CRow {
    names: Arc<[String]>,
    values: Vec<Option<CqlValue>>,
}

impl CRow {
    /// The value of a column, `None` when absent from the row or NULL.
    pub fn get(&self, name: &str) -> Option<&CqlValue> {
        let i = self.names.iter().position(|n| n == name)?;
        self.values.get(i)?.as_ref()
    }

    /// Whether the row has the column at all (even NULL).
    pub fn has(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    /// `[applied]` of a conditional write's result row.
    pub fn applied(&self) -> bool {
        matches!(self.get("[applied]"), Some(CqlValue::Boolean(true)))
    }

    /// Column as i64 (`bigint`, `int`, `counter`); `None` when NULL.
    pub fn opt_i64(&self, name: &str) -> Result<Option<i64>> {
        match self.get(name) {
            None => Ok(None),
            Some(CqlValue::BigInt(v)) => Ok(Some(*v)),
            Some(CqlValue::Int(v)) => Ok(Some(i64::from(*v))),
            Some(CqlValue::Counter(c)) => Ok(Some(c.0)),
            Some(other) => Err(corrupt(format!(
                "{name}: expected an integer, got {other:?}"
            ))),
        }
    }
    /// Column as i64, error when NULL.
    pub fn i64(&self, name: &str) -> Result<i64> {
        self.opt_i64(name)?
            .ok_or_else(|| corrupt(format!("{name} is null")))
    }
    /// Column as i32.
    pub fn i32(&self, name: &str) -> Result<i32> {
        let v = self.i64(name)?;
        i32::try_from(v).map_err(|_| corrupt(format!("{name}: {v} out of range")))
    }
    /// Column as text; `None` when NULL.
    pub fn opt_text(&self, name: &str) -> Result<Option<String>> {
        match self.get(name) {
            None => Ok(None),
            Some(CqlValue::Text(s)) | Some(CqlValue::Ascii(s)) => Ok(Some(s.clone())),
            Some(other) => Err(corrupt(format!("{name}: expected text, got {other:?}"))),
        }
    }
    /// Column as text, "" when NULL.
    pub fn text(&self, name: &str) -> Result<String> {
        Ok(self.opt_text(name)?.unwrap_or_default())
    }
    /// Column as blob; `None` when NULL.
    pub fn opt_blob(&self, name: &str) -> Result<Option<Vec<u8>>> {
        match self.get(name) {
            None => Ok(None),
            Some(CqlValue::Blob(b)) => Ok(Some(b.clone())),
            Some(other) => Err(corrupt(format!("{name}: expected blob, got {other:?}"))),
        }
    }
    /// Column as blob, empty when NULL (CQL stores an empty blob as NULL in collections).
    pub fn blob(&self, name: &str) -> Result<Vec<u8>> {
        Ok(self.opt_blob(name)?.unwrap_or_default())
    }
    /// Column as uuid; `None` when NULL.
    pub fn opt_uuid(&self, name: &str) -> Result<Option<Uuid>> {
        match self.get(name) {
            None => Ok(None),
            Some(CqlValue::Uuid(u)) => Ok(Some(*u)),
            Some(CqlValue::Timeuuid(u)) => Ok(Some((*u).into())),
            Some(other) => Err(corrupt(format!("{name}: expected uuid, got {other:?}"))),
        }
    }
    /// Column as uuid, error when NULL.
    pub fn uuid(&self, name: &str) -> Result<Uuid> {
        self.opt_uuid(name)?
            .ok_or_else(|| corrupt(format!("{name} is null")))
    }
    /// Column as bool; `None` when NULL.
    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(CqlValue::Boolean(b)) => Ok(Some(*b)),
            Some(other) => Err(corrupt(format!("{name}: expected boolean, got {other:?}"))),
        }
    }
    /// Column as a UTC timestamp (millisecond precision); `None` when NULL.
    pub fn opt_time(&self, name: &str) -> Result<Option<DateTime<Utc>>> {
        match self.get(name) {
            None => Ok(None),
            Some(CqlValue::Timestamp(t)) => Utc
                .timestamp_millis_opt(t.0)
                .single()
                .map(Some)
                .ok_or_else(|| corrupt(format!("{name}: timestamp {} out of range", t.0))),
            Some(other) => Err(corrupt(format!(
                "{name}: expected timestamp, got {other:?}"
            ))),
        }
    }
}

/// Outcome of a conditional write (single LWT statement or conditional batch).
#[derive(Debug)]
pub(crate) struct CasResult {
    /// Whether every condition held and the write was applied.
    pub applied: bool,
    /// The rows the server returned: for a failed batch, the current values of the rows whose
    /// conditions were checked (one row per conditional statement's row, `[applied]=false`).
    pub rows: Vec<CRow>,
}

/// One statement of a batch: CQL text (prepared once, cached) and its bound values.
#[derive(Debug, Clone)]
pub(crate) struct Stmt {
    /// CQL text with `?` markers.
    pub cql: String,
    /// Bound values.
    pub vals: Vals,
}

impl Stmt {
    /// A statement.
    pub fn new(cql: impl Into<String>, vals: Vals) -> Self {
        Stmt {
            cql: cql.into(),
            vals,
        }
    }
}

/// The session every store of one backend shares.
pub(crate) struct Cass {
    session: Session,
    keyspace: String,
    prepared: Mutex<HashMap<String, PreparedStatement>>,
    /// Set by [`Cass::close`]: every later request fails with `Unavailable`.
    closed: AtomicBool,
    /// When set, sees every request before it is sent.
    tap: Option<Arc<dyn Tap>>,
}

impl std::fmt::Debug for Cass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cass")
            .field("keyspace", &self.keyspace)
            .finish()
    }
}

impl Cass {
    /// Wraps a connected session whose current keyspace is `keyspace`.
    pub fn new(session: Session, keyspace: String) -> Self {
        Cass {
            session,
            keyspace,
            prepared: Mutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
            tap: None,
        }
    }

    /// Shows every later request to `tap` before it is sent.
    pub fn with_tap(mut self, tap: Arc<dyn Tap>) -> Self {
        self.tap = Some(tap);
        self
    }

    fn record(&self, kind: CallKind, stmts: &[(&str, &Vals)], token: Option<&[u8]>) {
        if let Some(t) = &self.tap {
            t.request(kind, stmts, token);
        }
    }

    /// Marks the handle closed: every later request fails with `Unavailable` instead of
    /// reaching the server (the driver's connections close when the last handle drops).
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    /// The keyspace the stores live in.
    pub fn keyspace(&self) -> &str {
        &self.keyspace
    }

    /// The driver session (schema tool, tests).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The prepared statement for `cql`, preparing it on first use.
    pub async fn prepare(&self, cql: &str) -> Result<PreparedStatement> {
        // Every request goes through here, so this is the one place a closed handle is refused.
        if self.closed.load(Ordering::SeqCst) {
            return Err(StoreError::new(
                durastore_api::ErrorKind::Unavailable,
                "cassandra: the store handle is closed",
            )
            .with_retryable(false));
        }
        if let Some(p) = self.cache().get(cql) {
            return Ok(p.clone());
        }
        let p = self.session.prepare(cql).await.map_err(classify_prepare)?;
        self.cache().insert(cql.to_string(), p.clone());
        Ok(p)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, PreparedStatement>> {
        // A panic while holding this lock cannot leave the map inconsistent (single inserts).
        self.prepared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs a statement without an `IF` condition, ignoring any result rows.
    pub async fn exec(&self, cql: &str, vals: Vals) -> Result<()> {
        let p = self.prepare(cql).await?;
        self.record(CallKind::Exec, &[(cql, &vals)], None);
        self.session
            .execute_unpaged(&p, vals)
            .await
            .map_err(|e| classify(e, false))?;
        Ok(())
    }

    /// Runs a query and returns every row (the driver pages internally; use for bounded
    /// results only).
    pub async fn rows(&self, cql: &str, vals: Vals) -> Result<Vec<CRow>> {
        let p = self.prepare(cql).await?;
        self.record(CallKind::Rows, &[(cql, &vals)], None);
        let res = self
            .session
            .execute_unpaged(&p, vals)
            .await
            .map_err(|e| classify(e, false))?;
        to_rows(res)
    }

    /// The first row of a query, if any.
    pub async fn row(&self, cql: &str, vals: Vals) -> Result<Option<CRow>> {
        Ok(self.rows(cql, vals).await?.into_iter().next())
    }

    /// The first row of a query read at the session's serial consistency (`SERIAL` /
    /// `LOCAL_SERIAL`): a linearizable read that sees every committed conditional write and
    /// completes any one still in flight.
    pub async fn serial_row(&self, cql: &str, vals: Vals) -> Result<Option<CRow>> {
        let mut p = self.prepare(cql).await?;
        self.record(CallKind::Serial, &[(cql, &vals)], None);
        let serial = self
            .session
            .get_default_execution_profile_handle()
            .pointee_to_builder()
            .build()
            .get_serial_consistency();
        p.set_consistency(match serial {
            Some(scylla::statement::SerialConsistency::Serial) => {
                scylla::statement::Consistency::Serial
            }
            _ => scylla::statement::Consistency::LocalSerial,
        });
        let res = self
            .session
            .execute_unpaged(&p, vals)
            .await
            .map_err(|e| classify(e, false))?;
        Ok(to_rows(res)?.into_iter().next())
    }

    /// One page of at most `page_size` rows, continuing from `token` (the driver's paging
    /// state). The returned token is `None` on the last page.
    pub async fn page(
        &self,
        cql: &str,
        vals: Vals,
        page_size: i32,
        token: Option<&[u8]>,
    ) -> Result<(Vec<CRow>, Option<Vec<u8>>)> {
        let mut p = self.prepare(cql).await?;
        self.record(
            CallKind::Page {
                page_size: page_size.max(1),
            },
            &[(cql, &vals)],
            token,
        );
        p.set_page_size(page_size.max(1));
        let state = match token {
            Some(t) if !t.is_empty() => PagingState::new_from_raw_bytes(t),
            _ => PagingState::start(),
        };
        let (res, next) = self
            .session
            .execute_single_page(&p, vals, state)
            .await
            .map_err(|e| classify(e, false))?;
        let rows = to_rows(res)?;
        let next = match next {
            PagingStateResponse::HasMorePages { state } => {
                state.as_bytes_slice().map(|b| b.to_vec())
            }
            PagingStateResponse::NoMorePages => None,
        };
        Ok((rows, next))
    }

    /// Runs one conditional statement (`… IF …`) with serial consistency.
    pub async fn cas(&self, cql: &str, vals: Vals) -> Result<CasResult> {
        let p = self.prepare(cql).await?;
        self.record(CallKind::Cas, &[(cql, &vals)], None);
        let res = self
            .session
            .execute_unpaged(&p, vals)
            .await
            .map_err(|e| classify(e, true))?;
        cas_result(res)
    }

    /// Runs a logged batch. When any statement has an `IF` condition the whole batch is one
    /// Paxos round: all or nothing, and the result says whether it applied. All conditional
    /// statements of a batch must target the same partition.
    pub async fn batch(&self, stmts: Vec<Stmt>) -> Result<CasResult> {
        if stmts.is_empty() {
            return Ok(CasResult {
                applied: true,
                rows: Vec::new(),
            });
        }
        let conditional = stmts.iter().any(|s| has_condition(&s.cql));
        if self.tap.is_some() {
            let refs: Vec<(&str, &Vals)> =
                stmts.iter().map(|s| (s.cql.as_str(), &s.vals)).collect();
            self.record(CallKind::Batch { conditional }, &refs, None);
        }
        let mut batch = Batch::new(BatchType::Logged);
        let mut values = Vec::with_capacity(stmts.len());
        for s in stmts {
            let p = self.prepare(&s.cql).await?;
            batch.append_statement(p);
            values.push(s.vals);
        }
        let res = self
            .session
            .batch(&batch, values)
            .await
            .map_err(|e| classify(e, conditional))?;
        if conditional {
            cas_result(res)
        } else {
            Ok(CasResult {
                applied: true,
                rows: Vec::new(),
            })
        }
    }
}

/// Whether a statement carries an LWT condition.
pub(crate) fn has_condition(cql: &str) -> bool {
    let upper = cql.to_ascii_uppercase();
    upper.contains(" IF ")
}

pub(crate) fn to_rows(res: scylla::response::query_result::QueryResult) -> Result<Vec<CRow>> {
    if !res.is_rows() {
        return Ok(Vec::new());
    }
    let rows = res
        .into_rows_result()
        .map_err(|e| corrupt(format!("result rows: {e}")))?;
    let names: Arc<[String]> = rows
        .column_specs()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    let mut out = Vec::with_capacity(rows.rows_num());
    for r in rows
        .rows::<Row>()
        .map_err(|e| corrupt(format!("rows: {e}")))?
    {
        let r = r.map_err(|e| corrupt(format!("row: {e}")))?;
        out.push(CRow {
            names: names.clone(),
            values: r.columns,
        });
    }
    Ok(out)
}

pub(crate) fn cas_result(res: scylla::response::query_result::QueryResult) -> Result<CasResult> {
    let rows = to_rows(res)?;
    let applied = match rows.first() {
        Some(r) if r.has("[applied]") => r.applied(),
        Some(_) => {
            return Err(StoreError::internal(
                "cassandra: conditional write returned no [applied] column",
            ));
        }
        None => true,
    };
    Ok(CasResult { applied, rows })
}
