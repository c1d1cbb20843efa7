//! Conformance cases for queue v1 (Temporal's namespace replication queue and its DLQ): init
//! that never overwrites, ids assigned from 0, the read and delete bounds, DLQ pages, and the
//! ack-level version compare-and-swap, including races.
//!
//! Every case uses a random queue type of its own (types are global within a database).

use std::collections::BTreeMap;
use std::sync::Arc;

use durastore_api::validate::MAX_BLOB_BYTES;
use durastore_api::{
    ConflictDetail, DataBlob, EMPTY_QUEUE_MESSAGE_ID, ErrorKind, QueueMessage, QueueType,
    QueueV1Metadata, QueueV1Store, StoreError, Uuid,
};
use futures::future::BoxFuture;

use crate::check::{expect_bad_request, expect_err, ok};
use crate::fixtures::blob;
use crate::util::{collect_pages, race};
use crate::{Case, CaseError, Ctx, ensure, ensure_eq};

/// The cases of this module.
pub fn cases() -> Vec<Case> {
    crate::cases![queue_v1 requires(QueueV1) =>
        init_never_overwrites,
        enqueue_read_order_and_bounds,
        delete_messages_before_keeps_the_rest,
        dlq_read_range_and_pages,
        dlq_delete_and_range_delete,
        ack_level_compare_and_swap,
        ack_level_race_one_winner + ConcurrentWriters,
        concurrent_enqueue_distinct_ids + ConcurrentWriters,
        bad_input,
    ]
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A queue type no other case uses (positive, well above Temporal's type 1).
fn random_type() -> QueueType {
    QueueType(1000 + (Uuid::new_v4().as_u128() % 1_000_000_000) as i32)
}

/// Enqueues `n` messages (to the DLQ when `dlq`) and checks their ids are `first..first + n`.
async fn enqueue_n(
    s: &dyn QueueV1Store,
    t: QueueType,
    dlq: bool,
    first: i64,
    n: i64,
) -> Result<Vec<QueueMessage>, CaseError> {
    let mut out = Vec::new();
    for id in first..first + n {
        let b = blob(24);
        let got = if dlq {
            ok(
                "enqueue_message_to_dlq",
                s.enqueue_message_to_dlq(t, b.clone()).await,
            )?
        } else {
            ok("enqueue_message", s.enqueue_message(t, b.clone()).await)?
        };
        ensure_eq!(got, id, "id of the next enqueued message");
        out.push(QueueMessage { id, blob: b });
    }
    Ok(out)
}

/// Every message of the queue, read after [`EMPTY_QUEUE_MESSAGE_ID`].
async fn queue_all(s: &dyn QueueV1Store, t: QueueType) -> Result<Vec<QueueMessage>, CaseError> {
    ok(
        "read_messages",
        s.read_messages(t, EMPTY_QUEUE_MESSAGE_ID, 10_000).await,
    )
}

/// DLQ messages in `(first, last]`, page by page; returns the page sizes and the messages.
async fn dlq_pages(
    s: &dyn QueueV1Store,
    t: QueueType,
    first: i64,
    last: i64,
    page_size: i32,
) -> Result<(Vec<usize>, Vec<QueueMessage>), CaseError> {
    let pages = collect_pages("read_messages_from_dlq", |token| {
        s.read_messages_from_dlq(t, first, last, page_size, token)
    })
    .await?;
    let sizes = pages.iter().map(|p| p.items.len()).collect();
    Ok((sizes, pages.into_iter().flat_map(|p| p.items).collect()))
}

/// Every DLQ message.
async fn dlq_all(s: &dyn QueueV1Store, t: QueueType) -> Result<Vec<QueueMessage>, CaseError> {
    Ok(dlq_pages(s, t, EMPTY_QUEUE_MESSAGE_ID, i64::MAX, 1000)
        .await?
        .1)
}

fn ids(messages: &[QueueMessage]) -> Vec<i64> {
    messages.iter().map(|m| m.id).collect()
}

fn meta(blob: DataBlob, version: i64) -> QueueV1Metadata {
    QueueV1Metadata { blob, version }
}

/// Checks a failed compare-and-swap: `ConditionFailed` with the stored version in its detail.
fn expect_stale(
    what: &str,
    result: durastore_api::Result<()>,
    expected: i64,
    actual: i64,
) -> Result<(), CaseError> {
    let e: StoreError = expect_err(what, result, ErrorKind::ConditionFailed)?;
    match e.detail() {
        Some(ConflictDetail::QueueMetadata {
            expected_version,
            actual_version,
            ..
        }) => {
            ensure_eq!(
                (*expected_version, *actual_version),
                (expected, actual),
                "{what}: (presented, stored) versions in the conflict detail"
            );
            Ok(())
        }
        other => Err(CaseError::new(format!(
            "{what}: expected a QueueMetadata conflict detail, got {other:?}"
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

/// Before `init` the metadata is `NotFound`; `init` creates the queue's and the DLQ's at
/// version 0, and a second `init` (with another blob) changes neither.
pub async fn init_never_overwrites(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.queue_v1()?;
    let t = random_type();
    expect_err(
        "get_ack_levels before init",
        s.get_ack_levels(t).await,
        ErrorKind::NotFound,
    )?;
    expect_err(
        "get_dlq_ack_levels before init",
        s.get_dlq_ack_levels(t).await,
        ErrorKind::NotFound,
    )?;
    let first = blob(16);
    ok("init", s.init(t, first.clone()).await)?;
    let got = ok("get_ack_levels", s.get_ack_levels(t).await)?;
    ensure_eq!(got, meta(first.clone(), 0), "metadata after init");
    let got = ok("get_dlq_ack_levels", s.get_dlq_ack_levels(t).await)?;
    ensure_eq!(got, meta(first.clone(), 0), "DLQ metadata after init");

    let acked = blob(12);
    ok(
        "update_ack_level",
        s.update_ack_level(t, meta(acked.clone(), 0)).await,
    )?;
    ok("init again", s.init(t, blob(16)).await)?;
    ensure_eq!(
        ok("get_ack_levels", s.get_ack_levels(t).await)?,
        meta(acked, 1),
        "metadata after a second init"
    );
    ensure_eq!(
        ok("get_dlq_ack_levels", s.get_dlq_ack_levels(t).await)?,
        meta(first, 0),
        "DLQ metadata after a second init"
    );
    Ok(())
}

/// Ids start at 0 and need no `init`; reads return ids above the given one, ascending, at most
/// `max_count`; queue types and the DLQ are separate.
pub async fn enqueue_read_order_and_bounds(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.queue_v1()?;
    let t = random_type();
    ensure_eq!(queue_all(s.as_ref(), t).await?, Vec::new(), "a new queue");
    let sent = enqueue_n(s.as_ref(), t, false, 0, 5).await?;
    ensure_eq!(queue_all(s.as_ref(), t).await?, sent, "every message");
    ensure_eq!(
        ok("read after 1", s.read_messages(t, 1, 100).await)?,
        sent[2..].to_vec(),
        "messages after id 1 (exclusive)"
    );
    ensure_eq!(
        ok("read 2 from the start", s.read_messages(t, -1, 2).await)?,
        sent[..2].to_vec(),
        "max_count bounds the read"
    );
    ensure_eq!(
        ok("read after the last", s.read_messages(t, 4, 10).await)?,
        Vec::new(),
        "nothing after the last id"
    );
    ensure_eq!(
        ok("read after -100", s.read_messages(t, -100, 10).await)?,
        sent,
        "a bound below every id reads everything"
    );
    // The DLQ of the type and another type are untouched and start at 0 themselves.
    ensure_eq!(dlq_all(s.as_ref(), t).await?, Vec::new(), "the type's DLQ");
    let other = random_type();
    ensure_eq!(
        queue_all(s.as_ref(), other).await?,
        Vec::new(),
        "another type"
    );
    enqueue_n(s.as_ref(), other, false, 0, 1).await?;
    enqueue_n(s.as_ref(), t, true, 0, 1).await?;
    ensure_eq!(
        queue_all(s.as_ref(), t).await?,
        sent,
        "the queue after enqueues elsewhere"
    );
    enqueue_n(s.as_ref(), t, false, 5, 1).await?;
    Ok(())
}

/// `delete_messages_before(id)` deletes exactly the ids below `id`; ids continue after it.
pub async fn delete_messages_before_keeps_the_rest(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.queue_v1()?;
    let t = random_type();
    let sent = enqueue_n(s.as_ref(), t, false, 0, 5).await?;
    let dlq = enqueue_n(s.as_ref(), t, true, 0, 2).await?;
    ok("delete before 3", s.delete_messages_before(t, 3).await)?;
    ensure_eq!(
        queue_all(s.as_ref(), t).await?,
        sent[3..].to_vec(),
        "messages left after deleting before 3 (3 stays)"
    );
    ok("delete before 0", s.delete_messages_before(t, 0).await)?;
    ok(
        "delete before 3 again",
        s.delete_messages_before(t, 3).await,
    )?;
    ensure_eq!(
        queue_all(s.as_ref(), t).await?,
        sent[3..].to_vec(),
        "repeated and lower deletes delete nothing more"
    );
    ensure_eq!(dlq_all(s.as_ref(), t).await?, dlq, "the DLQ is untouched");
    let next = enqueue_n(s.as_ref(), t, false, 5, 1).await?;
    let mut want = sent[3..].to_vec();
    want.extend(next);
    ensure_eq!(queue_all(s.as_ref(), t).await?, want, "ids continue");
    Ok(())
}

/// DLQ reads return `first < id <= last`, ascending, in pages that carry a token exactly when
/// more messages of the range follow.
pub async fn dlq_read_range_and_pages(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.queue_v1()?;
    let t = random_type();
    let sent = enqueue_n(s.as_ref(), t, true, 0, 7).await?;
    ensure_eq!(
        queue_all(s.as_ref(), t).await?,
        Vec::new(),
        "DLQ messages are not in the queue"
    );
    let (sizes, got) = dlq_pages(s.as_ref(), t, 1, 5, 2).await?;
    ensure_eq!(ids(&got), vec![2, 3, 4, 5], "ids in (1, 5]");
    ensure_eq!(got, sent[2..6].to_vec(), "messages in (1, 5]");
    ensure_eq!(sizes, vec![2, 2], "pages of (1, 5] at page size 2");
    let (sizes, got) = dlq_pages(s.as_ref(), t, -1, i64::MAX, 3).await?;
    ensure_eq!(sizes, vec![3, 3, 1], "pages of all 7 at page size 3");
    ensure_eq!(got, sent, "every DLQ message");
    let (sizes, got) = dlq_pages(s.as_ref(), t, 6, 100, 5).await?;
    ensure_eq!(
        (sizes, got),
        (vec![0], Vec::new()),
        "nothing after the last id"
    );
    let (_, got) = dlq_pages(s.as_ref(), t, 4, 2, 5).await?;
    ensure_eq!(got, Vec::new(), "an empty range (first > last)");
    Ok(())
}

/// `delete_message_from_dlq` deletes one message (a missing one is no error);
/// `range_delete_messages_from_dlq` deletes `first < id <= last`; the queue is untouched.
pub async fn dlq_delete_and_range_delete(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.queue_v1()?;
    let t = random_type();
    let queued = enqueue_n(s.as_ref(), t, false, 0, 3).await?;
    let sent = enqueue_n(s.as_ref(), t, true, 0, 7).await?;
    ok(
        "delete DLQ message 2",
        s.delete_message_from_dlq(t, 2).await,
    )?;
    ok(
        "delete DLQ message 2 again",
        s.delete_message_from_dlq(t, 2).await,
    )?;
    ok(
        "delete a DLQ message never there",
        s.delete_message_from_dlq(t, 99).await,
    )?;
    ensure_eq!(
        ids(&dlq_all(s.as_ref(), t).await?),
        vec![0, 1, 3, 4, 5, 6],
        "after deleting message 2"
    );
    ok(
        "range delete (0, 4]",
        s.range_delete_messages_from_dlq(t, 0, 4).await,
    )?;
    ensure_eq!(
        dlq_all(s.as_ref(), t).await?,
        vec![sent[0].clone(), sent[5].clone(), sent[6].clone()],
        "after range delete (0, 4]: 0 stays, 5 and 6 stay"
    );
    ok(
        "range delete (5, 5]",
        s.range_delete_messages_from_dlq(t, 5, 5).await,
    )?;
    ensure_eq!(
        ids(&dlq_all(s.as_ref(), t).await?),
        vec![0, 5, 6],
        "an empty range deletes nothing"
    );
    ensure_eq!(
        queue_all(s.as_ref(), t).await?,
        queued,
        "the queue is untouched"
    );
    enqueue_n(s.as_ref(), t, true, 7, 1).await?;
    Ok(())
}

/// The ack level updates only from the stored version, which then grows by one; a stale or
/// future version is `ConditionFailed` with the stored version and changes nothing; the queue's
/// and the DLQ's metadata are separate; an update before `init` is `NotFound` and creates
/// nothing.
pub async fn ack_level_compare_and_swap(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.queue_v1()?;
    let t = random_type();
    expect_err(
        "update_ack_level before init",
        s.update_ack_level(t, meta(blob(8), 0)).await,
        ErrorKind::NotFound,
    )?;
    expect_err(
        "update_dlq_ack_level before init",
        s.update_dlq_ack_level(t, meta(blob(8), 0)).await,
        ErrorKind::NotFound,
    )?;
    expect_err(
        "get_ack_levels after refused updates",
        s.get_ack_levels(t).await,
        ErrorKind::NotFound,
    )?;
    let init = blob(8);
    ok("init", s.init(t, init.clone()).await)?;
    let (a, b) = (blob(10), blob(11));
    ok(
        "update from 0",
        s.update_ack_level(t, meta(a.clone(), 0)).await,
    )?;
    ensure_eq!(
        ok("get", s.get_ack_levels(t).await)?,
        meta(a.clone(), 1),
        "after one update"
    );
    expect_stale(
        "update from the stale version 0",
        s.update_ack_level(t, meta(blob(9), 0)).await,
        0,
        1,
    )?;
    expect_stale(
        "update from the future version 7",
        s.update_ack_level(t, meta(blob(9), 7)).await,
        7,
        1,
    )?;
    ensure_eq!(
        ok("get", s.get_ack_levels(t).await)?,
        meta(a.clone(), 1),
        "refused updates changed nothing"
    );
    ok(
        "update from 1",
        s.update_ack_level(t, meta(b.clone(), 1)).await,
    )?;
    ensure_eq!(
        ok("get", s.get_ack_levels(t).await)?,
        meta(b.clone(), 2),
        "after two updates"
    );
    ensure_eq!(
        ok("get DLQ", s.get_dlq_ack_levels(t).await)?,
        meta(init, 0),
        "the DLQ metadata is untouched"
    );

    let d = blob(12);
    ok(
        "DLQ update from 0",
        s.update_dlq_ack_level(t, meta(d.clone(), 0)).await,
    )?;
    expect_stale(
        "DLQ update from the stale version 0",
        s.update_dlq_ack_level(t, meta(blob(9), 0)).await,
        0,
        1,
    )?;
    ensure_eq!(
        ok("get DLQ", s.get_dlq_ack_levels(t).await)?,
        meta(d, 1),
        "DLQ metadata after one update and a refused one"
    );
    ensure_eq!(
        ok("get", s.get_ack_levels(t).await)?,
        meta(b, 2),
        "the queue metadata is untouched by DLQ updates"
    );
    Ok(())
}

/// Eight concurrent updates presenting the same version: exactly one succeeds, the others are
/// `ConditionFailed` with the new stored version, and the winner's blob is stored (queue and
/// DLQ).
pub async fn ack_level_race_one_winner(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.queue_v1()?;
    let t = random_type();
    ok("init", s.init(t, blob(8)).await)?;
    for dlq in [false, true] {
        let blobs: Vec<DataBlob> = (0..8).map(|_| blob(20)).collect();
        let futs = blobs
            .iter()
            .map(|b| {
                let s = Arc::clone(s);
                let m = meta(b.clone(), 0);
                Box::pin(async move {
                    if dlq {
                        s.update_dlq_ack_level(t, m).await
                    } else {
                        s.update_ack_level(t, m).await
                    }
                }) as BoxFuture<'static, _>
            })
            .collect();
        let results = race(futs).await?;
        let mut winners = Vec::new();
        for (i, r) in results.into_iter().enumerate() {
            match r {
                Ok(()) => winners.push(i),
                Err(_) => expect_stale("a losing concurrent update", r, 0, 1)?,
            }
        }
        ensure_eq!(
            winners.len(),
            1,
            "winners among 8 (dlq: {dlq}): {winners:?}"
        );
        let stored = if dlq {
            ok("get DLQ", s.get_dlq_ack_levels(t).await)?
        } else {
            ok("get", s.get_ack_levels(t).await)?
        };
        ensure_eq!(
            stored,
            meta(blobs[winners[0]].clone(), 1),
            "the winner's metadata (dlq: {dlq})"
        );
    }
    Ok(())
}

/// Concurrent enqueuers (to the queue and its DLQ at once) get distinct ids, every message is
/// stored, and the ids of each queue are 0, 1, 2, … without gaps.
pub async fn concurrent_enqueue_distinct_ids(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.queue_v1()?;
    let t = random_type();
    let mut expected: [BTreeMap<i64, DataBlob>; 2] = [BTreeMap::new(), BTreeMap::new()];
    for _round in 0..2 {
        let sends: Vec<(bool, DataBlob)> = (0..12).map(|i| (i % 3 == 2, blob(20))).collect();
        let futs = sends
            .iter()
            .map(|(dlq, b)| {
                let s = Arc::clone(s);
                let (dlq, b) = (*dlq, b.clone());
                Box::pin(async move {
                    if dlq {
                        s.enqueue_message_to_dlq(t, b).await
                    } else {
                        s.enqueue_message(t, b).await
                    }
                }) as BoxFuture<'static, _>
            })
            .collect();
        let results = race(futs).await?;
        for (r, (dlq, b)) in results.into_iter().zip(sends) {
            let id = ok("concurrent enqueue", r)?;
            ensure!(
                expected[usize::from(dlq)].insert(id, b).is_none(),
                "id {id} was handed out twice (dlq: {dlq})"
            );
        }
    }
    let want = |m: &BTreeMap<i64, DataBlob>| -> Vec<QueueMessage> {
        m.iter()
            .map(|(id, blob)| QueueMessage {
                id: *id,
                blob: blob.clone(),
            })
            .collect()
    };
    ensure_eq!(
        expected[0].keys().copied().collect::<Vec<_>>(),
        (0..16).collect::<Vec<i64>>(),
        "queue ids"
    );
    ensure_eq!(
        expected[1].keys().copied().collect::<Vec<_>>(),
        (0..8).collect::<Vec<i64>>(),
        "DLQ ids"
    );
    ensure_eq!(
        queue_all(s.as_ref(), t).await?,
        want(&expected[0]),
        "queue messages"
    );
    ensure_eq!(
        dlq_all(s.as_ref(), t).await?,
        want(&expected[1]),
        "DLQ messages"
    );
    Ok(())
}

/// Non-positive queue types, counts and page sizes, negative versions, oversized blobs, long
/// encoding names and foreign page tokens are refused and write nothing.
pub async fn bad_input(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.queue_v1()?;
    for bad in [QueueType(0), QueueType(-1), QueueType(i32::MIN)] {
        let w = |op: &str| format!("{op} with queue type {}", bad.0);
        expect_bad_request(&w("init"), s.init(bad, blob(4)).await)?;
        expect_bad_request(&w("enqueue_message"), s.enqueue_message(bad, blob(4)).await)?;
        expect_bad_request(&w("read_messages"), s.read_messages(bad, -1, 10).await)?;
        expect_bad_request(
            &w("delete_messages_before"),
            s.delete_messages_before(bad, 10).await,
        )?;
        expect_bad_request(
            &w("update_ack_level"),
            s.update_ack_level(bad, meta(blob(4), 0)).await,
        )?;
        expect_bad_request(&w("get_ack_levels"), s.get_ack_levels(bad).await)?;
        expect_bad_request(
            &w("enqueue_message_to_dlq"),
            s.enqueue_message_to_dlq(bad, blob(4)).await,
        )?;
        expect_bad_request(
            &w("read_messages_from_dlq"),
            s.read_messages_from_dlq(bad, -1, 10, 10, None).await,
        )?;
        expect_bad_request(
            &w("delete_message_from_dlq"),
            s.delete_message_from_dlq(bad, 0).await,
        )?;
        expect_bad_request(
            &w("range_delete_messages_from_dlq"),
            s.range_delete_messages_from_dlq(bad, -1, 10).await,
        )?;
        expect_bad_request(
            &w("update_dlq_ack_level"),
            s.update_dlq_ack_level(bad, meta(blob(4), 0)).await,
        )?;
        expect_bad_request(&w("get_dlq_ack_levels"), s.get_dlq_ack_levels(bad).await)?;
    }

    let t = random_type();
    let bad_blobs = [
        ("a blob over 4 MiB", blob(MAX_BLOB_BYTES + 1)),
        (
            "an encoding over 16 bytes",
            DataBlob::new(vec![1], "e".repeat(17)),
        ),
    ];
    for (what, b) in &bad_blobs {
        expect_bad_request(&format!("init with {what}"), s.init(t, b.clone()).await)?;
        expect_bad_request(
            &format!("enqueue_message with {what}"),
            s.enqueue_message(t, b.clone()).await,
        )?;
        expect_bad_request(
            &format!("enqueue_message_to_dlq with {what}"),
            s.enqueue_message_to_dlq(t, b.clone()).await,
        )?;
    }
    expect_err(
        "get_ack_levels after refused inits",
        s.get_ack_levels(t).await,
        ErrorKind::NotFound,
    )?;
    ensure_eq!(
        queue_all(s.as_ref(), t).await?,
        Vec::new(),
        "queue after refused enqueues"
    );
    ensure_eq!(
        dlq_all(s.as_ref(), t).await?,
        Vec::new(),
        "DLQ after refused enqueues"
    );
    // Refused enqueues used up no id.
    enqueue_n(s.as_ref(), t, false, 0, 1).await?;
    enqueue_n(s.as_ref(), t, true, 0, 1).await?;

    let init = blob(8);
    ok("init", s.init(t, init.clone()).await)?;
    for (what, b) in &bad_blobs {
        expect_bad_request(
            &format!("update_ack_level with {what}"),
            s.update_ack_level(t, meta(b.clone(), 0)).await,
        )?;
        expect_bad_request(
            &format!("update_dlq_ack_level with {what}"),
            s.update_dlq_ack_level(t, meta(b.clone(), 0)).await,
        )?;
    }
    expect_bad_request(
        "update_ack_level with version -1",
        s.update_ack_level(t, meta(blob(4), -1)).await,
    )?;
    ensure_eq!(
        ok("get", s.get_ack_levels(t).await)?,
        meta(init.clone(), 0),
        "metadata after refused updates"
    );
    ensure_eq!(
        ok("get DLQ", s.get_dlq_ack_levels(t).await)?,
        meta(init, 0),
        "DLQ metadata after refused updates"
    );

    for n in [0, -1, 10_001] {
        expect_bad_request(
            &format!("read_messages with max_count {n}"),
            s.read_messages(t, -1, n).await,
        )?;
        expect_bad_request(
            &format!("read_messages_from_dlq with page size {n}"),
            s.read_messages_from_dlq(t, -1, 100, n, None).await,
        )?;
    }
    for (what, token) in [
        ("a garbage token", b"\xffgarbage\x00".to_vec()),
        ("an empty token", Vec::new()),
    ] {
        expect_bad_request(
            &format!("read_messages_from_dlq with {what}"),
            s.read_messages_from_dlq(t, -1, 100, 10, Some(token)).await,
        )?;
    }
    Ok(())
}
