//! Elasticsearch / OpenSearch: visibility only; the index plays the database and `schema setup`
//! creates it.

use durastore_api::schema::{SET_VISIBILITY, SchemaDriver, SchemaSet};
use durastore_api::{Capability, Result, Stores, async_trait};
use durastore_elastic::ElasticConfig;
use durastore_elastic::schema::ElasticSchemaDriver;

use super::{BackendKind, Created, OpenMode, Provider, SchemaOpen};

/// The Elasticsearch / OpenSearch provider.
pub(super) struct ElasticProvider;

#[async_trait]
impl Provider for ElasticProvider {
    fn kind(&self) -> BackendKind {
        BackendKind::Elastic
    }

    fn capability(&self) -> Capability {
        durastore_elastic::capability()
    }

    fn schema_sets(&self) -> &'static [&'static str] {
        &[SET_VISIBILITY]
    }

    async fn open(&self, url: &str, _mode: OpenMode) -> Result<Stores> {
        durastore_elastic::open(url).await
    }

    fn embedded_set(&self, set: &str) -> Result<SchemaSet> {
        durastore_elastic::schema::embedded_set(set)
    }

    async fn schema_driver(
        &self,
        url: &str,
        _set: &str,
        _mode: SchemaOpen,
    ) -> Result<Box<dyn SchemaDriver>> {
        Ok(Box::new(ElasticSchemaDriver::new(
            &ElasticConfig::from_url(url)?,
        )?))
    }

    async fn scratch(&self, url: &str, _set: &str) -> Result<Box<dyn SchemaDriver>> {
        Ok(Box::new(ElasticSchemaDriver::scratch(
            &ElasticConfig::from_url(url)?,
        )?))
    }

    async fn create_database(&self, _url: &str) -> Result<Created> {
        // The indexes are the schema.
        Ok(Created::BySchemaSetup)
    }

    async fn drop_database(&self, url: &str) -> Result<()> {
        durastore_elastic::drop_indexes(&ElasticConfig::from_url(url)?).await
    }

    #[cfg(feature = "test-support")]
    fn test_servers(&self) -> &'static [crate::provision::ServerBackend] {
        // Visibility only; each run gets its own index (`durastore_conf_<random>`).
        &[
            crate::provision::ServerBackend {
                name: "opensearch",
                env_var: "DURASTORE_OPENSEARCH_URL",
                image: Some("opensearchproject/opensearch:2.19.0"),
            },
            crate::provision::ServerBackend {
                name: "elasticsearch",
                env_var: "DURASTORE_ELASTICSEARCH_URL",
                image: Some("docker.elastic.co/elasticsearch/elasticsearch:8.19.0"),
            },
        ]
    }

    #[cfg(feature = "test-support")]
    async fn create_test_database(&self, admin_url: &str, name: &str) -> Result<String> {
        // An index per run, created by the schema setup that follows.
        durastore_elastic::url_with_index(admin_url, name)
    }

    #[cfg(feature = "test-support")]
    async fn drop_test_database(&self, admin_url: &str, name: &str) -> Result<()> {
        let cfg = ElasticConfig::from_url(admin_url)?.with_index(name)?;
        durastore_elastic::drop_indexes(&cfg).await
    }
}
