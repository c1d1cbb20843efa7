//! The versioned schema engine shared by every backend (no database dependency).
//!
//! A backend ships one [`SchemaSet`] per store (`main`, `visibility`): versioned directories, each
//! with a manifest (`{"version", "min_compatible_version", "description", "files"}`) and its
//! statement files, embedded in the binary. The backend implements [`SchemaDriver`] (run one
//! statement, read and write the version tables, describe the live schema); the engine does the
//! rest, the same way for every backend:
//!
//! - [`setup`] creates the version tables `schema_version` and `schema_update_history` (the shape
//!   Temporal uses) and applies every version up to the target;
//! - [`update`] applies the versions in `(current, target]` in order;
//! - [`status`] reports the current and latest versions and a half-applied ("dirty") one;
//! - [`verify`] compares the live schema with the expected one (built by applying the embedded
//!   files to a scratch database) and checks the recorded checksums of applied versions;
//! - every operation has a dry run that returns the statements it would execute.
//!
//! # Crash safety
//! Each version is applied as: write an *in-progress* history row, run the statements, then (in
//! one [`SchemaDriver::finish_version`] call) set `curr_version`, drop the in-progress row and
//! write the final history row with the checksum of the version's files. A crash halfway leaves
//! the in-progress row behind: the version is reported as dirty and the next `setup`/`update`
//! re-applies it. That is safe because statement files are written to be re-runnable
//! (`IF NOT EXISTS`), and a driver reports "already exists" failures as
//! [`ExecOutcome::AlreadyApplied`] rather than errors. Backends with transactional DDL also wrap
//! the whole operation in [`SchemaDriver::begin`]/[`SchemaDriver::end`], which additionally
//! serializes concurrent schema tools.
//!
//! A database whose `curr_version` is newer than the newest embedded version is refused: an old
//! binary must not write to (or "repair") a schema it does not know.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Datelike, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use tracing::Instrument;

use crate::error::{ErrorKind, Result, StoreError};

/// Name of the main (execution, history, task queue, …) schema set.
pub const SET_MAIN: &str = "main";
/// Name of the visibility schema set.
pub const SET_VISIBILITY: &str = "visibility";
/// The schema set names a backend may ship.
pub const SET_NAMES: &[&str] = &[SET_MAIN, SET_VISIBILITY];

/// Prefix of the description of a history row written before a version's statements run and
/// removed once they all succeeded; a row still carrying it marks a half-applied version.
pub const IN_PROGRESS_MARKER: &str = "[in progress] ";

/// Leading keywords a schema statement may have. Anything else (a `SELECT`, transaction
/// control) in a schema file is a packaging mistake and is rejected when the set is loaded.
/// `PUT` and `POST` are the Elasticsearch schema's requests (`PUT /{index} {body}`).
const ALLOWED_STATEMENTS: &[&str] = &[
    "CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE", "DO", "PUT", "POST",
];

// ---------------------------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------------------------

/// A schema version such as `1.0` or `1.10`, ordered numerically part by part (`1.10 > 1.9`).
///
/// Missing parts count as zero (`1` = `1.0` = `1.0.0`); the canonical text has at least two parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version {
    // Invariant: at least two parts and no trailing zero beyond the second, so that derived
    // equality, hashing and (lexicographic) ordering are the numeric ones.
    parts: Vec<u32>,
}

impl Version {
    /// Parses `1.10`, `v1.10`, `1` or `1.2.3`.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || {
            StoreError::invalid_argument(format!(
                "{text:?} is not a schema version (expected e.g. 1.10)"
            ))
        };
        let t = text.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        if t.is_empty() {
            return Err(bad());
        }
        let mut parts = Vec::new();
        for p in t.split('.') {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            parts.push(p.parse::<u32>().map_err(|_| bad())?);
        }
        Ok(Self::from_parts(parts))
    }

    /// Builds a version from its numeric parts.
    pub fn from_parts(mut parts: Vec<u32>) -> Self {
        while parts.len() > 2 && parts.last() == Some(&0) {
            parts.pop();
        }
        while parts.len() < 2 {
            parts.push(0);
        }
        Version { parts }
    }

    /// `0.0`: the version of a database that has the version tables and nothing else.
    pub fn zero() -> Self {
        Self::from_parts(Vec::new())
    }

    /// The numeric parts.
    pub fn parts(&self) -> &[u32] {
        &self.parts
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for p in &self.parts {
            if !first {
                f.write_str(".")?;
            }
            first = false;
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Version {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Version::parse(&s).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------------------
// Manifests and sets
// ---------------------------------------------------------------------------------------------

/// A version directory's `manifest.json`. Temporal's field names (`CurrVersion`,
/// `MinCompatibleVersion`, `Description`, `SchemaUpdateCqlFiles`) are accepted too.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Manifest {
    /// The version this directory brings the schema to.
    #[serde(alias = "CurrVersion")]
    pub version: String,
    /// The oldest version a binary may run against once this one is applied.
    #[serde(alias = "MinCompatibleVersion")]
    pub min_compatible_version: String,
    /// What the version changes.
    #[serde(alias = "Description", default)]
    pub description: String,
    /// Statement files, applied in this order.
    #[serde(alias = "SchemaUpdateCqlFiles")]
    pub files: Vec<String>,
}

impl Manifest {
    /// Parses a manifest.
    pub fn parse(json: &str) -> Result<Self> {
        serde_json::from_str(json)
            .map_err(|e| StoreError::invalid_argument(format!("bad schema manifest: {e}")))
    }
}

/// One version of a schema set: its manifest fields and statement files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaVersion {
    /// The version.
    pub version: Version,
    /// The oldest binary schema version still compatible after this one.
    pub min_compatible_version: Version,
    /// What it changes.
    pub description: String,
    /// `(file name, file text)` in manifest order.
    pub files: Vec<(String, String)>,
}

impl SchemaVersion {
    /// The statements of all files, in order (see [`split_statements`]).
    pub fn statements(&self) -> Vec<String> {
        self.files
            .iter()
            .flat_map(|(_, text)| split_statements(text))
            .collect()
    }

    /// Hex MD5 over every file's name and text (each followed by a NUL byte), in manifest order.
    /// Stored as `schema_update_history.manifest_md5`, so `verify` can tell when the files of an
    /// applied version changed after the fact. The description is not included: rewording it
    /// does not change the schema.
    pub fn checksum(&self) -> String {
        let mut buf = Vec::new();
        for (name, text) in &self.files {
            buf.extend_from_slice(name.as_bytes());
            buf.push(0);
            buf.extend_from_slice(text.as_bytes());
            buf.push(0);
        }
        md5_hex(&buf)
    }
}

/// The embedded form of one version: `(directory version, manifest JSON, [(file name, text)])`.
pub type EmbeddedVersion = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// All versions of one store's schema (`main` or `visibility`) for one backend, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaSet {
    /// `main` or `visibility`.
    pub name: String,
    /// Versions in ascending order, at least one.
    pub versions: Vec<SchemaVersion>,
}

