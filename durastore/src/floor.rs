//! `durastore bench --floor`: what the database itself does with the adapter's requests.
//!
//! After an adapter run, the same workload runs one unit at a time through stores that record
//! every request they send: SQL statements in their transactions
//! ([`durastore_sql::record`]), Cassandra statements and batches
//! ([`durastore_cassandra::floor`]), or HTTP requests to a search server
//! ([`durastore_elastic::floor`]). Two recorded units give a template: the same requests, with
//! ids and task ids rewritten per iteration ([`durastore_api::replay`]). As in the adapter run,
//! where every worker has task queues of its own and the workflows spread over the shards, one
//! template is recorded per floor worker (up to `--shards` of them), each on a shard and task
//! queues of its own: the floor's workers contend for rows no more than the adapter's. A
//! workload that cycles through requests (`visibility-list` goes round four queries) gets one
//! template per step of the cycle. The templates then run, at the adapter's concurrency and for
//! the same time:
//!
//! - PostgreSQL, MySQL/MariaDB: through the backend's own driver and pool, without the store
//!   logic (`driver_loop`: prepared statements, as the adapter sends them), and through
//!   `pgbench -M prepared` (PostgreSQL, when `pgbench` is on the PATH);
//! - Cassandra/ScyllaDB: straight through the scylla driver (`driver_loop`): the same prepared
//!   statements and logged conditional batches at the same consistency levels;
//! - Elasticsearch/OpenSearch (visibility workloads, with `--visibility-url`): the same
//!   document writes and search requests through the same HTTP client (`http_loop`).
//!
//! A round is one adapter run and the replays, the adapter first in odd rounds and last in even
//! ones. Several rounds alternate adapter and floor, so a drift of the machine (disk flush
//! latency, a neighbour's load, a growing database, a server warming up) touches both sides.
//! Per replay method, the ratio is the median over the rounds of adapter units/s ÷ that
//! method's units/s in the same round; `floor_ratio` is the lowest of them, against the replay
//! that beats the adapter most. The method is chosen over all rounds, not per round: the
//! faster of two noisy runs of equally fast replays is faster than either replay is, so a
//! per-round maximum would move the floor up by the noise alone. Nothing of the store logic
//! runs in the floor: no request checks, no row mapping, no query translation, no condition
//! evaluation beyond "did it apply", no metrics layer.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use durastore_api::replay::{Log, random_first_iteration};
use durastore_api::{Result, ShardId, StoreError, Stores};
use durastore_cassandra::floor::{CqlTemplate, Recorder as CqlRecorder, Replayer as CqlReplayer};
use durastore_elastic::floor::{HttpTemplate, Recorder as HttpRecorder, Replayer as HttpReplayer};
use durastore_sql::SqlDriver;
use durastore_sql::floor::Template;
use durastore_sql::record::{Recorder, RecordingDriver};
use serde::Serialize;

use crate::bench::{BenchOptions, CpuClock, cpu_ms_per_unit, run_units_one_by_one};

/// One replay of the templates.
#[derive(Debug, Clone, Serialize)]
pub struct FloorRun {
    /// The round it belongs to (1-based).
    pub round: u32,
    /// `driver_loop`, `pgbench` or `http_loop`.
    pub method: String,
    /// Units completed.
    pub units: u64,
    /// Units that ended with an error.
    pub failed_units: u64,
    /// Measured wall time.
    pub elapsed_seconds: f64,
    /// `units / elapsed_seconds`.
    pub units_per_second: f64,
    /// The replaying client's CPU per unit in milliseconds (this process's; pgbench's for
    /// pgbench), where the OS tells it.
    pub client_cpu_ms: Option<f64>,
}

/// One adapter run and the replays beside it.
#[derive(Debug, Clone, Serialize)]
pub struct FloorRound {
    /// 1-based.
    pub round: u32,
    /// The adapter run's units/s.
    pub adapter_units_per_second: f64,
    /// The adapter run's client CPU per unit in milliseconds, where the OS tells it.
    pub adapter_client_cpu_ms: Option<f64>,
    /// The round's run of the floor method ([`FloorReport::floor_method`]).
    pub floor_units_per_second: f64,
    /// `adapter_units_per_second / floor_units_per_second`.
    pub ratio: f64,
    /// The machine's 1-minute load average at the end of the round.
    pub load_average_1m: Option<f64>,
}

