//! Input limits, checked by every store before it writes anything.
//!
//! Backends call these helpers so that every backend rejects the same inputs with the same kind:
//! `InvalidArgument` for malformed values, `SizeLimitExceeded` for values that are too large.

pub mod execution;
pub mod history;
pub mod history_tasks;
pub mod namespace;
pub mod task_queue;

use crate::error::{Result, StoreError};
use crate::ids::MAX_ID_BYTES;
use crate::types::DataBlob;

/// Largest blob any store accepts (Temporal's default transaction size limit, 4 MiB).
pub const MAX_BLOB_BYTES: usize = 4 * 1024 * 1024;

/// Largest page size any list/read call accepts.
pub const MAX_PAGE_SIZE: i32 = 10_000;

/// Largest page token accepted (tokens are small; anything bigger is not ours).
pub const MAX_PAGE_TOKEN_BYTES: usize = 4096;

/// Checks a free-form identifier string: non-empty, at most 255 bytes, no NUL.
pub fn id_string(what: &str, s: &str) -> Result<()> {
    if s.is_empty() {
        return Err(StoreError::invalid_argument(format!("{what} is empty")));
    }
    if s.len() > MAX_ID_BYTES {
        return Err(StoreError::size_limit(format!(
            "{what} is {} bytes, limit {MAX_ID_BYTES}",
            s.len()
        )));
    }
    if s.contains('\0') {
        return Err(StoreError::invalid_argument(format!(
            "{what} contains a NUL character"
        )));
    }
    Ok(())
}

/// Checks an identifier string that may be empty (e.g. an optional request id).
pub fn optional_id_string(what: &str, s: &str) -> Result<()> {
    if s.is_empty() {
        Ok(())
    } else {
        id_string(what, s)
    }
}

/// Checks a blob: at most [`MAX_BLOB_BYTES`], encoding name at most 16 bytes.
pub fn blob(what: &str, b: &DataBlob) -> Result<()> {
    if b.data.len() > MAX_BLOB_BYTES {
        return Err(StoreError::size_limit(format!(
            "{what} is {} bytes, limit {MAX_BLOB_BYTES}",
            b.data.len()
        )));
    }
    if b.encoding.len() > DataBlob::MAX_ENCODING_BYTES {
        return Err(StoreError::invalid_argument(format!(
            "{what} encoding name is {} bytes, limit {}",
            b.encoding.len(),
            DataBlob::MAX_ENCODING_BYTES
        )));
    }
    Ok(())
}

/// Checks a blob that must not be empty (e.g. history events).
pub fn non_empty_blob(what: &str, b: &DataBlob) -> Result<()> {
    if b.data.is_empty() {
        return Err(StoreError::invalid_argument(format!("{what} is empty")));
    }
    blob(what, b)
}

/// Checks a page size: 1..=[`MAX_PAGE_SIZE`].
pub fn page_size(size: i32) -> Result<usize> {
    if size <= 0 {
        return Err(StoreError::invalid_argument(format!(
            "page size must be positive, got {size}"
        )));
    }
    if size > MAX_PAGE_SIZE {
        return Err(StoreError::invalid_argument(format!(
            "page size {size} exceeds limit {MAX_PAGE_SIZE}"
        )));
    }
    Ok(size as usize)
}

/// Checks a page token's size (its content is checked by the store that issued it).
pub fn page_token(token: Option<&[u8]>) -> Result<()> {
    match token {
        Some([]) => Err(StoreError::invalid_argument("page token is empty")),
        Some(t) if t.len() > MAX_PAGE_TOKEN_BYTES => Err(StoreError::invalid_argument(format!(
            "page token is {} bytes, limit {MAX_PAGE_TOKEN_BYTES}",
            t.len()
        ))),
        _ => Ok(()),
    }
}

/// Checks that a number is not negative.
pub fn non_negative(what: &str, v: i64) -> Result<()> {
    if v < 0 {
        Err(StoreError::invalid_argument(format!(
            "{what} must not be negative, got {v}"
        )))
    } else {
        Ok(())
    }
}

