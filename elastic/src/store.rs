//! The VisibilityStore over one index.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use durastore_api::query::{
    EXECUTION_STATUS, Query, SearchAttributeType, SearchAttributes, parse_query,
    validate_custom_name,
};
use durastore_api::{
    CountResult, CountWorkflowExecutionsRequest, ListWorkflowExecutionsRequest, NamespaceId, Page,
    Result, RunId, StoreError, VisibilityRecord, VisibilityStore, VisibilityWrite, WorkflowStatus,
    validate, validate_batch,
};
use elasticsearch::http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::ElasticConfig;
use crate::bulk::{Batcher, Op};
use crate::client::{Client, classify};
use crate::doc::{
    custom_field, doc_id, mapping_for, record_from_doc, record_to_doc, type_from_name, type_name,
};
use crate::translate::to_query;

/// Most groups a `GROUP BY` on a LowCardinalityKeyword attribute may have.
const GROUP_LIMIT: usize = 1000;

/// The list order: running first, then close time, start time descending, run id ascending.
fn sort() -> Value {
    json!([
        {"CloseTimeOrder": {"order": "desc"}},
        {"StartTime": {"order": "desc"}},
        {"RunId": {"order": "asc"}}
    ])
}

/// Position after the last record of a page: its three sort values, and a fingerprint of the
/// namespace and query it belongs to (a token continues only the listing that issued it).
#[derive(Debug, Serialize, Deserialize)]
struct ListToken {
    c: String,
    s: String,
    r: String,
    q: String,
}

/// FNV-1a over namespace, archetype and query text: tells listings apart (not a security
/// measure). Workflow listings hash as before schema 1.1.
fn fingerprint(ns: &NamespaceId, archetype_id: u32, query: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let archetype = match archetype_id {
        0 => String::new(),
        a => format!("{a}\0"),
    };
    for b in ns
        .to_string()
        .bytes()
        .chain([0])
        .chain(archetype.bytes())
        .chain(query.bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl ListToken {
    fn decode(t: &[u8], fp: &str) -> Result<Self> {
        let tok: ListToken = validate::token::decode(t)?;
        if tok.q != fp {
            return Err(StoreError::invalid_argument(
                "page token belongs to another query or namespace",
            ));
        }
        let datetime_like = |s: &str| s.len() == 30 && s.is_ascii();
        let ok = (tok.c == crate::doc::RUNNING_ORDER || datetime_like(&tok.c))
            && datetime_like(&tok.s)
            && tok.r.len() <= 64;
        if ok {
            Ok(tok)
        } else {
            Err(StoreError::invalid_argument("invalid page token"))
        }
    }
}

/// Visibility on Elasticsearch / OpenSearch.
pub struct ElasticVisibility {
    cfg: ElasticConfig,
    client: Client,
    /// Every document write goes through it (coalesced into bulks under load).
    batcher: Arc<Batcher>,
    /// Custom attributes per namespace, as registered; refreshed when a name is unknown.
    registry: RwLock<HashMap<NamespaceId, Arc<SearchAttributes>>>,
}

impl std::fmt::Debug for ElasticVisibility {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ElasticVisibility")
            .field("cfg", &self.cfg)
            .finish()
    }
}

impl ElasticVisibility {
    /// Opens the store; the index must exist.
    pub async fn open(cfg: &ElasticConfig) -> Result<Self> {
        Self::open_with(cfg, cfg.client()?).await
    }

    /// [`ElasticVisibility::open`] over `client`.
    pub(crate) async fn open_with(cfg: &ElasticConfig, client: Client) -> Result<Self> {
        let r = client
            .send(Method::Get, &format!("/{}", cfg.index), &[], None)
            .await?;
        if r.status == 404 {
            return Err(StoreError::not_found(format!(
                "visibility index {:?} does not exist; run `durastore schema setup --url {}`",
                cfg.index,
                cfg.url()
            )));
        }
        if !(200..300).contains(&r.status) {
            return Err(classify("open", &r, false));
        }
        Ok(ElasticVisibility {
            cfg: cfg.clone(),
            batcher: Batcher::new(
                client.clone(),
                cfg.index.clone(),
                cfg.refresh.clone(),
                cfg.bulk,
            ),
            client,
            registry: RwLock::new(HashMap::new()),
        })
    }

    fn doc_path(&self, ns: &NamespaceId, run: &RunId) -> String {
        format!("/{}/_doc/{}", self.cfg.index, doc_id(ns, run))
    }

    /// The namespace's attributes, from the cache or the registry index.
    async fn attrs(&self, ns: &NamespaceId, reload: bool) -> Result<Arc<SearchAttributes>> {
        if !reload {
            let cached = self
                .registry
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .get(ns)
                .cloned();
            if let Some(a) = cached {
                return Ok(a);
            }
        }
        let body = json!({
            "query": {"term": {"namespace_id": ns.to_string()}},
            "size": 10000
        });
        let res = self
            .client
            .ok(
                "read search attributes",
                Method::Post,
                &format!("/{}/_search", self.cfg.registry_index()),
                &[],
                Some(body),
            )
            .await?;
        let mut custom = BTreeMap::new();
        for hit in res
            .pointer("/hits/hits")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let src = &hit["_source"];
            if let (Some(name), Some(ty)) = (
                src["name"].as_str(),
                src["type"].as_str().and_then(type_from_name),
            ) {
                custom.insert(name.to_string(), ty);
            }
        }
        let attrs = Arc::new(SearchAttributes::new(custom));
        self.registry
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(*ns, attrs.clone());
        Ok(attrs)
    }

    /// Parses a query; an unknown attribute triggers one registry reload (another process may
    /// have registered it).
    async fn parse(
        &self,
        ns: &NamespaceId,
        text: &str,
        count: bool,
    ) -> Result<(Query, Arc<SearchAttributes>)> {
        let attrs = self.attrs(ns, false).await?;
        match parse_query(text, &attrs, count) {
            Ok(q) => Ok((q, attrs)),
            Err(e) if e.message().contains("unknown search attribute") => {
                let attrs = self.attrs(ns, true).await?;
                Ok((parse_query(text, &attrs, count)?, attrs))
            }
            Err(e) => Err(e),
        }
    }

    async fn write(&self, r: VisibilityRecord, closed: bool) -> Result<()> {
        validate::visibility_record(&r, closed)?;
        let op = self.index_op(&r).await?;
        self.batcher.write(op).await
    }

    /// The write of `r`'s document, versioned by its task id (`r` is validated). An attribute
    /// the cached registry lacks triggers one reload (another process may have registered it).
    async fn index_op(&self, r: &VisibilityRecord) -> Result<Op> {
        let mut attrs = self.attrs(&r.namespace_id, false).await?;
        let unknown = r
            .search_attributes
            .keys()
            .any(|k| attrs.type_of(k).is_none());
        if unknown {
            attrs = self.attrs(&r.namespace_id, true).await?;
        }
        let doc = record_to_doc(r, &attrs)?;
        Ok(Op::index(
            doc_id(&r.namespace_id, &r.run_id),
            r.task_id,
            doc,
        ))
    }

    fn page_size(size: i32) -> Result<usize> {
        validate::page_size(size)
    }
}

