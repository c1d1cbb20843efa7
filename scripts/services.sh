#!/usr/bin/env bash
# Starts (or stops) the real database servers the backends need, on 127.0.0.1 only, with data
# under a scratch folder. No Docker: PostgreSQL and MariaDB come from Debian packages and are
# installed when missing; Cassandra, OpenSearch and Elasticsearch come from Maven Central
# (testservers/cassandra/run.sh, testservers/search/run.sh) and run as plain JVM processes.
#
#   scripts/services.sh start  [SERVICE...]  # prints `export DURASTORE_<BACKEND>_URL=…` lines (eval them)
#   scripts/services.sh stop   [SERVICE...]  # stops only the servers this script started (pid files)
#   scripts/services.sh status [SERVICE...]
#
# SERVICE is postgres, mysql (or mariadb), cassandra, opensearch, elasticsearch; none means all.
# A second `start` reuses servers that are already running. Servers run as their own system users
# where they refuse root (PostgreSQL, MariaDB, OpenSearch, Elasticsearch). Logs go to stderr; only
# the export lines go to stdout, so `eval "$(scripts/services.sh start)"` works. The three JVMs
# start in the background, side by side, while PostgreSQL and MariaDB start in the foreground.
#
#   service        URL                                              memory
#   postgres       postgres://durastore:durastore@127.0.0.1:55432   shared_buffers 128MB
#   mysql          mysql://durastore:durastore@127.0.0.1:53306      buffer pool 256M
#   cassandra      cassandra://127.0.0.1:9042 (runs as root)        heap 768M
#   opensearch     http://127.0.0.1:9200 (transport 9300)           heap 512m
#   elasticsearch  http://127.0.0.1:9201 (transport 9301)           heap 512m
set -euo pipefail

SCRATCH="${DURASTORE_SCRATCH:-/tmp/durastore-services}"
TESTSERVERS="$(cd "$(dirname "${BASH_SOURCE[0]}")/../testservers" && pwd)"
# The servers run as other users, who may not be able to enter the caller's directory.
cd /
PG_PORT="${DURASTORE_PG_PORT:-55432}"
MY_PORT="${DURASTORE_MY_PORT:-53306}"
DB_USER=durastore
DB_PASS=durastore

log() { printf 'services.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
    if [[ $apt_updated -eq 0 ]]; then
        log "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        apt_updated=1
    fi
    log "apt-get install $*"
    # policy-rc.d keeps the packages from starting their default services: we run our own.
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
        as_root chmod +x "$policy"
        created_policy=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
    [[ $created_policy -eq 1 ]] && as_root rm -f "$policy"
    return 0
}

wait_port() { # host port seconds
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}

alive() { [[ -f $1 ]] && kill -0 "$(head -n1 "$1")" 2>/dev/null; }

# ---------------------------------------------------------------------------------- PostgreSQL
pg_bin() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [[ -x $d/initdb ]] && { echo "$d"; return 0; }
    done
    return 1
}

