//! The in-memory evaluator: present values, three-valued logic, type mismatches.

use super::*;

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
