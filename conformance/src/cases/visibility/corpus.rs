//! The visibility query corpus: one seeded data set of 50 records in a fresh namespace (every
//! status, ties on start and close time, a close before its start, absent attributes, empty
//! strings and lists, unicode, quotes, backslashes, i64 extremes) and well over a hundred queries
//! whose answers are hand-written predicates over the seed ([`Seed`]), never computed by a
//! backend or by the query evaluator.
//!
//! Each case seeds the data set and checks about a dozen queries: `list` with page size 7 (all
//! pages) must return exactly the matching run ids in list order (running first, close time
//! descending, start time descending, run id ascending) and `count` their number. A failing case
//! lists every query that disagreed, with the expected and actual labels.

use durastore_api::{
    DataBlob, DateTime, NamespaceId, RunId, SearchAttributeValue, Utc, VisibilityRecord,
    VisibilityStore, WorkflowStatus,
};

use super::helpers::{
    at, count, count_by_status, count_request, ensure_same, fresh_namespace, kw, kwl, list_all,
    order_key, running, write,
};
use crate::check::ok;
use crate::{CaseError, Ctx, ensure, ensure_eq};

/// Number of seeded records.
pub const SEED_SIZE: usize = 50;

/// The page size of every corpus listing.
const PAGE_SIZE: i32 = 7;

/// One seeded record, as plain fields the expectations are written against.
#[derive(Debug, Clone)]
pub struct Seed {
    /// `r00` … `r49`.
    pub label: String,
    /// Run id (random per case).
    pub run_id: RunId,
    /// Workflow id.
    pub wid: String,
    /// Workflow type.
    pub wtype: &'static str,
    /// Task queue.
    pub tq: &'static str,
    /// Start time (= execution time).
    pub start: DateTime<Utc>,
    /// Close time (closed records only).
    pub close: Option<DateTime<Utc>>,
    /// Status (Running exactly when `close` is None).
    pub status: WorkflowStatus,
    /// History length (closed records only).
    pub hist_len: Option<i64>,
    /// Execution duration in nanoseconds (closed records only).
    pub dur: Option<i64>,
    /// Parent workflow id.
    pub parent: Option<&'static str>,
    /// CustomKeywordField.
    pub kw: Option<&'static str>,
    /// CustomKeywordListField (`Some(vec![])`: an empty list, which counts as absent).
    pub kwl: Option<Vec<&'static str>>,
    /// CustomTextField.
    pub text: Option<&'static str>,
    /// CustomIntField.
    pub int: Option<i64>,
    /// CustomDoubleField.
    pub dbl: Option<f64>,
    /// CustomBoolField.
    pub flag: Option<bool>,
    /// CustomDatetimeField.
    pub dt: Option<DateTime<Utc>>,
}

impl Seed {
    /// The keyword list, `None` when absent or empty.
    fn list(&self) -> Option<&Vec<&'static str>> {
        self.kwl.as_ref().filter(|l| !l.is_empty())
    }
    /// Does the (non-empty) list contain `v`? `None` when absent.
    fn has(&self, v: &str) -> Option<bool> {
        self.list().map(|l| l.contains(&v))
    }
    /// Is the text one of `values`? `None` when absent.
    fn text_in(&self, values: &[&str]) -> Option<bool> {
        self.text.map(|t| values.contains(&t))
    }
}

/// SQL three-valued AND.
fn and3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// SQL three-valued OR.
fn or3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

/// SQL three-valued NOT.
fn not3(a: Option<bool>) -> Option<bool> {
    a.map(|b| !b)
}

/// Only a true filter matches.
fn yes(a: Option<bool>) -> bool {
    a == Some(true)
}

const STATUSES: [WorkflowStatus; 8] = [
    WorkflowStatus::Running,
    WorkflowStatus::Completed,
    WorkflowStatus::Failed,
    WorkflowStatus::Running,
    WorkflowStatus::Canceled,
    WorkflowStatus::Terminated,
    WorkflowStatus::ContinuedAsNew,
    WorkflowStatus::TimedOut,
];
const TYPES: [&str; 4] = [
    "OrderWorkflow",
    "PaymentWorkflow",
    "order-workflow",
    "Shipping.Workflow",
];
const QUEUES: [&str; 3] = ["tq-a", "tq-b", "tq-c"];
const KEYWORDS: [Option<&str>; 12] = [
    Some("alpha"),
    Some("Alpha"),
    Some("beta"),
    Some(""),
    None,
    Some("O'Brien"),
    Some("C:\\tmp\\x"),
    Some("naïve"),
    Some("日本語"),
    Some("100%_off"),
    Some("alpha "),
    Some("gamma"),
];
const TEXTS: [Option<&str>; 7] = [
    Some("Quick brown fox"),
    Some("lazy dog sleeps"),
    None,
    Some("FOX-trot at 9pm"),
    Some("email ops@example.com now"),
    Some("Größe matters, test"),
    Some("quick quick QUICK"),
];
const INTS: [Option<i64>; 9] = [
    Some(0),
    Some(1),
    Some(-1),
    Some(42),
    None,
    Some(1_000_000),
    Some(i64::MAX),
    Some(-42),
    Some(7),
];
const DOUBLES: [Option<f64>; 6] = [
    Some(0.5),
    Some(-1.25),
    None,
    Some(3.0),
    Some(0.1),
    Some(1_000_000.0),
];
const FLAGS: [Option<bool>; 3] = [Some(true), Some(false), None];