start_postgres() {
    local bin dir="$SCRATCH/postgres"
    if ! bin=$(pg_bin); then
        apt_install postgresql postgresql-contrib
        bin=$(pg_bin) || die "PostgreSQL installed but no initdb found"
    fi
    if alive "$dir/data/postmaster.pid" && wait_port 127.0.0.1 "$PG_PORT" 1; then
        log "PostgreSQL already running on 127.0.0.1:$PG_PORT"
    else
        mkdir -p "$dir"
        chown postgres:postgres "$dir"
        if [[ ! -f $dir/data/PG_VERSION ]]; then
            log "initdb $dir/data"
            printf '%s\n' "$DB_PASS" >"$dir/pwfile"
            chown postgres "$dir/pwfile"
            runuser -u postgres -- "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" \
                --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >&2
            rm -f "$dir/pwfile"
        fi
        log "starting PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
        runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $dir -c max_connections=300 -c shared_buffers=128MB -c fsync=on" \
            start >&2 || { tail -n 30 "$dir/postgres.log" >&2; die "PostgreSQL did not start"; }
        touch "$dir/started-by-services-sh"
    fi
    wait_port 127.0.0.1 "$PG_PORT" 30 || die "PostgreSQL does not answer on $PG_PORT"
    runuser -u postgres -- "$bin/psql" -h "$dir" -p "$PG_PORT" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 >&2 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASS';
  END IF;
END \$\$;
-- Lets the tests terminate sessions (connection-kill tests, DROP DATABASE WITH (FORCE) while
-- an autovacuum worker is inside) without making the role a superuser.
GRANT pg_signal_backend TO $DB_USER;
-- Lets \`durastore bench --floor\` start every measured run right after a CHECKPOINT (PG 15+).
DO \$\$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pg_checkpoint') THEN
    GRANT pg_checkpoint TO $DB_USER;
  END IF;
END \$\$;
SQL
    echo "export DURASTORE_POSTGRES_URL=postgres://$DB_USER:$DB_PASS@127.0.0.1:$PG_PORT/postgres"
}

stop_postgres() {
    local bin dir="$SCRATCH/postgres"
    [[ -f $dir/started-by-services-sh ]] || return 0
    bin=$(pg_bin) || return 0
    if alive "$dir/data/postmaster.pid"; then
        log "stopping PostgreSQL"
        runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    fi
    rm -f "$dir/started-by-services-sh"
}

# ---------------------------------------------------------------------------------- MariaDB
my_server() { command -v mariadbd || command -v mysqld || ls /usr/sbin/mariadbd 2>/dev/null; }

start_mariadb() {
    local server dir="$SCRATCH/mariadb"
    if ! server=$(my_server) || [[ -z $server ]]; then
        apt_install mariadb-server mariadb-client
        server=$(my_server) || die "MariaDB installed but no mariadbd found"
    fi
    if alive "$dir/mariadbd.pid" && wait_port 127.0.0.1 "$MY_PORT" 1; then
        log "MariaDB already running on 127.0.0.1:$MY_PORT"
    else
        mkdir -p "$dir"
        chown mysql:mysql "$dir"
        if [[ ! -d $dir/data/mysql ]]; then
            log "mariadb-install-db $dir/data"
            mariadb-install-db --user=mysql --datadir="$dir/data" --skip-test-db \
                --auth-root-authentication-method=socket >"$dir/install.log" 2>&1 \
                || { tail -n 30 "$dir/install.log" >&2; die "mariadb-install-db failed"; }
        fi
        log "starting MariaDB $("$server" --version | awk '{print $3}') on 127.0.0.1:$MY_PORT"
        # setsid: the server outlives this script and its terminal.
        setsid "$server" --no-defaults --user=mysql --datadir="$dir/data" --port="$MY_PORT" \
            --bind-address=127.0.0.1 --socket="$dir/mariadbd.sock" --pid-file="$dir/mariadbd.pid" \
            --log-error="$dir/error.log" --innodb-buffer-pool-size=256M --max-connections=300 \
            --character-set-server=utf8mb4 --collation-server=utf8mb4_bin \
            --transaction-isolation=READ-COMMITTED </dev/null >/dev/null 2>&1 &
        if ! wait_port 127.0.0.1 "$MY_PORT" 60; then
            tail -n 30 "$dir/error.log" >&2
            die "MariaDB did not start"
        fi
        touch "$dir/started-by-services-sh"
    fi
    local i
    for ((i = 0; i < 100; i++)); do
        mariadb --no-defaults -uroot --socket="$dir/mariadbd.sock" -e 'SELECT 1' >/dev/null 2>&1 && break
        sleep 0.2
    done
    mariadb --no-defaults -uroot --socket="$dir/mariadbd.sock" >&2 <<SQL
CREATE USER IF NOT EXISTS '$DB_USER'@'%' IDENTIFIED BY '$DB_PASS';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'%' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'localhost' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
    echo "export DURASTORE_MYSQL_URL=mysql://$DB_USER:$DB_PASS@127.0.0.1:$MY_PORT/mysql"
}

stop_mariadb() {
    local dir="$SCRATCH/mariadb"
    [[ -f $dir/started-by-services-sh ]] || return 0
    if alive "$dir/mariadbd.pid"; then
        log "stopping MariaDB"
        local pid i
        pid=$(head -n1 "$dir/mariadbd.pid")
        kill "$pid" 2>/dev/null || true
        for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$dir/started-by-services-sh"
}

# ------------------------------------------------------------- Cassandra, OpenSearch, Elasticsearch
# Each runs through its own script under testservers/ (start|stop|status, pid file, export line on
# stdout), with its data in our scratch folder.
jvm_run() { # service command
    case "$1" in
    cassandra) CASSANDRA_SCRATCH="$SCRATCH/cassandra" bash "$TESTSERVERS/cassandra/run.sh" "$2" ;;
    opensearch) OPENSEARCH_SCRATCH="$SCRATCH/opensearch" bash "$TESTSERVERS/search/run.sh" opensearch "$2" ;;
    elasticsearch) ELASTICSEARCH_SCRATCH="$SCRATCH/elasticsearch" bash "$TESTSERVERS/search/run.sh" elasticsearch "$2" ;;
    esac
}

# Java 17, Maven (downloads), unzip and curl (readiness checks), installed when missing.
ensure_jvm_tools() {
    local missing=()
    command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
    command -v mvn >/dev/null || missing+=(maven)
    command -v unzip >/dev/null || missing+=(unzip)
    command -v curl >/dev/null || missing+=(curl)
    [[ ${#missing[@]} -eq 0 ]] || apt_install "${missing[@]}"
}

# Downloads what is missing one after the other (Maven runs that share ~/.m2 are best kept
# apart; all of it is cached after the first time), then starts the JVMs side by side. Each one's
# export line goes to $out/<service>.out, its exit code to $out/<service>.rc.
start_jvms() { # out-dir service...
    local out=$1 s
    shift
    for s in "$@"; do
        case "$s" in
        cassandra) jvm_run cassandra classpath >/dev/null || true ;;
        *) jvm_run "$s" fetch || true ;;
        esac
    done
    for s in "$@"; do
        (
            rc=0
            jvm_run "$s" start >"$out/$s.out" || rc=$?
            echo "$rc" >"$out/$s.rc"
        ) &
    done
    wait
}

# ---------------------------------------------------------------------------------- commands
ALL=(postgres mysql cassandra opensearch elasticsearch)
cmd="${1:-start}"
[[ $# -gt 0 ]] && shift
selected=()
for arg in "$@"; do
    case "$arg" in
    postgres | postgresql | pg) selected+=(postgres) ;;
    mysql | mariadb) selected+=(mysql) ;;
    cassandra | opensearch | elasticsearch) selected+=("$arg") ;;
    *) die "unknown service '$arg' (one of: ${ALL[*]})" ;;
    esac
done
[[ ${#selected[@]} -gt 0 ]] || selected=("${ALL[@]}")
wants() { [[ " ${selected[*]} " == *" $1 "* ]]; }
jvms=()
for s in cassandra opensearch elasticsearch; do wants "$s" && jvms+=("$s"); done

case "$cmd" in
start)
    mkdir -p "$SCRATCH"
    chmod 755 "$SCRATCH"
    t0=$SECONDS
    jvm_out=""
    if [[ ${#jvms[@]} -gt 0 ]]; then
        ensure_jvm_tools
        jvm_out="$(mktemp -d)"
        start_jvms "$jvm_out" "${jvms[@]}" &
        jvm_job=$!
    fi
    if wants postgres; then start_postgres; fi
    if wants mysql; then start_mariadb; fi
    failed=()
    if [[ -n $jvm_out ]]; then
        wait "$jvm_job" || true
        for s in "${jvms[@]}"; do
            cat "$jvm_out/$s.out" 2>/dev/null || true
            [[ "$(cat "$jvm_out/$s.rc" 2>/dev/null)" == 0 ]] || failed+=("$s")
        done
        rm -rf "$jvm_out"
    fi
    [[ ${#failed[@]} -eq 0 ]] || die "did not start: ${failed[*]} (see the messages above)"
    log "ready after $((SECONDS - t0)) s: ${selected[*]}"
    ;;
stop)
    for s in "${jvms[@]}"; do jvm_run "$s" stop & done
    if wants mysql; then stop_mariadb; fi
    if wants postgres; then stop_postgres; fi
    wait
    ;;
status)
    if wants postgres; then
        alive "$SCRATCH/postgres/data/postmaster.pid" && echo "postgres: running on $PG_PORT" || echo "postgres: stopped"
    fi
    if wants mysql; then
        alive "$SCRATCH/mariadb/mariadbd.pid" && echo "mariadb: running on $MY_PORT" || echo "mariadb: stopped"
    fi
    for s in "${jvms[@]}"; do
        if url="$(jvm_run "$s" status 2>/dev/null)"; then
            echo "$s: running at ${url#*=}"
        else
            echo "$s: stopped"
        fi
    done
    ;;
*)
    die "usage: $0 start|stop|status [postgres] [mysql] [cassandra] [opensearch] [elasticsearch]"
    ;;
esac
