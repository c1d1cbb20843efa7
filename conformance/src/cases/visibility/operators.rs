//! Visibility cases: every operator on every search-attribute type.

use durastore_api::{DateTime, SearchAttributeValue, Utc, WorkflowStatus};

use super::helpers::{Fixture, at, closed, column_fixture, ensure_stored, kw, kwl, running};
use crate::{CaseError, Ctx};

/// Keyword: equality, inequality, code-point ranges, IN, NOT IN, STARTS_WITH, BETWEEN, nulls.
pub async fn keyword_every_operator(ctx: &Ctx) -> Result<(), CaseError> {
    let v = |s: &str| Some(kw(s));
    let fx = column_fixture(
        ctx,
        "CustomKeywordField",
        vec![
            ("a", v("apple")),
            ("b", v("Apple")),
            ("c", v("banana")),
            ("d", v("")),
            ("e", None),
            ("f", v("apple ")),
            ("g", v("app")),
            ("h", v("Zebra")),
            ("i", v("é")),
            ("j", v("100%_x")),
        ],
    )
    .await?;
    // Code-point order: "" < "100%_x" < "Apple" < "Zebra" < "app" < "apple" < "apple " < "banana" < "é".
    fx.check(&[
        ("CustomKeywordField = 'apple'", &["a"]),
        ("CustomKeywordField = ''", &["d"]),
        ("CustomKeywordField = 'APPLE'", &[]),
        (
            "CustomKeywordField != 'apple'",
            &["b", "c", "d", "f", "g", "h", "i", "j"],
        ),
        ("CustomKeywordField < 'apple'", &["d", "j", "b", "h", "g"]),
        (
            "CustomKeywordField <= 'apple'",
            &["a", "d", "j", "b", "h", "g"],
        ),
        ("CustomKeywordField > 'apple'", &["f", "c", "i"]),
        ("CustomKeywordField >= 'apple'", &["a", "f", "c", "i"]),
        (
            "CustomKeywordField > ''",
            &["a", "b", "c", "f", "g", "h", "i", "j"],
        ),
        (
            "CustomKeywordField IN ('apple', 'banana', 'nope')",
            &["a", "c"],
        ),
        (
            "CustomKeywordField NOT IN ('apple', 'banana')",
            &["b", "d", "f", "g", "h", "i", "j"],
        ),
        ("CustomKeywordField STARTS_WITH 'app'", &["a", "f", "g"]),
        (
            "CustomKeywordField NOT STARTS_WITH 'app'",
            &["b", "c", "d", "h", "i", "j"],
        ),
        (
            "CustomKeywordField BETWEEN 'Apple' AND 'apple'",
            &["a", "b", "g", "h"],
        ),
        (
            "CustomKeywordField NOT BETWEEN 'Apple' AND 'apple'",
            &["c", "d", "f", "i", "j"],
        ),
        ("CustomKeywordField BETWEEN 'b' AND 'z'", &["c"]),
        ("CustomKeywordField = 'é'", &["i"]),
        ("CustomKeywordField IS NULL", &["e"]),
        (
            "CustomKeywordField IS NOT NULL",
            &["a", "b", "c", "d", "f", "g", "h", "i", "j"],
        ),
    ])
    .await
}

/// Keyword equality is exact: no case folding, no trailing-space padding, no Unicode
/// normalization, and the empty string is a value distinct from spaces.
pub async fn keyword_equality_is_exact(ctx: &Ctx) -> Result<(), CaseError> {
    let v = |s: &str| Some(kw(s));
    let fx = column_fixture(
        ctx,
        "CustomKeywordField",
        vec![
            ("p1", v("pad")),
            ("p2", v("pad ")),
            ("p3", v(" pad")),
            ("p4", v("PAD")),
            ("p5", v("caf\u{e9}")),
            ("p6", v("cafe\u{301}")),
            ("p7", v("")),
            ("p8", v("  ")),
        ],
    )
    .await?;
    fx.check(&[
        ("CustomKeywordField = 'pad'", &["p1"]),
        ("CustomKeywordField = 'pad '", &["p2"]),
        ("CustomKeywordField = ' pad'", &["p3"]),
        ("CustomKeywordField = 'PAD'", &["p4"]),
        ("CustomKeywordField = 'caf\u{e9}'", &["p5"]),
        ("CustomKeywordField = 'cafe\u{301}'", &["p6"]),
        ("CustomKeywordField = ''", &["p7"]),
        ("CustomKeywordField = ' '", &[]),
        ("CustomKeywordField = '  '", &["p8"]),
        ("CustomKeywordField IN ('pad', '')", &["p1", "p7"]),
        ("CustomKeywordField STARTS_WITH 'pad'", &["p1", "p2"]),
        ("CustomKeywordField STARTS_WITH ' '", &["p3", "p8"]),
        (
            "CustomKeywordField != 'pad'",
            &["p2", "p3", "p4", "p5", "p6", "p7", "p8"],
        ),
    ])
    .await
}

