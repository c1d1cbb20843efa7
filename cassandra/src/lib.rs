//! # durastore-cassandra: the execution-side stores on Apache Cassandra and ScyllaDB
//!
//! Every store except visibility, on Cassandra 4/5 or ScyllaDB through the `scylla` driver, with
//! Temporal's Cassandra data model: the whole shard is one partition of `executions` (shard row,
//! current-run rows, execution rows with their maps, and the shard's history tasks), so every
//! execution or task mutation is **one logged conditional batch** that carries the shard's
//! range-id lease check (`UPDATE … SET range_id = ? IF range_id = ?`) next to the current-run and
//! execution conditions. When the batch does not apply, the rows the server returns decide the
//! typed error, with Temporal's priority (shard ownership lost > current workflow condition >
//! workflow condition > generic condition).
//!
//! The keyspace is not created by [`open`]: run `durastore schema create-database` and
//! `durastore schema setup --url cassandra://…/keyspace` (see [`schema`]).
//!
//! ## URLs
//!
//! `cassandra://[user:password@]host[:port][,host[:port]…]/keyspace?option=value&…`
//! (`scylla://` too); every option is [below](#url-options) (the crate's `docs.md`).
//!
//! The password is never printed: [`CassandraConfig`]'s `Debug` masks it.
//!
#![doc = include_str!("../docs.md")]
#![allow(clippy::result_large_err)]

mod error;
#[cfg(feature = "floor")]
pub mod floor;
mod session;
mod tls;

mod cluster;
mod execution;
mod history;
mod namespace;
mod nexus;
mod queue;
mod queue_v1;
pub mod schema;
mod shard;
mod task_queue;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use durastore_api::urltext;
use durastore_api::{Backend, Capability, Result, StoreError, Stores};
use scylla::client::execution_profile::ExecutionProfile;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::statement::{Consistency, SerialConsistency};

use crate::error::classify_connect;
use crate::session::Cass;

/// Environment variable holding the user when the URL has none.
pub const ENV_USER: &str = "DURASTORE_CASSANDRA_USER";
/// Environment variable holding the password when the URL has none.
pub const ENV_PASSWORD: &str = "DURASTORE_CASSANDRA_PASSWORD";
/// Keyspace used when the URL names none.
pub const DEFAULT_KEYSPACE: &str = "durastore";
/// Default CQL native port.
pub const DEFAULT_PORT: u16 = 9042;

/// Connection settings parsed from a `cassandra://` URL.
#[derive(Clone)]
pub struct CassandraConfig {
    /// `host:port` contact points.
    pub hosts: Vec<String>,
    /// Keyspace holding the stores.
    pub keyspace: String,
    /// User (with `password`) for PasswordAuthenticator.
    pub user: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// Consistency of reads and writes.
    pub consistency: Consistency,
    /// Consistency of the Paxos phase of conditional writes.
    pub serial_consistency: SerialConsistency,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// TLS on.
    pub tls: bool,
    /// CA file for TLS.
    pub tls_ca: Option<String>,
    /// Server name checked against the certificate.
    pub tls_server_name: Option<String>,
    /// Check the certificate's host name (`false`: the chain only).
    pub tls_host_verification: bool,
    /// Client certificate file (PEM), with `tls_key`.
    pub tls_cert: Option<String>,
    /// Client key file (PEM), with `tls_cert`.
    pub tls_key: Option<String>,
    /// Connections per node (`None`: the driver's default).
    pub connections_per_host: Option<u32>,
    /// Replication factor for `create-database`.
    pub replication_factor: u32,
    /// Data center for `create-database` (NetworkTopologyStrategy).
    pub datacenter: Option<String>,
}

impl std::fmt::Debug for CassandraConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CassandraConfig")
            .field("hosts", &self.hosts)
            .field("keyspace", &self.keyspace)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("consistency", &self.consistency)
            .field("serial_consistency", &self.serial_consistency)
            .field("request_timeout", &self.request_timeout)
            .field("tls", &self.tls)
            .field("tls_ca", &self.tls_ca)
            .field("tls_server_name", &self.tls_server_name)
            .field("tls_host_verification", &self.tls_host_verification)
            .field("connections_per_host", &self.connections_per_host)
            .field("datacenter", &self.datacenter)
            .finish()
    }
}

