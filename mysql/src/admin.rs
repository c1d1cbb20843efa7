//! Database administration on the server: create, drop, probe, and URLs naming another database.

use durastore_api::{Result, StoreError};
use sqlx::mysql::MySqlConnection;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor};

use crate::config::{MysqlConfig, redact_url};
use crate::{connect_error, error, no_answer_error};

/// One connection to the server without a default database, for administrative statements.
pub(crate) async fn admin_connection(cfg: &MysqlConfig) -> Result<MySqlConnection> {
    let cfg = cfg.clone().with_database(None);
    cfg.check_tls_files()?;
    let opts = cfg.connect_options();
    tokio::time::timeout(cfg.connect_timeout, opts.connect())
        .await
        .map_err(|_| no_answer_error(&cfg))?
        .map_err(|e| connect_error(&cfg, e))
}

/// Checks a database name: 1 to 64 of `[A-Za-z0-9_]` (it is interpolated as an identifier).
pub fn validate_database_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(StoreError::invalid_argument(format!(
            "database name {name:?} must be 1 to 64 characters of [A-Za-z0-9_]"
        )));
    }
    Ok(())
}

/// Creates database `name` on the server `url` points at (its own database part is ignored)
/// with `utf8mb4` / `utf8mb4_bin`; an existing database is left as it is.
pub async fn create_database(url: &str, name: &str) -> Result<()> {
    validate_database_name(name)?;
    let cfg = MysqlConfig::from_url(url)?;
    let mut conn = admin_connection(&cfg).await?;
    let sql =
        format!("CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
    let r = conn
        .execute(AssertSqlSafe(sql))
        .await
        .map_err(|e| error::classify(e, false));
    // Closing politely is best effort; the server drops the session either way.
    let _ = conn.close().await;
    r.map(|_| ())
}

/// Drops database `name` on the server `url` points at, if it exists.
pub async fn drop_database(url: &str, name: &str) -> Result<()> {
    validate_database_name(name)?;
    let cfg = MysqlConfig::from_url(url)?;
    let mut conn = admin_connection(&cfg).await?;
    let r = conn
        .execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{name}`")))
        .await
        .map_err(|e| error::classify(e, false));
    let _ = conn.close().await;
    r.map(|_| ())
}

/// Whether database `name` exists on the server `url` points at (for dry runs, which must not
/// create it).
pub async fn database_exists(url: &str, name: &str) -> Result<bool> {
    validate_database_name(name)?;
    let cfg = MysqlConfig::from_url(url)?;
    let mut conn = admin_connection(&cfg).await?;
    let r = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?",
    )
    .bind(name)
    .fetch_one(&mut conn)
    .await
    .map_err(|e| error::classify(e, false));
    let _ = conn.close().await;
    r.map(|n| n > 0)
}

/// `url` with its database replaced by `name` (query options and credentials kept).
pub fn url_with_database(url: &str, name: &str) -> Result<String> {
    validate_database_name(name)?;
    let mut u = url::Url::parse(url).map_err(|e| {
        StoreError::invalid_argument(format!("not a MySQL URL ({e}): {}", redact_url(url)))
    })?;
    if !matches!(u.scheme(), "mysql" | "mariadb") {
        return Err(StoreError::invalid_argument(format!(
            "not a MySQL URL: {}",
            redact_url(url)
        )));
    }
    u.set_path(&format!("/{name}"));
    Ok(u.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_names() {
        assert_eq!(
            url_with_database("mysql://u:p@h:1/old?ssl-mode=disabled", "new_1").unwrap(),
            "mysql://u:p@h:1/new_1?ssl-mode=disabled"
        );
        assert_eq!(url_with_database("mysql://h", "x").unwrap(), "mysql://h/x");
        assert!(url_with_database("mysql://h/d", "bad-name").is_err());
        assert!(url_with_database("mysql://h/d", "").is_err());
        assert!(url_with_database("mysql://h/d", &"a".repeat(65)).is_err());
        assert!(url_with_database("sqlite::memory:", "x").is_err());
        assert_eq!(redact_url("mysql://u:secret@h/d"), "mysql://u:***@h/d");
        assert!(!redact_url("mysql://u:se cret@h/d").contains("se cret"));
    }
}
