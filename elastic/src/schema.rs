//! The visibility index as a versioned schema for durastore's schema engine.
//!
//! Schema files (`schema/visibility/versioned/v<M.m>/*.http`) hold requests, one per statement:
//! a method, a path and a JSON body (`PUT /{index}` + settings and mappings; later versions add
//! fields with `PUT /{index}/_mapping`, which Elasticsearch applies additively). `{index}` is
//! replaced by the configured index name. The version bookkeeping lives in two small indexes,
//! `<index>_schema_version` (one document per set) and `<index>_schema_update_history`.
//!
//! There are no transactions: every request is idempotent (an existing index is
//! "already applied", a mapping update with the same fields is accepted again), so a crash
//! halfway is finished by running `update` again. `verify` compares the live mappings of the
//! schema's indexes with those of a scratch index built from the files; runtime custom
//! attributes (`Custom.*`) are not part of the schema and are left out.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use durastore_api::schema::{
    ColumnDescription, EmbeddedVersion, ExecOutcome, HistoryRecord, SET_VISIBILITY,
    SchemaDescription, SchemaDriver, SchemaSet, TableDescription, VersionRecord,
};
use durastore_api::{Result, StoreError};
use elasticsearch::http::Method;
use serde_json::{Value, json};

use crate::ElasticConfig;
use crate::client::{Client, classify};

/// The visibility schema's versions, oldest first.
pub const VISIBILITY_VERSIONS: &[EmbeddedVersion] = &[
    (
        "1.0",
        include_str!("../schema/visibility/versioned/v1.0/manifest.json"),
        &[(
            "indexes.http",
            include_str!("../schema/visibility/versioned/v1.0/indexes.http"),
        )],
    ),
    (
        "1.1",
        include_str!("../schema/visibility/versioned/v1.1/manifest.json"),
        &[(
            "chasm.http",
            include_str!("../schema/visibility/versioned/v1.1/chasm.http"),
        )],
    ),
];

/// The embedded schema set (only `visibility` exists for Elasticsearch).
pub fn embedded_set(name: &str) -> Result<SchemaSet> {
    if name != SET_VISIBILITY {
        return Err(StoreError::invalid_argument(format!(
            "Elasticsearch/OpenSearch hold only the visibility schema set, not {name:?}"
        )));
    }
    SchemaSet::from_embedded(SET_VISIBILITY, VISIBILITY_VERSIONS)
}

/// Schema driver for one index.
#[derive(Debug)]
pub struct ElasticSchemaDriver {
    cfg: ElasticConfig,
    client: Client,
    /// Drop the indexes on dispose (scratch drivers of `verify`).
    scratch: bool,
}

fn version_index(cfg: &ElasticConfig) -> String {
    format!("{}_schema_version", cfg.index)
}
fn history_index(cfg: &ElasticConfig) -> String {
    format!("{}_schema_update_history", cfg.index)
}

/// Splits `METHOD /path\n{body}` into its parts.
fn parse_request(statement: &str) -> Result<(Method, String, Option<Value>)> {
    let s = statement.trim();
    let (head, body) = match s.find('\n') {
        Some(i) => (s[..i].trim(), s[i..].trim()),
        None => (s, ""),
    };
    let mut parts = head.split_whitespace();
    let method = match parts.next().map(str::to_ascii_uppercase).as_deref() {
        Some("PUT") => Method::Put,
        Some("POST") => Method::Post,
        other => {
            return Err(StoreError::invalid_argument(format!(
                "schema request must start with PUT or POST, not {other:?}"
            )));
        }
    };
    let path = parts
        .next()
        .filter(|p| p.starts_with('/'))
        .ok_or_else(|| {
            StoreError::invalid_argument(format!("schema request without a path: {head:?}"))
        })?
        .to_string();
    let body = if body.is_empty() {
        None
    } else {
        Some(serde_json::from_str(body).map_err(|e| {
            StoreError::invalid_argument(format!("schema request {head}: body is not JSON: {e}"))
        })?)
    };
    Ok((method, path, body))
}

impl ElasticSchemaDriver {
    /// A driver for the config's index.
    pub fn new(cfg: &ElasticConfig) -> Result<Self> {
        Ok(ElasticSchemaDriver {
            client: cfg.client()?,
            cfg: cfg.clone(),
            scratch: false,
        })
    }

