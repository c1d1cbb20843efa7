//! The human-readable report.

use std::fmt::Write as _;

use super::report::{BenchReport, FloorReport, OperationReport};

/// The human-readable report.
pub fn render_table(r: &BenchReport) -> String {
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
    render_operations(&mut s, &r.operations);
    if !r.errors.is_empty() {
        let list: Vec<String> = r.errors.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(s, "\nerrors by kind: {}", list.join(", "));
    }
    if let Some(f) = &r.floor {
        render_floor(&mut s, f);
    }
    s
}

/// `, N ms client CPU/unit` when known.
fn cpu_note(ms: Option<f64>) -> String {
    ms.map(|c| format!(", {c:.2} ms client CPU/unit"))
        .unwrap_or_default()
}

/// The per-operation latency table.
fn render_operations(s: &mut String, operations: &[OperationReport]) {
    let _ = writeln!(
        s,
        "\n{:<11} {:<36} {:>9} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "store", "operation", "calls", "errors", "mean ms", "p50 ms", "p95 ms", "p99 ms", "max ms"
    );
    for o in operations {
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
}

/// The floor's rounds, runs and ratios.
fn render_floor(s: &mut String, f: &FloorReport) {
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
