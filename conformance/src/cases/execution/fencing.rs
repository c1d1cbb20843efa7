//! Execution cases: range-id fencing on every write kind, and its priority over other conflicts.

use durastore_api::{
    ConflictResolveMode, CreateMode, ErrorKind, TaskCategory, UpdateMode, WorkflowState as St,
    WorkflowStatus as Su,
};

use crate::check::expect_err;
use crate::exec_fixtures::*;
use crate::fixtures::namespace_id;
use crate::{CaseError, Ctx, ensure_eq};

/// Create with a stale range id is `ShardOwnershipLost` and writes nothing; with the new range
/// id it succeeds.
pub async fn fencing_create(ctx: &Ctx) -> Result<(), CaseError> {
    let stale = new_shard(ctx).await?;
    let owner = steal_shard(ctx, &stale).await?;
    let ns = namespace_id();
    let mut snap = snapshot(new_key(ns), St::Running, Su::Running);
    snap.tasks
        .insert(TaskCategory::TRANSFER, vec![immediate_task(1)]);
    let e = expect_err(
        "create with stale range id",
        ctx.execution()?
            .create_workflow_execution(create_request(&stale, CreateMode::BrandNew, snap.clone()))
            .await,
        ErrorKind::ShardOwnershipLost,
    )?;
    expect_ownership_lost("create with stale range id", &e, &stale, &owner)?;
    expect_no_run(ctx, &owner, "after fenced create", &snap.key).await?;
    expect_no_current(
        ctx,
        &owner,
        "after fenced create",
        ns,
        &snap.key.workflow_id,
    )
    .await?;
    ensure_eq!(
        read_all_tasks(ctx, &owner, TaskCategory::TRANSFER).await?,
        Vec::new(),
        "tasks after fenced create"
    );
    create_ok(
        ctx,
        &owner,
        "create with current range id",
        CreateMode::BrandNew,
        &snap,
    )
    .await?;
    expect_snapshot_state(ctx, &owner, "after create by new owner", &snap).await
}

/// Update with a stale range id is `ShardOwnershipLost` and changes nothing.
pub async fn fencing_update(ctx: &Ctx) -> Result<(), CaseError> {
    let stale = new_shard(ctx).await?;
    let run = create_new_workflow(ctx, &stale, namespace_id(), St::Running, Su::Running).await?;
    let owner = steal_shard(ctx, &stale).await?;
    let m = mutation_in(&run, 2, St::Completed);
    let mut req = update_request(&stale, UpdateMode::UpdateCurrent, m.clone());
    req.new_snapshot = Some(snapshot(next_run(&run.key), St::Running, Su::Running));
    let e = expect_err(
        "update with stale range id",
        ctx.execution()?.update_workflow_execution(req).await,
        ErrorKind::ShardOwnershipLost,
    )?;
    expect_ownership_lost("update with stale range id", &e, &stale, &owner)?;
    expect_snapshot_state(ctx, &owner, "after fenced update", &run).await?;
    expect_current(
        ctx,
        &owner,
        "after fenced update",
        &run.key,
        &expected_current(&run),
    )
    .await?;
    update_ok(
        ctx,
        &owner,
        "update with current range id",
        UpdateMode::UpdateCurrent,
        &m,
    )
    .await?;
    expect_state(
        ctx,
        &owner,
        "after update by new owner",
        &expected_after(&run, &[&m]),
    )
    .await
}

/// Conflict resolve with a stale range id is `ShardOwnershipLost` and changes nothing.
pub async fn fencing_conflict_resolve(ctx: &Ctx) -> Result<(), CaseError> {
    let stale = new_shard(ctx).await?;
    let run = create_new_workflow(ctx, &stale, namespace_id(), St::Running, Su::Running).await?;
    let owner = steal_shard(ctx, &stale).await?;
    let mut reset = snapshot(run.key.clone(), St::Running, Su::Running);
    reset.db_record_version = 2;
    let e = expect_err(
        "conflict resolve with stale range id",
        ctx.execution()?
            .conflict_resolve_workflow_execution(conflict_resolve_request(
                &stale,
                ConflictResolveMode::UpdateCurrent,
                reset,
            ))
            .await,
        ErrorKind::ShardOwnershipLost,
    )?;
    expect_ownership_lost("conflict resolve with stale range id", &e, &stale, &owner)?;
    expect_snapshot_state(ctx, &owner, "after fenced conflict resolve", &run).await?;
    expect_current(
        ctx,
        &owner,
        "after fenced conflict resolve",
        &run.key,
        &expected_current(&run),
    )
    .await
}

