//! # durastore-conformance: one suite of cases for every durastore backend
//!
//! Every case is a public `async fn(&Ctx) -> Result<(), CaseError>` that drives a live backend
//! through the `durastore-api` traits and checks the contract written in their rustdoc. Cases
//! are registered in one table ([`all_cases`]) with an id (`execution::update_conflict_db_version`),
//! the store they exercise and the [`Capability`](durastore_api::Capability) flags they need.
//!
//! Third parties run the same cases against their own backend through [`run_suite`] (library),
//! the `durastore conformance` CLI, or a libtest-mimic test binary.
//!
//! Cases never assume an empty database: they use fresh random namespace ids, fresh shard ids
//! ([`Ctx::new_shard_id`]) and unique names, so they can share one database and run in any order.

pub mod cases;
pub mod check;
pub mod exec_fixtures;
pub mod fixtures;
pub mod runner;
pub mod util;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use durastore_api::{Result as StoreResult, Stores};

pub use check::CaseError;
pub use runner::{CaseOutcome, CaseReport, Outcome, SuiteReport, Summary, run_case, run_suite};

/// Opens another handle on the same database (used by durability and multi-owner cases).
pub type Opener =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = StoreResult<Stores>> + Send>> + Send + Sync>;

/// What a case gets: the stores under test and a way to open more handles on the same database.
pub struct Ctx {
    /// The backend under test.
    pub stores: Stores,
    opener: Option<Opener>,
    next_shard: AtomicI32,
}

impl Ctx {
    /// A context over opened stores. `opener`, if given, opens a new independent handle on the
    /// same database (required by cases that need `durable`).
    pub fn new(stores: Stores, opener: Option<Opener>) -> Self {
        // Random shard base so that repeated runs against one database never collide.
        let base = (uuid::Uuid::new_v4().as_u128() % 1_000_000) as i32 * 1000 + 1000;
        Ctx {
            stores,
            opener,
            next_shard: AtomicI32::new(base),
        }
    }

    /// A shard id no other case of this run uses.
    pub fn new_shard_id(&self) -> durastore_api::ShardId {
        durastore_api::ShardId(self.next_shard.fetch_add(1, Ordering::Relaxed))
    }

    /// Opens a new handle on the same database (for durability / restart cases).
    pub async fn open_another(&self) -> Result<Stores, CaseError> {
        match &self.opener {
            Some(o) => Ok(o().await?),
            None => Err(CaseError::new(
                "this context has no opener for a second handle",
            )),
        }
    }

    /// The shard store, or an error if the backend lacks it.
    pub fn shard(&self) -> Result<&Arc<dyn durastore_api::ShardStore>, CaseError> {
        self.stores
            .shard
            .as_ref()
            .ok_or_else(|| CaseError::new("backend has no shard store"))
    }
    /// The execution store.
    pub fn execution(&self) -> Result<&Arc<dyn durastore_api::ExecutionStore>, CaseError> {
        self.stores
            .execution
            .as_ref()
            .ok_or_else(|| CaseError::new("backend has no execution store"))
    }
    /// The history store.
    pub fn history(&self) -> Result<&Arc<dyn durastore_api::HistoryStore>, CaseError> {
        self.stores
            .history
            .as_ref()
            .ok_or_else(|| CaseError::new("backend has no history store"))
    }
    /// The task queue store.
    pub fn task_queue(&self) -> Result<&Arc<dyn durastore_api::TaskQueueStore>, CaseError> {
        self.stores
            .task_queue
            .as_ref()
            .ok_or_else(|| CaseError::new("backend has no task queue store"))
    }
    /// The namespace store.
    pub fn namespace(&self) -> Result<&Arc<dyn durastore_api::NamespaceStore>, CaseError> {
        self.stores
            .namespace
            .as_ref()
            .ok_or_else(|| CaseError::new("backend has no namespace store"))
    }
    /// The cluster metadata store.
    pub fn cluster(&self) -> Result<&Arc<dyn durastore_api::ClusterMetadataStore>, CaseError> {
        self.stores
            .cluster_metadata
            .as_ref()
            .ok_or_else(|| CaseError::new("backend has no cluster metadata store"))
    }
    /// The visibility store.
    pub fn visibility(&self) -> Result<&Arc<dyn durastore_api::VisibilityStore>, CaseError> {
        self.stores
            .visibility
            .as_ref()
            .ok_or_else(|| CaseError::new("backend has no visibility store"))
    }
    /// The queue store.
    pub fn queue(&self) -> Result<&Arc<dyn durastore_api::QueueStore>, CaseError> {
        self.stores
            .queue
            .as_ref()
            .ok_or_else(|| CaseError::new("backend has no queue store"))
    }
}

/// A boxed case future.
pub type CaseFuture<'a> = Pin<Box<dyn Future<Output = Result<(), CaseError>> + Send + 'a>>;

/// One registered case.
#[derive(Clone, Copy)]
pub struct Case {
    /// Stable id, `<store>::<name>`.
    pub id: &'static str,
    /// The store it exercises (`shard`, `execution`, `history`, …).
    pub store: &'static str,
    /// Capability flags it needs (names as in `Capability::FLAGS`).
    pub requires: &'static [&'static str],
    /// The case body.
    pub run: for<'a> fn(&'a Ctx) -> CaseFuture<'a>,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("id", &self.id)
            .field("requires", &self.requires)
            .finish()
    }
}

/// Registers a case: `case!("shard", get_or_create, ["shard"], shard::get_or_create)`.
#[macro_export]
macro_rules! case {
    ($store:literal, $name:ident, [$($req:literal),* $(,)?], $f:path) => {
        $crate::Case {
            id: concat!($store, "::", stringify!($name)),
            store: $store,
            requires: &[$($req),*],
            run: |ctx| Box::pin($f(ctx)),
        }
    };
}

/// Every case of the suite, in a stable order.
pub fn all_cases() -> Vec<Case> {
    cases::all()
}
