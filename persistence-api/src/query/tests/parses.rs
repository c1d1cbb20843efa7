//! Queries that parse, per attribute type and operator.

use super::*;

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
fn group_by_low_cardinality_keyword_and_chasm_attributes() {
    let mut m = BTreeMap::new();
    m.insert(
        "CustomCategory".to_string(),
        SearchAttributeType::LowCardinalityKeyword,
    );
    let a = SearchAttributes::new(m);
    for (q, g) in [
        (
            "GROUP BY TemporalLowCardinalityKeyword01",
            "TemporalLowCardinalityKeyword01",
        ),
        (
            "TemporalInt01 > 3 GROUP BY CustomCategory",
            "CustomCategory",
        ),
    ] {
        assert_eq!(
            parse_query(q, &a, true).unwrap().group_by,
            vec![g.to_string()]
        );
    }
    for q in [
        "GROUP BY TemporalKeyword01",
        "GROUP BY TemporalNamespaceDivision",
        "GROUP BY TemporalLowCardinalityKeyword01, ExecutionStatus",
    ] {
        assert!(parse_query(q, &a, true).is_err(), "{q}");
    }
    // LowCardinalityKeyword has Keyword's operators and literals.
    for q in [
        "TemporalLowCardinalityKeyword01 = 'Running'",
        "TemporalLowCardinalityKeyword01 != 'a'",
        "TemporalLowCardinalityKeyword01 IN ('a', 'b')",
        "TemporalLowCardinalityKeyword01 STARTS_WITH 'R'",
        "TemporalLowCardinalityKeyword01 BETWEEN 'a' AND 'b'",
        "CustomCategory < 'x' AND TemporalBool01 = true AND TemporalDatetime02 > \
         '2024-05-01T00:00:00Z' AND TemporalDouble01 >= 1.5 AND TemporalKeywordList02 = 'x' \
         AND TemporalKeyword04 IS NULL",
    ] {
        parse_query(q, &a, false).unwrap_or_else(|e| panic!("{q}: {e}"));
    }
    for q in [
        "TemporalLowCardinalityKeyword01 = 1",
        "TemporalInt02 = 'x'",
        "TemporalKeywordList01 < 'x'",
    ] {
        assert!(parse_query(q, &a, false).is_err(), "{q}");
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