/// STARTS_WITH is a literal prefix: `%`, `_`, `!`, `\`, `[` and `*` are ordinary characters.
pub async fn starts_with_is_literal_prefix(ctx: &Ctx) -> Result<(), CaseError> {
    let v = |s: &str| Some(kw(s));
    let fx = column_fixture(
        ctx,
        "CustomKeywordField",
        vec![
            ("s1", v("100%_done")),
            ("s2", v("100x_done")),
            ("s3", v("100%Xdone")),
            ("s4", v("a_b")),
            ("s5", v("aXb")),
            ("s6", v("a\\b")),
            ("s7", v("a!b")),
            ("s8", v("a%")),
            ("s9", v("[ab]c")),
            ("s10", v("a*")),
        ],
    )
    .await?;
    fx.check(&[
        ("CustomKeywordField STARTS_WITH '100%'", &["s1", "s3"]),
        ("CustomKeywordField STARTS_WITH '100%_'", &["s1"]),
        ("CustomKeywordField STARTS_WITH 'a_'", &["s4"]),
        ("CustomKeywordField STARTS_WITH 'a\\'", &["s6"]),
        ("CustomKeywordField STARTS_WITH 'a!'", &["s7"]),
        ("CustomKeywordField STARTS_WITH 'a%'", &["s8"]),
        ("CustomKeywordField STARTS_WITH '%'", &[]),
        ("CustomKeywordField STARTS_WITH '_'", &[]),
        ("CustomKeywordField STARTS_WITH '['", &["s9"]),
        ("CustomKeywordField STARTS_WITH '[a'", &["s9"]),
        ("CustomKeywordField STARTS_WITH 'a*'", &["s10"]),
        (
            "CustomKeywordField STARTS_WITH 'a'",
            &["s4", "s5", "s6", "s7", "s8", "s10"],
        ),
        (
            "CustomKeywordField NOT STARTS_WITH 'a_'",
            &["s1", "s2", "s3", "s5", "s6", "s7", "s8", "s9", "s10"],
        ),
    ])
    .await
}

/// Quotes are doubled inside literals; backslash, double quotes and comment or statement
/// characters inside a literal are ordinary characters.
pub async fn literal_quotes_and_backslashes(ctx: &Ctx) -> Result<(), CaseError> {
    let v = |s: &str| Some(kw(s));
    let fx = column_fixture(
        ctx,
        "CustomKeywordField",
        vec![
            ("q1", v("O'Brien")),
            ("q2", v("O''Brien")),
            ("q3", v("C:\\tmp\\x")),
            ("q4", v("back\\")),
            ("q5", v("say \"hi\"")),
            ("q6", v("semi;colon")),
            ("q7", v("--dash")),
            ("q8", v("/*c*/")),
            ("q9", v("#hash")),
        ],
    )
    .await?;
    fx.check(&[
        ("CustomKeywordField = 'O''Brien'", &["q1"]),
        ("CustomKeywordField = 'O''''Brien'", &["q2"]),
        ("CustomKeywordField = 'C:\\tmp\\x'", &["q3"]),
        ("CustomKeywordField = 'back\\'", &["q4"]),
        ("CustomKeywordField = 'say \"hi\"'", &["q5"]),
        ("CustomKeywordField = 'semi;colon'", &["q6"]),
        ("CustomKeywordField = '--dash'", &["q7"]),
        ("CustomKeywordField = '/*c*/'", &["q8"]),
        ("CustomKeywordField = '#hash'", &["q9"]),
        (
            "CustomKeywordField IN ('O''Brien', 'back\\')",
            &["q1", "q4"],
        ),
        ("CustomKeywordField STARTS_WITH 'O'''", &["q1", "q2"]),
    ])
    .await?;
    // A backslash does not escape the quote: the literal ends after `O\`, the rest is garbage.
    fx.check_invalid(&["CustomKeywordField = 'O\\'Brien'"])
        .await
}

