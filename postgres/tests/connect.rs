//! Connection settings against a live server: credentials, TLS modes, timeouts, pool limits.
#![allow(clippy::unwrap_used)]

mod common;

use common::server_url;
use durastore_api::ErrorKind;
use durastore_postgres::{PostgresConfig, connect};
use durastore_sql::SqlDriver;

fn with_query(url: &str, query: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{query}")
}

#[tokio::test]
async fn statement_timeout_is_timeout() {
    let Some(url) = server_url("statement_timeout_is_timeout") else {
        return;
    };
    let cfg = PostgresConfig::from_url(&with_query(&url, "statement_timeout=300ms")).unwrap();
    let d = connect(&cfg).await.unwrap();
    let e = d.query("SELECT pg_sleep(5)", &[]).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.is_retryable());
    // The connection is still usable.
    assert_eq!(
        d.query("SELECT 1", &[]).await.unwrap()[0].i64(0).unwrap(),
        1
    );
    d.close().await.unwrap();
    // After close, calls fail as Unavailable, not retryable.
    let e = d.query("SELECT 1", &[]).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn bad_credentials_and_tls_fail_typed() {
    let Some(url) = server_url("bad_credentials_and_tls_fail_typed") else {
        return;
    };
    let good = PostgresConfig::from_url(&url).unwrap();
    // A wrong password: Unauthenticated (its own kind), not retryable, and the password is in no message.
    let mut bad = good.clone();
    bad.password = Some("definitely-wrong-pw".into());
    let e = connect(&bad).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    assert!(!e.is_retryable(), "{e}");
    assert!(!format!("{e} {e:?}").contains("definitely-wrong-pw"));
    assert!(!format!("{bad:?}").contains("definitely-wrong-pw"));

    // sslmode=disable and prefer work against a server without TLS; require does not.
    for (mode, works) in [("disable", true), ("prefer", true), ("require", false)] {
        let cfg = PostgresConfig::from_url(&with_query(&url, &format!("sslmode={mode}"))).unwrap();
        match connect(&cfg).await {
            Ok(d) => {
                assert!(works, "sslmode={mode} connected to a server without TLS");
                d.close().await.unwrap();
            }
            Err(e) => {
                assert!(!works, "sslmode={mode}: {e}");
                assert_ne!(e.kind(), ErrorKind::Internal, "{e}");
            }
        }
    }
    // verify-full with a CA file that does not exist fails typed, without panicking.
    let cfg = PostgresConfig::from_url(&with_query(
        &url,
        "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
    ))
    .unwrap();
    let e = connect(&cfg).await.unwrap_err();
    assert_ne!(e.kind(), ErrorKind::Internal, "{e}");

    // Unreachable server: Unavailable and retryable, within the connect timeout.
    let cfg =
        PostgresConfig::from_url("postgres://u:p@127.0.0.1:1/db?connect_timeout=2&sslmode=disable")
            .unwrap();
    let e = connect(&cfg).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert!(e.is_retryable(), "{e}");
}

#[tokio::test]
async fn pool_exhaustion_is_resource_exhausted() {
    let Some(url) = server_url("pool_exhaustion_is_resource_exhausted") else {
        return;
    };
    let cfg =
        PostgresConfig::from_url(&with_query(&url, "max_connections=1&acquire_timeout=300ms"))
            .unwrap();
    let d = connect(&cfg).await.unwrap();
    let tx = d.begin().await.unwrap();
    let e = d.query("SELECT 1", &[]).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ResourceExhausted, "{e}");
    assert!(e.is_retryable());
    tx.rollback().await.unwrap();
    assert_eq!(d.query("SELECT 1", &[]).await.unwrap().len(), 1);
    d.close().await.unwrap();
}

#[tokio::test]
async fn values_round_trip() {
    let Some(url) = server_url("values_round_trip") else {
        return;
    };
    let d = connect(&PostgresConfig::from_url(&url).unwrap())
        .await
        .unwrap();
    let t = chrono::DateTime::<chrono::Utc>::from_timestamp_micros(1_700_000_000_123_456).unwrap();
    let rows = d
        .query(
            "SELECT ?::int2, ?::int4, ?::int8, ?::bool, ?::text, ?::varchar(10), ?::bytea, \
             ?::timestamp, 12345.678::numeric, 1.5::float8, NULL::bytea, ?",
            &durastore_sql::params![
                1i64,
                2i64,
                3i64,
                true,
                "t",
                "v",
                vec![0u8, 255],
                t,
                durastore_sql::Value::Null
            ],
        )
        .await
        .unwrap();
    let r = &rows[0];
    assert_eq!(r.i64(0).unwrap(), 1);
    assert_eq!(r.i64(1).unwrap(), 2);
    assert_eq!(r.i64(2).unwrap(), 3);
    assert!(r.bool(3).unwrap());
    assert_eq!(r.string(4).unwrap(), "t");
    assert_eq!(r.string(5).unwrap(), "v");
    assert_eq!(r.bytes(6).unwrap(), vec![0u8, 255]);
    assert_eq!(r.time(7).unwrap(), t);
    assert_eq!(r.string(8).unwrap(), "12345.678");
    assert_eq!(r.string(9).unwrap(), "1.5");
    assert!(r.is_null(10).unwrap());
    assert!(r.is_null(11).unwrap());
    // SUM over bigint is NUMERIC: readable as an integer.
    let rows = d
        .query(
            "SELECT SUM(x) FROM (VALUES (?::int8), (?::int8)) v(x)",
            &durastore_sql::params![40i64, 2i64],
        )
        .await
        .unwrap();
    assert_eq!(rows[0].i64(0).unwrap(), 42);
    d.close().await.unwrap();
}
