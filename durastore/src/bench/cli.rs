//! `durastore bench` from its arguments: checks them, opens the stores, runs, prints.

use std::io::Write;
use std::time::Duration;

use durastore_api::{LayerOptions, Result, StoreError, Stores};

use crate::config::Config;
use crate::factory::{self, OpenMode};
use crate::registry::BackendKind;

use super::floor;
use super::options::{BenchArgs, BenchOptions};
use super::render::render_table;
use super::report::BenchReport;
use super::runner::run;
use super::safety;

/// Runs `durastore bench` from its arguments: opens the stores, runs, prints.
pub async fn run_cli(args: BenchArgs, layer: LayerOptions) -> Result<()> {
    if !(args.duration.is_finite() && args.duration > 0.0) {
        return Err(StoreError::invalid_argument(
            "--duration must be a positive number of seconds",
        ));
    }
    let floor_url = floor_url(&args)?;
    let first_shard = args.first_shard.unwrap_or(1);
    safety::last_shard(first_shard, args.shards)?;
    let stores = open_stores(&args).await?;
    let backend = stores.backend.clone();
    // Nothing is written before the shards are known to be free (or the database scratch).
    let opts = async {
        if !args.scratch {
            let given = args.first_shard.is_some();
            safety::ensure_free(&stores, first_shard, args.shards, given).await?;
        }
        options(&args, &stores, first_shard).await
    }
    .await;
    let opts = match opts {
        Ok(o) => o,
        Err(e) => {
            let _ = backend.close().await;
            return Err(e);
        }
    };
    let preload_backend = opts.preload_stores.as_ref().map(|s| s.backend.clone());
    let report = match &floor_url {
        Some(url) => floor::run_with_floor(&stores, &opts, &layer, url, args.floor_rounds).await,
        None => run(stores, &opts, layer).await,
    };
    // Close the pools whatever happened, so a server sees a clean disconnect.
    let _ = backend.close().await;
    if let Some(b) = preload_backend {
        let _ = b.close().await;
    }
    print(&report?, args.json)
}

/// With `--floor`, where the floor replays: the visibility URL for a visibility workload when
/// one is given, else `--url`. Checked before the adapter run spends its time.
fn floor_url(args: &BenchArgs) -> Result<Option<String>> {
    if !args.floor {
        return Ok(None);
    }
    if args.visibility_url.is_some() && !args.workload.is_visibility_only() {
        // The SQL and Cassandra floors record stores of their own at --url, whose visibility
        // calls would go to --url's visibility store, not the one the adapter run used.
        return Err(StoreError::unsupported(
            "--floor with --visibility-url covers the visibility workloads (visibility-write, \
             visibility-list, visibility-count-group); for the lifecycle floor use --url alone",
        ));
    }
    let url = match (&args.visibility_url, &args.url) {
        (Some(v), _) if args.workload.is_visibility_only() => v.clone(),
        (_, Some(u)) => u.clone(),
        (_, None) => {
            return Err(StoreError::invalid_argument(
                "--floor needs --url (the database the statements replay in)",
            ));
        }
    };
    floor::check_supported(&url)?;
    Ok(Some(url))
}

/// The stores of `--url` or `--config`, with `--visibility-url`'s visibility store.
async fn open_stores(args: &BenchArgs) -> Result<Stores> {
    let mut stores = match (&args.url, &args.config) {
        (Some(u), _) => factory::open(u).await?,
        (None, Some(path)) => {
            factory::open_config(&Config::load(path)?, OpenMode::MustExist).await?
        }
        (None, None) => {
            return Err(StoreError::invalid_argument(
                "bench needs --url (or DURASTORE_URL) or --config, e.g. --url sqlite:///tmp/bench.db",
            ));
        }
    };
    if let Some(v) = &args.visibility_url {
        stores.visibility = factory::open(v).await?.visibility;
        if stores.visibility.is_none() {
            let _ = stores.backend.close().await;
            return Err(StoreError::invalid_argument(format!(
                "--visibility-url {v} has no visibility store"
            )));
        }
    }
    Ok(stores)
}

/// The options of the run; a SQLite preload gets stores of its own ([`fast_preload_url`]).
async fn options(args: &BenchArgs, stores: &Stores, first_shard: i32) -> Result<BenchOptions> {
    let preload_stores = match args.url.as_deref().and_then(fast_preload_url) {
        Some(u) if args.preload > 0 => {
            let mut p = factory::open(&u).await?;
            if args.visibility_url.is_some() {
                p.visibility = stores.visibility.clone();
            }
            Some(p)
        }
        _ => None,
    };
    Ok(BenchOptions {
        workload: args.workload,
        shards: args.shards,
        first_shard,
        concurrency: args.concurrency,
        duration: Duration::from_secs_f64(args.duration),
        count: args.count,
        preload: args.preload,
        preload_concurrency: args
            .preload_concurrency
            .unwrap_or_else(|| (args.concurrency * 2).max(16)),
        visibility: !args.no_visibility,
        progress: !args.json,
        preload_stores,
    })
}

/// Prints the report: JSON or the table.
fn print(report: &BenchReport, json: bool) -> Result<()> {
    let text = if json {
        let mut t = serde_json::to_string_pretty(report)
            .map_err(|e| StoreError::internal(format!("cannot render JSON: {e}")))?;
        t.push('\n');
        t
    } else {
        render_table(report)
    };
    // A closed stdout (`| head`) is not an error of the bench.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(())
}

/// The URL a preload of the SQLite file at `url` writes through: the same file with
/// `synchronous=normal` (WAL without an fsync per commit; durable at the next checkpoint) and
/// `max_connections=1` unless the URL sets them.
///
/// Why: a preload is rebuilt, never recovered, and one fsync per row bounds it by the disk's
/// fsync rate (about 500/s here). One connection, because with several the pool always has a
/// reader inside the WAL, so no checkpoint can ever restart it and the WAL grows without bound
/// (measured: 5.8 GB of WAL for 15,000 preloaded executions with four connections; 5 MB with
/// one, at 385 instead of 540 executions/s). `None` for other backends and in-memory databases.
pub fn fast_preload_url(url: &str) -> Option<String> {
    if BackendKind::from_url(url).ok()? != BackendKind::Sqlite || url.contains(":memory:") {
        return None;
    }
    let mut out = url.to_string();
    for (key, value) in [("synchronous", "normal"), ("max_connections", "1")] {
        if !url.contains(&format!("{key}=")) {
            out.push(if out.contains('?') { '&' } else { '?' });
            out.push_str(&format!("{key}={value}"));
        }
    }
    (out != url).then_some(out)
}
