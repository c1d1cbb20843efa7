//! Turning a conditional batch that did not apply into the one typed error it deserves.
//!
//! When a conditional batch fails, Cassandra returns, from the same Paxos read that decided it,
//! every row of the batch that carries a condition and exists (`[applied] = false`), with the
//! primary key and the columns named in any condition (all columns when the batch has an
//! `IF NOT EXISTS`). A row that does not exist is simply absent. The store knows which condition
//! it put on which row ([`Check`]), re-evaluates each against what came back, and returns the
//! highest-priority failure: shard ownership lost > current workflow condition > workflow
//! condition > generic condition. Only when a returned row lacks a column the error's detail
//! needs is that row read again (serially).

use durastore_api::{
    ArchetypeId, NamespaceId, Result, RunId, ShardId, StoreError, WorkflowId, WorkflowKey,
    WorkflowState,
};
use uuid::Uuid;

use super::rows::{
    CurrentKey, CurrentRow, EXECUTION_ROW_TYPE, current_row_run_id, current_vals, run_vals,
    select_current_cql,
};
use crate::session::{CRow, Cass};
use crate::shard;

/// A condition the store put into a batch, besides the shard lease.
#[derive(Debug, Clone)]
pub(super) enum Check {
    /// No current-run row may exist (BrandNew).
    CurrentAbsent,
    /// The current-run row must point at `run_id`; with `reuse_version`, that run must also have
    /// this last write version and be `Completed`.
    CurrentIs {
        run_id: RunId,
        reuse_version: Option<i64>,
    },
    /// The current-run row, if any, must point at none of these runs.
    CurrentNoneOf(Vec<RunId>),
    /// The run must exist and pass the execution CAS.
    Execution {
        key: WorkflowKey,
        db_record_version: i64,
        condition: i64,
    },
    /// The run must not exist (a new run).
    NewRun(WorkflowKey),
}

/// What a failed batch was about: its shard lease and the workflow (or business id) and
/// archetype of its current-run row.
pub(super) struct Batch<'a> {
    pub(super) shard_id: ShardId,
    pub(super) range_id: i64,
    pub(super) namespace_id: NamespaceId,
    pub(super) workflow_id: &'a WorkflowId,
    pub(super) archetype_id: ArchetypeId,
    pub(super) checks: Vec<Check>,
}

fn text_is(row: &CRow, column: &str, want: &str) -> Result<bool> {
    Ok(row.opt_text(column)?.as_deref() == Some(want))
}

/// Whether `row` is the execution-table row `(type 1, namespace, workflow, run)`.
fn is_row(row: &CRow, namespace_id: NamespaceId, workflow_id: &str, run_id: Uuid) -> Result<bool> {
    Ok(row.opt_i64("type")? == Some(i64::from(EXECUTION_ROW_TYPE))
        && row.opt_uuid("namespace_id")? == Some(namespace_id.0)
        && text_is(row, "workflow_id", workflow_id)?
        && row.opt_uuid("run_id")? == Some(run_id))
}

