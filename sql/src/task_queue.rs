//! TaskQueueStore on SQL: classic queues in `task_queues`/`tasks`, fair queues in
//! `task_queues_v2`/`tasks_v2`, user data in `task_queue_user_data` with the
//! `build_id_to_task_queue` index.
//!
//! A queue's SQL identity is Temporal's: `task_queue_id` = namespace id (16 bytes) ‖ name bytes ‖
//! one task-type byte; the tasks of subqueue `s > 0` set the type byte's high bit and append `s`
//! as an unsigned LEB128 varint. `range_hash` spreads queues over the key space (see
//! [`range_hash`]). Queue kind and expiry are not stored: SQL has no TTL (as in Temporal).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use durastore_api::{
    CompleteTasksLessThanRequest, CreateTasksRequest, GetTasksRequest, NamespaceId, Page, Result,
    StoreError, TaskQueueFlavor, TaskQueueKey, TaskQueueRecord, TaskQueueStore, TaskQueueWrite,
    TaskRecord, TaskType, UserDataRecord, UserDataUpdate, validate,
};
use serde::{Deserialize, Serialize};

use crate::columns::Columns;
use crate::dialect::row_placeholders;
use crate::driver::SqlTx;
use crate::paging::{hex, keyset_page, unhex};
use crate::value::Value;
use crate::{SqlStore, params};

pub(crate) fn make(store: &Arc<SqlStore>) -> Option<Arc<dyn TaskQueueStore>> {
    Some(store.clone() as Arc<dyn TaskQueueStore>)
}

/// Rows per multi-row INSERT, far below every database's bind-parameter limit.
const INSERT_CHUNK: usize = 200;

/// The `range_hash` of a queue id: farmhash `Fingerprint32`, as a Temporal server computes it,
/// so queues a Temporal server wrote into a Temporal-created database are found by durastore and
/// the other way round. Schema 1.0 used FNV-1a; version 1.1's data step
/// [`crate::schema_tables::DATA_STEP_RANGE_HASH`] rewrites rows written with it.
pub fn range_hash(id: &[u8]) -> i64 {
    i64::from(farmhash::fingerprint32(id))
}

/// The `task_queue_id` of a queue's subqueue (0 is the queue row itself and its default tasks).
fn task_queue_id(key: &TaskQueueKey, subqueue: i32) -> Vec<u8> {
    let mut id = Vec::with_capacity(16 + key.name.len() + 6);
    id.extend_from_slice(key.namespace_id.as_bytes());
    id.extend_from_slice(key.name.as_bytes());
    let type_byte = key.task_type as i32 as u8;
    if subqueue <= 0 {
        id.push(type_byte);
    } else {
        id.push(type_byte | 0x80);
        let mut v = subqueue as u32;
        loop {
            let low = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                id.push(low);
                break;
            }
            id.push(low | 0x80);
        }
    }
    id
}

/// Decodes a queue row's `task_queue_id` (no subqueue suffix) back into its key; `None` for ids
/// this store would not have written.
fn decode_queue_id(id: &[u8], flavor: TaskQueueFlavor) -> Option<TaskQueueKey> {
    if id.len() < 18 {
        return None;
    }
    let (ns, rest) = id.split_at(16);
    let (name, type_byte) = rest.split_at(rest.len() - 1);
    let task_type = TaskType::from_i32(i32::from(*type_byte.first()?))?;
    let name = std::str::from_utf8(name).ok()?.to_string();
    Some(TaskQueueKey {
        namespace_id: NamespaceId::from_slice(ns).ok()?,
        name,
        task_type,
        flavor,
    })
}

fn queue_table(flavor: TaskQueueFlavor) -> &'static str {
    match flavor {
        TaskQueueFlavor::Classic => "task_queues",
        TaskQueueFlavor::Fair => "task_queues_v2",
    }
}

fn task_table(flavor: TaskQueueFlavor) -> &'static str {
    match flavor {
        TaskQueueFlavor::Classic => "tasks",
        TaskQueueFlavor::Fair => "tasks_v2",
    }
}

/// A queue's primary key values: (range_hash, task_queue_id).
fn queue_pk(key: &TaskQueueKey, subqueue: i32) -> (i64, Vec<u8>) {
    let id = task_queue_id(key, subqueue);
    (range_hash(&id), id)
}

