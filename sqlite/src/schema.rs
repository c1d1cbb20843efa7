//! The embedded, versioned SQLite schema.
//!
//! Temporary bootstrap: applies the embedded v1.0 files to a database that has no tables. The
//! schema engine (setup / update / verify / dry-run with version tables) replaces this.

use durastore_api::Result;
use durastore_sql::SqlDriver;

use crate::SqliteDriver;

/// (version, manifest JSON, [(file name, file text)]) for the main store, oldest first.
pub const MAIN_VERSIONS: &[(&str, &str, &[(&str, &str)])] = &[(
    "1.0",
    include_str!("../schema/main/versioned/v1.0/manifest.json"),
    &[(
        "schema.sql",
        include_str!("../schema/main/versioned/v1.0/schema.sql"),
    )],
)];

/// Splits a schema file into statements (on `;` at line ends; `--` comment lines dropped).
pub fn split_statements(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with("--") {
            continue;
        }
        cur.push_str(line);
        cur.push('\n');
        if t.ends_with(';') {
            out.push(cur.trim().trim_end_matches(';').to_string());
            cur.clear();
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// Creates the schema in an empty database.
pub async fn ensure_current(driver: &SqliteDriver) -> Result<()> {
    let rows = driver
        .query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'shards'",
            &[],
        )
        .await?;
    if rows.is_empty() {
        for (_, _, files) in MAIN_VERSIONS {
            for (_, text) in *files {
                for stmt in split_statements(text) {
                    driver.execute(&stmt, &[]).await?;
                }
            }
        }
    }
    Ok(())
}
