//! QueueStore on SQL.

use std::sync::Arc;

use durastore_api::QueueStore;

use crate::SqlStore;

pub(crate) fn make(_store: &Arc<SqlStore>) -> Option<Arc<dyn QueueStore>> {
    None
}
