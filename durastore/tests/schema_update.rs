//! Schema evolution on populated databases: a database set up at 1.0 and filled with rows the
//! way a 1.0 binary left them is taken to the latest version by `schema update`, keeps every row,
//! verifies clean, serves what it held through the stores, and resumes an update that stopped
//! halfway. One test per backend; a backend without a server URL is skipped with the reason
//! printed (a failure under `DURASTORE_REQUIRE`).
//!
//! How a "1.0 database with data" is made without a 1.0 binary: this binary fills a database at
//! the latest version, then the schema is taken back to 1.0 by dropping what later versions
//! added (found by comparing with a scratch database set up at 1.0), the version rows are set
//! back, and on SQL the task-queue `range_hash` is rewritten the way 1.0 computed it (FNV-1a).

use std::collections::BTreeMap;
use std::sync::Arc;

use durastore::factory::{SchemaTarget, open_schema};
use durastore::provision::{Require, create_test_database};
use durastore::registry::SchemaOpen;
use durastore_api::schema::{
    self, ApplyOptions, HistoryRecord, IN_PROGRESS_MARKER, SET_MAIN, Version,
};
use durastore_api::{
    ListWorkflowExecutionsRequest, NamespaceId, RunId, Stores, TaskQueueFlavor, TaskQueueKey,
    VisibilityRecord, WorkflowId, WorkflowKey,
};
use durastore_conformance::{Ctx, Opener, Outcome, all_cases, run_case};
use durastore_sql::{SqlDriver, Value};

/// The stores whose conformance cases fill the main store.
const FILLING_STORES: &[&str] = &[
    "shard",
    "execution",
    "history",
    "history_tasks",
    "task_queue",
    "queue",
    "queue_v1",
    "namespace",
    "cluster",
];

/// Tables keyed by `range_hash` on SQL.
const RANGE_HASH_TABLES: &[&str] = &["task_queues", "tasks", "task_queues_v2", "tasks_v2"];

/// Visibility records written before the update.
const VISIBILITY_RECORDS: usize = 7;

fn v10() -> Version {
    Version::parse("1.0").expect("version")
}

/// FNV-1a 32, what schema 1.0 stored as `range_hash`.
fn fnv1a(id: &[u8]) -> i64 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in id {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    i64::from(h)
}

/// The schema sets of the backend at `url` (`main`, and `visibility` where it has one).
fn sets(url: &str) -> Vec<&'static str> {
    durastore::factory::schema_sets(url)
        .expect("schema sets")
        .to_vec()
}

async fn target(url: &str, set: &str) -> SchemaTarget {
    open_schema(url, set, SchemaOpen::MustExist)
        .await
        .unwrap_or_else(|e| panic!("open schema {set}: {e}"))
}

/// Fills the main store through this binary's stores with the conformance cases of
/// [`FILLING_STORES`], and writes [`VISIBILITY_RECORDS`] visibility records if there is a
/// visibility store. Returns the namespace of those records.
async fn fill(url: &str) -> NamespaceId {
    let stores = durastore::open(url).await.expect("open for filling");
    let opener_url = url.to_string();
    let opener: Opener = Arc::new(move || {
        let u = opener_url.clone();
        Box::pin(async move { durastore::open(&u).await })
    });
    let ctx = Ctx::new(stores, Some(opener));
    let mut ran = 0;
    for case in all_cases()
        .iter()
        .filter(|c| FILLING_STORES.contains(&c.store))
    {
        let out = run_case(&ctx, case).await;
        assert!(
            out.outcome != Outcome::Failed,
            "filling case {} failed: {:?}",
            case.id,
            out.reason
        );
        ran += usize::from(out.outcome == Outcome::Passed);
    }
    assert!(ran > 50, "only {ran} filling cases ran");
    let ns = NamespaceId::new_random();
    if let Some(vis) = &ctx.stores.visibility {
        for i in 0..VISIBILITY_RECORDS {
            let key = WorkflowKey {
                namespace_id: ns,
                workflow_id: WorkflowId(format!("upd-{i}")),
                run_id: RunId::new_random(),
            };
            vis.record_started(VisibilityRecord::new(
                &key,
                "UpdateTest",
                chrono::Utc::now(),
                i as i64,
            ))
            .await
            .expect("record started");
        }
        vis.refresh().await.expect("refresh");
    }
    ctx.stores.backend.close().await.expect("close");
    ns
}

