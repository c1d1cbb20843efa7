//! Finding a database for each backend under test
//! (docs/architecture.md#provisioning-and-isolation).
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

/// Server backends the conformance binary provisions. Each run gets its own database on the
/// server (created from the URL's server and credentials, dropped afterwards).
pub const SERVER_BACKENDS: &[ServerBackend] = &[
    ServerBackend {
        name: "postgres",
        env_var: "DURASTORE_POSTGRES_URL",
        image: Some("postgres:15"),
    },
    ServerBackend {
        name: "mysql",
        env_var: "DURASTORE_MYSQL_URL",
        image: Some("mariadb:10.11"),
    },
    // Each run gets its own keyspace (`durastore_conf_<random>`), dropped afterwards.
    ServerBackend {
        name: "cassandra",
        env_var: "DURASTORE_CASSANDRA_URL",
        image: Some("cassandra:5.0"),
    },
    // Visibility only; each run gets its own index (`durastore_conf_<random>`).
    ServerBackend {
        name: "opensearch",
        env_var: "DURASTORE_OPENSEARCH_URL",
        image: Some("opensearchproject/opensearch:2.19.0"),
    },
    ServerBackend {
        name: "elasticsearch",
        env_var: "DURASTORE_ELASTICSEARCH_URL",
        image: Some("docker.elastic.co/elasticsearch/elasticsearch:8.19.0"),
    },
];

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
    fn require_parsing() {
        assert_eq!(Require::parse(None), Require::Nothing);
        assert!(Require::parse(Some("ALL")).requires("sqlite"));
        let r = Require::parse(Some("postgres, SQLite"));
        assert!(r.requires("sqlite") && r.requires("postgres") && !r.requires("mysql"));
        assert!(!Require::parse(Some("")).requires("sqlite"));
    }
}
