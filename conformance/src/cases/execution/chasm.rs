//! Execution cases: CHASM archetypes. Every archetype has its own current-run id space (Temporal's
//! `current_chasm_executions`, keyed by business id and archetype id), and a current-run conflict
//! carries the current run's execution-state blob.

use std::sync::Arc;

use durastore_api::{
    ArchetypeId, ConflictResolveMode, CreateMode, CreateWorkflowExecutionRequest, CurrentExecution,
    DataBlob, ErrorKind, ExecutionStore, UpdateMode, WorkflowKey, WorkflowSnapshot,
    WorkflowState as St, WorkflowStatus as Su,
};

use super::store;
use crate::check::{expect_bad_request, expect_err, ok};
use crate::exec_fixtures::*;
use crate::fixtures::namespace_id;
use crate::util::race;
use crate::{CaseError, Ctx, ensure, ensure_eq};

/// A non-workflow archetype: Temporal's `Fingerprint32("activity.activity")` (standalone
/// activities).
const ACTIVITY: ArchetypeId = ArchetypeId(3_332_429_922);
/// Another non-workflow archetype: `Fingerprint32("scheduler.scheduler")`.
const SCHEDULER: ArchetypeId = ArchetypeId(403_648_407);

const RACERS: usize = 8;

/// A create of `snap` in `archetype_id`'s id space.
fn create_in(
    shard: &TestShard,
    archetype_id: ArchetypeId,
    mode: CreateMode,
    snap: &WorkflowSnapshot,
) -> CreateWorkflowExecutionRequest {
    CreateWorkflowExecutionRequest {
        archetype_id,
        ..create_request(shard, mode, snap.clone())
    }
}

/// The current rows of one namespace and id on one shard, one per archetype.
struct CurrentRows<'a> {
    exec: &'a dyn ExecutionStore,
    shard: &'a TestShard,
    key: &'a WorkflowKey,
}

impl CurrentRows<'_> {
    /// Reads the current row in `archetype_id`'s id space and compares every column.
    async fn expect(
        &self,
        what: &str,
        archetype_id: ArchetypeId,
        expected: &CurrentExecution,
    ) -> Result<(), CaseError> {
        let actual = ok(
            &format!("{what}: get_current_execution_for_archetype({archetype_id})"),
            self.read(archetype_id).await,
        )?;
        if actual != *expected {
            return Err(CaseError::new(format!(
                "{what}: current row of {} in archetype {archetype_id} differs:\n  got:  \
                 {actual:?}\n  want: {expected:?}",
                self.key.workflow_id
            )));
        }
        Ok(())
    }

    /// Expects no current row in `archetype_id`'s id space.
    async fn expect_none(&self, what: &str, archetype_id: ArchetypeId) -> Result<(), CaseError> {
        expect_err(
            &format!("{what}: get_current_execution_for_archetype({archetype_id})"),
            self.read(archetype_id).await,
            ErrorKind::NotFound,
        )
        .map(|_| ())
    }

    async fn read(&self, archetype_id: ArchetypeId) -> durastore_api::Result<CurrentExecution> {
        self.exec
            .get_current_execution_for_archetype(
                self.shard.id,
                self.key.namespace_id,
                &self.key.workflow_id,
                archetype_id,
            )
            .await
    }
}

