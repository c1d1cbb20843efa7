//! Keyset paging shared by every listing: fetch `LIMIT page_size + 1` rows, return `page_size`,
//! and issue a token (the keyset position of the last returned item) only when the extra row
//! exists, so the last page never carries a token.

use durastore_api::{Page, Result, StoreError, validate};
use serde::Serialize;

use crate::value::Row;

/// Builds a page from rows fetched with `LIMIT page_size + 1`; `key_of` gives the keyset
/// position that the token of the last returned item carries.
pub(crate) fn keyset_page<T, K: Serialize>(
    rows: &[Row],
    page_size: usize,
    map: impl FnMut(&Row) -> Result<T>,
    key_of: impl Fn(&T) -> K,
) -> Result<Page<T>> {
    let more = rows.len() > page_size;
    let items = rows
        .iter()
        .take(page_size)
        .map(map)
        .collect::<Result<Vec<_>>>()?;
    let next_page_token = match (more, items.last()) {
        (true, Some(last)) => Some(validate::token::encode(&key_of(last))),
        _ => None,
    };
    Ok(Page {
        items,
        next_page_token,
    })
}

/// Lower-case hex, for binary keys inside JSON page tokens.
pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Inverse of [`hex`]; anything else is an invalid page token.
pub(crate) fn unhex(s: &str) -> Result<Vec<u8>> {
    let bad = || StoreError::invalid_argument("invalid page token");
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return Err(bad());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| bad()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn hex_round_trip() {
        assert_eq!(unhex(&hex(&[0, 1, 0xff])).ok(), Some(vec![0, 1, 0xff]));
        assert!(unhex("zz").is_err());
        assert!(unhex("abc").is_err());
    }

    #[test]
    fn token_only_when_more_rows() {
        let rows: Vec<Row> = (0..3).map(|i| Row(vec![Value::Int(i)])).collect();
        let p = keyset_page(&rows, 2, |r| r.i64(0), |v| *v).unwrap();
        assert_eq!(p.items, vec![0, 1]);
        let back: i64 = validate::token::decode(p.next_page_token.as_deref().unwrap()).unwrap();
        assert_eq!(back, 1);
        let p = keyset_page(&rows, 3, |r| r.i64(0), |v| *v).unwrap();
        assert!(p.next_page_token.is_none());
    }
}
