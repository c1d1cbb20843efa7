//! The conformance suite under `cargo test`: one libtest-mimic trial per backend × case, named
//! `<backend>::<case id>`, so `cargo test -p durastore --test conformance -- sqlite::shard`
//! (or `cargo nextest run -E 'test(sqlite::shard)'`) selects by backend and store.
//!
//! Provisioning (docs/architecture.md#provisioning-and-isolation): SQLite runs on a temporary
//! file database (or `DURASTORE_SQLITE_URL`). Server backends (those of
//! [`durastore::provision::server_backends`] compiled in) take
//! `DURASTORE_<BACKEND>_URL`, else a container when a Docker engine answers, else every trial of
//! that backend is reported as *ignored* with the reason.
//!
//! Skips are visible: a case the backend lacks a capability for is an ignored trial whose reason
//! is printed (`ignored (missing capability: visibility)`). With `DURASTORE_REQUIRE=all` (or a
//! list of backend names) a provisioning skip fails, and so does a capability skip that is not
//! one of the backend's expected gaps.

use std::sync::{Arc, OnceLock};

use durastore::factory::is_server_url;
use durastore::provision::{
    Provision, Require, TestDatabase, create_test_database, expected_gaps, probe_docker, provision,
    server_backends,
};
use durastore_api::Capability;
use durastore_conformance::{Case, Ctx, Opener, Outcome, all_cases, run_case};
use libtest_mimic::{Arguments, Completion, Failed, Trial};

fn runtime() -> Result<&'static tokio::runtime::Runtime, String> {
    static RT: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a tokio runtime: {e}"))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// One backend's database, opened on first use by any of its trials.
struct Lazy {
    backend: &'static str,
    url: String,
    /// Capabilities this backend declares false by design: skips for them stay skips even
    /// under `DURASTORE_REQUIRE`.
    expected_gaps: Vec<&'static str>,
    ctx: OnceLock<Result<Ctx, String>>,
    /// The database made for this run on a server backend, dropped at the end.
    test_db: OnceLock<TestDatabase>,
}

impl Lazy {
    fn new(backend: &'static str, url: String) -> Self {
        Lazy {
            backend,
            url,
            expected_gaps: expected_gaps(backend),
            ctx: OnceLock::new(),
            test_db: OnceLock::new(),
        }
    }

