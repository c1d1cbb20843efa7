//! The floor of the search backends (`durastore bench --floor`): the HTTP requests the
//! visibility store sent for one unit of work (document writes, searches, counts), replayed
//! through the same HTTP client without the store logic.
//!
//! Stores opened by [`open_recorded`] log every request with its reply status to a
//! [`Recorder`]. Two recorded units make an [`HttpTemplate`]: path segments and JSON strings
//! that differ between the units are ids and vary per iteration
//! ([`durastore_api::replay`]); everything else (query parameters such as the external
//! version, numbers, dates, whole search bodies) is sent as recorded. A [`Replayer`] sends an
//! iteration and checks each reply has the recorded status: no query parsing or translation, no
//! document mapping, no search-attribute registry.

use std::sync::Arc;

use durastore_api::replay::{is_varying_text, shape_error, vary_text};
use durastore_api::{Result, StoreError, Stores};
use elasticsearch::http::Method;
use serde_json::Value;

use crate::client::{Client, Exchange, Tap};
use crate::{ElasticConfig, ElasticVisibility};

/// One request as the store logic sent it, with the status of its reply.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: Method,
    /// Path, e.g. `/index/_doc/id`.
    pub path: String,
    /// Query parameters.
    pub query: Vec<(String, String)>,
    /// JSON body.
    pub body: Option<Value>,
    /// The reply's status.
    pub status: u16,
}

/// The log of every request of recorded stores.
pub type Recorder = durastore_api::replay::Log<RecordedRequest>;

impl Tap for Recorder {
    fn exchange(&self, e: &Exchange<'_>) {
        self.push(RecordedRequest {
            method: e.method,
            path: e.path.to_string(),
            query: e
                .query
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            body: e.body.cloned(),
            status: e.status,
        });
    }
}

/// [`crate::open`] with every request logged to `recorder`.
pub async fn open_recorded(url: &str, recorder: Arc<Recorder>) -> Result<Stores> {
    let cfg = ElasticConfig::from_url(url)?;
    let tap: Arc<dyn Tap> = recorder;
    let client = cfg.client()?.with_tap(tap);
    crate::stores(&cfg, ElasticVisibility::open_with(&cfg, client).await?)
}

/// A path segment of a template request.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// The same in every iteration.
    Const(String),
    /// An id rewritten per iteration from this recorded value.
    Vary(String),
}

/// A request of the template.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateRequest {
    /// HTTP method.
    pub method: Method,
    /// Path segments (between `/`).
    pub path: Vec<Segment>,
    /// Query parameters, as recorded.
    pub query: Vec<(String, String)>,
    /// The first unit's body.
    pub body: Option<Value>,
    /// JSON pointers of the body's strings that vary per iteration.
    pub vary: Vec<String>,
    /// The status the reply must have.
    pub status: u16,
}

/// One unit of work as replayable requests.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpTemplate {
    /// The requests in order.
    pub requests: Vec<TemplateRequest>,
}

fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The pointers under `at` where `a` and `b` hold different id strings. Other differences
/// (numbers, dates, structure) keep `a`'s value: they are data, not keys.
fn varying_strings(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::String(x), Value::String(y)) if x != y && is_varying_text(x) => {
            out.push(at.to_string());
        }
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                if let Some(vb) = y.get(k) {
                    varying_strings(va, vb, &format!("{at}/{}", pointer_token(k)), out);
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                varying_strings(va, vb, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

impl HttpTemplate {
    /// Derives the template from two units of the same workload recorded one after the other.
    /// Fails when they differ in anything but ids and data.
    pub fn derive(a: &[RecordedRequest], b: &[RecordedRequest]) -> Result<Self> {
        if a.len() != b.len() {
            return Err(shape_error(format!("{} vs {} requests", a.len(), b.len())));
        }
        let mut requests = Vec::with_capacity(a.len());
        for (i, (ra, rb)) in a.iter().zip(b).enumerate() {
            let (pa, pb): (Vec<&str>, Vec<&str>) =
                (ra.path.split('/').collect(), rb.path.split('/').collect());
            let keys =
                |r: &RecordedRequest| r.query.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
            if ra.method != rb.method
                || pa.len() != pb.len()
                || keys(ra) != keys(rb)
                || ra.body.is_some() != rb.body.is_some()
                || ra.status != rb.status
            {
                return Err(shape_error(format!(
                    "request {i}: {:?} {} ({}) vs {:?} {} ({})",
                    ra.method, ra.path, ra.status, rb.method, rb.path, rb.status
                )));
            }
            let path = pa
                .iter()
                .zip(&pb)
                .map(|(x, y)| {
                    if x != y && is_varying_text(x) {
                        Segment::Vary(x.to_string())
                    } else {
                        Segment::Const(x.to_string())
                    }
                })
                .collect();
            let mut vary = Vec::new();
            if let (Some(x), Some(y)) = (&ra.body, &rb.body) {
                varying_strings(x, y, "", &mut vary);
            }
            requests.push(TemplateRequest {
                method: ra.method,
                path,
                query: ra.query.clone(),
                body: ra.body.clone(),
                vary,
                status: ra.status,
            });
        }
        Ok(HttpTemplate { requests })
    }

    /// Whether `other` (another recorded unit) sends this template's requests, in order.
    pub fn same_shape(&self, other: &[RecordedRequest]) -> bool {
        self.requests.len() == other.len()
            && self.requests.iter().zip(other).all(|(t, o)| {
                t.method == o.method
                    && t.path.len() == o.path.split('/').count()
                    && t.status == o.status
            })
    }

    /// Requests per unit.
    pub fn requests(&self) -> usize {
        self.requests.len()
    }
}

impl TemplateRequest {
    /// The path in iteration `it`.
    pub fn path(&self, it: u64) -> String {
        let parts: Vec<String> = self
            .path
            .iter()
            .map(|s| match s {
                Segment::Const(x) => x.clone(),
                Segment::Vary(x) => vary_text(x, it),
            })
            .collect();
        parts.join("/")
    }

    /// The body in iteration `it`.
    pub fn body(&self, it: u64) -> Option<Value> {
        let mut body = self.body.clone()?;
        for p in &self.vary {
            if let Some(v) = body.pointer_mut(p)
                && let Value::String(s) = v
            {
                *s = vary_text(s, it);
            }
        }
        Some(body)
    }
}

/// Replays templates through a client of its own (the adapter's HTTP client and settings).
#[derive(Debug)]
pub struct Replayer {
    client: Client,
    templates: Vec<HttpTemplate>,
}

impl Replayer {
    /// A client for the cluster of `url`.
    pub fn new(url: &str, templates: Vec<HttpTemplate>) -> Result<Self> {
        let cfg = ElasticConfig::from_url(url)?;
        Ok(Replayer {
            client: cfg.client()?,
            templates,
        })
    }

    /// The templates, in the order [`Replayer::run`] indexes them.
    pub fn templates(&self) -> &[HttpTemplate] {
        &self.templates
    }

    /// Runs iteration `it` of template `t`. A reply whose status is not the recorded one ends
    /// the iteration with an error: the replay is then not doing the adapter's work.
    pub async fn run(&self, t: usize, it: u64) -> Result<()> {
        for (i, r) in self.templates[t].requests.iter().enumerate() {
            let path = r.path(it);
            let query: Vec<(&str, String)> = r
                .query
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect();
            let reply = self
                .client
                .send(r.method, &path, &query, r.body(it))
                .await?;
            if reply.status != r.status {
                return Err(StoreError::internal(format!(
                    "floor replay: request {i} ({:?} {path}) answered {} where the adapter's got {}",
                    r.method, reply.status, r.status
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn unit(run: &str, wf: &str, version: i64, start: &str) -> Vec<RecordedRequest> {
        vec![
            RecordedRequest {
                method: Method::Put,
                path: format!("/vis/_doc/ns~{run}"),
                query: vec![
                    ("version".into(), version.to_string()),
                    ("version_type".into(), "external".into()),
                ],
                body: Some(json!({
                    "RunId": run, "WorkflowId": wf, "StartTime": start, "TaskId": version,
                    "Memo": {"a/b": [run]}
                })),
                status: 201,
            },
            RecordedRequest {
                method: Method::Post,
                path: "/vis/_search".into(),
                query: vec![],
                body: Some(json!({"size": 20, "query": {"term": {"ExecutionStatus": "Running"}}})),
                status: 200,
            },
        ]
    }

    const RUN_A: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
    const RUN_B: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

    #[test]
    fn derive_varies_ids_in_path_and_body_only() {
        let a = unit(RUN_A, "wf-1", 100, "2026-01-01T00:00:00.000Z");
        let b = unit(RUN_B, "wf-2", 108, "2026-01-01T00:00:01.000Z");
        let t = HttpTemplate::derive(&a, &b).unwrap();
        let w = &t.requests[0];
        assert!(matches!(w.path[3], Segment::Vary(_)));
        let mut vary = w.vary.clone();
        vary.sort();
        assert_eq!(vary, ["/Memo/a~1b/0", "/RunId", "/WorkflowId"]);
        // The external version is kept: each iteration writes documents of its own.
        assert_eq!(w.query[0].1, "100");
        let body = w.body(5).unwrap();
        assert_eq!(body["RunId"], body["Memo"]["a/b"][0]);
        assert_ne!(body["RunId"], json!(RUN_A));
        assert_eq!(body["StartTime"], json!("2026-01-01T00:00:00.000Z"));
        assert_eq!(body["WorkflowId"], json!("wf-1~5"));
        assert_ne!(w.path(5), w.path(6));
        // The search is the same request in every iteration.
        assert!(t.requests[1].vary.is_empty());
        assert_eq!(t.requests[1].body(5), a[1].body);
        assert!(t.same_shape(&a));
    }

    #[test]
    fn a_different_status_or_request_gives_no_template() {
        let a = unit(RUN_A, "wf-1", 100, "x");
        let mut b = unit(RUN_B, "wf-2", 108, "x");
        b[0].status = 409;
        assert!(HttpTemplate::derive(&a, &b).is_err());
        let mut c = unit(RUN_B, "wf-2", 108, "x");
        c.pop();
        assert!(HttpTemplate::derive(&a, &c).is_err());
    }
}
