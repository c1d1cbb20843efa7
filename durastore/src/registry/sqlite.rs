//! SQLite: an embedded file (or in-memory) database; the "database" is the file.

use std::path::PathBuf;

use durastore_api::schema::{SchemaDriver, SchemaSet};
use durastore_api::{Capability, ErrorKind, Result, StoreError, Stores, async_trait};
use durastore_sqlite::SqliteConfig;
use durastore_sqlite::schema::SqliteSchemaDriver;

use super::{BackendKind, Created, OpenMode, Provider, SchemaOpen};

/// The SQLite provider.
pub(super) struct SqliteProvider;

/// The error for a file database that must exist and does not.
fn no_database(path: &std::path::Path, url: &str) -> StoreError {
    StoreError::new(
        ErrorKind::NotFound,
        format!(
            "no SQLite database at {} (create it with `durastore schema setup --url {url}`)",
            path.display()
        ),
    )
}

#[async_trait]
impl Provider for SqliteProvider {
    fn kind(&self) -> BackendKind {
        BackendKind::Sqlite
    }

    fn capability(&self) -> Capability {
        Capability::all()
    }

    fn schema_sets(&self) -> &'static [&'static str] {
        durastore_api::schema::SET_NAMES
    }

    fn is_server(&self) -> bool {
        false
    }

    async fn open(&self, url: &str, mode: OpenMode) -> Result<Stores> {
        if mode == OpenMode::MustExist
            && let Some(p) = SqliteConfig::from_url(url)?.path
            && !p.exists()
        {
            return Err(no_database(&p, url));
        }
        durastore_sqlite::open(url).await
    }

    fn embedded_set(&self, set: &str) -> Result<SchemaSet> {
        durastore_sqlite::schema::schema_set(set)
    }

    async fn schema_driver(
        &self,
        url: &str,
        set: &str,
        mode: SchemaOpen,
    ) -> Result<Box<dyn SchemaDriver>> {
        let mut cfg = SqliteConfig::from_url(url)?;
        if let Some(p) = cfg.path.clone()
            && !p.exists()
        {
            match mode {
                SchemaOpen::Create => {}
                SchemaOpen::EmptyIfMissing => cfg = SqliteConfig::from_url("sqlite::memory:")?,
                SchemaOpen::MustExist => return Err(no_database(&p, url)),
            }
        }
        let driver = durastore_sqlite::connect(&cfg).await?;
        Ok(Box::new(SqliteSchemaDriver::new(&driver, set)))
    }

    async fn scratch(&self, _url: &str, set: &str) -> Result<Box<dyn SchemaDriver>> {
        Ok(Box::new(SqliteSchemaDriver::scratch(set).await?))
    }

    async fn create_database(&self, url: &str) -> Result<Created> {
        let cfg = SqliteConfig::from_url(url)?;
        let existed = cfg.path.as_ref().is_some_and(|p| p.exists());
        durastore_sqlite::connect(&cfg).await?;
        Ok(if existed {
            Created::Existed
        } else {
            Created::New
        })
    }

    async fn drop_database(&self, url: &str) -> Result<()> {
        let Some(p) = SqliteConfig::from_url(url)?.path else {
            return Ok(());
        };
        for suffix in ["", "-wal", "-shm"] {
            let f = PathBuf::from(format!("{}{suffix}", p.display()));
            if f.exists() {
                std::fs::remove_file(&f).map_err(|e| {
                    StoreError::internal(format!("cannot remove {}: {e}", f.display()))
                })?;
            }
        }
        Ok(())
    }
}
