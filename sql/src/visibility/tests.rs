//! Unit tests of the database-free parts: row encoding, page tokens, the bench fixture.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use durastore_api::query::{Query, SearchAttributeType};
use durastore_api::{
    DataBlob, ErrorKind, NamespaceId, RunId, SearchAttributeValue, VisibilityRecord, WorkflowKey,
    WorkflowStatus, validate,
};

use super::VisibilityFixture;
use super::read::{ListToken, decode_attributes, query_fingerprint};
use super::write::{WriteKind, encode_row, validate_record};
use crate::value::Value;
use crate::visibility_columns::{CUSTOM_FIELDS, PREDEFINED_COLUMNS, Registry};
use durastore_api::query::CHASM_ATTRIBUTES;

/// A running record with a memo, on shard 1.
fn record() -> VisibilityRecord {
    let t = chrono::DateTime::<chrono::Utc>::from_timestamp(1_714_557_600, 5).unwrap();
    let key = WorkflowKey::new(NamespaceId::new_random(), "wf", RunId::new_random());
    VisibilityRecord {
        task_queue: "q".into(),
        shard_id: 1,
        memo: Some(DataBlob::new(vec![1, 2], "Proto3")),
        ..VisibilityRecord::new(&key, "T", t, 1)
    }
}

#[test]
fn bench_fixture_round_trips_a_record() {
    let mut r = record();
    r.status = WorkflowStatus::Completed;
    r.close_time = Some(r.start_time + chrono::Duration::seconds(90));
    r.history_length = Some(12);
    r.execution_duration_nanos = Some(90_000_000_000);
    r.search_attributes = BTreeMap::from([
        (
            "CustomKeywordField".to_string(),
            SearchAttributeValue::String("k".into()),
        ),
        ("CustomIntField".to_string(), SearchAttributeValue::Int(-7)),
        (
            "CustomKeywordListField".to_string(),
            SearchAttributeValue::KeywordList(vec!["a".into(), "b".into()]),
        ),
    ]);
    let custom = BTreeMap::from([
        (
            "CustomKeywordField".to_string(),
            SearchAttributeType::Keyword,
        ),
        ("CustomIntField".to_string(), SearchAttributeType::Int),
        (
            "CustomKeywordListField".to_string(),
            SearchAttributeType::KeywordList,
        ),
    ]);
    let f = VisibilityFixture::new(r.clone(), &custom).unwrap();
    assert_eq!(f.decode().unwrap(), r);
    let (values, sql_len) = f.encode(&crate::SqliteDialect).unwrap();
    assert!(
        values > 20 && sql_len > 100,
        "{values} values, {sql_len} bytes"
    );
    let sql = f
        .translate(
            &crate::SqliteDialect,
            "CustomIntField < 0 AND ExecutionStatus = 'Completed'",
            false,
        )
        .unwrap();
    assert!(sql.contains("status") && sql.contains('?'), "{sql}");
    assert!(
        f.translate(&crate::SqliteDialect, "Nope = 1", false)
            .is_err()
    );
}

#[test]
fn row_encoding_checks_attributes() {
    let mut reg = Registry::default();
    reg.custom.insert(
        "Tags".into(),
        ("KeywordList01", SearchAttributeType::KeywordList),
    );
    let mut r = record();
    r.search_attributes
        .insert("Tags".into(), SearchAttributeValue::KeywordList(vec![]));
    r.search_attributes.insert(
        "BuildIds".into(),
        SearchAttributeValue::KeywordList(vec!["b1".into()]),
    );
    let row = encode_row(&r, &reg, "?").unwrap();
    assert_eq!(
        row.columns.len(),
        25 + PREDEFINED_COLUMNS.len() + CHASM_ATTRIBUTES.len() + CUSTOM_FIELDS.len()
    );
    let at = |c: &str| row.values[row.columns.iter().position(|x| *x == c).unwrap()].clone();
    assert_eq!(at("KeywordList01"), Value::Null);
    assert_eq!(at("BuildIds"), Value::Text(r#"["b1"]"#.into()));
    let doc = at("search_attributes");
    let back = match doc {
        Value::Text(t) => decode_attributes(Some(t), &reg).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(back, r.search_attributes);

    for (name, v) in [
        ("Unregistered", SearchAttributeValue::Int(1)),
        ("Tags", SearchAttributeValue::Int(1)),
        ("WorkflowId", SearchAttributeValue::String("x".into())),
        ("TemporalNope", SearchAttributeValue::String("x".into())),
    ] {
        let mut bad = record();
        bad.search_attributes.insert(name.into(), v);
        let e = encode_row(&bad, &reg, "?").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{name}");
    }
    let mut closed = record();
    assert!(validate_record(&closed, WriteKind::Closed).is_err());
    closed.close_time = Some(closed.start_time);
    assert!(validate_record(&closed, WriteKind::Closed).is_ok());
}

#[test]
fn tokens_reject_garbage() {
    let tok = |s: &str, q: &str| {
        Some(validate::token::encode(&ListToken {
            c: "~".into(),
            s: s.into(),
            r: "r".into(),
            q: q.into(),
        }))
    };
    let good = "2024-05-01T10:00:00.000000000Z";
    assert!(ListToken::decode(&tok(good, "f"), "f").is_ok());
    assert!(ListToken::decode(&tok(good, "f"), "g").is_err());
    assert!(ListToken::decode(&tok("x", "f"), "f").is_err());
    assert!(ListToken::decode(&Some(b"junk".to_vec()), "f").is_err());
    let ns = NamespaceId::new_random();
    let q = Query::default();
    assert_eq!(query_fingerprint(ns, 0, &q), query_fingerprint(ns, 0, &q));
    assert_ne!(
        query_fingerprint(ns, 0, &q),
        query_fingerprint(NamespaceId::new_random(), 0, &q)
    );
    assert_ne!(query_fingerprint(ns, 0, &q), query_fingerprint(ns, 7, &q));
}