fn parse_duration(key: &str, v: &str) -> Result<Duration> {
    urltext::parse_duration(v).ok_or_else(|| {
        StoreError::invalid_argument(format!(
            "cassandra URL: {key}={v:?} is not a duration (e.g. 30, 500ms, 5s, 1m)"
        ))
    })
}

fn percent_decode(s: &str, what: &str) -> Result<String> {
    urltext::percent_decode(s).ok_or_else(|| {
        StoreError::invalid_argument(format!(
            "cassandra URL: the {what} is not valid percent-encoding"
        ))
    })
}

fn bad_url(why: &str) -> StoreError {
    StoreError::invalid_argument(format!("cassandra URL: {why}"))
}

/// The user and password of the URL's userinfo, each falling back to its environment variable
/// ([`ENV_USER`], [`ENV_PASSWORD`]).
fn credentials(userinfo: Option<&str>) -> Result<(Option<String>, Option<String>)> {
    let (mut user, mut password) = (None, None);
    if let Some(u) = userinfo {
        match u.split_once(':') {
            Some((n, p)) => {
                user = Some(percent_decode(n, "user")?);
                password = Some(percent_decode(p, "password")?);
            }
            None => user = Some(percent_decode(u, "user")?),
        }
    }
    if user.is_none() {
        user = std::env::var(ENV_USER).ok().filter(|s| !s.is_empty());
    }
    if password.is_none() {
        password = std::env::var(ENV_PASSWORD).ok().filter(|s| !s.is_empty());
    }
    Ok((user, password))
}

/// The comma-separated contact points as `host:port` (the default port where none is given);
/// an IPv6 address is written in brackets, `[::1]:9042`, as in any URL.
fn parse_hosts(hostlist: &str) -> Result<Vec<String>> {
    let mut hosts = Vec::new();
    for h in hostlist.split(',').filter(|h| !h.is_empty()) {
        hosts.push(contact_point(h)?);
    }
    if hosts.is_empty() {
        return Err(bad_url("no host"));
    }
    Ok(hosts)
}

/// One contact point as `host:port`.
fn contact_point(h: &str) -> Result<String> {
    let port = |p: &str| {
        p.parse::<u16>()
            .map_err(|_| bad_url(&format!("bad port in {h:?}")))
    };
    if let Some(rest) = h.strip_prefix('[') {
        let (addr, after) = rest
            .split_once(']')
            .ok_or_else(|| bad_url(&format!("unclosed '[' in {h:?}")))?;
        addr.parse::<std::net::Ipv6Addr>()
            .map_err(|_| bad_url(&format!("{addr:?} in {h:?} is not an IPv6 address")))?;
        return match after {
            "" => Ok(format!("[{addr}]:{DEFAULT_PORT}")),
            _ => match after.strip_prefix(':') {
                Some(p) => Ok(format!("[{addr}]:{}", port(p)?)),
                None => Err(bad_url(&format!("bad port in {h:?}"))),
            },
        };
    }
    match h.split_once(':') {
        None => Ok(format!("{h}:{DEFAULT_PORT}")),
        // Two colons: an IPv6 address without brackets, whose port cannot be told apart.
        Some((_, p)) if p.contains(':') => Err(bad_url(&format!(
            "{h:?}: write an IPv6 address in brackets, e.g. [::1]:9042"
        ))),
        Some(("", _)) => Err(bad_url(&format!("empty host in {h:?}"))),
        Some((host, p)) => Ok(format!("{host}:{}", port(p)?)),
    }
}

fn consistency(v: &str) -> Result<Consistency> {
    Ok(match v.to_ascii_lowercase().as_str() {
        "one" => Consistency::One,
        "local_one" => Consistency::LocalOne,
        "quorum" => Consistency::Quorum,
        "local_quorum" => Consistency::LocalQuorum,
        "each_quorum" => Consistency::EachQuorum,
        "all" => Consistency::All,
        _ => return Err(bad_url(&format!("unknown consistency {v:?}"))),
    })
}

