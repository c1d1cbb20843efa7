//! Conformance cases for the shard store: creation, the range-id compare-and-set, ownership
//! checks, input limits, and multi-owner fencing races (which Temporal's own suite lacks).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use durastore_api::validate::MAX_BLOB_BYTES;
use durastore_api::{
    ConflictDetail, DataBlob, ErrorKind, ExecutionStore, GetOrCreateShardRequest, NamespaceId,
    ShardId, ShardInfo, ShardStore, StoreError, TaskCategory, UpdateShardRequest, WorkflowId,
};

use crate::cases::history_tasks::{immediate_task, read_all_tasks, task_map};
use crate::check::{expect_bad_request, expect_err, ok};
use crate::fixtures::{blob, namespace_id, unique_name};
use crate::{Case, CaseError, Ctx, ensure, ensure_eq};

/// The cases of this module.
pub fn cases() -> Vec<Case> {
    crate::cases![shard requires(Shard) =>
        get_or_create_creates,
        get_existing_ignores_create_values,
        get_missing_not_found,
        update_with_previous_range,
        update_stale_range_lost,
        update_missing_shard,
        assert_ownership,
        blob_limits_inclusive,
        bad_shard_id,
        oversized_blob,
        long_encoding_name,
        concurrent_get_or_create + ConcurrentWriters,
        concurrent_owners_race + Execution + ConcurrentWriters,
        renew_fences_in_flight_writers + Execution + ConcurrentWriters,
    ]
}

fn get_req(shard_id: ShardId, create: Option<(i64, DataBlob)>) -> GetOrCreateShardRequest {
    GetOrCreateShardRequest {
        shard_id,
        create_if_missing: create,
    }
}

fn update_req(
    shard_id: ShardId,
    previous: i64,
    range_id: i64,
    data: DataBlob,
) -> UpdateShardRequest {
    UpdateShardRequest {
        shard_id,
        range_id,
        previous_range_id: previous,
        data,
    }
}

/// Reads a shard that must exist.
pub(crate) async fn read_shard(
    store: &Arc<dyn ShardStore>,
    shard_id: ShardId,
) -> Result<ShardInfo, CaseError> {
    ok(
        "get_or_create_shard (read)",
        store.get_or_create_shard(get_req(shard_id, None)).await,
    )
}

/// Creates a fresh shard at `range_id` with a random payload; returns the row.
pub(crate) async fn create_shard(
    store: &Arc<dyn ShardStore>,
    shard_id: ShardId,
    range_id: i64,
) -> Result<ShardInfo, CaseError> {
    let data = blob(64);
    let got = ok(
        "get_or_create_shard (create)",
        store
            .get_or_create_shard(get_req(shard_id, Some((range_id, data.clone()))))
            .await,
    )?;
    ensure_eq!(
        got,
        ShardInfo {
            shard_id,
            range_id,
            data
        },
        "a created shard returns the values it was created with"
    );
    Ok(got)
}

/// Checks that `e` is `ShardOwnershipLost` whose detail (if the backend attaches one, which the
/// shard store must) names the stored range id.
fn check_lost_detail(
    e: &StoreError,
    shard_id: ShardId,
    stored: Option<i64>,
    required: bool,
) -> Result<(), CaseError> {
    ensure_eq!(e.kind(), ErrorKind::ShardOwnershipLost, "error kind: {e}");
    match e.detail() {
        Some(ConflictDetail::ShardOwnershipLost {
            shard_id: sid,
            actual_range_id,
            ..
        }) => {
            ensure_eq!(*sid, shard_id.0, "detail names the shard: {e}");
            ensure_eq!(
                *actual_range_id,
                stored,
                "detail carries the stored range id: {e}"
            );
        }
        Some(other) => {
            return Err(CaseError::new(format!(
                "ShardOwnershipLost carries the wrong detail {other:?}: {e}"
            )));
        }
        None if required => {
            return Err(CaseError::new(format!(
                "ShardOwnershipLost carries no detail with the stored range id: {e}"
            )));
        }
        None => {}
    }
    Ok(())
}

/// A created shard reads back exactly as created.
pub async fn get_or_create_creates(ctx: &Ctx) -> Result<(), CaseError> {
    let store = ctx.shard()?;
    let id = ctx.new_shard_id();
    let created = create_shard(store, id, 7).await?;
    let read = read_shard(store, id).await?;
    ensure_eq!(read, created, "read after create");
    Ok(())
}

