//! Backend-specific checks against a live server: index setup is idempotent, external
//! versioning makes stale writes no-ops, three-valued negation, paging. Runs against
//! `DURASTORE_OPENSEARCH_URL` and `DURASTORE_ELASTICSEARCH_URL`; without them it prints why it
//! did nothing (the conformance suite is the full check, and CI sets both).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use durastore_api::VisibilityWrite;
use durastore_api::chrono::{TimeZone, Utc};
use durastore_api::query::SearchAttributeType;
use durastore_api::{
    CountWorkflowExecutionsRequest, ErrorKind, ListWorkflowExecutionsRequest, NamespaceId, RunId,
    SearchAttributeValue, VisibilityRecord, WorkflowStatus,
};
use durastore_elastic::{BulkOptions, ElasticConfig, ElasticVisibility};

fn record(ns: NamespaceId, i: i64, task_id: i64) -> VisibilityRecord {
    VisibilityRecord {
        namespace_id: ns,
        workflow_id: format!("wf-{i}"),
        run_id: RunId::new_random(),
        workflow_type: if i % 2 == 0 { "even" } else { "odd" }.into(),
        start_time: Utc.timestamp_opt(1_700_000_000 + i, 0).unwrap(),
        execution_time: Utc.timestamp_opt(1_700_000_000 + i, 0).unwrap(),
        status: WorkflowStatus::Running,
        task_queue: "tq".into(),
        task_id,
        shard_id: 1,
        memo: None,
        search_attributes: BTreeMap::new(),
        parent_workflow_id: None,
        parent_run_id: None,
        root_workflow_id: None,
        root_run_id: None,
        close_time: None,
        history_length: None,
        history_size_bytes: None,
        execution_duration_nanos: None,
        state_transition_count: None,
        archetype_id: durastore_api::ArchetypeId::WORKFLOW,
        chasm_info: None,
    }
}

