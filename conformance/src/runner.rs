//! Runs cases against one backend and reports outcomes.
//!
//! This is the library front door: the CLI and the libtest-mimic binary both call [`run_case`]
//! or [`run_suite`] and only format the results differently.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use durastore_api::Capability;
use futures::FutureExt;
use serde::Serialize;

use crate::{Case, Ctx};

/// How long one case may run before it is reported as failed ("timed out").
pub const CASE_TIMEOUT: Duration = Duration::from_secs(120);

/// What happened to one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every check held.
    Passed,
    /// A check failed, the case timed out, or it panicked.
    Failed,
    /// The backend lacks a capability the case needs; never counted as passed.
    Skipped,
}

impl Outcome {
    /// Lowercase name, as in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        }
    }
}

/// The result of one case against one backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseOutcome {
    /// Case id, `<store>::<name>`.
    pub id: String,
    /// The store the case exercises.
    pub store: String,
    /// Passed, failed or skipped.
    pub outcome: Outcome,
    /// Wall-clock time spent in the case (0 when skipped).
    pub duration_ms: u64,
    /// Why it failed or was skipped; `None` when it passed.
    pub reason: Option<String>,
}

/// Older name of [`CaseOutcome`].
pub type CaseReport = CaseOutcome;

/// Counts of outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// Cases skipped by capability.
    pub skipped: usize,
}

/// The outcomes of a suite run against one backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuiteReport {
    /// Backend name (`sqlite`, `postgres`, …).
    pub backend: String,
    /// One entry per case run, in run order.
    pub cases: Vec<CaseOutcome>,
}

impl SuiteReport {
    /// Counts passed, failed and skipped cases.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.cases {
            match c.outcome {
                Outcome::Passed => s.passed += 1,
                Outcome::Failed => s.failed += 1,
                Outcome::Skipped => s.skipped += 1,
            }
        }
        s
    }

    /// True when no case failed (skips do not count as failures here; callers that require
    /// every backend feature check `summary().skipped` themselves).
    pub fn is_success(&self) -> bool {
        self.summary().failed == 0
    }

    /// The report as JSON:
    /// `{"backend", "summary": {"passed","failed","skipped"}, "cases": [{"id","store","outcome","duration_ms","reason"}]}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "backend": self.backend,
            "summary": self.summary(),
            "cases": self.cases,
        })
    }
}

/// Why `case` cannot run on a backend with `cap`, or `None` if it can: the flags it requires
/// that `cap` lacks, by name, in the order the case lists them.
pub fn skip_reason(case: &Case, cap: &Capability) -> Option<String> {
    let missing: Vec<&str> = case
        .requires
        .iter()
        .filter(|flag| !cap.get(**flag))
        .map(|flag| flag.name())
        .collect();
    if missing.is_empty() {
        None
    } else {
        Some(format!("missing capability: {}", missing.join(", ")))
    }
}

/// Runs one case with the default timeout ([`CASE_TIMEOUT`]).
pub async fn run_case(ctx: &Ctx, case: &Case) -> CaseOutcome {
    run_case_with_timeout(ctx, case, CASE_TIMEOUT).await
}

/// Runs one case: skipped by capability, else run with `timeout`; a panic is a failure
/// ("panicked: …") because the contract forbids panicking on any input.
pub async fn run_case_with_timeout(ctx: &Ctx, case: &Case, timeout: Duration) -> CaseOutcome {
    let outcome = |outcome, duration_ms, reason| CaseOutcome {
        id: case.id.to_string(),
        store: case.store.to_string(),
        outcome,
        duration_ms,
        reason,
    };
    if let Some(reason) = skip_reason(case, &ctx.stores.capability()) {
        return outcome(Outcome::Skipped, 0, Some(reason));
    }
    let started = Instant::now();
    let result =
        tokio::time::timeout(timeout, AssertUnwindSafe((case.run)(ctx)).catch_unwind()).await;
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match result {
        Err(_) => outcome(
            Outcome::Failed,
            ms,
            Some(format!("timed out after {} s", timeout.as_secs_f64())),
        ),
        Ok(Err(panic)) => outcome(
            Outcome::Failed,
            ms,
            Some(format!("panicked: {}", panic_message(panic.as_ref()))),
        ),
        Ok(Ok(Err(e))) => outcome(Outcome::Failed, ms, Some(e.message().to_string())),
        Ok(Ok(Ok(()))) => outcome(Outcome::Passed, ms, None),
    }
}