/// `get_or_create_shard` of an existing shard ignores the create values.
pub async fn get_existing_ignores_create_values(ctx: &Ctx) -> Result<(), CaseError> {
    let store = ctx.shard()?;
    let id = ctx.new_shard_id();
    let created = create_shard(store, id, 3).await?;
    let again = ok(
        "get_or_create_shard (existing)",
        store
            .get_or_create_shard(get_req(id, Some((99, blob(10)))))
            .await,
    )?;
    ensure_eq!(again, created, "existing row wins over the create values");
    ensure_eq!(read_shard(store, id).await?, created, "row unchanged");
    Ok(())
}

/// A missing shard without create values is `NotFound`, and reading does not create it.
pub async fn get_missing_not_found(ctx: &Ctx) -> Result<(), CaseError> {
    let store = ctx.shard()?;
    let id = ctx.new_shard_id();
    expect_err(
        "get_or_create_shard (missing, no create)",
        store.get_or_create_shard(get_req(id, None)).await,
        ErrorKind::NotFound,
    )?;
    expect_err(
        "second read of the missing shard",
        store.get_or_create_shard(get_req(id, None)).await,
        ErrorKind::NotFound,
    )?;
    Ok(())
}

/// `update_shard` with the stored range id as previous succeeds; the new values read back.
pub async fn update_with_previous_range(ctx: &Ctx) -> Result<(), CaseError> {
    let store = ctx.shard()?;
    let id = ctx.new_shard_id();
    create_shard(store, id, 1).await?;
    let data2 = blob(200);
    ok(
        "update_shard 1 -> 2",
        store
            .update_shard(update_req(id, 1, 2, data2.clone()))
            .await,
    )?;
    ensure_eq!(
        read_shard(store, id).await?,
        ShardInfo {
            shard_id: id,
            range_id: 2,
            data: data2
        }
    );
    // A second renewal chains from the new value; the payload may change encoding too.
    let data3 = DataBlob::new(blob(33).data, "json");
    ok(
        "update_shard 2 -> 3",
        store
            .update_shard(update_req(id, 2, 3, data3.clone()))
            .await,
    )?;
    ensure_eq!(
        read_shard(store, id).await?,
        ShardInfo {
            shard_id: id,
            range_id: 3,
            data: data3
        }
    );
    // Same range id, new payload: a plain info update is allowed.
    let data4 = blob(5);
    ok(
        "update_shard 3 -> 3",
        store
            .update_shard(update_req(id, 3, 3, data4.clone()))
            .await,
    )?;
    ensure_eq!(read_shard(store, id).await?.data, data4);
    Ok(())
}

/// A stale (lower or higher) previous range id is `ShardOwnershipLost` carrying the stored
/// value, and the row is unchanged.
pub async fn update_stale_range_lost(ctx: &Ctx) -> Result<(), CaseError> {
    let store = ctx.shard()?;
    let id = ctx.new_shard_id();
    let created = create_shard(store, id, 5).await?;
    for previous in [4, 6, 0] {
        let e = expect_err(
            &format!("update_shard with previous {previous} (stored 5)"),
            store
                .update_shard(update_req(id, previous, previous + 10, blob(20)))
                .await,
            ErrorKind::ShardOwnershipLost,
        )?;
        check_lost_detail(&e, id, Some(5), true)?;
        ensure!(
            !e.is_outcome_unknown(),
            "a lost CAS is definitely not committed: {e}"
        );
        ensure_eq!(read_shard(store, id).await?, created, "row unchanged");
    }
    Ok(())
}

/// Updating a shard that does not exist fails as a conflict and creates nothing.
pub async fn update_missing_shard(ctx: &Ctx) -> Result<(), CaseError> {
    let store = ctx.shard()?;
    let id = ctx.new_shard_id();
    match store.update_shard(update_req(id, 1, 2, blob(8))).await {
        Ok(()) => {
            return Err(CaseError::new("update_shard of a missing shard succeeded"));
        }
        Err(e) if e.kind() == ErrorKind::ShardOwnershipLost => {
            check_lost_detail(&e, id, None, false)?;
        }
        // Temporal's SQL store reports a missing row as NotFound; both are accepted.
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => {
            return Err(CaseError::new(format!(
                "update_shard of a missing shard: expected ShardOwnershipLost or NotFound, got {e}"
            )));
        }
    }
    expect_err(
        "the failed update created nothing",
        store.get_or_create_shard(get_req(id, None)).await,
        ErrorKind::NotFound,
    )?;
    Ok(())
}

