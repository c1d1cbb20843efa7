//! A worker: what it owns (task queues, a run, a branch) and one unit of each workload.

use std::sync::Arc;

use durastore_api::{
    AppendHistoryNodesRequest, ArchetypeId, BranchId, CountWorkflowExecutionsRequest, CreateMode,
    CreateWorkflowExecutionRequest, ExecutionStateColumns, HistoryBranch,
    ListWorkflowExecutionsRequest, Result, RunId, ShardId, StoreError, TaskQueueKey, TaskType,
    TreeId, UpdateMode, UpdateWorkflowExecutionRequest, Uuid, VisibilityStore, WorkflowKey,
    WorkflowState, WorkflowStatus,
};

use super::ctx::{Ctx, Shard, missing};
use super::lifecycle::Run;
use super::options::{BenchOptions, Workload};
use super::records::*;

/// What one worker owns.
pub(super) struct Worker {
    pub(super) index: u32,
    /// How many workflows this worker has placed on its shards.
    pub(super) shard_turn: usize,
    pub(super) wf_queue: TaskQueueKey,
    pub(super) act_queue: TaskQueueKey,
    pub(super) next_matching_id: i64,
    /// single-op state: a run being updated, runs to read, a branch being appended to
    pub(super) update_run: Option<RunState>,
    pub(super) read_runs: Vec<(ShardId, WorkflowKey)>,
    pub(super) read_next: usize,
    pub(super) branch: Option<(ShardId, HistoryBranch, i64)>,
    pub(super) list_next: usize,
}

/// Index of worker `k`'s shard for its `turn`-th workflow among `n` shards and `c` workers
/// (see [`Worker::next_shard`]); `None` when the shards are too few to give each worker its own.
pub(super) fn own_shard(n: usize, c: usize, k: usize, turn: usize) -> Option<usize> {
    if n < c || k >= n {
        return None;
    }
    let own = (n - k).div_ceil(c);
    Some(k + c * (turn % own))
}

/// A run's CAS state as the worker last wrote it.
pub(super) struct RunState {
    pub(super) shard: ShardId,
    pub(super) range_id: i64,
    pub(super) key: WorkflowKey,
    pub(super) next_event_id: i64,
    pub(super) db_record_version: i64,
    pub(super) cols: ExecutionStateColumns,
}

/// Filters `visibility-list` rotates over.
pub(super) const LIST_QUERIES: &[&str] = &[
    "",
    "ExecutionStatus = 'Running'",
    "WorkflowType = 'bench-type-3'",
    "ExecutionStatus = 'Failed' AND StartTime > '2000-01-01T00:00:00Z'",
];

pub(super) async fn setup_workers(ctx: &Arc<Ctx>, opts: &BenchOptions) -> Result<Vec<Worker>> {
    let mut out = Vec::new();
    for index in 0..opts.concurrency {
        let mut w = Worker {
            index,
            shard_turn: 0,
            wf_queue: matching_key(
                format!("bench-wf-{}-{index}", ctx.run_tag),
                TaskType::Workflow,
            ),
            act_queue: matching_key(
                format!("bench-act-{}-{index}", ctx.run_tag),
                TaskType::Activity,
            ),
            next_matching_id: 1,
            update_run: None,
            read_runs: Vec::new(),
            read_next: 0,
            branch: None,
            list_next: index as usize,
        };
        match opts.workload {
            Workload::Lifecycle | Workload::CreateTasks => {
                create_queue(ctx, &w.wf_queue).await?;
                create_queue(ctx, &w.act_queue).await?;
            }
            Workload::UpdateExecution => w.update_run = Some(w.new_update_run(ctx).await?),
            Workload::GetExecution => {
                // A working set per worker: small enough to stay cached, as a hot run is.
                for _ in 0..16 {
                    let run = w.new_update_run(ctx).await?;
                    w.read_runs.push((run.shard, run.key));
                }
            }
            Workload::AppendHistory => {
                let shard = ctx.shard().id;
                let branch = HistoryBranch::new_root(TreeId::new_random(), BranchId::new_random());
                w.branch = Some((shard, branch, 0));
            }
            Workload::CreateExecution
            | Workload::VisibilityWrite
            | Workload::VisibilityList
            | Workload::VisibilityCountGroup => {}
        }
        out.push(w);
    }
    Ok(out)
}

