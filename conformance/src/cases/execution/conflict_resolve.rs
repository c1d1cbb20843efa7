//! Execution cases: `conflict_resolve_workflow_execution` (reset) in every mode, with its conflicts.

use durastore_api::{
    ConflictResolveMode, ErrorKind, UpdateMode, WorkflowSnapshot, WorkflowState as St,
    WorkflowStatus as Su,
};

use crate::check::{expect_err, ok};
use crate::exec_fixtures::*;
use crate::fixtures::{blob, namespace_id};
use crate::{CaseError, Ctx};

/// Reset of the current run replaces its whole state: map entries and buffered events not in
/// the reset snapshot are gone; the current row takes the reset run's columns.
pub async fn reset_current(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let run = create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    let mut m = mutation(&run, 2);
    m.new_buffered_events = Some(blob(30));
    update_ok(
        ctx,
        &shard,
        "add buffered event",
        UpdateMode::UpdateCurrent,
        &m,
    )
    .await?;

    let mut reset = snapshot(run.key.clone(), St::Running, Su::Running);
    reset.db_record_version = 3;
    reset.next_event_id = 20;
    reset.last_write_version = SNAPSHOT_VERSION + 3;
    ok(
        "conflict resolve UpdateCurrent",
        ctx.execution()?
            .conflict_resolve_workflow_execution(conflict_resolve_request(
                &shard,
                ConflictResolveMode::UpdateCurrent,
                reset.clone(),
            ))
            .await,
    )?;
    expect_snapshot_state(ctx, &shard, "after reset", &reset).await?;
    expect_current(
        ctx,
        &shard,
        "after reset",
        &reset.key,
        &expected_current(&reset),
    )
    .await
}

/// Reset of the current run with a new run: the current row moves to the new run.
pub async fn reset_current_with_new_run(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let run = create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    let mut reset = snapshot(run.key.clone(), St::Completed, Su::Terminated);
    reset.db_record_version = 2;
    let new_run = snapshot(next_run(&run.key), St::Running, Su::Running);
    let mut req =
        conflict_resolve_request(&shard, ConflictResolveMode::UpdateCurrent, reset.clone());
    req.new_snapshot = Some(new_run.clone());
    ok(
        "conflict resolve with new run",
        ctx.execution()?
            .conflict_resolve_workflow_execution(req)
            .await,
    )?;
    expect_snapshot_state(ctx, &shard, "reset run", &reset).await?;
    expect_snapshot_state(ctx, &shard, "new run", &new_run).await?;
    expect_current(
        ctx,
        &shard,
        "after reset",
        &new_run.key,
        &expected_current(&new_run),
    )
    .await
}

/// Sets up an old (zombie) run to reset and a different current run to mutate.
async fn reset_setup(
    ctx: &Ctx,
    shard: &TestShard,
) -> Result<(WorkflowSnapshot, WorkflowSnapshot), CaseError> {
    let current = create_new_workflow(ctx, shard, namespace_id(), St::Running, Su::Running).await?;
    let old = create_zombie(ctx, shard, next_run(&current.key)).await?;
    Ok((old, current))
}

/// Reset of a non-current run together with a mutation of the current run: both are written and
/// the current row moves to the reset run.
pub async fn reset_with_current_mutation(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let (old, current) = reset_setup(ctx, &shard).await?;
    let mut reset = snapshot(old.key.clone(), St::Running, Su::Running);
    reset.db_record_version = 2;
    let mut cm = mutation(&current, 2);
    cm.state.state = St::Completed;
    cm.state.status = Su::Terminated;
    let mut req =
        conflict_resolve_request(&shard, ConflictResolveMode::UpdateCurrent, reset.clone());
    req.current_mutation = Some(cm.clone());
    ok(
        "conflict resolve with current mutation",
        ctx.execution()?
            .conflict_resolve_workflow_execution(req)
            .await,
    )?;
    expect_snapshot_state(ctx, &shard, "reset run", &reset).await?;
    expect_state(
        ctx,
        &shard,
        "mutated current run",
        &expected_after(&current, &[&cm]),
    )
    .await?;
    expect_current(
        ctx,
        &shard,
        "after reset",
        &reset.key,
        &expected_current(&reset),
    )
    .await
}

