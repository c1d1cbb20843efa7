//! Visibility on a live PostgreSQL beyond the conformance cases: concurrent registrations of
//! custom search attributes in one namespace each get a column of their own.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{FreshDb, server_url};
use durastore_api::query::SearchAttributeType;
use durastore_api::schema::{self, ApplyOptions, SET_VISIBILITY, SchemaDriver};
use durastore_api::{ErrorKind, NamespaceId};
use durastore_postgres::schema::{PostgresSchemaDriver, schema_set};
use durastore_sql::{SqlDriver, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_get_distinct_columns() {
    let Some(admin) = server_url("concurrent_registrations_get_distinct_columns") else {
        return;
    };
    let db = FreshDb::create(&admin, "vis").await;
    let sd = PostgresSchemaDriver::connect(&db.url, SET_VISIBILITY)
        .await
        .unwrap();
    schema::setup(
        &schema_set(SET_VISIBILITY).unwrap(),
        &sd,
        &ApplyOptions::default(),
    )
    .await
    .unwrap();
    sd.dispose().await.unwrap();
    let stores = durastore_postgres::open(&db.url).await.unwrap();
    let vis = stores.visibility.clone().unwrap();
    let ns = NamespaceId::new_random();
    // Ten Keyword slots, ten racing registrations (plus a repeat of each).
    let mut tasks = Vec::new();
    for i in 0..20 {
        let vis = vis.clone();
        tasks.push(tokio::spawn(async move {
            let attrs = BTreeMap::from([(format!("Kw{}", i % 10), SearchAttributeType::Keyword)]);
            vis.add_search_attributes(ns, attrs).await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    // All ten are registered on distinct columns: an eleventh does not fit.
    let e = vis
        .add_search_attributes(
            ns,
            BTreeMap::from([("Kw10".to_string(), SearchAttributeType::Keyword)]),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let driver = durastore_postgres::connect(
        &durastore_postgres::PostgresConfig::from_url(&db.url).unwrap(),
    )
    .await
    .unwrap();
    let rows = driver
        .query(
            "SELECT field_name FROM visibility_search_attributes WHERE namespace_id = ?",
            &[Value::Text(ns.to_string())],
        )
        .await
        .unwrap();
    driver.close().await.unwrap();
    let fields: BTreeSet<String> = rows.iter().map(|r| r.string(0).unwrap()).collect();
    assert_eq!(fields.len(), 10, "{fields:?}");
    stores.backend.close().await.unwrap();
    db.drop_now().await;
}
