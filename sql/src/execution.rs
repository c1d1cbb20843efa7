//! ExecutionStore on SQL.

use std::sync::Arc;

use durastore_api::ExecutionStore;

use crate::SqlStore;

pub(crate) fn make(_store: &Arc<SqlStore>) -> Option<Arc<dyn ExecutionStore>> {
    None
}
