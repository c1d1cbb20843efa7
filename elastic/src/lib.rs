//! # durastore-elastic: visibility on Elasticsearch 7/8 and OpenSearch 2
//!
//! A [`VisibilityStore`](durastore_api::VisibilityStore) over one index, through the
//! `elasticsearch` crate's transport with raw JSON bodies (the same requests work on
//! Elasticsearch 7, 8 and OpenSearch 2). Queries are parsed and type-checked by
//! [`durastore_api::query`] and translated with SQL three-valued logic (see [`translate`]), so
//! they mean exactly what they mean on the SQL stores
//! (docs/architecture.md#visibility-query-semantics).
//!
//! - Documents are written with **external versioning by task id**: a write whose task id is
//!   not above the stored version gets 409, which is success (a stale write is a no-op); a
//!   delete with a stale task id likewise. Writes use `refresh=true` by default so a list right
//!   after a write sees it (`refresh=false` for bulk loads, then
//!   [`refresh`](durastore_api::VisibilityStore::refresh) makes every acknowledged write
//!   visible).
//! - Concurrent writes are coalesced into `_bulk` requests with the same external versions (one
//!   refresh per bulk, not per record), and
//!   [`write_batch`](durastore_api::VisibilityStore::write_batch) sends a loader's writes as
//!   bulks; each write still returns its own result (see [`bulk`] for the outcome semantics).
//! - Lists sort by `CloseTimeOrder` desc (running first), `StartTime` desc, `RunId` asc and page
//!   with `search_after` on those three values (all keywords, never missing).
//! - Custom search attributes are registered per namespace in `<index>_search_attributes` and
//!   mapped under `Custom.<Type>.<name>` in the visibility index, so two namespaces may give one
//!   name different types; `add_search_attributes` is an idempotent mapping update.
//!
//! ## URLs
//!
//! `elasticsearch://[user:password@]host:port/<index>?option=…` or `opensearch://…`; every
//! option is [below](#url-options) (the crate's `docs.md`).
//!
#![doc = include_str!("../docs.md")]
#![allow(clippy::result_large_err)]

pub mod bulk;
mod client;
mod doc;
#[cfg(feature = "floor")]
pub mod floor;
pub mod schema;
mod store;
pub mod translate;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use durastore_api::{Backend, Capability, Result, StoreError, Stores};
use elasticsearch::Elasticsearch;
use elasticsearch::auth::Credentials;
use elasticsearch::http::Method;
use elasticsearch::http::transport::{SingleNodeConnectionPool, TransportBuilder};

use crate::client::Client;

pub use bulk::BulkOptions;
pub use store::ElasticVisibility;

/// Environment variable holding the user when the URL has none.
pub const ENV_USER: &str = "DURASTORE_ELASTIC_USER";
/// Environment variable holding the password when the URL has none.
pub const ENV_PASSWORD: &str = "DURASTORE_ELASTIC_PASSWORD";
/// Index used when the URL names none.
pub const DEFAULT_INDEX: &str = "durastore_visibility";

/// Settings parsed from an `elasticsearch://` / `opensearch://` URL.
#[derive(Clone)]
pub struct ElasticConfig {
    /// `elasticsearch` or `opensearch`.
    pub flavor: String,
    /// Base URL (`http://host:port`).
    pub base_url: String,
    /// Visibility index.
    pub index: String,
    /// Basic-auth user.
    pub user: Option<String>,
    /// Basic-auth password.
    pub password: Option<String>,
    /// `refresh` parameter of writes.
    pub refresh: String,
    /// Request timeout.
    pub timeout: Duration,
    /// How writes are grouped into bulk requests.
    pub bulk: BulkOptions,
    /// Extra CA (PEM file) trusted for `https`.
    pub tls_ca: Option<String>,
}

impl std::fmt::Debug for ElasticConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ElasticConfig")
            .field("flavor", &self.flavor)
            .field("base_url", &self.base_url)
            .field("index", &self.index)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("refresh", &self.refresh)
            .field("timeout", &self.timeout)
            .field("bulk", &self.bulk)
            .field("tls_ca", &self.tls_ca)
            .finish()
    }
}

/// A URL duration: seconds (`30`, `0.5`, `30s`) or milliseconds (`5ms`); `None` when it is
/// neither, negative or not finite.
fn parse_duration(v: &str) -> Option<Duration> {
    durastore_api::urltext::parse_duration(v)
}

