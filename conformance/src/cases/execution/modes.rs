//! Conformance cases for the execution store's mode-vs-state rules (Temporal's
//! `Validate{Create,Update,ConflictResolve}WorkflowModeState`): the current-run row may only point
//! at a run that can be current, and a run written past it must not look running.
//!
//! Every refused request is `InvalidArgument`, and the case reads back that nothing was
//! written: no new run, no history node of its events, existing runs and the current row as
//! they were.

use durastore_api::{
    AppendHistoryNodesRequest, ConflictResolveMode, CreateMode, ErrorKind,
    ReadHistoryBranchRequest, StoreError, TreeId, UpdateMode, WorkflowKey, WorkflowMutation,
    WorkflowSnapshot, WorkflowState as St, WorkflowStatus as Su,
};

use crate::check::{expect_err, ok};
use crate::exec_fixtures::*;
use crate::fixtures::namespace_id;
use crate::{CaseError, Ctx, ensure};

/// Expects the mode-vs-state refusal: `InvalidArgument`.
fn refused(what: &str, result: Result<(), StoreError>) -> Result<(), CaseError> {
    expect_err(what, result, ErrorKind::InvalidArgument).map(|_| ())
}

/// A run of `key` in `state` (status Completed for a Completed run, else Running).
fn run(key: WorkflowKey, state: St) -> WorkflowSnapshot {
    let status = if state == St::Completed {
        Su::Completed
    } else {
        Su::Running
    };
    snapshot(key, state, status)
}

/// A mutation of `base` (the next record version) that leaves its run in `state`.
fn mutation_to(base: &WorkflowSnapshot, state: St) -> WorkflowMutation {
    mutation_in(base, base.db_record_version + 1, state)
}

/// A whole-state rewrite of `base` (the next record version) in `state`.
fn reset_of(base: &WorkflowSnapshot, state: St) -> WorkflowSnapshot {
    let mut s = run(base.key.clone(), state);
    s.db_record_version = base.db_record_version + 1;
    s
}

/// The branch `append` would have started holds no node.
async fn expect_no_nodes(
    ctx: &Ctx,
    what: &str,
    append: &AppendHistoryNodesRequest,
) -> Result<(), CaseError> {
    let read = ctx
        .history()?
        .read_history_branch(ReadHistoryBranchRequest {
            shard_id: append.shard_id,
            tree_id: append.branch.tree_id,
            branch_id: append.branch.branch_id,
            min_node_id: 1,
            max_node_id: i64::MAX,
            page_size: 10,
            next_page_token: None,
            metadata_only: true,
            reverse: false,
        })
        .await;
    match read {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        other => {
            let page = ok(what, other)?;
            ensure!(
                page.items.is_empty(),
                "{what}: the refused request's history nodes were written: {:?}",
                page.items
            );
            Ok(())
        }
    }
}

/// Creates refused for their state: a zombie that would become current (BrandNew, workflow-id
/// reuse), a Created or Running run past the current row (BypassCurrent), and the states no run
/// is written in (Unspecified, Void). A BypassCurrent create of a Completed run stays allowed.
pub async fn mode_state_create(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = ctx.execution()?;
    let shard = new_shard(ctx).await?;
    let ns = namespace_id();
    let closed = create_new_workflow(ctx, &shard, ns, St::Completed, Su::Completed).await?;
    let refusals = [
        ("BrandNew of a zombie", CreateMode::BrandNew, St::Zombie),
        (
            "BrandNew in state Unspecified",
            CreateMode::BrandNew,
            St::Unspecified,
        ),
        ("BrandNew in state Void", CreateMode::BrandNew, St::Void),
        (
            "workflow-id reuse by a zombie",
            reuse_mode(&closed),
            St::Zombie,
        ),
        (
            "BypassCurrent of a Running run",
            CreateMode::BypassCurrent,
            St::Running,
        ),
        (
            "BypassCurrent of a Created run",
            CreateMode::BypassCurrent,
            St::Created,
        ),
    ];
    for (what, mode, state) in refusals {
        let brand_new = mode == CreateMode::BrandNew;
        let key = if brand_new {
            new_key(ns)
        } else {
            next_run(&closed.key)
        };
        let snap = run(key, state);
        let events = first_history_append(&shard, TreeId::from_uuid(*snap.key.run_id.as_uuid()));
        let mut req = create_request(&shard, mode, snap.clone());
        req.new_events = vec![events.clone()];
        refused(what, exec.create_workflow_execution(req).await)?;
        expect_no_run(ctx, &shard, what, &snap.key).await?;
        expect_no_nodes(ctx, what, &events).await?;
        if brand_new {
            expect_no_current(ctx, &shard, what, ns, &snap.key.workflow_id).await?;
        }
    }
    let current = expected_current(&closed);
    expect_current(ctx, &shard, "after refused creates", &closed.key, &current).await?;

    let done = run(next_run(&closed.key), St::Completed);
    let what = "BypassCurrent of a Completed run";
    create_ok(ctx, &shard, what, CreateMode::BypassCurrent, &done).await?;
    expect_snapshot_state(ctx, &shard, what, &done).await?;
    expect_current(ctx, &shard, what, &closed.key, &current).await
}

