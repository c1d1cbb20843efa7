//! `elasticsearch:` datastores as URLs.

use durastore_api::Result;

use super::url_parts::{TlsPlan, UrlParts, check_authority, host_of, tls_plan};
use super::{ElasticUrl, ElasticsearchDatastore, invalid};

/// A Temporal `elasticsearch:` datastore as an `elasticsearch://` URL.
pub(super) fn elastic_url(name: &str, e: &ElasticsearchDatastore) -> Result<String> {
    let at = |k: &str| format!("datastore {name:?}: elasticsearch.{k}");
    check_client_options(e, &at)?;
    let (url, https) = endpoint(name, e, &at)?;
    let index = visibility_index(e, &at)?;
    let tls = tls_plan(name, "elasticsearch", e.tls.as_ref())?;
    // `https` alone is TLS verified against the system's roots, as in Temporal; TLS settings on
    // a plain `http` URL would never be used, so that is refused.
    if tls.is_some() && !https {
        return Err(invalid(format!(
            "{}: tls.enabled is true but url.scheme is \"http\"; use https",
            at("tls")
        )));
    }
    if e.log_level.is_some() || e.close_idle_connections_interval.is_some() {
        tracing::debug!(
            datastore = name,
            "elasticsearch.logLevel / closeIdleConnectionsInterval tune Temporal's Go client and \
             have no effect in durastore"
        );
    }
    let mut u = UrlParts::new("elasticsearch", url.host.clone(), index);
    u.user = e.username.clone();
    u.password = e.password.clone();
    if https {
        u.option("tls", "true");
    }
    if let Some(plan) = tls {
        tls_options(&url.host, plan, &at, &mut u)?;
    }
    Ok(u.render())
}

/// Refuses the client options durastore cannot honour: an unknown `version`, AWS request
/// signing, node sniffing and health checks.
fn check_client_options(e: &ElasticsearchDatastore, at: &dyn Fn(&str) -> String) -> Result<()> {
    match e.version.as_deref() {
        None | Some("v7" | "v8") => {}
        Some(v) => {
            return Err(invalid(format!(
                "{} {v:?} is not supported (v7, v8; OpenSearch answers as v7)",
                at("version")
            )));
        }
    }
    if let Some(signing) = &e.aws_request_signing
        && signing.get("enabled").and_then(|v| v.as_bool()) == Some(true)
    {
        return Err(invalid(format!(
            "{} is not supported by durastore",
            at("aws-request-signing")
        )));
    }
    if e.enable_sniff {
        return Err(invalid(format!(
            "{}: node sniffing is not supported (durastore talks to the configured endpoint)",
            at("enableSniff")
        )));
    }
    if e.enable_healthcheck {
        return Err(invalid(format!(
            "{}: node health checks are not supported (durastore talks to one endpoint)",
            at("enableHealthcheck")
        )));
    }
    Ok(())
}

/// The one node (`url`, or `urls` with one entry) and whether it speaks `https`.
fn endpoint<'a>(
    name: &str,
    e: &'a ElasticsearchDatastore,
    at: &dyn Fn(&str) -> String,
) -> Result<(&'a ElasticUrl, bool)> {
    let url = match (&e.url, e.urls.as_deref()) {
        (Some(u), None) => u,
        (None, Some([u])) => u,
        (None, Some(_)) => {
            return Err(invalid(format!(
                "{}: several nodes are not supported; give one url",
                at("urls")
            )));
        }
        (None, None) => return Err(invalid(format!("{} is required", at("url")))),
        (Some(_), Some(_)) => {
            return Err(invalid(format!(
                "{}: give url or urls, not both",
                at("url")
            )));
        }
    };
    if url.path.as_deref().is_some_and(|p| p != "/") {
        return Err(invalid(format!(
            "{}: a path prefix is not supported",
            at("url.path")
        )));
    }
    check_authority(name, "elasticsearch.url.host", &url.host)?;
    let https = match url.scheme.as_str() {
        "http" => false,
        "https" => true,
        other => {
            return Err(invalid(format!(
                "{} {other:?} is not http or https",
                at("url.scheme")
            )));
        }
    };
    Ok((url, https))
}

/// `indices.visibility`, the only index durastore keeps.
fn visibility_index<'a>(
    e: &'a ElasticsearchDatastore,
    at: &dyn Fn(&str) -> String,
) -> Result<&'a String> {
    for k in e.indices.keys() {
        if k != "visibility" {
            return Err(invalid(format!(
                "{}.{k} is not supported (durastore keeps visibility in one index: give \
                 indices.visibility only)",
                at("indices")
            )));
        }
    }
    e.indices
        .get("visibility")
        .ok_or_else(|| invalid(format!("{} is required", at("indices.visibility"))))
}

/// The `tls:` plan as URL options: a CA only (client certificates are refused), and a
/// `serverName` only when it is the host connected to.
fn tls_options(
    host: &str,
    plan: TlsPlan,
    at: &dyn Fn(&str) -> String,
    u: &mut UrlParts,
) -> Result<()> {
    if plan.cert_key.is_some() {
        return Err(invalid(format!(
            "{}: client certificates are not supported on the search backends (use \
             username and password)",
            at("tls.certFile")
        )));
    }
    if let Some(sn) = &plan.server_name
        && !sn.eq_ignore_ascii_case(host_of(host))
    {
        return Err(invalid(format!(
            "{} {sn:?} differs from url.host; connect to {sn:?} instead",
            at("tls.serverName")
        )));
    }
    if let Some(ca) = plan.ca {
        u.option("tls_ca", ca);
    }
    Ok(())
}
