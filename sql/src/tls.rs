//! The process-wide rustls crypto provider for the sqlx-based backends.
//!
//! sqlx builds its rustls client config with the process default provider. When another crate
//! in the same binary (the Cassandra driver pulls `tokio-rustls` with its default `aws-lc-rs`)
//! also enables a provider, rustls cannot pick one by itself and panics on the first TLS
//! connection. Installing `ring` (the provider sqlx is built with here) before connecting
//! makes the choice explicit.

/// Installs rustls' `ring` provider as the process default unless one is already installed.
/// Cheap and idempotent; call it before opening any TLS connection through sqlx.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // An error means another provider was installed first; that one is used, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Checks that every TLS file a URL names (`(option, path)`) can be read, before connecting: a
/// CA, certificate or key that is missing must be an error, never a connection that verifies
/// less (sqlx would otherwise find out only at the TLS handshake, and under `sslmode=prefer` a
/// server without TLS would never be asked).
pub fn check_files(
    backend: &str,
    files: &[(&str, Option<&std::path::Path>)],
) -> durastore_api::Result<()> {
    for (option, path) in files {
        if let Some(p) = path
            && let Err(e) = std::fs::File::open(p)
        {
            return Err(durastore_api::StoreError::invalid_argument(format!(
                "{backend} URL: {option} {} cannot be read ({e}); refusing to connect without it",
                p.display()
            )));
        }
    }
    Ok(())
}