/// `assert_shard_ownership` passes only for the stored range id.
pub async fn assert_ownership(ctx: &Ctx) -> Result<(), CaseError> {
    let store = ctx.shard()?;
    let id = ctx.new_shard_id();
    let created = create_shard(store, id, 10).await?;
    ok(
        "assert_shard_ownership (right range)",
        store.assert_shard_ownership(id, 10).await,
    )?;
    for stale in [9, 11] {
        let e = expect_err(
            &format!("assert_shard_ownership({stale}) with stored 10"),
            store.assert_shard_ownership(id, stale).await,
            ErrorKind::ShardOwnershipLost,
        )?;
        check_lost_detail(&e, id, Some(10), false)?;
    }
    ok(
        "update_shard 10 -> 11",
        store
            .update_shard(update_req(id, 10, 11, created.data.clone()))
            .await,
    )?;
    expect_err(
        "assert_shard_ownership(10) after renewal",
        store.assert_shard_ownership(id, 10).await,
        ErrorKind::ShardOwnershipLost,
    )?;
    ok(
        "assert_shard_ownership(11) after renewal",
        store.assert_shard_ownership(id, 11).await,
    )?;
    expect_err(
        "assert_shard_ownership of a missing shard",
        store.assert_shard_ownership(ctx.new_shard_id(), 1).await,
        ErrorKind::ShardOwnershipLost,
    )?;
    Ok(())
}

/// Limits are inclusive: a blob of exactly `MAX_BLOB_BYTES`, an empty blob and a 16-byte
/// encoding name are accepted and read back byte for byte.
pub async fn blob_limits_inclusive(ctx: &Ctx) -> Result<(), CaseError> {
    let store = ctx.shard()?;
    let id = ctx.new_shard_id();
    let big = DataBlob::new(
        blob(MAX_BLOB_BYTES).data,
        "a".repeat(DataBlob::MAX_ENCODING_BYTES),
    );
    let got = ok(
        "create with a blob at the size limit",
        store
            .get_or_create_shard(get_req(id, Some((1, big.clone()))))
            .await,
    )?;
    ensure!(
        got.data == big,
        "created blob differs: {:?} vs {:?}",
        got.data,
        big
    );
    let read = read_shard(store, id).await?;
    ensure!(
        read.data == big,
        "stored blob differs: {:?} vs {:?}",
        read.data,
        big
    );
    let empty = DataBlob::proto3(Vec::new());
    ok(
        "update with an empty blob",
        store
            .update_shard(update_req(id, 1, 2, empty.clone()))
            .await,
    )?;
    ensure_eq!(read_shard(store, id).await?.data, empty);
    Ok(())
}

/// A negative shard id is a bad request on every call.
pub async fn bad_shard_id(ctx: &Ctx) -> Result<(), CaseError> {
    let store = ctx.shard()?;
    let id = ShardId(-1 - (ctx.new_shard_id().0 % 1000));
    expect_bad_request(
        "get_or_create_shard (negative id, create)",
        store
            .get_or_create_shard(get_req(id, Some((1, blob(8)))))
            .await,
    )?;
    expect_bad_request(
        "get_or_create_shard (negative id, read)",
        store.get_or_create_shard(get_req(id, None)).await,
    )?;
    expect_bad_request(
        "update_shard (negative id)",
        store.update_shard(update_req(id, 1, 2, blob(8))).await,
    )?;
    expect_bad_request(
        "assert_shard_ownership (negative id)",
        store.assert_shard_ownership(id, 1).await,
    )?;
    Ok(())
}

/// A payload over `MAX_BLOB_BYTES` is a bad request: not created, not updated.
pub async fn oversized_blob(ctx: &Ctx) -> Result<(), CaseError> {
    let store = ctx.shard()?;
    let id = ctx.new_shard_id();
    expect_bad_request(
        "create with an oversized blob",
        store
            .get_or_create_shard(get_req(id, Some((1, blob(MAX_BLOB_BYTES + 1)))))
            .await,
    )?;
    expect_err(
        "the rejected create wrote nothing",
        store.get_or_create_shard(get_req(id, None)).await,
        ErrorKind::NotFound,
    )?;
    let created = create_shard(store, id, 1).await?;
    expect_bad_request(
        "update with an oversized blob",
        store
            .update_shard(update_req(id, 1, 2, blob(MAX_BLOB_BYTES + 1)))
            .await,
    )?;
    ensure_eq!(read_shard(store, id).await?, created, "row unchanged");
    Ok(())
}

