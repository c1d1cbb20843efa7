//! `cassandra:` datastores as URLs.

use durastore_api::Result;

use super::url_parts::{UrlParts, check_authority, tls_plan};
use super::{CassandraDatastore, Hosts, duration_option, invalid};

/// A Temporal `cassandra:` datastore as a `cassandra://` URL.
pub(super) fn cassandra_url(name: &str, c: &CassandraDatastore) -> Result<String> {
    if c.disable_initial_host_lookup {
        return Err(invalid(format!(
            "datastore {name:?}: cassandra.disableInitialHostLookup is not supported (the driver \
             always discovers the ring from the contact points)"
        )));
    }
    let hosts: Vec<String> = match &c.hosts {
        Hosts::Csv(s) => s.split(',').map(|h| h.trim().to_string()).collect(),
        Hosts::List(l) => l.iter().map(|h| h.trim().to_string()).collect(),
    };
    let hosts: Vec<String> = hosts.into_iter().filter(|h| !h.is_empty()).collect();
    if hosts.is_empty() {
        return Err(invalid(format!(
            "datastore {name:?}: cassandra.hosts is required"
        )));
    }
    let port = c.port.unwrap_or(CASSANDRA_DEFAULT_PORT);
    let mut authority = Vec::with_capacity(hosts.len());
    for h in &hosts {
        check_authority(name, "cassandra.hosts entry", h)?;
        // A host that already carries a port keeps it (`[v6]:p` or `name:p`).
        let has_port = if h.starts_with('[') {
            h.contains("]:")
        } else {
            h.matches(':').count() == 1
        };
        authority.push(if has_port {
            h.clone()
        } else if h.contains(':') {
            format!("[{h}]:{port}")
        } else {
            format!("{h}:{port}")
        });
    }
    let mut u = UrlParts::new("cassandra", authority.join(","), &c.keyspace);
    u.user = c.user.clone();
    u.password = c.password.clone();
    if c.password.is_some() && c.user.is_none() {
        return Err(invalid(format!(
            "datastore {name:?}: cassandra.password without cassandra.user"
        )));
    }
    if let Some(d) = c.consistency.as_ref().and_then(|c| c.default.as_ref()) {
        if let Some(level) = &d.consistency {
            u.option("consistency", level.to_ascii_lowercase());
        }
        if let Some(level) = &d.serial_consistency {
            u.option("serial_consistency", level.to_ascii_lowercase());
        }
    }
    if let Some(d) = c.connect_timeout.filter(|d| !d.is_zero()) {
        u.option("connect_timeout", duration_option(d));
    }
    if let Some(dc) = &c.datacenter {
        u.option("datacenter", dc.clone());
    }
    if let Some(n) = c.max_conns.filter(|n| *n > 0) {
        u.option("connections_per_host", n.to_string());
    }
    if let Some(rf) = c.replication_factor {
        u.option("replication_factor", rf.to_string());
    }
    if let Some(plan) = tls_plan(name, "cassandra", c.tls.as_ref())? {
        let ca = plan.ca.ok_or_else(|| {
            invalid(format!(
                "datastore {name:?}: cassandra.tls.caFile is required (durastore's Cassandra \
                 client trusts only the CA it is given)"
            ))
        })?;
        u.option("tls", "true");
        u.option("tls_ca", ca);
        if let Some((cert, key)) = plan.cert_key {
            u.option("tls_cert", cert);
            u.option("tls_key", key);
        }
        if let Some(sn) = plan.server_name {
            u.option("tls_server_name", sn);
        }
        if !plan.verify_host {
            u.option("tls_host_verification", "false");
        }
    }
    Ok(u.render())
}

/// Cassandra's default native port (kept here so this module does not need the backend crate).
const CASSANDRA_DEFAULT_PORT: u16 = 9042;
