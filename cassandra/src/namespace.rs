//! NamespaceStore on Cassandra, with Temporal's two tables (see `schema/…/metadata.cql`):
//!
//! - `namespaces ((namespaces_partition), name)`: every namespace row in one partition (0),
//!   clustered by name, next to the **metadata row** `temporal-namespace-metadata` that holds
//!   the global notification version. Sharing the partition is what lets a create, update or
//!   rename and the bump of the global version be **one conditional batch** (one Paxos round):
//!   the row is written only if the version is still the one read, and vice versa.
//! - `namespaces_by_id ((id))`: id → name, the uniqueness guard for ids and the index for
//!   [`NamespaceStore::get_namespace_by_id`].
//!
//! Ids and names are both unique but live in different partitions, so a create takes two
//! lightweight transactions, as in Temporal: claim the id (`INSERT … IF NOT EXISTS` on
//! `namespaces_by_id`), then the batch on partition 0 (`INSERT … IF NOT EXISTS` of the name row
//! plus the version bump). When the name is taken the id claim is undone (`DELETE … IF name =
//! ?`, so only our own claim is removed). Losing the version race is not the caller's concern
//! for a create or a rename: the store re-reads the version and tries again. An update is the
//! caller's compare-and-set on the version, so there a moved version is `ConditionFailed`.
//!
//! Every write to these tables is a lightweight transaction: mixing Paxos writes with plain
//! writes on the same cells can reorder them.
//!
//! The name row is the source of truth; the id row is a pointer. A rename moves the name row
//! (insert new, delete old, in one batch) and then repoints the id row; should a crash land in
//! between, [`NamespaceStore::get_namespace_by_id`] notices the stale pointer and finds the row
//! by scanning the partition's ids.
//!
//! Listing is by id (the contract's order). Ids are not a clustering key anywhere (Temporal's
//! layout), so a page scans the partition's `(name, id)` pairs, which are small, sorts them,
//! and reads the full rows of just that page. Namespaces number in the hundreds or thousands,
//! and the registry above reads them all on every refresh anyway.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use durastore_api::{
    CreateNamespaceRequest, DataBlob, ErrorKind, NamespaceId, NamespaceRecord, NamespaceStore,
    Page, RenameNamespaceRequest, Result, StoreError, UpdateNamespaceRequest, validate,
};
use std::collections::BTreeMap;

use scylla::value::CqlValue;

use crate::session::{CRow, CasResult, Cass, Stmt, vals};

/// The store.
pub(crate) fn make(cass: &Arc<Cass>) -> Option<Arc<dyn NamespaceStore>> {
    Some(Arc::new(CassandraNamespaceStore { cass: cass.clone() }))
}

struct CassandraNamespaceStore {
    cass: Arc<Cass>,
}

/// Name of the row of partition 0 that holds the global notification version (Temporal's).
/// It is not a namespace: reads and deletes never see it, creates and renames refuse the name.
const METADATA_NAME: &str = "temporal-namespace-metadata";

/// How often a create or rename re-reads the version after another writer moved it first.
const VERSION_ATTEMPTS: usize = 100;

/// Rows of the namespace partition fetched per `IN` query when a page is read.
const IN_CHUNK: usize = 100;

const SELECT_BY_NAME: &str = "SELECT name, id, detail, detail_encoding, is_global_namespace, \
     notification_version FROM namespaces WHERE namespaces_partition = 0 AND name = ?";
const SELECT_NAMES_IN: &str = "SELECT name, id, detail, detail_encoding, is_global_namespace, \
     notification_version FROM namespaces WHERE namespaces_partition = 0 AND name IN ?";
const SELECT_IDS: &str = "SELECT name, id FROM namespaces WHERE namespaces_partition = 0";
const SELECT_POINTER: &str = "SELECT name FROM namespaces_by_id WHERE id = ?";
const SELECT_VERSION: &str = "SELECT notification_version FROM namespaces \
     WHERE namespaces_partition = 0 AND name = 'temporal-namespace-metadata'";

const CLAIM_ID: &str = "INSERT INTO namespaces_by_id (id, name) VALUES (?, ?) IF NOT EXISTS";
const UNCLAIM_ID: &str = "DELETE FROM namespaces_by_id WHERE id = ? IF name = ?";
const DROP_POINTER: &str = "DELETE FROM namespaces_by_id WHERE id = ? IF EXISTS";
const REPOINT: &str = "UPDATE namespaces_by_id SET name = ? WHERE id = ? IF name = ?";

