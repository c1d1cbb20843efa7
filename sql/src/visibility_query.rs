//! Translation of a parsed visibility filter ([`Expr`]) into a SQL condition with bind
//! parameters.
//!
//! The translation never sees query text: attribute names are resolved through the namespace's
//! [`Registry`] to the fixed column names of [`crate::visibility_columns`], and every literal
//! becomes a bind parameter. It reproduces the reference meaning of
//! [`durastore_api::query::evaluate`] (docs/architecture.md#visibility-query-semantics) with
//! SQL's own three-valued logic:
//!
//! - scalar comparisons, `IN`, `BETWEEN` and prefix tests on a NULL column are already unknown
//!   in SQL, and `NOT unknown` is unknown, so `NOT e` translates to `NOT (e)`;
//! - the JSON-array tests (KeywordList contains, Text token match) are `EXISTS`-like and would
//!   be *false* on a NULL column, so they are wrapped as
//!   `CASE WHEN col IS NULL THEN NULL ELSE (test) END` to stay unknown when the attribute is
//!   absent;
//! - an empty `IN ()` list is false (true for `NOT IN`) for a present value and unknown for an
//!   absent one, as in the evaluator.

use durastore_api::query::{CompareOp, Expr, Literal};
use durastore_api::{Result, StoreError};

use crate::dialect::{Dialect, placeholders};
use crate::value::Value;
use crate::visibility_columns::{Column, Kind, Registry, datetime_bound, token_set};

/// Deepest expression nesting translated (the parser stops at 100 levels; this only guards
/// the recursion against hand-built trees).
const MAX_DEPTH: usize = 512;

/// A SQL condition and its bind parameters, in order.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Condition {
    /// SQL text with `?` placeholders.
    pub sql: String,
    /// Bind parameters.
    pub params: Vec<Value>,
}

/// Translates `expr` for the namespace whose attributes `registry` describes.
pub(crate) fn translate(
    expr: &Expr,
    registry: &Registry,
    dialect: &dyn Dialect,
) -> Result<Condition> {
    let mut t = Translator {
        registry,
        dialect,
        out: Condition::default(),
    };
    t.expr(expr, 0)?;
    Ok(t.out)
}

struct Translator<'a> {
    registry: &'a Registry,
    dialect: &'a dyn Dialect,
    out: Condition,
}

fn bad(msg: impl Into<String>) -> StoreError {
    StoreError::invalid_argument(msg)
}

fn op_sql(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "=",
        CompareOp::Ne => "<>",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
    }
}

fn check_string(attr: &str, s: &str) -> Result<()> {
    if s.contains('\0') {
        return Err(bad(format!(
            "query: the value for {attr} contains a NUL character"
        )));
    }
    Ok(())
}

