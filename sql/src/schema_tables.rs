//! The statements the schema engine's version tables (`schema_version`,
//! `schema_update_history`) are read and written with, shared by every SQL backend's
//! [`durastore_api::schema::SchemaDriver`].
//!
//! Statements use `?` placeholders like the rest of this crate (a PostgreSQL driver numbers
//! them); the only dialect-dependent one, the `schema_version` upsert, comes from
//! [`Dialect::upsert`]. A backend runs the returned [`Statement`]s with its own bind/decode
//! functions, on its own connection or transaction.

use durastore_api::Result;
use std::collections::BTreeSet;

use durastore_api::StoreError;
use durastore_api::schema::{
    EmbeddedVersion, HistoryRecord, SET_MAIN, SET_NAMES, SET_VISIBILITY, SchemaDescription,
    SchemaSet, VersionRecord,
};

use crate::dialect::Dialect;
use crate::value::{Row, Value};

/// SQL text (with `?` placeholders) and its bind parameters.
pub type Statement = (String, Vec<Value>);

const SELECT_VERSION: &str = "SELECT creation_time, curr_version, min_compatible_version \
     FROM schema_version WHERE version_partition = ? AND db_name = ?";

const SELECT_HISTORY: &str = "SELECT update_time, old_version, new_version, manifest_md5, \
     description FROM schema_update_history WHERE version_partition = ? ORDER BY update_time";

const INSERT_HISTORY: &str = "INSERT INTO schema_update_history (version_partition, year, \
     month, update_time, description, manifest_md5, new_version, old_version) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

const DELETE_HISTORY: &str = "DELETE FROM schema_update_history WHERE version_partition = ? \
     AND year = ? AND month = ? AND update_time = ?";

const VERSION_COLUMNS: &[&str] = &[
    "version_partition",
    "db_name",
    "creation_time",
    "curr_version",
    "min_compatible_version",
];

const VERSION_KEY: &[&str] = &["version_partition", "db_name"];

/// `CREATE TABLE IF NOT EXISTS` of both version tables (Temporal's layout), with the
/// backend's timestamp column type and table options (appended after the closing parenthesis).
pub fn version_table_statements(timestamp_type: &str, table_options: &str) -> Vec<String> {
    vec![
        format!(
            "CREATE TABLE IF NOT EXISTS schema_version (\n  \
             version_partition INT NOT NULL,\n  \
             db_name VARCHAR(255) NOT NULL,\n  \
             creation_time {timestamp_type},\n  \
             curr_version VARCHAR(64),\n  \
             min_compatible_version VARCHAR(64),\n  \
             PRIMARY KEY (version_partition, db_name)\n\
             ){table_options}"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS schema_update_history (\n  \
             version_partition INT NOT NULL,\n  \
             year INT NOT NULL,\n  \
             month INT NOT NULL,\n  \
             update_time {timestamp_type} NOT NULL,\n  \
             description VARCHAR(255),\n  \
             manifest_md5 VARCHAR(64),\n  \
             new_version VARCHAR(64),\n  \
             old_version VARCHAR(64),\n  \
             PRIMARY KEY (version_partition, year, month, update_time)\n\
             ){table_options}"
        ),
    ]
}

/// Reads the `schema_version` row of set `db_name` (at most one row; see [`version_from_row`]).
pub fn select_version(partition: i64, db_name: &str) -> Statement {
    (
        SELECT_VERSION.to_string(),
        vec![Value::Int(partition), Value::Text(db_name.to_string())],
    )
}

/// Reads the `schema_update_history` rows of a partition, oldest first (see
/// [`history_from_row`]).
pub fn select_history(partition: i64) -> Statement {
    (SELECT_HISTORY.to_string(), vec![Value::Int(partition)])
}

/// The record of set `db_name` from a row of [`select_version`].
pub fn version_from_row(db_name: &str, row: &Row) -> Result<VersionRecord> {
    VersionRecord::from_stored(
        db_name,
        row.opt_time(0)?,
        row.opt_string(1)?.as_deref(),
        row.opt_string(2)?.as_deref(),
    )
}

/// The record of a row of [`select_history`].
pub fn history_from_row(row: &Row) -> Result<HistoryRecord> {
    HistoryRecord::from_stored(
        row.time(0)?,
        row.opt_string(1)?.as_deref(),
        row.opt_string(2)?.as_deref(),
        row.opt_string(3)?,
        row.opt_string(4)?,
    )
}

