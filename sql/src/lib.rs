//! durastore-sql
