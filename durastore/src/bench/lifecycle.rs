//! The `lifecycle` workload: one workflow with one activity, call by call.

use durastore_api::{
    AppendHistoryNodesRequest, ArchetypeId, BranchId, CompleteTasksLessThanRequest, CreateMode,
    CreateWorkflowExecutionRequest, DataBlob, DateTime, ExecutionStateColumns,
    GetHistoryTasksRequest, GetTasksRequest, HistoryBranch, HistoryTaskKey,
    ReadHistoryBranchRequest, Result, RunId, TaskCategory, TaskType, TreeId, UpdateMode,
    UpdateWorkflowExecutionRequest, Utc, WorkflowKey, WorkflowState, WorkflowStatus,
};

use super::ctx::{Ctx, Shard};
use super::records::*;
use super::worker::Worker;

/// Task ids a lifecycle workflow reserves from its shard (it uses 6).
pub(super) const TASK_BLOCK: i64 = 8;

impl Worker {
    /// One whole workflow (see the module docs for the sequence).
    pub(super) async fn lifecycle(&mut self, ctx: &Ctx) -> Result<()> {
        let shard = self.next_shard(ctx);
        let mut wf = Run::new(shard, self.workflow_id(ctx));
        wf.start(ctx, true).await?;

        // First workflow task: transfer queue -> matching -> started.
        let wft = wf.start_task_id;
        self.dispatch(ctx, &wf, wft, TaskType::Workflow).await?;
        wf.update(ctx, Step::events(1)).await?;

        // Completed, scheduling one activity; the mutable state is read first (cache miss).
        ctx.execution
            .get_workflow_execution(wf.shard.id, &wf.key)
            .await?;
        let act_task = wf.task_id();
        wf.update(
            ctx,
            Step {
                events: 2,
                upsert_activity: true,
                transfer: Some(act_task),
                ..Step::default()
            },
        )
        .await?;
        self.dispatch(ctx, &wf, act_task, TaskType::Activity)
            .await?;
        // Activity started: mutable state only (the started event is written with the result).
        wf.update(
            ctx,
            Step {
                upsert_activity: true,
                ..Step::default()
            },
        )
        .await?;

        // Activity completed: started + completed events, a new workflow task.
        let wft = wf.task_id();
        wf.update(
            ctx,
            Step {
                events: 3,
                delete_activity: true,
                transfer: Some(wft),
                ..Step::default()
            },
        )
        .await?;
        self.dispatch(ctx, &wf, wft, TaskType::Workflow).await?;
        wf.update(ctx, Step::events(1)).await?;

        wf.close(ctx).await
    }

    /// A transfer task reaches matching: the queue processor reads it, matching persists it,
    /// a poller reads it and matching acknowledges it.
    pub(super) async fn dispatch(
        &mut self,
        ctx: &Ctx,
        wf: &Run<'_>,
        task_id: i64,
        kind: TaskType,
    ) -> Result<()> {
        ctx.execution
            .get_history_tasks(GetHistoryTasksRequest {
                shard_id: wf.shard.id,
                category: TaskCategory::TRANSFER,
                inclusive_min_key: HistoryTaskKey::immediate(task_id),
                exclusive_max_key: HistoryTaskKey::immediate(task_id + 1),
                batch_size: 16,
                next_page_token: None,
            })
            .await?;
        let key = match kind {
            TaskType::Activity => self.act_queue.clone(),
            _ => self.wf_queue.clone(),
        };
        let id = self.next_matching_id;
        self.next_matching_id += 1;
        let bytes = create_matching_task(ctx, &key, id).await?;
        ctx.task_queue
            .get_tasks(GetTasksRequest {
                key: key.clone(),
                subqueue: 0,
                inclusive_min_pass: 0,
                inclusive_min_task_id: id,
                exclusive_max_task_id: i64::MAX,
                page_size: 16,
                next_page_token: None,
            })
            .await?;
        let deleted = ctx
            .task_queue
            .complete_tasks_less_than(CompleteTasksLessThanRequest {
                key,
                subqueue: 0,
                exclusive_max_pass: 0,
                exclusive_max_task_id: id + 1,
                limit: 100,
                condition_range_id: None,
            })
            .await?;
        ctx.wrote(1 + deleted.max(1) as u64, bytes);
        Ok(())
    }
}

