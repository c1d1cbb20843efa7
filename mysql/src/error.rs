//! The one place where MySQL/MariaDB driver errors become [`StoreError`]s.
//!
//! Server errors are classified by their MySQL error number (not the SQLSTATE, which is too
//! coarse, and never the message text); client-side failures (I/O, pool) by the sqlx variant.

use durastore_api::{ErrorKind, StoreError};
use sqlx::mysql::MySqlDatabaseError;

/// MySQL / MariaDB server error numbers this module distinguishes.
pub(crate) mod codes {
    /// `ER_CON_COUNT_ERROR`: too many connections.
    pub const CON_COUNT: u16 = 1040;
    /// `ER_DBACCESS_DENIED_ERROR`: no access to the database.
    pub const DBACCESS_DENIED: u16 = 1044;
    /// `ER_ACCESS_DENIED_ERROR`: bad user or password.
    pub const ACCESS_DENIED: u16 = 1045;
    /// `ER_BAD_NULL_ERROR`: NULL into a NOT NULL column.
    pub const BAD_NULL: u16 = 1048;
    /// `ER_BAD_DB_ERROR`: unknown database.
    pub const BAD_DB: u16 = 1049;
    /// `ER_TABLE_EXISTS_ERROR`.
    pub const TABLE_EXISTS: u16 = 1050;
    /// `ER_SERVER_SHUTDOWN`: the server is shutting down.
    pub const SERVER_SHUTDOWN: u16 = 1053;
    /// `ER_DUP_FIELDNAME`: duplicate column name.
    pub const DUP_FIELDNAME: u16 = 1060;
    /// `ER_DUP_KEYNAME`: duplicate key (index) name.
    pub const DUP_KEYNAME: u16 = 1061;
    /// `ER_DUP_ENTRY`: duplicate key value.
    pub const DUP_ENTRY: u16 = 1062;
    /// `ER_DUP_KEY`: duplicate key (older form).
    pub const DUP_KEY: u16 = 1022;
    /// `ER_CANT_DROP_FIELD_OR_KEY`: the column or index to drop does not exist.
    pub const CANT_DROP_FIELD_OR_KEY: u16 = 1091;
    /// `ER_TABLE_FULL`.
    pub const TABLE_FULL: u16 = 1114;
    /// `ER_TOO_BIG_ROWSIZE`.
    pub const TOO_BIG_ROWSIZE: u16 = 1118;
    /// `ER_TABLEACCESS_DENIED_ERROR`: command denied on a table.
    pub const TABLEACCESS_DENIED: u16 = 1142;
    /// `ER_NO_SUCH_TABLE`.
    pub const NO_SUCH_TABLE: u16 = 1146;
    /// `ER_NET_PACKET_TOO_LARGE`: statement larger than `max_allowed_packet`.
    pub const NET_PACKET_TOO_LARGE: u16 = 1153;
    /// `ER_DUP_UNIQUE`: duplicate key (NDB).
    pub const DUP_UNIQUE: u16 = 1169;
    /// `ER_ERROR_DURING_COMMIT`.
    pub const ERROR_DURING_COMMIT: u16 = 1180;
    /// `ER_TOO_MANY_USER_CONNECTIONS`.
    pub const TOO_MANY_USER_CONNECTIONS: u16 = 1203;
    /// `ER_LOCK_WAIT_TIMEOUT`.
    pub const LOCK_WAIT_TIMEOUT: u16 = 1205;
    /// `ER_LOCK_DEADLOCK`: deadlock; InnoDB rolled the transaction back.
    pub const LOCK_DEADLOCK: u16 = 1213;
    /// `ER_USER_LIMIT_REACHED`: per-user resource limit.
    pub const USER_LIMIT_REACHED: u16 = 1226;
    /// `ER_WARN_DATA_OUT_OF_RANGE`.
    pub const DATA_OUT_OF_RANGE: u16 = 1264;
    /// `ER_TRUNCATED_WRONG_VALUE`: e.g. an invalid datetime.
    pub const TRUNCATED_WRONG_VALUE: u16 = 1292;
    /// `ER_OPTION_PREVENTS_STATEMENT`: e.g. `--read-only`.
    pub const OPTION_PREVENTS_STATEMENT: u16 = 1290;
    /// `ER_QUERY_INTERRUPTED`: `KILL QUERY`.
    pub const QUERY_INTERRUPTED: u16 = 1317;
    /// `ER_NO_DEFAULT_FOR_FIELD`.
    pub const NO_DEFAULT_FOR_FIELD: u16 = 1364;
    /// `ER_TRUNCATED_WRONG_VALUE_FOR_FIELD`: e.g. invalid UTF-8 for a text column.
    pub const TRUNCATED_WRONG_VALUE_FOR_FIELD: u16 = 1366;
    /// `ER_DATA_TOO_LONG`.
    pub const DATA_TOO_LONG: u16 = 1406;
    /// `ER_DUP_ENTRY_WITH_KEY_NAME`.
    pub const DUP_ENTRY_WITH_KEY_NAME: u16 = 1586;
    /// `ER_TOO_MANY_CONCURRENT_TRXS`.
    pub const TOO_MANY_CONCURRENT_TRXS: u16 = 1637;
    /// `ER_FK_DUP_NAME`: duplicate foreign key constraint name.
    pub const FK_DUP_NAME: u16 = 1826;
    /// `ER_CONNECTION_KILLED` (MariaDB): `KILL` of this connection.
    pub const CONNECTION_KILLED: u16 = 1927;
    /// `ER_STATEMENT_TIMEOUT` (MariaDB `max_statement_time`).
    pub const STATEMENT_TIMEOUT: u16 = 1969;
    /// `ER_QUERY_TIMEOUT` (MySQL `max_execution_time`).
    pub const QUERY_TIMEOUT: u16 = 3024;
    /// `ER_CLIENT_INTERACTION_TIMEOUT` (MySQL 8): disconnected for inactivity.
    pub const CLIENT_INTERACTION_TIMEOUT: u16 = 4031;
    /// `CR_SERVER_GONE_ERROR` (client library code; a server may relay it).
    pub const CR_SERVER_GONE: u16 = 2006;
    /// `CR_SERVER_LOST` (client library code; a server may relay it).
    pub const CR_SERVER_LOST: u16 = 2013;
}

