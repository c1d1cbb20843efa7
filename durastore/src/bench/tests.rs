use std::time::Duration;

use durastore_api::{LayerOptions, Stores};

use super::cli::fast_preload_url;
use super::options::{BenchOptions, Workload};
use super::runner::run;
use super::worker::own_shard;

/// State transitions of one lifecycle workflow: the create and six updates.
const LIFECYCLE_TRANSITIONS: u64 = 7;

async fn sqlite() -> Stores {
    crate::factory::open("sqlite::memory:")
        .await
        .expect("in-memory SQLite opens")
}

fn opts(workload: Workload, count: u64) -> BenchOptions {
    BenchOptions {
        workload,
        shards: 2,
        first_shard: 1,
        concurrency: 2,
        duration: Duration::from_secs(60),
        count: Some(count),
        preload: 0,
        preload_concurrency: 2,
        visibility: true,
        progress: false,
        preload_stores: None,
    }
}

#[test]
fn workers_go_round_their_own_shards() {
    // 16 shards, 8 workers: worker 3 owns shards 3 and 11.
    let turns: Vec<_> = (0..4).map(|t| own_shard(16, 8, 3, t)).collect();
    assert_eq!(turns, [Some(3), Some(11), Some(3), Some(11)]);
    // 10 shards, 4 workers: worker 1 owns 1, 5, 9; worker 3 owns 3, 7.
    let w1: Vec<_> = (0..3).filter_map(|t| own_shard(10, 4, 1, t)).collect();
    assert_eq!(w1, [1, 5, 9]);
    let w3: Vec<_> = (0..3).filter_map(|t| own_shard(10, 4, 3, t)).collect();
    assert_eq!(w3, [3, 7, 3]);
    // Fewer shards than workers: shared.
    assert_eq!(own_shard(4, 8, 0, 0), None);
}

#[tokio::test]
async fn lifecycle_runs_whole_workflows_without_errors() {
    let r = run(
        sqlite().await,
        &opts(Workload::Lifecycle, 4),
        LayerOptions::default(),
    )
    .await
    .expect("bench runs");
    assert_eq!(r.units, 4, "{r:?}");
    assert_eq!(r.failed_units, 0, "{r:?}");
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.state_transitions, 4 * LIFECYCLE_TRANSITIONS);
    let calls_without_visibility = 23.0;
    let expected_calls = if r.visibility {
        calls_without_visibility + 2.0
    } else {
        calls_without_visibility
    };
    assert_eq!(r.per_unit.store_calls, expected_calls, "{r:?}");
    let ops: Vec<&str> = r.operations.iter().map(|o| o.operation.as_str()).collect();
    for op in [
        "create_workflow_execution",
        "update_workflow_execution",
        "get_workflow_execution",
        "get_history_tasks",
        "range_complete_history_tasks",
        "read_history_branch",
        "create_tasks",
        "get_tasks",
        "complete_tasks_less_than",
    ] {
        assert!(ops.contains(&op), "{op} missing from {ops:?}");
    }
    assert!(r.per_unit.blob_bytes_written > 4000.0, "{r:?}");
}

#[tokio::test]
async fn single_operation_workloads_run() {
    for w in [
        Workload::CreateExecution,
        Workload::UpdateExecution,
        Workload::GetExecution,
        Workload::AppendHistory,
        Workload::CreateTasks,
    ] {
        let r = run(sqlite().await, &opts(w, 6), LayerOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{w:?}: {e}"));
        assert_eq!((r.units, r.failed_units), (6, 0), "{w:?}: {r:?}");
        assert!(r.errors.is_empty(), "{w:?}: {:?}", r.errors);
    }
}

#[test]
fn preload_url_skips_fsync_and_extra_connections_of_sqlite_files_only() {
    assert_eq!(
        fast_preload_url("sqlite:///tmp/b.db").as_deref(),
        Some("sqlite:///tmp/b.db?synchronous=normal&max_connections=1")
    );
    assert_eq!(
        fast_preload_url("sqlite:///tmp/b.db?max_connections=2").as_deref(),
        Some("sqlite:///tmp/b.db?max_connections=2&synchronous=normal")
    );
    assert_eq!(
        fast_preload_url("sqlite:///tmp/b.db?synchronous=full&max_connections=4"),
        None
    );
    assert_eq!(fast_preload_url("sqlite::memory:"), None);
    assert_eq!(fast_preload_url("postgres://u@h/db"), None);
}

#[tokio::test]
async fn preload_creates_executions() {
    let mut o = opts(Workload::CreateExecution, 1);
    o.preload = 25;
    let r = run(sqlite().await, &o, LayerOptions::default())
        .await
        .expect("bench runs");
    let p = r.preload.expect("preload reported");
    assert_eq!((p.executions, p.failed), (25, 0), "{p:?}");
    if r.visibility {
        assert_eq!(p.visibility_records, 25);
    }
}