/// Reset with a current mutation and a new run: the current row moves to the new run.
pub async fn reset_with_current_mutation_and_new_run(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let (old, current) = reset_setup(ctx, &shard).await?;
    let mut reset = snapshot(old.key.clone(), St::Completed, Su::Completed);
    reset.db_record_version = 2;
    let mut cm = mutation(&current, 2);
    cm.state.state = St::Completed;
    cm.state.status = Su::Terminated;
    let new_run = snapshot(next_run(&current.key), St::Running, Su::Running);
    let mut req =
        conflict_resolve_request(&shard, ConflictResolveMode::UpdateCurrent, reset.clone());
    req.current_mutation = Some(cm.clone());
    req.new_snapshot = Some(new_run.clone());
    ok(
        "conflict resolve with current mutation and new run",
        ctx.execution()?
            .conflict_resolve_workflow_execution(req)
            .await,
    )?;
    expect_snapshot_state(ctx, &shard, "reset run", &reset).await?;
    expect_state(
        ctx,
        &shard,
        "mutated current run",
        &expected_after(&current, &[&cm]),
    )
    .await?;
    expect_snapshot_state(ctx, &shard, "new run", &new_run).await?;
    expect_current(
        ctx,
        &shard,
        "after reset",
        &new_run.key,
        &expected_current(&new_run),
    )
    .await
}

/// Reset with a stale or future record version is `WorkflowConditionFailed`; nothing changes.
pub async fn reset_conflict_db_version(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let run = create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    for version in [3, 1] {
        let what = format!("reset with db_record_version {version} over stored 1");
        let mut reset = snapshot(run.key.clone(), St::Completed, Su::Terminated);
        reset.db_record_version = version;
        let new_run = snapshot(next_run(&run.key), St::Running, Su::Running);
        let mut req = conflict_resolve_request(&shard, ConflictResolveMode::UpdateCurrent, reset);
        req.new_snapshot = Some(new_run.clone());
        let e = expect_err(
            &what,
            ctx.execution()?
                .conflict_resolve_workflow_execution(req)
                .await,
            ErrorKind::WorkflowConditionFailed,
        )?;
        expect_workflow_conflict(&what, &e, SNAPSHOT_NEXT_EVENT_ID, 1)?;
        expect_snapshot_state(ctx, &shard, &what, &run).await?;
        expect_no_run(ctx, &shard, &what, &new_run.key).await?;
        expect_current(ctx, &shard, &what, &run.key, &expected_current(&run)).await?;
    }
    Ok(())
}

/// A stale current mutation fails the whole conflict resolve (`WorkflowConditionFailed`): the
/// reset run, the current run and the current row are unchanged.
pub async fn reset_current_mutation_conflict(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let (old, current) = reset_setup(ctx, &shard).await?;
    let mut reset = snapshot(old.key.clone(), St::Running, Su::Running);
    reset.db_record_version = 2;
    let mut req = conflict_resolve_request(&shard, ConflictResolveMode::UpdateCurrent, reset);
    req.current_mutation = Some(mutation_in(&current, 7, St::Completed));
    let e = expect_err(
        "conflict resolve with stale current mutation",
        ctx.execution()?
            .conflict_resolve_workflow_execution(req)
            .await,
        ErrorKind::WorkflowConditionFailed,
    )?;
    expect_workflow_conflict("stale current mutation", &e, SNAPSHOT_NEXT_EVENT_ID, 1)?;
    expect_snapshot_state(ctx, &shard, "reset run after failure", &old).await?;
    expect_snapshot_state(ctx, &shard, "current run after failure", &current).await?;
    expect_current(
        ctx,
        &shard,
        "after failed conflict resolve",
        &current.key,
        &expected_current(&current),
    )
    .await
}

