//! Manifests and schema sets: the embedded versions of one store, and the plan from one version
//! to another.

use serde::Deserialize;

use super::{ALLOWED_STATEMENTS, SET_NAMES, Version, abbreviate, md5_hex, split_statements};
use crate::error::{ErrorKind, Result, StoreError};

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
    /// Named data migrations the backend's driver runs after the files (see
    /// [`super::SchemaDriver::data_step`]), in this order: rewrites of existing rows that a
    /// statement cannot express, such as a key hash computed in Rust.
    #[serde(default)]
    pub data_steps: Vec<String>,
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
    /// Named data migrations run after the files, in order (see [`Manifest::data_steps`]).
    pub data_steps: Vec<String>,
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
    /// does not change the schema. Data steps are included as `step:<name>` entries (a version
    /// without any has the checksum it had before data steps existed).
    pub fn checksum(&self) -> String {
        let mut buf = Vec::new();
        for (name, text) in &self.files {
            buf.extend_from_slice(name.as_bytes());
            buf.push(0);
            buf.extend_from_slice(text.as_bytes());
            buf.push(0);
        }
        for step in &self.data_steps {
            buf.extend_from_slice(b"step:");
            buf.extend_from_slice(step.as_bytes());
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
                data_steps: m.data_steps,
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
