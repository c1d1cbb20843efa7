//! Recursive-descent parser and type checker.
//!
//! Grammar (keywords case-insensitive):
//! ```text
//! query      := [or_expr] [GROUP BY attribute]            (GROUP BY: Count only)
//! or_expr    := and_expr (OR and_expr)*
//! and_expr   := not_expr (AND not_expr)*
//! not_expr   := NOT not_expr | primary
//! primary    := '(' or_expr ')' | attribute predicate
//! predicate  := op value | [NOT] IN '(' value (',' value)* ')'
//!             | [NOT] BETWEEN value AND value | [NOT] STARTS_WITH string | IS [NOT] NULL
//! op         := '=' | '!=' | '<>' | '<' | '<=' | '>' | '>='
//! value      := string | ['-'] number | TRUE | FALSE
//! attribute  := identifier | '`' name '`'
//! ```

use chrono::DateTime;

use super::attrs::{EXECUTION_DURATION, EXECUTION_STATUS, SearchAttributes, is_reserved_name};
use super::lexer::{LexError, Tok, Token, is_language_keyword, is_unsupported_sql_word, tokenize};
use super::literal::{
    parse_datetime, parse_double, parse_duration, parse_int, parse_status, status_from_code,
};
use super::{
    CompareOp, Expr, Literal, MAX_NESTING, MAX_QUERY_BYTES, Query, SearchAttributeType, show,
    text_tokens,
};
use crate::types::WorkflowStatus;

type PResult<T> = Result<T, LexError>;

fn fail<T>(at: usize, msg: impl Into<String>) -> PResult<T> {
    Err(LexError {
        at,
        msg: msg.into(),
    })
}

/// How the language treats an attribute: its type, with the two special system attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Keyword,
    KeywordList,
    Text,
    Int,
    Double,
    Bool,
    Datetime,
    Status,
    Duration,
}

impl Kind {
    fn of(name: &str, t: SearchAttributeType) -> Kind {
        match (name, t) {
            (EXECUTION_STATUS, _) => Kind::Status,
            (EXECUTION_DURATION, _) => Kind::Duration,
            (_, SearchAttributeType::Keyword | SearchAttributeType::LowCardinalityKeyword) => {
                Kind::Keyword
            }
            (_, SearchAttributeType::KeywordList) => Kind::KeywordList,
            (_, SearchAttributeType::Text) => Kind::Text,
            (_, SearchAttributeType::Int) => Kind::Int,
            (_, SearchAttributeType::Double) => Kind::Double,
            (_, SearchAttributeType::Bool) => Kind::Bool,
            (_, SearchAttributeType::Datetime) => Kind::Datetime,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Keyword => "Keyword",
            Kind::KeywordList => "KeywordList",
            Kind::Text => "Text",
            Kind::Int => "Int",
            Kind::Double => "Double",
            Kind::Bool => "Bool",
            Kind::Datetime => "Datetime",
            Kind::Status => "ExecutionStatus",
            Kind::Duration => "duration (Int)",
        }
    }

    fn supported(self) -> &'static str {
        match self {
            Kind::Keyword => {
                "=, !=, <, <=, >, >=, [NOT] IN, [NOT] STARTS_WITH, [NOT] BETWEEN, IS [NOT] NULL"
            }
            Kind::Int | Kind::Double | Kind::Datetime | Kind::Duration => {
                "=, !=, <, <=, >, >=, [NOT] IN, [NOT] BETWEEN, IS [NOT] NULL"
            }
            Kind::KeywordList | Kind::Status => "=, !=, [NOT] IN, IS [NOT] NULL",
            Kind::Text | Kind::Bool => "=, !=, IS [NOT] NULL",
        }
    }

    fn allows(self, op: Pred) -> bool {
        use Kind::*;
        match op {
            Pred::IsNull | Pred::Cmp(CompareOp::Eq | CompareOp::Ne) => true,
            Pred::Cmp(_) | Pred::Between => {
                matches!(self, Keyword | Int | Double | Datetime | Duration)
            }
            Pred::In => matches!(
                self,
                Keyword | KeywordList | Int | Double | Datetime | Status | Duration
            ),
            Pred::StartsWith => self == Keyword,
        }
    }
}

