//! The one place where scylla driver errors become [`StoreError`]s, by CQL error code.

use durastore_api::{ErrorKind, StoreError};
use scylla::errors::{
    DbError, ExecutionError, NewSessionError, PrepareError, RequestAttemptError, WriteType,
};

/// Classifies a server error code (the `DbError` of a failed request).
///
/// `conditional` marks requests that carry an `IF` condition (LWT): a write timeout there leaves
/// the Paxos round undecided, so the outcome is unknown until a later serial read settles it.
fn classify_db(err: &DbError, conditional: bool) -> (ErrorKind, bool, bool) {
    use ErrorKind as K;
    match err {
        DbError::SyntaxError | DbError::Invalid | DbError::ProtocolError => {
            (K::Internal, false, false)
        }
        DbError::AlreadyExists { .. } => (K::AlreadyExists, false, false),
        DbError::AuthenticationError => (K::Unauthenticated, false, false),
        DbError::Unauthorized => (K::PermissionDenied, false, false),
        DbError::ConfigError => (K::Unavailable, false, false),
        // Not enough replicas alive: nothing was attempted.
        DbError::Unavailable { .. } | DbError::IsBootstrapping => (K::Unavailable, true, false),
        DbError::Overloaded | DbError::RateLimitReached { .. } => {
            (K::ResourceExhausted, true, false)
        }
        DbError::ReadTimeout { .. } | DbError::ReadFailure { .. } => (K::Timeout, true, false),
        // A write may have reached some replicas: the outcome is unknown. For a CAS write the
        // Paxos round may still complete, so the caller must not assume it failed.
        DbError::WriteTimeout { write_type, .. } => {
            let cas = conditional || matches!(write_type, WriteType::Cas);
            (
                K::Timeout,
                true,
                cas || !matches!(write_type, WriteType::Simple),
            )
        }
        DbError::WriteFailure { .. } => (K::Unavailable, true, true),
        DbError::TruncateError => (K::Unavailable, true, false),
        DbError::FunctionFailure { .. } => (K::InvalidArgument, false, false),
        DbError::Unprepared { .. } => (K::Unavailable, true, false),
        DbError::ServerError => (K::Internal, false, true),
        DbError::Other(_) => (K::Internal, false, true),
        _ => (K::Internal, false, true),
    }
}

fn attempt(err: &RequestAttemptError, conditional: bool) -> (ErrorKind, bool, bool) {
    use ErrorKind as K;
    match err {
        RequestAttemptError::DbError(db, _) => classify_db(db, conditional),
        RequestAttemptError::SerializationError(_)
        | RequestAttemptError::CqlRequestSerialization(_) => (K::InvalidArgument, false, false),
        // The connection broke: the request may have been executed.
        RequestAttemptError::BrokenConnectionError(_) => (K::Unavailable, true, true),
        RequestAttemptError::UnableToAllocStreamId => (K::ResourceExhausted, true, false),
        _ => (K::Internal, false, true),
    }
}

/// Classifies a failed execution. `conditional`: the request was an LWT (see [`classify_db`]).
pub(crate) fn classify(err: ExecutionError, conditional: bool) -> StoreError {
    use ErrorKind as K;
    let (kind, retryable, unknown) = match &err {
        ExecutionError::BadQuery(_) => (K::InvalidArgument, false, false),
        ExecutionError::EmptyPlan => (K::Unavailable, true, false),
        ExecutionError::PrepareError(_) => (K::Unavailable, true, false),
        ExecutionError::ConnectionPoolError(_) => (K::Unavailable, true, false),
        ExecutionError::LastAttemptError(a) => attempt(a, conditional),
        ExecutionError::RequestTimeout(_) => (K::Timeout, true, true),
        ExecutionError::UseKeyspaceError(_) => (K::Unavailable, false, false),
        ExecutionError::SchemaAgreementError(_) => (K::Unavailable, true, true),
        ExecutionError::MetadataError(_) => (K::Unavailable, true, false),
        _ => (K::Internal, false, true),
    };
    StoreError::new(kind, format!("cassandra: {err}"))
        .with_retryable(retryable)
        .with_outcome_unknown(unknown)
        .with_source(err)
}

/// Classifies a failed prepare.
pub(crate) fn classify_prepare(err: PrepareError) -> StoreError {
    let (kind, retryable) = match &err {
        PrepareError::AllAttemptsFailed { first_attempt } => {
            let (k, r, _) = attempt(first_attempt, false);
            (k, r)
        }
        _ => (ErrorKind::Unavailable, true),
    };
    StoreError::new(kind, format!("cassandra: prepare: {err}"))
        .with_retryable(retryable)
        .with_source(err)
}

/// The credentials were refused (or do not allow this) somewhere in a connect error's chain.
fn auth_failure(err: &NewSessionError) -> Option<ErrorKind> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        match e.downcast_ref::<DbError>() {
            Some(DbError::AuthenticationError) => return Some(ErrorKind::Unauthenticated),
            Some(DbError::Unauthorized) => return Some(ErrorKind::PermissionDenied),
            _ => {}
        }
        next = e.source();
    }
    // The driver keeps the server's error code inside a connection-setup error that is not
    // always exposed as a source; its variant name is the code, not message text.
    let debug = format!("{err:?}");
    if debug.contains("AuthenticationError") || debug.contains("AuthError") {
        Some(ErrorKind::Unauthenticated)
    } else {
        None
    }
}

/// Classifies a failed connect.
pub(crate) fn classify_connect(err: NewSessionError, target: &str) -> StoreError {
    let (kind, retryable) = match &err {
        NewSessionError::FailedToResolveAnyHostname(_)
        | NewSessionError::EmptyKnownNodesList
        | NewSessionError::IllegalConfig(_) => (ErrorKind::InvalidArgument, false),
        // A missing keyspace: the schema has not been set up.
        NewSessionError::UseKeyspaceError(_) => (ErrorKind::NotFound, false),
        _ => match auth_failure(&err) {
            Some(kind) => (kind, false),
            None => (ErrorKind::Unavailable, true),
        },
    };
    StoreError::new(
        kind,
        format!("cannot connect to cassandra at {target}: {err}"),
    )
    .with_retryable(retryable)
    .with_source(err)
}

/// A row or value that does not have the shape the schema promises.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::internal(format!("cassandra: unexpected stored data: {what}"))
}
