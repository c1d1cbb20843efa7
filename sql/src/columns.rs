//! Rows read by column name.
//!
//! The driver seam returns values by position ([`Row`]), which keeps every driver simple. A
//! [`Columns`] list sits next to the SELECT that uses it: it is both the text of the SELECT's
//! column list and the name-to-position map its rows are read through, so store code names the
//! column it reads, and adding or reordering a column cannot silently shift another.

use chrono::{DateTime, Utc};
use durastore_api::{DataBlob, Result, StoreError};

use crate::value::Row;

/// The column list of one SELECT.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Columns<'c>(pub(crate) &'c [&'c str]);

impl<'c> Columns<'c> {
    /// The list as SELECT text: `a, b, c`.
    pub(crate) fn list(&self) -> String {
        self.0.join(", ")
    }

    /// `row` (a result of a SELECT of exactly this list) read by column name.
    pub(crate) fn read<'r>(&self, row: &'r Row) -> NamedRow<'c, 'r> {
        NamedRow {
            columns: self.0,
            row,
        }
    }
}

/// A result row read by the names of its SELECT's [`Columns`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct NamedRow<'c, 'r> {
    columns: &'c [&'c str],
    row: &'r Row,
}

impl NamedRow<'_, '_> {
    /// The position of `name`; a name the SELECT does not list is a bug, reported as `Internal`.
    fn at(&self, name: &str) -> Result<usize> {
        self.columns
            .iter()
            .position(|c| *c == name)
            .ok_or_else(|| StoreError::internal(format!("column {name} is not in the SELECT list")))
    }

    /// True if the column is NULL.
    pub(crate) fn is_null(&self, name: &str) -> Result<bool> {
        self.row.is_null(self.at(name)?)
    }

    /// An integer column.
    pub(crate) fn i64(&self, name: &str) -> Result<i64> {
        self.row.i64(self.at(name)?)
    }

    /// A boolean column.
    pub(crate) fn bool(&self, name: &str) -> Result<bool> {
        self.row.bool(self.at(name)?)
    }

    /// A 32-bit integer column.
    pub(crate) fn i32(&self, name: &str) -> Result<i32> {
        self.row.i32(self.at(name)?)
    }

    /// A text column.
    pub(crate) fn string(&self, name: &str) -> Result<String> {
        self.row.string(self.at(name)?)
    }

    /// A nullable text column.
    pub(crate) fn opt_string(&self, name: &str) -> Result<Option<String>> {
        self.row.opt_string(self.at(name)?)
    }

    /// A binary column.
    pub(crate) fn bytes(&self, name: &str) -> Result<Vec<u8>> {
        self.row.bytes(self.at(name)?)
    }

    /// A nullable binary column.
    pub(crate) fn opt_bytes(&self, name: &str) -> Result<Option<Vec<u8>>> {
        self.row.opt_bytes(self.at(name)?)
    }

    /// A timestamp column.
    pub(crate) fn time(&self, name: &str) -> Result<DateTime<Utc>> {
        self.row.time(self.at(name)?)
    }

    /// A nullable timestamp column.
    pub(crate) fn opt_time(&self, name: &str) -> Result<Option<DateTime<Utc>>> {
        self.row.opt_time(self.at(name)?)
    }

    /// A blob stored as a (data, encoding) column pair, the encoding NOT NULL.
    pub(crate) fn blob(&self, data: &str, encoding: &str) -> Result<DataBlob> {
        self.row.blob(self.at(data)?, self.at(encoding)?)
    }

    /// A blob whose encoding column is nullable (Temporal's schema allows NULL there; read as
    /// the empty encoding).
    pub(crate) fn blob_lenient(&self, data: &str, encoding: &str) -> Result<DataBlob> {
        Ok(DataBlob::new(
            self.bytes(data)?,
            self.opt_string(encoding)?.unwrap_or_default(),
        ))
    }

    /// [`NamedRow::blob_lenient`], or `None` if the data column is NULL.
    pub(crate) fn opt_blob_lenient(&self, data: &str, encoding: &str) -> Result<Option<DataBlob>> {
        if self.is_null(data)? {
            Ok(None)
        } else {
            self.blob_lenient(data, encoding).map(Some)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    const PAIR: Columns<'static> = Columns(&["id", "data", "data_encoding"]);

    #[test]
    fn reads_by_name_and_refuses_unlisted_names() {
        let row = Row(vec![
            Value::Int(7),
            Value::Bytes(b"x".to_vec()),
            Value::Null,
        ]);
        let named = PAIR.read(&row);
        assert_eq!(PAIR.list(), "id, data, data_encoding");
        assert_eq!(named.i64("id").unwrap(), 7);
        assert_eq!(
            named.blob_lenient("data", "data_encoding").unwrap(),
            DataBlob::new(b"x".to_vec(), "")
        );
        // The encoding is NULL: the strict reader refuses it.
        assert!(named.blob("data", "data_encoding").is_err());
        let err = named.i64("run_id").unwrap_err();
        assert!(err.to_string().contains("run_id"), "{err}");
    }
}