/// Set with a stale range id is `ShardOwnershipLost` and changes nothing.
pub async fn fencing_set(ctx: &Ctx) -> Result<(), CaseError> {
    let stale = new_shard(ctx).await?;
    let run = create_new_workflow(ctx, &stale, namespace_id(), St::Running, Su::Running).await?;
    let owner = steal_shard(ctx, &stale).await?;
    let mut set = snapshot(run.key.clone(), St::Running, Su::Running);
    set.db_record_version = 2;
    let e = expect_err(
        "set with stale range id",
        ctx.execution()?
            .set_workflow_execution(set_request(&stale, set))
            .await,
        ErrorKind::ShardOwnershipLost,
    )?;
    expect_ownership_lost("set with stale range id", &e, &stale, &owner)?;
    expect_snapshot_state(ctx, &owner, "after fenced set", &run).await
}

/// Writes to a shard that was never created are `ShardOwnershipLost` and write nothing.
pub async fn fencing_missing_shard(ctx: &Ctx) -> Result<(), CaseError> {
    let ghost = TestShard {
        id: ctx.new_shard_id(),
        range_id: INITIAL_RANGE_ID,
    };
    let ns = namespace_id();
    let snap = snapshot(new_key(ns), St::Running, Su::Running);
    expect_err(
        "create on a missing shard",
        ctx.execution()?
            .create_workflow_execution(create_request(&ghost, CreateMode::BrandNew, snap.clone()))
            .await,
        ErrorKind::ShardOwnershipLost,
    )?;
    expect_no_run(ctx, &ghost, "after create on missing shard", &snap.key).await?;
    expect_no_current(
        ctx,
        &ghost,
        "after create on missing shard",
        ns,
        &snap.key.workflow_id,
    )
    .await
}

/// When a write has a stale range id and also fails another condition, the error is
/// `ShardOwnershipLost`: fencing wins over every other conflict.
pub async fn fencing_wins_over_other_conflicts(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = ctx.execution()?;
    let stale = new_shard(ctx).await?;
    let ns = namespace_id();
    let run = create_new_workflow(ctx, &stale, ns, St::Running, Su::Running).await?;
    let zombie = create_zombie(ctx, &stale, next_run(&run.key)).await?;
    let owner = steal_shard(ctx, &stale).await?;
    let sol = ErrorKind::ShardOwnershipLost;

    // Current-row conflict (BrandNew over an existing current row).
    let e = expect_err(
        "stale BrandNew over existing current row",
        exec.create_workflow_execution(create_request(
            &stale,
            CreateMode::BrandNew,
            snapshot(next_run(&run.key), St::Running, Su::Running),
        ))
        .await,
        sol,
    )?;
    expect_ownership_lost("stale BrandNew over current row", &e, &stale, &owner)?;
    // Duplicate run (WorkflowConditionFailed).
    expect_err(
        "stale duplicate zombie create",
        exec.create_workflow_execution(create_request(
            &stale,
            CreateMode::BypassCurrent,
            snapshot(zombie.key.clone(), St::Zombie, Su::Running),
        ))
        .await,
        sol,
    )?;
    // Stale record version.
    expect_err(
        "stale update with wrong db_record_version",
        exec.update_workflow_execution(update_request(
            &stale,
            UpdateMode::UpdateCurrent,
            mutation(&run, 9),
        ))
        .await,
        sol,
    )?;
    // UpdateCurrent of a non-current run.
    expect_err(
        "stale UpdateCurrent of a non-current run",
        exec.update_workflow_execution(update_request(
            &stale,
            UpdateMode::UpdateCurrent,
            mutation_in(&zombie, 2, St::Running),
        ))
        .await,
        sol,
    )?;
    // Missing run.
    let ghost = snapshot(new_key(ns), St::Running, Su::Running);
    expect_err(
        "stale update of a missing run",
        exec.update_workflow_execution(update_request(
            &stale,
            UpdateMode::IgnoreCurrent,
            mutation(&ghost, 2),
        ))
        .await,
        sol,
    )?;
    let mut ghost_set = ghost.clone();
    ghost_set.db_record_version = 2;
    expect_err(
        "stale set of a missing run",
        exec.set_workflow_execution(set_request(&stale, ghost_set))
            .await,
        sol,
    )?;
    // Conflict resolve failing both its CAS and its current-row condition.
    let mut reset = snapshot(zombie.key.clone(), St::Running, Su::Running);
    reset.db_record_version = 9;
    expect_err(
        "stale conflict resolve with wrong version and current row",
        exec.conflict_resolve_workflow_execution(conflict_resolve_request(
            &stale,
            ConflictResolveMode::UpdateCurrent,
            reset,
        ))
        .await,
        sol,
    )?;

    expect_snapshot_state(ctx, &owner, "current run after fenced writes", &run).await?;
    expect_snapshot_state(ctx, &owner, "zombie after fenced writes", &zombie).await?;
    expect_no_run(ctx, &owner, "missing run after fenced writes", &ghost.key).await?;
    expect_current(
        ctx,
        &owner,
        "after fenced writes",
        &run.key,
        &expected_current(&run),
    )
    .await
}
