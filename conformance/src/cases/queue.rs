//! Conformance cases for the named FIFO queue store: ids from 0 without reuse, paged reads,
//! range deletes, listing with counts, and concurrent enqueues.
//!
//! Every case uses a random queue type of its own, so listing a type shows only its queues.

use std::collections::BTreeMap;
use std::sync::Arc;

use durastore_api::validate::MAX_BLOB_BYTES;
use durastore_api::{
    DataBlob, ErrorKind, QueueInfo, QueueKey, QueueMessage, QueueStore, QueueType, Uuid,
};
use futures::future::BoxFuture;

use crate::check::{expect_bad_request, expect_err, ok};
use crate::fixtures::{blob, unique_name};
use crate::util::{MAX_PAGES, race};
use crate::{Case, CaseError, Ctx, ensure, ensure_eq};

/// The cases of this module.
pub fn cases() -> Vec<Case> {
    crate::cases![queue requires(Queue) =>
        create_enqueue_ids_from_zero,
        create_twice_already_exists,
        missing_queue_not_found,
        read_paging,
        range_delete_then_read,
        delete_all_then_enqueue_continues,
        range_delete_same_range_twice,
        list_queues_counts,
        concurrent_enqueue_distinct_ids + ConcurrentWriters,
        bad_input,
    ]
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A queue type no other case uses (well above the built-in types 1 and 2).
fn random_type() -> QueueType {
    QueueType(1000 + (Uuid::new_v4().as_u128() % 1_000_000_000) as i32)
}

/// A key with a fresh type and name.
fn new_key() -> QueueKey {
    QueueKey {
        queue_type: random_type(),
        name: unique_name("q"),
    }
}

/// Creates a fresh queue.
async fn new_queue(s: &dyn QueueStore) -> Result<QueueKey, CaseError> {
    let key = new_key();
    ok("create_queue", s.create_queue(&key).await)?;
    Ok(key)
}

/// Enqueues `n` messages and checks they get the ids `first..first + n`.
async fn enqueue_n(
    s: &dyn QueueStore,
    key: &QueueKey,
    first: i64,
    n: i64,
) -> Result<Vec<QueueMessage>, CaseError> {
    let mut out = Vec::new();
    for id in first..first + n {
        let b = blob(24);
        let got = ok("enqueue_message", s.enqueue_message(key, b.clone()).await)?;
        ensure_eq!(got, id, "id of the next enqueued message");
        out.push(QueueMessage { id, blob: b });
    }
    Ok(out)
}

/// Reads every message page by page; returns the page sizes and the messages.
async fn read_all(
    s: &dyn QueueStore,
    key: &QueueKey,
    page_size: i32,
) -> Result<(Vec<usize>, Vec<QueueMessage>), CaseError> {
    let mut sizes = Vec::new();
    let mut all = Vec::new();
    let mut token: Option<Vec<u8>> = None;
    loop {
        ensure!(sizes.len() < MAX_PAGES, "more than {MAX_PAGES} pages");
        let page = ok(
            "read_messages",
            s.read_messages(key, page_size, token.clone()).await,
        )?;
        sizes.push(page.items.len());
        all.extend(page.items);
        match page.next_page_token {
            None => return Ok((sizes, all)),
            Some(t) => {
                ensure!(Some(&t) != token.as_ref(), "the page token did not advance");
                token = Some(t);
            }
        }
    }
}

/// Every message, read with a generous page size.
async fn messages(s: &dyn QueueStore, key: &QueueKey) -> Result<Vec<QueueMessage>, CaseError> {
    Ok(read_all(s, key, 1000).await?.1)
}

/// Every queue of a type, by name, paged.
async fn list_all(
    s: &dyn QueueStore,
    queue_type: QueueType,
    page_size: i32,
) -> Result<(Vec<usize>, Vec<QueueInfo>), CaseError> {
    let mut sizes = Vec::new();
    let mut all = Vec::new();
    let mut token: Option<Vec<u8>> = None;
    loop {
        ensure!(sizes.len() < MAX_PAGES, "more than {MAX_PAGES} pages");
        let page = ok(
            "list_queues",
            s.list_queues(queue_type, page_size, token.clone()).await,
        )?;
        sizes.push(page.items.len());
        all.extend(page.items);
        match page.next_page_token {
            None => return Ok((sizes, all)),
            Some(t) => {
                ensure!(Some(&t) != token.as_ref(), "the page token did not advance");
                token = Some(t);
            }
        }
    }
}

/// The listed info of one queue.
async fn info(s: &dyn QueueStore, key: &QueueKey) -> Result<QueueInfo, CaseError> {
    let (_, all) = list_all(s, key.queue_type, 100).await?;
    let mut found = all.into_iter().filter(|q| q.name == key.name);
    let first = found
        .next()
        .ok_or_else(|| CaseError::new(format!("queue {} is not listed", key.name)))?;
    ensure!(found.next().is_none(), "queue {} listed twice", key.name);
    Ok(first)
}

fn queue_info(key: &QueueKey, message_count: i64, last_message_id: i64) -> QueueInfo {
    QueueInfo {
        name: key.name.clone(),
        message_count,
        last_message_id,
    }
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

/// A new queue is empty; enqueued messages get ids 0, 1, 2 and read back in order.
pub async fn create_enqueue_ids_from_zero(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.queue()?;
    let key = new_queue(s.as_ref()).await?;
    ensure_eq!(
        read_all(s.as_ref(), &key, 10).await?,
        (vec![0], Vec::new()),
        "a new queue (one empty page, no token)"
    );
    let sent = enqueue_n(s.as_ref(), &key, 0, 3).await?;
    ensure_eq!(
        messages(s.as_ref(), &key).await?,
        sent,
        "messages read back"
    );
    // Another queue with the same name but another type is separate and starts at 0 too.
    let twin = QueueKey {
        queue_type: random_type(),
        ..key.clone()
    };
    ok(
        "create_queue (same name, other type)",
        s.create_queue(&twin).await,
    )?;
    enqueue_n(s.as_ref(), &twin, 0, 1).await?;
    ensure_eq!(
        messages(s.as_ref(), &key).await?,
        sent,
        "first queue after the twin's enqueue"
    );
    Ok(())
}

/// Creating an existing queue is `AlreadyExists` and keeps its messages and ids.
pub async fn create_twice_already_exists(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.queue()?;
    let key = new_queue(s.as_ref()).await?;
    let mut sent = enqueue_n(s.as_ref(), &key, 0, 2).await?;
    expect_err(
        "create_queue of an existing queue",
        s.create_queue(&key).await,
        ErrorKind::AlreadyExists,
    )?;
    ensure_eq!(
        messages(s.as_ref(), &key).await?,
        sent,
        "messages after the refused create"
    );
    sent.extend(enqueue_n(s.as_ref(), &key, 2, 1).await?);
    ensure_eq!(
        messages(s.as_ref(), &key).await?,
        sent,
        "ids continue after the refused create"
    );
    Ok(())
}

/// Enqueue, read and range delete on a queue that was never created are `NotFound`, and do not
/// create it.
pub async fn missing_queue_not_found(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.queue()?;
    let key = new_key();
    expect_err(
        "enqueue_message on a missing queue",
        s.enqueue_message(&key, blob(8)).await,
        ErrorKind::NotFound,
    )?;
    expect_err(
        "read_messages on a missing queue",
        s.read_messages(&key, 10, None).await,
        ErrorKind::NotFound,
    )?;
    expect_err(
        "range_delete_messages on a missing queue",
        s.range_delete_messages(&key, 5).await,
        ErrorKind::NotFound,
    )?;
    let (_, listed) = list_all(s.as_ref(), key.queue_type, 10).await?;
    ensure_eq!(
        listed,
        Vec::<QueueInfo>::new(),
        "queues of a type never created"
    );
    // The refused calls left nothing behind: the queue can be created and starts at 0.
    ok("create_queue", s.create_queue(&key).await)?;
    enqueue_n(s.as_ref(), &key, 0, 1).await?;
    Ok(())
}

/// Reads page ascending by id: full pages, a short last page without a token.
pub async fn read_paging(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.queue()?;
    let key = new_queue(s.as_ref()).await?;
    let sent = enqueue_n(s.as_ref(), &key, 0, 7).await?;
    let (sizes, got) = read_all(s.as_ref(), &key, 3).await?;
    ensure_eq!(
        sizes,
        vec![3, 3, 1],
        "page sizes for 7 messages at page size 3"
    );
    ensure_eq!(got, sent, "paged messages");
    let (sizes, got) = read_all(s.as_ref(), &key, 1).await?;
    ensure!(
        sizes.iter().filter(|&&n| n == 1).count() == 7 && sizes.iter().all(|&n| n <= 1),
        "page sizes at page size 1: {sizes:?}"
    );
    ensure_eq!(got, sent, "messages paged one by one");
    Ok(())
}

/// Range delete up to id k returns how many it deleted; reads then start at k + 1, and the
/// listing counts what is left.
pub async fn range_delete_then_read(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.queue()?;
    let key = new_queue(s.as_ref()).await?;
    let sent = enqueue_n(s.as_ref(), &key, 0, 6).await?;
    let n = ok(
        "range_delete_messages up to 2",
        s.range_delete_messages(&key, 2).await,
    )?;
    ensure_eq!(n, 3, "messages deleted up to id 2");
    ensure_eq!(
        messages(s.as_ref(), &key).await?,
        sent[3..].to_vec(),
        "messages after the delete"
    );
    let (_, paged) = read_all(s.as_ref(), &key, 2).await?;
    ensure_eq!(paged, sent[3..].to_vec(), "paged messages after the delete");
    ensure_eq!(
        info(s.as_ref(), &key).await?,
        queue_info(&key, 3, 5),
        "listed info"
    );
    Ok(())
}

/// Deleting every message and enqueueing again continues the ids; a delete bound beyond the
/// last id deletes what exists and does not hide later messages.
pub async fn delete_all_then_enqueue_continues(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.queue()?;
    let key = new_queue(s.as_ref()).await?;
    enqueue_n(s.as_ref(), &key, 0, 3).await?;
    let n = ok(
        "delete up to the last id",
        s.range_delete_messages(&key, 2).await,
    )?;
    ensure_eq!(n, 3, "messages deleted");
    ensure_eq!(
        read_all(s.as_ref(), &key, 10).await?,
        (vec![0], Vec::new()),
        "an emptied queue (one empty page, no token)"
    );
    ensure_eq!(
        info(s.as_ref(), &key).await?,
        queue_info(&key, 0, 2),
        "emptied queue info"
    );

    let next = enqueue_n(s.as_ref(), &key, 3, 1).await?;
    ensure_eq!(
        messages(s.as_ref(), &key).await?,
        next,
        "the message enqueued after the delete"
    );

    // Past the end: deletes the one message, and what comes after is still readable.
    let n = ok(
        "delete up to 1000",
        s.range_delete_messages(&key, 1000).await,
    )?;
    ensure_eq!(n, 1, "messages deleted by a bound past the end");
    let later = enqueue_n(s.as_ref(), &key, 4, 2).await?;
    ensure_eq!(
        messages(s.as_ref(), &key).await?,
        later,
        "messages enqueued after a delete past the end"
    );
    ensure_eq!(
        info(s.as_ref(), &key).await?,
        queue_info(&key, 2, 5),
        "queue info"
    );
    Ok(())
}

/// Deleting the same range twice deletes nothing the second time; deleting on an empty queue
/// deletes nothing and does not move the ids.
pub async fn range_delete_same_range_twice(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.queue()?;
    let key = new_queue(s.as_ref()).await?;
    let n = ok(
        "range delete on a new queue",
        s.range_delete_messages(&key, 3).await,
    )?;
    ensure_eq!(n, 0, "messages deleted from an empty queue");
    let sent = enqueue_n(s.as_ref(), &key, 0, 4).await?;
    let n = ok("delete up to 1", s.range_delete_messages(&key, 1).await)?;
    ensure_eq!(n, 2, "first delete up to 1");
    let n = ok(
        "delete up to 1 again",
        s.range_delete_messages(&key, 1).await,
    )?;
    ensure_eq!(n, 0, "second delete up to 1");
    let n = ok("delete up to 0", s.range_delete_messages(&key, 0).await)?;
    ensure_eq!(n, 0, "delete of an already deleted lower range");
    ensure_eq!(
        messages(s.as_ref(), &key).await?,
        sent[2..].to_vec(),
        "messages left"
    );
    Ok(())
}

/// `list_queues` reports each queue of a type once, by name, with its message count and last
/// message id (-1 when nothing was ever enqueued).
pub async fn list_queues_counts(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.queue()?;
    let queue_type = random_type();
    let key = |tag: &str| QueueKey {
        queue_type,
        name: unique_name(tag),
    };
    let (busy, empty, drained) = (key("busy"), key("empty"), key("drained"));
    for k in [&busy, &empty, &drained] {
        ok("create_queue", s.create_queue(k).await)?;
    }
    enqueue_n(s.as_ref(), &busy, 0, 3).await?;
    ok("delete", s.range_delete_messages(&busy, 0).await)?;
    enqueue_n(s.as_ref(), &drained, 0, 2).await?;
    ok("delete", s.range_delete_messages(&drained, 1).await)?;
    // A queue of another type must not show up.
    let other = new_key();
    ok("create_queue (other type)", s.create_queue(&other).await)?;

    let mut want = vec![
        queue_info(&busy, 2, 2),
        queue_info(&empty, 0, -1),
        queue_info(&drained, 0, 1),
    ];
    want.sort_by(|a, b| a.name.cmp(&b.name));
    let (sizes, got) = list_all(s.as_ref(), queue_type, 2).await?;
    ensure_eq!(sizes, vec![2, 1], "page sizes for 3 queues at page size 2");
    ensure_eq!(got, want, "listed queues");
    Ok(())
}

/// Concurrent enqueues on one queue (starting empty) get distinct consecutive ids, and each id
/// holds its enqueuer's message.
pub async fn concurrent_enqueue_distinct_ids(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.queue()?;
    let key = new_queue(s.as_ref()).await?;
    let mut expected = BTreeMap::new();
    for round in 0..2i64 {
        let blobs: Vec<DataBlob> = (0..8).map(|_| blob(20)).collect();
        let futs = blobs
            .iter()
            .map(|b| {
                let s = Arc::clone(s);
                let (key, b) = (key.clone(), b.clone());
                Box::pin(async move { s.enqueue_message(&key, b).await }) as BoxFuture<'static, _>
            })
            .collect();
        let results = race(futs).await?;
        let mut ids = Vec::new();
        for (r, b) in results.into_iter().zip(blobs) {
            let id = ok("concurrent enqueue_message", r)?;
            ensure!(
                expected.insert(id, b).is_none(),
                "id {id} was handed out twice"
            );
            ids.push(id);
        }
        ids.sort_unstable();
        let want: Vec<i64> = (round * 8..round * 8 + 8).collect();
        ensure_eq!(ids, want, "ids of round {round}");
    }
    let want: Vec<_> = expected
        .into_iter()
        .map(|(id, blob)| QueueMessage { id, blob })
        .collect();
    ensure_eq!(
        messages(s.as_ref(), &key).await?,
        want,
        "messages after the races"
    );
    Ok(())
}

/// Empty or too long names, oversized blobs and bad paging are refused, and a refused enqueue
/// neither stores a message nor uses up an id.
pub async fn bad_input(ctx: &Ctx) -> Result<(), CaseError> {
    let s = ctx.queue()?;
    for (what, name) in [("an empty", String::new()), ("a 256-byte", "q".repeat(256))] {
        let bad = QueueKey {
            queue_type: random_type(),
            name,
        };
        expect_bad_request(
            &format!("create_queue with {what} name"),
            s.create_queue(&bad).await,
        )?;
        expect_bad_request(
            &format!("enqueue_message with {what} name"),
            s.enqueue_message(&bad, blob(8)).await,
        )?;
        expect_bad_request(
            &format!("read_messages with {what} name"),
            s.read_messages(&bad, 10, None).await,
        )?;
        expect_bad_request(
            &format!("range_delete_messages with {what} name"),
            s.range_delete_messages(&bad, 1).await,
        )?;
    }

    let key = new_queue(s.as_ref()).await?;
    for (what, b) in [
        ("a blob over 4 MiB", blob(MAX_BLOB_BYTES + 1)),
        (
            "an encoding over 16 bytes",
            DataBlob::new(vec![1], "e".repeat(17)),
        ),
    ] {
        expect_bad_request(
            &format!("enqueue_message with {what}"),
            s.enqueue_message(&key, b).await,
        )?;
    }
    ensure_eq!(
        messages(s.as_ref(), &key).await?,
        Vec::new(),
        "messages after refused enqueues"
    );
    enqueue_n(s.as_ref(), &key, 0, 2).await?;

    let garbage = Some(b"\xffgarbage\x00".to_vec());
    for size in [0, -1, 10_001] {
        expect_bad_request(
            &format!("read_messages with page size {size}"),
            s.read_messages(&key, size, None).await,
        )?;
        expect_bad_request(
            &format!("list_queues with page size {size}"),
            s.list_queues(key.queue_type, size, None).await,
        )?;
    }
    expect_bad_request(
        "read_messages with a garbage token",
        s.read_messages(&key, 1, garbage.clone()).await,
    )?;
    expect_bad_request(
        "read_messages with an empty token",
        s.read_messages(&key, 1, Some(Vec::new())).await,
    )?;
    expect_bad_request(
        "list_queues with a garbage token",
        s.list_queues(key.queue_type, 1, garbage).await,
    )?;
    Ok(())
}
