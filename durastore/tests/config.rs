//! What a user meets first: Temporal-shaped configs against the running servers, and the errors
//! the CLI prints (exit codes, one line per cause, authentication failures, a server that is
//! down). Server cases read `DURASTORE_<BACKEND>_URL`; without it they are skipped, unless
//! `DURASTORE_REQUIRE` names the backend (CI), which makes the skip a failure.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use durastore::config::Config;
use durastore::factory::{self, OpenMode};
use durastore_api::{
    CountWorkflowExecutionsRequest, DataBlob, ErrorKind, GetOrCreateShardRequest, NamespaceId,
    ShardId,
};

fn server(var: &str, backend: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                !durastore::provision::Require::from_env().requires(backend),
                "{var} is not set and DURASTORE_REQUIRE asks for {backend}"
            );
            eprintln!("skipped: {var} is not set");
            None
        }
    }
}

fn cli(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_durastore"))
        .args(args)
        .current_dir(cwd)
        .env_remove("DURASTORE_URL")
        .env_remove("RUST_LOG")
        .output()
        .expect("run durastore")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `host:port` of a server URL (`scheme://[user:pw@]host:port/...`).
fn host_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, h)| h)
        .to_string()
}

/// Temporal's `cassandra:` datastore form (as in its `development-cass*.yaml` and docker
/// templates) opens a keyspace durastore set up, and the stores work through it.
#[tokio::test]
async fn temporal_cassandra_config_opens() {
    let Some(admin) = server("DURASTORE_CASSANDRA_URL", "cassandra") else {
        return;
    };
    let db = durastore::provision::create_test_database(&admin)
        .await
        .expect("test keyspace");
    let hp = host_port(&admin);
    let (host, port) = hp.rsplit_once(':').unwrap_or((&hp, "9042"));
    let yaml = format!(
        r#"
log: {{ stdout: true, level: info }}
persistence:
  defaultStore: cass-default
  numHistoryShards: 4
  datastores:
    cass-default:
      cassandra:
        hosts: "{host}"
        port: {port}
        keyspace: "{keyspace}"
        user: ""
        password: ""
        maxConns: 2
        connectTimeout: 5s
        consistency:
          default:
            consistency: "LOCAL_QUORUM"
            serialConsistency: "LOCAL_SERIAL"
"#,
        keyspace = db.name()
    );
    let result = async {
        let cfg = Config::parse(&yaml)?;
        let stores = factory::open_config(&cfg, OpenMode::MustExist).await?;
        let shard = stores.shard.as_ref().expect("shard store");
        let info = shard
            .get_or_create_shard(GetOrCreateShardRequest {
                shard_id: ShardId(1),
                create_if_missing: Some((1, DataBlob::proto3(vec![1, 2, 3]))),
            })
            .await?;
        assert_eq!(info.range_id, 1);
        stores.backend.close().await
    }
    .await;
    db.drop().await.expect("drop test keyspace");
    result.expect("Temporal cassandra config");
}

/// Temporal's `elasticsearch:` datastore form (its `development-cass-es.yaml`: version, url,
/// indices, logLevel, closeIdleConnectionsInterval) opens an index durastore set up, as the
/// visibility store next to a SQLite default store.
#[tokio::test]
async fn temporal_elasticsearch_config_opens() {
    for (var, backend) in [
        ("DURASTORE_OPENSEARCH_URL", "opensearch"),
        ("DURASTORE_ELASTICSEARCH_URL", "elasticsearch"),
    ] {
        let Some(admin) = server(var, backend) else {
            continue;
        };
        let db = durastore::provision::create_test_database(&admin)
            .await
            .expect("test index");
        let yaml = format!(
            r#"
persistence:
  defaultStore: main
  visibilityStore:
  advancedVisibilityStore: es-visibility
  numHistoryShards: 4
  datastores:
    main:
      url: "sqlite::memory:"
    es-visibility:
      elasticsearch:
        version: "v7"
        logLevel: "error"
        url:
          scheme: "http"
          host: "{host}"
        indices:
          visibility: {index}
        closeIdleConnectionsInterval: 15s
"#,
            host = host_port(&admin),
            index = db.name()
        );
        let result = async {
            let cfg = Config::parse(&yaml)?;
            let stores = factory::open_config(&cfg, OpenMode::CreateIfMissing).await?;
            let vis = stores.visibility.as_ref().expect("visibility store");
            let count = vis
                .count(CountWorkflowExecutionsRequest::new(
                    NamespaceId::new_random(),
                    "",
                ))
                .await?;
            assert_eq!(count.count, 0);
            Ok::<_, durastore_api::StoreError>(())
        }
        .await;
        db.drop().await.expect("drop test index");
        result.unwrap_or_else(|e| panic!("Temporal elasticsearch config on {backend}: {e}"));
    }
}

/// A TLS file that does not exist stops the open before any connection is made: the error
/// names the option, and the closed port the URL points at is never reached (that would read
/// "refused").
#[tokio::test]
async fn a_missing_ca_file_never_connects() {
    for url in [
        "postgres://u:p@127.0.0.1:1/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
        "postgres://u:p@127.0.0.1:1/db?sslmode=prefer&sslrootcert=/nonexistent/ca.pem",
        "mysql://u:p@127.0.0.1:1/db?ssl-mode=verify_identity&ssl-ca=/nonexistent/ca.pem",
        "cassandra://127.0.0.1:1/ks?tls=true&tls_ca=/nonexistent/ca.pem",
        "elasticsearch://127.0.0.1:1/idx?tls=true&tls_ca=/nonexistent/ca.pem",
    ] {
        let e = factory::open(url).await.expect_err(url);
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{url}: {e}");
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{url}: {e}");
    }
}