const INSERT_ROW: &str = "INSERT INTO namespaces (namespaces_partition, name, id, detail, \
     detail_encoding, is_global_namespace, notification_version) \
     VALUES (0, ?, ?, ?, ?, ?, ?) IF NOT EXISTS";
const UPDATE_ROW: &str = "UPDATE namespaces SET detail = ?, detail_encoding = ?, \
     is_global_namespace = ?, notification_version = ? \
     WHERE namespaces_partition = 0 AND name = ? IF id = ?";
const DELETE_ROW: &str =
    "DELETE FROM namespaces WHERE namespaces_partition = 0 AND name = ? IF id = ?";
/// Removes the old name row of a rename only if it is still the one copied.
const DELETE_ROW_AT: &str = "DELETE FROM namespaces WHERE namespaces_partition = 0 AND name = ? \
     IF id = ? AND notification_version = ?";

const BUMP_VERSION: &str = "UPDATE namespaces SET notification_version = ? \
     WHERE namespaces_partition = 0 AND name = 'temporal-namespace-metadata' \
     IF notification_version = ?";
/// The first write ever creates the metadata row (version 0 -> 1).
const INIT_VERSION: &str = "INSERT INTO namespaces (namespaces_partition, name, \
     notification_version) VALUES (0, 'temporal-namespace-metadata', 1) IF NOT EXISTS";

/// Keyset position of a namespace listing: `{"id": …}`, the same shape as the SQL store's.
type IdToken = BTreeMap<String, NamespaceId>;

const TOKEN_KEY: &str = "id";

fn encode_token(id: NamespaceId) -> Vec<u8> {
    validate::token::encode(&IdToken::from([(TOKEN_KEY.to_string(), id)]))
}

fn decode_token(token: &[u8]) -> Result<NamespaceId> {
    validate::token::decode::<IdToken>(token)?
        .get(TOKEN_KEY)
        .copied()
        .ok_or_else(|| StoreError::invalid_argument("invalid page token: no id"))
}

fn record(row: &CRow) -> Result<NamespaceRecord> {
    Ok(NamespaceRecord {
        id: NamespaceId(row.uuid("id")?),
        name: row.text("name")?,
        detail: DataBlob::new(row.blob("detail")?, row.text("detail_encoding")?),
        is_global: row.opt_bool("is_global_namespace")?.unwrap_or(false),
        notification_version: row.i64("notification_version")?,
    })
}

/// A namespace row (the metadata row and rows without an id are not namespaces).
fn namespace_row(row: Option<CRow>) -> Result<Option<NamespaceRecord>> {
    match row {
        Some(r) if r.opt_uuid("id")?.is_some() => record(&r).map(Some),
        _ => Ok(None),
    }
}

/// The row a failed conditional batch returned for clustering key `name`, if it exists.
fn returned<'a>(res: &'a CasResult, name: &str) -> Option<&'a CRow> {
    res.rows
        .iter()
        .find(|r| matches!(r.get("name"), Some(CqlValue::Text(n)) if n == name))
}

/// The global version a failed batch saw (the metadata row is absent before the first write:
/// version 0).
fn returned_version(res: &CasResult) -> Result<i64> {
    match returned(res, METADATA_NAME) {
        Some(r) => Ok(r.opt_i64("notification_version")?.unwrap_or(0)),
        None => Ok(0),
    }
}

/// The statement that moves the global version from `v` (None: no metadata row yet) to `v + 1`.
fn bump(v: Option<i64>) -> Stmt {
    match v {
        Some(v) => Stmt::new(BUMP_VERSION, vals![v + 1, v]),
        None => Stmt::new(INIT_VERSION, vals![]),
    }
}

fn reserved(name: &str) -> StoreError {
    StoreError::invalid_argument(format!(
        "namespace name {name:?} is reserved (it names the row holding the notification version)"
    ))
}

fn contention(what: &str) -> StoreError {
    StoreError::new(
        ErrorKind::Unavailable,
        format!(
            "{what}: the namespace notification version kept moving ({VERSION_ATTEMPTS} \
             attempts); try again"
        ),
    )
    .with_retryable(true)
}

/// A short, jittered pause before re-reading a version another writer moved (Paxos
/// contention on one partition resolves faster when the contenders do not retry in lockstep).
async fn backoff(attempt: usize) {
    let jitter = (uuid::Uuid::new_v4().as_u128() % 8) as u64;
    let base = (attempt as u64).min(10) * 2;
    tokio::time::sleep(Duration::from_millis(1 + base + jitter)).await;
}

