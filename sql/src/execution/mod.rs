//! ExecutionStore on SQL: workflow mutable state (this file; `rows.rs` for the execution and
//! current-run rows, `children.rs` for the maps and sets of a run, `read.rs` for whole-state
//! reads) and history tasks (`tasks.rs`).
//!
//! Every create / update / conflict-resolve / set runs as one transaction whose first statement
//! is the shard fence ([`check_range`]), so `ShardOwnershipLost` wins over every other failed
//! condition. The remaining conditions are checked in priority order, ahead of the writes they
//! guard: current-run row (`CurrentWorkflowConditionFailed`), then execution rows
//! (`WorkflowConditionFailed` / `ConditionFailed`); any failure rolls the transaction back.
//! History nodes are appended before the transaction, as Temporal does. Everything is validated
//! before the first write.

mod children;
mod read;
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
    WorkflowMutableState, WorkflowMutation, WorkflowSnapshot, WorkflowState, validate,
};
use serde::{Deserialize, Serialize};

use crate::SqlStore;
use crate::driver::SqlTx;
use crate::shard::check_range;
use rows::{CurrentFields, CurrentKey, CurrentRow, ExecutionFields};
use tasks::insert_tasks;

pub(crate) fn make(store: &Arc<SqlStore>) -> Option<Arc<dyn ExecutionStore>> {
    Some(store.clone() as Arc<dyn ExecutionStore>)
}

// ---------------------------------------------------------------------------------------------
// Current-row conditions.

fn current_conflict(message: String, found: Option<&CurrentRow>) -> StoreError {
    StoreError::current_workflow_condition_failed(message, found.map(CurrentRow::conflict))
}

/// The current row must exist and point at `expected`.
fn require_current(
    found: Option<&CurrentRow>,
    expected: RunId,
    workflow_id: &WorkflowId,
) -> Result<()> {
    match found {
        Some(c) if c.run_id == expected => Ok(()),
        Some(c) => Err(current_conflict(
            format!(
                "workflow {workflow_id}: current run is {}, expected {expected}",
                c.run_id
            ),
            found,
        )),
        None => Err(current_conflict(
            format!("workflow {workflow_id}: no current run, expected {expected}"),
            None,
        )),
    }
}

/// The current row must not point at any of `runs`.
fn require_not_current(
    found: Option<&CurrentRow>,
    runs: &[RunId],
    workflow_id: &WorkflowId,
) -> Result<()> {
    match found {
        Some(c) if runs.contains(&c.run_id) => Err(current_conflict(
            format!(
                "workflow {workflow_id}: run {} is current, but the write bypasses the current run",
                c.run_id
            ),
            found,
        )),
        _ => Ok(()),
    }
}

async fn append_all(store: &SqlStore, lists: &[&[AppendHistoryNodesRequest]]) -> Result<()> {
    for list in lists {
        for req in list.iter() {
            crate::history::append_nodes(store, req).await?;
        }
    }
    Ok(())
}

/// Writes a whole new run: execution row (`WorkflowConditionFailed` if it exists), child rows,
/// tasks. The current row is the caller's business.
async fn write_new_run(
    tx: &mut dyn SqlTx,
    store: &SqlStore,
    shard_id: ShardId,
    s: &WorkflowSnapshot,
) -> Result<()> {
    rows::insert_execution(
        tx,
        store.dialect(),
        shard_id,
        ExecutionFields::of_snapshot(s),
    )
    .await?;
    children::insert_snapshot_children(tx, shard_id, s).await?;
    insert_tasks(tx, shard_id, &s.tasks).await
}

/// Rewrites an existing run's whole state (reset / set); the CAS was checked by the caller.
async fn rewrite_run(tx: &mut dyn SqlTx, shard_id: ShardId, s: &WorkflowSnapshot) -> Result<()> {
    rows::update_execution(tx, shard_id, ExecutionFields::of_snapshot(s)).await?;
    children::delete_children(tx, shard_id, &s.key).await?;
    children::insert_snapshot_children(tx, shard_id, s).await?;
    insert_tasks(tx, shard_id, &s.tasks).await
}

