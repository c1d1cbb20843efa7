//! Custom search attributes: the per-namespace alias registry (`visibility_search_attributes`),
//! its cache for writes, and registration (see the module docs of [`super`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use durastore_api::query::{SearchAttributeType, validate_custom_name};
use durastore_api::{ErrorKind, NamespaceId, Result, StoreError, VisibilityRecord};

use crate::value::Row;
use crate::visibility_columns::{
    ALIAS_TABLE, CUSTOM_FIELDS, Kind, Registry, custom_column, slot_type, type_from_name, type_name,
};
use crate::{SqlStore, params};

/// How many times `add_search_attributes` retries when a concurrent registration took the same
/// column or name first.
const REGISTER_ATTEMPTS: usize = 8;

/// The most namespaces whose registries a store keeps; past it the cache starts over.
const CACHED_REGISTRIES: usize = 4096;

/// Registries of custom search attributes by namespace, as last read, for writes.
///
/// An alias is only ever added (no API removes or remaps one), so a cached registry is never
/// wrong about an alias it has: it can only lack one registered since, here or by another
/// process. A write uses it when it has every attribute of the record and reads the table
/// otherwise, so the lifecycle's two visibility writes per workflow skip a round trip each.
/// Lists, counts and gets read the table every time: there a missing alias would reject a
/// valid query or drop an attribute from a record. (A store whose alias table is emptied
/// underneath it, by a schema reset while it runs, must be reopened.)
#[derive(Default)]
pub(crate) struct RegistryCache(std::sync::Mutex<HashMap<NamespaceId, Arc<Registry>>>);

impl RegistryCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<NamespaceId, Arc<Registry>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, ns: NamespaceId) -> Option<Arc<Registry>> {
        self.lock().get(&ns).cloned()
    }

    fn put(&self, ns: NamespaceId, reg: Arc<Registry>) {
        let mut map = self.lock();
        if map.len() >= CACHED_REGISTRIES && !map.contains_key(&ns) {
            map.clear();
        }
        map.insert(ns, reg);
    }

    fn forget(&self, ns: NamespaceId) {
        self.lock().remove(&ns);
    }
}

fn registry_from_rows(rows: &[Row]) -> Result<Registry> {
    let mut reg = Registry::default();
    for row in rows {
        let alias = row.string(0)?;
        let field = row.string(1)?;
        let ty_name = row.string(2)?;
        let (Some(column), Some(ty)) = (custom_column(&field), type_from_name(&ty_name)) else {
            return Err(StoreError::internal(format!(
                "{ALIAS_TABLE}: {alias:?} maps to unknown column {field:?} of type {ty_name:?}"
            )));
        };
        if Kind::of(ty) != column.kind {
            return Err(StoreError::internal(format!(
                "{ALIAS_TABLE}: {alias:?} is {ty_name} but column {field} is not"
            )));
        }
        reg.custom.insert(alias, (column.name, ty));
    }
    Ok(reg)
}

impl SqlStore {
    /// The registry a write of `r` needs: the cached one when it has every attribute of the
    /// record, else read afresh (and cached).
    pub(super) async fn write_registry(&self, r: &VisibilityRecord) -> Result<Arc<Registry>> {
        if let Some(reg) = self.registries.get(r.namespace_id)
            && r.search_attributes
                .keys()
                .all(|name| reg.attribute_type(name).is_some())
        {
            return Ok(reg);
        }
        let reg = Arc::new(self.vis_registry(r.namespace_id).await?);
        self.registries.put(r.namespace_id, reg.clone());
        Ok(reg)
    }

    /// The namespace's registered custom attributes.
    pub(super) async fn vis_registry(&self, ns: NamespaceId) -> Result<Registry> {
        let rows = self
            .driver
            .query(
                &format!(
                    "SELECT alias, field_name, field_type FROM {ALIAS_TABLE} WHERE namespace_id = ?"
                ),
                &params![ns.to_string()],
            )
            .await?;
        registry_from_rows(&rows)
    }

    async fn vis_add_attempt(
        &self,
        ns: NamespaceId,
        attributes: &BTreeMap<String, SearchAttributeType>,
    ) -> Result<()> {
        let ns_text = ns.to_string();
        let mut tx = self.driver.begin().await?;
        let result = async {
            let rows = tx
                .query(
                    &format!(
                        "SELECT alias, field_name, field_type FROM {ALIAS_TABLE} \
                         WHERE namespace_id = ?"
                    ),
                    &params![&ns_text],
                )
                .await?;
            let mut reg = registry_from_rows(&rows)?;
            let mut new_rows = Vec::new();
            for (name, ty) in attributes {
                if let Some((_, have)) = reg.custom.get(name) {
                    if have == ty {
                        continue;
                    }
                    return Err(StoreError::invalid_argument(format!(
                        "search attribute {name:?} is already registered as {} in namespace \
                         {ns}, not {}",
                        type_name(*have),
                        type_name(*ty)
                    )));
                }
                let Some(field) = reg.free_field(*ty) else {
                    let slots = CUSTOM_FIELDS
                        .iter()
                        .filter(|(_, t)| *t == slot_type(*ty))
                        .count();
                    return Err(StoreError::invalid_argument(format!(
                        "cannot register search attribute {name:?}: namespace {ns} already uses \
                         all {slots} {} attributes this store provides",
                        type_name(*ty)
                    )));
                };
                reg.custom.insert(name.clone(), (field, *ty));
                new_rows.push((name.clone(), field, *ty));
            }
            for (name, field, ty) in new_rows {
                tx.execute(
                    &format!(
                        "INSERT INTO {ALIAS_TABLE} (namespace_id, alias, field_name, field_type) \
                         VALUES (?, ?, ?, ?)"
                    ),
                    &params![&ns_text, name, field, type_name(ty)],
                )
                .await?;
            }
            Ok(())
        }
        .await;
        SqlStore::finish(tx, result).await
    }

    /// The body of `VisibilityStore::add_search_attributes`.
    pub(super) async fn vis_add_search_attributes(
        &self,
        namespace_id: NamespaceId,
        attributes: BTreeMap<String, SearchAttributeType>,
    ) -> Result<()> {
        namespace_id.validate()?;
        for name in attributes.keys() {
            validate_custom_name(name)?;
        }
        let mut last = None;
        for _ in 0..REGISTER_ATTEMPTS {
            match self.vis_add_attempt(namespace_id, &attributes).await {
                // A concurrent registration took the same name or column first; the next
                // attempt sees it.
                Err(e) if e.kind() == ErrorKind::AlreadyExists => last = Some(e),
                other => {
                    // The next write reads the registry with these attributes (a write would
                    // also find them missing and read it; this saves that miss).
                    self.registries.forget(namespace_id);
                    return other;
                }
            }
        }
        Err(StoreError::new(
            ErrorKind::Unavailable,
            format!(
                "search attribute registration kept conflicting with concurrent registrations \
                 in namespace {namespace_id}; retry"
            ),
        )
        .with_source(last.unwrap_or_else(|| StoreError::internal("no attempt ran"))))
    }
}
