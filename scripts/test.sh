#!/usr/bin/env bash
# The project's test command (README; CI runs it through .ci/run with DURASTORE_REQUIRE=all):
# formatting, lints, every unit and conformance test, the CLI front door, and a schema-tool
# smoke test (setup, verify clean, manual drift -> verify fails).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

section() { printf '\n==== %s ====\n' "$*"; }
fail() { printf 'test.sh: %s\n' "$*" >&2; exit 1; }

command -v cargo >/dev/null 2>&1 || fail "cargo is not installed (install Rust from rustup.rs, toolchain >= 1.94)"

# ---- server backends -------------------------------------------------------------------------
# scripts/services.sh installs (when missing) and starts PostgreSQL and MariaDB (Debian packages),
# Cassandra 5, OpenSearch 2 and Elasticsearch 8 (JVMs from Maven Central) on 127.0.0.1 and
# prints DURASTORE_<BACKEND>_URL assignments. A URL already set in the environment wins (point the
# suite at your own servers); DURASTORE_NO_SERVICES=1 skips starting anything (server backends
# are then skipped, which DURASTORE_REQUIRE=all turns into failures). Servers this run started
# are stopped at exit unless DURASTORE_KEEP_SERVICES=1.
services_started=0
tls_started=0
stop_services() {
    if [[ $tls_started -eq 1 ]]; then
        bash postgres/scripts/tls-test-server.sh stop >/dev/null 2>&1 || true
    fi
    if [[ $services_started -eq 1 && "${DURASTORE_KEEP_SERVICES:-0}" != 1 ]]; then
        bash scripts/services.sh stop || true
    fi
}
trap stop_services EXIT
if [[ "${DURASTORE_NO_SERVICES:-0}" != 1 ]]; then
    section "services"
    # Captured first: `status | grep -q` under pipefail fails when grep exits early.
    status_before="$(bash scripts/services.sh status)"
    for svc in postgres mariadb cassandra opensearch elasticsearch; do
        if [[ $status_before != *"$svc: running"* ]]; then
            services_started=1
        fi
    done
    service_env="$(bash scripts/services.sh start)"
    while IFS= read -r line; do
        var="${line#export }"
        name="${var%%=*}"
        # Keep a URL the caller set explicitly.
        if [[ -z "${!name:-}" ]]; then
            export "$var"
        fi
    done <<<"$service_env"
    # A throwaway TLS-only PostgreSQL (own CA and certificates) so postgres/tests/tls.rs checks
    # sslmode=require/verify-ca/verify-full and client certificates for real.
    tls_started=1
    eval "$(bash postgres/scripts/tls-test-server.sh start)"
    env | grep '^DURASTORE_.*_URL=' | sed 's/:[^:@/]*@/:***@/' || true
fi
# ---------------------------------------------------------------------------------------------

section "cargo fmt --check"
cargo fmt --all -- --check

# Every crate with every feature (the `durastore` CLI is the `cli` feature), then the facade as a
# library user gets it by default (SQLite only), so feature gates stay honest.
section "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --all-features -- -D warnings
cargo clippy -p durastore --lib -- -D warnings
# Each backend alone and none at all: a library user who enables one backend feature compiles.
for feature in postgres mysql cassandra elastic; do
    cargo clippy -q -p durastore --lib --no-default-features --features "$feature" -- -D warnings
done
cargo clippy -q -p durastore --lib --no-default-features -- -D warnings

section "cargo test (unit tests + conformance trials per backend)"
cargo test --workspace --all-features

section "CLI: durastore conformance (fresh SQLite file)"
conformance_out="$(mktemp)"
smoke_dir="$(mktemp -d)"
trap 'rm -rf "$conformance_out" "$smoke_dir"; stop_services' EXIT
cargo run -q -p durastore --all-features -- conformance | tee "$conformance_out"
summary="$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$conformance_out" | tail -n 1)"
[[ -n "$summary" ]] || fail "the conformance CLI printed no summary line"

section "CLI: schema tool smoke test"
db="$smoke_dir/smoke.db"
url="sqlite://$db"
durastore() { cargo run -q -p durastore --all-features -- "$@"; }
durastore schema setup --url "$url" --dry-run >/dev/null
[[ ! -e "$db" ]] || fail "schema setup --dry-run created $db"
durastore schema setup --url "$url"
again="$(durastore schema setup --url "$url")"
printf '%s\n' "$again"
grep -q "already up to date" <<<"$again" \
    || fail "a second schema setup did not report 'already up to date'"
durastore schema version --url "$url"
durastore schema verify --url "$url"

