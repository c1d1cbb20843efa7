//! The subcommands.

pub mod conformance;
pub mod inspect;
pub mod schema;

use durastore::config::{Config, StoreRole};
use durastore_api::Result;

use crate::TargetArgs;

/// The default database of `schema` and `inspect` when neither `--url` nor `--config` is given.
pub const DEFAULT_URL: &str = "sqlite://durastore.db";

/// Resolves `--url` / `--config` to a URL for `role`.
pub fn resolve_url(t: &TargetArgs, role: StoreRole) -> Result<String> {
    match (&t.url, &t.config) {
        (Some(u), _) => Ok(u.clone()),
        (None, Some(path)) => Config::load(path)?.store_url(role),
        (None, None) => Ok(DEFAULT_URL.to_string()),
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
