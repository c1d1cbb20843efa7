//! The one place where PostgreSQL driver errors become [`StoreError`]s, by SQLSTATE.

use durastore_api::{ErrorKind, StoreError};

/// The kind and flags one SQLSTATE maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Class {
    pub kind: ErrorKind,
    pub retryable: bool,
    /// The failure may have hit after the server committed (only meaningful during COMMIT).
    pub maybe_committed: bool,
}

const fn class(kind: ErrorKind, retryable: bool, maybe_committed: bool) -> Class {
    Class {
        kind,
        retryable,
        maybe_committed,
    }
}

/// Classifies a SQLSTATE (`23505`, `40P01`, …).
pub(crate) fn classify_sqlstate(code: &str) -> Class {
    use ErrorKind as K;
    let class_of = code.get(..2).unwrap_or("");
    match code {
        // unique_violation: a create found its key taken.
        "23505" => class(K::AlreadyExists, false, false),
        // serialization_failure, deadlock_detected: the transaction was rolled back whole.
        "40001" | "40P01" => class(K::Unavailable, true, false),
        // admin_shutdown, crash_shutdown, cannot_connect_now: the session is gone.
        "57P01" | "57P02" | "57P03" => class(K::Unavailable, true, true),
        // database_dropped
        "57P04" => class(K::Unavailable, false, true),
        // query_canceled (statement_timeout, pg_cancel_backend): the statement was rolled back.
        "57014" => class(K::Timeout, true, false),
        // lock_not_available (lock_timeout / NOWAIT)
        "55P03" => class(K::ResourceExhausted, true, false),
        // string_data_right_truncation: a value longer than its VARCHAR(n).
        "22001" => class(K::SizeLimitExceeded, false, false),
        // undefined_table: the schema is missing (message set by the caller).
        "42P01" => class(K::Unavailable, false, false),
        // insufficient_privilege
        "42501" => class(K::PermissionDenied, false, false),
        // invalid_catalog_name: the database does not exist.
        "3D000" => class(K::NotFound, false, false),
        // idle_in_transaction_session_timeout, idle_session_timeout: the server closed it.
        "25P03" | "57P05" => class(K::Unavailable, true, true),
        _ => match class_of {
            // connection_exception
            "08" => class(K::Unavailable, true, true),
            // transaction_rollback (other than the two above): rolled back, try again.
            "40" => class(K::Unavailable, true, false),
            // insufficient_resources (disk full, out of memory, too many connections)
            "53" => class(K::ResourceExhausted, true, false),
            // program_limit_exceeded (e.g. an index row too large)
            "54" => class(K::SizeLimitExceeded, false, false),
            // system_error (I/O failure on the server)
            "58" => class(K::Unavailable, true, true),
            // invalid_authorization_specification (28000: no pg_hba entry, role may not log
            // in), invalid_password (28P01): the credentials were refused.
            "28" => class(K::Unauthenticated, false, false),
            // data_exception, integrity_constraint_violation
            "22" | "23" => class(K::InvalidArgument, false, false),
            _ => class(K::Internal, false, true),
        },
    }
}

/// Whether `err` ended the session, so the connection cannot serve another statement: I/O,
/// protocol and TLS failures, and the SQLSTATEs with which the server ends a session
/// (`57P01`-`57P05`, `25P03`, class `08`).
pub(crate) fn is_connection_error(err: &sqlx::Error) -> bool {
    use sqlx::Error as E;
    match err {
        E::Io(_) | E::Protocol(_) | E::WorkerCrashed | E::Tls(_) => true,
        E::Database(db) => db.code().is_some_and(|c| {
            matches!(
                c.as_ref(),
                "57P01" | "57P02" | "57P03" | "57P04" | "57P05" | "25P03"
            ) || c.starts_with("08")
        }),
        _ => false,
    }
}

/// Classifies a sqlx error from PostgreSQL. `during_commit` marks failures where the
/// transaction may or may not have been made durable (a lost connection during COMMIT).
pub(crate) fn classify(err: sqlx::Error, during_commit: bool) -> StoreError {
    classify_in(err, during_commit, None)
}

