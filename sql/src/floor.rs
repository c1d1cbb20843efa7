//! The floor of a SQL backend: the statements the store logic sent for one unit of work
//! (recorded by [`crate::record::RecordingDriver`]), replayed without the store logic.
//!
//! Two recorded units of the same workload differ only where a workflow differs from the next
//! (ids, task ids); those parameter positions become per-iteration variables, every other
//! parameter stays as recorded. An iteration `it` rewrites each variable deterministically, so
//! a value that appears in several statements (a run id in the execution row and in its
//! tasks) stays the same value within one iteration, and two iterations never collide.
//!
//! The template replays two ways: through a [`SqlDriver`] (the same pool and prepared
//! statements the adapter uses, minus the adapter) and, for PostgreSQL, as a pgbench script.

use std::fmt::Write as _;

use durastore_api::Result;
use durastore_api::replay::{
    is_uuid_text, is_varying_text, shape_error, vary_id_bytes, vary_int, vary_text,
};

use crate::dialect::rewrite_placeholders;
use crate::driver::SqlDriver;
use crate::record::{RecordedTx, StmtKind, TxKind};
use crate::value::Value;

pub use durastore_api::replay::{INT_STRIDE, MAX_ITERATION};

/// One parameter of a template statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// The same in every iteration.
    Const(Value),
    /// Rewritten per iteration from this recorded value.
    Vary(Value),
}

/// A statement of the template.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateStmt {
    /// SQL with `?` placeholders.
    pub sql: String,
    /// Its parameters.
    pub params: Vec<Param>,
    /// Query or execute.
    pub kind: StmtKind,
}

/// A transaction of the template.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateTx {
    /// How it runs.
    pub kind: TxKind,
    /// Its statements.
    pub stmts: Vec<TemplateStmt>,
    /// Whether it commits (else it rolls back, as recorded).
    pub commit: bool,
}

/// One unit of work as replayable statements.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// The transactions in order.
    pub txs: Vec<TemplateTx>,
}

impl Template {
    /// Derives the template from two units of the same workload recorded one after the other.
    /// Fails when they differ in anything but parameter values.
    pub fn derive(a: &[RecordedTx], b: &[RecordedTx]) -> Result<Self> {
        if a.len() != b.len() {
            return Err(shape_error(format!(
                "{} vs {} transactions",
                a.len(),
                b.len()
            )));
        }
        let mut txs = Vec::with_capacity(a.len());
        for (i, (ta, tb)) in a.iter().zip(b).enumerate() {
            if ta.kind != tb.kind
                || ta.committed != tb.committed
                || ta.stmts.len() != tb.stmts.len()
            {
                return Err(shape_error(format!("transaction {i} differs")));
            }
            let mut stmts = Vec::with_capacity(ta.stmts.len());
            for (sa, sb) in ta.stmts.iter().zip(&tb.stmts) {
                if sa.sql != sb.sql || sa.kind != sb.kind || sa.params.len() != sb.params.len() {
                    return Err(shape_error(format!(
                        "transaction {i}: `{}` vs `{}`",
                        sa.sql, sb.sql
                    )));
                }
                let params = sa
                    .params
                    .iter()
                    .zip(&sb.params)
                    .map(|(va, vb)| classify(va, vb))
                    .collect();
                stmts.push(TemplateStmt {
                    sql: sa.sql.clone(),
                    params,
                    kind: sa.kind,
                });
            }
            txs.push(TemplateTx {
                kind: ta.kind,
                stmts,
                commit: ta.committed,
            });
        }
        Ok(Self { txs })
    }

    /// Statements per unit.
    pub fn statements(&self) -> usize {
        self.txs.iter().map(|t| t.stmts.len()).sum()
    }

    /// Whether `other` (another recorded unit) has this template's statements, in order.
    pub fn same_shape(&self, other: &[RecordedTx]) -> bool {
        self.txs.len() == other.len()
            && self.txs.iter().zip(other).all(|(t, o)| {
                t.kind == o.kind
                    && t.stmts.len() == o.stmts.len()
                    && t.stmts.iter().zip(&o.stmts).all(|(s, os)| s.sql == os.sql)
            })
    }

