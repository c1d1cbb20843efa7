//! History (shard) tasks on SQL: part of the ExecutionStore implementation.
//!
//! Categories 1 (transfer), 3 (replication) and 4 (visibility) live in Temporal's legacy
//! per-category tables keyed by task id, category 2 (timer) in `timer_tasks` keyed by
//! (visibility_timestamp, task_id); every other category goes to `history_immediate_tasks` or
//! `history_scheduled_tasks` with its `category_id`. Scheduled fire times are truncated to whole
//! milliseconds on write and in every range predicate, so a key read back compares equal to the
//! key written.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use durastore_api::validate::history_tasks::predicate_time;
use durastore_api::{
    GetHistoryTasksRequest, HistoryTask, HistoryTaskKey, NamespaceId, Page, Result, ShardId,
    StoreError, TaskCategory, TaskCategoryKind, WorkflowId, truncate_to_millis, validate,
};
use serde::{Deserialize, Serialize};

use crate::columns::Columns;
use crate::dialect::row_placeholders;
use crate::driver::SqlTx;
use crate::shard::check_range;
use crate::value::{Row, Value};
use crate::{SqlStore, params};

/// Rows per multi-row INSERT: keeps every statement far below the bind-parameter limits
/// (SQLite 32766, PostgreSQL and MySQL 65535).
const INSERT_CHUNK: usize = 500;

/// What a page query of a scheduled category selects.
const SCHEDULED_COLUMNS: Columns<'static> =
    Columns(&["visibility_timestamp", "task_id", "data", "data_encoding"]);
/// What a page query of an immediate category selects.
const IMMEDIATE_COLUMNS: Columns<'static> = Columns(&["task_id", "data", "data_encoding"]);

/// Where one category's tasks are stored.
#[derive(Debug, Clone, Copy)]
struct TaskTable {
    table: &'static str,
    /// `Some(id)` for the generic tables, which carry a `category_id` column.
    category_id: Option<i32>,
    scheduled: bool,
}

impl TaskTable {
    fn of(category: TaskCategory) -> Result<Self> {
        let scheduled = category.kind == TaskCategoryKind::Scheduled;
        validate::history_tasks::category(category)?;
        let legacy = match category.id {
            1 => Some("transfer_tasks"),
            2 => Some("timer_tasks"),
            3 => Some("replication_tasks"),
            4 => Some("visibility_tasks"),
            _ => None,
        };
        match legacy {
            Some(table) => Ok(TaskTable {
                table,
                category_id: None,
                scheduled,
            }),
            None => Ok(TaskTable {
                table: if scheduled {
                    "history_scheduled_tasks"
                } else {
                    "history_immediate_tasks"
                },
                category_id: Some(category.id),
                scheduled,
            }),
        }
    }

    /// `shard_id = ?[ AND category_id = ?]` and its parameters.
    fn scope(&self, shard_id: ShardId) -> (String, Vec<Value>) {
        match self.category_id {
            Some(c) => (
                "shard_id = ? AND category_id = ?".to_string(),
                params![shard_id.0, c],
            ),
            None => ("shard_id = ?".to_string(), params![shard_id.0]),
        }
    }

    /// One task read from a row of [`SCHEDULED_COLUMNS`] or [`IMMEDIATE_COLUMNS`] (by kind).
    fn read_task(&self, row: &Row) -> Result<HistoryTask> {
        let columns = if self.scheduled {
            SCHEDULED_COLUMNS
        } else {
            IMMEDIATE_COLUMNS
        };
        let row = columns.read(row);
        let task_id = row.i64("task_id")?;
        let key = if self.scheduled {
            HistoryTaskKey {
                fire_time: row.time("visibility_timestamp")?,
                task_id,
            }
        } else {
            HistoryTaskKey::immediate(task_id)
        };
        Ok(HistoryTask {
            key,
            blob: row.blob("data", "data_encoding")?,
        })
    }

    fn insert_columns(&self) -> Vec<&'static str> {
        let mut cols = vec!["shard_id"];
        if self.category_id.is_some() {
            cols.push("category_id");
        }
        if self.scheduled {
            cols.push("visibility_timestamp");
        }
        cols.extend(["task_id", "data", "data_encoding"]);
        cols
    }
}