/// One state transition of a lifecycle run.
#[derive(Default)]
pub(super) struct Step {
    /// Events appended (one history node), 0 for none.
    pub(super) events: i64,
    pub(super) upsert_activity: bool,
    pub(super) delete_activity: bool,
    pub(super) transfer: Option<i64>,
    pub(super) visibility: Option<i64>,
    pub(super) close: bool,
}

impl Step {
    pub(super) fn events(n: i64) -> Self {
        Self {
            events: n,
            ..Self::default()
        }
    }
}

/// Scheduled event id of the bench workflow's one activity (its activity-info key).
pub(super) const ACTIVITY_ID: i64 = 5;

/// A lifecycle run as the history service tracks it.
pub(super) struct Run<'a> {
    pub(super) shard: &'a Shard,
    pub(super) key: WorkflowKey,
    pub(super) branch: HistoryBranch,
    pub(super) cols: ExecutionStateColumns,
    pub(super) start_time: DateTime<Utc>,
    pub(super) next_event_id: i64,
    pub(super) db_record_version: i64,
    pub(super) txn_id: i64,
    pub(super) task_base: i64,
    pub(super) next_task: i64,
    pub(super) start_task_id: i64,
    pub(super) transfer_tasks: u64,
    pub(super) visibility_tasks: u64,
}

impl<'a> Run<'a> {
    pub(super) fn new(shard: &'a Shard, workflow_id: String) -> Self {
        let run_id = RunId::new_random();
        let start_time = now();
        let task_base = shard.reserve(TASK_BLOCK);
        Self {
            shard,
            key: WorkflowKey::new(BENCH_NAMESPACE, workflow_id, run_id),
            // Temporal uses the first run's id as the tree id.
            branch: HistoryBranch::new_root(TreeId(run_id.0), BranchId::new_random()),
            cols: columns(WorkflowState::Running, WorkflowStatus::Running, start_time),
            start_time,
            next_event_id: 1,
            db_record_version: 0,
            txn_id: 0,
            task_base,
            next_task: task_base,
            start_task_id: task_base,
            transfer_tasks: 0,
            visibility_tasks: 0,
        }
    }

    pub(super) fn task_id(&mut self) -> i64 {
        let id = self.next_task;
        self.next_task += 1;
        debug_assert!(id < self.task_base + TASK_BLOCK);
        id
    }

    /// One history node of `n` events at the current next event id.
    pub(super) fn node(&mut self, n: i64) -> AppendHistoryNodesRequest {
        let prev = self.txn_id;
        // Transaction ids only need to grow per branch; Temporal uses task ids.
        self.txn_id += 1;
        let node = AppendHistoryNodesRequest {
            shard_id: self.shard.id,
            branch: self.branch.clone(),
            is_new_branch: self.next_event_id == 1,
            tree_info: if self.next_event_id == 1 {
                payload(TREE_INFO_BYTES)
            } else {
                DataBlob::default()
            },
            node_id: self.next_event_id,
            txn_id: self.txn_id,
            prev_txn_id: prev,
            events: payload(n as usize * EVENT_BYTES),
        };
        self.next_event_id += n;
        node
    }

    /// Start: create (BrandNew) with the first node (started + task scheduled), the first
    /// workflow task and, with `record`, the visibility start.
    pub(super) async fn start(&mut self, ctx: &Ctx, record: bool) -> Result<()> {
        let events = vec![self.node(2)];
        self.start_task_id = self.task_id();
        let mut snap = snapshot(self.key.clone(), self.cols.clone(), self.next_event_id);
        snap.tasks.insert(
            TaskCategory::TRANSFER,
            vec![history_task(self.start_task_id)],
        );
        self.transfer_tasks += 1;
        let vis_task = (record && ctx.visibility.is_some()).then(|| self.task_id());
        if let Some(id) = vis_task {
            snap.tasks
                .insert(TaskCategory::VISIBILITY, vec![history_task(id)]);
            self.visibility_tasks += 1;
        }
        let (rows, bytes) = snapshot_cost(&snap);
        let (erows, ebytes) = events_cost(&events);
        ctx.execution
            .create_workflow_execution(CreateWorkflowExecutionRequest {
                shard_id: self.shard.id,
                range_id: self.shard.range_id,
                archetype_id: ArchetypeId::WORKFLOW,
                mode: CreateMode::BrandNew,
                new_snapshot: snap,
                new_events: events,
            })
            .await?;
        self.db_record_version = 1;
        ctx.transition();
        ctx.wrote(rows + erows, bytes + ebytes);
        if let (Some(vis), Some(task_id)) = (&ctx.visibility, vis_task) {
            let rec = visibility_record(
                &self.key,
                self.shard.id,
                "bench-type-lifecycle".to_string(),
                WorkflowStatus::Running,
                self.start_time,
                None,
                task_id,
            );
            vis.record_started(rec).await?;
            ctx.wrote(1, 0);
        }
        Ok(())
    }

