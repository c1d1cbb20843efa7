//! Killing the server side of the store's connections (`KILL` in MariaDB/MySQL): every failure
//! is typed (retryable or outcome-unknown, never `Internal`), nothing panics, and the pool
//! recovers on the next call.

// Test helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use durastore_api::{
    DataBlob, ErrorKind, GetOrCreateShardRequest, HistoryTask, HistoryTaskKey, NamespaceId,
    ShardId, StoreError, Stores, TaskCategory, UpdateShardRequest, WorkflowId,
};
use durastore_mysql::MysqlConfig;
use durastore_sql::{SqlDriver, Value};
use sqlx::mysql::MySqlConnection;
use sqlx::{AssertSqlSafe, Connection, Executor};

async fn admin(base: &str) -> MySqlConnection {
    let cfg = MysqlConfig::from_url(base).unwrap().with_database(None);
    MySqlConnection::connect_with(&cfg.connect_options())
        .await
        .unwrap()
}

/// Kills every connection using `db` except the admin's own; returns how many.
async fn kill_all(admin: &mut MySqlConnection, db: &str) -> usize {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT CAST(id AS SIGNED) FROM information_schema.processlist \
         WHERE db = ? AND id <> CONNECTION_ID()",
    )
    .bind(db)
    .fetch_all(&mut *admin)
    .await
    .unwrap();
    let mut n = 0;
    for id in ids {
        // The connection may have ended by itself in between ("unknown thread id").
        if admin
            .execute(AssertSqlSafe(format!("KILL {id}")))
            .await
            .is_ok()
        {
            n += 1;
        }
    }
    n
}

async fn kill_one(admin: &mut MySqlConnection, id: i64) {
    admin
        .execute(AssertSqlSafe(format!("KILL {id}")))
        .await
        .unwrap();
}

/// The error must be one a caller can act on: retryable or outcome-unknown, never Internal.
fn check_typed(what: &str, e: &StoreError) {
    check_typed_quietly(what, e);
    println!(
        "{what}: kind={} retryable={} outcome_unknown={} ({})",
        e.kind(),
        e.is_retryable(),
        e.is_outcome_unknown(),
        e.message()
    );
}

/// [`check_typed`] without printing (for the many errors of the kill storm).
fn check_typed_quietly(what: &str, e: &StoreError) {
    assert_ne!(e.kind(), ErrorKind::Internal, "{what}: untyped error {e}");
    assert!(
        e.is_retryable() || e.is_outcome_unknown(),
        "{what}: neither retryable nor outcome-unknown: {e}"
    );
}

fn shard_blob() -> DataBlob {
    DataBlob::new(vec![7; 32], "Proto3")
}

async fn make_shard(stores: &Stores, id: i32) {
    stores
        .shard
        .as_ref()
        .unwrap()
        .get_or_create_shard(GetOrCreateShardRequest {
            shard_id: ShardId(id),
            create_if_missing: Some((1, shard_blob())),
        })
        .await
        .unwrap();
}

