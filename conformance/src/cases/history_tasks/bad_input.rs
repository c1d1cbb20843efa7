//! History-task cases: malformed input is `InvalidArgument` and writes nothing.

use std::collections::BTreeMap;

use durastore_api::chrono::TimeDelta;
use durastore_api::validate::MAX_BLOB_BYTES;
use durastore_api::{
    DataBlob, DateTime, GetHistoryTasksRequest, HistoryTask, HistoryTaskKey, ShardId, TaskCategory,
    WorkflowId,
};

use super::helpers::{
    RANGE, Setup, far_future, fire, full_range, get_req, immediate_task, scheduled_task, task_map,
};
use crate::check::expect_bad_request;
use crate::fixtures::{blob, namespace_id, unique_name};
use crate::{CaseError, Ctx};

fn read_once(s: &Setup, batch_size: i32, token: Option<Vec<u8>>) -> GetHistoryTasksRequest {
    let (min, max) = full_range(TaskCategory::TRANSFER);
    get_req(
        s.shard_id,
        TaskCategory::TRANSFER,
        min,
        max,
        batch_size,
        token,
    )
}

/// Batch sizes outside 1..=10000 are bad requests.
pub async fn bad_batch_size(ctx: &Ctx) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    s.add(TaskCategory::TRANSFER, &[immediate_task(1)]).await?;
    for size in [0, -1, i32::MIN, 10_001] {
        expect_bad_request(
            &format!("get_history_tasks with batch size {size}"),
            s.exec.get_history_tasks(read_once(&s, size, None)).await,
        )?;
    }
    Ok(())
}

/// A page token the store did not issue is a bad request, not a panic or a silent restart.
pub async fn bad_page_token(ctx: &Ctx) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    s.add(TaskCategory::TRANSFER, &[immediate_task(1)]).await?;
    for token in [vec![0xff, 1, 2], Vec::new(), vec![0; 5000]] {
        expect_bad_request(
            &format!("get_history_tasks with token of {} bytes", token.len()),
            s.exec
                .get_history_tasks(read_once(&s, 10, Some(token)))
                .await,
        )?;
    }
    let timer_req = get_req(
        s.shard_id,
        TaskCategory::TIMER,
        HistoryTaskKey::scheduled(DateTime::UNIX_EPOCH, 0),
        HistoryTaskKey::scheduled(far_future(), 0),
        10,
        Some(vec![0xff, 1, 2]),
    );
    expect_bad_request(
        "get_history_tasks (timer) with a garbage token",
        s.exec.get_history_tasks(timer_req).await,
    )?;
    Ok(())
}

/// Negative task ids and fire times before the epoch are bad requests; the whole call writes
/// nothing, not even its valid tasks.
pub async fn bad_task_key(ctx: &Ctx) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    let cats = [TaskCategory::TRANSFER, TaskCategory::TIMER];
    let bad_calls = [
        (
            "negative immediate task id",
            BTreeMap::from([(
                TaskCategory::TRANSFER,
                vec![immediate_task(1), immediate_task(-5)],
            )]),
        ),
        (
            "negative scheduled task id",
            BTreeMap::from([
                (TaskCategory::TRANSFER, vec![immediate_task(1)]),
                (TaskCategory::TIMER, vec![scheduled_task(fire(1, 0), -1)]),
            ]),
        ),
        (
            "fire time before the epoch",
            BTreeMap::from([
                (TaskCategory::TRANSFER, vec![immediate_task(1)]),
                (
                    TaskCategory::TIMER,
                    vec![scheduled_task(
                        DateTime::UNIX_EPOCH - TimeDelta::seconds(10),
                        1,
                    )],
                ),
            ]),
        ),
    ];
    for (what, map) in bad_calls {
        expect_bad_request(
            &format!("add_history_tasks with {what}"),
            s.add_map(RANGE, map).await,
        )?;
        s.ensure_empty(&cats, what).await?;
    }
    Ok(())
}

/// A task blob over `MAX_BLOB_BYTES` or with an encoding name over 16 bytes is a bad request
/// and nothing of the call is written.
pub async fn bad_task_blob(ctx: &Ctx) -> Result<(), CaseError> {
    let s = Setup::new(ctx).await?;
    let big = HistoryTask {
        key: HistoryTaskKey::immediate(2),
        blob: blob(MAX_BLOB_BYTES + 1),
    };
    let long_enc = HistoryTask {
        key: HistoryTaskKey::immediate(3),
        blob: DataBlob::new(vec![1], "e".repeat(DataBlob::MAX_ENCODING_BYTES + 1)),
    };
    for (what, bad) in [("oversized blob", big), ("17-byte encoding", long_enc)] {
        expect_bad_request(
            &format!("add_history_tasks with {what}"),
            s.add_map(
                RANGE,
                BTreeMap::from([
                    (TaskCategory::TRANSFER, vec![immediate_task(1), bad]),
                    (TaskCategory::TIMER, vec![scheduled_task(fire(1, 0), 1)]),
                ]),
            )
            .await,
        )?;
        s.ensure_empty(&[TaskCategory::TRANSFER, TaskCategory::TIMER], what)
            .await?;
    }
    Ok(())
}

/// A negative shard id is a bad request on every history-task call.
pub async fn bad_shard_id(ctx: &Ctx) -> Result<(), CaseError> {
    let exec = ctx.execution()?;
    let bad = ShardId(-7);
    let ns = namespace_id();
    let wf = WorkflowId::new(unique_name("wf"));
    expect_bad_request(
        "add_history_tasks with a negative shard id",
        exec.add_history_tasks(
            bad,
            1,
            ns,
            &wf,
            task_map(TaskCategory::TRANSFER, vec![immediate_task(1)]),
        )
        .await,
    )?;
    let (min, max) = full_range(TaskCategory::TRANSFER);
    expect_bad_request(
        "get_history_tasks with a negative shard id",
        exec.get_history_tasks(get_req(bad, TaskCategory::TRANSFER, min, max, 10, None))
            .await,
    )?;
    expect_bad_request(
        "complete_history_task with a negative shard id",
        exec.complete_history_task(bad, TaskCategory::TRANSFER, HistoryTaskKey::immediate(1))
            .await,
    )?;
    expect_bad_request(
        "range_complete_history_tasks with a negative shard id",
        exec.range_complete_history_tasks(bad, TaskCategory::TRANSFER, min, max)
            .await,
    )?;
    Ok(())
}
