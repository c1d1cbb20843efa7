//! `durastore conformance`: the conformance suite from the command line.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use durastore::config::Config;
use durastore::factory::{self, OpenMode};
use durastore::provision::{TestDatabase, create_test_database};
use durastore_api::{Result, StoreError, Stores};
use durastore_conformance::{
    Case, CaseOutcome, Ctx, Opener, Outcome, SuiteReport, all_cases, run_suite,
};
use indicatif::{ProgressBar, ProgressStyle};

use super::print_json;
use crate::{CliError, CliResult};

/// Options of `durastore conformance`.
#[derive(Debug, Clone, Args)]
pub struct ConformanceArgs {
    /// Backend to test (default: a fresh SQLite file in a temporary directory, removed afterwards)
    #[arg(long, env = "DURASTORE_URL")]
    url: Option<String>,
    /// YAML config shaped like Temporal's `persistence:` section (wins only without --url)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Run only cases whose id contains this text (e.g. `shard::` or `update_conflict`)
    #[arg(long, value_name = "SUBSTR")]
    filter: Option<String>,
    /// Print one JSON document instead of the table
    #[arg(long)]
    json: bool,
    /// On a server URL, run in the database the URL names (which must have the current schema)
    /// instead of a fresh database created for this run and dropped afterwards
    #[arg(long)]
    in_place: bool,
}

enum Source {
    Url(String),
    Config(Arc<Config>),
}

impl Source {
    async fn open(&self) -> Result<Stores> {
        let stores = match self {
            Source::Url(u) => factory::open(u).await,
            Source::Config(c) => factory::open_config(c, OpenMode::CreateIfMissing).await,
        }?;
        // With --metrics-addr / --slow-ms the suite runs through the layers: they must be
        // transparent, and the cases exercise every operation's metrics.
        Ok(crate::layered(stores))
    }
}

/// Where the suite runs, and what to clean up after it.
struct Target {
    source: Source,
    /// How the text report names the target.
    shown: String,
    /// The temporary directory of the default SQLite file; dropping it removes the database.
    temp: Option<tempfile::TempDir>,
    /// A server database made for this run, dropped at the end
    /// (docs/architecture.md#provisioning-and-isolation).
    test_db: Option<TestDatabase>,
}

/// The target of `a`: a fresh database on a server URL (unless `--in-place`), the URL itself,
/// the config, or a temporary SQLite file.
async fn target(a: &ConformanceArgs) -> Result<Target> {
    let plain = |source, shown| Target {
        source,
        shown,
        temp: None,
        test_db: None,
    };
    Ok(match (&a.url, &a.config) {
        (Some(u), _) if factory::is_server_url(u) && !a.in_place => {
            let db = create_test_database(u).await?;
            Target {
                source: Source::Url(db.url.clone()),
                shown: format!("fresh database {} on {}", db.name(), redact(u)),
                temp: None,
                test_db: Some(db),
            }
        }
        (Some(u), _) => plain(Source::Url(u.clone()), redact(u)),
        (None, Some(path)) => plain(
            Source::Config(Arc::new(Config::load(path)?)),
            path.display().to_string(),
        ),
        (None, None) => {
            let dir = tempfile::Builder::new()
                .prefix("durastore-conformance-")
                .tempdir()
                .map_err(|e| {
                    StoreError::internal(format!("cannot create a temporary directory: {e}"))
                })?;
            let url = format!("sqlite://{}", dir.path().join("conformance.db").display());
            Target {
                temp: Some(dir),
                ..plain(Source::Url(url.clone()), url)
            }
        }
    })
}

/// Runs the suite; exit 1 when a case failed.
pub async fn run(a: ConformanceArgs) -> CliResult {
    // `temp` and `test_db` are kept alive until the end of the run.
    let Target {
        source,
        shown,
        temp,
        mut test_db,
    } = target(&a).await?;
    let source = Arc::new(source);
    let stores = match source.open().await {
        Ok(s) => s,
        Err(e) => {
            if let Some(db) = test_db.take() {
                let _ = db.drop().await;
            }
            return Err(e.into());
        }
    };
    let reopen = source.clone();
    let opener: Opener = Arc::new(move || {
        let s = reopen.clone();
        Box::pin(async move { s.open().await })
    });
    let ctx = Ctx::new(stores, Some(opener));

    let cases = all_cases();
    let filter = a.filter.as_deref();
    let selected = cases
        .iter()
        .filter(|c| filter.is_none_or(|f| c.id.contains(f)))
        .count();
    if selected == 0 {
        return Err(StoreError::invalid_argument(format!(
            "no conformance case id contains {:?}",
            filter.unwrap_or("")
        ))
        .into());
    }
    let report = run_with_progress(&ctx, &cases, filter, selected).await;
    if let Err(e) = ctx.stores.backend.close().await {
        tracing::warn!(error = %e, "closing the backend failed");
    }
    drop(ctx);

    if a.json {
        print_json(&report.to_json());
    } else {
        outln!("backend: {} ({shown})", report.backend);
        print_table(&report);
    }
    drop(temp);
    if let Some(db) = test_db
        && let Err(e) = db.drop().await
    {
        tracing::warn!(error = %e, "dropping the test database failed");
    }
    if report.summary().failed > 0 {
        Err(CliError::CheckFailed)
    } else {
        Ok(())
    }
}

/// Runs the `selected` cases with a progress bar on a terminal (failures printed as they
/// happen).
async fn run_with_progress(
    ctx: &Ctx,
    cases: &[Case],
    filter: Option<&str>,
    selected: usize,
) -> SuiteReport {
    let bar = if std::io::stderr().is_terminal() {
        let b = ProgressBar::new(selected as u64);
        if let Ok(style) =
            ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} {elapsed} {wide_msg}")
        {
            b.set_style(style);
        }
        b
    } else {
        ProgressBar::hidden()
    };
    let progress = |o: &CaseOutcome| {
        bar.inc(1);
        bar.set_message(o.id.clone());
        if o.outcome == Outcome::Failed {
            bar.println(format!(
                "FAILED {}: {}",
                o.id,
                o.reason.as_deref().unwrap_or("")
            ));
        }
    };
    let report = run_suite(ctx, cases, filter, &progress).await;
    bar.finish_and_clear();
    report
}

/// A URL with its password replaced, for printing.
fn redact(url: &str) -> String {
    durastore::factory::redact_url(url)
}

fn print_table(report: &SuiteReport) {
    let id_w = report
        .cases
        .iter()
        .map(|c| c.id.len())
        .max()
        .unwrap_or(2)
        .max(2);
    outln!("{:<id_w$}  {:<7}  {:>6}  REASON", "ID", "OUTCOME", "MS");
    for c in &report.cases {
        let reason = c
            .reason
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        outln!(
            "{:<id_w$}  {:<7}  {:>6}  {reason}",
            c.id,
            c.outcome.as_str(),
            c.duration_ms
        );
    }
    let s = report.summary();
    outln!();
    outln!(
        "{} passed, {} failed, {} skipped",
        s.passed,
        s.failed,
        s.skipped
    );
}
