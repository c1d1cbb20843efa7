//! Assertions for cases: they return [`CaseError`] instead of panicking.

use std::fmt;

use durastore_api::{ErrorKind, StoreError};

/// Why a case failed.
#[derive(Debug)]
pub struct CaseError {
    message: String,
}

impl CaseError {
    /// A failure with a message.
    pub fn new(message: impl Into<String>) -> Self {
        CaseError {
            message: message.into(),
        }
    }
    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for CaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CaseError {}

impl From<StoreError> for CaseError {
    fn from(e: StoreError) -> Self {
        CaseError::new(format!("unexpected store error: {e}"))
    }
}

/// Fails the case with a formatted message unless the condition holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr) => {
        if !$cond {
            return Err($crate::CaseError::new(format!(
                "{}:{}: check failed: {}", file!(), line!(), stringify!($cond)
            )));
        }
    };
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err($crate::CaseError::new(format!(
                "{}:{}: {}", file!(), line!(), format!($($arg)+)
            )));
        }
    };
}

/// Fails the case unless both values are equal, printing both.
#[macro_export]
macro_rules! ensure_eq {
    ($left:expr, $right:expr $(,)?) => {{
        let (l, r) = (&$left, &$right);
        if l != r {
            return Err($crate::CaseError::new(format!(
                "{}:{}: {} != {}\n  left:  {:?}\n  right: {:?}",
                file!(), line!(), stringify!($left), stringify!($right), l, r
            )));
        }
    }};
    ($left:expr, $right:expr, $($arg:tt)+) => {{
        let (l, r) = (&$left, &$right);
        if l != r {
            return Err($crate::CaseError::new(format!(
                "{}:{}: {}\n  left:  {:?}\n  right: {:?}",
                file!(), line!(), format!($($arg)+), l, r
            )));
        }
    }};
}

/// Expects an error of `kind`; returns it for further checks.
pub fn expect_err<T: fmt::Debug>(
    what: &str,
    result: Result<T, StoreError>,
    kind: ErrorKind,
) -> Result<StoreError, CaseError> {
    match result {
        Ok(v) => Err(CaseError::new(format!(
            "{what}: expected error {kind}, got Ok({v:?})"
        ))),
        Err(e) if e.kind() == kind => Ok(e),
        Err(e) => Err(CaseError::new(format!(
            "{what}: expected error {kind}, got {e}"
        ))),
    }
}

/// Expects a bad-request error (`InvalidArgument` or `SizeLimitExceeded`).
pub fn expect_bad_request<T: fmt::Debug>(
    what: &str,
    result: Result<T, StoreError>,
) -> Result<StoreError, CaseError> {
    match result {
        Ok(v) => Err(CaseError::new(format!(
            "{what}: expected InvalidArgument/SizeLimitExceeded, got Ok({v:?})"
        ))),
        Err(e) if e.is_bad_request() => Ok(e),
        Err(e) => Err(CaseError::new(format!(
            "{what}: expected InvalidArgument/SizeLimitExceeded, got {e}"
        ))),
    }
}

/// Converts a store result into a case result with context.
pub fn ok<T>(what: &str, result: Result<T, StoreError>) -> Result<T, CaseError> {
    result.map_err(|e| CaseError::new(format!("{what}: unexpected error: {e}")))
}
