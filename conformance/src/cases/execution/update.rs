//! Execution cases: `update_workflow_execution` in every update mode, with its conflicts.

use durastore_api::{
    CreateMode, ErrorKind, TaskCategory, UpdateMode, WorkflowMutation, WorkflowState as St,
    WorkflowStatus as Su,
};

use super::two_keys;
use crate::check::{expect_err, ok};
use crate::exec_fixtures::*;
use crate::fixtures::{blob, namespace_id, unique_name};
use crate::{CaseError, Ctx, ensure, ensure_eq};

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
                mutation_in(&zombie, 2, St::Running),
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
                mutation_in(&current, 2, St::Completed),
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
    let mut req = update_request(
        &shard,
        UpdateMode::UpdateCurrent,
        mutation_in(&first, 5, St::Completed),
    );
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
