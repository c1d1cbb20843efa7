//! TaskQueueStore on SQL.

use std::sync::Arc;

use durastore_api::TaskQueueStore;

use crate::SqlStore;

pub(crate) fn make(_store: &Arc<SqlStore>) -> Option<Arc<dyn TaskQueueStore>> {
    None
}