impl SchemaSet {
    /// Validates and builds a set: a known name, at least one version, no duplicates,
    /// `min_compatible_version <= version`, only allowed statement kinds. Versions are sorted.
    pub fn new(name: &str, mut versions: Vec<SchemaVersion>) -> Result<Self> {
        if !SET_NAMES.contains(&name) {
            return Err(StoreError::invalid_argument(format!(
                "unknown schema set {name:?} (known: {})",
                SET_NAMES.join(", ")
            )));
        }
        if versions.is_empty() {
            return Err(StoreError::invalid_argument(format!(
                "schema set {name} has no versions"
            )));
        }
        versions.sort_by(|a, b| a.version.cmp(&b.version));
        for pair in versions.windows(2) {
            if pair[0].version == pair[1].version {
                return Err(StoreError::invalid_argument(format!(
                    "schema set {name}: version {} appears twice",
                    pair[0].version
                )));
            }
        }
        for v in &versions {
            if v.min_compatible_version > v.version {
                return Err(StoreError::invalid_argument(format!(
                    "schema set {name}: version {} has min_compatible_version {} above itself",
                    v.version, v.min_compatible_version
                )));
            }
            for stmt in v.statements() {
                let first = stmt
                    .split(|c: char| !c.is_ascii_alphabetic())
                    .next()
                    .unwrap_or("")
                    .to_ascii_uppercase();
                if !ALLOWED_STATEMENTS.contains(&first.as_str()) {
                    return Err(StoreError::invalid_argument(format!(
                        "schema set {name}: version {}: statement kind {first:?} is not allowed \
                         in schema files (allowed: {}): {}",
                        v.version,
                        ALLOWED_STATEMENTS.join(", "),
                        abbreviate(&stmt)
                    )));
                }
            }
        }
        Ok(SchemaSet {
            name: name.to_string(),
            versions,
        })
    }

    /// Builds a set from embedded directories. Each manifest's version must match its
    /// directory (`v1.0` or `1.0`), and the embedded files must be exactly the manifest's.
    pub fn from_embedded(name: &str, embedded: &[EmbeddedVersion]) -> Result<Self> {
        let mut versions = Vec::new();
        for (dir, manifest_json, files) in embedded {
            let m = Manifest::parse(manifest_json).map_err(|e| {
                StoreError::invalid_argument(format!(
                    "schema set {name}, version {dir}: {}",
                    e.message()
                ))
            })?;
            let dir_version = Version::parse(dir)?;
            let version = Version::parse(&m.version)?;
            if dir_version != version {
                return Err(StoreError::invalid_argument(format!(
                    "schema set {name}: directory {dir} holds a manifest for version {version}"
                )));
            }
            let mut ordered = Vec::new();
            for f in &m.files {
                let (_, text) = files.iter().find(|(n, _)| n == f).ok_or_else(|| {
                    StoreError::invalid_argument(format!(
                        "schema set {name}, version {version}: manifest file {f} is not embedded"
                    ))
                })?;
                ordered.push((f.clone(), (*text).to_string()));
            }
            if let Some((extra, _)) = files.iter().find(|(n, _)| !m.files.iter().any(|f| f == n)) {
                return Err(StoreError::invalid_argument(format!(
                    "schema set {name}, version {version}: file {extra} is not in the manifest"
                )));
            }
            versions.push(SchemaVersion {
                version,
                min_compatible_version: Version::parse(&m.min_compatible_version)?,
                description: m.description,
                files: ordered,
            });
        }
        Self::new(name, versions)
    }

    /// The newest version (None only for a set built by hand without versions).
    pub fn latest(&self) -> Option<&SchemaVersion> {
        self.versions.last()
    }

    /// The newest version number (`0.0` for an empty set).
    pub fn latest_version(&self) -> Version {
        self.latest()
            .map_or_else(Version::zero, |v| v.version.clone())
    }

    /// The version with this number, if embedded.
    pub fn get(&self, version: &Version) -> Option<&SchemaVersion> {
        self.versions.iter().find(|v| &v.version == version)
    }
}

