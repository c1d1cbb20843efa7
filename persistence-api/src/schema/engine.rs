//! The operations: `status`, `setup`, `update` (apply versions under the crash-safety protocol)
//! and `verify`.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use tracing::Instrument;

use super::{
    ExecOutcome, HistoryRecord, IN_PROGRESS_MARKER, SchemaDriver, SchemaSet, Version,
    VersionRecord, abbreviate, diff, newer_than_binary, plan,
};
use crate::error::{Result, StoreError};

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
    /// Data steps run after the statements, in order (names).
    pub data_steps: Vec<String>,
    /// What each data step did, as its driver reported it (empty in a dry run).
    pub data_step_reports: Vec<String>,
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

pub(super) fn dirty_version(
    current: Option<&Version>,
    history: &[HistoryRecord],
) -> Option<Version> {
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
pub(super) async fn exclusive<T>(
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

pub(super) async fn apply(
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
            data_steps: step.data_steps.clone(),
            data_step_reports: Vec::new(),
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
        // Data steps are re-runnable by contract: a version left half-applied runs them again.
        for name in &step.data_steps {
            let report = driver.data_step(name).await.map_err(|e| {
                e.with_context("schema_set", set.name.clone())
                    .with_context("version", step.version.to_string())
                    .with_context("data_step", name.clone())
            })?;
            tracing::info!(set = %set.name, version = %step.version, step = %name, "schema: data step: {report}");
            applied.data_step_reports.push(format!("{name}: {report}"));
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
pub(super) fn history_description(d: &str) -> String {
    d.chars().take(255).collect()
}

/// Now, truncated to microseconds and strictly after `last` (history rows are keyed by time).
pub(super) fn next_time(last: &mut Option<DateTime<Utc>>) -> DateTime<Utc> {
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