    /// Close: the task completed and the workflow completed, its visibility record closed,
    /// its history read whole, and its transfer and visibility tasks acknowledged.
    async fn close(&mut self, ctx: &Ctx) -> Result<()> {
        let close_task = self.task_id();
        let vis_task = self.task_id();
        self.update(
            ctx,
            Step {
                events: 2,
                transfer: Some(close_task),
                visibility: Some(vis_task),
                close: true,
                ..Step::default()
            },
        )
        .await?;
        if let Some(vis) = &ctx.visibility {
            let rec = visibility_record(
                &self.key,
                self.shard.id,
                "bench-type-lifecycle".to_string(),
                WorkflowStatus::Completed,
                self.start_time,
                Some(now()),
                vis_task,
            );
            vis.record_closed(rec).await?;
            ctx.wrote(1, 0);
        }
        // The history as a client or the close task reads it.
        ctx.history
            .read_history_branch(ReadHistoryBranchRequest {
                shard_id: self.shard.id,
                tree_id: self.branch.tree_id,
                branch_id: self.branch.branch_id,
                min_node_id: 1,
                max_node_id: self.next_event_id,
                page_size: 100,
                next_page_token: None,
                metadata_only: false,
                reverse: false,
            })
            .await?;
        // The queue processors acknowledge this run's tasks.
        for (category, written) in [
            (TaskCategory::TRANSFER, self.transfer_tasks),
            (TaskCategory::VISIBILITY, self.visibility_tasks),
        ] {
            ctx.execution
                .range_complete_history_tasks(
                    self.shard.id,
                    category,
                    HistoryTaskKey::immediate(self.task_base),
                    HistoryTaskKey::immediate(self.task_base + TASK_BLOCK),
                )
                .await?;
            ctx.wrote(written, 0);
        }
        Ok(())
    }

    /// One update (UpdateCurrent) as `step` describes.
    pub(super) async fn update(&mut self, ctx: &Ctx, step: Step) -> Result<()> {
        let condition = self.next_event_id;
        let events = if step.events > 0 {
            vec![self.node(step.events)]
        } else {
            Vec::new()
        };
        if step.close {
            self.cols.state = WorkflowState::Completed;
            self.cols.status = WorkflowStatus::Completed;
        }
        let mut m = mutation(
            &self.key,
            &self.cols,
            self.next_event_id,
            self.db_record_version + 1,
            condition,
        );
        if step.upsert_activity {
            m.upsert_activity_infos
                .insert(ACTIVITY_ID, payload(ACTIVITY_INFO_BYTES));
        }
        if step.delete_activity {
            m.delete_activity_infos.insert(ACTIVITY_ID);
        }
        if let Some(id) = step.transfer {
            m.tasks
                .insert(TaskCategory::TRANSFER, vec![history_task(id)]);
            self.transfer_tasks += 1;
        }
        if let Some(id) = step.visibility.filter(|_| ctx.visibility.is_some()) {
            m.tasks
                .insert(TaskCategory::VISIBILITY, vec![history_task(id)]);
            self.visibility_tasks += 1;
        }
        let (rows, bytes) = mutation_cost(&m);
        let (erows, ebytes) = events_cost(&events);
        ctx.execution
            .update_workflow_execution(UpdateWorkflowExecutionRequest {
                shard_id: self.shard.id,
                range_id: self.shard.range_id,
                archetype_id: ArchetypeId::WORKFLOW,
                mode: UpdateMode::UpdateCurrent,
                mutation: m,
                mutation_events: events,
                new_snapshot: None,
                new_events: Vec::new(),
            })
            .await?;
        self.db_record_version += 1;
        ctx.transition();
        ctx.wrote(rows + erows, bytes + ebytes);
        Ok(())
    }
}
