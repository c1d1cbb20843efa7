use chrono::TimeZone;
use scylla::value::CqlValue;

use super::*;

#[test]
fn embedded_set_loads() {
    let set = schema_set(SET_MAIN).unwrap();
    assert_eq!(set.latest_version().to_string(), "1.1");
    assert_eq!(
        schema_set(SET_VISIBILITY).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert!(schema_set("nope").is_err());
    // Every statement is re-runnable.
    for s in set.versions.iter().flat_map(|v| v.statements()) {
        let u = s.to_ascii_uppercase();
        if u.starts_with("CREATE") {
            assert!(u.contains("IF NOT EXISTS"), "unguarded: {s}");
        }
    }
}

#[test]
fn keyspace_statements() {
    let cfg = CassandraConfig::from_url("cassandra://h/Temporal_1").unwrap();
    assert_eq!(
        create_keyspace_statement(&cfg).unwrap(),
        "CREATE KEYSPACE IF NOT EXISTS \"Temporal_1\" WITH replication = \
         {'class': 'SimpleStrategy', 'replication_factor': 1} AND durable_writes = true"
    );
    let cfg =
        CassandraConfig::from_url("cassandra://h/t?datacenter=dc-1&replication_factor=3").unwrap();
    assert_eq!(
        create_keyspace_statement(&cfg).unwrap(),
        "CREATE KEYSPACE IF NOT EXISTS \"t\" WITH replication = \
         {'class': 'NetworkTopologyStrategy', 'dc-1': 3} AND durable_writes = true"
    );
    let cfg = CassandraConfig::from_url("cassandra://h/t?datacenter=x%27%7D").unwrap();
    assert_eq!(
        create_keyspace_statement(&cfg).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert!(SCRATCH_PREFIX.len() + 16 <= 48);
}

#[test]
fn history_keys_keep_microseconds() {
    let t = Utc.timestamp_micros(1_700_000_000_123_456).unwrap();
    assert_eq!(sub_millis_micros(&t), 456);
    let before = Utc.timestamp_micros(-1_500).unwrap();
    assert_eq!(sub_millis_micros(&before), 500);
    let r = HistoryRecord {
        update_time: t,
        old_version: schema::Version::zero(),
        new_version: schema::Version::parse("1.0").unwrap(),
        manifest_md5: "x".into(),
        description: "d".into(),
    };
    let key = history_key(&r);
    assert_eq!(key.len(), 4);
    assert_eq!(key[3], Some(CqlValue::Int(456)));
    assert_eq!(insert_history_stmt(&r).vals.len(), 8);
}

#[test]
fn drops_are_recognized() {
    assert!(statement_drops("ALTER TABLE t DROP c"));
    assert!(statement_drops("DROP INDEX i"));
    assert!(!statement_drops(
        "CREATE TABLE IF NOT EXISTS t (c int PRIMARY KEY)"
    ));
}

/// Against the server of `DURASTORE_CASSANDRA_URL` (skipped without it): setup in a fresh
/// keyspace, re-run, the check on open, verify clean, then drift (a dropped column, a
/// dropped table, an extra table) and the refusals of a dirty, newer and missing schema.
#[tokio::test]
async fn live_setup_verify_drift_and_refusals() {
    let Some(base) = std::env::var("DURASTORE_CASSANDRA_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        eprintln!("skipped: no DURASTORE_CASSANDRA_URL");
        return;
    };
    let ks = format!(
        "durastore_schema_test_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let base = base
        .split('?')
        .next()
        .unwrap_or(&base)
        .trim_end_matches('/');
    let url = format!("{base}/{ks}");
    let set = schema_set(SET_MAIN).unwrap();
    let d = CassandraSchemaDriver::connect_creating(&url, SET_MAIN)
        .await
        .unwrap();
    live_setup_and_rerun(&url, &set, &d).await;
    live_verify_clean_then_drift(&url, &set, &d).await;
    live_refusals(&url, &ks, &set, &d).await;
    let cfg = CassandraConfig::from_url(&url).unwrap();
    drop_keyspace(&cfg).await.unwrap();
    assert!(!keyspace_exists(&cfg).await.unwrap());
}

/// Open refuses before setup; setup, a re-run and re-applied statements leave one version.
async fn live_setup_and_rerun(url: &str, set: &SchemaSet, d: &CassandraSchemaDriver) {
    let opts = schema::ApplyOptions::default();
    // Not set up yet: open refuses with the setup command.
    let e = crate::open(url).await.err().unwrap();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.message().contains("schema setup"), "{e}");

    let r = schema::setup(set, d, &opts).await.unwrap();
    assert_eq!(
        r.to.as_ref().map(ToString::to_string),
        Some(set.latest_version().to_string())
    );
    assert!(schema::setup(set, d, &opts).await.unwrap().up_to_date());
    // Re-applying every statement (a crashed run) reports, never fails.
    for stmt in set.versions[0].statements() {
        d.execute(&stmt).await.unwrap();
    }
    let st = schema::status(set, d).await.unwrap();
    assert_eq!(
        (st.current.clone(), st.dirty.clone()),
        (Some(set.latest_version()), None)
    );
    // One history row per version applied.
    assert_eq!(d.read_history().await.unwrap().len(), set.versions.len());
    crate::open(url).await.unwrap();
}

/// Verify is clean after setup and names a dropped column, a dropped table and an extra table.
async fn live_verify_clean_then_drift(url: &str, set: &SchemaSet, d: &CassandraSchemaDriver) {
    let scratch = CassandraSchemaDriver::scratch(url, SET_MAIN).await.unwrap();
    let rep = schema::verify(set, d, &scratch).await;
    scratch.dispose().await.unwrap();
    assert!(rep.unwrap().is_clean());

    for ddl in [
        "ALTER TABLE namespaces DROP is_global_namespace",
        "DROP TABLE namespaces_by_id",
        "CREATE TABLE extra_table (k int PRIMARY KEY)",
    ] {
        d.execute(ddl).await.unwrap();
    }
    let scratch = CassandraSchemaDriver::scratch(url, SET_MAIN).await.unwrap();
    let rep = schema::verify(set, d, &scratch).await;
    scratch.dispose().await.unwrap();
    let drift = rep.unwrap().drift;
    for want in [
        "missing table namespaces_by_id",
        "table namespaces: missing column is_global_namespace",
        "unexpected table extra_table",
    ] {
        assert!(drift.iter().any(|l| l == want), "{want} not in {drift:?}");
    }
}

/// A half-applied version, a newer schema and no schema are refused on open.
async fn live_refusals(url: &str, ks: &str, set: &SchemaSet, d: &CassandraSchemaDriver) {
    // A half-applied version, a newer schema, no schema: refused on open.
    let marker = HistoryRecord {
        update_time: Utc::now(),
        old_version: set.latest_version(),
        new_version: schema::Version::parse("1.2").unwrap(),
        manifest_md5: String::new(),
        description: format!("{}next", schema::IN_PROGRESS_MARKER),
    };
    d.insert_history(&marker).await.unwrap();
    let e = crate::open(url).await.err().unwrap();
    assert_eq!(e.kind(), ErrorKind::ConditionFailed, "{e}");
    assert!(e.message().contains("schema update"), "{e}");
    let newer = VersionRecord {
        db_name: ks.to_string(),
        creation_time: Utc::now(),
        curr_version: schema::Version::parse("9.9").unwrap(),
        min_compatible_version: schema::Version::parse("9.9").unwrap(),
    };
    let done = HistoryRecord {
        update_time: Utc::now(),
        description: "newer".into(),
        ..marker.clone()
    };
    d.finish_version(&newer, std::slice::from_ref(&marker), &done)
        .await
        .unwrap();
    let e = crate::open(url).await.err().unwrap();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    d.execute("DROP TABLE schema_version").await.unwrap();
    let e = crate::open(url).await.err().unwrap();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}
