//! Values bound to and read from SQL statements, independent of the driver.
//!
//! Store logic speaks only [`Value`] and [`Row`]; each backend's driver converts them to and from
//! its own types. Row getters are lenient about representation (SQLite returns timestamps as
//! text and booleans as integers) but strict about meaning: a wrong type is `Internal`.

use chrono::{DateTime, NaiveDateTime, Utc};
use durastore_api::{DataBlob, Result, StoreError};

/// A bind parameter or a column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// Any integer column.
    Int(i64),
    /// A boolean column.
    Bool(bool),
    /// A double-precision float column (visibility `Double` search attributes).
    Double(f64),
    /// A text column.
    Text(String),
    /// A binary column.
    Bytes(Vec<u8>),
    /// A timestamp (UTC, microsecond precision).
    Time(DateTime<Utc>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(v as i64)
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Int(v as i64)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Double(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Bytes(v)
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Bytes(v.to_vec())
    }
}
impl From<&[u8; 16]> for Value {
    fn from(v: &[u8; 16]) -> Self {
        Value::Bytes(v.to_vec())
    }
}
impl From<DateTime<Utc>> for Value {
    fn from(v: DateTime<Utc>) -> Self {
        Value::Time(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Builds a `Vec<Value>` from heterogeneous expressions: `params![a, b, c]`.
#[macro_export]
macro_rules! params {
    ($($v:expr),* $(,)?) => {
        ::std::vec::Vec::<$crate::Value>::from([$($crate::Value::from($v)),*])
    };
}

/// Text format used where a backend stores timestamps as text (fixed width, so text order is
/// time order).
pub const TIME_TEXT_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.6f";

/// Formats a timestamp in [`TIME_TEXT_FORMAT`].
pub fn time_to_text(t: &DateTime<Utc>) -> String {
    t.format(TIME_TEXT_FORMAT).to_string()
}

/// Parses [`TIME_TEXT_FORMAT`] (and a few RFC3339 forms) as UTC.
pub fn time_from_text(s: &str) -> Result<DateTime<Utc>> {
    if let Ok(n) = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f") {
        return Ok(n.and_utc());
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Ok(d.with_timezone(&Utc));
    }
    Err(StoreError::internal(format!(
        "stored timestamp {s:?} is not parseable"
    )))
}

/// One result row: values by column position.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn at(&self, i: usize) -> Result<&Value> {
        self.0
            .get(i)
            .ok_or_else(|| StoreError::internal(format!("row has no column {i}")))
    }

    /// True if column `i` is NULL.
    pub fn is_null(&self, i: usize) -> Result<bool> {
        Ok(matches!(self.at(i)?, Value::Null))
    }

    /// An integer column.
    pub fn i64(&self, i: usize) -> Result<i64> {
        match self.at(i)? {
            Value::Int(v) => Ok(*v),
            Value::Bool(b) => Ok(*b as i64),
            Value::Text(s) => s
                .parse()
                .map_err(|_| StoreError::internal(format!("column {i}: {s:?} is not an integer"))),
            other => Err(StoreError::internal(format!(
                "column {i}: expected integer, got {other:?}"
            ))),
        }
    }

    /// A nullable integer column.
    pub fn opt_i64(&self, i: usize) -> Result<Option<i64>> {
        if self.is_null(i)? {
            Ok(None)
        } else {
            self.i64(i).map(Some)
        }
    }

    /// An integer column that must fit in `i32`.
    pub fn i32(&self, i: usize) -> Result<i32> {
        let v = self.i64(i)?;
        i32::try_from(v).map_err(|_| StoreError::internal(format!("column {i}: {v} overflows i32")))
    }

    /// A boolean column (integers 0/1 accepted).
    pub fn bool(&self, i: usize) -> Result<bool> {
        match self.at(i)? {
            Value::Bool(b) => Ok(*b),
            Value::Int(v) => Ok(*v != 0),
            other => Err(StoreError::internal(format!(
                "column {i}: expected bool, got {other:?}"
            ))),
        }
    }

    /// A text column (UTF-8 bytes accepted).
    pub fn string(&self, i: usize) -> Result<String> {
        match self.at(i)? {
            Value::Text(s) => Ok(s.clone()),
            Value::Bytes(b) => String::from_utf8(b.clone())
                .map_err(|_| StoreError::internal(format!("column {i}: not UTF-8"))),
            other => Err(StoreError::internal(format!(
                "column {i}: expected text, got {other:?}"
            ))),
        }
    }

    /// A nullable text column.
    pub fn opt_string(&self, i: usize) -> Result<Option<String>> {
        if self.is_null(i)? {
            Ok(None)
        } else {
            self.string(i).map(Some)
        }
    }

    /// A binary column (text accepted as its UTF-8 bytes; NULL as empty).
    pub fn bytes(&self, i: usize) -> Result<Vec<u8>> {
        match self.at(i)? {
            Value::Bytes(b) => Ok(b.clone()),
            Value::Text(s) => Ok(s.clone().into_bytes()),
            Value::Null => Ok(Vec::new()),
            other => Err(StoreError::internal(format!(
                "column {i}: expected bytes, got {other:?}"
            ))),
        }
    }

    /// A nullable binary column.
    pub fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>> {
        if self.is_null(i)? {
            Ok(None)
        } else {
            self.bytes(i).map(Some)
        }
    }

    /// A timestamp column (text in [`TIME_TEXT_FORMAT`] accepted).
    pub fn time(&self, i: usize) -> Result<DateTime<Utc>> {
        match self.at(i)? {
            Value::Time(t) => Ok(*t),
            Value::Text(s) => time_from_text(s),
            other => Err(StoreError::internal(format!(
                "column {i}: expected timestamp, got {other:?}"
            ))),
        }
    }

    /// A nullable timestamp column.
    pub fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>> {
        if self.is_null(i)? {
            Ok(None)
        } else {
            self.time(i).map(Some)
        }
    }

    /// A blob stored as a (data, encoding) column pair.
    pub fn blob(&self, data: usize, encoding: usize) -> Result<DataBlob> {
        Ok(DataBlob::new(self.bytes(data)?, self.string(encoding)?))
    }

    /// A nullable blob pair (NULL data means absent).
    pub fn opt_blob(&self, data: usize, encoding: usize) -> Result<Option<DataBlob>> {
        if self.is_null(data)? {
            Ok(None)
        } else {
            self.blob(data, encoding).map(Some)
        }
    }
}