/// How one server error number is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Class {
    pub(crate) kind: ErrorKind,
    pub(crate) retryable: bool,
    /// The statement may have taken effect (only meaningful for a failed COMMIT).
    pub(crate) maybe_committed: bool,
    pub(crate) what: &'static str,
}

const fn class(kind: ErrorKind, retryable: bool, what: &'static str) -> Class {
    Class {
        kind,
        retryable,
        maybe_committed: false,
        what,
    }
}

/// The classification of a server error number.
pub(crate) fn classify_code(code: u16) -> Class {
    use ErrorKind as K;
    use codes::*;
    match code {
        DUP_ENTRY | DUP_KEY | DUP_UNIQUE | DUP_ENTRY_WITH_KEY_NAME => {
            class(K::AlreadyExists, false, "duplicate key")
        }
        // InnoDB rolled the whole transaction back: definitely not committed, safe to retry.
        LOCK_DEADLOCK => class(K::Unavailable, true, "deadlock; transaction rolled back"),
        LOCK_WAIT_TIMEOUT => class(K::Timeout, true, "lock wait timeout"),
        STATEMENT_TIMEOUT | QUERY_TIMEOUT => class(K::Timeout, true, "statement timeout"),
        // The connection is gone; whatever was in flight may or may not have happened.
        CR_SERVER_GONE
        | CR_SERVER_LOST
        | CONNECTION_KILLED
        | SERVER_SHUTDOWN
        | QUERY_INTERRUPTED
        | CLIENT_INTERACTION_TIMEOUT
        | ERROR_DURING_COMMIT => Class {
            kind: K::Unavailable,
            retryable: true,
            maybe_committed: true,
            what: "connection lost or statement interrupted",
        },
        CON_COUNT | TOO_MANY_USER_CONNECTIONS | USER_LIMIT_REACHED | TOO_MANY_CONCURRENT_TRXS => {
            class(
                K::ResourceExhausted,
                true,
                "too many connections or transactions",
            )
        }
        TABLE_FULL => class(K::ResourceExhausted, true, "table or disk full"),
        DATA_TOO_LONG => class(K::SizeLimitExceeded, false, "value too long for its column"),
        NET_PACKET_TOO_LARGE => class(
            K::SizeLimitExceeded,
            false,
            "statement larger than max_allowed_packet",
        ),
        TOO_BIG_ROWSIZE => class(K::SizeLimitExceeded, false, "row too large"),
        BAD_NULL
        | NO_DEFAULT_FOR_FIELD
        | TRUNCATED_WRONG_VALUE_FOR_FIELD
        | TRUNCATED_WRONG_VALUE
        | DATA_OUT_OF_RANGE => class(K::InvalidArgument, false, "value rejected by its column"),
        NO_SUCH_TABLE => class(
            K::Unavailable,
            false,
            "table missing: the schema is not set up (run `durastore schema setup`)",
        ),
        BAD_DB => class(K::NotFound, false, "unknown database"),
        ACCESS_DENIED => class(
            K::Unauthenticated,
            false,
            "access denied (user or password)",
        ),
        DBACCESS_DENIED | TABLEACCESS_DENIED => class(K::PermissionDenied, false, "access denied"),
        OPTION_PREVENTS_STATEMENT => class(K::Unavailable, true, "server refuses writes"),
        _ => class(K::Internal, false, "unclassified server error"),
    }
}

