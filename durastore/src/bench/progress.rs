//! Progress on stderr: the live rates while measuring, the preload's bar.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::ctx::Ctx;
use super::options::{BenchOptions, Workload};

/// A spinner with the live rates, redrawn twice a second (hidden when stderr is no terminal).
pub(super) fn live_progress(
    ctx: &Arc<Ctx>,
    opts: &BenchOptions,
    started: Instant,
) -> Option<ProgressBar> {
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

/// The preload's progress bar of `total` executions, when `opts` asks for progress.
pub(super) fn preload_bar(opts: &BenchOptions, total: u64) -> Option<ProgressBar> {
    if !opts.progress {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "preload {bar:40} {pos}/{len} executions  {per_sec}  eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Some(bar)
}