/// Inserts validated tasks inside the caller's (already fenced) transaction: one multi-row
/// INSERT per category (chunked for very large batches).
pub(crate) async fn insert_tasks(
    tx: &mut dyn SqlTx,
    shard_id: ShardId,
    tasks: &BTreeMap<TaskCategory, Vec<HistoryTask>>,
) -> Result<()> {
    for (category, list) in tasks {
        if list.is_empty() {
            continue;
        }
        let table = TaskTable::of(*category)?;
        let cols = table.insert_columns();
        for chunk in list.chunks(INSERT_CHUNK) {
            let mut values = Vec::with_capacity(chunk.len() * cols.len());
            for task in chunk {
                values.push(Value::from(shard_id.0));
                if let Some(c) = table.category_id {
                    values.push(Value::from(c));
                }
                if table.scheduled {
                    values.push(Value::Time(truncate_to_millis(task.key.fire_time)));
                }
                values.push(Value::from(task.key.task_id));
                values.push(Value::from(task.blob.data.as_slice()));
                values.push(Value::from(&task.blob.encoding));
            }
            let sql = format!(
                "INSERT INTO {} ({}) VALUES {}",
                table.table,
                cols.join(", "),
                row_placeholders(chunk.len(), cols.len())
            );
            tx.execute(&sql, &values).await?;
        }
    }
    Ok(())
}

/// Where the next page of `get_history_tasks` starts.
#[derive(Debug, Serialize, Deserialize)]
struct TaskPageToken {
    /// Fire time in Unix milliseconds (scheduled categories only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fire_ms: Option<i64>,
    /// First task id of the next page (at `fire_ms`, for scheduled categories).
    task_id: i64,
}

/// The page query of a scheduled category: from the token's (fire time, task id), else from
/// the request's minimum key, to the maximum fire time (exclusive).
fn scheduled_page_query(
    table: &TaskTable,
    req: &GetHistoryTasksRequest,
    token: Option<&TaskPageToken>,
    fetch: i64,
) -> Result<(String, Vec<Value>)> {
    let (from_time, from_id) = match token {
        Some(t) => {
            let ms = t.fire_ms.ok_or_else(|| {
                StoreError::invalid_argument("invalid page token: not a scheduled-task token")
            })?;
            let time = DateTime::<Utc>::from_timestamp_millis(ms)
                .ok_or_else(|| StoreError::invalid_argument("invalid page token: bad fire time"))?;
            (time, t.task_id)
        }
        None => (
            predicate_time(req.inclusive_min_key.fire_time),
            req.inclusive_min_key.task_id,
        ),
    };
    let max_time = predicate_time(req.exclusive_max_key.fire_time);
    let (scope, mut values) = table.scope(req.shard_id);
    let sql = format!(
        "SELECT {} FROM {} WHERE {scope} \
         AND ((visibility_timestamp = ? AND task_id >= ?) OR visibility_timestamp > ?) \
         AND visibility_timestamp < ? ORDER BY visibility_timestamp, task_id LIMIT ?",
        SCHEDULED_COLUMNS.list(),
        table.table
    );
    values.extend(params![from_time, from_id, from_time, max_time, fetch]);
    Ok((sql, values))
}

/// The page query of an immediate category: task ids from the token's, else from the
/// request's minimum, to the maximum (exclusive).
fn immediate_page_query(
    table: &TaskTable,
    req: &GetHistoryTasksRequest,
    token: Option<&TaskPageToken>,
    fetch: i64,
) -> Result<(String, Vec<Value>)> {
    let from_id = match token {
        Some(t) if t.fire_ms.is_some() => {
            return Err(StoreError::invalid_argument(
                "invalid page token: not an immediate-task token",
            ));
        }
        Some(t) => t.task_id,
        None => req.inclusive_min_key.task_id,
    };
    let (scope, mut values) = table.scope(req.shard_id);
    let sql = format!(
        "SELECT {} FROM {} WHERE {scope} \
         AND task_id >= ? AND task_id < ? ORDER BY task_id LIMIT ?",
        IMMEDIATE_COLUMNS.list(),
        table.table
    );
    values.extend(params![from_id, req.exclusive_max_key.task_id, fetch]);
    Ok((sql, values))
}

