//! Tokenizer of the list-filter language.
//!
//! Whitespace is space, tab, CR and LF. Every other control character (C0 except those, DEL, C1)
//! is rejected, inside literals too. Outside literals only ASCII is accepted.

use super::CompareOp;

/// A lexical error at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LexError {
    pub(crate) at: usize,
    pub(crate) msg: String,
}

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok<'a> {
    /// Unquoted identifier or keyword (`[A-Za-z_][A-Za-z0-9_]*`).
    Ident(&'a str),
    /// Backtick-quoted attribute name.
    Quoted(&'a str),
    /// String literal (single or double quotes), unescaped.
    Str(String),
    /// Unsigned number as written (`12`, `1.5`, `2e10`).
    Number(&'a str),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `,`
    Comma,
    /// `-` (only valid right before a number).
    Minus,
    /// A comparison operator.
    Op(CompareOp),
}

/// A token and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token<'a> {
    pub(crate) tok: Tok<'a>,
    pub(crate) at: usize,
}

/// Keywords of the language (case-insensitive when unquoted).
const LANGUAGE_KEYWORDS: &[&str] = &[
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "BETWEEN",
    "STARTS_WITH",
    "ORDER",
    "GROUP",
    "BY",
    "ASC",
    "DESC",
    "TRUE",
    "FALSE",
];

/// SQL words the language does not have; named in errors so hostile input gets a clear reason.
const UNSUPPORTED_SQL_WORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "LIMIT",
    "OFFSET",
    "FETCH",
    "UNION",
    "INTERSECT",
    "EXCEPT",
    "MINUS",
    "JOIN",
    "HAVING",
    "LIKE",
    "ILIKE",
    "REGEXP",
    "RLIKE",
    "SIMILAR",
    "GLOB",
    "MATCH",
    "AGAINST",
    "EXISTS",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "CAST",
    "CONVERT",
    "COLLATE",
    "ESCAPE",
    "XOR",
    "DIV",
    "MOD",
    "INSERT",
    "UPDATE",
    "DELETE",
    "REPLACE",
    "DROP",
    "CREATE",
    "ALTER",
    "TRUNCATE",
    "GRANT",
    "REVOKE",
    "EXEC",
    "EXECUTE",
    "CALL",
    "ALL",
    "ANY",
    "SOME",
    "DISTINCT",
    "INTO",
    "VALUES",
    "SET",
    "WITH",
    "AS",
    "ON",
    "USING",
    "INTERVAL",
    "BINARY",
    "SOUNDS",
    "OVER",
    "WINDOW",
    "RETURNING",
];

/// True for a keyword of the language, ignoring ASCII case.
pub(crate) fn is_language_keyword(word: &str) -> bool {
    LANGUAGE_KEYWORDS
        .iter()
        .any(|k| k.eq_ignore_ascii_case(word))
}

/// True for a SQL word the language rejects, ignoring ASCII case.
pub(crate) fn is_unsupported_sql_word(word: &str) -> bool {
    UNSUPPORTED_SQL_WORDS
        .iter()
        .any(|k| k.eq_ignore_ascii_case(word))
}

/// True for characters rejected everywhere: C0 controls except TAB/LF/CR, DEL, C1 controls.
pub(crate) fn is_forbidden_control(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || ('\u{7f}'..='\u{9f}').contains(&c)
}

/// A character for an error message. Only ASCII graphic characters and letters/digits are shown
/// as themselves; anything else (controls, spaces, format characters such as bidi overrides,
/// symbols) only by code point, so messages cannot smuggle invisible or reordering characters.
fn describe(c: char) -> String {
    if c.is_ascii_graphic() {
        format!("'{c}'")
    } else if c.is_alphanumeric() {
        format!("'{c}' (U+{:04X})", c as u32)
    } else {
        format!("U+{:04X}", c as u32)
    }
}

fn err<T>(at: usize, msg: impl Into<String>) -> Result<T, LexError> {
    Err(LexError {
        at,
        msg: msg.into(),
    })
}

