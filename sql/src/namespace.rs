//! NamespaceStore on SQL.

use std::sync::Arc;

use durastore_api::NamespaceStore;

use crate::SqlStore;

pub(crate) fn make(_store: &Arc<SqlStore>) -> Option<Arc<dyn NamespaceStore>> {
    None
}