/// The versions to apply, in order, to bring a database from `current` (None: not set up) to
/// `target` (None: the latest). A `dirty` version (half-applied by a crashed run) is always
/// re-applied. Errors: the database is newer than the set, the target is not embedded, the
/// target is below the current version (downgrades are not supported), or below the dirty one.
pub fn plan<'a>(
    set: &'a SchemaSet,
    current: Option<&Version>,
    dirty: Option<&Version>,
    target: Option<&Version>,
) -> Result<Vec<&'a SchemaVersion>> {
    let latest = &set.latest_version();
    if let Some(cur) = current
        && cur > latest
    {
        return Err(newer_than_binary(&set.name, cur, latest));
    }
    let target = match target {
        Some(t) => {
            if set.get(t).is_none() {
                return Err(StoreError::invalid_argument(format!(
                    "target version {t} is not one of this binary's {} schema versions ({})",
                    set.name,
                    set.versions
                        .iter()
                        .map(|v| v.version.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            t
        }
        None => latest,
    };
    if let Some(cur) = current
        && target < cur
    {
        return Err(StoreError::invalid_argument(format!(
            "target version {target} is below the database's {} schema version {cur}; \
             downgrades are not supported",
            set.name
        )));
    }
    if let Some(d) = dirty
        && d > target
    {
        return Err(StoreError::invalid_argument(format!(
            "version {d} of the {} schema was left half-applied; update to {d} or later",
            set.name
        )));
    }
    Ok(set
        .versions
        .iter()
        .filter(|v| {
            let after_current = current.is_none_or(|c| &v.version > c);
            let is_dirty = dirty == Some(&v.version);
            (after_current || is_dirty) && &v.version <= target
        })
        .collect())
}

/// The error for a database whose schema is newer than the binary's.
pub fn newer_than_binary(set: &str, db: &Version, binary: &Version) -> StoreError {
    StoreError::new(
        ErrorKind::Unsupported,
        format!("database schema {db} is newer than this binary's {binary}; upgrade durastore"),
    )
    .with_context("schema_set", set)
}

// ---------------------------------------------------------------------------------------------
// Statement splitting
// ---------------------------------------------------------------------------------------------

/// Splits a schema file into statements.
///
/// Statements end at `;`. `--` line comments and `/* */` block comments are removed. A `;` inside
/// a single-quoted string, a double-quoted or backquoted identifier, a PostgreSQL dollar-quoted
/// body (`$$ … $$`, `$tag$ … $tag$`) or a `CREATE TRIGGER … BEGIN … END` body does not end the
/// statement. Quotes are escaped by doubling them (`'it''s'`); backslash is an ordinary character.
/// Returned statements are trimmed, without the final `;`; empty ones are dropped.
pub fn split_statements(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut i = 0;
    while i < n {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '-' if next == Some('-') => {
                while i < n && chars[i] != '\n' {
                    i += 1;
                }
                cur.push('\n');
                continue;
            }
            '/' if next == Some('*') => {
                i += 2;
                while i < n && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    i += 1;
                }
                i = (i + 2).min(n);
                cur.push(' ');
                continue;
            }
            '\'' | '"' | '`' => {
                cur.push(c);
                i += 1;
                while i < n {
                    cur.push(chars[i]);
                    if chars[i] == c {
                        if chars.get(i + 1) == Some(&c) {
                            cur.push(c);
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
                continue;
            }
            '$' => {
                if let Some(tag_end) = dollar_tag(&chars, i) {
                    let tag: String = chars[i..=tag_end].iter().collect();
                    let tag_chars: Vec<char> = tag.chars().collect();
                    cur.push_str(&tag);
                    i = tag_end + 1;
                    while i < n && !chars[i..].starts_with(&tag_chars) {
                        cur.push(chars[i]);
                        i += 1;
                    }
                    if i < n {
                        cur.push_str(&tag);
                        i += tag_chars.len();
                    }
                    continue;
                }
                cur.push(c);
            }
            ';' => {
                if is_unfinished_trigger(&cur) {
                    cur.push(';');
                } else {
                    push_statement(&mut out, &cur);
                    cur.clear();
                }
            }
            _ => cur.push(c),
        }
        i += 1;
    }
    push_statement(&mut out, &cur);
    out
}

fn push_statement(out: &mut Vec<String>, s: &str) {
    let t = s.trim();
    if !t.is_empty() {
        out.push(t.to_string());
    }
}

/// If a dollar-quote tag (`$$` or `$ident$`) starts at `i`, the index of its closing `$`.
fn dollar_tag(chars: &[char], i: usize) -> Option<usize> {
    // `$1` placeholders and identifiers containing `$` are not tags.
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return None;
    }
    let mut j = i + 1;
    while j < chars.len() {
        let c = chars[j];
        if c == '$' {
            return Some(j);
        }
        let ok = c == '_' || c.is_alphabetic() || (j > i + 1 && c.is_ascii_digit());
        if !ok {
            return None;
        }
        j += 1;
    }
    None
}

/// True inside the body of `CREATE [TEMP] TRIGGER … BEGIN … END`, whose inner statements end in
/// `;` too: the trigger statement ends only at a `;` right after `END`.
fn is_unfinished_trigger(cur: &str) -> bool {
    let words: Vec<String> = cur
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .take(3)
        .map(|w| w.to_ascii_uppercase())
        .collect();
    let is_trigger = words.first().map(String::as_str) == Some("CREATE")
        && (words.get(1).map(String::as_str) == Some("TRIGGER")
            || (matches!(words.get(1).map(String::as_str), Some("TEMP" | "TEMPORARY"))
                && words.get(2).map(String::as_str) == Some("TRIGGER")));
    if !is_trigger {
        return false;
    }
    let upper = cur.to_ascii_uppercase();
    let has_begin = upper
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| w == "BEGIN");
    let ends_with_end = upper
        .trim_end()
        .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()
        == Some("END");
    has_begin && !ends_with_end
}

fn abbreviate(s: &str) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 80 {
        format!("{}…", one_line.chars().take(80).collect::<String>())
    } else {
        one_line
    }
}

// ---------------------------------------------------------------------------------------------
// Version tables and the live schema
// ---------------------------------------------------------------------------------------------

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

fn null_word(nullable: bool) -> &'static str {
    if nullable { "nullable" } else { "NOT NULL" }
}

fn unique_word(unique: bool) -> &'static str {
    if unique { "unique" } else { "not unique" }
}

// ---------------------------------------------------------------------------------------------
// The driver seam
// ---------------------------------------------------------------------------------------------

/// What a backend provides so the engine can manage its schema.
///
/// One driver value addresses one schema set of one database ([`SchemaDriver::db_name`] tells
/// the sets apart in `schema_version`, so a `visibility` set is never mistaken for `main`).
#[async_trait]
pub trait SchemaDriver: Send + Sync {
    /// Backend name (`sqlite`, `postgres`, …), for messages.
    fn backend(&self) -> &str;
    /// The `db_name` of this set's `schema_version` row.
    fn db_name(&self) -> &str;
    /// DDL creating `schema_version` and `schema_update_history` (re-runnable).
    fn version_table_statements(&self) -> Vec<String>;
    /// True when the version tables exist.
    async fn version_tables_exist(&self) -> Result<bool>;
    /// Starts an exclusive section: serializes schema tools against each other and, where the
    /// database has transactional DDL, makes everything up to [`SchemaDriver::end`] atomic.
    async fn begin(&self) -> Result<()>;
    /// Ends the section started by [`SchemaDriver::begin`]: commits, or rolls back if `commit`
    /// is false (where the database can).
    async fn end(&self, commit: bool) -> Result<()>;
    /// Runs one schema statement. A failure that only means "already there" is
    /// [`ExecOutcome::AlreadyApplied`], classified by error code where the database has one.
    async fn execute(&self, statement: &str) -> Result<ExecOutcome>;
    /// This set's `schema_version` row, if any.
    async fn read_version(&self) -> Result<Option<VersionRecord>>;
    /// All `schema_update_history` rows, in `update_time` order.
    async fn read_history(&self) -> Result<Vec<HistoryRecord>>;
    /// Inserts a history row.
    async fn insert_history(&self, record: &HistoryRecord) -> Result<()>;
    /// Records a finished version, atomically where the database can: upserts this set's
    /// `schema_version` row, deletes the `remove` history rows (by their key) and inserts `done`.
    async fn finish_version(
        &self,
        version: &VersionRecord,
        remove: &[HistoryRecord],
        done: &HistoryRecord,
    ) -> Result<()>;
    /// Describes the live schema.
    async fn describe(&self) -> Result<SchemaDescription>;
    /// Releases what the driver created for itself, such as the scratch database a server
    /// backend makes for `verify`. Default: nothing to release.
    async fn dispose(&self) -> Result<()> {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

/// Options of [`setup`] and [`update`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Version to stop at (default: the latest embedded).
    pub target: Option<Version>,
    /// Only compute and return the statements; write nothing.
    pub dry_run: bool,
}

/// One version applied (or, in a dry run, to be applied).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedVersion {
    /// The version.
    pub version: Version,
    /// Its description.
    pub description: String,
    /// Checksum recorded for it.
    pub checksum: String,
    /// True when it was half-applied before and is re-applied.
    pub reapplied: bool,
    /// Its statements, in order.
    pub statements: Vec<String>,
    /// Statements whose effect was already present (re-runs), with what was found.
    pub already_applied: Vec<String>,
}

