//! Recording a workload's requests unit by unit and deriving the templates.

use std::sync::{Arc, Mutex};

use durastore_api::replay::Log;
use durastore_api::{Result, ShardId, StoreError, Stores};
use durastore_cassandra::floor::{CqlTemplate, Recorder as CqlRecorder};
use durastore_elastic::floor::{HttpTemplate, Recorder as HttpRecorder};
use durastore_sql::floor::Template;
use durastore_sql::record::Recorder;

use super::{Target, target_of};
use crate::bench::options::BenchOptions;
use crate::bench::runner::run_units_one_by_one;

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
    pub(super) fn shape(&self) -> (usize, usize) {
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
pub(super) async fn capture_slot<U: Send + 'static, T>(
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

/// [`capture_slot`] for floor workers `0..slots` in turn (worker `k` on shard `first_shard + k`): the
/// templates, slot by slot.
pub(super) async fn capture_slots<U: Send + 'static, T>(
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
        let shard = ShardId(opts.first_shard + k as i32);
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
/// worker `k` gets shard `first_shard + k` and task queues of its own. `stores` are the bench's own
/// (the search floor records only their visibility calls); the SQL and Cassandra floors
/// open recorded stores of their own at `url`.
pub async fn capture(url: &str, stores: &Stores, opts: &BenchOptions) -> Result<Captured> {
    let slots = opts.concurrency.min(opts.shards).max(1) as usize;
    let cycle = opts.workload.cycle();
    let templates = match target_of(url)? {
        target @ (Target::Postgres | Target::Mysql) => {
            let recorder = Arc::new(Recorder::default());
            let recorded = if target == Target::Postgres {
                durastore_postgres::floor::open_recorded(url, recorder.clone()).await?
            } else {
                durastore_mysql::floor::open_recorded(url, recorder.clone()).await?
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
            let recorded = durastore_cassandra::floor::open_recorded(url, recorder.clone()).await?;
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
            let vis = durastore_elastic::floor::open_recorded(url, recorder.clone()).await?;
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