/// The floor's numbers, part of the `--json` report as `floor`.
#[derive(Debug, Clone, Serialize)]
pub struct FloorReport {
    /// Where the requests replayed: `postgres`, `mysql`, `cassandra` or `search`.
    pub target: String,
    /// Round trips per unit: SQL transactions (and autocommit statements), Cassandra requests
    /// (statements or batches), HTTP requests.
    pub transactions_per_unit: usize,
    /// Statements per unit (a batch counts its statements; HTTP: requests).
    pub statements_per_unit: usize,
    /// Templates: floor workers with a shard and task queues of their own.
    pub templates: usize,
    /// Steps of the workload's cycle, each with a template per worker (1 but for
    /// `visibility-list`).
    pub cycle: usize,
    /// Every replay that ran, in order.
    pub runs: Vec<FloorRun>,
    /// Every round, in order.
    pub rounds: Vec<FloorRound>,
    /// Per replay method, the median over the rounds of adapter units/s ÷ that method's
    /// units/s in the same round.
    pub ratio_by_method: BTreeMap<String, f64>,
    /// The method the adapter compares worst against (the lowest of `ratio_by_method`): the
    /// floor.
    pub floor_method: String,
    /// The median of the floor method's units/s over the rounds.
    pub floor_units_per_second: f64,
    /// The median of the rounds' adapter rates.
    pub adapter_units_per_second: f64,
    /// `ratio_by_method[floor_method]`: the median over the rounds of adapter ÷ floor.
    pub floor_ratio: f64,
    /// The pgbench script, kept for reruns (`pgbench -n -M prepared -f FILE …`).
    pub pgbench_script: Option<PathBuf>,
    /// Why a replay did not run (no pgbench on the PATH, …).
    pub notes: Vec<String>,
}

/// The servers the floor replays on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Postgres,
    Mysql,
    Cassandra,
    /// Elasticsearch or OpenSearch (visibility only).
    Search,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Postgres => "postgres",
            Target::Mysql => "mysql",
            Target::Cassandra => "cassandra",
            Target::Search => "search",
        }
    }
}

fn target_of(url: &str) -> Result<Target> {
    let scheme = url.split(':').next().unwrap_or_default();
    match scheme {
        "postgres" | "postgresql" => Ok(Target::Postgres),
        "mysql" | "mariadb" => Ok(Target::Mysql),
        "cassandra" | "scylla" => Ok(Target::Cassandra),
        "elasticsearch" | "opensearch" => Ok(Target::Search),
        _ => Err(StoreError::unsupported(format!(
            "--floor is built for PostgreSQL, MySQL/MariaDB, Cassandra/ScyllaDB and (visibility \
             workloads) Elasticsearch/OpenSearch URLs, not {scheme}://"
        ))),
    }
}

/// Checks that `url` is a backend with a floor, before the adapter run spends its time.
pub fn check_supported(url: &str) -> Result<()> {
    target_of(url).map(|_| ())
}

async fn connect_raw(url: &str) -> Result<Arc<dyn SqlDriver>> {
    Ok(match target_of(url)? {
        Target::Postgres => Arc::new(
            durastore_postgres::connect(&durastore_postgres::PostgresConfig::from_url(url)?)
                .await?,
        ),
        Target::Mysql => {
            Arc::new(durastore_mysql::connect(&durastore_mysql::MysqlConfig::from_url(url)?).await?)
        }
        other => {
            return Err(StoreError::internal(format!(
                "{} is not a SQL backend",
                other.name()
            )));
        }
    })
}

/// The templates of one round, `slots × cycle` of them: template `slot * cycle + step`.
#[derive(Debug, Clone)]
pub enum Templates {
    /// SQL statements in transactions.
    Sql(Vec<Template>),
    /// Cassandra statements and batches.
    Cql(Vec<CqlTemplate>),
    /// HTTP requests to a search server.
    Http(Vec<HttpTemplate>),
}

/// What one capture produced.
#[derive(Debug, Clone)]
pub struct Captured {
    /// The templates.
    pub templates: Templates,
    /// Floor workers with a shard and task queues of their own.
    pub slots: usize,
    /// Steps of the workload's cycle.
    pub cycle: usize,
}

impl Captured {
    /// Which template worker `worker` runs for its `n`-th unit.
    pub fn index(&self, worker: usize, n: u64) -> usize {
        (worker % self.slots) * self.cycle + (n % self.cycle as u64) as usize
    }

    /// (round trips, statements) per unit, from the first template.
    fn shape(&self) -> (usize, usize) {
        match &self.templates {
            Templates::Sql(t) => t.first().map_or((0, 0), |t| (t.txs.len(), t.statements())),
            Templates::Cql(t) => t.first().map_or((0, 0), |t| (t.requests(), t.statements())),
            Templates::Http(t) => t.first().map_or((0, 0), |t| (t.requests(), t.requests())),
        }
    }
}