/// What [`setup`] or [`update`] did (or would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// Schema set name.
    pub set: String,
    /// True for a dry run: nothing was written.
    pub dry_run: bool,
    /// Version before (None: the set was not set up).
    pub from: Option<Version>,
    /// Version after (the same as `from` when up to date).
    pub to: Option<Version>,
    /// Version-table DDL run (or to run) because the tables did not exist.
    pub version_table_statements: Vec<String>,
    /// Versions applied in order.
    pub applied: Vec<AppliedVersion>,
}

impl ApplyReport {
    /// True when there was nothing to do.
    pub fn up_to_date(&self) -> bool {
        self.applied.is_empty() && self.version_table_statements.is_empty()
    }

    /// Every statement in order, version tables first (what a dry run prints).
    pub fn statements(&self) -> Vec<String> {
        let mut v = self.version_table_statements.clone();
        for a in &self.applied {
            v.extend(a.statements.iter().cloned());
        }
        v
    }
}

/// What [`status`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaStatus {
    /// Schema set name.
    pub set: String,
    /// Backend name.
    pub backend: String,
    /// True when this set has a `schema_version` row.
    pub initialized: bool,
    /// The applied version.
    pub current: Option<Version>,
    /// The database's recorded minimum compatible version.
    pub min_compatible: Option<Version>,
    /// The newest embedded version.
    pub latest: Version,
    /// A half-applied version, if a run crashed.
    pub dirty: Option<Version>,
    /// Versions `update` would apply (empty when newer than the binary).
    pub pending: Vec<Version>,
    /// True when the database's version is newer than every embedded one.
    pub newer_than_binary: bool,
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Schema set name.
    pub set: String,
    /// The database's version.
    pub version: Option<Version>,
    /// Differences from the expected schema and checksum mismatches; empty when clean.
    pub drift: Vec<String>,
    /// Observations that are not drift (e.g. a history row of a version not embedded).
    pub notes: Vec<String>,
}

impl VerifyReport {
    /// True when there is no drift.
    pub fn is_clean(&self) -> bool {
        self.drift.is_empty()
    }
}

fn dirty_version(current: Option<&Version>, history: &[HistoryRecord]) -> Option<Version> {
    history
        .iter()
        .filter(|h| h.is_in_progress() && current.is_none_or(|c| &h.new_version > c))
        .map(|h| h.new_version.clone())
        .max()
}

/// Reads the set's state from the database.
pub async fn status(set: &SchemaSet, driver: &dyn SchemaDriver) -> Result<SchemaStatus> {
    let latest = set.latest_version();
    let (row, history) = if driver.version_tables_exist().await? {
        (driver.read_version().await?, driver.read_history().await?)
    } else {
        (None, Vec::new())
    };
    let current = row.as_ref().map(|r| r.curr_version.clone());
    let dirty = dirty_version(current.as_ref(), &history);
    let newer = current.as_ref().is_some_and(|c| c > &latest);
    // Status reports; it does not refuse. A state no plan can fix (newer database, a dirty
    // version this binary does not know) simply has nothing pending here.
    let pending = plan(set, current.as_ref(), dirty.as_ref(), None)
        .map(|p| p.into_iter().map(|v| v.version.clone()).collect())
        .unwrap_or_default();
    Ok(SchemaStatus {
        set: set.name.clone(),
        backend: driver.backend().to_string(),
        initialized: row.is_some(),
        current,
        min_compatible: row.map(|r| r.min_compatible_version),
        latest,
        dirty,
        pending,
        newer_than_binary: newer,
    })
}

/// Creates the version tables if missing and applies every version up to the target.
/// Re-running it is safe: an up-to-date database is left as it is.
pub async fn setup(
    set: &SchemaSet,
    driver: &dyn SchemaDriver,
    opts: &ApplyOptions,
) -> Result<ApplyReport> {
    exclusive(driver, opts.dry_run, async {
        let mut created = Vec::new();
        let exists = driver.version_tables_exist().await?;
        if !exists {
            created = driver.version_table_statements();
            if !opts.dry_run {
                for s in &created {
                    driver.execute(s).await.map_err(|e| {
                        e.with_context("schema_set", set.name.clone())
                            .with_context("step", "create version tables")
                    })?;
                }
            }
        }
        let (row, history) = if exists {
            (driver.read_version().await?, driver.read_history().await?)
        } else {
            (None, Vec::new())
        };
        let mut report = apply(set, driver, row, history, opts).await?;
        report.version_table_statements = created;
        Ok(report)
    })
    .await
}

/// Applies the versions in `(current, target]`. The set must have been set up.
pub async fn update(
    set: &SchemaSet,
    driver: &dyn SchemaDriver,
    opts: &ApplyOptions,
) -> Result<ApplyReport> {
    exclusive(driver, opts.dry_run, async {
        let row = if driver.version_tables_exist().await? {
            driver.read_version().await?
        } else {
            None
        };
        let Some(row) = row else {
            return Err(StoreError::not_found(format!(
                "the {} schema is not set up in this {} database (no schema_version row for {:?}); \
                 run `durastore schema setup`",
                set.name,
                driver.backend(),
                driver.db_name()
            )));
        };
        let history = driver.read_history().await?;
        apply(set, driver, Some(row), history, opts).await
    })
    .await
}

/// Runs `f` inside the driver's exclusive section (not for dry runs, which write nothing).
async fn exclusive<T>(
    driver: &dyn SchemaDriver,
    dry_run: bool,
    f: impl Future<Output = Result<T>>,
) -> Result<T> {
    if dry_run {
        return f.await;
    }
    driver.begin().await?;
    match f.await {
        Ok(v) => {
            driver.end(true).await?;
            Ok(v)
        }
        Err(e) => {
            // The operation's error matters more than a failed rollback.
            if let Err(re) = driver.end(false).await {
                tracing::warn!(error = %re, "schema: rollback failed");
            }
            Err(e)
        }
    }
}

