//! `durastore bench --floor`: what the database itself does with the adapter's statements.
//!
//! After an adapter run, the same workload runs one unit at a time through stores whose SQL
//! driver records every statement ([`durastore_sql::record`]). Two consecutive units give a
//! template ([`durastore_sql::floor::Template`]): the same statements in the same
//! transactions, with ids and task ids rewritten per iteration. As in the adapter run, where
//! every worker has task queues of its own and the workflows spread over the shards, one
//! template is recorded per floor worker (up to `--shards` of them), each on a shard and task
//! queues of its own: the floor's workers contend for rows no more than the adapter's. The
//! templates then run, at the adapter's concurrency and for the same time:
//!
//! - through the backend's own driver and pool, without the store logic (`driver_loop`:
//!   prepared statements, as the adapter sends them), on PostgreSQL and MySQL/MariaDB;
//! - through `pgbench -M prepared` (PostgreSQL, when `pgbench` is on the PATH).
//!
//! A round is one adapter run followed by the replays; the round's floor is the faster replay
//! and its ratio adapter units/s ÷ floor units/s. Several rounds alternate adapter and floor,
//! so a drift of the machine (disk flush latency, a neighbour's load, a growing database)
//! touches both sides, and `floor_ratio` is the median of the rounds' ratios. Nothing of the
//! store logic runs in the floor: no request checks, no row mapping, no condition evaluation,
//! no metrics layer.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use durastore_api::{Result, ShardId, StoreError};
use durastore_sql::SqlDriver;
use durastore_sql::floor::{MAX_ITERATION, Template};
use durastore_sql::record::{Recorder, RecordingDriver};
use serde::Serialize;

use crate::bench::{BenchOptions, run_units_one_by_one};

