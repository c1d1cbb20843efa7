//! `durastore inspect shard|workflow|history|visibility|executions`: read-only views of stored
//! records.

use clap::{Args, Subcommand};
use durastore::StoreRole;
use durastore::config::Config;
use durastore::factory::{OpenMode, open_config, open_with};
use durastore_api::query::Literal;
use durastore_api::{
    ArchetypeId, BranchId, CountWorkflowExecutionsRequest, CurrentExecution, ErrorKind,
    ExecutionStore, GetOrCreateShardRequest, HistoryNode, HistoryStore, HistoryTreeBranch,
    ListWorkflowExecutionsRequest, NamespaceId, ReadHistoryBranchRequest, RunId,
    SearchAttributeValue, ShardId, StoreError, Stores, TreeId, VisibilityRecord, VisibilityStore,
    WorkflowId, WorkflowKey, WorkflowMutableState,
};
use serde_json::json;

use super::{no_target, print_json};
use crate::{CliResult, TargetArgs};

/// Options shared by the inspect subcommands.
#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Print a JSON document instead of text
    #[arg(long)]
    json: bool,
    /// History shard
    #[arg(long)]
    shard: i32,
}

/// The inspect subcommands.
#[derive(Debug, Subcommand)]
pub enum InspectCommand {
    /// A shard's range id and payload size
    Shard {
        #[command(flatten)]
        common: InspectArgs,
    },
    /// A run's mutable-state summary (the current run when --run-id is omitted)
    Workflow {
        #[command(flatten)]
        common: InspectArgs,
        /// Namespace id (UUID), or a namespace name looked up in the namespace store
        #[arg(long, visible_alias = "namespace")]
        namespace_id: String,
        /// Workflow id
        #[arg(long)]
        workflow_id: String,
        /// Run id (UUID); default: the workflow's current run
        #[arg(long)]
        run_id: Option<String>,
        /// CHASM archetype id whose current-run row to read (each archetype has its own);
        /// default: the workflow archetype
        #[arg(long, default_value_t = ArchetypeId::WORKFLOW.0)]
        archetype_id: u32,
    },
    /// A history branch's own nodes with their node and transaction ids and sizes
    History {
        #[command(flatten)]
        common: InspectArgs,
        /// Tree id (UUID)
        #[arg(long)]
        tree_id: String,
        /// Branch id (UUID)
        #[arg(long)]
        branch_id: String,
    },
    /// The executions of a namespace matching a visibility query, in list order (or their count)
    Visibility(VisibilityArgs),
    /// Every run stored on a shard, from the execution store (not from visibility)
    Executions {
        #[command(flatten)]
        common: InspectArgs,
        /// Only the runs of this namespace: its id (UUID), or a name looked up in the namespace
        /// store
        #[arg(long)]
        namespace: Option<String>,
        /// Print at most this many runs
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        limit: u32,
    },
}

/// Options of `inspect visibility`.
#[derive(Debug, Clone, Args)]
pub struct VisibilityArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Print a JSON document instead of text
    #[arg(long)]
    json: bool,
    /// Namespace id (UUID), or a namespace name looked up in the namespace store
    #[arg(long)]
    namespace: String,
    /// Print the number of matching executions (per status with `GROUP BY ExecutionStatus`)
    #[arg(long)]
    count: bool,
    /// Print at most this many executions
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    limit: u32,
    /// The filter, in Temporal's list-filter language, e.g.
    /// "WorkflowType = 'billing' AND ExecutionStatus = 'Running'" (default: every execution)
    #[arg(default_value = "")]
    query: String,
}

async fn open(a: &InspectArgs) -> Result<Stores, StoreError> {
    // Inspection never creates a database: a wrong path is an error, not a new empty file.
    match (&a.target.url, &a.target.config) {
        (Some(u), _) => open_with(u, OpenMode::MustExist).await,
        (None, Some(p)) => {
            let cfg = Config::load(p)?;
            // Resolve early so a bad datastore is reported before anything opens.
            cfg.store_url(StoreRole::Default)?;
            open_config(&cfg, OpenMode::MustExist).await
        }
        (None, None) => Err(no_target()),
    }
}

fn shard_id(n: i32) -> Result<ShardId, StoreError> {
    let s = ShardId(n);
    s.validate()?;
    Ok(s)
}