async fn apply(
    set: &SchemaSet,
    driver: &dyn SchemaDriver,
    row: Option<VersionRecord>,
    history: Vec<HistoryRecord>,
    opts: &ApplyOptions,
) -> Result<ApplyReport> {
    let from = row.as_ref().map(|r| r.curr_version.clone());
    let dirty = dirty_version(from.as_ref(), &history);
    let steps = plan(set, from.as_ref(), dirty.as_ref(), opts.target.as_ref())?;
    let mut report = ApplyReport {
        set: set.name.clone(),
        dry_run: opts.dry_run,
        from: from.clone(),
        to: from.clone(),
        version_table_statements: Vec::new(),
        applied: Vec::new(),
    };
    let mut last_time = history.iter().map(|h| h.update_time).max();
    let mut markers: Vec<HistoryRecord> =
        history.into_iter().filter(|h| h.is_in_progress()).collect();
    let mut current = from;
    for step in steps {
        let reapplied = dirty.as_ref() == Some(&step.version);
        let checksum = step.checksum();
        let mut applied = AppliedVersion {
            version: step.version.clone(),
            description: step.description.clone(),
            checksum: checksum.clone(),
            reapplied,
            statements: step.statements(),
            already_applied: Vec::new(),
        };
        if opts.dry_run {
            report.applied.push(applied);
            report.to = Some(step.version.clone());
            continue;
        }
        let old_version = current.clone().unwrap_or_else(Version::zero);
        if reapplied {
            tracing::warn!(set = %set.name, version = %step.version, "schema: re-applying a half-applied version");
        } else {
            let marker = HistoryRecord {
                update_time: next_time(&mut last_time),
                old_version: old_version.clone(),
                new_version: step.version.clone(),
                manifest_md5: checksum.clone(),
                description: history_description(&format!(
                    "{IN_PROGRESS_MARKER}{}",
                    step.description
                )),
            };
            driver.insert_history(&marker).await?;
            markers.push(marker);
        }
        tracing::info!(set = %set.name, version = %step.version, statements = applied.statements.len(), "schema: applying version");
        for (i, stmt) in applied.statements.iter().enumerate() {
            tracing::debug!(set = %set.name, version = %step.version, statement = i + 1, "{stmt}");
            match driver.execute(stmt).await {
                Ok(ExecOutcome::Applied) => {}
                Ok(ExecOutcome::AlreadyApplied(why)) => {
                    tracing::info!(set = %set.name, version = %step.version, statement = i + 1, "schema: already applied: {why}");
                    applied.already_applied.push(why);
                }
                Err(e) => {
                    return Err(e
                        .with_context("schema_set", set.name.clone())
                        .with_context("version", step.version.to_string())
                        .with_context("statement", format!("{} ({})", i + 1, abbreviate(stmt))));
                }
            }
        }
        let remove: Vec<HistoryRecord> = markers
            .iter()
            .filter(|m| m.new_version <= step.version)
            .cloned()
            .collect();
        markers.retain(|m| m.new_version > step.version);
        let done = HistoryRecord {
            update_time: next_time(&mut last_time),
            old_version,
            new_version: step.version.clone(),
            manifest_md5: checksum,
            description: history_description(&step.description),
        };
        let version = VersionRecord {
            db_name: driver.db_name().to_string(),
            creation_time: done.update_time,
            curr_version: step.version.clone(),
            min_compatible_version: step.min_compatible_version.clone(),
        };
        driver.finish_version(&version, &remove, &done).await?;
        current = Some(step.version.clone());
        report.to = current.clone();
        report.applied.push(applied);
    }
    Ok(report)
}

/// A description cut to the 255 characters of Temporal's `description VARCHAR(255)` column.
fn history_description(d: &str) -> String {
    d.chars().take(255).collect()
}

/// Now, truncated to microseconds and strictly after `last` (history rows are keyed by time).
fn next_time(last: &mut Option<DateTime<Utc>>) -> DateTime<Utc> {
    let now = Utc::now();
    let now = DateTime::<Utc>::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
    let t = match *last {
        Some(l) if now <= l => l + TimeDelta::microseconds(1),
        _ => now,
    };
    *last = Some(t);
    t
}

/// Compares the live schema with the expected one and checks recorded checksums.
///
/// The expected schema is what `scratch` (an empty database of the same backend) looks like
/// after [`setup`] to the live database's current version, so verify also works on a database
/// that is intentionally behind the binary.
pub async fn verify(
    set: &SchemaSet,
    driver: &dyn SchemaDriver,
    scratch: &dyn SchemaDriver,
) -> Result<VerifyReport> {
    let st = status(set, driver).await?;
    let mut report = VerifyReport {
        set: set.name.clone(),
        version: st.current.clone(),
        drift: Vec::new(),
        notes: Vec::new(),
    };
    let Some(current) = st.current.clone() else {
        report.drift.push(format!(
            "the {} schema is not set up in this database (no schema_version row for {:?})",
            set.name,
            driver.db_name()
        ));
        return Ok(report);
    };
    if st.newer_than_binary {
        return Err(newer_than_binary(&set.name, &current, &st.latest));
    }
    if let Some(d) = &st.dirty {
        report.drift.push(format!(
            "version {d} was left half-applied; run `durastore schema update` to finish it"
        ));
    }
    if set.get(&current).is_none() {
        return Err(StoreError::invalid_argument(format!(
            "the database's {} schema version {current} is not one of this binary's versions; \
             cannot build the expected schema",
            set.name
        )));
    }
    setup(
        set,
        scratch,
        &ApplyOptions {
            target: Some(current.clone()),
            dry_run: false,
        },
    )
    .instrument(tracing::info_span!("expected_schema_in_scratch_db"))
    .await
    .map_err(|e| e.with_context("step", "build expected schema"))?;
    let expected = scratch.describe().await?;
    let live = driver.describe().await?;
    report.drift.extend(diff(&expected, &live));

    let history = driver.read_history().await?;
    for h in history.iter().filter(|h| !h.is_in_progress()) {
        match set.get(&h.new_version) {
            Some(v) => {
                let want = v.checksum();
                if h.manifest_md5 != want {
                    report.drift.push(format!(
                        "version {}: recorded checksum {} does not match the embedded files ({want})",
                        h.new_version, h.manifest_md5
                    ));
                }
            }
            None => report.notes.push(format!(
                "history records version {}, which this binary does not embed",
                h.new_version
            )),
        }
    }
    for v in set.versions.iter().filter(|v| v.version <= current) {
        let recorded = history
            .iter()
            .any(|h| !h.is_in_progress() && h.new_version == v.version);
        if !recorded {
            report.notes.push(format!(
                "version {} has no schema_update_history row",
                v.version
            ));
        }
    }
    Ok(report)
}

