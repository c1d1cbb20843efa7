//! One workflow through every durastore store, the way a Temporal-style server drives them.
//!
//! ```text
//! cargo run -p durastore --example walkthrough              # SQLite in a temporary file
//! cargo run -p durastore --example walkthrough -- URL       # any store URL, e.g. postgres://…/db
//! ```
//!
//! A server database needs both schema sets first (`durastore schema setup --url URL` and
//! `durastore schema setup --set visibility --url URL`); SQLite sets itself up. Point it at a
//! scratch database: it leaves its namespace, workflow and queues behind for inspection (under
//! fresh names, on a shard id of its own, so it never takes over a shard a server uses).
//!
//! Every step checks what the store answered; the first surprise ends the program with a message
//! and exit code 1.

use std::collections::BTreeMap;
use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use durastore_api::query::SearchAttributeType;
use durastore_api::*;

type Res<T> = std::result::Result<T, Box<dyn Error>>;

/// Fails the walk with `what` unless `cond` holds.
fn check(cond: bool, what: impl Into<String>) -> Res<()> {
    if cond {
        Ok(())
    } else {
        Err(what.into().into())
    }
}

fn blob(text: &str) -> DataBlob {
    DataBlob::proto3(text.as_bytes())
}

fn task(key: HistoryTaskKey, text: &str) -> HistoryTask {
    HistoryTask::new(key, blob(text))
}

/// The history task ids a shard lease hands out (Temporal's scheme: `range_id << 20` on).
struct TaskIds(i64);

