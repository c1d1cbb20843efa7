//! NamespaceStore on SQL: `namespaces` rows in partition 54321 and the one global notification
//! version in `namespace_metadata` (seeded by the schema), as in Temporal.

use std::sync::Arc;

use async_trait::async_trait;
use durastore_api::{
    CreateNamespaceRequest, ErrorKind, NamespaceId, NamespaceRecord, NamespaceStore, Page,
    RenameNamespaceRequest, Result, StoreError, UpdateNamespaceRequest, validate,
};
use serde::{Deserialize, Serialize};

use crate::columns::Columns;
use crate::driver::SqlTx;
use crate::paging::keyset_page;
use crate::value::{Row, Value};
use crate::{SqlStore, params};

pub(crate) fn make(store: &Arc<SqlStore>) -> Option<Arc<dyn NamespaceStore>> {
    Some(store.clone() as Arc<dyn NamespaceStore>)
}

/// Temporal's constant partition for namespace rows and their metadata row.
const PARTITION: i32 = 54321;

/// What [`record`] reads.
const COLUMNS: Columns = Columns(&[
    "id",
    "name",
    "data",
    "data_encoding",
    "is_global",
    "notification_version",
]);

/// `SELECT <COLUMNS> FROM namespaces`, for a WHERE clause to follow.
fn select() -> String {
    format!("SELECT {} FROM namespaces", COLUMNS.list())
}

fn record(row: &Row) -> Result<NamespaceRecord> {
    let row = COLUMNS.read(row);
    Ok(NamespaceRecord {
        id: NamespaceId::from_slice(&row.bytes("id")?)?,
        name: row.string("name")?,
        detail: row.blob("data", "data_encoding")?,
        is_global: row.bool("is_global")?,
        notification_version: row.i64("notification_version")?,
    })
}

/// Turns a unique-key violation into a message that names the namespace.
fn taken(name: &str) -> impl FnOnce(StoreError) -> StoreError + '_ {
    move |e| {
        if e.kind() == ErrorKind::AlreadyExists {
            StoreError::already_exists(format!("namespace {name:?} (or its id) already exists"))
        } else {
            e
        }
    }
}

/// Keyset position of a namespace listing.
#[derive(Serialize, Deserialize)]
struct IdToken {
    id: NamespaceId,
}

impl SqlStore {
    /// Reads the global notification version with an exclusive lock.
    async fn ns_lock_notification_version(&self, tx: &mut dyn SqlTx) -> Result<i64> {
        let sql = format!(
            "SELECT notification_version FROM namespace_metadata WHERE partition_id = ?{}",
            self.dialect().lock_update()
        );
        let rows = tx.query(&sql, &params![PARTITION]).await?;
        match rows.first() {
            Some(r) => r.i64(0),
            None => Err(StoreError::internal(
                "namespace_metadata has no row: the schema was not set up",
            )),
        }
    }

    /// Advances the global notification version from `v` to `v + 1`.
    async fn ns_bump_notification_version(&self, tx: &mut dyn SqlTx, v: i64) -> Result<()> {
        let n = tx
            .execute(
                "UPDATE namespace_metadata SET notification_version = ? WHERE partition_id = ? AND notification_version = ?",
                &params![v + 1, PARTITION, v],
            )
            .await?;
        if n != 1 {
            return Err(StoreError::condition_failed(format!(
                "namespace notification version changed concurrently (expected {v})"
            )));
        }
        Ok(())
    }

    async fn ns_create_tx(&self, tx: &mut dyn SqlTx, req: &CreateNamespaceRequest) -> Result<()> {
        let v = self.ns_lock_notification_version(tx).await?;
        tx.execute(
            "INSERT INTO namespaces (partition_id, id, name, notification_version, data, data_encoding, is_global) VALUES (?, ?, ?, ?, ?, ?, ?)",
            &params![
                PARTITION,
                req.id.as_bytes(),
                &req.name,
                v,
                req.detail.data.as_slice(),
                &req.detail.encoding,
                req.is_global
            ],
        )
        .await
        .map_err(taken(&req.name))?;
        self.ns_bump_notification_version(tx, v).await
    }

