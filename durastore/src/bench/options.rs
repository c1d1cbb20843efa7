//! What to run: the workloads, the command-line options and the options of one run.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use durastore_api::Stores;
use serde::Serialize;

use super::worker::LIST_QUERIES;

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
    pub(super) fn name(self) -> &'static str {
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
    pub(super) fn needs_visibility(self) -> bool {
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
    /// Number of history shards to use (ids 1..=N, or N from --first-shard on)
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub shards: u32,
    /// First shard id of the range the bench uses; every shard in the range must be free (no
    /// shard row, no executions), so a database in use can be benched beside its own shards
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(0..))]
    pub first_shard: Option<i32>,
    /// The database is a disposable scratch database: use the shards whatever they hold (the
    /// bench takes them over: it moves their range ids on and overwrites their shard info)
    #[arg(long)]
    pub scratch: bool,
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
    /// (PostgreSQL, MySQL/MariaDB, Cassandra, Elasticsearch/OpenSearch; needs the `floor` feature)
    #[arg(long)]
    pub floor: bool,
    /// With --floor: rounds of adapter run + replays, alternating (the ratio is their median)
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub floor_rounds: u32,
    /// Print one JSON document (see the module docs) instead of the table
    #[arg(long)]
    pub json: bool,
}

/// What to run, independent of the command line.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Workload.
    pub workload: Workload,
    /// Shards (ids `first_shard..first_shard + shards`).
    pub shards: u32,
    /// The first shard's id.
    pub first_shard: i32,
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
