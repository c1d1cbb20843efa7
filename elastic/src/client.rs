//! HTTP calls through the `elasticsearch` crate's transport with raw JSON bodies (the typed
//! builders follow one server's REST spec; raw bodies work on Elasticsearch 7/8 and
//! OpenSearch 2 alike), and the one place where responses become [`StoreError`]s.

use std::sync::Arc;
use std::time::Duration;

use durastore_api::{ErrorKind, Result, StoreError};
use elasticsearch::Elasticsearch;
use elasticsearch::http::Method;
use elasticsearch::http::headers::HeaderMap;
use elasticsearch::http::request::JsonBody;
use serde_json::Value;

/// A response: status code and parsed JSON body (`Null` when empty or not JSON).
#[derive(Debug)]
pub(crate) struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: Value,
}

impl Reply {
    /// The server's error type (`error.type`), if any.
    pub fn error_type(&self) -> &str {
        self.body
            .pointer("/error/type")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// Classifies a non-success reply. `write`: the request changes data (a 5xx may have applied).
pub(crate) fn classify(what: &str, r: &Reply, write: bool) -> StoreError {
    let reason = r
        .body
        .pointer("/error/reason")
        .and_then(Value::as_str)
        .or_else(|| {
            r.body
                .pointer("/error/root_cause/0/reason")
                .and_then(Value::as_str)
        })
        .unwrap_or("");
    let msg = format!(
        "elasticsearch: {what}: HTTP {} {}: {reason}",
        r.status,
        r.error_type()
    );
    let (kind, retryable, unknown) = match r.status {
        400 => match r.error_type() {
            // A value the mapping cannot take, a query the server refuses (too many clauses).
            "mapper_parsing_exception"
            | "illegal_argument_exception"
            | "document_parsing_exception"
            | "search_phase_execution_exception"
            | "parsing_exception"
            | "x_content_parse_exception" => (ErrorKind::InvalidArgument, false, false),
            "resource_already_exists_exception" => (ErrorKind::AlreadyExists, false, false),
            _ => (ErrorKind::InvalidArgument, false, false),
        },
        401 => (ErrorKind::Unauthenticated, false, false),
        403 => (ErrorKind::PermissionDenied, false, false),
        404 => (ErrorKind::NotFound, false, false),
        409 => (ErrorKind::ConditionFailed, false, false),
        413 => (ErrorKind::SizeLimitExceeded, false, false),
        429 => (ErrorKind::ResourceExhausted, true, false),
        502..=504 => (ErrorKind::Unavailable, true, write),
        _ if r.status >= 500 => (ErrorKind::Internal, true, write),
        _ => (ErrorKind::Internal, false, write),
    };
    StoreError::new(kind, msg)
        .with_retryable(retryable)
        .with_outcome_unknown(unknown)
}

/// A sent request's response as a [`Reply`]; transport failures (refused, reset, timed out)
/// are `Unavailable`/`Timeout`, retryable, outcome unknown when `write`.
async fn read_reply(
    resp: std::result::Result<elasticsearch::http::response::Response, elasticsearch::Error>,
    path: &str,
    write: bool,
) -> Result<Reply> {
    let resp = resp.map_err(|e| {
        let kind = if e.is_timeout() {
            ErrorKind::Timeout
        } else {
            ErrorKind::Unavailable
        };
        StoreError::new(
            kind,
            format!("elasticsearch: {path}: {e}{}", root_cause(&e)),
        )
        .with_retryable(true)
        .with_outcome_unknown(write)
    })?;
    let status = resp.status_code().as_u16();
    let text = resp.text().await.map_err(|e| {
        StoreError::new(
            ErrorKind::Unavailable,
            format!("elasticsearch: {path}: {e}"),
        )
        .with_retryable(true)
        .with_outcome_unknown(write)
    })?;
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Ok(Reply { status, body })
}

/// One request and the status of its reply, as a [`Tap`] sees it.
// The seam's one user in this crate is the `floor` feature's recorder.
#[cfg_attr(not(feature = "floor"), allow(dead_code))]
#[derive(Debug)]
pub(crate) struct Exchange<'a> {
    /// HTTP method.
    pub method: Method,
    /// Path, e.g. `/index/_doc/id`.
    pub path: &'a str,
    /// Query parameters.
    pub query: &'a [(&'a str, String)],
    /// JSON body.
    pub body: Option<&'a Value>,
    /// The reply's status.
    pub status: u16,
}

