//! The store driver's connection pool (`src/pool.rs`): it tests connections only when it has a
//! reason to, so these check that the reasons work.
#![allow(clippy::unwrap_used)]

mod common;

use common::{FreshDb, server_url};
use durastore_postgres::{PostgresConfig, PostgresDriver, connect};
use durastore_sql::{SqlDriver, SqlTx, Value, params};

const KILL_OTHERS: &str = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
     WHERE datname = current_database() AND pid <> pg_backend_pid() \
     AND backend_type = 'client backend' AND usename = current_user";

async fn driver(url: &str, max: u32) -> PostgresDriver {
    let sep = if url.contains('?') { '&' } else { '?' };
    connect(&PostgresConfig::from_url(&format!("{url}{sep}max_connections={max}")).unwrap())
        .await
        .unwrap()
}

async fn count_shard(d: &PostgresDriver, shard: i64) -> i64 {
    let rows = d
        .query(
            "SELECT COUNT(*) FROM shards WHERE shard_id = ?",
            &params![shard],
        )
        .await
        .unwrap();
    match rows[0].0[0] {
        Value::Int(n) => n,
        ref v => panic!("count is {v:?}"),
    }
}

const INSERT_SHARD: &str =
    "INSERT INTO shards (shard_id, range_id, data, data_encoding) VALUES (?, 1, ?, 'Proto3')";

/// Leaves four connections idle in `d`'s pool (four transactions open at once, then
/// committed), then ends every session of the database but the admin's.
async fn fill_and_kill(d: &PostgresDriver, admin: &PostgresDriver, round: i64) {
    let mut txs: Vec<Box<dyn SqlTx>> = Vec::new();
    for _ in 0..4 {
        txs.push(d.begin().await.unwrap());
    }
    for tx in txs {
        tx.commit().await.unwrap();
    }
    let killed = admin.query(KILL_OTHERS, &[]).await.unwrap().len();
    assert!(killed >= 4, "round {round}: killed {killed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_transaction_is_rolled_back_before_reuse() {
    let Some(server) = server_url("dropped_transaction_is_rolled_back_before_reuse") else {
        return;
    };
    let db = FreshDb::with_schema(&server, "pool").await;
    // One connection: the next call must get the very connection the dropped transaction had.
    let d = driver(&db.url, 1).await;
    let mut tx = d.begin().await.unwrap();
    tx.execute(INSERT_SHARD, &params![11_i64, b"x".to_vec()])
        .await
        .unwrap();
    drop(tx);
    assert_eq!(count_shard(&d, 11).await, 0, "the dropped insert is gone");
    // The connection is out of the old transaction: an autocommit write is visible to others.
    d.execute(INSERT_SHARD, &params![12_i64, b"y".to_vec()])
        .await
        .unwrap();
    let other = driver(&db.url, 1).await;
    assert_eq!(count_shard(&other, 12).await, 1);
    d.close().await.unwrap();
    other.close().await.unwrap();
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_one_dead_connection_every_idle_one_is_tested() {
    let Some(server) = server_url("after_one_dead_connection_every_idle_one_is_tested") else {
        return;
    };
    let db = FreshDb::with_schema(&server, "pool").await;
    let d = driver(&db.url, 4).await;
    let admin = driver(&db.url, 1).await;
    for round in 0..3 {
        fill_and_kill(&d, &admin, round).await;
        // The first call meets a dead connection and fails, typed; it makes the other idle
        // connections suspect, so every later call is tested onto a live one.
        let first = d.query("SELECT 1", &[]).await;
        if let Err(e) = &first {
            assert!(e.is_retryable(), "round {round}: {e}");
        }
        for i in 0..6 {
            d.query("SELECT 1", &[])
                .await
                .unwrap_or_else(|e| panic!("round {round}, call {i}: {e}"));
        }
    }
    d.close().await.unwrap();
    admin.close().await.unwrap();
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn begin_on_dead_connections_starts_on_a_live_one() {
    let Some(server) = server_url("begin_on_dead_connections_starts_on_a_live_one") else {
        return;
    };
    let db = FreshDb::with_schema(&server, "pool").await;
    let d = driver(&db.url, 4).await;
    let admin = driver(&db.url, 1).await;
    for round in 0..3_i64 {
        fill_and_kill(&d, &admin, round).await;
        // Every pooled connection is dead; BEGIN has nothing to lose, so it moves on to a
        // live connection instead of failing.
        let mut tx = d.begin().await.unwrap();
        tx.execute(INSERT_SHARD, &params![100 + round, b"z".to_vec()])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(count_shard(&admin, 100 + round).await, 1);
    }
    d.close().await.unwrap();
    admin.close().await.unwrap();
    db.drop_now().await;
}