/// Unicode keywords: exact, case-sensitive, ordered by code point (above ASCII `z`).
pub async fn keyword_unicode(ctx: &Ctx) -> Result<(), CaseError> {
    let v = |s: &str| Some(kw(s));
    let fx = column_fixture(
        ctx,
        "CustomKeywordField",
        vec![
            ("u1", v("日本語")),
            ("u2", v("emoji 🎉")),
            ("u3", v("Ünïcödé")),
            ("u4", v("ünïcödé")),
            ("u5", v("ß")),
            ("u6", v("ss")),
        ],
    )
    .await?;
    fx.check(&[
        ("CustomKeywordField = '日本語'", &["u1"]),
        ("CustomKeywordField = 'emoji 🎉'", &["u2"]),
        ("CustomKeywordField = 'Ünïcödé'", &["u3"]),
        ("CustomKeywordField STARTS_WITH '日本'", &["u1"]),
        ("CustomKeywordField > 'z'", &["u1", "u3", "u4", "u5"]),
        ("CustomKeywordField < 'ß'", &["u2", "u3", "u6"]),
        ("CustomKeywordField = 'ss'", &["u6"]),
        ("CustomKeywordField = 'ß'", &["u5"]),
        ("CustomKeywordField STARTS_WITH 'emoji 🎉'", &["u2"]),
    ])
    .await
}

/// KeywordList: `=` contains, `!=` does not contain, `IN` any, `NOT IN` none; elements are
/// exact (no tokenizing on spaces or commas).
pub async fn keyword_list_every_operator(ctx: &Ctx) -> Result<(), CaseError> {
    let v = |items: &[&str]| Some(kwl(items));
    let fx = column_fixture(
        ctx,
        "CustomKeywordListField",
        vec![
            ("a", v(&["red", "green"])),
            ("b", v(&["blue"])),
            ("c", v(&["red"])),
            ("d", v(&[])),
            ("e", None),
            ("f", v(&["Red", "dark green"])),
            ("g", v(&["x,y", "it's"])),
        ],
    )
    .await?;
    fx.check(&[
        ("CustomKeywordListField = 'red'", &["a", "c"]),
        ("CustomKeywordListField = 'green'", &["a"]),
        ("CustomKeywordListField = 'Red'", &["f"]),
        ("CustomKeywordListField != 'red'", &["b", "f", "g"]),
        (
            "CustomKeywordListField IN ('red', 'blue')",
            &["a", "b", "c"],
        ),
        ("CustomKeywordListField NOT IN ('red', 'blue')", &["f", "g"]),
        ("CustomKeywordListField = 'x,y'", &["g"]),
        ("CustomKeywordListField = 'x'", &[]),
        ("CustomKeywordListField = 'it''s'", &["g"]),
        ("CustomKeywordListField = 'dark green'", &["f"]),
        ("CustomKeywordListField = 'dark'", &[]),
        ("CustomKeywordListField IS NULL", &["d", "e"]),
        (
            "CustomKeywordListField IS NOT NULL",
            &["a", "b", "c", "f", "g"],
        ),
        ("NOT (CustomKeywordListField = 'red')", &["b", "f", "g"]),
        (
            "CustomKeywordListField = 'red' AND CustomKeywordListField = 'green'",
            &["a"],
        ),
        (
            "CustomKeywordListField = 'red' AND CustomKeywordListField != 'green'",
            &["c"],
        ),
    ])
    .await
}