/// An encoding name over 16 bytes is a bad request: not created, not updated.
pub async fn long_encoding_name(ctx: &Ctx) -> Result<(), CaseError> {
    let store = ctx.shard()?;
    let id = ctx.new_shard_id();
    let long = DataBlob::new(vec![1, 2, 3], "x".repeat(DataBlob::MAX_ENCODING_BYTES + 1));
    expect_bad_request(
        "create with a 17-byte encoding name",
        store
            .get_or_create_shard(get_req(id, Some((1, long.clone()))))
            .await,
    )?;
    expect_err(
        "the rejected create wrote nothing",
        store.get_or_create_shard(get_req(id, None)).await,
        ErrorKind::NotFound,
    )?;
    let created = create_shard(store, id, 1).await?;
    expect_bad_request(
        "update with a 17-byte encoding name",
        store.update_shard(update_req(id, 1, 2, long)).await,
    )?;
    ensure_eq!(read_shard(store, id).await?, created, "row unchanged");
    Ok(())
}

/// Concurrent creators with different initial values all succeed and all see one row, which
/// is one of the offered ones.
pub async fn concurrent_get_or_create(ctx: &Ctx) -> Result<(), CaseError> {
    let store = ctx.shard()?;
    for _round in 0..3 {
        let id = ctx.new_shard_id();
        let offers: Vec<(i64, DataBlob)> = (0..8).map(|i| (100 + i, blob(32))).collect();
        let barrier = Arc::new(tokio::sync::Barrier::new(offers.len()));
        let handles: Vec<_> = offers
            .iter()
            .cloned()
            .map(|offer| {
                let store = Arc::clone(store);
                let barrier = Arc::clone(&barrier);
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.get_or_create_shard(get_req(id, Some(offer))).await
                })
            })
            .collect();
        let mut rows = Vec::new();
        for h in handles {
            rows.push(ok("concurrent get_or_create_shard", join(h).await?)?);
        }
        let first = rows
            .first()
            .cloned()
            .ok_or_else(|| CaseError::new("no creator ran"))?;
        for r in &rows {
            ensure_eq!(*r, first, "every creator sees the same row");
        }
        ensure!(
            offers
                .iter()
                .any(|(range, data)| *range == first.range_id && *data == first.data),
            "the stored row is one of the offered ones: {first:?}"
        );
        ensure_eq!(read_shard(store, id).await?, first, "stored row");
    }
    Ok(())
}

/// Awaits a spawned task, turning a panic inside it into a case failure.
pub(crate) async fn join<T>(h: tokio::task::JoinHandle<T>) -> Result<T, CaseError> {
    h.await
        .map_err(|e| CaseError::new(format!("a spawned task failed: {e}")))
}

/// Number of would-be owners racing for one shard.
const OWNERS: i64 = 8;

