//! Rejected queries: error positions and reasons, hostile input, size and nesting limits.

use super::*;

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
        ("TemporalBool03 = true", 1, "reserved"),
        ("TemporalText01 = 'x'", 1, "reserved"),
        ("TemporalBool01 = 'x'", 18, "Bool"),
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