impl CassandraNamespaceStore {
    /// The global notification version; `None` before the first write created its row.
    async fn version(&self) -> Result<Option<i64>> {
        match self.cass.row(SELECT_VERSION, vals![]).await? {
            Some(r) => r.opt_i64("notification_version"),
            None => Ok(None),
        }
    }

    async fn by_name(&self, name: &str) -> Result<Option<NamespaceRecord>> {
        if name == METADATA_NAME {
            return Ok(None);
        }
        namespace_row(self.cass.row(SELECT_BY_NAME, vals![name]).await?)
    }

    /// `(id, name)` of every namespace, sorted by id.
    async fn ids(&self) -> Result<Vec<(NamespaceId, String)>> {
        let mut out = Vec::new();
        for r in self.cass.rows(SELECT_IDS, vals![]).await? {
            if let Some(id) = r.opt_uuid("id")? {
                out.push((NamespaceId(id), r.text("name")?));
            }
        }
        out.sort();
        Ok(out)
    }

    /// The namespace with this id: through the id row, or, when that points at a name that is
    /// not (or no longer) this namespace's (a rename interrupted before it repointed), by
    /// scanning the partition's ids.
    async fn by_id(&self, id: NamespaceId) -> Result<Option<NamespaceRecord>> {
        let Some(pointer) = self.cass.row(SELECT_POINTER, vals![id.0]).await? else {
            return Ok(None);
        };
        if let Some(rec) = self.by_name(&pointer.text("name")?).await?
            && rec.id == id
        {
            return Ok(Some(rec));
        }
        let Some((_, name)) = self.ids().await?.into_iter().find(|(i, _)| *i == id) else {
            return Ok(None);
        };
        Ok(self.by_name(&name).await?.filter(|r| r.id == id))
    }

    /// The name-row half of a create: the row and the version bump in one conditional batch,
    /// retried while only the version moved.
    async fn insert_row(&self, req: &CreateNamespaceRequest) -> Result<()> {
        for attempt in 0..VERSION_ATTEMPTS {
            let v = self.version().await?;
            let res = self
                .cass
                .batch(vec![
                    Stmt::new(
                        INSERT_ROW,
                        vals![
                            req.name.as_str(),
                            req.id.0,
                            req.detail.data.as_slice(),
                            req.detail.encoding.as_str(),
                            req.is_global,
                            v.unwrap_or(0)
                        ],
                    ),
                    bump(v),
                ])
                .await?;
            if res.applied {
                return Ok(());
            }
            if returned(&res, &req.name).is_some() {
                return Err(StoreError::already_exists(format!(
                    "namespace {:?} already exists",
                    req.name
                )));
            }
            backoff(attempt).await;
        }
        Err(contention("create_namespace"))
    }

    /// One rename attempt; `Ok(false)` when the old row changed between its read and the batch
    /// although the global version held (so the caller's CAS still stands: read it again).
    async fn rename_once(&self, req: &RenameNamespaceRequest) -> Result<bool> {
        let (previous, u) = (req.previous_name.as_str(), &req.update);
        let v = u.notification_version;
        let Some(old) = self.by_name(previous).await?.filter(|r| r.id == u.id) else {
            // As on SQL, a stale version is reported before a missing namespace.
            let current = self.version().await?.unwrap_or(0);
            if current != v {
                return Err(StoreError::namespace_version_mismatch(v, current));
            }
            return Err(StoreError::not_found(format!(
                "namespace {previous:?} with id {} not found",
                u.id
            )));
        };
        let mut stmts = Vec::with_capacity(3);
        if previous == u.name {
            stmts.push(Stmt::new(
                UPDATE_ROW,
                vals![
                    u.detail.data.as_slice(),
                    u.detail.encoding.as_str(),
                    u.is_global,
                    v,
                    previous,
                    u.id.0
                ],
            ));
        } else {
            // The new name row carries the new detail; the old one goes only if it is still
            // the row just read.
            stmts.push(Stmt::new(
                INSERT_ROW,
                vals![
                    u.name.as_str(),
                    u.id.0,
                    u.detail.data.as_slice(),
                    u.detail.encoding.as_str(),
                    u.is_global,
                    v
                ],
            ));
            stmts.push(Stmt::new(
                DELETE_ROW_AT,
                vals![previous, old.id.0, old.notification_version],
            ));
        }
        stmts.push(Stmt::new(BUMP_VERSION, vals![v + 1, v]));
        let res = self.cass.batch(stmts).await?;
        if res.applied {
            if previous != u.name {
                self.repoint(old.id, previous, &u.name).await?;
            }
            return Ok(true);
        }
        let current = returned_version(&res)?;
        if current != v {
            return Err(StoreError::namespace_version_mismatch(v, current));
        }
        if previous != u.name && returned(&res, &u.name).is_some() {
            return Err(StoreError::already_exists(format!(
                "namespace {:?} already exists",
                u.name
            )));
        }
        Ok(false)
    }

