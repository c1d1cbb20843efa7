//! Database-free hot paths of every backend: visibility query parsing and page tokens.
//!
//! Run with `cargo bench -p durastore-api --bench hot_paths` (add `-- --quick` for a short run,
//! or a filter such as `-- parse_query`). Every visibility list and count parses its query once,
//! and every paged call decodes one token and encodes another, so these set a per-call floor
//! that no backend can go under.
//!
//! The SQL side (statement text, placeholder numbering, query translation, visibility row
//! mapping) is in `durastore-sql`'s `hot_paths` bench.

// criterion's macros generate undocumented public items.
#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use durastore_api::Uuid;
use durastore_api::query::{
    REPRESENTATIVE_QUERIES, SearchAttributeType, SearchAttributes, parse_query,
};
use durastore_api::validate::token;
use serde::{Deserialize, Serialize};

/// A long query: `n` OR-ed conjunctions with a few literals each (a generated UI filter).
fn long_query(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "(WorkflowId = 'wf-{i}' AND CustomIntField != {i} AND \
                 CustomKeywordField IN ('a{i}', 'b{i}', 'c{i}'))"
            )
        })
        .collect::<Vec<_>>()
        .join(" OR ")
}

fn attributes() -> SearchAttributes {
    let custom: BTreeMap<String, SearchAttributeType> = [
        ("CustomKeywordField", SearchAttributeType::Keyword),
        ("CustomIntField", SearchAttributeType::Int),
        ("CustomTextField", SearchAttributeType::Text),
        ("CustomBoolField", SearchAttributeType::Bool),
        ("CustomDatetimeField", SearchAttributeType::Datetime),
    ]
    .into_iter()
    .map(|(n, t)| (n.to_string(), t))
    .collect();
    SearchAttributes::new(custom)
}

fn bench_parse(c: &mut Criterion) {
    let attrs = attributes();
    let mut g = c.benchmark_group("parse_query");
    for (name, text, is_count) in REPRESENTATIVE_QUERIES {
        // A query that does not parse would measure the error path: fail loudly instead.
        assert!(
            parse_query(text, &attrs, *is_count).is_ok(),
            "bench query {name} does not parse"
        );
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(name), text, |b, text| {
            b.iter(|| parse_query(black_box(text), &attrs, *is_count))
        });
    }
    for n in [10usize, 100] {
        let text = long_query(n);
        assert!(parse_query(&text, &attrs, false).is_ok(), "long query {n}");
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::new("long_or", n), &text, |b, text| {
            b.iter(|| parse_query(black_box(text), &attrs, false))
        });
    }
    // Hostile input is rejected early; it must stay cheap, whatever its size.
    let hostile = format!("WorkflowId = 'x' {}", "AND NOT ".repeat(200));
    g.bench_function("rejected_deep_not", |b| {
        b.iter(|| parse_query(black_box(&hostile), &attrs, false))
    });
    g.finish();
}

/// The shape of a visibility list token (the last row's sort key).
#[derive(Serialize, Deserialize)]
struct ListToken {
    close_time_order: i64,
    start_time: i64,
    run_id: String,
}

/// The shape of a history-task page token.
#[derive(Serialize, Deserialize)]
struct TaskToken {
    fire_time_ms: i64,
    task_id: i64,
}

fn bench_tokens(c: &mut Criterion) {
    let mut g = c.benchmark_group("page_token");
    let list = ListToken {
        close_time_order: 1_714_521_600_123_456,
        start_time: 1_714_520_000_000_000,
        run_id: Uuid::new_v4().to_string(),
    };
    let task = TaskToken {
        fire_time_ms: 1_714_521_600_123,
        task_id: 1 << 40,
    };
    g.bench_function("encode_list", |b| {
        b.iter(|| token::encode(black_box(&list)))
    });
    let list_bytes = token::encode(&list);
    g.bench_function("decode_list", |b| {
        b.iter(|| token::decode::<ListToken>(black_box(&list_bytes)))
    });
    g.bench_function("encode_task", |b| {
        b.iter(|| token::encode(black_box(&task)))
    });
    let task_bytes = token::encode(&task);
    g.bench_function("decode_task", |b| {
        b.iter(|| token::decode::<TaskToken>(black_box(&task_bytes)))
    });
    g.bench_function("decode_garbage", |b| {
        b.iter(|| token::decode::<ListToken>(black_box(b"\x01{not json")))
    });
    g.finish();
}

criterion_group!(benches, bench_parse, bench_tokens);
criterion_main!(benches);
