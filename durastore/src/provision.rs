//! Test support (the `test-support` cargo feature): finding a database for each backend under
//! test, and making a database of its own for one run ([`create_test_database`];
//! docs/architecture.md#provisioning-and-isolation).
//!
//! Embedded backends (SQLite) need nothing: the test binary makes a temporary file database.
//! For a server backend the chain is:
//!
//! 1. `DURASTORE_<BACKEND>_URL` from the environment (e.g. what `scripts/services.sh start`
//!    prints);
//! 2. else a container via testcontainers when a Docker engine answers;
//! 3. else the backend is skipped, with the reason printed.
//!
//! `DURASTORE_REQUIRE=all` (set by CI) turns every provisioning skip into a failure; a
//! comma-separated list of backend names requires only those.

use std::path::Path;
use std::time::Duration;

use durastore_api::schema::ApplyOptions;
use durastore_api::{CapabilityFlag, Result, StoreError};

use crate::factory::open_schema;
use crate::registry::{BackendKind, SchemaOpen, provider_for};

/// A backend that needs a running server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerBackend {
    /// Backend name, as in trial names (`postgres::shard::…`).
    pub name: &'static str,
    /// Environment variable holding its URL.
    pub env_var: &'static str,
    /// Container image, once a testcontainers definition exists for it.
    pub image: Option<&'static str>,
}

/// Server backends the conformance binary provisions, from the registry's providers of the
/// backends compiled in. Each run gets its own database on the server (created from the URL's
/// server and credentials, dropped afterwards; a keyspace on Cassandra, an index on
/// Elasticsearch/OpenSearch).
pub fn server_backends() -> Vec<ServerBackend> {
    BackendKind::compiled()
        .flat_map(|p| p.test_servers().iter().copied())
        .collect()
}

/// The capability flags the backend named `name` (as in trial names: `sqlite`, `postgres`,
/// `opensearch`, …) declares false by design: its capability skips are expected, not gaps to
/// report. Empty for a name no compiled backend uses.
pub fn expected_gaps(name: &str) -> Vec<&'static str> {
    let provider = BackendKind::compiled()
        .find(|p| p.kind().name() == name || p.test_servers().iter().any(|s| s.name == name));
    let Some(provider) = provider else {
        return Vec::new();
    };
    let cap = provider.capability();
    CapabilityFlag::ALL
        .iter()
        .filter(|f| !cap.get(**f))
        .map(|f| f.name())
        .collect()
}

/// A database made for one conformance run on a server backend: created with a unique name next
/// to the database the admin URL names, given the current schema of every set the backend
/// ships, and dropped by [`TestDatabase::drop`].
#[derive(Debug, Clone)]
pub struct TestDatabase {
    /// URL of the new database (what the stores are opened with).
    pub url: String,
    admin_url: String,
    name: String,
}

/// Creates a uniquely named database on the server of `admin_url` and sets up every schema set
/// its backend ships.
pub async fn create_test_database(admin_url: &str) -> Result<TestDatabase> {
    create_test_database_at(admin_url, None).await
}

/// Like [`create_test_database`], with every schema set set up only to `target` (None: the
/// latest): how a schema-update test gets a database of an older version.
pub async fn create_test_database_at(
    admin_url: &str,
    target: Option<&durastore_api::schema::Version>,
) -> Result<TestDatabase> {
    let provider = provider_for(admin_url)?;
    let name = format!(
        "durastore_conf_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    );
    let url = provider.create_test_database(admin_url, &name).await?;
    let db = TestDatabase {
        url,
        admin_url: admin_url.to_string(),
        name,
    };
    let setup = async {
        for set in provider.schema_sets() {
            let t = open_schema(&db.url, set, SchemaOpen::MustExist).await?;
            let opts = ApplyOptions {
                target: target.cloned(),
                dry_run: false,
            };
            durastore_api::schema::setup(&t.set, t.driver.as_ref(), &opts).await?;
        }
        Ok::<_, StoreError>(())
    };
    if let Err(e) = setup.await {
        // Do not leave a half-made database behind.
        let _ = db.clone().drop().await;
        return Err(e);
    }
    Ok(db)
}

impl TestDatabase {
    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database.
    pub async fn drop(self) -> Result<()> {
        provider_for(&self.admin_url)?
            .drop_test_database(&self.admin_url, &self.name)
            .await
    }
}

/// Whether a Docker engine answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerProbe {
    /// It answered at this address.
    Available(String),
    /// It did not; the text says where we looked.
    Unavailable(String),
}

/// The outcome of provisioning one backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provision {
    /// Run the suite against this URL.
    Url(String),
    /// Start this container image through testcontainers (a Docker engine answered at `docker`).
    Container {
        /// Image name and tag.
        image: &'static str,
        /// Where the engine answered.
        docker: String,
    },
    /// Do not run; the reason is printed (and is a failure when the backend is required).
    Skip(String),
}

/// Runs the chain for one server backend. `env` reads environment variables; `docker` probes
/// for an engine (called only when no URL is set).
pub fn provision(
    backend: &ServerBackend,
    env: &dyn Fn(&str) -> Option<String>,
    docker: &dyn Fn() -> DockerProbe,
) -> Provision {
    if let Some(url) = env(backend.env_var).filter(|u| !u.trim().is_empty()) {
        return Provision::Url(url);
    }
    match docker() {
        DockerProbe::Available(at) => match backend.image {
            Some(image) => Provision::Container { image, docker: at },
            None => Provision::Skip(format!(
                "no {} and no container definition for {} (Docker engine found at {at})",
                backend.env_var, backend.name
            )),
        },
        DockerProbe::Unavailable(where_) => Provision::Skip(format!(
            "no {} and no Docker engine at {where_}",
            backend.env_var
        )),
    }
}