    /// Update and rename: the caller's CAS on the global version, then the row, addressed by id
    /// (and, for a rename, by its previous name), takes name, detail, global flag and version.
    async fn ns_update_tx(
        &self,
        tx: &mut dyn SqlTx,
        req: &UpdateNamespaceRequest,
        previous_name: Option<&str>,
    ) -> Result<()> {
        let v = self.ns_lock_notification_version(tx).await?;
        if v != req.notification_version {
            return Err(StoreError::namespace_version_mismatch(
                req.notification_version,
                v,
            ));
        }
        let mut sql = "UPDATE namespaces SET name = ?, data = ?, data_encoding = ?, is_global = ?, notification_version = ? WHERE partition_id = ? AND id = ?".to_string();
        let mut p = params![
            &req.name,
            req.detail.data.as_slice(),
            &req.detail.encoding,
            req.is_global,
            v,
            PARTITION,
            req.id.as_bytes()
        ];
        if let Some(previous) = previous_name {
            sql.push_str(" AND name = ?");
            p.push(Value::Text(previous.to_string()));
        }
        let n = tx.execute(&sql, &p).await.map_err(taken(&req.name))?;
        if n == 0 {
            return Err(StoreError::not_found(match previous_name {
                Some(previous) => format!("namespace {previous:?} with id {} not found", req.id),
                None => format!("namespace {} not found", req.id),
            }));
        }
        self.ns_bump_notification_version(tx, v).await
    }

    async fn ns_get_where(&self, clause: &str, key: Value, what: &str) -> Result<NamespaceRecord> {
        let sql = format!("{} WHERE partition_id = ? AND {clause}", select());
        let rows = self
            .driver
            .query(&sql, &[Value::Int(PARTITION.into()), key])
            .await?;
        match rows.first() {
            Some(r) => record(r),
            None => Err(StoreError::not_found(format!("namespace {what} not found"))),
        }
    }
}

#[async_trait]
impl NamespaceStore for SqlStore {
    async fn create_namespace(&self, req: CreateNamespaceRequest) -> Result<()> {
        req.id.validate()?;
        validate::id_string("namespace name", &req.name)?;
        validate::blob("namespace detail", &req.detail)?;
        let mut tx = self.driver.begin().await?;
        let result = self.ns_create_tx(tx.as_mut(), &req).await;
        SqlStore::finish(tx, result).await
    }

    async fn get_namespace_by_id(&self, id: NamespaceId) -> Result<NamespaceRecord> {
        id.validate()?;
        self.ns_get_where(
            "id = ?",
            Value::Bytes(id.as_bytes().to_vec()),
            &id.to_string(),
        )
        .await
    }

    async fn get_namespace_by_name(&self, name: &str) -> Result<NamespaceRecord> {
        validate::id_string("namespace name", name)?;
        self.ns_get_where(
            "name = ?",
            Value::Text(name.to_string()),
            &format!("{name:?}"),
        )
        .await
    }

    async fn update_namespace(&self, req: UpdateNamespaceRequest) -> Result<()> {
        validate::namespace::update(&req)?;
        let mut tx = self.driver.begin().await?;
        let result = self.ns_update_tx(tx.as_mut(), &req, None).await;
        SqlStore::finish(tx, result).await
    }

    async fn rename_namespace(&self, req: RenameNamespaceRequest) -> Result<()> {
        validate::namespace::rename(&req)?;
        let mut tx = self.driver.begin().await?;
        let result = self
            .ns_update_tx(tx.as_mut(), &req.update, Some(&req.previous_name))
            .await;
        SqlStore::finish(tx, result).await
    }

    async fn delete_namespace(&self, id: NamespaceId) -> Result<()> {
        id.validate()?;
        self.driver
            .execute(
                "DELETE FROM namespaces WHERE partition_id = ? AND id = ?",
                &params![PARTITION, id.as_bytes()],
            )
            .await?;
        Ok(())
    }

    async fn delete_namespace_by_name(&self, name: &str) -> Result<()> {
        validate::id_string("namespace name", name)?;
        self.driver
            .execute(
                "DELETE FROM namespaces WHERE partition_id = ? AND name = ?",
                &params![PARTITION, name],
            )
            .await?;
        Ok(())
    }

    async fn list_namespaces(
        &self,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<NamespaceRecord>> {
        let page_size = validate::page_size(page_size)?;
        let mut sql = format!("{} WHERE partition_id = ?", select());
        let mut p = params![PARTITION];
        if let Some(t) = &next_page_token {
            let after: IdToken = validate::token::decode(t)?;
            sql.push_str(" AND id > ?");
            p.push(Value::Bytes(after.id.as_bytes().to_vec()));
        }
        sql.push_str(" ORDER BY id LIMIT ?");
        p.push(Value::Int(page_size as i64 + 1));
        let rows = self.driver.query(&sql, &p).await?;
        keyset_page(&rows, page_size, record, |l| IdToken { id: l.id })
    }

    async fn get_metadata(&self) -> Result<i64> {
        let rows = self
            .driver
            .query(
                "SELECT notification_version FROM namespace_metadata WHERE partition_id = ?",
                &params![PARTITION],
            )
            .await?;
        match rows.first() {
            Some(r) => r.i64(0),
            None => Err(StoreError::internal(
                "namespace_metadata has no row: the schema was not set up",
            )),
        }
    }
}
