//! `durastore bench --floor`: what the database itself does with the adapter's statements.
//!
//! After the adapter run, the same workload runs one unit at a time through stores whose SQL
//! driver records every statement ([`durastore_sql::record`]). Two consecutive units give a
//! template ([`durastore_sql::floor::Template`]): the same statements in the same
//! transactions, with ids and task ids rewritten per iteration. The template then runs, at the
//! adapter's concurrency and for the same time:
//!
//! - through the backend's own driver and pool, without the store logic (`driver_loop`:
//!   prepared statements, as the adapter sends them), on PostgreSQL and MySQL/MariaDB;
//! - through `pgbench -M prepared` (PostgreSQL, when `pgbench` is on the PATH).
//!
//! The floor is the faster of the two, and `floor_ratio` = adapter units/s ÷ floor units/s.
//! Nothing of the store logic runs in the floor: no request checks, no row mapping, no
//! condition evaluation, no metrics layer.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use durastore_api::{Result, StoreError};
use durastore_sql::SqlDriver;
use durastore_sql::floor::{MAX_ITERATION, Template};
use durastore_sql::record::{Recorder, RecordingDriver};
use serde::Serialize;

use crate::bench::{BenchOptions, run_units_one_by_one};

/// One replay of the template.
#[derive(Debug, Clone, Serialize)]
pub struct FloorRun {
    /// `driver_loop` or `pgbench`.
    pub method: String,
    /// Units completed.
    pub units: u64,
    /// Units that ended with an error.
    pub failed_units: u64,
    /// Measured wall time.
    pub elapsed_seconds: f64,
    /// `units / elapsed_seconds`.
    pub units_per_second: f64,
}

/// The floor's numbers, part of the `--json` report as `floor`.
#[derive(Debug, Clone, Serialize)]
pub struct FloorReport {
    /// Transactions (and autocommit statements) per unit.
    pub transactions_per_unit: usize,
    /// Statements per unit.
    pub statements_per_unit: usize,
    /// The replays that ran.
    pub runs: Vec<FloorRun>,
    /// The fastest replay's units/s.
    pub floor_units_per_second: f64,
    /// Adapter units/s ÷ floor units/s.
    pub floor_ratio: f64,
    /// The pgbench script, kept for reruns (`pgbench -n -M prepared -f FILE …`).
    pub pgbench_script: Option<PathBuf>,
    /// Why a replay did not run (no pgbench on the PATH, …).
    pub notes: Vec<String>,
}

/// The SQL backends the floor supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sql {
    Postgres,
    Mysql,
}

fn backend_of(url: &str) -> Result<Sql> {
    let scheme = url.split(':').next().unwrap_or_default();
    match scheme {
        "postgres" | "postgresql" => Ok(Sql::Postgres),
        "mysql" | "mariadb" => Ok(Sql::Mysql),
        _ => Err(StoreError::unsupported(format!(
            "--floor is built for PostgreSQL and MySQL/MariaDB URLs, not {scheme}://"
        ))),
    }
}

/// Checks that `url` is a backend with a floor, before the adapter run spends its time.
pub fn check_supported(url: &str) -> Result<()> {
    backend_of(url).map(|_| ())
}

async fn open_recorded(url: &str, recorder: Arc<Recorder>) -> Result<durastore_api::Stores> {
    let wrap = move |d: Arc<dyn SqlDriver>| -> Arc<dyn SqlDriver> {
        Arc::new(RecordingDriver::new(d, recorder.clone()))
    };
    match backend_of(url)? {
        Sql::Postgres => durastore_postgres::open_wrapped(url, &wrap).await,
        Sql::Mysql => durastore_mysql::open_wrapped(url, &wrap).await,
    }
}

async fn connect_raw(url: &str) -> Result<Arc<dyn SqlDriver>> {
    Ok(match backend_of(url)? {
        Sql::Postgres => Arc::new(
            durastore_postgres::connect(&durastore_postgres::PostgresConfig::from_url(url)?)
                .await?,
        ),
        Sql::Mysql => {
            Arc::new(durastore_mysql::connect(&durastore_mysql::MysqlConfig::from_url(url)?).await?)
        }
    })
}