/// One replay of the templates.
#[derive(Debug, Clone, Serialize)]
pub struct FloorRun {
    /// The round it belongs to (1-based).
    pub round: u32,
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

/// One adapter run and the replays after it.
#[derive(Debug, Clone, Serialize)]
pub struct FloorRound {
    /// 1-based.
    pub round: u32,
    /// The adapter run's units/s.
    pub adapter_units_per_second: f64,
    /// The fastest replay of the round.
    pub floor_units_per_second: f64,
    /// `adapter_units_per_second / floor_units_per_second`.
    pub ratio: f64,
    /// The machine's 1-minute load average at the end of the round.
    pub load_average_1m: Option<f64>,
}

/// The floor's numbers, part of the `--json` report as `floor`.
#[derive(Debug, Clone, Serialize)]
pub struct FloorReport {
    /// Transactions (and autocommit statements) per unit.
    pub transactions_per_unit: usize,
    /// Statements per unit.
    pub statements_per_unit: usize,
    /// Templates: floor workers with a shard and task queues of their own.
    pub templates: usize,
    /// Every replay that ran, in order.
    pub runs: Vec<FloorRun>,
    /// Every round, in order.
    pub rounds: Vec<FloorRound>,
    /// The median of the rounds' floors.
    pub floor_units_per_second: f64,
    /// The median of the rounds' adapter rates.
    pub adapter_units_per_second: f64,
    /// The median of the rounds' ratios (adapter ÷ floor).
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

/// Records the workload's statements and derives one template per floor worker (see the
/// module docs): worker `k` gets shard `k + 1` and task queues of its own.
pub async fn capture(url: &str, opts: &BenchOptions) -> Result<Vec<Template>> {
    let slots = opts.concurrency.min(opts.shards).max(1);
    let recorder = Arc::new(Recorder::default());
    let stores = open_recorded(url, recorder.clone()).await?;
    let mut templates = Vec::with_capacity(slots as usize);
    let mut result = Ok(());
    for slot in 0..slots {
        match capture_one(&stores, &recorder, opts, ShardId(slot as i32 + 1)).await {
            Ok(t) => templates.push(t),
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    let _ = stores.backend.close().await;
    result.map(|()| templates)
}

async fn capture_one(
    stores: &durastore_api::Stores,
    recorder: &Arc<Recorder>,
    opts: &BenchOptions,
    shard: ShardId,
) -> Result<Template> {
    let units = Arc::new(Mutex::new(Vec::new()));
    let (rec, sink) = (recorder.clone(), units.clone());
    let mut after = move || {
        let unit = rec.take();
        sink.lock().unwrap_or_else(|p| p.into_inner()).push(unit);
    };
    // Unit 1 warms caches and may differ (first use of a queue); units 2 and 3 make the
    // template; unit 4 checks it.
    run_units_one_by_one(stores, opts, shard, 4, &mut after).await?;
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

/// Replays `templates` through the backend's own driver at `concurrency` for `duration`:
/// worker `k` runs template `k % templates.len()`.
pub async fn driver_loop(
    url: &str,
    templates: Arc<Vec<Template>>,
    concurrency: u32,
    duration: Duration,
) -> Result<FloorRun> {
    if templates.is_empty() {
        return Err(StoreError::internal("no floor template to replay"));
    }
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
    for k in 0..concurrency as usize {
        let (driver, templates) = (driver.clone(), templates.clone());
        let (next, done, failed, stop) = (next.clone(), done.clone(), failed.clone(), stop.clone());
        handles.push(tokio::spawn(async move {
            let mut first_error = None;
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                let it = next.fetch_add(1, Ordering::Relaxed);
                let template = &templates[k % templates.len()];
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
        round: 0,
        method: "driver_loop".into(),
        units,
        failed_units: failed,
        elapsed_seconds: elapsed,
        units_per_second: units as f64 / elapsed.max(1e-9),
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

/// The median of `values` (the mean of the middle two for an even count); 0 when empty.
fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.into_iter().collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// The rounds of one `--floor` measurement: call [`Rounds::measure`] right after each adapter
/// run, then [`Rounds::finish`].
#[derive(Debug, Default)]
pub struct Rounds {
    runs: Vec<FloorRun>,
    rounds: Vec<FloorRound>,
    /// Transactions and statements per unit, templates.
    shape: (usize, usize, usize),
    script: Option<PathBuf>,
    notes: Vec<String>,
}

impl Rounds {
    /// Brings the database to the same starting point before every measured run: on
    /// PostgreSQL a `CHECKPOINT`. After a checkpoint the first change of each page writes the
    /// whole page to the WAL, which on a small machine slows a run by up to half until the hot
    /// pages have been written once; whichever run follows a checkpoint pays for it. So every
    /// run (adapter and replays) starts right after one, and none inherits the other's phase.
    /// Without the privilege (`pg_checkpoint`, PostgreSQL 15+, or superuser) the runs go on
    /// and the report says so.
    pub async fn settle(&mut self, url: &str) -> Result<()> {
        if backend_of(url)? != Sql::Postgres {
            return Ok(());
        }
        let driver = connect_raw(url).await?;
        let r = driver.execute("CHECKPOINT", &[]).await;
        let _ = driver.close().await;
        if let Err(e) = r {
            self.note(format!(
                "runs did not start after a CHECKPOINT ({e}); grant pg_checkpoint to the user for \
                 steadier ratios"
            ));
        }
        Ok(())
    }

    /// Adds `note` to the report (once, however many rounds meet it) and logs it.
    fn note(&mut self, note: String) {
        if !self.notes.contains(&note) {
            tracing::warn!("{note}");
            self.notes.push(note);
        }
    }

    /// Captures fresh templates (the adapter run moved the shards' leases on) and runs every
    /// replay the backend has; `adapter_units_per_second` comes from the adapter run just
    /// before.
    pub async fn measure(
        &mut self,
        url: &str,
        opts: &BenchOptions,
        adapter_units_per_second: f64,
    ) -> Result<()> {
        let round = self.rounds.len() as u32 + 1;
        let templates = Arc::new(capture(url, opts).await?);
        if let Some(t) = templates.first() {
            self.shape = (t.txs.len(), t.statements(), templates.len());
        }
        self.settle(url).await?;
        let mut runs =
            vec![driver_loop(url, templates.clone(), opts.concurrency, opts.duration).await?];
        if backend_of(url)? == Sql::Postgres {
            self.settle(url).await?;
            match pgbench(url, &templates, opts.concurrency, opts.duration).await? {
                Some((run, path)) => {
                    runs.push(run);
                    // Keep the last round's script only.
                    if let Some(old) = self.script.replace(path) {
                        let _ = std::fs::remove_file(old);
                    }
                }
                None => self.note("pgbench is not on the PATH; only the driver loop ran".into()),
            }
        }
        for r in &mut runs {
            r.round = round;
        }
        let floor = runs
            .iter()
            .map(|r| r.units_per_second)
            .fold(0.0_f64, f64::max);
        self.rounds.push(FloorRound {
            round,
            adapter_units_per_second,
            floor_units_per_second: floor,
            ratio: if floor > 0.0 {
                adapter_units_per_second / floor
            } else {
                0.0
            },
            load_average_1m: crate::bench::Machine::this().load_average_1m,
        });
        self.runs.extend(runs);
        Ok(())
    }

    /// The report: medians over the rounds.
    pub fn finish(self) -> FloorReport {
        let (transactions_per_unit, statements_per_unit, templates) = self.shape;
        FloorReport {
            transactions_per_unit,
            statements_per_unit,
            templates,
            floor_units_per_second: median(self.rounds.iter().map(|r| r.floor_units_per_second)),
            adapter_units_per_second: median(
                self.rounds.iter().map(|r| r.adapter_units_per_second),
            ),
            floor_ratio: median(self.rounds.iter().map(|r| r.ratio)),
            runs: self.runs,
            rounds: self.rounds,
            pgbench_script: self.script,
            notes: self.notes,
        }
    }
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
    fn medians() {
        assert_eq!(median([]), 0.0);
        assert_eq!(median([3.0]), 3.0);
        assert_eq!(median([0.9, 0.5, 1.2]), 0.9);
        assert_eq!(median([4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn only_sql_servers_have_a_floor() {
        assert!(check_supported("postgres://u@h/db").is_ok());
        assert!(check_supported("mariadb://u@h/db").is_ok());
        let e = check_supported("sqlite:///tmp/x.db").unwrap_err();
        assert_eq!(e.kind(), durastore_api::ErrorKind::Unsupported);
    }
}
