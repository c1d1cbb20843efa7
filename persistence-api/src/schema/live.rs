//! The version tables' rows and the live schema: descriptions of tables, columns and indexes, and
//! the diff `verify` reports.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;

use super::{IN_PROGRESS_MARKER, Version};
use crate::error::{Result, StoreError};

/// The row of `schema_version` for one set (`version_partition` is always 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionRecord {
    /// `db_name`: identifies the schema set within the database.
    pub db_name: String,
    /// When the row was last written.
    pub creation_time: DateTime<Utc>,
    /// The applied version.
    pub curr_version: Version,
    /// The oldest binary schema version compatible with it.
    pub min_compatible_version: Version,
}

impl VersionRecord {
    /// Builds the record from a stored `schema_version` row of set `db_name`, whatever the
    /// database's column types: a missing `curr_version` is an error, a missing
    /// `min_compatible_version` defaults to `curr_version` and a missing `creation_time` to the
    /// Unix epoch.
    pub fn from_stored(
        db_name: &str,
        creation_time: Option<DateTime<Utc>>,
        curr_version: Option<&str>,
        min_compatible_version: Option<&str>,
    ) -> Result<Self> {
        let curr = curr_version.ok_or_else(|| {
            StoreError::internal(format!(
                "schema_version row for {db_name:?} has no curr_version"
            ))
        })?;
        let curr_version = stored_version(curr, "schema_version.curr_version")?;
        let min_compatible_version = match min_compatible_version {
            Some(m) => stored_version(m, "schema_version.min_compatible_version")?,
            None => curr_version.clone(),
        };
        Ok(VersionRecord {
            db_name: db_name.to_string(),
            creation_time: creation_time.unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
            curr_version,
            min_compatible_version,
        })
    }
}

/// Parses version text read from `column` of a version table; text that is not a version is
/// `Internal` (the table was written by something else, or damaged).
pub fn stored_version(text: &str, column: &str) -> Result<Version> {
    Version::parse(text).map_err(|_| {
        StoreError::internal(format!(
            "{column} holds {text:?}, which is not a schema version"
        ))
    })
}

/// A row of `schema_update_history` (`version_partition` is always 0; `year` and `month` come
/// from `update_time`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryRecord {
    /// When the step was recorded (unique per row: it is part of the primary key).
    pub update_time: DateTime<Utc>,
    /// The version before the step.
    pub old_version: Version,
    /// The version the step applies.
    pub new_version: Version,
    /// [`SchemaVersion::checksum`] of the applied files.
    pub manifest_md5: String,
    /// The version's description; prefixed with [`IN_PROGRESS_MARKER`] while it is applied.
    pub description: String,
}

impl HistoryRecord {
    /// Builds the record from a stored `schema_update_history` row, whatever the database's
    /// column types: a missing `old_version` reads as `0.0`, a missing `new_version` is an
    /// error, a missing checksum or description is empty.
    pub fn from_stored(
        update_time: DateTime<Utc>,
        old_version: Option<&str>,
        new_version: Option<&str>,
        manifest_md5: Option<String>,
        description: Option<String>,
    ) -> Result<Self> {
        Ok(HistoryRecord {
            update_time,
            old_version: stored_version(
                old_version.unwrap_or("0.0"),
                "schema_update_history.old_version",
            )?,
            new_version: stored_version(
                new_version.unwrap_or(""),
                "schema_update_history.new_version",
            )?,
            manifest_md5: manifest_md5.unwrap_or_default(),
            description: description.unwrap_or_default(),
        })
    }
    /// `year` column.
    pub fn year(&self) -> i32 {
        self.update_time.year()
    }
    /// `month` column.
    pub fn month(&self) -> u32 {
        self.update_time.month()
    }
    /// True for the row written before a version's statements ran and not yet replaced.
    pub fn is_in_progress(&self) -> bool {
        self.description.starts_with(IN_PROGRESS_MARKER)
    }
}

/// What one statement did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecOutcome {
    /// It ran.
    Applied,
    /// It failed only because its effect is already there ("table … already exists",
    /// "duplicate column"): a re-run after a crash. The text says what was found.
    AlreadyApplied(String),
}

