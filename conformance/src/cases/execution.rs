//! Conformance cases for the execution store: workflow mutable state.
//!
//! Modelled on Temporal's `ExecutionMutableStateSuite`: every create / update / conflict-resolve
//! mode with its conflicts, and the stored state (run rows, map rows, current-run row, tasks)
//! checked after every step, failed steps included. Beyond it: fencing on every write kind and
//! its priority over other conflicts, concurrent single-winner CAS, and malformed input.
//!
//! Every case works on its own shard ([`new_shard`]) and fresh namespace and workflow ids.

use std::collections::BTreeMap;
use std::sync::Arc;

use durastore_api::{
    BranchId, ChasmNode, ConflictResolveMode, CreateMode, DataBlob, ErrorKind, ExecutionStore,
    HistoryNode, NamespaceId, ReadHistoryBranchRequest, RunId, ShardId, TaskCategory, TreeId,
    UpdateMode, Uuid, WorkflowId, WorkflowKey, WorkflowMutableState, WorkflowMutation,
    WorkflowSnapshot, WorkflowState as St, WorkflowStatus as Su,
};

use crate::check::{expect_bad_request, expect_err, ok};
use crate::exec_fixtures::*;
use crate::fixtures::{blob, namespace_id, unique_name};
use crate::util::race;
use crate::{Case, CaseError, Ctx, case, ensure, ensure_eq};