/// Text: tokens split on non-alphanumerics and lower-cased; `=` is any query token equal to a
/// field token (no stemming, no stop words, no prefixes); `!=` is its negation.
pub async fn text_every_operator(ctx: &Ctx) -> Result<(), CaseError> {
    let v = |s: &str| Some(kw(s));
    let fx = column_fixture(
        ctx,
        "CustomTextField",
        vec![
            ("a", v("The quick brown fox")),
            ("b", v("quick-silver Fox!")),
            ("c", v("QUICKSILVER")),
            ("e", None),
            ("f", v("foxes jumped")),
            ("g", v("user@example.com ran 42 times")),
            ("h", v("snake_case words")),
            ("i", v("don't stop")),
        ],
    )
    .await?;
    fx.check(&[
        ("CustomTextField = 'fox'", &["a", "b"]),
        ("CustomTextField = 'QUICK'", &["a", "b"]),
        ("CustomTextField = 'quicksilver'", &["c"]),
        ("CustomTextField = 'silver'", &["b"]),
        ("CustomTextField = 'fox brown'", &["a", "b"]),
        ("CustomTextField = 'Brown'", &["a"]),
        ("CustomTextField = 'the'", &["a"]),
        ("CustomTextField != 'fox'", &["c", "f", "g", "h", "i"]),
        ("CustomTextField = 'example'", &["g"]),
        ("CustomTextField = 'user@example.com'", &["g"]),
        ("CustomTextField = '42'", &["g"]),
        ("CustomTextField = 'jump'", &[]),
        ("CustomTextField = 'foxes'", &["f"]),
        ("CustomTextField = 'case'", &["h"]),
        ("CustomTextField = 'snake_case'", &["h"]),
        ("CustomTextField = 'stop'", &["i"]),
        ("CustomTextField = 'don'", &["i"]),
        ("CustomTextField IS NULL", &["e"]),
        ("NOT (CustomTextField = 'fox')", &["c", "f", "g", "h", "i"]),
    ])
    .await
}

/// Int: every comparison, IN, BETWEEN, the i64 extremes and values above 2^53 (no float
/// rounding anywhere).
pub async fn int_every_operator(ctx: &Ctx) -> Result<(), CaseError> {
    let v = |i: i64| Some(SearchAttributeValue::Int(i));
    let fx = column_fixture(
        ctx,
        "CustomIntField",
        vec![
            ("a", v(0)),
            ("b", v(-5)),
            ("c", v(10)),
            ("d", v(9_007_199_254_740_993)),
            ("e", None),
            ("f", v(i64::MAX)),
            ("g", v(i64::MIN)),
            ("h", v(10)),
        ],
    )
    .await?;
    fx.check(&[
        ("CustomIntField = 10", &["c", "h"]),
        ("CustomIntField = 9007199254740993", &["d"]),
        ("CustomIntField = 9007199254740992", &[]),
        ("CustomIntField != 10", &["a", "b", "d", "f", "g"]),
        ("CustomIntField < 0", &["b", "g"]),
        ("CustomIntField <= 0", &["a", "b", "g"]),
        ("CustomIntField > 10", &["d", "f"]),
        ("CustomIntField >= 10", &["c", "d", "f", "h"]),
        ("CustomIntField > -1", &["a", "c", "d", "f", "h"]),
        ("CustomIntField IN (0, 10, 42)", &["a", "c", "h"]),
        ("CustomIntField NOT IN (0, 10)", &["b", "d", "f", "g"]),
        ("CustomIntField BETWEEN -5 AND 10", &["a", "b", "c", "h"]),
        ("CustomIntField NOT BETWEEN -5 AND 10", &["d", "f", "g"]),
        ("CustomIntField = 9223372036854775807", &["f"]),
        ("CustomIntField = -9223372036854775808", &["g"]),
        ("CustomIntField > 9007199254740992", &["d", "f"]),
        ("CustomIntField IS NULL", &["e"]),
        (
            "CustomIntField IS NOT NULL",
            &["a", "b", "c", "d", "f", "g", "h"],
        ),
    ])
    .await
}

/// Double: every comparison, IN, BETWEEN, negative and fractional values.
pub async fn double_every_operator(ctx: &Ctx) -> Result<(), CaseError> {
    let v = |x: f64| Some(SearchAttributeValue::Double(x));
    let fx = column_fixture(
        ctx,
        "CustomDoubleField",
        vec![
            ("a", v(0.5)),
            ("b", v(-2.25)),
            ("c", v(10.0)),
            ("d", v(0.1)),
            ("e", None),
            ("f", v(1_000_000.0)),
            ("h", v(3.75)),
        ],
    )
    .await?;
    fx.check(&[
        ("CustomDoubleField = 0.5", &["a"]),
        ("CustomDoubleField = 0.1", &["d"]),
        ("CustomDoubleField = 10.0", &["c"]),
        ("CustomDoubleField = -2.25", &["b"]),
        ("CustomDoubleField < 0", &["b"]),
        ("CustomDoubleField > 1.0", &["c", "f", "h"]),
        ("CustomDoubleField >= 0.5", &["a", "c", "f", "h"]),
        ("CustomDoubleField <= 0.1", &["b", "d"]),
        ("CustomDoubleField != 0.5", &["b", "c", "d", "f", "h"]),
        ("CustomDoubleField IN (0.5, 3.75)", &["a", "h"]),
        (
            "CustomDoubleField NOT IN (0.5, 3.75)",
            &["b", "c", "d", "f"],
        ),
        ("CustomDoubleField BETWEEN 0.1 AND 3.75", &["a", "d", "h"]),
        (
            "CustomDoubleField NOT BETWEEN 0.1 AND 3.75",
            &["b", "c", "f"],
        ),
        ("CustomDoubleField > -2.5", &["a", "b", "c", "d", "f", "h"]),
        ("CustomDoubleField > 999999.99", &["f"]),
        ("CustomDoubleField IS NULL", &["e"]),
    ])
    .await
}

