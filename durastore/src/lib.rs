//! # durastore: the facade over every durastore backend
//!
//! - [`config`]: a plain URL (`sqlite:///path.db`, `sqlite::memory:`) or a YAML file in the shape
//!   of Temporal's `persistence:` section;
//! - [`factory`]: the opener that turns either into [`durastore_api::Stores`] (and into a schema
//!   target for the schema tool);
//! - [`registry`]: the backends, parsed once from a URL scheme into a
//!   [`BackendKind`](registry::BackendKind), each with one [`Provider`](registry::Provider);
//! - [`provision`] (feature `test-support`): how the conformance test binary finds a server for
//!   each backend (`DURASTORE_<BACKEND>_URL`, else a container when Docker answers, else a
//!   visible skip) and makes a database of its own per run;
//! - [`bench`](mod@bench): `durastore bench`, the workload driver that measures a backend per
//!   workflow, and its `--floor` (the `floor` feature, on by default).
//!
//! The `durastore` binary (schema tool, conformance runner, inspector, bench) is built on these.

pub mod bench;
pub mod config;
pub mod factory;
#[cfg(feature = "test-support")]
pub mod provision;
pub mod registry;

pub use config::{Config, StoreRole};
pub use factory::{OpenMode, open, open_config, open_with};
pub use registry::BackendKind;