#[async_trait]
impl VisibilityStore for ElasticVisibility {
    async fn record_started(&self, record: VisibilityRecord) -> Result<()> {
        self.write(record, false).await
    }

    async fn record_closed(&self, record: VisibilityRecord) -> Result<()> {
        self.write(record, true).await
    }

    async fn upsert(&self, record: VisibilityRecord) -> Result<()> {
        self.write(record, false).await
    }

    async fn delete(&self, namespace_id: NamespaceId, run_id: RunId, task_id: i64) -> Result<()> {
        namespace_id.validate()?;
        run_id.validate()?;
        validate::non_negative("task id", task_id)?;
        self.batcher
            .write(Op::delete(doc_id(&namespace_id, &run_id), task_id))
            .await
    }

    async fn get(&self, namespace_id: NamespaceId, run_id: RunId) -> Result<VisibilityRecord> {
        namespace_id.validate()?;
        run_id.validate()?;
        let reply = self
            .client
            .send(
                Method::Get,
                &self.doc_path(&namespace_id, &run_id),
                &[],
                None,
            )
            .await?;
        let not_found = || {
            StoreError::not_found(format!(
                "visibility record {run_id} of namespace {namespace_id} not found"
            ))
        };
        match reply.status {
            200 if reply.body["found"].as_bool() == Some(true) => {
                record_from_doc(&reply.body["_source"])
            }
            200 => Err(not_found()),
            404 if !reply.error_type().contains("index_not_found") => Err(not_found()),
            _ => Err(classify("get", &reply, false)),
        }
    }

