//! The schema engine on a real MySQL/MariaDB server: setup on a fresh database (created by the
//! tool), verify clean, re-run, drift, half-applied versions, and what `open` refuses.

// Test helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use durastore_api::ErrorKind;
use durastore_api::schema::{
    self, ApplyOptions, ExecOutcome, HistoryRecord, IN_PROGRESS_MARKER, SET_MAIN, SchemaDriver,
    Version,
};
use durastore_mysql::schema::{MysqlSchemaDriver, schema_set};

async fn database_exists(base: &str, name: &str) -> bool {
    durastore_mysql::database_exists(base, name).await.unwrap()
}

async fn verify_clean(url: &str, sd: &MysqlSchemaDriver) -> Vec<String> {
    let set = schema_set(SET_MAIN).unwrap();
    let scratch = MysqlSchemaDriver::scratch(url, SET_MAIN).await.unwrap();
    let scratch_db = scratch.scratch_database().unwrap().to_string();
    let rep = schema::verify(&set, sd, &scratch).await;
    scratch.dispose().await.unwrap();
    assert!(
        !database_exists(url, &scratch_db).await,
        "dispose left scratch database {scratch_db} behind"
    );
    let rep = rep.unwrap();
    assert!(rep.notes.is_empty(), "{:?}", rep.notes);
    rep.drift
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_verify_rerun_and_drift() {
    let Some(base) = common::server_url("setup_verify_rerun_and_drift") else {
        return;
    };
    let name = format!(
        "durastore_test_schema_{}",
        &durastore_api::Uuid::new_v4().simple().to_string()[..12]
    );
    let url = durastore_mysql::url_with_database(&base, &name).unwrap();
    let set = schema_set(SET_MAIN).unwrap();

    // The database does not exist yet: connect refuses, open refuses, connect_creating makes it.
    let e = MysqlSchemaDriver::connect(&url, SET_MAIN)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let sd = MysqlSchemaDriver::connect_creating(&url, SET_MAIN)
        .await
        .unwrap();
    assert!(database_exists(&base, &name).await);

    // Not set up: open says what to run; update refuses; a dry run writes nothing.
    let e = durastore_mysql::open(&url).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.message().contains("durastore schema setup"), "{e}");
    assert!(!e.message().contains(":durastore@"), "password leaked: {e}");
    let e = schema::update(&set, &sd, &ApplyOptions::default())
        .await
        .unwrap_err();
    assert!(e.message().contains("schema setup"), "{e}");
    let dry = schema::setup(
        &set,
        &sd,
        &ApplyOptions {
            target: None,
            dry_run: true,
        },
    )
    .await
    .unwrap();
    assert!(dry.statements().len() > 30);
    assert!(!sd.version_tables_exist().await.unwrap(), "dry run wrote");

    // Setup, then verify is clean right away.
    let rep = schema::setup(&set, &sd, &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(rep.to.as_ref(), Some(&set.latest_version()));
    assert!(rep.applied[0].already_applied.is_empty(), "{rep:?}");
    let drift = verify_clean(&url, &sd).await;
    assert!(drift.is_empty(), "{drift:?}");
    let st = schema::status(&set, &sd).await.unwrap();
    assert_eq!(
        (st.current.clone(), st.dirty.clone()),
        (Some(set.latest_version()), None)
    );

    // A second setup (and an update) is "already up to date".
    assert!(
        schema::setup(&set, &sd, &ApplyOptions::default())
            .await
            .unwrap()
            .up_to_date()
    );
    assert!(
        schema::update(&set, &sd, &ApplyOptions::default())
            .await
            .unwrap()
            .up_to_date()
    );
    let stores = durastore_mysql::open(&url).await.unwrap();
    assert_eq!(stores.name(), "mysql");
    stores.backend.close().await.unwrap();

    // Re-running statements of an applied version counts as already applied.
    for stmt in set.versions[0].statements().iter().take(3) {
        assert!(sd.execute(stmt).await.is_ok(), "{stmt}");
    }
    let again = sd
        .execute("CREATE TABLE shards (shard_id INT PRIMARY KEY)")
        .await
        .unwrap();
    assert!(matches!(again, ExecOutcome::AlreadyApplied(_)), "{again:?}");

    // Drift: a dropped column and a dropped index are reported.
    sd.execute("ALTER TABLE executions DROP COLUMN checksum_encoding")
        .await
        .unwrap();
    sd.execute("ALTER TABLE cluster_membership DROP INDEX cm_idx_lasthb")
        .await
        .unwrap();
    let again = sd
        .execute("ALTER TABLE cluster_membership DROP INDEX cm_idx_lasthb")
        .await
        .unwrap();
    assert!(matches!(again, ExecOutcome::AlreadyApplied(_)), "{again:?}");
    let drift = verify_clean(&url, &sd).await;
    assert_eq!(
        drift,
        [
            "table cluster_membership: missing index cm_idx_lasthb",
            "table executions: missing column checksum_encoding",
        ]
    );

    drop(sd);
    durastore_mysql::drop_database(&base, &name).await.unwrap();
    assert!(!database_exists(&base, &name).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_halfway_and_newer_schema() {
    let Some(base) = common::server_url("crash_halfway_and_newer_schema") else {
        return;
    };
    let (url, name) = common::fresh_database(&base, "crash").await;
    let set = schema_set(SET_MAIN).unwrap();
    let sd = MysqlSchemaDriver::connect(&url, SET_MAIN).await.unwrap();

    // A tool that died inside 1.0: version tables, the in-progress row, a third of the DDL.
    for s in sd.version_table_statements() {
        sd.execute(&s).await.unwrap();
    }
    let v10 = &set.versions[0];
    sd.insert_history(&HistoryRecord {
        update_time: durastore_api::truncate_to_micros(chrono::Utc::now()),
        old_version: Version::zero(),
        new_version: v10.version.clone(),
        manifest_md5: v10.checksum(),
        description: format!("{IN_PROGRESS_MARKER}{}", v10.description),
    })
    .await
    .unwrap();
    let stmts = v10.statements();
    for s in &stmts[..stmts.len() / 3] {
        sd.execute(s).await.unwrap();
    }
    let st = schema::status(&set, &sd).await.unwrap();
    assert_eq!(
        st.dirty.as_ref().map(ToString::to_string).as_deref(),
        Some("1.0")
    );
    let e = durastore_mysql::open(&url).await.unwrap_err();
    assert!(e.message().contains("half-applied"), "{e}");

    // Setup finishes it; the re-run statements are reported as already applied.
    let rep = schema::setup(&set, &sd, &ApplyOptions::default())
        .await
        .unwrap();
    assert!(rep.applied[0].reapplied);
    assert!(verify_clean(&url, &sd).await.is_empty());
    durastore_mysql::open(&url)
        .await
        .unwrap()
        .backend
        .close()
        .await
        .unwrap();

    // A newer database is refused by open.
    sd.execute("UPDATE schema_version SET curr_version = '9.9'")
        .await
        .unwrap();
    let e = durastore_mysql::open(&url).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    assert!(e.message().contains("newer"), "{e}");

    drop(sd);
    durastore_mysql::drop_database(&base, &name).await.unwrap();
}

/// The visibility set alone, then beside main in one database: open serves exactly the stores
/// of the sets present, and each set verifies clean although the other's tables are there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_sets_decide_the_stores() {
    use durastore_api::schema::SET_VISIBILITY;
    let Some(base) = common::server_url("schema_sets_decide_the_stores") else {
        return;
    };
    let (url, name) = common::fresh_database(&base, "sets").await;
    let verify = |set: &'static str| {
        let url = url.clone();
        async move {
            let sd = MysqlSchemaDriver::connect(&url, set).await.unwrap();
            let scratch = MysqlSchemaDriver::scratch(&url, set).await.unwrap();
            let rep = schema::verify(&schema_set(set).unwrap(), &sd, &scratch).await;
            scratch.dispose().await.unwrap();
            let rep = rep.unwrap();
            assert!(rep.is_clean(), "{set}: {:?}", rep.drift);
            assert!(rep.notes.is_empty(), "{set}: {:?}", rep.notes);
        }
    };
    let setup = |set: &'static str| {
        let url = url.clone();
        async move {
            let sd = MysqlSchemaDriver::connect(&url, set).await.unwrap();
            schema::setup(&schema_set(set).unwrap(), &sd, &ApplyOptions::default())
                .await
                .unwrap();
        }
    };

    setup(SET_VISIBILITY).await;
    verify(SET_VISIBILITY).await;
    let stores = durastore_mysql::open(&url).await.unwrap();
    assert!(stores.visibility.is_some() && stores.shard.is_none());
    assert!(stores.capability().visibility && !stores.capability().shard);
    stores.backend.close().await.unwrap();

    setup(SET_MAIN).await;
    verify(SET_MAIN).await;
    verify(SET_VISIBILITY).await;
    let stores = durastore_mysql::open(&url).await.unwrap();
    assert!(stores.visibility.is_some() && stores.shard.is_some());
    assert_eq!(stores.capability(), durastore_api::Capability::all());
    stores.backend.close().await.unwrap();
    durastore_mysql::drop_database(&base, &name).await.unwrap();
}