/// Many owners renew the same shard at once: exactly one wins, every other gets
/// `ShardOwnershipLost` naming the winner's range id; then only the winner's history-task write
/// lands. Five rounds, one fresh shard each.
pub async fn concurrent_owners_race(ctx: &Ctx) -> Result<(), CaseError> {
    let shards = ctx.shard()?;
    let exec = ctx.execution()?;
    for round in 0..5 {
        let id = ctx.new_shard_id();
        create_shard(shards, id, 1).await?;

        // Phase 1: everyone tries 1 -> its own range id.
        let barrier = Arc::new(tokio::sync::Barrier::new(OWNERS as usize));
        let handles: Vec<_> = (0..OWNERS)
            .map(|i| {
                let store = Arc::clone(shards);
                let barrier = Arc::clone(&barrier);
                let range = 1 + i + 1;
                tokio::spawn(async move {
                    barrier.wait().await;
                    let r = store.update_shard(update_req(id, 1, range, blob(16))).await;
                    (range, r)
                })
            })
            .collect();
        let mut results = Vec::new();
        for h in handles {
            results.push(join(h).await?);
        }
        let winners: Vec<i64> = results
            .iter()
            .filter(|(_, r)| r.is_ok())
            .map(|(range, _)| *range)
            .collect();
        ensure_eq!(
            winners.len(),
            1,
            "round {round}: exactly one owner wins the renewal (winners: {winners:?})"
        );
        let winner = winners[0];
        for (range, r) in &results {
            if let Err(e) = r {
                ensure_eq!(
                    e.kind(),
                    ErrorKind::ShardOwnershipLost,
                    "round {round}: owner {range} lost the renewal with the wrong error: {e}"
                );
                check_lost_detail(e, id, Some(winner), true)?;
            }
        }
        ensure_eq!(
            read_shard(shards, id).await?.range_id,
            winner,
            "round {round}: stored range id is the winner's"
        );

        // Phase 2: every owner writes a task with its own range id.
        let ns = namespace_id();
        let wf = WorkflowId::new(unique_name("race"));
        let barrier = Arc::new(tokio::sync::Barrier::new(OWNERS as usize));
        let handles: Vec<_> = results
            .iter()
            .map(|(range, _)| {
                let store = Arc::clone(exec);
                let barrier = Arc::clone(&barrier);
                let wf = wf.clone();
                let range = *range;
                let task = immediate_task(1000 + range);
                tokio::spawn(async move {
                    barrier.wait().await;
                    let r = store
                        .add_history_tasks(
                            id,
                            range,
                            ns,
                            &wf,
                            task_map(TaskCategory::TRANSFER, vec![task.clone()]),
                        )
                        .await;
                    (range, task, r)
                })
            })
            .collect();
        let mut writes = Vec::new();
        for h in handles {
            writes.push(join(h).await?);
        }
        let mut winner_task = None;
        for (range, task, r) in writes {
            if range == winner {
                ok(&format!("round {round}: winner's add_history_tasks"), r)?;
                winner_task = Some(task);
            } else {
                let e = expect_err(
                    &format!("round {round}: add_history_tasks by loser {range}"),
                    r,
                    ErrorKind::ShardOwnershipLost,
                )?;
                ensure!(
                    !e.is_outcome_unknown(),
                    "a fenced write is not committed: {e}"
                );
            }
        }
        let stored = read_all_tasks(exec, id, TaskCategory::TRANSFER, 100).await?;
        ensure_eq!(
            stored,
            winner_task.into_iter().collect::<Vec<_>>(),
            "round {round}: only the winner's task is stored"
        );
    }
    Ok(())
}

/// Outcome of one fenced write in [`renew_fences_in_flight_writers`].
struct Attempt {
    task_id: i64,
    /// The renewal had returned before this write started.
    started_after_renewal: bool,
    result: Result<(), StoreError>,
}

/// Writers keep adding history tasks with range r while the shard is renewed to r+1: a write
/// either committed (and its task is stored) or failed with `ShardOwnershipLost` (and is not);
/// once renewal has returned, no write with r succeeds any more.
pub async fn renew_fences_in_flight_writers(ctx: &Ctx) -> Result<(), CaseError> {
    for round in 0..3 {
        renewal_round(ctx, round).await?;
    }
    Ok(())
}

/// Writers racing one renewal in [`renew_fences_in_flight_writers`].
const RENEW_WRITERS: i64 = 4;

/// What the racing writers share with the renewing owner.
#[derive(Clone)]
struct RenewRace {
    /// Set once the renewal has returned.
    renewed: Arc<AtomicBool>,
    /// Writes committed so far.
    successes: Arc<AtomicUsize>,
    /// Writers that have stopped.
    writers_done: Arc<AtomicUsize>,
}

