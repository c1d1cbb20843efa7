use std::io::Write as _;

use durastore_api::ErrorKind;

use super::*;

fn url_of(yaml: &str, role: StoreRole) -> Result<String> {
    Config::parse(yaml).and_then(|c| c.store_url(role))
}

/// A PEM-named temporary file (its content does not matter to the mapping).
fn temp_file() -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    writeln!(f, "-----BEGIN CERTIFICATE-----").unwrap();
    f
}

#[test]
fn temporal_shaped_yaml() {
    let cfg = Config::parse(
        r#"
global: { membership: { maxJoinDuration: 30s } }
persistence:
  defaultStore: main
  visibilityStore: vis
  numHistoryShards: 4
  datastores:
    main:
      sqlite:
        databaseName: /tmp/x.db
        connectAttributes: { busy_timeout_ms: 5000, cache: private }
        maxConns: 2
    vis:
      sql:
        pluginName: sqlite
        databaseName: ignored
        connectAttributes: { mode: memory, cache: private }
    pg:
      sql:
        pluginName: postgres12
        databaseName: temporal
        connectAddr: "127.0.0.1:5432"
        user: temporal
        password: "p@ss word+1"
        connectAttributes: { sslmode: disable }
    short:
      url: sqlite:///tmp/y.db
"#,
    )
    .unwrap();
    assert_eq!(cfg.persistence.num_history_shards, Some(4));
    assert_eq!(
        cfg.store_url(StoreRole::Default).unwrap(),
        "sqlite:///tmp/x.db?busy_timeout_ms=5000&max_connections=2"
    );
    assert_eq!(
        cfg.store_url(StoreRole::Visibility).unwrap(),
        "sqlite::memory:"
    );
    let ds = &cfg.persistence.datastores;
    assert_eq!(ds["short"].to_url("short").unwrap(), "sqlite:///tmp/y.db");
    let pg = ds["pg"].to_url("pg").unwrap();
    assert_eq!(
        pg,
        "postgres://temporal:p%40ss%20word%2B1@127.0.0.1:5432/temporal?sslmode=disable"
    );
    // The backend reads back exactly the password that was written (`+` is not a space).
    let parsed = durastore_postgres::PostgresConfig::from_url(&pg).unwrap();
    assert_eq!(parsed.password.as_deref(), Some("p@ss word+1"));
}

// Temporal's own example configs (`config/development-postgres12.yaml`,
// `development-mysql8.yaml`, `development-sqlite.yaml`, `development-cass-es.yaml`), their
// `persistence:` sections as published, load unchanged.

#[test]
fn temporal_postgres_and_mysql_examples_load_unchanged() {
    let pg = r#"
log:
  stdout: true
  level: info
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:
      sql:
        pluginName: "postgres12"
        databaseName: "temporal"
        connectAddr: "127.0.0.1:5432"
        connectProtocol: "tcp"
        user: "temporal"
        password: "temporal"
        maxConns: 20
        maxIdleConns: 20
        maxConnLifetime: "1h"
    postgres-visibility:
      sql:
        pluginName: "postgres12"
        databaseName: "temporal_visibility"
        connectAddr: "127.0.0.1:5432"
        connectProtocol: "tcp"
        user: "temporal"
        password: "temporal"
        maxConns: 2
        maxIdleConns: 2
        maxConnLifetime: "1h"
global:
  membership:
    maxJoinDuration: 30s
"#;
    assert_eq!(
        url_of(pg, StoreRole::Default).unwrap(),
        "postgres://temporal:temporal@127.0.0.1:5432/temporal?max_connections=20&max_lifetime=3600000ms"
    );
    let vis = url_of(pg, StoreRole::Visibility).unwrap();
    assert!(
        vis.contains("/temporal_visibility?max_connections=2&"),
        "{vis}"
    );
    // The URL is one the backend accepts, with the settings the YAML asked for.
    let parsed =
        durastore_postgres::PostgresConfig::from_url(&url_of(pg, StoreRole::Default).unwrap())
            .unwrap();
    assert_eq!(parsed.max_connections, 20);
    assert_eq!(parsed.max_lifetime, Some(Duration::from_secs(3600)));

    let my = pg.replace("postgres12", "mysql8").replace("5432", "3306");
    let url = url_of(&my, StoreRole::Default).unwrap();
    assert!(
        url.starts_with("mysql://temporal:temporal@127.0.0.1:3306/temporal?"),
        "{url}"
    );
    let parsed = durastore_mysql::MysqlConfig::from_url(&url).unwrap();
    assert_eq!(parsed.max_lifetime, Some(Duration::from_secs(3600)));
    // Temporal's MySQL templates ask for READ-COMMITTED, which durastore always uses.
    let iso = my.replace(
        "maxConns: 20\n",
        "maxConns: 20\n        connectAttributes:\n          transaction_isolation: \"'READ-COMMITTED'\"\n",
    );
    assert_eq!(url_of(&iso, StoreRole::Default).unwrap(), url);
    let bad_iso = iso.replace("READ-COMMITTED", "SERIALIZABLE");
    assert!(url_of(&bad_iso, StoreRole::Default).is_err());
}