/// Lower-case hex MD5 (RFC 1321) of `data`, as recorded in `manifest_md5`.
pub fn md5_hex(data: &[u8]) -> String {
    use md5::Digest as _;
    md5::Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn version_ordering_is_numeric() {
        assert!(v("1.10") > v("1.9"));
        assert!(v("2.0") > v("1.99"));
        assert!(v("1.0.1") > v("1.0"));
        assert_eq!(v("1"), v("1.0"));
        assert_eq!(v("1.0.0"), v("1.0"));
        assert_eq!(v("v1.2"), v("1.2"));
        assert_eq!(v("1").to_string(), "1.0");
        assert_eq!(v("1.10").to_string(), "1.10");
        assert_eq!(v("1.2.3").to_string(), "1.2.3");
        let mut all = [v("1.10"), v("1.2"), v("0.9"), v("1.9"), v("1.0")];
        all.sort();
        let s: Vec<String> = all.iter().map(ToString::to_string).collect();
        assert_eq!(s, ["0.9", "1.0", "1.2", "1.9", "1.10"]);
        for bad in [
            "",
            "v",
            "1.",
            ".1",
            "1.a",
            "1..2",
            "-1",
            "1.2 3",
            "99999999999",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn manifest_parsing() {
        let m = Manifest::parse(
            r#"{"version":"1.1","min_compatible_version":"1.0","description":"d","files":["a.sql","b.sql"]}"#,
        )
        .unwrap();
        assert_eq!(m.version, "1.1");
        assert_eq!(m.files, ["a.sql", "b.sql"]);
        let t = Manifest::parse(
            r#"{"CurrVersion":"1.2","MinCompatibleVersion":"1.2","Description":"x","SchemaUpdateCqlFiles":["s.sql"]}"#,
        )
        .unwrap();
        assert_eq!(t.min_compatible_version, "1.2");
        assert!(Manifest::parse(r#"{"version":"1.0"}"#).is_err());
        assert!(Manifest::parse("not json").is_err());
    }

    const V10: &str = r#"{"version":"1.0","min_compatible_version":"1.0","description":"base","files":["s.sql"]}"#;
    const V11: &str = r#"{"version":"1.1","min_compatible_version":"1.0","description":"add b","files":["s.sql"]}"#;
    const V12: &str = r#"{"version":"1.2","min_compatible_version":"1.1","description":"add c","files":["s.sql"]}"#;
    const V110: &str = r#"{"version":"1.10","min_compatible_version":"1.1","description":"add d","files":["s.sql"]}"#;

    fn set() -> SchemaSet {
        SchemaSet::from_embedded(
            "main",
            &[
                (
                    "v1.10",
                    V110,
                    &[("s.sql", "CREATE TABLE IF NOT EXISTS d (x INT);")],
                ),
                (
                    "v1.0",
                    V10,
                    &[("s.sql", "CREATE TABLE IF NOT EXISTS a (x INT);")],
                ),
                (
                    "v1.2",
                    V12,
                    &[("s.sql", "CREATE TABLE IF NOT EXISTS c (x INT);")],
                ),
                (
                    "v1.1",
                    V11,
                    &[("s.sql", "CREATE TABLE IF NOT EXISTS b (x INT);")],
                ),
            ],
        )
        .unwrap()
    }

    fn names(p: &[&SchemaVersion]) -> Vec<String> {
        p.iter().map(|x| x.version.to_string()).collect()
    }

    #[test]
    fn set_loading_validates() {
        let s = set();
        assert_eq!(
            names(&s.versions.iter().collect::<Vec<_>>()),
            ["1.0", "1.1", "1.2", "1.10"]
        );
        assert_eq!(s.latest_version(), v("1.10"));
        // Directory/manifest mismatch, missing and extra files, bad names, bad statements.
        assert!(SchemaSet::from_embedded("main", &[("v1.1", V10, &[("s.sql", "")])]).is_err());
        assert!(SchemaSet::from_embedded("main", &[("v1.0", V10, &[])]).is_err());
        assert!(
            SchemaSet::from_embedded("main", &[("v1.0", V10, &[("s.sql", ""), ("x.sql", "")])])
                .is_err()
        );
        assert!(SchemaSet::from_embedded("bogus", &[("v1.0", V10, &[("s.sql", "")])]).is_err());
        assert!(SchemaSet::from_embedded("main", &[]).is_err());
        let err = SchemaSet::from_embedded("main", &[("v1.0", V10, &[("s.sql", "SELECT 1;")])])
            .unwrap_err();
        assert!(err.message().contains("SELECT"), "{err}");
        let dup = SchemaSet::from_embedded(
            "main",
            &[
                ("v1.0", V10, &[("s.sql", "")]),
                ("1.0", V10, &[("s.sql", "")]),
            ],
        );
        assert!(dup.is_err());
        let below = r#"{"version":"1.0","min_compatible_version":"1.1","files":[]}"#;
        assert!(SchemaSet::from_embedded("main", &[("v1.0", below, &[])]).is_err());
    }

    #[test]
    fn plan_computation() {
        let s = set();
        assert_eq!(
            names(&plan(&s, None, None, None).unwrap()),
            ["1.0", "1.1", "1.2", "1.10"]
        );
        assert_eq!(
            names(&plan(&s, Some(&v("1.1")), None, None).unwrap()),
            ["1.2", "1.10"]
        );
        assert_eq!(
            names(&plan(&s, Some(&v("1.1")), None, Some(&v("1.2"))).unwrap()),
            ["1.2"]
        );
        assert!(plan(&s, Some(&v("1.10")), None, None).unwrap().is_empty());
        assert!(
            plan(&s, Some(&v("1.2")), None, Some(&v("1.2")))
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            names(&plan(&s, None, None, Some(&v("1.0"))).unwrap()),
            ["1.0"]
        );
        // A dirty version is re-applied.
        assert_eq!(
            names(&plan(&s, Some(&v("1.0")), Some(&v("1.1")), None).unwrap()),
            ["1.1", "1.2", "1.10"]
        );
        assert_eq!(
            names(&plan(&s, None, Some(&v("1.0")), Some(&v("1.0"))).unwrap()),
            ["1.0"]
        );
        assert!(plan(&s, Some(&v("1.0")), Some(&v("1.2")), Some(&v("1.1"))).is_err());
        // Newer database, unknown target, downgrade.
        let e = plan(&s, Some(&v("1.11")), None, None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert_eq!(
            e.message(),
            "database schema 1.11 is newer than this binary's 1.10; upgrade durastore"
        );
        assert!(plan(&s, None, None, Some(&v("1.5"))).is_err());
        assert!(plan(&s, Some(&v("1.2")), None, Some(&v("1.1"))).is_err());
    }

    #[test]
    fn splitting_statements() {
        let text = "-- header; with semicolon\n\
            CREATE TABLE a (x TEXT DEFAULT 'a;b', y TEXT DEFAULT 'it''s; fine');\n\
            /* block; comment */ INSERT INTO a VALUES ('--not a comment', 'x');\n\
            CREATE TABLE \"we;ird\" (`c;d` INT); -- trailing\n\
            DO $$ BEGIN PERFORM 1; END $$;\n\
            DO $body$ SELECT ';'; $body$;\n\
            CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = 1; DELETE FROM a; END;\n\
            CREATE TEMP TRIGGER u AFTER DELETE ON a BEGIN SELECT 1; END;\n\
            \n  ;  ;\n\
            ALTER TABLE a ADD COLUMN z INT";
        let got = split_statements(text);
        assert_eq!(
            got,
            [
                "CREATE TABLE a (x TEXT DEFAULT 'a;b', y TEXT DEFAULT 'it''s; fine')",
                "INSERT INTO a VALUES ('--not a comment', 'x')",
                "CREATE TABLE \"we;ird\" (`c;d` INT)",
                "DO $$ BEGIN PERFORM 1; END $$",
                "DO $body$ SELECT ';'; $body$",
                "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = 1; DELETE FROM a; END",
                "CREATE TEMP TRIGGER u AFTER DELETE ON a BEGIN SELECT 1; END",
                "ALTER TABLE a ADD COLUMN z INT",
            ]
        );
        assert!(split_statements("-- only a comment\n/* and this */").is_empty());
        // Unterminated quotes and comments do not loop or panic.
        assert_eq!(split_statements("SELECT 'abc"), ["SELECT 'abc"]);
        assert!(split_statements("/* never closed").is_empty());
        assert_eq!(split_statements("SELECT $1, $$x"), ["SELECT $1, $$x"]);
    }

    #[test]
    fn records_from_stored_rows() {
        let t = Utc::now();
        let r = VersionRecord::from_stored("main", None, Some("1.2"), None).unwrap();
        assert_eq!(r.db_name, "main");
        assert_eq!(r.creation_time, DateTime::<Utc>::UNIX_EPOCH);
        assert_eq!(
            (r.curr_version, r.min_compatible_version),
            (v("1.2"), v("1.2"))
        );
        let r = VersionRecord::from_stored("main", Some(t), Some("1.2"), Some("1.1")).unwrap();
        assert_eq!((r.creation_time, r.min_compatible_version), (t, v("1.1")));
        let e = VersionRecord::from_stored("main", None, None, None).unwrap_err();
        assert_eq!(
            e.message(),
            "schema_version row for \"main\" has no curr_version"
        );
        let e = VersionRecord::from_stored("main", None, Some("x"), None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Internal);
        assert_eq!(
            e.message(),
            "schema_version.curr_version holds \"x\", which is not a schema version"
        );

        let h = HistoryRecord::from_stored(t, None, Some("1.0"), None, None).unwrap();
        assert_eq!(
            h,
            HistoryRecord {
                update_time: t,
                old_version: Version::zero(),
                new_version: v("1.0"),
                manifest_md5: String::new(),
                description: String::new(),
            }
        );
        let h = HistoryRecord::from_stored(
            t,
            Some("1.0"),
            Some("1.1"),
            Some("ab".into()),
            Some("d".into()),
        )
        .unwrap();
        assert_eq!(
            (h.old_version, h.manifest_md5, h.description),
            (v("1.0"), "ab".into(), "d".into())
        );
        assert!(HistoryRecord::from_stored(t, None, None, None, None).is_err());
    }

    #[test]
    fn md5_vectors() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            md5_hex(b"message digest"),
            "f96b697d7cb7938d525a2f31aaf161d0"
        );
        assert_eq!(
            md5_hex(b"The quick brown fox jumps over the lazy dog"),
            "9e107d9d372bb6826bd81d3542a419d6"
        );
        assert_eq!(
            md5_hex(
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
            ),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
    }

    /// `manifest_md5` is stored by every database that applied a version, so its byte layout
    /// (name, NUL, text, NUL per file) must never change. Expected value from
    /// `printf 'a.sql\0CREATE TABLE t (x INT);\n\0b.sql\0SELECT 1;\0' | md5sum`.
    #[test]
    fn checksum_layout_is_stable() {
        let version = SchemaVersion {
            version: v("1.0"),
            min_compatible_version: v("1.0"),
            description: "not part of the checksum".into(),
            files: vec![
                ("a.sql".into(), "CREATE TABLE t (x INT);\n".into()),
                ("b.sql".into(), "SELECT 1;".into()),
            ],
        };
        assert_eq!(version.checksum(), "72bcbd8f8c21bdd96b623bd0146d38db");
    }

    #[test]
    fn diff_reports_drift() {
        let col = |n: &str, t: &str, nullable: bool| ColumnDescription {
            name: n.into(),
            data_type: t.into(),
            nullable,
            default: None,
        };
        let mut exp = SchemaDescription::default();
        exp.tables.insert(
            "t".into(),
            TableDescription {
                columns: vec![col("a", "BIGINT", false), col("b", "VARCHAR(16)", true)],
                primary_key: vec!["a".into()],
                indexes: BTreeMap::from([(
                    "t_b".to_string(),
                    IndexDescription {
                        unique: false,
                        columns: vec!["b".into()],
                    },
                )]),
            },
        );
        exp.tables
            .insert("gone".into(), TableDescription::default());
        let mut live = exp.clone();
        assert!(diff(&exp, &live).is_empty());
        live.tables.remove("gone");
        live.tables
            .insert("extra".into(), TableDescription::default());
        let t = live.tables.get_mut("t").unwrap();
        t.columns = vec![col("a", "bigint", true), col("c", "INT", true)];
        t.indexes.clear();
        let d = diff(&exp, &live);
        assert_eq!(
            d,
            [
                "missing table gone",
                "table t: column a is nullable, expected NOT NULL",
                "table t: missing column b",
                "table t: unexpected column c",
                "table t: missing index t_b",
                "unexpected table extra",
            ]
        );
        assert_eq!(normalize_type("varchar ( 16 )"), "VARCHAR(16)");
        assert_eq!(normalize_type("decimal(10, 2)"), "DECIMAL(10,2)");
    }

    /// An in-memory driver: "tables" are statement texts; can fail at a chosen statement.
    #[derive(Default)]
    struct Fake {
        tables: Mutex<bool>,
        executed: Mutex<Vec<String>>,
        version: Mutex<Option<VersionRecord>>,
        history: Mutex<Vec<HistoryRecord>>,
        fail_on: Mutex<Option<String>>,
    }

    #[async_trait]
    impl SchemaDriver for Fake {
        fn backend(&self) -> &str {
            "fake"
        }
        fn db_name(&self) -> &str {
            "main"
        }
        fn version_table_statements(&self) -> Vec<String> {
            vec!["CREATE TABLE IF NOT EXISTS schema_version (…)".into()]
        }
        async fn version_tables_exist(&self) -> Result<bool> {
            Ok(*self.tables.lock().unwrap())
        }
        async fn begin(&self) -> Result<()> {
            Ok(())
        }
        async fn end(&self, _commit: bool) -> Result<()> {
            Ok(())
        }
        async fn execute(&self, statement: &str) -> Result<ExecOutcome> {
            if self.fail_on.lock().unwrap().as_deref() == Some(statement) {
                return Err(StoreError::new(ErrorKind::Unavailable, "connection cut"));
            }
            if statement.contains("schema_version") {
                *self.tables.lock().unwrap() = true;
            }
            let mut ex = self.executed.lock().unwrap();
            let already = ex.iter().any(|s| s == statement);
            ex.push(statement.to_string());
            Ok(if already {
                ExecOutcome::AlreadyApplied(format!("{statement} exists"))
            } else {
                ExecOutcome::Applied
            })
        }
        async fn read_version(&self) -> Result<Option<VersionRecord>> {
            Ok(self.version.lock().unwrap().clone())
        }
        async fn read_history(&self) -> Result<Vec<HistoryRecord>> {
            Ok(self.history.lock().unwrap().clone())
        }
        async fn insert_history(&self, record: &HistoryRecord) -> Result<()> {
            self.history.lock().unwrap().push(record.clone());
            Ok(())
        }
        async fn finish_version(
            &self,
            version: &VersionRecord,
            remove: &[HistoryRecord],
            done: &HistoryRecord,
        ) -> Result<()> {
            *self.version.lock().unwrap() = Some(version.clone());
            let mut h = self.history.lock().unwrap();
            h.retain(|r| !remove.iter().any(|x| x.update_time == r.update_time));
            h.push(done.clone());
            Ok(())
        }
        async fn describe(&self) -> Result<SchemaDescription> {
            let mut d = SchemaDescription::default();
            for s in self.executed.lock().unwrap().iter() {
                d.tables.insert(s.clone(), TableDescription::default());
            }
            Ok(d)
        }
    }

    fn opts(target: Option<&str>, dry_run: bool) -> ApplyOptions {
        ApplyOptions {
            target: target.map(v),
            dry_run,
        }
    }

    #[tokio::test]
    async fn setup_update_crash_resume_and_newer() {
        let s = set();
        let d = Fake::default();
        // Update before setup is refused with a hint.
        let e = update(&s, &d, &opts(None, false)).await.unwrap_err();
        assert!(e.message().contains("schema setup"), "{e}");

        // Dry run writes nothing.
        let r = setup(&s, &d, &opts(Some("1.1"), true)).await.unwrap();
        assert!(r.dry_run);
        assert_eq!(r.statements().len(), 3);
        assert!(d.executed.lock().unwrap().is_empty());

        let r = setup(&s, &d, &opts(Some("1.1"), false)).await.unwrap();
        assert_eq!(r.to, Some(v("1.1")));
        assert_eq!(r.applied.len(), 2);
        let st = status(&s, &d).await.unwrap();
        assert_eq!(st.current, Some(v("1.1")));
        assert_eq!(st.pending, [v("1.2"), v("1.10")]);
        assert_eq!(st.dirty, None);
        assert_eq!(d.history.lock().unwrap().len(), 2);

        // Crash in 1.2: the marker stays, status reports it dirty, update re-applies it.
        *d.fail_on.lock().unwrap() = Some("CREATE TABLE IF NOT EXISTS c (x INT)".into());
        let e = update(&s, &d, &opts(None, false)).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        let st = status(&s, &d).await.unwrap();
        assert_eq!(
            (st.current.clone(), st.dirty.clone()),
            (Some(v("1.1")), Some(v("1.2")))
        );
        *d.fail_on.lock().unwrap() = None;
        let r = update(&s, &d, &opts(None, false)).await.unwrap();
        assert_eq!(r.applied.len(), 2);
        assert!(r.applied[0].reapplied);
        let st = status(&s, &d).await.unwrap();
        assert_eq!((st.current, st.dirty), (Some(v("1.10")), None));
        assert!(
            !d.history
                .lock()
                .unwrap()
                .iter()
                .any(HistoryRecord::is_in_progress)
        );
        assert_eq!(d.history.lock().unwrap().len(), 4);

        // Already up to date: success, nothing to do; setup again too.
        assert!(
            update(&s, &d, &opts(None, false))
                .await
                .unwrap()
                .up_to_date()
        );
        assert!(
            setup(&s, &d, &opts(None, false))
                .await
                .unwrap()
                .up_to_date()
        );

        // Verify against a fresh scratch is clean; a tampered checksum is drift.
        let scratch = Fake::default();
        let rep = verify(&s, &d, &scratch).await.unwrap();
        assert!(rep.is_clean(), "{:?}", rep.drift);
        d.history.lock().unwrap()[0].manifest_md5 = "0".into();
        let rep = verify(&s, &d, &Fake::default()).await.unwrap();
        assert_eq!(rep.drift.len(), 1, "{:?}", rep.drift);

        // A newer database is refused by update and verify, but status reports it.
        d.version.lock().unwrap().as_mut().unwrap().curr_version = v("1.13");
        let e = update(&s, &d, &opts(None, false)).await.unwrap_err();
        assert_eq!(
            e.message(),
            "database schema 1.13 is newer than this binary's 1.10; upgrade durastore"
        );
        assert!(verify(&s, &d, &Fake::default()).await.is_err());
        assert!(status(&s, &d).await.unwrap().newer_than_binary);
    }
}
