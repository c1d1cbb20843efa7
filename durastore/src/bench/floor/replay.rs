//! Replaying the templates: through the backend's own client (`driver_loop`, `http_loop`)
//! and, on PostgreSQL, through pgbench.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use durastore_api::replay::random_first_iteration;
use durastore_api::{Result, StoreError};
use durastore_cassandra::floor::Replayer as CqlReplayer;
use durastore_elastic::floor::Replayer as HttpReplayer;
use durastore_sql::SqlDriver;
use durastore_sql::floor::Template;

use super::capture::{Captured, Templates};
use super::connect_raw;
use crate::bench::cpu::{CpuClock, cpu_ms_per_unit};
use crate::bench::report::FloorRun;

/// A connection to replay templates on.
pub(super) enum Replayer {
    Sql(Arc<dyn SqlDriver>, Vec<Template>),
    Cql(Box<CqlReplayer>),
    Http(HttpReplayer),
}

impl Replayer {
    pub(super) async fn new(url: &str, templates: &Templates) -> Result<Self> {
        Ok(match templates {
            Templates::Sql(t) => Replayer::Sql(connect_raw(url).await?, t.clone()),
            Templates::Cql(t) => Replayer::Cql(Box::new(CqlReplayer::new(url, t.clone()).await?)),
            Templates::Http(t) => Replayer::Http(HttpReplayer::new(url, t.clone())?),
        })
    }

    pub(super) fn method(&self) -> &'static str {
        match self {
            Replayer::Sql(..) | Replayer::Cql(_) => "driver_loop",
            Replayer::Http(_) => "http_loop",
        }
    }

    pub(super) async fn run(&self, template: usize, it: u64) -> Result<()> {
        match self {
            Replayer::Sql(driver, t) => t[template].run(driver.as_ref(), it).await,
            Replayer::Cql(r) => r.run(template, it).await,
            Replayer::Http(r) => r.run(template, it).await,
        }
    }

    pub(super) async fn close(&self) {
        if let Replayer::Sql(driver, _) = self {
            let _ = driver.close().await;
        }
    }
}

/// Replays the templates through the backend's own client at `concurrency` for `duration`:
/// worker `k` runs its slot's templates (`k % slots`), going round the cycle.
pub async fn driver_loop(
    url: &str,
    captured: &Captured,
    concurrency: u32,
    duration: Duration,
) -> Result<FloorRun> {
    if captured.slots == 0 || captured.cycle == 0 {
        return Err(StoreError::internal("no floor template to replay"));
    }
    let replayer = Arc::new(Replayer::new(url, &captured.templates).await?);
    let next = Arc::new(AtomicU64::new(random_first_iteration()));
    let (done, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let stop = Arc::new(AtomicBool::new(false));
    let cpu = CpuClock::start();
    let started = Instant::now();
    let deadline = started + duration;
    let mut handles = Vec::new();
    for k in 0..concurrency as usize {
        let (replayer, captured) = (replayer.clone(), captured.clone());
        let (next, done, failed, stop) = (next.clone(), done.clone(), failed.clone(), stop.clone());
        handles.push(tokio::spawn(async move {
            let mut first_error = None;
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                let it = next.fetch_add(1, Ordering::Relaxed);
                match replayer.run(captured.index(k, n), it).await {
                    Ok(()) => done.fetch_add(1, Ordering::Relaxed),
                    Err(e) => {
                        first_error.get_or_insert(e);
                        failed.fetch_add(1, Ordering::Relaxed)
                    }
                };
                n += 1;
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
    let cpu_used = cpu.elapsed();
    replayer.close().await;
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
        round: 0,
        method: replayer.method().into(),
        units,
        failed_units: failed,
        elapsed_seconds: elapsed,
        units_per_second: units as f64 / elapsed.max(1e-9),
        client_cpu_ms: cpu_ms_per_unit(cpu_used.map(|c| c.0), units),
    })
}

/// Runs the templates as one pgbench script at `concurrency` for `duration` (rounded up to
/// whole seconds): client `k` runs template `k % templates.len()`. `Ok(None)` when pgbench is
/// not installed.
pub async fn pgbench(
    url: &str,
    templates: &[Template],
    concurrency: u32,
    duration: Duration,
) -> Result<Option<(FloorRun, PathBuf)>> {
    let cfg = durastore_postgres::PostgresConfig::from_url(url)?;
    let script = std::env::temp_dir().join(format!(
        "durastore-floor-{}.pgbench.sql",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&script, durastore_sql::floor::pgbench_script(templates))
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
    let cpu = CpuClock::start();
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
                round: 0,
                method: "pgbench".into(),
                units: units as u64,
                failed_units: failed as u64,
                elapsed_seconds: secs as f64,
                units_per_second: tps,
                // pgbench's own CPU: the children's time grows when it is reaped.
                client_cpu_ms: cpu_ms_per_unit(cpu.elapsed().map(|c| c.1), units as u64),
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

pub(super) fn parse_after(text: &str, label: &str) -> Option<f64> {
    let i = text.find(label)? + label.len();
    text[i..]
        .split_whitespace()
        .next()?
        .split('/')
        .next()?
        .parse()
        .ok()
}

pub(super) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..].join(" | ")
}
