//! Execution cases: `create_workflow_execution` in every create mode, with its conflicts.

use durastore_api::{
    CreateMode, ErrorKind, RunId, TaskCategory, WorkflowSnapshot, WorkflowState as St,
    WorkflowStatus as Su,
};

use crate::check::{expect_err, ok};
use crate::exec_fixtures::*;
use crate::fixtures::namespace_id;
use crate::{CaseError, Ctx, ensure_eq};

/// BrandNew create: the run reads back exactly as written (every blob, map, signal-requested id,
/// checksum, versions) and the current row points at it with its state columns.
pub async fn create_brand_new(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let snap = snapshot(new_key(namespace_id()), St::Running, Su::Running);
    create_ok(ctx, &shard, "create BrandNew", CreateMode::BrandNew, &snap).await?;
    expect_snapshot_state(ctx, &shard, "after create", &snap).await?;
    expect_current(
        ctx,
        &shard,
        "after create",
        &snap.key,
        &expected_current(&snap),
    )
    .await?;

    // A run with empty maps and no checksum round-trips too.
    let mut bare = empty_snapshot(new_key(namespace_id()), St::Created, Su::Running);
    bare.checksum = None;
    bare.state.create_request_id = String::new();
    bare.state.start_time = None;
    create_ok(
        ctx,
        &shard,
        "create BrandNew (bare)",
        CreateMode::BrandNew,
        &bare,
    )
    .await?;
    expect_snapshot_state(ctx, &shard, "after bare create", &bare).await?;
    expect_current(
        ctx,
        &shard,
        "after bare create",
        &bare.key,
        &expected_current(&bare),
    )
    .await
}

/// BrandNew while a current row exists (running or closed) is `CurrentWorkflowConditionFailed`
/// carrying that row; nothing of the new run is written and the current row is unchanged.
pub async fn create_brand_new_current_conflict(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = ctx.execution()?;
    let shard = new_shard(ctx).await?;
    for (state, status) in [(St::Running, Su::Running), (St::Completed, Su::Completed)] {
        let first = create_new_workflow(ctx, &shard, namespace_id(), state, status).await?;
        let second = snapshot(next_run(&first.key), St::Running, Su::Running);
        let what = format!("BrandNew over a {state:?} current run");
        let e = expect_err(
            &what,
            exec.create_workflow_execution(create_request(
                &shard,
                CreateMode::BrandNew,
                second.clone(),
            ))
            .await,
            ErrorKind::CurrentWorkflowConditionFailed,
        )?;
        expect_current_conflict(&what, &e, &expected_current(&first))?;
        expect_no_run(ctx, &shard, &what, &second.key).await?;
        expect_current(ctx, &shard, &what, &first.key, &expected_current(&first)).await?;
        expect_snapshot_state(ctx, &shard, &what, &first).await?;
    }
    Ok(())
}

/// Creating a run that already exists is `WorkflowConditionFailed` and changes nothing: as a
/// second zombie create, and as BrandNew after the current row was deleted (which must not
/// bring the current row back either).
pub async fn create_run_exists(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = ctx.execution()?;
    let shard = new_shard(ctx).await?;
    let ns = namespace_id();

    let zombie = create_zombie(ctx, &shard, new_key(ns)).await?;
    let again = snapshot(zombie.key.clone(), St::Zombie, Su::Running);
    expect_err(
        "second BypassCurrent create of the same run",
        exec.create_workflow_execution(create_request(&shard, CreateMode::BypassCurrent, again))
            .await,
        ErrorKind::WorkflowConditionFailed,
    )?;
    expect_snapshot_state(ctx, &shard, "after duplicate zombie create", &zombie).await?;
    expect_no_current(
        ctx,
        &shard,
        "after duplicate zombie create",
        ns,
        &zombie.key.workflow_id,
    )
    .await?;

    let run = create_new_workflow(ctx, &shard, ns, St::Running, Su::Running).await?;
    ok(
        "delete_current_workflow_execution",
        exec.delete_current_workflow_execution(shard.id, &run.key)
            .await,
    )?;
    let again = snapshot(run.key.clone(), St::Running, Su::Running);
    expect_err(
        "BrandNew create of an existing run without current row",
        exec.create_workflow_execution(create_request(&shard, CreateMode::BrandNew, again))
            .await,
        ErrorKind::WorkflowConditionFailed,
    )?;
    expect_snapshot_state(ctx, &shard, "after duplicate BrandNew", &run).await?;
    expect_no_current(
        ctx,
        &shard,
        "after duplicate BrandNew",
        ns,
        &run.key.workflow_id,
    )
    .await
}