/// Bool: `=`, `!=`, nulls.
pub async fn bool_every_operator(ctx: &Ctx) -> Result<(), CaseError> {
    let v = |b: bool| Some(SearchAttributeValue::Bool(b));
    let fx = column_fixture(
        ctx,
        "CustomBoolField",
        vec![("a", v(true)), ("b", v(false)), ("c", None), ("d", v(true))],
    )
    .await?;
    fx.check(&[
        ("CustomBoolField = true", &["a", "d"]),
        ("CustomBoolField = false", &["b"]),
        ("CustomBoolField != true", &["b"]),
        ("CustomBoolField != false", &["a", "d"]),
        ("CustomBoolField IS NULL", &["c"]),
        ("CustomBoolField IS NOT NULL", &["a", "b", "d"]),
        ("NOT (CustomBoolField = true)", &["b"]),
        (
            "CustomBoolField = true OR CustomBoolField = false",
            &["a", "b", "d"],
        ),
    ])
    .await
}

/// Datetime: every comparison, IN, BETWEEN (inclusive), offsets, microsecond differences.
pub async fn datetime_every_operator(ctx: &Ctx) -> Result<(), CaseError> {
    let v = |t: DateTime<Utc>| Some(SearchAttributeValue::Datetime(t));
    let epoch = DateTime::<Utc>::UNIX_EPOCH;
    let far = DateTime::<Utc>::from_timestamp(4_102_444_799, 999_999_000).unwrap_or(epoch);
    let fx = column_fixture(
        ctx,
        "CustomDatetimeField",
        vec![
            ("a", v(at(0, 0))),
            ("b", v(at(0, 1))),
            ("c", v(at(1, 0))),
            ("d", v(at(0, -1))),
            ("e", None),
            ("f", v(at(0, 500_000))),
            ("g", v(epoch)),
            ("h", v(far)),
        ],
    )
    .await?;
    let t = "2024-05-01T10:00:00Z";
    let q = |op: &str, rhs: &str| format!("CustomDatetimeField {op} {rhs}");
    fx.check(&[
        (&q("=", &format!("'{t}'")), &["a"]),
        (&q("=", "'2024-05-01T10:00:00.000000Z'"), &["a"]),
        (&q("=", "'2024-05-01T12:00:00+02:00'"), &["a"]),
        (&q("=", "'2024-05-01T05:30:00-04:30'"), &["a"]),
        (&q("=", "'2024-05-01T10:00:00.000001Z'"), &["b"]),
        (&q("=", "'2024-05-01T09:59:59.999999Z'"), &["d"]),
        (&q(">", &format!("'{t}'")), &["b", "c", "f", "h"]),
        (&q(">=", &format!("'{t}'")), &["a", "b", "c", "f", "h"]),
        (&q("<", &format!("'{t}'")), &["d", "g"]),
        (&q("<=", &format!("'{t}'")), &["a", "d", "g"]),
        (&q("!=", &format!("'{t}'")), &["b", "c", "d", "f", "g", "h"]),
        (
            &q(
                "BETWEEN",
                &format!("'{t}' AND '2024-05-01T10:00:00.000001Z'"),
            ),
            &["a", "b"],
        ),
        (
            &q(
                "NOT BETWEEN",
                &format!("'{t}' AND '2024-05-01T10:00:00.000001Z'"),
            ),
            &["c", "d", "f", "g", "h"],
        ),
        (
            &q("IN", &format!("('{t}', '2024-05-01T10:00:01Z')")),
            &["a", "c"],
        ),
        (
            &q("NOT IN", &format!("('{t}', '2024-05-01T10:00:01Z')")),
            &["b", "d", "f", "g", "h"],
        ),
        (&q(">", "'2024-05-01T10:00:00.4Z'"), &["c", "f", "h"]),
        (&q("<", "'2024-05-01T09:59:59.999999Z'"), &["g"]),
        (&q("=", "'1970-01-01T00:00:00Z'"), &["g"]),
        (&q(">", "'2099-12-31T23:59:59.999998Z'"), &["h"]),
        ("CustomDatetimeField IS NULL", &["e"]),
    ])
    .await
}