/// What a page of a fair queue's tasks selects.
const FAIR_TASK_COLUMNS: Columns = Columns(&["pass", "task_id", "data", "data_encoding"]);
/// What a page of a classic queue's tasks selects (no pass column).
const TASK_COLUMNS: Columns = Columns(&["task_id", "data", "data_encoding"]);
/// What a read of one queue's user data selects.
const USER_DATA_COLUMNS: Columns = Columns(&["version", "data", "data_encoding"]);
/// What the task queues of a build id select.
const BUILD_ID_COLUMNS: Columns = Columns(&["task_queue_name"]);

/// Reads a queue's range id inside `tx` with an exclusive row lock, or `None` if it is missing.
async fn lock_range(
    store: &SqlStore,
    tx: &mut dyn SqlTx,
    key: &TaskQueueKey,
) -> Result<Option<i64>> {
    lock_range_with(tx, key, store.dialect().lock_update()).await
}

/// Reads a queue's range id inside `tx` with the row lock `lock`, or `None` if it is missing.
async fn lock_range_with(
    tx: &mut dyn SqlTx,
    key: &TaskQueueKey,
    lock: &str,
) -> Result<Option<i64>> {
    let (hash, id) = queue_pk(key, 0);
    const COLUMNS: Columns = Columns(&["range_id"]);
    let sql = format!(
        "SELECT {} FROM {} WHERE range_hash = ? AND task_queue_id = ?{lock}",
        COLUMNS.list(),
        queue_table(key.flavor),
    );
    let rows = tx.query(&sql, &params![hash, id]).await?;
    rows.first()
        .map(|r| COLUMNS.read(r).i64("range_id"))
        .transpose()
}

/// The range-id fence: `ConditionFailed` (with the stored range id) unless the queue exists
/// with `expected` stored.
fn check_range(key: &TaskQueueKey, stored: Option<i64>, expected: i64) -> Result<()> {
    let message = match stored {
        Some(s) if s == expected => return Ok(()),
        Some(s) => format!(
            "task queue {:?} (type {:?}): range id {expected} does not match stored {s}",
            key.name, key.task_type
        ),
        None => format!(
            "task queue {:?} (type {:?}) does not exist",
            key.name, key.task_type
        ),
    };
    Err(StoreError::task_queue_range_mismatch(
        message, expected, stored,
    ))
}

/// Keyset position of a queue listing.
#[derive(Serialize, Deserialize)]
struct ListToken {
    h: i64,
    id: String,
}

/// Keyset position of a task read: the last returned (pass, task id).
#[derive(Serialize, Deserialize)]
struct TaskToken {
    p: i64,
    id: i64,
}

/// Keyset position of a user-data listing: the last returned queue name.
#[derive(Serialize, Deserialize)]
struct NameToken {
    n: String,
}

fn decode_token<T: serde::de::DeserializeOwned>(token: &Option<Vec<u8>>) -> Result<Option<T>> {
    match token {
        None => Ok(None),
        Some(t) => validate::token::decode(t).map(Some),
    }
}

impl SqlStore {
    async fn tq_create_tasks_tx(&self, tx: &mut dyn SqlTx, req: &CreateTasksRequest) -> Result<()> {
        let stored = lock_range(self, tx, &req.key).await?;
        check_range(&req.key, stored, req.range_id)?;
        let fair = req.key.flavor == TaskQueueFlavor::Fair;
        let columns: &[&str] = if fair {
            &[
                "range_hash",
                "task_queue_id",
                "pass",
                "task_id",
                "data",
                "data_encoding",
            ]
        } else {
            &[
                "range_hash",
                "task_queue_id",
                "task_id",
                "data",
                "data_encoding",
            ]
        };
        for chunk in req.tasks.chunks(INSERT_CHUNK) {
            let sql = format!(
                "INSERT INTO {} ({}) VALUES {}",
                task_table(req.key.flavor),
                columns.join(", "),
                row_placeholders(chunk.len(), columns.len())
            );
            let mut p = Vec::with_capacity(chunk.len() * columns.len());
            for t in chunk {
                let (hash, id) = queue_pk(&req.key, t.subqueue);
                p.push(Value::Int(hash));
                p.push(Value::Bytes(id));
                if fair {
                    p.push(Value::Int(t.pass));
                }
                p.push(Value::Int(t.task_id));
                p.push(Value::Bytes(t.blob.data.clone()));
                p.push(Value::Text(t.blob.encoding.clone()));
            }
            tx.execute(&sql, &p).await?;
        }
        Ok(())
    }

