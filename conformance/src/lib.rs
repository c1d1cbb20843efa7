//! durastore-conformance
