//! SQL dialects: each backend overrides only what differs from the shared default.

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
        let updates: Vec<String> = columns
            .iter()
            .filter(|c| !key.contains(c))
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        let action = if updates.is_empty() {
            "DO NOTHING".to_string()
        } else {
            format!("DO UPDATE SET {}", updates.join(", "))
        };
        format!(
            "INSERT INTO {table} ({}) VALUES {} ON CONFLICT ({}) {action}",
            columns.join(", "),
            row_placeholders(rows, columns.len()),
            key.join(", ")
        )
    }

    /// Multi-row `INSERT … ` that does nothing for rows whose key exists.
    fn insert_ignore_rows(
        &self,
        table: &str,
        columns: &[&str],
        key: &[&str],
        rows: usize,
    ) -> String {
        format!(
            "INSERT INTO {table} ({}) VALUES {} ON CONFLICT ({}) DO NOTHING",
            columns.join(", "),
            row_placeholders(rows, columns.len()),
            key.join(", ")
        )
    }

    /// Single-row [`Dialect::upsert_rows`].
    fn upsert(&self, table: &str, columns: &[&str], key: &[&str]) -> String {
        self.upsert_rows(table, columns, key, 1)
    }

    /// Single-row [`Dialect::insert_ignore_rows`].
    fn insert_ignore(&self, table: &str, columns: &[&str], key: &[&str]) -> String {
        self.insert_ignore_rows(table, columns, key, 1)
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
    vec!["?"; n].join(", ")
}

/// `(?, ?), (?, ?)` for a multi-row VALUES list.
pub fn row_placeholders(rows: usize, columns: usize) -> String {
    let one = format!("({})", placeholders(columns));
    vec![one; rows].join(", ")
}

/// Rewrites `?` placeholders to `$1, $2, …` (PostgreSQL), leaving quoted text alone.
pub fn number_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                out.push(c);
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    out.push(c);
                }
                '?' => {
                    n += 1;
                    out.push('$');
                    out.push_str(&n.to_string());
                }
                _ => out.push(c),
            },
        }
    }
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
    }

    #[test]
    fn sqlite_upsert() {
        let d = SqliteDialect;
        assert_eq!(
            d.upsert("t", &["a", "b", "c"], &["a"]),
            "INSERT INTO t (a, b, c) VALUES (?, ?, ?) ON CONFLICT (a) DO UPDATE SET b = excluded.b, c = excluded.c"
        );
        assert_eq!(row_placeholders(2, 2), "(?, ?), (?, ?)");
    }
}
