//! # durastore: the facade over every durastore backend
//!
//! - [`config`]: a plain URL (`sqlite:///path.db`, `sqlite::memory:`) or a YAML file in the shape
//!   of Temporal's `persistence:` section;
//! - [`factory`]: the opener that turns either into [`durastore_api::Stores`] (and into a schema
//!   target for the schema tool);
//! - [`registry`]: the backends, parsed once from a URL scheme into a
//!   [`BackendKind`](registry::BackendKind), each with one [`Provider`](registry::Provider);
//! - `provision` (feature `test-support`): how the conformance test binary finds a server for
//!   each backend (`DURASTORE_<BACKEND>_URL`, else a container when Docker answers, else a
//!   visible skip) and makes a database of its own per run;
//! - `bench` (feature `cli`): `durastore bench`, the workload driver that measures a backend per
//!   workflow, and its `--floor` (the `floor` feature, part of `cli`).
//!
//! The `durastore` binary (schema tool, conformance runner, inspector, bench) is built on these,
//! with the `cli` feature.
//!
//! ## Cargo features
//!
//! A library user compiles only the backends they open. `sqlite` is the default; `postgres`,
//! `mysql` (MySQL and MariaDB), `cassandra` (Cassandra and ScyllaDB) and `elastic`
//! (Elasticsearch and OpenSearch) add the others. [`open`] refuses a URL whose backend is
//! compiled out with the feature to enable. `test-support` adds `provision`; `cli` is the
//! `durastore` binary (every backend, clap, the Prometheus exporter, the conformance runner and
//! bench).
//!
//! ```toml
//! durastore = { version = "0.1", default-features = false, features = ["postgres"] }
//! ```

#[cfg(feature = "cli")]
pub mod bench;
pub mod config;
pub mod factory;
#[cfg(feature = "test-support")]
pub mod provision;
pub mod registry;

pub use config::{Config, StoreRole};
pub use factory::{OpenMode, open, open_config, open_with};
pub use registry::BackendKind;
