//! Database-free hot paths of the SQL backends: statement text, visibility query translation
//! and visibility row mapping.
//!
//! Run with `cargo bench -p durastore-sql --bench hot_paths` (add `-- --quick` for a short run,
//! or a filter such as `-- translate`). Every store call builds its statements' text (and, on
//! PostgreSQL, numbers their placeholders); every visibility write maps a record to a row and
//! every list maps rows back, and every list or count parses and translates its query. The
//! query parsing alone and page tokens are in `durastore-api`'s `hot_paths`.

// criterion's macros generate undocumented public items.
#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use durastore_api::query::{REPRESENTATIVE_QUERIES, SearchAttributeType};
use durastore_api::{
    DataBlob, NamespaceId, RunId, SearchAttributeValue, VisibilityRecord, WorkflowStatus,
};
use durastore_sql::hot_paths::VisibilityFixture;
use durastore_sql::{Dialect, SqliteDialect, number_placeholders};

/// The columns of a wide execution-style row (names only matter for their length).
const COLUMNS: &[&str] = &[
    "shard_id",
    "namespace_id",
    "workflow_id",
    "run_id",
    "db_version",
    "next_event_id",
    "state",
    "state_encoding",
    "checksum",
    "last_write_version",
];

fn bench_sql_text(c: &mut Criterion) {
    let d = SqliteDialect;
    let mut g = c.benchmark_group("sql_text");
    g.bench_function("upsert_rows_3x10", |b| {
        b.iter(|| {
            d.upsert_rows(
                black_box("executions"),
                COLUMNS,
                &COLUMNS[..4],
                black_box(3),
            )
        })
    });
    let values = vec!["?"; COLUMNS.len()];
    g.bench_function("upsert_if_newer_10", |b| {
        b.iter(|| {
            d.upsert_if_newer(
                black_box("executions"),
                COLUMNS,
                &values,
                &COLUMNS[..4],
                "db_version",
            )
        })
    });
    let statement = d.upsert_rows("executions", COLUMNS, &COLUMNS[..4], 4);
    g.bench_function("number_placeholders_40", |b| {
        b.iter(|| number_placeholders(black_box(&statement)))
    });
    g.finish();
}

fn fixture() -> VisibilityFixture {
    let t = durastore_api::DateTime::from_timestamp(1_714_557_600, 123_000).unwrap_or_default();
    let record = VisibilityRecord {
        namespace_id: NamespaceId::new_random(),
        workflow_id: "order-processing-7f3a".into(),
        run_id: RunId::new_random(),
        workflow_type: "OrderWorkflow".into(),
        start_time: t,
        execution_time: t,
        status: WorkflowStatus::Completed,
        task_queue: "orders".into(),
        task_id: 1_048_577,
        shard_id: 7,
        memo: Some(DataBlob::new(vec![7; 64], "Proto3")),
        search_attributes: BTreeMap::from([
            (
                "CustomKeywordField".to_string(),
                SearchAttributeValue::String("order-42".into()),
            ),
            ("CustomIntField".to_string(), SearchAttributeValue::Int(17)),
            (
                "CustomTextField".to_string(),
                SearchAttributeValue::String("refund requested by customer".into()),
            ),
        ]),
        parent_workflow_id: None,
        parent_run_id: None,
        root_workflow_id: Some("order-processing-7f3a".into()),
        root_run_id: None,
        close_time: Some(t + durastore_api::chrono::Duration::seconds(42)),
        history_length: Some(23),
        history_size_bytes: Some(4_096),
        execution_duration_nanos: Some(42_000_000_000),
        state_transition_count: Some(9),
        archetype_id: durastore_api::ArchetypeId::WORKFLOW,
        chasm_info: None,
    };
    let custom = BTreeMap::from([
        (
            "CustomKeywordField".to_string(),
            SearchAttributeType::Keyword,
        ),
        ("CustomIntField".to_string(), SearchAttributeType::Int),
        ("CustomTextField".to_string(), SearchAttributeType::Text),
    ]);
    VisibilityFixture::new(record, &custom).unwrap_or_else(|e| panic!("fixture: {e}"))
}

fn bench_visibility_rows(c: &mut Criterion) {
    let f = fixture();
    let d = SqliteDialect;
    let mut g = c.benchmark_group("visibility_rows");
    g.bench_function("encode_write", |b| b.iter(|| f.encode(black_box(&d))));
    g.bench_function("decode_row", |b| b.iter(|| f.decode()));
    g.finish();
}

fn bench_translate(c: &mut Criterion) {
    let f = fixture();
    let d = SqliteDialect;
    let mut g = c.benchmark_group("visibility_translate");
    for (name, query, is_count) in REPRESENTATIVE_QUERIES {
        // A query the benchmark cannot translate would measure an error path.
        if let Err(e) = f.translate(&d, query, *is_count) {
            panic!("{name}: {e}");
        }
        g.bench_function(*name, |b| {
            b.iter(|| f.translate(black_box(&d), black_box(query), *is_count))
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    bench_sql_text,
    bench_visibility_rows,
    bench_translate
);
criterion_main!(benches);
