//! History (shard) tasks: rows of the shard's `executions` partition.
//!
//! Transfer, timer, replication and visibility tasks have their own row types (2, 3, 4, 6, as
//! Temporal numbers them); every other category goes to type 8 (immediate) or 9 (scheduled) with
//! the category id in `workflow_id`. Immediate tasks sit at the sentinel `visibility_ts` and are
//! ordered by `task_id`; scheduled tasks are ordered by `(visibility_ts, task_id)`, the fire time
//! truncated to whole milliseconds (a CQL timestamp's precision, and the contract's).
//!
//! Reads page with the store's own token (the last key + 1, as JSON) rather than the driver's
//! paging state: the token must stay valid across calls and a foreign token must be refused as
//! `InvalidArgument`, which the driver's opaque state cannot promise.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use durastore_api::validate::history_tasks::predicate_time;
use durastore_api::{
    GetHistoryTasksRequest, HistoryTask, HistoryTaskKey, Page, Result, ShardId, StoreError,
    TaskCategory, TaskCategoryKind, truncate_to_millis, validate,
};
use uuid::Uuid;

use super::rows::{DEFAULT_VISIBILITY_MS, task_namespace, task_run, task_workflow};
use crate::session::{CRow, Cass, Stmt, Vals, vals};

/// Where one category's tasks are stored: the clustering prefix before `visibility_ts`.
#[derive(Debug, Clone)]
pub(super) struct TaskRows {
    row_type: i32,
    namespace_id: Uuid,
    workflow_id: String,
    run_id: Uuid,
    scheduled: bool,
}

impl TaskRows {
    /// The rows of `category`; the well-known ids must have their well-known kind.
    pub(super) fn of(category: TaskCategory) -> Result<Self> {
        let scheduled = category.kind == TaskCategoryKind::Scheduled;
        validate::history_tasks::category(category)?;
        let legacy = match category.id {
            1 => Some(2),
            2 => Some(3),
            3 => Some(4),
            4 => Some(6),
            _ => None,
        };
        let (row_type, workflow_id) = match legacy {
            Some(row_type) => (row_type, task_workflow(row_type)),
            None => {
                let row_type = if scheduled { 9 } else { 8 };
                (row_type, category.id.to_string())
            }
        };
        Ok(TaskRows {
            row_type,
            namespace_id: task_namespace(row_type),
            workflow_id,
            run_id: task_run(row_type),
            scheduled,
        })
    }

    /// Bound values of the clustering prefix `type, namespace_id, workflow_id, run_id`.
    fn prefix(&self, shard_id: ShardId) -> Vals {
        vals![
            shard_id.0,
            self.row_type,
            self.namespace_id,
            self.workflow_id.as_str(),
            self.run_id
        ]
    }
}

const PREFIX: &str =
    "shard_id = ? AND type = ? AND namespace_id = ? AND workflow_id = ? AND run_id = ?";
const INSERT_TASK: &str = "INSERT INTO executions (shard_id, type, namespace_id, workflow_id, \
     run_id, visibility_ts, task_id, task_data, task_encoding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// Clamps a fire time used in a predicate into the storable range, at millisecond precision.
fn predicate_ms(t: DateTime<Utc>) -> i64 {
    predicate_time(t).timestamp_millis()
}

/// The (unconditional) INSERTs of validated tasks, for a batch that carries the shard lease.
pub(super) fn insert_tasks(
    shard_id: ShardId,
    tasks: &BTreeMap<TaskCategory, Vec<HistoryTask>>,
) -> Result<Vec<Stmt>> {
    let mut out = Vec::new();
    for (category, list) in tasks {
        let rows = TaskRows::of(*category)?;
        for task in list {
            let ts = if rows.scheduled {
                truncate_to_millis(task.key.fire_time).timestamp_millis()
            } else {
                DEFAULT_VISIBILITY_MS
            };
            let mut v = rows.prefix(shard_id);
            v.extend(vals![
                scylla::value::CqlValue::Timestamp(scylla::value::CqlTimestamp(ts)),
                task.key.task_id,
                &task.blob.data,
                &task.blob.encoding
            ]);
            out.push(Stmt::new(INSERT_TASK, v));
        }
    }
    Ok(out)
}

fn ts(ms: i64) -> scylla::value::CqlValue {
    scylla::value::CqlValue::Timestamp(scylla::value::CqlTimestamp(ms))
}