/// Splits `text` into tokens.
pub(crate) fn tokenize(text: &str) -> Result<Vec<Token<'_>>, LexError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        let at = i;
        let next = bytes.get(i + 1).copied();
        let simple = |tok, len: usize, out: &mut Vec<Token<'_>>| {
            out.push(Token { tok, at });
            at + len
        };
        i = match c {
            ' ' | '\t' | '\n' | '\r' => i + 1,
            _ if is_forbidden_control(c) => {
                return err(
                    at,
                    format!("control character {} is not allowed", describe(c)),
                );
            }
            '(' => simple(Tok::LParen, 1, &mut out),
            ')' => simple(Tok::RParen, 1, &mut out),
            ',' => simple(Tok::Comma, 1, &mut out),
            '=' if next == Some(b'=') => {
                return err(at, "'==' is not an operator; use '='");
            }
            '=' => simple(Tok::Op(CompareOp::Eq), 1, &mut out),
            '!' if next == Some(b'=') => simple(Tok::Op(CompareOp::Ne), 2, &mut out),
            '<' if next == Some(b'=') => simple(Tok::Op(CompareOp::Le), 2, &mut out),
            '<' if next == Some(b'>') => simple(Tok::Op(CompareOp::Ne), 2, &mut out),
            '<' => simple(Tok::Op(CompareOp::Lt), 1, &mut out),
            '>' if next == Some(b'=') => simple(Tok::Op(CompareOp::Ge), 2, &mut out),
            '>' => simple(Tok::Op(CompareOp::Gt), 1, &mut out),
            '-' if next == Some(b'-') => return err(at, "comments ('--') are not allowed"),
            '-' => simple(Tok::Minus, 1, &mut out),
            '/' if next == Some(b'*') => return err(at, "comments ('/*') are not allowed"),
            '#' => return err(at, "comments ('#') are not allowed"),
            ';' => return err(at, "';' is not allowed: a query is one filter expression"),
            '&' | '|' => return err(at, "'&&' and '||' are not operators; use AND and OR"),
            '\'' | '"' => {
                let (s, end) = string_literal(text, at, c)?;
                out.push(Token {
                    tok: Tok::Str(s),
                    at,
                });
                end
            }
            '`' => {
                let start = at + 1;
                let Some(len) = text[start..].find('`') else {
                    return err(at, "unterminated backtick-quoted name");
                };
                let name = &text[start..start + len];
                if name.is_empty() {
                    return err(at, "empty backtick-quoted name");
                }
                if let Some((off, c)) = name.char_indices().find(|(_, c)| c.is_control()) {
                    return err(
                        start + off,
                        format!("control character {} in a name", describe(c)),
                    );
                }
                out.push(Token {
                    tok: Tok::Quoted(name),
                    at,
                });
                start + len + 1
            }
            '0'..='9' => {
                let end = number_end(bytes, at)?;
                out.push(Token {
                    tok: Tok::Number(&text[at..end]),
                    at,
                });
                end
            }
            'a'..='z' | 'A'..='Z' | '_' => {
                let mut end = at + 1;
                while bytes
                    .get(end)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
                {
                    end += 1;
                }
                out.push(Token {
                    tok: Tok::Ident(&text[at..end]),
                    at,
                });
                end
            }
            '.' if next.is_some_and(|b| b.is_ascii_digit()) => {
                return err(at, "a number must start with a digit (write 0.5, not .5)");
            }
            _ => return err(at, format!("unexpected character {}", describe(c))),
        };
    }
    Ok(out)
}

/// Reads a quoted string starting at `at` (the quote); a doubled quote stands for one.
fn string_literal(text: &str, at: usize, quote: char) -> Result<(String, usize), LexError> {
    let mut s = String::new();
    let mut chars = text[at + 1..].char_indices().peekable();
    while let Some((off, c)) = chars.next() {
        if c == quote {
            if chars.peek().is_some_and(|(_, n)| *n == quote) {
                chars.next();
                s.push(quote);
                continue;
            }
            return Ok((s, at + 1 + off + 1));
        }
        if is_forbidden_control(c) {
            return err(
                at + 1 + off,
                format!(
                    "control character {} is not allowed in a string literal",
                    describe(c)
                ),
            );
        }
        s.push(c);
    }
    err(at, "unterminated string literal")
}

/// End of a number starting at `at`: digits, optional `.digits`, optional exponent. A number
/// directly followed by a letter, `_` or `.` is an error (`1abc`, `0x10`, `1.2.3`).
fn number_end(b: &[u8], at: usize) -> Result<usize, LexError> {
    let digits = |mut i: usize| {
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let mut i = digits(at);
    if b.get(i) == Some(&b'.') {
        let j = digits(i + 1);
        if j == i + 1 {
            return err(at, "malformed number: digits must follow '.'");
        }
        i = j;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let k = digits(j);
        if k == j {
            return err(at, "malformed number: exponent has no digits");
        }
        i = k;
    }
    if b.get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.')
    {
        return err(at, "malformed number");
    }
    Ok(i)
}
