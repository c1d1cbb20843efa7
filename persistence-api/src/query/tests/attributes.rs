//! Search attribute tables, custom attribute names and text tokenization.

use super::*;

#[test]
fn attribute_tables() {
    let a = attrs();
    assert_eq!(a.type_of("WorkflowId"), Some(SearchAttributeType::Keyword));
    assert_eq!(a.type_of("StartTime"), Some(SearchAttributeType::Datetime));
    assert_eq!(
        a.type_of("ExecutionDuration"),
        Some(SearchAttributeType::Int)
    );
    assert_eq!(
        a.type_of("BuildIds"),
        Some(SearchAttributeType::KeywordList)
    );
    assert_eq!(
        a.type_of("TemporalSchedulePaused"),
        Some(SearchAttributeType::Bool)
    );
    assert_eq!(
        a.type_of("CustomTextField"),
        Some(SearchAttributeType::Text)
    );
    assert_eq!(a.type_of("customtextfield"), None);
    assert_eq!(a.type_of("NamespaceId"), None);
    assert_eq!(SearchAttributes::system().type_of("CustomTextField"), None);
    assert_eq!(SYSTEM_ATTRIBUTES.len(), 16);
    for (n, _) in SYSTEM_ATTRIBUTES {
        assert!(SearchAttributes::is_system(n), "{n}");
        assert!(!is_reserved_name(n));
    }
    for (n, _) in PREDEFINED_ATTRIBUTES {
        assert!(!SearchAttributes::is_system(n));
        assert!(SearchAttributes::is_predefined(n));
        assert!(!is_reserved_name(n), "{n}");
    }
    assert!(!SearchAttributes::is_system("CustomKeywordField"));
    for n in [
        "NamespaceId",
        "Memo",
        "MemoEncoding",
        "VisibilityTaskKey",
        "TemporalFoo",
        "TemporalBool03",
        "TemporalText01",
        "TemporalKeyword05",
        "TemporalLowCardinalityKeyword02",
        "TemporalKeywordList00",
        "Temporalbool01",
        "Temporal",
    ] {
        assert!(is_reserved_name(n), "{n}");
        assert_eq!(a.type_of(n), None, "{n}");
    }
    // Exactly Temporal's pre-allocated CHASM columns are known, typed by their name.
    assert_eq!(CHASM_ATTRIBUTES.len(), 15);
    for (n, t) in CHASM_ATTRIBUTES {
        assert!(!is_reserved_name(n), "{n}");
        assert!(is_chasm_attribute(n), "{n}");
        assert_eq!(SearchAttributes::system().type_of(n), Some(*t), "{n}");
        let kind = n
            .trim_start_matches("Temporal")
            .trim_end_matches(|c: char| c.is_ascii_digit());
        assert_eq!(format!("{t:?}"), kind, "{n} is typed by its name");
        assert!(validate_custom_name(n).is_err(), "{n} cannot be registered");
    }
    assert!(!is_reserved_name("namespaceid"));
    assert!(!is_reserved_name("CustomKeywordField"));

    // a custom entry cannot shadow a system or reserved name
    let mut m = BTreeMap::new();
    m.insert("WorkflowId".to_string(), SearchAttributeType::Int);
    m.insert("Memo".to_string(), SearchAttributeType::Keyword);
    let shadow = SearchAttributes::new(m);
    assert_eq!(
        shadow.type_of("WorkflowId"),
        Some(SearchAttributeType::Keyword)
    );
    assert_eq!(shadow.type_of("Memo"), None);
    assert!(rejected_with("Memo = 'x'", &shadow).contains("reserved"));
}

#[test]
fn custom_name_validation() {
    for ok in [
        "CustomKeywordField",
        "a",
        "Keyword01",
        "my-attr",
        "A_b-9",
        &"x".repeat(255),
    ] {
        validate_custom_name(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for bad in [
        "",
        "1abc",
        "_x",
        "-x",
        "a b",
        "a.b",
        "a`b",
        "ü",
        "a\0",
        &"x".repeat(256),
        "NamespaceId",
        "memo",
        "VisibilityTaskKey",
        "TemporalX",
        "temporalx",
        "WorkflowId",
        "workflowid",
        "BuildIds",
        "And",
        "order",
        "Select",
        "NULL",
        "Limit",
        "starts_with",
    ] {
        let e = validate_custom_name(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad}");
    }
}

#[test]
fn text_tokenization() {
    assert_eq!(text_tokens("Hello, World!"), vec!["hello", "world"]);
    assert_eq!(
        text_tokens("foo_bar-baz.qux"),
        vec!["foo", "bar", "baz", "qux"]
    );
    assert_eq!(text_tokens("  "), Vec::<String>::new());
    assert_eq!(
        text_tokens("ÄÖÜ straße 日本語"),
        vec!["äöü", "straße", "日本語"]
    );
    assert_eq!(text_tokens("v1.2.3"), vec!["v1", "2", "3"]);
    assert_eq!(text_tokens("ΣΑΣ"), vec!["σας"]);
}
