//! Shared helpers of the MySQL integration tests: provisioning from `DURASTORE_MYSQL_URL` and
//! fresh, uniquely named databases.
#![allow(dead_code)]

use durastore_api::Uuid;
use durastore_api::schema::{self, ApplyOptions, SET_MAIN};
use durastore_mysql::schema::{MysqlSchemaDriver, schema_set};

/// The server URL, or `None` (after printing why) when the tests should be skipped.
///
/// Panics when `DURASTORE_REQUIRE` is `all` or names `mysql` and no URL is set: a required
/// backend must not be skipped silently.
pub fn server_url(test: &str) -> Option<String> {
    match std::env::var("DURASTORE_MYSQL_URL") {
        Ok(u) if !u.trim().is_empty() => Some(u),
        _ => {
            let require = std::env::var("DURASTORE_REQUIRE").unwrap_or_default();
            let required = require
                .split(',')
                .map(str::trim)
                .any(|r| r == "all" || r == "mysql");
            assert!(
                !required,
                "{test}: DURASTORE_REQUIRE={require} but DURASTORE_MYSQL_URL is not set \
                 (run `eval \"$(scripts/services.sh start)\"`)"
            );
            println!("skipped {test}: DURASTORE_MYSQL_URL is not set");
            None
        }
    }
}

/// A fresh database `durastore_test_<tag>_<random>` on the server; returns its URL and name.
pub async fn fresh_database(base_url: &str, tag: &str) -> (String, String) {
    let name = format!(
        "durastore_test_{tag}_{}",
        &Uuid::new_v4().simple().to_string()[..12]
    );
    durastore_mysql::create_database(base_url, &name)
        .await
        .expect("create database");
    let url = durastore_mysql::url_with_database(base_url, &name).expect("url");
    (url, name)
}

/// A fresh database with the main schema set up through the engine.
pub async fn fresh_store_database(base_url: &str, tag: &str) -> (String, String) {
    let (url, name) = fresh_database(base_url, tag).await;
    let set = schema_set(SET_MAIN).expect("schema set");
    let sd = MysqlSchemaDriver::connect(&url, SET_MAIN)
        .await
        .expect("schema driver");
    schema::setup(&set, &sd, &ApplyOptions::default())
        .await
        .expect("schema setup");
    (url, name)
}