/// A workflow and a non-workflow execution with the same id coexist, each with its own current
/// row and its own BrandNew conflict; the archetype-less methods mean the workflow; a third
/// archetype has no current row; delete-current of one leaves the other.
pub async fn chasm_separate_id_space(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = store(ctx)?;
    let shard = new_shard(ctx).await?;
    let wf = snapshot(new_key(namespace_id()), St::Running, Su::Running);
    let rows = CurrentRows {
        exec: &*exec,
        shard: &shard,
        key: &wf.key,
    };
    let act = snapshot(next_run(&wf.key), St::Running, Su::Running);
    ok(
        "create workflow",
        exec.create_workflow_execution(create_in(
            &shard,
            ArchetypeId::WORKFLOW,
            CreateMode::BrandNew,
            &wf,
        ))
        .await,
    )?;
    ok(
        "create activity with the workflow's id",
        exec.create_workflow_execution(create_in(&shard, ACTIVITY, CreateMode::BrandNew, &act))
            .await,
    )?;
    let (wf_cur, act_cur) = (expected_current(&wf), expected_current(&act));
    rows.expect("workflow", ArchetypeId::WORKFLOW, &wf_cur)
        .await?;
    rows.expect("activity", ACTIVITY, &act_cur).await?;
    expect_current(ctx, &shard, "archetype-less read", &wf.key, &wf_cur).await?;
    rows.expect_none("scheduler", SCHEDULER).await?;
    // Both runs are ordinary run rows, whatever their archetype.
    expect_snapshot_state(ctx, &shard, "workflow run", &wf).await?;
    expect_snapshot_state(ctx, &shard, "activity run", &act).await?;

    // A third run conflicts in each id space with that space's current run only.
    let third = snapshot(next_run(&wf.key), St::Running, Su::Running);
    for (archetype, current) in [(ArchetypeId::WORKFLOW, &wf_cur), (ACTIVITY, &act_cur)] {
        let what = format!("BrandNew in archetype {archetype} while a run is current");
        let res = exec
            .create_workflow_execution(create_in(&shard, archetype, CreateMode::BrandNew, &third))
            .await;
        let err = expect_err(&what, res, ErrorKind::CurrentWorkflowConditionFailed)?;
        expect_current_conflict(&what, &err, current)?;
    }
    expect_no_run(ctx, &shard, "after the conflicts", &third.key).await?;

    // Delete-current in the wrong space does nothing; in its own space it removes only that row.
    ok(
        "delete_current of the activity run in the workflow space",
        exec.delete_current_execution_for_archetype(shard.id, &act.key, ArchetypeId::WORKFLOW)
            .await,
    )?;
    rows.expect("activity kept", ACTIVITY, &act_cur).await?;
    ok(
        "delete_current of the activity run",
        exec.delete_current_execution_for_archetype(shard.id, &act.key, ACTIVITY)
            .await,
    )?;
    rows.expect_none("after delete", ACTIVITY).await?;
    rows.expect("workflow kept", ArchetypeId::WORKFLOW, &wf_cur)
        .await?;
    // The activity's id is free again in its space, still taken in the workflow's.
    ok(
        "BrandNew in the activity space after delete",
        exec.create_workflow_execution(create_in(&shard, ACTIVITY, CreateMode::BrandNew, &third))
            .await,
    )?;
    rows.expect("activity recreated", ACTIVITY, &expected_current(&third))
        .await?;
    ok(
        "archetype-less delete_current of the workflow run",
        exec.delete_current_workflow_execution(shard.id, &wf.key)
            .await,
    )?;
    rows.expect_none("workflow deleted", ArchetypeId::WORKFLOW)
        .await?;
    rows.expect(
        "activity survives the workflow's delete",
        ACTIVITY,
        &expected_current(&third),
    )
    .await
}

