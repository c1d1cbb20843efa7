//! Execution cases: concurrent writers, where exactly one compare-and-set wins and reads see one
//! snapshot.

use std::sync::Arc;

use durastore_api::{
    CreateMode, DataBlob, ErrorKind, UpdateMode, WorkflowState as St, WorkflowStatus as Su,
};

use super::store;
use crate::check::ok;
use crate::exec_fixtures::*;
use crate::fixtures::{blob, namespace_id};
use crate::util::race;
use crate::{CaseError, Ctx, ensure, ensure_eq};

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