/// What a test reads back through the stores: task queues of both flavors and the visibility
/// records of `ns`.
async fn read_back(stores: &Stores, ns: NamespaceId) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    if stores.capability().list_task_queues
        && let Some(tq) = &stores.task_queue
    {
        for flavor in [TaskQueueFlavor::Classic, TaskQueueFlavor::Fair] {
            let mut keys: Vec<TaskQueueKey> = Vec::new();
            let mut token = None;
            loop {
                let page = tq
                    .list_task_queues(flavor, 100, token)
                    .await
                    .expect("list task queues");
                keys.extend(page.items.into_iter().map(|r| r.key));
                token = page.next_page_token;
                if token.is_none() {
                    break;
                }
            }
            // Each listed queue is found by its key: its range_hash is the one reads compute.
            for k in &keys {
                tq.get_task_queue(k)
                    .await
                    .unwrap_or_else(|e| panic!("get task queue {k:?}: {e}"));
            }
            seen.insert(format!("task queues ({flavor:?})"), keys.len());
        }
    }
    if let Some(vis) = &stores.visibility {
        let page = vis
            .list(ListWorkflowExecutionsRequest::new(ns, ""))
            .await
            .expect("list visibility");
        seen.insert("visibility records".into(), page.items.len());
    }
    seen
}

/// A raw SQL connection to the database at `url` (SQL backends).
async fn raw_sql(url: &str) -> Option<Box<dyn SqlDriver>> {
    let scheme = url.split(':').next().unwrap_or("");
    Some(match scheme {
        "sqlite" => Box::new(
            durastore_sqlite::connect(&durastore_sqlite::SqliteConfig::from_url(url).ok()?)
                .await
                .expect("connect"),
        ),
        "postgres" | "postgresql" => Box::new(
            durastore_postgres::connect(&durastore_postgres::PostgresConfig::from_url(url).ok()?)
                .await
                .expect("connect"),
        ),
        "mysql" | "mariadb" => Box::new(
            durastore_mysql::connect(&durastore_mysql::MysqlConfig::from_url(url).ok()?)
                .await
                .expect("connect"),
        ),
        _ => return None,
    })
}

/// Rows per table of every schema set's tables, by raw SQL.
async fn row_counts(url: &str, sql: &dyn SqlDriver) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for set in sets(url) {
        let desc = target(url, set)
            .await
            .driver
            .describe()
            .await
            .expect("describe");
        for table in desc.tables.keys() {
            let rows = sql
                .query(&format!("SELECT COUNT(*) FROM {table}"), &[])
                .await
                .expect("count");
            out.insert(table.clone(), rows[0].i64(0).expect("count value"));
        }
    }
    out
}

/// Rows per table of the main set in Cassandra keyspace `keyspace`, by CQL.
async fn cql_row_counts(url: &str, keyspace: &str) -> BTreeMap<String, i64> {
    let host = url
        .trim_start_matches("cassandra://")
        .split(['/', '?'])
        .next()
        .unwrap_or_default()
        .to_string();
    let session = scylla::client::session_builder::SessionBuilder::new()
        .known_node(host)
        .build()
        .await
        .expect("cql session");
    let desc = target(url, SET_MAIN)
        .await
        .driver
        .describe()
        .await
        .expect("describe");
    let mut out = BTreeMap::new();
    // The description also lists user-defined types (`type <name>`), which hold no rows.
    for table in desc.tables.keys().filter(|t| !t.starts_with("type ")) {
        let (n,): (i64,) = session
            .query_unpaged(format!("SELECT COUNT(*) FROM {keyspace}.{table}"), &[])
            .await
            .expect("count")
            .into_rows_result()
            .expect("rows")
            .single_row()
            .expect("one row");
        out.insert(table.clone(), n);
    }
    out
}

/// Rewrites each `(range_hash, task_queue_id)` key of the range-hash tables whose hash is not
/// `hash(id)` yet, stopping after `limit` keys (a crash halfway). Returns the keys rewritten.
async fn rewrite_hashes(
    sql: &dyn SqlDriver,
    hash_of: fn(&[u8]) -> i64,
    limit: Option<usize>,
) -> usize {
    let mut n = 0;
    for table in RANGE_HASH_TABLES {
        let pairs = sql
            .query(
                &format!("SELECT DISTINCT range_hash, task_queue_id FROM {table}"),
                &[],
            )
            .await
            .expect("select pairs");
        for row in pairs {
            let (hash, id) = (row.i64(0).expect("hash"), row.bytes(1).expect("id"));
            let new = hash_of(&id);
            if hash == new || limit.is_some_and(|l| n >= l) {
                continue;
            }
            sql.execute(
                &format!(
                    "UPDATE {table} SET range_hash = ? WHERE range_hash = ? AND task_queue_id = ?"
                ),
                &[Value::Int(new), Value::Int(hash), Value::Bytes(id)],
            )
            .await
            .expect("rewrite hash");
            n += 1;
        }
    }
    n
}