/// Where the next page of `get_history_tasks` starts: the first key not yet returned.
#[derive(Debug)]
struct TaskPageToken {
    /// Fire time in Unix milliseconds (scheduled categories only).
    fire_ms: Option<i64>,
    /// First task id of the next page (at `fire_ms`, for scheduled categories).
    task_id: i64,
}

impl TaskPageToken {
    /// JSON `[task_id]` (immediate) or `[fire_ms, task_id]` (scheduled) behind the shared
    /// token version byte.
    fn encode(&self) -> Vec<u8> {
        let parts: Vec<i64> = match self.fire_ms {
            Some(ms) => vec![ms, self.task_id],
            None => vec![self.task_id],
        };
        validate::token::encode(&parts)
    }

    fn decode(token: &[u8]) -> Result<Self> {
        let parts: Vec<i64> = validate::token::decode(token)?;
        match parts.as_slice() {
            [task_id] => Ok(TaskPageToken {
                fire_ms: None,
                task_id: *task_id,
            }),
            [ms, task_id] => Ok(TaskPageToken {
                fire_ms: Some(*ms),
                task_id: *task_id,
            }),
            _ => Err(StoreError::invalid_argument("invalid page token")),
        }
    }
}

/// Reads up to `want` rows of a query, following the driver's paging state internally (rows
/// may be large, so no single response has to carry them all).
async fn read_rows(cass: &Cass, cql: &str, vals: Vals, want: usize) -> Result<Vec<CRow>> {
    let page_size = i32::try_from(want.min(1000)).unwrap_or(1000);
    let mut out = Vec::new();
    let mut state: Option<Vec<u8>> = None;
    loop {
        let (rows, next) = cass
            .page(cql, vals.clone(), page_size, state.as_deref())
            .await?;
        out.extend(rows);
        match next {
            Some(n) if out.len() < want => state = Some(n),
            _ => return Ok(out),
        }
    }
}

/// `ExecutionStore::get_history_tasks`.
pub(super) async fn get_history_tasks(
    cass: &Cass,
    req: GetHistoryTasksRequest,
) -> Result<Page<HistoryTask>> {
    req.shard_id.validate()?;
    let limit = validate::page_size(req.batch_size)?;
    let rows = TaskRows::of(req.category)?;
    let token: Option<TaskPageToken> = match &req.next_page_token {
        Some(t) => Some(TaskPageToken::decode(t)?),
        None => None,
    };
    // One extra row tells whether another page exists, so the last page has no token.
    let fetch = limit + 1;
    let found = if rows.scheduled {
        read_scheduled(cass, &rows, &req, token.as_ref(), fetch).await?
    } else {
        read_immediate(cass, &rows, &req, token.as_ref(), fetch).await?
    };
    let more = found.len() > limit;
    let mut items = Vec::with_capacity(found.len().min(limit));
    for row in found.iter().take(limit) {
        items.push(task_from_row(row, rows.scheduled)?);
    }
    let next_page_token = match items.last() {
        Some(last) if more => Some(token_after(&last.key, rows.scheduled).encode()),
        _ => None,
    };
    Ok(Page {
        items,
        next_page_token,
    })
}

/// Up to `fetch` scheduled tasks from the token's key (or the request's minimum) on, before
/// the request's exclusive maximum fire time.
async fn read_scheduled(
    cass: &Cass,
    rows: &TaskRows,
    req: &GetHistoryTasksRequest,
    token: Option<&TaskPageToken>,
    fetch: usize,
) -> Result<Vec<CRow>> {
    let (from_ms, from_id) = match token {
        Some(t) => {
            let ms = t.fire_ms.ok_or_else(|| {
                StoreError::invalid_argument("invalid page token: not a scheduled-task token")
            })?;
            (ms, t.task_id)
        }
        None => (
            predicate_ms(req.inclusive_min_key.fire_time),
            req.inclusive_min_key.task_id,
        ),
    };
    let max_ms = predicate_ms(req.exclusive_max_key.fire_time);
    let mut v = rows.prefix(req.shard_id);
    v.extend(vals![
        ts(from_ms),
        from_id,
        ts(max_ms),
        i32::try_from(fetch).unwrap_or(i32::MAX)
    ]);
    let cql = format!(
        "SELECT visibility_ts, task_id, task_data, task_encoding FROM executions WHERE \
         {PREFIX} AND (visibility_ts, task_id) >= (?, ?) AND (visibility_ts) < (?) LIMIT ?"
    );
    read_rows(cass, &cql, v, fetch).await
}

