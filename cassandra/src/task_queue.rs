//! TaskQueueStore on Cassandra: Temporal's matching layout.
//!
//! A queue and all of its tasks live in one partition `(namespace_id, task_queue_name,
//! task_queue_type)` of `tasks` (classic) or `tasks_v2` (fair). The queue's metadata row has
//! `type` = 1 and `task_id` = -12345 (`pass` = 0 in `tasks_v2`); the tasks of subqueue `s` have
//! `type` = `s << 2`. So:
//!
//! - the lease is an LWT on the queue row: create `IF NOT EXISTS`, update and delete
//!   `IF range_id = ?` (a mismatch is `ConditionFailed` naming the stored range id);
//! - `create_tasks` is one conditional batch in that partition: the task INSERTs (with a TTL when
//!   the task has an expiry) plus the range-id check on the queue row, one Paxos round;
//! - `get_tasks` is a clustering slice, `complete_tasks_less_than` a clustering-range DELETE
//!   (all tasks below the bound, whatever the limit: the count is unknown, reported as -1, as in
//!   Temporal).
//!
//! Queues are not listed (`list_task_queues` is `Unsupported`): they are spread over partitions
//! with no ordered scan, and the capability says so.
//!
//! User data lives in `task_queue_user_data`, one partition per namespace: rows with
//! `build_id = ''` hold each queue's data and version, the other rows are the build-id index.
//! An update of several queues is one conditional batch (`IF NOT EXISTS` for version 0,
//! `IF version = ?` otherwise, plus the index changes), so all entries apply or none does.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use durastore_api::{
    CompleteTasksLessThanRequest, CreateTasksRequest, DataBlob, GetTasksRequest, NamespaceId, Page,
    Result, StoreError, TaskQueueFlavor, TaskQueueKey, TaskQueueKind, TaskQueueRecord,
    TaskQueueStore, TaskQueueWrite, TaskRecord, UserDataRecord, UserDataUpdate, validate,
};

use crate::session::{CRow, CasResult, Cass, Stmt, vals};

/// The store.
pub(crate) struct CassTaskQueueStore {
    cass: Arc<Cass>,
}

/// The store over a shared session.
pub(crate) fn make(cass: &Arc<Cass>) -> Option<Arc<dyn TaskQueueStore>> {
    Some(Arc::new(CassTaskQueueStore { cass: cass.clone() }))
}

/// `type` of the queue's metadata row.
const ROW_TYPE_QUEUE: i32 = 1;
/// `task_id` of the queue's metadata row.
const QUEUE_ROW_TASK_ID: i64 = -12345;
/// Largest subqueue whose row type `subqueue << 2` fits the `int` column.
const MAX_SUBQUEUE: i32 = i32::MAX >> 2;
/// Cassandra's largest TTL (10 years, in seconds), Temporal's `maxCassandraTTL`.
const MAX_TTL_SECONDS: i64 = 315_360_000;
/// `build_id` of the rows that hold user data (every other value is a build-id index entry).
const USER_DATA_ROW: &str = "";

/// The shared subqueue check plus this store's limit (the row type packs the subqueue).
fn validate_subqueue(subqueue: i32) -> Result<()> {
    validate::task_queue::subqueue(subqueue)?;
    if subqueue > MAX_SUBQUEUE {
        return Err(StoreError::invalid_argument(format!(
            "subqueue {subqueue} exceeds the limit {MAX_SUBQUEUE}"
        )));
    }
    Ok(())
}

/// The `type` of a subqueue's task rows.
fn task_row_type(subqueue: i32) -> i32 {
    subqueue << 2
}

/// Checks a task against its queue's flavor (and this store's subqueue limit).
fn validate_task(flavor: TaskQueueFlavor, t: &TaskRecord) -> Result<()> {
    validate_subqueue(t.subqueue)?;
    validate::task_queue::task(flavor, t)
}