async fn renew(stores: &Stores, id: i32, from: i64) -> Result<(), StoreError> {
    stores
        .shard
        .as_ref()
        .unwrap()
        .update_shard(UpdateShardRequest {
            shard_id: ShardId(id),
            range_id: from + 1,
            previous_range_id: from,
            data: shard_blob(),
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_pool_connections_recover() {
    let Some(base) = common::server_url("killed_pool_connections_recover") else {
        return;
    };
    let (url, db) = common::fresh_store_database(&base, "kill").await;
    let stores = durastore_mysql::open(&url).await.unwrap();
    let mut admin = admin(&base).await;

    make_shard(&stores, 1).await;
    let killed = kill_all(&mut admin, &db).await;
    assert!(killed > 0, "no store connection to kill");
    // The idle connection is dead: the pool notices (ping before use) and opens another.
    match renew(&stores, 1, 1).await {
        Ok(()) => println!("first call after KILL: Ok (pool replaced the connection)"),
        Err(e) => check_typed("first call after KILL", &e),
    }
    let range = stores
        .shard
        .as_ref()
        .unwrap()
        .get_or_create_shard(GetOrCreateShardRequest {
            shard_id: ShardId(1),
            create_if_missing: None,
        })
        .await
        .unwrap()
        .range_id;
    renew(&stores, 1, range).await.unwrap();

    stores.backend.close().await.unwrap();
    let _ = admin.close().await;
    durastore_mysql::drop_database(&base, &db).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_transaction_commit_is_typed() {
    let Some(base) = common::server_url("killed_transaction_commit_is_typed") else {
        return;
    };
    let (url, db) = common::fresh_store_database(&base, "killtx").await;
    // One connection, so that the connection whose id we read is the one that runs next.
    let cfg = MysqlConfig::from_url(&format!("{url}?max_connections=1")).unwrap();
    let driver = durastore_mysql::connect(&cfg).await.unwrap();
    let mut admin = admin(&base).await;

    // Killed between a write and COMMIT.
    let mut tx = driver.begin().await.unwrap();
    let id = tx
        .query("SELECT CAST(CONNECTION_ID() AS SIGNED)", &[])
        .await
        .unwrap()[0]
        .i64(0)
        .unwrap();
    tx.execute(
        "INSERT INTO shards (shard_id, range_id, data, data_encoding) VALUES (?, ?, ?, ?)",
        &[
            Value::Int(5),
            Value::Int(1),
            Value::Bytes(vec![1]),
            Value::Text("Proto3".into()),
        ],
    )
    .await
    .unwrap();
    kill_one(&mut admin, id).await;
    let e = tx.commit().await.unwrap_err();
    check_typed("COMMIT after KILL", &e);
    assert!(
        e.is_outcome_unknown(),
        "a lost COMMIT is outcome-unknown: {e}"
    );

    // Killed while a statement runs inside a transaction.
    let mut tx = driver.begin().await.unwrap();
    let id = tx
        .query("SELECT CAST(CONNECTION_ID() AS SIGNED)", &[])
        .await
        .unwrap()[0]
        .i64(0)
        .unwrap();
    let killer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        kill_one(&mut admin, id).await;
        admin
    });
    let e = tx.query("SELECT SLEEP(10)", &[]).await;
    let mut admin = killer.await.unwrap();
    match e {
        // MariaDB may answer the interrupted SLEEP with a row (1) before closing.
        Ok(_) => {
            let e = tx.commit().await.unwrap_err();
            check_typed("COMMIT after KILL during a statement", &e);
        }
        Err(e) => {
            check_typed("statement interrupted by KILL", &e);
            drop(tx);
        }
    }

    // Killed while a statement runs outside a transaction.
    let id = driver
        .query("SELECT CAST(CONNECTION_ID() AS SIGNED)", &[])
        .await
        .unwrap()[0]
        .i64(0)
        .unwrap();
    let killer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        kill_one(&mut admin, id).await;
        admin
    });
    match driver.query("SELECT SLEEP(10)", &[]).await {
        Ok(_) => panic!("a statement on a killed connection succeeded"),
        Err(e) => check_typed("autocommit statement interrupted by KILL", &e),
    }
    let admin = killer.await.unwrap();

    // The pool recovers: the next transaction works.
    let mut tx = driver.begin().await.unwrap();
    tx.execute(
        "INSERT INTO shards (shard_id, range_id, data, data_encoding) VALUES (?, ?, ?, ?)",
        &[
            Value::Int(6),
            Value::Int(1),
            Value::Bytes(vec![1]),
            Value::Text("Proto3".into()),
        ],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    driver.close().await.unwrap();
    let _ = admin.close().await;
    durastore_mysql::drop_database(&base, &db).await.unwrap();
}

/// Writers run while every connection is killed over and over: each failure is typed, no call
/// panics or hangs, and once the killing stops every call succeeds again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_storm_during_writes() {
    let Some(base) = common::server_url("kill_storm_during_writes") else {
        return;
    };
    let (url, db) = common::fresh_store_database(&base, "storm").await;
    let stores = durastore_mysql::open(&url).await.unwrap();
    for s in 0..4 {
        make_shard(&stores, 100 + s).await;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4i32 {
        let stores = stores.clone();
        let stop = Arc::clone(&stop);
        writers.push(tokio::spawn(async move {
            let exec = stores.execution.clone().unwrap();
            let ns = NamespaceId::new_random();
            let wf = WorkflowId::new(format!("storm-{w}"));
            let (mut ok, mut errors) = (0u32, BTreeMap::<String, u32>::new());
            let mut task_id = 1i64;
            while !stop.load(Ordering::Relaxed) {
                task_id += 1;
                let tasks = BTreeMap::from([(
                    TaskCategory::TRANSFER,
                    vec![HistoryTask {
                        key: HistoryTaskKey::immediate(task_id),
                        blob: DataBlob::new(vec![1; 64], "Proto3"),
                    }],
                )]);
                let r = tokio::time::timeout(
                    Duration::from_secs(60),
                    exec.add_history_tasks(ShardId(100 + w), 1, ns, &wf, tasks),
                )
                .await
                .expect("a write hung after KILL");
                match r {
                    Ok(()) => ok += 1,
                    Err(e) => {
                        check_typed_quietly("write during kill storm", &e);
                        *errors
                            .entry(format!(
                                "{} retryable={} outcome_unknown={}",
                                e.kind(),
                                e.is_retryable(),
                                e.is_outcome_unknown()
                            ))
                            .or_default() += 1;
                    }
                }
            }
            (ok, errors)
        }));
    }
    let mut admin = admin(&base).await;
    let mut kills = 0;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(40)).await;
        kills += kill_all(&mut admin, &db).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut total_ok = 0;
    let mut all_errors = BTreeMap::<String, u32>::new();
    for w in writers {
        let (ok, errors) = w.await.expect("writer panicked");
        total_ok += ok;
        for (k, n) in errors {
            *all_errors.entry(k).or_default() += n;
        }
    }
    println!(
        "kill storm: {kills} connections killed, {total_ok} writes ok, errors: {all_errors:?}"
    );
    assert!(kills > 0);

    // Recovered: every shard takes a renewal now.
    for s in 0..4 {
        renew(&stores, 100 + s, 1).await.unwrap();
    }
    stores.backend.close().await.unwrap();
    let _ = admin.close().await;
    durastore_mysql::drop_database(&base, &db).await.unwrap();
}