/// Takes schema set `set` back to 1.0: drops the indexes, columns and tables 1.0 does not have
/// (their rows go too: a 1.0 database never had them) and leaves the version tables as a 1.0
/// setup left them.
async fn downgrade(url: &str, backend: &str, set: &str) {
    let t = target(url, set).await;
    let scratch = t.scratch().await.expect("scratch");
    schema::setup(
        &t.set,
        scratch.as_ref(),
        &ApplyOptions {
            target: Some(v10()),
            dry_run: false,
        },
    )
    .await
    .expect("scratch at 1.0");
    let old = scratch.describe().await.expect("describe 1.0");
    scratch.dispose().await.expect("dispose scratch");
    let live = t.driver.describe().await.expect("describe live");
    let mut drops = Vec::new();
    for (name, table) in &live.tables {
        let Some(old_table) = old.tables.get(name) else {
            drops.push(format!("DROP TABLE {name}"));
            continue;
        };
        for index in table.indexes.keys() {
            if !old_table.indexes.contains_key(index) {
                drops.push(if backend == "mysql" {
                    format!("DROP INDEX {index} ON {name}")
                } else {
                    format!("DROP INDEX {index}")
                });
            }
        }
        for col in &table.columns {
            if !old_table.columns.iter().any(|c| c.name == col.name) {
                drops.push(if backend == "cassandra" {
                    format!("ALTER TABLE {name} DROP {}", col.name)
                } else {
                    format!("ALTER TABLE {name} DROP COLUMN {}", col.name)
                });
            }
        }
    }
    for d in &drops {
        t.driver
            .execute(d)
            .await
            .unwrap_or_else(|e| panic!("{d}: {e}"));
    }
    let history = t.driver.read_history().await.expect("history");
    let first = history
        .iter()
        .find(|h| h.new_version == v10())
        .expect("1.0 history row")
        .clone();
    let version = t
        .driver
        .read_version()
        .await
        .expect("version")
        .expect("version row");
    t.driver
        .finish_version(
            &schema::VersionRecord {
                curr_version: v10(),
                min_compatible_version: v10(),
                ..version
            },
            &history,
            &first,
        )
        .await
        .expect("version rows back to 1.0");
    eprintln!("{backend}: {set} back to 1.0 with {drops:?}");
}

async fn update_all(url: &str) -> Vec<schema::ApplyReport> {
    let mut reports = Vec::new();
    for set in sets(url) {
        let t = target(url, set).await;
        reports.push(
            schema::update(&t.set, t.driver.as_ref(), &ApplyOptions::default())
                .await
                .unwrap_or_else(|e| panic!("update {set}: {e}")),
        );
    }
    reports
}

async fn verify_all(url: &str) {
    for set in sets(url) {
        let t = target(url, set).await;
        let scratch = t.scratch().await.expect("scratch");
        let rep = schema::verify(&t.set, t.driver.as_ref(), scratch.as_ref()).await;
        scratch.dispose().await.expect("dispose scratch");
        let rep = rep.unwrap_or_else(|e| panic!("verify {set}: {e}"));
        assert!(rep.is_clean(), "{set} drift after update: {:?}", rep.drift);
    }
}

