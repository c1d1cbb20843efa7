//! `sqlite:` and `sql:` datastores as URLs.

use std::collections::BTreeMap;

use durastore_api::Result;
use durastore_api::urltext::percent_encode;

use super::url_parts::{TlsPlan, UrlParts, check_authority, host_of, tls_plan, unverified_warning};
use super::{SQL_PLUGINS, SQLITE_ATTRIBUTES, SqlDatastore, duration_option, invalid, scalar};

/// A SQLite file (or `mode: memory`) with its `connectAttributes` as a URL.
pub(super) fn sqlite_url(
    name: &str,
    path: Option<&str>,
    attrs: &BTreeMap<String, serde_yaml_ng::Value>,
    max_conns: Option<u32>,
) -> Result<String> {
    let mut memory = false;
    let mut query: Vec<String> = Vec::new();
    for (k, v) in attrs {
        let v = scalar(v).ok_or_else(|| {
            invalid(format!(
                "datastore {name:?}: connectAttributes.{k} must be a string, number or bool"
            ))
        })?;
        match k.as_str() {
            "mode" => match v.as_str() {
                "memory" => memory = true,
                "rwc" | "rw" => {}
                other => {
                    return Err(invalid(format!(
                        "datastore {name:?}: sqlite mode {other:?} is not supported \
                         (memory, rwc, rw)"
                    )));
                }
            },
            // A private cache is what durastore does anyway; the schema is always set up.
            "cache" | "setup" => {}
            "journal_mode" => {
                if !v.eq_ignore_ascii_case("wal") {
                    return Err(invalid(format!(
                        "datastore {name:?}: durastore runs SQLite files in WAL mode only \
                         (journal_mode {v:?})"
                    )));
                }
            }
            "busy_timeout_ms" | "max_connections" | "synchronous" => {
                query.push(format!("{k}={}", percent_encode(&v)));
            }
            other => {
                return Err(invalid(format!(
                    "datastore {name:?}: unknown sqlite connectAttributes key {other:?} \
                     (known: {})",
                    SQLITE_ATTRIBUTES.join(", ")
                )));
            }
        }
    }
    if let Some(n) = max_conns {
        query.push(format!("max_connections={n}"));
    }
    let q = if query.is_empty() {
        String::new()
    } else {
        format!("?{}", query.join("&"))
    };
    if memory {
        return Ok(format!("sqlite::memory:{q}"));
    }
    let path = path.filter(|p| !p.is_empty()).ok_or_else(|| {
        invalid(format!(
            "datastore {name:?}: sqlite needs databaseName (a file) or connectAttributes.mode: memory"
        ))
    })?;
    if path.contains('?') || path.contains('#') {
        return Err(invalid(format!(
            "datastore {name:?}: sqlite file name {path:?} may not contain '?' or '#'"
        )));
    }
    Ok(format!("sqlite://{path}{q}"))
}

/// URL option keys that carry TLS settings on the SQL backends: with `tls:` enabled, giving one
/// in `connectAttributes` as well would leave two answers to one question.
const SQL_TLS_KEYS: &[&str] = &[
    "sslmode",
    "ssl-mode",
    "ssl_mode",
    "sslrootcert",
    "ssl-ca",
    "sslca",
    "sslcert",
    "ssl-cert",
    "sslkey",
    "ssl-key",
];

/// A Temporal `sql:` datastore as a URL (PostgreSQL, MySQL, or SQLite by `pluginName`).
pub(super) fn sql_url(name: &str, s: &SqlDatastore) -> Result<String> {
    let scheme = sql_scheme(name, &s.plugin_name)?;
    check_sql_pool(name, s)?;
    if scheme == "sqlite" {
        return sqlite_via_sql(name, s);
    }
    match s.connect_protocol.as_deref() {
        None | Some("tcp") => {}
        Some(other) => {
            return Err(invalid(format!(
                "datastore {name:?}: sql.connectProtocol {other:?} is not supported (tcp)"
            )));
        }
    }
    let addr = s
        .connect_addr
        .as_deref()
        .ok_or_else(|| invalid(format!("datastore {name:?}: sql.connectAddr is required")))?;
    check_authority(name, "sql.connectAddr", addr)?;
    let database = s
        .database_name
        .as_deref()
        .ok_or_else(|| invalid(format!("datastore {name:?}: sql.databaseName is required")))?;
    let mut u = UrlParts::new(scheme, addr.to_string(), database);
    u.user = s.user.clone();
    u.password = s.password.clone();
    sql_connect_attributes(name, scheme, &s.connect_attributes, &mut u)?;
    if let Some(n) = s.max_conns {
        u.option("max_connections", n.to_string());
    }
    if let Some(d) = s.max_conn_lifetime {
        u.option("max_lifetime", duration_option(d));
    }
    if let Some(plan) = tls_plan(name, "sql", s.tls.as_ref())? {
        sql_tls_options(name, scheme, addr, plan, &mut u)?;
    }
    Ok(u.render())
}

