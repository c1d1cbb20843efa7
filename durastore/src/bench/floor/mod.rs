//! `durastore bench --floor`: what the database itself does with the adapter's requests.
//!
//! After an adapter run, the same workload runs one unit at a time through stores that record
//! every request they send: SQL statements in their transactions
//! ([`durastore_sql::record`]), Cassandra statements and batches
//! ([`durastore_cassandra::floor`]), or HTTP requests to a search server
//! ([`durastore_elastic::floor`]). Two recorded units give a template: the same requests, with
//! ids and task ids rewritten per iteration ([`durastore_api::replay`]). As in the adapter run,
//! where every worker has task queues of its own and the workflows spread over the shards, one
//! template is recorded per floor worker (up to `--shards` of them), each on a shard and task
//! queues of its own: the floor's workers contend for rows no more than the adapter's. A
//! workload that cycles through requests (`visibility-list` goes round four queries) gets one
//! template per step of the cycle. The templates then run, at the adapter's concurrency and for
//! the same time:
//!
//! - PostgreSQL, MySQL/MariaDB: through the backend's own driver and pool, without the store
//!   logic (`driver_loop`: prepared statements, as the adapter sends them), and through
//!   `pgbench -M prepared` (PostgreSQL, when `pgbench` is on the PATH);
//! - Cassandra/ScyllaDB: straight through the scylla driver (`driver_loop`): the same prepared
//!   statements and logged conditional batches at the same consistency levels;
//! - Elasticsearch/OpenSearch (visibility workloads, with `--visibility-url`): the same
//!   document writes and search requests through the same HTTP client (`http_loop`).
//!
//! A round is one adapter run and the replays, the adapter first in odd rounds and last in even
//! ones. Several rounds alternate adapter and floor, so a drift of the machine (disk flush
//! latency, a neighbour's load, a growing database, a server warming up) touches both sides.
//! Per replay method, the ratio is the median over the rounds of adapter units/s ÷ that
//! method's units/s in the same round; `floor_ratio` is the lowest of them, against the replay
//! that beats the adapter most. The method is chosen over all rounds, not per round: the
//! faster of two noisy runs of equally fast replays is faster than either replay is, so a
//! per-round maximum would move the floor up by the noise alone. Nothing of the store logic
//! runs in the floor: no request checks, no row mapping, no query translation, no condition
//! evaluation beyond "did it apply", no metrics layer.

use std::sync::Arc;
use std::time::Duration;

use durastore_api::{LayerOptions, Result, StoreError, Stores};
use durastore_sql::SqlDriver;

use crate::registry::{BackendKind, scheme_of};

use super::options::BenchOptions;
use super::report::BenchReport;
use super::runner::run;

mod capture;
mod replay;
mod rounds;
#[cfg(test)]
mod tests;

use rounds::Rounds;

/// The longest unmeasured run before a floor's first round.
pub(super) const WARM_UP: Duration = Duration::from_secs(5);

/// `--floor`: a warm-up, then `rounds` adapter runs and the floor's replays, alternating which
/// goes first (see the module docs). The report is the first adapter run's (which did the
/// preload), with the floor's rounds.
pub(super) async fn run_with_floor(
    stores: &Stores,
    opts: &BenchOptions,
    layer: &LayerOptions,
    url: &str,
    rounds: u32,
) -> Result<BenchReport> {
    let mut floor = Rounds::default();
    let again = BenchOptions {
        preload: 0,
        preload_stores: None,
        ..opts.clone()
    };
    // A warm-up, not measured: the first run on a freshly started server is the slowest
    // (caches, JIT, connection setup; up to half the rate of round 3 here), and it would
    // otherwise always be the adapter's.
    let warm_up = BenchOptions {
        duration: opts.duration.min(WARM_UP),
        count: None,
        progress: false,
        ..again.clone()
    };
    if opts.progress {
        eprintln!(
            "floor: warming up for {:.0} s (not measured)…",
            warm_up.duration.as_secs_f64()
        );
    }
    run(stores.clone(), &warm_up, layer.clone()).await?;
    floor.settle(url).await?;
    let mut report = run(stores.clone(), opts, layer.clone()).await?;
    let mut adapter = (report.units_per_second, report.per_unit.client_cpu_ms);
    for round in 1..=rounds {
        if opts.progress {
            eprintln!(
                "floor round {round}/{rounds}: recording the requests and replaying them \
                 without the adapter…"
            );
        }
        // Even rounds replay first: while a server warms up (JIT, caches) or drifts, whichever
        // side runs second gains, so the order alternates and the median sees both.
        let mut runs = Vec::new();
        if round % 2 == 0 {
            runs = floor.replay(url, stores, opts).await?;
        }
        if round > 1 {
            floor.settle(url).await?;
            let r = run(stores.clone(), &again, layer.clone()).await?;
            adapter = (r.units_per_second, r.per_unit.client_cpu_ms);
        }
        if round % 2 == 1 {
            runs = floor.replay(url, stores, opts).await?;
        }
        if opts.progress {
            eprintln!(
                "floor round {round}/{rounds}: adapter {:.1} units/s",
                adapter.0
            );
        }
        floor.close_round(adapter.0, adapter.1, runs);
    }
    report.floor = Some(floor.finish());
    Ok(report)
}

/// The servers the floor replays on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    Postgres,
    Mysql,
    Cassandra,
    /// Elasticsearch or OpenSearch (visibility only).
    Search,
}

impl Target {
    pub(super) fn name(self) -> &'static str {
        match self {
            Target::Postgres => "postgres",
            Target::Mysql => "mysql",
            Target::Cassandra => "cassandra",
            Target::Search => "search",
        }
    }
}

/// The floor's target for `url`; the registry parses the scheme.
pub(super) fn target_of(url: &str) -> Result<Target> {
    match BackendKind::from_url(url) {
        Ok(BackendKind::Postgres) => Ok(Target::Postgres),
        Ok(BackendKind::Mysql) => Ok(Target::Mysql),
        Ok(BackendKind::Cassandra) => Ok(Target::Cassandra),
        Ok(BackendKind::Elastic) => Ok(Target::Search),
        Ok(BackendKind::Sqlite) | Err(_) => Err(StoreError::unsupported(format!(
            "--floor is built for PostgreSQL, MySQL/MariaDB, Cassandra/ScyllaDB and (visibility \
             workloads) Elasticsearch/OpenSearch URLs, not {}://",
            scheme_of(url).unwrap_or_default()
        ))),
    }
}

/// Checks that `url` is a backend with a floor, before the adapter run spends its time.
pub fn check_supported(url: &str) -> Result<()> {
    target_of(url).map(|_| ())
}

pub(super) async fn connect_raw(url: &str) -> Result<Arc<dyn SqlDriver>> {
    Ok(match target_of(url)? {
        Target::Postgres => Arc::new(
            durastore_postgres::connect(&durastore_postgres::PostgresConfig::from_url(url)?)
                .await?,
        ),
        Target::Mysql => {
            Arc::new(durastore_mysql::connect(&durastore_mysql::MysqlConfig::from_url(url)?).await?)
        }
        other => {
            return Err(StoreError::internal(format!(
                "{} is not a SQL backend",
                other.name()
            )));
        }
    })
}