    /// A driver for a fresh scratch index beside the config's (for `verify`); dropped on
    /// [`SchemaDriver::dispose`].
    pub fn scratch(cfg: &ElasticConfig) -> Result<Self> {
        let name = format!(
            "durastore_scratch_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let mut d = Self::new(&cfg.with_index(&name)?)?;
        d.scratch = true;
        Ok(d)
    }

    async fn put_history(&self, h: &HistoryRecord) -> Result<()> {
        let id = h.update_time.timestamp_nanos_opt().unwrap_or_default();
        self.client
            .ok(
                "schema history",
                Method::Put,
                &format!("/{}/_doc/{id}", history_index(&self.cfg)),
                &[("refresh", "true".into())],
                Some(json!({
                    "update_time": h.update_time.to_rfc3339(),
                    "old_version": h.old_version.to_string(),
                    "new_version": h.new_version.to_string(),
                    "manifest_md5": h.manifest_md5,
                    "description": h.description,
                })),
            )
            .await?;
        Ok(())
    }
}

#[async_trait]
impl SchemaDriver for ElasticSchemaDriver {
    fn backend(&self) -> &str {
        &self.cfg.flavor
    }

    fn db_name(&self) -> &str {
        SET_VISIBILITY
    }

    fn version_table_statements(&self) -> Vec<String> {
        // Created by `execute` through the same request syntax as the schema files.
        let kw = json!({"type": "keyword"});
        vec![
            format!(
                "PUT /{}\n{}",
                version_index(&self.cfg),
                json!({"settings": {"number_of_shards": 1, "number_of_replicas": 0},
                       "mappings": {"dynamic": false, "properties": {"db_name": kw}}})
            ),
            format!(
                "PUT /{}\n{}",
                history_index(&self.cfg),
                json!({"settings": {"number_of_shards": 1, "number_of_replicas": 0},
                       "mappings": {"dynamic": false, "properties": {"new_version": kw}}})
            ),
        ]
    }

    async fn version_tables_exist(&self) -> Result<bool> {
        let r = self
            .client
            .send(
                Method::Get,
                &format!("/{}", version_index(&self.cfg)),
                &[],
                None,
            )
            .await?;
        Ok((200..300).contains(&r.status))
    }

    async fn begin(&self) -> Result<()> {
        Ok(())
    }

    async fn end(&self, _commit: bool) -> Result<()> {
        Ok(())
    }

    async fn execute(&self, statement: &str) -> Result<ExecOutcome> {
        let statement = statement.replace("{index}", &self.cfg.index);
        let (method, path, body) = parse_request(&statement)?;
        let r = self.client.send(method, &path, &[], body).await?;
        if (200..300).contains(&r.status) {
            return Ok(ExecOutcome::Applied);
        }
        if r.error_type() == "resource_already_exists_exception" {
            return Ok(ExecOutcome::AlreadyApplied(format!(
                "{path} already exists"
            )));
        }
        Err(classify(&format!("schema request {path}"), &r, true))
    }

    async fn read_version(&self) -> Result<Option<VersionRecord>> {
        let r = self
            .client
            .send(
                Method::Get,
                &format!("/{}/_doc/{}", version_index(&self.cfg), SET_VISIBILITY),
                &[],
                None,
            )
            .await?;
        if r.status == 404 {
            return Ok(None);
        }
        if !(200..300).contains(&r.status) {
            return Err(classify("read schema version", &r, false));
        }
        let src = &r.body["_source"];
        let created = src["creation_time"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        VersionRecord::from_stored(
            SET_VISIBILITY,
            created,
            src["curr_version"].as_str(),
            src["min_compatible_version"].as_str(),
        )
        .map(Some)
    }

    async fn read_history(&self) -> Result<Vec<HistoryRecord>> {
        let res = self
            .client
            .ok(
                "read schema history",
                Method::Post,
                &format!("/{}/_search", history_index(&self.cfg)),
                &[],
                Some(json!({"size": 10000, "query": {"match_all": {}}})),
            )
            .await?;
        let mut out = Vec::new();
        for hit in res
            .pointer("/hits/hits")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let s = &hit["_source"];
            let t = s["update_time"]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| StoreError::internal("schema history without update_time"))?;
            out.push(HistoryRecord::from_stored(
                t,
                s["old_version"].as_str(),
                s["new_version"].as_str(),
                s["manifest_md5"].as_str().map(str::to_string),
                s["description"].as_str().map(str::to_string),
            )?);
        }
        out.sort_by_key(|h| h.update_time);
        Ok(out)
    }

    async fn insert_history(&self, record: &HistoryRecord) -> Result<()> {
        self.put_history(record).await
    }

