//! TLS modes against a server with TLS on. Runs only when `DURASTORE_POSTGRES_TLS_URL` names
//! such a server by a host name its certificate carries (e.g. `postgres://u@localhost:5433/db`)
//! and `DURASTORE_POSTGRES_TLS_CA` is the CA file that signed it;
//! `DURASTORE_POSTGRES_TLS_OTHER_CA`, if set, is a CA that did not.
//! `DURASTORE_POSTGRES_TLS_CLIENT` = `user,cert.pem,key.pem`, if set, names a role that the
//! server authenticates by client certificate (`hostssl … cert` in pg_hba.conf).
#![allow(clippy::unwrap_used)]

use durastore_api::ErrorKind;
use durastore_postgres::{PostgresConfig, connect};
use durastore_sql::SqlDriver;

async fn ssl_in_use(url: &str) -> durastore_api::Result<bool> {
    let d = connect(&PostgresConfig::from_url(url)?).await?;
    let rows = d
        .query(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await?;
    d.close().await?;
    rows[0].bool(0)
}

fn with(url: &str, query: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{query}")
}

#[tokio::test]
async fn tls_modes() {
    let (Ok(url), Ok(ca)) = (
        std::env::var("DURASTORE_POSTGRES_TLS_URL"),
        std::env::var("DURASTORE_POSTGRES_TLS_CA"),
    ) else {
        println!(
            "skipped tls_modes: DURASTORE_POSTGRES_TLS_URL / DURASTORE_POSTGRES_TLS_CA not set"
        );
        return;
    };
    assert!(!ssl_in_use(&with(&url, "sslmode=disable")).await.unwrap());
    assert!(ssl_in_use(&with(&url, "sslmode=prefer")).await.unwrap());
    assert!(ssl_in_use(&with(&url, "sslmode=require")).await.unwrap());
    let full = with(&url, &format!("sslmode=verify-full&sslrootcert={ca}"));
    assert!(ssl_in_use(&full).await.unwrap());
    // verify-ca checks the chain but not the name: connecting by address still works there,
    // and fails with verify-full.
    let cfg = PostgresConfig::from_url(&url).unwrap();
    let by_ip = url.replacen(&format!("@{}:", cfg.host), "@127.0.0.1:", 1);
    assert_ne!(
        by_ip, url,
        "the TLS URL must name its host as user@host:port"
    );
    let ca_only = with(&by_ip, &format!("sslmode=verify-ca&sslrootcert={ca}"));
    assert!(ssl_in_use(&ca_only).await.unwrap());
    let wrong_name = with(&by_ip, &format!("sslmode=verify-full&sslrootcert={ca}"));
    let e = ssl_in_use(&wrong_name).await.unwrap_err();
    println!("verify-full, wrong host name: {e}");
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    if let Ok(other) = std::env::var("DURASTORE_POSTGRES_TLS_OTHER_CA") {
        for mode in ["verify-ca", "verify-full"] {
            let untrusted = with(&url, &format!("sslmode={mode}&sslrootcert={other}"));
            let e = ssl_in_use(&untrusted).await.unwrap_err();
            println!("{mode}, untrusted CA: {e}");
            assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
        }
    }
    if let Ok(client) = std::env::var("DURASTORE_POSTGRES_TLS_CLIENT") {
        let parts: Vec<&str> = client.split(',').collect();
        let [user, cert, key] = parts[..] else {
            panic!("DURASTORE_POSTGRES_TLS_CLIENT must be user,cert,key");
        };
        let as_user = url.replacen(&format!("//{}@", cfg.user), &format!("//{user}@"), 1);
        let with_cert = with(
            &as_user,
            &format!("sslmode=verify-full&sslrootcert={ca}&sslcert={cert}&sslkey={key}"),
        );
        assert!(ssl_in_use(&with_cert).await.unwrap());
        let without = with(&as_user, &format!("sslmode=verify-full&sslrootcert={ca}"));
        let e = ssl_in_use(&without).await.unwrap_err();
        println!("client certificate missing: {e}");
        assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
        assert!(!e.is_retryable(), "{e}");
    }
}
