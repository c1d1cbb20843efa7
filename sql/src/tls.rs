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