    async fn finish_version(
        &self,
        version: &VersionRecord,
        remove: &[HistoryRecord],
        done: &HistoryRecord,
    ) -> Result<()> {
        // Not atomic: the history row is written last, so a crash leaves the in-progress row
        // and `update` finishes the version again (every step is idempotent).
        self.client
            .ok(
                "write schema version",
                Method::Put,
                &format!("/{}/_doc/{}", version_index(&self.cfg), SET_VISIBILITY),
                &[("refresh", "true".into())],
                Some(json!({
                    "db_name": SET_VISIBILITY,
                    "creation_time": version.creation_time.to_rfc3339(),
                    "curr_version": version.curr_version.to_string(),
                    "min_compatible_version": version.min_compatible_version.to_string(),
                })),
            )
            .await?;
        for h in remove {
            let id = h.update_time.timestamp_nanos_opt().unwrap_or_default();
            let r = self
                .client
                .send(
                    Method::Delete,
                    &format!("/{}/_doc/{id}", history_index(&self.cfg)),
                    &[("refresh", "true".into())],
                    None,
                )
                .await?;
            if !(200..300).contains(&r.status) && r.status != 404 {
                return Err(classify("delete schema history", &r, true));
            }
        }
        self.put_history(done).await
    }

    async fn describe(&self) -> Result<SchemaDescription> {
        let mut tables = BTreeMap::new();
        for (name, index) in [
            ("{index}", self.cfg.index.clone()),
            ("{index}_search_attributes", self.cfg.registry_index()),
        ] {
            let r = self
                .client
                .send(Method::Get, &format!("/{index}/_mapping"), &[], None)
                .await?;
            if r.status == 404 {
                continue;
            }
            if !(200..300).contains(&r.status) {
                return Err(classify("describe", &r, false));
            }
            let mapping = r
                .body
                .get(&index)
                .and_then(|m| m.get("mappings"))
                .cloned()
                .unwrap_or(Value::Null);
            let mut columns = Vec::new();
            let dynamic = mapping["dynamic"]
                .as_str()
                .map(str::to_string)
                .or_else(|| mapping["dynamic"].as_bool().map(|b| b.to_string()));
            columns.push(ColumnDescription {
                name: "(dynamic)".into(),
                data_type: dynamic
                    .unwrap_or_else(|| "true".into())
                    .to_ascii_uppercase(),
                nullable: true,
                default: None,
            });
            if let Some(props) = mapping["properties"].as_object() {
                for (field, m) in props {
                    // Runtime custom attributes live under `Custom`; they are data, not schema.
                    let ty = if field == "Custom" {
                        "OBJECT".to_string()
                    } else {
                        let mut t = m["type"].as_str().unwrap_or("object").to_ascii_uppercase();
                        if m["index"].as_bool() == Some(false) {
                            t.push_str(" NOT INDEXED");
                        }
                        if m["enabled"].as_bool() == Some(false) {
                            t.push_str(" DISABLED");
                        }
                        t
                    };
                    columns.push(ColumnDescription {
                        name: field.clone(),
                        data_type: ty,
                        nullable: true,
                        default: None,
                    });
                }
            }
            tables.insert(
                name.to_string(),
                TableDescription {
                    columns,
                    primary_key: vec!["_id".into()],
                    indexes: BTreeMap::new(),
                },
            );
        }
        Ok(SchemaDescription { tables })
    }

    async fn dispose(&self) -> Result<()> {
        if self.scratch {
            crate::drop_indexes(&self.cfg).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_loads_and_maps_every_predefined_attribute() {
        let set = embedded_set(SET_VISIBILITY).expect("set loads");
        let v = &set.versions[0];
        let stmts = v.statements();
        assert_eq!(stmts.len(), 2);
        let (_, path, body) = parse_request(&stmts[0]).expect("parses");
        assert_eq!(path, "/{index}");
        let props = &body.expect("body")["mappings"]["properties"];
        for (name, _) in durastore_api::query::PREDEFINED_ATTRIBUTES {
            assert!(props.get(*name).is_some(), "{name} not mapped");
        }
        // 1.1 adds the CHASM fields to the same index, each mapped as its type is.
        let stmts = set.versions[1].statements();
        assert_eq!(stmts.len(), 1);
        let (_, path, body) = parse_request(&stmts[0]).expect("parses");
        assert_eq!(path, "/{index}/_mapping");
        let props = &body.expect("body")["properties"];
        for (name, ty) in durastore_api::query::CHASM_ATTRIBUTES {
            assert_eq!(props[*name], crate::doc::mapping_for(*ty), "{name}");
        }
        assert_eq!(props[crate::doc::ARCHETYPE_FIELD]["type"], "long");
    }
}