    /// The limited DELETE of a completion and its parameters.
    fn tq_complete_statement(&self, req: &CompleteTasksLessThanRequest) -> (String, Vec<Value>) {
        let (hash, id) = queue_pk(&req.key, req.subqueue);
        let (sql, mut p) = match req.key.flavor {
            TaskQueueFlavor::Classic => (
                self.dialect().delete_limited(
                    "tasks",
                    &["range_hash", "task_queue_id", "task_id"],
                    "range_hash = ? AND task_queue_id = ? AND task_id < ?",
                    "task_id",
                ),
                params![hash, id, req.exclusive_max_task_id],
            ),
            TaskQueueFlavor::Fair => (
                self.dialect().delete_limited(
                    "tasks_v2",
                    &["range_hash", "task_queue_id", "pass", "task_id"],
                    "range_hash = ? AND task_queue_id = ? AND (pass < ? OR (pass = ? AND task_id < ?))",
                    "pass, task_id",
                ),
                params![
                    hash,
                    id,
                    req.exclusive_max_pass,
                    req.exclusive_max_pass,
                    req.exclusive_max_task_id
                ],
            ),
        };
        p.push(Value::Int(i64::from(req.limit)));
        (sql, p)
    }

    async fn tq_update_user_data_tx(
        &self,
        tx: &mut dyn SqlTx,
        namespace_id: NamespaceId,
        updates: &BTreeMap<String, UserDataUpdate>,
    ) -> Result<()> {
        let ns = namespace_id.as_bytes();
        let insert = self.dialect().insert_ignore(
            "task_queue_user_data",
            &[
                "namespace_id",
                "task_queue_name",
                "data",
                "data_encoding",
                "version",
            ],
            &["namespace_id", "task_queue_name"],
        );
        let mut conflicts = Vec::new();
        for (name, u) in updates {
            let n = if u.version == 0 {
                // Insert-if-absent reports a taken slot as 0 rows instead of an error, which
                // on PostgreSQL would abort the whole transaction.
                tx.execute(
                    &insert,
                    &params![ns, name, u.data.data.as_slice(), &u.data.encoding, 1i64],
                )
                .await?
            } else {
                tx.execute(
                    "UPDATE task_queue_user_data SET data = ?, data_encoding = ?, version = ? WHERE namespace_id = ? AND task_queue_name = ? AND version = ?",
                    &params![
                        u.data.data.as_slice(),
                        &u.data.encoding,
                        u.version + 1,
                        ns,
                        name,
                        u.version
                    ],
                )
                .await?
            };
            if n != 1 {
                conflicts.push(name.clone());
            }
        }
        if !conflicts.is_empty() {
            return Err(StoreError::task_queue_user_data_conflict(conflicts));
        }
        let add = self.dialect().insert_ignore(
            "build_id_to_task_queue",
            &["namespace_id", "build_id", "task_queue_name"],
            &["namespace_id", "build_id", "task_queue_name"],
        );
        for (name, u) in updates {
            for b in &u.build_ids_removed {
                tx.execute(
                    "DELETE FROM build_id_to_task_queue WHERE namespace_id = ? AND build_id = ? AND task_queue_name = ?",
                    &params![ns, b, name],
                )
                .await?;
            }
            for b in &u.build_ids_added {
                tx.execute(&add, &params![ns, b, name]).await?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl TaskQueueStore for SqlStore {
    async fn create_task_queue(&self, req: TaskQueueWrite) -> Result<()> {
        validate::task_queue::key(&req.key)?;
        validate::blob("task queue info", &req.info)?;
        let (hash, id) = queue_pk(&req.key, 0);
        let sql = format!(
            "INSERT INTO {} (range_hash, task_queue_id, range_id, data, data_encoding) VALUES (?, ?, ?, ?, ?)",
            queue_table(req.key.flavor)
        );
        self.driver
            .execute(
                &sql,
                &params![hash, id, req.range_id, req.info.data, req.info.encoding],
            )
            .await
            .map_err(|e| {
                if e.kind() == durastore_api::ErrorKind::AlreadyExists {
                    StoreError::already_exists(format!(
                        "task queue {:?} (type {:?}) already exists",
                        req.key.name, req.key.task_type
                    ))
                } else {
                    e
                }
            })?;
        Ok(())
    }

    async fn get_task_queue(&self, key: &TaskQueueKey) -> Result<TaskQueueRecord> {
        validate::task_queue::key(key)?;
        let (hash, id) = queue_pk(key, 0);
        const COLUMNS: Columns = Columns(&["range_id", "data", "data_encoding"]);
        let sql = format!(
            "SELECT {} FROM {} WHERE range_hash = ? AND task_queue_id = ?",
            COLUMNS.list(),
            queue_table(key.flavor)
        );
        let rows = self.driver.query(&sql, &params![hash, id]).await?;
        let row = rows.first().ok_or_else(|| {
            StoreError::not_found(format!(
                "task queue {:?} (type {:?}) not found",
                key.name, key.task_type
            ))
        })?;
        let row = COLUMNS.read(row);
        Ok(TaskQueueRecord {
            key: key.clone(),
            range_id: row.i64("range_id")?,
            info: row.blob("data", "data_encoding")?,
        })
    }

    async fn update_task_queue(&self, req: TaskQueueWrite, previous_range_id: i64) -> Result<()> {
        validate::task_queue::key(&req.key)?;
        validate::blob("task queue info", &req.info)?;
        let (hash, id) = queue_pk(&req.key, 0);
        let mut tx = self.driver.begin().await?;
        let result = async {
            let stored = lock_range(self, tx.as_mut(), &req.key).await?;
            check_range(&req.key, stored, previous_range_id)?;
            let sql = format!(
                "UPDATE {} SET range_id = ?, data = ?, data_encoding = ? WHERE range_hash = ? AND task_queue_id = ?",
                queue_table(req.key.flavor)
            );
            tx.execute(
                &sql,
                &params![req.range_id, req.info.data.as_slice(), &req.info.encoding, hash, id],
            )
            .await?;
            Ok(())
        }
        .await;
        SqlStore::finish(tx, result).await
    }

    async fn list_task_queues(
        &self,
        flavor: TaskQueueFlavor,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<TaskQueueRecord>> {
        let page_size = validate::page_size(page_size)?;
        let after: Option<ListToken> = decode_token(&next_page_token)?;
        const COLUMNS: Columns = Columns(&[
            "range_hash",
            "task_queue_id",
            "range_id",
            "data",
            "data_encoding",
        ]);
        let mut sql = format!("SELECT {} FROM {}", COLUMNS.list(), queue_table(flavor));
        let mut p = Vec::new();
        if let Some(t) = &after {
            let id = unhex(&t.id)?;
            sql.push_str(" WHERE range_hash > ? OR (range_hash = ? AND task_queue_id > ?)");
            p = params![t.h, t.h, id];
        }
        sql.push_str(" ORDER BY range_hash, task_queue_id LIMIT ?");
        p.push(Value::Int(page_size as i64 + 1));
        let rows = self.driver.query(&sql, &p).await?;
        let more = rows.len() > page_size;
        let mut items = Vec::new();
        let mut last = None;
        for row in rows.iter().take(page_size) {
            let row = COLUMNS.read(row);
            let id = row.bytes("task_queue_id")?;
            // The keyset moves past every row, including ones we cannot decode.
            last = Some((row.i64("range_hash")?, hex(&id)));
            if let Some(key) = decode_queue_id(&id, flavor) {
                items.push(TaskQueueRecord {
                    key,
                    range_id: row.i64("range_id")?,
                    info: row.blob("data", "data_encoding")?,
                });
            }
        }
        let next_page_token = match (more, last) {
            (true, Some((h, id))) => Some(validate::token::encode(&ListToken { h, id })),
            _ => None,
        };
        Ok(Page {
            items,
            next_page_token,
        })
    }

    async fn delete_task_queue(&self, key: &TaskQueueKey, range_id: i64) -> Result<()> {
        validate::task_queue::key(key)?;
        let (hash, id) = queue_pk(key, 0);
        let sql = format!(
            "DELETE FROM {} WHERE range_hash = ? AND task_queue_id = ? AND range_id = ?",
            queue_table(key.flavor)
        );
        let n = self
            .driver
            .execute(&sql, &params![hash, id, range_id])
            .await?;
        if n == 0 {
            return Err(StoreError::condition_failed(format!(
                "task queue {:?} (type {:?}) with range id {range_id} does not exist",
                key.name, key.task_type
            )));
        }
        Ok(())
    }

    async fn create_tasks(&self, req: CreateTasksRequest) -> Result<()> {
        validate::task_queue::key(&req.key)?;
        for t in &req.tasks {
            validate::task_queue::task(req.key.flavor, t)?;
        }
        let mut tx = self.driver.begin().await?;
        let result = self.tq_create_tasks_tx(tx.as_mut(), &req).await;
        SqlStore::finish(tx, result).await
    }

    async fn get_tasks(&self, req: GetTasksRequest) -> Result<Page<TaskRecord>> {
        validate::task_queue::key(&req.key)?;
        validate::task_queue::subqueue(req.subqueue)?;
        let page_size = validate::page_size(req.page_size)?;
        let after: Option<TaskToken> = decode_token(&req.next_page_token)?;
        let (hash, id) = queue_pk(&req.key, req.subqueue);
        let fair = req.key.flavor == TaskQueueFlavor::Fair;
        let mut p = params![hash, id];
        let sql = if fair {
            // Tuple bound (pass, task_id) >= (min_pass, min_id), or > the token's last row.
            let (op, pass, task_id) = match &after {
                Some(t) => (">", t.p, t.id),
                None => (">=", req.inclusive_min_pass, req.inclusive_min_task_id),
            };
            p.extend(params![pass, pass, task_id]);
            format!(
                "SELECT {} FROM tasks_v2 WHERE range_hash = ? AND task_queue_id = ? AND (pass > ? OR (pass = ? AND task_id {op} ?)) ORDER BY pass, task_id LIMIT ?",
                FAIR_TASK_COLUMNS.list()
            )
        } else {
            let min = match &after {
                Some(t) => t.id.saturating_add(1).max(req.inclusive_min_task_id),
                None => req.inclusive_min_task_id,
            };
            p.extend(params![min, req.exclusive_max_task_id]);
            format!(
                "SELECT {} FROM tasks WHERE range_hash = ? AND task_queue_id = ? AND task_id >= ? AND task_id < ? ORDER BY task_id LIMIT ?",
                TASK_COLUMNS.list()
            )
        };
        p.push(Value::Int(page_size as i64 + 1));
        let rows = self.driver.query(&sql, &p).await?;
        keyset_page(
            &rows,
            page_size,
            |row| {
                // Classic queues have no pass column: every task is in pass 0.
                let (pass, row) = if fair {
                    let row = FAIR_TASK_COLUMNS.read(row);
                    (row.i64("pass")?, row)
                } else {
                    (0, TASK_COLUMNS.read(row))
                };
                Ok(TaskRecord {
                    subqueue: req.subqueue,
                    pass,
                    task_id: row.i64("task_id")?,
                    expiry_time: None,
                    blob: row.blob("data", "data_encoding")?,
                })
            },
            |t| TaskToken {
                p: t.pass,
                id: t.task_id,
            },
        )
    }

    async fn complete_tasks_less_than(&self, req: CompleteTasksLessThanRequest) -> Result<i64> {
        validate::task_queue::complete(&req)?;
        let (sql, p) = self.tq_complete_statement(&req);
        let n = match req.condition_range_id {
            None => self.driver.execute(&sql, &p).await?,
            Some(expected) => {
                // The fence and the delete in one transaction; a shared lock on the queue row
                // keeps a lease change (which locks it exclusively) out until the delete is done.
                let mut tx = self.driver.begin().await?;
                let result = async {
                    let stored =
                        lock_range_with(tx.as_mut(), &req.key, self.dialect().lock_shared())
                            .await?;
                    check_range(&req.key, stored, expected)?;
                    tx.execute(&sql, &p).await
                }
                .await;
                SqlStore::finish(tx, result).await?
            }
        };
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }

    async fn get_task_queue_user_data(
        &self,
        namespace_id: NamespaceId,
        task_queue: &str,
    ) -> Result<UserDataRecord> {
        namespace_id.validate()?;
        validate::id_string("task queue name", task_queue)?;
        let rows = self
            .driver
            .query(
                &format!(
                    "SELECT {} FROM task_queue_user_data WHERE namespace_id = ? AND task_queue_name = ?",
                    USER_DATA_COLUMNS.list()
                ),
                &params![namespace_id.as_bytes(), task_queue],
            )
            .await?;
        let row = rows.first().ok_or_else(|| {
            StoreError::not_found(format!("no user data for task queue {task_queue:?}"))
        })?;
        let row = USER_DATA_COLUMNS.read(row);
        Ok(UserDataRecord {
            task_queue: task_queue.to_string(),
            version: row.i64("version")?,
            data: row.blob("data", "data_encoding")?,
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
        let mut tx = self.driver.begin().await?;
        let result = self
            .tq_update_user_data_tx(tx.as_mut(), namespace_id, &updates)
            .await;
        SqlStore::finish(tx, result).await
    }

    async fn list_task_queue_user_data(
        &self,
        namespace_id: NamespaceId,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<UserDataRecord>> {
        namespace_id.validate()?;
        let page_size = validate::page_size(page_size)?;
        let after: Option<NameToken> = decode_token(&next_page_token)?;
        const COLUMNS: Columns = Columns(&["task_queue_name", "version", "data", "data_encoding"]);
        let mut sql = format!(
            "SELECT {} FROM task_queue_user_data WHERE namespace_id = ?",
            COLUMNS.list()
        );
        let mut p = params![namespace_id.as_bytes()];
        if let Some(t) = &after {
            sql.push_str(" AND task_queue_name > ?");
            p.push(Value::Text(t.n.clone()));
        }
        sql.push_str(" ORDER BY task_queue_name LIMIT ?");
        p.push(Value::Int(page_size as i64 + 1));
        let rows = self.driver.query(&sql, &p).await?;
        keyset_page(
            &rows,
            page_size,
            |row| {
                let row = COLUMNS.read(row);
                Ok(UserDataRecord {
                    task_queue: row.string("task_queue_name")?,
                    version: row.i64("version")?,
                    data: row.blob("data", "data_encoding")?,
                })
            },
            |l| NameToken {
                n: l.task_queue.clone(),
            },
        )
    }

    async fn get_task_queues_by_build_id(
        &self,
        namespace_id: NamespaceId,
        build_id: &str,
    ) -> Result<Vec<String>> {
        namespace_id.validate()?;
        validate::id_string("build id", build_id)?;
        let rows = self
            .driver
            .query(
                &format!(
                    "SELECT {} FROM build_id_to_task_queue WHERE namespace_id = ? AND build_id = ?",
                    BUILD_ID_COLUMNS.list()
                ),
                &params![namespace_id.as_bytes(), build_id],
            )
            .await?;
        let mut names = rows
            .iter()
            .map(|r| BUILD_ID_COLUMNS.read(r).string("task_queue_name"))
            .collect::<Result<Vec<_>>>()?;
        // Sorted here by byte order, whatever the database's collation.
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
        let rows = self
            .driver
            .query(
                "SELECT COUNT(*) FROM build_id_to_task_queue WHERE namespace_id = ? AND build_id = ?",
                &params![namespace_id.as_bytes(), build_id],
            )
            .await?;
        rows.first().map_or(Ok(0), |r| r.i64(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_hash_is_temporals_fingerprint32() {
        // Values printed by Go's github.com/dgryski/go-farm `Fingerprint32`, which Temporal
        // calls for `range_hash` (inputs of each length class the algorithm branches on).
        assert_eq!(range_hash(b""), 3_696_677_242);
        assert_eq!(range_hash(b"a"), 1_016_544_589);
        assert_eq!(range_hash(b"workflow.workflow"), 2_918_170_192);
        assert_eq!(
            range_hash(b"hello world, this is a longer input of more than twenty-four bytes"),
            207_035_549
        );
        // namespace 73ab11db-a831-4574-b804-b43fedd412e7 ‖ "orders" ‖ workflow type 1.
        let key = TaskQueueKey {
            namespace_id: NamespaceId::from_slice(
                &unhex("73ab11dba8314574b804b43fedd412e7").unwrap(),
            )
            .unwrap(),
            name: "orders".into(),
            task_type: TaskType::Workflow,
            flavor: TaskQueueFlavor::Classic,
        };
        assert_eq!(queue_pk(&key, 0).0, 2_657_484_023);
        // namespace 00..0f ‖ "queue" ‖ type 1 with subqueue 150 (0x81, varint 0x96 0x01).
        let key = TaskQueueKey {
            namespace_id: NamespaceId::from_slice(&(0u8..16).collect::<Vec<_>>()).unwrap(),
            name: "queue".into(),
            task_type: TaskType::Workflow,
            flavor: TaskQueueFlavor::Fair,
        };
        assert_eq!(queue_pk(&key, 150).0, 3_957_327_658);
    }

    #[test]
    fn ids_round_trip() {
        let key = TaskQueueKey {
            namespace_id: NamespaceId::new_random(),
            name: "my-queue".into(),
            task_type: TaskType::Activity,
            flavor: TaskQueueFlavor::Classic,
        };
        let id = task_queue_id(&key, 0);
        assert_eq!(*id.last().unwrap_or(&0), 2);
        assert_eq!(
            decode_queue_id(&id, TaskQueueFlavor::Classic),
            Some(key.clone())
        );
        let sub = task_queue_id(&key, 300);
        assert_eq!(&sub[sub.len() - 3..], &[0x82, 0xac, 0x02]);
        assert_eq!(task_queue_id(&key, 1).last(), Some(&1));
    }
}
