//! Schema engine on a live PostgreSQL: setup, verify, re-run, drift, refusal on open.
#![allow(clippy::unwrap_used)]

mod common;

use common::{FreshDb, server_url};
use durastore_api::ErrorKind;
use durastore_api::schema::{self, ApplyOptions, ExecOutcome, SET_MAIN, SchemaDriver};
use durastore_postgres::schema::{PostgresSchemaDriver, schema_set};

#[tokio::test]
async fn setup_verify_rerun_and_drift() {
    let Some(admin) = server_url("setup_verify_rerun_and_drift") else {
        return;
    };
    let db = FreshDb::create(&admin, "schema").await;
    let set = schema_set(SET_MAIN).unwrap();
    let sd = PostgresSchemaDriver::connect(&db.url, SET_MAIN)
        .await
        .unwrap();

    // Opening before setup is refused with the command to run.
    let e = durastore_postgres::open(&db.url).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.message().contains("durastore schema setup"), "{e}");

    // A dry run writes nothing.
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
    assert!(!sd.version_tables_exist().await.unwrap());

    let rep = schema::setup(&set, &sd, &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(rep.to.as_ref(), Some(&set.latest_version()));
    assert!(
        rep.applied[0].already_applied.is_empty(),
        "{:?}",
        rep.applied[0].already_applied
    );

    // Verify right after setup is clean.
    let scratch = PostgresSchemaDriver::scratch(&db.url, SET_MAIN)
        .await
        .unwrap();
    let v = schema::verify(&set, &sd, &scratch).await;
    scratch.dispose().await.unwrap();
    let v = v.unwrap();
    assert!(v.is_clean(), "{:?}", v.drift);
    assert!(v.notes.is_empty(), "{:?}", v.notes);

    // Second setup and an update: already up to date.
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
    // Re-running a statement of the set is "already applied", not an error.
    let again = sd
        .execute("CREATE INDEX cm_idx_lasthb ON cluster_membership (last_heartbeat)")
        .await
        .unwrap();
    assert!(matches!(again, ExecOutcome::AlreadyApplied(_)), "{again:?}");

    // The stores open now.
    let stores = durastore_postgres::open(&db.url).await.unwrap();
    assert_eq!(stores.name(), "postgres");
    stores.backend.close().await.unwrap();

    // Drift: a dropped column and a dropped index.
    sd.execute("ALTER TABLE executions DROP COLUMN checksum_encoding")
        .await
        .unwrap();
    sd.execute("DROP INDEX cm_idx_lasthb").await.unwrap();
    let scratch = PostgresSchemaDriver::scratch(&db.url, SET_MAIN)
        .await
        .unwrap();
    let v = schema::verify(&set, &sd, &scratch).await;
    scratch.dispose().await.unwrap();
    let v = v.unwrap();
    assert_eq!(
        v.drift,
        [
            "table cluster_membership: missing index cm_idx_lasthb",
            "table executions: missing column checksum_encoding",
        ]
    );
    // A drop re-run is "already applied".
    let again = sd.execute("DROP INDEX cm_idx_lasthb").await.unwrap();
    assert!(matches!(again, ExecOutcome::AlreadyApplied(_)));

    // A newer database is refused by open.
    sd.execute("UPDATE schema_version SET curr_version = '1.3'")
        .await
        .unwrap();
    let e = durastore_postgres::open(&db.url).await.unwrap_err();
    assert_eq!(
        e.message(),
        format!(
            "database schema 1.3 is newer than this binary's {}; upgrade durastore",
            set.latest_version()
        )
    );
    sd.dispose().await.unwrap();
    db.drop_now().await;
}

#[tokio::test]
async fn concurrent_setups_serialize() {
    let Some(admin) = server_url("concurrent_setups_serialize") else {
        return;
    };
    let db = FreshDb::create(&admin, "schemarace").await;
    let set = schema_set(SET_MAIN).unwrap();
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let url = db.url.clone();
        let set = set.clone();
        tasks.push(tokio::spawn(async move {
            let sd = PostgresSchemaDriver::connect(&url, SET_MAIN).await.unwrap();
            let r = schema::setup(&set, &sd, &ApplyOptions::default()).await;
            sd.dispose().await.unwrap();
            r.map(|r| r.up_to_date())
        }));
    }
    let mut fresh = 0;
    for t in tasks {
        let up_to_date = t.await.unwrap().unwrap();
        if !up_to_date {
            fresh += 1;
        }
    }
    assert_eq!(fresh, 1, "exactly one setup applies the schema");
    let sd = PostgresSchemaDriver::connect(&db.url, SET_MAIN)
        .await
        .unwrap();
    let st = schema::status(&set, &sd).await.unwrap();
    assert_eq!(st.current.as_ref(), Some(&set.latest_version()));
    assert_eq!(sd.read_history().await.unwrap().len(), set.versions.len());
    sd.dispose().await.unwrap();
    db.drop_now().await;
}