/// Runs an inspect subcommand.
pub async fn run(cmd: InspectCommand) -> CliResult {
    match cmd {
        InspectCommand::Shard { common } => shard(common).await,
        InspectCommand::Workflow {
            common,
            namespace_id,
            workflow_id,
            run_id,
            archetype_id,
        } => {
            let target = WorkflowTarget {
                ns: &namespace_id,
                id: &workflow_id,
                run: run_id.as_deref(),
                archetype_id: ArchetypeId(archetype_id),
            };
            workflow(common, target).await
        }
        InspectCommand::History {
            common,
            tree_id,
            branch_id,
        } => history(common, &tree_id, &branch_id).await,
        InspectCommand::Visibility(a) => visibility(a).await,
        InspectCommand::Executions {
            common,
            namespace,
            limit,
        } => executions(common, namespace.as_deref(), limit).await,
    }
}

async fn shard(a: InspectArgs) -> CliResult {
    let shard_id = shard_id(a.shard)?;
    let stores = open(&a).await?;
    let store = stores.shard()?;
    let info = store
        .get_or_create_shard(GetOrCreateShardRequest {
            shard_id,
            create_if_missing: None,
        })
        .await?;
    if a.json {
        print_json(&json!({
            "shard_id": info.shard_id.0,
            "range_id": info.range_id,
            "data_bytes": info.data.len(),
            "data_encoding": info.data.encoding,
        }));
    } else {
        outln!("shard:      {}", info.shard_id);
        outln!("range id:   {}", info.range_id);
        outln!(
            "shard info: {} bytes ({})",
            info.data.len(),
            info.data.encoding
        );
    }
    Ok(())
}

/// What `inspect workflow` shows: a run's mutable state and the workflow's current-run row.
struct WorkflowView {
    shard_id: ShardId,
    namespace_id: NamespaceId,
    workflow_id: String,
    run_id: RunId,
    current: Option<CurrentExecution>,
    state: WorkflowMutableState,
}

impl WorkflowView {
    fn is_current(&self) -> bool {
        self.current
            .as_ref()
            .is_some_and(|c| c.run_id == self.run_id)
    }
}

/// Which run `inspect workflow` reads: a namespace, an id, a run (default: the current run of
/// the id in the archetype's id space).
struct WorkflowTarget<'a> {
    ns: &'a str,
    id: &'a str,
    run: Option<&'a str>,
    archetype_id: ArchetypeId,
}

async fn workflow(a: InspectArgs, target: WorkflowTarget<'_>) -> CliResult {
    let view = gather_workflow(&a, target).await?;
    if a.json {
        print_json(&workflow_json(&view));
        return Ok(());
    }
    let lines = workflow_lines(&view);
    let w = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    for (k, v) in lines {
        outln!("{:<w$} {v}", format!("{k}:"));
    }
    Ok(())
}

