//! ExecutionStore on Cassandra: workflow mutable state and history tasks, all in the shard's
//! partition of `executions` (see `schema/main/versioned/v1.0/executions.cql`).
//!
//! Every create / update / conflict-resolve / set and every `add_history_tasks` is **one logged
//! conditional batch** on the shard's partition, so it is one Paxos round and all or nothing:
//!
//! 1. the shard lease: `UPDATE … SET range_id = ? … IF range_id = ?` (same value both sides);
//! 2. the current-run row per mode: `INSERT … IF NOT EXISTS` (BrandNew), `UPDATE … IF
//!    current_run_id = ?` (+ last write version and state `Completed` for workflow-id reuse), or
//!    a condition without a write that the row points at none of the given runs (bypass);
//! 3. each existing run: one `UPDATE … IF db_record_version = ?` (or `IF next_event_id = ?` when
//!    the record version is 0) carrying all its changes: scalars, map entries added and removed,
//!    signal-requested ids, buffered events; each new run: `INSERT … IF NOT EXISTS`;
//! 4. the history tasks: plain `INSERT`s, applied only with the rest.
//!
//! When the batch does not apply, [`conflicts`] derives the typed error from the rows Cassandra
//! returns (shard ownership lost > current workflow > workflow > generic condition). History
//! nodes (`*_events`) are appended first, outside the batch, as Temporal does. Reading a run is
//! one `SELECT` of one row, so it always sees one committed state.

mod conflicts;
pub(crate) mod replication_dlq;
mod rows;
mod tasks;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use durastore_api::{
    AppendHistoryNodesRequest, ArchetypeId, ConflictResolveMode,
    ConflictResolveWorkflowExecutionRequest, CreateMode, CreateWorkflowExecutionRequest,
    CurrentExecution, ExecutionStore, GetHistoryTasksRequest, HistoryTask, HistoryTaskKey,
    NamespaceId, Page, Result, RunId, SetWorkflowExecutionRequest, ShardId, StoreError,
    TaskCategory, UpdateMode, UpdateWorkflowExecutionRequest, WorkflowId, WorkflowKey,
    WorkflowMutableState, WorkflowMutation, WorkflowSnapshot, validate,
};

use crate::session::{Cass, Stmt, vals};
use crate::shard;
use conflicts::{Batch, Check};
use rows::{CurrentFields, CurrentKey, CurrentRow, is_current_row_run_id};
use tasks::insert_tasks;

/// The store.
pub(crate) struct CassExecutionStore {
    cass: Arc<Cass>,
}

/// The store over a shared session.
pub(crate) fn make(cass: &Arc<Cass>) -> Option<Arc<dyn ExecutionStore>> {
    Some(Arc::new(CassExecutionStore { cass: cass.clone() }))
}

/// Largest payload (blobs and strings) one write may carry. Each blob is limited to 4 MiB, but
/// a write is one CQL request, and Cassandra refuses requests over 16 MiB
/// (`native_transport_max_frame_size`; `max_mutation_size` is half the 32 MiB commit-log
/// segment): checked up front so the caller gets `SizeLimitExceeded`, not a server error.
const MAX_WRITE_BYTES: usize = 15 * 1024 * 1024;

/// Bytes of blob and text values in a bound value (collections and user types included).
fn value_bytes(v: &scylla::value::CqlValue) -> usize {
    use scylla::value::CqlValue as V;
    match v {
        V::Blob(b) => b.len(),
        V::Text(s) | V::Ascii(s) => s.len(),
        V::List(items) | V::Set(items) => items.iter().map(value_bytes).sum(),
        V::Map(entries) => entries
            .iter()
            .map(|(k, v)| value_bytes(k) + value_bytes(v))
            .sum(),
        V::UserDefinedType { fields, .. } => fields
            .iter()
            .filter_map(|(_, v)| v.as_ref())
            .map(value_bytes)
            .sum(),
        V::Tuple(items) => items.iter().flatten().map(value_bytes).sum(),
        _ => 8,
    }
}

// ---------------------------------------------------------------------------------------------
// Validation: everything is checked before the first write (history appends included).

