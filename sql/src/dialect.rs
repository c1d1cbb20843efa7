//! SQL dialects: each backend overrides only what differs from the shared default.

use crate::value::Value;

/// The places where SQLite, PostgreSQL and MySQL disagree.
///
/// Statements are written with `?` placeholders and the common SQL subset; the methods below
/// produce the fragments that differ.
pub trait Dialect: Send + Sync {
    /// Backend name (`sqlite`, `postgres`, `mysql`).
    fn name(&self) -> &'static str;

    /// Suffix that takes a shared row lock in a SELECT (`FOR SHARE`, `LOCK IN SHARE MODE`;
    /// empty on SQLite, whose `BEGIN IMMEDIATE` already serializes writers).
    fn lock_shared(&self) -> &'static str {
        " FOR SHARE"
    }

    /// Suffix that takes an exclusive row lock in a SELECT (empty on SQLite).
    fn lock_update(&self) -> &'static str {
        " FOR UPDATE"
    }

    /// Multi-row `INSERT … VALUES (…), (…)` of `rows` rows that replaces every non-key column
    /// when a key exists.
    fn upsert_rows(&self, table: &str, columns: &[&str], key: &[&str], rows: usize) -> String {
        // Built in one buffer: these run on every write, and the joins and per-column
        // `format!`s they replaced showed in client profiles.
        let mut s = insert_head(table, columns, rows);
        s.push_str(" ON CONFLICT (");
        push_joined(&mut s, key);
        if columns.iter().any(|c| !key.contains(c)) {
            s.push_str(") DO UPDATE SET ");
            push_excluded_updates(&mut s, columns, key);
        } else {
            s.push_str(") DO NOTHING");
        }
        s
    }

    /// Multi-row `INSERT … ` that does nothing for rows whose key exists.
    fn insert_ignore_rows(
        &self,
        table: &str,
        columns: &[&str],
        key: &[&str],
        rows: usize,
    ) -> String {
        let mut s = insert_head(table, columns, rows);
        s.push_str(" ON CONFLICT (");
        push_joined(&mut s, key);
        s.push_str(") DO NOTHING");
        s
    }

    /// Single-row [`Dialect::upsert_rows`].
    fn upsert(&self, table: &str, columns: &[&str], key: &[&str]) -> String {
        self.upsert_rows(table, columns, key, 1)
    }

    /// Single-row [`Dialect::insert_ignore_rows`].
    fn insert_ignore(&self, table: &str, columns: &[&str], key: &[&str]) -> String {
        self.insert_ignore_rows(table, columns, key, 1)
    }

    /// An `INSERT` of one row that, when the key exists, replaces every non-key column only if
    /// the stored `version` column is below the new row's (a stale write changes nothing and is
    /// not an error). `values` holds one placeholder expression per column (e.g. `?`, or
    /// [`Dialect::json_placeholder`]). Default: `ON CONFLICT … DO UPDATE … WHERE` (SQLite,
    /// PostgreSQL).
    fn upsert_if_newer(
        &self,
        table: &str,
        columns: &[&str],
        values: &[&str],
        key: &[&str],
        version: &str,
    ) -> String {
        let mut s = String::with_capacity(64 + 24 * columns.len());
        s.push_str("INSERT INTO ");
        s.push_str(table);
        s.push_str(" (");
        push_joined(&mut s, columns);
        s.push_str(") VALUES (");
        push_joined(&mut s, values);
        s.push_str(") ON CONFLICT (");
        push_joined(&mut s, key);
        s.push_str(") DO UPDATE SET ");
        push_excluded_updates(&mut s, columns, key);
        for part in [" WHERE ", table, ".", version, " < excluded.", version] {
            s.push_str(part);
        }
        s
    }

    /// The placeholder for a JSON document bound as text (PostgreSQL needs a cast to `JSONB`).
    fn json_placeholder(&self) -> &'static str {
        "?"
    }

    /// A condition, true when the JSON array of strings in `column` contains at least one of
    /// `values` (exact, case-sensitive string equality), with its bind parameters. `column` is
    /// never NULL where this is used (callers wrap it in a NULL test) and `values` is not empty.
    /// Default: SQLite's `json_each`.
    fn json_array_contains_any(&self, column: &str, values: &[String]) -> (String, Vec<Value>) {
        (
            format!(
                "EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value IN ({}))",
                placeholders(values.len())
            ),
            values.iter().map(|v| Value::Text(v.clone())).collect(),
        )
    }

    /// A condition, true when the string in `column` starts with `prefix` taken literally
    /// (`%`, `_` and the escape character are ordinary characters), with its bind parameters.
    /// Default: `LIKE ? ESCAPE '!'` with the pattern escaped (PostgreSQL, MySQL: their columns
    /// compare bytes, so `LIKE` is case-sensitive there).
    fn starts_with(&self, column: &str, prefix: &str) -> (String, Vec<Value>) {
        (
            format!("{column} LIKE ? ESCAPE '!'"),
            vec![Value::Text(like_prefix_pattern(prefix, '!'))],
        )
    }

    /// A DELETE of at most `LIMIT ?` rows matching `where_clause`, in `order_by` order. `key` is
    /// the table's primary key; the limit is the last bind parameter.
    fn delete_limited(
        &self,
        table: &str,
        key: &[&str],
        where_clause: &str,
        order_by: &str,
    ) -> String {
        format!(
            "DELETE FROM {table} WHERE ({k}) IN (SELECT {k} FROM {table} WHERE {where_clause} ORDER BY {order_by} LIMIT ?)",
            k = key.join(", ")
        )
    }
}