    async fn list(&self, req: ListWorkflowExecutionsRequest) -> Result<Page<VisibilityRecord>> {
        req.namespace_id.validate()?;
        let size = Self::page_size(req.page_size)?;
        let token = match &req.next_page_token {
            Some(t) => Some(ListToken::decode(
                t,
                &fingerprint(
                    &req.namespace_id,
                    validate::visibility_scope(req.archetype_id)?,
                    &req.query,
                ),
            )?),
            None => None,
        };
        let (q, attrs) = self.parse(&req.namespace_id, &req.query, false).await?;
        // One more than the page: its presence says whether a next page exists, so the last
        // page never carries a token.
        let mut body = json!({
            "query": to_query(
                &req.namespace_id.to_string(),
                validate::visibility_scope(req.archetype_id)?,
                q.filter.as_ref(),
                &attrs
            ),
            "sort": sort(),
            "size": size + 1,
            "track_total_hits": false
        });
        if let Some(t) = &token {
            body["search_after"] = json!([t.c, t.s, t.r]);
        }
        let res = self
            .client
            .ok(
                "list",
                Method::Post,
                &format!("/{}/_search", self.cfg.index),
                &[],
                Some(body),
            )
            .await?;
        let mut hits = res
            .pointer("/hits/hits")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let more = hits.len() > size;
        hits.truncate(size);
        let mut items = Vec::with_capacity(hits.len());
        for hit in &hits {
            items.push(record_from_doc(&hit["_source"])?);
        }
        let next_page_token = match hits.last() {
            Some(hit) if more => {
                let sv = hit["sort"].as_array();
                let get = |i: usize| {
                    sv.and_then(|a| a.get(i))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .ok_or_else(|| StoreError::internal("search hit without sort values"))
                };
                Some(validate::token::encode(&ListToken {
                    c: get(0)?,
                    s: get(1)?,
                    r: get(2)?,
                    q: fingerprint(
                        &req.namespace_id,
                        validate::visibility_scope(req.archetype_id)?,
                        &req.query,
                    ),
                }))
            }
            _ => None,
        };
        Ok(Page {
            items,
            next_page_token,
        })
    }

    async fn count(&self, req: CountWorkflowExecutionsRequest) -> Result<CountResult> {
        req.namespace_id.validate()?;
        let (q, attrs) = self.parse(&req.namespace_id, &req.query, true).await?;
        let query = to_query(
            &req.namespace_id.to_string(),
            validate::visibility_scope(req.archetype_id)?,
            q.filter.as_ref(),
            &attrs,
        );
        if q.group_by.is_empty() {
            let res = self
                .client
                .ok(
                    "count",
                    Method::Post,
                    &format!("/{}/_count", self.cfg.index),
                    &[],
                    Some(json!({"query": query})),
                )
                .await?;
            let count = res["count"]
                .as_i64()
                .ok_or_else(|| StoreError::internal("count reply without count"))?;
            return Ok(CountResult {
                count,
                groups: Vec::new(),
            });
        }
        // The parser admits one attribute: ExecutionStatus or a LowCardinalityKeyword one.
        let group = match q.group_by.as_slice() {
            [g] => g,
            more => {
                return Err(StoreError::invalid_argument(format!(
                    "query: GROUP BY supports one attribute, not {more:?}"
                )));
            }
        };
        let by_status = group == EXECUTION_STATUS;
        let field = crate::doc::field_name(group, &attrs);
        // Low cardinality by contract: GROUP_LIMIT buckets are plenty, and a reply with more
        // values is refused (sum_other_doc_count) rather than answered with partial groups.
        let body = json!({
            "query": query,
            "size": 0,
            "track_total_hits": true,
            "aggs": {"g": {"terms": {"field": field, "size": GROUP_LIMIT}}}
        });
        let res = self
            .client
            .ok(
                "count",
                Method::Post,
                &format!("/{}/_search", self.cfg.index),
                &[],
                Some(body),
            )
            .await?;
        let count = res
            .pointer("/hits/total/value")
            .and_then(Value::as_i64)
            .ok_or_else(|| StoreError::internal("count reply without total"))?;
        if res
            .pointer("/aggregations/g/sum_other_doc_count")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            > 0
        {
            return Err(StoreError::invalid_argument(format!(
                "query: GROUP BY {group} has more than {GROUP_LIMIT} distinct values"
            )));
        }
        let buckets = res
            .pointer("/aggregations/g/buckets")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if by_status {
            let mut groups = Vec::new();
            for b in &buckets {
                let name = b["key"].as_str().unwrap_or("");
                let status = WorkflowStatus::from_name(name).ok_or_else(|| {
                    StoreError::internal(format!("unknown status {name:?} stored"))
                })?;
                groups.push((status, b["doc_count"].as_i64().unwrap_or(0)));
            }
            return Ok(CountResult::by_status(count, groups));
        }
        let mut groups = Vec::new();
        for b in &buckets {
            let key = b["key"]
                .as_str()
                .ok_or_else(|| StoreError::internal("GROUP BY bucket without a string key"))?;
            groups.push((Some(key.to_string()), b["doc_count"].as_i64().unwrap_or(0)));
        }
        // The records without the attribute are a group too (as SQL's NULL group).
        let missing = count - groups.iter().map(|(_, n)| n).sum::<i64>();
        if missing > 0 {
            groups.push((None, missing));
        }
        Ok(CountResult::by_value(count, groups))
    }

