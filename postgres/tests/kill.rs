//! Killing the server's connections mid-run (`pg_terminate_backend`): every failure is a typed
//! retryable or outcome-unknown error, never a panic or `Internal`, and the pool recovers.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{FreshDb, server_url};
use durastore_api::{
    DataBlob, ErrorKind, GetOrCreateShardRequest, ShardId, StoreError, Stores, UpdateShardRequest,
};
use durastore_postgres::{PostgresConfig, PostgresDriver, connect};
use durastore_sql::{SqlDriver, Value, params};

// Only our own client sessions: autovacuum workers also sit in a fresh database, and
// terminating them needs superuser.
const KILL_OTHERS: &str = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
     WHERE datname = current_database() AND pid <> pg_backend_pid() \
     AND backend_type = 'client backend' AND usename = current_user";

fn blob(tag: &str) -> DataBlob {
    DataBlob::new(tag.as_bytes().to_vec(), "Proto3")
}

/// A second pool on the same database, for the killing.
async fn admin(url: &str) -> PostgresDriver {
    connect(&PostgresConfig::from_url(url).unwrap())
        .await
        .unwrap()
}

async fn kill_others(admin: &PostgresDriver) -> usize {
    admin.query(KILL_OTHERS, &[]).await.unwrap().len()
}

fn describe(e: &StoreError) -> String {
    format!(
        "{}{}{}",
        e.kind(),
        if e.is_retryable() { "+retryable" } else { "" },
        if e.is_outcome_unknown() {
            "+outcome_unknown"
        } else {
            ""
        }
    )
}

/// The contract for a failure caused by a lost connection.
fn assert_transient(e: &StoreError, what: &str) {
    assert!(
        e.is_retryable() || e.is_outcome_unknown(),
        "{what}: not retryable or outcome-unknown: {e}"
    );
    assert_ne!(e.kind(), ErrorKind::Internal, "{what}: {e}");
}