fn boolean(k: &str, v: &str) -> Result<bool> {
    match v {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(bad_url(&format!("{k}={v:?} is not a boolean"))),
    }
}

impl CassandraConfig {
    /// Parses `cassandra://[user:password@]host[:port][,…]/keyspace?options`.
    pub fn from_url(url: &str) -> Result<Self> {
        let rest = url
            .strip_prefix("cassandra://")
            .or_else(|| url.strip_prefix("scylla://"))
            .ok_or_else(|| bad_url("must start with cassandra:// or scylla://"))?;
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match rest.split_once('/') {
            Some((a, p)) => (a, p),
            None => (rest, ""),
        };
        let (userinfo, hostlist) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (user, password) = credentials(userinfo)?;
        let hosts = parse_hosts(hostlist)?;
        let keyspace = match path.trim_end_matches('/') {
            "" => DEFAULT_KEYSPACE.to_string(),
            k => k.to_string(),
        };
        validate_keyspace(&keyspace)?;
        let mut cfg = CassandraConfig {
            hosts,
            keyspace,
            user,
            password,
            consistency: Consistency::LocalQuorum,
            serial_consistency: SerialConsistency::LocalSerial,
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            tls: false,
            tls_ca: None,
            tls_server_name: None,
            tls_host_verification: true,
            tls_cert: None,
            tls_key: None,
            connections_per_host: None,
            replication_factor: 1,
            datacenter: None,
        };
        let pairs = urltext::query_pairs(query.unwrap_or(""))
            .ok_or_else(|| bad_url("the options are not valid percent-encoding"))?;
        for (k, v) in pairs {
            cfg.set_option(&k, v)?;
        }
        if cfg.tls_cert.is_some() != cfg.tls_key.is_some() {
            return Err(bad_url("tls_cert and tls_key must be given together"));
        }
        Ok(cfg)
    }