    async fn add_search_attributes(
        &self,
        namespace_id: NamespaceId,
        attributes: BTreeMap<String, SearchAttributeType>,
    ) -> Result<()> {
        namespace_id.validate()?;
        for name in attributes.keys() {
            validate_custom_name(name)?;
        }
        let current = self.attrs(&namespace_id, true).await?;
        for (name, ty) in &attributes {
            if let Some(existing) = current.custom().get(name)
                && existing != ty
            {
                return Err(StoreError::invalid_argument(format!(
                    "search attribute {name:?} is already registered as {} in namespace {namespace_id}",
                    type_name(*existing)
                )));
            }
        }
        // Mapping first (idempotent: the same mapping again is accepted), then the registry
        // entry, so a registered name always has its field.
        let mut props = serde_json::Map::new();
        for (name, ty) in &attributes {
            props.insert(custom_field(name, *ty), mapping_for(*ty));
        }
        self.client
            .ok(
                "add search attributes",
                Method::Put,
                &format!("/{}/_mapping", self.cfg.index),
                &[],
                Some(json!({"properties": Value::Object(props)})),
            )
            .await?;
        for (name, ty) in &attributes {
            let id = format!("{namespace_id}~{name}");
            let reply = self
                .client
                .send(
                    Method::Put,
                    &format!("/{}/_create/{id}", self.cfg.registry_index()),
                    &[("refresh", "true".to_string())],
                    Some(json!({
                        "namespace_id": namespace_id.to_string(),
                        "name": name,
                        "type": type_name(*ty)
                    })),
                )
                .await?;
            match reply.status {
                200 | 201 => {}
                // Registered concurrently: fine if with the same type.
                409 => {
                    let again = self.attrs(&namespace_id, true).await?;
                    if again.custom().get(name) != Some(ty) {
                        return Err(StoreError::invalid_argument(format!(
                            "search attribute {name:?} was registered concurrently with another type"
                        )));
                    }
                }
                _ => return Err(classify("register search attribute", &reply, true)),
            }
        }
        self.attrs(&namespace_id, true).await?;
        Ok(())
    }

    async fn write_batch(&self, writes: Vec<VisibilityWrite>) -> Result<Vec<Result<()>>> {
        validate_batch(&writes)?;
        // A write whose document cannot be built (an unregistered attribute) gets its error
        // here and is not sent; the others go out in order, in bulks.
        let mut results: Vec<Option<Result<()>>> = Vec::with_capacity(writes.len());
        let mut ops = Vec::with_capacity(writes.len());
        let mut sent_at = Vec::with_capacity(writes.len());
        for (i, w) in writes.into_iter().enumerate() {
            let op = match w {
                VisibilityWrite::Started(r)
                | VisibilityWrite::Closed(r)
                | VisibilityWrite::Upsert(r) => self.index_op(&r).await,
                VisibilityWrite::Delete {
                    namespace_id,
                    run_id,
                    task_id,
                } => Ok(Op::delete(doc_id(&namespace_id, &run_id), task_id)),
            };
            match op {
                Ok(op) => {
                    ops.push(op);
                    sent_at.push(i);
                    results.push(None);
                }
                Err(e) => results.push(Some(Err(e))),
            }
        }
        for (i, r) in sent_at.into_iter().zip(self.batcher.write_all(ops).await) {
            results[i] = Some(r);
        }
        Ok(results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| Err(StoreError::internal("bulk write: a write got no result")))
            })
            .collect())
    }

    async fn refresh(&self) -> Result<()> {
        self.client
            .ok(
                "refresh",
                Method::Post,
                &format!("/{}/_refresh", self.cfg.index),
                &[],
                None,
            )
            .await?;
        Ok(())
    }
}
