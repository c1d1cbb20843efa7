//! Schema versions (`major.minor`, parsed and printed like Temporal's).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};

/// A schema version such as `1.0` or `1.10`, ordered numerically part by part (`1.10 > 1.9`).
///
/// Missing parts count as zero (`1` = `1.0` = `1.0.0`); the canonical text has at least two parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version {
    // Invariant: at least two parts and no trailing zero beyond the second, so that derived
    // equality, hashing and (lexicographic) ordering are the numeric ones.
    parts: Vec<u32>,
}

impl Version {
    /// Parses `1.10`, `v1.10`, `1` or `1.2.3`.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || {
            StoreError::invalid_argument(format!(
                "{text:?} is not a schema version (expected e.g. 1.10)"
            ))
        };
        let t = text.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        if t.is_empty() {
            return Err(bad());
        }
        let mut parts = Vec::new();
        for p in t.split('.') {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            parts.push(p.parse::<u32>().map_err(|_| bad())?);
        }
        Ok(Self::from_parts(parts))
    }

    /// Builds a version from its numeric parts.
    pub fn from_parts(mut parts: Vec<u32>) -> Self {
        while parts.len() > 2 && parts.last() == Some(&0) {
            parts.pop();
        }
        while parts.len() < 2 {
            parts.push(0);
        }
        Version { parts }
    }

    /// `0.0`: the version of a database that has the version tables and nothing else.
    pub fn zero() -> Self {
        Self::from_parts(Vec::new())
    }

    /// The numeric parts.
    pub fn parts(&self) -> &[u32] {
        &self.parts
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for p in &self.parts {
            if !first {
                f.write_str(".")?;
            }
            first = false;
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Version {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Version::parse(&s).map_err(serde::de::Error::custom)
    }
}