/// `?, ?, ?` with `n` placeholders.
pub fn placeholders(n: usize) -> String {
    let mut s = String::with_capacity(3 * n);
    push_placeholders(&mut s, n);
    s
}

fn push_placeholders(s: &mut String, n: usize) {
    for i in 0..n {
        s.push_str(if i == 0 { "?" } else { ", ?" });
    }
}

/// `(?, ?), (?, ?)` for a multi-row VALUES list.
pub fn row_placeholders(rows: usize, columns: usize) -> String {
    let mut s = String::with_capacity(rows * (3 * columns + 4));
    push_row_placeholders(&mut s, rows, columns);
    s
}

fn push_row_placeholders(s: &mut String, rows: usize, columns: usize) {
    for r in 0..rows {
        s.push_str(if r == 0 { "(" } else { ", (" });
        push_placeholders(s, columns);
        s.push(')');
    }
}

/// `INSERT INTO table (a, b) VALUES (?, ?), (?, ?)` for `rows` rows.
fn insert_head(table: &str, columns: &[&str], rows: usize) -> String {
    let mut s = String::with_capacity(64 + columns.len() * (24 + 3 * rows) + 4 * rows);
    s.push_str("INSERT INTO ");
    s.push_str(table);
    s.push_str(" (");
    push_joined(&mut s, columns);
    s.push_str(") VALUES ");
    push_row_placeholders(&mut s, rows, columns.len());
    s
}

/// `a, b, c`.
fn push_joined(s: &mut String, items: &[&str]) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(item);
    }
}

/// `b = excluded.b, c = excluded.c` for the columns not in `key`.
fn push_excluded_updates(s: &mut String, columns: &[&str], key: &[&str]) {
    for (i, c) in columns.iter().filter(|c| !key.contains(c)).enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        for part in [*c, " = excluded.", *c] {
            s.push_str(part);
        }
    }
}

