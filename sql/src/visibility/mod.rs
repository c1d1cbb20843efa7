//! VisibilityStore on SQL: `executions_visibility` plus the per-namespace alias registry
//! `visibility_search_attributes` (schema set `visibility` of each backend).
//!
//! # Writes
//! Every write is one conditional upsert keyed by `(namespace_id, run_id)` with the task id as
//! the record version `_version` (Temporal's rule): the row is inserted when missing and
//! replaced when the stored version is lower; otherwise the statement changes nothing, so a
//! stale or repeated write is a silent no-op (PostgreSQL and SQLite `ON CONFLICT … DO UPDATE …
//! WHERE _version < excluded._version`, MySQL a per-column `IF()`). One statement is atomic on
//! every backend, so concurrent writers of one record need no transaction. `record_started`,
//! `record_closed` and `upsert` all store the record exactly as given (`record_closed` requires
//! a close time: a closed record without one would sort as running).
//!
//! A delete removes the row only if its stored version is below the delete's task id. No
//! tombstone is kept (as in Temporal's SQL stores): a write arriving after a delete recreates
//! the record, whatever its task id. Deletes come from retention, long after the last write of a
//! run, where that cannot happen in practice; a tombstone table would grow without bound.
//!
//! Before anything is written the record is checked: ids, memo size
//! ([`validate::blob`]), search-attribute count and sizes ([`validate::search_attributes`]),
//! datetimes in the storable years 0000..=9999, and every search attribute must be a predefined
//! one or a custom one registered for the namespace, with a value of its type; anything else is
//! `InvalidArgument` (or `SizeLimitExceeded`) and writes nothing. System attributes
//! (`WorkflowId`, …) come from the record's fields and are refused inside `search_attributes`.
//!
//! # Custom search attributes
//! Temporal's SQL layout: pre-allocated typed columns (Bool01-03, Datetime01-03, Double01-03,
//! Int01-03, Keyword01-10, Text01-03, KeywordList01-03) and a per-namespace alias table.
//! `add_search_attributes` gives each new name the first free column of its type in that
//! namespace; re-registering a name with the same type is a no-op, with another type
//! `InvalidArgument`. When a type's columns are all taken the call fails with `InvalidArgument`
//! and registers nothing (there is no JSON-only overflow: an unindexed attribute would answer
//! queries by scanning, and every backend must behave the same). Aliases are never changed or
//! removed, so the registry read by a write or query needs no lock.
//!
//! # Reads
//! Queries are parsed by [`durastore_api::query::parse_query`] against the namespace's
//! attributes and translated by [`crate::visibility_query`]; every value is a bind parameter
//! and every column name comes from a fixed table. The list order is `close_time_order DESC,
//! start_time DESC, run_id ASC`, where `close_time_order` is a stored generated column,
//! `COALESCE(close_time, '~')` ('~' sorts above every datetime text, so running executions come
//! first). Pages are keyset pages: the token holds the last row's `(close_time_order,
//! start_time, run_id)`, so a page continues exactly after it even while rows are added, and
//! a hash of the namespace and the parsed query: a token used with another query or namespace is
//! `InvalidArgument`. Counts group by the integer `status` (or by a LowCardinalityKeyword
//! column); groups come largest first, ties by status code (or value).
//!
//! # CHASM (schema version 1.1)
//! `archetype_id` (0 for workflows) scopes every list and count (`AND archetype_id = ?`, index
//! `by_archetype`); `chasm_info`/`chasm_info_encoding` hold the CHASM info blob; Temporal's
//! pre-allocated `Temporal<Type>NN` CHASM attributes have columns of their own name, filled like
//! the predefined ones.
//!
//! # Layout
//! This file holds the trait implementation, which delegates to `write.rs` (checks, row
//! encoding, upsert, delete), `read.rs` (query translation, get, list pages, count) and
//! `attributes.rs` (the alias registry, its cache, registration); `fixture.rs` serves the
//! benches.

mod attributes;
mod fixture;
mod read;
#[cfg(test)]
mod tests;
mod write;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use durastore_api::query::SearchAttributeType;
use durastore_api::{
    CountResult, CountWorkflowExecutionsRequest, ListWorkflowExecutionsRequest, NamespaceId, Page,
    Result, RunId, VisibilityRecord, VisibilityStore,
};

use crate::SqlStore;
pub(crate) use attributes::RegistryCache;
pub use fixture::VisibilityFixture;
use write::WriteKind;

pub(crate) fn make(store: &Arc<SqlStore>) -> Option<Arc<dyn VisibilityStore>> {
    Some(store.clone() as Arc<dyn VisibilityStore>)
}

/// The key of `executions_visibility`.
const KEY: &[&str] = &["namespace_id", "run_id"];

/// Value of `close_time_order` for a running execution (see the module docs).
const RUNNING_ORDER: &str = "~";

/// Columns read for a record, in the order [`read::record_from_row`] expects.
const SELECT_COLUMNS: &str = "run_id, _version, shard_id, workflow_id, workflow_type_name, \
     start_time, execution_time, status, task_queue, memo, encoding, search_attributes, \
     parent_workflow_id, parent_run_id, root_workflow_id, root_run_id, close_time, \
     history_length, history_size_bytes, execution_duration, state_transition_count, \
     close_time_order, archetype_id, chasm_info, chasm_info_encoding";

#[async_trait]
impl VisibilityStore for SqlStore {
    async fn record_started(&self, record: VisibilityRecord) -> Result<()> {
        self.vis_write(record, WriteKind::Started).await
    }

    async fn record_closed(&self, record: VisibilityRecord) -> Result<()> {
        self.vis_write(record, WriteKind::Closed).await
    }

    async fn upsert(&self, record: VisibilityRecord) -> Result<()> {
        self.vis_write(record, WriteKind::Upsert).await
    }

    async fn delete(&self, namespace_id: NamespaceId, run_id: RunId, task_id: i64) -> Result<()> {
        self.vis_delete(namespace_id, run_id, task_id).await
    }

    async fn get(&self, namespace_id: NamespaceId, run_id: RunId) -> Result<VisibilityRecord> {
        self.vis_get(namespace_id, run_id).await
    }

    async fn list(&self, req: ListWorkflowExecutionsRequest) -> Result<Page<VisibilityRecord>> {
        self.vis_list(req).await
    }

    async fn count(&self, req: CountWorkflowExecutionsRequest) -> Result<CountResult> {
        self.vis_count(req).await
    }

    async fn add_search_attributes(
        &self,
        namespace_id: NamespaceId,
        attributes: BTreeMap<String, SearchAttributeType>,
    ) -> Result<()> {
        self.vis_add_search_attributes(namespace_id, attributes)
            .await
    }
}
