//! Execution-store checks on a real Cassandra beyond the conformance suite: Cassandra-specific
//! corners of the data model (tombstones left by bypass conditions, one-batch timestamps, large
//! blobs in a conditional batch).
//!
//! Needs `DURASTORE_CASSANDRA_URL` (e.g. `cassandra://127.0.0.1:9042`); without it the test
//! prints why it is skipped. It creates its own keyspace and drops it afterwards.

use std::collections::{BTreeMap, BTreeSet};

use durastore_api::schema::{ApplyOptions, setup};
use durastore_api::{
    CreateMode, CreateWorkflowExecutionRequest, DataBlob, ExecutionStateColumns, ExecutionStore,
    GetOrCreateShardRequest, NamespaceId, RunId, ShardId, Stores, UpdateWorkflowExecutionRequest,
    WorkflowKey, WorkflowMutation, WorkflowSnapshot, WorkflowState, WorkflowStatus,
};
use durastore_cassandra::CassandraConfig;
use durastore_cassandra::schema::{CassandraSchemaDriver, drop_keyspace, schema_set};

fn blob(len: usize, seed: u8) -> DataBlob {
    DataBlob::proto3(
        (0..len)
            .map(|i| (i as u8).wrapping_add(seed))
            .collect::<Vec<u8>>(),
    )
}

fn snapshot(key: WorkflowKey, state: WorkflowState) -> WorkflowSnapshot {
    let mut s = WorkflowSnapshot::new(
        key,
        blob(40, 1),
        blob(20, 2),
        ExecutionStateColumns {
            create_request_id: "req".into(),
            state,
            status: WorkflowStatus::Running,
            start_time: None,
        },
        3,
    );
    s.start_version = 1;
    s.last_write_version = 1;
    s.activity_infos = BTreeMap::from([(1, blob(5, 3)), (2, DataBlob::new(Vec::new(), ""))]);
    s
}

fn mutation(s: &WorkflowSnapshot, version: i64) -> WorkflowMutation {
    let mut m = WorkflowMutation::new(
        s.key.clone(),
        s.execution_info.clone(),
        s.execution_state.clone(),
        s.state.clone(),
        s.next_event_id,
        version,
    );
    m.start_version = s.start_version;
    m.last_write_version = s.last_write_version;
    m
}

fn create(shard: ShardId, mode: CreateMode, s: WorkflowSnapshot) -> CreateWorkflowExecutionRequest {
    CreateWorkflowExecutionRequest {
        mode,
        ..CreateWorkflowExecutionRequest::new(shard, 1, s)
    }
}

fn update(shard: ShardId, m: WorkflowMutation) -> UpdateWorkflowExecutionRequest {
    UpdateWorkflowExecutionRequest::new(shard, 1, m)
}

async fn checks(stores: &Stores) {
    let shards = stores.shard.clone().expect("shard store");
    let exec: std::sync::Arc<dyn ExecutionStore> = stores.execution.clone().expect("execution");
    let shard = ShardId(7);
    shards
        .get_or_create_shard(GetOrCreateShardRequest {
            shard_id: shard,
            create_if_missing: Some((1, blob(8, 0))),
        })
        .await
        .expect("create shard");
    let ns = NamespaceId::new_random();

    let first = zombie_then_brand_new(exec.as_ref(), shard, ns).await;
    delete_and_upsert_in_one_mutation(exec.as_ref(), shard, &first).await;
    size_limits(exec.as_ref(), shard, ns).await;
}

/// A zombie create, then a BrandNew create of the same workflow; empty blobs read back.
async fn zombie_then_brand_new(
    exec: &dyn ExecutionStore,
    shard: ShardId,
    ns: NamespaceId,
) -> WorkflowSnapshot {
    // A zombie create for a workflow without current row leaves only a cell tombstone at the
    // current-row key; a later BrandNew create must still see "no current row".
    let zombie = snapshot(
        WorkflowKey::new(ns, "wf-a", RunId::new_random()),
        WorkflowState::Zombie,
    );
    exec.create_workflow_execution(create(shard, CreateMode::BypassCurrent, zombie.clone()))
        .await
        .expect("zombie create");
    let first = snapshot(
        WorkflowKey::new(ns, "wf-a", RunId::new_random()),
        WorkflowState::Running,
    );
    exec.create_workflow_execution(create(shard, CreateMode::BrandNew, first.clone()))
        .await
        .expect("BrandNew after a zombie create");
    let current = exec
        .get_current_execution(shard, ns, &first.key.workflow_id)
        .await
        .expect("current");
    assert_eq!(current.run_id, first.key.run_id);

    // Empty blobs (in a map entry too) read back as empty, not missing.
    let got = exec
        .get_workflow_execution(shard, &first.key)
        .await
        .expect("get");
    assert_eq!(got.activity_infos, first.activity_infos);
    assert_eq!(got.checksum, None);

    first
}