/// [`classify`] with `context` (e.g. "cannot connect to postgres at …") leading the message.
pub(crate) fn classify_in(
    err: sqlx::Error,
    during_commit: bool,
    context: Option<&str>,
) -> StoreError {
    use sqlx::Error as E;
    let (c, message) = match &err {
        E::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let c = classify_sqlstate(&code);
            let message = if code == "42P01" {
                format!(
                    "postgres: the durastore schema is not set up in this database ({}); run \
                     `durastore schema setup --url …`",
                    db.message()
                )
            } else {
                // The server's message only: sqlx's Display of it appends the server's own
                // source line ("at line 334"), which means nothing to a user.
                format!("postgres error {code}: {}", db.message())
            };
            (c, message)
        }
        E::RowNotFound => (class(ErrorKind::NotFound, false, false), "postgres".into()),
        E::PoolTimedOut => (
            class(ErrorKind::ResourceExhausted, true, false),
            "postgres: no pooled connection became available in time".into(),
        ),
        E::PoolClosed => (
            class(ErrorKind::Unavailable, false, false),
            "postgres store is closed".into(),
        ),
        // rustls reports a rejected certificate as InvalidData; retrying will not fix it.
        E::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => (
            class(ErrorKind::Unavailable, false, true),
            "postgres: the connection failed on invalid data (e.g. a rejected TLS certificate)"
                .into(),
        ),
        // The OS error says what happened ("Connection refused"): part of the message, so a
        // refused connect reads the same in every command.
        E::Io(io) if context.is_some() => {
            (class(ErrorKind::Unavailable, true, true), io.to_string())
        }
        E::Io(io) => (
            class(ErrorKind::Unavailable, true, true),
            format!("postgres: connection lost ({io})"),
        ),
        E::Protocol(_) | E::WorkerCrashed | E::BeginFailed => (
            class(ErrorKind::Unavailable, true, true),
            "postgres: connection lost".into(),
        ),
        E::Tls(_) => (
            class(ErrorKind::Unavailable, true, false),
            "postgres: TLS failure".into(),
        ),
        E::Configuration(_) => (
            class(ErrorKind::InvalidArgument, false, false),
            "postgres: bad connection settings".into(),
        ),
        // Raised before anything is sent: a parameter over the protocol's 1 GiB field limit.
        E::Encode(_) => (
            class(ErrorKind::SizeLimitExceeded, false, false),
            "postgres: a parameter cannot be encoded".into(),
        ),
        _ => (class(ErrorKind::Internal, false, true), "postgres".into()),
    };
    let message = match context {
        Some(ctx) => format!("{ctx}: {message}"),
        None => message,
    };
    let e = StoreError::new(c.kind, message)
        .with_retryable(c.retryable)
        .with_outcome_unknown(during_commit && c.maybe_committed);
    // A server error is fully described by the message above; keeping it as the cause would
    // print it again, with the server's source line.
    match err {
        E::Database(_) | E::Io(_) => e,
        other => e.with_source(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates() {
        let k = |c: &str| classify_sqlstate(c).kind;
        assert_eq!(k("23505"), ErrorKind::AlreadyExists);
        assert_eq!(k("23502"), ErrorKind::InvalidArgument);
        assert_eq!(k("22003"), ErrorKind::InvalidArgument);
        assert_eq!(k("22001"), ErrorKind::SizeLimitExceeded);
        assert_eq!(k("53300"), ErrorKind::ResourceExhausted);
        assert_eq!(k("57014"), ErrorKind::Timeout);
        assert_eq!(k("42P01"), ErrorKind::Unavailable);
        assert_eq!(k("3D000"), ErrorKind::NotFound);
        assert_eq!(k("XX000"), ErrorKind::Internal);
        assert_eq!(k("28P01"), ErrorKind::Unauthenticated);
        assert_eq!(k("28000"), ErrorKind::Unauthenticated);
        assert_eq!(k("42501"), ErrorKind::PermissionDenied);
        assert_eq!(k("42601"), ErrorKind::Internal);
        assert_eq!(k(""), ErrorKind::Internal);
        for retry in [
            "40001", "40P01", "08006", "08003", "57P01", "57P02", "57P03", "53300",
        ] {
            assert!(classify_sqlstate(retry).retryable, "{retry}");
        }
        for once in ["23505", "22003", "42P01", "XX000", "28P01"] {
            assert!(!classify_sqlstate(once).retryable, "{once}");
        }
        // A rolled-back transaction is never "maybe committed"; a dropped session is.
        assert!(!classify_sqlstate("40001").maybe_committed);
        assert!(!classify_sqlstate("23505").maybe_committed);
        assert!(classify_sqlstate("57P01").maybe_committed);
        assert!(classify_sqlstate("08006").maybe_committed);
    }

    fn io() -> sqlx::Error {
        sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "reset",
        ))
    }

    #[test]
    fn driver_errors() {
        let e = classify(io(), false);
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        assert!(e.is_retryable() && !e.is_outcome_unknown());
        let e = classify(io(), true);
        assert!(e.is_retryable() && e.is_outcome_unknown());
        let e = classify(sqlx::Error::PoolTimedOut, true);
        assert_eq!(e.kind(), ErrorKind::ResourceExhausted);
        assert!(e.is_retryable() && !e.is_outcome_unknown());
        let e = classify(sqlx::Error::PoolClosed, false);
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        assert!(!e.is_retryable());
        let e = classify(sqlx::Error::RowNotFound, false);
        assert_eq!(e.kind(), ErrorKind::NotFound);
        let e = classify(sqlx::Error::Configuration("x".into()), false);
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        let e = classify(sqlx::Error::Protocol("garbled".into()), true);
        assert!(e.is_outcome_unknown());
        let e = classify(sqlx::Error::Encode("too large".into()), true);
        assert_eq!(e.kind(), ErrorKind::SizeLimitExceeded);
        assert!(!e.is_retryable() && !e.is_outcome_unknown());
    }
}