/// Inserts a `schema_update_history` row.
pub fn insert_history(partition: i64, r: &HistoryRecord) -> Statement {
    (
        INSERT_HISTORY.to_string(),
        vec![
            Value::Int(partition),
            Value::Int(i64::from(r.year())),
            Value::Int(i64::from(r.month())),
            Value::Time(r.update_time),
            Value::Text(r.description.clone()),
            Value::Text(r.manifest_md5.clone()),
            Value::Text(r.new_version.to_string()),
            Value::Text(r.old_version.to_string()),
        ],
    )
}

/// The writes of [`durastore_api::schema::SchemaDriver::finish_version`], in order: upsert the
/// `schema_version` row, delete the `remove` history rows, insert `done`. The backend runs them
/// in one transaction.
pub fn finish_version(
    dialect: &dyn Dialect,
    partition: i64,
    version: &VersionRecord,
    remove: &[HistoryRecord],
    done: &HistoryRecord,
) -> Vec<Statement> {
    let mut out = Vec::with_capacity(remove.len() + 2);
    out.push((
        dialect.upsert("schema_version", VERSION_COLUMNS, VERSION_KEY),
        vec![
            Value::Int(partition),
            Value::Text(version.db_name.clone()),
            Value::Time(version.creation_time),
            Value::Text(version.curr_version.to_string()),
            Value::Text(version.min_compatible_version.to_string()),
        ],
    ));
    for r in remove {
        out.push((
            DELETE_HISTORY.to_string(),
            vec![
                Value::Int(partition),
                Value::Int(i64::from(r.year())),
                Value::Int(i64::from(r.month())),
                Value::Time(r.update_time),
            ],
        ));
    }
    out.push(insert_history(partition, done));
    out
}

/// The tables a schema set creates (every `CREATE TABLE [IF NOT EXISTS] name` of its versions),
/// lower-cased.
pub fn tables_created(set: &SchemaSet) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for v in &set.versions {
        for stmt in v.statements() {
            let words: Vec<&str> = stmt.split_whitespace().take(6).collect();
            let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
            let name = match upper
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice()
            {
                ["CREATE", "TABLE", "IF", "NOT", "EXISTS", ..] => words.get(5),
                ["CREATE", "TABLE", ..] => words.get(2),
                _ => None,
            };
            if let Some(n) = name {
                let n = n
                    .split('(')
                    .next()
                    .unwrap_or(n)
                    .trim_matches(|c| c == '"' || c == '`');
                out.insert(n.to_ascii_lowercase());
            }
        }
    }
    out
}

/// Removes from a live-schema description the tables that the *other* schema sets sharing the
/// database create (both sets may live in one database; `verify` of one set must not report
/// the other's tables as unexpected). The version tables, shared by every set, stay.
pub fn without_other_sets(desc: &mut SchemaDescription, others: &[SchemaSet]) {
    let foreign: BTreeSet<String> = others.iter().flat_map(tables_created).collect();
    desc.tables.retain(|name, _| {
        let lower = name.to_ascii_lowercase();
        lower == "schema_version" || lower == "schema_update_history" || !foreign.contains(&lower)
    });
}

/// The schema set `name` (`main` or `visibility`) of a backend whose embedded versions are
/// `main` and `visibility`; another name is `InvalidArgument`.
pub fn embedded_set(
    name: &str,
    main: &[EmbeddedVersion],
    visibility: &[EmbeddedVersion],
) -> Result<SchemaSet> {
    match name {
        SET_MAIN => SchemaSet::from_embedded(SET_MAIN, main),
        SET_VISIBILITY => SchemaSet::from_embedded(SET_VISIBILITY, visibility),
        other => Err(StoreError::invalid_argument(format!(
            "unknown schema set {other:?} (known: {})",
            SET_NAMES.join(", ")
        ))),
    }
}

/// The `version_partition` of schema set `set`: 0 for `main` (as in Temporal), 1 for
/// `visibility`.
pub fn partition(set: &str) -> i64 {
    if set == SET_VISIBILITY { 1 } else { 0 }
}

/// The version record of [`select_version`]'s result, if there is one.
pub fn version_from_rows(db_name: &str, rows: &[Row]) -> Result<Option<VersionRecord>> {
    rows.first()
        .map(|r| version_from_row(db_name, r))
        .transpose()
}

/// The history records of [`select_history`]'s result.
pub fn history_from_rows(rows: &[Row]) -> Result<Vec<HistoryRecord>> {
    rows.iter().map(history_from_row).collect()
}