impl Batch<'_> {
    /// The typed error for a batch that did not apply, given the rows it returned.
    pub(super) async fn explain(&self, cass: &Cass, rows: &[CRow]) -> StoreError {
        match self.evaluate(cass, rows).await {
            Ok(e) => e,
            Err(e) => e,
        }
    }

    async fn evaluate(&self, cass: &Cass, rows: &[CRow]) -> Result<StoreError> {
        let mut shard_row = None;
        for r in rows {
            if shard::is_shard_row(r)? {
                shard_row = Some(r);
            }
        }
        if let Some(e) = shard::lease_error(self.shard_id, self.range_id, shard_row)? {
            return Ok(e);
        }
        let mut found: Option<StoreError> = None;
        for check in &self.checks {
            if let Some(e) = self.check(cass, check, rows).await? {
                let better = match &found {
                    None => true,
                    Some(f) => e.kind().conflict_priority() < f.kind().conflict_priority(),
                };
                if better {
                    found = Some(e);
                }
            }
        }
        Ok(found.unwrap_or_else(|| {
            StoreError::condition_failed(format!(
                "workflow {}: the write was not applied, but every condition of it holds in \
                 the returned rows",
                self.workflow_id
            ))
        }))
    }

    fn find(&self, rows: &[CRow], run_id: Uuid) -> Result<Option<usize>> {
        for (i, r) in rows.iter().enumerate() {
            if is_row(r, self.namespace_id, self.workflow_id.as_str(), run_id)? {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }

    /// The current-run row as returned by the failed batch's Paxos read. Only a bypass write's
    /// condition ("points at none of these runs") cannot name the detail columns (naming them
    /// would fail on an absent row); then the row is read again serially: a linearizable read
    /// after the failure, so its detail may be newer than the state that failed the condition.
    async fn current(&self, cass: &Cass, rows: &[CRow]) -> Result<Option<CurrentRow>> {
        let Some(i) = self.find(rows, current_row_run_id(self.archetype_id))? else {
            return Ok(None);
        };
        let row = &rows[i];
        if CurrentRow::has_detail(row) {
            return CurrentRow::parse(row);
        }
        match cass
            .serial_row(
                &select_current_cql(),
                current_vals(CurrentKey {
                    shard_id: self.shard_id,
                    namespace_id: self.namespace_id,
                    workflow_id: self.workflow_id,
                    archetype_id: self.archetype_id,
                }),
            )
            .await?
        {
            Some(r) => CurrentRow::parse(&r),
            None => Ok(None),
        }
    }

    fn current_conflict(&self, message: String, found: Option<&CurrentRow>) -> StoreError {
        StoreError::current_workflow_condition_failed(message, found.map(CurrentRow::conflict))
    }

    async fn check(&self, cass: &Cass, check: &Check, rows: &[CRow]) -> Result<Option<StoreError>> {
        let wf = self.workflow_id;
        Ok(match check {
            Check::CurrentAbsent => {
                let current = self.current(cass, rows).await?;
                current.as_ref().map(|c| {
                    self.current_conflict(
                        format!("workflow {wf} already has current run {}", c.run_id),
                        Some(c),
                    )
                })
            }
            Check::CurrentIs {
                run_id,
                reuse_version,
            } => match self.current(cass, rows).await? {
                None => Some(self.current_conflict(
                    format!("workflow {wf}: no current run, expected {run_id}"),
                    None,
                )),
                Some(c) if c.run_id != *run_id => Some(self.current_conflict(
                    format!(
                        "workflow {wf}: current run is {}, expected {run_id}",
                        c.run_id
                    ),
                    Some(&c),
                )),
                Some(c) => match reuse_version {
                    Some(v)
                        if c.last_write_version != *v
                            || c.columns.state != WorkflowState::Completed =>
                    {
                        Some(self.current_conflict(
                            format!(
                                "workflow {wf}: current run {} has last write version {} and \
                                 state {:?}; reuse needs version {v} and state Completed",
                                c.run_id, c.last_write_version, c.columns.state
                            ),
                            Some(&c),
                        ))
                    }
                    _ => None,
                },
            },
            Check::CurrentNoneOf(runs) => match self.current(cass, rows).await? {
                Some(c) if runs.contains(&c.run_id) => Some(self.current_conflict(
                    format!(
                        "workflow {wf}: run {} is current, but the write bypasses the current run",
                        c.run_id
                    ),
                    Some(&c),
                )),
                _ => None,
            },
            Check::Execution {
                key,
                db_record_version,
                condition,
            } => {
                let Some(row) = self.run_row(cass, rows, key).await? else {
                    return Ok(Some(StoreError::condition_failed(format!(
                        "workflow run {}/{} does not exist",
                        key.workflow_id, key.run_id
                    ))));
                };
                let (next_event_id, version) = row;
                let holds = if *db_record_version != 0 {
                    version.checked_add(1) == Some(*db_record_version)
                } else {
                    next_event_id == *condition
                };
                (!holds).then(|| {
                    StoreError::workflow_condition_failed(
                        format!(
                            "workflow run {}/{}: stored next_event_id {next_event_id} / \
                             db_record_version {version} does not match db_record_version \
                             {db_record_version} / condition {condition}",
                            key.workflow_id, key.run_id
                        ),
                        Some(next_event_id),
                        Some(version),
                    )
                })
            }
            Check::NewRun(key) => self.run_row(cass, rows, key).await?.map(|(next, version)| {
                StoreError::workflow_condition_failed(
                    format!(
                        "workflow run {}/{} already exists",
                        key.workflow_id, key.run_id
                    ),
                    Some(next),
                    Some(version),
                )
            }),
        })
    }

    /// The stored `(next_event_id, db_record_version)` of a run, from the returned row (or a
    /// serial read when the row came back without them); `None` when it does not exist.
    async fn run_row(
        &self,
        cass: &Cass,
        rows: &[CRow],
        key: &WorkflowKey,
    ) -> Result<Option<(i64, i64)>> {
        let Some(i) = self.find(rows, key.run_id.0)? else {
            return Ok(None);
        };
        let row = &rows[i];
        if row.has("next_event_id") && row.has("db_record_version") {
            return Ok(Some((
                row.i64("next_event_id")?,
                row.i64("db_record_version")?,
            )));
        }
        let cql = format!(
            "SELECT next_event_id, db_record_version FROM executions WHERE {}",
            super::rows::execution_key_clause()
        );
        match cass.serial_row(&cql, run_vals(self.shard_id, key)).await? {
            Some(r) => Ok(Some((r.i64("next_event_id")?, r.i64("db_record_version")?))),
            None => Ok(None),
        }
    }
}
