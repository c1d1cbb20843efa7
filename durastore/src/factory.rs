//! The opener: URL or config -> [`Stores`], and URL -> schema target.
//!
//! Every backend is one match arm in [`open_with`] and one in [`open_schema`]; the URL scheme
//! picks the arm. Only SQLite exists so far; PostgreSQL, MySQL, Cassandra and Elasticsearch add
//! their arms (and their names to [`KNOWN_SCHEMES`]) as they land.

use std::path::PathBuf;

use durastore_api::schema::{SchemaDriver, SchemaSet};
use durastore_api::{ErrorKind, Result, StoreError, Stores};
use durastore_sqlite::SqliteConfig;
use durastore_sqlite::schema::SqliteSchemaDriver;

use crate::config::{Config, StoreRole};

/// URL schemes [`open`] understands.
pub const KNOWN_SCHEMES: &[&str] = &["sqlite"];

/// What to do when a file database does not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create it (and its schema).
    CreateIfMissing,
    /// Fail with `NotFound` (inspection must not leave new files behind).
    MustExist,
}

/// The scheme of a URL: the text before the first `:` (`sqlite::memory:` -> `sqlite`).
pub fn scheme_of(url: &str) -> Result<&str> {
    match url.split_once(':') {
        Some((s, _))
            if !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) =>
        {
            Ok(s)
        }
        _ => Err(StoreError::invalid_argument(format!(
            "{url:?} is not a store URL (expected e.g. sqlite:///path/to/file.db or sqlite::memory:)"
        ))),
    }
}

fn unknown_scheme(scheme: &str) -> StoreError {
    StoreError::invalid_argument(format!(
        "unknown store URL scheme {scheme:?} (known: {})",
        KNOWN_SCHEMES.join(", ")
    ))
}

/// Opens the stores at `url`, creating a file database if missing.
pub async fn open(url: &str) -> Result<Stores> {
    open_with(url, OpenMode::CreateIfMissing).await
}

/// Opens the stores at `url`.
pub async fn open_with(url: &str, mode: OpenMode) -> Result<Stores> {
    match scheme_of(url)? {
        "sqlite" => {
            if mode == OpenMode::MustExist {
                sqlite_must_exist(url)?;
            }
            durastore_sqlite::open(url).await
        }
        other => Err(unknown_scheme(other)),
    }
}

/// Opens the stores a config describes: `defaultStore`, with visibility from `visibilityStore`
/// when that is a different datastore (Temporal's composite layout).
pub async fn open_config(cfg: &Config, mode: OpenMode) -> Result<Stores> {
    let mut stores = open_with(&cfg.store_url(StoreRole::Default)?, mode).await?;
    if cfg.store_name(StoreRole::Visibility) != cfg.store_name(StoreRole::Default) {
        let vis = open_with(&cfg.store_url(StoreRole::Visibility)?, mode).await?;
        stores.visibility = vis.visibility;
    }
    Ok(stores)
}

fn sqlite_path(url: &str) -> Result<Option<PathBuf>> {
    Ok(SqliteConfig::from_url(url)?.path)
}

fn sqlite_must_exist(url: &str) -> Result<()> {
    if let Some(p) = sqlite_path(url)?
        && !p.exists()
    {
        return Err(StoreError::not_found(format!(
            "no SQLite database at {} (create it with `durastore schema setup --url {url}`)",
            p.display()
        )));
    }
    Ok(())
}

/// What the schema tool works on: the embedded set of one backend and a driver for the database.
pub struct SchemaTarget {
    /// The embedded schema set.
    pub set: SchemaSet,
    /// The database.
    pub driver: Box<dyn SchemaDriver>,
    scheme: String,
}

impl std::fmt::Debug for SchemaTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaTarget")
            .field("set", &self.set.name)
            .field("backend", &self.scheme)
            .finish()
    }
}

impl SchemaTarget {
    /// An empty database of the same backend, where `verify` builds the expected schema.
    pub async fn scratch(&self) -> Result<Box<dyn SchemaDriver>> {
        match self.scheme.as_str() {
            "sqlite" => Ok(Box::new(SqliteSchemaDriver::scratch(&self.set.name).await?)),
            other => Err(unknown_scheme(other)),
        }
    }
}

/// What [`open_schema`] does when a file database does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaOpen {
    /// Create it (setup, update).
    Create,
    /// Describe an empty database instead and create nothing (dry runs).
    EmptyIfMissing,
    /// Fail with `NotFound` (version, verify).
    MustExist,
}

/// Connects to `url` for schema set `set` without touching its schema.
pub async fn open_schema(url: &str, set: &str, mode: SchemaOpen) -> Result<SchemaTarget> {
    let scheme = scheme_of(url)?.to_string();
    match scheme.as_str() {
        "sqlite" => {
            let schema_set = durastore_sqlite::schema::schema_set(set)?;
            let mut cfg = SqliteConfig::from_url(url)?;
            if let Some(p) = cfg.path.clone()
                && !p.exists()
            {
                match mode {
                    SchemaOpen::Create => {}
                    SchemaOpen::EmptyIfMissing => cfg = SqliteConfig::from_url("sqlite::memory:")?,
                    SchemaOpen::MustExist => {
                        return Err(StoreError::new(
                            ErrorKind::NotFound,
                            format!(
                                "no SQLite database at {} (create it with \
                                 `durastore schema setup --url {url}`)",
                                p.display()
                            ),
                        ));
                    }
                }
            }
            let driver = durastore_sqlite::connect(&cfg).await?;
            Ok(SchemaTarget {
                driver: Box::new(SqliteSchemaDriver::new(&driver, set)),
                set: schema_set,
                scheme,
            })
        }
        other => Err(unknown_scheme(other)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn schemes() {
        assert_eq!(scheme_of("sqlite::memory:").unwrap(), "sqlite");
        assert_eq!(scheme_of("postgres://h/db").unwrap(), "postgres");
        assert!(scheme_of("/just/a/path").is_err());
        assert!(scheme_of("").is_err());
        let e = open("postgres://127.0.0.1/db").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.message().contains("known: sqlite"), "{e}");
        let stores = open("sqlite::memory:").await.unwrap();
        assert_eq!(stores.name(), "sqlite");
        let e = open_with("sqlite:///nonexistent/dir/x.db", OpenMode::MustExist)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        let e = open_schema("sqlite:///nonexistent/x.db", "main", SchemaOpen::MustExist)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(
            open_schema(
                "sqlite:///nonexistent/x.db",
                "main",
                SchemaOpen::EmptyIfMissing
            )
            .await
            .is_ok()
        );
    }
}