/// The keyword lists, by `i % 8`.
fn keyword_list(i: usize) -> Option<Vec<&'static str>> {
    match i % 8 {
        0 => Some(vec!["red", "green"]),
        1 => Some(vec!["blue"]),
        2 => Some(vec![]),
        3 => None,
        4 => Some(vec!["red"]),
        5 => Some(vec!["Green", "it's"]),
        6 => Some(vec!["a b", "c,d"]),
        _ => Some(vec!["blue", "red", "green"]),
    }
}

/// The datetimes, by `i % 5`.
fn datetime(i: usize) -> Option<DateTime<Utc>> {
    match i % 5 {
        0 => Some(at(0, 0)),
        1 => Some(at(0, 1)),
        2 => None,
        3 => Some(at(-1, 0)),
        _ => Some(at(86_400, 500_000)),
    }
}

/// The data set with fresh run ids. Starts are a permutation of whole minutes after t0 plus
/// 0-2 µs, except r40-r43 which share 10:50:00; r41 and r42 also share their close time; r05
/// closes 30 s before it starts.
pub fn seed_data() -> Vec<Seed> {
    (0..SEED_SIZE)
        .map(|i| {
            let status = STATUSES[i % 8];
            let tie = (40..44).contains(&i);
            let start = if tie {
                at(3000, 0)
            } else {
                at(((i * 37) % 50) as i64 * 60, (i % 3) as i64)
            };
            let close = if status == WorkflowStatus::Running {
                None
            } else if i == 41 || i == 42 {
                Some(at(9000, 0))
            } else if i == 5 {
                Some(start - chrono::Duration::seconds(30))
            } else {
                Some(
                    start
                        + chrono::Duration::seconds((i % 5) as i64 * 600 + 1)
                        + chrono::Duration::microseconds((i % 7) as i64),
                )
            };
            let wid = match i {
                7 => "wf-ünï".to_string(),
                13 => "wf-O'Brien".to_string(),
                _ if i % 10 == 9 => "wf-shared".to_string(),
                _ => format!("wf-{i:02}"),
            };
            Seed {
                label: format!("r{i:02}"),
                run_id: RunId::new_random(),
                wid,
                wtype: TYPES[i % 4],
                tq: QUEUES[i % 3],
                start,
                close,
                status,
                hist_len: close.map(|_| i as i64 * 3 + 1),
                dur: close.map(|c| (c - start).num_nanoseconds().unwrap_or(0).max(0)),
                parent: (i % 6 == 1).then_some("parent-wf"),
                kw: KEYWORDS[i % 12],
                kwl: keyword_list(i),
                text: TEXTS[i % 7],
                int: INTS[i % 9],
                dbl: DOUBLES[i % 6],
                flag: FLAGS[i % 3],
                dt: datetime(i),
            }
        })
        .collect()
}

/// The visibility record of a seed.
pub fn seed_record(ns: NamespaceId, s: &Seed) -> VisibilityRecord {
    let mut r = running(ns, &s.wid, s.start);
    r.run_id = s.run_id;
    r.workflow_type = s.wtype.to_string();
    r.task_queue = s.tq.to_string();
    r.status = s.status;
    r.parent_workflow_id = s.parent.map(str::to_string);
    r.memo = Some(DataBlob::proto3(s.label.as_bytes().to_vec()));
    let mut sa = Vec::new();
    if let Some(v) = s.kw {
        sa.push(("CustomKeywordField", kw(v)));
    }
    if let Some(v) = &s.kwl {
        sa.push(("CustomKeywordListField", kwl(v)));
    }
    if let Some(v) = s.text {
        sa.push(("CustomTextField", kw(v)));
    }
    if let Some(v) = s.int {
        sa.push(("CustomIntField", SearchAttributeValue::Int(v)));
    }
    if let Some(v) = s.dbl {
        sa.push(("CustomDoubleField", SearchAttributeValue::Double(v)));
    }
    if let Some(v) = s.flag {
        sa.push(("CustomBoolField", SearchAttributeValue::Bool(v)));
    }
    if let Some(v) = s.dt {
        sa.push(("CustomDatetimeField", SearchAttributeValue::Datetime(v)));
    }
    r.search_attributes = super::helpers::attrs(&sa);
    if let Some(c) = s.close {
        r.task_id = 2;
        r.close_time = Some(c);
        r.history_length = s.hist_len;
        r.history_size_bytes = Some(4096);
        r.execution_duration_nanos = s.dur;
        r.state_transition_count = Some(9);
    }
    r
}