/// A run key, which must not use a run id reserved for current-run rows (the permanent run id
/// and the archetype-derived ids `00000000-0000-0000-0000-0000xxxxxxxx`).
fn validate_key(key: &WorkflowKey) -> Result<()> {
    key.validate()?;
    if is_current_row_run_id(key.run_id.0) {
        return Err(StoreError::invalid_argument(format!(
            "run id {} is reserved for current-run rows",
            key.run_id
        )));
    }
    Ok(())
}

/// The run keys a request writes, none of which may use the reserved run id.
fn reserved_free<'a>(keys: impl IntoIterator<Item = &'a WorkflowKey>) -> Result<()> {
    keys.into_iter().try_for_each(validate_key)
}

// ---------------------------------------------------------------------------------------------
// Building the batches.

/// The statements and conditions of one write, before the shard lease is added.
struct Write<'a> {
    namespace_id: NamespaceId,
    workflow_id: &'a WorkflowId,
    /// The id space of the current-run row the write's conditions name.
    archetype_id: ArchetypeId,
    stmts: Vec<Stmt>,
    checks: Vec<Check>,
}

impl<'a> Write<'a> {
    /// Refuses a write too large for one CQL request (see [`MAX_WRITE_BYTES`]).
    fn check_size(&self) -> Result<()> {
        let bytes: usize = self
            .stmts
            .iter()
            .flat_map(|s| s.vals.iter().flatten())
            .map(value_bytes)
            .sum();
        if bytes > MAX_WRITE_BYTES {
            return Err(StoreError::size_limit(format!(
                "the write carries {bytes} bytes of blobs and ids; one Cassandra request holds \
                 at most {MAX_WRITE_BYTES}"
            )));
        }
        Ok(())
    }

    fn new(key: &'a WorkflowKey, archetype_id: ArchetypeId) -> Self {
        Write {
            namespace_id: key.namespace_id,
            workflow_id: &key.workflow_id,
            archetype_id,
            stmts: Vec::new(),
            checks: Vec::new(),
        }
    }

    /// The current-run row this write's conditions name.
    fn current_key(&self, shard_id: ShardId) -> CurrentKey<'a> {
        CurrentKey {
            shard_id,
            namespace_id: self.namespace_id,
            workflow_id: self.workflow_id,
            archetype_id: self.archetype_id,
        }
    }

    fn current_is(&mut self, shard_id: ShardId, expected: RunId, f: CurrentFields<'_>) {
        self.stmts.push(rows::move_current(
            self.current_key(shard_id),
            expected,
            None,
            f,
        ));
        self.checks.push(Check::CurrentIs {
            run_id: expected,
            reuse_version: None,
        });
    }

    fn current_none_of(&mut self, shard_id: ShardId, runs: Vec<RunId>) {
        self.stmts
            .push(rows::current_is_none_of(self.current_key(shard_id), &runs));
        self.checks.push(Check::CurrentNoneOf(runs));
    }

    fn new_run(&mut self, ks: &str, shard_id: ShardId, s: &WorkflowSnapshot) -> Result<()> {
        self.stmts.push(rows::insert_run(ks, shard_id, s));
        self.checks.push(Check::NewRun(s.key.clone()));
        self.stmts.extend(insert_tasks(shard_id, &s.tasks)?);
        Ok(())
    }

    fn rewrite_run(&mut self, ks: &str, shard_id: ShardId, s: &WorkflowSnapshot) -> Result<()> {
        self.stmts.push(rows::rewrite_run(ks, shard_id, s));
        self.checks.push(Check::Execution {
            key: s.key.clone(),
            db_record_version: s.db_record_version,
            condition: s.condition,
        });
        self.stmts.extend(insert_tasks(shard_id, &s.tasks)?);
        Ok(())
    }

    fn mutate_run(&mut self, ks: &str, shard_id: ShardId, m: &WorkflowMutation) -> Result<()> {
        self.stmts.push(rows::mutate_run(ks, shard_id, m));
        self.checks.push(Check::Execution {
            key: m.key.clone(),
            db_record_version: m.db_record_version,
            condition: m.condition,
        });
        self.stmts.extend(insert_tasks(shard_id, &m.tasks)?);
        Ok(())
    }
}

impl CassExecutionStore {
    fn ks(&self) -> &str {
        self.cass.keyspace()
    }