/// The cases of this module.
pub fn cases() -> Vec<Case> {
    vec![
        // create
        case!(
            "execution",
            create_brand_new,
            ["execution", "shard"],
            create_brand_new
        ),
        case!(
            "execution",
            create_brand_new_current_conflict,
            ["execution", "shard"],
            create_brand_new_current_conflict
        ),
        case!(
            "execution",
            create_run_exists,
            ["execution", "shard"],
            create_run_exists
        ),
        case!(
            "execution",
            create_workflow_id_reuse,
            ["execution", "shard"],
            create_workflow_id_reuse
        ),
        case!(
            "execution",
            create_reuse_previous_running,
            ["execution", "shard"],
            create_reuse_previous_running
        ),
        case!(
            "execution",
            create_reuse_run_id_mismatch,
            ["execution", "shard"],
            create_reuse_run_id_mismatch
        ),
        case!(
            "execution",
            create_reuse_version_mismatch,
            ["execution", "shard"],
            create_reuse_version_mismatch
        ),
        case!(
            "execution",
            create_reuse_without_current_row,
            ["execution", "shard"],
            create_reuse_without_current_row
        ),
        case!(
            "execution",
            create_zombie,
            ["execution", "shard"],
            create_zombie_run
        ),
        case!(
            "execution",
            create_zombie_without_current_row,
            ["execution", "shard"],
            create_zombie_without_current_row
        ),
        case!(
            "execution",
            create_zombie_current_is_self,
            ["execution", "shard"],
            create_zombie_current_is_self
        ),
        case!(
            "execution",
            create_writes_history_tasks_atomically,
            ["execution", "shard"],
            create_writes_history_tasks_atomically
        ),
        // update
        case!(
            "execution",
            update_current,
            ["execution", "shard"],
            update_current
        ),
        case!(
            "execution",
            update_maps_upsert_delete,
            ["execution", "shard"],
            update_maps_upsert_delete
        ),
        case!(
            "execution",
            update_buffered_events,
            ["execution", "shard"],
            update_buffered_events
        ),
        case!(
            "execution",
            update_conflict_db_version,
            ["execution", "shard"],
            update_conflict_db_version
        ),
        case!(
            "execution",
            update_legacy_next_event_id_condition,
            ["execution", "shard"],
            update_legacy_next_event_id_condition
        ),
        case!(
            "execution",
            update_missing_run,
            ["execution", "shard"],
            update_missing_run
        ),
        case!(
            "execution",
            update_current_points_elsewhere,
            ["execution", "shard"],
            update_current_points_elsewhere
        ),
        case!(
            "execution",
            update_bypass_current,
            ["execution", "shard"],
            update_bypass_current
        ),
        case!(
            "execution",
            update_bypass_current_conflict,
            ["execution", "shard"],
            update_bypass_current_conflict
        ),
        case!(
            "execution",
            update_ignore_current,
            ["execution", "shard"],
            update_ignore_current
        ),
        case!(
            "execution",
            update_continue_as_new,
            ["execution", "shard"],
            update_continue_as_new
        ),
        case!(
            "execution",
            update_continue_as_new_run_exists,
            ["execution", "shard"],
            update_continue_as_new_run_exists
        ),
        case!(
            "execution",
            update_continue_as_new_stale_mutation,
            ["execution", "shard"],
            update_continue_as_new_stale_mutation
        ),
        // conflict resolve
        case!(
            "execution",
            reset_current,
            ["execution", "shard"],
            reset_current
        ),
        case!(
            "execution",
            reset_current_with_new_run,
            ["execution", "shard"],
            reset_current_with_new_run
        ),
        case!(
            "execution",
            reset_with_current_mutation,
            ["execution", "shard"],
            reset_with_current_mutation
        ),
        case!(
            "execution",
            reset_with_current_mutation_and_new_run,
            ["execution", "shard"],
            reset_with_current_mutation_and_new_run
        ),
        case!(
            "execution",
            reset_conflict_db_version,
            ["execution", "shard"],
            reset_conflict_db_version
        ),
        case!(
            "execution",
            reset_current_mutation_conflict,
            ["execution", "shard"],
            reset_current_mutation_conflict
        ),
        case!(
            "execution",
            reset_current_row_mismatch,
            ["execution", "shard"],
            reset_current_row_mismatch
        ),
        case!(
            "execution",
            reset_new_run_exists,
            ["execution", "shard"],
            reset_new_run_exists
        ),
        case!(
            "execution",
            reset_zombie,
            ["execution", "shard"],
            reset_zombie
        ),
        // set
        case!(
            "execution",
            set_overwrites_state,
            ["execution", "shard"],
            set_overwrites_state
        ),
        case!(
            "execution",
            set_missing_run,
            ["execution", "shard"],
            set_missing_run
        ),
        case!(
            "execution",
            set_conflict_db_version,
            ["execution", "shard"],
            set_conflict_db_version
        ),
        // get / delete / list
        case!(
            "execution",
            get_not_found,
            ["execution", "shard"],
            get_not_found
        ),
        case!(
            "execution",
            delete_execution,
            ["execution", "shard"],
            delete_execution
        ),
        case!(
            "execution",
            delete_current_only_matching_run,
            ["execution", "shard"],
            delete_current_only_matching_run
        ),
        case!(
            "execution",
            list_concrete_executions,
            ["execution", "shard", "list_concrete_executions"],
            list_concrete_executions
        ),
        case!(
            "execution",
            list_concrete_executions_bad_input,
            ["execution", "shard", "list_concrete_executions"],
            list_concrete_executions_bad_input
        ),
        // fencing
        case!(
            "execution",
            fencing_create,
            ["execution", "shard"],
            fencing_create
        ),
        case!(
            "execution",
            fencing_update,
            ["execution", "shard"],
            fencing_update
        ),
        case!(
            "execution",
            fencing_conflict_resolve,
            ["execution", "shard"],
            fencing_conflict_resolve
        ),
        case!(
            "execution",
            fencing_set,
            ["execution", "shard"],
            fencing_set
        ),
        case!(
            "execution",
            fencing_missing_shard,
            ["execution", "shard"],
            fencing_missing_shard
        ),
        case!(
            "execution",
            fencing_wins_over_other_conflicts,
            ["execution", "shard"],
            fencing_wins_over_other_conflicts
        ),
        // history events
        case!(
            "execution",
            history_events_appended,
            ["execution", "shard", "history"],
            history_events_appended
        ),
        // concurrency
        case!(
            "execution",
            concurrent_update_single_winner,
            ["execution", "shard", "concurrent_writers"],
            concurrent_update_single_winner
        ),
        case!(
            "execution",
            read_sees_one_snapshot,
            ["execution", "shard", "concurrent_writers"],
            read_sees_one_snapshot
        ),
        case!(
            "execution",
            concurrent_brand_new_single_winner,
            ["execution", "shard", "concurrent_writers"],
            concurrent_brand_new_single_winner
        ),
        // bad input
        case!(
            "execution",
            bad_input_ids,
            ["execution", "shard"],
            bad_input_ids
        ),
        case!(
            "execution",
            bad_input_blob_size,
            ["execution", "shard"],
            bad_input_blob_size
        ),
        case!(
            "execution",
            bad_input_encoding_name,
            ["execution", "shard"],
            bad_input_encoding_name
        ),
        case!(
            "execution",
            bad_input_map_keys,
            ["execution", "shard"],
            bad_input_map_keys
        ),
        case!(
            "execution",
            bad_input_task_key,
            ["execution", "shard"],
            bad_input_task_key
        ),
        case!(
            "execution",
            bad_input_shard_id,
            ["execution", "shard"],
            bad_input_shard_id
        ),
        case!(
            "execution",
            bad_input_mutation,
            ["execution", "shard"],
            bad_input_mutation
        ),
    ]
}

/// The execution store as an owned handle (for spawned tasks).
fn store(ctx: &Ctx) -> Result<Arc<dyn ExecutionStore>, CaseError> {
    Ok(Arc::clone(ctx.execution()?))
}

