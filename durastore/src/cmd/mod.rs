//! The subcommands.

pub mod conformance;
pub mod inspect;
pub mod schema;

use durastore::config::{Config, StoreRole};
use durastore_api::{Result, StoreError};

use crate::TargetArgs;

/// The error when neither `--url` (nor `DURASTORE_URL`) nor `--config` is given. There is no
/// default database: a command that can create one must not create `./durastore.db` because a
/// flag was forgotten.
pub fn no_target() -> StoreError {
    StoreError::invalid_argument(
        "no database given: pass --url URL (e.g. sqlite:///var/lib/durastore/main.db) or \
         --config FILE, or set DURASTORE_URL",
    )
}

/// Resolves `--url` / `--config` to a URL for `role`.
pub fn resolve_url(t: &TargetArgs, role: StoreRole) -> Result<String> {
    match (&t.url, &t.config) {
        (Some(u), _) => Ok(u.clone()),
        (None, Some(path)) => Config::load(path)?.store_url(role),
        (None, None) => Err(no_target()),
    }
}

/// Prints JSON to stdout (pretty, one document).
pub fn print_json(v: &serde_json::Value) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => outln!("{s}"),
        Err(e) => eprintln!("error: cannot render JSON: {e}"),
    }
}

/// Serializes any report to a JSON value (reports are plain data; failure is a bug).
pub fn to_json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }))
}