    /// Points the id row at the new name after a rename moved the name row.
    async fn repoint(&self, id: NamespaceId, previous: &str, new_name: &str) -> Result<()> {
        let res = self
            .cass
            .cas(REPOINT, vals![new_name, id.0, previous])
            .await?;
        if !res.applied {
            // The id row did not name the old name (left stale by an earlier interrupted
            // rename): reads by id fall back to the scan, which finds the row anyway.
            tracing::warn!(namespace_id = %id, "cassandra: namespace id row was not repointed after a rename");
        }
        Ok(())
    }
}

#[async_trait]
impl NamespaceStore for CassandraNamespaceStore {
    async fn create_namespace(&self, req: CreateNamespaceRequest) -> Result<()> {
        req.id.validate()?;
        validate::id_string("namespace name", &req.name)?;
        validate::blob("namespace detail", &req.detail)?;
        if req.name == METADATA_NAME {
            return Err(reserved(&req.name));
        }
        // 1. Claim the id (its own partition, so its own Paxos round).
        let claim = self
            .cass
            .cas(CLAIM_ID, vals![req.id.0, req.name.as_str()])
            .await?;
        if !claim.applied {
            return Err(StoreError::already_exists(format!(
                "namespace id {} already exists",
                req.id
            )));
        }
        // 2. The name row with the version bump. If that fails for certain, give the id back;
        //    after an unknown outcome the row may exist, and removing its id row would hide it,
        //    so the claim stays (the error says the outcome is unknown).
        match self.insert_row(&req).await {
            Ok(()) => Ok(()),
            Err(e) if e.is_outcome_unknown() => Err(e),
            Err(e) => {
                if let Err(undo) = self
                    .cass
                    .cas(UNCLAIM_ID, vals![req.id.0, req.name.as_str()])
                    .await
                {
                    tracing::warn!(namespace_id = %req.id, error = %undo, "cassandra: could not release the id of a refused namespace create");
                }
                Err(e)
            }
        }
    }