    /// Applies one URL option (`consistency=quorum`, `tls=true`, …); an unknown key is refused.
    fn set_option(&mut self, k: &str, v: String) -> Result<()> {
        match k {
            "consistency" => self.consistency = consistency(&v)?,
            "serial_consistency" => {
                self.serial_consistency = match v.to_ascii_lowercase().as_str() {
                    "serial" => SerialConsistency::Serial,
                    "local_serial" => SerialConsistency::LocalSerial,
                    _ => return Err(bad_url(&format!("unknown serial_consistency {v:?}"))),
                }
            }
            "request_timeout" => self.request_timeout = parse_duration(k, &v)?,
            "connect_timeout" => self.connect_timeout = parse_duration(k, &v)?,
            "tls" | "ssl" => self.tls = boolean(k, &v)?,
            "tls_ca" | "sslrootcert" => self.tls_ca = Some(v),
            "tls_server_name" => self.tls_server_name = Some(v),
            "tls_host_verification" => self.tls_host_verification = boolean(k, &v)?,
            "tls_cert" => self.tls_cert = Some(v),
            "tls_key" => self.tls_key = Some(v),
            "connections_per_host" => {
                self.connections_per_host = Some(
                    v.parse()
                        .ok()
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| bad_url(&format!("connections_per_host={v:?}")))?,
                )
            }
            "replication_factor" => {
                self.replication_factor = v
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| bad_url(&format!("replication_factor={v:?}")))?
            }
            "datacenter" => self.datacenter = Some(v),
            other => return Err(bad_url(&format!("unknown option {other:?}"))),
        }
        Ok(())
    }

    /// The same server with another keyspace.
    pub fn with_keyspace(&self, keyspace: &str) -> Result<Self> {
        validate_keyspace(keyspace)?;
        let mut c = self.clone();
        c.keyspace = keyspace.to_string();
        Ok(c)
    }

    /// Connects; with `use_keyspace` the session's current keyspace is [`Self::keyspace`] (which
    /// must exist).
    pub(crate) async fn connect(&self, use_keyspace: bool) -> Result<Session> {
        let profile = ExecutionProfile::builder()
            .consistency(self.consistency)
            .serial_consistency(Some(self.serial_consistency))
            .request_timeout(Some(self.request_timeout))
            .build();
        let mut b = SessionBuilder::new()
            .known_nodes(&self.hosts)
            .connection_timeout(self.connect_timeout)
            .default_execution_profile_handle(profile.into_handle());
        if let Some(u) = &self.user {
            b = b.user(u, self.password.clone().unwrap_or_default());
        }
        if let Some(dc) = &self.datacenter {
            b = b.prefer_datacenter(dc.clone());
        }
        if let Some(n) = self
            .connections_per_host
            .and_then(|n| std::num::NonZeroUsize::new(n as usize))
        {
            b = b.pool_size(scylla::client::PoolSize::PerHost(n));
        }
        if self.tls {
            b = b.tls_context(Some(self.tls_config()?));
        }
        if use_keyspace {
            b = b.use_keyspace(&self.keyspace, true);
        }
        b.build()
            .await
            .map_err(|e| classify_connect(e, &self.hosts.join(",")))
    }

    fn tls_config(&self) -> Result<Arc<rustls::ClientConfig>> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let ca = self.tls_ca.as_ref().ok_or_else(|| {
            StoreError::invalid_argument("cassandra URL: tls=true needs tls_ca=<PEM file>")
        })?;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca).map_err(|e| {
            StoreError::invalid_argument(format!("cassandra URL: cannot read tls_ca {ca:?}: {e}"))
        })? {
            let cert = cert.map_err(|e| {
                StoreError::invalid_argument(format!("cassandra URL: bad PEM in {ca:?}: {e}"))
            })?;
            roots.add(cert).map_err(|e| {
                StoreError::invalid_argument(format!("cassandra URL: bad CA in {ca:?}: {e}"))
            })?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::internal(format!("tls: {e}")))?;
        let inner =
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| StoreError::internal(format!("tls: {e}")))?;
        let name = match &self.tls_server_name {
            Some(n) => Some(
                rustls::pki_types::ServerName::try_from(n.clone()).map_err(|_| {
                    StoreError::invalid_argument(format!(
                        "cassandra URL: tls_server_name {n:?} is not a DNS name or IP address"
                    ))
                })?,
            ),
            None => None,
        };
        let builder = builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(tls::Verifier {
                inner,
                name,
                check_name: self.tls_host_verification,
            }));
        let config = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => {
                let certs = CertificateDer::pem_file_iter(cert)
                    .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
                    .map_err(|e| {
                        StoreError::invalid_argument(format!(
                            "cassandra URL: cannot read tls_cert {cert:?}: {e}"
                        ))
                    })?;
                let key = rustls::pki_types::PrivateKeyDer::from_pem_file(key).map_err(|e| {
                    StoreError::invalid_argument(format!(
                        "cassandra URL: cannot read tls_key {key:?}: {e}"
                    ))
                })?;
                builder.with_client_auth_cert(certs, key).map_err(|e| {
                    StoreError::invalid_argument(format!("cassandra URL: tls_cert/tls_key: {e}"))
                })?
            }
            _ => builder.with_no_client_auth(),
        };
        Ok(Arc::new(config))
    }
}

/// Keyspace names: letters, digits and `_`, at most 48 characters (CQL's limit).
fn validate_keyspace(k: &str) -> Result<()> {
    let ok = !k.is_empty()
        && k.len() <= 48
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !k.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid_argument(format!(
            "cassandra: {k:?} is not a valid keyspace name (letters, digits, _; at most 48)"
        )))
    }
}

/// What the Cassandra backend supports.
pub fn capability() -> Capability {
    let mut c = Capability::all();
    // Task queues live in partitions keyed by queue: there is no ordered scan over them.
    c.list_task_queues = false;
    // Membership rows expire by TTL; there is nothing to prune.
    c.membership_prune = false;
    // Visibility lives on Elasticsearch/OpenSearch or SQL.
    c.visibility = false;
    c
}

struct CassandraBackend {
    cass: Arc<Cass>,
}

