//! `durastore inspect executions`: the runs of a shard as the execution store lists them, read
//! through the binary from a SQLite file the library wrote.

use std::path::Path;
use std::process::{Command, Output};

use durastore_api::{
    CreateWorkflowExecutionRequest, DataBlob, ExecutionStateColumns, GetOrCreateShardRequest,
    NamespaceId, RunId, ShardId, WorkflowKey, WorkflowSnapshot, WorkflowState, WorkflowStatus,
};

fn cli(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_durastore"))
        .args(args)
        .current_dir(cwd)
        .env_remove("DURASTORE_URL")
        .env_remove("RUST_LOG")
        .output()
        .expect("run durastore")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(o)).expect("inspect --json prints one JSON document")
}

/// `(namespace id, workflow id)` of every listed run, sorted.
fn listed(v: &serde_json::Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v["executions"]
        .as_array()
        .expect("executions array")
        .iter()
        .map(|e| {
            (
                e["namespace_id"]
                    .as_str()
                    .expect("namespace_id")
                    .to_string(),
                e["workflow_id"].as_str().expect("workflow_id").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn inspect_executions_lists_a_shards_runs() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("inspect.db").display());
    let shard = ShardId(3);
    let (ns_a, ns_b) = (NamespaceId::new_random(), NamespaceId::new_random());
    let mut expected = Vec::new();
    {
        let stores = durastore::factory::open(&url).await.unwrap();
        let info = stores
            .shard()
            .unwrap()
            .get_or_create_shard(GetOrCreateShardRequest::create_if_missing(
                shard,
                1,
                DataBlob::proto3(b"shard".as_slice()),
            ))
            .await
            .unwrap();
        let exec = stores.execution().unwrap();
        for (ns, wf) in [(ns_a, "order-1"), (ns_a, "order-2"), (ns_b, "invoice-1")] {
            let key = WorkflowKey::new(ns, wf, RunId::new_random());
            let snapshot = WorkflowSnapshot::new(
                key,
                DataBlob::proto3(b"info".as_slice()),
                DataBlob::proto3(b"state".as_slice()),
                ExecutionStateColumns::new(WorkflowState::Running, WorkflowStatus::Running),
                3,
            );
            exec.create_workflow_execution(CreateWorkflowExecutionRequest::new(
                shard,
                info.range_id,
                snapshot,
            ))
            .await
            .unwrap();
            expected.push((ns.to_string(), wf.to_string()));
        }
        stores.backend.close().await.unwrap();
    }
    expected.sort();
    let base = ["inspect", "executions", "--url", &url, "--shard", "3"];
    let run = |extra: &[&str]| cli(&[&base[..], extra].concat(), dir.path());

    let all = json(&run(&["--json"]));
    assert_eq!(listed(&all), expected, "{all}");
    assert_eq!(all["shard_id"], 3);
    assert_eq!(all["truncated"], false);
    for e in all["executions"].as_array().unwrap() {
        assert_eq!(e["next_event_id"], 3, "{e}");
        assert!(
            e["run_id"].as_str().unwrap().parse::<RunId>().is_ok(),
            "{e}"
        );
    }

    let ns_a_text = ns_a.to_string();
    let only_a = json(&run(&["--namespace", &ns_a_text, "--json"]));
    let want_a: Vec<_> = expected
        .iter()
        .filter(|(ns, _)| *ns == ns_a_text)
        .cloned()
        .collect();
    assert_eq!(want_a.len(), 2);
    assert_eq!(listed(&only_a), want_a, "{only_a}");
    assert_eq!(only_a["namespace_id"], ns_a_text.as_str());

    let one = json(&run(&["--limit", "1", "--json"]));
    assert_eq!(one["executions"].as_array().unwrap().len(), 1, "{one}");
    assert_eq!(one["truncated"], true, "{one}");

    let text = stdout(&run(&[]));
    for (_, wf) in &expected {
        assert!(text.contains(wf.as_str()), "{text}");
    }
    assert!(text.trim_end().ends_with("3 runs"), "{text}");

    // Another shard holds none of them.
    let other = cli(
        &[
            "inspect",
            "executions",
            "--url",
            &url,
            "--shard",
            "4",
            "--json",
        ],
        dir.path(),
    );
    assert_eq!(listed(&json(&other)), Vec::<(String, String)>::new());

    // A namespace name is looked up like `inspect workflow`'s, and an unknown one is an error.
    let o = run(&["--namespace", "billing"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no namespace named \"billing\""),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
