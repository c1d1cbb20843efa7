//! The `durastore` command line: schema tool, conformance runner and inspector.
//!
//! Exit codes: 0 success; 1 a check failed (conformance failures, schema drift); 2 invalid
//! usage or input; 3 any other error (cannot open the database, …).

/// `println!` that ignores a closed stdout (`durastore … | head` must not panic).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod cmd;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use durastore_api::{ErrorKind, StoreError};

/// Where the stores live, shared by every subcommand that opens them.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Store URL, e.g. sqlite:///var/lib/durastore/main.db or sqlite::memory: (wins over --config)
    #[arg(long, env = "DURASTORE_URL")]
    pub url: Option<String>,
    /// YAML config shaped like Temporal's `persistence:` section (defaultStore; visibilityStore for --set visibility)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// durastore: the storage layer of a Temporal-style durable-execution server
#[derive(Debug, Parser)]
#[command(name = "durastore", version, propagate_version = true)]
struct Cli {
    /// Log level (error, warn, info, debug, trace, or a RUST_LOG-style filter); overrides RUST_LOG
    #[arg(long, global = true, value_name = "LEVEL")]
    log_level: Option<String>,
    /// Serve Prometheus metrics on this address (e.g. 127.0.0.1:9464 or localhost:9464) and record every store call
    #[arg(long, global = true, value_name = "HOST:PORT", value_parser = parse_listen_addr)]
    metrics_addr: Option<std::net::SocketAddr>,
    /// Log a warning for every store call slower than this many milliseconds
    #[arg(long, global = true, value_name = "MS")]
    slow_ms: Option<u64>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the conformance suite against a backend (default: a fresh temporary SQLite file)
    Conformance(cmd::conformance::ConformanceArgs),
    /// Create, update, show and verify the versioned schema
    Schema {
        #[command(subcommand)]
        command: cmd::schema::SchemaCommand,
    },
    /// Look at stored shards, workflows and history
    Inspect {
        #[command(subcommand)]
        command: cmd::inspect::InspectCommand,
    },
    /// Measure a backend: a workflow lifecycle or one store operation, per second and per call
    Bench(durastore::bench::BenchArgs),
}

/// An error that decides the exit code.
#[derive(Debug)]
pub enum CliError {
    /// A store or input error.
    Store(StoreError),
    /// A check failed; its report has already been printed.
    CheckFailed,
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        CliError::Store(e)
    }
}

/// Result of a subcommand.
pub type CliResult = Result<(), CliError>;

/// `HOST:PORT` to the first address the host name resolves to (`localhost:9464`,
/// `127.0.0.1:9464`, `[::1]:9464`).
fn parse_listen_addr(text: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs as _;
    text.to_socket_addrs()
        .map_err(|e| format!("{text:?} is not HOST:PORT ({e})"))?
        .next()
        .ok_or_else(|| format!("{text:?} resolves to no address"))
}

/// The log filter without `--log-level` / `RUST_LOG`: warnings, but not the Cassandra driver's
/// own account of a failed connect, which the error the command prints already says once.
const DEFAULT_LOG: &str = "warn,scylla=off";

fn init_tracing(level: Option<&str>) {
    use tracing_subscriber::EnvFilter;
    let filter = match level {
        Some(l) => EnvFilter::try_new(l),
        None => EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new(DEFAULT_LOG)),
    };
    let filter = filter.unwrap_or_else(|e| {
        eprintln!("warning: bad log filter ({e}); using \"{DEFAULT_LOG}\"");
        EnvFilter::new(DEFAULT_LOG)
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// The store layers the global flags ask for (`--metrics-addr`, `--slow-ms`); `None` when
/// neither is given, so commands open bare stores.
static LAYERS: std::sync::OnceLock<durastore_api::LayerOptions> = std::sync::OnceLock::new();

/// `stores` wrapped in the layers the global flags ask for, or unchanged.
pub fn layered(stores: durastore_api::Stores) -> durastore_api::Stores {
    match LAYERS.get() {
        Some(opts) => durastore_api::instrument(stores, opts),
        None => stores,
    }
}

/// Installs the Prometheus exporter (an HTTP listener on the runtime) with real histogram
/// buckets for the store latency, so `/metrics` shows `_bucket` series per operation.
fn install_prometheus(
    rt: &tokio::runtime::Runtime,
    addr: std::net::SocketAddr,
) -> Result<(), String> {
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
    let _guard = rt.enter();
    PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets_for_metric(
            Matcher::Full(durastore_api::layer::OPERATION_SECONDS.to_string()),
            durastore_api::layer::LATENCY_BUCKETS_SECONDS,
        )
        .and_then(|b| b.install())
        .map_err(|e| format!("cannot serve metrics on {addr}: {e}"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_level.as_deref());
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    if let Some(addr) = cli.metrics_addr
        && let Err(e) = install_prometheus(&rt, addr)
    {
        eprintln!("error: {e}");
        return ExitCode::from(3);
    }
    let layer_opts = durastore_api::LayerOptions {
        metrics: cli.metrics_addr.is_some(),
        slow_threshold: cli.slow_ms.filter(|ms| *ms > 0).map(Duration::from_millis),
        ..durastore_api::LayerOptions::default()
    };
    if cli.metrics_addr.is_some() || cli.slow_ms.is_some() {
        let _ = LAYERS.set(layer_opts.clone());
    }
    let result = rt.block_on(async {
        match cli.command {
            Command::Conformance(args) => cmd::conformance::run(args).await,
            Command::Schema { command } => cmd::schema::run(command).await,
            Command::Inspect { command } => cmd::inspect::run(command).await,
            Command::Bench(args) => durastore::bench::run_cli(args, layer_opts)
                .await
                .map_err(CliError::from),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::CheckFailed) => ExitCode::from(1),
        Err(CliError::Store(e)) => {
            eprintln!("error: {e}");
            for cause in e.causes() {
                eprintln!("  caused by: {cause}");
            }
            if e.kind() == ErrorKind::InvalidArgument {
                ExitCode::from(2)
            } else {
                ExitCode::from(3)
            }
        }
    }
}