/// Looks for a Docker engine: `DOCKER_HOST` (unix or tcp) if set, else `/var/run/docker.sock`.
pub fn probe_docker(env: &dyn Fn(&str) -> Option<String>) -> DockerProbe {
    let host = env("DOCKER_HOST").filter(|h| !h.is_empty());
    match host.as_deref() {
        Some(h) if h.starts_with("tcp://") => {
            let addr = h.trim_start_matches("tcp://").trim_end_matches('/');
            let answered = std::net::ToSocketAddrs::to_socket_addrs(addr)
                .ok()
                .and_then(|mut a| a.next())
                .is_some_and(|a| {
                    std::net::TcpStream::connect_timeout(&a, Duration::from_secs(1)).is_ok()
                });
            if answered {
                DockerProbe::Available(h.to_string())
            } else {
                DockerProbe::Unavailable(h.to_string())
            }
        }
        Some(h) => probe_socket(Path::new(h.trim_start_matches("unix://"))),
        None => probe_socket(Path::new("/var/run/docker.sock")),
    }
}

#[cfg(unix)]
fn probe_socket(path: &Path) -> DockerProbe {
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => DockerProbe::Available(path.display().to_string()),
        Err(_) => DockerProbe::Unavailable(path.display().to_string()),
    }
}

#[cfg(not(unix))]
fn probe_socket(path: &Path) -> DockerProbe {
    DockerProbe::Unavailable(path.display().to_string())
}

/// What `DURASTORE_REQUIRE` asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Require {
    /// Unset: skips stay skips.
    #[default]
    Nothing,
    /// `all`: every backend must run.
    All,
    /// A comma-separated list of backend names.
    Backends(Vec<String>),
}

impl Require {
    /// Parses the variable's value.
    pub fn parse(value: Option<&str>) -> Self {
        match value.map(str::trim) {
            None | Some("") => Require::Nothing,
            Some(v) if v.eq_ignore_ascii_case("all") => Require::All,
            Some(v) => Require::Backends(
                v.split(',')
                    .map(|s| s.trim().to_ascii_lowercase())
                    .filter(|s| !s.is_empty())
                    .collect(),
            ),
        }
    }

    /// Reads `DURASTORE_REQUIRE`.
    pub fn from_env() -> Self {
        Self::parse(std::env::var("DURASTORE_REQUIRE").ok().as_deref())
    }

    /// Must `backend` run (a skip is then a failure)?
    pub fn requires(&self, backend: &str) -> bool {
        match self {
            Require::Nothing => false,
            Require::All => true,
            Require::Backends(b) => b.iter().any(|n| n == backend),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PG: ServerBackend = ServerBackend {
        name: "postgres",
        env_var: "DURASTORE_POSTGRES_URL",
        image: Some("postgres:15"),
    };
    const NO_IMAGE: ServerBackend = ServerBackend {
        name: "elastic",
        env_var: "DURASTORE_ELASTIC_URL",
        image: None,
    };

    #[test]
    fn chain_prefers_url_then_docker_then_skip() {
        let with_url =
            |k: &str| (k == "DURASTORE_POSTGRES_URL").then(|| "postgres://x".to_string());
        let none = |_: &str| None;
        let no_docker = || DockerProbe::Unavailable("/var/run/docker.sock".into());
        let docker = || DockerProbe::Available("/var/run/docker.sock".into());
        assert_eq!(
            provision(&PG, &with_url, &no_docker),
            Provision::Url("postgres://x".into())
        );
        assert_eq!(
            provision(&PG, &none, &no_docker),
            Provision::Skip(
                "no DURASTORE_POSTGRES_URL and no Docker engine at /var/run/docker.sock".into()
            )
        );
        assert_eq!(
            provision(&PG, &none, &docker),
            Provision::Container {
                image: "postgres:15",
                docker: "/var/run/docker.sock".into()
            }
        );
        match provision(&NO_IMAGE, &none, &docker) {
            Provision::Skip(r) => assert!(r.contains("no container definition"), "{r}"),
            other => panic!("{other:?}"),
        }
        let socket = probe_docker(&|k: &str| {
            (k == "DOCKER_HOST").then(|| "unix:///nonexistent/docker.sock".to_string())
        });
        assert_eq!(
            socket,
            DockerProbe::Unavailable("/nonexistent/docker.sock".into())
        );
    }

    #[test]
    fn backends_and_gaps_come_from_the_registry() {
        let names: Vec<&str> = server_backends().iter().map(|b| b.name).collect();
        #[cfg(all(feature = "postgres", feature = "cassandra", feature = "elastic"))]
        {
            assert!(names.contains(&"postgres") && names.contains(&"cassandra"));
            assert!(names.contains(&"opensearch") && names.contains(&"elasticsearch"));
            assert_eq!(
                expected_gaps("cassandra"),
                ["list_task_queues", "membership_prune", "visibility"]
            );
            let search = expected_gaps("opensearch");
            assert!(search.contains(&"shard") && search.contains(&"queue"));
            assert!(!search.contains(&"visibility"), "{search:?}");
        }
        assert!(!names.contains(&"sqlite"), "{names:?}");
        assert!(expected_gaps("sqlite").is_empty());
        assert!(expected_gaps("no-such-backend").is_empty());
    }

    #[test]
    fn require_parsing() {
        assert_eq!(Require::parse(None), Require::Nothing);
        assert!(Require::parse(Some("ALL")).requires("sqlite"));
        let r = Require::parse(Some("postgres, SQLite"));
        assert!(r.requires("sqlite") && r.requires("postgres") && !r.requires("mysql"));
        assert!(!Require::parse(Some("")).requires("sqlite"));
    }
}