/// The URL scheme of a Temporal `sql.pluginName`.
fn sql_scheme(name: &str, plugin: &str) -> Result<&'static str> {
    SQL_PLUGINS
        .iter()
        .find(|(p, _)| *p == plugin)
        .map(|(_, scheme)| *scheme)
        .ok_or_else(|| {
            invalid(format!(
                "datastore {name:?}: unknown sql pluginName {plugin:?} (known: {})",
                SQL_PLUGINS
                    .iter()
                    .map(|(p, _)| *p)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// Refuses the `sql:` keys durastore's pools cannot honour (`authPlugin`, several task scan
/// partitions, idle connections capped below the pool size).
fn check_sql_pool(name: &str, s: &SqlDatastore) -> Result<()> {
    if s.auth_plugin.is_some() {
        return Err(invalid(format!(
            "datastore {name:?}: sql.authPlugin is not supported by durastore (give user and \
             password)"
        )));
    }
    if let Some(n) = s.task_scan_partitions
        && n > 1
    {
        return Err(invalid(format!(
            "datastore {name:?}: sql.taskScanPartitions {n} is not supported (only 1, the \
             default)"
        )));
    }
    if let Some(idle) = s.max_idle_conns.filter(|n| *n > 0) {
        let max = s.max_conns.unwrap_or(10);
        if idle < max {
            return Err(invalid(format!(
                "datastore {name:?}: sql.maxIdleConns {idle} is below maxConns {max}: durastore's \
                 pool cannot cap idle connections below its size (idle connections close after \
                 connectAttributes.idle_timeout, 10 min by default); set maxIdleConns to at least \
                 maxConns"
            )));
        }
    }
    Ok(())
}

/// `sql:` with `pluginName: sqlite`: an embedded file, so no password and no TLS.
fn sqlite_via_sql(name: &str, s: &SqlDatastore) -> Result<String> {
    if s.password.is_some() {
        return Err(invalid(format!(
            "datastore {name:?}: SQLite has no users; remove sql.password"
        )));
    }
    if s.tls.as_ref().is_some_and(|t| t.enabled) {
        return Err(invalid(format!(
            "datastore {name:?}: sql.tls cannot be enabled for SQLite (an embedded file)"
        )));
    }
    sqlite_url(
        name,
        s.database_name.as_deref(),
        &s.connect_attributes,
        s.max_conns,
    )
}

/// `connectAttributes` as URL options; on MySQL an isolation level other than READ COMMITTED
/// is refused.
fn sql_connect_attributes(
    name: &str,
    scheme: &str,
    attrs: &BTreeMap<String, serde_yaml_ng::Value>,
    u: &mut UrlParts,
) -> Result<()> {
    for (k, v) in attrs {
        let v = scalar(v).ok_or_else(|| {
            invalid(format!(
                "datastore {name:?}: connectAttributes.{k} must be a string, number or bool"
            ))
        })?;
        if scheme == "mysql" && matches!(k.as_str(), "transaction_isolation" | "tx_isolation") {
            // durastore's MySQL sessions always run READ COMMITTED (what Temporal's examples ask).
            let level = v.trim_matches('\'').to_ascii_uppercase().replace(' ', "-");
            if level == "READ-COMMITTED" {
                continue;
            }
            return Err(invalid(format!(
                "datastore {name:?}: connectAttributes.{k} {v:?} is not supported: durastore's \
                 MySQL sessions run READ-COMMITTED"
            )));
        }
        u.option(k, v);
    }
    Ok(())
}

/// The `sql.tls` plan as the backend's own TLS options (PostgreSQL's `sslmode` family or
/// MySQL's `ssl-mode` family).
fn sql_tls_options(
    name: &str,
    scheme: &str,
    addr: &str,
    plan: TlsPlan,
    u: &mut UrlParts,
) -> Result<()> {
    if let Some(k) = u.has_option(SQL_TLS_KEYS) {
        return Err(invalid(format!(
            "datastore {name:?}: sql.tls is enabled and connectAttributes.{k} sets TLS too; \
             give TLS in one place"
        )));
    }
    if let Some(sn) = &plan.server_name
        && !sn.eq_ignore_ascii_case(host_of(addr))
    {
        return Err(invalid(format!(
            "datastore {name:?}: sql.tls.serverName {sn:?} differs from the connectAddr host; \
             the {scheme} client checks the certificate against the host it connects to, so \
             connect to {sn:?} instead"
        )));
    }
    let (mode_key, ca_key, cert_key, key_key) = if scheme == "postgres" {
        ("sslmode", "sslrootcert", "sslcert", "sslkey")
    } else {
        ("ssl-mode", "ssl-ca", "ssl-cert", "ssl-key")
    };
    let mode = match (plan.verify_host, plan.ca.is_some(), scheme) {
        (true, _, "postgres") => "verify-full",
        (true, _, _) => "verify_identity",
        (false, true, "postgres") => "verify-ca",
        (false, true, _) => "verify_ca",
        (false, false, "postgres") => "require",
        (false, false, _) => "required",
    };
    if !plan.verify_host && plan.ca.is_none() {
        unverified_warning(name, "sql");
    }
    u.option(mode_key, mode);
    if let Some(ca) = plan.ca {
        u.option(ca_key, ca);
    }
    if let Some((c, k)) = plan.cert_key {
        u.option(cert_key, c);
        u.option(key_key, k);
    }
    Ok(())
}