    async fn get_namespace_by_id(&self, id: NamespaceId) -> Result<NamespaceRecord> {
        id.validate()?;
        self.by_id(id)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("namespace {id} not found")))
    }

    async fn get_namespace_by_name(&self, name: &str) -> Result<NamespaceRecord> {
        validate::id_string("namespace name", name)?;
        self.by_name(name)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("namespace {name:?} not found")))
    }

    async fn update_namespace(&self, req: UpdateNamespaceRequest) -> Result<()> {
        validate::namespace::update(&req)?;
        let v = req.notification_version;
        if req.name == METADATA_NAME {
            return Err(StoreError::not_found(format!(
                "namespace {} not found",
                req.id
            )));
        }
        // The row is found by its (unchanged) name and must still be this id; the version bump
        // is the caller's compare-and-set. One Paxos round decides both.
        let res = self
            .cass
            .batch(vec![
                Stmt::new(
                    UPDATE_ROW,
                    vals![
                        req.detail.data.as_slice(),
                        req.detail.encoding.as_str(),
                        req.is_global,
                        v,
                        req.name.as_str(),
                        req.id.0
                    ],
                ),
                Stmt::new(BUMP_VERSION, vals![v + 1, v]),
            ])
            .await?;
        if res.applied {
            return Ok(());
        }
        // As on SQL, a stale version is reported before a missing namespace.
        let current = returned_version(&res)?;
        if current != v {
            return Err(StoreError::namespace_version_mismatch(v, current));
        }
        Err(StoreError::not_found(format!(
            "namespace {} not found",
            req.id
        )))
    }

    async fn rename_namespace(&self, req: RenameNamespaceRequest) -> Result<()> {
        validate::namespace::rename(&req)?;
        if req.previous_name == METADATA_NAME {
            return Err(StoreError::not_found(format!(
                "namespace {:?} not found",
                req.previous_name
            )));
        }
        if req.update.name == METADATA_NAME {
            return Err(reserved(&req.update.name));
        }
        for attempt in 0..VERSION_ATTEMPTS {
            if self.rename_once(&req).await? {
                return Ok(());
            }
            backoff(attempt).await;
        }
        Err(contention("rename_namespace"))
    }

    async fn delete_namespace(&self, id: NamespaceId) -> Result<()> {
        id.validate()?;
        for attempt in 0..VERSION_ATTEMPTS {
            if let Some(rec) = self.by_id(id).await? {
                let res = self
                    .cass
                    .cas(DELETE_ROW, vals![rec.name.as_str(), id.0])
                    .await?;
                if !res.applied {
                    // Renamed or deleted meanwhile: look again.
                    backoff(attempt).await;
                    continue;
                }
            }
            self.cass.cas(DROP_POINTER, vals![id.0]).await?;
            return Ok(());
        }
        Err(contention("delete_namespace"))
    }

    async fn delete_namespace_by_name(&self, name: &str) -> Result<()> {
        validate::id_string("namespace name", name)?;
        for attempt in 0..VERSION_ATTEMPTS {
            let Some(rec) = self.by_name(name).await? else {
                return Ok(());
            };
            let res = self.cass.cas(DELETE_ROW, vals![name, rec.id.0]).await?;
            if res.applied {
                // Only our own pointer: the id row still names this name.
                self.cass.cas(UNCLAIM_ID, vals![rec.id.0, name]).await?;
                return Ok(());
            }
            backoff(attempt).await;
        }
        Err(contention("delete_namespace_by_name"))
    }

    async fn list_namespaces(
        &self,
        page_size: i32,
        next_page_token: Option<Vec<u8>>,
    ) -> Result<Page<NamespaceRecord>> {
        let page_size = validate::page_size(page_size)?;
        let after = match &next_page_token {
            Some(t) => Some(decode_token(t)?),
            None => None,
        };
        let remaining: Vec<(NamespaceId, String)> = self
            .ids()
            .await?
            .into_iter()
            .filter(|(id, _)| after.is_none_or(|a| *id > a))
            .collect();
        let more = remaining.len() > page_size;
        let page: Vec<(NamespaceId, String)> = remaining.into_iter().take(page_size).collect();
        let mut items = Vec::with_capacity(page.len());
        for chunk in page.chunks(IN_CHUNK) {
            let names = CqlValue::List(
                chunk
                    .iter()
                    .map(|(_, n)| CqlValue::Text(n.clone()))
                    .collect(),
            );
            for r in self.cass.rows(SELECT_NAMES_IN, vals![names]).await? {
                if let Some(rec) = namespace_row(Some(r))? {
                    items.push(rec);
                }
            }
        }
        // Keep only rows that are still the namespace the id scan saw (one deleted or renamed
        // between the two reads is left out, as if listed a moment later), in id order.
        items.retain(|rec| page.iter().any(|(id, n)| *id == rec.id && *n == rec.name));
        items.sort_by_key(|r| r.id);
        let next_page_token = match (more, page.last()) {
            (true, Some((last, _))) => Some(encode_token(*last)),
            _ => None,
        };
        Ok(Page {
            items,
            next_page_token,
        })
    }

    async fn get_metadata(&self) -> Result<i64> {
        Ok(self.version().await?.unwrap_or(0))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const COLUMNS: &str =
        "name, id, detail, detail_encoding, is_global_namespace, notification_version";

    #[test]
    fn statements_name_every_column_once() {
        for s in [SELECT_BY_NAME, SELECT_NAMES_IN] {
            assert!(s.contains(COLUMNS), "{s}");
        }
        // The metadata row's name is spelled the same everywhere.
        for s in [SELECT_VERSION, BUMP_VERSION, INIT_VERSION] {
            assert!(s.contains(&format!("'{METADATA_NAME}'")), "{s}");
        }
    }

    #[test]
    fn bump_statements() {
        let b = bump(Some(7));
        assert_eq!(b.cql, BUMP_VERSION);
        assert_eq!(
            b.vals,
            vec![Some(CqlValue::BigInt(8)), Some(CqlValue::BigInt(7))]
        );
        assert_eq!(bump(None).cql, INIT_VERSION);
        let id = NamespaceId(uuid::Uuid::new_v4());
        assert_eq!(decode_token(&encode_token(id)).unwrap(), id);
        assert!(decode_token(&validate::token::encode(&1)).is_err());
        assert!(decode_token(b"\xffgarbage").is_err());
        assert_eq!(reserved(METADATA_NAME).kind(), ErrorKind::InvalidArgument);
    }
}
