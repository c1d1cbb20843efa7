//! Builders for the records cases write. Payload bytes are random so that a store that mixes up
//! rows is caught.

use durastore_api::{DataBlob, NamespaceId, Uuid};

/// A random Proto3 blob of `len` bytes.
pub fn blob(len: usize) -> DataBlob {
    let mut data = Vec::with_capacity(len);
    while data.len() < len {
        data.extend_from_slice(Uuid::new_v4().as_bytes());
    }
    data.truncate(len);
    DataBlob::proto3(data)
}

/// A fresh namespace id.
pub fn namespace_id() -> NamespaceId {
    NamespaceId::new_random()
}

/// A unique name with a readable prefix.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}", Uuid::new_v4().simple())
}