/// The first two keys of a map, which [`snapshot`] always fills with two entries.
fn two_keys<K: Clone, V>(map: &BTreeMap<K, V>) -> Result<(K, K), CaseError> {
    let mut it = map.keys();
    match (it.next(), it.next()) {
        (Some(a), Some(b)) => Ok((a.clone(), b.clone())),
        _ => Err(CaseError::new(
            "fixture snapshot has fewer than two map entries",
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// create
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// update
// ---------------------------------------------------------------------------------------------

/// UpdateCurrent: each mutation bumps the record version, replaces blobs and checksum, and
/// refreshes the current row's columns (state, status, last write version, state blob).
pub async fn update_current(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let snap = create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;

    let mut m1 = mutation(&snap, 2);
    m1.last_write_version += 5;
    update_ok(ctx, &shard, "update v2", UpdateMode::UpdateCurrent, &m1).await?;
    expect_state(ctx, &shard, "after v2", &expected_after(&snap, &[&m1])).await?;
    expect_current(
        ctx,
        &shard,
        "after v2",
        &snap.key,
        &expected_current_after(&m1),
    )
    .await?;

    let mut m2 = mutation(&m1, 3);
    m2.state.state = St::Completed;
    m2.state.status = Su::Completed;
    update_ok(
        ctx,
        &shard,
        "update v3 (close)",
        UpdateMode::UpdateCurrent,
        &m2,
    )
    .await?;
    expect_state(ctx, &shard, "after v3", &expected_after(&snap, &[&m1, &m2])).await?;
    expect_current(
        ctx,
        &shard,
        "after v3",
        &snap.key,
        &expected_current_after(&m2),
    )
    .await
}

/// Map upserts (insert and replace) and deletes (existing and absent keys) for all six maps and
/// the signal-requested set; then deleting everything leaves them empty.
pub async fn update_maps_upsert_delete(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let snap = create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;

    let mut m1 = mutation(&snap, 2);
    let (a, b) = two_keys(&snap.activity_infos)?;
    m1.upsert_activity_infos.insert(a, blob(50));
    m1.upsert_activity_infos.insert(random_i64(), blob(50));
    m1.delete_activity_infos.insert(b);
    m1.delete_activity_infos.insert(random_i64());
    let (a, b) = two_keys(&snap.timer_infos)?;
    m1.upsert_timer_infos.insert(a, blob(26));
    m1.upsert_timer_infos.insert(unique_name("timer"), blob(26));
    m1.delete_timer_infos.insert(b);
    m1.delete_timer_infos.insert(unique_name("timer"));
    let (a, b) = two_keys(&snap.child_execution_infos)?;
    m1.upsert_child_execution_infos.insert(a, blob(42));
    m1.upsert_child_execution_infos
        .insert(random_i64(), blob(42));
    m1.delete_child_execution_infos.insert(b);
    m1.delete_child_execution_infos.insert(random_i64());
    let (a, b) = two_keys(&snap.request_cancel_infos)?;
    m1.upsert_request_cancel_infos.insert(a, blob(18));
    m1.upsert_request_cancel_infos
        .insert(random_i64(), blob(18));
    m1.delete_request_cancel_infos.insert(b);
    m1.delete_request_cancel_infos.insert(random_i64());
    let (a, b) = two_keys(&snap.signal_infos)?;
    m1.upsert_signal_infos.insert(a, blob(30));
    m1.upsert_signal_infos.insert(random_i64(), blob(30));
    m1.delete_signal_infos.insert(b);
    m1.delete_signal_infos.insert(random_i64());
    let (a, b) = two_keys(&snap.chasm_nodes)?;
    // Replace one node, switching it between "with data" and "without data".
    let had_data = snap.chasm_nodes.get(&a).is_some_and(|n| n.data.is_some());
    m1.upsert_chasm_nodes.insert(a, chasm_node(!had_data));
    m1.upsert_chasm_nodes
        .insert(unique_name("chasm"), chasm_node(true));
    m1.delete_chasm_nodes.insert(b);
    m1.delete_chasm_nodes.insert(unique_name("chasm"));
    let (a, _) = two_keys(
        &snap
            .signal_requested_ids
            .iter()
            .map(|s| (s.clone(), ()))
            .collect(),
    )?;
    m1.upsert_signal_requested_ids.insert(unique_name("sigreq"));
    m1.delete_signal_requested_ids.insert(a);
    m1.delete_signal_requested_ids.insert(unique_name("sigreq"));
    update_ok(ctx, &shard, "update maps", UpdateMode::UpdateCurrent, &m1).await?;
    let mut model = expected_after(&snap, &[&m1]);
    expect_state(ctx, &shard, "after map upserts/deletes", &model).await?;

    let mut m2 = mutation(&m1, 3);
    m2.delete_activity_infos = model.activity_infos.keys().copied().collect();
    m2.delete_timer_infos = model.timer_infos.keys().cloned().collect();
    m2.delete_child_execution_infos = model.child_execution_infos.keys().copied().collect();
    m2.delete_request_cancel_infos = model.request_cancel_infos.keys().copied().collect();
    m2.delete_signal_infos = model.signal_infos.keys().copied().collect();
    m2.delete_chasm_nodes = model.chasm_nodes.keys().cloned().collect();
    m2.delete_signal_requested_ids = model.signal_requested_ids.clone();
    update_ok(
        ctx,
        &shard,
        "update deleting everything",
        UpdateMode::UpdateCurrent,
        &m2,
    )
    .await?;
    apply_mutation(&mut model, &m2);
    ensure!(
        model.activity_infos.is_empty() && model.chasm_nodes.is_empty(),
        "model should be empty after deleting every key"
    );
    expect_state(ctx, &shard, "after deleting every map entry", &model).await
}

/// Buffered events: append, append again (insertion order), clear, append, clear + append in
/// one mutation (the clear applies first).
pub async fn update_buffered_events(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let snap = create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    let mut model = expected_state(&snap);
    let mut last: Option<WorkflowMutation> = None;
    let steps: [(&str, bool, bool); 5] = [
        ("append", false, true),
        ("append again", false, true),
        ("clear", true, false),
        ("append after clear", false, true),
        ("clear and append", true, true),
    ];
    for (i, (what, clear, append)) in steps.into_iter().enumerate() {
        let version = i as i64 + 2;
        let mut m = match &last {
            Some(prev) => mutation(prev, version),
            None => mutation(&snap, version),
        };
        m.clear_buffered_events = clear;
        m.new_buffered_events = append.then(|| blob(100 + i));
        update_ok(ctx, &shard, what, UpdateMode::UpdateCurrent, &m).await?;
        apply_mutation(&mut model, &m);
        expect_state(
            ctx,
            &shard,
            &format!("buffered events after {what}"),
            &model,
        )
        .await?;
        last = Some(m);
    }
    ensure_eq!(
        model.buffered_events.len(),
        1,
        "model after clear and append"
    );
    Ok(())
}

/// A stale or future `db_record_version` is `WorkflowConditionFailed` carrying the stored next
/// event id and record version; nothing changes. Replaying an applied mutation fails too.
pub async fn update_conflict_db_version(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = ctx.execution()?;
    let shard = new_shard(ctx).await?;
    let snap = create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;

    for version in [3, 1] {
        let what = format!("update with db_record_version {version} over stored 1");
        let e = expect_err(
            &what,
            exec.update_workflow_execution(update_request(
                &shard,
                UpdateMode::UpdateCurrent,
                mutation(&snap, version),
            ))
            .await,
            ErrorKind::WorkflowConditionFailed,
        )?;
        expect_workflow_conflict(&what, &e, SNAPSHOT_NEXT_EVENT_ID, 1)?;
        expect_snapshot_state(ctx, &shard, &what, &snap).await?;
        expect_current(ctx, &shard, &what, &snap.key, &expected_current(&snap)).await?;
    }

    let m = mutation(&snap, 2);
    update_ok(ctx, &shard, "update v2", UpdateMode::UpdateCurrent, &m).await?;
    let mut replay = mutation(&snap, 2);
    replay.new_buffered_events = Some(blob(10));
    let e = expect_err(
        "replayed update v2",
        exec.update_workflow_execution(update_request(&shard, UpdateMode::UpdateCurrent, replay))
            .await,
        ErrorKind::WorkflowConditionFailed,
    )?;
    expect_workflow_conflict("replayed update v2", &e, m.next_event_id, 2)?;
    expect_state(ctx, &shard, "after replay", &expected_after(&snap, &[&m])).await?;
    expect_current(
        ctx,
        &shard,
        "after replay",
        &snap.key,
        &expected_current_after(&m),
    )
    .await
}

/// Legacy CAS: with `db_record_version` 0 the stored next event id must equal `condition`.
pub async fn update_legacy_next_event_id_condition(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = ctx.execution()?;
    let shard = new_shard(ctx).await?;
    let mut snap = snapshot(new_key(namespace_id()), St::Running, Su::Running);
    snap.db_record_version = 0;
    create_ok(
        ctx,
        &shard,
        "create legacy run",
        CreateMode::BrandNew,
        &snap,
    )
    .await?;

    let m1 = mutation(&snap, 0);
    ensure_eq!(m1.condition, snap.next_event_id);
    update_ok(ctx, &shard, "legacy update", UpdateMode::UpdateCurrent, &m1).await?;
    expect_state(
        ctx,
        &shard,
        "after legacy update",
        &expected_after(&snap, &[&m1]),
    )
    .await?;

    // Same condition again: the stored next event id has moved on.
    let stale = mutation(&snap, 0);
    let e = expect_err(
        "legacy update with stale next event id",
        exec.update_workflow_execution(update_request(&shard, UpdateMode::UpdateCurrent, stale))
            .await,
        ErrorKind::WorkflowConditionFailed,
    )?;
    expect_workflow_conflict(
        "legacy update with stale condition",
        &e,
        m1.next_event_id,
        0,
    )?;
    expect_state(
        ctx,
        &shard,
        "after stale legacy update",
        &expected_after(&snap, &[&m1]),
    )
    .await?;

    let m2 = mutation(&m1, 0);
    update_ok(
        ctx,
        &shard,
        "second legacy update",
        UpdateMode::UpdateCurrent,
        &m2,
    )
    .await?;
    expect_state(
        ctx,
        &shard,
        "after second legacy update",
        &expected_after(&snap, &[&m1, &m2]),
    )
    .await?;
    expect_current(
        ctx,
        &shard,
        "after legacy updates",
        &snap.key,
        &expected_current_after(&m2),
    )
    .await
}

/// Updating a run that does not exist is `ConditionFailed` and creates nothing.
pub async fn update_missing_run(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let ns = namespace_id();
    let ghost = snapshot(new_key(ns), St::Running, Su::Running);
    let mut m = mutation(&ghost, 2);
    m.upsert_activity_infos.insert(1, blob(10));
    m.new_buffered_events = Some(blob(10));
    expect_err(
        "update (IgnoreCurrent) of a missing run",
        ctx.execution()?
            .update_workflow_execution(update_request(&shard, UpdateMode::IgnoreCurrent, m))
            .await,
        ErrorKind::ConditionFailed,
    )?;
    expect_no_run(ctx, &shard, "after update of missing run", &ghost.key).await?;
    expect_no_current(
        ctx,
        &shard,
        "after update of missing run",
        ns,
        &ghost.key.workflow_id,
    )
    .await
}

/// UpdateCurrent of a run the current row does not point at is
/// `CurrentWorkflowConditionFailed` carrying the actual current row; nothing changes.
pub async fn update_current_points_elsewhere(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let current =
        create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    let zombie = create_zombie(ctx, &shard, next_run(&current.key)).await?;
    let e = expect_err(
        "UpdateCurrent of a non-current run",
        ctx.execution()?
            .update_workflow_execution(update_request(
                &shard,
                UpdateMode::UpdateCurrent,
                mutation(&zombie, 2),
            ))
            .await,
        ErrorKind::CurrentWorkflowConditionFailed,
    )?;
    expect_current_conflict(
        "UpdateCurrent of non-current run",
        &e,
        &expected_current(&current),
    )?;
    expect_snapshot_state(ctx, &shard, "zombie after failed update", &zombie).await?;
    expect_current(
        ctx,
        &shard,
        "after failed update",
        &current.key,
        &expected_current(&current),
    )
    .await
}

/// BypassCurrent updates a non-current run and leaves the current row untouched.
pub async fn update_bypass_current(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let current =
        create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    let zombie = create_zombie(ctx, &shard, next_run(&current.key)).await?;
    let m = mutation(&zombie, 2);
    update_ok(
        ctx,
        &shard,
        "BypassCurrent update of zombie",
        UpdateMode::BypassCurrent,
        &m,
    )
    .await?;
    expect_state(
        ctx,
        &shard,
        "zombie after update",
        &expected_after(&zombie, &[&m]),
    )
    .await?;
    expect_current(
        ctx,
        &shard,
        "after zombie update",
        &current.key,
        &expected_current(&current),
    )
    .await
}

/// BypassCurrent of the current run is `CurrentWorkflowConditionFailed`; nothing changes.
pub async fn update_bypass_current_conflict(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let current =
        create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    let e = expect_err(
        "BypassCurrent update of the current run",
        ctx.execution()?
            .update_workflow_execution(update_request(
                &shard,
                UpdateMode::BypassCurrent,
                mutation(&current, 2),
            ))
            .await,
        ErrorKind::CurrentWorkflowConditionFailed,
    )?;
    expect_current_conflict(
        "BypassCurrent of current run",
        &e,
        &expected_current(&current),
    )?;
    expect_snapshot_state(ctx, &shard, "after failed bypass update", &current).await?;
    expect_current(
        ctx,
        &shard,
        "after failed bypass update",
        &current.key,
        &expected_current(&current),
    )
    .await
}

/// IgnoreCurrent updates current and non-current runs alike, without moving the current row.
pub async fn update_ignore_current(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let current =
        create_new_workflow(ctx, &shard, namespace_id(), St::Completed, Su::Completed).await?;
    let zombie = create_zombie(ctx, &shard, next_run(&current.key)).await?;
    let mz = mutation(&zombie, 2);
    update_ok(
        ctx,
        &shard,
        "IgnoreCurrent update of zombie",
        UpdateMode::IgnoreCurrent,
        &mz,
    )
    .await?;
    expect_state(
        ctx,
        &shard,
        "zombie after update",
        &expected_after(&zombie, &[&mz]),
    )
    .await?;
    expect_current(
        ctx,
        &shard,
        "after IgnoreCurrent update of zombie",
        &current.key,
        &expected_current(&current),
    )
    .await?;
    let mc = mutation(&current, 2);
    update_ok(
        ctx,
        &shard,
        "IgnoreCurrent update of current",
        UpdateMode::IgnoreCurrent,
        &mc,
    )
    .await?;
    expect_state(
        ctx,
        &shard,
        "current after update",
        &expected_after(&current, &[&mc]),
    )
    .await?;
    expect_current_run(
        ctx,
        &shard,
        "after IgnoreCurrent update of current",
        &current.key,
    )
    .await
}

/// Continue-as-new: the mutation closes the run and the new run is created in the same
/// transaction; the current row moves to the new run.
pub async fn update_continue_as_new(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let first = create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    let mut m = mutation(&first, 2);
    m.state.state = St::Completed;
    m.state.status = Su::ContinuedAsNew;
    let mut new_run = snapshot(next_run(&first.key), St::Running, Su::Running);
    new_run
        .tasks
        .insert(TaskCategory::TRANSFER, vec![immediate_task(300)]);
    let mut req = update_request(&shard, UpdateMode::UpdateCurrent, m.clone());
    req.new_snapshot = Some(new_run.clone());
    ok(
        "update with new run",
        ctx.execution()?.update_workflow_execution(req).await,
    )?;
    expect_state(ctx, &shard, "closed run", &expected_after(&first, &[&m])).await?;
    expect_snapshot_state(ctx, &shard, "new run", &new_run).await?;
    expect_current(
        ctx,
        &shard,
        "after continue-as-new",
        &new_run.key,
        &expected_current(&new_run),
    )
    .await?;
    let tasks = read_all_tasks(ctx, &shard, TaskCategory::TRANSFER).await?;
    ensure_eq!(
        tasks,
        new_run
            .tasks
            .get(&TaskCategory::TRANSFER)
            .cloned()
            .unwrap_or_default(),
        "transfer tasks of the new run"
    );
    Ok(())
}

/// Continue-as-new into a run id that already exists is `WorkflowConditionFailed` and nothing of
/// the mutation is applied; the current row stays on the old run.
pub async fn update_continue_as_new_run_exists(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let first = create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    let existing = create_zombie(ctx, &shard, next_run(&first.key)).await?;
    let mut m = mutation(&first, 2);
    m.state.state = St::Completed;
    m.state.status = Su::ContinuedAsNew;
    m.upsert_activity_infos.insert(random_i64(), blob(10));
    m.new_buffered_events = Some(blob(10));
    m.tasks
        .insert(TaskCategory::TRANSFER, vec![immediate_task(400)]);
    let mut req = update_request(&shard, UpdateMode::UpdateCurrent, m);
    req.new_snapshot = Some(snapshot(existing.key.clone(), St::Running, Su::Running));
    expect_err(
        "continue-as-new into an existing run",
        ctx.execution()?.update_workflow_execution(req).await,
        ErrorKind::WorkflowConditionFailed,
    )?;
    expect_snapshot_state(ctx, &shard, "mutated run after failure", &first).await?;
    expect_snapshot_state(ctx, &shard, "existing run after failure", &existing).await?;
    expect_current(
        ctx,
        &shard,
        "after failed continue-as-new",
        &first.key,
        &expected_current(&first),
    )
    .await?;
    ensure_eq!(
        read_all_tasks(ctx, &shard, TaskCategory::TRANSFER).await?,
        Vec::new(),
        "transfer tasks after failed continue-as-new"
    );
    Ok(())
}

/// Continue-as-new with a stale mutation is `WorkflowConditionFailed`; the new run is not
/// created and the current row does not move.
pub async fn update_continue_as_new_stale_mutation(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let first = create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    let new_run = snapshot(next_run(&first.key), St::Running, Su::Running);
    let mut req = update_request(&shard, UpdateMode::UpdateCurrent, mutation(&first, 5));
    req.new_snapshot = Some(new_run.clone());
    let e = expect_err(
        "continue-as-new with stale mutation",
        ctx.execution()?.update_workflow_execution(req).await,
        ErrorKind::WorkflowConditionFailed,
    )?;
    expect_workflow_conflict(
        "continue-as-new with stale mutation",
        &e,
        SNAPSHOT_NEXT_EVENT_ID,
        1,
    )?;
    expect_no_run(ctx, &shard, "new run after failure", &new_run.key).await?;
    expect_snapshot_state(ctx, &shard, "mutated run after failure", &first).await?;
    expect_current(
        ctx,
        &shard,
        "after failed continue-as-new",
        &first.key,
        &expected_current(&first),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// conflict resolve
// ---------------------------------------------------------------------------------------------

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
        let mut reset = snapshot(run.key.clone(), St::Running, Su::Running);
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
    req.current_mutation = Some(mutation(&current, 7));
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

// ---------------------------------------------------------------------------------------------
// set
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// get / delete / list
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// fencing
// ---------------------------------------------------------------------------------------------

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
    let m = mutation(&run, 2);
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
            mutation(&zombie, 2),
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

// ---------------------------------------------------------------------------------------------
// history events
// ---------------------------------------------------------------------------------------------

async fn read_branch(
    ctx: &Ctx,
    shard: &TestShard,
    tree_id: TreeId,
    branch_id: BranchId,
) -> Result<Vec<HistoryNode>, CaseError> {
    let page = ok(
        "read_history_branch",
        ctx.history()?
            .read_history_branch(ReadHistoryBranchRequest {
                shard_id: shard.id,
                tree_id,
                branch_id,
                min_node_id: 1,
                max_node_id: i64::MAX,
                page_size: 100,
                next_page_token: None,
                metadata_only: false,
                reverse: false,
            })
            .await,
    )?;
    ensure!(
        page.next_page_token.is_none(),
        "a short branch came with a next page token"
    );
    Ok(page.items)
}

/// History nodes in `new_events` (create) and `mutation_events` / `new_events` (update with a
/// new run) are appended and read back from the history store.
pub async fn history_events_appended(ctx: &Ctx) -> Result<(), CaseError> {
    let shard = new_shard(ctx).await?;
    let snap = snapshot(new_key(namespace_id()), St::Running, Su::Running);
    let tree = TreeId::from_uuid(*snap.key.run_id.as_uuid());
    let first = first_history_append(&shard, tree);
    let mut req = create_request(&shard, CreateMode::BrandNew, snap.clone());
    req.new_events = vec![first.clone()];
    ok(
        "create with events",
        ctx.execution()?.create_workflow_execution(req).await,
    )?;

    let second = next_history_append(&first, SNAPSHOT_NEXT_EVENT_ID, 2);
    let m = mutation(&snap, 2);
    let new_run = snapshot(next_run(&snap.key), St::Running, Su::Running);
    let new_tree = TreeId::from_uuid(*new_run.key.run_id.as_uuid());
    let new_first = first_history_append(&shard, new_tree);
    let mut req = update_request(&shard, UpdateMode::UpdateCurrent, m.clone());
    req.mutation_events = vec![second.clone()];
    req.new_snapshot = Some(new_run.clone());
    req.new_events = vec![new_first.clone()];
    ok(
        "update with events and new run",
        ctx.execution()?.update_workflow_execution(req).await,
    )?;

    let nodes = read_branch(ctx, &shard, tree, first.branch.branch_id).await?;
    let got: Vec<(i64, i64, Option<DataBlob>)> = nodes
        .into_iter()
        .map(|n| (n.node_id, n.txn_id, n.events))
        .collect();
    ensure_eq!(
        got,
        vec![
            (first.node_id, first.txn_id, Some(first.events.clone())),
            (second.node_id, second.txn_id, Some(second.events.clone())),
        ],
        "nodes of the first run's branch"
    );
    let nodes = read_branch(ctx, &shard, new_tree, new_first.branch.branch_id).await?;
    let got: Vec<(i64, Option<DataBlob>)> =
        nodes.into_iter().map(|n| (n.node_id, n.events)).collect();
    ensure_eq!(
        got,
        vec![(new_first.node_id, Some(new_first.events.clone()))],
        "nodes of the new run's branch"
    );
    expect_state(ctx, &shard, "mutated run", &expected_after(&snap, &[&m])).await?;
    expect_snapshot_state(ctx, &shard, "new run", &new_run).await
}

// ---------------------------------------------------------------------------------------------
// concurrency
// ---------------------------------------------------------------------------------------------

const RACERS: usize = 8;

/// N concurrent updates of one run with the same expected record version: exactly one wins,
/// the others are `WorkflowConditionFailed`, and the stored state is the winner's.
pub async fn concurrent_update_single_winner(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = store(ctx)?;
    let shard = new_shard(ctx).await?;
    let snap = create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    let mutations: Vec<_> = (0..RACERS)
        .map(|_| {
            let mut m = mutation(&snap, 2);
            m.upsert_activity_infos.insert(random_i64(), blob(40));
            m
        })
        .collect();
    let futs = mutations
        .iter()
        .map(|m| {
            let exec = Arc::clone(&exec);
            let req = update_request(&shard, UpdateMode::UpdateCurrent, m.clone());
            async move { exec.update_workflow_execution(req).await }
        })
        .collect();
    let results = race(futs).await?;

    let mut winners = Vec::new();
    for (i, r) in results.iter().enumerate() {
        match r {
            Ok(()) => winners.push(i),
            Err(e) if e.kind() == ErrorKind::WorkflowConditionFailed => {}
            Err(e) => {
                return Err(CaseError::new(format!(
                    "racer {i}: expected Ok or WorkflowConditionFailed, got {e}"
                )));
            }
        }
    }
    ensure_eq!(
        winners.len(),
        1,
        "number of winning updates (winners: {winners:?})"
    );
    let Some(winner) = winners.first().and_then(|&i| mutations.get(i)) else {
        return Err(CaseError::new("no winner"));
    };
    expect_state(ctx, &shard, "after race", &expected_after(&snap, &[winner])).await?;
    expect_current(
        ctx,
        &shard,
        "after race",
        &snap.key,
        &expected_current_after(winner),
    )
    .await
}

/// A read of mutable state racing a stream of updates sees one committed state: the execution
/// row and every map it returns come from the same update, never half of one and half of the
/// next (SQL backends read them with several statements, so they need one snapshot).
pub async fn read_sees_one_snapshot(ctx: &Ctx) -> Result<(), CaseError> {
    const UPDATES: i64 = 60;
    let exec = store(ctx)?;
    let shard = new_shard(ctx).await?;
    let snap = create_new_workflow(ctx, &shard, namespace_id(), St::Running, Su::Running).await?;
    // Update i writes the same 8-byte marker into the execution info and three maps.
    let marker = |i: i64| DataBlob::proto3(i.to_be_bytes().to_vec());
    let writer = {
        let exec = Arc::clone(&exec);
        let snap = snap.clone();
        let shard_req = update_request(&shard, UpdateMode::UpdateCurrent, mutation(&snap, 2));
        tokio::spawn(async move {
            for i in 1..=UPDATES {
                let mut m = mutation(&snap, i + 1);
                m.execution_info = marker(i);
                m.upsert_activity_infos.insert(1, marker(i));
                m.upsert_timer_infos.insert("t".to_string(), marker(i));
                m.upsert_signal_infos.insert(1, marker(i));
                let mut req = shard_req.clone();
                req.mutation = m;
                exec.update_workflow_execution(req).await?;
            }
            Ok::<(), durastore_api::StoreError>(())
        })
    };
    let mut checked = 0u32;
    loop {
        let done = writer.is_finished();
        let st = ok(
            "get",
            exec.get_workflow_execution(shard.id, &snap.key).await,
        )?;
        if st.execution_info.data.len() == 8 {
            let want = Some(&st.execution_info);
            ensure!(
                st.activity_infos.get(&1) == want
                    && st.timer_infos.get("t") == want
                    && st.signal_infos.get(&1) == want,
                "a read mixed two updates: execution info {:?}, activity {:?}, timer {:?}, signal {:?}",
                st.execution_info,
                st.activity_infos.get(&1),
                st.timer_infos.get("t"),
                st.signal_infos.get(&1)
            );
            checked += 1;
        }
        if done {
            break;
        }
    }
    match writer.await {
        Ok(r) => ok("writer", r)?,
        Err(e) => return Err(CaseError::new(format!("writer task failed: {e}"))),
    }
    let st = ok(
        "final get",
        exec.get_workflow_execution(shard.id, &snap.key).await,
    )?;
    ensure_eq!(st.execution_info, marker(UPDATES), "last update is stored");
    ensure!(checked > 0, "no read saw an update");
    Ok(())
}

/// N concurrent BrandNew creates of different runs of one workflow: exactly one wins, the others
/// are `CurrentWorkflowConditionFailed`, the current row points at the winner and the losers'
/// runs do not exist.
pub async fn concurrent_brand_new_single_winner(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = store(ctx)?;
    let shard = new_shard(ctx).await?;
    let base = new_key(namespace_id());
    let snaps: Vec<_> = (0..RACERS)
        .map(|_| snapshot(next_run(&base), St::Running, Su::Running))
        .collect();
    let futs = snaps
        .iter()
        .map(|s| {
            let exec = Arc::clone(&exec);
            let req = create_request(&shard, CreateMode::BrandNew, s.clone());
            async move { exec.create_workflow_execution(req).await }
        })
        .collect();
    let results = race(futs).await?;

    let mut winners = Vec::new();
    for (i, r) in results.iter().enumerate() {
        match r {
            Ok(()) => winners.push(i),
            Err(e) if e.kind() == ErrorKind::CurrentWorkflowConditionFailed => {}
            Err(e) => {
                return Err(CaseError::new(format!(
                    "racer {i}: expected Ok or CurrentWorkflowConditionFailed, got {e}"
                )));
            }
        }
    }
    ensure_eq!(
        winners.len(),
        1,
        "number of winning creates (winners: {winners:?})"
    );
    for (i, s) in snaps.iter().enumerate() {
        if winners.contains(&i) {
            expect_snapshot_state(ctx, &shard, "winner", s).await?;
            expect_current(ctx, &shard, "after race", &s.key, &expected_current(s)).await?;
        } else {
            expect_no_run(ctx, &shard, "loser", &s.key).await?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// bad input
// ---------------------------------------------------------------------------------------------

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
