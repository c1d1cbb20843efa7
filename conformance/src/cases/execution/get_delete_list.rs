//! Execution cases: get, delete (run and current row) and `list_concrete_executions`.

use std::collections::BTreeMap;

use durastore_api::{
    CreateMode, ShardId, UpdateMode, WorkflowKey, WorkflowMutableState, WorkflowState as St,
    WorkflowStatus as Su,
};

use crate::check::{expect_bad_request, ok};
use crate::exec_fixtures::*;
use crate::fixtures::{blob, namespace_id};
use crate::{CaseError, Ctx, ensure, ensure_eq};

/// Unknown runs and workflows are `NotFound`, also an unknown run of a known workflow and a
/// known run looked up on another shard.
pub async fn get_not_found(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let ns = namespace_id();
    let unknown = new_key(ns);
    expect_no_run(ctx, &shard, "unknown run", &unknown).await?;
    expect_no_current(ctx, &shard, "unknown workflow", ns, &unknown.workflow_id).await?;

    let run = create_new_workflow(ctx, &shard, ns, St::Running, Su::Running).await?;
    expect_no_run(
        ctx,
        &shard,
        "unknown run of known workflow",
        &next_run(&run.key),
    )
    .await?;
    let other_shard = new_shard(ctx).await?;
    expect_no_run(ctx, &other_shard, "known run on another shard", &run.key).await?;
    expect_no_current(
        ctx,
        &other_shard,
        "known workflow on another shard",
        ns,
        &run.key.workflow_id,
    )
    .await?;
    let other_ns = WorkflowKey::new(namespace_id(), run.key.workflow_id.clone(), run.key.run_id);
    expect_no_run(ctx, &shard, "known run in another namespace", &other_ns).await
}

/// Delete removes the run and every map row but not the current row; deleting again is a no-op.
/// After deleting the current row too, the same run id can be created again as BrandNew and
/// reads back without any leftover of the old run.
pub async fn delete_execution(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = ctx.execution()?;
    let shard = new_shard(ctx).await?;
    let run = create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    let mut m = mutation(&run, 2);
    m.new_buffered_events = Some(blob(20));
    update_ok(
        ctx,
        &shard,
        "add buffered event",
        UpdateMode::UpdateCurrent,
        &m,
    )
    .await?;

    ok(
        "delete_workflow_execution",
        exec.delete_workflow_execution(shard.id, &run.key).await,
    )?;
    expect_no_run(ctx, &shard, "after delete", &run.key).await?;
    expect_current(
        ctx,
        &shard,
        "after delete",
        &run.key,
        &expected_current_after(&m),
    )
    .await?;
    ok(
        "delete_workflow_execution again",
        exec.delete_workflow_execution(shard.id, &run.key).await,
    )?;
    ok(
        "delete_workflow_execution of unknown run",
        exec.delete_workflow_execution(shard.id, &new_key(namespace_id()))
            .await,
    )?;

    ok(
        "delete_current_workflow_execution",
        exec.delete_current_workflow_execution(shard.id, &run.key)
            .await,
    )?;
    expect_no_current(
        ctx,
        &shard,
        "after delete current",
        run.key.namespace_id,
        &run.key.workflow_id,
    )
    .await?;
    ok(
        "delete_current_workflow_execution again",
        exec.delete_current_workflow_execution(shard.id, &run.key)
            .await,
    )?;

    // Fresh random map keys: any map row or buffered event left by the delete shows up here.
    let again = snapshot(run.key.clone(), St::Running, Su::Running);
    create_ok(
        ctx,
        &shard,
        "re-create after delete",
        CreateMode::BrandNew,
        &again,
    )
    .await?;
    expect_snapshot_state(ctx, &shard, "re-created run", &again).await?;
    expect_current(
        ctx,
        &shard,
        "re-created run",
        &again.key,
        &expected_current(&again),
    )
    .await
}

/// DeleteCurrent with another run id leaves the current row; with the current run id removes it.
pub async fn delete_current_only_matching_run(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = ctx.execution()?;
    let shard = new_shard(ctx).await?;
    let run = create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    ok(
        "delete_current_workflow_execution with another run id",
        exec.delete_current_workflow_execution(shard.id, &next_run(&run.key))
            .await,
    )?;
    expect_current(
        ctx,
        &shard,
        "after delete current of another run",
        &run.key,
        &expected_current(&run),
    )
    .await?;
    ok(
        "delete_current_workflow_execution",
        exec.delete_current_workflow_execution(shard.id, &run.key)
            .await,
    )?;
    expect_no_current(
        ctx,
        &shard,
        "after delete current",
        run.key.namespace_id,
        &run.key.workflow_id,
    )
    .await?;
    expect_snapshot_state(ctx, &shard, "run after delete current", &run).await
}

/// `list_concrete_executions` pages through every run of the shard (current and zombie), each
/// exactly once and as stored; the last page has no token.
pub async fn list_concrete_executions(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = ctx.execution()?;
    let shard = new_shard(ctx).await?;
    let ns = namespace_id();
    let mut expected: BTreeMap<WorkflowKey, WorkflowMutableState> = BTreeMap::new();
    for _ in 0..3 {
        let run = create_new_workflow(ctx, &shard, ns, St::Running, Su::Running).await?;
        expected.insert(run.key.clone(), expected_state(&run));
        let zombie = create_zombie(ctx, &shard, next_run(&run.key)).await?;
        expected.insert(zombie.key.clone(), expected_state(&zombie));
    }
    // A run on another shard must not be listed.
    let other_shard = new_shard(ctx).await?;
    create_new_workflow(ctx, &other_shard, ns, St::Running, Su::Running).await?;

    let mut seen: BTreeMap<WorkflowKey, WorkflowMutableState> = BTreeMap::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        pages += 1;
        ensure!(pages <= 20, "more than 20 pages of size 2 for 6 runs");
        let page = ok(
            "list_concrete_executions",
            exec.list_concrete_executions(shard.id, 2, token).await,
        )?;
        ensure!(
            page.items.len() <= 2,
            "page of size 2 has {} items",
            page.items.len()
        );
        for item in page.items {
            let key = item.key.clone();
            ensure!(
                seen.insert(key.clone(), item).is_none(),
                "run {} listed twice",
                key.run_id
            );
        }
        match page.next_page_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    ensure_eq!(
        seen.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "runs listed"
    );
    for (key, want) in &expected {
        if let Some(got) = seen.get(key) {
            compare_state("listed run", got, want)?;
        }
    }
    Ok(())
}

/// `list_concrete_executions` rejects page size 0 or negative and a garbage token.
pub async fn list_concrete_executions_bad_input(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = ctx.execution()?;
    let shard = new_shard(ctx).await?;
    create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    for size in [0, -1] {
        expect_bad_request(
            &format!("list_concrete_executions page size {size}"),
            exec.list_concrete_executions(shard.id, size, None).await,
        )?;
    }
    expect_bad_request(
        "list_concrete_executions with garbage token",
        exec.list_concrete_executions(shard.id, 10, Some(b"\xffnot a token".to_vec()))
            .await,
    )?;
    expect_bad_request(
        "list_concrete_executions with negative shard id",
        exec.list_concrete_executions(ShardId(-1), 10, None).await,
    )?;
    Ok(())
}