/// A seeded namespace.
struct Corpus<'a> {
    s: &'a dyn VisibilityStore,
    ns: NamespaceId,
    seeds: Vec<Seed>,
}

impl<'a> Corpus<'a> {
    /// Seeds a fresh namespace (half the closed records get a start first, then the close).
    async fn new(ctx: &'a Ctx) -> Result<Corpus<'a>, CaseError> {
        let s = ctx.visibility()?.as_ref();
        let ns = fresh_namespace(s).await?;
        let seeds = seed_data();
        for (i, seed) in seeds.iter().enumerate() {
            let rec = seed_record(ns, seed);
            if rec.close_time.is_some() && i % 2 == 0 {
                let mut started = rec.clone();
                started.task_id = 1;
                started.status = WorkflowStatus::Running;
                started.close_time = None;
                started.history_length = None;
                started.history_size_bytes = None;
                started.execution_duration_nanos = None;
                started.state_transition_count = None;
                write(s, &started).await?;
            }
            write(s, &rec).await?;
        }
        Ok(Corpus { s, ns, seeds })
    }

    /// Labels of the matching seeds, in list order.
    fn expected(&self, pred: fn(&Seed) -> bool) -> Vec<String> {
        let mut m: Vec<&Seed> = self.seeds.iter().filter(|s| pred(s)).collect();
        m.sort_by_key(|s| order_key(s.close, s.start, s.run_id));
        m.into_iter().map(|s| s.label.clone()).collect()
    }

    fn label_of(&self, id: RunId) -> String {
        self.seeds
            .iter()
            .find(|s| s.run_id == id)
            .map(|s| s.label.clone())
            .unwrap_or_else(|| format!("<unknown {id}>"))
    }

    /// Checks every entry; reports all mismatches at once.
    async fn check(&self, entries: &[Entry]) -> Result<(), CaseError> {
        let mut failures = Vec::new();
        for (q, pred) in entries {
            let want = self.expected(*pred);
            let mut problems = Vec::new();
            match list_all(self.s, self.ns, q, PAGE_SIZE).await {
                Ok(recs) => {
                    let got: Vec<String> = recs.iter().map(|r| self.label_of(r.run_id)).collect();
                    if got != want {
                        problems.push(format!("list expected {want:?}\n      got {got:?}"));
                    }
                }
                Err(e) => problems.push(format!("list failed: {e}")),
            }
            match count(self.s, self.ns, q).await {
                Ok(n) if n == want.len() as i64 => {}
                Ok(n) => problems.push(format!("count expected {}, got {n}", want.len())),
                Err(e) => problems.push(format!("count failed: {e}")),
            }
            if !problems.is_empty() {
                failures.push(format!("{q:?}:\n    {}", problems.join("\n    ")));
            }
        }
        ensure!(
            failures.is_empty(),
            "{} of {} corpus queries disagree with the seeded data:\n  {}",
            failures.len(),
            entries.len(),
            failures.join("\n  ")
        );
        Ok(())
    }
}

/// A corpus entry: query text and the hand-written predicate over the seed.
type Entry = (&'static str, fn(&Seed) -> bool);

/// Seeds and checks `entries`.
async fn run_entries(ctx: &Ctx, entries: &[Entry]) -> Result<(), CaseError> {
    let c = Corpus::new(ctx).await?;
    c.check(entries).await
}

/// Every entry of the corpus, for callers that want the whole list (e.g. to count it).
pub fn all_entries() -> Vec<Entry> {
    [
        KEYWORD,
        KEYWORD_LIST,
        TEXT,
        INT,
        DOUBLE,
        BOOL_DATETIME,
        STATUS_SYSTEM,
        TIMES,
        LOGIC,
        NULLS,
    ]
    .concat()
}

// ---------------------------------------------------------------------------------------------
// The entries.
// ---------------------------------------------------------------------------------------------

const KEYWORD: &[Entry] = &[
    ("CustomKeywordField = 'alpha'", |r| r.kw == Some("alpha")),
    ("CustomKeywordField = 'Alpha'", |r| r.kw == Some("Alpha")),
    ("CustomKeywordField = ''", |r| r.kw == Some("")),
    ("CustomKeywordField = 'alpha '", |r| r.kw == Some("alpha ")),
    ("CustomKeywordField != 'alpha'", |r| {
        r.kw.is_some_and(|v| v != "alpha")
    }),
    ("CustomKeywordField < 'alpha'", |r| {
        r.kw.is_some_and(|v| v < "alpha")
    }),
    ("CustomKeywordField >= 'beta'", |r| {
        r.kw.is_some_and(|v| v >= "beta")
    }),
    ("CustomKeywordField IN ('alpha', 'gamma', 'zeta')", |r| {
        matches!(r.kw, Some("alpha" | "gamma"))
    }),
    ("CustomKeywordField NOT IN ('alpha', '')", |r| {
        r.kw.is_some_and(|v| v != "alpha" && !v.is_empty())
    }),
    ("CustomKeywordField STARTS_WITH 'alp'", |r| {
        r.kw.is_some_and(|v| v.starts_with("alp"))
    }),
    ("CustomKeywordField NOT STARTS_WITH 'alp'", |r| {
        r.kw.is_some_and(|v| !v.starts_with("alp"))
    }),
    ("CustomKeywordField BETWEEN 'Alpha' AND 'alpha'", |r| {
        r.kw.is_some_and(|v| ("Alpha"..="alpha").contains(&v))
    }),
    ("CustomKeywordField = 'O''Brien'", |r| {
        r.kw == Some("O'Brien")
    }),
    ("CustomKeywordField = 'C:\\tmp\\x'", |r| {
        r.kw == Some("C:\\tmp\\x")
    }),
    (
        "CustomKeywordField = 'naïve' OR CustomKeywordField = '日本語'",
        |r| matches!(r.kw, Some("naïve" | "日本語")),
    ),
    ("CustomKeywordField STARTS_WITH '100%'", |r| {
        r.kw == Some("100%_off")
    }),
    ("CustomKeywordField STARTS_WITH '1_'", |_| false),
    ("CustomKeywordField IS NULL", |r| r.kw.is_none()),
];

const KEYWORD_LIST: &[Entry] = &[
    ("CustomKeywordListField = 'red'", |r| yes(r.has("red"))),
    ("CustomKeywordListField = 'Green'", |r| yes(r.has("Green"))),
    ("CustomKeywordListField = 'green'", |r| yes(r.has("green"))),
    ("CustomKeywordListField != 'red'", |r| {
        yes(not3(r.has("red")))
    }),
    ("CustomKeywordListField IN ('blue', 'it''s')", |r| {
        yes(or3(r.has("blue"), r.has("it's")))
    }),
    ("CustomKeywordListField NOT IN ('red', 'blue')", |r| {
        yes(not3(or3(r.has("red"), r.has("blue"))))
    }),
    ("CustomKeywordListField = 'a b'", |r| yes(r.has("a b"))),
    ("CustomKeywordListField = 'c,d'", |r| yes(r.has("c,d"))),
    ("CustomKeywordListField = 'a'", |_| false),
    ("CustomKeywordListField IS NULL", |r| r.list().is_none()),
    ("CustomKeywordListField IS NOT NULL", |r| r.list().is_some()),
    (
        "CustomKeywordListField = 'red' AND CustomKeywordListField = 'blue'",
        |r| yes(and3(r.has("red"), r.has("blue"))),
    ),
    ("NOT (CustomKeywordListField = 'green')", |r| {
        yes(not3(r.has("green")))
    }),
];

const TEXT: &[Entry] = &[
    ("CustomTextField = 'fox'", |r| {
        yes(r.text_in(&["Quick brown fox", "FOX-trot at 9pm"]))
    }),
    ("CustomTextField = 'QUICK'", |r| {
        yes(r.text_in(&["Quick brown fox", "quick quick QUICK"]))
    }),
    ("CustomTextField = 'trot'", |r| {
        r.text == Some("FOX-trot at 9pm")
    }),
    ("CustomTextField = 'ops@example.com'", |r| {
        r.text == Some("email ops@example.com now")
    }),
    ("CustomTextField = 'sleeps dog'", |r| {
        r.text == Some("lazy dog sleeps")
    }),
    ("CustomTextField != 'quick'", |r| {
        yes(not3(r.text_in(&["Quick brown fox", "quick quick QUICK"])))
    }),
    ("CustomTextField = '9pm'", |r| {
        r.text == Some("FOX-trot at 9pm")
    }),
    ("CustomTextField = '9'", |_| false),
    ("CustomTextField = 'fo'", |_| false),
    ("CustomTextField = 'test'", |r| {
        r.text == Some("Größe matters, test")
    }),
    ("CustomTextField = 'MATTERS'", |r| {
        r.text == Some("Größe matters, test")
    }),
    ("CustomTextField = 'Größe'", |r| {
        r.text == Some("Größe matters, test")
    }),
    ("CustomTextField IS NULL", |r| r.text.is_none()),
    (
        "CustomTextField = 'brown' OR CustomTextField = 'lazy'",
        |r| yes(r.text_in(&["Quick brown fox", "lazy dog sleeps"])),
    ),
];

const INT: &[Entry] = &[
    ("CustomIntField = 42", |r| r.int == Some(42)),
    ("CustomIntField != 0", |r| r.int.is_some_and(|v| v != 0)),
    ("CustomIntField > 1", |r| r.int.is_some_and(|v| v > 1)),
    ("CustomIntField <= -1", |r| r.int.is_some_and(|v| v <= -1)),
    ("CustomIntField IN (1, 7, 42)", |r| {
        matches!(r.int, Some(1 | 7 | 42))
    }),
    ("CustomIntField NOT IN (0, 1)", |r| {
        r.int.is_some_and(|v| v != 0 && v != 1)
    }),
    ("CustomIntField BETWEEN -1 AND 7", |r| {
        r.int.is_some_and(|v| (-1..=7).contains(&v))
    }),
    ("CustomIntField NOT BETWEEN -1 AND 7", |r| {
        r.int.is_some_and(|v| !(-1..=7).contains(&v))
    }),
    ("CustomIntField = 9223372036854775807", |r| {
        r.int == Some(i64::MAX)
    }),
    ("CustomIntField > 1000000", |r| {
        r.int.is_some_and(|v| v > 1_000_000)
    }),
    ("CustomIntField IS NULL", |r| r.int.is_none()),
    ("CustomIntField >= -42 AND CustomIntField < 1", |r| {
        r.int.is_some_and(|v| (-42..1).contains(&v))
    }),
];

const DOUBLE: &[Entry] = &[
    ("CustomDoubleField = 0.5", |r| r.dbl == Some(0.5)),
    ("CustomDoubleField = 0.1", |r| r.dbl == Some(0.1)),
    ("CustomDoubleField < 0", |r| r.dbl.is_some_and(|v| v < 0.0)),
    ("CustomDoubleField >= 3", |r| {
        r.dbl.is_some_and(|v| v >= 3.0)
    }),
    ("CustomDoubleField != 3.0", |r| {
        r.dbl.is_some_and(|v| v != 3.0)
    }),
    ("CustomDoubleField IN (0.5, 1000000)", |r| {
        r.dbl.is_some_and(|v| v == 0.5 || v == 1_000_000.0)
    }),
    ("CustomDoubleField BETWEEN 0.1 AND 3", |r| {
        r.dbl.is_some_and(|v| (0.1..=3.0).contains(&v))
    }),
    ("CustomDoubleField NOT BETWEEN -2 AND 1", |r| {
        r.dbl.is_some_and(|v| !(-2.0..=1.0).contains(&v))
    }),
    ("CustomDoubleField > 0.1", |r| {
        r.dbl.is_some_and(|v| v > 0.1)
    }),
    ("CustomDoubleField = 1e6", |r| r.dbl == Some(1_000_000.0)),
    ("CustomDoubleField IS NULL", |r| r.dbl.is_none()),
];

const BOOL_DATETIME: &[Entry] = &[
    ("CustomBoolField = true", |r| r.flag == Some(true)),
    ("CustomBoolField = false", |r| r.flag == Some(false)),
    ("CustomBoolField != true", |r| r.flag == Some(false)),
    ("CustomBoolField = 'TRUE'", |r| r.flag == Some(true)),
    ("CustomBoolField IS NULL", |r| r.flag.is_none()),
    ("CustomDatetimeField = '2024-05-01T10:00:00Z'", |r| {
        r.dt == Some(at(0, 0))
    }),
    ("CustomDatetimeField = '2024-05-01T10:00:00.000001Z'", |r| {
        r.dt == Some(at(0, 1))
    }),
    ("CustomDatetimeField > '2024-05-01T10:00:00Z'", |r| {
        r.dt.is_some_and(|v| v > at(0, 0))
    }),
    ("CustomDatetimeField <= '2024-05-01T10:00:00Z'", |r| {
        r.dt.is_some_and(|v| v <= at(0, 0))
    }),
    (
        "CustomDatetimeField BETWEEN '2024-05-01T09:59:59Z' AND '2024-05-01T10:00:00.000001Z'",
        |r| r.dt.is_some_and(|v| v >= at(-1, 0) && v <= at(0, 1)),
    ),
    ("CustomDatetimeField = '2024-05-02T12:00:00.5+02:00'", |r| {
        r.dt == Some(at(86_400, 500_000))
    }),
    (
        "CustomDatetimeField IN ('2024-05-01T10:00:00Z', '2024-05-01T09:59:59Z')",
        |r| r.dt == Some(at(0, 0)) || r.dt == Some(at(-1, 0)),
    ),
    ("CustomDatetimeField IS NOT NULL", |r| r.dt.is_some()),
    ("CustomDatetimeField != '2024-05-01T10:00:00Z'", |r| {
        r.dt.is_some_and(|v| v != at(0, 0))
    }),
];

const STATUS_SYSTEM: &[Entry] = &[
    ("ExecutionStatus = 'Running'", |r| {
        r.status == WorkflowStatus::Running
    }),
    ("ExecutionStatus != 'Running'", |r| {
        r.status != WorkflowStatus::Running
    }),
    (
        "ExecutionStatus IN ('Failed', 'TimedOut', 'Canceled')",
        |r| {
            matches!(
                r.status,
                WorkflowStatus::Failed | WorkflowStatus::TimedOut | WorkflowStatus::Canceled
            )
        },
    ),
    ("ExecutionStatus NOT IN ('Running', 'Completed')", |r| {
        !matches!(
            r.status,
            WorkflowStatus::Running | WorkflowStatus::Completed
        )
    }),
    (
        "ExecutionStatus = 'Completed' OR ExecutionStatus = 'ContinuedAsNew'",
        |r| {
            matches!(
                r.status,
                WorkflowStatus::Completed | WorkflowStatus::ContinuedAsNew
            )
        },
    ),
    ("WorkflowType = 'OrderWorkflow'", |r| {
        r.wtype == "OrderWorkflow"
    }),
    ("WorkflowType STARTS_WITH 'order'", |r| {
        r.wtype == "order-workflow"
    }),
    ("WorkflowType = 'Shipping.Workflow'", |r| {
        r.wtype == "Shipping.Workflow"
    }),
    ("WorkflowId = 'wf-shared'", |r| r.wid == "wf-shared"),
    ("WorkflowId = 'wf-ünï'", |r| r.wid == "wf-ünï"),
    ("WorkflowId = 'wf-O''Brien'", |r| r.wid == "wf-O'Brien"),
    ("TaskQueue = 'tq-b'", |r| r.tq == "tq-b"),
    ("TaskQueue != 'tq-a' AND ExecutionStatus = 'Running'", |r| {
        r.tq != "tq-a" && r.status == WorkflowStatus::Running
    }),
    ("ParentWorkflowId = 'parent-wf'", |r| {
        r.parent == Some("parent-wf")
    }),
    ("ParentWorkflowId IS NULL", |r| r.parent.is_none()),
    ("HistoryLength > 60", |r| r.hist_len.is_some_and(|v| v > 60)),
    ("HistoryLength IS NULL", |r| r.hist_len.is_none()),
];

const TIMES: &[Entry] = &[
    ("StartTime >= '2024-05-01T10:30:00Z'", |r| {
        r.start >= at(1800, 0)
    }),
    ("StartTime < '2024-05-01T10:10:00Z'", |r| {
        r.start < at(600, 0)
    }),
    (
        "StartTime BETWEEN '2024-05-01T10:10:00Z' AND '2024-05-01T10:20:00Z'",
        |r| r.start >= at(600, 0) && r.start <= at(1200, 0),
    ),
    ("StartTime = '2024-05-01T10:50:00Z'", |r| {
        r.start == at(3000, 0)
    }),
    ("StartTime = '2024-05-01T10:20:00.000001Z'", |r| {
        r.start == at(1200, 1)
    }),
    (
        "StartTime > '2024-05-01T10:20:00Z' AND StartTime < '2024-05-01T10:40:00.000002Z'",
        |r| r.start > at(1200, 0) && r.start < at(2400, 2),
    ),
    ("CloseTime IS NULL", |r| r.close.is_none()),
    ("CloseTime > '2024-05-01T11:00:00Z'", |r| {
        r.close.is_some_and(|c| c > at(3600, 0))
    }),
    ("CloseTime <= '2024-05-01T10:30:00Z'", |r| {
        r.close.is_some_and(|c| c <= at(1800, 0))
    }),
    ("CloseTime = '2024-05-01T12:30:00Z'", |r| {
        r.close == Some(at(9000, 0))
    }),
    ("ExecutionTime > '2024-05-01T10:40:00Z'", |r| {
        r.start > at(2400, 0)
    }),
    ("ExecutionDuration > '10m'", |r| {
        r.dur.is_some_and(|d| d > 600_000_000_000)
    }),
    ("ExecutionDuration = 0", |r| r.dur == Some(0)),
    ("ExecutionDuration < '0:05:00'", |r| {
        r.dur.is_some_and(|d| d < 300_000_000_000)
    }),
    ("ExecutionDuration BETWEEN '1s' AND '1h'", |r| {
        r.dur
            .is_some_and(|d| (1_000_000_000..=3_600_000_000_000).contains(&d))
    }),
    ("ExecutionDuration >= 1800000000000", |r| {
        r.dur.is_some_and(|d| d >= 1_800_000_000_000)
    }),
];

const LOGIC: &[Entry] = &[
    ("", |_| true),
    ("   ", |_| true),
    ("CustomIntField > 0 AND CustomBoolField = true", |r| {
        yes(and3(r.int.map(|v| v > 0), r.flag))
    }),
    ("CustomIntField > 0 OR CustomBoolField = true", |r| {
        yes(or3(r.int.map(|v| v > 0), r.flag))
    }),
    ("NOT (CustomIntField > 0)", |r| {
        yes(not3(r.int.map(|v| v > 0)))
    }),
    ("NOT (CustomIntField > 0 AND CustomBoolField = true)", |r| {
        yes(not3(and3(r.int.map(|v| v > 0), r.flag)))
    }),
    ("NOT (CustomIntField > 0 OR CustomBoolField = true)", |r| {
        yes(not3(or3(r.int.map(|v| v > 0), r.flag)))
    }),
    (
        "(ExecutionStatus = 'Running' OR ExecutionStatus = 'Failed') AND CustomKeywordField IS NOT NULL",
        |r| matches!(r.status, WorkflowStatus::Running | WorkflowStatus::Failed) && r.kw.is_some(),
    ),
    (
        "ExecutionStatus = 'Running' AND NOT (CustomKeywordListField = 'red')",
        |r| r.status == WorkflowStatus::Running && yes(not3(r.has("red"))),
    ),
    (
        "WorkflowType = 'OrderWorkflow' OR WorkflowType = 'PaymentWorkflow' AND TaskQueue = 'tq-a'",
        |r| r.wtype == "OrderWorkflow" || (r.wtype == "PaymentWorkflow" && r.tq == "tq-a"),
    ),
    (
        "(WorkflowType = 'OrderWorkflow' OR WorkflowType = 'PaymentWorkflow') AND TaskQueue = 'tq-a'",
        |r| (r.wtype == "OrderWorkflow" || r.wtype == "PaymentWorkflow") && r.tq == "tq-a",
    ),
    ("NOT CustomIntField = 42", |r| {
        r.int.is_some_and(|v| v != 42)
    }),
    ("CustomIntField <> 42", |r| r.int.is_some_and(|v| v != 42)),
    ("CustomIntField IS NULL OR CustomDoubleField IS NULL", |r| {
        r.int.is_none() || r.dbl.is_none()
    }),
    (
        "CustomIntField > 0 and ExecutionStatus in ('Running') or CustomBoolField is null",
        |r| {
            yes(or3(
                and3(
                    r.int.map(|v| v > 0),
                    Some(r.status == WorkflowStatus::Running),
                ),
                Some(r.flag.is_none()),
            ))
        },
    ),
    ("`CustomKeywordField` = 'alpha'", |r| r.kw == Some("alpha")),
    ("((CustomIntField = 42))", |r| r.int == Some(42)),
    ("CustomKeywordField = \"alpha\"", |r| r.kw == Some("alpha")),
];

const NULLS: &[Entry] = &[
    ("CustomKeywordField != ''", |r| {
        r.kw.is_some_and(|v| !v.is_empty())
    }),
    ("NOT (CustomKeywordField = '')", |r| {
        r.kw.is_some_and(|v| !v.is_empty())
    }),
    ("CustomDoubleField NOT IN (0.5)", |r| {
        r.dbl.is_some_and(|v| v != 0.5)
    }),
    (
        "CustomDatetimeField NOT BETWEEN '2024-05-01T00:00:00Z' AND '2024-05-01T23:59:59Z'",
        |r| r.dt == Some(at(86_400, 500_000)),
    ),
    ("CustomTextField != 'fox' OR CustomTextField IS NULL", |r| {
        !yes(r.text_in(&["Quick brown fox", "FOX-trot at 9pm"]))
    }),
    (
        "NOT (CustomBoolField = false) AND CustomIntField IS NOT NULL",
        |r| r.flag == Some(true) && r.int.is_some(),
    ),
    (
        "CustomIntField IS NULL AND CustomDoubleField IS NULL AND CustomBoolField IS NULL",
        |r| r.int.is_none() && r.dbl.is_none() && r.flag.is_none(),
    ),
    (
        "NOT (CustomKeywordField IS NULL) AND NOT (CustomIntField IS NULL)",
        |r| r.kw.is_some() && r.int.is_some(),
    ),
    ("CloseTime != '2024-05-01T12:30:00Z'", |r| {
        r.close.is_some_and(|c| c != at(9000, 0))
    }),
    ("ParentWorkflowId != 'nope'", |r| r.parent.is_some()),
    ("NOT (HistoryLength < 10)", |r| {
        r.hist_len.is_some_and(|v| v >= 10)
    }),
    (
        "CustomKeywordListField != 'red' OR CustomIntField > 0",
        |r| yes(or3(not3(r.has("red")), r.int.map(|v| v > 0))),
    ),
];

// ---------------------------------------------------------------------------------------------
// Cases.
// ---------------------------------------------------------------------------------------------

/// Keyword corpus queries (exact, code-point ranges, IN, STARTS_WITH, BETWEEN, quotes, unicode).
pub async fn corpus_keyword(ctx: &Ctx) -> Result<(), CaseError> {
    run_entries(ctx, KEYWORD).await
}

/// KeywordList corpus queries (contains, does not contain, any, none, empty = absent).
pub async fn corpus_keyword_list(ctx: &Ctx) -> Result<(), CaseError> {
    run_entries(ctx, KEYWORD_LIST).await
}

/// Text corpus queries (token match, case, punctuation, unicode tokens).
pub async fn corpus_text(ctx: &Ctx) -> Result<(), CaseError> {
    run_entries(ctx, TEXT).await
}

/// Int corpus queries.
pub async fn corpus_int(ctx: &Ctx) -> Result<(), CaseError> {
    run_entries(ctx, INT).await
}

/// Double corpus queries.
pub async fn corpus_double(ctx: &Ctx) -> Result<(), CaseError> {
    run_entries(ctx, DOUBLE).await
}

/// Bool and Datetime corpus queries.
pub async fn corpus_bool_datetime(ctx: &Ctx) -> Result<(), CaseError> {
    run_entries(ctx, BOOL_DATETIME).await
}

/// ExecutionStatus and system keyword/int corpus queries.
pub async fn corpus_status_and_system(ctx: &Ctx) -> Result<(), CaseError> {
    run_entries(ctx, STATUS_SYSTEM).await
}

/// Start, close and execution time and ExecutionDuration corpus queries.
pub async fn corpus_times(ctx: &Ctx) -> Result<(), CaseError> {
    run_entries(ctx, TIMES).await
}

/// AND / OR / NOT, precedence, keyword case, backticks, double-quoted strings.
pub async fn corpus_logic(ctx: &Ctx) -> Result<(), CaseError> {
    run_entries(ctx, LOGIC).await
}

/// Three-valued logic over absent attributes.
pub async fn corpus_nulls(ctx: &Ctx) -> Result<(), CaseError> {
    run_entries(ctx, NULLS).await
}

/// `GROUP BY ExecutionStatus` over the seed, with and without filters.
pub async fn corpus_count_group_by_status(ctx: &Ctx) -> Result<(), CaseError> {
    let c = Corpus::new(ctx).await?;
    let entries: [Entry; 4] = [
        ("GROUP BY ExecutionStatus", |_| true),
        ("CustomIntField > 0 GROUP BY ExecutionStatus", |r| {
            r.int.is_some_and(|v| v > 0)
        }),
        (
            "CustomKeywordListField = 'red' group by ExecutionStatus",
            |r| yes(r.has("red")),
        ),
        ("WorkflowId = 'none' GROUP BY ExecutionStatus", |_| false),
    ];
    for (q, pred) in entries {
        let mut want = std::collections::BTreeMap::new();
        for s in c.seeds.iter().filter(|s| pred(s)) {
            *want.entry(s.status.name()).or_insert(0i64) += 1;
        }
        ensure_eq!(count_by_status(c.s, c.ns, q).await?, want, "count {q:?}");
    }
    Ok(())
}

/// Every seeded record lists (page size 7, list order) and reads back with every field.
pub async fn corpus_records_round_trip(ctx: &Ctx) -> Result<(), CaseError> {
    let c = Corpus::new(ctx).await?;
    let listed = list_all(c.s, c.ns, "", PAGE_SIZE).await?;
    let want = c.expected(|_| true);
    let got: Vec<String> = listed.iter().map(|r| c.label_of(r.run_id)).collect();
    ensure_eq!(got, want, "the whole data set in list order");
    for (rec, seed) in listed.iter().zip(
        want.iter()
            .filter_map(|l| c.seeds.iter().find(|s| &s.label == l)),
    ) {
        let expected = seed_record(c.ns, seed);
        ensure_same(&format!("listed {}", seed.label), &expected, rec)?;
        let got = ok("get", c.s.get(c.ns, seed.run_id).await)?;
        ensure_same(&format!("get {}", seed.label), &expected, &got)?;
    }
    let res = ok("count", c.s.count(count_request(c.ns, "")).await)?;
    ensure_eq!(res.count, SEED_SIZE as i64);
    Ok(())
}