/// Records the workload's statements and derives the template (see the module docs).
pub async fn capture(url: &str, opts: &BenchOptions) -> Result<Template> {
    let recorder = Arc::new(Recorder::default());
    let stores = open_recorded(url, recorder.clone()).await?;
    let units = Arc::new(Mutex::new(Vec::new()));
    let (rec, sink) = (recorder.clone(), units.clone());
    let mut after = move || {
        let unit = rec.take();
        sink.lock().unwrap_or_else(|p| p.into_inner()).push(unit);
    };
    // Unit 1 warms caches and may differ (first use of a queue); units 2 and 3 make the
    // template; unit 4 checks it.
    let r = run_units_one_by_one(&stores, opts, 4, &mut after).await;
    let _ = stores.backend.close().await;
    r?;
    let units = std::mem::take(&mut *units.lock().unwrap_or_else(|p| p.into_inner()));
    let [_setup, _warm, a, b, check] = <[_; 5]>::try_from(units)
        .map_err(|u: Vec<_>| StoreError::internal(format!("recorded {} groups, not 5", u.len())))?;
    let template = Template::derive(&a, &b)?;
    if !template.same_shape(&check) {
        return Err(StoreError::internal(
            "a third recorded unit sent different statements; the workload is not regular enough \
             for a floor",
        ));
    }
    Ok(template)
}

