//! The numbers of a run: the `--json` document and its parts.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

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
    pub floor: Option<FloorReport>,
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
