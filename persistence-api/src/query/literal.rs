//! Literal conversions: integers, doubles, datetimes, durations, statuses.

use chrono::{DateTime, Timelike, Utc};

use crate::types::WorkflowStatus;

/// Parses an optionally negated integer written as decimal digits.
pub(crate) fn parse_int(negative: bool, digits: &str) -> Result<i64, String> {
    if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.is_empty() {
        return Err(format!("{digits:?} is not an integer"));
    }
    let magnitude: u64 = digits
        .parse()
        .map_err(|_| format!("integer {digits} is out of range"))?;
    let value = if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    };
    value.ok_or_else(|| {
        format!(
            "integer {}{digits} is out of range",
            if negative { "-" } else { "" }
        )
    })
}

/// Parses a finite double.
pub(crate) fn parse_double(negative: bool, text: &str) -> Result<f64, String> {
    let v: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if !v.is_finite() {
        return Err(format!("number {text} is out of range"));
    }
    Ok(if negative { -v } else { v })
}

/// Parses an RFC3339 timestamp with `Z` or an offset, keeping nanoseconds.
pub(crate) fn parse_datetime(s: &str) -> Result<DateTime<Utc>, String> {
    let dt = DateTime::parse_from_rfc3339(s).map_err(|e| {
        format!(
            "{} is not an RFC3339 timestamp with Z or an offset ({e})",
            super::show(s)
        )
    })?;
    if dt.nanosecond() >= 1_000_000_000 {
        return Err(format!(
            "{}: leap seconds are not supported",
            super::show(s)
        ));
    }
    Ok(dt.with_timezone(&Utc))
}

/// Parses a status: its name (`Running`, case-sensitive) or Temporal's canonical enum name
/// (`WORKFLOW_EXECUTION_STATUS_RUNNING`).
pub(crate) fn parse_status(s: &str) -> Option<WorkflowStatus> {
    if let Some(st) = WorkflowStatus::from_name(s) {
        return Some(st);
    }
    let rest = s.strip_prefix("WORKFLOW_EXECUTION_STATUS_")?;
    WorkflowStatus::ALL
        .iter()
        .copied()
        .find(|st| screaming(st.name()) == rest)
}

/// `ContinuedAsNew` -> `CONTINUED_AS_NEW`.
fn screaming(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Status from its stored integer code.
pub(crate) fn status_from_code(code: i64) -> Option<WorkflowStatus> {
    WorkflowStatus::ALL
        .iter()
        .copied()
        .find(|s| i64::from(s.as_i32()) == code)
}

const NANOS_PER_SECOND: u128 = 1_000_000_000;

/// Parses a duration string into nanoseconds: an integer (nanoseconds), `H:MM:SS` (hours any
/// number of digits, minutes and seconds two digits below 60), or a Go-style duration: an
/// optional sign and one or more decimal numbers (fraction allowed) each followed by a unit
/// `ns`, `us` (`µs`, `μs`), `ms`, `s`, `m`, `h` or `d` (24h, Temporal's extension); `0` alone is
/// zero.
pub(crate) fn parse_duration(s: &str) -> Result<i64, String> {
    let bad = || {
        format!(
            "{} is not a duration (use nanoseconds, 'H:MM:SS', or units like '1h30m', '100ms')",
            super::show(s)
        )
    };
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    if let Some(n) = parse_hhmmss(s) {
        return i64::try_from(n)
            .map_err(|_| format!("duration {} is out of range", super::show(s)));
    }
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if body == "0" {
        return Ok(0);
    }
    if body.is_empty() {
        return Err(bad());
    }
    let total = go_duration(body).ok_or_else(bad)?;
    // total <= 2^64, which fits an i128.
    let total = i128::try_from(total).map_err(|_| bad())?;
    let signed = if negative { -total } else { total };
    i64::try_from(signed).map_err(|_| format!("duration {} is out of range", super::show(s)))
}

fn parse_hhmmss(s: &str) -> Option<u128> {
    let mut parts = s.split(':');
    let (h, m, sec) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let two = |p: &str| -> Option<u128> {
        if p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()) {
            let v: u128 = p.parse().ok()?;
            (v < 60).then_some(v)
        } else {
            None
        }
    };
    if h.is_empty() || h.len() > 12 || !h.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: u128 = h.parse().ok()?;
    Some(((h * 60 + two(m)?) * 60 + two(sec)?) * NANOS_PER_SECOND)
}

/// Sum of `<number><unit>` groups; None when malformed or absurdly large.
fn go_duration(mut s: &str) -> Option<u128> {
    const UNITS: &[(&str, u128)] = &[
        ("ns", 1),
        ("us", 1_000),
        ("µs", 1_000),
        ("μs", 1_000),
        ("ms", 1_000_000),
        ("s", NANOS_PER_SECOND),
        ("m", 60 * NANOS_PER_SECOND),
        ("h", 3600 * NANOS_PER_SECOND),
        ("d", 86_400 * NANOS_PER_SECOND),
    ];
    // Anything above this cannot be an i64 and is rejected by the caller.
    const CAP: u128 = 1 << 64;
    let mut total: u128 = 0;
    while !s.is_empty() {
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let (int_part, rest) = s.split_at(int_len);
        let (frac_part, rest) = match rest.strip_prefix('.') {
            Some(r) => {
                let n = r.bytes().take_while(u8::is_ascii_digit).count();
                r.split_at(n)
            }
            None => ("", rest),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        // Longest unit first: "ms" before "m".
        let (unit, scale) = UNITS
            .iter()
            .filter(|(u, _)| rest.starts_with(u))
            .max_by_key(|(u, _)| u.len())?;
        s = &rest[unit.len()..];
        let int_value: u128 = if int_part.is_empty() {
            0
        } else if int_part.len() > 25 {
            return None;
        } else {
            int_part.parse().ok()?
        };
        let mut value = int_value.checked_mul(*scale)?;
        if !frac_part.is_empty() {
            // Digits past the 18th cannot matter at nanosecond scale for any unit up to a day.
            let kept = &frac_part[..frac_part.len().min(18)];
            let frac: u128 = kept.parse().ok()?;
            let denom = 10u128.pow(u32::try_from(kept.len()).ok()?);
            value = value.checked_add(frac.checked_mul(*scale)? / denom)?;
        }
        total = total.checked_add(value)?;
        if total > CAP {
            return None;
        }
    }
    Some(total)
}