/// Replays `template` through the backend's own driver at `concurrency` for `duration`.
pub async fn driver_loop(
    url: &str,
    template: Arc<Template>,
    concurrency: u32,
    duration: Duration,
) -> Result<FloorRun> {
    let driver = connect_raw(url).await?;
    // Iterations start at a random point so a second floor run on the same database does not
    // meet the rows of the first.
    let base = 1 + u64::from_le_bytes(
        uuid::Uuid::new_v4().as_bytes()[..8]
            .try_into()
            .unwrap_or_default(),
    ) % (MAX_ITERATION / 2);
    let next = Arc::new(AtomicU64::new(base));
    let (done, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let deadline = started + duration;
    let mut handles = Vec::new();
    for _ in 0..concurrency {
        let (driver, template) = (driver.clone(), template.clone());
        let (next, done, failed, stop) = (next.clone(), done.clone(), failed.clone(), stop.clone());
        handles.push(tokio::spawn(async move {
            let mut first_error = None;
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                let it = next.fetch_add(1, Ordering::Relaxed);
                match template.run(driver.as_ref(), it).await {
                    Ok(()) => done.fetch_add(1, Ordering::Relaxed),
                    Err(e) => {
                        first_error.get_or_insert(e);
                        failed.fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
            first_error
        }));
    }
    let mut first_error = None;
    for h in handles {
        match h.await {
            Ok(e) => first_error = first_error.or(e),
            Err(e) => {
                stop.store(true, Ordering::Relaxed);
                return Err(StoreError::internal(format!("floor worker failed: {e}")));
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let _ = driver.close().await;
    let (units, failed) = (done.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    if let Some(e) = first_error {
        // A replay that fails is not a floor; say why rather than report a rate.
        if failed * 100 > units.max(1) {
            return Err(StoreError::internal(format!(
                "the floor replay failed {failed} of {} units; first error: {e}",
                units + failed
            )));
        }
        tracing::warn!(failed, "floor replay: some units failed: {e}");
    }
    Ok(FloorRun {
        method: "driver_loop".into(),
        units,
        failed_units: failed,
        elapsed_seconds: elapsed,
        units_per_second: units as f64 / elapsed.max(1e-9),
    })
}

/// Runs the template as a pgbench script at `concurrency` for `duration` (rounded up to whole
/// seconds). `Ok(None)` when pgbench is not installed.
pub async fn pgbench(
    url: &str,
    template: &Template,
    concurrency: u32,
    duration: Duration,
) -> Result<Option<(FloorRun, PathBuf)>> {
    let cfg = durastore_postgres::PostgresConfig::from_url(url)?;
    let script = std::env::temp_dir().join(format!(
        "durastore-floor-{}.pgbench.sql",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&script, template.pgbench_script())
        .map_err(|e| StoreError::internal(format!("cannot write {}: {e}", script.display())))?;
    let secs = duration.as_secs_f64().ceil().max(1.0) as u64;
    let threads =
        concurrency.min(std::thread::available_parallelism().map_or(1, |n| n.get()) as u32);
    let mut cmd = tokio::process::Command::new("pgbench");
    cmd.args(["-n", "-M", "prepared", "-f"])
        .arg(&script)
        .args([
            "-c",
            &concurrency.to_string(),
            "-j",
            &threads.max(1).to_string(),
        ])
        .args(["-T", &secs.to_string()])
        .env(
            "PGHOST",
            cfg.socket_dir
                .as_ref()
                .map_or_else(|| cfg.host.clone(), |d| d.display().to_string()),
        )
        .env("PGPORT", cfg.port.to_string())
        .env("PGUSER", &cfg.user)
        .env("PGDATABASE", &cfg.database)
        .env("PGAPPNAME", "durastore-floor")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.env("PGSSLMODE", cfg.ssl_mode.as_str());
    if let Some(p) = &cfg.password {
        cmd.env("PGPASSWORD", p);
    }
    for (var, path) in [
        ("PGSSLROOTCERT", &cfg.ssl_root_cert),
        ("PGSSLCERT", &cfg.ssl_cert),
        ("PGSSLKEY", &cfg.ssl_key),
    ] {
        if let Some(path) = path {
            cmd.env(var, path);
        }
    }
    let out = match cmd.output().await {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::internal(format!("cannot run pgbench: {e}"))),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let processed = parse_after(&stdout, "number of transactions actually processed:");
    let failed = parse_after(&stdout, "number of failed transactions:").unwrap_or(0.0);
    let tps = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("tps ="))
        .and_then(|l| parse_after(l, "tps ="));
    match (out.status.success(), processed, tps) {
        (true, Some(units), Some(tps)) => Ok(Some((
            FloorRun {
                method: "pgbench".into(),
                units: units as u64,
                failed_units: failed as u64,
                elapsed_seconds: secs as f64,
                units_per_second: tps,
            },
            script,
        ))),
        _ => Err(StoreError::internal(format!(
            "pgbench failed ({}); script {}; last output: {}",
            out.status,
            script.display(),
            tail(&format!("{stdout}\n{stderr}"), 12)
        ))),
    }
}

fn parse_after(text: &str, label: &str) -> Option<f64> {
    let i = text.find(label)? + label.len();
    text[i..]
        .split_whitespace()
        .next()?
        .split('/')
        .next()?
        .parse()
        .ok()
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..].join(" | ")
}

/// Captures the template and runs every replay the backend has; `adapter_units_per_second`
/// comes from the adapter run just before.
pub async fn measure(
    url: &str,
    opts: &BenchOptions,
    adapter_units_per_second: f64,
) -> Result<FloorReport> {
    let template = Arc::new(capture(url, opts).await?);
    let mut runs = vec![driver_loop(url, template.clone(), opts.concurrency, opts.duration).await?];
    let mut notes = Vec::new();
    let mut script = None;
    if backend_of(url)? == Sql::Postgres {
        match pgbench(url, &template, opts.concurrency, opts.duration).await? {
            Some((run, path)) => {
                runs.push(run);
                script = Some(path);
            }
            None => notes.push("pgbench is not on the PATH; only the driver loop ran".into()),
        }
    }
    let floor = runs
        .iter()
        .map(|r| r.units_per_second)
        .fold(0.0_f64, f64::max);
    Ok(FloorReport {
        transactions_per_unit: template.txs.len(),
        statements_per_unit: template.statements(),
        runs,
        floor_units_per_second: floor,
        floor_ratio: if floor > 0.0 {
            adapter_units_per_second / floor
        } else {
            0.0
        },
        pgbench_script: script,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgbench_output_parsing() {
        let out = "transaction type: x.sql\nnumber of transactions actually processed: 1234\n\
                   number of failed transactions: 0 (0.000%)\nlatency average = 3.1 ms\n\
                   tps = 411.3 (without initial connection time)\n";
        assert_eq!(
            parse_after(out, "number of transactions actually processed:"),
            Some(1234.0)
        );
        let tps = out.lines().find(|l| l.starts_with("tps =")).unwrap_or("");
        assert_eq!(parse_after(tps, "tps ="), Some(411.3));
        assert_eq!(parse_after("x", "tps ="), None);
        assert_eq!(tail("a\n\nb\nc\n", 2), "b | c");
    }

    #[test]
    fn only_sql_servers_have_a_floor() {
        assert!(check_supported("postgres://u@h/db").is_ok());
        assert!(check_supported("mariadb://u@h/db").is_ok());
        let e = check_supported("sqlite:///tmp/x.db").unwrap_err();
        assert_eq!(e.kind(), durastore_api::ErrorKind::Unsupported);
    }
}