/// Checks that a number is positive.
pub fn positive(what: &str, v: i64) -> Result<()> {
    if v <= 0 {
        Err(StoreError::invalid_argument(format!(
            "{what} must be positive, got {v}"
        )))
    } else {
        Ok(())
    }
}

/// A cluster member's host id: exactly 16 bytes (a UUID).
pub fn host_id(what: &str, host_id: &[u8]) -> Result<()> {
    if host_id.len() != 16 {
        return Err(StoreError::invalid_argument(format!(
            "{what} must be exactly 16 bytes, got {}",
            host_id.len()
        )));
    }
    Ok(())
}

/// Most search attributes one visibility record may carry (Temporal's default
/// `limit.numberOfSearchAttributes`).
pub const MAX_SEARCH_ATTRIBUTES: usize = 100;

/// Largest single search-attribute value, in bytes: a Keyword or Text string, or the sum of a
/// KeywordList's strings (Temporal's default `limit.searchAttributesSizeOfValue`, 2 KiB).
pub const MAX_SEARCH_ATTRIBUTE_VALUE_BYTES: usize = 2 * 1024;

/// Largest total size of one record's search attributes, names included (Temporal's default
/// `limit.searchAttributesTotalSize`, 40 KiB). Numbers, booleans and datetimes count 8 bytes.
pub const MAX_SEARCH_ATTRIBUTES_TOTAL_BYTES: usize = 40 * 1024;

/// Backend-independent checks of a visibility record's search attributes, before any write:
/// at most [`MAX_SEARCH_ATTRIBUTES`] entries, no value over [`MAX_SEARCH_ATTRIBUTE_VALUE_BYTES`],
/// all together at most [`MAX_SEARCH_ATTRIBUTES_TOTAL_BYTES`] (`SizeLimitExceeded`); no NUL
/// character in a name or string, no NaN or infinite Double (`InvalidArgument`). Whether each
/// name is known and its value has the registered type is the store's check.
pub fn search_attributes(
    attrs: &std::collections::BTreeMap<String, crate::visibility::SearchAttributeValue>,
) -> Result<()> {
    use crate::visibility::SearchAttributeValue as V;
    if attrs.len() > MAX_SEARCH_ATTRIBUTES {
        return Err(StoreError::size_limit(format!(
            "{} search attributes, limit {MAX_SEARCH_ATTRIBUTES}",
            attrs.len()
        )));
    }
    let no_nul = |what: &str, s: &str| {
        if s.contains('\0') {
            Err(StoreError::invalid_argument(format!(
                "{what} contains a NUL character"
            )))
        } else {
            Ok(())
        }
    };
    let mut total = 0usize;
    for (name, value) in attrs {
        no_nul("a search attribute name", name)?;
        let size = match value {
            V::String(s) => {
                no_nul(&format!("search attribute {name:?}"), s)?;
                s.len()
            }
            V::KeywordList(items) => {
                for s in items {
                    no_nul(&format!("search attribute {name:?}"), s)?;
                }
                items.iter().map(String::len).sum()
            }
            V::Double(d) if !d.is_finite() => {
                return Err(StoreError::invalid_argument(format!(
                    "search attribute {name:?} is {d}; a Double must be finite"
                )));
            }
            V::Int(_) | V::Double(_) | V::Bool(_) | V::Datetime(_) => 8,
        };
        if size > MAX_SEARCH_ATTRIBUTE_VALUE_BYTES {
            return Err(StoreError::size_limit(format!(
                "search attribute {name:?} is {size} bytes, limit {MAX_SEARCH_ATTRIBUTE_VALUE_BYTES}"
            )));
        }
        total += name.len() + size;
    }
    if total > MAX_SEARCH_ATTRIBUTES_TOTAL_BYTES {
        return Err(StoreError::size_limit(format!(
            "search attributes total {total} bytes, limit {MAX_SEARCH_ATTRIBUTES_TOTAL_BYTES}"
        )));
    }
    Ok(())
}

