//! `--floor` in a build without the `floor` feature: refused before anything runs.

use durastore_api::{LayerOptions, Result, StoreError, Stores};

use super::options::BenchOptions;
use super::report::BenchReport;

fn not_built() -> StoreError {
    StoreError::unsupported(
        "--floor is not in this build: build durastore with the `floor` feature (on by default)",
    )
}

/// Always refuses: this build has no floor.
pub(super) fn check_supported(_url: &str) -> Result<()> {
    Err(not_built())
}

/// Always refuses: this build has no floor.
pub(super) async fn run_with_floor(
    _stores: &Stores,
    _opts: &BenchOptions,
    _layer: &LayerOptions,
    _url: &str,
    _rounds: u32,
) -> Result<BenchReport> {
    Err(not_built())
}