/// Up to `fetch` immediate tasks from the token's task id (or the request's minimum) on,
/// below the request's exclusive maximum task id.
async fn read_immediate(
    cass: &Cass,
    rows: &TaskRows,
    req: &GetHistoryTasksRequest,
    token: Option<&TaskPageToken>,
    fetch: usize,
) -> Result<Vec<CRow>> {
    let from_id = match token {
        Some(t) if t.fire_ms.is_some() => {
            return Err(StoreError::invalid_argument(
                "invalid page token: not an immediate-task token",
            ));
        }
        Some(t) => t.task_id,
        None => req.inclusive_min_key.task_id,
    };
    let mut v = rows.prefix(req.shard_id);
    v.extend(vals![
        ts(DEFAULT_VISIBILITY_MS),
        from_id,
        req.exclusive_max_key.task_id,
        i32::try_from(fetch).unwrap_or(i32::MAX)
    ]);
    let cql = format!(
        "SELECT task_id, task_data, task_encoding FROM executions WHERE {PREFIX} \
         AND visibility_ts = ? AND task_id >= ? AND task_id < ? LIMIT ?"
    );
    read_rows(cass, &cql, v, fetch).await
}

/// One task row as a [`HistoryTask`].
fn task_from_row(row: &CRow, scheduled: bool) -> Result<HistoryTask> {
    let key = if scheduled {
        HistoryTaskKey {
            fire_time: row
                .opt_time("visibility_ts")?
                .ok_or_else(|| crate::error::corrupt("task without visibility_ts"))?,
            task_id: row.i64("task_id")?,
        }
    } else {
        HistoryTaskKey::immediate(row.i64("task_id")?)
    };
    Ok(HistoryTask {
        key,
        blob: durastore_api::DataBlob::new(row.blob("task_data")?, row.text("task_encoding")?),
    })
}

/// The token of the page after the task at `last`: the next key in the category's order.
fn token_after(last: &HistoryTaskKey, scheduled: bool) -> TaskPageToken {
    match last.task_id.checked_add(1) {
        Some(next) => TaskPageToken {
            fire_ms: scheduled.then(|| last.fire_time.timestamp_millis()),
            task_id: next,
        },
        // The largest task id at this fire time: continue at the next millisecond.
        None if scheduled => TaskPageToken {
            fire_ms: Some(last.fire_time.timestamp_millis() + 1),
            task_id: 0,
        },
        None => TaskPageToken {
            fire_ms: None,
            task_id: i64::MAX,
        },
    }
}

/// `ExecutionStore::complete_history_task`: deletes one task row (idempotent, not fenced).
pub(super) async fn complete_history_task(
    cass: &Cass,
    shard_id: ShardId,
    category: TaskCategory,
    key: HistoryTaskKey,
) -> Result<()> {
    shard_id.validate()?;
    let rows = TaskRows::of(category)?;
    validate::history_tasks::task_key(category, &key)?;
    let ms = if rows.scheduled {
        truncate_to_millis(key.fire_time).timestamp_millis()
    } else {
        DEFAULT_VISIBILITY_MS
    };
    let mut v = rows.prefix(shard_id);
    v.extend(vals![ts(ms), key.task_id]);
    let cql =
        format!("DELETE FROM executions WHERE {PREFIX} AND visibility_ts = ? AND task_id = ?");
    cass.exec(&cql, v).await
}

/// `ExecutionStore::range_complete_history_tasks`: one clustering-range delete, by task id for
/// immediate categories and by fire time only for scheduled ones.
pub(super) async fn range_complete_history_tasks(
    cass: &Cass,
    shard_id: ShardId,
    category: TaskCategory,
    min: HistoryTaskKey,
    max: HistoryTaskKey,
) -> Result<()> {
    shard_id.validate()?;
    let rows = TaskRows::of(category)?;
    let mut v = rows.prefix(shard_id);
    let cql = if rows.scheduled {
        v.extend(vals![
            ts(predicate_ms(min.fire_time)),
            ts(predicate_ms(max.fire_time))
        ]);
        format!(
            "DELETE FROM executions WHERE {PREFIX} AND visibility_ts >= ? AND visibility_ts < ?"
        )
    } else {
        v.extend(vals![ts(DEFAULT_VISIBILITY_MS), min.task_id, max.task_id]);
        format!(
            "DELETE FROM executions WHERE {PREFIX} AND visibility_ts = ? AND task_id >= ? \
             AND task_id < ?"
        )
    };
    cass.exec(&cql, v).await
}