/// Runs `cases` in order (only those whose id contains `filter`, if given), calling `progress`
/// after each one.
pub async fn run_suite(
    ctx: &Ctx,
    cases: &[Case],
    filter: Option<&str>,
    progress: &(dyn Fn(&CaseOutcome) + Sync),
) -> SuiteReport {
    let mut report = SuiteReport {
        backend: ctx.stores.name().to_string(),
        cases: Vec::new(),
    };
    for case in cases
        .iter()
        .filter(|c| filter.is_none_or(|f| c.id.contains(f)))
    {
        let outcome = run_case(ctx, case).await;
        progress(&outcome);
        report.cases.push(outcome);
    }
    report
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::Mutex;

    use durastore_api::{Backend, Stores, async_trait};

    use super::*;
    use crate::CaseError;

    struct NoBackend(Capability);

    #[async_trait]
    impl Backend for NoBackend {
        fn name(&self) -> &str {
            "none"
        }
        fn capability(&self) -> Capability {
            self.0
        }
        async fn close(&self) -> durastore_api::Result<()> {
            Ok(())
        }
    }

    fn ctx(cap: Capability) -> Ctx {
        let stores = Stores {
            backend: Arc::new(NoBackend(cap)),
            shard: None,
            execution: None,
            history: None,
            task_queue: None,
            namespace: None,
            cluster_metadata: None,
            queue: None,
            queue_v1: None,
            replication_dlq: None,
            nexus_endpoint: None,
            visibility: None,
        };
        Ctx::new(stores, None)
    }

    async fn passes(_ctx: &Ctx) -> Result<(), CaseError> {
        Ok(())
    }
    async fn fails(_ctx: &Ctx) -> Result<(), CaseError> {
        Err(CaseError::new("nope"))
    }
    #[allow(clippy::panic)]
    async fn panics(_ctx: &Ctx) -> Result<(), CaseError> {
        panic!("boom {}", 42)
    }
    async fn sleeps(_ctx: &Ctx) -> Result<(), CaseError> {
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok(())
    }

    #[test]
    fn skip_reason_names_missing_flags_in_order() {
        let case = crate::case!("shard", x, ["shard", "history", "durable"], passes);
        let mut cap = Capability::default();
        assert_eq!(
            skip_reason(&case, &cap).as_deref(),
            Some("missing capability: shard, history, durable")
        );
        cap.shard = true;
        cap.durable = true;
        assert_eq!(
            skip_reason(&case, &cap).as_deref(),
            Some("missing capability: history")
        );
        cap.history = true;
        assert_eq!(skip_reason(&case, &cap), None);
        let none = crate::case!("shard", z, [], passes);
        assert_eq!(skip_reason(&none, &Capability::default()), None);
    }

    /// The short form names each case once and appends per-case flags to the store's.
    #[test]
    fn cases_macro_ids_and_flags() {
        use durastore_api::CapabilityFlag as F;
        let cases = crate::cases![task_queue requires(TaskQueue) =>
            one = passes,
            two = passes + FairTaskQueue,
            three = fails + TaskQueueUserData + ConcurrentWriters,
        ];
        let got: Vec<(&str, &str, &[F])> =
            cases.iter().map(|c| (c.id, c.store, c.requires)).collect();
        assert_eq!(
            got,
            vec![
                ("task_queue::one", "task_queue", &[F::TaskQueue][..]),
                (
                    "task_queue::two",
                    "task_queue",
                    &[F::TaskQueue, F::FairTaskQueue][..]
                ),
                (
                    "task_queue::three",
                    "task_queue",
                    &[F::TaskQueue, F::TaskQueueUserData, F::ConcurrentWriters][..]
                ),
            ]
        );
        // The long form checks names at compile time and yields the same flags.
        let long = crate::case!("task_queue", two, ["task_queue", "fair_task_queue"], passes);
        assert_eq!((long.id, long.requires), (cases[1].id, cases[1].requires));
    }

    #[tokio::test]
    async fn cases_macro_runs_the_named_body() {
        let mut cap = Capability::default();
        cap.task_queue = true;
        let ctx = ctx(cap);
        let cases = crate::cases![task_queue requires(TaskQueue) => passes, renamed = fails];
        assert_eq!(run_case(&ctx, &cases[0]).await.outcome, Outcome::Passed);
        let out = run_case(&ctx, &cases[1]).await;
        assert_eq!(
            (out.id.as_str(), out.outcome),
            ("task_queue::renamed", Outcome::Failed)
        );
    }

    #[test]
    fn json_shape() {
        let report = SuiteReport {
            backend: "sqlite".into(),
            cases: vec![
                CaseOutcome {
                    id: "shard::a".into(),
                    store: "shard".into(),
                    outcome: Outcome::Passed,
                    duration_ms: 3,
                    reason: None,
                },
                CaseOutcome {
                    id: "shard::b".into(),
                    store: "shard".into(),
                    outcome: Outcome::Failed,
                    duration_ms: 4,
                    reason: Some("bad".into()),
                },
                CaseOutcome {
                    id: "history::c".into(),
                    store: "history".into(),
                    outcome: Outcome::Skipped,
                    duration_ms: 0,
                    reason: Some("missing capability: history".into()),
                },
            ],
        };
        assert_eq!(
            report.summary(),
            Summary {
                passed: 1,
                failed: 1,
                skipped: 1
            }
        );
        let expected = serde_json::json!({
            "backend": "sqlite",
            "summary": {"passed": 1, "failed": 1, "skipped": 1},
            "cases": [
                {"id": "shard::a", "store": "shard", "outcome": "passed", "duration_ms": 3, "reason": null},
                {"id": "shard::b", "store": "shard", "outcome": "failed", "duration_ms": 4, "reason": "bad"},
                {"id": "history::c", "store": "history", "outcome": "skipped", "duration_ms": 0,
                 "reason": "missing capability: history"},
            ],
        });
        assert_eq!(report.to_json(), expected);
        assert!(!report.is_success());
    }

    #[tokio::test]
    async fn run_case_outcomes() {
        let mut cap = Capability::default();
        cap.shard = true;
        let ctx = ctx(cap);

        let out = run_case(&ctx, &crate::case!("shard", p, ["shard"], passes)).await;
        assert_eq!((out.outcome, out.reason), (Outcome::Passed, None));

        let out = run_case(&ctx, &crate::case!("shard", f, ["shard"], fails)).await;
        assert_eq!(out.outcome, Outcome::Failed);
        assert_eq!(out.reason.as_deref(), Some("nope"));

        let out = run_case(&ctx, &crate::case!("shard", x, ["shard"], panics)).await;
        assert_eq!(out.outcome, Outcome::Failed);
        assert_eq!(out.reason.as_deref(), Some("panicked: boom 42"));

        let out = run_case(&ctx, &crate::case!("history", s, ["history"], panics)).await;
        assert_eq!(out.outcome, Outcome::Skipped);
        assert_eq!(out.id, "history::s");

        let out = run_case_with_timeout(
            &ctx,
            &crate::case!("shard", t, [], sleeps),
            Duration::from_millis(20),
        )
        .await;
        assert_eq!(out.outcome, Outcome::Failed);
        assert!(out.reason.unwrap_or_default().starts_with("timed out"));
    }

    #[tokio::test]
    async fn run_suite_filters_and_reports_progress() {
        let ctx = ctx(Capability::default());
        let cases = [
            crate::case!("shard", one, [], passes),
            crate::case!("shard", two, [], fails),
            crate::case!("history", three, [], passes),
        ];
        let seen = Mutex::new(Vec::new());
        let progress = |o: &CaseOutcome| {
            if let Ok(mut v) = seen.lock() {
                v.push(o.id.clone());
            }
        };
        let report = run_suite(&ctx, &cases, Some("shard::"), &progress).await;
        assert_eq!(report.backend, "none");
        assert_eq!(report.cases.len(), 2);
        assert_eq!(
            report.summary(),
            Summary {
                passed: 1,
                failed: 1,
                skipped: 0
            }
        );
        let seen = seen.into_inner().unwrap_or_default();
        assert_eq!(seen, vec!["shard::one", "shard::two"]);
        let all = run_suite(&ctx, &cases, None, &|_| {}).await;
        assert_eq!(all.cases.len(), 3);
    }
}