async fn read_range(stores: &Stores, shard: ShardId) -> durastore_api::Result<i64> {
    let info = stores
        .shard
        .as_ref()
        .unwrap()
        .get_or_create_shard(GetOrCreateShardRequest {
            shard_id: shard,
            create_if_missing: Some((1, blob("s"))),
        })
        .await?;
    Ok(info.range_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_calls_after_kill() {
    let Some(server) = server_url("store_calls_after_kill") else {
        return;
    };
    let db = FreshDb::with_schema(&server, "kill").await;
    let stores = durastore_postgres::open(&db.url).await.unwrap();
    let admin = admin(&db.url).await;
    let shard = ShardId(7);
    assert_eq!(read_range(&stores, shard).await.unwrap(), 1);

    let mut observed = Vec::new();
    for round in 0..5_i64 {
        let killed = kill_others(&admin).await;
        assert!(killed >= 1, "round {round}: no store connection to kill");
        let previous = read_range(&stores, shard).await;
        // The idle connection was dead; the pool's ping replaces it, or the call fails typed.
        let previous = match previous {
            Ok(r) => {
                observed.push("ok".to_string());
                r
            }
            Err(e) => {
                assert_transient(&e, "read after kill");
                observed.push(describe(&e));
                read_range(&stores, shard).await.unwrap()
            }
        };
        let r = stores
            .shard
            .as_ref()
            .unwrap()
            .update_shard(UpdateShardRequest {
                shard_id: shard,
                range_id: previous + 1,
                previous_range_id: previous,
                data: blob("s"),
            })
            .await;
        r.unwrap();
    }
    println!("store call right after a kill: {observed:?}");
    assert_eq!(read_range(&stores, shard).await.unwrap(), 6);
    stores.backend.close().await.unwrap();
    admin.close().await.unwrap();
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_inside_transaction_then_commit() {
    let Some(server) = server_url("kill_inside_transaction_then_commit") else {
        return;
    };
    let db = FreshDb::with_schema(&server, "killtx").await;
    let d = admin(&db.url).await;
    let admin = admin(&db.url).await;

    let mut tx = d.begin().await.unwrap();
    let pid = tx.query("SELECT pg_backend_pid()", &[]).await.unwrap()[0]
        .i64(0)
        .unwrap();
    tx.execute(
        "INSERT INTO shards (shard_id, range_id, data, data_encoding) VALUES (?, ?, ?, ?)",
        &params![42i32, 1i64, vec![1u8], "Proto3"],
    )
    .await
    .unwrap();
    let killed = admin
        .query("SELECT pg_terminate_backend(?::int)", &params![pid])
        .await
        .unwrap();
    assert_eq!(killed[0].0[0], Value::Bool(true));
    // Let the server finish closing the session before COMMIT is sent.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let e = tx.commit().await.unwrap_err();
    println!("commit after kill: {} ({e})", describe(&e));
    assert!(
        e.is_outcome_unknown() || e.is_retryable(),
        "commit after kill: {e}"
    );
    assert_ne!(e.kind(), ErrorKind::Internal);

    // The pool recovers, and the killed transaction did not commit.
    let rows = d
        .query(
            "SELECT COUNT(*) FROM shards WHERE shard_id = ?",
            &params![42i32],
        )
        .await
        .unwrap();
    assert_eq!(rows[0].i64(0).unwrap(), 0);

    // A statement running when its session is killed fails typed too.
    let d2 = d.clone();
    let sleeper = tokio::spawn(async move { d2.query("SELECT pg_sleep(10)", &[]).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(kill_others(&admin).await >= 1);
    let e = sleeper.await.unwrap().unwrap_err();
    println!("statement running at kill: {} ({e})", describe(&e));
    assert_transient(&e, "running statement");
    assert_eq!(e.kind(), ErrorKind::Unavailable);

    // And an autocommit write cut off mid-statement is outcome-unknown.
    let d3 = d.clone();
    let writer = tokio::spawn(async move {
        d3.execute(
            "INSERT INTO shards (shard_id, range_id, data, data_encoding) SELECT ?, ?, ?, ? FROM pg_sleep(10)",
            &params![43i32, 1i64, vec![1u8], "Proto3"],
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(kill_others(&admin).await >= 1);
    let e = writer.await.unwrap().unwrap_err();
    println!("autocommit write at kill: {} ({e})", describe(&e));
    assert!(e.is_outcome_unknown() && e.is_retryable(), "{e}");

    let rows = d.query("SELECT 1", &[]).await.unwrap();
    assert_eq!(rows[0].i64(0).unwrap(), 1);
    d.close().await.unwrap();
    admin.close().await.unwrap();
    db.drop_now().await;
}

/// Writers keep going while every session of the database is killed again and again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writers_under_repeated_kills() {
    let Some(server) = server_url("writers_under_repeated_kills") else {
        return;
    };
    let db = FreshDb::with_schema(&server, "chaos").await;
    let stores = durastore_postgres::open(&db.url).await.unwrap();
    let admin = admin(&db.url).await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..4 {
        let stores = stores.clone();
        let stop = stop.clone();
        workers.push(tokio::spawn(async move {
            let shard = ShardId(100 + w);
            let mut kinds: Vec<String> = Vec::new();
            let mut ok = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let Ok(current) = read_range(&stores, shard).await.map_err(|e| {
                    assert_transient(&e, "read");
                    kinds.push(describe(&e));
                }) else {
                    continue;
                };
                let r = stores
                    .shard
                    .as_ref()
                    .unwrap()
                    .update_shard(UpdateShardRequest {
                        shard_id: shard,
                        range_id: current + 1,
                        previous_range_id: current,
                        data: blob("w"),
                    })
                    .await;
                match r {
                    Ok(()) => ok += 1,
                    Err(e) => {
                        assert_transient(&e, "update_shard");
                        kinds.push(describe(&e));
                    }
                }
            }
            (ok, kinds)
        }));
    }
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        kill_others(&admin).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut total_ok = 0;
    let mut all_kinds: std::collections::BTreeMap<String, usize> = Default::default();
    for w in workers {
        let (ok, kinds) = w.await.unwrap();
        total_ok += ok;
        for k in kinds {
            *all_kinds.entry(k).or_default() += 1;
        }
    }
    println!("writers under kills: {total_ok} successful updates, errors by kind: {all_kinds:?}");
    assert!(total_ok > 0);
    // Afterwards every call works again.
    for w in 0..4 {
        read_range(&stores, ShardId(100 + w)).await.unwrap();
    }
    stores.backend.close().await.unwrap();
    admin.close().await.unwrap();
    db.drop_now().await;
}