/// Classifies a sqlx error from MySQL/MariaDB. `during_commit` marks failures where the
/// transaction may or may not have been made durable: those are outcome-unknown unless the
/// server definitely rejected the commit.
pub(crate) fn classify(err: sqlx::Error, during_commit: bool) -> StoreError {
    use sqlx::Error as E;
    let (kind, retryable, unknown, message) = match &err {
        E::Database(db) => match db.try_downcast_ref::<MySqlDatabaseError>() {
            Some(my) => {
                let c = classify_code(my.number());
                let unknown = during_commit && (c.maybe_committed || c.kind == ErrorKind::Internal);
                // The server's own text says which user, database or value; it carries no
                // driver-internal fields.
                (
                    c.kind,
                    c.retryable,
                    unknown,
                    format!("mysql error {}: {}: {}", my.number(), c.what, my.message()),
                )
            }
            None => (
                ErrorKind::Internal,
                false,
                during_commit,
                "mysql: unexpected database error".to_string(),
            ),
        },
        // The OS error says what happened ("Connection refused"); it is part of the message.
        E::Io(io) => (
            ErrorKind::Unavailable,
            true,
            during_commit,
            format!("mysql: connection lost ({io})"),
        ),
        E::WorkerCrashed => (
            ErrorKind::Unavailable,
            true,
            during_commit,
            "mysql: connection lost".to_string(),
        ),
        // A malformed packet means the connection's state is unknown: treat it as lost.
        E::Protocol(_) => (
            ErrorKind::Unavailable,
            true,
            during_commit,
            "mysql: protocol error on the connection".to_string(),
        ),
        E::Tls(_) => (
            ErrorKind::Unavailable,
            false,
            during_commit,
            "mysql: TLS failure".to_string(),
        ),
        E::PoolTimedOut => (
            ErrorKind::ResourceExhausted,
            true,
            false,
            "mysql: timed out waiting for a pooled connection".to_string(),
        ),
        E::PoolClosed => (
            ErrorKind::Unavailable,
            false,
            false,
            "mysql: the store is closed".to_string(),
        ),
        E::BeginFailed => (
            ErrorKind::Unavailable,
            true,
            false,
            "mysql: could not begin a transaction".to_string(),
        ),
        E::RowNotFound => (
            ErrorKind::NotFound,
            false,
            false,
            "mysql: no row".to_string(),
        ),
        E::Configuration(_) => (
            ErrorKind::InvalidArgument,
            false,
            false,
            "mysql: bad connection configuration".to_string(),
        ),
        _ => (
            ErrorKind::Internal,
            false,
            during_commit,
            "mysql: driver error".to_string(),
        ),
    };
    let e = StoreError::new(kind, message)
        .with_retryable(retryable)
        .with_outcome_unknown(unknown);
    // A server error is fully described by the message above; as a cause it would print again.
    match err {
        E::Database(_) | E::Io(_) => e,
        other => e.with_source(other),
    }
}

/// The server error number of `err`, if it is a MySQL server error.
pub(crate) fn error_number(err: &sqlx::Error) -> Option<u16> {
    err.as_database_error()
        .and_then(|db| db.try_downcast_ref::<MySqlDatabaseError>())
        .map(MySqlDatabaseError::number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_codes() {
        let c = classify_code(codes::DUP_ENTRY);
        assert_eq!((c.kind, c.retryable), (ErrorKind::AlreadyExists, false));
        for code in [codes::LOCK_DEADLOCK, codes::LOCK_WAIT_TIMEOUT] {
            let c = classify_code(code);
            assert!(c.retryable, "{code}");
            assert!(!c.maybe_committed, "{code}");
        }
        for code in [
            codes::CR_SERVER_GONE,
            codes::CR_SERVER_LOST,
            codes::CONNECTION_KILLED,
            codes::SERVER_SHUTDOWN,
            codes::QUERY_INTERRUPTED,
        ] {
            let c = classify_code(code);
            assert_eq!(c.kind, ErrorKind::Unavailable, "{code}");
            assert!(c.retryable && c.maybe_committed, "{code}");
        }
        let c = classify_code(codes::CON_COUNT);
        assert_eq!((c.kind, c.retryable), (ErrorKind::ResourceExhausted, true));
        assert_eq!(
            classify_code(codes::DATA_TOO_LONG).kind,
            ErrorKind::SizeLimitExceeded
        );
        let c = classify_code(codes::NO_SUCH_TABLE);
        assert_eq!(c.kind, ErrorKind::Unavailable);
        assert!(c.what.contains("schema"));
        for code in [
            codes::BAD_NULL,
            codes::NO_DEFAULT_FOR_FIELD,
            codes::TRUNCATED_WRONG_VALUE_FOR_FIELD,
        ] {
            assert_eq!(
                classify_code(code).kind,
                ErrorKind::InvalidArgument,
                "{code}"
            );
        }
        assert_eq!(classify_code(9999).kind, ErrorKind::Internal);
    }

    #[test]
    fn client_errors() {
        let io = || sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
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

        let e = classify(sqlx::Error::Protocol("garbage".into()), true);
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        assert!(e.is_outcome_unknown());
        assert_eq!(
            classify(sqlx::Error::RowNotFound, false).kind(),
            ErrorKind::NotFound
        );
    }
}