#[test]
fn temporal_sqlite_example_loads_unchanged() {
    let sqlite = r#"
persistence:
  defaultStore: sqlite-default
  visibilityStore: sqlite-visibility
  numHistoryShards: 1
  datastores:
    sqlite-default:
      sql:
        user: ""
        password: ""
        pluginName: "sqlite"
        databaseName: "default"
        connectAddr: "localhost"
        connectProtocol: "tcp"
        connectAttributes:
          mode: "memory"
          cache: "private"
        maxConns: 1
        maxIdleConns: 1
        maxConnLifetime: "1h"
        tls:
          enabled: false
          caFile: ""
          certFile: ""
          keyFile: ""
          enableHostVerification: false
          serverName: ""
    sqlite-visibility:
      sql:
        user: ""
        password: ""
        pluginName: "sqlite"
        databaseName: "default"
        connectAddr: "localhost"
        connectProtocol: "tcp"
        connectAttributes:
          mode: "memory"
          cache: "private"
        maxConns: 1
        maxIdleConns: 1
        maxConnLifetime: "1h"
"#;
    assert_eq!(
        url_of(sqlite, StoreRole::Default).unwrap(),
        "sqlite::memory:?max_connections=1"
    );
}

#[test]
fn temporal_cassandra_elasticsearch_example_loads_unchanged() {
    let cass_es = r#"
log:
  stdout: true
  level: info
persistence:
  defaultStore: cass-default
  visibilityStore:
  advancedVisibilityStore: es-visibility
  numHistoryShards: 4
  datastores:
    cass-default:
      cassandra:
        hosts: "127.0.0.1"
        keyspace: "temporal"
    es-visibility:
      elasticsearch:
        version: "v7"
        logLevel: "error"
        url:
          scheme: "http"
          host: "127.0.0.1:9200"
        indices:
          visibility: temporal_visibility_v1_dev
          # secondary_visibility: temporal_visibility_v2_dev
        closeIdleConnectionsInterval: 15s
"#;
    assert_eq!(
        url_of(cass_es, StoreRole::Default).unwrap(),
        "cassandra://127.0.0.1:9042/temporal"
    );
    assert_eq!(
        url_of(cass_es, StoreRole::Visibility).unwrap(),
        "elasticsearch://127.0.0.1:9200/temporal_visibility_v1_dev"
    );
}

#[test]
fn cassandra_form_maps_every_setting() {
    let ca = temp_file();
    let yaml = format!(
        r#"
persistence:
  defaultStore: c
  datastores:
    c:
      cassandra:
        hosts: "10.0.0.1, 10.0.0.2:9043"
        port: 9142
        user: temporal
        password: "a+b c"
        keyspace: temporal
        datacenter: dc1
        maxConns: 4
        connectTimeout: 2s
        replicationFactor: 3
        consistency:
          default:
            consistency: "LOCAL_QUORUM"
            serialConsistency: "LOCAL_SERIAL"
        tls:
          enabled: true
          caFile: {ca}
          serverName: cass.internal
"#,
        ca = ca.path().display()
    );
    let url = url_of(&yaml, StoreRole::Default).unwrap();
    let cfg = durastore_cassandra::CassandraConfig::from_url(&url).unwrap();
    assert_eq!(cfg.hosts, vec!["10.0.0.1:9142", "10.0.0.2:9043"]);
    assert_eq!(cfg.keyspace, "temporal");
    assert_eq!(cfg.user.as_deref(), Some("temporal"));
    assert_eq!(cfg.password.as_deref(), Some("a+b c"));
    assert_eq!(cfg.datacenter.as_deref(), Some("dc1"));
    assert_eq!(cfg.connect_timeout, Duration::from_secs(2));
    assert_eq!(cfg.replication_factor, 3);
    assert_eq!(cfg.connections_per_host, Some(4));
    assert!(cfg.tls);
    assert_eq!(
        cfg.tls_ca.as_deref(),
        Some(&*ca.path().display().to_string())
    );
    assert_eq!(cfg.tls_server_name.as_deref(), Some("cass.internal"));
    assert!(
        !cfg.tls_host_verification,
        "enableHostVerification defaults to false"
    );
    // A list of hosts works too.
    let list = yaml.replace(
        "\"10.0.0.1, 10.0.0.2:9043\"",
        "[10.0.0.1, \"10.0.0.2:9043\"]",
    );
    assert_eq!(url_of(&list, StoreRole::Default).unwrap(), url);
    // Without a CA file the Cassandra client would have nothing to trust: refused.
    let no_ca = yaml.replace(&format!("caFile: {}", ca.path().display()), "caFile: \"\"");
    let e = url_of(&no_ca, StoreRole::Default).unwrap_err();
    assert!(
        e.message().contains("cassandra.tls.caFile is required"),
        "{e}"
    );
}