/// Applies a mutation to an existing run; the CAS was checked by the caller.
async fn apply_mutation(
    tx: &mut dyn SqlTx,
    store: &SqlStore,
    shard_id: ShardId,
    m: &WorkflowMutation,
) -> Result<()> {
    rows::update_execution(tx, shard_id, ExecutionFields::of_mutation(m)).await?;
    children::apply_mutation_children(tx, store.dialect(), shard_id, m).await?;
    insert_tasks(tx, shard_id, &m.tasks).await
}

async fn check_cas(
    tx: &mut dyn SqlTx,
    store: &SqlStore,
    shard_id: ShardId,
    key: &WorkflowKey,
    db_record_version: i64,
    condition: i64,
) -> Result<()> {
    let stored = rows::lock_execution(tx, store.dialect(), shard_id, key).await?;
    rows::check_execution_cas(key, stored, db_record_version, condition)
}

// ---------------------------------------------------------------------------------------------
// The operations.

impl SqlStore {
    async fn create_tx(
        &self,
        tx: &mut dyn SqlTx,
        req: &CreateWorkflowExecutionRequest,
    ) -> Result<()> {
        let d = self.dialect();
        let s = &req.new_snapshot;
        let key = &s.key;
        check_range(tx, d, req.shard_id, req.range_id).await?;
        let ck = CurrentKey::of(req.shard_id, key, req.archetype_id);
        let current = rows::lock_current(tx, d, ck).await?;
        match &req.mode {
            CreateMode::BrandNew => {
                if let Some(c) = &current {
                    return Err(current_conflict(
                        format!(
                            "workflow {} already has current run {}",
                            key.workflow_id, c.run_id
                        ),
                        Some(c),
                    ));
                }
            }
            CreateMode::UpdateCurrent {
                previous_run_id,
                previous_last_write_version,
            } => {
                require_current(current.as_ref(), *previous_run_id, &key.workflow_id)?;
                if let Some(c) = &current
                    && (c.last_write_version != *previous_last_write_version
                        || c.columns.state != WorkflowState::Completed)
                {
                    return Err(current_conflict(
                        format!(
                            "workflow {}: current run {} has last write version {} and state \
                             {:?}; reuse needs version {} and state Completed",
                            key.workflow_id,
                            c.run_id,
                            c.last_write_version,
                            c.columns.state,
                            previous_last_write_version
                        ),
                        Some(c),
                    ));
                }
            }
            CreateMode::BypassCurrent => {
                require_not_current(current.as_ref(), &[key.run_id], &key.workflow_id)?;
            }
        }
        write_new_run(tx, self, req.shard_id, s).await?;
        let fields = CurrentFields::of_snapshot(s);
        match &req.mode {
            CreateMode::BrandNew => {
                let inserted = rows::insert_current(tx, d, ck, fields).await?;
                if !inserted {
                    // A concurrent creator committed its current row after our read.
                    let found = rows::share_current(tx, d, ck).await?;
                    return Err(current_conflict(
                        format!("workflow {} already has a current run", key.workflow_id),
                        found.as_ref(),
                    ));
                }
            }
            CreateMode::UpdateCurrent {
                previous_run_id, ..
            } => {
                rows::update_current(tx, ck, *previous_run_id, fields).await?;
            }
            CreateMode::BypassCurrent => {}
        }
        Ok(())
    }

    async fn update_tx(
        &self,
        tx: &mut dyn SqlTx,
        req: &UpdateWorkflowExecutionRequest,
    ) -> Result<()> {
        let d = self.dialect();
        let m = &req.mutation;
        let key = &m.key;
        let new = req.new_snapshot.as_ref();
        check_range(tx, d, req.shard_id, req.range_id).await?;
        let ck = CurrentKey::of(req.shard_id, key, req.archetype_id);
        match req.mode {
            UpdateMode::UpdateCurrent => {
                let current = rows::lock_current(tx, d, ck).await?;
                require_current(current.as_ref(), key.run_id, &key.workflow_id)?;
            }
            UpdateMode::BypassCurrent => {
                let current = rows::lock_current(tx, d, ck).await?;
                let mut runs = vec![key.run_id];
                runs.extend(new.map(|n| n.key.run_id));
                require_not_current(current.as_ref(), &runs, &key.workflow_id)?;
            }
            UpdateMode::IgnoreCurrent => {}
        }
        check_cas(
            tx,
            self,
            req.shard_id,
            key,
            m.db_record_version,
            m.condition,
        )
        .await?;
        if let Some(n) = new {
            write_new_run(tx, self, req.shard_id, n).await?;
        }
        apply_mutation(tx, self, req.shard_id, m).await?;
        if req.mode == UpdateMode::UpdateCurrent {
            let fields = match new {
                Some(n) => CurrentFields::of_snapshot(n),
                None => CurrentFields::of_mutation(m),
            };
            rows::update_current(tx, ck, key.run_id, fields).await?;
        }
        Ok(())
    }