/// A `LIKE` pattern matching strings that start with `prefix`: `%`, `_` and `escape` in the
/// prefix are escaped with `escape`, then `%` is appended.
pub fn like_prefix_pattern(prefix: &str, escape: char) -> String {
    let mut out = String::with_capacity(prefix.len() + 2);
    for c in prefix.chars() {
        if c == '%' || c == '_' || c == escape {
            out.push(escape);
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// `s` as a JSON string literal (quoted and escaped exactly as the stores write JSON documents,
/// so a database comparing JSON text sees identical bytes for identical strings).
pub fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// Rewrites `?` placeholders to `$1, $2, …` (PostgreSQL), leaving quoted text alone.
pub fn number_placeholders(sql: &str) -> String {
    rewrite_placeholders(sql, |i, out| push_parameter(out, i + 1))
}

/// Appends PostgreSQL's parameter reference `$n` (without the formatting machinery: it runs
/// for every parameter of every statement).
pub fn push_parameter(out: &mut String, n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push('$');
    // ASCII digits only, so always valid UTF-8.
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
}

/// Replaces the `i`-th `?` placeholder (from 0) outside quoted text with what `f(i, out)`
/// appends to `out`. (On every statement a PostgreSQL store runs: it copies the text between
/// placeholders and quotes in slices, not a character at a time.)
pub fn rewrite_placeholders(sql: &str, mut f: impl FnMut(usize, &mut String)) -> String {
    // `?` becomes up to `$NNN` (or `NULL`): room for that without regrowing.
    let mut out = String::with_capacity(sql.len() + sql.len() / 2 + 16);
    let mut n = 0;
    let mut rest = sql;
    // Only ASCII bytes are searched for, so every cut is on a character boundary.
    // A byte scan: `str::find` with a set of chars decodes every character.
    while let Some(at) = rest.bytes().position(|b| matches!(b, b'?' | b'\'' | b'"')) {
        out.push_str(&rest[..at]);
        let c = rest.as_bytes()[at];
        if c == b'?' {
            f(n, &mut out);
            n += 1;
            rest = &rest[at + 1..];
            continue;
        }
        // A quoted part is copied whole, up to and with its closing quote (or to the end).
        let end = rest.as_bytes()[at + 1..]
            .iter()
            .position(|&b| b == c)
            .map_or(rest.len(), |e| at + 1 + e + 1);
        out.push_str(&rest[at..end]);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The default dialect, which SQLite uses unchanged.
#[derive(Debug, Default, Clone, Copy)]
pub struct SqliteDialect;

impl Dialect for SqliteDialect {
    fn name(&self) -> &'static str {
        "sqlite"
    }
    fn lock_shared(&self) -> &'static str {
        ""
    }
    fn lock_update(&self) -> &'static str {
        ""
    }
    /// SQLite's `LIKE` folds ASCII case, so a prefix test compares the leading characters
    /// instead: `instr` finds the first occurrence, which is position 1 exactly when the
    /// string starts with the prefix (also for the empty prefix).
    fn starts_with(&self, column: &str, prefix: &str) -> (String, Vec<Value>) {
        (
            format!("instr({column}, ?) = 1"),
            vec![Value::Text(prefix.to_string())],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_skips_quotes() {
        assert_eq!(
            number_placeholders("SELECT '?' , a FROM t WHERE x = ? AND y = ?"),
            "SELECT '?' , a FROM t WHERE x = $1 AND y = $2"
        );
        // Doubled quotes, a quoted identifier, non-ASCII text, an unterminated quote.
        assert_eq!(
            number_placeholders("SELECT 'a''?b', \"c?\", 'é?' FROM t WHERE é = ? AND s = '?"),
            "SELECT 'a''?b', \"c?\", 'é?' FROM t WHERE é = $1 AND s = '?"
        );
        assert_eq!(number_placeholders("?"), "$1");
        assert_eq!(number_placeholders("?,?"), "$1,$2");
        assert_eq!(number_placeholders(""), "");
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_prefix_pattern("a%b_c!d", '!'), "a!%b!_c!!d%");
        assert_eq!(like_prefix_pattern("", '!'), "%");
        let (sql, p) = SqliteDialect.starts_with("k", "a%");
        assert_eq!(sql, "instr(k, ?) = 1");
        assert_eq!(p, vec![Value::Text("a%".into())]);
    }

    #[test]
    fn conditional_upsert() {
        assert_eq!(
            SqliteDialect.upsert_if_newer(
                "t",
                &["k", "v", "_version"],
                &["?", "?", "?"],
                &["k"],
                "_version"
            ),
            "INSERT INTO t (k, v, _version) VALUES (?, ?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v, _version = excluded._version WHERE t._version < excluded._version"
        );
    }

    #[test]
    fn sqlite_upsert() {
        let d = SqliteDialect;
        assert_eq!(
            d.upsert("t", &["a", "b", "c"], &["a"]),
            "INSERT INTO t (a, b, c) VALUES (?, ?, ?) ON CONFLICT (a) DO UPDATE SET b = excluded.b, c = excluded.c"
        );
        assert_eq!(row_placeholders(2, 2), "(?, ?), (?, ?)");
        assert_eq!(row_placeholders(1, 1), "(?)");
        assert_eq!(placeholders(3), "?, ?, ?");
        assert_eq!(placeholders(0), "");
        assert_eq!(
            d.upsert_rows("t", &["a", "b"], &["a"], 3),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?) ON CONFLICT (a) DO UPDATE SET b = excluded.b"
        );
        // Every column in the key: nothing to update.
        assert_eq!(
            d.upsert("t", &["a", "b"], &["a", "b"]),
            "INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT (a, b) DO NOTHING"
        );
        assert_eq!(
            d.insert_ignore_rows("t", &["a", "b"], &["a"], 2),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?) ON CONFLICT (a) DO NOTHING"
        );
    }

    #[test]
    fn parameter_numbers() {
        for n in [1, 9, 10, 99, 100, 65535, usize::MAX] {
            let mut s = String::from("x");
            push_parameter(&mut s, n);
            assert_eq!(s, format!("x${n}"));
        }
        let many = ["?"; 12].join(",");
        assert_eq!(
            number_placeholders(&many),
            "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12"
        );
    }
}