/// Workflow-id reuse: with the previous run closed and its run id and last write version given,
/// the new run is created and the current row moves to it; the old run stays readable.
pub async fn create_workflow_id_reuse(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let first =
        create_new_workflow(ctx, &shard, namespace_id(), St::Completed, Su::Completed).await?;
    let second = snapshot(next_run(&first.key), St::Running, Su::Running);
    create_ok(
        ctx,
        &shard,
        "create UpdateCurrent",
        reuse_mode(&first),
        &second,
    )
    .await?;
    expect_current(
        ctx,
        &shard,
        "after reuse",
        &second.key,
        &expected_current(&second),
    )
    .await?;
    expect_snapshot_state(ctx, &shard, "new run after reuse", &second).await?;
    expect_snapshot_state(ctx, &shard, "previous run after reuse", &first).await
}

/// Shared body of the failing workflow-id reuse cases: the create must be
/// `CurrentWorkflowConditionFailed` carrying `first`'s row, and change nothing.
async fn reuse_must_fail(
    ctx: &Ctx,
    shard: &TestShard,
    what: &str,
    first: &WorkflowSnapshot,
    mode: CreateMode,
) -> Result<(), CaseError> {
    let second = snapshot(next_run(&first.key), St::Running, Su::Running);
    let e = expect_err(
        what,
        ctx.execution()?
            .create_workflow_execution(create_request(shard, mode, second.clone()))
            .await,
        ErrorKind::CurrentWorkflowConditionFailed,
    )?;
    expect_current_conflict(what, &e, &expected_current(first))?;
    expect_no_run(ctx, shard, what, &second.key).await?;
    expect_current(ctx, shard, what, &first.key, &expected_current(first)).await?;
    expect_snapshot_state(ctx, shard, what, first).await
}

/// Workflow-id reuse while the previous run is still running is
/// `CurrentWorkflowConditionFailed`.
pub async fn create_reuse_previous_running(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let first = create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    reuse_must_fail(
        ctx,
        &shard,
        "reuse while running",
        &first,
        reuse_mode(&first),
    )
    .await
}

/// Workflow-id reuse naming another previous run id is `CurrentWorkflowConditionFailed`.
pub async fn create_reuse_run_id_mismatch(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let first =
        create_new_workflow(ctx, &shard, namespace_id(), St::Completed, Su::Completed).await?;
    let mode = CreateMode::UpdateCurrent {
        previous_run_id: RunId::new_random(),
        previous_last_write_version: first.last_write_version,
    };
    reuse_must_fail(
        ctx,
        &shard,
        "reuse with wrong previous run id",
        &first,
        mode,
    )
    .await
}

/// Workflow-id reuse with a wrong previous last write version is
/// `CurrentWorkflowConditionFailed`.
pub async fn create_reuse_version_mismatch(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let first =
        create_new_workflow(ctx, &shard, namespace_id(), St::Completed, Su::Completed).await?;
    let mode = CreateMode::UpdateCurrent {
        previous_run_id: first.key.run_id,
        previous_last_write_version: first.last_write_version + 1,
    };
    reuse_must_fail(
        ctx,
        &shard,
        "reuse with wrong last write version",
        &first,
        mode,
    )
    .await
}

/// Workflow-id reuse when the workflow has no current row at all is
/// `CurrentWorkflowConditionFailed` (the row must point at the previous run) and writes nothing.
pub async fn create_reuse_without_current_row(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let ns = namespace_id();
    let snap = snapshot(new_key(ns), St::Running, Su::Running);
    let mode = CreateMode::UpdateCurrent {
        previous_run_id: RunId::new_random(),
        previous_last_write_version: SNAPSHOT_VERSION,
    };
    expect_err(
        "UpdateCurrent create without current row",
        ctx.execution()?
            .create_workflow_execution(create_request(&shard, mode, snap.clone()))
            .await,
        ErrorKind::CurrentWorkflowConditionFailed,
    )?;
    expect_no_run(ctx, &shard, "after failed reuse", &snap.key).await?;
    expect_no_current(ctx, &shard, "after failed reuse", ns, &snap.key.workflow_id).await
}

