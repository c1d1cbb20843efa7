//! Random and mutated queries: never a panic, and an accepted query evaluates.

use super::*;

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
