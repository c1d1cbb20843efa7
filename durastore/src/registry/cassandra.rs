//! Apache Cassandra / ScyllaDB: the keyspace plays the database. URLs may list several hosts
//! (`cassandra://a:9042,b:9042/ks`), which `url::Url` does not parse, so they are handled as
//! text here.

use durastore_api::schema::{SET_MAIN, SchemaDriver, SchemaSet};
use durastore_api::{Capability, Result, StoreError, Stores, async_trait};
use durastore_cassandra::CassandraConfig;
use durastore_cassandra::schema::CassandraSchemaDriver;

use super::{BackendKind, Created, OpenMode, Provider, SchemaOpen};

/// The Cassandra / ScyllaDB provider.
pub(super) struct CassandraProvider;

#[async_trait]
impl Provider for CassandraProvider {
    fn kind(&self) -> BackendKind {
        BackendKind::Cassandra
    }

    fn capability(&self) -> Capability {
        durastore_cassandra::capability()
    }

    fn schema_sets(&self) -> &'static [&'static str] {
        &[SET_MAIN]
    }

    async fn open(&self, url: &str, _mode: OpenMode) -> Result<Stores> {
        durastore_cassandra::open(url).await
    }

    fn embedded_set(&self, set: &str) -> Result<SchemaSet> {
        durastore_cassandra::schema::schema_set(set)
    }

    async fn schema_driver(
        &self,
        url: &str,
        set: &str,
        mode: SchemaOpen,
    ) -> Result<Box<dyn SchemaDriver>> {
        // Setup creates the keyspace (with the URL's replication settings); a dry run describes
        // a missing one as empty.
        Ok(Box::new(match mode {
            SchemaOpen::Create => CassandraSchemaDriver::connect_creating(url, set).await?,
            SchemaOpen::EmptyIfMissing => CassandraSchemaDriver::connect_or_empty(url, set).await?,
            SchemaOpen::MustExist => CassandraSchemaDriver::connect(url, set).await?,
        }))
    }

    async fn scratch(&self, url: &str, set: &str) -> Result<Box<dyn SchemaDriver>> {
        Ok(Box::new(CassandraSchemaDriver::scratch(url, set).await?))
    }

    async fn create_database(&self, url: &str) -> Result<Created> {
        Ok(
            if durastore_cassandra::schema::create_keyspace(&keyspace_of(url)?).await? {
                Created::New
            } else {
                Created::Existed
            },
        )
    }

    async fn drop_database(&self, url: &str) -> Result<()> {
        durastore_cassandra::schema::drop_keyspace(&keyspace_of(url)?).await
    }

    #[cfg(feature = "test-support")]
    fn test_servers(&self) -> &'static [crate::provision::ServerBackend] {
        // Each run gets its own keyspace (`durastore_conf_<random>`), dropped afterwards.
        &[crate::provision::ServerBackend {
            name: "cassandra",
            env_var: "DURASTORE_CASSANDRA_URL",
            image: Some("cassandra:5.0"),
        }]
    }

    #[cfg(feature = "test-support")]
    async fn create_test_database(&self, admin_url: &str, name: &str) -> Result<String> {
        let cfg = CassandraConfig::from_url(admin_url)?.with_keyspace(name)?;
        durastore_cassandra::schema::create_keyspace(&cfg).await?;
        url_with_keyspace(admin_url, name)
    }

    #[cfg(feature = "test-support")]
    async fn drop_test_database(&self, admin_url: &str, name: &str) -> Result<()> {
        let cfg = CassandraConfig::from_url(admin_url)?.with_keyspace(name)?;
        durastore_cassandra::schema::drop_keyspace(&cfg).await
    }
}

/// The settings of a Cassandra URL that must name its keyspace explicitly: creating or dropping
/// the default keyspace because a path was forgotten would be a surprise.
fn keyspace_of(url: &str) -> Result<CassandraConfig> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split_once('?').map_or(rest, |(r, _)| r);
    let named = rest
        .split_once('/')
        .is_some_and(|(_, path)| !path.trim_matches('/').is_empty());
    if !named {
        return Err(StoreError::invalid_argument(
            "the URL names no keyspace (expected cassandra://HOST:PORT/KEYSPACE)",
        ));
    }
    CassandraConfig::from_url(url)
}

/// `url` with its path replaced by `keyspace`, keeping hosts, credentials and options.
#[cfg(any(test, feature = "test-support"))]
fn url_with_keyspace(url: &str, keyspace: &str) -> Result<String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| StoreError::invalid_argument("cassandra URL: missing ://"))?;
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let authority = before_query
        .split_once('/')
        .map_or(before_query, |(a, _)| a);
    let mut out = format!("{scheme}://{authority}/{keyspace}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    // Parse it back: the result must be a URL the backend accepts, naming that keyspace.
    let cfg = CassandraConfig::from_url(&out)?;
    if cfg.keyspace != keyspace {
        return Err(StoreError::internal(format!(
            "cassandra URL: could not point the URL at keyspace {keyspace}"
        )));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keyspace_urls() {
        assert_eq!(
            url_with_keyspace("cassandra://127.0.0.1:9042", "ks_1").unwrap(),
            "cassandra://127.0.0.1:9042/ks_1"
        );
        assert_eq!(
            url_with_keyspace(
                "scylla://u:p@a:9042,b/old?consistency=one&replication_factor=3",
                "k"
            )
            .unwrap(),
            "scylla://u:p@a:9042,b/k?consistency=one&replication_factor=3"
        );
        assert!(url_with_keyspace("cassandra://h/", "bad-name").is_err());
        assert!(keyspace_of("cassandra://127.0.0.1:9042").is_err());
        assert_eq!(
            keyspace_of("cassandra://127.0.0.1:9042/abc")
                .unwrap()
                .keyspace,
            "abc"
        );
    }
}
