//! # durastore-conformance: one suite of cases for every durastore backend
//!
//! Every case is a public `async fn(&Ctx) -> Result<(), CaseError>` that drives a live backend
//! through the `durastore-api` traits and checks the contract written in their rustdoc. Cases
//! are registered per store with [`cases!`] and gathered in [`all_cases`], each with an id
//! (`execution::update_conflict_db_version`), the store it exercises and the [`CapabilityFlag`]s
//! it needs. The cases live in [`cases`](mod@cases), one module per store (a folder for the large ones,
//! one file per section).
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

pub use durastore_api::CapabilityFlag;

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
    /// The Nexus endpoint store.
    pub fn nexus_endpoint(&self) -> Result<&Arc<dyn durastore_api::NexusEndpointStore>, CaseError> {
        self.stores
            .nexus_endpoint
            .as_ref()
            .ok_or_else(|| CaseError::new("backend has no nexus endpoint store"))
    }
    /// The queue store.
    pub fn queue(&self) -> Result<&Arc<dyn durastore_api::QueueStore>, CaseError> {
        self.stores
            .queue
            .as_ref()
            .ok_or_else(|| CaseError::new("backend has no queue store"))
    }
    /// The queue v1 store.
    pub fn queue_v1(&self) -> Result<&Arc<dyn durastore_api::QueueV1Store>, CaseError> {
        self.stores
            .queue_v1
            .as_ref()
            .ok_or_else(|| CaseError::new("backend has no queue v1 store"))
    }
    /// The replication DLQ store.
    pub fn replication_dlq(
        &self,
    ) -> Result<&Arc<dyn durastore_api::ReplicationDlqStore>, CaseError> {
        self.stores
            .replication_dlq
            .as_ref()
            .ok_or_else(|| CaseError::new("backend has no replication DLQ store"))
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
    /// Capability flags it needs; the case is skipped on a backend that lacks one of them.
    pub requires: &'static [CapabilityFlag],
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

/// Registers the cases of one store, in order; each case id is `<store>::<function name>`.
///
/// ```
/// # use durastore_conformance::{Case, CaseError, Ctx};
/// # async fn get_or_create(_: &Ctx) -> Result<(), CaseError> { Ok(()) }
/// # async fn owners_race(_: &Ctx) -> Result<(), CaseError> { Ok(()) }
/// # async fn old_name(_: &Ctx) -> Result<(), CaseError> { Ok(()) }
/// fn cases() -> Vec<Case> {
///     durastore_conformance::cases![shard requires(Shard) =>
///         get_or_create,                                // shard::get_or_create, needs `shard`
///         owners_race + Execution + ConcurrentWriters, // needs shard, execution, concurrent_writers
///         new_name = old_name,                          // id shard::new_name, body old_name
///     ]
/// }
/// let ids: Vec<_> = cases().iter().map(|c| c.id).collect();
/// assert_eq!(ids, ["shard::get_or_create", "shard::owners_race", "shard::new_name"]);
/// assert_eq!(cases()[1].requires.len(), 3);
/// ```
///
/// Flags are [`CapabilityFlag`] variants, so a misspelt flag does not compile:
///
/// ```compile_fail
/// # use durastore_conformance::{Case, CaseError, Ctx};
/// # async fn a(_: &Ctx) -> Result<(), CaseError> { Ok(()) }
/// let _: Vec<Case> = durastore_conformance::cases![shard requires(Shard) => a + Visiblity];
/// ```
#[macro_export]
macro_rules! cases {
    ($store:ident requires $base:tt => $($name:ident $(= $body:ident)? $(+ $extra:ident)*),* $(,)?) => {
        vec![$($crate::Case {
            id: concat!(stringify!($store), "::", stringify!($name)),
            store: stringify!($store),
            requires: $crate::cases!(@flags $base $($extra)*),
            run: |ctx| Box::pin($crate::cases!(@body $name $(= $body)?)(ctx)),
        }),*]
    };
    (@flags ($($base:ident),* $(,)?) $($extra:ident)*) => {
        &[$($crate::CapabilityFlag::$base,)* $($crate::CapabilityFlag::$extra,)*]
    };
    (@body $name:ident) => { $name };
    (@body $name:ident = $body:ident) => { $body };
}

/// Registers one case with flags by name: `case!("shard", get_or_create, ["shard"], shard::get_or_create)`.
///
/// The long form of [`cases!`], kept for existing callers. The flag names are checked at
/// compile time ([`CapabilityFlag::from_name`]), so an unknown name does not compile:
///
/// ```compile_fail
/// # use durastore_conformance::{CaseError, Ctx};
/// # async fn a(_: &Ctx) -> Result<(), CaseError> { Ok(()) }
/// let _ = durastore_conformance::case!("shard", a, ["shard", "visiblity"], a);
/// ```
#[macro_export]
macro_rules! case {
    ($store:literal, $name:ident, [$($req:literal),* $(,)?], $f:path) => {
        $crate::Case {
            id: concat!($store, "::", stringify!($name)),
            store: $store,
            requires: {
                const REQUIRES: &[$crate::CapabilityFlag] = &[$(
                    match $crate::CapabilityFlag::from_name($req) {
                        Some(flag) => flag,
                        None => panic!(concat!("unknown capability flag: ", $req)),
                    }
                ),*];
                REQUIRES
            },
            run: |ctx| Box::pin($f(ctx)),
        }
    };
}

/// Every case of the suite, in a stable order.
pub fn all_cases() -> Vec<Case> {
    cases::all()
}