/// One round: writers with range 1 race a renewal to 2, then every attempt is judged against
/// what the new owner read right after renewing, and the new owner writes with range 2.
async fn renewal_round(ctx: &Ctx, round: usize) -> Result<(), CaseError> {
    let shards = ctx.shard()?;
    let exec = ctx.execution()?;
    let id = ctx.new_shard_id();
    create_shard(shards, id, 1).await?;
    let ns = namespace_id();
    let wf = WorkflowId::new(unique_name("renew"));
    let race = RenewRace {
        renewed: Arc::new(AtomicBool::new(false)),
        successes: Arc::new(AtomicUsize::new(0)),
        writers_done: Arc::new(AtomicUsize::new(0)),
    };
    let handles: Vec<_> = (0..RENEW_WRITERS)
        .map(|w| {
            let (store, race, wf) = (Arc::clone(exec), race.clone(), wf.clone());
            tokio::spawn(async move { renew_writer(store, race, id, ns, wf, w).await })
        })
        .collect();

    // Renew while writes are in flight: wait for a few commits first so the race is real.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while race.successes.load(Ordering::SeqCst) < 10
        && race.writers_done.load(Ordering::SeqCst) < RENEW_WRITERS as usize
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let renewal = shards.update_shard(update_req(id, 1, 2, blob(16))).await;
    race.renewed.store(true, Ordering::SeqCst);
    ok(&format!("round {round}: renewal 1 -> 2"), renewal)?;
    // What the new owner sees right after renewing is final for the old range: no write
    // with range 1 may commit after this point, even one already in flight.
    let at_renewal = stored_task_ids(exec, id).await?;

    let mut committed = BTreeSet::new();
    let mut rejected = BTreeSet::new();
    for h in handles {
        judge_attempts(round, join(h).await?, &mut committed, &mut rejected)?;
    }
    ensure!(
        !rejected.is_empty(),
        "round {round}: no write was fenced after the renewal"
    );
    let stored_ids = stored_task_ids(exec, id).await?;
    ensure_eq!(
        stored_ids,
        committed,
        "round {round}: stored tasks are exactly the committed writes"
    );
    ensure_eq!(
        stored_ids,
        at_renewal,
        "round {round}: old-range writes committed after the renewal returned"
    );

    // The new owner writes with range 2.
    let fresh = immediate_task(9_000_000);
    ok(
        "add_history_tasks by the new owner",
        exec.add_history_tasks(
            id,
            2,
            ns,
            &wf,
            task_map(TaskCategory::TRANSFER, vec![fresh.clone()]),
        )
        .await,
    )?;
    let all = read_all_tasks(exec, id, TaskCategory::TRANSFER, 1000).await?;
    ensure!(
        all.contains(&fresh),
        "round {round}: the new owner's task is stored"
    );
    Ok(())
}

/// Writer `w` adds one transfer task after another with range 1 until it has made a few
/// attempts that started after the renewal returned; returns every attempt.
async fn renew_writer(
    store: Arc<dyn ExecutionStore>,
    race: RenewRace,
    id: ShardId,
    ns: NamespaceId,
    wf: WorkflowId,
    w: i64,
) -> Vec<Attempt> {
    // Attempts each writer makes after it has seen the renewal complete.
    const AFTER: usize = 3;
    const MAX_ATTEMPTS: i64 = 5000;
    let mut attempts = Vec::new();
    let mut after = 0;
    for k in 0..MAX_ATTEMPTS {
        let task_id = w * 1_000_000 + k;
        let started_after_renewal = race.renewed.load(Ordering::SeqCst);
        let result = store
            .add_history_tasks(
                id,
                1,
                ns,
                &wf,
                task_map(TaskCategory::TRANSFER, vec![immediate_task(task_id)]),
            )
            .await;
        if result.is_ok() {
            race.successes.fetch_add(1, Ordering::SeqCst);
        }
        attempts.push(Attempt {
            task_id,
            started_after_renewal,
            result,
        });
        if started_after_renewal {
            after += 1;
            if after >= AFTER {
                break;
            }
        }
    }
    race.writers_done.fetch_add(1, Ordering::SeqCst);
    attempts
}

/// One writer's attempts, in order: a commit never started after the renewal returned nor
/// follows a fenced write of the same writer; a failure is `ShardOwnershipLost`, not
/// outcome-unknown.
fn judge_attempts(
    round: usize,
    attempts: Vec<Attempt>,
    committed: &mut BTreeSet<i64>,
    rejected: &mut BTreeSet<i64>,
) -> Result<(), CaseError> {
    let mut lost_seen = false;
    for a in attempts {
        match &a.result {
            Ok(()) => {
                ensure!(
                    !a.started_after_renewal,
                    "round {round}: task {} with the old range id committed although \
                     it started after the renewal returned",
                    a.task_id
                );
                ensure!(
                    !lost_seen,
                    "round {round}: task {} committed after an earlier write of the \
                     same writer was fenced",
                    a.task_id
                );
                committed.insert(a.task_id);
            }
            Err(e) => {
                ensure_eq!(
                    e.kind(),
                    ErrorKind::ShardOwnershipLost,
                    "round {round}: task {} failed with the wrong error: {e}",
                    a.task_id
                );
                ensure!(
                    !e.is_outcome_unknown(),
                    "a fenced write is not committed: {e}"
                );
                lost_seen = true;
                rejected.insert(a.task_id);
            }
        }
    }
    Ok(())
}

/// The ids of the shard's stored transfer tasks.
async fn stored_task_ids(
    exec: &Arc<dyn ExecutionStore>,
    id: ShardId,
) -> Result<BTreeSet<i64>, CaseError> {
    Ok(read_all_tasks(exec, id, TaskCategory::TRANSFER, 1000)
        .await?
        .into_iter()
        .map(|t| t.key.task_id)
        .collect())
}