fn table(flavor: TaskQueueFlavor) -> &'static str {
    match flavor {
        TaskQueueFlavor::Classic => "tasks",
        TaskQueueFlavor::Fair => "tasks_v2",
    }
}

/// The WHERE clause selecting the queue's metadata row.
fn queue_row_where(flavor: TaskQueueFlavor) -> String {
    let pass = match flavor {
        TaskQueueFlavor::Classic => "",
        TaskQueueFlavor::Fair => " AND pass = 0",
    };
    format!(
        "namespace_id = ? AND task_queue_name = ? AND task_queue_type = ? AND type = {ROW_TYPE_QUEUE}{pass} AND task_id = {QUEUE_ROW_TASK_ID}"
    )
}

/// Seconds from now until `expiry`, rounded up, as a CQL TTL: at least 1 (an expiry in the past
/// lets the row vanish at once) and at most Cassandra's 10-year limit.
fn ttl_until(expiry: chrono::DateTime<Utc>) -> i32 {
    let ms = (expiry - Utc::now()).num_milliseconds();
    let secs = ms.saturating_add(999).div_euclid(1000);
    // The clamp keeps the value within i32.
    secs.clamp(1, MAX_TTL_SECONDS) as i32
}

/// The TTL of a queue row: sticky queues with an expiry expire with it (0 = none).
fn queue_ttl(req: &TaskQueueWrite) -> i32 {
    match (req.kind, req.expiry_time) {
        (TaskQueueKind::Sticky, Some(e)) => ttl_until(e),
        _ => 0,
    }
}

fn describe(key: &TaskQueueKey) -> String {
    format!("task queue {:?} (type {:?})", key.name, key.task_type)
}

/// The error of a range-id condition that did not hold, from the row the server returned.
fn range_conflict(key: &TaskQueueKey, expected: i64, res: &CasResult) -> Result<StoreError> {
    let stored = match res.rows.first() {
        Some(r) => r.opt_i64("range_id")?,
        None => None,
    };
    let message = match stored {
        Some(s) => format!(
            "{}: range id {expected} does not match stored {s}",
            describe(key)
        ),
        None => format!("{} does not exist", describe(key)),
    };
    Ok(StoreError::task_queue_range_mismatch(
        message, expected, stored,
    ))
}

/// The range id a conditioned completion expected (only called when it has one).
fn expected_range(req: &CompleteTasksLessThanRequest) -> i64 {
    req.condition_range_id.unwrap_or_default()
}

