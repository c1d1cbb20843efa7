//! PostgreSQL: one database per URL; the schema tool creates a missing one through a
//! maintenance database.

use durastore_api::schema::{SchemaDriver, SchemaSet};
use durastore_api::{Capability, Result, Stores, async_trait};
use durastore_postgres::schema::PostgresSchemaDriver;

use super::{BackendKind, Created, OpenMode, Provider, SchemaOpen, database_of};

/// The PostgreSQL provider.
pub(super) struct PostgresProvider;

#[async_trait]
impl Provider for PostgresProvider {
    fn kind(&self) -> BackendKind {
        BackendKind::Postgres
    }

    fn capability(&self) -> Capability {
        Capability::all()
    }

    fn schema_sets(&self) -> &'static [&'static str] {
        durastore_api::schema::SET_NAMES
    }

    async fn open(&self, url: &str, _mode: OpenMode) -> Result<Stores> {
        durastore_postgres::open(url).await
    }

    fn embedded_set(&self, set: &str) -> Result<SchemaSet> {
        durastore_postgres::schema::schema_set(set)
    }

    async fn schema_driver(
        &self,
        url: &str,
        set: &str,
        mode: SchemaOpen,
    ) -> Result<Box<dyn SchemaDriver>> {
        if mode == SchemaOpen::Create {
            durastore_postgres::ensure_database(url).await?;
        }
        Ok(Box::new(PostgresSchemaDriver::connect(url, set).await?))
    }

    async fn scratch(&self, url: &str, set: &str) -> Result<Box<dyn SchemaDriver>> {
        Ok(Box::new(PostgresSchemaDriver::scratch(url, set).await?))
    }

    async fn create_database(&self, url: &str) -> Result<Created> {
        Ok(if durastore_postgres::ensure_database(url).await? {
            Created::New
        } else {
            Created::Existed
        })
    }

    async fn drop_database(&self, url: &str) -> Result<()> {
        let name = database_of(url)?;
        // Dropped through a maintenance database: a session cannot drop its own database.
        let maint = if name == "postgres" {
            "template1"
        } else {
            "postgres"
        };
        let admin = durastore_postgres::url_with_database(url, maint)?;
        durastore_postgres::drop_database(&admin, &name).await
    }

    #[cfg(feature = "test-support")]
    fn test_servers(&self) -> &'static [crate::provision::ServerBackend] {
        &[crate::provision::ServerBackend {
            name: "postgres",
            env_var: "DURASTORE_POSTGRES_URL",
            image: Some("postgres:15"),
        }]
    }

    #[cfg(feature = "test-support")]
    async fn create_test_database(&self, admin_url: &str, name: &str) -> Result<String> {
        durastore_postgres::create_database(admin_url, name).await?;
        durastore_postgres::url_with_database(admin_url, name)
    }

    #[cfg(feature = "test-support")]
    async fn drop_test_database(&self, admin_url: &str, name: &str) -> Result<()> {
        durastore_postgres::drop_database(admin_url, name).await
    }
}