/// Where the page after `last` starts.
fn next_page(table: &TaskTable, last: &HistoryTask) -> TaskPageToken {
    match last.key.task_id.checked_add(1) {
        Some(next) => TaskPageToken {
            fire_ms: table
                .scheduled
                .then(|| last.key.fire_time.timestamp_millis()),
            task_id: next,
        },
        // The largest task id at this fire time: continue at the next millisecond.
        None if table.scheduled => TaskPageToken {
            fire_ms: Some(last.key.fire_time.timestamp_millis() + 1),
            task_id: 0,
        },
        None => TaskPageToken {
            fire_ms: None,
            task_id: i64::MAX,
        },
    }
}

impl SqlStore {
    /// `ExecutionStore::add_history_tasks`: fenced, one INSERT per category.
    pub(crate) async fn add_history_tasks_impl(
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
        let mut tx = self.driver.begin().await?;
        let result = async {
            check_range(&mut *tx, self.dialect(), shard_id, range_id).await?;
            insert_tasks(&mut *tx, shard_id, &tasks).await
        }
        .await;
        SqlStore::finish(tx, result).await
    }

    /// `ExecutionStore::get_history_tasks`: keyset pages over the category's primary key.
    pub(crate) async fn get_history_tasks_impl(
        &self,
        req: GetHistoryTasksRequest,
    ) -> Result<Page<HistoryTask>> {
        req.shard_id.validate()?;
        let limit = validate::page_size(req.batch_size)?;
        let table = TaskTable::of(req.category)?;
        let token: Option<TaskPageToken> = match &req.next_page_token {
            Some(t) => Some(validate::token::decode(t)?),
            None => None,
        };
        // One extra row tells whether another page exists, so the last page has no token.
        let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
        let (sql, values) = if table.scheduled {
            scheduled_page_query(&table, &req, token.as_ref(), fetch)?
        } else {
            immediate_page_query(&table, &req, token.as_ref(), fetch)?
        };
        let rows = self.driver.query(&sql, &values).await?;
        let more = rows.len() > limit;
        let items = rows
            .iter()
            .take(limit)
            .map(|row| table.read_task(row))
            .collect::<Result<Vec<_>>>()?;
        let next_page_token = match items.last() {
            Some(last) if more => Some(validate::token::encode(&next_page(&table, last))),
            _ => None,
        };
        Ok(Page {
            items,
            next_page_token,
        })
    }

    /// `ExecutionStore::complete_history_task`: deletes one task (idempotent).
    pub(crate) async fn complete_history_task_impl(
        &self,
        shard_id: ShardId,
        category: TaskCategory,
        key: HistoryTaskKey,
    ) -> Result<()> {
        shard_id.validate()?;
        let table = TaskTable::of(category)?;
        validate::history_tasks::task_key(category, &key)?;
        let (scope, mut values) = table.scope(shard_id);
        let sql = if table.scheduled {
            values.extend(params![truncate_to_millis(key.fire_time), key.task_id]);
            format!(
                "DELETE FROM {} WHERE {scope} AND visibility_timestamp = ? AND task_id = ?",
                table.table
            )
        } else {
            values.extend(params![key.task_id]);
            format!("DELETE FROM {} WHERE {scope} AND task_id = ?", table.table)
        };
        self.driver.execute(&sql, &values).await?;
        Ok(())
    }

    /// `ExecutionStore::range_complete_history_tasks`: immediate by task id, scheduled by fire
    /// time only.
    pub(crate) async fn range_complete_history_tasks_impl(
        &self,
        shard_id: ShardId,
        category: TaskCategory,
        inclusive_min_key: HistoryTaskKey,
        exclusive_max_key: HistoryTaskKey,
    ) -> Result<()> {
        shard_id.validate()?;
        let table = TaskTable::of(category)?;
        let (scope, mut values) = table.scope(shard_id);
        let sql = if table.scheduled {
            values.extend(params![
                predicate_time(inclusive_min_key.fire_time),
                predicate_time(exclusive_max_key.fire_time)
            ]);
            format!(
                "DELETE FROM {} WHERE {scope} AND visibility_timestamp >= ? \
                 AND visibility_timestamp < ?",
                table.table
            )
        } else {
            values.extend(params![
                inclusive_min_key.task_id,
                exclusive_max_key.task_id
            ]);
            format!(
                "DELETE FROM {} WHERE {scope} AND task_id >= ? AND task_id < ?",
                table.table
            )
        };
        self.driver.execute(&sql, &values).await?;
        Ok(())
    }
}
