//! Shared helpers of the PostgreSQL integration tests: the server URL and fresh databases.
#![allow(dead_code, clippy::unwrap_used)]

use durastore_api::schema::{self, ApplyOptions, SET_MAIN, SchemaDriver};
use durastore_postgres::schema::{PostgresSchemaDriver, schema_set};

/// `DURASTORE_POSTGRES_URL`, or None (after printing why) when it is unset and PostgreSQL is
/// not required. With `DURASTORE_REQUIRE=all` (or a list naming `postgres`) a missing URL fails.
pub fn server_url(test: &str) -> Option<String> {
    match std::env::var("DURASTORE_POSTGRES_URL") {
        Ok(u) if !u.trim().is_empty() => Some(u),
        _ => {
            let require = std::env::var("DURASTORE_REQUIRE").unwrap_or_default();
            let required = require
                .split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .any(|s| s == "all" || s == "postgres");
            assert!(
                !required,
                "{test}: DURASTORE_POSTGRES_URL is not set but DURASTORE_REQUIRE={require}"
            );
            println!("skipped {test}: DURASTORE_POSTGRES_URL is not set");
            None
        }
    }
}

/// A freshly created database on the server; dropped by [`FreshDb::drop_now`].
pub struct FreshDb {
    /// URL of the database the server URL names (used to create and drop).
    pub admin_url: String,
    /// The new database's name.
    pub name: String,
    /// URL of the new database.
    pub url: String,
}

impl FreshDb {
    /// Creates `durastore_test_<prefix>_<random>`.
    pub async fn create(admin_url: &str, prefix: &str) -> FreshDb {
        let name = format!(
            "durastore_test_{prefix}_{}",
            &durastore_api::Uuid::new_v4().simple().to_string()[..12]
        );
        assert!(
            durastore_postgres::create_database(admin_url, &name)
                .await
                .unwrap()
        );
        let url = durastore_postgres::url_with_database(admin_url, &name).unwrap();
        FreshDb {
            admin_url: admin_url.to_string(),
            name,
            url,
        }
    }

    /// Creates a database and sets up the main schema in it.
    pub async fn with_schema(admin_url: &str, prefix: &str) -> FreshDb {
        let db = Self::create(admin_url, prefix).await;
        let set = schema_set(SET_MAIN).unwrap();
        let sd = PostgresSchemaDriver::connect(&db.url, SET_MAIN)
            .await
            .unwrap();
        schema::setup(&set, &sd, &ApplyOptions::default())
            .await
            .unwrap();
        sd.dispose().await.unwrap();
        db
    }

    /// Drops the database (ending its sessions).
    pub async fn drop_now(self) {
        durastore_postgres::drop_database(&self.admin_url, &self.name)
            .await
            .unwrap();
    }
}

/// Runs `sql` on the admin database (one-off connection).
pub async fn admin_exec(admin_url: &str, sql: &str) -> u64 {
    let cfg = durastore_postgres::PostgresConfig::from_url(admin_url).unwrap();
    let d = durastore_postgres::connect(&cfg).await.unwrap();
    let n = durastore_sql::SqlDriver::execute(&d, sql, &[])
        .await
        .unwrap();
    durastore_sql::SqlDriver::close(&d).await.unwrap();
    n
}