/// Updates refused for their state: UpdateCurrent turning the current run into a zombie, or
/// starting a new run (continue-as-new) while the mutated run still runs or with a zombie new
/// run; BypassCurrent leaving the mutated run or a new run Created or Running.
pub async fn mode_state_update(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = ctx.execution()?;
    let shard = new_shard(ctx).await?;
    let current =
        create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    let zombie = create_zombie(ctx, &shard, next_run(&current.key)).await?;
    let new_run = |state| run(next_run(&current.key), state);
    let refusals = [
        (
            "UpdateCurrent turning the current run into a zombie",
            UpdateMode::UpdateCurrent,
            mutation_to(&current, St::Zombie),
            None,
        ),
        (
            "UpdateCurrent with a new run while the mutated run is Running",
            UpdateMode::UpdateCurrent,
            mutation_to(&current, St::Running),
            Some(new_run(St::Running)),
        ),
        (
            "UpdateCurrent with a zombie new run",
            UpdateMode::UpdateCurrent,
            mutation_to(&current, St::Completed),
            Some(new_run(St::Zombie)),
        ),
        (
            "BypassCurrent turning a zombie into a Running run",
            UpdateMode::BypassCurrent,
            mutation_to(&zombie, St::Running),
            None,
        ),
        (
            "BypassCurrent with a Created new run",
            UpdateMode::BypassCurrent,
            mutation_to(&zombie, St::Zombie),
            Some(new_run(St::Created)),
        ),
    ];
    for (what, mode, m, new) in refusals {
        let mut req = update_request(&shard, mode, m);
        req.new_snapshot = new.clone();
        refused(what, exec.update_workflow_execution(req).await)?;
        if let Some(n) = &new {
            expect_no_run(ctx, &shard, what, &n.key).await?;
        }
        expect_snapshot_state(ctx, &shard, what, &current).await?;
        expect_snapshot_state(ctx, &shard, what, &zombie).await?;
    }
    let what = "after refused updates";
    expect_current(ctx, &shard, what, &current.key, &expected_current(&current)).await
}

/// Conflict-resolves refused for their state: UpdateCurrent resetting the current run into a
/// zombie, with a running current-run mutation, or with a zombie new run; BypassCurrent
/// resetting a zombie into a Running run, or carrying a current-run mutation at all.
pub async fn mode_state_conflict_resolve(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = ctx.execution()?;
    let shard = new_shard(ctx).await?;
    let current =
        create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    let zombie = create_zombie(ctx, &shard, next_run(&current.key)).await?;
    let new_run = |state| run(next_run(&current.key), state);
    let refusals = [
        (
            "UpdateCurrent resetting the current run into a zombie",
            ConflictResolveMode::UpdateCurrent,
            reset_of(&current, St::Zombie),
            None,
            None,
        ),
        (
            "UpdateCurrent with a Running current-run mutation",
            ConflictResolveMode::UpdateCurrent,
            reset_of(&zombie, St::Completed),
            None,
            Some(mutation_to(&current, St::Running)),
        ),
        (
            "UpdateCurrent with a zombie new run",
            ConflictResolveMode::UpdateCurrent,
            reset_of(&current, St::Completed),
            Some(new_run(St::Zombie)),
            None,
        ),
        (
            "BypassCurrent resetting a zombie into a Running run",
            ConflictResolveMode::BypassCurrent,
            reset_of(&zombie, St::Running),
            None,
            None,
        ),
        (
            "BypassCurrent with a current-run mutation",
            ConflictResolveMode::BypassCurrent,
            reset_of(&zombie, St::Zombie),
            None,
            Some(mutation_to(&current, St::Completed)),
        ),
    ];
    for (what, mode, reset, new, current_mutation) in refusals {
        let mut req = conflict_resolve_request(&shard, mode, reset);
        req.new_snapshot = new.clone();
        req.current_mutation = current_mutation;
        refused(what, exec.conflict_resolve_workflow_execution(req).await)?;
        if let Some(n) = &new {
            expect_no_run(ctx, &shard, what, &n.key).await?;
        }
        expect_snapshot_state(ctx, &shard, what, &current).await?;
        expect_snapshot_state(ctx, &shard, what, &zombie).await?;
    }
    let what = "after refused conflict-resolves";
    expect_current(ctx, &shard, what, &current.key, &expected_current(&current)).await
}