#[tokio::test]
async fn ensure_database_creates_once() {
    let Some(admin) = server_url("ensure_database_creates_once") else {
        return;
    };
    let name = format!(
        "durastore_test_ensure_{}",
        &durastore_api::Uuid::new_v4().simple().to_string()[..12]
    );
    let url = durastore_postgres::url_with_database(&admin, &name).unwrap();
    let e = PostgresSchemaDriver::connect(&url, SET_MAIN)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(durastore_postgres::ensure_database(&url).await.unwrap());
    assert!(!durastore_postgres::ensure_database(&url).await.unwrap());
    assert!(
        !durastore_postgres::create_database(&admin, &name)
            .await
            .unwrap()
    );
    // The collation is C: text orders by code point.
    let sd = PostgresSchemaDriver::connect(&url, SET_MAIN).await.unwrap();
    let (collate,): (String,) = sqlx::query_as(
        "SELECT datcollate::text FROM pg_database WHERE datname = current_database()",
    )
    .fetch_one(sd.pool())
    .await
    .unwrap();
    assert_eq!(collate, "C");
    sd.dispose().await.unwrap();
    durastore_postgres::drop_database(&admin, &name)
        .await
        .unwrap();
    durastore_postgres::drop_database(&admin, &name)
        .await
        .unwrap();
}

/// The visibility set alone, then beside main in one database: open serves exactly the stores
/// of the sets present, and each set verifies clean although the other's tables are there.
#[tokio::test]
async fn schema_sets_decide_the_stores() {
    use durastore_api::schema::SET_VISIBILITY;
    let Some(admin) = server_url("schema_sets_decide_the_stores") else {
        return;
    };
    let db = FreshDb::create(&admin, "sets").await;
    let verify = |set: &'static str| {
        let url = db.url.clone();
        async move {
            let sd = PostgresSchemaDriver::connect(&url, set).await.unwrap();
            let scratch = PostgresSchemaDriver::scratch(&url, set).await.unwrap();
            let rep = schema::verify(&schema_set(set).unwrap(), &sd, &scratch).await;
            scratch.dispose().await.unwrap();
            sd.dispose().await.unwrap();
            let rep = rep.unwrap();
            assert!(rep.is_clean(), "{set}: {:?}", rep.drift);
            assert!(rep.notes.is_empty(), "{set}: {:?}", rep.notes);
        }
    };
    let setup = |set: &'static str| {
        let url = db.url.clone();
        async move {
            let sd = PostgresSchemaDriver::connect(&url, set).await.unwrap();
            schema::setup(&schema_set(set).unwrap(), &sd, &ApplyOptions::default())
                .await
                .unwrap();
            sd.dispose().await.unwrap();
        }
    };

    setup(SET_VISIBILITY).await;
    verify(SET_VISIBILITY).await;
    let stores = durastore_postgres::open(&db.url).await.unwrap();
    assert!(stores.visibility.is_some() && stores.shard.is_none());
    assert!(stores.capability().visibility && !stores.capability().shard);
    // The accessor says which set is missing and how to set it up.
    let e = stores
        .shard()
        .err()
        .expect("no shard store without the main set");
    assert_eq!(e.kind(), durastore_api::ErrorKind::Unsupported);
    assert!(
        e.message()
            .contains("`main` schema set is not set up in this postgres database")
            && e.message().contains("durastore schema setup --set main"),
        "{e}"
    );
    assert!(stores.visibility().is_ok());
    stores.backend.close().await.unwrap();

    setup(SET_MAIN).await;
    verify(SET_MAIN).await;
    verify(SET_VISIBILITY).await;
    let stores = durastore_postgres::open(&db.url).await.unwrap();
    assert!(stores.visibility.is_some() && stores.shard.is_some());
    assert_eq!(stores.capability(), durastore_api::Capability::all());
    stores.backend.close().await.unwrap();
    db.drop_now().await;
}