/// `url` with its index (path) replaced by `index`, keeping credentials and options.
pub fn url_with_index(url: &str, index: &str) -> Result<String> {
    validate_index(index)?;
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| StoreError::invalid_argument("search URL: missing ://"))?;
    let mut u = url::Url::parse(&format!("http://{rest}"))
        .map_err(|e| StoreError::invalid_argument(format!("search URL: {e}")))?;
    u.set_path(&format!("/{index}"));
    let text = u.to_string();
    let out = format!("{scheme}://{}", text.trim_start_matches("http://"));
    ElasticConfig::from_url(&out)?;
    Ok(out)
}

/// Index names: lower-case ASCII letters, digits, `_` and `-`, starting with a letter, at most
/// 100 bytes (Elasticsearch's rules, narrowed so a name never needs escaping in a path).
pub fn validate_index(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid_argument(format!(
            "{name:?} is not a valid index name (lower-case letters, digits, _ and -, starting \
             with a letter, at most 100 bytes)"
        )))
    }
}

impl ElasticConfig {
    /// Parses the URL.
    pub fn from_url(url: &str) -> Result<Self> {
        let bad = |why: String| StoreError::invalid_argument(format!("search URL: {why}"));
        let (flavor, rest) = if let Some(r) = url.strip_prefix("elasticsearch://") {
            ("elasticsearch", r)
        } else if let Some(r) = url.strip_prefix("opensearch://") {
            ("opensearch", r)
        } else {
            return Err(bad(
                "must start with elasticsearch:// or opensearch://".to_string()
            ));
        };
        let parsed = url::Url::parse(&format!("http://{rest}")).map_err(|e| bad(e.to_string()))?;
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("no host".into()))?;
        let port = parsed.port().unwrap_or(9200);
        let mut tls = false;
        let mut tls_ca = None;
        let mut refresh = "true".to_string();
        let mut timeout = Duration::from_secs(30);
        let mut bulk = BulkOptions::default();
        let count = |k: &str, v: &str, (lo, hi): (usize, usize)| {
            v.parse::<usize>()
                .ok()
                .filter(|n| (lo..=hi).contains(n))
                .ok_or_else(|| bad(format!("{k}={v:?} (a whole number from {lo} to {hi})")))
        };
        let pairs = durastore_api::urltext::query_pairs(parsed.query().unwrap_or(""))
            .ok_or_else(|| bad("the options are not valid percent-encoding".into()))?;
        for (k, v) in pairs {
            match k.as_str() {
                // A misspelt value must not fall back to plain HTTP.
                "tls" | "ssl" => {
                    tls = match v.as_str() {
                        "true" | "1" | "yes" => true,
                        "false" | "0" | "no" => false,
                        _ => return Err(bad(format!("{k}={v:?} is not a boolean"))),
                    }
                }
                "tls_ca" | "sslrootcert" if !v.is_empty() => tls_ca = Some(v),
                "refresh" => {
                    if !matches!(v.as_str(), "true" | "false" | "wait_for") {
                        return Err(bad(format!("refresh={v:?} (true, false or wait_for)")));
                    }
                    refresh = v;
                }
                "timeout" => {
                    timeout = parse_duration(&v)
                        .filter(|d| !d.is_zero())
                        .ok_or_else(|| bad(format!("timeout={v:?}")))?;
                }
                "bulk_size" => bulk.max_items = count(&k, &v, BulkOptions::MAX_ITEMS_RANGE)?,
                "bulk_bytes" => bulk.max_bytes = count(&k, &v, BulkOptions::MAX_BYTES_RANGE)?,
                "bulk_concurrency" => {
                    bulk.concurrency = count(&k, &v, BulkOptions::CONCURRENCY_RANGE)?;
                }
                "bulk_linger" => {
                    bulk.linger = parse_duration(&v)
                        .filter(|d| *d <= BulkOptions::MAX_LINGER)
                        .ok_or_else(|| bad(format!("bulk_linger={v:?} (0 to 10s)")))?;
                }
                other => return Err(bad(format!("unknown option {other:?}"))),
            }
        }
        if tls_ca.is_some() && !tls {
            return Err(bad("tls_ca needs tls=true".into()));
        }
        let index = match parsed.path().trim_matches('/') {
            "" => DEFAULT_INDEX.to_string(),
            p => p.to_string(),
        };
        validate_index(&index)?;
        let decode = |s: &str, what: &str| {
            durastore_api::urltext::percent_decode(s)
                .ok_or_else(|| bad(format!("the {what} is not valid percent-encoding")))
        };
        let user = match parsed.username() {
            "" => std::env::var(ENV_USER).ok().filter(|s| !s.is_empty()),
            u => Some(decode(u, "user")?),
        };
        let password = match parsed.password() {
            Some(p) => Some(decode(p, "password")?),
            None => std::env::var(ENV_PASSWORD).ok().filter(|s| !s.is_empty()),
        };
        let scheme = if tls { "https" } else { "http" };
        Ok(ElasticConfig {
            flavor: flavor.to_string(),
            base_url: format!("{scheme}://{host}:{port}"),
            index,
            user,
            password,
            refresh,
            timeout,
            bulk,
            tls_ca,
        })
    }

    /// The same cluster with another index.
    pub fn with_index(&self, index: &str) -> Result<Self> {
        validate_index(index)?;
        let mut c = self.clone();
        c.index = index.to_string();
        Ok(c)
    }

    /// The URL of this config (password omitted).
    pub fn url(&self) -> String {
        let hostport = self
            .base_url
            .split_once("://")
            .map(|(_, h)| h)
            .unwrap_or(&self.base_url);
        format!("{}://{hostport}/{}", self.flavor, self.index)
    }

    pub(crate) fn client(&self) -> Result<Client> {
        let url = url::Url::parse(&self.base_url)
            .map_err(|e| StoreError::invalid_argument(format!("search URL: {e}")))?;
        // Replies uncompressed: the client's HTTP stack would otherwise ask for gzip, and the
        // server would spend CPU compressing every small search reply (and the client inflating
        // it) to save bytes that, for visibility pages and counts, hardly matter.
        let mut b = TransportBuilder::new(SingleNodeConnectionPool::new(url))
            .disable_proxy()
            .header(
                elasticsearch::http::headers::ACCEPT_ENCODING,
                elasticsearch::http::headers::HeaderValue::from_static("identity"),
            );
        if let Some(u) = &self.user {
            b = b.auth(Credentials::Basic(
                u.clone(),
                self.password.clone().unwrap_or_default(),
            ));
        }
        if let Some(ca) = &self.tls_ca {
            // Read now: a CA that cannot be read is an error, never a connection that trusts
            // something else.
            let pem = std::fs::read(ca).map_err(|e| {
                StoreError::invalid_argument(format!("search URL: cannot read tls_ca {ca:?}: {e}"))
            })?;
            let cert = elasticsearch::cert::Certificate::from_pem(&pem).map_err(|e| {
                StoreError::invalid_argument(format!("search URL: bad PEM in tls_ca {ca:?}: {e}"))
            })?;
            b = b.cert_validation(elasticsearch::cert::CertificateValidation::Full(cert));
        }
        let transport = b
            .timeout(self.timeout)
            .build()
            .map_err(|e| StoreError::internal(format!("elasticsearch transport: {e}")))?;
        Ok(Client::new(Elasticsearch::new(transport), self.timeout))
    }

    /// Name of the per-namespace search-attribute registry index.
    pub fn registry_index(&self) -> String {
        format!("{}_search_attributes", self.index)
    }
}