/// Update, continue-as-new, workflow-id reuse and conflict-resolve check and move the current row
/// of the request's archetype only: naming another archetype is a current conflict carrying that
/// space's row (or none).
pub async fn chasm_modes_follow_archetype(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = store(ctx)?;
    let shard = new_shard(ctx).await?;
    let wf = snapshot(new_key(namespace_id()), St::Running, Su::Running);
    let rows = CurrentRows {
        exec: &*exec,
        shard: &shard,
        key: &wf.key,
    };
    let act = snapshot(next_run(&wf.key), St::Running, Su::Running);
    for (a, s) in [(ArchetypeId::WORKFLOW, &wf), (ACTIVITY, &act)] {
        ok(
            "create",
            exec.create_workflow_execution(create_in(&shard, a, CreateMode::BrandNew, s))
                .await,
        )?;
    }
    let wf_cur = expected_current(&wf);

    // Updating the activity run as if it were the workflow's current run fails on the workflow
    // row (which points at the workflow run) and changes nothing.
    let m = mutation(&act, 2);
    let res = exec
        .update_workflow_execution(update_request(&shard, UpdateMode::UpdateCurrent, m.clone()))
        .await;
    let err = expect_err(
        "update of the activity run in the workflow space",
        res,
        ErrorKind::CurrentWorkflowConditionFailed,
    )?;
    expect_current_conflict("update in the workflow space", &err, &wf_cur)?;
    expect_snapshot_state(ctx, &shard, "activity unchanged", &act).await?;

    // In its own space the update refreshes the activity's current row only.
    let mut req = update_request(&shard, UpdateMode::UpdateCurrent, m.clone());
    req.archetype_id = ACTIVITY;
    ok(
        "update of the activity run",
        exec.update_workflow_execution(req).await,
    )?;
    rows.expect("after update", ACTIVITY, &expected_current_after(&m))
        .await?;
    rows.expect("workflow row kept", ArchetypeId::WORKFLOW, &wf_cur)
        .await?;

    // Continue-as-new in the activity space moves the activity's row to the new run.
    let mut closing = mutation_in(&m, 3, St::Completed);
    closing.state.status = Su::ContinuedAsNew;
    let next = snapshot(next_run(&act.key), St::Running, Su::Running);
    let mut req = update_request(&shard, UpdateMode::UpdateCurrent, closing);
    req.archetype_id = ACTIVITY;
    req.new_snapshot = Some(next.clone());
    ok(
        "continue-as-new of the activity",
        exec.update_workflow_execution(req).await,
    )?;
    let next_cur = expected_current(&next);
    rows.expect("after continue-as-new", ACTIVITY, &next_cur)
        .await?;
    rows.expect("workflow row kept", ArchetypeId::WORKFLOW, &wf_cur)
        .await?;

    // Conflict-resolve of the new activity run in its space rewrites its current row; naming the
    // scheduler space (no row there) is a conflict without a row.
    let mut reset = snapshot(next.key.clone(), St::Running, Su::Running);
    reset.db_record_version = 2;
    let mut req =
        conflict_resolve_request(&shard, ConflictResolveMode::UpdateCurrent, reset.clone());
    req.archetype_id = SCHEDULER;
    let res = exec.conflict_resolve_workflow_execution(req.clone()).await;
    let err = expect_err(
        "reset in the scheduler space",
        res,
        ErrorKind::CurrentWorkflowConditionFailed,
    )?;
    ensure!(
        err.current_workflow().is_none(),
        "reset in an empty space: the conflict carries no row, got {err:?}"
    );
    req.archetype_id = ACTIVITY;
    ok(
        "reset of the activity run",
        exec.conflict_resolve_workflow_execution(req).await,
    )?;
    rows.expect("after reset", ACTIVITY, &expected_current(&reset))
        .await?;
    rows.expect_none("scheduler still empty", SCHEDULER).await?;

    // Id reuse in the activity space: close the run, then reuse needs the activity row's run.
    let mut close = mutation_in(&reset, 3, St::Completed);
    close.state.status = Su::Completed;
    let mut req = update_request(&shard, UpdateMode::UpdateCurrent, close.clone());
    req.archetype_id = ACTIVITY;
    ok(
        "close the activity run",
        exec.update_workflow_execution(req).await,
    )?;
    let reuse = snapshot(next_run(&act.key), St::Running, Su::Running);
    let mode = CreateMode::UpdateCurrent {
        previous_run_id: close.key.run_id,
        previous_last_write_version: close.last_write_version,
    };
    let res = exec
        .create_workflow_execution(create_in(
            &shard,
            ArchetypeId::WORKFLOW,
            mode.clone(),
            &reuse,
        ))
        .await;
    let err = expect_err(
        "reuse of the activity run's id in the workflow space",
        res,
        ErrorKind::CurrentWorkflowConditionFailed,
    )?;
    expect_current_conflict("reuse in the workflow space", &err, &wf_cur)?;
    ok(
        "reuse in the activity space",
        exec.create_workflow_execution(create_in(&shard, ACTIVITY, mode, &reuse))
            .await,
    )?;
    rows.expect("after reuse", ACTIVITY, &expected_current(&reuse))
        .await?;
    rows.expect("workflow row kept", ArchetypeId::WORKFLOW, &wf_cur)
        .await
}

/// N concurrent BrandNew creates of one id in a non-workflow archetype: exactly one wins; every
/// loser is `CurrentWorkflowConditionFailed` carrying the winner's current row, execution-state
/// blob included; no loser's run exists and the workflow space stays empty.
pub async fn chasm_brand_new_race_single_winner(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = store(ctx)?;
    let shard = new_shard(ctx).await?;
    let base = new_key(namespace_id());
    let rows = CurrentRows {
        exec: &*exec,
        shard: &shard,
        key: &base,
    };
    let snaps: Vec<_> = (0..RACERS)
        .map(|_| snapshot(next_run(&base), St::Running, Su::Running))
        .collect();
    let futs = snaps
        .iter()
        .map(|s| {
            let exec = Arc::clone(&exec);
            let req = create_in(&shard, ACTIVITY, CreateMode::BrandNew, s);
            async move { exec.create_workflow_execution(req).await }
        })
        .collect();
    let results = race(futs).await?;
    let winners: Vec<usize> = (0..RACERS).filter(|&i| results[i].is_ok()).collect();
    ensure_eq!(winners.len(), 1, "number of winning creates ({winners:?})");
    let winner = &snaps[winners[0]];
    let winner_cur = expected_current(winner);
    for (i, r) in results.iter().enumerate() {
        if i == winners[0] {
            continue;
        }
        let what = format!("racer {i}");
        let Err(e) = r else {
            return Err(CaseError::new(format!("{what}: lost but returned Ok")));
        };
        ensure_eq!(
            e.kind(),
            ErrorKind::CurrentWorkflowConditionFailed,
            "{what}: error kind ({e})"
        );
        // Temporal deduplicates starts from this blob, so it must be the winner's.
        expect_current_conflict(&what, e, &winner_cur)?;
        expect_no_run(ctx, &shard, &what, &snaps[i].key).await?;
    }
    expect_snapshot_state(ctx, &shard, "winner", winner).await?;
    rows.expect("after race", ACTIVITY, &winner_cur).await?;
    rows.expect_none("workflow space", ArchetypeId::WORKFLOW)
        .await
}