/// Runs `3 * cycle + 1` units of the workload one by one on `shard` through `stores`, taking
/// the requests each unit recorded in `log`, and derives one template per step of the cycle:
/// the first `cycle` units warm caches (first use of a queue, of a prepared statement), the
/// next two cycles make the templates, the last unit checks the first one.
async fn capture_slot<U: Send + 'static, T>(
    stores: &Stores,
    opts: &BenchOptions,
    shard: ShardId,
    cycle: usize,
    log: Arc<Log<U>>,
    derive: impl Fn(&[U], &[U]) -> Result<T>,
    same_shape: impl Fn(&T, &[U]) -> bool,
) -> Result<Vec<T>> {
    let units = Arc::new(Mutex::new(Vec::new()));
    let sink = units.clone();
    let mut after = move || {
        let unit = log.take();
        sink.lock().unwrap_or_else(|p| p.into_inner()).push(unit);
    };
    let count = 3 * cycle + 1;
    run_units_one_by_one(stores, opts, shard, count, &mut after).await?;
    let units = std::mem::take(&mut *units.lock().unwrap_or_else(|p| p.into_inner()));
    // Group 0 is the setup (shard acquisition, queue creation).
    if units.len() != count + 1 {
        return Err(StoreError::internal(format!(
            "recorded {} groups, not {}",
            units.len(),
            count + 1
        )));
    }
    let first = 1 + cycle;
    let mut templates = Vec::with_capacity(cycle);
    for step in 0..cycle {
        templates.push(derive(&units[first + step], &units[first + cycle + step])?);
    }
    if !same_shape(&templates[0], &units[count]) {
        return Err(StoreError::internal(
            "a third recorded unit sent different requests; the workload is not regular enough \
             for a floor",
        ));
    }
    Ok(templates)
}

/// [`capture_slot`] for floor workers `0..slots` in turn (worker `k` on shard `k + 1`): the
/// templates, slot by slot.
async fn capture_slots<U: Send + 'static, T>(
    stores: &Stores,
    opts: &BenchOptions,
    slots: usize,
    cycle: usize,
    log: Arc<Log<U>>,
    derive: impl Fn(&[U], &[U]) -> Result<T>,
    same_shape: impl Fn(&T, &[U]) -> bool,
) -> Result<Vec<T>> {
    let mut all = Vec::with_capacity(slots * cycle);
    for k in 0..slots {
        let shard = ShardId(k as i32 + 1);
        all.extend(
            capture_slot(
                stores,
                opts,
                shard,
                cycle,
                log.clone(),
                &derive,
                &same_shape,
            )
            .await?,
        );
    }
    Ok(all)
}

/// Records the workload's requests and derives the templates (see the module docs): floor
/// worker `k` gets shard `k + 1` and task queues of its own. `stores` are the bench's own
/// (the search floor records only their visibility calls); the SQL and Cassandra floors
/// open recorded stores of their own at `url`.
pub async fn capture(url: &str, stores: &Stores, opts: &BenchOptions) -> Result<Captured> {
    let slots = opts.concurrency.min(opts.shards).max(1) as usize;
    let cycle = opts.workload.cycle();
    let templates = match target_of(url)? {
        target @ (Target::Postgres | Target::Mysql) => {
            let recorder = Arc::new(Recorder::default());
            let r = recorder.clone();
            let wrap = move |d: Arc<dyn SqlDriver>| -> Arc<dyn SqlDriver> {
                Arc::new(RecordingDriver::new(d, r.clone()))
            };
            let recorded = if target == Target::Postgres {
                durastore_postgres::open_wrapped(url, &wrap).await?
            } else {
                durastore_mysql::open_wrapped(url, &wrap).await?
            };
            let all = capture_slots(
                &recorded,
                opts,
                slots,
                cycle,
                recorder,
                Template::derive,
                Template::same_shape,
            )
            .await;
            let _ = recorded.backend.close().await;
            Templates::Sql(all?)
        }
        Target::Cassandra => {
            let recorder = Arc::new(CqlRecorder::default());
            let recorded = durastore_cassandra::open_recorded(url, recorder.clone()).await?;
            let all = capture_slots(
                &recorded,
                opts,
                slots,
                cycle,
                recorder,
                CqlTemplate::derive,
                CqlTemplate::same_shape,
            )
            .await;
            let _ = recorded.backend.close().await;
            Templates::Cql(all?)
        }
        Target::Search => {
            if !opts.workload.is_visibility_only() {
                return Err(StoreError::unsupported(
                    "the search floor replays visibility requests: use it with --workload \
                     visibility-write, visibility-list or visibility-count-group",
                ));
            }
            let recorder = Arc::new(HttpRecorder::default());
            let vis = durastore_elastic::open_recorded(url, recorder.clone()).await?;
            let recorded = Stores {
                visibility: vis.visibility,
                ..stores.clone()
            };
            Templates::Http(
                capture_slots(
                    &recorded,
                    opts,
                    slots,
                    cycle,
                    recorder,
                    HttpTemplate::derive,
                    HttpTemplate::same_shape,
                )
                .await?,
            )
        }
    };
    Ok(Captured {
        templates,
        slots,
        cycle,
    })
}