#[test]
fn cli_unknown_config_key_exits_2_naming_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("temporal.yaml");
    std::fs::write(
        &path,
        "persistence:\n  defaultStore: db\n  datastores:\n    db:\n      sql:\n        pluginName: postgres12\n        databseName: temporal\n        connectAddr: 127.0.0.1:5432\n",
    )
    .unwrap();
    let cfg = path.to_str().unwrap();
    for args in [
        vec!["schema", "version", "--config", cfg],
        vec!["inspect", "shard", "--config", cfg, "--shard", "1"],
        vec!["bench", "--config", cfg],
    ] {
        let o = cli(&args, dir.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("databseName"), "{args:?}: {err}");
        assert!(err.contains("line 7"), "{args:?}: {err}");
    }
    // The reported hole: TLS asked for with a CA file that does not exist.
    std::fs::write(
        &path,
        "persistence:\n  defaultStore: db\n  datastores:\n    db:\n      sql:\n        pluginName: postgres12\n        databaseName: temporal\n        connectAddr: 127.0.0.1:1\n        user: u\n        password: p\n        tls: { enabled: true, caFile: /nonexistent/ca.pem, enableHostVerification: true }\n",
    )
    .unwrap();
    let o = cli(&["schema", "version", "--config", cfg], dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("/nonexistent/ca.pem"), "{}", stderr(&o));
}

#[test]
fn cli_missing_config_or_url_exits_2_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let o = cli(
        &[
            "schema",
            "version",
            "--config",
            "/nonexistent/durastore.yaml",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    for args in [
        vec!["schema", "setup"],
        vec!["schema", "create-database"],
        vec!["inspect", "shard", "--shard", "1"],
    ] {
        let o = cli(&args, dir.path());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("--url"), "{args:?}: {}", stderr(&o));
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "files were created: {left:?}");
}

#[test]
fn cli_json_and_small_flags() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let o = cli(
        &["schema", "create-database", "--url", &url, "--json"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["created"], serde_json::Value::Bool(true));
    let o = cli(&["schema", "setup", "--url", &url], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    // Host names resolve for --metrics-addr.
    let o = cli(
        &[
            "--metrics-addr",
            "localhost:0",
            "schema",
            "version",
            "--url",
            &url,
            "--json",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["dirty"], serde_json::Value::Bool(false), "{v}");
    assert_eq!(v["dirty_version"], serde_json::Value::Null, "{v}");
    // `inspect workflow` takes a namespace name as `inspect visibility` does: a name is looked
    // up (and here not found), not refused as a malformed UUID.
    let o = cli(
        &[
            "inspect",
            "workflow",
            "--url",
            &url,
            "--shard",
            "1",
            "--namespace",
            "billing",
            "--workflow-id",
            "w",
        ],
        dir.path(),
    );
    assert!(
        stderr(&o).contains("no namespace named \"billing\""),
        "{}",
        stderr(&o)
    );
    let o = cli(
        &[
            "schema",
            "drop-database",
            "--url",
            &url,
            "--force",
            "--json",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["dropped"], serde_json::Value::Bool(true));
}

/// A wrong password is its own kind (not `unavailable`, not retryable), and the CLI prints the
/// server's refusal once.
#[tokio::test]
async fn wrong_password_is_unauthenticated() {
    for (var, backend, server_text) in [
        (
            "DURASTORE_POSTGRES_URL",
            "postgres",
            "password authentication failed",
        ),
        ("DURASTORE_MYSQL_URL", "mysql", "Access denied for user"),
    ] {
        let Some(good) = server(var, backend) else {
            continue;
        };
        let mut u = url::Url::parse(&good).unwrap();
        u.set_password(Some("definitely-not-the-password")).unwrap();
        let bad = u.to_string();
        let e = factory::open(&bad).await.expect_err(backend);
        assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{backend}: {e}");
        assert!(!e.is_retryable(), "{backend}: {e}");
        let dir = tempfile::tempdir().unwrap();
        let o = cli(&["schema", "version", "--url", &bad], dir.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{backend}: {err}");
        assert!(err.contains("unauthenticated"), "{backend}: {err}");
        assert_eq!(err.matches(server_text).count(), 1, "{backend}: {err}");
        assert!(!err.contains(" at line "), "{backend}: {err}");
        assert!(
            !err.contains("definitely-not-the-password"),
            "{backend}: {err}"
        );
    }
}

/// A server that is down reads the same everywhere: every command on every backend reports the
/// refused connection at once instead of waiting out a connect timeout.
#[test]
fn refused_connection_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    // Port 1 on the loopback: nothing listens there.
    for url in [
        "postgres://durastore:x@127.0.0.1:1/db",
        "mysql://durastore:x@127.0.0.1:1/db",
        "cassandra://127.0.0.1:1/ks",
        "opensearch://127.0.0.1:1/idx",
    ] {
        for args in [
            vec!["schema", "version", "--url", url],
            vec!["inspect", "shard", "--url", url, "--shard", "1"],
            vec!["bench", "--url", url, "--duration", "1"],
        ] {
            let t = Instant::now();
            let o = cli(&args, dir.path());
            let took = t.elapsed();
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
            assert!(
                err.to_ascii_lowercase().contains("refused"),
                "{args:?}: {err}"
            );
            assert!(
                took < Duration::from_secs(4),
                "{args:?} took {took:?}: {err}"
            );
        }
    }
}
