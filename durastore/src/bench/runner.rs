//! One measured run: acquire the shards, preload, set the workers up, run them until the
//! deadline or the unit budget, report.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Instant;

use durastore_api::{LayerOptions, Result, ShardId, StoreError, Stores};

use super::cpu::{CpuClock, cpu_ms_per_unit};
use super::ctx::{Ctx, missing};
use super::options::BenchOptions;
use super::preload::{PreloadTarget, preload};
use super::progress::live_progress;
use super::report::BenchReport;
use super::stats::Stats;
use super::worker::setup_workers;

/// Runs a bench on `stores` (wrapped here with `layer` plus the bench's own observer) and
/// returns its report.
pub async fn run(stores: Stores, opts: &BenchOptions, layer: LayerOptions) -> Result<BenchReport> {
    let stats = Arc::new(Stats::default());
    let mut layer = layer;
    layer.observer = Some(stats.clone());
    let stores = durastore_api::instrument(stores, &layer);
    let ctx = Arc::new(Ctx::new(&stores, opts, stats.clone(), opts.first_shard).await?);

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
