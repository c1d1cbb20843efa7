//! Execution cases: malformed input (ids, blob sizes, encodings, map keys, task keys, shard ids,
//! mutations) is `InvalidArgument` and writes nothing.

use durastore_api::{
    ChasmNode, CreateMode, DataBlob, NamespaceId, RunId, ShardId, TaskCategory, UpdateMode, Uuid,
    WorkflowId, WorkflowKey, WorkflowSnapshot, WorkflowState as St, WorkflowStatus as Su,
};

use crate::check::expect_bad_request;
use crate::exec_fixtures::*;
use crate::fixtures::{blob, namespace_id, unique_name};
use crate::{CaseError, Ctx, ensure_eq};

/// Creates `snap` expecting a bad-request error, then checks nothing was written under its key
/// (when the key is valid enough to be looked up).
async fn create_must_be_rejected(
    ctx: &Ctx,
    shard: &TestShard,
    what: &str,
    snap: WorkflowSnapshot,
) -> Result<(), CaseError> {
    let key = snap.key.clone();
    expect_bad_request(
        what,
        ctx.execution()?
            .create_workflow_execution(create_request(shard, CreateMode::BrandNew, snap))
            .await,
    )?;
    if key.validate().is_ok() {
        expect_no_run(ctx, shard, what, &key).await?;
        expect_no_current(ctx, shard, what, key.namespace_id, &key.workflow_id).await?;
    }
    Ok(())
}

/// Nil namespace or run id, empty or 256-byte workflow id are rejected by create, update, set,
/// get, get-current and delete; nothing is written.
pub async fn bad_input_ids(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = ctx.execution()?;
    let shard = new_shard(ctx).await?;
    let ns = namespace_id();
    let valid = new_key(ns);
    let bad_keys = [
        (
            "nil namespace id",
            WorkflowKey::new(
                NamespaceId::from_uuid(Uuid::nil()),
                valid.workflow_id.clone(),
                valid.run_id,
            ),
        ),
        (
            "nil run id",
            WorkflowKey::new(ns, valid.workflow_id.clone(), RunId::from_uuid(Uuid::nil())),
        ),
        (
            "empty workflow id",
            WorkflowKey::new(ns, String::new(), valid.run_id),
        ),
        (
            "256-byte workflow id",
            WorkflowKey::new(ns, "w".repeat(256), valid.run_id),
        ),
    ];
    for (what, key) in bad_keys {
        create_must_be_rejected(
            ctx,
            &shard,
            &format!("create with {what}"),
            snapshot(key.clone(), St::Running, Su::Running),
        )
        .await?;
        let base = snapshot(key.clone(), St::Running, Su::Running);
        expect_bad_request(
            &format!("update with {what}"),
            exec.update_workflow_execution(update_request(
                &shard,
                UpdateMode::IgnoreCurrent,
                mutation(&base, 2),
            ))
            .await,
        )?;
        let mut set = base.clone();
        set.db_record_version = 2;
        expect_bad_request(
            &format!("set with {what}"),
            exec.set_workflow_execution(set_request(&shard, set)).await,
        )?;
        expect_bad_request(
            &format!("get with {what}"),
            exec.get_workflow_execution(shard.id, &key).await,
        )?;
        expect_bad_request(
            &format!("delete with {what}"),
            exec.delete_workflow_execution(shard.id, &key).await,
        )?;
    }
    // The valid parts of the keys above were never written.
    expect_no_current(
        ctx,
        &shard,
        "after rejected creates",
        ns,
        &valid.workflow_id,
    )
    .await?;
    for wf in [WorkflowId::new(""), WorkflowId::new("w".repeat(256))] {
        expect_bad_request(
            &format!("get_current with workflow id of {} bytes", wf.0.len()),
            exec.get_current_execution(shard.id, ns, &wf).await,
        )?;
    }
    // A valid existing run with a nil run id in a current mutation is rejected too.
    let run = create_new_workflow(ctx, &shard, ns, St::Running, Su::Running).await?;
    let mut bad_new = snapshot(next_run(&run.key), St::Running, Su::Running);
    bad_new.key.run_id = RunId::from_uuid(Uuid::nil());
    let mut req = update_request(&shard, UpdateMode::UpdateCurrent, mutation(&run, 2));
    req.new_snapshot = Some(bad_new);
    expect_bad_request(
        "update with a new run with nil run id",
        exec.update_workflow_execution(req).await,
    )?;
    expect_snapshot_state(ctx, &shard, "after rejected update", &run).await?;
    expect_current(
        ctx,
        &shard,
        "after rejected update",
        &run.key,
        &expected_current(&run),
    )
    .await
}

/// An execution info blob over 4 MiB, or an oversized map value, is rejected; nothing written.
pub async fn bad_input_blob_size(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let over = durastore_api::validate::MAX_BLOB_BYTES + 1;
    let mut snap = snapshot(new_key(namespace_id()), St::Running, Su::Running);
    snap.execution_info = blob(over);
    create_must_be_rejected(ctx, &shard, "create with execution_info over 4 MiB", snap).await?;
    let mut snap = snapshot(new_key(namespace_id()), St::Running, Su::Running);
    snap.activity_infos.insert(random_i64(), blob(over));
    create_must_be_rejected(ctx, &shard, "create with activity info over 4 MiB", snap).await
}

