//! A [`SqlDriver`] wrapper that records every statement the store logic sends, grouped by
//! transaction. `durastore bench --floor` records a few workflows this way and replays the same
//! statements without the store logic (see [`crate::floor`]) to measure what the database
//! itself can do.

use std::sync::Arc;

use async_trait::async_trait;
use durastore_api::Result;

use crate::dialect::Dialect;
use crate::driver::{SqlDriver, SqlTx};
use crate::value::{Row, Value};

/// Whether a statement returns rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StmtKind {
    /// Sent through `query` (rows read back).
    Query,
    /// Sent through `execute` (rows affected).
    Execute,
}

/// How a recorded group of statements ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxKind {
    /// One statement outside a transaction.
    Autocommit,
    /// A read-write transaction ([`SqlDriver::begin`]).
    ReadWrite,
    /// A read-only snapshot transaction ([`SqlDriver::begin_read`]).
    ReadOnly,
}

/// One statement as sent: SQL text with `?` placeholders and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedStmt {
    /// The SQL text (`?` placeholders, before any driver rewriting).
    pub sql: String,
    /// The bound values.
    pub params: Vec<Value>,
    /// Query or execute.
    pub kind: StmtKind,
}

/// One transaction (or autocommit statement) as it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedTx {
    /// How it ran.
    pub kind: TxKind,
    /// Its statements in order.
    pub stmts: Vec<RecordedStmt>,
    /// False when it was rolled back (or dropped) instead of committed.
    pub committed: bool,
}

/// The log a [`RecordingDriver`] appends to, in completion order.
pub type Recorder = durastore_api::replay::Log<RecordedTx>;

/// Records each statement, then passes it to the wrapped driver. Statements that fail are
/// recorded too (the store logic sent them).
pub struct RecordingDriver {
    inner: Arc<dyn SqlDriver>,
    recorder: Arc<Recorder>,
}

impl RecordingDriver {
    /// Wraps `inner`, appending to `recorder`.
    pub fn new(inner: Arc<dyn SqlDriver>, recorder: Arc<Recorder>) -> Self {
        Self { inner, recorder }
    }
}

fn stmt(sql: &str, params: &[Value], kind: StmtKind) -> RecordedStmt {
    RecordedStmt {
        sql: sql.to_string(),
        params: params.to_vec(),
        kind,
    }
}

#[async_trait]
impl SqlDriver for RecordingDriver {
    fn dialect(&self) -> &dyn Dialect {
        self.inner.dialect()
    }

    async fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let r = self.inner.query(sql, params).await;
        self.recorder.push(RecordedTx {
            kind: TxKind::Autocommit,
            stmts: vec![stmt(sql, params, StmtKind::Query)],
            committed: r.is_ok(),
        });
        r
    }

    async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        let r = self.inner.execute(sql, params).await;
        self.recorder.push(RecordedTx {
            kind: TxKind::Autocommit,
            stmts: vec![stmt(sql, params, StmtKind::Execute)],
            committed: r.is_ok(),
        });
        r
    }

    async fn begin(&self) -> Result<Box<dyn SqlTx>> {
        Ok(Box::new(RecordingTx::new(
            self.inner.begin().await?,
            TxKind::ReadWrite,
            self.recorder.clone(),
        )))
    }

    async fn begin_read(&self) -> Result<Box<dyn SqlTx>> {
        Ok(Box::new(RecordingTx::new(
            self.inner.begin_read().await?,
            TxKind::ReadOnly,
            self.recorder.clone(),
        )))
    }

    async fn close(&self) -> Result<()> {
        self.inner.close().await
    }
}

struct RecordingTx {
    inner: Option<Box<dyn SqlTx>>,
    tx: RecordedTx,
    recorder: Arc<Recorder>,
}

impl RecordingTx {
    fn new(inner: Box<dyn SqlTx>, kind: TxKind, recorder: Arc<Recorder>) -> Self {
        Self {
            inner: Some(inner),
            tx: RecordedTx {
                kind,
                stmts: Vec::new(),
                committed: false,
            },
            recorder,
        }
    }

    fn inner(&mut self) -> Result<&mut Box<dyn SqlTx>> {
        self.inner
            .as_mut()
            .ok_or_else(|| durastore_api::StoreError::internal("transaction already finished"))
    }

    fn finish(&mut self, committed: bool) {
        let mut tx = std::mem::replace(
            &mut self.tx,
            RecordedTx {
                kind: TxKind::Autocommit,
                stmts: Vec::new(),
                committed: false,
            },
        );
        tx.committed = committed;
        self.recorder.push(tx);
    }
}

impl Drop for RecordingTx {
    fn drop(&mut self) {
        // Dropped without commit or rollback: the database rolls it back.
        if self.inner.is_some() {
            self.finish(false);
        }
    }
}

#[async_trait]
impl SqlTx for RecordingTx {
    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        self.tx.stmts.push(stmt(sql, params, StmtKind::Query));
        self.inner()?.query(sql, params).await
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        self.tx.stmts.push(stmt(sql, params, StmtKind::Execute));
        self.inner()?.execute(sql, params).await
    }

    async fn commit(mut self: Box<Self>) -> Result<()> {
        let inner = self.inner.take();
        let r = match inner {
            Some(tx) => tx.commit().await,
            None => Ok(()),
        };
        self.finish(r.is_ok());
        r
    }

    async fn rollback(mut self: Box<Self>) -> Result<()> {
        let inner = self.inner.take();
        let r = match inner {
            Some(tx) => tx.rollback().await,
            None => Ok(()),
        };
        self.finish(false);
        r
    }
}