drop_column() {
    local sql="ALTER TABLE executions DROP COLUMN checksum_encoding"
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()' "$db" "$sql"
    elif command -v sqlite3 >/dev/null 2>&1; then
        sqlite3 "$db" "$sql;"
    else
        return 2
    fi
}
if drop_column; then
    set +e
    drift_out="$(durastore schema verify --url "$url")"
    rc=$?
    set -e
    printf '%s\n' "$drift_out"
    [[ $rc -eq 1 ]] || fail "schema verify exited $rc after a column was dropped (expected 1)"
    grep -q "table executions: missing column checksum_encoding" <<<"$drift_out" \
        || fail "schema verify did not report the dropped column"
    echo "drift detected as expected"
elif [[ "${DURASTORE_REQUIRE:-}" != "" ]]; then
    fail "neither python3 nor sqlite3 is available to drop a column for the drift check"
else
    echo "skipping the drift check: neither python3 nor sqlite3 is available"
fi

section "CLI: visibility schema and inspect smoke test"
# The visibility set alone, then main beside it in the same database: each verifies clean (the
# other set's tables are not drift), and `inspect visibility` answers counts and rejects a
# malformed query with exit code 2.
vis_ns="00000000-0000-4000-8000-000000000001"
visibility_smoke() {
    local u="$1"
    durastore schema setup --set visibility --url "$u"
    durastore schema verify --set visibility --url "$u"
    durastore schema setup --url "$u"
    durastore schema version --set visibility --url "$u"
    durastore schema verify --url "$u"
    durastore schema verify --set visibility --url "$u"
    local count_out
    count_out="$(durastore inspect visibility --url "$u" --namespace "$vis_ns" --count \
        "ExecutionStatus = 'Running' GROUP BY ExecutionStatus")"
    printf '%s\n' "$count_out"
    grep -q "^0 matching executions$" <<<"$count_out" \
        || fail "inspect visibility --count on an empty namespace did not print 0"
    durastore inspect visibility --url "$u" --namespace "$vis_ns" --json "" >/dev/null
    set +e
    durastore inspect visibility --url "$u" --namespace "$vis_ns" "WorkflowId = " 2>/dev/null
    local rc=$?
    set -e
    [[ $rc -eq 2 ]] || fail "inspect visibility exited $rc on a malformed query (expected 2)"
}
visibility_smoke "sqlite://$smoke_dir/visibility.db"
# The server backends, each in a database of its own (created by setup, dropped afterwards).
for server_url in "${DURASTORE_POSTGRES_URL:-}" "${DURASTORE_MYSQL_URL:-}"; do
    [[ -n "$server_url" ]] || continue
    base="${server_url%%\?*}"
    query="${server_url#"$base"}"
    smoke_url="${base%/*}/durastore_smoke_vis_$$${query}"
    echo "-- ${smoke_url%%://*}"
    visibility_smoke "$smoke_url"
    durastore schema drop-database --force --url "$smoke_url"
done

section "library: examples/walkthrough.rs (a temporary SQLite file, then a fresh PostgreSQL database)"
# One workflow through every store through the public API; the example exits 1 at the first
# step that does not behave.
cargo run -q -p durastore --all-features --example walkthrough
if [[ -n "${DURASTORE_POSTGRES_URL:-}" ]]; then
    base="${DURASTORE_POSTGRES_URL%%\?*}"
    query="${DURASTORE_POSTGRES_URL#"$base"}"
    u="${base%/*}/durastore_walkthrough_$$${query}"
    durastore schema create-database --url "$u" >/dev/null
    durastore schema setup --url "$u" >/dev/null
    durastore schema setup --set visibility --url "$u" >/dev/null
    cargo run -q -p durastore --all-features --example walkthrough -- "$u"
    durastore schema drop-database --force --url "$u" >/dev/null
elif [[ "${DURASTORE_REQUIRE:-}" != "" ]]; then
    fail "DURASTORE_POSTGRES_URL is not set"
fi

