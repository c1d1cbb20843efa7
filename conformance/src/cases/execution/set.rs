//! Execution cases: `set_workflow_execution` (overwrite a run's state).

use durastore_api::{ErrorKind, UpdateMode, WorkflowState as St, WorkflowStatus as Su};

use crate::check::{expect_err, ok};
use crate::exec_fixtures::*;
use crate::fixtures::{blob, namespace_id};
use crate::{CaseError, Ctx};

/// Set replaces the run's whole state (maps and buffered events not in the snapshot are gone)
/// and leaves the current row as it was.
pub async fn set_overwrites_state(ctx: &Ctx) -> Result<(), CaseError> {
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

    let mut set = snapshot(run.key.clone(), St::Completed, Su::Completed);
    set.db_record_version = 3;
    set.next_event_id = 42;
    set.last_write_version = SNAPSHOT_VERSION + 9;
    ok(
        "set_workflow_execution",
        ctx.execution()?
            .set_workflow_execution(set_request(&shard, set.clone()))
            .await,
    )?;
    expect_snapshot_state(ctx, &shard, "after set", &set).await?;
    expect_current(
        ctx,
        &shard,
        "after set",
        &run.key,
        &expected_current_after(&m),
    )
    .await
}

/// Set of a run that does not exist is `ConditionFailed` and creates nothing.
pub async fn set_missing_run(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let ns = namespace_id();
    let mut set = snapshot(new_key(ns), St::Running, Su::Running);
    set.db_record_version = 2;
    expect_err(
        "set of a missing run",
        ctx.execution()?
            .set_workflow_execution(set_request(&shard, set.clone()))
            .await,
        ErrorKind::ConditionFailed,
    )?;
    expect_no_run(ctx, &shard, "after set of missing run", &set.key).await?;
    expect_no_current(
        ctx,
        &shard,
        "after set of missing run",
        ns,
        &set.key.workflow_id,
    )
    .await
}

/// Set with a stale or future record version is `WorkflowConditionFailed`; nothing changes.
pub async fn set_conflict_db_version(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let run = create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    for version in [3, 1] {
        let what = format!("set with db_record_version {version} over stored 1");
        let mut set = snapshot(run.key.clone(), St::Running, Su::Running);
        set.db_record_version = version;
        let e = expect_err(
            &what,
            ctx.execution()?
                .set_workflow_execution(set_request(&shard, set))
                .await,
            ErrorKind::WorkflowConditionFailed,
        )?;
        expect_workflow_conflict(&what, &e, SNAPSHOT_NEXT_EVENT_ID, 1)?;
        expect_snapshot_state(ctx, &shard, &what, &run).await?;
    }
    Ok(())
}
