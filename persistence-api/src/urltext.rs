//! The text grammar every backend's store URL shares: durations, percent-encoding and the
//! `?key=value&…` option list.
//!
//! One grammar for every backend, so an option means the same thing whichever URL it is in:
//!
//! - **Durations** ([`parse_duration`]): a bare number is seconds (`30`, `0.5`); otherwise one or
//!   more `<number><unit>` groups with units `ns`, `us`, `ms`, `s`, `m`, `h` (`500ms`, `1m`,
//!   `1h30m`), the subset of Go's `time.ParseDuration` that Temporal's YAML uses.
//! - **Percent-decoding** ([`percent_decode`]): `%XX` is a byte; every other character stands for
//!   itself, `+` included (a `+` in a password is a `+`, not a space). A `%` not followed by
//!   two hex digits, or bytes that are not UTF-8, are an error rather than a guess.
//! - **Percent-encoding** ([`percent_encode`]): everything but RFC 3986's unreserved characters
//!   is encoded, so the result is safe in userinfo, path and query alike.
//!
//! This module imports nothing from the rest of the crate.

use std::time::Duration;

/// Parses a duration: a bare number of seconds (`30`, `2.5`) or `<number><unit>` groups
/// (`500ms`, `1m`, `1h30m`; units `ns`, `us`, `ms`, `s`, `m`, `h`). `None` when the text is
/// not one, is negative, or does not fit.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(secs) = text.parse::<f64>() {
        return seconds(secs);
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(num_len);
        if num.is_empty() {
            return None;
        }
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let scale = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        let n: f64 = num.parse().ok()?;
        total = total.checked_add(seconds(n * scale)?)?;
        rest = tail;
    }
    Some(total)
}

fn seconds(secs: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(secs).ok()
}

/// Decodes `%XX` escapes; every other character stands for itself (`+` stays `+`). `None` for a
/// `%` without two hex digits after it, or for bytes that are not UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Encodes every byte but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Splits a URL query (`a=1&b=x%20y`, without the `?`) into decoded pairs, in order. A key
/// without `=` has an empty value. `None` when a key or value is not valid
/// [percent-encoding](percent_decode).
pub fn query_pairs(query: &str) -> Option<Vec<(String, String)>> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(k)?, percent_decode(v)?))
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let d = |s| parse_duration(s);
        assert_eq!(d("30"), Some(Duration::from_secs(30)));
        assert_eq!(d("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(d("30s"), Some(Duration::from_secs(30)));
        assert_eq!(d("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(d("1m"), Some(Duration::from_secs(60)));
        assert_eq!(d("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(d("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(d("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(d("0"), Some(Duration::ZERO));
        for bad in [
            "", "s", "-1", "-1s", "1x", "1 s", "m1", "1e400", "abc", "1..2s",
        ] {
            assert_eq!(d(bad), None, "{bad}");
        }
    }

    #[test]
    fn percent_round_trip() {
        for s in ["p@ss word", "a+b", "ü/?#&=%", ""] {
            assert_eq!(percent_decode(&percent_encode(s)).unwrap(), s);
        }
        assert_eq!(percent_decode("a+b").unwrap(), "a+b");
        assert_eq!(percent_decode("a%2Bb%20c").unwrap(), "a+b c");
        assert_eq!(percent_decode("%"), None);
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%ff"), None);
        assert_eq!(percent_encode("a b+c"), "a%20b%2Bc");
    }

    #[test]
    fn queries() {
        assert_eq!(
            query_pairs("a=1&&b=x%20y+z&flag").unwrap(),
            vec![
                ("a".to_string(), "1".to_string()),
                ("b".to_string(), "x y+z".to_string()),
                ("flag".to_string(), String::new()),
            ]
        );
        assert_eq!(query_pairs("a=%g0"), None);
        assert!(query_pairs("").unwrap().is_empty());
    }
}
