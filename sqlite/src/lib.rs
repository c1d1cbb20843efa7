//! durastore-sqlite