/// Reads the run `run` names (the current run without it) and the workflow's current row.
async fn gather_workflow(
    a: &InspectArgs,
    target: WorkflowTarget<'_>,
) -> Result<WorkflowView, StoreError> {
    let WorkflowTarget {
        ns,
        id: wf,
        run,
        archetype_id,
    } = target;
    archetype_id.validate()?;
    let shard_id = shard_id(a.shard)?;
    let workflow_id = WorkflowId::new(wf);
    workflow_id.validate()?;
    let run_id: Option<RunId> = run.map(str::parse).transpose()?;
    let stores = open(a).await?;
    let namespace_id = namespace_id(&stores, ns).await?;
    namespace_id.validate()?;
    let exec = stores.execution()?;
    let current = match exec
        .get_current_execution_for_archetype(shard_id, namespace_id, &workflow_id, archetype_id)
        .await
    {
        Ok(c) => Some(c),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let run_id = match (run_id, &current) {
        (Some(r), _) => r,
        (None, Some(c)) => c.run_id,
        (None, None) => {
            return Err(StoreError::not_found(format!(
                "workflow {wf:?} in namespace {namespace_id} has no current run on shard {shard_id}; \
                 pass --run-id"
            )));
        }
    };
    let key = WorkflowKey::new(namespace_id, workflow_id, run_id);
    let state = exec.get_workflow_execution(shard_id, &key).await?;
    Ok(WorkflowView {
        shard_id,
        namespace_id,
        workflow_id: wf.to_string(),
        run_id,
        current,
        state,
    })
}

/// The number of entries in each of a run's maps.
fn map_counts(ms: &WorkflowMutableState) -> serde_json::Value {
    json!({
        "activity_infos": ms.activity_infos.len(),
        "timer_infos": ms.timer_infos.len(),
        "child_execution_infos": ms.child_execution_infos.len(),
        "request_cancel_infos": ms.request_cancel_infos.len(),
        "signal_infos": ms.signal_infos.len(),
        "chasm_nodes": ms.chasm_nodes.len(),
        "signal_requested_ids": ms.signal_requested_ids.len(),
        "buffered_event_batches": ms.buffered_events.len(),
    })
}

fn workflow_json(v: &WorkflowView) -> serde_json::Value {
    let ms = &v.state;
    let current_json = v.current.as_ref().map(|c| {
        json!({
            "run_id": c.run_id.to_string(),
            "state": format!("{:?}", c.state.state),
            "status": c.state.status.name(),
            "create_request_id": c.state.create_request_id,
            "last_write_version": c.last_write_version,
            "start_time": c.state.start_time.map(|t| t.to_rfc3339()),
        })
    });
    json!({
        "shard_id": v.shard_id.0,
        "namespace_id": v.namespace_id.to_string(),
        "workflow_id": v.workflow_id,
        "run_id": v.run_id.to_string(),
        "is_current": v.is_current(),
        "current_run": current_json,
        "next_event_id": ms.next_event_id,
        "db_record_version": ms.db_record_version,
        "last_write_version": ms.last_write_version,
        "execution_info_bytes": ms.execution_info.len(),
        "execution_state_bytes": ms.execution_state.len(),
        "checksum_bytes": ms.checksum.as_ref().map(|c| c.len()),
        "maps": map_counts(ms),
    })
}

/// The text form: one `(label, value)` per line.
fn workflow_lines(v: &WorkflowView) -> Vec<(String, String)> {
    let ms = &v.state;
    let is_current = v.is_current();
    let mut lines: Vec<(String, String)> = vec![
        (
            "workflow".into(),
            format!(
                "{} (namespace {}, shard {})",
                v.workflow_id, v.namespace_id, v.shard_id
            ),
        ),
        (
            "run".into(),
            format!("{}{}", v.run_id, if is_current { " (current)" } else { "" }),
        ),
    ];
    match &v.current {
        Some(c) if !is_current => lines.push(("current run".into(), c.run_id.to_string())),
        Some(_) => {}
        None => lines.push(("current run".into(), "none".into())),
    }
    if let Some(c) = &v.current {
        lines.push((
            "current row".into(),
            format!(
                "state {:?}, status {}, last write version {}",
                c.state.state,
                c.state.status.name(),
                c.last_write_version
            ),
        ));
    }
    lines.push(("next event id".into(), ms.next_event_id.to_string()));
    lines.push(("db record version".into(), ms.db_record_version.to_string()));
    lines.push((
        "last write version".into(),
        ms.last_write_version.to_string(),
    ));
    lines.push((
        "execution info".into(),
        format!(
            "{} bytes ({})",
            ms.execution_info.len(),
            ms.execution_info.encoding
        ),
    ));
    lines.push((
        "execution state".into(),
        format!(
            "{} bytes ({})",
            ms.execution_state.len(),
            ms.execution_state.encoding
        ),
    ));
    lines.push((
        "checksum".into(),
        ms.checksum
            .as_ref()
            .map_or_else(|| "none".to_string(), |c| format!("{} bytes", c.len())),
    ));
    if let Some(m) = map_counts(ms).as_object() {
        for (k, v) in m {
            lines.push((k.replace('_', " "), v.to_string()));
        }
    }
    lines
}

async fn history(a: InspectArgs, tree: &str, branch: &str) -> CliResult {
    let shard_id = shard_id(a.shard)?;
    let tree_id: TreeId = tree.parse()?;
    let branch_id: BranchId = branch.parse()?;
    tree_id.validate()?;
    branch_id.validate()?;
    let stores = open(&a).await?;
    let hist = stores.history()?;
    let branches = hist.get_history_tree(shard_id, tree_id).await?;
    let this = branches.iter().find(|b| b.branch.branch_id == branch_id);
    let min_node_id = this.map_or(1, |b| b.branch.begin_node_id());
    let nodes = read_branch(hist.as_ref(), shard_id, tree_id, branch_id, min_node_id).await?;
    let total: usize = nodes.iter().map(node_bytes).sum();
    if a.json {
        let ancestors: Vec<serde_json::Value> = this
            .map(|b| {
                b.branch
                    .ancestors
                    .iter()
                    .map(|r| {
                        json!({
                            "branch_id": r.branch_id.to_string(),
                            "begin_node_id": r.begin_node_id,
                            "end_node_id": r.end_node_id,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        print_json(&json!({
            "shard_id": shard_id.0,
            "tree_id": tree_id.to_string(),
            "branch_id": branch_id.to_string(),
            "branch_found": this.is_some(),
            "branches_in_tree": branches.len(),
            "ancestors": ancestors,
            "total_bytes": total,
            "nodes": nodes.iter().map(|n| json!({
                "node_id": n.node_id,
                "txn_id": n.txn_id,
                "prev_txn_id": n.prev_txn_id,
                "bytes": node_bytes(n),
                "encoding": n.events.as_ref().map(|e| e.encoding.clone()),
            })).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    outln!("tree {tree_id}, branch {branch_id} (shard {shard_id})");
    print_branch_row(this, branches.len());
    print_nodes(&nodes, total);
    Ok(())
}

/// Every node a branch holds itself (not its ancestors'), from `min_node_id` on, all pages.
async fn read_branch(
    hist: &dyn HistoryStore,
    shard_id: ShardId,
    tree_id: TreeId,
    branch_id: BranchId,
    min_node_id: i64,
) -> Result<Vec<HistoryNode>, StoreError> {
    let mut nodes = Vec::new();
    let mut token = None;
    loop {
        let page = hist
            .read_history_branch(ReadHistoryBranchRequest {
                shard_id,
                tree_id,
                branch_id,
                min_node_id,
                max_node_id: i64::MAX,
                page_size: 1000,
                next_page_token: token,
                metadata_only: false,
                reverse: false,
            })
            .await?;
        nodes.extend(page.items);
        token = page.next_page_token;
        if token.is_none() {
            return Ok(nodes);
        }
    }
}

fn node_bytes(n: &HistoryNode) -> usize {
    n.events.as_ref().map_or(0, |e| e.len())
}

/// The branch's tree row in text: its ancestors, or that it has none.
fn print_branch_row(this: Option<&HistoryTreeBranch>, branches: usize) {
    match this {
        None => outln!("branch: no tree row ({branches} other branches in the tree)"),
        Some(b) => {
            outln!("branches in tree: {branches}");
            if b.branch.ancestors.is_empty() {
                outln!("ancestors: none (root branch)");
            }
            for r in &b.branch.ancestors {
                outln!(
                    "ancestor: branch {} nodes [{}, {})",
                    r.branch_id,
                    r.begin_node_id,
                    r.end_node_id
                );
            }
        }
    }
}

/// The nodes as a table, then their number and total size.
fn print_nodes(nodes: &[HistoryNode], total: usize) {
    outln!(
        "{:>10}  {:>10}  {:>12}  {:>10}  ENCODING",
        "NODE",
        "TXN",
        "PREV TXN",
        "BYTES"
    );
    for n in nodes {
        outln!(
            "{:>10}  {:>10}  {:>12}  {:>10}  {}",
            n.node_id,
            n.txn_id,
            n.prev_txn_id,
            node_bytes(n),
            n.events.as_ref().map_or("", |e| e.encoding.as_str())
        );
    }
    outln!("{} nodes, {total} bytes", nodes.len());
}

/// `inspect executions`: the runs the execution store holds on a shard, in its list order.
async fn executions(a: InspectArgs, ns: Option<&str>, limit: u32) -> CliResult {
    let shard_id = shard_id(a.shard)?;
    let stores = open(&a).await?;
    let namespace = match ns {
        Some(text) => Some(namespace_id(&stores, text).await?),
        None => None,
    };
    let exec = stores.execution()?;
    let (runs, more) = list_runs(exec.as_ref(), shard_id, namespace, limit as usize).await?;
    if a.json {
        print_json(&json!({
            "shard_id": shard_id.0,
            "namespace_id": namespace.map(|n| n.to_string()),
            "executions": runs.iter().map(|ms| json!({
                "namespace_id": ms.key.namespace_id.to_string(),
                "workflow_id": ms.key.workflow_id.as_str(),
                "run_id": ms.key.run_id.to_string(),
                "next_event_id": ms.next_event_id,
                "db_record_version": ms.db_record_version,
                "last_write_version": ms.last_write_version,
            })).collect::<Vec<_>>(),
            "truncated": more,
        }));
        return Ok(());
    }
    outln!(
        "{:<36}  {:<36}  {:>10}  WORKFLOW ID",
        "NAMESPACE ID",
        "RUN ID",
        "NEXT EVENT"
    );
    for ms in &runs {
        outln!(
            "{:<36}  {:<36}  {:>10}  {}",
            ms.key.namespace_id.to_string(),
            ms.key.run_id.to_string(),
            ms.next_event_id,
            ms.key.workflow_id
        );
    }
    let plural = if runs.len() == 1 { "run" } else { "runs" };
    if more {
        outln!(
            "{} {plural} shown; more on the shard (raise --limit)",
            runs.len()
        );
    } else {
        outln!("{} {plural}", runs.len());
    }
    Ok(())
}

/// Up to `limit` runs of the shard (of `namespace` only, when given) through
/// `ExecutionStore::list_concrete_executions`, and whether more exist.
async fn list_runs(
    exec: &dyn ExecutionStore,
    shard_id: ShardId,
    namespace: Option<NamespaceId>,
    limit: usize,
) -> Result<(Vec<WorkflowMutableState>, bool), StoreError> {
    let mut runs = Vec::new();
    let mut token = None;
    loop {
        // Whole run states with their maps: modest pages.
        let page = exec.list_concrete_executions(shard_id, 100, token).await?;
        for ms in page.items {
            if namespace.is_some_and(|n| ms.key.namespace_id != n) {
                continue;
            }
            if runs.len() == limit {
                return Ok((runs, true));
            }
            runs.push(ms);
        }
        token = page.next_page_token;
        if token.is_none() {
            return Ok((runs, false));
        }
    }
}

/// Opens the stores whose visibility store `inspect visibility` reads: `--url`, or the config's
/// `visibilityStore` (its `defaultStore` when that is the same datastore).
async fn open_visibility(t: &TargetArgs) -> Result<Stores, StoreError> {
    match (&t.url, &t.config) {
        (Some(u), _) => open_with(u, OpenMode::MustExist).await,
        (None, Some(p)) => {
            let cfg = Config::load(p)?;
            cfg.store_url(StoreRole::Visibility)?;
            open_config(&cfg, OpenMode::MustExist).await
        }
        (None, None) => Err(no_target()),
    }
}

/// `--namespace`: a UUID, else a name resolved through the namespace store.
async fn namespace_id(stores: &Stores, text: &str) -> Result<NamespaceId, StoreError> {
    if let Ok(id) = text.parse::<NamespaceId>() {
        id.validate()?;
        return Ok(id);
    }
    let ns = stores.namespace().map_err(|e| {
        StoreError::invalid_argument(format!(
            "--namespace {text:?} is not a UUID, and the name cannot be looked up: {}",
            e.message()
        ))
    })?;
    match ns.get_namespace_by_name(text).await {
        Ok(rec) => Ok(rec.id),
        Err(e) if e.kind() == ErrorKind::NotFound => Err(StoreError::not_found(format!(
            "no namespace named {text:?} (pass the namespace id to read a namespace this \
             datastore does not know)"
        ))),
        Err(e) => Err(e),
    }
}

fn time_text(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn search_attribute_json(v: &SearchAttributeValue) -> serde_json::Value {
    match v {
        SearchAttributeValue::String(s) => json!(s),
        SearchAttributeValue::Int(i) => json!(i),
        SearchAttributeValue::Double(d) => json!(d),
        SearchAttributeValue::Bool(b) => json!(b),
        SearchAttributeValue::Datetime(t) => json!(time_text(t)),
        SearchAttributeValue::KeywordList(l) => json!(l),
    }
}

fn execution_json(r: &VisibilityRecord) -> serde_json::Value {
    let attrs: serde_json::Map<String, serde_json::Value> = r
        .search_attributes
        .iter()
        .map(|(k, v)| (k.clone(), search_attribute_json(v)))
        .collect();
    json!({
        "workflow_id": r.workflow_id,
        "run_id": r.run_id.to_string(),
        "workflow_type": r.workflow_type,
        "status": r.status.name(),
        "task_queue": r.task_queue,
        "start_time": time_text(&r.start_time),
        "execution_time": time_text(&r.execution_time),
        "close_time": r.close_time.as_ref().map(time_text),
        "history_length": r.history_length,
        "history_size_bytes": r.history_size_bytes,
        "execution_duration_nanos": r.execution_duration_nanos,
        "state_transition_count": r.state_transition_count,
        "parent_workflow_id": r.parent_workflow_id,
        "parent_run_id": r.parent_run_id.map(|x| x.to_string()),
        "root_workflow_id": r.root_workflow_id,
        "root_run_id": r.root_run_id.map(|x| x.to_string()),
        "task_id": r.task_id,
        "shard_id": r.shard_id,
        "memo_bytes": r.memo.as_ref().map(|m| m.len()),
        "memo_encoding": r.memo.as_ref().map(|m| m.encoding.clone()),
        "search_attributes": attrs,
    })
}

async fn visibility(a: VisibilityArgs) -> CliResult {
    let stores = open_visibility(&a.target).await?;
    let store = stores.visibility()?;
    let ns = namespace_id(&stores, &a.namespace).await?;
    if a.count {
        return count_visibility(store.as_ref(), ns, &a).await;
    }
    let (rows, more) = list_records(store.as_ref(), ns, &a.query, a.limit as usize).await?;
    if a.json {
        print_json(&json!({
            "namespace_id": ns.to_string(),
            "query": a.query,
            "executions": rows.iter().map(execution_json).collect::<Vec<_>>(),
            "truncated": more,
        }));
        return Ok(());
    }
    print_records(&rows, more);
    Ok(())
}

/// `inspect visibility --count`: the total and, with `GROUP BY`, one line per group.
async fn count_visibility(
    store: &dyn VisibilityStore,
    ns: NamespaceId,
    a: &VisibilityArgs,
) -> CliResult {
    let res = store
        .count(CountWorkflowExecutionsRequest::new(ns, a.query.clone()))
        .await?;
    let groups: Vec<(String, i64)> = res
        .groups
        .iter()
        .map(|(values, n)| {
            let label = values
                .iter()
                .map(|v| match v {
                    Literal::Status(s) => s.name().to_string(),
                    other => format!("{other:?}"),
                })
                .collect::<Vec<_>>()
                .join(", ");
            (label, *n)
        })
        .collect();
    if a.json {
        print_json(&json!({
            "namespace_id": ns.to_string(),
            "query": a.query,
            "count": res.count,
            "groups": groups.iter().map(|(g, n)| json!({"ExecutionStatus": g, "count": n})).collect::<Vec<_>>(),
        }));
    } else {
        for (g, n) in &groups {
            outln!("{g:<16} {n}");
        }
        outln!("{} matching executions", res.count);
    }
    Ok(())
}

/// Up to `limit` records matching `query`, page by page, and whether more match.
async fn list_records(
    store: &dyn VisibilityStore,
    ns: NamespaceId,
    query: &str,
    limit: usize,
) -> Result<(Vec<VisibilityRecord>, bool), StoreError> {
    let mut rows: Vec<VisibilityRecord> = Vec::new();
    let mut token = None;
    loop {
        let want = (limit - rows.len()).min(1000);
        let page = store
            .list(ListWorkflowExecutionsRequest {
                namespace_id: ns,
                query: query.to_string(),
                page_size: i32::try_from(want).unwrap_or(1000),
                next_page_token: token,
                archetype_id: ArchetypeId::WORKFLOW,
            })
            .await?;
        rows.extend(page.items);
        token = page.next_page_token;
        if token.is_none() {
            return Ok((rows, false));
        }
        if rows.len() >= limit {
            return Ok((rows, true));
        }
    }
}

/// The records as a table, columns as wide as their widest cell, then how many were shown.
fn print_records(rows: &[VisibilityRecord], more: bool) {
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.workflow_id.clone(),
                r.run_id.to_string(),
                r.workflow_type.clone(),
                r.status.name().to_string(),
                time_text(&r.start_time),
                r.close_time
                    .as_ref()
                    .map_or_else(|| "-".to_string(), time_text),
            ]
        })
        .collect();
    let head = [
        "WORKFLOW ID",
        "RUN ID",
        "TYPE",
        "STATUS",
        "START TIME",
        "CLOSE TIME",
    ];
    let mut w: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for c in &cells {
        for (i, v) in c.iter().enumerate() {
            w[i] = w[i].max(v.chars().count());
        }
    }
    let line = |c: &[&str]| {
        let parts: Vec<String> = c
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{v:<width$}", width = w[i]))
            .collect();
        parts.join("  ").trim_end().to_string()
    };
    outln!("{}", line(&head));
    for c in &cells {
        let refs: Vec<&str> = c.iter().map(String::as_str).collect();
        outln!("{}", line(&refs));
    }
    let plural = |n: usize| if n == 1 { "execution" } else { "executions" };
    if more {
        outln!(
            "{} {} shown; more match (raise --limit, or narrow the query)",
            rows.len(),
            plural(rows.len())
        );
    } else {
        outln!("{} {}", rows.len(), plural(rows.len()));
    }
}