/// UpdateCurrent conflict resolve whose expected current run (the reset run, or the current
/// mutation's run) is not current is `CurrentWorkflowConditionFailed`; nothing changes.
pub async fn reset_current_row_mismatch(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = ctx.execution()?;
    let shard = new_shard(ctx).await?;
    let (old, current) = reset_setup(ctx, &shard).await?;
    let other = create_zombie(ctx, &shard, next_run(&current.key)).await?;

    let mut reset = snapshot(old.key.clone(), St::Running, Su::Running);
    reset.db_record_version = 2;
    let e = expect_err(
        "reset of a non-current run without current mutation",
        exec.conflict_resolve_workflow_execution(conflict_resolve_request(
            &shard,
            ConflictResolveMode::UpdateCurrent,
            reset.clone(),
        ))
        .await,
        ErrorKind::CurrentWorkflowConditionFailed,
    )?;
    expect_current_conflict("reset of non-current run", &e, &expected_current(&current))?;

    let mut req = conflict_resolve_request(&shard, ConflictResolveMode::UpdateCurrent, reset);
    req.current_mutation = Some(mutation(&other, 2));
    let e = expect_err(
        "reset with a current mutation of a non-current run",
        exec.conflict_resolve_workflow_execution(req).await,
        ErrorKind::CurrentWorkflowConditionFailed,
    )?;
    expect_current_conflict(
        "current mutation of non-current run",
        &e,
        &expected_current(&current),
    )?;

    expect_snapshot_state(ctx, &shard, "reset run after failures", &old).await?;
    expect_snapshot_state(ctx, &shard, "other run after failures", &other).await?;
    expect_snapshot_state(ctx, &shard, "current run after failures", &current).await?;
    expect_current(
        ctx,
        &shard,
        "after failed conflict resolves",
        &current.key,
        &expected_current(&current),
    )
    .await
}

/// A conflict resolve whose new run already exists is `WorkflowConditionFailed`; nothing
/// changes.
pub async fn reset_new_run_exists(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let run = create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    let existing = create_zombie(ctx, &shard, next_run(&run.key)).await?;
    let mut reset = snapshot(run.key.clone(), St::Completed, Su::Terminated);
    reset.db_record_version = 2;
    let mut req = conflict_resolve_request(&shard, ConflictResolveMode::UpdateCurrent, reset);
    req.new_snapshot = Some(snapshot(existing.key.clone(), St::Running, Su::Running));
    expect_err(
        "conflict resolve into an existing new run",
        ctx.execution()?
            .conflict_resolve_workflow_execution(req)
            .await,
        ErrorKind::WorkflowConditionFailed,
    )?;
    expect_snapshot_state(ctx, &shard, "reset run after failure", &run).await?;
    expect_snapshot_state(ctx, &shard, "existing run after failure", &existing).await?;
    expect_current(
        ctx,
        &shard,
        "after failure",
        &run.key,
        &expected_current(&run),
    )
    .await
}

/// BypassCurrent reset of a zombie rewrites it without touching the current row; of the current
/// run it is `CurrentWorkflowConditionFailed`.
pub async fn reset_zombie(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = ctx.execution()?;
    let shard = new_shard(ctx).await?;
    let (zombie, current) = reset_setup(ctx, &shard).await?;
    let mut reset = snapshot(zombie.key.clone(), St::Zombie, Su::Running);
    reset.db_record_version = 2;
    ok(
        "BypassCurrent reset of zombie",
        exec.conflict_resolve_workflow_execution(conflict_resolve_request(
            &shard,
            ConflictResolveMode::BypassCurrent,
            reset.clone(),
        ))
        .await,
    )?;
    expect_snapshot_state(ctx, &shard, "zombie after reset", &reset).await?;
    expect_current(
        ctx,
        &shard,
        "after zombie reset",
        &current.key,
        &expected_current(&current),
    )
    .await?;

    let mut reset_current = snapshot(current.key.clone(), St::Zombie, Su::Running);
    reset_current.db_record_version = 2;
    let e = expect_err(
        "BypassCurrent reset of the current run",
        exec.conflict_resolve_workflow_execution(conflict_resolve_request(
            &shard,
            ConflictResolveMode::BypassCurrent,
            reset_current,
        ))
        .await,
        ErrorKind::CurrentWorkflowConditionFailed,
    )?;
    expect_current_conflict(
        "BypassCurrent reset of current",
        &e,
        &expected_current(&current),
    )?;
    expect_snapshot_state(ctx, &shard, "current run after failed reset", &current).await?;
    expect_current(
        ctx,
        &shard,
        "after failed reset",
        &current.key,
        &expected_current(&current),
    )
    .await
}