    async fn conflict_resolve_tx(
        &self,
        tx: &mut dyn SqlTx,
        req: &ConflictResolveWorkflowExecutionRequest,
    ) -> Result<()> {
        let d = self.dialect();
        let reset = &req.reset_snapshot;
        let key = &reset.key;
        let new = req.new_snapshot.as_ref();
        let cur_mut = req.current_mutation.as_ref();
        check_range(tx, d, req.shard_id, req.range_id).await?;
        let ck = CurrentKey::of(req.shard_id, key, req.archetype_id);
        let current = rows::lock_current(tx, d, ck).await?;
        let expected_current = cur_mut.map_or(key.run_id, |m| m.key.run_id);
        match req.mode {
            ConflictResolveMode::UpdateCurrent => {
                require_current(current.as_ref(), expected_current, &key.workflow_id)?;
            }
            ConflictResolveMode::BypassCurrent => {
                let mut runs = vec![key.run_id];
                runs.extend(new.map(|n| n.key.run_id));
                require_not_current(current.as_ref(), &runs, &key.workflow_id)?;
            }
        }
        check_cas(
            tx,
            self,
            req.shard_id,
            key,
            reset.db_record_version,
            reset.condition,
        )
        .await?;
        if let Some(m) = cur_mut {
            check_cas(
                tx,
                self,
                req.shard_id,
                &m.key,
                m.db_record_version,
                m.condition,
            )
            .await?;
        }
        if let Some(n) = new {
            write_new_run(tx, self, req.shard_id, n).await?;
        }
        rewrite_run(tx, req.shard_id, reset).await?;
        if let Some(m) = cur_mut {
            apply_mutation(tx, self, req.shard_id, m).await?;
        }
        if req.mode == ConflictResolveMode::UpdateCurrent {
            let fields = match new {
                Some(n) => CurrentFields::of_snapshot(n),
                None => CurrentFields::of_snapshot(reset),
            };
            rows::update_current(tx, ck, expected_current, fields).await?;
        }
        Ok(())
    }

    async fn set_tx(&self, tx: &mut dyn SqlTx, req: &SetWorkflowExecutionRequest) -> Result<()> {
        let s = &req.snapshot;
        check_range(tx, self.dialect(), req.shard_id, req.range_id).await?;
        check_cas(
            tx,
            self,
            req.shard_id,
            &s.key,
            s.db_record_version,
            s.condition,
        )
        .await?;
        rewrite_run(tx, req.shard_id, s).await
    }
}

/// Where the next page of `list_concrete_executions` starts (after this run).
#[derive(Debug, Serialize, Deserialize)]
struct ListToken {
    namespace_id: NamespaceId,
    workflow_id: String,
    run_id: RunId,
}

#[async_trait]
impl ExecutionStore for SqlStore {
    async fn create_workflow_execution(&self, req: CreateWorkflowExecutionRequest) -> Result<()> {
        validate::execution::create_request(&req)?;
        append_all(self, &[&req.new_events]).await?;
        let mut tx = self.driver.begin().await?;
        let result = self.create_tx(&mut *tx, &req).await;
        SqlStore::finish(tx, result).await
    }

    async fn update_workflow_execution(&self, req: UpdateWorkflowExecutionRequest) -> Result<()> {
        validate::execution::update_request(&req)?;
        append_all(self, &[&req.mutation_events, &req.new_events]).await?;
        let mut tx = self.driver.begin().await?;
        let result = self.update_tx(&mut *tx, &req).await;
        SqlStore::finish(tx, result).await
    }

    async fn conflict_resolve_workflow_execution(
        &self,
        req: ConflictResolveWorkflowExecutionRequest,
    ) -> Result<()> {
        validate::execution::conflict_resolve_request(&req)?;
        append_all(
            self,
            &[&req.reset_events, &req.new_events, &req.current_events],
        )
        .await?;
        let mut tx = self.driver.begin().await?;
        let result = self.conflict_resolve_tx(&mut *tx, &req).await;
        SqlStore::finish(tx, result).await
    }

