//! Task-queue cases: malformed input is `InvalidArgument` and writes nothing.

use std::collections::BTreeMap;

use durastore_api::validate::MAX_BLOB_BYTES;
use durastore_api::{
    CompleteTasksLessThanRequest, DataBlob, ErrorKind, GetTasksRequest, NamespaceId,
    TaskQueueFlavor, TaskQueueKey, TaskQueueKind, TaskRecord, UserDataUpdate, Uuid,
};

use crate::check::{expect_bad_request, expect_err, ok};
use crate::fixtures::{blob, namespace_id, unique_name};
use crate::{CaseError, Ctx, ensure_eq};

use super::helpers::{
    create_tasks_req, new_key, new_queue, one, read_req, read_subqueue, record, task, tasks, ud,
    write,
};
use TaskQueueFlavor::Classic;

/// Empty and 256-byte queue names and the nil namespace id are refused by every call that takes
/// a key; a 255-byte name is fine.
pub async fn bad_input_names(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let good = new_key(Classic);
    let bad = [
        (
            "empty name",
            TaskQueueKey {
                name: String::new(),
                ..good.clone()
            },
        ),
        (
            "256-byte name",
            TaskQueueKey {
                name: "n".repeat(256),
                ..good.clone()
            },
        ),
        (
            "nil namespace id",
            TaskQueueKey {
                namespace_id: NamespaceId(Uuid::nil()),
                ..good.clone()
            },
        ),
    ];
    for (what, key) in &bad {
        expect_bad_request(
            &format!("create_task_queue with {what}"),
            s.create_task_queue(write(key, 1, TaskQueueKind::Normal))
                .await,
        )?;
        expect_bad_request(
            &format!("get_task_queue with {what}"),
            s.get_task_queue(key).await,
        )?;
        expect_bad_request(
            &format!("update_task_queue with {what}"),
            s.update_task_queue(write(key, 2, TaskQueueKind::Normal), 1)
                .await,
        )?;
        expect_bad_request(
            &format!("delete_task_queue with {what}"),
            s.delete_task_queue(key, 1).await,
        )?;
        expect_bad_request(
            &format!("create_tasks with {what}"),
            s.create_tasks(create_tasks_req(key, 1, tasks(Classic, &[1])))
                .await,
        )?;
        expect_bad_request(
            &format!("get_tasks with {what}"),
            s.get_tasks(read_req(key, 0, 10)).await,
        )?;
    }
    // The longest legal name works, and the refused writes above left nothing behind.
    let longest = write(
        &TaskQueueKey {
            name: format!("{}{}", good.name, "x".repeat(255 - good.name.len())),
            ..good.clone()
        },
        1,
        TaskQueueKind::Normal,
    );
    ok(
        "create_task_queue with a 255-byte name",
        s.create_task_queue(longest.clone()).await,
    )?;
    ensure_eq!(
        ok("get", s.get_task_queue(&longest.key).await)?,
        record(&longest),
        "queue with a 255-byte name"
    );
    Ok(())
}

/// Page sizes of 0, negative or above the limit, and garbage page tokens are refused.
pub async fn bad_input_paging(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let caps = ctx.stores.capability();
    let w = new_queue(s.as_ref(), Classic, 1).await?;
    ok(
        "create_tasks",
        s.create_tasks(create_tasks_req(&w.key, 1, tasks(Classic, &[1, 2])))
            .await,
    )?;
    let garbage = Some(b"\xffnot-a-token\x00".to_vec());
    for size in [0, -1, i32::MIN, 10_001] {
        expect_bad_request(
            &format!("get_tasks with page size {size}"),
            s.get_tasks(read_req(&w.key, 0, size)).await,
        )?;
        if caps.list_task_queues {
            expect_bad_request(
                &format!("list_task_queues with page size {size}"),
                s.list_task_queues(Classic, size, None).await,
            )?;
        }
        if caps.task_queue_user_data {
            expect_bad_request(
                &format!("list_task_queue_user_data with page size {size}"),
                s.list_task_queue_user_data(namespace_id(), size, None)
                    .await,
            )?;
        }
    }
    expect_bad_request(
        "get_tasks with a garbage token",
        s.get_tasks(GetTasksRequest {
            next_page_token: garbage.clone(),
            ..read_req(&w.key, 0, 1)
        })
        .await,
    )?;
    expect_bad_request(
        "get_tasks with an empty token",
        s.get_tasks(GetTasksRequest {
            next_page_token: Some(Vec::new()),
            ..read_req(&w.key, 0, 1)
        })
        .await,
    )?;
    if caps.list_task_queues {
        expect_bad_request(
            "list_task_queues with a garbage token",
            s.list_task_queues(Classic, 10, garbage.clone()).await,
        )?;
    }
    if caps.task_queue_user_data {
        expect_bad_request(
            "list_task_queue_user_data with a garbage token",
            s.list_task_queue_user_data(namespace_id(), 10, garbage)
                .await,
        )?;
    }
    Ok(())
}