impl TaskIds {
    fn next(&mut self) -> i64 {
        self.0 += 1;
        self.0 - 1
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    // Kept alive until the end: the default database lives in it.
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("walkthrough failed: no temporary directory: {e}");
            return ExitCode::FAILURE;
        }
    };
    let url = arg.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("walk.db").display()));
    match walk(&url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("walkthrough failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The store `name`, or an error saying the backend (or its schema set) lacks it.
fn need<T: ?Sized>(store: &Option<std::sync::Arc<T>>, name: &str) -> Res<std::sync::Arc<T>> {
    store
        .clone()
        .ok_or_else(|| format!("the backend opened no {name} store (is its schema set up?)").into())
}

/// The walk itself. One long function on purpose: it is the example's text, read top to bottom
/// as the numbered steps of one workflow's life, each using what the steps before it made;
/// split into functions it would hand a dozen values from step to step and hide the order.
async fn walk(url: &str) -> Res<()> {
    let stores = durastore::open(url).await?;
    println!(
        "opened {} ({})",
        stores.name(),
        durastore::factory::redact_url(url)
    );
    let namespaces = need(&stores.namespace, "namespace")?;
    let shards = need(&stores.shard, "shard")?;
    let executions = need(&stores.execution, "execution")?;
    let history = need(&stores.history, "history")?;
    let task_queues = need(&stores.task_queue, "task queue")?;
    let visibility = need(&stores.visibility, "visibility")?;
    let cluster = need(&stores.cluster_metadata, "cluster metadata")?;
    let dlq = need(&stores.queue, "queue")?;
    let tag = &Uuid::new_v4().simple().to_string()[..8];

    // 1. The host announces itself, then creates a namespace (its id is a UUID of our choosing).
    let host_id = Uuid::new_v4().as_bytes().to_vec();
    cluster
        .upsert_cluster_membership(UpsertClusterMembershipRequest {
            host_id: host_id.clone(),
            rpc_address: "127.0.0.1".into(),
            rpc_port: 7234,
            role: 2,
            session_start: Utc::now(),
            record_expiry: Duration::from_secs(60),
        })
        .await?;
    let filter = ClusterMemberFilter {
        host_id_equals: Some(host_id),
        ..Default::default()
    };
    let members = cluster.get_cluster_members(filter, 10, None).await?;
    check(members.items.len() == 1, "membership heartbeat not found")?;
    let ns_name = format!("walkthrough-{tag}");
    let ns = NamespaceId::new_random();
    namespaces
        .create_namespace(CreateNamespaceRequest {
            id: ns,
            name: ns_name.clone(),
            detail: blob("namespace detail"),
            is_global: false,
        })
        .await?;
    check(
        namespaces.get_namespace_by_name(&ns_name).await?.id == ns,
        "namespace name does not resolve to its id",
    )?;

    // 2. Acquire a shard nobody uses: create it, then move the lease on as a new owner does.
    let shard = ShardId(1_000_000 + (Uuid::new_v4().as_u128() % 1_000_000) as i32);
    match shards
        .get_or_create_shard(GetOrCreateShardRequest::get(shard))
        .await
    {
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        other => return Err(format!("shard {shard} should not exist yet: {other:?}").into()),
    }
    let info = shards
        .get_or_create_shard(GetOrCreateShardRequest::create_if_missing(
            shard,
            1,
            blob("shard"),
        ))
        .await?;
    let range_id = info.range_id + 1;
    shards
        .update_shard(UpdateShardRequest {
            shard_id: shard,
            range_id,
            previous_range_id: info.range_id,
            data: blob("shard, owned"),
        })
        .await?;
    let mut ids = TaskIds(range_id << 20);

    // 3. Start the workflow: state, first history node (events 1-2) and a transfer task, at once.
    let key = WorkflowKey::new(ns, format!("order-{tag}"), RunId::new_random());
    let branch = HistoryBranch::new_root(TreeId(key.run_id.0), BranchId::new_random());
    let node = |node_id, txn_id, prev_txn_id, events: &str| AppendHistoryNodesRequest {
        shard_id: shard,
        branch: branch.clone(),
        is_new_branch: node_id == 1,
        tree_info: blob("tree info"),
        node_id,
        txn_id,
        prev_txn_id,
        events: blob(events),
    };
    let running = ExecutionStateColumns::new(WorkflowState::Running, WorkflowStatus::Running);
    let transfer_id = ids.next();
    let snapshot = WorkflowSnapshot::new(
        key.clone(),
        blob("info 1"),
        blob("state 1"),
        running.clone(),
        3,
    )
    .with_task(
        TaskCategory::TRANSFER,
        task(HistoryTaskKey::immediate(transfer_id), "workflow task"),
    );
    let txn1 = ids.next();
    let mut create = CreateWorkflowExecutionRequest::new(shard, range_id, snapshot);
    create
        .new_events
        .push(node(1, txn1, 0, "started, workflow task scheduled"));
    executions.create_workflow_execution(create).await?;

    // 4. The transfer queue hands the workflow task to matching; a worker polls and takes it.
    let transfers = executions
        .get_history_tasks(GetHistoryTasksRequest {
            shard_id: shard,
            category: TaskCategory::TRANSFER,
            inclusive_min_key: HistoryTaskKey::immediate(range_id << 20),
            exclusive_max_key: HistoryTaskKey::immediate((range_id + 1) << 20),
            batch_size: 100,
            next_page_token: None,
        })
        .await?;
    check(
        transfers.items.len() == 1,
        format!("expected 1 transfer task, read {}", transfers.items.len()),
    )?;
    let queue = TaskQueueKey::new(
        ns,
        format!("orders-{tag}"),
        TaskType::Workflow,
        TaskQueueFlavor::Classic,
    );
    task_queues
        .create_task_queue(TaskQueueWrite::new(queue.clone(), 1, blob("queue info")))
        .await?;
    // Range id 1 owns task ids 1..=100000 (Temporal's matching blocks).
    let wf_task = TaskRecord::new(1, transfers.items[0].blob.clone());
    task_queues
        .create_tasks(CreateTasksRequest {
            key: queue.clone(),
            range_id: 1,
            tasks: vec![wf_task.clone()],
        })
        .await?;
    executions
        .complete_history_task(shard, TaskCategory::TRANSFER, transfers.items[0].key)
        .await?;
    let polled = task_queues
        .get_tasks(GetTasksRequest::new(queue.clone(), 10))
        .await?;
    check(
        polled.items == [wf_task],
        format!("matching returned {:?}", polled.items),
    )?;
    let done = task_queues
        .complete_tasks_less_than(CompleteTasksLessThanRequest {
            key: queue.clone(),
            subqueue: 0,
            exclusive_max_pass: 0,
            exclusive_max_task_id: 2,
            limit: 100,
            condition_range_id: None,
        })
        .await?;
    check(
        done == 1 || done == -1,
        format!("completing the task deleted {done}"),
    )?;
    check(
        task_queues
            .get_tasks(GetTasksRequest::new(queue, 10))
            .await?
            .items
            .is_empty(),
        "the taken task is still queued",
    )?;

    // 5. The workflow task completes: events 3-5 schedule an activity and start a timer.
    let txn2 = ids.next();
    let vis_started = ids.next();
    let timer_id = ids.next();
    let fire = Utc::now() + chrono::TimeDelta::minutes(10);
    let mut m = WorkflowMutation::new(key.clone(), blob("info 2"), blob("state 2"), running, 6, 2)
        .with_task(
            TaskCategory::VISIBILITY,
            task(HistoryTaskKey::immediate(vis_started), "record started"),
        )
        .with_task(
            TaskCategory::TIMER,
            task(HistoryTaskKey::scheduled(fire, timer_id), "timer-1 fires"),
        );
    m.upsert_activity_infos.insert(5, blob("activity 5"));
    m.upsert_timer_infos
        .insert("timer-1".into(), blob("timer-1"));
    let mut update = UpdateWorkflowExecutionRequest::new(shard, range_id, m);
    update.mutation_events.push(node(
        3,
        txn2,
        txn1,
        "workflow task done, activity scheduled",
    ));
    executions.update_workflow_execution(update).await?;
    let state = executions.get_workflow_execution(shard, &key).await?;
    check(
        state.activity_infos.len() == 1
            && state.timer_infos.len() == 1
            && state.db_record_version == 2,
        format!("after the update: {state:?}"),
    )?;

    // 6. Visibility: the start, a search attribute, then a list and a count that find it.
    visibility
        .add_search_attributes(
            ns,
            BTreeMap::from([("CustomerId".to_string(), SearchAttributeType::Keyword)]),
        )
        .await?;
    let started = VisibilityRecord {
        task_queue: format!("orders-{tag}"),
        shard_id: shard.0,
        ..VisibilityRecord::new(&key, "OrderWorkflow", Utc::now(), vis_started)
    };
    visibility.record_started(started.clone()).await?;
    let upserted = VisibilityRecord {
        search_attributes: BTreeMap::from([(
            "CustomerId".into(),
            SearchAttributeValue::String("c-42".into()),
        )]),
        memo: Some(blob("memo")),
        task_id: ids.next(),
        ..started.clone()
    };
    visibility.upsert(upserted.clone()).await?;
    let q = format!("CustomerId = 'c-42' AND WorkflowId = '{}'", key.workflow_id);
    let listed = visibility
        .list(ListWorkflowExecutionsRequest::new(ns, q.clone()))
        .await?;
    check(
        listed.items.len() == 1 && listed.items[0].run_id == key.run_id,
        format!("list found {:?}", listed.items),
    )?;
    let count = visibility
        .count(CountWorkflowExecutionsRequest::new(ns, q))
        .await?;
    check(count.count == 1, format!("count said {}", count.count))?;

    // 7. The activity completes and so does the workflow (events 6-9): maps emptied, closed.
    let txn3 = ids.next();
    let vis_closed = ids.next();
    let completed = ExecutionStateColumns::new(WorkflowState::Completed, WorkflowStatus::Completed);
    let mut m = WorkflowMutation::new(
        key.clone(),
        blob("info 3"),
        blob("state 3"),
        completed,
        10,
        3,
    )
    .with_task(
        TaskCategory::VISIBILITY,
        task(HistoryTaskKey::immediate(vis_closed), "record closed"),
    );
    m.delete_activity_infos.insert(5);
    m.delete_timer_infos.insert("timer-1".into());
    let mut update = UpdateWorkflowExecutionRequest::new(shard, range_id, m);
    update
        .mutation_events
        .push(node(6, txn3, txn2, "activity done, workflow completed"));
    executions.update_workflow_execution(update).await?;
    let close_time = Utc::now();
    let closed = VisibilityRecord {
        status: WorkflowStatus::Completed,
        close_time: Some(close_time),
        history_length: Some(9),
        task_id: vis_closed,
        ..upserted
    };
    visibility.record_closed(closed).await?;
    // The timer's task is now stale; park it in a DLQ as a task that failed for good would be.
    let timers = executions
        .get_history_tasks(GetHistoryTasksRequest {
            shard_id: shard,
            category: TaskCategory::TIMER,
            inclusive_min_key: HistoryTaskKey::scheduled(DateTime::<Utc>::UNIX_EPOCH, 0),
            exclusive_max_key: HistoryTaskKey::scheduled(fire + chrono::TimeDelta::seconds(1), 0),
            batch_size: 100,
            next_page_token: None,
        })
        .await?;
    check(
        timers.items.len() == 1,
        format!("expected 1 timer task, read {}", timers.items.len()),
    )?;
    let dlq_key = QueueKey {
        queue_type: QueueType(2),
        name: format!("timer-dlq-{tag}"),
    };
    dlq.create_queue(&dlq_key).await?;
    let parked = dlq
        .enqueue_message(&dlq_key, timers.items[0].blob.clone())
        .await?;
    executions
        .complete_history_task(shard, TaskCategory::TIMER, timers.items[0].key)
        .await?;

    // 8. Read everything back.
    let state = executions.get_workflow_execution(shard, &key).await?;
    check(
        state.db_record_version == 3
            && state.next_event_id == 10
            && state.activity_infos.is_empty()
            && state.timer_infos.is_empty(),
        format!("final state: {state:?}"),
    )?;
    let current = executions
        .get_current_execution(shard, ns, &key.workflow_id)
        .await?;
    check(
        current.run_id == key.run_id && current.state.status == WorkflowStatus::Completed,
        format!("current run: {current:?}"),
    )?;
    let nodes = history
        .read_history_branch(ReadHistoryBranchRequest::new(
            shard,
            &branch,
            1,
            i64::MAX,
            100,
        ))
        .await?
        .items;
    let node_ids: Vec<i64> = nodes.iter().map(|n| n.node_id).collect();
    check(node_ids == [1, 3, 6], format!("history nodes {node_ids:?}"))?;
    let record = visibility.get(ns, key.run_id).await?;
    check(
        record.status == WorkflowStatus::Completed && record.close_time.is_some(),
        format!("visibility record: {record:?}"),
    )?;
    let closed_q = format!(
        "ExecutionStatus = 'Completed' AND WorkflowId = '{}'",
        key.workflow_id
    );
    let count = visibility
        .count(CountWorkflowExecutionsRequest::new(ns, closed_q))
        .await?;
    check(
        count.count == 1,
        format!("closed count said {}", count.count),
    )?;
    let messages = dlq.read_messages(&dlq_key, 10, None).await?.items;
    check(
        messages.len() == 1 && messages[0].id == parked,
        "the DLQ lost the parked task",
    )?;

    println!("namespace   {ns_name} ({ns})");
    println!(
        "shard       {shard}, range id {range_id}, task ids from {}",
        range_id << 20
    );
    println!("workflow    {} run {}", key.workflow_id, key.run_id);
    println!(
        "execution   {:?}, next event id {}, db record version {}",
        current.state.status, state.next_event_id, state.db_record_version
    );
    println!("history     tree {} nodes {node_ids:?}", branch.tree_id);
    println!("matching    1 workflow task added, taken and completed");
    println!(
        "visibility  {:?}, closed at {close_time}, {} match",
        record.status, count.count
    );
    println!("dlq         1 parked timer task (message id {parked})");
    stores.backend.close().await?;
    println!("walkthrough OK");
    Ok(())
}