/// One mutation deleting and upserting the same keys.
async fn delete_and_upsert_in_one_mutation(
    exec: &dyn ExecutionStore,
    shard: ShardId,
    first: &WorkflowSnapshot,
) {
    // Deleting and upserting the same key in one mutation upserts it (one batch has one
    // timestamp, where a tombstone would win).
    let mut m = mutation(first, 2);
    m.delete_activity_infos.insert(1);
    m.upsert_activity_infos.insert(1, blob(9, 9));
    m.delete_activity_infos.insert(2);
    m.upsert_signal_requested_ids.insert("s".into());
    m.delete_signal_requested_ids.insert("s".into());
    m.new_buffered_events = Some(blob(3, 4));
    exec.update_workflow_execution(update(shard, m))
        .await
        .expect("update");
    let got = exec
        .get_workflow_execution(shard, &first.key)
        .await
        .expect("get");
    assert_eq!(got.activity_infos, BTreeMap::from([(1, blob(9, 9))]));
    assert_eq!(got.signal_requested_ids, BTreeSet::from(["s".to_string()]));
    assert_eq!(got.buffered_events, vec![blob(3, 4)]);
}

/// Blobs at the size limit are written; a request over what CQL can carry writes nothing.
async fn size_limits(exec: &dyn ExecutionStore, shard: ShardId, ns: NamespaceId) {
    // Blobs at the 4 MiB limit in one conditional batch (the batch is single-partition, which
    // Cassandra's batch size thresholds do not apply to).
    let mut big = snapshot(
        WorkflowKey::new(ns, "wf-big", RunId::new_random()),
        WorkflowState::Running,
    );
    big.execution_info = blob(4 * 1024 * 1024, 5);
    big.execution_state = blob(4 * 1024 * 1024, 6);
    exec.create_workflow_execution(create(shard, CreateMode::BrandNew, big.clone()))
        .await
        .expect("create with two 4 MiB blobs");
    let got = exec
        .get_workflow_execution(shard, &big.key)
        .await
        .expect("get big");
    assert!(got.execution_info == big.execution_info && got.execution_state == big.execution_state);

    // More than one CQL request can carry (each blob within its limit): a bad request, and
    // nothing is written.
    let mut huge = snapshot(
        WorkflowKey::new(ns, "wf-huge", RunId::new_random()),
        WorkflowState::Running,
    );
    for i in 0..4 {
        huge.activity_infos
            .insert(100 + i, blob(4 * 1024 * 1024, 7));
    }
    let e = exec
        .create_workflow_execution(create(shard, CreateMode::BrandNew, huge.clone()))
        .await
        .expect_err("a 16 MiB write");
    assert_eq!(e.kind(), durastore_api::ErrorKind::SizeLimitExceeded, "{e}");
    let e = exec
        .get_workflow_execution(shard, &huge.key)
        .await
        .expect_err("nothing written");
    assert_eq!(e.kind(), durastore_api::ErrorKind::NotFound, "{e}");
}

#[tokio::test]
async fn executions_on_cassandra() {
    let Ok(url) = std::env::var("DURASTORE_CASSANDRA_URL") else {
        println!("skipped: DURASTORE_CASSANDRA_URL is not set");
        return;
    };
    let keyspace = format!(
        "durastore_exec_smoke_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let cfg = CassandraConfig::from_url(&url)
        .and_then(|c| c.with_keyspace(&keyspace))
        .expect("url");
    let base = url.split('?').next().unwrap_or(&url);
    let base = match base
        .find("://")
        .and_then(|i| base[i + 3..].find('/').map(|j| i + 3 + j))
    {
        Some(slash) => &base[..slash],
        None => base,
    };
    let ks_url = format!("{base}/{keyspace}");
    let driver = CassandraSchemaDriver::connect_creating(&ks_url, "main")
        .await
        .expect("keyspace");
    setup(
        &schema_set("main").expect("set"),
        &driver,
        &ApplyOptions::default(),
    )
    .await
    .expect("schema setup");
    let stores = durastore_cassandra::open(&ks_url).await.expect("open");
    let result = tokio::spawn(async move { checks(&stores).await }).await;
    drop_keyspace(&cfg).await.expect("drop keyspace");
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}