async fn check(url: &str) {
    use durastore_api::VisibilityStore;
    let base = ElasticConfig::from_url(url).unwrap();
    let index = format!("durastore_live_{}", &RunId::new_random().to_string()[..8]);
    let cfg = base.with_index(&index).unwrap();
    durastore_elastic::setup(&cfg).await.unwrap();
    // Twice: the second finds the schema current and changes nothing.
    durastore_elastic::setup(&cfg).await.unwrap();
    let store = ElasticVisibility::open(&cfg).await.unwrap();
    let ns = NamespaceId::new_random();
    let mut attrs = BTreeMap::new();
    attrs.insert("Color".to_string(), SearchAttributeType::Keyword);
    store
        .add_search_attributes(ns, attrs.clone())
        .await
        .unwrap();
    store.add_search_attributes(ns, attrs).await.unwrap();
    let mut recs = Vec::new();
    for i in 0..5 {
        let mut r = record(ns, i, 10);
        if i < 3 {
            r.search_attributes.insert(
                "Color".into(),
                SearchAttributeValue::String(format!("c{i}")),
            );
        }
        store.record_started(r.clone()).await.unwrap();
        recs.push(r);
    }
    // Stale write: lower task id, different type; must not change the record.
    let mut stale = recs[0].clone();
    stale.task_id = 5;
    stale.workflow_type = "stale".into();
    store.upsert(stale).await.unwrap();
    assert_eq!(
        store.get(ns, recs[0].run_id).await.unwrap().workflow_type,
        "even"
    );
    let req = |q: &str, size: i32| ListWorkflowExecutionsRequest {
        namespace_id: ns,
        query: q.into(),
        page_size: size,
        next_page_token: None,
        archetype_id: durastore_api::ArchetypeId::WORKFLOW,
    };
    let count_req = |q: &str| CountWorkflowExecutionsRequest::new(ns, q);
    // != excludes records without the attribute (three-valued logic).
    let page = store.list(req("Color != 'c1'", 100)).await.unwrap();
    assert_eq!(page.items.len(), 2);
    let c = store.count(count_req("NOT (Color = 'c0')")).await.unwrap();
    assert_eq!(c.count, 2);
    // Paging: 5 records in pages of 2: 2, 2, 1 and no token on the last page.
    let mut seen = Vec::new();
    let mut r = req("", 2);
    loop {
        let p = store.list(r.clone()).await.unwrap();
        seen.extend(p.items.iter().map(|x| x.workflow_id.clone()));
        match p.next_page_token {
            Some(t) => r.next_page_token = Some(t),
            None => break,
        }
    }
    assert_eq!(seen, vec!["wf-4", "wf-3", "wf-2", "wf-1", "wf-0"]);
    let g = store
        .count(count_req("GROUP BY ExecutionStatus"))
        .await
        .unwrap();
    assert_eq!(g.count, 5);
    assert_eq!(g.groups.len(), 1);
    // Stale delete is a no-op; a newer one deletes.
    store.delete(ns, recs[1].run_id, 3).await.unwrap();
    assert!(store.get(ns, recs[1].run_id).await.is_ok());
    store.delete(ns, recs[1].run_id, 11).await.unwrap();
    assert_eq!(
        store.get(ns, recs[1].run_id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let e = store.list(req("Color = 'x' OR 1=1", 10)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    durastore_elastic::drop_indexes(&cfg).await.unwrap();
}

/// With `refresh=false` and small bulks: concurrent callers' writes are coalesced (several
/// bulks in flight), stale writes and deletes inside them stay no-ops, and `refresh` makes
/// every acknowledged write visible.
async fn check_bulk(url: &str) {
    use durastore_api::VisibilityStore;
    use std::sync::Arc;
    let base = ElasticConfig::from_url(url).unwrap();
    let index = format!("durastore_live_{}", &RunId::new_random().to_string()[..8]);
    let mut cfg = base.with_index(&index).unwrap();
    cfg.refresh = "false".into();
    cfg.bulk = BulkOptions {
        max_items: 8,
        max_bytes: 4096,
        linger: std::time::Duration::from_millis(2),
        concurrency: 2,
    };
    durastore_elastic::setup(&cfg).await.unwrap();
    let store = Arc::new(ElasticVisibility::open(&cfg).await.unwrap());
    let ns = NamespaceId::new_random();
    // 60 callers: start (task 10), close (12), then a stale upsert (11); every third one is
    // deleted (20) and then gets a stale delete (15).
    let mut tasks = Vec::new();
    for i in 0..60 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let start = record(ns, i, 10);
            store.record_started(start.clone()).await.unwrap();
            let mut close = start.clone();
            close.task_id = 12;
            close.status = WorkflowStatus::Completed;
            close.close_time = Some(Utc.timestamp_opt(1_800_000_000, 0).unwrap());
            store.record_closed(close.clone()).await.unwrap();
            let mut stale = start.clone();
            stale.task_id = 11;
            store.upsert(stale).await.unwrap();
            if i % 3 == 0 {
                store.delete(ns, start.run_id, 20).await.unwrap();
                store.delete(ns, start.run_id, 15).await.unwrap();
            }
            close
        }));
    }
    let mut closed = Vec::new();
    for t in tasks {
        closed.push(t.await.unwrap());
    }
    // A loader's batch of 30 (four bulks of at most 8), each record written twice: the newer
    // version first, so the second write is stale.
    let mut writes = Vec::new();
    for i in 100..130 {
        let newer = record(ns, i, 7);
        let mut older = newer.clone();
        older.task_id = 6;
        older.workflow_type = "stale".into();
        writes.push(VisibilityWrite::Started(newer));
        writes.push(VisibilityWrite::Upsert(older));
    }
    for r in store.write_batch(writes).await.unwrap() {
        r.unwrap();
    }
    store.refresh().await.unwrap();
    let req = |q: &str| CountWorkflowExecutionsRequest::new(ns, q);
    assert_eq!(store.count(req("")).await.unwrap().count, 40 + 30);
    assert_eq!(
        store
            .count(req("ExecutionStatus = 'Completed'"))
            .await
            .unwrap()
            .count,
        40
    );
    assert_eq!(
        store
            .count(req("WorkflowType = 'stale'"))
            .await
            .unwrap()
            .count,
        0
    );
    for (i, c) in closed.iter().enumerate() {
        let got = store.get(ns, c.run_id).await;
        if i % 3 == 0 {
            assert_eq!(got.unwrap_err().kind(), ErrorKind::NotFound);
        } else {
            assert_eq!(got.unwrap().status, WorkflowStatus::Completed);
        }
    }
    durastore_elastic::drop_indexes(&cfg).await.unwrap();
}

#[tokio::test]
async fn live_servers() {
    let mut ran = 0;
    for var in ["DURASTORE_OPENSEARCH_URL", "DURASTORE_ELASTICSEARCH_URL"] {
        match std::env::var(var) {
            Ok(url) if !url.is_empty() => {
                check(&url).await;
                check_bulk(&url).await;
                ran += 1;
            }
            _ => eprintln!("{var} is not set: skipping that server"),
        }
    }
    if std::env::var("DURASTORE_REQUIRE").is_ok_and(|v| v == "all") {
        assert_eq!(
            ran, 2,
            "DURASTORE_REQUIRE=all but a search server URL is missing"
        );
    }
}
