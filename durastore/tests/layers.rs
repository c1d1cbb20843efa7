//! The metrics/tracing layer around real SQLite stores: every call lands in the latency
//! histogram with its labels, a failed call also in the error counter with its kind, the
//! observer sees each call, and results pass through unchanged.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use durastore_api::layer::{Call, CallObserver, ERRORS_TOTAL, OPERATION_SECONDS};
use durastore_api::{
    CreateWorkflowExecutionRequest, DataBlob, ErrorKind, ExecutionStateColumns,
    GetOrCreateShardRequest, LayerOptions, NamespaceId, RunId, ShardId, Stores, WorkflowKey,
    WorkflowSnapshot, WorkflowState, WorkflowStatus, instrument,
};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use metrics_util::{CompositeKey, MetricKind};

/// Records (store, operation, error kind) of every call.
#[derive(Default)]
struct Seen(Mutex<Vec<(String, String, Option<ErrorKind>)>>);

impl CallObserver for Seen {
    fn observe(&self, call: &Call<'_>) {
        assert_eq!(call.backend, "sqlite");
        self.0.lock().expect("observer lock").push((
            call.store.to_string(),
            call.operation.to_string(),
            call.error.map(|e| e.kind()),
        ));
    }
}

fn labels(key: &CompositeKey) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = key
        .key()
        .labels()
        .map(|l| (l.key().to_string(), l.value().to_string()))
        .collect();
    v.sort();
    v
}

fn label_set(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    v.sort();
    v
}

/// Everything recorded so far. Taking a snapshot drains the histograms' values, so a test
/// takes one and searches it.
type Metrics = Vec<(CompositeKey, DebugValue)>;

fn take(snap: &Snapshotter) -> Metrics {
    snap.snapshot()
        .into_vec()
        .into_iter()
        .map(|(k, _, _, v)| (k, v))
        .collect()
}

/// The value of the metric `name` of `kind` with exactly `want` labels.
fn find<'a>(
    metrics: &'a Metrics,
    kind: MetricKind,
    name: &str,
    want: &[(&str, &str)],
) -> Option<&'a DebugValue> {
    let want = label_set(want);
    metrics
        .iter()
        .find(|(k, _)| k.kind() == kind && k.key().name() == name && labels(k) == want)
        .map(|(_, v)| v)
}

fn snapshot(key: WorkflowKey) -> WorkflowSnapshot {
    let cols = ExecutionStateColumns {
        create_request_id: "req-1".to_string(),
        ..ExecutionStateColumns::new(WorkflowState::Running, WorkflowStatus::Running)
    };
    WorkflowSnapshot::new(
        key,
        DataBlob::proto3(vec![1; 32]),
        DataBlob::proto3(vec![2; 16]),
        cols,
        3,
    )
}

/// Runs `f` on a current-thread runtime with `recorder` as the thread's metrics recorder, so the
/// test needs no process-global recorder (every layer call is polled on this thread).
fn with_recorder<F: std::future::Future<Output = ()>>(recorder: &DebuggingRecorder, f: F) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    metrics::with_local_recorder(recorder, || rt.block_on(f));
}

#[test]
fn layer_records_latency_and_errors_of_real_sqlite_calls() {
    let recorder = DebuggingRecorder::new();
    let snap = recorder.snapshotter();
    let seen = Arc::new(Seen::default());
    with_recorder(&recorder, async {
        let bare: Stores = durastore::open("sqlite::memory:").await.expect("open");
        let opts = LayerOptions {
            observer: Some(seen.clone()),
            // Every call is "slow": the warn path runs too (and must not disturb the result).
            slow_threshold: Some(Duration::ZERO),
            ..LayerOptions::default()
        };
        let stores = instrument(bare, &opts);
        drive_calls(&stores).await;
    });
    let metrics = take(&snap);
    check_latency_histograms(&metrics);
    check_error_counters(&metrics);
    check_observed_calls(&seen);
}

