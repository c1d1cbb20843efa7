//! `durastore bench`: what one workflow costs a backend, measured through the store traits.
//!
//! # Workloads
//!
//! `lifecycle` (the default) replays the store calls a Temporal history service, its queue
//! processors and matching make for a simple workflow with one activity, in their order:
//!
//! | step | calls |
//! | --- | --- |
//! | start | `create_workflow_execution` (BrandNew; first history node on a new branch; a transfer and a visibility task), `record_started` |
//! | workflow task | transfer queue `get_history_tasks`, matching `create_tasks` / `get_tasks` / `complete_tasks_less_than`, `update_workflow_execution` (task started, one event) |
//! | schedule activity | `get_workflow_execution` (a mutable-state read, as after a cache miss), `update_workflow_execution` (two events, activity info, transfer task) |
//! | activity | transfer queue read, matching create/get/complete, `update_workflow_execution` (activity started) |
//! | activity completed | `update_workflow_execution` (three events, activity info deleted, transfer task), then a workflow task as above |
//! | close | `update_workflow_execution` (two events, Completed, transfer and visibility tasks), `record_closed`, `read_history_branch` (the whole history), `range_complete_history_tasks` for the run's transfer and visibility tasks |
//!
//! That is 7 state transitions (the create and 6 updates) and 25 store calls (23 without
//! visibility). History nodes travel inside the create/update requests, as Temporal's
//! persistence manager passes them, so their cost is part of those operations. Single-operation
//! workloads isolate one call each: `create-execution` (a start without the rest),
//! `update-execution` (a bare mutable-state CAS write: no events, tasks or map rows),
//! `get-execution`, `append-history` (one node per call), `create-tasks` (one matching task per
//! call), `visibility-list` (a page of 20, rotating over four filters) and
//! `visibility-count-group` (`GROUP BY ExecutionStatus`); the last two run over the records of
//! the bench namespace (use `--preload`). `visibility-write` makes the lifecycle's two
//! visibility calls for a fresh workflow (`record_started`, then `record_closed`). With
//! `--visibility-url` the visibility store comes from another URL (an Elasticsearch or
//! OpenSearch index beside a SQL or Cassandra `--url`, Temporal's usual layout).
//!
//! # Shards, ids, payloads
//!
//! `--shards N` shards (ids 1..=N) are acquired first as a history host does: get-or-create,
//! then a range-id bump. Task ids come from the new range (`range_id << 32`; a bigger block than
//! Temporal's 2^20 so no renewal happens mid-run) and each workflow reserves a block of them, so
//! its range completes touch only its own tasks. Workflows are spread round-robin over the
//! shards. Each worker (`--concurrency`) owns one workflow and one activity task queue, as a
//! matching partition has one owner. Everything is written in one fixed namespace, so preloaded
//! records and earlier runs are visible to the visibility workloads. Payloads are random
//! (incompressible) bytes of typical sizes (see the `*_BYTES` constants).
//!
//! # Preload
//!
//! `--preload N` first creates N closed or running executions (one create each, no history,
//! no tasks) and, when the backend has visibility, one visibility record each (statuses mixed:
//! 65% Completed, 15% Running, then Failed, TimedOut, Terminated, Canceled, ContinuedAsNew),
//! with `--preload-concurrency` writers and a progress bar. It is not measured as part of the
//! workload; its own rate is reported. On a SQLite file it writes through a second pool of one
//! connection without a per-commit fsync ([`fast_preload_url`]); the measured phase keeps the
//! URL's settings.
//!
//! # Report (`--json`)
//!
//! One JSON document, [`BenchReport`]:
//!
//! ```json
//! {
//!   "schema_version": 1,
//!   "backend": "postgres", "workload": "lifecycle",
//!   "shards": 16, "concurrency": 8, "visibility": true,
//!   "preload": null,
//!   "elapsed_seconds": 20.06,
//!   "units": 1637, "failed_units": 0, "units_per_second": 81.6,
//!   "workflows_per_second": 81.6,
//!   "state_transitions": 11459, "state_transitions_per_second": 571.4,
//!   "operations": [{"store": "execution", "operation": "update_workflow_execution",
//!                   "count": 9822, "errors": 0, "mean_ms": 7.6, "p50_ms": 7.09,
//!                   "p95_ms": 14.07, "p99_ms": 20.99, "max_ms": 48.2}],
//!   "errors": {},
//!   "per_unit": {"store_calls": 25.0, "rows_written": 44.0, "blob_bytes_written": 12480.0,
//!                "client_cpu_ms": 4.1},
//!   "machine": {"os": "linux", "arch": "x86_64", "cpus": 2, "load_average_1m": 5.1}
//! }
//! ```
//!
//! With a preload, `"preload"` is `{"executions", "visibility_records", "seconds",
//! "executions_per_second", "failed"}`. A *unit* is a completed workflow for `lifecycle` (then
//! `workflows_per_second` is set, else it is `null`) and one call for the single-operation
//! workloads. `rows_written` counts the logical rows each request inserts, updates or deletes
//! (execution, current-run, history node and tree, history task, map, matching task and
//! visibility rows), `blob_bytes_written` the payload bytes of every blob sent (writes of
//! abandoned units included); both are derived from the requests, so they are the same on every
//! backend. `client_cpu_ms` is this process's CPU time per unit while measuring (Linux; `null`
//! elsewhere): on a machine the database shares, what the client spends the server cannot.
//! Latencies are per store call as the caller sees it (including pool waits), from HDR
//! histograms (3 significant digits). `errors` maps [`durastore_api::ErrorKind::as_str`] names
//! to counts of failed calls.

use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use durastore_api::layer::{Call, CallObserver};
use durastore_api::{
    AppendHistoryNodesRequest, BranchId, CompleteTasksLessThanRequest, CreateMode,
    CreateTasksRequest, CreateWorkflowExecutionRequest, DataBlob, DateTime, ExecutionStateColumns,
    ExecutionStore, GetHistoryTasksRequest, GetOrCreateShardRequest, GetTasksRequest,
    HistoryBranch, HistoryStore, HistoryTask, HistoryTaskKey, LayerOptions,
    ListWorkflowExecutionsRequest, NamespaceId, ReadHistoryBranchRequest, Result, RunId, ShardId,
    StoreError, Stores, TaskCategory, TaskQueueFlavor, TaskQueueKey, TaskQueueKind, TaskQueueStore,
    TaskQueueWrite, TaskRecord, TaskType, TreeId, UpdateMode, UpdateShardRequest,
    UpdateWorkflowExecutionRequest, Utc, Uuid, VisibilityRecord, VisibilityStore, WorkflowKey,
    WorkflowMutation, WorkflowSnapshot, WorkflowState, WorkflowStatus, truncate_to_micros,
};
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::config::Config;
use crate::factory::{self, OpenMode};

/// Size of an execution-info blob (Temporal's `WorkflowExecutionInfo` of a simple workflow).
pub const EXECUTION_INFO_BYTES: usize = 1024;
/// Size of an execution-state blob.
pub const EXECUTION_STATE_BYTES: usize = 96;
/// Serialized size of one history event.
pub const EVENT_BYTES: usize = 256;
/// Size of an activity-info blob.
pub const ACTIVITY_INFO_BYTES: usize = 320;
/// Size of a history (transfer / visibility) task blob.
pub const HISTORY_TASK_BYTES: usize = 96;
/// Size of a matching task blob.
pub const MATCHING_TASK_BYTES: usize = 160;
/// Size of a history tree-info blob.
pub const TREE_INFO_BYTES: usize = 128;
/// Size of a shard-info or task-queue-info blob.
pub const INFO_BYTES: usize = 64;

/// The namespace every bench writes in (fixed, so records of earlier runs and preloads count).
pub const BENCH_NAMESPACE: NamespaceId =
    NamespaceId(Uuid::from_u128(0x6475_7261_7374_6f72_652d_6265_6e63_6801));

/// Task ids a lifecycle workflow reserves from its shard (it uses 6).
const TASK_BLOCK: i64 = 8;

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// A whole workflow: start, two workflow tasks, one activity, close, state and history reads.
    Lifecycle,
    /// `create_workflow_execution` with a first history node and a transfer task.
    CreateExecution,
    /// `update_workflow_execution`: a bare CAS write of one run per worker.
    UpdateExecution,
    /// `get_workflow_execution` of runs created before measuring.
    GetExecution,
    /// `append_history_nodes`: one node of two events per call.
    AppendHistory,
    /// `create_tasks`: one matching task per call.
    CreateTasks,
    /// Visibility `record_started` then `record_closed` of a fresh workflow (the lifecycle's
    /// visibility calls).
    VisibilityWrite,
    /// Visibility `list`, a page of 20, rotating over four filters.
    VisibilityList,
    /// Visibility `count` with `GROUP BY ExecutionStatus`.
    VisibilityCountGroup,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Lifecycle => "lifecycle",
            Workload::CreateExecution => "create-execution",
            Workload::UpdateExecution => "update-execution",
            Workload::GetExecution => "get-execution",
            Workload::AppendHistory => "append-history",
            Workload::CreateTasks => "create-tasks",
            Workload::VisibilityWrite => "visibility-write",
            Workload::VisibilityList => "visibility-list",
            Workload::VisibilityCountGroup => "visibility-count-group",
        }
    }
    fn needs_visibility(self) -> bool {
        self.is_visibility_only()
    }
    /// Whether a unit makes visibility calls only.
    pub(crate) fn is_visibility_only(self) -> bool {
        matches!(
            self,
            Workload::VisibilityWrite | Workload::VisibilityList | Workload::VisibilityCountGroup
        )
    }
    /// Units after which a worker's requests repeat (with other ids): the list goes round
    /// its filters.
    pub(crate) fn cycle(self) -> usize {
        match self {
            Workload::VisibilityList => LIST_QUERIES.len(),
            _ => 1,
        }
    }
}