/// A zombie create (BypassCurrent) writes the run and leaves the current row untouched.
pub async fn create_zombie_run(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let current =
        create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    let zombie = create_zombie(ctx, &shard, next_run(&current.key)).await?;
    expect_snapshot_state(ctx, &shard, "zombie", &zombie).await?;
    expect_current(
        ctx,
        &shard,
        "after zombie create",
        &current.key,
        &expected_current(&current),
    )
    .await
}

/// A zombie create for a workflow without current row does not create one.
pub async fn create_zombie_without_current_row(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let ns = namespace_id();
    let zombie = create_zombie(ctx, &shard, new_key(ns)).await?;
    expect_snapshot_state(ctx, &shard, "zombie", &zombie).await?;
    expect_no_current(
        ctx,
        &shard,
        "after zombie create",
        ns,
        &zombie.key.workflow_id,
    )
    .await
}

/// BypassCurrent for the very run the current row points at is
/// `CurrentWorkflowConditionFailed`, both while that run exists (the current-row conflict wins
/// over the duplicate run) and after only its execution row was deleted.
pub async fn create_zombie_current_is_self(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = ctx.execution()?;
    let shard = new_shard(ctx).await?;
    let run = create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    let again = snapshot(run.key.clone(), St::Zombie, Su::Running);
    let e = expect_err(
        "BypassCurrent create of the current run",
        exec.create_workflow_execution(create_request(
            &shard,
            CreateMode::BypassCurrent,
            again.clone(),
        ))
        .await,
        ErrorKind::CurrentWorkflowConditionFailed,
    )?;
    expect_current_conflict("BypassCurrent of current run", &e, &expected_current(&run))?;
    expect_snapshot_state(ctx, &shard, "after failed zombie create", &run).await?;

    ok(
        "delete_workflow_execution",
        exec.delete_workflow_execution(shard.id, &run.key).await,
    )?;
    expect_err(
        "BypassCurrent create of the run the current row points at (run deleted)",
        exec.create_workflow_execution(create_request(&shard, CreateMode::BypassCurrent, again))
            .await,
        ErrorKind::CurrentWorkflowConditionFailed,
    )?;
    expect_no_run(ctx, &shard, "after failed zombie create", &run.key).await?;
    expect_current(
        ctx,
        &shard,
        "after failed zombie create",
        &run.key,
        &expected_current(&run),
    )
    .await
}

/// History tasks of a create are written with it, and a failed create writes none.
pub async fn create_writes_history_tasks_atomically(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let mut snap = snapshot(new_key(namespace_id()), St::Running, Su::Running);
    let transfer = vec![immediate_task(100), immediate_task(101)];
    let timer = vec![scheduled_task(102, 30)];
    snap.tasks.insert(TaskCategory::TRANSFER, transfer.clone());
    snap.tasks.insert(TaskCategory::TIMER, timer.clone());
    create_ok(
        ctx,
        &shard,
        "create with tasks",
        CreateMode::BrandNew,
        &snap,
    )
    .await?;

    let mut loser = snapshot(next_run(&snap.key), St::Running, Su::Running);
    loser
        .tasks
        .insert(TaskCategory::TRANSFER, vec![immediate_task(200)]);
    loser
        .tasks
        .insert(TaskCategory::TIMER, vec![scheduled_task(201, 40)]);
    expect_err(
        "BrandNew with tasks over existing current row",
        ctx.execution()?
            .create_workflow_execution(create_request(&shard, CreateMode::BrandNew, loser))
            .await,
        ErrorKind::CurrentWorkflowConditionFailed,
    )?;

    ensure_eq!(
        read_all_tasks(ctx, &shard, TaskCategory::TRANSFER).await?,
        transfer,
        "transfer tasks of the shard"
    );
    ensure_eq!(
        read_all_tasks(ctx, &shard, TaskCategory::TIMER).await?,
        timer,
        "timer tasks of the shard"
    );
    Ok(())
}