impl Worker {
    /// The shard of this worker's next workflow. With at least as many shards as workers,
    /// shard `i` (0-based) belongs to worker `i % concurrency`, and a worker goes round its own
    /// shards, as a history host goes round the shards it owns: no two workers write one
    /// shard's rows at once, as in the floor, whose workers replay on a shard each. With fewer
    /// shards than workers, the workers share them round-robin.
    pub(super) fn next_shard<'c>(&mut self, ctx: &'c Ctx) -> &'c Shard {
        match own_shard(
            ctx.shards.len(),
            ctx.workers,
            self.index as usize,
            self.shard_turn,
        ) {
            Some(i) => {
                self.shard_turn += 1;
                &ctx.shards[i]
            }
            None => ctx.shard(),
        }
    }

    pub(super) fn workflow_id(&self, ctx: &Ctx) -> String {
        format!(
            "bench-{}-{}-{}",
            ctx.run_tag,
            self.index,
            Uuid::new_v4().simple()
        )
    }

    /// Creates a run (no history, no tasks) for the update and read workloads.
    pub(super) async fn new_update_run(&self, ctx: &Ctx) -> Result<RunState> {
        let shard = ctx.shard();
        let key = WorkflowKey::new(BENCH_NAMESPACE, self.workflow_id(ctx), RunId::new_random());
        let cols = columns(WorkflowState::Running, WorkflowStatus::Running, now());
        let mut snap = snapshot(key.clone(), cols.clone(), 3);
        snap.activity_infos.insert(5, payload(ACTIVITY_INFO_BYTES));
        ctx.execution
            .create_workflow_execution(CreateWorkflowExecutionRequest {
                shard_id: shard.id,
                range_id: shard.range_id,
                archetype_id: ArchetypeId::WORKFLOW,
                mode: CreateMode::BrandNew,
                new_snapshot: snap,
                new_events: Vec::new(),
            })
            .await?;
        Ok(RunState {
            shard: shard.id,
            range_id: shard.range_id,
            key,
            next_event_id: 3,
            db_record_version: 1,
            cols,
        })
    }

    /// After a failed unit: a single-op worker whose run may be in an unknown state starts a
    /// fresh one on its next update.
    pub(super) fn after_failure(&mut self) {
        self.update_run = None;
    }

    /// One unit of `workload`.
    pub(super) async fn run_unit(&mut self, ctx: &Ctx, workload: Workload) -> Result<()> {
        match workload {
            Workload::Lifecycle => self.lifecycle(ctx).await,
            Workload::CreateExecution => {
                let shard = self.next_shard(ctx);
                let mut wf = Run::new(shard, self.workflow_id(ctx));
                wf.start(ctx, false).await
            }
            Workload::UpdateExecution => {
                let run = match self.update_run.take() {
                    Some(r) => r,
                    None => self.new_update_run(ctx).await?,
                };
                self.update_run = Some(update_bare(ctx, run).await?);
                Ok(())
            }
            Workload::GetExecution => {
                let (shard, key) = &self.read_runs[self.read_next % self.read_runs.len()];
                self.read_next += 1;
                ctx.execution
                    .get_workflow_execution(*shard, key)
                    .await
                    .map(|_| ())
            }
            Workload::AppendHistory => self.append_history(ctx).await,
            Workload::CreateTasks => {
                let id = self.next_matching_id;
                self.next_matching_id += 1;
                let bytes = create_matching_task(ctx, &self.wf_queue, id).await?;
                ctx.wrote(1, bytes);
                Ok(())
            }
            Workload::VisibilityWrite => self.visibility_write(ctx).await,
            Workload::VisibilityList => {
                let query = LIST_QUERIES[self.list_next % LIST_QUERIES.len()];
                self.list_next += 1;
                visibility(ctx)?
                    .list(ListWorkflowExecutionsRequest {
                        namespace_id: BENCH_NAMESPACE,
                        query: query.to_string(),
                        page_size: 20,
                        next_page_token: None,
                        archetype_id: ArchetypeId::WORKFLOW,
                    })
                    .await
                    .map(|_| ())
            }
            Workload::VisibilityCountGroup => visibility(ctx)?
                .count(CountWorkflowExecutionsRequest::new(
                    BENCH_NAMESPACE,
                    "GROUP BY ExecutionStatus",
                ))
                .await
                .map(|_| ()),
        }
    }

    /// `append-history`: one node of two events on the worker's branch.
    async fn append_history(&mut self, ctx: &Ctx) -> Result<()> {
        let Some((shard, branch, appended)) = &mut self.branch else {
            return Err(StoreError::internal("append-history worker has no branch"));
        };
        let node = AppendHistoryNodesRequest {
            shard_id: *shard,
            branch: branch.clone(),
            is_new_branch: *appended == 0,
            tree_info: payload(TREE_INFO_BYTES),
            node_id: 1 + 2 * *appended,
            txn_id: 1 + *appended,
            prev_txn_id: *appended,
            events: payload(2 * EVENT_BYTES),
        };
        let cost = events_cost(std::slice::from_ref(&node));
        ctx.history.append_history_nodes(node).await?;
        *appended += 1;
        ctx.wrote(cost.0, cost.1);
        Ok(())
    }

    /// `visibility-write`: the start and the close record of a fresh workflow.
    async fn visibility_write(&mut self, ctx: &Ctx) -> Result<()> {
        let vis = visibility(ctx)?;
        let shard = self.next_shard(ctx);
        let first = shard.reserve(2);
        let key = WorkflowKey::new(BENCH_NAMESPACE, self.workflow_id(ctx), RunId::new_random());
        let start = now();
        let record = |status, close, task_id| {
            visibility_record(
                &key,
                shard.id,
                "bench-type-lifecycle".to_string(),
                status,
                start,
                close,
                task_id,
            )
        };
        vis.record_started(record(WorkflowStatus::Running, None, first))
            .await?;
        vis.record_closed(record(WorkflowStatus::Completed, Some(now()), first + 1))
            .await?;
        ctx.wrote(2, 0);
        Ok(())
    }
}

/// The visibility store of a visibility workload.
fn visibility(ctx: &Ctx) -> Result<&Arc<dyn VisibilityStore>> {
    ctx.visibility
        .as_ref()
        .ok_or_else(|| missing("visibility", &ctx.backend))
}

/// One bare CAS update of a run (the `update-execution` workload).
pub(super) async fn update_bare(ctx: &Ctx, mut run: RunState) -> Result<RunState> {
    let m = mutation(
        &run.key,
        &run.cols,
        run.next_event_id + 2,
        run.db_record_version + 1,
        run.next_event_id,
    );
    let cost = mutation_cost(&m);
    ctx.execution
        .update_workflow_execution(UpdateWorkflowExecutionRequest {
            shard_id: run.shard,
            range_id: run.range_id,
            archetype_id: ArchetypeId::WORKFLOW,
            mode: UpdateMode::UpdateCurrent,
            mutation: m,
            mutation_events: Vec::new(),
            new_snapshot: None,
            new_events: Vec::new(),
        })
        .await?;
    ctx.transition();
    ctx.wrote(cost.0, cost.1);
    run.next_event_id += 2;
    run.db_record_version += 1;
    Ok(run)
}
