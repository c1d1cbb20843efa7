//! The pieces every server datastore's URL is built from: [`UrlParts`], host checks and the
//! `tls:` block's plan.

use durastore_api::Result;
use durastore_api::urltext::percent_encode;

use super::{TlsConfig, invalid};

/// A server URL under construction: `scheme://[user[:password]@]authority/path?options`, every
/// part percent-encoded the one way every backend decodes ([`durastore_api::urltext`]).
pub(super) struct UrlParts {
    scheme: String,
    pub(super) user: Option<String>,
    pub(super) password: Option<String>,
    authority: String,
    path: String,
    options: Vec<(String, String)>,
}

impl UrlParts {
    pub(super) fn new(scheme: &str, authority: String, path: &str) -> Self {
        UrlParts {
            scheme: scheme.to_string(),
            user: None,
            password: None,
            authority,
            path: path.to_string(),
            options: Vec::new(),
        }
    }

    pub(super) fn option(&mut self, key: &str, value: impl Into<String>) {
        self.options.push((key.to_string(), value.into()));
    }

    pub(super) fn has_option(&self, keys: &[&str]) -> Option<String> {
        self.options
            .iter()
            .find(|(k, _)| keys.contains(&k.as_str()))
            .map(|(k, _)| k.clone())
    }

    pub(super) fn render(&self) -> String {
        let mut out = format!("{}://", self.scheme);
        if let Some(u) = &self.user {
            out.push_str(&percent_encode(u));
            if let Some(p) = &self.password {
                out.push(':');
                out.push_str(&percent_encode(p));
            }
            out.push('@');
        }
        out.push_str(&self.authority);
        out.push('/');
        out.push_str(&percent_encode(&self.path));
        for (i, (k, v)) in self.options.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(&percent_encode(k));
            out.push('=');
            out.push_str(&percent_encode(v));
        }
        out
    }
}

/// Checks a `host:port` list entry: no characters that would change the URL's structure.
pub(super) fn check_authority(name: &str, key: &str, addr: &str) -> Result<()> {
    if addr.is_empty() || addr.contains(['/', '@', '?', '#', ' ']) {
        return Err(invalid(format!(
            "datastore {name:?}: {key} {addr:?} is not a host or host:port"
        )));
    }
    Ok(())
}

/// The host part of `host:port` (`[::1]:5432` -> `::1`).
pub(super) fn host_of(addr: &str) -> &str {
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(h, _)| h);
    }
    match addr.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => addr,
    }
}

/// A file named by a `tls:` key must exist now: a missing CA must never become a connection that
/// does not verify (or does not encrypt).
pub(super) fn existing_file(name: &str, key: &str, path: &str) -> Result<String> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(path.to_string()),
        Ok(_) => Err(invalid(format!(
            "datastore {name:?}: {key} {path:?} is not a file"
        ))),
        Err(e) => Err(invalid(format!(
            "datastore {name:?}: {key} {path:?} cannot be read ({e}); refusing to connect \
             without it"
        ))),
    }
}

/// What a `tls:` block asks for, its files checked.
pub(super) struct TlsPlan {
    pub(super) ca: Option<String>,
    pub(super) cert_key: Option<(String, String)>,
    pub(super) verify_host: bool,
    pub(super) server_name: Option<String>,
}

/// Checks a `tls:` block; `None` when TLS is off. `form` names the block in messages.
pub(super) fn tls_plan(name: &str, form: &str, tls: Option<&TlsConfig>) -> Result<Option<TlsPlan>> {
    let Some(t) = tls.filter(|t| t.enabled) else {
        return Ok(None);
    };
    for (key, set) in [
        ("caData", t.ca_data.is_some()),
        ("certData", t.cert_data.is_some()),
        ("keyData", t.key_data.is_some()),
    ] {
        if set {
            return Err(invalid(format!(
                "datastore {name:?}: {form}.tls.{key} (inline base64) is not supported; give the \
                 PEM as a file (caFile, certFile, keyFile)"
            )));
        }
    }
    let key = |k: &str| format!("{form}.tls.{k}");
    let ca = t
        .ca_file
        .as_deref()
        .map(|p| existing_file(name, &key("caFile"), p))
        .transpose()?;
    let cert_key = match (&t.cert_file, &t.key_file) {
        (Some(c), Some(k)) => Some((
            existing_file(name, &key("certFile"), c)?,
            existing_file(name, &key("keyFile"), k)?,
        )),
        (None, None) => None,
        _ => {
            return Err(invalid(format!(
                "datastore {name:?}: {form}.tls.certFile and keyFile must be given together"
            )));
        }
    };
    Ok(Some(TlsPlan {
        ca,
        cert_key,
        verify_host: t.enable_host_verification,
        server_name: t.server_name.clone(),
    }))
}

/// Logs that a TLS connection will not verify the server.
pub(super) fn unverified_warning(name: &str, form: &str) {
    tracing::warn!(
        datastore = name,
        "{form}.tls is enabled without caFile or enableHostVerification: the connection is \
         encrypted but the server is not verified"
    );
}