/// Start and close times that differ by one microsecond order and filter as different times.
pub async fn times_microsecond_precision(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    for (l, micros) in [("s1", 0), ("s2", 1), ("s3", 2), ("s4", -1)] {
        let r = running(fx.ns, &format!("wf-{l}"), at(0, micros));
        fx.put(l, r).await?;
    }
    for (l, micros) in [("c1", 0), ("c2", 1)] {
        let r = running(fx.ns, &format!("wf-{l}"), at(-100, 0));
        fx.put(l, closed(&r, at(10, micros), WorkflowStatus::Completed))
            .await?;
    }
    ensure_stored(fx.s.as_ref(), "s2", fx.get("s2")?).await?;
    ensure_stored(fx.s.as_ref(), "c2", fx.get("c2")?).await?;
    fx.check(&[
        ("", &["s3", "s2", "s1", "s4", "c2", "c1"]),
        ("StartTime > '2024-05-01T10:00:00Z'", &["s3", "s2"]),
        ("StartTime = '2024-05-01T10:00:00.000001Z'", &["s2"]),
        (
            "StartTime BETWEEN '2024-05-01T10:00:00Z' AND '2024-05-01T10:00:00.000001Z'",
            &["s2", "s1"],
        ),
        (
            "StartTime < '2024-05-01T10:00:00Z' AND CloseTime IS NULL",
            &["s4"],
        ),
        ("CloseTime = '2024-05-01T10:00:10.000001Z'", &["c2"]),
        ("CloseTime < '2024-05-01T10:00:10.000001Z'", &["c1"]),
    ])
    .await
}

/// ExecutionStatus: `=`, `!=`, `IN`, `NOT IN`, `IS [NOT] NULL` by status name.
pub async fn execution_status_every_operator(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let all = [
        ("r", WorkflowStatus::Running),
        ("c", WorkflowStatus::Completed),
        ("f", WorkflowStatus::Failed),
        ("x", WorkflowStatus::Canceled),
        ("t", WorkflowStatus::Terminated),
        ("n", WorkflowStatus::ContinuedAsNew),
        ("o", WorkflowStatus::TimedOut),
    ];
    for (i, (l, st)) in all.iter().enumerate() {
        let r = fx.running(l, i as i64);
        let r = if *st == WorkflowStatus::Running {
            r
        } else {
            closed(&r, at(50 + i as i64, 0), *st)
        };
        fx.put(l, r).await?;
    }
    fx.check(&[
        ("ExecutionStatus = 'Running'", &["r"]),
        (
            "ExecutionStatus != 'Running'",
            &["c", "f", "x", "t", "n", "o"],
        ),
        ("ExecutionStatus IN ('Failed', 'TimedOut')", &["f", "o"]),
        (
            "ExecutionStatus NOT IN ('Running', 'Completed')",
            &["f", "x", "t", "n", "o"],
        ),
        ("ExecutionStatus = 'ContinuedAsNew'", &["n"]),
        ("ExecutionStatus = 'Canceled'", &["x"]),
        ("ExecutionStatus IS NULL", &[]),
        (
            "ExecutionStatus IS NOT NULL",
            &["r", "c", "f", "x", "t", "n", "o"],
        ),
        (
            "NOT (ExecutionStatus = 'Completed')",
            &["r", "f", "x", "t", "n", "o"],
        ),
    ])
    .await?;
    fx.check_invalid(&[
        "ExecutionStatus > 'Running'",
        "ExecutionStatus <= 'Running'",
        "ExecutionStatus STARTS_WITH 'Run'",
        "ExecutionStatus BETWEEN 'Completed' AND 'Running'",
        "ExecutionStatus = 'Bogus'",
        "ExecutionStatus = ''",
        "ExecutionStatus IN ('Running', 'Bogus')",
    ])
    .await
}

