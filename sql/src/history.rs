//! HistoryStore on SQL.

use std::sync::Arc;

use durastore_api::{AppendHistoryNodesRequest, HistoryStore, Result, StoreError};

use crate::SqlStore;

pub(crate) fn make(_store: &Arc<SqlStore>) -> Option<Arc<dyn HistoryStore>> {
    None
}

/// Appends one history node (and the tree row for a new branch), validating the request first.
/// Shared with the execution store, which appends `*_events` before its state transaction.
pub(crate) async fn append_nodes(_store: &SqlStore, _req: &AppendHistoryNodesRequest) -> Result<()> {
    Err(StoreError::unsupported("history append not implemented yet"))
}