/// A connection to replay templates on.
enum Replayer {
    Sql(Arc<dyn SqlDriver>, Vec<Template>),
    Cql(Box<CqlReplayer>),
    Http(HttpReplayer),
}

impl Replayer {
    async fn new(url: &str, templates: &Templates) -> Result<Self> {
        Ok(match templates {
            Templates::Sql(t) => Replayer::Sql(connect_raw(url).await?, t.clone()),
            Templates::Cql(t) => Replayer::Cql(Box::new(CqlReplayer::new(url, t.clone()).await?)),
            Templates::Http(t) => Replayer::Http(HttpReplayer::new(url, t.clone())?),
        })
    }

    fn method(&self) -> &'static str {
        match self {
            Replayer::Sql(..) | Replayer::Cql(_) => "driver_loop",
            Replayer::Http(_) => "http_loop",
        }
    }

    async fn run(&self, template: usize, it: u64) -> Result<()> {
        match self {
            Replayer::Sql(driver, t) => t[template].run(driver.as_ref(), it).await,
            Replayer::Cql(r) => r.run(template, it).await,
            Replayer::Http(r) => r.run(template, it).await,
        }
    }

    async fn close(&self) {
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

/// The rounds of one `--floor` measurement: per round an adapter run and [`Rounds::replay`] (in
/// either order), then [`Rounds::close_round`]; at the end [`Rounds::finish`].
#[derive(Debug, Default)]
pub struct Rounds {
    runs: Vec<FloorRun>,
    rounds: Vec<FloorRound>,
    /// Where the requests replay.
    target: String,
    /// Round trips and statements per unit, templates, cycle.
    shape: (usize, usize, usize, usize),
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
        if target_of(url)? != Target::Postgres {
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

    /// Captures fresh templates (an adapter run moves the shards' leases on) and runs every
    /// replay the backend has.
    pub async fn replay(
        &mut self,
        url: &str,
        stores: &Stores,
        opts: &BenchOptions,
    ) -> Result<Vec<FloorRun>> {
        let captured = capture(url, stores, opts).await?;
        let (trips, stmts) = captured.shape();
        self.shape = (trips, stmts, captured.slots, captured.cycle);
        self.target = target_of(url)?.name().to_string();
        self.settle(url).await?;
        let mut runs = vec![driver_loop(url, &captured, opts.concurrency, opts.duration).await?];
        let pgbench_templates = match &captured.templates {
            Templates::Sql(t) if target_of(url)? == Target::Postgres => Some(t),
            _ => None,
        };
        if pgbench_templates.is_some() && captured.cycle > 1 {
            self.note(
                "pgbench replays one template per client, not a cycle; only the driver loop ran"
                    .into(),
            );
        } else if let Some(templates) = pgbench_templates {
            self.settle(url).await?;
            match pgbench(url, templates, opts.concurrency, opts.duration).await? {
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
        Ok(runs)
    }

    /// Ends the round with its replays (from [`Rounds::replay`]) and its adapter run (made
    /// just before or just after them).
    pub fn close_round(
        &mut self,
        adapter_units_per_second: f64,
        adapter_client_cpu_ms: Option<f64>,
        mut runs: Vec<FloorRun>,
    ) {
        let round = self.rounds.len() as u32 + 1;
        for r in &mut runs {
            r.round = round;
        }
        // The floor method is known at the end; `finish` fills in the round's floor.
        self.rounds.push(FloorRound {
            round,
            adapter_units_per_second,
            adapter_client_cpu_ms,
            floor_units_per_second: 0.0,
            ratio: 0.0,
            load_average_1m: crate::bench::Machine::this().load_average_1m,
        });
        self.runs.extend(runs);
    }

    /// The report: medians over the rounds, against the floor method.
    pub fn finish(mut self) -> FloorReport {
        let (transactions_per_unit, statements_per_unit, templates, cycle) = self.shape;
        let run_of = |runs: &[FloorRun], round: u32, method: &str| {
            runs.iter()
                .find(|r| r.round == round && r.method == method)
                .map(|r| r.units_per_second)
        };
        let mut ratio_by_method = BTreeMap::new();
        for method in self.runs.iter().map(|r| r.method.clone()) {
            if ratio_by_method.contains_key(&method) {
                continue;
            }
            let ratios = self.rounds.iter().filter_map(|rd| {
                run_of(&self.runs, rd.round, &method)
                    .map(|floor| ratio(rd.adapter_units_per_second, floor))
            });
            ratio_by_method.insert(method.clone(), median(ratios));
        }
        let floor_method = ratio_by_method
            .iter()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map(|(m, _)| m.clone())
            .unwrap_or_default();
        for rd in &mut self.rounds {
            rd.floor_units_per_second = run_of(&self.runs, rd.round, &floor_method).unwrap_or(0.0);
            rd.ratio = ratio(rd.adapter_units_per_second, rd.floor_units_per_second);
        }
        FloorReport {
            target: self.target,
            transactions_per_unit,
            statements_per_unit,
            templates,
            cycle,
            floor_ratio: ratio_by_method.get(&floor_method).copied().unwrap_or(0.0),
            floor_units_per_second: median(
                self.runs
                    .iter()
                    .filter(|r| r.method == floor_method)
                    .map(|r| r.units_per_second),
            ),
            adapter_units_per_second: median(
                self.rounds.iter().map(|r| r.adapter_units_per_second),
            ),
            ratio_by_method,
            floor_method,
            runs: self.runs,
            rounds: self.rounds,
            pgbench_script: self.script,
            notes: self.notes,
        }
    }
}

/// `adapter / floor`, 0 for a floor that did nothing.
fn ratio(adapter: f64, floor: f64) -> f64 {
    if floor > 0.0 { adapter / floor } else { 0.0 }
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

    fn run(method: &str, units_per_second: f64) -> FloorRun {
        FloorRun {
            round: 0,
            method: method.into(),
            units: 1,
            failed_units: 0,
            elapsed_seconds: 1.0,
            units_per_second,
            client_cpu_ms: None,
        }
    }

    #[test]
    fn floor_is_the_method_the_adapter_trails_most_over_all_rounds() {
        let mut rounds = Rounds::default();
        // Two equally fast replays whose noise alternates: a per-round maximum would make
        // every floor 110 (ratio 0.909); per method each ratio's median is 1.0 or 0.952.
        rounds.close_round(
            100.0,
            None,
            vec![run("driver_loop", 110.0), run("pgbench", 90.0)],
        );
        rounds.close_round(
            100.0,
            None,
            vec![run("driver_loop", 90.0), run("pgbench", 110.0)],
        );
        rounds.close_round(
            100.0,
            None,
            vec![run("driver_loop", 100.0), run("pgbench", 105.0)],
        );
        let report = rounds.finish();
        assert_eq!(report.floor_method, "pgbench");
        assert!((report.ratio_by_method["driver_loop"] - 1.0).abs() < 1e-9);
        assert!((report.floor_ratio - 100.0 / 105.0).abs() < 1e-9);
        assert_eq!(report.floor_units_per_second, 105.0);
        let per_round: Vec<f64> = report
            .rounds
            .iter()
            .map(|r| r.floor_units_per_second)
            .collect();
        assert_eq!(per_round, [90.0, 110.0, 105.0]);
        assert_eq!(report.runs.iter().filter(|r| r.round == 2).count(), 2);
    }

    #[test]
    fn a_round_without_the_floor_method_does_not_count_as_zero() {
        let mut rounds = Rounds::default();
        rounds.close_round(80.0, None, vec![run("driver_loop", 100.0)]);
        rounds.close_round(
            90.0,
            None,
            vec![run("driver_loop", 100.0), run("pgbench", 100.0)],
        );
        let report = rounds.finish();
        // pgbench ran in round 2 only: its median ratio is 0.9; the driver loop's 0.85.
        assert_eq!(report.floor_method, "driver_loop");
        assert!((report.floor_ratio - 0.85).abs() < 1e-9);
        assert!((report.ratio_by_method["pgbench"] - 0.9).abs() < 1e-9);
    }

    #[test]
    fn server_backends_have_a_floor() {
        assert!(check_supported("postgres://u@h/db").is_ok());
        assert!(check_supported("mariadb://u@h/db").is_ok());
        assert!(check_supported("cassandra://h/ks").is_ok());
        assert!(check_supported("opensearch://h:9200/idx").is_ok());
        let e = check_supported("sqlite:///tmp/x.db").unwrap_err();
        assert_eq!(e.kind(), durastore_api::ErrorKind::Unsupported);
    }
}
