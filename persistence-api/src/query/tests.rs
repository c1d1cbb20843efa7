use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::error::ErrorKind;
use crate::ids::{NamespaceId, RunId};
use crate::types::WorkflowStatus;
use crate::visibility::{SearchAttributeValue as V, VisibilityRecord};

// ---------------------------------------------------------------- helpers

fn attrs() -> SearchAttributes {
    let mut m = BTreeMap::new();
    for (n, t) in [
        ("CustomKeywordField", SearchAttributeType::Keyword),
        ("CustomIntField", SearchAttributeType::Int),
        ("CustomTextField", SearchAttributeType::Text),
        ("CustomDoubleField", SearchAttributeType::Double),
        ("CustomBoolField", SearchAttributeType::Bool),
        ("CustomDatetimeField", SearchAttributeType::Datetime),
        ("CustomKeywordListField", SearchAttributeType::KeywordList),
        ("Custom-Dash", SearchAttributeType::Keyword),
    ] {
        m.insert(n.to_string(), t);
    }
    SearchAttributes::new(m)
}

fn parse(q: &str) -> Result<Query> {
    parse_query(q, &attrs(), false)
}

#[track_caller]
fn filter(q: &str) -> Expr {
    match parse(q) {
        Ok(Query {
            filter: Some(e),
            order_by,
            group_by,
        }) => {
            assert!(order_by.is_empty() && group_by.is_empty(), "{q}");
            e
        }
        other => panic!("{q:?}: {other:?}"),
    }
}

/// Asserts rejection (List and Count), returns the List message.
#[track_caller]
fn rejected(q: &str) -> String {
    rejected_with(q, &attrs())
}

#[track_caller]
fn rejected_with(q: &str, a: &SearchAttributes) -> String {
    let mut msg = String::new();
    for is_count in [false, true] {
        match parse_query(q, a, is_count) {
            Ok(parsed) => panic!("{:?} (count={is_count}) was accepted: {parsed:?}", show(q)),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{q:?}: {e}");
                assert!(
                    e.message().starts_with("query: at position "),
                    "{q:?}: {}",
                    e.message()
                );
                if !is_count {
                    msg = e.message().to_string();
                }
            }
        }
    }
    msg
}

/// The 1-based position named by an error message.
fn position(msg: &str) -> usize {
    let rest = msg
        .strip_prefix("query: at position ")
        .expect("position prefix");
    rest[..rest.find(':').expect("colon")]
        .parse()
        .expect("number")
}

fn cmp(attr: &str, op: CompareOp, value: Literal) -> Expr {
    Expr::Compare {
        attr: attr.to_string(),
        op,
        value,
    }
}

fn s(v: &str) -> Literal {
    Literal::String(v.to_string())
}

fn ts(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("test timestamp")
        .with_timezone(&Utc)
}

fn dt(text: &str) -> Literal {
    Literal::Datetime(ts(text))
}

fn in_list(attr: &str, values: Vec<Literal>, negated: bool) -> Expr {
    Expr::In {
        attr: attr.to_string(),
        values,
        negated,
    }
}

fn between(attr: &str, low: Literal, high: Literal, negated: bool) -> Expr {
    Expr::Between {
        attr: attr.to_string(),
        low,
        high,
        negated,
    }
}

fn starts(attr: &str, prefix: &str, negated: bool) -> Expr {
    Expr::StartsWith {
        attr: attr.to_string(),
        prefix: prefix.to_string(),
        negated,
    }
}

fn is_null(attr: &str, negated: bool) -> Expr {
    Expr::IsNull {
        attr: attr.to_string(),
        negated,
    }
}

use CompareOp::{Eq, Ge, Gt, Le, Lt, Ne};

// ---------------------------------------------------------------- positive parses

#[test]
fn empty_queries_are_no_filter() {
    for q in ["", " ", "\t\r\n  "] {
        assert_eq!(parse(q).unwrap(), Query::default());
        assert_eq!(parse_query(q, &attrs(), true).unwrap(), Query::default());
    }
}

#[test]
fn keyword_operators() {
    let k = "CustomKeywordField";
    let cases: Vec<(&str, Expr)> = vec![
        ("CustomKeywordField = 'a'", cmp(k, Eq, s("a"))),
        ("CustomKeywordField != 'a'", cmp(k, Ne, s("a"))),
        ("CustomKeywordField <> 'a'", cmp(k, Ne, s("a"))),
        ("CustomKeywordField < 'a'", cmp(k, Lt, s("a"))),
        ("CustomKeywordField <= 'a'", cmp(k, Le, s("a"))),
        ("CustomKeywordField > 'a'", cmp(k, Gt, s("a"))),
        ("CustomKeywordField >= 'a'", cmp(k, Ge, s("a"))),
        ("CustomKeywordField='a'", cmp(k, Eq, s("a"))),
        ("CustomKeywordField = ''", cmp(k, Eq, s(""))),
        (
            "CustomKeywordField IN ('a', 'b')",
            in_list(k, vec![s("a"), s("b")], false),
        ),
        (
            "CustomKeywordField NOT IN ('a')",
            in_list(k, vec![s("a")], true),
        ),
        (
            "CustomKeywordField STARTS_WITH 'a%_!'",
            starts(k, "a%_!", false),
        ),
        (
            "CustomKeywordField NOT STARTS_WITH 'a'",
            starts(k, "a", true),
        ),
        (
            "CustomKeywordField BETWEEN 'a' AND 'c'",
            between(k, s("a"), s("c"), false),
        ),
        (
            "CustomKeywordField NOT BETWEEN 'a' AND 'c'",
            between(k, s("a"), s("c"), true),
        ),
        ("CustomKeywordField IS NULL", is_null(k, false)),
        ("CustomKeywordField IS NOT NULL", is_null(k, true)),
        ("`CustomKeywordField` = 'a'", cmp(k, Eq, s("a"))),
        ("`Custom-Dash` = 'a'", cmp("Custom-Dash", Eq, s("a"))),
        ("WorkflowId = 'wf'", cmp("WorkflowId", Eq, s("wf"))),
        ("RunId = 'r'", cmp("RunId", Eq, s("r"))),
        ("WorkflowType = 't'", cmp("WorkflowType", Eq, s("t"))),
        ("TaskQueue = 'q'", cmp("TaskQueue", Eq, s("q"))),
        (
            "ParentWorkflowId IS NULL",
            is_null("ParentWorkflowId", false),
        ),
        ("ParentRunId = 'p'", cmp("ParentRunId", Eq, s("p"))),
        ("RootWorkflowId = 'p'", cmp("RootWorkflowId", Eq, s("p"))),
        ("RootRunId = 'p'", cmp("RootRunId", Eq, s("p"))),
        ("BatcherUser = 'u'", cmp("BatcherUser", Eq, s("u"))),
        (
            "TemporalNamespaceDivision IS NULL",
            is_null("TemporalNamespaceDivision", false),
        ),
    ];
    for (q, want) in cases {
        assert_eq!(filter(q), want, "{q}");
    }
}