/// Options of `durastore bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Store URL, e.g. sqlite:///tmp/bench.db or postgres://user@host/db (server schemas must be set up)
    #[arg(long, env = "DURASTORE_URL")]
    pub url: Option<String>,
    /// YAML config shaped like Temporal's `persistence:` section (used without --url)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to run
    #[arg(long, value_enum, default_value_t = Workload::Lifecycle)]
    pub workload: Workload,
    /// Number of history shards to acquire (ids 1..=N)
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub shards: u32,
    /// Concurrent workers (tokio tasks), each running one workflow or call at a time
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub concurrency: u32,
    /// How long to measure, in seconds (ignored with --count)
    #[arg(long, value_name = "SECONDS", default_value_t = 20.0)]
    pub duration: f64,
    /// Stop after this many units (workflows, or calls of a single-operation workload)
    #[arg(long)]
    pub count: Option<u64>,
    /// Executions (and visibility records) to create before measuring
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub preload: u64,
    /// Concurrent writers of the preload (default: twice --concurrency, at least 16)
    #[arg(long, value_name = "N")]
    pub preload_concurrency: Option<u32>,
    /// Visibility store from this URL instead of --url's (e.g. an OpenSearch index beside a
    /// SQL or Cassandra --url); with --floor and a visibility workload, the floor replays there
    #[arg(long, value_name = "URL")]
    pub visibility_url: Option<String>,
    /// Do not use the visibility store even when the backend has one
    #[arg(long)]
    pub no_visibility: bool,
    /// After the run, replay the same statements without the adapter and report the ratio
    /// (PostgreSQL, MySQL/MariaDB; see `durastore::floor`)
    #[arg(long)]
    pub floor: bool,
    /// With --floor: rounds of adapter run + replays, alternating (the ratio is their median)
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub floor_rounds: u32,
    /// Print one JSON document (see the module docs) instead of the table
    #[arg(long)]
    pub json: bool,
}

/// The numbers of one bench run. Serialized as the `--json` document.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Version of this document's shape (1).
    pub schema_version: u32,
    /// Backend name.
    pub backend: String,
    /// Workload name (`lifecycle`, `create-execution`, …).
    pub workload: String,
    /// Shards used.
    pub shards: u32,
    /// Workers.
    pub concurrency: u32,
    /// Whether visibility calls were made.
    pub visibility: bool,
    /// The preload, when one ran.
    pub preload: Option<PreloadReport>,
    /// Measured wall time, from the first call to the last worker's end.
    pub elapsed_seconds: f64,
    /// Completed units: workflows (lifecycle) or calls.
    pub units: u64,
    /// Units abandoned after an error.
    pub failed_units: u64,
    /// `units / elapsed_seconds`.
    pub units_per_second: f64,
    /// Completed workflows per second (lifecycle only).
    pub workflows_per_second: Option<f64>,
    /// Execution creates and updates that succeeded.
    pub state_transitions: u64,
    /// `state_transitions / elapsed_seconds`.
    pub state_transitions_per_second: f64,
    /// Per store operation, sorted by store then operation.
    pub operations: Vec<OperationReport>,
    /// Failed calls by error kind ([`durastore_api::ErrorKind::as_str`]).
    pub errors: BTreeMap<String, u64>,
    /// Averages per completed unit.
    pub per_unit: PerUnit,
    /// The floor (`--floor`): the same statements replayed without the adapter.
    pub floor: Option<crate::floor::FloorReport>,
    /// Where it ran.
    pub machine: Machine,
}

/// The preload's numbers.
#[derive(Debug, Clone, Serialize)]
pub struct PreloadReport {
    /// Executions created.
    pub executions: u64,
    /// Visibility records written.
    pub visibility_records: u64,
    /// Wall time.
    pub seconds: f64,
    /// `executions / seconds`.
    pub executions_per_second: f64,
    /// Executions whose create or record failed.
    pub failed: u64,
}

/// Latency of one store operation during the measured phase.
#[derive(Debug, Clone, Serialize)]
pub struct OperationReport {
    /// Store (`execution`, `history`, `task_queue`, `visibility`, …).
    pub store: String,
    /// Trait method.
    pub operation: String,
    /// Calls (successful or not).
    pub count: u64,
    /// Failed calls.
    pub errors: u64,
    /// Mean latency, ms.
    pub mean_ms: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 95th percentile, ms.
    pub p95_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Slowest call, ms.
    pub max_ms: f64,
}

/// Averages per completed unit.
#[derive(Debug, Clone, Serialize)]
pub struct PerUnit {
    /// Store calls.
    pub store_calls: f64,
    /// Logical rows inserted, updated or deleted.
    pub rows_written: f64,
    /// Payload bytes of the blobs sent.
    pub blob_bytes_written: f64,
    /// CPU time of this process (every thread: workers, the store logic, the driver, the
    /// runtime) in milliseconds, where the OS tells it (Linux). On a machine the database
    /// shares, what the client spends here the server cannot.
    pub client_cpu_ms: Option<f64>,
}

/// CPU seconds used so far by this process and by its children that have ended (user +
/// system; Linux `/proc/self/stat`), `None` elsewhere.
pub(crate) fn cpu_seconds() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; the fields after it start past its ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    // utime, stime, cutime, cstime, in clock ticks: USER_HZ, 100 on every Linux build.
    (f.len() == 4).then(|| ((f[0] + f[1]) / 100.0, (f[2] + f[3]) / 100.0))
}

/// Measures CPU time from [`CpuClock::start`] on (Linux; `None` elsewhere).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuClock(Option<(f64, f64)>);

impl CpuClock {
    pub(crate) fn start() -> Self {
        Self(cpu_seconds())
    }

    /// CPU seconds since the start: this process's, and its children's that have ended.
    pub(crate) fn elapsed(&self) -> Option<(f64, f64)> {
        let (before, now) = (self.0?, cpu_seconds()?);
        Some((now.0 - before.0, now.1 - before.1))
    }
}

/// CPU milliseconds per unit from CPU `seconds` over `units`; `None` without either.
pub(crate) fn cpu_ms_per_unit(seconds: Option<f64>, units: u64) -> Option<f64> {
    seconds
        .filter(|_| units > 0)
        .map(|s| s * 1000.0 / units as f64)
}

/// The machine a report comes from.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// `std::env::consts::OS`.
    pub os: String,
    /// `std::env::consts::ARCH`.
    pub arch: String,
    /// Available parallelism.
    pub cpus: usize,
    /// The 1-minute load average at the end of the run (Linux), to tell a busy machine.
    pub load_average_1m: Option<f64>,
}

impl Machine {
    pub(crate) fn this() -> Self {
        Self {
            os: std::env::consts::OS.to_string(),
            arch: std::env::consts::ARCH.to_string(),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            load_average_1m: std::fs::read_to_string("/proc/loadavg")
                .ok()
                .and_then(|l| l.split_whitespace().next()?.parse().ok()),
        }
    }
}

/// What to run, independent of the command line.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Workload.
    pub workload: Workload,
    /// Shards (ids 1..=shards).
    pub shards: u32,
    /// Workers.
    pub concurrency: u32,
    /// Measure for this long (unless `count` is set).
    pub duration: Duration,
    /// Stop after this many units.
    pub count: Option<u64>,
    /// Executions to preload.
    pub preload: u64,
    /// Preload writers.
    pub preload_concurrency: u32,
    /// Use the visibility store when present.
    pub visibility: bool,
    /// Draw progress on stderr (when it is a terminal).
    pub progress: bool,
    /// Stores the preload writes through instead of the measured ones (same database; the CLI
    /// passes a SQLite pool without per-commit fsync, see [`fast_preload_url`]).
    pub preload_stores: Option<Stores>,
}

/// Runs `durastore bench` from its arguments: opens the stores, runs, prints.
pub async fn run_cli(args: BenchArgs, layer: LayerOptions) -> Result<()> {
    if !(args.duration.is_finite() && args.duration > 0.0) {
        return Err(StoreError::invalid_argument(
            "--duration must be a positive number of seconds",
        ));
    }
    // The floor replays where the workload's requests go: the visibility URL for a
    // visibility workload when one is given, else --url.
    let floor_url = match (&args.visibility_url, &args.url) {
        (Some(v), _) if args.workload.is_visibility_only() => Some(v.clone()),
        (_, u) => u.clone(),
    };
    if args.floor && args.visibility_url.is_some() && !args.workload.is_visibility_only() {
        // The SQL and Cassandra floors record stores of their own at --url, whose visibility
        // calls would go to --url's visibility store, not the one the adapter run used.
        return Err(StoreError::unsupported(
            "--floor with --visibility-url covers the visibility workloads (visibility-write, \
             visibility-list, visibility-count-group); for the lifecycle floor use --url alone",
        ));
    }
    if args.floor {
        match &floor_url {
            Some(u) => crate::floor::check_supported(u)?,
            None => {
                return Err(StoreError::invalid_argument(
                    "--floor needs --url (the database the statements replay in)",
                ));
            }
        }
    }
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
            return Err(StoreError::invalid_argument(format!(
                "--visibility-url {v} has no visibility store"
            )));
        }
    }
    let opts = BenchOptions {
        workload: args.workload,
        shards: args.shards,
        concurrency: args.concurrency,
        duration: Duration::from_secs_f64(args.duration),
        count: args.count,
        preload: args.preload,
        preload_concurrency: args
            .preload_concurrency
            .unwrap_or_else(|| (args.concurrency * 2).max(16)),
        visibility: !args.no_visibility,
        progress: !args.json,
        preload_stores: match args.url.as_deref().and_then(fast_preload_url) {
            Some(u) if args.preload > 0 => {
                let mut p = factory::open(&u).await?;
                if args.visibility_url.is_some() {
                    p.visibility = stores.visibility.clone();
                }
                Some(p)
            }
            _ => None,
        },
    };
    let backend = stores.backend.clone();
    let preload_backend = opts.preload_stores.as_ref().map(|s| s.backend.clone());
    let report = match (args.floor, &floor_url) {
        (true, Some(url)) => run_with_floor(&stores, &opts, &layer, url, args.floor_rounds).await,
        _ => run(stores, &opts, layer).await,
    };
    // Close the pools whatever happened, so a server sees a clean disconnect.
    let _ = backend.close().await;
    if let Some(b) = preload_backend {
        let _ = b.close().await;
    }
    let report = report?;
    let text = if args.json {
        let mut t = serde_json::to_string_pretty(&report)
            .map_err(|e| StoreError::internal(format!("cannot render JSON: {e}")))?;
        t.push('\n');
        t
    } else {
        render_table(&report)
    };
    // A closed stdout (`| head`) is not an error of the bench.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(())
}