/// Sets up (or updates) the visibility schema in the config's index through the schema engine
/// (idempotent: an up-to-date index is left alone).
pub async fn setup(cfg: &ElasticConfig) -> Result<durastore_api::schema::ApplyReport> {
    let set = schema::embedded_set(durastore_api::schema::SET_VISIBILITY)?;
    let driver = schema::ElasticSchemaDriver::new(cfg)?;
    durastore_api::schema::setup(
        &set,
        &driver,
        &durastore_api::schema::ApplyOptions::default(),
    )
    .await
}

/// Deletes the visibility index and its registry and schema-version indexes (missing ones are
/// fine).
pub async fn drop_indexes(cfg: &ElasticConfig) -> Result<()> {
    let c = cfg.client()?;
    for index in [
        cfg.index.clone(),
        cfg.registry_index(),
        format!("{}_schema_version", cfg.index),
        format!("{}_schema_update_history", cfg.index),
    ] {
        let r = c
            .send(Method::Delete, &format!("/{index}"), &[], None)
            .await?;
        if !(200..300).contains(&r.status) && r.status != 404 {
            return Err(client::classify(&format!("delete index {index}"), &r, true));
        }
    }
    Ok(())
}

/// What the search backends support: visibility only.
pub fn capability() -> Capability {
    let mut c = Capability::default();
    c.visibility = true;
    c.durable = true;
    c.concurrent_writers = true;
    c
}

