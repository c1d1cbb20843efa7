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
//!
//! # Layout
//!
//! [`options`](BenchArgs) and the CLI entry ([`run_cli`]) open the stores; `runner` measures
//! one run with `ctx` (the acquired shards and counters), `worker` and `lifecycle` (what a unit
//! does), `records` (the payloads and requests), `preload`, `stats` (the latency observer),
//! `progress` and `cpu`; `report` and `render` are the output; `floor` (feature `floor`) is
//! `--floor`.

mod cli;
mod cpu;
mod ctx;
#[cfg(feature = "floor")]
mod floor;
#[cfg(not(feature = "floor"))]
#[path = "floor_off.rs"]
mod floor;
mod lifecycle;
mod options;
mod preload;
mod progress;
mod records;
mod render;
mod report;
mod runner;
mod safety;
mod stats;
#[cfg(test)]
mod tests;
mod worker;

pub use cli::{fast_preload_url, run_cli};
pub use options::{BenchArgs, BenchOptions, Workload};
pub use records::{
    ACTIVITY_INFO_BYTES, BENCH_NAMESPACE, EVENT_BYTES, EXECUTION_INFO_BYTES, EXECUTION_STATE_BYTES,
    HISTORY_TASK_BYTES, INFO_BYTES, MATCHING_TASK_BYTES, TREE_INFO_BYTES,
};
pub use render::render_table;
pub use report::{
    BenchReport, FloorReport, FloorRound, FloorRun, Machine, OperationReport, PerUnit,
    PreloadReport,
};
pub use runner::run;