fn page_limit(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The INSERT of one task row (with `USING TTL`, 0 = none).
fn task_insert(flavor: TaskQueueFlavor) -> String {
    match flavor {
        TaskQueueFlavor::Classic => "INSERT INTO tasks (namespace_id, task_queue_name, task_queue_type, type, task_id, task, task_encoding) VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ?".to_string(),
        TaskQueueFlavor::Fair => "INSERT INTO tasks_v2 (namespace_id, task_queue_name, task_queue_type, type, pass, task_id, task, task_encoding) VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?".to_string(),
    }
}

impl CassTaskQueueStore {
    async fn create_tasks_batch(&self, req: &CreateTasksRequest) -> Result<()> {
        let key = &req.key;
        let (ns, name, tq_type) = (key.namespace_id.0, key.name.as_str(), key.task_type as i32);
        let insert = task_insert(key.flavor);
        let mut stmts = Vec::with_capacity(req.tasks.len() + 1);
        for t in &req.tasks {
            let ttl = t.expiry_time.map_or(0, ttl_until);
            let row_type = task_row_type(t.subqueue);
            let vals = match key.flavor {
                TaskQueueFlavor::Classic => vals![
                    ns,
                    name,
                    tq_type,
                    row_type,
                    t.task_id,
                    &t.blob.data,
                    &t.blob.encoding,
                    ttl
                ],
                TaskQueueFlavor::Fair => vals![
                    ns,
                    name,
                    tq_type,
                    row_type,
                    t.pass,
                    t.task_id,
                    &t.blob.data,
                    &t.blob.encoding,
                    ttl
                ],
            };
            stmts.push(Stmt::new(insert.clone(), vals));
        }
        // The lease check, in the same Paxos round as the inserts. It deletes the queue row's
        // `task` cell, which a queue row never has, instead of re-setting `range_id` to itself:
        // a rewrite would drop the TTL a sticky queue's cells carry and keep its row alive
        // forever, while this changes nothing that is ever read.
        stmts.push(Stmt::new(
            format!(
                "DELETE task FROM {} WHERE {} IF range_id = ?",
                table(key.flavor),
                queue_row_where(key.flavor)
            ),
            vals![ns, name, tq_type, req.range_id],
        ));
        let res = self.cass.batch(stmts).await?;
        if res.applied {
            Ok(())
        } else {
            Err(range_conflict(key, req.range_id, &res)?)
        }
    }

    async fn update_user_data_batch(
        &self,
        namespace_id: NamespaceId,
        updates: &BTreeMap<String, UserDataUpdate>,
    ) -> Result<()> {
        let ns = namespace_id.0;
        let mut stmts = Vec::new();
        for (name, u) in updates {
            stmts.push(if u.version == 0 {
                Stmt::new(
                    format!("INSERT INTO task_queue_user_data (namespace_id, build_id, task_queue_name, data, data_encoding, version) VALUES (?, '{USER_DATA_ROW}', ?, ?, ?, 1) IF NOT EXISTS"),
                    vals![ns, name, &u.data.data, &u.data.encoding],
                )
            } else {
                Stmt::new(
                    format!("UPDATE task_queue_user_data SET data = ?, data_encoding = ?, version = ? WHERE namespace_id = ? AND build_id = '{USER_DATA_ROW}' AND task_queue_name = ? IF version = ?"),
                    vals![&u.data.data, &u.data.encoding, u.version + 1, ns, name, u.version],
                )
            });
        }
        for (name, u) in updates {
            // Statements of one batch share a timestamp, and a deletion wins a tie: an id both
            // removed and added is only added (the SQL store deletes first, then inserts).
            for b in u.build_ids_removed.difference(&u.build_ids_added) {
                stmts.push(Stmt::new(
                    "DELETE FROM task_queue_user_data WHERE namespace_id = ? AND build_id = ? AND task_queue_name = ?",
                    vals![ns, b, name],
                ));
            }
            for b in &u.build_ids_added {
                stmts.push(Stmt::new(
                    "INSERT INTO task_queue_user_data (namespace_id, build_id, task_queue_name) VALUES (?, ?, ?)",
                    vals![ns, b, name],
                ));
            }
        }
        let res = self.cass.batch(stmts).await?;
        if res.applied {
            return Ok(());
        }
        // The server returned the current user-data rows the conditions were checked against
        // (absent rows return nothing): an entry conflicts when its row's state differs from
        // the version the caller read.
        let mut stored: BTreeMap<String, Option<i64>> = BTreeMap::new();
        for r in &res.rows {
            if r.has("task_queue_name") && r.text("build_id")? == USER_DATA_ROW {
                stored.insert(r.text("task_queue_name")?, r.opt_i64("version")?);
            }
        }
        let mut conflicts: Vec<String> = updates
            .iter()
            .filter(|(name, u)| match stored.get(*name) {
                None => u.version != 0,
                Some(v) => u.version == 0 || *v != Some(u.version),
            })
            .map(|(name, _)| name.clone())
            .collect();
        if conflicts.is_empty() {
            // The rows say nothing conflicts, yet the batch did not apply: name every entry
            // rather than none.
            conflicts = updates.keys().cloned().collect();
        }
        Err(StoreError::task_queue_user_data_conflict(conflicts))
    }
}

fn task_of(row: &CRow, subqueue: i32, fair: bool) -> Result<TaskRecord> {
    Ok(TaskRecord {
        subqueue,
        pass: if fair { row.i64("pass")? } else { 0 },
        task_id: row.i64("task_id")?,
        expiry_time: None,
        blob: DataBlob {
            data: row.blob("task")?,
            encoding: row.text("task_encoding")?,
        },
    })
}

#[async_trait]
impl TaskQueueStore for CassTaskQueueStore {
    async fn create_task_queue(&self, req: TaskQueueWrite) -> Result<()> {
        validate::task_queue::key(&req.key)?;
        validate::blob("task queue info", &req.info)?;
        let key = &req.key;
        let (pass_col, pass_val) = match key.flavor {
            TaskQueueFlavor::Classic => ("", ""),
            TaskQueueFlavor::Fair => (", pass", ", 0"),
        };
        let cql = format!(
            "INSERT INTO {} (namespace_id, task_queue_name, task_queue_type, type{pass_col}, task_id, range_id, task_queue, task_queue_encoding) VALUES (?, ?, ?, {ROW_TYPE_QUEUE}{pass_val}, {QUEUE_ROW_TASK_ID}, ?, ?, ?) IF NOT EXISTS USING TTL ?",
            table(key.flavor)
        );
        let res = self
            .cass
            .cas(
                &cql,
                vals![
                    key.namespace_id.0,
                    &key.name,
                    key.task_type as i32,
                    req.range_id,
                    &req.info.data,
                    &req.info.encoding,
                    queue_ttl(&req)
                ],
            )
            .await?;
        if !res.applied {
            return Err(StoreError::already_exists(format!(
                "{} already exists",
                describe(key)
            )));
        }
        Ok(())
    }

    async fn get_task_queue(&self, key: &TaskQueueKey) -> Result<TaskQueueRecord> {
        validate::task_queue::key(key)?;
        let row = self
            .cass
            .row(
                &format!(
                    "SELECT range_id, task_queue, task_queue_encoding FROM {} WHERE {}",
                    table(key.flavor),
                    queue_row_where(key.flavor)
                ),
                vals![key.namespace_id.0, &key.name, key.task_type as i32],
            )
            .await?;
        let not_found = || StoreError::not_found(format!("{} not found", describe(key)));
        let row = row.ok_or_else(not_found)?;
        let range_id = row.opt_i64("range_id")?.ok_or_else(not_found)?;
        Ok(TaskQueueRecord {
            key: key.clone(),
            range_id,
            info: DataBlob {
                data: row.blob("task_queue")?,
                encoding: row.text("task_queue_encoding")?,
            },
        })
    }

    async fn update_task_queue(&self, req: TaskQueueWrite, previous_range_id: i64) -> Result<()> {
        validate::task_queue::key(&req.key)?;
        validate::blob("task queue info", &req.info)?;
        let key = &req.key;
        let cql = format!(
            "UPDATE {} USING TTL ? SET range_id = ?, task_queue = ?, task_queue_encoding = ? WHERE {} IF range_id = ?",
            table(key.flavor),
            queue_row_where(key.flavor)
        );
        let res = self
            .cass
            .cas(
                &cql,
                vals![
                    queue_ttl(&req),
                    req.range_id,
                    &req.info.data,
                    &req.info.encoding,
                    key.namespace_id.0,
                    &key.name,
                    key.task_type as i32,
                    previous_range_id
                ],
            )
            .await?;
        if res.applied {
            Ok(())
        } else {
            Err(range_conflict(key, previous_range_id, &res)?)
        }
    }

    async fn list_task_queues(
        &self,
        _flavor: TaskQueueFlavor,
        _page_size: i32,
        _next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<TaskQueueRecord>> {
        Err(StoreError::unsupported(
            "cassandra: listing task queues needs a scan over every queue partition, which this \
             backend does not offer (capability list_task_queues)",
        ))
    }

    async fn delete_task_queue(&self, key: &TaskQueueKey, range_id: i64) -> Result<()> {
        validate::task_queue::key(key)?;
        let res = self
            .cass
            .cas(
                &format!(
                    "DELETE FROM {} WHERE {} IF range_id = ?",
                    table(key.flavor),
                    queue_row_where(key.flavor)
                ),
                vals![
                    key.namespace_id.0,
                    &key.name,
                    key.task_type as i32,
                    range_id
                ],
            )
            .await?;
        if res.applied {
            Ok(())
        } else {
            Err(range_conflict(key, range_id, &res)?)
        }
    }

    async fn create_tasks(&self, req: CreateTasksRequest) -> Result<()> {
        validate::task_queue::key(&req.key)?;
        for t in &req.tasks {
            validate_task(req.key.flavor, t)?;
        }
        self.create_tasks_batch(&req).await
    }

    async fn get_tasks(&self, req: GetTasksRequest) -> Result<Page<TaskRecord>> {
        validate::task_queue::key(&req.key)?;
        validate_subqueue(req.subqueue)?;
        let page_size = validate::page_size(req.page_size)?;
        let after: Option<(i64, i64)> = req
            .next_page_token
            .as_deref()
            .map(validate::token::decode)
            .transpose()?;
        let key = &req.key;
        let (ns, name, tq_type) = (key.namespace_id.0, key.name.as_str(), key.task_type as i32);
        let row_type = task_row_type(req.subqueue);
        let fair = key.flavor == TaskQueueFlavor::Fair;
        let lim = page_limit(page_size + 1);
        let rows = if fair {
            // A tuple bound on the clustering key (pass, task_id) within the subqueue's type:
            // from (min_pass, min_id), or after the token's last row, with no upper bound.
            let (op, pass, id) = match after {
                Some((p, id)) => (">", p, id),
                None => (">=", req.inclusive_min_pass, req.inclusive_min_task_id),
            };
            self.cass
                .rows(
                    &format!("SELECT pass, task_id, task, task_encoding FROM tasks_v2 WHERE namespace_id = ? AND task_queue_name = ? AND task_queue_type = ? AND (type, pass, task_id) {op} (?, ?, ?) AND (type, pass, task_id) <= (?, ?, ?) LIMIT ?"),
                    vals![ns, name, tq_type, row_type, pass, id, row_type, i64::MAX, i64::MAX, lim],
                )
                .await?
        } else {
            let min = match after {
                Some((_, id)) => id.saturating_add(1).max(req.inclusive_min_task_id),
                None => req.inclusive_min_task_id,
            };
            if min >= req.exclusive_max_task_id {
                Vec::new()
            } else {
                self.cass
                    .rows(
                        "SELECT task_id, task, task_encoding FROM tasks WHERE namespace_id = ? AND task_queue_name = ? AND task_queue_type = ? AND type = ? AND task_id >= ? AND task_id < ? LIMIT ?",
                        vals![ns, name, tq_type, row_type, min, req.exclusive_max_task_id, lim],
                    )
                    .await?
            }
        };
        let more = rows.len() > page_size;
        let items = rows
            .iter()
            .take(page_size)
            .map(|r| task_of(r, req.subqueue, fair))
            .collect::<Result<Vec<_>>>()?;
        let next_page_token = match (more, items.last()) {
            (true, Some(t)) => Some(validate::token::encode(&(t.pass, t.task_id))),
            _ => None,
        };
        Ok(Page {
            items,
            next_page_token,
        })
    }

    async fn complete_tasks_less_than(&self, req: CompleteTasksLessThanRequest) -> Result<i64> {
        validate::task_queue::complete(&req)?;
        validate_subqueue(req.subqueue)?;
        let key = &req.key;
        let (ns, name, tq_type) = (key.namespace_id.0, key.name.as_str(), key.task_type as i32);
        let row_type = task_row_type(req.subqueue);
        // Clustering-range deletions (one range tombstone each) of everything below the bound,
        // as Temporal does: the limit is not applied and the count is unknown.
        match key.flavor {
            TaskQueueFlavor::Classic => {
                self.cass
                    .exec(
                        "DELETE FROM tasks WHERE namespace_id = ? AND task_queue_name = ? AND task_queue_type = ? AND type = ? AND task_id < ?",
                        vals![ns, name, tq_type, row_type, req.exclusive_max_task_id],
                    )
                    .await?;
            }
            TaskQueueFlavor::Fair => {
                // (pass, task_id) < (max_pass, max_id): the passes below, and the bound's pass
                // below the task id.
                let mut stmts = vec![
                    Stmt::new(
                        "DELETE FROM tasks_v2 WHERE namespace_id = ? AND task_queue_name = ? AND task_queue_type = ? AND type = ? AND pass < ?",
                        vals![ns, name, tq_type, row_type, req.exclusive_max_pass],
                    ),
                    Stmt::new(
                        "DELETE FROM tasks_v2 WHERE namespace_id = ? AND task_queue_name = ? AND task_queue_type = ? AND type = ? AND pass = ? AND task_id < ?",
                        vals![
                            ns,
                            name,
                            tq_type,
                            row_type,
                            req.exclusive_max_pass,
                            req.exclusive_max_task_id
                        ],
                    ),
                ];
                if let Some(expected) = req.condition_range_id {
                    // The lease check in the same Paxos round as the deletes (the queue row
                    // shares the partition), written as in `create_tasks_batch`.
                    stmts.push(Stmt::new(
                        format!(
                            "DELETE task FROM tasks_v2 WHERE {} IF range_id = ?",
                            queue_row_where(key.flavor)
                        ),
                        vals![ns, name, tq_type, expected],
                    ));
                }
                let res = self.cass.batch(stmts).await?;
                if !res.applied {
                    return Err(range_conflict(key, expected_range(&req), &res)?);
                }
            }
        }
        Ok(-1)
    }

    async fn get_task_queue_user_data(
        &self,
        namespace_id: NamespaceId,
        task_queue: &str,
    ) -> Result<UserDataRecord> {
        namespace_id.validate()?;
        validate::id_string("task queue name", task_queue)?;
        let row = self
            .cass
            .row(
                &format!("SELECT version, data, data_encoding FROM task_queue_user_data WHERE namespace_id = ? AND build_id = '{USER_DATA_ROW}' AND task_queue_name = ?"),
                vals![namespace_id.0, task_queue],
            )
            .await?
            .ok_or_else(|| {
                StoreError::not_found(format!("no user data for task queue {task_queue:?}"))
            })?;
        Ok(UserDataRecord {
            task_queue: task_queue.to_string(),
            version: row.i64("version")?,
            data: DataBlob {
                data: row.blob("data")?,
                encoding: row.text("data_encoding")?,
            },
        })
    }

    async fn update_task_queue_user_data(
        &self,
        namespace_id: NamespaceId,
        updates: BTreeMap<String, UserDataUpdate>,
    ) -> Result<()> {
        namespace_id.validate()?;
        for (name, u) in &updates {
            validate::id_string("task queue name", name)?;
            validate::non_negative("user data version", u.version)?;
            validate::blob("task queue user data", &u.data)?;
            for b in u.build_ids_added.iter().chain(&u.build_ids_removed) {
                validate::id_string("build id", b)?;
            }
        }
        if updates.is_empty() {
            return Ok(());
        }
        self.update_user_data_batch(namespace_id, &updates).await
    }

    async fn list_task_queue_user_data(
        &self,
        namespace_id: NamespaceId,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<UserDataRecord>> {
        namespace_id.validate()?;
        let page_size = validate::page_size(page_size)?;
        let after: Option<String> = next_page_token
            .as_deref()
            .map(validate::token::decode)
            .transpose()?;
        let lim = page_limit(page_size + 1);
        let cols = "task_queue_name, version, data, data_encoding";
        let rows = match &after {
            None => {
                self.cass
                    .rows(
                        &format!("SELECT {cols} FROM task_queue_user_data WHERE namespace_id = ? AND build_id = '{USER_DATA_ROW}' LIMIT ?"),
                        vals![namespace_id.0, lim],
                    )
                    .await?
            }
            Some(last) => {
                self.cass
                    .rows(
                        &format!("SELECT {cols} FROM task_queue_user_data WHERE namespace_id = ? AND build_id = '{USER_DATA_ROW}' AND task_queue_name > ? LIMIT ?"),
                        vals![namespace_id.0, last, lim],
                    )
                    .await?
            }
        };
        let more = rows.len() > page_size;
        let items = rows
            .iter()
            .take(page_size)
            .map(|r| {
                Ok(UserDataRecord {
                    task_queue: r.text("task_queue_name")?,
                    version: r.i64("version")?,
                    data: DataBlob {
                        data: r.blob("data")?,
                        encoding: r.text("data_encoding")?,
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let next_page_token = match (more, items.last()) {
            (true, Some(l)) => Some(validate::token::encode(&l.task_queue)),
            _ => None,
        };
        Ok(Page {
            items,
            next_page_token,
        })
    }

    async fn get_task_queues_by_build_id(
        &self,
        namespace_id: NamespaceId,
        build_id: &str,
    ) -> Result<Vec<String>> {
        namespace_id.validate()?;
        validate::id_string("build id", build_id)?;
        let rows = self
            .cass
            .rows(
                "SELECT task_queue_name FROM task_queue_user_data WHERE namespace_id = ? AND build_id = ?",
                vals![namespace_id.0, build_id],
            )
            .await?;
        let mut names = rows
            .iter()
            .map(|r| r.text("task_queue_name"))
            .collect::<Result<Vec<_>>>()?;
        // Clustering order of text is byte order already; sorting keeps the contract explicit.
        names.sort();
        Ok(names)
    }

    async fn count_task_queues_by_build_id(
        &self,
        namespace_id: NamespaceId,
        build_id: &str,
    ) -> Result<i64> {
        namespace_id.validate()?;
        validate::id_string("build id", build_id)?;
        let row = self
            .cass
            .row(
                "SELECT COUNT(*) AS n FROM task_queue_user_data WHERE namespace_id = ? AND build_id = ?",
                vals![namespace_id.0, build_id],
            )
            .await?;
        row.map_or(Ok(0), |r| r.i64("n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_bounds() {
        let now = Utc::now();
        assert_eq!(ttl_until(now - chrono::Duration::hours(1)), 1);
        let hour = ttl_until(now + chrono::Duration::hours(1));
        assert!((3599..=3601).contains(&hour), "{hour}");
        assert_eq!(
            ttl_until(now + chrono::Duration::days(365 * 20)),
            MAX_TTL_SECONDS as i32
        );
    }

    #[test]
    fn subqueue_row_types() {
        assert_eq!(task_row_type(0), 0);
        assert_eq!(task_row_type(1), 4);
        assert_ne!(task_row_type(0), ROW_TYPE_QUEUE);
        assert!(validate_subqueue(MAX_SUBQUEUE).is_ok());
        assert!(validate_subqueue(MAX_SUBQUEUE + 1).is_err());
        assert!(validate_subqueue(-1).is_err());
        assert_eq!(task_row_type(MAX_SUBQUEUE), (i32::MAX >> 2) << 2);
    }

    #[test]
    fn queue_row_clause() {
        assert!(queue_row_where(TaskQueueFlavor::Fair).contains("pass = 0"));
        assert!(!queue_row_where(TaskQueueFlavor::Classic).contains("pass"));
    }
}
