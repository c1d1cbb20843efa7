//! Latency statistics: the layer's observer, one HDR histogram per store operation.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use durastore_api::layer::{Call, CallObserver};
use hdrhistogram::Histogram;

use super::report::OperationReport;

/// Per-operation HDR histograms, filled by the layer while measuring.
#[derive(Default)]
pub(super) struct Stats {
    pub(super) recording: AtomicBool,
    pub(super) ops: Mutex<HashMap<(&'static str, &'static str), OpStats>>,
    pub(super) errors: Mutex<BTreeMap<&'static str, u64>>,
}

pub(super) struct OpStats {
    pub(super) micros: Histogram<u64>,
    pub(super) errors: u64,
}

impl Stats {
    pub(super) fn start(&self) {
        self.recording.store(true, Ordering::Release);
    }
    pub(super) fn stop(&self) {
        self.recording.store(false, Ordering::Release);
    }

    /// Per-operation reports, errors by kind, and the number of calls.
    pub(super) fn summary(&self) -> (Vec<OperationReport>, BTreeMap<String, u64>, u64) {
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
