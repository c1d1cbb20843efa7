//! The conformance suite under `cargo test`: one libtest-mimic trial per backend × case, named
//! `<backend>::<case id>`, so `cargo test -p durastore --test conformance -- sqlite::shard`
//! (or `cargo nextest run -E 'test(sqlite::shard)'`) selects by backend and store.
//!
//! Provisioning (DESIGN §5): SQLite runs on a temporary file database (or
//! `DURASTORE_SQLITE_URL`). Server backends ([`durastore::provision::SERVER_BACKENDS`]) take
//! `DURASTORE_<BACKEND>_URL`, else a container when a Docker engine answers, else every trial of
//! that backend is reported as *ignored* with the reason.
//!
//! Skips are visible: a case the backend lacks a capability for is an ignored trial whose reason
//! is printed (`ignored (missing capability: visibility)`). With `DURASTORE_REQUIRE=all` (or a
//! list of backend names) a provisioning skip fails, and so does a capability skip that is not
//! one of the backend's expected gaps.

use std::sync::{Arc, OnceLock};

use durastore::provision::{Provision, Require, SERVER_BACKENDS, probe_docker, provision};
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
    /// Capabilities this backend is known not to have yet: skips for them stay skips even
    /// under `DURASTORE_REQUIRE`.
    expected_gaps: &'static [&'static str],
    ctx: OnceLock<Result<Ctx, String>>,
}

impl Lazy {
    fn ctx(&self) -> Result<&Ctx, String> {
        self.ctx
            .get_or_init(|| {
                let rt = runtime()?;
                let stores = rt
                    .block_on(durastore::open(&self.url))
                    .map_err(|e| format!("cannot open {} at {}: {e}", self.backend, self.url))?;
                let url = self.url.clone();
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
        .copied()
        .filter(|r| cap.has(r) != Some(true))
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
    let mut trials = Vec::new();
    let mut notes = Vec::new();
    let mut temp_dirs = Vec::new();

    // SQLite: embedded, no server. A temporary file so durability (reopen) cases run.
    let sqlite_url = match std::env::var("DURASTORE_SQLITE_URL") {
        Ok(u) if !u.trim().is_empty() => Some(u),
        _ => None,
    };
    let sqlite_url = match sqlite_url {
        Some(u) => Ok(u),
        None => tempfile::Builder::new()
            .prefix("durastore-conformance-")
            .tempdir()
            .map(|dir| {
                let u = format!("sqlite://{}", dir.path().join("conformance.db").display());
                temp_dirs.push(dir);
                u
            })
            .map_err(|e| format!("cannot create a temporary directory: {e}")),
    };
    match sqlite_url {
        Ok(url) => {
            notes.push(format!("sqlite: {url}"));
            let lazy = Arc::new(Lazy {
                backend: "sqlite",
                url,
                expected_gaps: &["visibility"],
                ctx: OnceLock::new(),
            });
            for case in &cases {
                trials.push(case_trial(lazy.clone(), *case, require.requires("sqlite")));
            }
        }
        Err(reason) => {
            notes.push(format!("sqlite: skipped: {reason}"));
            for case in &cases {
                trials.push(skipped_trial(
                    "sqlite",
                    case,
                    &reason,
                    require.requires("sqlite"),
                ));
            }
        }
    }

    // Server backends: URL from the environment, else a container, else a visible skip.
    let env = |k: &str| std::env::var(k).ok();
    for backend in SERVER_BACKENDS {
        let required = require.requires(backend.name);
        match provision(backend, &env, &|| probe_docker(&env)) {
            Provision::Url(url) => {
                notes.push(format!("{}: {url}", backend.name));
                let lazy = Arc::new(Lazy {
                    backend: backend.name,
                    url,
                    expected_gaps: &[],
                    ctx: OnceLock::new(),
                });
                for case in &cases {
                    trials.push(case_trial(lazy.clone(), *case, required));
                }
            }
            Provision::Skip(reason) => {
                notes.push(format!("{}: skipped: {reason}", backend.name));
                for case in &cases {
                    trials.push(skipped_trial(backend.name, case, &reason, required));
                }
            }
        }
    }

    if !args.list {
        for n in &notes {
            eprintln!("conformance backend {n}");
        }
    }
    let conclusion = libtest_mimic::run(&args, trials);
    // Remove the temporary databases before exiting (process::exit skips destructors).
    drop(temp_dirs);
    conclusion.exit();
}
