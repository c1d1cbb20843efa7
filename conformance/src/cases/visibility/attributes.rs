//! Visibility cases: custom search attributes (registration, aliases, later additions).

use std::collections::BTreeMap;

use durastore_api::query::SearchAttributeType;
use durastore_api::{NamespaceId, SearchAttributeValue};

use super::helpers::{
    at, attrs, count, custom_attributes, ensure_stored, expect_invalid_query, fresh_namespace,
    full_record, kw, list_ids, running, vis, with_attrs, write,
};
use crate::check::ok;
use crate::fixtures::unique_name;
use crate::{CaseError, Ctx, ensure_eq};

/// Registering the same attributes again, or a subset, succeeds and changes nothing.
pub async fn add_search_attributes_idempotent(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = fresh_namespace(s).await?;
    let r = full_record(ns);
    write(s, &r).await?;
    ok(
        "register again",
        s.add_search_attributes(ns, custom_attributes()).await,
    )?;
    let subset: BTreeMap<String, SearchAttributeType> =
        BTreeMap::from([("CustomIntField".to_string(), SearchAttributeType::Int)]);
    ok(
        "register a subset",
        s.add_search_attributes(ns, subset).await,
    )?;
    ensure_stored(s, "record after re-registration", &r).await?;
    ensure_eq!(count(s, ns, "CustomIntField = -42").await?, 1);
    ensure_eq!(count(s, ns, "CustomKeywordListField = 'two'").await?, 1);
    Ok(())
}

/// An attribute registered through another handle on the same store (another server process)
/// is accepted by this handle's next write, after this handle has written in the namespace
/// (a handle that remembers the namespace's attributes must notice the new one), and the value
/// lands where queries and reads find it.
pub async fn attribute_registered_through_another_handle(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = NamespaceId::new_random();
    let keyword = BTreeMap::from([(
        "CustomKeywordField".to_string(),
        SearchAttributeType::Keyword,
    )]);
    ok(
        "register CustomKeywordField",
        s.add_search_attributes(ns, keyword).await,
    )?;
    let mut first = running(ns, &unique_name("wf-before"), at(0, 0));
    first.search_attributes = attrs(&[("CustomKeywordField", kw("before"))]);
    write(s, &first).await?;

    let other = ctx.open_another().await?;
    let other_vis = other
        .visibility
        .clone()
        .ok_or_else(|| CaseError::new("the second handle has no visibility store"))?;
    let more = BTreeMap::from([
        ("CustomIntField".to_string(), SearchAttributeType::Int),
        ("CustomDoubleField".to_string(), SearchAttributeType::Double),
    ]);
    let registered = other_vis.add_search_attributes(ns, more).await;
    let _ = other.backend.close().await;
    ok("register through the other handle", registered)?;

    let mut second = running(ns, &unique_name("wf-after"), at(10, 0));
    second.search_attributes = attrs(&[
        ("CustomKeywordField", kw("after")),
        ("CustomIntField", SearchAttributeValue::Int(7)),
        ("CustomDoubleField", SearchAttributeValue::Double(0.5)),
    ]);
    write(s, &second).await?;
    ensure_stored(s, "record with the newly registered attributes", &second).await?;
    ensure_stored(s, "record written before", &first).await?;
    ensure_eq!(count(s, ns, "CustomIntField = 7").await?, 1);
    ensure_eq!(count(s, ns, "CustomDoubleField = 0.5").await?, 1);
    ensure_eq!(count(s, ns, "CustomKeywordField = 'before'").await?, 1);
    ensure_eq!(count(s, ns, "CustomKeywordField = 'after'").await?, 1);
    Ok(())
}

/// An attribute is unknown (`InvalidArgument`) until registered in the namespace; registering
/// one attribute does not make the others known.
pub async fn unregistered_attribute_rejected(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = NamespaceId::new_random();
    expect_invalid_query(s, ns, "CustomKeywordField = 'x'").await?;
    ok(
        "register CustomKeywordField",
        s.add_search_attributes(
            ns,
            BTreeMap::from([(
                "CustomKeywordField".to_string(),
                SearchAttributeType::Keyword,
            )]),
        )
        .await,
    )?;
    ensure_eq!(count(s, ns, "CustomKeywordField = 'x'").await?, 0);
    expect_invalid_query(s, ns, "CustomIntField = 1").await?;
    Ok(())
}

/// An attribute registered after records were written is absent on them until they are
/// upserted with it.
pub async fn attribute_added_later(ctx: &Ctx) -> Result<(), CaseError> {
    let s = vis(ctx)?;
    let ns = NamespaceId::new_random();
    ok(
        "register CustomKeywordField",
        s.add_search_attributes(
            ns,
            BTreeMap::from([(
                "CustomKeywordField".to_string(),
                SearchAttributeType::Keyword,
            )]),
        )
        .await,
    )?;
    let r = with_attrs(
        &running(ns, "wf", at(0, 0)),
        1,
        &[("CustomKeywordField", kw("k"))],
    );
    write(s, &r).await?;
    ok(
        "register CustomIntField",
        s.add_search_attributes(
            ns,
            BTreeMap::from([("CustomIntField".to_string(), SearchAttributeType::Int)]),
        )
        .await,
    )?;
    ensure_eq!(count(s, ns, "CustomIntField IS NULL").await?, 1);
    ensure_eq!(count(s, ns, "CustomIntField = 3").await?, 0);
    let up = with_attrs(
        &r,
        2,
        &[
            ("CustomKeywordField", kw("k")),
            ("CustomIntField", SearchAttributeValue::Int(3)),
        ],
    );
    ok("upsert", s.upsert(up.clone()).await)?;
    ensure_eq!(
        list_ids(s, ns, "CustomIntField = 3", 5).await?,
        vec![r.run_id]
    );
    ensure_stored(s, "upserted", &up).await
}