/// Sees every request a [`Client`] sent that got a reply: the seam a request decorator goes in
/// without the client knowing what it does (the `floor` feature's recorder is one).
pub(crate) trait Tap: Send + Sync + std::fmt::Debug {
    /// One request with its reply's status.
    fn exchange(&self, exchange: &Exchange<'_>);
}

/// `: <innermost cause>` of a transport error ("Connection refused (os error 111)"), which the
/// HTTP client's own message leaves out; empty when there is none.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = e.source();
    let mut last = None;
    while let Some(c) = inner {
        last = Some(c);
        inner = c.source();
    }
    last.map(|c| format!(": {c}")).unwrap_or_default()
}

/// A client for one cluster.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    es: Elasticsearch,
    timeout: Duration,
    /// When set, sees every request and its reply's status.
    tap: Option<Arc<dyn Tap>>,
}

impl Client {
    /// Wraps a configured client.
    pub fn new(es: Elasticsearch, timeout: Duration) -> Self {
        Client {
            es,
            timeout,
            tap: None,
        }
    }

    /// Shows every later request to `tap`.
    #[cfg_attr(not(feature = "floor"), allow(dead_code))]
    pub fn with_tap(mut self, tap: Arc<dyn Tap>) -> Self {
        self.tap = Some(tap);
        self
    }

    /// Sends a request and returns the reply, whatever its status. Transport failures
    /// (refused, reset, timed out) are `Unavailable`/`Timeout`, retryable, outcome unknown for
    /// writes.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> Result<Reply> {
        let write = !matches!(method, Method::Get | Method::Head)
            && !path.ends_with("/_search")
            && !path.ends_with("/_count");
        // The body moves into the request; a tap sees a copy.
        let tapped_body = self.tap.as_ref().and_then(|_| body.clone());
        let resp = match body {
            Some(b) => {
                self.es
                    .send(
                        method,
                        path,
                        HeaderMap::new(),
                        Some(query),
                        Some(JsonBody::new(b)),
                        Some(self.timeout),
                    )
                    .await
            }
            None => {
                self.es
                    .send::<JsonBody<Value>, _>(
                        method,
                        path,
                        HeaderMap::new(),
                        Some(query),
                        None,
                        Some(self.timeout),
                    )
                    .await
            }
        };
        let reply = read_reply(resp, path, write).await?;
        if let Some(t) = &self.tap {
            t.exchange(&Exchange {
                method,
                path,
                query,
                body: tapped_body.as_ref(),
                status: reply.status,
            });
        }
        Ok(reply)
    }

    /// Posts newline-delimited JSON (`lines`, one document each) to `path` (a `_bulk`
    /// endpoint) and returns the reply, whatever its status; failures as [`Client::send`] for
    /// a write. Not shown to the tap: the floor records one unit at a time, and a lone
    /// write is never sent as a bulk.
    pub async fn bulk(&self, path: &str, query: &[(&str, String)], body: String) -> Result<Reply> {
        let mut headers = HeaderMap::new();
        headers.insert(
            elasticsearch::http::headers::CONTENT_TYPE,
            elasticsearch::http::headers::HeaderValue::from_static("application/x-ndjson"),
        );
        let resp = self
            .es
            .send(
                Method::Post,
                path,
                headers,
                Some(query),
                Some(body),
                Some(self.timeout),
            )
            .await;
        read_reply(resp, path, true).await
    }

    /// [`Client::send`], failing unless the status is 2xx.
    pub async fn ok(
        &self,
        what: &str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> Result<Value> {
        let write = !matches!(method, Method::Get | Method::Head);
        let r = self.send(method, path, query, body).await?;
        if (200..300).contains(&r.status) {
            Ok(r.body)
        } else {
            Err(classify(what, &r, write))
        }
    }
}