    /// Appends history nodes (validated already) before the state batch.
    async fn append_all(&self, lists: &[&[AppendHistoryNodesRequest]]) -> Result<()> {
        for list in lists {
            for req in list.iter() {
                crate::history::append_nodes(&self.cass, req).await?;
            }
        }
        Ok(())
    }

    /// Runs a write as one conditional batch together with the shard lease; a batch that does
    /// not apply becomes its typed error.
    async fn commit(&self, shard_id: ShardId, range_id: i64, w: Write<'_>) -> Result<()> {
        let mut stmts = Vec::with_capacity(w.stmts.len() + 1);
        stmts.push(shard::fence(shard_id, range_id));
        stmts.extend(w.stmts);
        let res = self.cass.batch(stmts).await?;
        if res.applied {
            return Ok(());
        }
        let batch = Batch {
            shard_id,
            range_id,
            namespace_id: w.namespace_id,
            workflow_id: w.workflow_id,
            archetype_id: w.archetype_id,
            checks: w.checks,
        };
        Err(batch.explain(&self.cass, &res.rows).await)
    }

    fn create_write<'a>(&self, req: &'a CreateWorkflowExecutionRequest) -> Result<Write<'a>> {
        let s = &req.new_snapshot;
        let key = &s.key;
        let shard_id = req.shard_id;
        let mut w = Write::new(key, req.archetype_id);
        let fields = CurrentFields::of_snapshot(s);
        match &req.mode {
            CreateMode::BrandNew => {
                w.stmts
                    .push(rows::insert_current(w.current_key(shard_id), fields));
                w.checks.push(Check::CurrentAbsent);
            }
            CreateMode::UpdateCurrent {
                previous_run_id,
                previous_last_write_version,
            } => {
                w.stmts.push(rows::move_current(
                    w.current_key(shard_id),
                    *previous_run_id,
                    Some(*previous_last_write_version),
                    fields,
                ));
                w.checks.push(Check::CurrentIs {
                    run_id: *previous_run_id,
                    reuse_version: Some(*previous_last_write_version),
                });
            }
            CreateMode::BypassCurrent => w.current_none_of(shard_id, vec![key.run_id]),
        }
        w.new_run(self.ks(), shard_id, s)?;
        Ok(w)
    }

    fn update_write<'a>(&self, req: &'a UpdateWorkflowExecutionRequest) -> Result<Write<'a>> {
        let m = &req.mutation;
        let new = req.new_snapshot.as_ref();
        let shard_id = req.shard_id;
        let mut w = Write::new(&m.key, req.archetype_id);
        match req.mode {
            UpdateMode::UpdateCurrent => {
                // Continue-as-new moves the row to the new run; otherwise it is refreshed.
                let fields =
                    new.map_or_else(|| CurrentFields::of_mutation(m), CurrentFields::of_snapshot);
                w.current_is(shard_id, m.key.run_id, fields);
            }
            UpdateMode::BypassCurrent => {
                let mut runs = vec![m.key.run_id];
                runs.extend(new.map(|n| n.key.run_id));
                w.current_none_of(shard_id, runs);
            }
            UpdateMode::IgnoreCurrent => {}
        }
        w.mutate_run(self.ks(), shard_id, m)?;
        if let Some(n) = new {
            w.new_run(self.ks(), shard_id, n)?;
        }
        Ok(w)
    }

    fn conflict_resolve_write<'a>(
        &self,
        req: &'a ConflictResolveWorkflowExecutionRequest,
    ) -> Result<Write<'a>> {
        let reset = &req.reset_snapshot;
        let new = req.new_snapshot.as_ref();
        let cur_mut = req.current_mutation.as_ref();
        let shard_id = req.shard_id;
        let mut w = Write::new(&reset.key, req.archetype_id);
        match req.mode {
            ConflictResolveMode::UpdateCurrent => {
                let expected = cur_mut.map_or(reset.key.run_id, |m| m.key.run_id);
                let fields = new.map_or_else(
                    || CurrentFields::of_snapshot(reset),
                    CurrentFields::of_snapshot,
                );
                w.current_is(shard_id, expected, fields);
            }
            ConflictResolveMode::BypassCurrent => {
                let mut runs = vec![reset.key.run_id];
                runs.extend(new.map(|n| n.key.run_id));
                w.current_none_of(shard_id, runs);
            }
        }
        w.rewrite_run(self.ks(), shard_id, reset)?;
        if let Some(m) = cur_mut {
            w.mutate_run(self.ks(), shard_id, m)?;
        }
        if let Some(n) = new {
            w.new_run(self.ks(), shard_id, n)?;
        }
        Ok(w)
    }
}