#[async_trait]
impl Backend for CassandraBackend {
    fn name(&self) -> &str {
        "cassandra"
    }
    fn capability(&self) -> Capability {
        capability()
    }
    fn schema_sets(&self) -> &'static [&'static str] {
        &[durastore_api::schema::SET_MAIN]
    }
    async fn close(&self) -> Result<()> {
        // The scylla session closes its connections when the last handle drops; until then the
        // shared handle refuses every request (`Unavailable`), so a closed backend fails cleanly.
        self.cass.close();
        Ok(())
    }
}

/// Opens the stores in the URL's keyspace. The keyspace must have the current schema
/// (`durastore schema setup`); a missing or older schema is refused with a clear message.
pub async fn open(url: &str) -> Result<Stores> {
    let cfg = CassandraConfig::from_url(url)?;
    open_config(&cfg).await
}

/// [`open`] with parsed settings.
pub async fn open_config(cfg: &CassandraConfig) -> Result<Stores> {
    open_inner(cfg, None).await
}

/// [`open`] with every request shown to `tap` first (the seam of the `floor` feature's
/// recorder).
pub(crate) async fn open_inner(
    cfg: &CassandraConfig,
    tap: Option<Arc<dyn session::Tap>>,
) -> Result<Stores> {
    let session = cfg.connect(true).await.map_err(|e| {
        if e.kind() == durastore_api::ErrorKind::NotFound {
            StoreError::not_found(format!(
                "cassandra keyspace {:?} does not exist; run `durastore schema create-database` and \
                 `durastore schema setup` first ({})",
                cfg.keyspace,
                e.message()
            ))
        } else {
            e
        }
    })?;
    let mut cass = Cass::new(session, cfg.keyspace.clone());
    if let Some(t) = tap {
        cass = cass.with_tap(t);
    }
    let cass = Arc::new(cass);
    schema::check_current(&cass).await?;
    let backend: Arc<dyn Backend> = Arc::new(CassandraBackend { cass: cass.clone() });
    Ok(Stores {
        backend,
        shard: shard::make(&cass),
        execution: execution::make(&cass),
        history: history::make(&cass),
        task_queue: task_queue::make(&cass),
        namespace: namespace::make(&cass),
        cluster_metadata: cluster::make(&cass),
        queue: queue::make(&cass),
        queue_v1: queue_v1::make(&cass),
        replication_dlq: execution::replication_dlq::make(&cass),
        nexus_endpoint: nexus::make(&cass),
        visibility: None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn url_options() {
        let c = CassandraConfig::from_url(
            "cassandra://a,b:9043/ks?consistency=QUORUM&request_timeout=500ms&connect_timeout=2.5\
             &ssl=yes&sslrootcert=/ca.pem&replication_factor=3&datacenter=dc1",
        )
        .unwrap();
        assert_eq!(c.hosts, ["a:9042", "b:9043"]);
        let v6 = CassandraConfig::from_url("cassandra://[::1],[fe80::2]:9043,h/ks").unwrap();
        assert_eq!(v6.hosts, ["[::1]:9042", "[fe80::2]:9043", "h:9042"]);
        assert_eq!(c.keyspace, "ks");
        assert_eq!(c.consistency, Consistency::Quorum);
        assert_eq!(c.request_timeout, Duration::from_millis(500));
        assert_eq!(c.connect_timeout, Duration::from_millis(2500));
        assert!(c.tls);
        assert_eq!(c.tls_ca.as_deref(), Some("/ca.pem"));
        assert_eq!(
            (c.replication_factor, c.datacenter.as_deref()),
            (3, Some("dc1"))
        );
        for bad in [
            "cassandra://h/ks?tls=on",
            "cassandra://h/ks?tls_host_verification=maybe",
            "cassandra://h/ks?tls_cert=/c.pem",
            "cassandra://h/ks?connections_per_host=0",
            "cassandra://h/ks?bogus=1",
            "cassandra://h/ks?replication_factor=0",
            "cassandra://::1/ks",
            "cassandra://[::1/ks",
            "cassandra://[::1]x/ks",
            "cassandra://[nothost]:9042/ks",
            "cassandra://[::1]:99999/ks",
            "cassandra://:9042/ks",
        ] {
            let e = CassandraConfig::from_url(bad).unwrap_err();
            assert_eq!(e.kind(), durastore_api::ErrorKind::InvalidArgument, "{bad}");
        }
    }
}
