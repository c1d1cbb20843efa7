//! `--preload`: executions and visibility records written before measuring.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use durastore_api::{
    ArchetypeId, CreateMode, CreateWorkflowExecutionRequest, ExecutionStore, Result, RunId,
    StoreError, VisibilityStore, WorkflowKey, WorkflowState, WorkflowStatus,
};

use super::ctx::Ctx;
use super::options::BenchOptions;
use super::progress::preload_bar;
use super::records::{BENCH_NAMESPACE, columns, mix, now, snapshot, visibility_record};
use super::report::PreloadReport;

/// Statuses of preloaded records, by `i % 20` (65% Completed, 15% Running, then the rest).
pub(super) fn preload_status(i: u64) -> WorkflowStatus {
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
pub(super) struct PreloadTarget {
    pub(super) execution: Arc<dyn ExecutionStore>,
    pub(super) visibility: Option<Arc<dyn VisibilityStore>>,
}

pub(super) async fn preload(
    ctx: &Arc<Ctx>,
    target: Arc<PreloadTarget>,
    opts: &BenchOptions,
) -> Result<PreloadReport> {
    let total = opts.preload;
    let bar = preload_bar(opts, total);
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
pub(super) async fn preload_one(ctx: &Ctx, target: &PreloadTarget, i: u64) -> Result<bool> {
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
            archetype_id: ArchetypeId::WORKFLOW,
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