/// `, N ms client CPU/unit` when known.
fn cpu_note(ms: Option<f64>) -> String {
    ms.map(|c| format!(", {c:.2} ms client CPU/unit"))
        .unwrap_or_default()
}

/// The longest unmeasured run before a floor's first round.
const WARM_UP: Duration = Duration::from_secs(5);

/// `--floor`: a warm-up, then `rounds` adapter runs and the floor's replays, alternating which
/// goes first (see [`crate::floor`]). The report is the first adapter run's (which did the
/// preload), with the floor's rounds.
async fn run_with_floor(
    stores: &Stores,
    opts: &BenchOptions,
    layer: &LayerOptions,
    url: &str,
    rounds: u32,
) -> Result<BenchReport> {
    let mut floor = crate::floor::Rounds::default();
    let again = BenchOptions {
        preload: 0,
        preload_stores: None,
        ..opts.clone()
    };
    // A warm-up, not measured: the first run on a freshly started server is the slowest
    // (caches, JIT, connection setup; up to half the rate of round 3 here), and it would
    // otherwise always be the adapter's.
    let warm_up = BenchOptions {
        duration: opts.duration.min(WARM_UP),
        count: None,
        progress: false,
        ..again.clone()
    };
    if opts.progress {
        eprintln!(
            "floor: warming up for {:.0} s (not measured)…",
            warm_up.duration.as_secs_f64()
        );
    }
    run(stores.clone(), &warm_up, layer.clone()).await?;
    floor.settle(url).await?;
    let mut report = run(stores.clone(), opts, layer.clone()).await?;
    let mut adapter = (report.units_per_second, report.per_unit.client_cpu_ms);
    for round in 1..=rounds {
        if opts.progress {
            eprintln!(
                "floor round {round}/{rounds}: recording the requests and replaying them \
                 without the adapter…"
            );
        }
        // Even rounds replay first: while a server warms up (JIT, caches) or drifts, whichever
        // side runs second gains, so the order alternates and the median sees both.
        let mut runs = Vec::new();
        if round % 2 == 0 {
            runs = floor.replay(url, stores, opts).await?;
        }
        if round > 1 {
            floor.settle(url).await?;
            let r = run(stores.clone(), &again, layer.clone()).await?;
            adapter = (r.units_per_second, r.per_unit.client_cpu_ms);
        }
        if round % 2 == 1 {
            runs = floor.replay(url, stores, opts).await?;
        }
        if opts.progress {
            eprintln!(
                "floor round {round}/{rounds}: adapter {:.1} units/s",
                adapter.0
            );
        }
        floor.close_round(adapter.0, adapter.1, runs);
    }
    report.floor = Some(floor.finish());
    Ok(report)
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
    let rest = url.strip_prefix("sqlite:")?;
    if rest.contains(":memory:") {
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

/// Runs a bench on `stores` (wrapped here with `layer` plus the bench's own observer) and
/// returns its report.
pub async fn run(stores: Stores, opts: &BenchOptions, layer: LayerOptions) -> Result<BenchReport> {
    let stats = Arc::new(Stats::default());
    let mut layer = layer;
    layer.observer = Some(stats.clone());
    let stores = durastore_api::instrument(stores, &layer);
    let ctx = Arc::new(Ctx::new(&stores, opts, stats.clone(), 1).await?);

    let preload = if opts.preload > 0 {
        let target = match &opts.preload_stores {
            Some(s) => PreloadTarget {
                execution: s
                    .execution
                    .clone()
                    .ok_or_else(|| missing("execution", s.name()))?,
                // Only when the measured stores' visibility passed its probe.
                visibility: ctx.visibility.as_ref().and(s.visibility.clone()),
            },
            None => PreloadTarget {
                execution: ctx.execution.clone(),
                visibility: ctx.visibility.clone(),
            },
        };
        Some(preload(&ctx, Arc::new(target), opts).await?)
    } else {
        None
    };
    if opts.workload.needs_visibility() && ctx.visibility.is_none() {
        return Err(StoreError::unsupported(format!(
            "workload {} needs a visibility store, and {} has none (or it is not usable)",
            opts.workload.name(),
            stores.name()
        )));
    }

    let workers = setup_workers(&ctx, opts).await?;
    stats.start();
    let cpu = CpuClock::start();
    let started = Instant::now();
    let deadline = started + opts.duration;
    let budget = Arc::new(AtomicI64::new(
        opts.count
            .map_or(i64::MAX, |c| c.min(i64::MAX as u64) as i64),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let bar = live_progress(&ctx, opts, started);
    let mut handles = Vec::new();
    for mut w in workers {
        let ctx = ctx.clone();
        let budget = budget.clone();
        let stop = stop.clone();
        let workload = opts.workload;
        let timed = opts.count.is_none();
        handles.push(tokio::spawn(async move {
            loop {
                if stop.load(Ordering::Relaxed) || (timed && Instant::now() >= deadline) {
                    break;
                }
                if budget.fetch_sub(1, Ordering::Relaxed) <= 0 {
                    break;
                }
                match w.run_unit(&ctx, workload).await {
                    Ok(()) => {
                        ctx.counters.units.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {
                        // The error is counted by kind by the observer; the unit is abandoned
                        // and the worker goes on with a fresh one, as a server would retry.
                        ctx.counters.failed_units.fetch_add(1, Ordering::Relaxed);
                        w.after_failure();
                    }
                }
            }
        }));
    }
    for h in handles {
        if let Err(e) = h.await {
            stop.store(true, Ordering::Relaxed);
            return Err(StoreError::internal(format!("bench worker failed: {e}")));
        }
    }
    let elapsed = started.elapsed();
    let cpu_used = cpu.elapsed();
    stats.stop();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut report = ctx.report(opts, preload, elapsed);
    report.per_unit.client_cpu_ms = cpu_ms_per_unit(cpu_used.map(|c| c.0), report.units);
    Ok(report)
}

/// Runs `units` units of `opts.workload` one after the other on one worker (with task queues
/// of its own) and shard `shard`, calling `after_unit` after each (the floor takes the
/// statements recorded for that unit there). `stores` must be otherwise idle: the capture
/// acquires the shard again.
pub(crate) async fn run_units_one_by_one(
    stores: &Stores,
    opts: &BenchOptions,
    shard: ShardId,
    units: usize,
    after_unit: &mut (dyn FnMut() + Send),
) -> Result<()> {
    let one = BenchOptions {
        shards: 1,
        concurrency: 1,
        preload: 0,
        preload_stores: None,
        progress: false,
        ..opts.clone()
    };
    let ctx = Arc::new(Ctx::new(stores, &one, Arc::new(Stats::default()), shard.0).await?);
    let mut workers = setup_workers(&ctx, &one).await?;
    let w = workers
        .first_mut()
        .ok_or_else(|| StoreError::internal("no bench worker"))?;
    // Setup statements (shard acquisition, queue creation) are not part of a unit.
    after_unit();
    for _ in 0..units {
        w.run_unit(&ctx, opts.workload).await?;
        after_unit();
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Shared state

/// Counters the workers bump and the progress line reads.
#[derive(Default)]
struct Counters {
    units: AtomicU64,
    failed_units: AtomicU64,
    transitions: AtomicU64,
    rows: AtomicU64,
    bytes: AtomicU64,
}

/// One acquired shard.
struct Shard {
    id: ShardId,
    range_id: i64,
    next_task_id: AtomicI64,
}

impl Shard {
    /// Reserves `n` consecutive task ids (Temporal allocates them from the shard's range).
    fn reserve(&self, n: i64) -> i64 {
        self.next_task_id.fetch_add(n, Ordering::Relaxed)
    }
}

struct Ctx {
    backend: String,
    execution: Arc<dyn ExecutionStore>,
    history: Arc<dyn HistoryStore>,
    task_queue: Arc<dyn TaskQueueStore>,
    visibility: Option<Arc<dyn VisibilityStore>>,
    shards: Vec<Shard>,
    next_shard: AtomicUsize,
    /// Workers (`--concurrency`).
    workers: usize,
    /// Distinguishes this run's workflow ids and queue names from earlier runs'.
    run_tag: String,
    counters: Counters,
    stats: Arc<Stats>,
}

fn missing(store: &str, backend: &str) -> StoreError {
    StoreError::unsupported(format!(
        "the bench needs a {store} store; {backend} has none"
    ))
}

impl Ctx {
    /// Acquires `opts.shards` shards with consecutive ids from `first_shard`.
    async fn new(
        stores: &Stores,
        opts: &BenchOptions,
        stats: Arc<Stats>,
        first_shard: i32,
    ) -> Result<Self> {
        let backend = stores.name().to_string();
        let shard_store = stores
            .shard
            .clone()
            .ok_or_else(|| missing("shard", &backend))?;
        let execution = stores
            .execution
            .clone()
            .ok_or_else(|| missing("execution", &backend))?;
        let history = stores
            .history
            .clone()
            .ok_or_else(|| missing("history", &backend))?;
        let task_queue = stores
            .task_queue
            .clone()
            .ok_or_else(|| missing("task queue", &backend))?;
        let visibility = match (&stores.visibility, opts.visibility) {
            (Some(v), true) => match probe_visibility(v.as_ref()).await {
                Ok(()) => Some(v.clone()),
                Err(e) => {
                    tracing::warn!("visibility store not usable, benching without it: {e}");
                    if opts.progress {
                        eprintln!("warning: visibility store not usable, benching without it: {e}");
                    }
                    None
                }
            },
            _ => None,
        };
        // Acquire the shards as a history host does: read (or create) the row, then move the
        // lease on, so this run's task ids cannot collide with an earlier run's.
        let mut shards = Vec::with_capacity(opts.shards as usize);
        for i in 0..opts.shards as i32 {
            let id = ShardId(first_shard + i);
            let info = shard_store
                .get_or_create_shard(GetOrCreateShardRequest {
                    shard_id: id,
                    create_if_missing: Some((1, payload(INFO_BYTES))),
                })
                .await?;
            let range_id = info.range_id + 1;
            shard_store
                .update_shard(UpdateShardRequest {
                    shard_id: id,
                    range_id,
                    previous_range_id: info.range_id,
                    data: payload(INFO_BYTES),
                })
                .await?;
            shards.push(Shard {
                id,
                range_id,
                next_task_id: AtomicI64::new(range_id << 32),
            });
        }
        Ok(Self {
            backend,
            execution,
            history,
            task_queue,
            visibility,
            shards,
            next_shard: AtomicUsize::new(0),
            workers: opts.concurrency as usize,
            run_tag: Uuid::new_v4().simple().to_string()[..12].to_string(),
            counters: Counters::default(),
            stats,
        })
    }

    /// The next shard, round-robin.
    fn shard(&self) -> &Shard {
        let i = self.next_shard.fetch_add(1, Ordering::Relaxed);
        &self.shards[i % self.shards.len()]
    }

    fn wrote(&self, rows: u64, bytes: u64) {
        self.counters.rows.fetch_add(rows, Ordering::Relaxed);
        self.counters.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    fn transition(&self) {
        self.counters.transitions.fetch_add(1, Ordering::Relaxed);
    }

    fn report(
        &self,
        opts: &BenchOptions,
        preload: Option<PreloadReport>,
        elapsed: Duration,
    ) -> BenchReport {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let units = self.counters.units.load(Ordering::Relaxed);
        let transitions = self.counters.transitions.load(Ordering::Relaxed);
        let (operations, errors, calls) = self.stats.summary();
        let per = |v: u64| {
            if units == 0 {
                0.0
            } else {
                v as f64 / units as f64
            }
        };
        BenchReport {
            schema_version: 1,
            backend: self.backend.clone(),
            workload: opts.workload.name().to_string(),
            shards: opts.shards,
            concurrency: opts.concurrency,
            visibility: self.visibility.is_some(),
            preload,
            elapsed_seconds: secs,
            units,
            failed_units: self.counters.failed_units.load(Ordering::Relaxed),
            units_per_second: units as f64 / secs,
            workflows_per_second: (opts.workload == Workload::Lifecycle)
                .then(|| units as f64 / secs),
            state_transitions: transitions,
            state_transitions_per_second: transitions as f64 / secs,
            operations,
            errors,
            per_unit: PerUnit {
                store_calls: per(calls),
                rows_written: per(self.counters.rows.load(Ordering::Relaxed)),
                blob_bytes_written: per(self.counters.bytes.load(Ordering::Relaxed)),
                client_cpu_ms: None,
            },
            floor: None,
            machine: Machine::this(),
        }
    }
}

async fn probe_visibility(v: &dyn VisibilityStore) -> Result<()> {
    v.count(ListWorkflowExecutionsRequest {
        namespace_id: BENCH_NAMESPACE,
        query: String::new(),
        page_size: 1,
        next_page_token: None,
    })
    .await
    .map(|_| ())
}

// ---------------------------------------------------------------------------------------------
// Latency statistics (the layer's observer)

/// Per-operation HDR histograms, filled by the layer while measuring.
#[derive(Default)]
struct Stats {
    recording: AtomicBool,
    ops: Mutex<HashMap<(&'static str, &'static str), OpStats>>,
    errors: Mutex<BTreeMap<&'static str, u64>>,
}

struct OpStats {
    micros: Histogram<u64>,
    errors: u64,
}

impl Stats {
    fn start(&self) {
        self.recording.store(true, Ordering::Release);
    }
    fn stop(&self) {
        self.recording.store(false, Ordering::Release);
    }

    /// Per-operation reports, errors by kind, and the number of calls.
    fn summary(&self) -> (Vec<OperationReport>, BTreeMap<String, u64>, u64) {
        let ops = self.ops.lock().unwrap_or_else(|p| p.into_inner());
        let mut calls = 0;
        let mut out: Vec<OperationReport> = ops
            .iter()
            .map(|((store, op), s)| {
                let h = &s.micros;
                calls += h.len();
                let ms = |v: u64| v as f64 / 1000.0;
                OperationReport {
                    store: store.to_string(),
                    operation: op.to_string(),
                    count: h.len(),
                    errors: s.errors,
                    mean_ms: h.mean() / 1000.0,
                    p50_ms: ms(h.value_at_quantile(0.50)),
                    p95_ms: ms(h.value_at_quantile(0.95)),
                    p99_ms: ms(h.value_at_quantile(0.99)),
                    max_ms: ms(h.max()),
                }
            })
            .collect();
        out.sort_by(|a, b| (&a.store, &a.operation).cmp(&(&b.store, &b.operation)));
        let errors = self
            .errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        (out, errors, calls)
    }
}

impl CallObserver for Stats {
    fn observe(&self, call: &Call<'_>) {
        if !self.recording.load(Ordering::Acquire) {
            return;
        }
        let micros = call.elapsed.as_micros().min(u64::MAX as u128) as u64;
        {
            let mut ops = self.ops.lock().unwrap_or_else(|p| p.into_inner());
            let s = ops
                .entry((call.store, call.operation))
                .or_insert_with(|| OpStats {
                    // Auto-resizing with 3 significant digits: no bound to guess, 0.1% error.
                    micros: Histogram::new(3).unwrap_or_else(|_| unreachable!("3 sigfig is valid")),
                    errors: 0,
                });
            // Cannot fail with an auto-resizing histogram.
            let _ = s.micros.record(micros.max(1));
            if call.error.is_some() {
                s.errors += 1;
            }
        }
        if let Some(e) = call.error {
            let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
            *errors.entry(e.kind().as_str()).or_insert(0) += 1;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Payloads and small helpers

/// A random Proto3 blob of `len` bytes: a slice of a random pool, so making one costs a copy.
fn payload(len: usize) -> DataBlob {
    const POOL_BYTES: usize = 1 << 18;
    static POOL: OnceLock<Vec<u8>> = OnceLock::new();
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let pool = POOL.get_or_init(|| {
        let mut v = Vec::with_capacity(POOL_BYTES);
        while v.len() < POOL_BYTES {
            v.extend_from_slice(Uuid::new_v4().as_bytes());
        }
        v
    });
    let len = len.min(POOL_BYTES / 2);
    let start = NEXT.fetch_add(len + 7919, Ordering::Relaxed) % (POOL_BYTES - len);
    DataBlob::proto3(pool[start..start + len].to_vec())
}

fn blob_len(b: &DataBlob) -> u64 {
    b.len() as u64
}

/// A small deterministic generator (SplitMix64) for spreading preload values.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn now() -> DateTime<Utc> {
    truncate_to_micros(Utc::now())
}

fn columns(
    state: WorkflowState,
    status: WorkflowStatus,
    start: DateTime<Utc>,
) -> ExecutionStateColumns {
    ExecutionStateColumns {
        create_request_id: Uuid::new_v4().to_string(),
        state,
        status,
        start_time: Some(start),
    }
}

/// A whole new run with no maps, tasks or checksum.
fn snapshot(key: WorkflowKey, cols: ExecutionStateColumns, next_event_id: i64) -> WorkflowSnapshot {
    WorkflowSnapshot {
        key,
        execution_info: payload(EXECUTION_INFO_BYTES),
        execution_state: payload(EXECUTION_STATE_BYTES),
        state: cols,
        start_version: 0,
        last_write_version: 0,
        next_event_id,
        db_record_version: 1,
        condition: 0,
        checksum: None,
        activity_infos: BTreeMap::new(),
        timer_infos: BTreeMap::new(),
        child_execution_infos: BTreeMap::new(),
        request_cancel_infos: BTreeMap::new(),
        signal_infos: BTreeMap::new(),
        chasm_nodes: BTreeMap::new(),
        signal_requested_ids: Default::default(),
        tasks: BTreeMap::new(),
    }
}

/// Logical rows and blob bytes a create writes (execution + current row + maps + tasks).
fn snapshot_cost(s: &WorkflowSnapshot) -> (u64, u64) {
    let tasks: Vec<&HistoryTask> = s.tasks.values().flatten().collect();
    let rows = 2 + s.activity_infos.len() + tasks.len();
    let bytes = blob_len(&s.execution_info)
        + blob_len(&s.execution_state)
        + s.activity_infos.values().map(blob_len).sum::<u64>()
        + tasks.iter().map(|t| blob_len(&t.blob)).sum::<u64>();
    (rows as u64, bytes)
}

/// Logical rows and blob bytes an update writes (execution + current row + maps + tasks).
fn mutation_cost(m: &WorkflowMutation) -> (u64, u64) {
    let tasks: Vec<&HistoryTask> = m.tasks.values().flatten().collect();
    let rows = 2 + m.upsert_activity_infos.len() + m.delete_activity_infos.len() + tasks.len();
    let bytes = blob_len(&m.execution_info)
        + blob_len(&m.execution_state)
        + m.upsert_activity_infos.values().map(blob_len).sum::<u64>()
        + tasks.iter().map(|t| blob_len(&t.blob)).sum::<u64>();
    (rows as u64, bytes)
}

/// Logical rows and blob bytes of history appends (a node row; a tree row on a new branch).
fn events_cost(events: &[AppendHistoryNodesRequest]) -> (u64, u64) {
    events.iter().fold((0, 0), |(r, b), e| {
        let tree = u64::from(e.is_new_branch);
        (
            r + 1 + tree,
            b + blob_len(&e.events) + tree * blob_len(&e.tree_info),
        )
    })
}

fn history_task(task_id: i64) -> HistoryTask {
    HistoryTask {
        key: HistoryTaskKey::immediate(task_id),
        blob: payload(HISTORY_TASK_BYTES),
    }
}

fn matching_key(name: String, task_type: TaskType) -> TaskQueueKey {
    TaskQueueKey {
        namespace_id: BENCH_NAMESPACE,
        name,
        task_type,
        flavor: TaskQueueFlavor::Classic,
    }
}

/// Creates a task queue owned by one worker (range id 1, as matching's first lease).
async fn create_queue(ctx: &Ctx, key: &TaskQueueKey) -> Result<()> {
    ctx.task_queue
        .create_task_queue(TaskQueueWrite {
            key: key.clone(),
            range_id: 1,
            info: payload(INFO_BYTES),
            kind: TaskQueueKind::Normal,
            expiry_time: None,
        })
        .await
}

fn visibility_record(
    key: &WorkflowKey,
    shard: ShardId,
    workflow_type: String,
    status: WorkflowStatus,
    start: DateTime<Utc>,
    close: Option<DateTime<Utc>>,
    task_id: i64,
) -> VisibilityRecord {
    VisibilityRecord {
        namespace_id: key.namespace_id,
        workflow_id: key.workflow_id.0.clone(),
        run_id: key.run_id,
        workflow_type,
        start_time: start,
        execution_time: start,
        status,
        task_queue: "bench-queue".to_string(),
        task_id,
        shard_id: shard.0,
        memo: None,
        search_attributes: BTreeMap::new(),
        parent_workflow_id: None,
        parent_run_id: None,
        root_workflow_id: Some(key.workflow_id.0.clone()),
        root_run_id: Some(key.run_id),
        close_time: close,
        history_length: close.map(|_| 11),
        history_size_bytes: close.map(|_| 11 * EVENT_BYTES as i64),
        execution_duration_nanos: close.and_then(|c| (c - start).num_nanoseconds()),
        state_transition_count: Some(if close.is_some() { 8 } else { 1 }),
    }
}

// ---------------------------------------------------------------------------------------------
// Preload

/// Statuses of preloaded records, by `i % 20` (65% Completed, 15% Running, then the rest).
fn preload_status(i: u64) -> WorkflowStatus {
    match i % 20 {
        0..=12 => WorkflowStatus::Completed,
        13..=15 => WorkflowStatus::Running,
        16 => WorkflowStatus::Failed,
        17 => WorkflowStatus::TimedOut,
        18 => WorkflowStatus::Terminated,
        _ => {
            if (i / 20).is_multiple_of(2) {
                WorkflowStatus::Canceled
            } else {
                WorkflowStatus::ContinuedAsNew
            }
        }
    }
}

/// The stores a preload writes through.
struct PreloadTarget {
    execution: Arc<dyn ExecutionStore>,
    visibility: Option<Arc<dyn VisibilityStore>>,
}

async fn preload(
    ctx: &Arc<Ctx>,
    target: Arc<PreloadTarget>,
    opts: &BenchOptions,
) -> Result<PreloadReport> {
    let total = opts.preload;
    let bar = if opts.progress {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "preload {bar:40} {pos}/{len} executions  {per_sec}  eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Some(bar)
    } else {
        None
    };
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let records = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..opts.preload_concurrency.max(1) {
        let (ctx, next, done, records, failed) = (
            ctx.clone(),
            next.clone(),
            done.clone(),
            records.clone(),
            failed.clone(),
        );
        let bar = bar.clone();
        let target = target.clone();
        handles.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                match preload_one(&ctx, &target, i).await {
                    Ok(wrote_record) => {
                        if wrote_record {
                            records.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(e) => {
                        if failed.fetch_add(1, Ordering::Relaxed) == 0 {
                            tracing::warn!("preload: {e} (further failures are only counted)");
                        }
                    }
                }
                done.fetch_add(1, Ordering::Relaxed);
                if let Some(b) = &bar {
                    b.inc(1);
                }
            }
        }));
    }
    for h in handles {
        h.await
            .map_err(|e| StoreError::internal(format!("preload worker failed: {e}")))?;
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let seconds = started.elapsed().as_secs_f64().max(1e-9);
    let failed = failed.load(Ordering::Relaxed);
    let executions = done.load(Ordering::Relaxed) - failed;
    Ok(PreloadReport {
        executions,
        visibility_records: records.load(Ordering::Relaxed),
        seconds,
        executions_per_second: executions as f64 / seconds,
        failed,
    })
}

/// One preloaded execution: a create (no history, no tasks) and its visibility record.
async fn preload_one(ctx: &Ctx, target: &PreloadTarget, i: u64) -> Result<bool> {
    let shard = ctx.shard();
    let status = preload_status(i);
    let r = mix(i);
    // Start times spread over the last 30 days; closed runs ran up to an hour.
    let start = now() - chrono::TimeDelta::milliseconds((r % (30 * 86_400_000)) as i64);
    let close = (status != WorkflowStatus::Running)
        .then(|| start + chrono::TimeDelta::milliseconds(((r >> 32) % 3_600_000) as i64));
    let state = if close.is_some() {
        WorkflowState::Completed
    } else {
        WorkflowState::Running
    };
    let key = WorkflowKey::new(
        BENCH_NAMESPACE,
        format!("bench-pre-{}-{i}", ctx.run_tag),
        RunId::new_random(),
    );
    let snap = snapshot(key.clone(), columns(state, status, start), 12);
    target
        .execution
        .create_workflow_execution(CreateWorkflowExecutionRequest {
            shard_id: shard.id,
            range_id: shard.range_id,
            mode: CreateMode::BrandNew,
            new_snapshot: snap,
            new_events: Vec::new(),
        })
        .await?;
    let Some(vis) = &target.visibility else {
        return Ok(false);
    };
    let rec = visibility_record(
        &key,
        shard.id,
        format!("bench-type-{}", r % 10),
        status,
        start,
        close,
        1,
    );
    if close.is_some() {
        vis.record_closed(rec).await?;
    } else {
        vis.record_started(rec).await?;
    }
    Ok(true)
}

// ---------------------------------------------------------------------------------------------
// Workers

/// What one worker owns.
struct Worker {
    index: u32,
    /// How many workflows this worker has placed on its shards.
    shard_turn: usize,
    wf_queue: TaskQueueKey,
    act_queue: TaskQueueKey,
    next_matching_id: i64,
    /// single-op state: a run being updated, runs to read, a branch being appended to
    update_run: Option<RunState>,
    read_runs: Vec<(ShardId, WorkflowKey)>,
    read_next: usize,
    branch: Option<(ShardId, HistoryBranch, i64)>,
    list_next: usize,
}

/// Index of worker `k`'s shard for its `turn`-th workflow among `n` shards and `c` workers
/// (see [`Worker::next_shard`]); `None` when the shards are too few to give each worker its own.
fn own_shard(n: usize, c: usize, k: usize, turn: usize) -> Option<usize> {
    if n < c || k >= n {
        return None;
    }
    let own = (n - k).div_ceil(c);
    Some(k + c * (turn % own))
}

/// A run's CAS state as the worker last wrote it.
struct RunState {
    shard: ShardId,
    range_id: i64,
    key: WorkflowKey,
    next_event_id: i64,
    db_record_version: i64,
    cols: ExecutionStateColumns,
}

/// Filters `visibility-list` rotates over.
const LIST_QUERIES: &[&str] = &[
    "",
    "ExecutionStatus = 'Running'",
    "WorkflowType = 'bench-type-3'",
    "ExecutionStatus = 'Failed' AND StartTime > '2000-01-01T00:00:00Z'",
];

async fn setup_workers(ctx: &Arc<Ctx>, opts: &BenchOptions) -> Result<Vec<Worker>> {
    let mut out = Vec::new();
    for index in 0..opts.concurrency {
        let mut w = Worker {
            index,
            shard_turn: 0,
            wf_queue: matching_key(
                format!("bench-wf-{}-{index}", ctx.run_tag),
                TaskType::Workflow,
            ),
            act_queue: matching_key(
                format!("bench-act-{}-{index}", ctx.run_tag),
                TaskType::Activity,
            ),
            next_matching_id: 1,
            update_run: None,
            read_runs: Vec::new(),
            read_next: 0,
            branch: None,
            list_next: index as usize,
        };
        match opts.workload {
            Workload::Lifecycle | Workload::CreateTasks => {
                create_queue(ctx, &w.wf_queue).await?;
                create_queue(ctx, &w.act_queue).await?;
            }
            Workload::UpdateExecution => w.update_run = Some(w.new_update_run(ctx).await?),
            Workload::GetExecution => {
                // A working set per worker: small enough to stay cached, as a hot run is.
                for _ in 0..16 {
                    let run = w.new_update_run(ctx).await?;
                    w.read_runs.push((run.shard, run.key));
                }
            }
            Workload::AppendHistory => {
                let shard = ctx.shard().id;
                let branch = HistoryBranch::new_root(TreeId::new_random(), BranchId::new_random());
                w.branch = Some((shard, branch, 0));
            }
            Workload::CreateExecution
            | Workload::VisibilityWrite
            | Workload::VisibilityList
            | Workload::VisibilityCountGroup => {}
        }
        out.push(w);
    }
    Ok(out)
}

impl Worker {
    /// The shard of this worker's next workflow. With at least as many shards as workers,
    /// shard `i` (0-based) belongs to worker `i % concurrency`, and a worker goes round its own
    /// shards, as a history host goes round the shards it owns: no two workers write one
    /// shard's rows at once, as in the floor, whose workers replay on a shard each. With fewer
    /// shards than workers, the workers share them round-robin.
    fn next_shard<'c>(&mut self, ctx: &'c Ctx) -> &'c Shard {
        match own_shard(
            ctx.shards.len(),
            ctx.workers,
            self.index as usize,
            self.shard_turn,
        ) {
            Some(i) => {
                self.shard_turn += 1;
                &ctx.shards[i]
            }
            None => ctx.shard(),
        }
    }

    fn workflow_id(&self, ctx: &Ctx) -> String {
        format!(
            "bench-{}-{}-{}",
            ctx.run_tag,
            self.index,
            Uuid::new_v4().simple()
        )
    }

    /// Creates a run (no history, no tasks) for the update and read workloads.
    async fn new_update_run(&self, ctx: &Ctx) -> Result<RunState> {
        let shard = ctx.shard();
        let key = WorkflowKey::new(BENCH_NAMESPACE, self.workflow_id(ctx), RunId::new_random());
        let cols = columns(WorkflowState::Running, WorkflowStatus::Running, now());
        let mut snap = snapshot(key.clone(), cols.clone(), 3);
        snap.activity_infos.insert(5, payload(ACTIVITY_INFO_BYTES));
        ctx.execution
            .create_workflow_execution(CreateWorkflowExecutionRequest {
                shard_id: shard.id,
                range_id: shard.range_id,
                mode: CreateMode::BrandNew,
                new_snapshot: snap,
                new_events: Vec::new(),
            })
            .await?;
        Ok(RunState {
            shard: shard.id,
            range_id: shard.range_id,
            key,
            next_event_id: 3,
            db_record_version: 1,
            cols,
        })
    }

    /// After a failed unit: a single-op worker whose run may be in an unknown state starts a
    /// fresh one on its next update.
    fn after_failure(&mut self) {
        self.update_run = None;
    }

    async fn run_unit(&mut self, ctx: &Ctx, workload: Workload) -> Result<()> {
        match workload {
            Workload::Lifecycle => self.lifecycle(ctx).await,
            Workload::CreateExecution => {
                let shard = self.next_shard(ctx);
                let mut wf = Run::new(shard, self.workflow_id(ctx));
                wf.start(ctx, false).await
            }
            Workload::UpdateExecution => {
                let run = match self.update_run.take() {
                    Some(r) => r,
                    None => self.new_update_run(ctx).await?,
                };
                let run = update_bare(ctx, run).await?;
                self.update_run = Some(run);
                Ok(())
            }
            Workload::GetExecution => {
                let (shard, key) = &self.read_runs[self.read_next % self.read_runs.len()];
                self.read_next += 1;
                ctx.execution
                    .get_workflow_execution(*shard, key)
                    .await
                    .map(|_| ())
            }
            Workload::AppendHistory => {
                let Some((shard, branch, appended)) = &mut self.branch else {
                    return Err(StoreError::internal("append-history worker has no branch"));
                };
                let node = AppendHistoryNodesRequest {
                    shard_id: *shard,
                    branch: branch.clone(),
                    is_new_branch: *appended == 0,
                    tree_info: payload(TREE_INFO_BYTES),
                    node_id: 1 + 2 * *appended,
                    txn_id: 1 + *appended,
                    prev_txn_id: *appended,
                    events: payload(2 * EVENT_BYTES),
                };
                let cost = events_cost(std::slice::from_ref(&node));
                ctx.history.append_history_nodes(node).await?;
                *appended += 1;
                ctx.wrote(cost.0, cost.1);
                Ok(())
            }
            Workload::CreateTasks => {
                let id = self.next_matching_id;
                self.next_matching_id += 1;
                let blob = payload(MATCHING_TASK_BYTES);
                let bytes = blob_len(&blob);
                ctx.task_queue
                    .create_tasks(CreateTasksRequest {
                        key: self.wf_queue.clone(),
                        range_id: 1,
                        tasks: vec![TaskRecord {
                            subqueue: 0,
                            pass: 0,
                            task_id: id,
                            expiry_time: None,
                            blob,
                        }],
                    })
                    .await?;
                ctx.wrote(1, bytes);
                Ok(())
            }
            Workload::VisibilityWrite => {
                let vis = ctx
                    .visibility
                    .as_ref()
                    .ok_or_else(|| missing("visibility", &ctx.backend))?;
                let shard = self.next_shard(ctx);
                let first = shard.reserve(2);
                let key =
                    WorkflowKey::new(BENCH_NAMESPACE, self.workflow_id(ctx), RunId::new_random());
                let start = now();
                let record = |status, close, task_id| {
                    visibility_record(
                        &key,
                        shard.id,
                        "bench-type-lifecycle".to_string(),
                        status,
                        start,
                        close,
                        task_id,
                    )
                };
                vis.record_started(record(WorkflowStatus::Running, None, first))
                    .await?;
                vis.record_closed(record(WorkflowStatus::Completed, Some(now()), first + 1))
                    .await?;
                ctx.wrote(2, 0);
                Ok(())
            }
            Workload::VisibilityList => {
                let vis = ctx
                    .visibility
                    .as_ref()
                    .ok_or_else(|| missing("visibility", &ctx.backend))?;
                let query = LIST_QUERIES[self.list_next % LIST_QUERIES.len()];
                self.list_next += 1;
                vis.list(ListWorkflowExecutionsRequest {
                    namespace_id: BENCH_NAMESPACE,
                    query: query.to_string(),
                    page_size: 20,
                    next_page_token: None,
                })
                .await
                .map(|_| ())
            }
            Workload::VisibilityCountGroup => {
                let vis = ctx
                    .visibility
                    .as_ref()
                    .ok_or_else(|| missing("visibility", &ctx.backend))?;
                vis.count(ListWorkflowExecutionsRequest {
                    namespace_id: BENCH_NAMESPACE,
                    query: "GROUP BY ExecutionStatus".to_string(),
                    page_size: 1,
                    next_page_token: None,
                })
                .await
                .map(|_| ())
            }
        }
    }

    /// One whole workflow (see the module docs for the sequence).
    async fn lifecycle(&mut self, ctx: &Ctx) -> Result<()> {
        let shard = self.next_shard(ctx);
        let mut wf = Run::new(shard, self.workflow_id(ctx));
        wf.start(ctx, true).await?;

        // First workflow task: transfer queue -> matching -> started.
        let wft = wf.start_task_id;
        self.dispatch(ctx, &wf, wft, TaskType::Workflow).await?;
        wf.update(ctx, Step::events(1)).await?;

        // Completed, scheduling one activity; the mutable state is read first (cache miss).
        ctx.execution
            .get_workflow_execution(wf.shard.id, &wf.key)
            .await?;
        let act_task = wf.task_id();
        wf.update(
            ctx,
            Step {
                events: 2,
                upsert_activity: true,
                transfer: Some(act_task),
                ..Step::default()
            },
        )
        .await?;
        self.dispatch(ctx, &wf, act_task, TaskType::Activity)
            .await?;
        // Activity started: mutable state only (the started event is written with the result).
        wf.update(
            ctx,
            Step {
                upsert_activity: true,
                ..Step::default()
            },
        )
        .await?;

        // Activity completed: started + completed events, a new workflow task.
        let wft = wf.task_id();
        wf.update(
            ctx,
            Step {
                events: 3,
                delete_activity: true,
                transfer: Some(wft),
                ..Step::default()
            },
        )
        .await?;
        self.dispatch(ctx, &wf, wft, TaskType::Workflow).await?;
        wf.update(ctx, Step::events(1)).await?;

        // Close: task completed + workflow completed.
        let close_task = wf.task_id();
        let vis_task = wf.task_id();
        wf.update(
            ctx,
            Step {
                events: 2,
                transfer: Some(close_task),
                visibility: Some(vis_task),
                close: true,
                ..Step::default()
            },
        )
        .await?;
        if let Some(vis) = &ctx.visibility {
            let rec = visibility_record(
                &wf.key,
                wf.shard.id,
                "bench-type-lifecycle".to_string(),
                WorkflowStatus::Completed,
                wf.start_time,
                Some(now()),
                vis_task,
            );
            vis.record_closed(rec).await?;
            ctx.wrote(1, 0);
        }
        // The history as a client or the close task reads it.
        ctx.history
            .read_history_branch(ReadHistoryBranchRequest {
                shard_id: wf.shard.id,
                tree_id: wf.branch.tree_id,
                branch_id: wf.branch.branch_id,
                min_node_id: 1,
                max_node_id: wf.next_event_id,
                page_size: 100,
                next_page_token: None,
                metadata_only: false,
                reverse: false,
            })
            .await?;
        // The queue processors acknowledge this run's tasks.
        for (category, written) in [
            (TaskCategory::TRANSFER, wf.transfer_tasks),
            (TaskCategory::VISIBILITY, wf.visibility_tasks),
        ] {
            ctx.execution
                .range_complete_history_tasks(
                    wf.shard.id,
                    category,
                    HistoryTaskKey::immediate(wf.task_base),
                    HistoryTaskKey::immediate(wf.task_base + TASK_BLOCK),
                )
                .await?;
            ctx.wrote(written, 0);
        }
        Ok(())
    }

    /// A transfer task reaches matching: the queue processor reads it, matching persists it,
    /// a poller reads it and matching acknowledges it.
    async fn dispatch(
        &mut self,
        ctx: &Ctx,
        wf: &Run<'_>,
        task_id: i64,
        kind: TaskType,
    ) -> Result<()> {
        ctx.execution
            .get_history_tasks(GetHistoryTasksRequest {
                shard_id: wf.shard.id,
                category: TaskCategory::TRANSFER,
                inclusive_min_key: HistoryTaskKey::immediate(task_id),
                exclusive_max_key: HistoryTaskKey::immediate(task_id + 1),
                batch_size: 16,
                next_page_token: None,
            })
            .await?;
        let key = match kind {
            TaskType::Activity => self.act_queue.clone(),
            _ => self.wf_queue.clone(),
        };
        let id = self.next_matching_id;
        self.next_matching_id += 1;
        let blob = payload(MATCHING_TASK_BYTES);
        let bytes = blob_len(&blob);
        ctx.task_queue
            .create_tasks(CreateTasksRequest {
                key: key.clone(),
                range_id: 1,
                tasks: vec![TaskRecord {
                    subqueue: 0,
                    pass: 0,
                    task_id: id,
                    expiry_time: None,
                    blob,
                }],
            })
            .await?;
        ctx.task_queue
            .get_tasks(GetTasksRequest {
                key: key.clone(),
                subqueue: 0,
                inclusive_min_pass: 0,
                inclusive_min_task_id: id,
                exclusive_max_task_id: i64::MAX,
                page_size: 16,
                next_page_token: None,
            })
            .await?;
        let deleted = ctx
            .task_queue
            .complete_tasks_less_than(CompleteTasksLessThanRequest {
                key,
                subqueue: 0,
                exclusive_max_pass: 0,
                exclusive_max_task_id: id + 1,
                limit: 100,
            })
            .await?;
        ctx.wrote(1 + deleted.max(1) as u64, bytes);
        Ok(())
    }
}

/// One bare CAS update of a run (the `update-execution` workload).
async fn update_bare(ctx: &Ctx, mut run: RunState) -> Result<RunState> {
    let m = mutation(
        &run.key,
        &run.cols,
        run.next_event_id + 2,
        run.db_record_version + 1,
        run.next_event_id,
    );
    let cost = mutation_cost(&m);
    ctx.execution
        .update_workflow_execution(UpdateWorkflowExecutionRequest {
            shard_id: run.shard,
            range_id: run.range_id,
            mode: UpdateMode::UpdateCurrent,
            mutation: m,
            mutation_events: Vec::new(),
            new_snapshot: None,
            new_events: Vec::new(),
        })
        .await?;
    ctx.transition();
    ctx.wrote(cost.0, cost.1);
    run.next_event_id += 2;
    run.db_record_version += 1;
    Ok(run)
}

/// A mutation with new info/state blobs and no map, buffer or task changes.
fn mutation(
    key: &WorkflowKey,
    cols: &ExecutionStateColumns,
    next_event_id: i64,
    db_record_version: i64,
    condition: i64,
) -> WorkflowMutation {
    WorkflowMutation {
        key: key.clone(),
        execution_info: payload(EXECUTION_INFO_BYTES),
        execution_state: payload(EXECUTION_STATE_BYTES),
        state: cols.clone(),
        start_version: 0,
        last_write_version: 0,
        next_event_id,
        db_record_version,
        condition,
        checksum: None,
        upsert_activity_infos: BTreeMap::new(),
        delete_activity_infos: Default::default(),
        upsert_timer_infos: BTreeMap::new(),
        delete_timer_infos: Default::default(),
        upsert_child_execution_infos: BTreeMap::new(),
        delete_child_execution_infos: Default::default(),
        upsert_request_cancel_infos: BTreeMap::new(),
        delete_request_cancel_infos: Default::default(),
        upsert_signal_infos: BTreeMap::new(),
        delete_signal_infos: Default::default(),
        upsert_chasm_nodes: BTreeMap::new(),
        delete_chasm_nodes: Default::default(),
        upsert_signal_requested_ids: Default::default(),
        delete_signal_requested_ids: Default::default(),
        new_buffered_events: None,
        clear_buffered_events: false,
        tasks: BTreeMap::new(),
    }
}

/// One state transition of a lifecycle run.
#[derive(Default)]
struct Step {
    /// Events appended (one history node), 0 for none.
    events: i64,
    upsert_activity: bool,
    delete_activity: bool,
    transfer: Option<i64>,
    visibility: Option<i64>,
    close: bool,
}

impl Step {
    fn events(n: i64) -> Self {
        Self {
            events: n,
            ..Self::default()
        }
    }
}

/// Scheduled event id of the bench workflow's one activity (its activity-info key).
const ACTIVITY_ID: i64 = 5;

/// A lifecycle run as the history service tracks it.
struct Run<'a> {
    shard: &'a Shard,
    key: WorkflowKey,
    branch: HistoryBranch,
    cols: ExecutionStateColumns,
    start_time: DateTime<Utc>,
    next_event_id: i64,
    db_record_version: i64,
    txn_id: i64,
    task_base: i64,
    next_task: i64,
    start_task_id: i64,
    transfer_tasks: u64,
    visibility_tasks: u64,
}

impl<'a> Run<'a> {
    fn new(shard: &'a Shard, workflow_id: String) -> Self {
        let run_id = RunId::new_random();
        let start_time = now();
        let task_base = shard.reserve(TASK_BLOCK);
        Self {
            shard,
            key: WorkflowKey::new(BENCH_NAMESPACE, workflow_id, run_id),
            // Temporal uses the first run's id as the tree id.
            branch: HistoryBranch::new_root(TreeId(run_id.0), BranchId::new_random()),
            cols: columns(WorkflowState::Running, WorkflowStatus::Running, start_time),
            start_time,
            next_event_id: 1,
            db_record_version: 0,
            txn_id: 0,
            task_base,
            next_task: task_base,
            start_task_id: task_base,
            transfer_tasks: 0,
            visibility_tasks: 0,
        }
    }

    fn task_id(&mut self) -> i64 {
        let id = self.next_task;
        self.next_task += 1;
        debug_assert!(id < self.task_base + TASK_BLOCK);
        id
    }

    /// One history node of `n` events at the current next event id.
    fn node(&mut self, n: i64) -> AppendHistoryNodesRequest {
        let prev = self.txn_id;
        // Transaction ids only need to grow per branch; Temporal uses task ids.
        self.txn_id += 1;
        let node = AppendHistoryNodesRequest {
            shard_id: self.shard.id,
            branch: self.branch.clone(),
            is_new_branch: self.next_event_id == 1,
            tree_info: if self.next_event_id == 1 {
                payload(TREE_INFO_BYTES)
            } else {
                DataBlob::default()
            },
            node_id: self.next_event_id,
            txn_id: self.txn_id,
            prev_txn_id: prev,
            events: payload(n as usize * EVENT_BYTES),
        };
        self.next_event_id += n;
        node
    }

    /// Start: create (BrandNew) with the first node (started + task scheduled), the first
    /// workflow task and, with `record`, the visibility start.
    async fn start(&mut self, ctx: &Ctx, record: bool) -> Result<()> {
        let events = vec![self.node(2)];
        self.start_task_id = self.task_id();
        let mut snap = snapshot(self.key.clone(), self.cols.clone(), self.next_event_id);
        snap.tasks.insert(
            TaskCategory::TRANSFER,
            vec![history_task(self.start_task_id)],
        );
        self.transfer_tasks += 1;
        let vis_task = (record && ctx.visibility.is_some()).then(|| self.task_id());
        if let Some(id) = vis_task {
            snap.tasks
                .insert(TaskCategory::VISIBILITY, vec![history_task(id)]);
            self.visibility_tasks += 1;
        }
        let (rows, bytes) = snapshot_cost(&snap);
        let (erows, ebytes) = events_cost(&events);
        ctx.execution
            .create_workflow_execution(CreateWorkflowExecutionRequest {
                shard_id: self.shard.id,
                range_id: self.shard.range_id,
                mode: CreateMode::BrandNew,
                new_snapshot: snap,
                new_events: events,
            })
            .await?;
        self.db_record_version = 1;
        ctx.transition();
        ctx.wrote(rows + erows, bytes + ebytes);
        if let (Some(vis), Some(task_id)) = (&ctx.visibility, vis_task) {
            let rec = visibility_record(
                &self.key,
                self.shard.id,
                "bench-type-lifecycle".to_string(),
                WorkflowStatus::Running,
                self.start_time,
                None,
                task_id,
            );
            vis.record_started(rec).await?;
            ctx.wrote(1, 0);
        }
        Ok(())
    }

    /// One update (UpdateCurrent) as `step` describes.
    async fn update(&mut self, ctx: &Ctx, step: Step) -> Result<()> {
        let condition = self.next_event_id;
        let events = if step.events > 0 {
            vec![self.node(step.events)]
        } else {
            Vec::new()
        };
        if step.close {
            self.cols.state = WorkflowState::Completed;
            self.cols.status = WorkflowStatus::Completed;
        }
        let mut m = mutation(
            &self.key,
            &self.cols,
            self.next_event_id,
            self.db_record_version + 1,
            condition,
        );
        if step.upsert_activity {
            m.upsert_activity_infos
                .insert(ACTIVITY_ID, payload(ACTIVITY_INFO_BYTES));
        }
        if step.delete_activity {
            m.delete_activity_infos.insert(ACTIVITY_ID);
        }
        if let Some(id) = step.transfer {
            m.tasks
                .insert(TaskCategory::TRANSFER, vec![history_task(id)]);
            self.transfer_tasks += 1;
        }
        if let Some(id) = step.visibility.filter(|_| ctx.visibility.is_some()) {
            m.tasks
                .insert(TaskCategory::VISIBILITY, vec![history_task(id)]);
            self.visibility_tasks += 1;
        }
        let (rows, bytes) = mutation_cost(&m);
        let (erows, ebytes) = events_cost(&events);
        ctx.execution
            .update_workflow_execution(UpdateWorkflowExecutionRequest {
                shard_id: self.shard.id,
                range_id: self.shard.range_id,
                mode: UpdateMode::UpdateCurrent,
                mutation: m,
                mutation_events: events,
                new_snapshot: None,
                new_events: Vec::new(),
            })
            .await?;
        self.db_record_version += 1;
        ctx.transition();
        ctx.wrote(rows + erows, bytes + ebytes);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Output

/// A spinner with the live rates, redrawn twice a second (hidden when stderr is no terminal).
fn live_progress(ctx: &Arc<Ctx>, opts: &BenchOptions, started: Instant) -> Option<ProgressBar> {
    if !opts.progress || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let unit = if opts.workload == Workload::Lifecycle {
        "workflows"
    } else {
        "calls"
    };
    let (ctx, bar2) = (ctx.clone(), bar.clone());
    tokio::spawn(async move {
        let mut last = (Instant::now(), 0u64);
        while !bar2.is_finished() {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let units = ctx.counters.units.load(Ordering::Relaxed);
            let transitions = ctx.counters.transitions.load(Ordering::Relaxed);
            let failed = ctx.counters.failed_units.load(Ordering::Relaxed);
            let now = Instant::now();
            let recent = (units - last.1) as f64 / (now - last.0).as_secs_f64().max(1e-3);
            last = (now, units);
            let total = started.elapsed().as_secs_f64().max(1e-3);
            bar2.set_message(format!(
                "{units} {unit} ({recent:.0}/s now, {:.0}/s avg)  {:.0} transitions/s  {failed} failed",
                units as f64 / total,
                transitions as f64 / total
            ));
            bar2.tick();
        }
    });
    Some(bar)
}

/// The human-readable report.
pub fn render_table(r: &BenchReport) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "durastore bench: {} on {} ({} shards, concurrency {}, visibility {})",
        r.workload,
        r.backend,
        r.shards,
        r.concurrency,
        if r.visibility { "on" } else { "off" }
    );
    if let Some(p) = &r.preload {
        let _ = writeln!(
            s,
            "preload: {} executions, {} visibility records in {:.1} s ({:.0}/s), {} failed",
            p.executions, p.visibility_records, p.seconds, p.executions_per_second, p.failed
        );
    }
    let load = r
        .machine
        .load_average_1m
        .map(|l| format!(", load average {l:.1}"))
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "machine: {} {}, {} cpus{load}",
        r.machine.os, r.machine.arch, r.machine.cpus
    );
    let _ = writeln!(
        s,
        "measured {:.1} s: {} units ({:.1}/s), {} failed",
        r.elapsed_seconds, r.units, r.units_per_second, r.failed_units
    );
    if let Some(w) = r.workflows_per_second {
        let _ = writeln!(s, "workflows/s: {w:.1}");
    }
    let _ = writeln!(
        s,
        "state transitions: {} ({:.1}/s)",
        r.state_transitions, r.state_transitions_per_second
    );
    let _ = writeln!(
        s,
        "per unit: {:.1} store calls, {:.1} rows written, {:.0} blob bytes written{}",
        r.per_unit.store_calls,
        r.per_unit.rows_written,
        r.per_unit.blob_bytes_written,
        r.per_unit
            .client_cpu_ms
            .map(|c| format!(", {c:.2} ms client CPU"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        s,
        "\n{:<11} {:<36} {:>9} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "store", "operation", "calls", "errors", "mean ms", "p50 ms", "p95 ms", "p99 ms", "max ms"
    );
    for o in &r.operations {
        let _ = writeln!(
            s,
            "{:<11} {:<36} {:>9} {:>6} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
            o.store,
            o.operation,
            o.count,
            o.errors,
            o.mean_ms,
            o.p50_ms,
            o.p95_ms,
            o.p99_ms,
            o.max_ms
        );
    }
    if !r.errors.is_empty() {
        let list: Vec<String> = r.errors.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(s, "\nerrors by kind: {}", list.join(", "));
    }
    if let Some(f) = &r.floor {
        let _ = writeln!(
            s,
            "\nfloor: the same {} statements in {} transactions per unit, without the adapter \
             ({} templates: a shard and task queues per worker)",
            f.statements_per_unit, f.transactions_per_unit, f.templates
        );
        for round in &f.rounds {
            let _ = writeln!(
                s,
                "  round {}: adapter {:.1} units/s{} / floor {:.1} units/s = {:.3}{}",
                round.round,
                round.adapter_units_per_second,
                cpu_note(round.adapter_client_cpu_ms),
                round.floor_units_per_second,
                round.ratio,
                round
                    .load_average_1m
                    .map(|l| format!(" (load {l:.1})"))
                    .unwrap_or_default()
            );
            for run in f.runs.iter().filter(|x| x.round == round.round) {
                let _ = writeln!(
                    s,
                    "    {:<12} {:>9.1} units/s ({} units, {} failed, {:.1} s{})",
                    run.method,
                    run.units_per_second,
                    run.units,
                    run.failed_units,
                    run.elapsed_seconds,
                    cpu_note(run.client_cpu_ms)
                );
            }
        }
        let by_method: Vec<String> = f
            .ratio_by_method
            .iter()
            .map(|(m, r)| format!("{m} {r:.3}"))
            .collect();
        let _ = writeln!(
            s,
            "  adapter ÷ replay, median of {} rounds: {}",
            f.rounds.len(),
            by_method.join(", ")
        );
        let _ = writeln!(
            s,
            "  floor_ratio {:.3} (against {})",
            f.floor_ratio, f.floor_method
        );
        if let Some(p) = &f.pgbench_script {
            let _ = writeln!(s, "  pgbench script: {}", p.display());
        }
        for n in &f.notes {
            let _ = writeln!(s, "  note: {n}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// State transitions of one lifecycle workflow: the create and six updates.
    const LIFECYCLE_TRANSITIONS: u64 = 7;

    async fn sqlite() -> Stores {
        crate::factory::open("sqlite::memory:")
            .await
            .expect("in-memory SQLite opens")
    }

    fn opts(workload: Workload, count: u64) -> BenchOptions {
        BenchOptions {
            workload,
            shards: 2,
            concurrency: 2,
            duration: Duration::from_secs(60),
            count: Some(count),
            preload: 0,
            preload_concurrency: 2,
            visibility: true,
            progress: false,
            preload_stores: None,
        }
    }

    #[test]
    fn workers_go_round_their_own_shards() {
        // 16 shards, 8 workers: worker 3 owns shards 3 and 11.
        let turns: Vec<_> = (0..4).map(|t| own_shard(16, 8, 3, t)).collect();
        assert_eq!(turns, [Some(3), Some(11), Some(3), Some(11)]);
        // 10 shards, 4 workers: worker 1 owns 1, 5, 9; worker 3 owns 3, 7.
        let w1: Vec<_> = (0..3).filter_map(|t| own_shard(10, 4, 1, t)).collect();
        assert_eq!(w1, [1, 5, 9]);
        let w3: Vec<_> = (0..3).filter_map(|t| own_shard(10, 4, 3, t)).collect();
        assert_eq!(w3, [3, 7, 3]);
        // Fewer shards than workers: shared.
        assert_eq!(own_shard(4, 8, 0, 0), None);
    }

    #[tokio::test]
    async fn lifecycle_runs_whole_workflows_without_errors() {
        let r = run(
            sqlite().await,
            &opts(Workload::Lifecycle, 4),
            LayerOptions::default(),
        )
        .await
        .expect("bench runs");
        assert_eq!(r.units, 4, "{r:?}");
        assert_eq!(r.failed_units, 0, "{r:?}");
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert_eq!(r.state_transitions, 4 * LIFECYCLE_TRANSITIONS);
        let calls_without_visibility = 23.0;
        let expected_calls = if r.visibility {
            calls_without_visibility + 2.0
        } else {
            calls_without_visibility
        };
        assert_eq!(r.per_unit.store_calls, expected_calls, "{r:?}");
        let ops: Vec<&str> = r.operations.iter().map(|o| o.operation.as_str()).collect();
        for op in [
            "create_workflow_execution",
            "update_workflow_execution",
            "get_workflow_execution",
            "get_history_tasks",
            "range_complete_history_tasks",
            "read_history_branch",
            "create_tasks",
            "get_tasks",
            "complete_tasks_less_than",
        ] {
            assert!(ops.contains(&op), "{op} missing from {ops:?}");
        }
        assert!(r.per_unit.blob_bytes_written > 4000.0, "{r:?}");
    }

    #[tokio::test]
    async fn single_operation_workloads_run() {
        for w in [
            Workload::CreateExecution,
            Workload::UpdateExecution,
            Workload::GetExecution,
            Workload::AppendHistory,
            Workload::CreateTasks,
        ] {
            let r = run(sqlite().await, &opts(w, 6), LayerOptions::default())
                .await
                .unwrap_or_else(|e| panic!("{w:?}: {e}"));
            assert_eq!((r.units, r.failed_units), (6, 0), "{w:?}: {r:?}");
            assert!(r.errors.is_empty(), "{w:?}: {:?}", r.errors);
        }
    }

    #[test]
    fn preload_url_skips_fsync_and_extra_connections_of_sqlite_files_only() {
        assert_eq!(
            fast_preload_url("sqlite:///tmp/b.db").as_deref(),
            Some("sqlite:///tmp/b.db?synchronous=normal&max_connections=1")
        );
        assert_eq!(
            fast_preload_url("sqlite:///tmp/b.db?max_connections=2").as_deref(),
            Some("sqlite:///tmp/b.db?max_connections=2&synchronous=normal")
        );
        assert_eq!(
            fast_preload_url("sqlite:///tmp/b.db?synchronous=full&max_connections=4"),
            None
        );
        assert_eq!(fast_preload_url("sqlite::memory:"), None);
        assert_eq!(fast_preload_url("postgres://u@h/db"), None);
    }

    #[tokio::test]
    async fn preload_creates_executions() {
        let mut o = opts(Workload::CreateExecution, 1);
        o.preload = 25;
        let r = run(sqlite().await, &o, LayerOptions::default())
            .await
            .expect("bench runs");
        let p = r.preload.expect("preload reported");
        assert_eq!((p.executions, p.failed), (25, 0), "{p:?}");
        if r.visibility {
            assert_eq!(p.visibility_records, 25);
        }
    }
}