#[test]
fn elasticsearch_form_maps_every_setting() {
    let ca = temp_file();
    let yaml = format!(
        r#"
persistence:
  defaultStore: es
  datastores:
    es:
      elasticsearch:
        version: v8
        url: {{ scheme: https, host: "es.internal:9200" }}
        username: elastic
        password: "p+w"
        indices: {{ visibility: temporal_visibility_v1 }}
        tls: {{ enabled: true, caFile: {ca}, enableHostVerification: true }}
"#,
        ca = ca.path().display()
    );
    let url = url_of(&yaml, StoreRole::Default).unwrap();
    let cfg = durastore_elastic::ElasticConfig::from_url(&url).unwrap();
    assert_eq!(cfg.base_url, "https://es.internal:9200");
    assert_eq!(cfg.index, "temporal_visibility_v1");
    assert_eq!(cfg.user.as_deref(), Some("elastic"));
    assert_eq!(cfg.password.as_deref(), Some("p+w"));
    assert_eq!(
        cfg.tls_ca.as_deref(),
        Some(&*ca.path().display().to_string())
    );
    // tls on a plain http URL would never be used: refused.
    let http = yaml.replace("scheme: https", "scheme: http");
    assert!(url_of(&http, StoreRole::Default).is_err());
}

#[test]
fn sql_tls_maps_to_verified_modes() {
    let ca = temp_file();
    let cert = temp_file();
    let key = temp_file();
    let yaml = |plugin: &str, tls: &str| {
        format!(
            r#"
persistence:
  defaultStore: db
  datastores:
    db:
      sql:
        pluginName: {plugin}
        databaseName: temporal
        connectAddr: "db.internal:5432"
        user: temporal
        password: temporal
        tls: {tls}
"#
        )
    };
    let ca_s = ca.path().display().to_string();
    let full = format!(
        "{{ enabled: true, caFile: {ca_s}, certFile: {}, keyFile: {}, enableHostVerification: true, serverName: db.internal }}",
        cert.path().display(),
        key.path().display()
    );
    let url = url_of(&yaml("postgres12", &full), StoreRole::Default).unwrap();
    let pg = durastore_postgres::PostgresConfig::from_url(&url).unwrap();
    assert_eq!(pg.ssl_mode, durastore_postgres::SslMode::VerifyFull);
    assert_eq!(pg.ssl_root_cert, Some(ca.path().to_path_buf()));
    assert_eq!(pg.ssl_cert, Some(cert.path().to_path_buf()));
    assert_eq!(pg.ssl_key, Some(key.path().to_path_buf()));

    let ca_only = format!("{{ enabled: true, caFile: {ca_s} }}");
    let url = url_of(&yaml("postgres12_pgx", &ca_only), StoreRole::Default).unwrap();
    let pg = durastore_postgres::PostgresConfig::from_url(&url).unwrap();
    assert_eq!(pg.ssl_mode, durastore_postgres::SslMode::VerifyCa);

    let bare = url_of(&yaml("postgres12", "{ enabled: true }"), StoreRole::Default).unwrap();
    let pg = durastore_postgres::PostgresConfig::from_url(&bare).unwrap();
    assert_eq!(pg.ssl_mode, durastore_postgres::SslMode::Require);

    let url = url_of(&yaml("mysql8", &full), StoreRole::Default).unwrap();
    let my = durastore_mysql::MysqlConfig::from_url(&url).unwrap();
    assert_eq!(my.ssl_mode, durastore_mysql::SslMode::VerifyIdentity);
    assert_eq!(my.ssl_ca, Some(ca.path().to_path_buf()));
    let url = url_of(&yaml("mysql8", &ca_only), StoreRole::Default).unwrap();
    let my = durastore_mysql::MysqlConfig::from_url(&url).unwrap();
    assert_eq!(my.ssl_mode, durastore_mysql::SslMode::VerifyCa);

    // TLS off: nothing TLS-related in the URL (the backend's default applies).
    let off = url_of(
        &yaml(
            "postgres12",
            "{ enabled: false, caFile: /nonexistent/ca.pem }",
        ),
        StoreRole::Default,
    )
    .unwrap();
    assert!(!off.contains("ssl"), "{off}");
}