/// [`without_other_sets`] for set `db_name`: removes the tables of every other set, which
/// `schema_set` (the backend's embedded sets) names.
pub fn only_this_set(
    desc: &mut SchemaDescription,
    db_name: &str,
    schema_set: impl Fn(&str) -> Result<SchemaSet>,
) -> Result<()> {
    let others = SET_NAMES
        .iter()
        .filter(|n| **n != db_name)
        .map(|n| schema_set(n))
        .collect::<Result<Vec<_>>>()?;
    without_other_sets(desc, &others);
    Ok(())
}

/// The data step of main schema 1.1 (see [`durastore_api::schema::Manifest::data_steps`]):
/// rewrites every task-queue row's `range_hash` to Temporal's farmhash `Fingerprint32` of its
/// `task_queue_id` (schema 1.0 wrote FNV-1a).
pub const DATA_STEP_RANGE_HASH: &str = "task_queue_range_hash";

/// The tables keyed by `(range_hash, task_queue_id, …)`.
const RANGE_HASH_TABLES: &[&str] = &["task_queues", "tasks", "task_queues_v2", "tasks_v2"];

/// Refuses a data step the SQL backends do not know.
pub fn check_data_step(name: &str) -> Result<()> {
    if name == DATA_STEP_RANGE_HASH {
        Ok(())
    } else {
        Err(StoreError::new(
            durastore_api::ErrorKind::Unsupported,
            format!("unknown SQL schema data step {name:?} (known: {DATA_STEP_RANGE_HASH})"),
        ))
    }
}

/// The step's reads: per table, the distinct `(range_hash, task_queue_id)` pairs.
pub fn range_hash_selects() -> Vec<(&'static str, Statement)> {
    RANGE_HASH_TABLES
        .iter()
        .map(|t| {
            (
                *t,
                (
                    format!("SELECT DISTINCT range_hash, task_queue_id FROM {t}"),
                    Vec::new(),
                ),
            )
        })
        .collect()
}

/// The step's writes for `table` given the pairs its select returned: one UPDATE per pair whose
/// hash is not Temporal's yet. Pairs already rewritten yield nothing, so the step resumes after
/// a crash and a second run changes nothing.
pub fn range_hash_updates(table: &str, pairs: &[Row]) -> Result<Vec<Statement>> {
    let mut out = Vec::new();
    for row in pairs {
        let (old, id) = (row.i64(0)?, row.bytes(1)?);
        let new = crate::task_queue::range_hash(&id);
        if old != new {
            out.push((
                format!(
                    "UPDATE {table} SET range_hash = ? WHERE range_hash = ? AND task_queue_id = ?"
                ),
                vec![Value::Int(new), Value::Int(old), Value::Bytes(id)],
            ));
        }
    }
    Ok(out)
}

/// What the step reports: how many `(range_hash, task_queue_id)` keys it rewrote.
pub fn range_hash_report(rewritten: usize) -> String {
    format!("rewrote range_hash of {rewritten} task-queue keys to farmhash Fingerprint32")
}