    async fn set_workflow_execution(&self, req: SetWorkflowExecutionRequest) -> Result<()> {
        validate::execution::set_request(&req)?;
        let mut tx = self.driver.begin().await?;
        let result = self.set_tx(&mut *tx, &req).await;
        SqlStore::finish(tx, result).await
    }

    async fn get_workflow_execution(
        &self,
        shard_id: ShardId,
        key: &WorkflowKey,
    ) -> Result<WorkflowMutableState> {
        shard_id.validate()?;
        key.validate()?;
        // One snapshot for all nine reads: a concurrent update must not show half its rows.
        let mut tx = self.driver.begin_read().await?;
        let state = read::read_state(tx.as_mut(), shard_id, key).await;
        SqlStore::finish(tx, state).await?.ok_or_else(|| {
            StoreError::not_found(format!(
                "workflow run {}/{} not found",
                key.workflow_id, key.run_id
            ))
        })
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
            id,
            archetype_id,
        };
        rows::read_current(&*self.driver, key)
            .await?
            .map(CurrentRow::into_current)
            .ok_or_else(|| {
                StoreError::not_found(format!(
                    "{id} (archetype {archetype_id}) has no current run"
                ))
            })
    }

    async fn delete_workflow_execution(&self, shard_id: ShardId, key: &WorkflowKey) -> Result<()> {
        shard_id.validate()?;
        key.validate()?;
        let mut tx = self.driver.begin().await?;
        let result = children::delete_run(&mut *tx, shard_id, key).await;
        SqlStore::finish(tx, result).await
    }

    async fn delete_current_execution_for_archetype(
        &self,
        shard_id: ShardId,
        key: &WorkflowKey,
        archetype_id: ArchetypeId,
    ) -> Result<()> {
        shard_id.validate()?;
        key.validate()?;
        archetype_id.validate()?;
        let ck = CurrentKey::of(shard_id, key, archetype_id);
        rows::delete_current(&*self.driver, ck, key.run_id).await
    }

    async fn list_concrete_executions(
        &self,
        shard_id: ShardId,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<WorkflowMutableState>> {
        shard_id.validate()?;
        let limit = validate::page_size(page_size)?;
        let after = match &next_page_token {
            Some(t) => {
                let token: ListToken = validate::token::decode(t)?;
                Some(WorkflowKey::new(
                    token.namespace_id,
                    token.workflow_id,
                    token.run_id,
                ))
            }
            None => None,
        };
        // One extra key tells whether another page exists, so the last page has no token.
        let mut keys =
            read::list_run_keys(&*self.driver, shard_id, after.as_ref(), limit + 1).await?;
        let more = keys.len() > limit;
        keys.truncate(limit);
        let mut items = Vec::with_capacity(keys.len());
        for key in &keys {
            // A run deleted between the key scan and this read is simply skipped.
            let mut tx = self.driver.begin_read().await?;
            let state = read::read_state(tx.as_mut(), shard_id, key).await;
            if let Some(state) = SqlStore::finish(tx, state).await? {
                items.push(state);
            }
        }
        let next_page_token = match keys.last() {
            Some(last) if more => Some(validate::token::encode(&ListToken {
                namespace_id: last.namespace_id,
                workflow_id: last.workflow_id.0.clone(),
                run_id: last.run_id,
            })),
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
        self.add_history_tasks_impl(shard_id, range_id, namespace_id, workflow_id, tasks)
            .await
    }

    async fn get_history_tasks(&self, req: GetHistoryTasksRequest) -> Result<Page<HistoryTask>> {
        self.get_history_tasks_impl(req).await
    }

    async fn complete_history_task(
        &self,
        shard_id: ShardId,
        category: TaskCategory,
        key: HistoryTaskKey,
    ) -> Result<()> {
        self.complete_history_task_impl(shard_id, category, key)
            .await
    }

    async fn range_complete_history_tasks(
        &self,
        shard_id: ShardId,
        category: TaskCategory,
        inclusive_min_key: HistoryTaskKey,
        exclusive_max_key: HistoryTaskKey,
    ) -> Result<()> {
        self.range_complete_history_tasks_impl(
            shard_id,
            category,
            inclusive_min_key,
            exclusive_max_key,
        )
        .await
    }
}
