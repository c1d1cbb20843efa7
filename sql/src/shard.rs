//! ShardStore on SQL.

use std::sync::Arc;

use durastore_api::ShardStore;

use crate::SqlStore;

pub(crate) fn make(_store: &Arc<SqlStore>) -> Option<Arc<dyn ShardStore>> {
    None
}
