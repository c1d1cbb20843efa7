//! ClusterMetadataStore on SQL.

use std::sync::Arc;

use durastore_api::ClusterMetadataStore;

use crate::SqlStore;

pub(crate) fn make(_store: &Arc<SqlStore>) -> Option<Arc<dyn ClusterMetadataStore>> {
    None
}