struct ElasticBackend {
    flavor: String,
}

#[async_trait]
impl Backend for ElasticBackend {
    fn name(&self) -> &str {
        &self.flavor
    }
    fn capability(&self) -> Capability {
        capability()
    }
    fn schema_sets(&self) -> &'static [&'static str] {
        &[durastore_api::schema::SET_VISIBILITY]
    }
    async fn close(&self) -> Result<()> {
        Ok(())
    }
}

/// Opens the visibility store at `url`. The index must exist (`durastore schema setup`).
pub async fn open(url: &str) -> Result<Stores> {
    let cfg = ElasticConfig::from_url(url)?;
    stores(&cfg, ElasticVisibility::open(&cfg).await?)
}

/// The [`Stores`] bundle of one visibility store.
pub(crate) fn stores(cfg: &ElasticConfig, store: ElasticVisibility) -> Result<Stores> {
    Ok(Stores {
        backend: Arc::new(ElasticBackend {
            flavor: cfg.flavor.clone(),
        }),
        shard: None,
        execution: None,
        history: None,
        task_queue: None,
        namespace: None,
        cluster_metadata: None,
        queue: None,
        queue_v1: None,
        replication_dlq: None,
        nexus_endpoint: None,
        visibility: Some(Arc::new(store)),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn url_options() {
        let c = ElasticConfig::from_url("opensearch://h/vis?ssl=1&refresh=wait_for&timeout=2.5s")
            .unwrap();
        assert_eq!(c.base_url, "https://h:9200");
        assert_eq!((c.flavor.as_str(), c.index.as_str()), ("opensearch", "vis"));
        assert_eq!(c.refresh, "wait_for");
        assert_eq!(c.timeout, Duration::from_millis(2500));
        let c = ElasticConfig::from_url("elasticsearch://h:9201?tls=no").unwrap();
        assert_eq!(c.base_url, "http://h:9201");
        assert_eq!(c.index, DEFAULT_INDEX);
        // A misspelt boolean must not fall back to plain HTTP.
        for bad in [
            "elasticsearch://h/i?tls=ture",
            "elasticsearch://h/i?refresh=now",
            "elasticsearch://h/i?timeout=0",
            "elasticsearch://h/i?bogus=1",
            "elasticsearch://h/Upper",
        ] {
            let e = ElasticConfig::from_url(bad).unwrap_err();
            assert_eq!(e.kind(), durastore_api::ErrorKind::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn bulk_options_default_and_parse() {
        let c = ElasticConfig::from_url("opensearch://h:9200/idx").unwrap();
        assert_eq!(c.bulk, BulkOptions::default());
        let c = ElasticConfig::from_url(
            "opensearch://h/idx?bulk_size=50&bulk_bytes=2048&bulk_linger=5ms&bulk_concurrency=2",
        )
        .unwrap();
        assert_eq!(
            c.bulk,
            BulkOptions {
                max_items: 50,
                max_bytes: 2048,
                linger: Duration::from_millis(5),
                concurrency: 2,
            }
        );
        let c =
            ElasticConfig::from_url("opensearch://h/idx?bulk_linger=0.25&timeout=1.5s").unwrap();
        assert_eq!(c.bulk.linger, Duration::from_millis(250));
        assert_eq!(c.timeout, Duration::from_millis(1500));
        assert_eq!(
            ElasticConfig::from_url("opensearch://h/idx?bulk_linger=0")
                .unwrap()
                .bulk
                .linger,
            Duration::ZERO
        );
    }

    #[test]
    fn bad_bulk_options_are_refused_naming_the_option() {
        for bad in [
            "bulk_size=0",
            "bulk_size=10001",
            "bulk_size=ten",
            "bulk_size=-1",
            "bulk_bytes=1023",
            "bulk_bytes=1mb",
            "bulk_linger=11s",
            "bulk_linger=-1ms",
            "bulk_linger=5m",
            "bulk_linger=nan",
            "bulk_concurrency=0",
            "bulk_concurrency=257",
            "timeout=0",
            "bulk_lingr=5ms",
        ] {
            let e = ElasticConfig::from_url(&format!("opensearch://h/idx?{bad}")).unwrap_err();
            assert_eq!(e.kind(), durastore_api::ErrorKind::InvalidArgument, "{bad}");
            let key = bad.split('=').next().unwrap();
            assert!(e.message().contains(key), "{bad}: {}", e.message());
        }
    }
}
