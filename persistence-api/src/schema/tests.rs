//! Tests of the schema engine.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;
use crate::error::{ErrorKind, Result, StoreError};

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

#[test]
fn version_ordering_is_numeric() {
    assert!(v("1.10") > v("1.9"));
    assert!(v("2.0") > v("1.99"));
    assert!(v("1.0.1") > v("1.0"));
    assert_eq!(v("1"), v("1.0"));
    assert_eq!(v("1.0.0"), v("1.0"));
    assert_eq!(v("v1.2"), v("1.2"));
    assert_eq!(v("1").to_string(), "1.0");
    assert_eq!(v("1.10").to_string(), "1.10");
    assert_eq!(v("1.2.3").to_string(), "1.2.3");
    let mut all = [v("1.10"), v("1.2"), v("0.9"), v("1.9"), v("1.0")];
    all.sort();
    let s: Vec<String> = all.iter().map(ToString::to_string).collect();
    assert_eq!(s, ["0.9", "1.0", "1.2", "1.9", "1.10"]);
    for bad in [
        "",
        "v",
        "1.",
        ".1",
        "1.a",
        "1..2",
        "-1",
        "1.2 3",
        "99999999999",
    ] {
        assert!(Version::parse(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn manifest_parsing() {
    let m = Manifest::parse(
        r#"{"version":"1.1","min_compatible_version":"1.0","description":"d","files":["a.sql","b.sql"]}"#,
    )
    .unwrap();
    assert_eq!(m.version, "1.1");
    assert_eq!(m.files, ["a.sql", "b.sql"]);
    let t = Manifest::parse(
        r#"{"CurrVersion":"1.2","MinCompatibleVersion":"1.2","Description":"x","SchemaUpdateCqlFiles":["s.sql"]}"#,
    )
    .unwrap();
    assert_eq!(t.min_compatible_version, "1.2");
    assert!(Manifest::parse(r#"{"version":"1.0"}"#).is_err());
    assert!(Manifest::parse("not json").is_err());
}

const V10: &str =
    r#"{"version":"1.0","min_compatible_version":"1.0","description":"base","files":["s.sql"]}"#;
const V11: &str =
    r#"{"version":"1.1","min_compatible_version":"1.0","description":"add b","files":["s.sql"]}"#;
const V12: &str =
    r#"{"version":"1.2","min_compatible_version":"1.1","description":"add c","files":["s.sql"]}"#;
const V110: &str =
    r#"{"version":"1.10","min_compatible_version":"1.1","description":"add d","files":["s.sql"]}"#;

fn set() -> SchemaSet {
    SchemaSet::from_embedded(
        "main",
        &[
            (
                "v1.10",
                V110,
                &[("s.sql", "CREATE TABLE IF NOT EXISTS d (x INT);")],
            ),
            (
                "v1.0",
                V10,
                &[("s.sql", "CREATE TABLE IF NOT EXISTS a (x INT);")],
            ),
            (
                "v1.2",
                V12,
                &[("s.sql", "CREATE TABLE IF NOT EXISTS c (x INT);")],
            ),
            (
                "v1.1",
                V11,
                &[("s.sql", "CREATE TABLE IF NOT EXISTS b (x INT);")],
            ),
        ],
    )
    .unwrap()
}

fn names(p: &[&SchemaVersion]) -> Vec<String> {
    p.iter().map(|x| x.version.to_string()).collect()
}

#[test]
fn set_loading_validates() {
    let s = set();
    assert_eq!(
        names(&s.versions.iter().collect::<Vec<_>>()),
        ["1.0", "1.1", "1.2", "1.10"]
    );
    assert_eq!(s.latest_version(), v("1.10"));
    // Directory/manifest mismatch, missing and extra files, bad names, bad statements.
    assert!(SchemaSet::from_embedded("main", &[("v1.1", V10, &[("s.sql", "")])]).is_err());
    assert!(SchemaSet::from_embedded("main", &[("v1.0", V10, &[])]).is_err());
    assert!(
        SchemaSet::from_embedded("main", &[("v1.0", V10, &[("s.sql", ""), ("x.sql", "")])])
            .is_err()
    );
    assert!(SchemaSet::from_embedded("bogus", &[("v1.0", V10, &[("s.sql", "")])]).is_err());
    assert!(SchemaSet::from_embedded("main", &[]).is_err());
    let err =
        SchemaSet::from_embedded("main", &[("v1.0", V10, &[("s.sql", "SELECT 1;")])]).unwrap_err();
    assert!(err.message().contains("SELECT"), "{err}");
    let dup = SchemaSet::from_embedded(
        "main",
        &[
            ("v1.0", V10, &[("s.sql", "")]),
            ("1.0", V10, &[("s.sql", "")]),
        ],
    );
    assert!(dup.is_err());
    let below = r#"{"version":"1.0","min_compatible_version":"1.1","files":[]}"#;
    assert!(SchemaSet::from_embedded("main", &[("v1.0", below, &[])]).is_err());
}

#[test]
fn plan_computation() {
    let s = set();
    assert_eq!(
        names(&plan(&s, None, None, None).unwrap()),
        ["1.0", "1.1", "1.2", "1.10"]
    );
    assert_eq!(
        names(&plan(&s, Some(&v("1.1")), None, None).unwrap()),
        ["1.2", "1.10"]
    );
    assert_eq!(
        names(&plan(&s, Some(&v("1.1")), None, Some(&v("1.2"))).unwrap()),
        ["1.2"]
    );
    assert!(plan(&s, Some(&v("1.10")), None, None).unwrap().is_empty());
    assert!(
        plan(&s, Some(&v("1.2")), None, Some(&v("1.2")))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        names(&plan(&s, None, None, Some(&v("1.0"))).unwrap()),
        ["1.0"]
    );
    // A dirty version is re-applied.
    assert_eq!(
        names(&plan(&s, Some(&v("1.0")), Some(&v("1.1")), None).unwrap()),
        ["1.1", "1.2", "1.10"]
    );
    assert_eq!(
        names(&plan(&s, None, Some(&v("1.0")), Some(&v("1.0"))).unwrap()),
        ["1.0"]
    );
    assert!(plan(&s, Some(&v("1.0")), Some(&v("1.2")), Some(&v("1.1"))).is_err());
    // Newer database, unknown target, downgrade.
    let e = plan(&s, Some(&v("1.11")), None, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(
        e.message(),
        "database schema 1.11 is newer than this binary's 1.10; upgrade durastore"
    );
    assert!(plan(&s, None, None, Some(&v("1.5"))).is_err());
    assert!(plan(&s, Some(&v("1.2")), None, Some(&v("1.1"))).is_err());
}

#[test]
fn splitting_statements() {
    let text = "-- header; with semicolon\n\
        CREATE TABLE a (x TEXT DEFAULT 'a;b', y TEXT DEFAULT 'it''s; fine');\n\
        /* block; comment */ INSERT INTO a VALUES ('--not a comment', 'x');\n\
        CREATE TABLE \"we;ird\" (`c;d` INT); -- trailing\n\
        DO $$ BEGIN PERFORM 1; END $$;\n\
        DO $body$ SELECT ';'; $body$;\n\
        CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = 1; DELETE FROM a; END;\n\
        CREATE TEMP TRIGGER u AFTER DELETE ON a BEGIN SELECT 1; END;\n\
        \n  ;  ;\n\
        ALTER TABLE a ADD COLUMN z INT";
    let got = split_statements(text);
    assert_eq!(
        got,
        [
            "CREATE TABLE a (x TEXT DEFAULT 'a;b', y TEXT DEFAULT 'it''s; fine')",
            "INSERT INTO a VALUES ('--not a comment', 'x')",
            "CREATE TABLE \"we;ird\" (`c;d` INT)",
            "DO $$ BEGIN PERFORM 1; END $$",
            "DO $body$ SELECT ';'; $body$",
            "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = 1; DELETE FROM a; END",
            "CREATE TEMP TRIGGER u AFTER DELETE ON a BEGIN SELECT 1; END",
            "ALTER TABLE a ADD COLUMN z INT",
        ]
    );
    assert!(split_statements("-- only a comment\n/* and this */").is_empty());
    // Unterminated quotes and comments do not loop or panic.
    assert_eq!(split_statements("SELECT 'abc"), ["SELECT 'abc"]);
    assert!(split_statements("/* never closed").is_empty());
    assert_eq!(split_statements("SELECT $1, $$x"), ["SELECT $1, $$x"]);
}

#[test]
fn records_from_stored_rows() {
    let t = Utc::now();
    let r = VersionRecord::from_stored("main", None, Some("1.2"), None).unwrap();
    assert_eq!(r.db_name, "main");
    assert_eq!(r.creation_time, DateTime::<Utc>::UNIX_EPOCH);
    assert_eq!(
        (r.curr_version, r.min_compatible_version),
        (v("1.2"), v("1.2"))
    );
    let r = VersionRecord::from_stored("main", Some(t), Some("1.2"), Some("1.1")).unwrap();
    assert_eq!((r.creation_time, r.min_compatible_version), (t, v("1.1")));
    let e = VersionRecord::from_stored("main", None, None, None).unwrap_err();
    assert_eq!(
        e.message(),
        "schema_version row for \"main\" has no curr_version"
    );
    let e = VersionRecord::from_stored("main", None, Some("x"), None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Internal);
    assert_eq!(
        e.message(),
        "schema_version.curr_version holds \"x\", which is not a schema version"
    );

    let h = HistoryRecord::from_stored(t, None, Some("1.0"), None, None).unwrap();
    assert_eq!(
        h,
        HistoryRecord {
            update_time: t,
            old_version: Version::zero(),
            new_version: v("1.0"),
            manifest_md5: String::new(),
            description: String::new(),
        }
    );
    let h = HistoryRecord::from_stored(
        t,
        Some("1.0"),
        Some("1.1"),
        Some("ab".into()),
        Some("d".into()),
    )
    .unwrap();
    assert_eq!(
        (h.old_version, h.manifest_md5, h.description),
        (v("1.0"), "ab".into(), "d".into())
    );
    assert!(HistoryRecord::from_stored(t, None, None, None, None).is_err());
}

#[test]
fn md5_vectors() {
    assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
    assert_eq!(
        md5_hex(b"message digest"),
        "f96b697d7cb7938d525a2f31aaf161d0"
    );
    assert_eq!(
        md5_hex(b"The quick brown fox jumps over the lazy dog"),
        "9e107d9d372bb6826bd81d3542a419d6"
    );
    assert_eq!(
        md5_hex(
            b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
        ),
        "57edf4a22be3c955ac49da2e2107b67a"
    );
}

/// `manifest_md5` is stored by every database that applied a version, so its byte layout
/// (name, NUL, text, NUL per file) must never change. Expected value from
/// `printf 'a.sql\0CREATE TABLE t (x INT);\n\0b.sql\0SELECT 1;\0' | md5sum`.
#[test]
fn checksum_layout_is_stable() {
    let version = SchemaVersion {
        version: v("1.0"),
        min_compatible_version: v("1.0"),
        description: "not part of the checksum".into(),
        files: vec![
            ("a.sql".into(), "CREATE TABLE t (x INT);\n".into()),
            ("b.sql".into(), "SELECT 1;".into()),
        ],
        data_steps: vec![],
    };
    assert_eq!(version.checksum(), "72bcbd8f8c21bdd96b623bd0146d38db");
}

#[test]
fn diff_reports_drift() {
    let col = |n: &str, t: &str, nullable: bool| ColumnDescription {
        name: n.into(),
        data_type: t.into(),
        nullable,
        default: None,
    };
    let mut exp = SchemaDescription::default();
    exp.tables.insert(
        "t".into(),
        TableDescription {
            columns: vec![col("a", "BIGINT", false), col("b", "VARCHAR(16)", true)],
            primary_key: vec!["a".into()],
            indexes: BTreeMap::from([(
                "t_b".to_string(),
                IndexDescription {
                    unique: false,
                    columns: vec!["b".into()],
                },
            )]),
        },
    );
    exp.tables
        .insert("gone".into(), TableDescription::default());
    let mut live = exp.clone();
    assert!(diff(&exp, &live).is_empty());
    live.tables.remove("gone");
    live.tables
        .insert("extra".into(), TableDescription::default());
    let t = live.tables.get_mut("t").unwrap();
    t.columns = vec![col("a", "bigint", true), col("c", "INT", true)];
    t.indexes.clear();
    let d = diff(&exp, &live);
    assert_eq!(
        d,
        [
            "missing table gone",
            "table t: column a is nullable, expected NOT NULL",
            "table t: missing column b",
            "table t: unexpected column c",
            "table t: missing index t_b",
            "unexpected table extra",
        ]
    );
    assert_eq!(normalize_type("varchar ( 16 )"), "VARCHAR(16)");
    assert_eq!(normalize_type("decimal(10, 2)"), "DECIMAL(10,2)");
}

/// An in-memory driver: "tables" are statement texts; can fail at a chosen statement.
#[derive(Default)]
struct Fake {
    tables: Mutex<bool>,
    executed: Mutex<Vec<String>>,
    version: Mutex<Option<VersionRecord>>,
    history: Mutex<Vec<HistoryRecord>>,
    fail_on: Mutex<Option<String>>,
    // Data steps run, in order; a step named here fails once.
    steps: Mutex<Vec<String>>,
    fail_step: Mutex<Option<String>>,
}

#[async_trait]
impl SchemaDriver for Fake {
    fn backend(&self) -> &str {
        "fake"
    }
    fn db_name(&self) -> &str {
        "main"
    }
    fn version_table_statements(&self) -> Vec<String> {
        vec!["CREATE TABLE IF NOT EXISTS schema_version (…)".into()]
    }
    async fn version_tables_exist(&self) -> Result<bool> {
        Ok(*self.tables.lock().unwrap())
    }
    async fn begin(&self) -> Result<()> {
        Ok(())
    }
    async fn end(&self, _commit: bool) -> Result<()> {
        Ok(())
    }
    async fn execute(&self, statement: &str) -> Result<ExecOutcome> {
        if self.fail_on.lock().unwrap().as_deref() == Some(statement) {
            return Err(StoreError::new(ErrorKind::Unavailable, "connection cut"));
        }
        if statement.contains("schema_version") {
            *self.tables.lock().unwrap() = true;
        }
        let mut ex = self.executed.lock().unwrap();
        let already = ex.iter().any(|s| s == statement);
        ex.push(statement.to_string());
        Ok(if already {
            ExecOutcome::AlreadyApplied(format!("{statement} exists"))
        } else {
            ExecOutcome::Applied
        })
    }
    async fn read_version(&self) -> Result<Option<VersionRecord>> {
        Ok(self.version.lock().unwrap().clone())
    }
    async fn read_history(&self) -> Result<Vec<HistoryRecord>> {
        Ok(self.history.lock().unwrap().clone())
    }
    async fn insert_history(&self, record: &HistoryRecord) -> Result<()> {
        self.history.lock().unwrap().push(record.clone());
        Ok(())
    }
    async fn finish_version(
        &self,
        version: &VersionRecord,
        remove: &[HistoryRecord],
        done: &HistoryRecord,
    ) -> Result<()> {
        *self.version.lock().unwrap() = Some(version.clone());
        let mut h = self.history.lock().unwrap();
        h.retain(|r| !remove.iter().any(|x| x.update_time == r.update_time));
        h.push(done.clone());
        Ok(())
    }
    async fn data_step(&self, name: &str) -> Result<String> {
        if self.fail_step.lock().unwrap().take().as_deref() == Some(name) {
            return Err(StoreError::new(ErrorKind::Unavailable, "connection cut"));
        }
        self.steps.lock().unwrap().push(name.to_string());
        // A step runs after every statement of its version.
        let after = self.executed.lock().unwrap().len();
        Ok(format!("ran after {after} statements"))
    }
    async fn describe(&self) -> Result<SchemaDescription> {
        let mut d = SchemaDescription::default();
        for s in self.executed.lock().unwrap().iter() {
            d.tables.insert(s.clone(), TableDescription::default());
        }
        Ok(d)
    }
}

fn opts(target: Option<&str>, dry_run: bool) -> ApplyOptions {
    ApplyOptions {
        target: target.map(v),
        dry_run,
    }
}

#[tokio::test]
async fn setup_update_crash_resume_and_newer() {
    let s = set();
    let d = Fake::default();
    // Update before setup is refused with a hint.
    let e = update(&s, &d, &opts(None, false)).await.unwrap_err();
    assert!(e.message().contains("schema setup"), "{e}");

    // Dry run writes nothing.
    let r = setup(&s, &d, &opts(Some("1.1"), true)).await.unwrap();
    assert!(r.dry_run);
    assert_eq!(r.statements().len(), 3);
    assert!(d.executed.lock().unwrap().is_empty());

    let r = setup(&s, &d, &opts(Some("1.1"), false)).await.unwrap();
    assert_eq!(r.to, Some(v("1.1")));
    assert_eq!(r.applied.len(), 2);
    let st = status(&s, &d).await.unwrap();
    assert_eq!(st.current, Some(v("1.1")));
    assert_eq!(st.pending, [v("1.2"), v("1.10")]);
    assert_eq!(st.dirty, None);
    assert_eq!(d.history.lock().unwrap().len(), 2);

    // Crash in 1.2: the marker stays, status reports it dirty, update re-applies it.
    *d.fail_on.lock().unwrap() = Some("CREATE TABLE IF NOT EXISTS c (x INT)".into());
    let e = update(&s, &d, &opts(None, false)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    let st = status(&s, &d).await.unwrap();
    assert_eq!(
        (st.current.clone(), st.dirty.clone()),
        (Some(v("1.1")), Some(v("1.2")))
    );
    *d.fail_on.lock().unwrap() = None;
    let r = update(&s, &d, &opts(None, false)).await.unwrap();
    assert_eq!(r.applied.len(), 2);
    assert!(r.applied[0].reapplied);
    let st = status(&s, &d).await.unwrap();
    assert_eq!((st.current, st.dirty), (Some(v("1.10")), None));
    assert!(
        !d.history
            .lock()
            .unwrap()
            .iter()
            .any(HistoryRecord::is_in_progress)
    );
    assert_eq!(d.history.lock().unwrap().len(), 4);

    // Already up to date: success, nothing to do; setup again too.
    assert!(
        update(&s, &d, &opts(None, false))
            .await
            .unwrap()
            .up_to_date()
    );
    assert!(
        setup(&s, &d, &opts(None, false))
            .await
            .unwrap()
            .up_to_date()
    );

    // Verify against a fresh scratch is clean; a tampered checksum is drift.
    let scratch = Fake::default();
    let rep = verify(&s, &d, &scratch).await.unwrap();
    assert!(rep.is_clean(), "{:?}", rep.drift);
    d.history.lock().unwrap()[0].manifest_md5 = "0".into();
    let rep = verify(&s, &d, &Fake::default()).await.unwrap();
    assert_eq!(rep.drift.len(), 1, "{:?}", rep.drift);

    // A newer database is refused by update and verify, but status reports it.
    d.version.lock().unwrap().as_mut().unwrap().curr_version = v("1.13");
    let e = update(&s, &d, &opts(None, false)).await.unwrap_err();
    assert_eq!(
        e.message(),
        "database schema 1.13 is newer than this binary's 1.10; upgrade durastore"
    );
    assert!(verify(&s, &d, &Fake::default()).await.is_err());
    assert!(status(&s, &d).await.unwrap().newer_than_binary);
}

#[tokio::test]
async fn data_steps_run_after_the_files_and_again_after_a_crash() {
    let v11 = r#"{"version":"1.1","min_compatible_version":"1.0","description":"rehash",
        "files":["s.sql"],"data_steps":["rehash"]}"#;
    let s = SchemaSet::from_embedded(
        "main",
        &[
            (
                "v1.0",
                V10,
                &[("s.sql", "CREATE TABLE IF NOT EXISTS a (x INT);")],
            ),
            ("v1.1", v11, &[("s.sql", "ALTER TABLE a ADD COLUMN y INT;")]),
        ],
    )
    .unwrap();
    assert_eq!(s.versions[1].data_steps, ["rehash"]);
    // The step is part of the version's checksum.
    let mut without = s.versions[1].clone();
    without.data_steps.clear();
    assert_ne!(without.checksum(), s.versions[1].checksum());

    let d = Fake::default();
    setup(&s, &d, &opts(Some("1.0"), false)).await.unwrap();
    assert!(d.steps.lock().unwrap().is_empty());

    // A dry run names the step and runs nothing.
    let r = update(&s, &d, &opts(None, true)).await.unwrap();
    assert_eq!(r.applied[0].data_steps, ["rehash"]);
    assert!(r.applied[0].data_step_reports.is_empty());
    assert!(d.steps.lock().unwrap().is_empty());

    // A failing step leaves the version half-applied; the next update runs it again.
    *d.fail_step.lock().unwrap() = Some("rehash".into());
    let e = update(&s, &d, &opts(None, false)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(
        e.context()
            .iter()
            .any(|(k, v)| *k == "data_step" && v == "rehash"),
        "{e}"
    );
    let st = status(&s, &d).await.unwrap();
    assert_eq!((st.current, st.dirty), (Some(v("1.0")), Some(v("1.1"))));
    let r = update(&s, &d, &opts(None, false)).await.unwrap();
    assert!(r.applied[0].reapplied);
    assert_eq!(r.applied[0].data_step_reports.len(), 1);
    assert_eq!(*d.steps.lock().unwrap(), ["rehash"]);
    let st = status(&s, &d).await.unwrap();
    assert_eq!((st.current, st.dirty), (Some(v("1.1")), None));

    // A driver without the step refuses it by name.
    let e = SchemaDriver::data_step(&NoStepsProbe, "rehash")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(e.message().contains("\"rehash\""), "{e}");
}

/// A driver that keeps the default `data_step`.
struct NoStepsProbe;

#[async_trait]
impl SchemaDriver for NoStepsProbe {
    fn backend(&self) -> &str {
        "probe"
    }
    fn db_name(&self) -> &str {
        "main"
    }
    fn version_table_statements(&self) -> Vec<String> {
        Vec::new()
    }
    async fn version_tables_exist(&self) -> Result<bool> {
        Ok(false)
    }
    async fn begin(&self) -> Result<()> {
        Ok(())
    }
    async fn end(&self, _commit: bool) -> Result<()> {
        Ok(())
    }
    async fn execute(&self, _statement: &str) -> Result<ExecOutcome> {
        Ok(ExecOutcome::Applied)
    }
    async fn read_version(&self) -> Result<Option<VersionRecord>> {
        Ok(None)
    }
    async fn read_history(&self) -> Result<Vec<HistoryRecord>> {
        Ok(Vec::new())
    }
    async fn insert_history(&self, _record: &HistoryRecord) -> Result<()> {
        Ok(())
    }
    async fn finish_version(
        &self,
        _version: &VersionRecord,
        _remove: &[HistoryRecord],
        _done: &HistoryRecord,
    ) -> Result<()> {
        Ok(())
    }
    async fn describe(&self) -> Result<SchemaDescription> {
        Ok(SchemaDescription::default())
    }
}