#[test]
fn string_literal_forms() {
    let k = "CustomKeywordField";
    assert_eq!(
        filter("CustomKeywordField = 'it''s'"),
        cmp(k, Eq, s("it's"))
    );
    assert_eq!(filter("CustomKeywordField = ''''"), cmp(k, Eq, s("'")));
    assert_eq!(filter("CustomKeywordField = \"dq\""), cmp(k, Eq, s("dq")));
    assert_eq!(
        filter("CustomKeywordField = \"say \"\"hi\"\"\""),
        cmp(k, Eq, s("say \"hi\""))
    );
    assert_eq!(
        filter("CustomKeywordField = \"it's\""),
        cmp(k, Eq, s("it's"))
    );
    assert_eq!(filter("CustomKeywordField = 'a\"b'"), cmp(k, Eq, s("a\"b")));
    assert_eq!(filter(r"CustomKeywordField = 'a\'"), cmp(k, Eq, s(r"a\")));
    assert_eq!(
        filter(r"CustomKeywordField = 'a\nb'"),
        cmp(k, Eq, s(r"a\nb"))
    );
    assert_eq!(
        filter("CustomKeywordField = 'tab\there\nnewline'"),
        cmp(k, Eq, s("tab\there\nnewline"))
    );
    assert_eq!(
        filter("CustomKeywordField = 'ünï✓ 日本 🎉 \u{202e}'"),
        cmp(k, Eq, s("ünï✓ 日本 🎉 \u{202e}"))
    );
    assert_eq!(
        filter("CustomKeywordField = '--; /* # DROP TABLE x'"),
        cmp(k, Eq, s("--; /* # DROP TABLE x"))
    );
}

#[test]
fn keyword_list_operators() {
    let k = "CustomKeywordListField";
    assert_eq!(filter("CustomKeywordListField = 'a'"), cmp(k, Eq, s("a")));
    assert_eq!(filter("CustomKeywordListField != 'a'"), cmp(k, Ne, s("a")));
    assert_eq!(
        filter("CustomKeywordListField IN ('a','b')"),
        in_list(k, vec![s("a"), s("b")], false)
    );
    assert_eq!(
        filter("CustomKeywordListField NOT IN ('a')"),
        in_list(k, vec![s("a")], true)
    );
    assert_eq!(filter("CustomKeywordListField IS NULL"), is_null(k, false));
    assert_eq!(
        filter("BuildIds = 'unversioned'"),
        cmp("BuildIds", Eq, s("unversioned"))
    );
    assert_eq!(
        filter("TemporalChangeVersion IN ('x-1')"),
        in_list("TemporalChangeVersion", vec![s("x-1")], false)
    );
}

#[test]
fn text_operators() {
    let k = "CustomTextField";
    assert_eq!(
        filter("CustomTextField = 'hello world'"),
        cmp(k, Eq, s("hello world"))
    );
    assert_eq!(filter("CustomTextField != 'x'"), cmp(k, Ne, s("x")));
    assert_eq!(filter("CustomTextField IS NOT NULL"), is_null(k, true));
}

#[test]
fn int_operators() {
    let k = "CustomIntField";
    let i = Literal::Int;
    let cases: Vec<(&str, Expr)> = vec![
        ("CustomIntField = 5", cmp(k, Eq, i(5))),
        ("CustomIntField != -5", cmp(k, Ne, i(-5))),
        ("CustomIntField < - 5", cmp(k, Lt, i(-5))),
        ("CustomIntField <= 0", cmp(k, Le, i(0))),
        ("CustomIntField > 007", cmp(k, Gt, i(7))),
        (
            "CustomIntField >= 9223372036854775807",
            cmp(k, Ge, i(i64::MAX)),
        ),
        (
            "CustomIntField >= -9223372036854775808",
            cmp(k, Ge, i(i64::MIN)),
        ),
        (
            "CustomIntField IN (1, 2, 3)",
            in_list(k, vec![i(1), i(2), i(3)], false),
        ),
        ("CustomIntField NOT IN (1)", in_list(k, vec![i(1)], true)),
        (
            "CustomIntField BETWEEN 1 AND 10",
            between(k, i(1), i(10), false),
        ),
        (
            "CustomIntField NOT BETWEEN -1 AND 1",
            between(k, i(-1), i(1), true),
        ),
        ("CustomIntField IS NULL", is_null(k, false)),
        ("HistoryLength > 10", cmp("HistoryLength", Gt, i(10))),
        ("HistorySizeBytes < 10", cmp("HistorySizeBytes", Lt, i(10))),
        (
            "StateTransitionCount = 3",
            cmp("StateTransitionCount", Eq, i(3)),
        ),
        (
            "TemporalExternalPayloadCount >= 1",
            cmp("TemporalExternalPayloadCount", Ge, i(1)),
        ),
    ];
    for (q, want) in cases {
        assert_eq!(filter(q), want, "{q}");
    }
}

#[test]
fn double_operators() {
    let k = "CustomDoubleField";
    let d = Literal::Double;
    assert_eq!(filter("CustomDoubleField = 1.5"), cmp(k, Eq, d(1.5)));
    assert_eq!(filter("CustomDoubleField = 2"), cmp(k, Eq, d(2.0)));
    assert_eq!(filter("CustomDoubleField < -0.25"), cmp(k, Lt, d(-0.25)));
    assert_eq!(filter("CustomDoubleField >= 1e3"), cmp(k, Ge, d(1000.0)));
    assert_eq!(filter("CustomDoubleField > 2.5E-1"), cmp(k, Gt, d(0.25)));
    assert_eq!(filter("CustomDoubleField != 0"), cmp(k, Ne, d(0.0)));
    assert_eq!(filter("CustomDoubleField <= 3"), cmp(k, Le, d(3.0)));
    assert_eq!(
        filter("CustomDoubleField IN (1, 2.5)"),
        in_list(k, vec![d(1.0), d(2.5)], false)
    );
    assert_eq!(
        filter("CustomDoubleField BETWEEN 0.5 AND 1"),
        between(k, d(0.5), d(1.0), false)
    );
    assert_eq!(filter("CustomDoubleField IS NULL"), is_null(k, false));
}

#[test]
fn bool_operators() {
    let k = "CustomBoolField";
    let b = Literal::Bool;
    for (q, want) in [
        ("CustomBoolField = true", cmp(k, Eq, b(true))),
        ("CustomBoolField = TRUE", cmp(k, Eq, b(true))),
        ("CustomBoolField = False", cmp(k, Eq, b(false))),
        ("CustomBoolField = 'true'", cmp(k, Eq, b(true))),
        ("CustomBoolField = \"FALSE\"", cmp(k, Eq, b(false))),
        ("CustomBoolField != false", cmp(k, Ne, b(false))),
        ("CustomBoolField IS NULL", is_null(k, false)),
        (
            "TemporalSchedulePaused = true",
            cmp("TemporalSchedulePaused", Eq, b(true)),
        ),
    ] {
        assert_eq!(filter(q), want, "{q}");
    }
    for q in [
        "CustomBoolField < true",
        "CustomBoolField IN (true)",
        "CustomBoolField BETWEEN false AND true",
        "CustomBoolField = 1",
        "CustomBoolField = 'yes'",
    ] {
        rejected(q);
    }
}

#[test]
fn datetime_operators() {
    let k = "CustomDatetimeField";
    let t = "2024-05-01T10:00:00Z";
    let cases: Vec<(&str, Expr)> = vec![
        (
            "StartTime = '2024-05-01T10:00:00Z'",
            cmp("StartTime", Eq, dt(t)),
        ),
        (
            "StartTime != '2024-05-01T10:00:00Z'",
            cmp("StartTime", Ne, dt(t)),
        ),
        (
            "ExecutionTime < '2024-05-01T12:00:00+02:00'",
            cmp("ExecutionTime", Lt, dt(t)),
        ),
        (
            "CloseTime <= '2024-05-01T05:30:00-04:30'",
            cmp("CloseTime", Le, dt(t)),
        ),
        (
            "CustomDatetimeField > '2024-05-01T10:00:00.123456789Z'",
            cmp(k, Gt, dt("2024-05-01T10:00:00.123456789Z")),
        ),
        (
            "CustomDatetimeField >= '2024-05-01T10:00:00.000001Z'",
            cmp(k, Ge, dt("2024-05-01T10:00:00.000001Z")),
        ),
        (
            "CustomDatetimeField IN ('2024-05-01T10:00:00Z')",
            in_list(k, vec![dt(t)], false),
        ),
        (
            "CustomDatetimeField NOT IN ('2024-05-01T10:00:00Z')",
            in_list(k, vec![dt(t)], true),
        ),
        (
            "StartTime BETWEEN '2024-05-01T10:00:00Z' AND '2024-05-02T10:00:00Z'",
            between("StartTime", dt(t), dt("2024-05-02T10:00:00Z"), false),
        ),
        (
            "StartTime NOT BETWEEN '2024-05-01T10:00:00Z' AND '2024-05-01T10:00:00Z'",
            between("StartTime", dt(t), dt(t), true),
        ),
        ("CloseTime IS NULL", is_null("CloseTime", false)),
        (
            "StartTime = 1714557600000000001",
            cmp(
                "StartTime",
                Eq,
                Literal::Datetime(Utc.timestamp_nanos(1_714_557_600_000_000_001)),
            ),
        ),
        (
            "TemporalScheduledStartTime > '2024-05-01T10:00:00Z'",
            cmp("TemporalScheduledStartTime", Gt, dt(t)),
        ),
    ];
    for (q, want) in cases {
        assert_eq!(filter(q), want, "{q}");
    }
    // Nanoseconds are kept exactly.
    let Expr::Compare {
        value: Literal::Datetime(v),
        ..
    } = filter("StartTime = '2024-05-01T10:00:00.123456789Z'")
    else {
        panic!("shape")
    };
    assert_eq!(v.timestamp_subsec_nanos(), 123_456_789);
}

#[test]
fn status_operators() {
    let k = "ExecutionStatus";
    let st = Literal::Status;
    let cases: Vec<(&str, Expr)> = vec![
        (
            "ExecutionStatus = 'Running'",
            cmp(k, Eq, st(WorkflowStatus::Running)),
        ),
        (
            "ExecutionStatus != \"Completed\"",
            cmp(k, Ne, st(WorkflowStatus::Completed)),
        ),
        (
            "ExecutionStatus = 'WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW'",
            cmp(k, Eq, st(WorkflowStatus::ContinuedAsNew)),
        ),
        (
            "ExecutionStatus = 3",
            cmp(k, Eq, st(WorkflowStatus::Failed)),
        ),
        (
            "ExecutionStatus IN ('Failed', 'TimedOut', 'Canceled', 'Terminated', 'Paused')",
            in_list(
                k,
                vec![
                    st(WorkflowStatus::Failed),
                    st(WorkflowStatus::TimedOut),
                    st(WorkflowStatus::Canceled),
                    st(WorkflowStatus::Terminated),
                    st(WorkflowStatus::Paused),
                ],
                false,
            ),
        ),
        (
            "ExecutionStatus NOT IN ('ContinuedAsNew')",
            in_list(k, vec![st(WorkflowStatus::ContinuedAsNew)], true),
        ),
        ("ExecutionStatus IS NULL", is_null(k, false)),
        ("ExecutionStatus IS NOT NULL", is_null(k, true)),
    ];
    for (q, want) in cases {
        assert_eq!(filter(q), want, "{q}");
    }
    for q in [
        "ExecutionStatus < 'Running'",
        "ExecutionStatus BETWEEN 'A' AND 'B'",
        "ExecutionStatus STARTS_WITH 'R'",
        "ExecutionStatus = 'RUNNING'",
        "ExecutionStatus = 'WORKFLOW_EXECUTION_STATUS_Running'",
        "ExecutionStatus = 9",
        "ExecutionStatus = -1",
        "ExecutionStatus = 1.0",
        "ExecutionStatus = true",
    ] {
        rejected(q);
    }
}

#[test]
fn duration_literals() {
    let k = "ExecutionDuration";
    let cases: &[(&str, i64)] = &[
        ("ExecutionDuration = 1000", 1000),
        ("ExecutionDuration = '1000'", 1000),
        ("ExecutionDuration = '1h'", 3_600_000_000_000),
        ("ExecutionDuration = '30m'", 1_800_000_000_000),
        ("ExecutionDuration = '1h30m'", 5_400_000_000_000),
        ("ExecutionDuration = '100ms'", 100_000_000),
        ("ExecutionDuration = '10s'", 10_000_000_000),
        ("ExecutionDuration = '1us'", 1_000),
        ("ExecutionDuration = '1µs'", 1_000),
        ("ExecutionDuration = '1μs'", 1_000),
        ("ExecutionDuration = '1ns'", 1),
        ("ExecutionDuration = '1.5s'", 1_500_000_000),
        ("ExecutionDuration = '.5s'", 500_000_000),
        ("ExecutionDuration = '2d'", 172_800_000_000_000),
        ("ExecutionDuration = '1h2m3s4ms5us6ns'", 3_723_004_005_006),
        ("ExecutionDuration = '0'", 0),
        ("ExecutionDuration = '-1s'", -1_000_000_000),
        ("ExecutionDuration = '01:02:03'", 3_723_000_000_000),
        ("ExecutionDuration = '100:00:00'", 360_000_000_000_000),
        ("ExecutionDuration = '2562047h'", 9_223_369_200_000_000_000),
    ];
    for (q, nanos) in cases {
        assert_eq!(filter(q), cmp(k, Eq, Literal::Int(*nanos)), "{q}");
    }
    assert_eq!(
        filter("ExecutionDuration BETWEEN '1m' AND 3600000000000"),
        between(
            k,
            Literal::Int(60_000_000_000),
            Literal::Int(3_600_000_000_000),
            false
        )
    );
    assert_eq!(
        filter("ExecutionDuration IN ('1s', 5)"),
        in_list(k, vec![Literal::Int(1_000_000_000), Literal::Int(5)], false)
    );
    for q in [
        "ExecutionDuration = ''",
        "ExecutionDuration = 'h'",
        "ExecutionDuration = '1x'",
        "ExecutionDuration = '1h 30m'",
        "ExecutionDuration = '1H'",
        "ExecutionDuration = '01:60:00'",
        "ExecutionDuration = '1:2:3'",
        "ExecutionDuration = '99999999999999999999h'",
        "ExecutionDuration = '2562048h'",
        "ExecutionDuration = '-'",
        "ExecutionDuration = 1.5",
        "ExecutionDuration STARTS_WITH '1'",
    ] {
        rejected(q);
    }
}

#[test]
fn logic_shapes() {
    let a = || cmp("WorkflowId", Eq, s("a"));
    let b = || cmp("RunId", Eq, s("b"));
    let c = || cmp("TaskQueue", Eq, s("c"));
    let d = || cmp("WorkflowType", Eq, s("d"));
    assert_eq!(
        filter("WorkflowId = 'a' AND RunId = 'b' OR TaskQueue = 'c'"),
        Expr::Or(vec![Expr::And(vec![a(), b()]), c()])
    );
    assert_eq!(
        filter("WorkflowId = 'a' OR RunId = 'b' AND TaskQueue = 'c'"),
        Expr::Or(vec![a(), Expr::And(vec![b(), c()])])
    );
    assert_eq!(
        filter("WorkflowId = 'a' and (RunId = 'b' or TaskQueue = 'c')"),
        Expr::And(vec![a(), Expr::Or(vec![b(), c()])])
    );
    // flattening
    assert_eq!(
        filter("(WorkflowId = 'a' AND RunId = 'b') AND (TaskQueue = 'c' AND WorkflowType = 'd')"),
        Expr::And(vec![a(), b(), c(), d()])
    );
    assert_eq!(
        filter("((WorkflowId = 'a' OR (RunId = 'b')) Or TaskQueue = 'c')"),
        Expr::Or(vec![a(), b(), c()])
    );
    assert_eq!(filter("(((WorkflowId = 'a')))"), a());
    // NOT folding
    assert_eq!(
        filter("NOT WorkflowId = 'a'"),
        cmp("WorkflowId", Ne, s("a"))
    );
    assert_eq!(filter("not not WorkflowId = 'a'"), a());
    assert_eq!(filter("NOT (NOT (WorkflowId = 'a'))"), a());
    assert_eq!(
        filter("NOT WorkflowId IN ('a')"),
        in_list("WorkflowId", vec![s("a")], true)
    );
    assert_eq!(
        filter("NOT WorkflowId NOT IN ('a')"),
        in_list("WorkflowId", vec![s("a")], false)
    );
    assert_eq!(
        filter("NOT WorkflowId IS NULL"),
        is_null("WorkflowId", true)
    );
    assert_eq!(
        filter("NOT WorkflowId STARTS_WITH 'a'"),
        starts("WorkflowId", "a", true)
    );
    assert_eq!(
        filter("NOT CustomIntField BETWEEN 1 AND 2"),
        between("CustomIntField", Literal::Int(1), Literal::Int(2), true)
    );
    assert_eq!(
        filter("NOT CustomIntField < 3"),
        Expr::Not(Box::new(cmp("CustomIntField", Lt, Literal::Int(3))))
    );
    assert_eq!(
        filter("NOT (WorkflowId = 'a' AND RunId = 'b')"),
        Expr::Not(Box::new(Expr::And(vec![a(), b()])))
    );
    // NOT binds tighter than AND
    assert_eq!(
        filter("NOT WorkflowId = 'a' AND RunId = 'b'"),
        Expr::And(vec![cmp("WorkflowId", Ne, s("a")), b()])
    );
    // BETWEEN's AND is not a conjunction
    assert_eq!(
        filter("CustomIntField BETWEEN 1 AND 2 AND WorkflowId = 'a'"),
        Expr::And(vec![
            between("CustomIntField", Literal::Int(1), Literal::Int(2), false),
            a()
        ])
    );
}

#[test]
fn keywords_are_case_insensitive() {
    assert_eq!(
        filter("WorkflowId in ('a') aNd CustomKeywordField starts_with 'b' oR RunId iS nOt NuLl"),
        Expr::Or(vec![
            Expr::And(vec![
                in_list("WorkflowId", vec![s("a")], false),
                starts("CustomKeywordField", "b", false),
            ]),
            is_null("RunId", true),
        ])
    );
    assert_eq!(
        filter("CustomIntField not between 1 and 2"),
        between("CustomIntField", Literal::Int(1), Literal::Int(2), true)
    );
}

#[test]
fn group_by_only_in_count_on_status() {
    let a = attrs();
    let q = parse_query("GROUP BY ExecutionStatus", &a, true).unwrap();
    assert_eq!(q.filter, None);
    assert_eq!(q.group_by, vec!["ExecutionStatus".to_string()]);
    let q = parse_query("WorkflowType = 'x' group by `ExecutionStatus`", &a, true).unwrap();
    assert_eq!(q.filter, Some(cmp("WorkflowType", Eq, s("x"))));
    assert_eq!(q.group_by, vec!["ExecutionStatus".to_string()]);
    assert!(q.order_by.is_empty());

    let m = parse_query("WorkflowType = 'x' GROUP BY ExecutionStatus", &a, false)
        .unwrap_err()
        .message()
        .to_string();
    assert!(m.contains("only allowed in a count query"), "{m}");
    assert_eq!(position(&m), 20);
    for q in [
        "GROUP BY WorkflowType",
        "GROUP BY CustomKeywordField",
        "GROUP BY ExecutionStatus, WorkflowType",
        "GROUP BY ExecutionStatus ORDER BY StartTime",
        "GROUP BY",
        "GROUP BY Foo",
        "GROUP BY ExecutionStatus AND WorkflowId = 'a'",
        "GROUP BY ExecutionStatus GROUP BY ExecutionStatus",
    ] {
        assert!(parse_query(q, &a, true).is_err(), "{q}");
        rejected(q);
    }
}

#[test]
fn order_by_is_rejected() {
    for q in [
        "ORDER BY StartTime",
        "WorkflowId = 'a' ORDER BY StartTime DESC",
        "WorkflowId = 'a' order by CustomTextField",
        "ORDER BY CloseTime ASC, RunId",
    ] {
        let m = rejected(q);
        assert!(m.contains("ORDER BY is not supported"), "{m}");
    }
}

// ---------------------------------------------------------------- errors and positions

#[test]
fn error_positions_and_reasons() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "WorkflowId = 'a' AND Foo = 'b'",
            22,
            "unknown search attribute \"Foo\"",
        ),
        ("Foo = 'b'", 1, "unknown search attribute \"Foo\""),
        ("workflowId = 'x'", 1, "did you mean WorkflowId?"),
        (
            "WorkflowId = 'é' AND Föo = 1",
            23,
            "unexpected character 'ö'",
        ),
        (
            "WorkflowId = 'é' AND `Föo` = 1",
            22,
            "unknown search attribute \"Föo\"",
        ),
        ("NamespaceId = 'x'", 1, "reserved"),
        ("TemporalBool01 = true", 1, "reserved"),
        ("WorkflowId = 'a' OR 1=1 --", 25, "comments"),
        ("WorkflowId = 'a' OR 1=1", 21, "attribute"),
        ("WorkflowId = 'abc", 14, "unterminated string"),
        (
            "CustomTextField < 'a'",
            17,
            "operator < is not supported for Text",
        ),
        ("CustomIntField = '5'", 18, "needs an unquoted integer"),
        ("CustomIntField = 5.5", 18, "needs an unquoted integer"),
        ("WorkflowId = RunId", 14, "comparing search attributes"),
        ("WorkflowId = foo", 14, "bare word"),
        (
            "WorkflowId AND RunId = 'x'",
            1,
            "not compared with anything",
        ),
        (
            "(WorkflowId = 'a'",
            18,
            "missing ')' for the '(' at position 1",
        ),
        ("WorkflowId = 'a')", 17, "unbalanced ')'"),
        ("WorkflowId = 'a' LIMIT 5", 18, "LIMIT is not supported"),
        (
            "lower(WorkflowId) = 'a'",
            1,
            "function calls are not supported",
        ),
        (
            "WorkflowId = upper('a')",
            14,
            "function calls are not supported",
        ),
        ("WorkflowId IN (SELECT 1)", 16, "SELECT"),
        ("WorkflowId = 'a\0'", 16, "control character U+0000"),
        ("WorkflowId = 'a'\u{1}", 17, "control character U+0001"),
        ("WorkflowId LIKE 'a%'", 12, "use STARTS_WITH"),
        ("WorkflowId = NULL", 14, "IS NULL"),
        ("WorkflowId IN ()", 16, "empty IN list"),
        ("()", 2, "empty parentheses"),
        ("WorkflowId = 'a' AND", 21, "end of the query"),
        ("CustomTextField = '...'", 19, "no words"),
        ("StartTime > '2024-01-01'", 13, "RFC3339"),
        ("CustomIntField = 99999999999999999999", 18, "out of range"),
        ("CustomDoubleField = 1e999", 21, "out of range"),
        ("WorkflowId = 'a'; DELETE", 17, "';' is not allowed"),
        ("WorkflowId == 'a'", 12, "'=='"),
        ("🎉 = 'a'", 1, "unexpected character U+1F389"),
        (
            "WorkflowId = '🎉' OR 🎉",
            21,
            "unexpected character U+1F389",
        ),
        (
            "WorkflowId\u{202e} = 'a'",
            11,
            "unexpected character U+202E",
        ),
        ("WorkflowId = 'a' && RunId = 'b'", 18, "use AND and OR"),
        (
            "WorkflowId = 'a' AND EXISTS (SELECT 1)",
            22,
            "EXISTS is not supported",
        ),
    ];
    let mut failures = Vec::new();
    for (q, pos, needle) in cases {
        let m = rejected(q);
        if position(&m) != *pos || !m.contains(needle) {
            failures.push(format!("{q:?}: {m} (wanted {pos}, {needle:?})"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn hostile_queries_are_rejected() {
    let a = SearchAttributes::for_hostile_queries();
    assert!(HOSTILE_QUERIES.len() >= 60, "{}", HOSTILE_QUERIES.len());
    for q in HOSTILE_QUERIES {
        rejected_with(q, &a);
        // also with the larger test attribute set
        rejected(q);
    }
    for q in hostile_generated_queries() {
        rejected_with(&q, &a);
    }
}

#[test]
fn size_limit() {
    let head = "WorkflowId = '";
    let exact = format!("{head}{}'", "a".repeat(MAX_QUERY_BYTES - head.len() - 1));
    assert_eq!(exact.len(), MAX_QUERY_BYTES);
    assert!(parse(&exact).is_ok());
    let over = format!("{head}{}'", "a".repeat(MAX_QUERY_BYTES - head.len()));
    let m = rejected(&over);
    assert!(m.contains("longer than the limit"), "{m}");
    let huge = "x".repeat(10 * 1024 * 1024);
    let start = Instant::now();
    rejected(&huge);
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[test]
fn nesting_limit() {
    let wrap = |n: usize| format!("{}WorkflowId = 'a'{}", "(".repeat(n), ")".repeat(n));
    assert_eq!(filter(&wrap(MAX_NESTING)), cmp("WorkflowId", Eq, s("a")));
    let m = rejected(&wrap(MAX_NESTING + 1));
    assert!(m.contains("nesting"), "{m}");
    assert_eq!(position(&m), MAX_NESTING + 1);

    let nots = |n: usize| format!("{}WorkflowId = 'a'", "NOT ".repeat(n));
    assert_eq!(filter(&nots(MAX_NESTING)), cmp("WorkflowId", Eq, s("a")));
    assert!(rejected(&nots(MAX_NESTING + 1)).contains("nesting"));

    // mixed: 50 x "NOT (" is 100 levels
    let mixed = |n: usize| format!("{}WorkflowId = 'a'{}", "NOT (".repeat(n), ")".repeat(n));
    assert_eq!(filter(&mixed(50)), cmp("WorkflowId", Eq, s("a")));
    assert!(rejected(&mixed(51)).contains("nesting"));

    // siblings do not add up
    let wide = vec!["((WorkflowId = 'a'))"; 500].join(" OR ");
    let Expr::Or(terms) = filter(&wide) else {
        panic!("shape")
    };
    assert_eq!(terms.len(), 500);

    // absurd depth without a stack overflow
    rejected(&"(".repeat(60_000));
    rejected(&"NOT ".repeat(16_000));
}

#[test]
fn micro_sanity_max_size_query_parses_fast() {
    // A maximal query of many terms: parsing must be linear-ish (no quadratic blowups).
    let mut q = String::new();
    let mut n = 0;
    while q.len() < MAX_QUERY_BYTES - 64 {
        if n > 0 {
            q.push_str(if n % 2 == 0 { " OR " } else { " AND " });
        }
        q.push_str(&format!("CustomIntField = {n}"));
        n += 1;
    }
    let start = Instant::now();
    let parsed = parse(&q).unwrap();
    let elapsed = start.elapsed();
    assert!(parsed.filter.is_some());
    assert!(
        elapsed < Duration::from_secs(2),
        "{elapsed:?} for {n} terms"
    );
    let in_list_query = format!("CustomKeywordField IN ({})", vec!["'x'"; 15_000].join(","));
    let start = Instant::now();
    assert!(parse(&in_list_query).is_ok());
    assert!(start.elapsed() < Duration::from_secs(2));
}

// ---------------------------------------------------------------- fuzz

/// xorshift64*, deterministic.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[track_caller]
fn check_outcome(q: &str, a: &SearchAttributes, records: &[VisibilityRecord]) -> bool {
    for is_count in [false, true] {
        match parse_query(q, a, is_count) {
            Ok(parsed) => {
                assert!(parsed.order_by.is_empty());
                if let Some(f) = &parsed.filter {
                    for r in records {
                        let _ = evaluate(f, r, a);
                    }
                }
                if !is_count {
                    return true;
                }
            }
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{q:?}");
                let m = e.message();
                let pos = position(m);
                assert!(pos >= 1 && pos <= q.chars().count() + 1, "{q:?}: {m}");
            }
        }
    }
    false
}

#[test]
fn fuzz_random_bytes() {
    let a = attrs();
    let recs = [record(), closed_record()];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let len = rng.below(40);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let text = String::from_utf8_lossy(&bytes);
        check_outcome(&text, &a, &recs);
    }
}

#[test]
fn fuzz_char_soup() {
    let a = attrs();
    let recs = [record(), closed_record()];
    let alphabet: Vec<char> = "abcXYZ_019 ().,'\"`=!<>-+*/#;\\\t\n\r\0\u{7f}é🎉\u{202e}\u{a0}eE"
        .chars()
        .collect();
    let mut rng = Rng(42);
    for _ in 0..20_000 {
        let len = rng.below(30);
        let text: String = (0..len)
            .map(|_| alphabet[rng.below(alphabet.len())])
            .collect();
        check_outcome(&text, &a, &recs);
    }
}

#[test]
fn fuzz_token_soup() {
    let a = attrs();
    let recs = [record(), closed_record(), list_record()];
    let vocab = [
        "WorkflowId",
        "RunId",
        "ExecutionStatus",
        "ExecutionDuration",
        "StartTime",
        "CloseTime",
        "CustomKeywordField",
        "CustomIntField",
        "CustomTextField",
        "CustomDoubleField",
        "CustomBoolField",
        "CustomKeywordListField",
        "`CustomKeywordField`",
        "Foo",
        "AND",
        "OR",
        "NOT",
        "IN",
        "IS",
        "NULL",
        "BETWEEN",
        "STARTS_WITH",
        "GROUP",
        "BY",
        "ORDER",
        "TRUE",
        "false",
        "(",
        ")",
        ",",
        "=",
        "!=",
        "<>",
        "<",
        "<=",
        ">",
        ">=",
        "-",
        "'a'",
        "'Running'",
        "'1h'",
        "'2024-05-01T10:00:00Z'",
        "'hello world'",
        "\"x\"",
        "5",
        "1.5",
        "1e3",
        "0",
        "'",
        "--",
        ";",
        "SELECT",
        "LIMIT",
        "f(",
    ];
    let mut rng = Rng(7);
    let mut accepted = 0;
    for _ in 0..60_000 {
        let len = 1 + rng.below(12);
        let text: Vec<&str> = (0..len).map(|_| vocab[rng.below(vocab.len())]).collect();
        if check_outcome(&text.join(" "), &a, &recs) {
            accepted += 1;
        }
    }
    // The soup must exercise the success path too.
    assert!(accepted > 5, "{accepted}");
}

/// Random queries from the grammar: attributes, operators and literals mixed freely, so that
/// well-typed and ill-typed predicates both occur, nested up to depth 4.
fn gen_expr(rng: &mut Rng, depth: usize, out: &mut String) {
    const ATTRS: &[&str] = &[
        "WorkflowId",
        "ExecutionStatus",
        "ExecutionDuration",
        "StartTime",
        "CloseTime",
        "HistoryLength",
        "ParentWorkflowId",
        "CustomKeywordField",
        "CustomIntField",
        "CustomTextField",
        "CustomDoubleField",
        "CustomBoolField",
        "CustomDatetimeField",
        "CustomKeywordListField",
    ];
    const VALUES: &[&str] = &[
        "'wf-1'",
        "'Running'",
        "'Completed'",
        "'1h'",
        "'2024-05-01T10:00:00Z'",
        "'fox'",
        "'red'",
        "''",
        "7",
        "-3",
        "2.5",
        "true",
        "'Order-42'",
    ];
    const OPS: &[&str] = &["=", "!=", "<", "<=", ">", ">="];
    if depth < 4 && rng.below(3) == 0 {
        if rng.below(4) == 0 {
            out.push_str("NOT ");
        }
        out.push('(');
        gen_expr(rng, depth + 1, out);
        out.push_str(if rng.below(2) == 0 { " AND " } else { " OR " });
        gen_expr(rng, depth + 1, out);
        out.push(')');
        return;
    }
    let attr = ATTRS[rng.below(ATTRS.len())];
    let kind = rng.below(6);
    let op = OPS[rng.below(OPS.len())];
    let mut v = || VALUES[rng.below(VALUES.len())];
    let pred = match kind {
        0 => format!("{op} {}", v()),
        1 => format!("IN ({}, {})", v(), v()),
        2 => format!("NOT IN ({})", v()),
        3 => format!("BETWEEN {} AND {}", v(), v()),
        4 => format!("STARTS_WITH {}", v()),
        _ => "IS NOT NULL".to_string(),
    };
    out.push_str(attr);
    out.push(' ');
    out.push_str(&pred);
}

#[test]
fn fuzz_grammar() {
    let a = attrs();
    let recs = [record(), closed_record(), list_record()];
    let mut rng = Rng(2024);
    let mut accepted = 0;
    for _ in 0..20_000 {
        let mut q = String::new();
        gen_expr(&mut rng, 0, &mut q);
        if check_outcome(&q, &a, &recs) {
            accepted += 1;
        }
    }
    assert!(accepted > 1_000, "{accepted}");
}

#[test]
fn fuzz_mutated_valid_queries() {
    let a = attrs();
    let recs = [record(), closed_record(), list_record()];
    let seeds = [
        "WorkflowType = 'billing' AND (ExecutionStatus IN ('Failed', 'TimedOut') OR CloseTime IS NULL)",
        "CustomKeywordField STARTS_WITH 'order-' AND StartTime >= '2024-05-01T00:00:00Z'",
        "ExecutionDuration > '1h30m' OR NOT CustomIntField BETWEEN -5 AND 5",
        "CustomTextField = 'hello' AND CustomDoubleField <= 2.5e1 AND CustomBoolField = true",
    ];
    let inserts = [
        "'", "\"", "(", ")", "`", " ", "\0", "--", "é", "NOT ", ",", "-",
    ];
    let mut rng = Rng(99);
    for seed in seeds {
        assert!(parse(seed).is_ok(), "{seed}");
        for _ in 0..5_000 {
            let mut q: Vec<char> = seed.chars().collect();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(q.len() + 1);
                match rng.below(3) {
                    0 if at < q.len() => {
                        q.remove(at);
                    }
                    1 => {
                        let ins = inserts[rng.below(inserts.len())];
                        for (k, c) in ins.chars().enumerate() {
                            q.insert(at + k, c);
                        }
                    }
                    _ if at < q.len() => {
                        q.truncate(at);
                    }
                    _ => {}
                }
            }
            let text: String = q.into_iter().collect();
            check_outcome(&text, &a, &recs);
        }
    }
}

// ---------------------------------------------------------------- attributes and names

#[test]
fn attribute_tables() {
    let a = attrs();
    assert_eq!(a.type_of("WorkflowId"), Some(SearchAttributeType::Keyword));
    assert_eq!(a.type_of("StartTime"), Some(SearchAttributeType::Datetime));
    assert_eq!(
        a.type_of("ExecutionDuration"),
        Some(SearchAttributeType::Int)
    );
    assert_eq!(
        a.type_of("BuildIds"),
        Some(SearchAttributeType::KeywordList)
    );
    assert_eq!(
        a.type_of("TemporalSchedulePaused"),
        Some(SearchAttributeType::Bool)
    );
    assert_eq!(
        a.type_of("CustomTextField"),
        Some(SearchAttributeType::Text)
    );
    assert_eq!(a.type_of("customtextfield"), None);
    assert_eq!(a.type_of("NamespaceId"), None);
    assert_eq!(SearchAttributes::system().type_of("CustomTextField"), None);
    assert_eq!(SYSTEM_ATTRIBUTES.len(), 16);
    for (n, _) in SYSTEM_ATTRIBUTES {
        assert!(SearchAttributes::is_system(n), "{n}");
        assert!(!is_reserved_name(n));
    }
    for (n, _) in PREDEFINED_ATTRIBUTES {
        assert!(!SearchAttributes::is_system(n));
        assert!(SearchAttributes::is_predefined(n));
        assert!(!is_reserved_name(n), "{n}");
    }
    assert!(!SearchAttributes::is_system("CustomKeywordField"));
    for n in [
        "NamespaceId",
        "Memo",
        "MemoEncoding",
        "VisibilityTaskKey",
        "TemporalFoo",
        "TemporalBool01",
        "Temporal",
    ] {
        assert!(is_reserved_name(n), "{n}");
    }
    assert!(!is_reserved_name("namespaceid"));
    assert!(!is_reserved_name("CustomKeywordField"));

    // a custom entry cannot shadow a system or reserved name
    let mut m = BTreeMap::new();
    m.insert("WorkflowId".to_string(), SearchAttributeType::Int);
    m.insert("Memo".to_string(), SearchAttributeType::Keyword);
    let shadow = SearchAttributes::new(m);
    assert_eq!(
        shadow.type_of("WorkflowId"),
        Some(SearchAttributeType::Keyword)
    );
    assert_eq!(shadow.type_of("Memo"), None);
    assert!(rejected_with("Memo = 'x'", &shadow).contains("reserved"));
}

#[test]
fn custom_name_validation() {
    for ok in [
        "CustomKeywordField",
        "a",
        "Keyword01",
        "my-attr",
        "A_b-9",
        &"x".repeat(255),
    ] {
        validate_custom_name(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for bad in [
        "",
        "1abc",
        "_x",
        "-x",
        "a b",
        "a.b",
        "a`b",
        "ü",
        "a\0",
        &"x".repeat(256),
        "NamespaceId",
        "memo",
        "VisibilityTaskKey",
        "TemporalX",
        "temporalx",
        "WorkflowId",
        "workflowid",
        "BuildIds",
        "And",
        "order",
        "Select",
        "NULL",
        "Limit",
        "starts_with",
    ] {
        let e = validate_custom_name(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad}");
    }
}

#[test]
fn text_tokenization() {
    assert_eq!(text_tokens("Hello, World!"), vec!["hello", "world"]);
    assert_eq!(
        text_tokens("foo_bar-baz.qux"),
        vec!["foo", "bar", "baz", "qux"]
    );
    assert_eq!(text_tokens("  "), Vec::<String>::new());
    assert_eq!(
        text_tokens("ÄÖÜ straße 日本語"),
        vec!["äöü", "straße", "日本語"]
    );
    assert_eq!(text_tokens("v1.2.3"), vec!["v1", "2", "3"]);
    assert_eq!(text_tokens("ΣΑΣ"), vec!["σας"]);
}

// ---------------------------------------------------------------- evaluator

fn at(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, h, 0, 0).unwrap()
}

fn record() -> VisibilityRecord {
    let mut sa = BTreeMap::new();
    sa.insert(
        "CustomKeywordField".to_string(),
        V::String("Order-42".into()),
    );
    sa.insert("CustomIntField".to_string(), V::Int(7));
    sa.insert(
        "CustomTextField".to_string(),
        V::String("The quick brown Fox".into()),
    );
    sa.insert("CustomDoubleField".to_string(), V::Double(2.5));
    sa.insert("CustomBoolField".to_string(), V::Bool(true));
    sa.insert(
        "CustomDatetimeField".to_string(),
        V::Datetime(ts("2024-05-01T10:00:00.000000500Z")),
    );
    sa.insert(
        "CustomKeywordListField".to_string(),
        V::KeywordList(vec!["red".into(), "green".into()]),
    );
    VisibilityRecord {
        namespace_id: NamespaceId(Uuid::from_u128(1)),
        workflow_id: "wf-1".into(),
        run_id: RunId(Uuid::from_u128(0x10)),
        workflow_type: "billing".into(),
        start_time: at(9),
        execution_time: at(9),
        status: WorkflowStatus::Running,
        task_queue: "q".into(),
        task_id: 1,
        shard_id: 1,
        memo: None,
        search_attributes: sa,
        parent_workflow_id: None,
        parent_run_id: None,
        root_workflow_id: Some("wf-1".into()),
        root_run_id: Some(RunId(Uuid::from_u128(0x10))),
        close_time: None,
        history_length: None,
        history_size_bytes: None,
        execution_duration_nanos: None,
        state_transition_count: Some(3),
    }
}

fn closed_record() -> VisibilityRecord {
    VisibilityRecord {
        workflow_id: "wf-2".into(),
        run_id: RunId(Uuid::from_u128(0x20)),
        status: WorkflowStatus::Completed,
        search_attributes: BTreeMap::new(),
        close_time: Some(at(11)),
        history_length: Some(20),
        history_size_bytes: Some(2048),
        execution_duration_nanos: Some(2 * 3_600_000_000_000),
        parent_workflow_id: Some(String::new()),
        ..record()
    }
}

fn list_record() -> VisibilityRecord {
    let mut r = closed_record();
    r.search_attributes
        .insert("CustomKeywordListField".into(), V::KeywordList(vec![]));
    r.search_attributes
        .insert("CustomKeywordField".into(), V::String(String::new()));
    r
}

#[track_caller]
fn eval(q: &str, r: &VisibilityRecord) -> Option<bool> {
    let a = attrs();
    let parsed = parse_query(q, &a, false).unwrap_or_else(|e| panic!("{q}: {e}"));
    evaluate(&parsed.filter.expect("filter"), r, &a)
}

#[test]
fn evaluator_on_present_values() {
    let r = record();
    let t = Some(true);
    let f = Some(false);
    let cases: &[(&str, Option<bool>)] = &[
        ("WorkflowId = 'wf-1'", t),
        ("WorkflowId = 'WF-1'", f),
        ("WorkflowId = 'wf-1 '", f),
        ("WorkflowId != 'wf-1'", f),
        ("WorkflowId < 'wf-2'", t),
        ("WorkflowId > 'wf-'", t),
        ("WorkflowId >= 'wf-1'", t),
        ("WorkflowId <= 'wf-0'", f),
        ("WorkflowId BETWEEN 'wf-1' AND 'wf-1'", t),
        ("WorkflowId NOT BETWEEN 'a' AND 'z'", f),
        ("WorkflowId IN ('x', 'wf-1')", t),
        ("WorkflowId NOT IN ('x', 'wf-1')", f),
        ("WorkflowId STARTS_WITH 'wf'", t),
        ("WorkflowId STARTS_WITH 'wf%'", f),
        ("WorkflowId STARTS_WITH ''", t),
        ("WorkflowId NOT STARTS_WITH 'x'", t),
        ("CustomKeywordField < 'order'", t), // 'O' < 'o' by code point
        ("CustomKeywordField STARTS_WITH 'order'", f),
        ("CustomKeywordField STARTS_WITH 'Order-'", t),
        ("RunId = '00000000-0000-0000-0000-000000000010'", t),
        ("RootRunId = '00000000-0000-0000-0000-000000000010'", t),
        ("RootWorkflowId = 'wf-1'", t),
        ("WorkflowType = 'billing' AND TaskQueue = 'q'", t),
        ("ExecutionStatus = 'Running'", t),
        ("ExecutionStatus != 'Running'", f),
        ("ExecutionStatus IN ('Completed', 'Failed')", f),
        ("ExecutionStatus NOT IN ('Completed', 'Failed')", t),
        ("ExecutionStatus IS NULL", f),
        ("CustomIntField = 7", t),
        ("CustomIntField > 7", f),
        ("CustomIntField BETWEEN 7 AND 8", t),
        ("CustomIntField NOT BETWEEN 8 AND 9", t),
        ("CustomIntField IN (1, 7)", t),
        ("CustomDoubleField = 2.5", t),
        ("CustomDoubleField > 2", t),
        ("CustomDoubleField BETWEEN 2.5 AND 2.5", t),
        ("CustomBoolField = true", t),
        ("CustomBoolField != 'TRUE'", f),
        ("CustomDatetimeField = '2024-05-01T10:00:00.0000005Z'", t),
        ("CustomDatetimeField > '2024-05-01T10:00:00Z'", t),
        ("CustomDatetimeField > '2024-05-01T10:00:00.000000501Z'", f),
        (
            "CustomDatetimeField = '2024-05-01T12:00:00.0000005+02:00'",
            t,
        ),
        ("StartTime = '2024-05-01T09:00:00Z'", t),
        ("StateTransitionCount = 3", t),
        ("CustomTextField = 'fox'", t),
        ("CustomTextField = 'FOX jumps'", t),
        ("CustomTextField = 'qu'", f),
        ("CustomTextField = 'slow, lazy'", f),
        ("CustomTextField != 'lazy'", t),
        ("CustomTextField != 'QUICK'", f),
        ("CustomKeywordListField = 'red'", t),
        ("CustomKeywordListField = 'Red'", f),
        ("CustomKeywordListField != 'red'", f),
        ("CustomKeywordListField != 'blue'", t),
        ("CustomKeywordListField IN ('blue', 'green')", t),
        ("CustomKeywordListField NOT IN ('blue', 'green')", f),
        ("CustomKeywordListField NOT IN ('blue')", t),
        ("CustomKeywordListField IS NOT NULL", t),
    ];
    for (q, want) in cases {
        assert_eq!(eval(q, &r), *want, "{q}");
    }
}

#[test]
fn evaluator_three_valued_logic() {
    let r = record(); // running: no CloseTime, ExecutionDuration, HistoryLength; no parent
    let n = None;
    let t = Some(true);
    let f = Some(false);
    let cases: &[(&str, Option<bool>)] = &[
        ("CloseTime = '2024-05-01T09:00:00Z'", n),
        ("CloseTime != '2024-05-01T09:00:00Z'", n),
        ("CloseTime > '2024-05-01T09:00:00Z'", n),
        ("NOT CloseTime > '2024-05-01T09:00:00Z'", n),
        (
            "CloseTime BETWEEN '2024-05-01T09:00:00Z' AND '2024-05-02T09:00:00Z'",
            n,
        ),
        (
            "CloseTime NOT BETWEEN '2024-05-01T09:00:00Z' AND '2024-05-02T09:00:00Z'",
            n,
        ),
        ("CloseTime IN ('2024-05-01T09:00:00Z')", n),
        ("CloseTime NOT IN ('2024-05-01T09:00:00Z')", n),
        ("CloseTime IS NULL", t),
        ("CloseTime IS NOT NULL", f),
        ("NOT CloseTime IS NULL", f),
        ("ParentWorkflowId STARTS_WITH ''", n),
        ("ParentWorkflowId NOT STARTS_WITH 'x'", n),
        ("ParentWorkflowId IS NULL", t),
        ("ParentRunId = 'x'", n),
        ("ExecutionDuration > '1h'", n),
        ("HistoryLength != 0", n),
        // Kleene logic
        ("CloseTime IS NULL AND HistoryLength > 0", n),
        ("CloseTime IS NOT NULL AND HistoryLength > 0", f),
        ("CloseTime IS NULL OR HistoryLength > 0", t),
        ("CloseTime IS NOT NULL OR HistoryLength > 0", n),
        ("NOT (CloseTime IS NOT NULL OR HistoryLength > 0)", n),
        ("NOT (CloseTime IS NOT NULL AND HistoryLength > 0)", t),
        ("HistoryLength > 0 OR HistoryLength <= 0", n),
        ("HistoryLength > 0 AND WorkflowId = 'nope'", f),
        (
            "(HistoryLength > 0 OR WorkflowId = 'wf-1') AND CloseTime IS NULL",
            t,
        ),
    ];
    for (q, want) in cases {
        assert_eq!(eval(q, &r), *want, "{q}");
    }
    let c = closed_record();
    assert_eq!(eval("CloseTime > '2024-05-01T10:00:00Z'", &c), t);
    assert_eq!(eval("ExecutionDuration = '2h'", &c), t);
    assert_eq!(eval("ExecutionDuration >= '02:00:01'", &c), f);
    assert_eq!(eval("HistoryLength BETWEEN 20 AND 20", &c), t);
    assert_eq!(eval("HistorySizeBytes > 2047", &c), t);
    assert_eq!(eval("ExecutionStatus = 'Completed'", &c), t);
    // An empty string is a value.
    assert_eq!(eval("ParentWorkflowId = ''", &c), t);
    assert_eq!(eval("ParentWorkflowId IS NULL", &c), f);
    // Custom attributes absent on this record.
    assert_eq!(eval("CustomKeywordField = 'x'", &c), n);
    assert_eq!(eval("CustomKeywordField != 'x'", &c), n);
    assert_eq!(eval("CustomTextField != 'x'", &c), n);
    assert_eq!(eval("CustomKeywordListField NOT IN ('x')", &c), n);
    assert_eq!(eval("CustomKeywordField IS NULL", &c), t);
    // Empty list is absent; empty keyword is present.
    let l = list_record();
    assert_eq!(eval("CustomKeywordListField IS NULL", &l), t);
    assert_eq!(eval("CustomKeywordListField != 'x'", &l), n);
    assert_eq!(eval("CustomKeywordField = ''", &l), t);
    assert_eq!(eval("CustomKeywordField IS NOT NULL", &l), t);
    assert_eq!(eval("CustomKeywordField STARTS_WITH ''", &l), t);
}

#[test]
fn evaluator_type_mismatch_is_unknown() {
    let mut r = record();
    r.search_attributes
        .insert("CustomIntField".into(), V::String("7".into()));
    r.search_attributes
        .insert("CustomDoubleField".into(), V::Int(3));
    assert_eq!(eval("CustomIntField = 7", &r), None);
    assert_eq!(eval("CustomIntField IS NULL", &r), Some(false));
    // Int stored for a Double attribute still compares numerically.
    assert_eq!(eval("CustomDoubleField = 3", &r), Some(true));
    assert_eq!(eval("CustomDoubleField < 3.5", &r), Some(true));
}

#[test]
fn attribute_values() {
    let r = record();
    assert_eq!(
        attribute_value(&r, "ExecutionStatus"),
        Some(V::String("Running".into()))
    );
    assert_eq!(
        attribute_value(&r, "RunId"),
        Some(V::String("00000000-0000-0000-0000-000000000010".into()))
    );
    assert_eq!(attribute_value(&r, "StartTime"), Some(V::Datetime(at(9))));
    assert_eq!(attribute_value(&r, "CloseTime"), None);
    assert_eq!(attribute_value(&r, "StateTransitionCount"), Some(V::Int(3)));
    assert_eq!(attribute_value(&r, "Nope"), None);
    assert_eq!(
        attribute_value(&closed_record(), "ExecutionDuration"),
        Some(V::Int(7_200_000_000_000))
    );
    assert_eq!(
        attribute_value(&list_record(), "CustomKeywordListField"),
        None
    );
}

#[test]
fn list_order() {
    let base = record();
    let mk = |run: u128, start: u32, close: Option<u32>| VisibilityRecord {
        run_id: RunId(Uuid::from_u128(run)),
        start_time: at(start),
        close_time: close.map(at),
        ..base.clone()
    };
    let mut v = [
        mk(1, 1, Some(5)),
        mk(2, 2, None),
        mk(3, 3, Some(7)),
        mk(4, 2, None),
        mk(5, 4, None),
        mk(6, 1, Some(7)),
        mk(0, 1, Some(7)),
    ];
    v.sort_by(compare_for_list);
    let order: Vec<u128> = v.iter().map(|r| r.run_id.0.as_u128()).collect();
    // running first (start desc, run asc), then close desc, start desc, run asc
    assert_eq!(order, vec![5, 2, 4, 3, 0, 6, 1]);
}