    fn ctx(&self) -> Result<&Ctx, String> {
        self.ctx
            .get_or_init(|| {
                let rt = runtime()?;
                // A server backend runs in a database of its own
                // (docs/architecture.md#provisioning-and-isolation).
                let url = if is_server_url(&self.url) {
                    let db = rt.block_on(create_test_database(&self.url)).map_err(|e| {
                        format!("cannot create a test database for {}: {e}", self.backend)
                    })?;
                    let url = db.url.clone();
                    let _ = self.test_db.set(db);
                    url
                } else {
                    self.url.clone()
                };
                let stores = rt
                    .block_on(durastore::open(&url))
                    .map_err(|e| format!("cannot open {}: {e}", self.backend))?;
                let opener: Opener = Arc::new(move || {
                    let u = url.clone();
                    Box::pin(async move { durastore::open(&u).await })
                });
                Ok(Ctx::new(stores, Some(opener)))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

fn missing_capabilities(case: &Case, cap: &Capability) -> Vec<&'static str> {
    case.requires
        .iter()
        .filter(|flag| !cap.get(**flag))
        .map(|flag| flag.name())
        .collect()
}

fn case_trial(lazy: Arc<Lazy>, case: Case, required: bool) -> Trial {
    let name = format!("{}::{}", lazy.backend, case.id);
    Trial::ignorable_test(name, move || {
        let ctx = lazy.ctx()?;
        let out = runtime()?.block_on(run_case(ctx, &case));
        match out.outcome {
            Outcome::Passed => Ok(Completion::Completed),
            Outcome::Failed => Err(Failed::from(out.reason.unwrap_or_default())),
            Outcome::Skipped => {
                let reason = out.reason.unwrap_or_default();
                let unexpected: Vec<&str> = missing_capabilities(&case, &ctx.stores.capability())
                    .into_iter()
                    .filter(|m| !lazy.expected_gaps.contains(m))
                    .collect();
                if required && !unexpected.is_empty() {
                    Err(Failed::from(format!(
                        "{reason}; DURASTORE_REQUIRE asks for {} to run everything, and {} is not \
                         a known gap of this backend",
                        lazy.backend,
                        unexpected.join(", ")
                    )))
                } else {
                    Ok(Completion::ignored_with(reason))
                }
            }
        }
    })
}

fn skipped_trial(backend: &str, case: &Case, reason: &str, required: bool) -> Trial {
    let reason = reason.to_string();
    Trial::ignorable_test(format!("{backend}::{}", case.id), move || {
        if required {
            Err(Failed::from(format!(
                "{reason} (DURASTORE_REQUIRE turns this skip into a failure)"
            )))
        } else {
            Ok(Completion::ignored_with(reason))
        }
    })
}

fn main() {
    let args = Arguments::from_args();
    let require = Require::from_env();
    let cases = all_cases();
    let mut run = Run::default();
    run.add_sqlite(&cases, &require);
    run.add_servers(&cases, &require);
    if !args.list {
        for n in &run.notes {
            eprintln!("conformance backend {n}");
        }
    }
    let conclusion = libtest_mimic::run(&args, std::mem::take(&mut run.trials));
    run.clean_up();
    conclusion.exit();
}

/// The trials of one run, and what they need alive until it ends.
#[derive(Default)]
struct Run {
    trials: Vec<Trial>,
    /// Where each backend runs (or why it is skipped), printed before the trials.
    notes: Vec<String>,
    temp_dirs: Vec<tempfile::TempDir>,
    lazies: Vec<Arc<Lazy>>,
    containers: Vec<Box<dyn std::any::Any + Send>>,
}

impl Run {
    /// Every case on `backend` at `url`, or every case skipped with the reason.
    fn add_backend(
        &mut self,
        backend: &'static str,
        url: Result<String, String>,
        cases: &[Case],
        required: bool,
    ) {
        match url {
            Ok(url) => {
                self.notes.push(format!("{backend}: {}", redact(&url)));
                let lazy = Arc::new(Lazy::new(backend, url));
                self.lazies.push(lazy.clone());
                for case in cases {
                    self.trials.push(case_trial(lazy.clone(), *case, required));
                }
            }
            Err(reason) => {
                self.notes.push(format!("{backend}: skipped: {reason}"));
                for case in cases {
                    self.trials
                        .push(skipped_trial(backend, case, &reason, required));
                }
            }
        }
    }

    /// SQLite: embedded, no server. A temporary file so durability (reopen) cases run.
    fn add_sqlite(&mut self, cases: &[Case], require: &Require) {
        let url = match std::env::var("DURASTORE_SQLITE_URL") {
            Ok(u) if !u.trim().is_empty() => Ok(u),
            _ => tempfile::Builder::new()
                .prefix("durastore-conformance-")
                .tempdir()
                .map(|dir| {
                    let u = format!("sqlite://{}", dir.path().join("conformance.db").display());
                    self.temp_dirs.push(dir);
                    u
                })
                .map_err(|e| format!("cannot create a temporary directory: {e}")),
        };
        self.add_backend("sqlite", url, cases, require.requires("sqlite"));
    }

    /// Server backends: URL from the environment, else a container, else a visible skip.
    fn add_servers(&mut self, cases: &[Case], require: &Require) {
        let env = |k: &str| std::env::var(k).ok();
        for backend in &server_backends() {
            let url = match provision(backend, &env, &|| probe_docker(&env)) {
                Provision::Url(url) => Ok(url),
                Provision::Container { image, docker } => {
                    match runtime().and_then(|rt| rt.block_on(containers::start(image))) {
                        Ok((url, handle)) => {
                            self.containers.push(handle);
                            self.notes
                                .push(format!("{}: container {image} via {docker}", backend.name));
                            Ok(url)
                        }
                        Err(e) => Err(format!(
                            "no {} and starting {image} at {docker} failed: {e}",
                            backend.env_var
                        )),
                    }
                }
                Provision::Skip(reason) => Err(reason),
            };
            self.add_backend(backend.name, url, cases, require.requires(backend.name));
        }
    }

    /// Removes the per-run databases and temporary files (`process::exit` skips destructors).
    fn clean_up(self) {
        for lazy in &self.lazies {
            if let (Some(db), Ok(rt)) = (lazy.test_db.get(), runtime()) {
                if let Some(Ok(ctx)) = lazy.ctx.get() {
                    let _ = rt.block_on(ctx.stores.backend.close());
                }
                if let Err(e) = rt.block_on(db.clone().drop()) {
                    eprintln!(
                        "conformance: could not drop test database {}: {e}",
                        db.name()
                    );
                }
            }
        }
        drop(self.containers);
        drop(self.temp_dirs);
    }
}

/// A URL with its password replaced, for printing.
fn redact(url: &str) -> String {
    durastore::factory::redact_url(url)
}

/// testcontainers definitions, used when a Docker engine answers and no URL is set.
mod containers {
    use testcontainers_modules::mariadb::Mariadb;
    use testcontainers_modules::postgres::Postgres;
    use testcontainers_modules::testcontainers::core::{IntoContainerPort, WaitFor};
    use testcontainers_modules::testcontainers::runners::AsyncRunner;
    use testcontainers_modules::testcontainers::{ContainerAsync, GenericImage, ImageExt};

    type Handle = Box<dyn std::any::Any + Send>;

    /// Starts `image` (`name:tag`) and returns an admin URL for it plus the container handle,
    /// which stops the container when dropped.
    pub(crate) async fn start(image: &str) -> Result<(String, Handle), String> {
        let (name, tag) = image.split_once(':').unwrap_or((image, "latest"));
        match name {
            "postgres" => {
                let c: ContainerAsync<Postgres> = Postgres::default()
                    .with_tag(tag)
                    .start()
                    .await
                    .map_err(|e| e.to_string())?;
                let host = c.get_host().await.map_err(|e| e.to_string())?;
                let port = c
                    .get_host_port_ipv4(5432)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok((
                    format!("postgres://postgres:postgres@{host}:{port}/postgres"),
                    Box::new(c),
                ))
            }
            "mariadb" => {
                let c: ContainerAsync<Mariadb> = Mariadb::default()
                    .with_tag(tag)
                    .start()
                    .await
                    .map_err(|e| e.to_string())?;
                let host = c.get_host().await.map_err(|e| e.to_string())?;
                let port = c
                    .get_host_port_ipv4(3306)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok((format!("mysql://root@{host}:{port}/mysql"), Box::new(c)))
            }
            "cassandra" => {
                // No testcontainers module for Apache Cassandra: the official image, ready once
                // it listens for CQL clients. A small heap keeps it within a CI runner.
                let c: ContainerAsync<GenericImage> = GenericImage::new(name, tag)
                    .with_exposed_port(9042.tcp())
                    .with_wait_for(WaitFor::message_on_stdout(
                        "Starting listening for CQL clients",
                    ))
                    .with_env_var("MAX_HEAP_SIZE", "768M")
                    .with_env_var("HEAP_NEWSIZE", "128M")
                    .start()
                    .await
                    .map_err(|e| e.to_string())?;
                let host = c.get_host().await.map_err(|e| e.to_string())?;
                let port = c
                    .get_host_port_ipv4(9042)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok((format!("cassandra://{host}:{port}"), Box::new(c)))
            }
            "opensearchproject/opensearch" | "docker.elastic.co/elasticsearch/elasticsearch" => {
                let opensearch = name.starts_with("opensearch");
                let mut img = GenericImage::new(name, tag)
                    .with_exposed_port(9200.tcp())
                    .with_wait_for(WaitFor::message_on_stdout("started"))
                    .with_env_var("discovery.type", "single-node");
                img = if opensearch {
                    img.with_env_var("DISABLE_SECURITY_PLUGIN", "true")
                        .with_env_var("OPENSEARCH_JAVA_OPTS", "-Xms512m -Xmx512m")
                } else {
                    img.with_env_var("xpack.security.enabled", "false")
                        .with_env_var("ES_JAVA_OPTS", "-Xms512m -Xmx512m")
                };
                let c: ContainerAsync<GenericImage> =
                    img.start().await.map_err(|e| e.to_string())?;
                let host = c.get_host().await.map_err(|e| e.to_string())?;
                let port = c
                    .get_host_port_ipv4(9200)
                    .await
                    .map_err(|e| e.to_string())?;
                let scheme = if opensearch {
                    "opensearch"
                } else {
                    "elasticsearch"
                };
                Ok((format!("{scheme}://{host}:{port}"), Box::new(c)))
            }
            other => Err(format!("no container definition for image {other}")),
        }
    }
}