impl Translator<'_> {
    fn push(&mut self, sql: &str) {
        self.out.sql.push_str(sql);
    }

    fn column(&self, attr: &str) -> Result<Column> {
        self.registry
            .query_column(attr)
            .ok_or_else(|| bad(format!("query: unknown search attribute {attr:?}")))
    }

    fn expr(&mut self, e: &Expr, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(bad("query: the filter is nested too deeply"));
        }
        match e {
            Expr::And(terms) => self.junction(terms, " AND ", "1 = 1", depth),
            Expr::Or(terms) => self.junction(terms, " OR ", "1 = 0", depth),
            Expr::Not(inner) => {
                self.push("NOT (");
                self.expr(inner, depth + 1)?;
                self.push(")");
                Ok(())
            }
            Expr::Compare { attr, op, value } => self.compare(attr, *op, value),
            Expr::In {
                attr,
                values,
                negated,
            } => self.in_list(attr, values, *negated),
            Expr::Between {
                attr,
                low,
                high,
                negated,
            } => self.between(attr, low, high, *negated),
            Expr::StartsWith {
                attr,
                prefix,
                negated,
            } => self.starts_with(attr, prefix, *negated),
            Expr::IsNull { attr, negated } => {
                let c = self.column(attr)?;
                let not = if *negated { " NOT" } else { "" };
                self.push(&format!("({} IS{not} NULL)", c.name));
                Ok(())
            }
        }
    }

    fn junction(&mut self, terms: &[Expr], sep: &str, empty: &str, depth: usize) -> Result<()> {
        if terms.is_empty() {
            self.push(empty);
            return Ok(());
        }
        self.push("(");
        for (i, t) in terms.iter().enumerate() {
            if i > 0 {
                self.push(sep);
            }
            self.expr(t, depth + 1)?;
        }
        self.push(")");
        Ok(())
    }

    /// A literal as the bind value of a scalar column of kind `c.kind`.
    fn scalar(&self, attr: &str, c: Column, lit: &Literal) -> Result<Value> {
        let mismatch = || {
            bad(format!(
                "query: {lit:?} cannot be compared with {attr} ({:?})",
                c.kind
            ))
        };
        Ok(match (c.kind, lit) {
            (Kind::Keyword, Literal::String(s)) => {
                check_string(attr, s)?;
                Value::Text(s.clone())
            }
            (Kind::Datetime, Literal::Datetime(t)) => Value::Text(datetime_bound(t)),
            (Kind::Int, Literal::Int(i)) => Value::Int(*i),
            (Kind::Double, Literal::Double(d)) if d.is_finite() => Value::Double(*d),
            (Kind::Double, Literal::Int(i)) => Value::Double(*i as f64),
            (Kind::Bool, Literal::Bool(b)) => Value::Bool(*b),
            (Kind::Status, Literal::Status(s)) => Value::Int(i64::from(s.as_i32())),
            _ => return Err(mismatch()),
        })
    }

    /// The strings of literals for a JSON-array column.
    fn strings(&self, attr: &str, lits: &[Literal]) -> Result<Vec<String>> {
        lits.iter()
            .map(|l| match l {
                Literal::String(s) => {
                    check_string(attr, s)?;
                    Ok(s.clone())
                }
                other => Err(bad(format!(
                    "query: {other:?} cannot be compared with {attr}"
                ))),
            })
            .collect()
    }

    /// `CASE WHEN col IS NULL THEN NULL ELSE [NOT] (col contains any of values) END`.
    fn json_test(&mut self, c: Column, values: &[String], negated: bool) {
        let not = if negated { "NOT " } else { "" };
        if values.is_empty() {
            // Nothing to find: false for a present value (true when negated).
            self.push(&format!(
                "(CASE WHEN {col} IS NULL THEN NULL ELSE {not}(1 = 0) END)",
                col = c.name
            ));
            return;
        }
        let (test, params) = self.dialect.json_array_contains_any(c.name, values);
        self.push(&format!(
            "(CASE WHEN {col} IS NULL THEN NULL ELSE {not}({test}) END)",
            col = c.name
        ));
        self.out.params.extend(params);
    }

    fn compare(&mut self, attr: &str, op: CompareOp, value: &Literal) -> Result<()> {
        let c = self.column(attr)?;
        let eq_only = |op: CompareOp| -> Result<bool> {
            match op {
                CompareOp::Eq => Ok(false),
                CompareOp::Ne => Ok(true),
                _ => Err(bad(format!(
                    "query: {attr} supports only = and != of the comparison operators"
                ))),
            }
        };
        match c.kind {
            Kind::KeywordList => {
                let negated = eq_only(op)?;
                let v = self.strings(attr, std::slice::from_ref(value))?;
                self.json_test(c, &v, negated);
            }
            Kind::Text => {
                let negated = eq_only(op)?;
                let v = self.strings(attr, std::slice::from_ref(value))?;
                let tokens: Vec<String> = v.iter().flat_map(|s| token_set(s)).collect();
                self.json_test(c, &tokens, negated);
            }
            Kind::Status if !matches!(op, CompareOp::Eq | CompareOp::Ne) => {
                return Err(bad(format!(
                    "query: {attr} supports only =, !=, IN and NOT IN"
                )));
            }
            _ => {
                let v = self.scalar(attr, c, value)?;
                self.push(&format!("({} {} ?)", c.name, op_sql(op)));
                self.out.params.push(v);
            }
        }
        Ok(())
    }

    fn in_list(&mut self, attr: &str, values: &[Literal], negated: bool) -> Result<()> {
        let c = self.column(attr)?;
        match c.kind {
            Kind::KeywordList => {
                let v = self.strings(attr, values)?;
                self.json_test(c, &v, negated);
            }
            Kind::Text => {
                return Err(bad(format!(
                    "query: {attr} is a Text attribute; use = or !="
                )));
            }
            _ if values.is_empty() => {
                let not = if negated { "NOT " } else { "" };
                self.push(&format!(
                    "(CASE WHEN {col} IS NULL THEN NULL ELSE {not}(1 = 0) END)",
                    col = c.name
                ));
            }
            _ => {
                let vals = values
                    .iter()
                    .map(|l| self.scalar(attr, c, l))
                    .collect::<Result<Vec<_>>>()?;
                let not = if negated { " NOT" } else { "" };
                self.push(&format!(
                    "({}{not} IN ({}))",
                    c.name,
                    placeholders(vals.len())
                ));
                self.out.params.extend(vals);
            }
        }
        Ok(())
    }

    fn between(&mut self, attr: &str, low: &Literal, high: &Literal, negated: bool) -> Result<()> {
        let c = self.column(attr)?;
        if matches!(c.kind, Kind::KeywordList | Kind::Text | Kind::Status) {
            return Err(bad(format!("query: {attr} does not support BETWEEN")));
        }
        let lo = self.scalar(attr, c, low)?;
        let hi = self.scalar(attr, c, high)?;
        let not = if negated { " NOT" } else { "" };
        self.push(&format!("({}{not} BETWEEN ? AND ?)", c.name));
        self.out.params.push(lo);
        self.out.params.push(hi);
        Ok(())
    }

    fn starts_with(&mut self, attr: &str, prefix: &str, negated: bool) -> Result<()> {
        let c = self.column(attr)?;
        if c.kind != Kind::Keyword {
            return Err(bad(format!(
                "query: STARTS_WITH needs a Keyword attribute, {attr} is not one"
            )));
        }
        check_string(attr, prefix)?;
        let (test, params) = self.dialect.starts_with(c.name, prefix);
        let not = if negated { "NOT " } else { "" };
        self.push(&format!("({not}({test}))"));
        self.out.params.extend(params);
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::dialect::SqliteDialect;
    use durastore_api::WorkflowStatus;
    use durastore_api::query::SearchAttributeType;

    fn registry() -> Registry {
        let mut r = Registry::default();
        r.custom.insert(
            "CustomKeywordField".into(),
            ("Keyword01", SearchAttributeType::Keyword),
        );
        r.custom.insert(
            "CustomTextField".into(),
            ("Text01", SearchAttributeType::Text),
        );
        r.custom.insert(
            "Tags".into(),
            ("KeywordList02", SearchAttributeType::KeywordList),
        );
        r
    }

    fn s(x: &str) -> Literal {
        Literal::String(x.to_string())
    }

    #[test]
    fn leaves_and_junctions() {
        let e = Expr::And(vec![
            Expr::Compare {
                attr: "CustomKeywordField".into(),
                op: CompareOp::Ne,
                value: s("a'; DROP TABLE x; --"),
            },
            Expr::Not(Box::new(Expr::Or(vec![
                Expr::In {
                    attr: "ExecutionStatus".into(),
                    values: vec![Literal::Status(WorkflowStatus::Running)],
                    negated: true,
                },
                Expr::IsNull {
                    attr: "CloseTime".into(),
                    negated: false,
                },
            ]))),
        ]);
        let c = translate(&e, &registry(), &SqliteDialect).unwrap();
        assert_eq!(
            c.sql,
            "((Keyword01 <> ?) AND NOT (((status NOT IN (?)) OR (close_time IS NULL))))"
        );
        assert_eq!(
            c.params,
            vec![Value::Text("a'; DROP TABLE x; --".into()), Value::Int(1)]
        );
    }

    #[test]
    fn json_tests_stay_unknown_when_absent() {
        let e = Expr::Compare {
            attr: "Tags".into(),
            op: CompareOp::Ne,
            value: s("x"),
        };
        let c = translate(&e, &registry(), &SqliteDialect).unwrap();
        assert_eq!(
            c.sql,
            "(CASE WHEN KeywordList02 IS NULL THEN NULL ELSE NOT (EXISTS (SELECT 1 FROM json_each(KeywordList02) WHERE json_each.value IN (?))) END)"
        );
        let e = Expr::Compare {
            attr: "CustomTextField".into(),
            op: CompareOp::Eq,
            value: s("Hello, WORLD hello"),
        };
        let c = translate(&e, &registry(), &SqliteDialect).unwrap();
        assert_eq!(
            c.params,
            vec![Value::Text("hello".into()), Value::Text("world".into())]
        );
        let e = Expr::In {
            attr: "WorkflowId".into(),
            values: vec![],
            negated: true,
        };
        let c = translate(&e, &registry(), &SqliteDialect).unwrap();
        assert_eq!(
            c.sql,
            "(CASE WHEN workflow_id IS NULL THEN NULL ELSE NOT (1 = 0) END)"
        );
    }

    #[test]
    fn prefix_and_between() {
        let e = Expr::StartsWith {
            attr: "WorkflowId".into(),
            prefix: "a%_".into(),
            negated: true,
        };
        let c = translate(&e, &registry(), &SqliteDialect).unwrap();
        assert_eq!(c.sql, "(NOT (instr(workflow_id, ?) = 1))");
        let e = Expr::Between {
            attr: "HistoryLength".into(),
            low: Literal::Int(1),
            high: Literal::Int(5),
            negated: false,
        };
        let c = translate(&e, &registry(), &SqliteDialect).unwrap();
        assert_eq!(c.sql, "(history_length BETWEEN ? AND ?)");
    }

    #[test]
    fn rejects_what_the_type_lacks() {
        let reg = registry();
        let bad_exprs = [
            Expr::Compare {
                attr: "Nope".into(),
                op: CompareOp::Eq,
                value: s("x"),
            },
            Expr::Compare {
                attr: "Tags".into(),
                op: CompareOp::Lt,
                value: s("x"),
            },
            Expr::Compare {
                attr: "HistoryLength".into(),
                op: CompareOp::Eq,
                value: s("x"),
            },
            Expr::StartsWith {
                attr: "CustomTextField".into(),
                prefix: "x".into(),
                negated: false,
            },
            Expr::Compare {
                attr: "WorkflowId".into(),
                op: CompareOp::Eq,
                value: s("a\0b"),
            },
            Expr::Compare {
                attr: "ExecutionStatus".into(),
                op: CompareOp::Lt,
                value: Literal::Status(WorkflowStatus::Running),
            },
        ];
        for e in bad_exprs {
            let err = translate(&e, &reg, &SqliteDialect).unwrap_err();
            assert_eq!(
                err.kind(),
                durastore_api::ErrorKind::InvalidArgument,
                "{e:?}"
            );
        }
    }
}