/// Through the layer: a shard, a created run read back, two reads of a missing run and a
/// create with a stale range id; results and errors must pass through unchanged.
async fn drive_calls(stores: &Stores) {
    assert_eq!(stores.name(), "sqlite");
    let shard = stores.shard.as_ref().expect("shard store");
    let info = shard
        .get_or_create_shard(GetOrCreateShardRequest {
            shard_id: ShardId(1),
            create_if_missing: Some((7, DataBlob::proto3(vec![9; 8]))),
        })
        .await
        .expect("shard");
    assert_eq!(info.range_id, 7, "results pass through unchanged");

    let exec = stores.execution.as_ref().expect("execution store");
    let key = WorkflowKey::new(NamespaceId::new_random(), "wf-layer", RunId::new_random());
    exec.create_workflow_execution(CreateWorkflowExecutionRequest::new(
        ShardId(1),
        7,
        snapshot(key.clone()),
    ))
    .await
    .expect("create");
    let state = exec
        .get_workflow_execution(ShardId(1), &key)
        .await
        .expect("read back");
    assert_eq!(state.next_event_id, 3);

    let missing = WorkflowKey::new(key.namespace_id, "wf-missing", RunId::new_random());
    for _ in 0..2 {
        let err = exec
            .get_workflow_execution(ShardId(1), &missing)
            .await
            .expect_err("missing run");
        assert_eq!(
            err.kind(),
            ErrorKind::NotFound,
            "errors pass through unchanged"
        );
    }
    // A fenced write with a stale range id: the conflict kind is the label.
    let err = exec
        .create_workflow_execution(CreateWorkflowExecutionRequest::new(
            ShardId(1),
            6,
            snapshot(WorkflowKey::new(
                key.namespace_id,
                "wf-stale",
                RunId::new_random(),
            )),
        ))
        .await
        .expect_err("stale range id");
    assert_eq!(err.kind(), ErrorKind::ShardOwnershipLost);
}

/// One latency sample per call, failed calls included.
fn check_latency_histograms(metrics: &Metrics) {
    let hist = |store: &str, op: &str| {
        find(
            metrics,
            MetricKind::Histogram,
            OPERATION_SECONDS,
            &[("backend", "sqlite"), ("store", store), ("operation", op)],
        )
    };
    match hist("shard", "get_or_create_shard") {
        Some(DebugValue::Histogram(v)) => assert_eq!(v.len(), 1),
        other => panic!("no shard histogram: {other:?}"),
    }
    match hist("execution", "create_workflow_execution") {
        Some(DebugValue::Histogram(v)) => {
            assert_eq!(v.len(), 2, "one success and one conflict");
            assert!(
                v.iter()
                    .all(|s| s.into_inner() > 0.0 && s.into_inner() < 60.0)
            );
        }
        other => panic!("no create histogram: {other:?}"),
    }
    match hist("execution", "get_workflow_execution") {
        Some(DebugValue::Histogram(v)) => assert_eq!(v.len(), 3, "failed calls are timed too"),
        other => panic!("no get histogram: {other:?}"),
    }
}

/// One error series per operation and kind; successes have none.
fn check_error_counters(metrics: &Metrics) {
    let errors = |op: &str, kind: &str| {
        find(
            metrics,
            MetricKind::Counter,
            ERRORS_TOTAL,
            &[
                ("backend", "sqlite"),
                ("store", "execution"),
                ("operation", op),
                ("kind", kind),
            ],
        )
    };
    assert_eq!(
        errors("get_workflow_execution", "not_found"),
        Some(&DebugValue::Counter(2))
    );
    assert_eq!(
        errors("create_workflow_execution", "shard_ownership_lost"),
        Some(&DebugValue::Counter(1))
    );
    // Successful operations have no error series at all.
    assert_eq!(
        find(
            metrics,
            MetricKind::Counter,
            ERRORS_TOTAL,
            &[
                ("backend", "sqlite"),
                ("store", "shard"),
                ("operation", "get_or_create_shard"),
                ("kind", "not_found"),
            ],
        ),
        None
    );
}

/// The observer saw every call in order, with its error kind.
fn check_observed_calls(seen: &Seen) {
    let calls = seen.0.lock().expect("observer lock").clone();
    assert_eq!(
        calls,
        vec![
            ("shard".into(), "get_or_create_shard".into(), None),
            ("execution".into(), "create_workflow_execution".into(), None),
            ("execution".into(), "get_workflow_execution".into(), None),
            (
                "execution".into(),
                "get_workflow_execution".into(),
                Some(ErrorKind::NotFound)
            ),
            (
                "execution".into(),
                "get_workflow_execution".into(),
                Some(ErrorKind::NotFound)
            ),
            (
                "execution".into(),
                "create_workflow_execution".into(),
                Some(ErrorKind::ShardOwnershipLost)
            ),
        ]
    );
}

#[test]
fn metrics_off_records_nothing_and_absent_stores_stay_absent() {
    let recorder = DebuggingRecorder::new();
    let snap = recorder.snapshotter();
    with_recorder(&recorder, async {
        let mut bare: Stores = durastore::open("sqlite::memory:").await.expect("open");
        bare.visibility = None;
        let stores = instrument(
            bare,
            &LayerOptions {
                metrics: false,
                ..LayerOptions::default()
            },
        );
        assert!(stores.visibility.is_none());
        let ns = stores.namespace.as_ref().expect("namespace store");
        let err = ns
            .get_namespace_by_name("nope")
            .await
            .expect_err("missing namespace");
        assert_eq!(err.kind(), ErrorKind::NotFound);
    });
    assert!(
        take(&snap)
            .iter()
            .all(|(k, _)| k.key().name() != OPERATION_SECONDS && k.key().name() != ERRORS_TOTAL),
        "metrics were recorded with metrics off"
    );
}