/// Where the next page of `list_concrete_executions` starts (after this run).
type ListToken = (NamespaceId, String, RunId);

#[async_trait]
impl ExecutionStore for CassExecutionStore {
    async fn create_workflow_execution(&self, req: CreateWorkflowExecutionRequest) -> Result<()> {
        validate::execution::create_request(&req)?;
        reserved_free([&req.new_snapshot.key])?;
        let w = self.create_write(&req)?;
        w.check_size()?;
        self.append_all(&[&req.new_events]).await?;
        self.commit(req.shard_id, req.range_id, w).await
    }

    async fn update_workflow_execution(&self, req: UpdateWorkflowExecutionRequest) -> Result<()> {
        validate::execution::update_request(&req)?;
        reserved_free(
            std::iter::once(&req.mutation.key).chain(req.new_snapshot.as_ref().map(|n| &n.key)),
        )?;
        let w = self.update_write(&req)?;
        w.check_size()?;
        self.append_all(&[&req.mutation_events, &req.new_events])
            .await?;
        self.commit(req.shard_id, req.range_id, w).await
    }

    async fn conflict_resolve_workflow_execution(
        &self,
        req: ConflictResolveWorkflowExecutionRequest,
    ) -> Result<()> {
        validate::execution::conflict_resolve_request(&req)?;
        reserved_free(
            std::iter::once(&req.reset_snapshot.key)
                .chain(req.new_snapshot.as_ref().map(|n| &n.key))
                .chain(req.current_mutation.as_ref().map(|m| &m.key)),
        )?;
        let w = self.conflict_resolve_write(&req)?;
        w.check_size()?;
        self.append_all(&[&req.reset_events, &req.new_events, &req.current_events])
            .await?;
        self.commit(req.shard_id, req.range_id, w).await
    }

    async fn set_workflow_execution(&self, req: SetWorkflowExecutionRequest) -> Result<()> {
        validate::execution::set_request(&req)?;
        reserved_free([&req.snapshot.key])?;
        let mut w = Write::new(&req.snapshot.key, req.archetype_id);
        w.rewrite_run(self.ks(), req.shard_id, &req.snapshot)?;
        w.check_size()?;
        self.commit(req.shard_id, req.range_id, w).await
    }

    async fn get_workflow_execution(
        &self,
        shard_id: ShardId,
        key: &WorkflowKey,
    ) -> Result<WorkflowMutableState> {
        shard_id.validate()?;
        validate_key(key)?;
        // The whole state is one row: one read, one committed state.
        let row = self
            .cass
            .row(&rows::select_run_cql(), rows::run_vals(shard_id, key))
            .await?
            .ok_or_else(|| {
                StoreError::not_found(format!(
                    "workflow run {}/{} not found",
                    key.workflow_id, key.run_id
                ))
            })?;
        rows::parse_state(key.clone(), &row)
    }

    async fn get_current_execution_for_archetype(
        &self,
        shard_id: ShardId,
        namespace_id: NamespaceId,
        id: &WorkflowId,
        archetype_id: ArchetypeId,
    ) -> Result<CurrentExecution> {
        shard_id.validate()?;
        namespace_id.validate()?;
        id.validate()?;
        archetype_id.validate()?;
        let key = CurrentKey {
            shard_id,
            namespace_id,
            workflow_id: id,
            archetype_id,
        };
        let row = self
            .cass
            .row(&rows::select_current_cql(), rows::current_vals(key))
            .await?;
        let current = match row {
            Some(r) => CurrentRow::parse(&r)?,
            None => None,
        };
        current.map(CurrentRow::into_current).ok_or_else(|| {
            StoreError::not_found(format!(
                "{id} (archetype {archetype_id}) has no current run"
            ))
        })
    }

    async fn delete_workflow_execution(&self, shard_id: ShardId, key: &WorkflowKey) -> Result<()> {
        shard_id.validate()?;
        validate_key(key)?;
        // The maps, set and list live in the row: one row delete removes the whole state.
        self.cass
            .exec(&rows::delete_run_cql(), rows::run_vals(shard_id, key))
            .await
    }