/// The reported security bug: a Temporal `sql:` datastore with TLS on and a CA file that does not
/// exist must be an error, never a plaintext connection.
#[test]
fn missing_ca_file_is_an_error() {
    for plugin in ["postgres12", "mysql8"] {
        let yaml = format!(
            r#"
persistence:
  defaultStore: db
  datastores:
    db:
      sql:
        pluginName: {plugin}
        databaseName: temporal
        connectAddr: "127.0.0.1:5432"
        user: temporal
        password: temporal
        tls: {{ enabled: true, caFile: /nonexistent/ca.pem, enableHostVerification: true }}
"#
        );
        let e = Config::parse(&yaml).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        assert!(e.message().contains("sql.tls.caFile"), "{e}");
        assert!(e.message().contains("/nonexistent/ca.pem"), "{e}");
    }
}

#[test]
fn unknown_keys_name_the_key_and_line() {
    let yaml = "persistence:
  defaultStore: db
  datastores:
    db:
      sql:
        pluginName: postgres12
        databseName: temporal
        connectAddr: 127.0.0.1:5432
";
    let e = Config::parse(yaml).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains("databseName"), "{e}");
    assert!(e.message().contains("line 7"), "{e}");
    // Every level is strict: persistence, datastore, tls, cassandra, consistency, elasticsearch.
    for (yaml, key) in [
        (
            "persistence: { defaultStore: a, datastores: {}, bogus: 1 }",
            "bogus",
        ),
        (
            "persistence: { defaultStore: a, datastores: { a: { url: 'sqlite::memory:', x: 1 } } }",
            "`x`",
        ),
        (
            "persistence: { defaultStore: a, datastores: { a: { sql: { pluginName: sqlite, tls: { enable: true } } } } }",
            "enable",
        ),
        (
            "persistence: { defaultStore: a, datastores: { a: { cassandra: { hosts: h, keyspace: k, tls: { enabled: true, caFlie: x } } } } }",
            "caFlie",
        ),
        (
            "persistence: { defaultStore: a, datastores: { a: { cassandra: { hosts: h, keyspace: k, consistency: { default: { consistncy: ONE } } } } } }",
            "consistncy",
        ),
        (
            "persistence: { defaultStore: a, datastores: { a: { elasticsearch: { url: { scheme: http, host: h }, indicies: {} } } } }",
            "indicies",
        ),
        (
            "persistence: { defaultStore: a, datastores: { a: { sqlite: { databaseName: x, maxConn: 1 } } } }",
            "maxConn",
        ),
    ] {
        let e = Config::parse(yaml).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{yaml}");
        assert!(e.message().contains(key), "{yaml}: {e}");
        assert!(e.message().contains("line 1"), "{yaml}: {e}");
    }
    // Keys outside `persistence:` belong to the rest of a Temporal config.
    Config::parse("services: { frontend: {} }\npersistence: { defaultStore: a, datastores: { a: { url: x } } }")
        .unwrap();
}