/// The execution-state blob a current conflict carries is exactly what the current run last
/// wrote to its current row (the create's, then an update's), not the rejected request's.
pub async fn chasm_conflict_carries_state_blob(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = store(ctx)?;
    let shard = new_shard(ctx).await?;
    for archetype in [ArchetypeId::WORKFLOW, ACTIVITY] {
        let first = snapshot(new_key(namespace_id()), St::Running, Su::Running);
        ok(
            "create",
            exec.create_workflow_execution(create_in(
                &shard,
                archetype,
                CreateMode::BrandNew,
                &first,
            ))
            .await,
        )?;
        let loser = snapshot(next_run(&first.key), St::Running, Su::Running);
        let conflict = |what: String| {
            let exec = Arc::clone(&exec);
            let req = create_in(&shard, archetype, CreateMode::BrandNew, &loser);
            async move {
                let res = exec.create_workflow_execution(req).await;
                expect_err(&what, res, ErrorKind::CurrentWorkflowConditionFailed)
            }
        };
        let what = format!("archetype {archetype}: BrandNew after create");
        let err = conflict(what.clone()).await?;
        let found = err
            .current_workflow()
            .ok_or_else(|| CaseError::new(format!("{what}: no current row in {err:?}")))?;
        ensure_eq!(
            found.execution_state,
            first.execution_state,
            "{what}: state blob"
        );
        ensure!(
            found.execution_state != loser.execution_state,
            "{what}: the blob is the rejected request's"
        );

        let mut m = mutation(&first, 2);
        m.execution_state = DataBlob::proto3(b"updated execution state");
        let mut req = update_request(&shard, UpdateMode::UpdateCurrent, m.clone());
        req.archetype_id = archetype;
        ok("update", exec.update_workflow_execution(req).await)?;
        let what = format!("archetype {archetype}: BrandNew after update");
        let err = conflict(what.clone()).await?;
        expect_current_conflict(&what, &err, &expected_current_after(&m))?;
    }
    Ok(())
}

/// Archetype 0 (unspecified) is `InvalidArgument` on every method that takes an archetype, and
/// nothing is written.
pub async fn chasm_bad_archetype(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = store(ctx)?;
    let shard = new_shard(ctx).await?;
    let bad = ArchetypeId::UNSPECIFIED;
    let snap = snapshot(new_key(namespace_id()), St::Running, Su::Running);
    let rows = CurrentRows {
        exec: &*exec,
        shard: &shard,
        key: &snap.key,
    };
    expect_bad_request(
        "create with archetype 0",
        exec.create_workflow_execution(create_in(&shard, bad, CreateMode::BrandNew, &snap))
            .await,
    )?;
    expect_no_run(ctx, &shard, "after the refused create", &snap.key).await?;
    expect_no_current(
        ctx,
        &shard,
        "after the refused create",
        snap.key.namespace_id,
        &snap.key.workflow_id,
    )
    .await?;
    rows.expect_none("after the refused create", ACTIVITY)
        .await?;

    // An existing run: none of the writes naming archetype 0 touches it.
    let wf = create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    let mut req = update_request(&shard, UpdateMode::UpdateCurrent, mutation(&wf, 2));
    req.archetype_id = bad;
    expect_bad_request(
        "update with archetype 0",
        exec.update_workflow_execution(req).await,
    )?;
    let mut reset = snapshot(wf.key.clone(), St::Running, Su::Running);
    reset.db_record_version = 2;
    let mut req =
        conflict_resolve_request(&shard, ConflictResolveMode::UpdateCurrent, reset.clone());
    req.archetype_id = bad;
    expect_bad_request(
        "conflict-resolve with archetype 0",
        exec.conflict_resolve_workflow_execution(req).await,
    )?;
    let mut req = set_request(&shard, reset);
    req.archetype_id = bad;
    expect_bad_request(
        "set with archetype 0",
        exec.set_workflow_execution(req).await,
    )?;
    expect_bad_request(
        "get_current with archetype 0",
        exec.get_current_execution_for_archetype(
            shard.id,
            wf.key.namespace_id,
            &wf.key.workflow_id,
            bad,
        )
        .await,
    )?;
    expect_bad_request(
        "delete_current with archetype 0",
        exec.delete_current_execution_for_archetype(shard.id, &wf.key, bad)
            .await,
    )?;
    expect_snapshot_state(ctx, &shard, "after the refused writes", &wf).await?;
    expect_current(
        ctx,
        &shard,
        "after the refused writes",
        &wf.key,
        &expected_current(&wf),
    )
    .await
}
