#!/usr/bin/env bash
# Starts (or stops) a throwaway PostgreSQL with TLS on, for postgres/tests/tls.rs:
#   eval "$(bash postgres/scripts/tls-test-server.sh start)"
#   cargo test -p durastore-postgres --test tls -- --nocapture
#   bash postgres/scripts/tls-test-server.sh stop
# It makes its own CA, a server certificate for "localhost", an unrelated CA, and a client
# certificate for role certuser (authenticated by certificate only). Needs root (runs the server
# as the postgres user), openssl and the Debian PostgreSQL packages.
set -euo pipefail
DIR=${DURASTORE_TLS_DIR:-/tmp/durastore-pgtls}
PORT=${DURASTORE_TLS_PORT:-55499}
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)

start() {
    mkdir -p "$DIR/certs"
    cd "$DIR/certs"
    if [[ ! -f ca.pem ]]; then
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 \
            -subj "/CN=durastore-test-ca" -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
        openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other-ca.pem -days 30 \
            -subj "/CN=other-ca" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
            -subj "/CN=localhost" 2>/dev/null
        printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
            -out server.pem -days 30 -extfile server.ext 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr \
            -subj "/CN=certuser" 2>/dev/null
        printf 'extendedKeyUsage=clientAuth\n' >client.ext
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
            -out client.pem -days 30 -extfile client.ext 2>/dev/null
        chmod 600 server.key client.key
    fi
    chown -R postgres:postgres "$DIR"
    if [[ ! -f $DIR/data/PG_VERSION ]]; then
        runuser -u postgres -- "$BIN/initdb" -D "$DIR/data" -U postgres --auth-local=trust \
            --auth-host=trust -E UTF8 --locale=C.UTF-8 >/dev/null 2>&1
        { echo "hostssl all certuser 127.0.0.1/32 cert"; echo "hostssl all certuser ::1/128 cert"
          cat "$DIR/data/pg_hba.conf"; } >"$DIR/hba" && mv "$DIR/hba" "$DIR/data/pg_hba.conf"
        chown postgres:postgres "$DIR/data/pg_hba.conf"
    fi
    runuser -u postgres -- "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w -o \
        "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c ssl=on \
         -c ssl_cert_file=$DIR/certs/server.pem -c ssl_key_file=$DIR/certs/server.key \
         -c ssl_ca_file=$DIR/certs/ca.pem" start >/dev/null
    runuser -u postgres -- "$BIN/psql" -h "$DIR" -p "$PORT" -U postgres -qAt -c \
        "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'certuser') THEN CREATE ROLE certuser LOGIN; END IF; END \$\$" >/dev/null
    echo "export DURASTORE_POSTGRES_TLS_URL=postgres://postgres@localhost:$PORT/postgres"
    echo "export DURASTORE_POSTGRES_TLS_CA=$DIR/certs/ca.pem"
    echo "export DURASTORE_POSTGRES_TLS_OTHER_CA=$DIR/certs/other-ca.pem"
    echo "export DURASTORE_POSTGRES_TLS_CLIENT=certuser,$DIR/certs/client.pem,$DIR/certs/client.key"
}

stop() {
    if [[ -f $DIR/data/postmaster.pid ]]; then
        runuser -u postgres -- "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null
    fi
    rm -rf "$DIR"
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
