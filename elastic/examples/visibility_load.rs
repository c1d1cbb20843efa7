//! Loads visibility records into a fresh index and reports records per second.
//!
//! ```text
//! cargo run -p durastore-elastic --example visibility_load -- <url> <records> <mode> [callers]
//! ```
//!
//! `<url>` is an `opensearch://` or `elasticsearch://` URL (its index is replaced by a fresh
//! one, dropped at the end). Modes: `sequential` (one `record_started` after another),
//! `concurrent` (`callers` tasks, default 32, share the records; the store coalesces their
//! writes into bulk requests), `batch` (one `write_batch` call, the loader's path). Every mode
//! ends with `refresh` and checks that a count sees every record.

use std::sync::Arc;
use std::time::Instant;

use durastore_api::chrono::{TimeZone, Utc};
use durastore_api::{
    CountWorkflowExecutionsRequest, NamespaceId, Result, RunId, StoreError, VisibilityRecord,
    VisibilityStore, VisibilityWrite, WorkflowKey,
};
use durastore_elastic::{ElasticConfig, ElasticVisibility};

fn record(ns: NamespaceId, i: i64) -> VisibilityRecord {
    let start = Utc
        .timestamp_opt(1_700_000_000 + i, 0)
        .single()
        .unwrap_or_default();
    let key = WorkflowKey::new(ns, format!("load-{i}"), RunId::new_random());
    VisibilityRecord {
        task_queue: "load-tq".into(),
        shard_id: 1,
        ..VisibilityRecord::new(&key, "load", start, i + 1)
    }
}

async fn load(
    store: Arc<ElasticVisibility>,
    records: Vec<VisibilityRecord>,
    mode: &str,
    callers: usize,
) -> Result<()> {
    match mode {
        "sequential" => {
            for r in records {
                store.record_started(r).await?;
            }
        }
        "concurrent" => {
            let shared = Arc::new(std::sync::Mutex::new(records));
            let mut tasks = Vec::new();
            for _ in 0..callers {
                let (store, shared) = (store.clone(), shared.clone());
                tasks.push(tokio::spawn(async move {
                    loop {
                        let next = shared.lock().unwrap_or_else(|e| e.into_inner()).pop();
                        match next {
                            Some(r) => store.record_started(r).await?,
                            None => return Ok::<(), StoreError>(()),
                        }
                    }
                }));
            }
            for t in tasks {
                t.await.map_err(|e| StoreError::internal(e.to_string()))??;
            }
        }
        "batch" => {
            let writes = records.into_iter().map(VisibilityWrite::Started).collect();
            for r in store.write_batch(writes).await? {
                r?;
            }
        }
        other => {
            return Err(StoreError::invalid_argument(format!(
                "unknown mode {other:?}"
            )));
        }
    }
    store.refresh().await
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, n, mode, rest @ ..] = args.as_slice() else {
        return Err(StoreError::invalid_argument(
            "usage: visibility_load <url> <records> <sequential|concurrent|batch> [callers]",
        ));
    };
    let n: i64 = n
        .parse()
        .map_err(|_| StoreError::invalid_argument("records: a number"))?;
    let callers = match rest.first() {
        Some(c) => c
            .parse()
            .map_err(|_| StoreError::invalid_argument("callers: a number"))?,
        None => 32,
    };
    let index = format!("durastore_load_{}", &RunId::new_random().to_string()[..8]);
    let cfg = ElasticConfig::from_url(url)?.with_index(&index)?;
    durastore_elastic::setup(&cfg).await?;
    let store = Arc::new(ElasticVisibility::open(&cfg).await?);
    let ns = NamespaceId::new_random();
    let records: Vec<VisibilityRecord> = (0..n).map(|i| record(ns, i)).collect();
    let started = Instant::now();
    let loaded = load(store.clone(), records, mode, callers).await;
    let secs = started.elapsed().as_secs_f64();
    let counted = store
        .count(CountWorkflowExecutionsRequest::new(ns, ""))
        .await;
    durastore_elastic::drop_indexes(&cfg).await?;
    loaded?;
    let counted = counted?.count;
    if counted != n {
        return Err(StoreError::internal(format!(
            "counted {counted} of {n} records"
        )));
    }
    println!(
        "{} {mode} callers={callers} records={n} seconds={secs:.3} records_per_s={:.0}",
        cfg.flavor,
        n as f64 / secs
    );
    Ok(())
}
