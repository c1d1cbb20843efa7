//! The one place where SQLite driver errors become [`StoreError`]s.

use durastore_api::{ErrorKind, StoreError};

// SQLite primary result codes (the low byte of an extended code).
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_NOMEM: i64 = 7;
const SQLITE_READONLY: i64 = 8;
const SQLITE_IOERR: i64 = 10;
const SQLITE_CORRUPT: i64 = 11;
const SQLITE_FULL: i64 = 13;
const SQLITE_CANTOPEN: i64 = 14;
const SQLITE_TOOBIG: i64 = 18;
const SQLITE_CONSTRAINT: i64 = 19;

/// Classifies a sqlx error from SQLite. `during_commit` marks failures where the transaction
/// may or may not have been made durable.
pub(crate) fn classify(err: sqlx::Error, during_commit: bool) -> StoreError {
    use sqlx::Error as E;
    let (kind, retryable, unknown) = match &err {
        E::Database(db) => {
            let code: i64 = db.code().and_then(|c| c.parse().ok()).unwrap_or(-1);
            match code & 0xff {
                SQLITE_CONSTRAINT if db.is_unique_violation() => {
                    (ErrorKind::AlreadyExists, false, false)
                }
                SQLITE_CONSTRAINT => (ErrorKind::InvalidArgument, false, false),
                SQLITE_BUSY | SQLITE_LOCKED => (ErrorKind::ResourceExhausted, true, false),
                SQLITE_NOMEM | SQLITE_FULL => (ErrorKind::ResourceExhausted, true, false),
                SQLITE_TOOBIG => (ErrorKind::SizeLimitExceeded, false, false),
                SQLITE_IOERR => (ErrorKind::Unavailable, true, during_commit),
                SQLITE_READONLY | SQLITE_CANTOPEN => (ErrorKind::Unavailable, false, false),
                SQLITE_CORRUPT => (ErrorKind::Internal, false, during_commit),
                _ => (ErrorKind::Internal, false, during_commit),
            }
        }
        E::RowNotFound => (ErrorKind::NotFound, false, false),
        E::PoolTimedOut => (ErrorKind::ResourceExhausted, true, false),
        E::PoolClosed => (ErrorKind::Unavailable, false, false),
        E::Io(_) | E::WorkerCrashed => (ErrorKind::Unavailable, true, during_commit),
        E::Configuration(_) => (ErrorKind::InvalidArgument, false, false),
        _ => (ErrorKind::Internal, false, during_commit),
    };
    StoreError::new(kind, "sqlite")
        .with_retryable(retryable)
        .with_outcome_unknown(unknown)
        .with_source(err)
}