/// Oversized blobs, task ids of 0 or below, and a zero completion limit are refused, and a
/// refused batch writes none of its tasks.
pub async fn bad_input_tasks(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let w = new_queue(s.as_ref(), Classic, 1).await?;

    let mut big = task(0, 0, 2);
    big.blob = blob(MAX_BLOB_BYTES + 1);
    let batches = [
        ("a task blob over 4 MiB", vec![task(0, 0, 1), big]),
        ("task id 0", vec![task(0, 0, 1), task(0, 0, 0)]),
        ("a negative task id", vec![task(0, 0, 1), task(0, 0, -3)]),
        (
            "an encoding name over 16 bytes",
            vec![TaskRecord {
                blob: DataBlob::new(vec![1, 2, 3], "e".repeat(17)),
                ..task(0, 0, 1)
            }],
        ),
    ];
    for (what, batch) in batches {
        expect_bad_request(
            &format!("create_tasks with {what}"),
            s.create_tasks(create_tasks_req(&w.key, 1, batch)).await,
        )?;
    }
    ensure_eq!(
        read_subqueue(s.as_ref(), &w.key, 0).await?,
        Vec::<TaskRecord>::new(),
        "refused batches wrote tasks"
    );

    for limit in [0, -1] {
        expect_bad_request(
            &format!("complete_tasks_less_than with limit {limit}"),
            s.complete_tasks_less_than(CompleteTasksLessThanRequest {
                key: w.key.clone(),
                subqueue: 0,
                exclusive_max_pass: 0,
                exclusive_max_task_id: 10,
                limit,
                condition_range_id: None,
            })
            .await,
        )?;
    }

    // Oversized queue info: refused on create and on update, nothing changes.
    let mut huge = write(&new_key(Classic), 1, TaskQueueKind::Normal);
    huge.info = blob(MAX_BLOB_BYTES + 1);
    expect_bad_request(
        "create_task_queue with info over 4 MiB",
        s.create_task_queue(huge.clone()).await,
    )?;
    expect_err(
        "get after a refused create",
        s.get_task_queue(&huge.key).await,
        ErrorKind::NotFound,
    )?;
    let mut huge_update = write(&w.key, 2, TaskQueueKind::Normal);
    huge_update.info = blob(MAX_BLOB_BYTES + 1);
    expect_bad_request(
        "update_task_queue with info over 4 MiB",
        s.update_task_queue(huge_update, 1).await,
    )?;
    ensure_eq!(
        ok("get", s.get_task_queue(&w.key).await)?,
        record(&w),
        "a refused update changed the queue"
    );
    Ok(())
}

/// User data writes with an empty or 256-byte queue name, a nil namespace, a negative version or
/// an oversized blob are refused and write nothing.
pub async fn user_data_bad_input(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.task_queue()?;
    let ns = namespace_id();
    let tq = unique_name("tq");
    let mut huge = ud(0);
    huge.data = blob(MAX_BLOB_BYTES + 1);
    let cases: [(&str, NamespaceId, BTreeMap<String, UserDataUpdate>); 4] = [
        (
            "an empty queue name",
            ns,
            BTreeMap::from([(String::new(), ud(0)), (tq.clone(), ud(0))]),
        ),
        (
            "a 256-byte queue name",
            ns,
            BTreeMap::from([("q".repeat(256), ud(0)), (tq.clone(), ud(0))]),
        ),
        (
            "a nil namespace id",
            NamespaceId(Uuid::nil()),
            one(&tq, ud(0)),
        ),
        ("data over 4 MiB", ns, one(&tq, huge)),
    ];
    for (what, n, updates) in cases {
        expect_bad_request(
            &format!("update_task_queue_user_data with {what}"),
            s.update_task_queue_user_data(n, updates).await,
        )?;
    }
    // A negative version can never match: refused as bad input or as a failed condition.
    match s.update_task_queue_user_data(ns, one(&tq, ud(-1))).await {
        Err(e) if e.is_bad_request() || e.kind() == ErrorKind::ConditionFailed => {}
        other => {
            return Err(CaseError::new(format!(
                "user data update from version -1: expected a bad request or ConditionFailed, got {other:?}"
            )));
        }
    }
    expect_err(
        "get user data after refused writes",
        s.get_task_queue_user_data(ns, &tq).await,
        ErrorKind::NotFound,
    )?;
    expect_bad_request(
        "get_task_queue_user_data with an empty name",
        s.get_task_queue_user_data(ns, "").await,
    )?;
    expect_bad_request(
        "get_task_queue_user_data with a nil namespace id",
        s.get_task_queue_user_data(NamespaceId(Uuid::nil()), &tq)
            .await,
    )?;
    Ok(())
}