/// Runs the named data step with a backend's own statement runners: `query` reads rows, `exec`
/// runs statements in order (both on the schema driver's connection or transaction).
pub async fn run_data_step<Q, QF, E, EF>(name: &str, query: Q, exec: E) -> Result<String>
where
    Q: Fn(Statement) -> QF,
    QF: std::future::Future<Output = Result<Vec<Row>>>,
    E: Fn(Vec<Statement>) -> EF,
    EF: std::future::Future<Output = Result<()>>,
{
    check_data_step(name)?;
    let mut rewritten = 0;
    for (table, select) in range_hash_selects() {
        let rows = query(select).await?;
        let updates = range_hash_updates(table, &rows)?;
        rewritten += updates.len();
        if !updates.is_empty() {
            exec(updates).await?;
        }
    }
    Ok(range_hash_report(rewritten))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::{TimeZone, Utc};
    use durastore_api::schema::Version;

    use super::*;
    use crate::dialect::SqliteDialect;

    fn record(desc: &str) -> HistoryRecord {
        HistoryRecord {
            update_time: Utc.with_ymd_and_hms(2024, 3, 5, 1, 2, 3).unwrap(),
            old_version: Version::zero(),
            new_version: Version::parse("1.0").unwrap(),
            manifest_md5: "abc".into(),
            description: desc.into(),
        }
    }

    #[test]
    fn tables_of_a_set_are_found_and_filtered() {
        const MANIFEST: &str = r#"{"version": "1.0", "min_compatible_version": "1.0",
            "description": "t", "files": ["a.sql"]}"#;
        let set = SchemaSet::from_embedded(
            "visibility",
            &[(
                "1.0",
                MANIFEST,
                &[(
                    "a.sql",
                    "CREATE TABLE IF NOT EXISTS Vis_A (x INT);\n\
                     create table vis_b(y INT);\n\
                     CREATE INDEX IF NOT EXISTS i ON vis_b (y);",
                )],
            )],
        )
        .unwrap();
        let names: Vec<String> = tables_created(&set).into_iter().collect();
        assert_eq!(names, ["vis_a", "vis_b"]);
        let mut desc = SchemaDescription::default();
        for t in ["vis_a", "executions", "schema_version", "vis_b"] {
            desc.tables.insert(t.to_string(), Default::default());
        }
        without_other_sets(&mut desc, std::slice::from_ref(&set));
        let left: Vec<&String> = desc.tables.keys().collect();
        assert_eq!(left, ["executions", "schema_version"]);
    }

    #[test]
    fn finish_writes_upsert_deletes_then_insert() {
        let v = VersionRecord {
            db_name: "main".into(),
            creation_time: Utc.with_ymd_and_hms(2024, 3, 5, 1, 2, 4).unwrap(),
            curr_version: Version::parse("1.0").unwrap(),
            min_compatible_version: Version::parse("1.0").unwrap(),
        };
        let marker = record("[in progress] base");
        let done = record("base");
        let stmts = finish_version(&SqliteDialect, 1, &v, std::slice::from_ref(&marker), &done);
        assert_eq!(stmts.len(), 3);
        assert_eq!(
            stmts[0].0,
            "INSERT INTO schema_version (version_partition, db_name, creation_time, \
             curr_version, min_compatible_version) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (version_partition, db_name) DO UPDATE SET \
             creation_time = excluded.creation_time, curr_version = excluded.curr_version, \
             min_compatible_version = excluded.min_compatible_version"
        );
        assert_eq!(stmts[0].1[0], Value::Int(1));
        assert_eq!(stmts[1].0, DELETE_HISTORY);
        assert_eq!(
            stmts[1].1,
            [
                Value::Int(1),
                Value::Int(2024),
                Value::Int(3),
                Value::Time(marker.update_time)
            ]
        );
        assert_eq!(stmts[2], insert_history(1, &done));
        assert_eq!(stmts[2].1.len(), 8);
    }

    #[test]
    fn version_tables_ddl() {
        // The exact text the backends used to spell out (MySQL's with its table options).
        assert_eq!(
            version_table_statements("DATETIME(6)", " ENGINE=InnoDB"),
            [
                "CREATE TABLE IF NOT EXISTS schema_version (\n  \
                 version_partition INT NOT NULL,\n  \
                 db_name VARCHAR(255) NOT NULL,\n  \
                 creation_time DATETIME(6),\n  \
                 curr_version VARCHAR(64),\n  \
                 min_compatible_version VARCHAR(64),\n  \
                 PRIMARY KEY (version_partition, db_name)\n\
                 ) ENGINE=InnoDB",
                "CREATE TABLE IF NOT EXISTS schema_update_history (\n  \
                 version_partition INT NOT NULL,\n  \
                 year INT NOT NULL,\n  \
                 month INT NOT NULL,\n  \
                 update_time DATETIME(6) NOT NULL,\n  \
                 description VARCHAR(255),\n  \
                 manifest_md5 VARCHAR(64),\n  \
                 new_version VARCHAR(64),\n  \
                 old_version VARCHAR(64),\n  \
                 PRIMARY KEY (version_partition, year, month, update_time)\n) ENGINE=InnoDB",
            ]
        );
        assert!(version_table_statements("TIMESTAMP", "")[1].ends_with("update_time)\n)"));
    }

    #[test]
    fn rows_map_to_records() {
        let t = Utc.with_ymd_and_hms(2024, 3, 5, 1, 2, 3).unwrap();
        // SQLite returns timestamps as text; other backends as timestamps.
        let row = Row(vec![
            Value::Text(crate::time_to_text(&t)),
            Value::Text("1.1".into()),
            Value::Null,
        ]);
        let v = version_from_row("main", &row).unwrap();
        assert_eq!(v.creation_time, t);
        assert_eq!(v.min_compatible_version, v.curr_version);
        let (sql, params) = insert_history(0, &record("base"));
        assert!(sql.starts_with("INSERT INTO schema_update_history"));
        // The inserted values read back as the same record.
        let row = Row(vec![
            params[3].clone(),
            params[7].clone(),
            params[6].clone(),
            params[5].clone(),
            params[4].clone(),
        ]);
        assert_eq!(history_from_row(&row).unwrap(), record("base"));
    }
}