    /// Runs iteration `it` (1..=[`MAX_ITERATION`]) through `driver`. A failing statement rolls
    /// its transaction back and ends the iteration with the error.
    pub async fn run(&self, driver: &dyn SqlDriver, it: u64) -> Result<()> {
        for tx in &self.txs {
            match tx.kind {
                TxKind::Autocommit => {
                    for s in &tx.stmts {
                        let params = instantiate(&s.params, it);
                        match s.kind {
                            StmtKind::Query => driver.query(&s.sql, &params).await.map(|_| ())?,
                            StmtKind::Execute => {
                                driver.execute(&s.sql, &params).await.map(|_| ())?
                            }
                        }
                    }
                }
                TxKind::ReadWrite | TxKind::ReadOnly => {
                    let mut t = if tx.kind == TxKind::ReadOnly {
                        driver.begin_read().await?
                    } else {
                        driver.begin().await?
                    };
                    for s in &tx.stmts {
                        let params = instantiate(&s.params, it);
                        let r = match s.kind {
                            StmtKind::Query => t.query(&s.sql, &params).await.map(|_| ()),
                            StmtKind::Execute => t.execute(&s.sql, &params).await.map(|_| ()),
                        };
                        if let Err(e) = r {
                            let _ = t.rollback().await;
                            return Err(e);
                        }
                    }
                    if tx.commit {
                        t.commit().await?;
                    } else {
                        t.rollback().await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The template as a pgbench script (PostgreSQL; run with `-M prepared` so each statement
    /// is parsed once per connection, as sqlx does). The iteration is `:it`, drawn at random
    /// from 1..=[`MAX_ITERATION`]; variables become SQL expressions of it, constants literals
    /// of the type the adapter binds.
    pub fn pgbench_script(&self) -> String {
        pgbench_script(std::slice::from_ref(self))
    }

    /// Writes the template's statements, one line each, as pgbench commands.
    fn write_pgbench(&self, out: &mut String) {
        for tx in &self.txs {
            match tx.kind {
                TxKind::Autocommit => {}
                TxKind::ReadWrite => out.push_str("BEGIN;\n"),
                TxKind::ReadOnly => {
                    out.push_str("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n")
                }
            }
            for s in &tx.stmts {
                let sql = rewrite_placeholders(&s.sql, |i, out| match s.params.get(i) {
                    Some(p) => out.push_str(&pg_expr(p)),
                    None => out.push_str("NULL"),
                });
                // One line per statement: pgbench reads a command up to its `;`, but keeping it on
                // one line makes the script easy to diff.
                let one_line: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
                out.push_str(&one_line);
                out.push_str(";\n");
            }
            match tx.kind {
                TxKind::Autocommit => {}
                _ if tx.commit => out.push_str("COMMIT;\n"),
                _ => out.push_str("ROLLBACK;\n"),
            }
        }
    }
}

/// One pgbench script for several templates (one per floor worker, each recorded on a shard
/// and task queues of its own): pgbench client `c` runs template `c % templates.len()`, as
/// [`Template::run`] does for driver-loop worker `c`. Run it with `-M prepared`.
pub fn pgbench_script(templates: &[Template]) -> String {
    let mut out = String::from(
        "-- durastore floor: the statements of recorded units, replayed by pgbench.\n",
    );
    let _ = writeln!(out, "\\set it random(1, {MAX_ITERATION})");
    match templates {
        [one] => one.write_pgbench(&mut out),
        _ => {
            for (i, t) in templates.iter().enumerate() {
                let branch = if i == 0 { "\\if" } else { "\\elif" };
                let _ = writeln!(out, "{branch} :client_id % {} = {i}", templates.len());
                t.write_pgbench(&mut out);
            }
            if !templates.is_empty() {
                out.push_str("\\endif\n");
            }
        }
    }
    out
}

/// Equal values are constants; values that differ between two workflows vary per iteration
/// when rewriting them keeps them valid (ids, task ids). Timestamps, JSON documents and blobs
/// that differ keep the first unit's value: they are data, not keys.
fn classify(a: &Value, b: &Value) -> Param {
    if a == b {
        return Param::Const(a.clone());
    }
    match a {
        Value::Int(_) => Param::Vary(a.clone()),
        Value::Bytes(x) if x.len() == 16 => Param::Vary(a.clone()),
        Value::Text(s) if is_varying_text(s) => Param::Vary(a.clone()),
        _ => Param::Const(a.clone()),
    }
}

/// The value of a variable in iteration `it`.
pub fn vary(v: &Value, it: u64) -> Value {
    match v {
        Value::Int(x) => Value::Int(vary_int(*x, it)),
        Value::Bytes(b) => Value::Bytes(vary_id_bytes(b, it).to_vec()),
        Value::Text(s) => Value::Text(vary_text(s, it)),
        other => other.clone(),
    }
}

fn instantiate(params: &[Param], it: u64) -> Vec<Value> {
    params
        .iter()
        .map(|p| match p {
            Param::Const(v) => v.clone(),
            Param::Vary(v) => vary(v, it),
        })
        .collect()
}

fn pg_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn pg_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A PostgreSQL literal of the type the adapter binds `v` as (see the postgres driver).
fn pg_literal(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Int(x) => format!("{x}::int8"),
        Value::Bool(b) => (if *b { "TRUE" } else { "FALSE" }).into(),
        Value::Double(x) => format!("'{x:?}'::float8"),
        Value::Text(s) => format!("{}::text", pg_string(s)),
        Value::Bytes(b) => format!("'\\x{}'::bytea", pg_hex(b)),
        Value::Time(t) => format!(
            "'{}'::timestamp",
            t.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f")
        ),
    }
}

/// A variable as a SQL expression of pgbench's `:it`, rewritten as [`vary`] does (the exact
/// values differ from the driver replay's; within one iteration they agree).
fn pg_vary(v: &Value) -> String {
    match v {
        Value::Int(x) => format!("({x}::int8 + :it::int8 * {INT_STRIDE})"),
        Value::Bytes(b) => format!("decode(md5({} || :it::text), 'hex')", pg_string(&pg_hex(b))),
        Value::Text(s) if is_uuid_text(s) => {
            format!("(md5({} || :it::text)::uuid::text)", pg_string(s))
        }
        Value::Text(s) => format!("({} || :it::text)", pg_string(&format!("{s}~"))),
        other => pg_literal(other),
    }
}

fn pg_expr(p: &Param) -> String {
    match p {
        Param::Const(v) => pg_literal(v),
        Param::Vary(v) => pg_vary(v),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::record::RecordedStmt;

    fn unit(wf: &str, run: &str, task: i64, at: &str) -> Vec<RecordedTx> {
        vec![RecordedTx {
            kind: TxKind::ReadWrite,
            committed: true,
            stmts: vec![
                RecordedStmt {
                    sql: "INSERT INTO t (wf, run, task, at, n) VALUES (?, ?, ?, ?, ?)".into(),
                    params: vec![
                        Value::Text(wf.into()),
                        Value::Text(run.into()),
                        Value::Int(task),
                        Value::Text(at.into()),
                        Value::Int(7),
                    ],
                    kind: StmtKind::Execute,
                },
                RecordedStmt {
                    sql: "SELECT 1 FROM t WHERE run = ? AND s = 'a?b'".into(),
                    params: vec![Value::Text(run.into())],
                    kind: StmtKind::Query,
                },
            ],
        }]
    }

    const RUN_A: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
    const RUN_B: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

    #[test]
    fn derive_marks_what_differs() {
        let a = unit("wf-1", RUN_A, 100, "2026-01-01T00:00:00.000000000Z");
        let b = unit("wf-2", RUN_B, 108, "2026-01-01T00:00:01.000000000Z");
        let t = Template::derive(&a, &b).unwrap();
        let p = &t.txs[0].stmts[0].params;
        assert!(matches!(p[0], Param::Vary(_)));
        assert!(matches!(p[1], Param::Vary(_)));
        assert!(matches!(p[2], Param::Vary(_)));
        // A differing datetime is data: kept as recorded.
        assert!(matches!(p[3], Param::Const(_)));
        assert_eq!(p[4], Param::Const(Value::Int(7)));
        assert_eq!(t.statements(), 2);
        assert!(t.same_shape(&unit("x", RUN_B, 1, "z")));
    }

    #[test]
    fn derive_refuses_different_shapes() {
        let a = unit("wf-1", RUN_A, 100, "x");
        let mut b = unit("wf-2", RUN_B, 108, "x");
        b[0].stmts.pop();
        assert!(Template::derive(&a, &b).is_err());
        b.clear();
        assert!(Template::derive(&a, &b).is_err());
    }

    #[test]
    fn iterations_agree_within_and_differ_across() {
        let run = Value::Text(RUN_A.into());
        assert_eq!(vary(&run, 5), vary(&run, 5));
        assert_ne!(vary(&run, 5), vary(&run, 6));
        let Value::Text(s) = vary(&run, 5) else {
            panic!()
        };
        assert!(is_uuid_text(&s), "{s}");
        // Task ids of one unit (spread < stride) never meet another iteration's.
        let (a, b) = (Value::Int(100), Value::Int(107));
        assert_ne!(vary(&a, 2), vary(&b, 1));
        assert_eq!(vary(&Value::Int(1), 1), Value::Int(1 + INT_STRIDE));
        let bytes = Value::Bytes(vec![1; 16]);
        let Value::Bytes(v) = vary(&bytes, 3) else {
            panic!()
        };
        assert_eq!(v.len(), 16);
    }

    #[test]
    fn pgbench_script_inlines_values_and_keeps_quoted_question_marks() {
        let a = unit("wf-1", RUN_A, 100, "2026-01-01T00:00:00.000000000Z");
        let b = unit("wf-2", RUN_B, 108, "2026-01-01T00:00:01.000000000Z");
        let s = Template::derive(&a, &b).unwrap().pgbench_script();
        assert!(s.contains(&format!("\\set it random(1, {MAX_ITERATION})")));
        assert!(s.contains("BEGIN;\nINSERT INTO t"), "{s}");
        assert!(s.contains("('wf-1~' || :it::text)"), "{s}");
        assert!(
            s.contains(&format!("(md5('{RUN_A}' || :it::text)::uuid::text)")),
            "{s}"
        );
        assert!(
            s.contains(&format!("(100::int8 + :it::int8 * {INT_STRIDE})")),
            "{s}"
        );
        assert!(s.contains("7::int8"), "{s}");
        assert!(s.contains("s = 'a?b';"), "{s}");
        assert!(s.ends_with("COMMIT;\n"), "{s}");
        assert_eq!(pg_literal(&Value::Text("it's".into())), "'it''s'::text");
        assert_eq!(pg_literal(&Value::Bytes(vec![0, 255])), "'\\x00ff'::bytea");
    }

    #[test]
    fn pgbench_script_gives_each_client_its_template() {
        let t1 = Template::derive(
            &unit("wf-1", RUN_A, 100, "x"),
            &unit("wf-2", RUN_B, 108, "x"),
        )
        .unwrap();
        let t2 =
            Template::derive(&unit("q-1", RUN_A, 900, "x"), &unit("q-2", RUN_B, 908, "x")).unwrap();
        let s = pgbench_script(&[t1.clone(), t2]);
        let first = s.find("\\if :client_id % 2 = 0\nBEGIN;").unwrap();
        let second = s.find("\\elif :client_id % 2 = 1\nBEGIN;").unwrap();
        assert!(first < second, "{s}");
        assert!(s[first..second].contains("('wf-1~' || :it::text)"), "{s}");
        assert!(s[second..].contains("('q-1~' || :it::text)"), "{s}");
        assert!(s.ends_with("COMMIT;\n\\endif\n"), "{s}");
        // One template: no branches.
        assert!(!pgbench_script(&[t1]).contains("\\if"));
    }
}