/// A column of a live table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnDescription {
    /// Column name.
    pub name: String,
    /// Declared type, normalized by the driver (upper case, no redundant spaces).
    pub data_type: String,
    /// True unless `NOT NULL`.
    pub nullable: bool,
    /// Default expression as the database reports it.
    pub default: Option<String>,
}

/// An index of a live table (primary keys are described separately).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexDescription {
    /// Unique index or constraint.
    pub unique: bool,
    /// Indexed columns in order.
    pub columns: Vec<String>,
}

/// A live table.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct TableDescription {
    /// Columns in table order.
    pub columns: Vec<ColumnDescription>,
    /// Primary-key columns in key order.
    pub primary_key: Vec<String>,
    /// Indexes by name.
    pub indexes: BTreeMap<String, IndexDescription>,
}

/// A live schema: tables by name (backend-internal tables excluded).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct SchemaDescription {
    /// Tables by name.
    pub tables: BTreeMap<String, TableDescription>,
}

/// Normalizes a declared SQL type for comparison: upper case, single spaces, no spaces around
/// parentheses and commas.
pub fn normalize_type(t: &str) -> String {
    let collapsed = t
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase();
    collapsed
        .replace(" (", "(")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(" ,", ",")
        .replace(", ", ",")
}

/// Differences between the expected and the live schema, one readable line each, e.g.
/// `table executions: missing column checksum`.
pub fn diff(expected: &SchemaDescription, live: &SchemaDescription) -> Vec<String> {
    let mut out = Vec::new();
    for (name, exp) in &expected.tables {
        let Some(got) = live.tables.get(name) else {
            out.push(format!("missing table {name}"));
            continue;
        };
        for col in &exp.columns {
            match got.columns.iter().find(|c| c.name == col.name) {
                None => out.push(format!("table {name}: missing column {}", col.name)),
                Some(g) => {
                    if normalize_type(&g.data_type) != normalize_type(&col.data_type) {
                        out.push(format!(
                            "table {name}: column {} has type {}, expected {}",
                            col.name, g.data_type, col.data_type
                        ));
                    }
                    if g.nullable != col.nullable {
                        out.push(format!(
                            "table {name}: column {} is {}, expected {}",
                            col.name,
                            null_word(g.nullable),
                            null_word(col.nullable)
                        ));
                    }
                    if g.default != col.default {
                        out.push(format!(
                            "table {name}: column {} has default {}, expected {}",
                            col.name,
                            g.default.as_deref().unwrap_or("none"),
                            col.default.as_deref().unwrap_or("none")
                        ));
                    }
                }
            }
        }
        for col in &got.columns {
            if !exp.columns.iter().any(|c| c.name == col.name) {
                out.push(format!("table {name}: unexpected column {}", col.name));
            }
        }
        if exp.primary_key != got.primary_key {
            out.push(format!(
                "table {name}: primary key ({}), expected ({})",
                got.primary_key.join(", "),
                exp.primary_key.join(", ")
            ));
        }
        for (iname, idx) in &exp.indexes {
            match got.indexes.get(iname) {
                None => out.push(format!("table {name}: missing index {iname}")),
                Some(g) => {
                    if g.columns != idx.columns {
                        out.push(format!(
                            "table {name}: index {iname} is on ({}), expected ({})",
                            g.columns.join(", "),
                            idx.columns.join(", ")
                        ));
                    }
                    if g.unique != idx.unique {
                        out.push(format!(
                            "table {name}: index {iname} is {}, expected {}",
                            unique_word(g.unique),
                            unique_word(idx.unique)
                        ));
                    }
                }
            }
        }
        for iname in got.indexes.keys() {
            if !exp.indexes.contains_key(iname) {
                out.push(format!("table {name}: unexpected index {iname}"));
            }
        }
    }
    for name in live.tables.keys() {
        if !expected.tables.contains_key(name) {
            out.push(format!("unexpected table {name}"));
        }
    }
    out
}

pub(super) fn null_word(nullable: bool) -> &'static str {
    if nullable { "nullable" } else { "NOT NULL" }
}

pub(super) fn unique_word(unique: bool) -> &'static str {
    if unique { "unique" } else { "not unique" }
}
