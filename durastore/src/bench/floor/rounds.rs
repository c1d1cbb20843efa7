//! The rounds of one `--floor` measurement and their medians.

use std::collections::BTreeMap;
use std::path::PathBuf;

use durastore_api::{Result, Stores};

use super::capture::{Templates, capture};
use super::replay::{driver_loop, pgbench};
use super::{Target, connect_raw, target_of};
use crate::bench::options::BenchOptions;
use crate::bench::report::{FloorReport, FloorRound, FloorRun, Machine};

/// The median of `values` (the mean of the middle two for an even count); 0 when empty.
pub(super) fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.into_iter().collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// The rounds of one `--floor` measurement: per round an adapter run and [`Rounds::replay`] (in
/// either order), then [`Rounds::close_round`]; at the end [`Rounds::finish`].
#[derive(Debug, Default)]
pub struct Rounds {
    pub(super) runs: Vec<FloorRun>,
    pub(super) rounds: Vec<FloorRound>,
    /// Where the requests replay.
    pub(super) target: String,
    /// Round trips and statements per unit, templates, cycle.
    pub(super) shape: (usize, usize, usize, usize),
    pub(super) script: Option<PathBuf>,
    pub(super) notes: Vec<String>,
}

impl Rounds {
    /// Brings the database to the same starting point before every measured run: on
    /// PostgreSQL a `CHECKPOINT`. After a checkpoint the first change of each page writes the
    /// whole page to the WAL, which on a small machine slows a run by up to half until the hot
    /// pages have been written once; whichever run follows a checkpoint pays for it. So every
    /// run (adapter and replays) starts right after one, and none inherits the other's phase.
    /// Without the privilege (`pg_checkpoint`, PostgreSQL 15+, or superuser) the runs go on
    /// and the report says so.
    pub async fn settle(&mut self, url: &str) -> Result<()> {
        if target_of(url)? != Target::Postgres {
            return Ok(());
        }
        let driver = connect_raw(url).await?;
        let r = driver.execute("CHECKPOINT", &[]).await;
        let _ = driver.close().await;
        if let Err(e) = r {
            self.note(format!(
                "runs did not start after a CHECKPOINT ({e}); grant pg_checkpoint to the user for \
                 steadier ratios"
            ));
        }
        Ok(())
    }

    /// Adds `note` to the report (once, however many rounds meet it) and logs it.
    pub(super) fn note(&mut self, note: String) {
        if !self.notes.contains(&note) {
            tracing::warn!("{note}");
            self.notes.push(note);
        }
    }

    /// Captures fresh templates (an adapter run moves the shards' leases on) and runs every
    /// replay the backend has.
    pub async fn replay(
        &mut self,
        url: &str,
        stores: &Stores,
        opts: &BenchOptions,
    ) -> Result<Vec<FloorRun>> {
        let captured = capture(url, stores, opts).await?;
        let (trips, stmts) = captured.shape();
        self.shape = (trips, stmts, captured.slots, captured.cycle);
        self.target = target_of(url)?.name().to_string();
        self.settle(url).await?;
        let mut runs = vec![driver_loop(url, &captured, opts.concurrency, opts.duration).await?];
        let pgbench_templates = match &captured.templates {
            Templates::Sql(t) if target_of(url)? == Target::Postgres => Some(t),
            _ => None,
        };
        if pgbench_templates.is_some() && captured.cycle > 1 {
            self.note(
                "pgbench replays one template per client, not a cycle; only the driver loop ran"
                    .into(),
            );
        } else if let Some(templates) = pgbench_templates {
            self.settle(url).await?;
            match pgbench(url, templates, opts.concurrency, opts.duration).await? {
                Some((run, path)) => {
                    runs.push(run);
                    // Keep the last round's script only.
                    if let Some(old) = self.script.replace(path) {
                        let _ = std::fs::remove_file(old);
                    }
                }
                None => self.note("pgbench is not on the PATH; only the driver loop ran".into()),
            }
        }
        Ok(runs)
    }

    /// Ends the round with its replays (from [`Rounds::replay`]) and its adapter run (made
    /// just before or just after them).
    pub fn close_round(
        &mut self,
        adapter_units_per_second: f64,
        adapter_client_cpu_ms: Option<f64>,
        mut runs: Vec<FloorRun>,
    ) {
        let round = self.rounds.len() as u32 + 1;
        for r in &mut runs {
            r.round = round;
        }
        // The floor method is known at the end; `finish` fills in the round's floor.
        self.rounds.push(FloorRound {
            round,
            adapter_units_per_second,
            adapter_client_cpu_ms,
            floor_units_per_second: 0.0,
            ratio: 0.0,
            load_average_1m: Machine::this().load_average_1m,
        });
        self.runs.extend(runs);
    }

    /// The report: medians over the rounds, against the floor method.
    pub fn finish(mut self) -> FloorReport {
        let (transactions_per_unit, statements_per_unit, templates, cycle) = self.shape;
        let run_of = |runs: &[FloorRun], round: u32, method: &str| {
            runs.iter()
                .find(|r| r.round == round && r.method == method)
                .map(|r| r.units_per_second)
        };
        let mut ratio_by_method = BTreeMap::new();
        for method in self.runs.iter().map(|r| r.method.clone()) {
            if ratio_by_method.contains_key(&method) {
                continue;
            }
            let ratios = self.rounds.iter().filter_map(|rd| {
                run_of(&self.runs, rd.round, &method)
                    .map(|floor| ratio(rd.adapter_units_per_second, floor))
            });
            ratio_by_method.insert(method.clone(), median(ratios));
        }
        let floor_method = ratio_by_method
            .iter()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map(|(m, _)| m.clone())
            .unwrap_or_default();
        for rd in &mut self.rounds {
            rd.floor_units_per_second = run_of(&self.runs, rd.round, &floor_method).unwrap_or(0.0);
            rd.ratio = ratio(rd.adapter_units_per_second, rd.floor_units_per_second);
        }
        FloorReport {
            target: self.target,
            transactions_per_unit,
            statements_per_unit,
            templates,
            cycle,
            floor_ratio: ratio_by_method.get(&floor_method).copied().unwrap_or(0.0),
            floor_units_per_second: median(
                self.runs
                    .iter()
                    .filter(|r| r.method == floor_method)
                    .map(|r| r.units_per_second),
            ),
            adapter_units_per_second: median(
                self.rounds.iter().map(|r| r.adapter_units_per_second),
            ),
            ratio_by_method,
            floor_method,
            runs: self.runs,
            rounds: self.rounds,
            pgbench_script: self.script,
            notes: self.notes,
        }
    }
}

/// `adapter / floor`, 0 for a floor that did nothing.
pub(super) fn ratio(adapter: f64, floor: f64) -> f64 {
    if floor > 0.0 { adapter / floor } else { 0.0 }
}