/// The whole scenario on one database.
async fn scenario(backend: &str, url: &str, db_name: &str) {
    let latest: BTreeMap<&str, Version> = {
        let mut m = BTreeMap::new();
        for set in sets(url) {
            m.insert(set, target(url, set).await.set.latest_version());
        }
        m
    };
    if latest[SET_MAIN] == v10() {
        eprintln!("{backend}: main schema has no version after 1.0 yet; nothing to update");
        return;
    }
    let ns = fill(url).await;
    let before_api = read_back(&durastore::open(url).await.expect("open"), ns).await;
    // Back to what a 1.0 binary leaves: 1.0 tables and version rows, and FNV range hashes (SQL).
    for set in latest.keys() {
        downgrade(url, backend, set).await;
    }
    let raw = raw_sql(url).await;
    let counts = async || match &raw {
        Some(sql) => row_counts(url, sql.as_ref()).await,
        None => cql_row_counts(url, db_name).await,
    };
    let before_rows = counts().await;
    let fnv_keys = match &raw {
        Some(sql) => rewrite_hashes(sql.as_ref(), fnv1a, None).await,
        None => 0,
    };
    eprintln!("{backend} ({db_name}): a 1.0 database with data");
    // A server database is not updated behind the operator's back (SQLite, owned by the
    // process that opens it, updates itself on open instead; this test updates it explicitly).
    if backend != "sqlite" {
        let e = durastore::open(url)
            .await
            .map(|_| ())
            .expect_err("a binary must refuse an older server schema");
        assert!(e.message().contains("schema update"), "{backend}: {e}");
        assert_eq!(
            e.kind(),
            durastore_api::ErrorKind::ConditionFailed,
            "{backend}: {e}"
        );
    }

    // A crash halfway through the update is simulated on top: the version marked in progress,
    // half of its statements run, and on SQL half of the keys already rewritten by the step.
    let t = target(url, SET_MAIN).await;
    let step = t.set.latest().expect("latest").clone();
    t.driver
        .insert_history(&HistoryRecord {
            update_time: chrono::Utc::now(),
            old_version: v10(),
            new_version: step.version.clone(),
            manifest_md5: step.checksum(),
            description: format!("{IN_PROGRESS_MARKER}{}", step.description),
        })
        .await
        .expect("in-progress marker");
    let stmts = step.statements();
    for s in &stmts[..stmts.len() / 2] {
        t.driver.execute(s).await.expect("half of the statements");
    }
    // The data step's own idea of "done" is Temporal's hash: undo half of the FNV rewrite.
    if let Some(sql) = &raw {
        rewrite_hashes(sql.as_ref(), durastore_sql::range_hash, Some(fnv_keys / 2)).await;
    }
    let st = schema::status(&t.set, t.driver.as_ref())
        .await
        .expect("status");
    assert_eq!(
        st.dirty.as_ref(),
        Some(&step.version),
        "{backend}: not dirty"
    );

    let reports = update_all(url).await;
    let main = &reports[0];
    assert_eq!(main.from, Some(v10()), "{backend}");
    assert_eq!(main.to.as_ref(), Some(&latest[SET_MAIN]), "{backend}");
    assert!(main.applied[0].reapplied, "{backend}: resumed version");
    if raw.is_some() {
        let report = main.applied[0].data_step_reports.join("; ");
        let rest = fnv_keys - fnv_keys / 2;
        assert!(
            report.contains(&format!("rewrote range_hash of {rest} task-queue keys")),
            "{backend}: {report} (expected {rest} of {fnv_keys} keys)"
        );
    }
    verify_all(url).await;

    let after_rows = counts().await;
    // The version tables are the engine's own: the update adds its history row.
    let data = |t: &&String| !t.starts_with("schema_");
    for (table, n) in before_rows.iter().filter(|(t, _)| data(t)) {
        assert_eq!(
            after_rows.get(table),
            Some(n),
            "{backend}: rows of {table} changed by the update"
        );
    }
    let kept: i64 = before_rows
        .iter()
        .filter(|(t, _)| data(t))
        .map(|(_, n)| n)
        .sum();
    eprintln!("{backend}: {kept} rows kept by the update: {before_rows:?}");
    if let Some(sql) = &raw {
        sql.close().await.expect("close raw");
    }
    let stores = durastore::open(url).await.expect("open after update");
    let after_api = read_back(&stores, ns).await;
    assert_eq!(after_api, before_api, "{backend}: read back after update");
    if let Some(n) = after_api.get("visibility records") {
        assert_eq!(*n, VISIBILITY_RECORDS, "{backend}");
    }
    eprintln!("{backend}: read back through the stores after the update: {after_api:?}");
    stores.backend.close().await.expect("close");

    // Idempotent: a second update has nothing to do.
    for r in update_all(url).await {
        assert!(r.up_to_date(), "{backend}: second update did work: {r:?}");
    }
}

fn server_url(var: &str, backend: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                !Require::from_env().requires(backend),
                "{backend} is required but {var} is not set"
            );
            eprintln!("skipped: {var} is not set (scripts/services.sh start prints it)");
            None
        }
    }
}

async fn run_on_server(var: &str, backend: &str) {
    let Some(admin) = server_url(var, backend) else {
        return;
    };
    let db = create_test_database(&admin)
        .await
        .expect("create test database");
    scenario(backend, &db.url, db.name()).await;
    db.drop().await.expect("drop test database");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_update_from_1_0_keeps_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/upd.db", dir.path().display());
    durastore::factory::create_database(&url)
        .await
        .expect("create file");
    for set in sets(&url) {
        let t = open_schema(&url, set, SchemaOpen::Create)
            .await
            .expect("schema");
        schema::setup(&t.set, t.driver.as_ref(), &ApplyOptions::default())
            .await
            .expect("setup");
    }
    scenario("sqlite", &url, "upd").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_update_from_1_0_keeps_rows() {
    run_on_server("DURASTORE_POSTGRES_URL", "postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_update_from_1_0_keeps_rows() {
    run_on_server("DURASTORE_MYSQL_URL", "mysql").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cassandra_update_from_1_0_keeps_rows() {
    run_on_server("DURASTORE_CASSANDRA_URL", "cassandra").await;
}