/// ExecutionDuration (Int nanoseconds): every comparison, IN, BETWEEN, with integer nanoseconds,
/// quoted integers, `H:MM:SS` and Go-style duration strings; running records have none.
pub async fn execution_duration_every_operator(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let durations: [(&'static str, i64); 5] = [
        ("d0", 0),
        ("d1", 1_500_000_000),
        ("d2", 5_400_000_000_000),
        ("d3", 86_400_000_000_000),
        ("d4", 100_000_000),
    ];
    for (i, (l, nanos)) in durations.iter().enumerate() {
        let r = fx.running(l, i as i64);
        let mut c = closed(&r, at(200_000 + i as i64, 0), WorkflowStatus::Completed);
        c.execution_duration_nanos = Some(*nanos);
        fx.put(l, c).await?;
    }
    let r = fx.running("run", 10);
    fx.put("run", r).await?;
    fx.check(&[
        ("ExecutionDuration = 0", &["d0"]),
        ("ExecutionDuration = '1.5s'", &["d1"]),
        ("ExecutionDuration = 1500000000", &["d1"]),
        ("ExecutionDuration = '1500000000'", &["d1"]),
        ("ExecutionDuration > '1h'", &["d2", "d3"]),
        ("ExecutionDuration >= '1h30m'", &["d2", "d3"]),
        ("ExecutionDuration < '1s'", &["d0", "d4"]),
        ("ExecutionDuration <= '100ms'", &["d0", "d4"]),
        ("ExecutionDuration > '100000us'", &["d1", "d2", "d3"]),
        ("ExecutionDuration != 0", &["d1", "d2", "d3", "d4"]),
        ("ExecutionDuration IN ('100ms', '1d')", &["d3", "d4"]),
        (
            "ExecutionDuration NOT IN ('100ms', '1d')",
            &["d0", "d1", "d2"],
        ),
        ("ExecutionDuration BETWEEN '1s' AND '2h'", &["d1", "d2"]),
        (
            "ExecutionDuration NOT BETWEEN '1s' AND '2h'",
            &["d0", "d3", "d4"],
        ),
        ("ExecutionDuration = '1:30:00'", &["d2"]),
        ("ExecutionDuration = '24h'", &["d3"]),
        ("ExecutionDuration IS NULL", &["run"]),
        ("NOT (ExecutionDuration > 0)", &["d0"]),
    ])
    .await?;
    fx.check_invalid(&[
        "ExecutionDuration = 'forever'",
        "ExecutionDuration = 1.5",
        "ExecutionDuration STARTS_WITH '1'",
        "ExecutionDuration = true",
    ])
    .await
}

/// System keyword attributes: WorkflowId, WorkflowType, TaskQueue, RunId, and the parent and
/// root ids (absent on runs without a parent).
pub async fn system_keyword_attributes(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    let specs = [
        ("k1", "order-1", "OrderWorkflow", "tq-orders"),
        ("k2", "order-2", "OrderWorkflow", "tq-orders"),
        ("k3", "pay-1", "PaymentWorkflow", "tq-pay"),
        ("k4", "order-1", "OrderWorkflow", "tq-orders"),
        ("k5", "wf-ü", "Ünicode", "tq-pay"),
    ];
    for (i, (l, wid, ty, tq)) in specs.iter().enumerate() {
        let mut r = fx.running(l, i as i64);
        r.workflow_id = wid.to_string();
        r.workflow_type = ty.to_string();
        r.task_queue = tq.to_string();
        if *l == "k2" {
            let parent = fx.get("k1")?.run_id;
            r.parent_workflow_id = Some("order-1".to_string());
            r.parent_run_id = Some(parent);
            r.root_workflow_id = Some("order-1".to_string());
            r.root_run_id = Some(parent);
        }
        fx.put(l, r).await?;
    }
    ensure_stored(fx.s.as_ref(), "child record", fx.get("k2")?).await?;
    let k1 = fx.get("k1")?.run_id;
    let k3 = fx.get("k3")?.run_id;
    let k5 = fx.get("k5")?.run_id;
    fx.check(&[
        ("WorkflowId = 'order-1'", &["k1", "k4"]),
        ("WorkflowId STARTS_WITH 'order-'", &["k1", "k2", "k4"]),
        ("WorkflowId = 'wf-ü'", &["k5"]),
        ("WorkflowType = 'OrderWorkflow'", &["k1", "k2", "k4"]),
        ("WorkflowType != 'OrderWorkflow'", &["k3", "k5"]),
        ("TaskQueue IN ('tq-pay')", &["k3", "k5"]),
        ("TaskQueue > 'tq-o'", &["k1", "k2", "k3", "k4", "k5"]),
        ("ParentWorkflowId = 'order-1'", &["k2"]),
        ("ParentWorkflowId IS NULL", &["k1", "k3", "k4", "k5"]),
        ("ParentWorkflowId != 'x'", &["k2"]),
        (&format!("ParentRunId = '{k1}'"), &["k2"]),
        ("RootWorkflowId = 'order-1'", &["k2"]),
        ("RootRunId IS NOT NULL", &["k2"]),
        (&format!("RunId = '{k3}'"), &["k3"]),
        (&format!("RunId IN ('{k3}', '{k5}')"), &["k3", "k5"]),
        (&format!("RunId != '{k3}'"), &["k1", "k2", "k4", "k5"]),
    ])
    .await
}

/// System integer attributes of closed runs (HistoryLength, HistorySizeBytes,
/// StateTransitionCount); running records without them never match a comparison.
pub async fn system_int_attributes(ctx: &Ctx) -> Result<(), CaseError> {
    let mut fx = Fixture::new(ctx).await?;
    for (i, (l, len, size, st)) in [
        ("m1", 5, 100, 1),
        ("m2", 50, 2000, 2),
        ("m3", 500, 30_000, 3),
    ]
    .into_iter()
    .enumerate()
    {
        let r = fx.running(l, i as i64);
        let mut c = closed(&r, at(60 + i as i64, 0), WorkflowStatus::Completed);
        c.history_length = Some(len);
        c.history_size_bytes = Some(size);
        c.state_transition_count = Some(st);
        fx.put(l, c).await?;
    }
    let r = fx.running("run", 10);
    fx.put("run", r).await?;
    fx.check(&[
        ("HistoryLength = 50", &["m2"]),
        ("HistoryLength > 10", &["m3", "m2"]),
        ("HistoryLength != 5", &["m3", "m2"]),
        ("HistoryLength IS NULL", &["run"]),
        ("HistorySizeBytes BETWEEN 100 AND 2000", &["m2", "m1"]),
        ("HistorySizeBytes IN (100, 30000)", &["m3", "m1"]),
        ("StateTransitionCount >= 2", &["m3", "m2"]),
        ("NOT (HistoryLength < 50)", &["m3", "m2"]),
    ])
    .await
}

/// Operators a type does not have are `InvalidArgument`.
pub async fn operators_not_on_type_rejected(ctx: &Ctx) -> Result<(), CaseError> {
    let fx = Fixture::new(ctx).await?;
    fx.check_invalid(&[
        "CustomTextField > 'a'",
        "CustomTextField <= 'a'",
        "CustomTextField STARTS_WITH 'a'",
        "CustomTextField BETWEEN 'a' AND 'b'",
        "CustomKeywordListField > 'a'",
        "CustomKeywordListField STARTS_WITH 'a'",
        "CustomKeywordListField BETWEEN 'a' AND 'b'",
        "CustomIntField STARTS_WITH '1'",
        "CustomDoubleField STARTS_WITH '1'",
        "CustomDatetimeField STARTS_WITH '2024'",
        "CustomBoolField STARTS_WITH 't'",
        "CustomBoolField BETWEEN false AND true",
        "StartTime STARTS_WITH '2024'",
        "HistoryLength STARTS_WITH '1'",
    ])
    .await
}

/// Literals of the wrong type are `InvalidArgument`.
pub async fn wrong_literal_types_rejected(ctx: &Ctx) -> Result<(), CaseError> {
    let fx = Fixture::new(ctx).await?;
    fx.check_invalid(&[
        "CustomIntField = 'abc'",
        "CustomIntField = true",
        "CustomIntField = 9223372036854775808",
        "CustomIntField IN (1, 'two')",
        "CustomDoubleField = 'x'",
        "CustomDoubleField = false",
        "CustomBoolField = 'maybe'",
        "CustomDatetimeField = 'yesterday'",
        "CustomDatetimeField = '2024-13-01T00:00:00Z'",
        "CustomDatetimeField = '2024-05-01T25:00:00Z'",
        "CustomDatetimeField = true",
        "StartTime = 'not a time'",
        "CloseTime BETWEEN '2024-01-01T00:00:00Z' AND 'later'",
        "HistoryLength = 'long'",
        "CustomKeywordField = true",
        "CustomKeywordListField = false",
    ])
    .await
}