/// An optional id field of a visibility record: at most [`crate::MAX_ID_BYTES`]
/// (`SizeLimitExceeded`), no NUL (`InvalidArgument`).
fn optional_record_id(what: &str, v: &Option<String>) -> Result<()> {
    match v {
        Some(s) if s.len() > crate::MAX_ID_BYTES => Err(StoreError::size_limit(format!(
            "{what} is {} bytes, limit {}",
            s.len(),
            crate::MAX_ID_BYTES
        ))),
        Some(s) if s.contains('\0') => Err(StoreError::invalid_argument(format!(
            "{what} contains a NUL character"
        ))),
        _ => Ok(()),
    }
}

/// The stored code of the archetype a visibility list or count is scoped to (see
/// [`crate::ArchetypeId::visibility_code`]); [`crate::ArchetypeId::UNSPECIFIED`] is refused, so
/// a caller that forgot the archetype never reads the workflows' records by accident.
pub fn visibility_scope(archetype: crate::ArchetypeId) -> Result<u32> {
    archetype.validate()?;
    Ok(archetype.visibility_code())
}

/// Backend-independent checks of a visibility record before any write: ids, task id, memo size,
/// CHASM info (size; only on a CHASM archetype's record),
/// search-attribute sizes ([`search_attributes`]), and a close time when `closed` (a closed
/// record without one would sort as running). Whether each attribute is registered is the
/// store's check.
pub fn visibility_record(r: &crate::visibility::VisibilityRecord, closed: bool) -> Result<()> {
    r.namespace_id.validate()?;
    r.archetype_id.validate()?;
    r.run_id.validate()?;
    id_string("workflow id", &r.workflow_id)?;
    optional_id_string("workflow type", &r.workflow_type)?;
    optional_id_string("task queue", &r.task_queue)?;
    optional_record_id("parent workflow id", &r.parent_workflow_id)?;
    optional_record_id("root workflow id", &r.root_workflow_id)?;
    non_negative("task id", r.task_id)?;
    if let Some(m) = &r.memo {
        blob("memo", m)?;
    }
    if let Some(info) = &r.chasm_info {
        if r.archetype_id.is_workflow() {
            return Err(StoreError::invalid_argument(
                "chasm_info is set on a workflow record; only a CHASM execution's record \
                 carries one",
            ));
        }
        blob("chasm info", info)?;
    }
    search_attributes(&r.search_attributes)?;
    if closed && r.close_time.is_none() {
        return Err(StoreError::invalid_argument(
            "record_closed needs a close time",
        ));
    }
    Ok(())
}

/// A page token carrying JSON: the format every store in this repository uses for keyset paging.
///
/// Encodes as a version byte `1` followed by the JSON text, so a token from another store or a
/// corrupted token is rejected as `InvalidArgument` instead of misread.
pub mod token {
    use serde::{Serialize, de::DeserializeOwned};

    use crate::error::{Result, StoreError};

    const VERSION: u8 = 1;

    /// Encodes a token.
    pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
        let mut out = vec![VERSION];
        // Serializing plain structs of numbers/strings cannot fail.
        out.extend(serde_json::to_vec(value).unwrap_or_default());
        out
    }

    /// Decodes a token, or `InvalidArgument`.
    pub fn decode<T: DeserializeOwned>(token: &[u8]) -> Result<T> {
        super::page_token(Some(token))?;
        match token.split_first() {
            Some((&VERSION, rest)) => serde_json::from_slice(rest)
                .map_err(|e| StoreError::invalid_argument(format!("invalid page token: {e}"))),
            _ => Err(StoreError::invalid_argument("invalid page token")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_pages() {
        assert!(id_string("x", "").unwrap_err().is_bad_request());
        assert!(
            id_string("x", &"a".repeat(256))
                .unwrap_err()
                .is_bad_request()
        );
        assert!(id_string("x", &"a".repeat(255)).is_ok());
        assert!(page_size(-1).is_err());
        assert!(page_size(0).is_err());
        assert_eq!(page_size(5).unwrap(), 5);
        let t = token::encode(&(1i64, "a"));
        let back: (i64, String) = token::decode(&t).unwrap();
        assert_eq!(back, (1, "a".to_string()));
        assert!(token::decode::<(i64, String)>(b"garbage").is_err());
        assert!(token::decode::<(i64, String)>(&[1, b'{']).is_err());
    }
}