#[test]
fn what_cannot_be_honoured_is_refused() {
    let sql = |extra: &str| {
        format!(
            "persistence: {{ defaultStore: a, datastores: {{ a: {{ sql: {{ pluginName: postgres12, \
             databaseName: t, connectAddr: 'h:5432', user: u, {extra} }} }} }} }}"
        )
    };
    let cases = [
        (sql("maxConns: 20, maxIdleConns: 5"), "maxIdleConns"),
        (sql("maxIdleConns: 2"), "maxIdleConns"),
        (sql("maxConnLifetime: forever"), "not a duration"),
        (sql("connectProtocol: unix"), "connectProtocol"),
        (sql("taskScanPartitions: 4"), "taskScanPartitions"),
        (sql("authPlugin: { plugin: rds-iam-auth }"), "authPlugin"),
        (sql("tls: { enabled: true, caData: abc }"), "caData"),
        (sql("tls: { enabled: true, certFile: /x }"), "together"),
        (
            sql("tls: { enabled: true, serverName: other.host }"),
            "serverName",
        ),
        (
            sql("connectAttributes: { sslmode: disable }, tls: { enabled: true }"),
            "connectAttributes.sslmode",
        ),
        (
            "persistence: { defaultStore: a, datastores: { a: { sql: { pluginName: postgres12, connectAddr: 'h:5432' } } } }".to_string(),
            "databaseName is required",
        ),
        (
            "persistence: { defaultStore: a, datastores: { a: { url: x, faultInjection: { rate: 0.1 } } } }".to_string(),
            "faultInjection",
        ),
        (
            "persistence: { defaultStore: a, datastores: { a: { customDatastore: { name: x } } } }".to_string(),
            "customDatastore",
        ),
        (
            "persistence: { defaultStore: a, datastores: { a: { cassandra: { hosts: h, keyspace: k, disableInitialHostLookup: true } } } }".to_string(),
            "disableInitialHostLookup",
        ),
        (
            "persistence: { defaultStore: a, datastores: { a: { elasticsearch: { url: { scheme: http, host: h }, indices: { visibility: v, secondary_visibility: w } } } } }".to_string(),
            "secondary_visibility",
        ),
        (
            "persistence: { defaultStore: a, datastores: { a: { elasticsearch: { url: { scheme: http, host: h }, indices: { visibility: v }, aws-request-signing: { enabled: true } } } } }".to_string(),
            "aws-request-signing",
        ),
        (
            "persistence: { defaultStore: a, datastores: { a: { elasticsearch: { url: { scheme: http, host: h }, indices: { visibility: v }, enableSniff: true } } } }".to_string(),
            "enableSniff",
        ),
        (
            "persistence: { defaultStore: a, datastores: { a: { elasticsearch: { version: v6, url: { scheme: http, host: h }, indices: { visibility: v } } } } }".to_string(),
            "version",
        ),
        (
            "persistence: { defaultStore: a, visibilityStore: a, advancedVisibilityStore: b, datastores: { a: { url: x }, b: { url: y } } }".to_string(),
            "dual visibility",
        ),
    ];
    for (yaml, needle) in cases {
        let e = Config::parse(&yaml).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{yaml}: {e}");
        assert!(e.message().contains(needle), "{yaml}: {e}");
    }
}

#[test]
fn bad_configs_are_invalid_argument() {
    let cases = [
        "persistence: { defaultStore: a, datastores: {} }",
        "persistence: { defaultStore: a, datastores: { a: {} } }",
        "persistence: { defaultStore: a, datastores: { a: { url: 'sqlite::memory:', sqlite: {} } } }",
        "persistence: { defaultStore: a, datastores: { a: { sqlite: { connectAttributes: { bogus: 1 } } } } }",
        "persistence: { defaultStore: a, datastores: { a: { sqlite: {} } } }",
        "persistence: { defaultStore: a, datastores: { a: { sql: { pluginName: oracle } } } }",
        "persistence: { defaultStore: a, datastores: { a: { sql: { pluginName: mysql8 } } } }",
        "persistence: { defaultStore: a, numHistoryShards: 0, datastores: { a: { url: x } } }",
        "persistence: { defaultStore: a, datastores: { a: { cassandra: { hosts: '', keyspace: k } } } }",
        "persistence: { defaultStore: a, datastores: { a: { elasticsearch: { url: { scheme: http, host: h } } } } }",
        "not: [valid",
    ];
    for yaml in cases {
        let r = Config::parse(yaml).and_then(|c| c.store_url(StoreRole::Default));
        let e = r.expect_err(yaml);
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{yaml}: {e}");
    }
}

#[test]
fn a_missing_config_file_is_invalid_input() {
    let e = Config::load(Path::new("/nonexistent/durastore.yaml")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains("/nonexistent/durastore.yaml"), "{e}");
}
