//! HistoryStore on SQL.

use std::sync::Arc;

use durastore_api::HistoryStore;

use crate::SqlStore;

pub(crate) fn make(_store: &Arc<SqlStore>) -> Option<Arc<dyn HistoryStore>> {
    None
}