section "CLI: schema tool on the search servers and Cassandra (fresh index / keyspace)"
# Setup twice (idempotent), verify clean, then a manual change must show up as drift.
for var in DURASTORE_OPENSEARCH_URL DURASTORE_ELASTICSEARCH_URL; do
    base="${!var:-}"
    if [[ -z $base ]]; then
        [[ "${DURASTORE_REQUIRE:-}" == "" ]] || fail "$var is not set"
        continue
    fi
    u="$base/durastore_smoke_$RANDOM$RANDOM"
    durastore schema setup --url "$u"
    durastore schema setup --url "$u" | grep -q "already up to date" || fail "second setup on $u"
    durastore schema verify --url "$u"
    http="http://${base#*://}"
    curl -sf -XPUT "$http/${u##*/}/_mapping" -H 'content-type: application/json' \
        -d '{"properties":{"Unexpected":{"type":"long"}}}' >/dev/null
    set +e
    drift_out="$(durastore schema verify --url "$u")"
    rc=$?
    set -e
    printf '%s\n' "$drift_out"
    durastore schema drop-database --force --url "$u"
    [[ $rc -eq 1 ]] && grep -q "unexpected column Unexpected" <<<"$drift_out" \
        || fail "schema verify on $u did not report the added field (exit $rc)"
done
if [[ -n "${DURASTORE_CASSANDRA_URL:-}" ]]; then
    u="$DURASTORE_CASSANDRA_URL/durastore_smoke_$RANDOM$RANDOM"
    durastore schema create-database --url "$u"
    durastore schema setup --url "$u"
    durastore schema setup --url "$u" | grep -q "already up to date" || fail "second setup on $u"
    durastore schema verify --url "$u"
    durastore schema drop-database --force --url "$u"
elif [[ "${DURASTORE_REQUIRE:-}" != "" ]]; then
    fail "DURASTORE_CASSANDRA_URL is not set"
fi

section "CLI: bench --floor on every server backend (each replay must run clean)"
# A short floor per backend (one round, 2 s runs): the recorded requests must replay without
# a single failed unit (a condition that did not apply, a status other than the adapter's).
# The ratios themselves are measured by scripts/bench-floor.sh, not here.
floor_py='
import json, sys
target, r = sys.argv[1], json.loads(sys.argv[2])
f = r["floor"]
runs = ", ".join("%s %.1f/s (%d failed)" % (x["method"], x["units_per_second"], x["failed_units"]) for x in f["runs"])
print("%s %s: adapter %.1f/s; %s; ratio %.3f" % (target, r["workload"], r["units_per_second"], runs, f["floor_ratio"]))
assert f["target"] == target, f["target"]
assert r["units"] > 0 and r["failed_units"] == 0, "adapter run"
assert f["runs"] and all(x["units"] > 0 and x["failed_units"] == 0 for x in f["runs"]), "replay"
assert f["floor_ratio"] > 0
'
floor_check() {
    local target=$1
    shift
    local out
    out="$(durastore bench "$@" --floor --floor-rounds 1 --duration 2 --concurrency 4 --shards 4 --json)"
    python3 -c "$floor_py" "$target" "$out" || fail "bench --floor on $target: $out"
}
if command -v python3 >/dev/null 2>&1; then
    for server_url in "${DURASTORE_POSTGRES_URL:-}" "${DURASTORE_MYSQL_URL:-}"; do
        [[ -n "$server_url" ]] || continue
        base="${server_url%%\?*}"
        query="${server_url#"$base"}"
        u="${base%/*}/durastore_floor_smoke_$$${query}"
        durastore schema create-database --url "$u" >/dev/null
        durastore schema setup --url "$u" >/dev/null
        durastore schema setup --set visibility --url "$u" >/dev/null
        target=postgres
        [[ $u == postgres* ]] || target=mysql
        floor_check "$target" --url "$u"
        durastore schema drop-database --force --url "$u" >/dev/null
    done
    if [[ -n "${DURASTORE_CASSANDRA_URL:-}" ]]; then
        u="$DURASTORE_CASSANDRA_URL/durastore_floor_smoke_$RANDOM$RANDOM"
        durastore schema create-database --url "$u" >/dev/null
        durastore schema setup --url "$u" >/dev/null
        floor_check cassandra --url "$u"
        durastore schema drop-database --force --url "$u" >/dev/null
    fi
    for var in DURASTORE_OPENSEARCH_URL DURASTORE_ELASTICSEARCH_URL; do
        [[ -n "${!var:-}" ]] || continue
        u="${!var}/durastore_floor_smoke_$RANDOM$RANDOM"
        durastore schema setup --url "$u" >/dev/null
        for w in visibility-write visibility-list; do
            floor_check search --url "sqlite://$smoke_dir/floor-$RANDOM.db" --visibility-url "$u" --workload "$w"
        done
        durastore schema drop-database --force --url "$u" >/dev/null
    done
elif [[ "${DURASTORE_REQUIRE:-}" != "" ]]; then
    fail "python3 is needed to check the floor reports"
else
    echo "skipping the floor check: python3 is not available"
fi

section "done"
echo "conformance: $summary"
