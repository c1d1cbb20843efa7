//! MySQL / MariaDB: one database per URL, created on demand by the schema tool.

use durastore_api::schema::{SchemaDriver, SchemaSet};
use durastore_api::{Capability, Result, Stores, async_trait};
use durastore_mysql::schema::MysqlSchemaDriver;

use super::{BackendKind, Created, OpenMode, Provider, SchemaOpen, database_of};

/// The MySQL / MariaDB provider.
pub(super) struct MysqlProvider;

#[async_trait]
impl Provider for MysqlProvider {
    fn kind(&self) -> BackendKind {
        BackendKind::Mysql
    }

    fn capability(&self) -> Capability {
        Capability::all()
    }

    fn schema_sets(&self) -> &'static [&'static str] {
        durastore_api::schema::SET_NAMES
    }

    async fn open(&self, url: &str, _mode: OpenMode) -> Result<Stores> {
        durastore_mysql::open(url).await
    }

    fn embedded_set(&self, set: &str) -> Result<SchemaSet> {
        durastore_mysql::schema::schema_set(set)
    }

    async fn schema_driver(
        &self,
        url: &str,
        set: &str,
        mode: SchemaOpen,
    ) -> Result<Box<dyn SchemaDriver>> {
        Ok(Box::new(if mode == SchemaOpen::Create {
            MysqlSchemaDriver::connect_creating(url, set).await?
        } else {
            MysqlSchemaDriver::connect(url, set).await?
        }))
    }

    async fn scratch(&self, url: &str, set: &str) -> Result<Box<dyn SchemaDriver>> {
        Ok(Box::new(MysqlSchemaDriver::scratch(url, set).await?))
    }

    async fn create_database(&self, url: &str) -> Result<Created> {
        let name = database_of(url)?;
        let existed = durastore_mysql::database_exists(url, &name).await?;
        durastore_mysql::create_database(url, &name).await?;
        Ok(if existed {
            Created::Existed
        } else {
            Created::New
        })
    }

    async fn drop_database(&self, url: &str) -> Result<()> {
        durastore_mysql::drop_database(url, &database_of(url)?).await
    }

    #[cfg(feature = "test-support")]
    fn test_servers(&self) -> &'static [crate::provision::ServerBackend] {
        &[crate::provision::ServerBackend {
            name: "mysql",
            env_var: "DURASTORE_MYSQL_URL",
            image: Some("mariadb:10.11"),
        }]
    }

    #[cfg(feature = "test-support")]
    async fn create_test_database(&self, admin_url: &str, name: &str) -> Result<String> {
        durastore_mysql::create_database(admin_url, name).await?;
        durastore_mysql::url_with_database(admin_url, name)
    }

    #[cfg(feature = "test-support")]
    async fn drop_test_database(&self, admin_url: &str, name: &str) -> Result<()> {
        durastore_mysql::drop_database(admin_url, name).await
    }
}