/// A blob whose encoding name is longer than 16 bytes is rejected; nothing written.
pub async fn bad_input_encoding_name(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let long = "x".repeat(DataBlob::MAX_ENCODING_BYTES + 1);
    let mut snap = snapshot(new_key(namespace_id()), St::Running, Su::Running);
    snap.execution_state.encoding = long.clone();
    create_must_be_rejected(
        ctx,
        &shard,
        "create with long execution_state encoding",
        snap,
    )
    .await?;
    let mut snap = snapshot(new_key(namespace_id()), St::Running, Su::Running);
    snap.timer_infos.insert(
        unique_name("timer"),
        DataBlob::new(vec![1, 2, 3], long.clone()),
    );
    create_must_be_rejected(ctx, &shard, "create with long timer info encoding", snap).await?;
    let mut snap = snapshot(new_key(namespace_id()), St::Running, Su::Running);
    snap.chasm_nodes.insert(
        unique_name("chasm"),
        ChasmNode {
            metadata: blob(4),
            data: Some(DataBlob::new(vec![1], long)),
        },
    );
    create_must_be_rejected(ctx, &shard, "create with long chasm data encoding", snap).await
}

/// An empty or 256-byte timer id is rejected; nothing written.
pub async fn bad_input_map_keys(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    for (what, id) in [
        ("empty timer id", String::new()),
        ("256-byte timer id", "t".repeat(256)),
    ] {
        let mut snap = snapshot(new_key(namespace_id()), St::Running, Su::Running);
        snap.timer_infos.insert(id, blob(8));
        create_must_be_rejected(ctx, &shard, &format!("create with {what}"), snap).await?;
    }
    Ok(())
}

/// A history task with a negative task id is rejected; nothing (no run, no task) is written.
pub async fn bad_input_task_key(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let mut snap = snapshot(new_key(namespace_id()), St::Running, Su::Running);
    snap.tasks.insert(
        TaskCategory::TRANSFER,
        vec![immediate_task(5), immediate_task(-1)],
    );
    create_must_be_rejected(ctx, &shard, "create with negative task id", snap).await?;
    ensure_eq!(
        read_all_tasks(ctx, &shard, TaskCategory::TRANSFER).await?,
        Vec::new(),
        "transfer tasks after rejected create"
    );
    Ok(())
}

/// A negative shard id is rejected by writes and reads.
pub async fn bad_input_shard_id(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = ctx.execution()?;
    let bad = TestShard {
        id: ShardId(-1),
        range_id: INITIAL_RANGE_ID,
    };
    let snap = snapshot(new_key(namespace_id()), St::Running, Su::Running);
    expect_bad_request(
        "create with negative shard id",
        exec.create_workflow_execution(create_request(&bad, CreateMode::BrandNew, snap.clone()))
            .await,
    )?;
    expect_bad_request(
        "get with negative shard id",
        exec.get_workflow_execution(bad.id, &snap.key).await,
    )?;
    expect_bad_request(
        "get_current with negative shard id",
        exec.get_current_execution(bad.id, snap.key.namespace_id, &snap.key.workflow_id)
            .await,
    )?;
    Ok(())
}

/// A mutation carrying an oversized map value, an empty timer id or a negative task id is
/// rejected and the run stays as it was.
pub async fn bad_input_mutation(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = ctx.execution()?;
    let shard = new_shard(ctx).await?;
    let run = create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    let over = durastore_api::validate::MAX_BLOB_BYTES + 1;

    let mut m = mutation(&run, 2);
    m.upsert_signal_infos.insert(random_i64(), blob(over));
    expect_bad_request(
        "update with signal info over 4 MiB",
        exec.update_workflow_execution(update_request(&shard, UpdateMode::UpdateCurrent, m))
            .await,
    )?;
    let mut m = mutation(&run, 2);
    m.upsert_timer_infos.insert(String::new(), blob(8));
    expect_bad_request(
        "update with empty timer id",
        exec.update_workflow_execution(update_request(&shard, UpdateMode::UpdateCurrent, m))
            .await,
    )?;
    let mut m = mutation(&run, 2);
    m.new_buffered_events = Some(blob(over));
    expect_bad_request(
        "update with buffered events over 4 MiB",
        exec.update_workflow_execution(update_request(&shard, UpdateMode::UpdateCurrent, m))
            .await,
    )?;
    let mut m = mutation(&run, 2);
    m.tasks
        .insert(TaskCategory::TRANSFER, vec![immediate_task(-7)]);
    expect_bad_request(
        "update with negative task id",
        exec.update_workflow_execution(update_request(&shard, UpdateMode::UpdateCurrent, m))
            .await,
    )?;
    expect_snapshot_state(ctx, &shard, "after rejected updates", &run).await?;
    ensure_eq!(
        read_all_tasks(ctx, &shard, TaskCategory::TRANSFER).await?,
        Vec::new(),
        "transfer tasks after rejected update"
    );
    Ok(())
}
