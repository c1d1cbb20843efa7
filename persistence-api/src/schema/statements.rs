//! Statement splitting: a schema file into statements (quotes, comments, dollar quoting,
//! trigger bodies).

/// Splits a schema file into statements.
///
/// Statements end at `;`. `--` line comments and `/* */` block comments are removed. A `;` inside
/// a single-quoted string, a double-quoted or backquoted identifier, a PostgreSQL dollar-quoted
/// body (`$$ … $$`, `$tag$ … $tag$`) or a `CREATE TRIGGER … BEGIN … END` body does not end the
/// statement. Quotes are escaped by doubling them (`'it''s'`); backslash is an ordinary character.
/// Returned statements are trimmed, without the final `;`; empty ones are dropped.
pub fn split_statements(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut i = 0;
    while i < n {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '-' if next == Some('-') => {
                while i < n && chars[i] != '\n' {
                    i += 1;
                }
                cur.push('\n');
                continue;
            }
            '/' if next == Some('*') => {
                i += 2;
                while i < n && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    i += 1;
                }
                i = (i + 2).min(n);
                cur.push(' ');
                continue;
            }
            '\'' | '"' | '`' => {
                cur.push(c);
                i += 1;
                while i < n {
                    cur.push(chars[i]);
                    if chars[i] == c {
                        if chars.get(i + 1) == Some(&c) {
                            cur.push(c);
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
                continue;
            }
            '$' => {
                if let Some(tag_end) = dollar_tag(&chars, i) {
                    let tag: String = chars[i..=tag_end].iter().collect();
                    let tag_chars: Vec<char> = tag.chars().collect();
                    cur.push_str(&tag);
                    i = tag_end + 1;
                    while i < n && !chars[i..].starts_with(&tag_chars) {
                        cur.push(chars[i]);
                        i += 1;
                    }
                    if i < n {
                        cur.push_str(&tag);
                        i += tag_chars.len();
                    }
                    continue;
                }
                cur.push(c);
            }
            ';' => {
                if is_unfinished_trigger(&cur) {
                    cur.push(';');
                } else {
                    push_statement(&mut out, &cur);
                    cur.clear();
                }
            }
            _ => cur.push(c),
        }
        i += 1;
    }
    push_statement(&mut out, &cur);
    out
}

pub(super) fn push_statement(out: &mut Vec<String>, s: &str) {
    let t = s.trim();
    if !t.is_empty() {
        out.push(t.to_string());
    }
}

/// If a dollar-quote tag (`$$` or `$ident$`) starts at `i`, the index of its closing `$`.
pub(super) fn dollar_tag(chars: &[char], i: usize) -> Option<usize> {
    // `$1` placeholders and identifiers containing `$` are not tags.
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return None;
    }
    let mut j = i + 1;
    while j < chars.len() {
        let c = chars[j];
        if c == '$' {
            return Some(j);
        }
        let ok = c == '_' || c.is_alphabetic() || (j > i + 1 && c.is_ascii_digit());
        if !ok {
            return None;
        }
        j += 1;
    }
    None
}

/// True inside the body of `CREATE [TEMP] TRIGGER … BEGIN … END`, whose inner statements end in
/// `;` too: the trigger statement ends only at a `;` right after `END`.
pub(super) fn is_unfinished_trigger(cur: &str) -> bool {
    let words: Vec<String> = cur
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .take(3)
        .map(|w| w.to_ascii_uppercase())
        .collect();
    let is_trigger = words.first().map(String::as_str) == Some("CREATE")
        && (words.get(1).map(String::as_str) == Some("TRIGGER")
            || (matches!(words.get(1).map(String::as_str), Some("TEMP" | "TEMPORARY"))
                && words.get(2).map(String::as_str) == Some("TRIGGER")));
    if !is_trigger {
        return false;
    }
    let upper = cur.to_ascii_uppercase();
    let has_begin = upper
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| w == "BEGIN");
    let ends_with_end = upper
        .trim_end()
        .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()
        == Some("END");
    has_begin && !ends_with_end
}

pub(super) fn abbreviate(s: &str) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 80 {
        format!("{}…", one_line.chars().take(80).collect::<String>())
    } else {
        one_line
    }
}