/// A predicate form, for the operator-per-type check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pred {
    Cmp(CompareOp),
    In,
    Between,
    StartsWith,
    IsNull,
}

fn op_text(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "=",
        CompareOp::Ne => "!=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
    }
}

fn pred_text(p: Pred) -> &'static str {
    match p {
        Pred::Cmp(op) => op_text(op),
        Pred::In => "IN",
        Pred::Between => "BETWEEN",
        Pred::StartsWith => "STARTS_WITH",
        Pred::IsNull => "IS NULL",
    }
}

/// A value as written, before it is typed by its attribute.
#[derive(Debug, Clone, PartialEq)]
enum Raw<'a> {
    Str(String),
    Num { negative: bool, text: &'a str },
    Bool(bool),
}

impl Raw<'_> {
    fn describe(&self) -> String {
        match self {
            Raw::Str(s) => format!("the string {}", show(s)),
            Raw::Num { negative, text } => {
                format!(
                    "the number {}{}",
                    if *negative { "-" } else { "" },
                    show_plain(text)
                )
            }
            Raw::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        }
    }
    fn is_integer(&self) -> bool {
        matches!(self, Raw::Num { text, .. } if text.bytes().all(|b| b.is_ascii_digit()))
    }
}

fn show_plain(s: &str) -> String {
    const MAX: usize = 40;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Types a raw value for an attribute of `kind`.
fn typed(kind: Kind, attr: &str, raw: Raw<'_>) -> Result<Literal, String> {
    let wrong = |raw: &Raw<'_>, want: &str| {
        Err(format!(
            "{} attribute {attr} needs {want}, found {}",
            kind.name(),
            raw.describe()
        ))
    };
    match kind {
        Kind::Keyword | Kind::KeywordList | Kind::Text => match raw {
            Raw::Str(s) => Ok(Literal::String(s)),
            other => wrong(&other, "a quoted string"),
        },
        Kind::Int => match raw {
            Raw::Num { negative, text } if raw.is_integer() => {
                parse_int(negative, text).map(Literal::Int)
            }
            other => wrong(&other, "an unquoted integer"),
        },
        Kind::Double => match raw {
            Raw::Num { negative, text } => parse_double(negative, text).map(Literal::Double),
            other => wrong(&other, "an unquoted number"),
        },
        Kind::Bool => match raw {
            Raw::Bool(b) => Ok(Literal::Bool(b)),
            Raw::Str(s) if s.eq_ignore_ascii_case("true") => Ok(Literal::Bool(true)),
            Raw::Str(s) if s.eq_ignore_ascii_case("false") => Ok(Literal::Bool(false)),
            other => wrong(&other, "true or false"),
        },
        Kind::Datetime => match raw {
            Raw::Str(s) => parse_datetime(&s).map(Literal::Datetime),
            Raw::Num { negative, text } if raw.is_integer() => parse_int(negative, text)
                .map(|n| Literal::Datetime(DateTime::from_timestamp_nanos(n))),
            other => wrong(
                &other,
                "a quoted RFC3339 timestamp (or integer Unix nanoseconds)",
            ),
        },
        Kind::Status => {
            let names = || {
                WorkflowStatus::ALL
                    .iter()
                    .map(|s| s.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            match raw {
                Raw::Str(s) => parse_status(&s).map(Literal::Status).ok_or_else(|| {
                    format!(
                        "{} is not an execution status (one of {}; case-sensitive)",
                        show(&s),
                        names()
                    )
                }),
                Raw::Num { negative, text } if raw.is_integer() => {
                    let code = parse_int(negative, text)?;
                    status_from_code(code)
                        .map(Literal::Status)
                        .ok_or_else(|| format!("{code} is not an execution status code (0..=8)"))
                }
                other => wrong(&other, &format!("a status name ({})", names())),
            }
        }
        Kind::Duration => match raw {
            Raw::Num { negative, text } if raw.is_integer() => {
                parse_int(negative, text).map(Literal::Int)
            }
            Raw::Str(s) => parse_duration(&s).map(Literal::Int),
            other => wrong(
                &other,
                "integer nanoseconds or a quoted duration like '1h30m'",
            ),
        },
    }
}

/// `NOT e`, folded into the leaf when that keeps three-valued semantics exactly.
fn negate(e: Expr) -> Expr {
    match e {
        Expr::Not(inner) => *inner,
        Expr::Compare {
            attr,
            op: op @ (CompareOp::Eq | CompareOp::Ne),
            value,
        } => Expr::Compare {
            attr,
            op: if op == CompareOp::Eq {
                CompareOp::Ne
            } else {
                CompareOp::Eq
            },
            value,
        },
        Expr::In {
            attr,
            values,
            negated,
        } => Expr::In {
            attr,
            values,
            negated: !negated,
        },
        Expr::Between {
            attr,
            low,
            high,
            negated,
        } => Expr::Between {
            attr,
            low,
            high,
            negated: !negated,
        },
        Expr::StartsWith {
            attr,
            prefix,
            negated,
        } => Expr::StartsWith {
            attr,
            prefix,
            negated: !negated,
        },
        Expr::IsNull { attr, negated } => Expr::IsNull {
            attr,
            negated: !negated,
        },
        other => Expr::Not(Box::new(other)),
    }
}

struct Parser<'q, 'a> {
    text: &'a str,
    toks: Vec<Token<'a>>,
    pos: usize,
    attrs: &'q SearchAttributes,
    depth: usize,
}

/// Parses and type-checks; errors carry a byte offset.
pub(crate) fn parse(text: &str, attrs: &SearchAttributes, is_count: bool) -> PResult<Query> {
    if text.len() > MAX_QUERY_BYTES {
        return fail(
            0,
            format!(
                "query is {} bytes, longer than the limit of {MAX_QUERY_BYTES}",
                text.len()
            ),
        );
    }
    let toks = tokenize(text)?;
    let mut p = Parser {
        text,
        toks,
        pos: 0,
        attrs,
        depth: 0,
    };
    p.query(is_count)
}

impl<'a> Parser<'_, 'a> {
    fn peek(&self) -> Option<&Token<'a>> {
        self.toks.get(self.pos)
    }

    fn peek_at(&self, n: usize) -> Option<&Token<'a>> {
        self.toks.get(self.pos + n)
    }

    /// Byte offset of the current token (end of text when none is left).
    fn at(&self) -> usize {
        self.peek().map_or(self.text.len(), |t| t.at)
    }

    fn is_kw(tok: Option<&Token<'_>>, kw: &str) -> bool {
        matches!(tok, Some(Token { tok: Tok::Ident(w), .. }) if w.eq_ignore_ascii_case(kw))
    }

    fn peek_kw(&self, kw: &str) -> bool {
        Self::is_kw(self.peek(), kw)
    }

    fn bump(&mut self) {
        self.pos += 1;
    }

    fn describe(tok: Option<&Token<'_>>) -> String {
        match tok.map(|t| &t.tok) {
            None => "the end of the query".to_string(),
            Some(Tok::Ident(w)) if is_language_keyword(w) => {
                format!("keyword {}", w.to_ascii_uppercase())
            }
            Some(Tok::Ident(w)) => format!("'{}'", show_plain(w)),
            Some(Tok::Quoted(w)) => format!("`{}`", show_plain(w)),
            Some(Tok::Str(s)) => format!("the string {}", show(s)),
            Some(Tok::Number(n)) => format!("the number {}", show_plain(n)),
            Some(Tok::LParen) => "'('".to_string(),
            Some(Tok::RParen) => "')'".to_string(),
            Some(Tok::Comma) => "','".to_string(),
            Some(Tok::Minus) => "'-'".to_string(),
            Some(Tok::Op(op)) => format!("'{}'", op_text(*op)),
        }
    }

    /// The error for an unexpected current token, with specific reasons for SQL constructs.
    fn unexpected<T>(&self, expected: &str) -> PResult<T> {
        let at = self.at();
        if let Some(Token {
            tok: Tok::Ident(w), ..
        }) = self.peek()
        {
            let up = w.to_ascii_uppercase();
            let reason = match up.as_str() {
                "ORDER" => Some(
                    "ORDER BY is not supported; lists are ordered by CloseTime desc \
                     (running first), StartTime desc, RunId asc"
                        .to_string(),
                ),
                "SELECT" => Some("SELECT and subqueries are not supported".to_string()),
                "LIMIT" | "OFFSET" | "FETCH" => Some(format!(
                    "{up} is not supported; use the page size and token"
                )),
                "LIKE" | "ILIKE" | "GLOB" | "REGEXP" | "RLIKE" | "SIMILAR" => {
                    Some(format!("{up} is not supported; use STARTS_WITH"))
                }
                _ if is_unsupported_sql_word(w) => {
                    Some(format!("{up} is not supported in a visibility query"))
                }
                _ => None,
            };
            if let Some(r) = reason {
                return fail(at, r);
            }
            if self.peek_at(1).is_some_and(|t| t.tok == Tok::LParen) && !is_language_keyword(w) {
                return fail(
                    at,
                    format!("function calls are not supported ({}(…))", show_plain(w)),
                );
            }
        }
        fail(
            at,
            format!("expected {expected}, found {}", Self::describe(self.peek())),
        )
    }

    fn enter(&mut self, at: usize) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return fail(
                at,
                format!("nesting is deeper than {MAX_NESTING} levels (parentheses and NOT)"),
            );
        }
        Ok(())
    }

    fn query(&mut self, is_count: bool) -> PResult<Query> {
        let mut q = Query::default();
        if self.peek().is_none() {
            return Ok(q);
        }
        if !self.peek_kw("GROUP") {
            q.filter = Some(self.or_expr()?);
        }
        if self.peek_kw("GROUP") {
            q.group_by.push(self.group_by(is_count)?);
        }
        match self.peek() {
            None => Ok(q),
            Some(Token {
                tok: Tok::RParen, ..
            }) => fail(self.at(), "unbalanced ')'"),
            Some(_) if q.group_by.is_empty() => {
                self.unexpected("AND, OR, GROUP BY or the end of the query")
            }
            Some(_) => self.unexpected("the end of the query after GROUP BY"),
        }
    }

    fn group_by(&mut self, is_count: bool) -> PResult<String> {
        let at = self.at();
        self.bump();
        if !self.peek_kw("BY") {
            return self.unexpected("BY after GROUP");
        }
        self.bump();
        if !is_count {
            return fail(at, "GROUP BY is only allowed in a count query");
        }
        let name_at = self.at();
        let (name, _) = match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::Ident(w)) if !is_language_keyword(w) => self.resolve(w, name_at, false)?,
            Some(Tok::Quoted(w)) => self.resolve(w, name_at, true)?,
            _ => return self.unexpected("a search attribute name after GROUP BY"),
        };
        let groupable = name == EXECUTION_STATUS
            || self.attrs.type_of(&name) == Some(SearchAttributeType::LowCardinalityKeyword);
        if !groupable {
            return fail(
                name_at,
                format!(
                    "GROUP BY supports only {EXECUTION_STATUS} or a LowCardinalityKeyword \
                     attribute, not {name}"
                ),
            );
        }
        self.bump();
        if matches!(self.peek().map(|t| &t.tok), Some(Tok::Comma)) {
            return fail(self.at(), "GROUP BY supports only one attribute");
        }
        Ok(name)
    }

    fn or_expr(&mut self) -> PResult<Expr> {
        let first = self.and_expr()?;
        if !self.peek_kw("OR") {
            return Ok(first);
        }
        let mut terms = Vec::new();
        push_flat(&mut terms, first, true);
        while self.peek_kw("OR") {
            self.bump();
            let e = self.and_expr()?;
            push_flat(&mut terms, e, true);
        }
        Ok(Expr::Or(terms))
    }

    fn and_expr(&mut self) -> PResult<Expr> {
        let first = self.not_expr()?;
        if !self.peek_kw("AND") {
            return Ok(first);
        }
        let mut terms = Vec::new();
        push_flat(&mut terms, first, false);
        while self.peek_kw("AND") {
            self.bump();
            let e = self.not_expr()?;
            push_flat(&mut terms, e, false);
        }
        Ok(Expr::And(terms))
    }

    fn not_expr(&mut self) -> PResult<Expr> {
        if self.peek_kw("NOT") {
            let at = self.at();
            self.bump();
            self.enter(at)?;
            let e = self.not_expr()?;
            self.depth -= 1;
            return Ok(negate(e));
        }
        self.primary()
    }

    fn primary(&mut self) -> PResult<Expr> {
        let at = self.at();
        match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::LParen) => {
                self.bump();
                self.enter(at)?;
                if matches!(self.peek().map(|t| &t.tok), Some(Tok::RParen)) {
                    return fail(self.at(), "empty parentheses");
                }
                let e = self.or_expr()?;
                match self.peek().map(|t| &t.tok) {
                    Some(Tok::RParen) => self.bump(),
                    None => {
                        return fail(
                            self.at(),
                            format!(
                                "missing ')' for the '(' at position {}",
                                char_position(self.text, at)
                            ),
                        );
                    }
                    Some(_) => return self.unexpected("AND, OR or ')'"),
                }
                self.depth -= 1;
                Ok(e)
            }
            Some(Tok::Ident(w)) => {
                if self.peek_at(1).is_some_and(|t| t.tok == Tok::LParen) {
                    return self.unexpected("a condition");
                }
                if is_language_keyword(w) || is_unsupported_sql_word(w) {
                    return self.unexpected("a condition (a search attribute name, NOT or '(')");
                }
                let (name, kind) = self.resolve(w, at, false)?;
                self.bump();
                self.predicate(name, at, kind)
            }
            Some(Tok::Quoted(w)) => {
                let (name, kind) = self.resolve(w, at, true)?;
                self.bump();
                self.predicate(name, at, kind)
            }
            Some(Tok::Str(_) | Tok::Number(_) | Tok::Minus) => fail(
                at,
                "expected a search attribute name: a condition must start with an attribute \
                 (a literal cannot be on the left)",
            ),
            _ => self.unexpected("a condition (a search attribute name, NOT or '(')"),
        }
    }

    /// Looks a name up: reserved and unknown names are errors.
    fn resolve(&self, name: &str, at: usize, quoted: bool) -> PResult<(String, Kind)> {
        if is_reserved_name(name) {
            return fail(
                at,
                format!(
                    "search attribute {} is reserved and cannot be used in a query",
                    show(name)
                ),
            );
        }
        match self.attrs.type_of(name) {
            Some(t) => Ok((name.to_string(), Kind::of(name, t))),
            None if !quoted && is_unsupported_sql_word(name) => self.unexpected("a condition"),
            None => {
                let hint = self
                    .attrs
                    .similar(name)
                    .map(|s| format!(" (names are case-sensitive; did you mean {s}?)"))
                    .unwrap_or_default();
                fail(at, format!("unknown search attribute {}{hint}", show(name)))
            }
        }
    }

    fn check_op(&self, name: &str, kind: Kind, p: Pred, at: usize) -> PResult<()> {
        if kind.allows(p) {
            Ok(())
        } else {
            fail(
                at,
                format!(
                    "operator {} is not supported for {} attribute {name} (supported: {})",
                    pred_text(p),
                    kind.name(),
                    kind.supported()
                ),
            )
        }
    }

    fn predicate(&mut self, attr: String, attr_at: usize, kind: Kind) -> PResult<Expr> {
        let at = self.at();
        let tok = self.peek().map(|t| t.tok.clone());
        match tok {
            Some(Tok::Op(op)) => {
                self.check_op(&attr, kind, Pred::Cmp(op), at)?;
                self.bump();
                let (value, value_at) = self.value(kind, &attr)?;
                if kind == Kind::Text
                    && let Literal::String(s) = &value
                    && text_tokens(s).is_empty()
                {
                    return fail(
                        value_at,
                        format!(
                            "Text value {} has no words to match (letters or digits)",
                            show(s)
                        ),
                    );
                }
                Ok(Expr::Compare { attr, op, value })
            }
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("NOT") => {
                self.bump();
                match self.peek().map(|t| &t.tok) {
                    Some(Tok::Ident(w2))
                        if ["IN", "BETWEEN", "STARTS_WITH"]
                            .iter()
                            .any(|k| k.eq_ignore_ascii_case(w2)) =>
                    {
                        self.keyword_predicate(attr, kind, true)
                    }
                    _ => self.unexpected("IN, BETWEEN or STARTS_WITH after NOT"),
                }
            }
            Some(Tok::Ident(w))
                if ["IN", "BETWEEN", "STARTS_WITH", "IS"]
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(w)) =>
            {
                self.keyword_predicate(attr, kind, false)
            }
            None | Some(Tok::RParen) => fail(
                attr_at,
                format!(
                    "search attribute {attr} is not compared with anything (bare attribute \
                     references are not allowed)"
                ),
            ),
            Some(Tok::Ident(w))
                if w.eq_ignore_ascii_case("AND") || w.eq_ignore_ascii_case("OR") =>
            {
                fail(
                    attr_at,
                    format!(
                        "search attribute {attr} is not compared with anything (bare attribute \
                         references are not allowed)"
                    ),
                )
            }
            _ => self.unexpected(&format!("an operator after {attr}")),
        }
    }

    /// IN, BETWEEN, STARTS_WITH or IS at the current token.
    fn keyword_predicate(&mut self, attr: String, kind: Kind, negated: bool) -> PResult<Expr> {
        let at = self.at();
        let kw = match self.peek().map(|t| &t.tok) {
            Some(Tok::Ident(w)) => w.to_ascii_uppercase(),
            _ => return self.unexpected("IN, BETWEEN, STARTS_WITH or IS"),
        };
        match kw.as_str() {
            "IN" => {
                self.check_op(&attr, kind, Pred::In, at)?;
                self.bump();
                let open_at = self.at();
                if !matches!(self.peek().map(|t| &t.tok), Some(Tok::LParen)) {
                    return self.unexpected("'(' after IN");
                }
                self.bump();
                if matches!(self.peek().map(|t| &t.tok), Some(Tok::RParen)) {
                    return fail(self.at(), "empty IN list");
                }
                let mut values = Vec::new();
                loop {
                    values.push(self.value(kind, &attr)?.0);
                    match self.peek().map(|t| &t.tok) {
                        Some(Tok::Comma) => self.bump(),
                        Some(Tok::RParen) => {
                            self.bump();
                            break;
                        }
                        None => {
                            return fail(
                                self.at(),
                                format!(
                                    "missing ')' for the IN list at position {}",
                                    char_position(self.text, open_at)
                                ),
                            );
                        }
                        Some(_) => return self.unexpected("',' or ')' in the IN list"),
                    }
                }
                Ok(Expr::In {
                    attr,
                    values,
                    negated,
                })
            }
            "BETWEEN" => {
                self.check_op(&attr, kind, Pred::Between, at)?;
                self.bump();
                let (low, _) = self.value(kind, &attr)?;
                if !self.peek_kw("AND") {
                    return self.unexpected("AND between the BETWEEN bounds");
                }
                self.bump();
                let (high, _) = self.value(kind, &attr)?;
                Ok(Expr::Between {
                    attr,
                    low,
                    high,
                    negated,
                })
            }
            "STARTS_WITH" => {
                self.check_op(&attr, kind, Pred::StartsWith, at)?;
                self.bump();
                let (value, _) = self.value(kind, &attr)?;
                let Literal::String(prefix) = value else {
                    return fail(at, "STARTS_WITH needs a quoted string");
                };
                Ok(Expr::StartsWith {
                    attr,
                    prefix,
                    negated,
                })
            }
            _ => {
                // IS [NOT] NULL
                self.check_op(&attr, kind, Pred::IsNull, at)?;
                self.bump();
                let not = self.peek_kw("NOT");
                if not {
                    self.bump();
                }
                if !self.peek_kw("NULL") {
                    return self.unexpected(if not {
                        "NULL after IS NOT"
                    } else {
                        "NULL or NOT NULL after IS"
                    });
                }
                self.bump();
                Ok(Expr::IsNull { attr, negated: not })
            }
        }
    }

    /// A literal, typed for `kind`; returns it with its byte offset.
    fn value(&mut self, kind: Kind, attr: &str) -> PResult<(Literal, usize)> {
        let at = self.at();
        let raw = match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::Str(s)) => Raw::Str(s),
            Some(Tok::Number(n)) => Raw::Num {
                negative: false,
                text: n,
            },
            Some(Tok::Minus) => match self.peek_at(1).map(|t| &t.tok) {
                Some(Tok::Number(n)) => {
                    let n = *n;
                    self.bump();
                    Raw::Num {
                        negative: true,
                        text: n,
                    }
                }
                _ => return fail(at, "'-' must be followed by a number"),
            },
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("TRUE") => Raw::Bool(true),
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("FALSE") => Raw::Bool(false),
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("NULL") => {
                return fail(at, "NULL is not a value; use IS NULL or IS NOT NULL");
            }
            Some(Tok::Ident(w)) if self.peek_at(1).is_some_and(|t| t.tok == Tok::LParen) => {
                return fail(
                    at,
                    format!("function calls are not supported ({}(…))", show_plain(w)),
                );
            }
            Some(Tok::Ident(w)) if is_language_keyword(w) || is_unsupported_sql_word(w) => {
                return self.unexpected("a value");
            }
            Some(Tok::Ident(w) | Tok::Quoted(w)) => {
                let msg = if self.attrs.type_of(w).is_some() || is_reserved_name(w) {
                    format!(
                        "comparing search attributes with each other is not supported \
                         ({attr} with {})",
                        show(w)
                    )
                } else {
                    format!(
                        "expected a value, found the bare word {}; quote strings with '…'",
                        show(w)
                    )
                };
                return fail(at, msg);
            }
            _ => return self.unexpected("a value"),
        };
        self.bump();
        match typed(kind, attr, raw) {
            Ok(l) => Ok((l, at)),
            Err(msg) => fail(at, msg),
        }
    }
}

/// Appends `e` to an AND (or OR) list, splicing in nested lists of the same kind.
fn push_flat(terms: &mut Vec<Expr>, e: Expr, or: bool) {
    match e {
        Expr::Or(inner) if or => terms.extend(inner),
        Expr::And(inner) if !or => terms.extend(inner),
        other => terms.push(other),
    }
}

/// 1-based character position of byte offset `at` in `text`.
pub(crate) fn char_position(text: &str, at: usize) -> usize {
    text.char_indices().take_while(|(i, _)| *i < at).count() + 1
}
