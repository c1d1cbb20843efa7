//! What the workers of one run share: the stores, the acquired shards, the counters.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use durastore_api::{
    CountWorkflowExecutionsRequest, ExecutionStore, GetOrCreateShardRequest, HistoryStore, Result,
    ShardId, StoreError, Stores, TaskQueueStore, UpdateShardRequest, Uuid, VisibilityStore,
};

use super::options::{BenchOptions, Workload};
use super::records::{BENCH_NAMESPACE, INFO_BYTES, payload};
use super::report::{BenchReport, Machine, PerUnit, PreloadReport};
use super::stats::Stats;

/// Counters the workers bump and the progress line reads.
#[derive(Default)]
pub(super) struct Counters {
    pub(super) units: AtomicU64,
    pub(super) failed_units: AtomicU64,
    pub(super) transitions: AtomicU64,
    pub(super) rows: AtomicU64,
    pub(super) bytes: AtomicU64,
}

/// One acquired shard.
pub(super) struct Shard {
    pub(super) id: ShardId,
    pub(super) range_id: i64,
    pub(super) next_task_id: AtomicI64,
}

impl Shard {
    /// Reserves `n` consecutive task ids (Temporal allocates them from the shard's range).
    pub(super) fn reserve(&self, n: i64) -> i64 {
        self.next_task_id.fetch_add(n, Ordering::Relaxed)
    }
}

pub(super) struct Ctx {
    pub(super) backend: String,
    pub(super) execution: Arc<dyn ExecutionStore>,
    pub(super) history: Arc<dyn HistoryStore>,
    pub(super) task_queue: Arc<dyn TaskQueueStore>,
    pub(super) visibility: Option<Arc<dyn VisibilityStore>>,
    pub(super) shards: Vec<Shard>,
    pub(super) next_shard: AtomicUsize,
    /// Workers (`--concurrency`).
    pub(super) workers: usize,
    /// Distinguishes this run's workflow ids and queue names from earlier runs'.
    pub(super) run_tag: String,
    pub(super) counters: Counters,
    pub(super) stats: Arc<Stats>,
}

pub(super) fn missing(store: &str, backend: &str) -> StoreError {
    StoreError::unsupported(format!(
        "the bench needs a {store} store; {backend} has none"
    ))
}

impl Ctx {
    /// Acquires `opts.shards` shards with consecutive ids from `first_shard`.
    pub(super) async fn new(
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
    pub(super) fn shard(&self) -> &Shard {
        let i = self.next_shard.fetch_add(1, Ordering::Relaxed);
        &self.shards[i % self.shards.len()]
    }

    pub(super) fn wrote(&self, rows: u64, bytes: u64) {
        self.counters.rows.fetch_add(rows, Ordering::Relaxed);
        self.counters.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(super) fn transition(&self) {
        self.counters.transitions.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn report(
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

pub(super) async fn probe_visibility(v: &dyn VisibilityStore) -> Result<()> {
    v.count(CountWorkflowExecutionsRequest::new(BENCH_NAMESPACE, ""))
        .await
        .map(|_| ())
}
