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

fn init_tracing(level: Option<&str>) {
    use tracing_subscriber::EnvFilter;
    let filter = match level {
        Some(l) => EnvFilter::try_new(l),
        None => EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new("warn")),
    };
    let filter = filter.unwrap_or_else(|e| {
        eprintln!("warning: bad log filter ({e}); using \"warn\"");
        EnvFilter::new("warn")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
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
    let result = rt.block_on(async {
        match cli.command {
            Command::Conformance(args) => cmd::conformance::run(args).await,
            Command::Schema { command } => cmd::schema::run(command).await,
            Command::Inspect { command } => cmd::inspect::run(command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::CheckFailed) => ExitCode::from(1),
        Err(CliError::Store(e)) => {
            eprintln!("error: {e}");
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                eprintln!("  caused by: {s}");
                src = s.source();
            }
            if e.kind() == ErrorKind::InvalidArgument {
                ExitCode::from(2)
            } else {
                ExitCode::from(3)
            }
        }
    }
}