    async fn delete_current_execution_for_archetype(
        &self,
        shard_id: ShardId,
        key: &WorkflowKey,
        archetype_id: ArchetypeId,
    ) -> Result<()> {
        shard_id.validate()?;
        validate_key(key)?;
        archetype_id.validate()?;
        let mut v = rows::current_vals(CurrentKey {
            shard_id,
            namespace_id: key.namespace_id,
            workflow_id: &key.workflow_id,
            archetype_id,
        });
        v.extend(vals![key.run_id.0]);
        // Not applied means the row points elsewhere or is gone: nothing to do either way.
        self.cass.cas(&rows::delete_current_cql(), v).await?;
        Ok(())
    }

    async fn list_concrete_executions(
        &self,
        shard_id: ShardId,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<WorkflowMutableState>> {
        shard_id.validate()?;
        let limit = validate::page_size(page_size)?;
        let after: Option<ListToken> = match &next_page_token {
            Some(t) => Some(validate::token::decode(t)?),
            None => None,
        };
        let mut v = vals![shard_id.0];
        if let Some((ns, wf, run)) = &after {
            v.extend(vals![ns.0, wf.as_str(), run.0]);
        }
        let cql = rows::list_runs_cql(after.is_some());
        // Current-run rows interleave with the runs (one per id and archetype) and are skipped; one
        // extra run tells whether another page exists, so the last page has no token.
        let page_rows = i32::try_from((limit + 1).min(100)).unwrap_or(100);
        let mut items: Vec<WorkflowMutableState> = Vec::new();
        let mut state: Option<Vec<u8>> = None;
        'pages: loop {
            let (found, next) = self
                .cass
                .page(&cql, v.clone(), page_rows, state.as_deref())
                .await?;
            for row in &found {
                let key = rows::row_key(row)?;
                if is_current_row_run_id(key.run_id.0) {
                    continue;
                }
                items.push(rows::parse_state(key, row)?);
                if items.len() > limit {
                    break 'pages;
                }
            }
            match next {
                Some(n) => state = Some(n),
                None => break,
            }
        }
        let more = items.len() > limit;
        items.truncate(limit);
        let next_page_token = match items.last() {
            Some(last) if more => {
                let token: ListToken = (
                    last.key.namespace_id,
                    last.key.workflow_id.0.clone(),
                    last.key.run_id,
                );
                Some(validate::token::encode(&token))
            }
            _ => None,
        };
        Ok(Page {
            items,
            next_page_token,
        })
    }

    async fn add_history_tasks(
        &self,
        shard_id: ShardId,
        range_id: i64,
        namespace_id: NamespaceId,
        workflow_id: &WorkflowId,
        tasks: BTreeMap<TaskCategory, Vec<HistoryTask>>,
    ) -> Result<()> {
        shard_id.validate()?;
        namespace_id.validate()?;
        workflow_id.validate()?;
        validate::history_tasks::tasks(&tasks)?;
        let w = Write {
            namespace_id,
            workflow_id,
            // No current-row condition: the archetype names no row here.
            archetype_id: ArchetypeId::WORKFLOW,
            stmts: insert_tasks(shard_id, &tasks)?,
            checks: Vec::new(),
        };
        w.check_size()?;
        self.commit(shard_id, range_id, w).await
    }

    async fn get_history_tasks(&self, req: GetHistoryTasksRequest) -> Result<Page<HistoryTask>> {
        tasks::get_history_tasks(&self.cass, req).await
    }

    async fn complete_history_task(
        &self,
        shard_id: ShardId,
        category: TaskCategory,
        key: HistoryTaskKey,
    ) -> Result<()> {
        tasks::complete_history_task(&self.cass, shard_id, category, key).await
    }

    async fn range_complete_history_tasks(
        &self,
        shard_id: ShardId,
        category: TaskCategory,
        inclusive_min_key: HistoryTaskKey,
        exclusive_max_key: HistoryTaskKey,
    ) -> Result<()> {
        tasks::range_complete_history_tasks(
            &self.cass,
            shard_id,
            category,
            inclusive_min_key,
            exclusive_max_key,
        )
        .await
    }
}
