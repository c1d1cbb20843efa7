#!/usr/bin/env bash
# The floor of the SQL server backends: for PostgreSQL and MariaDB, runs the lifecycle workload
# through durastore and then the very statements it sent, in the same transactions, without the
# adapter: through the backend's own driver and, on PostgreSQL, through pgbench (`durastore
# bench --floor`; see durastore/src/floor.rs). Prints adapter / floor per backend and keeps the
# JSON reports and the pgbench script.
#
#   scripts/bench-floor.sh [--duration SECONDS] [--concurrency N] [--shards N] [--rounds N] [--out DIR] [BACKEND...]
#
# Each round is an adapter run followed by the replays; floor_ratio is the median of the rounds'
# adapter / floor ratios (default 3 rounds), so a drifting machine touches both sides.
# BACKEND is postgres and/or mysql (default: both). Servers come from scripts/services.sh (started
# when not running; a DURASTORE_POSTGRES_URL / DURASTORE_MYSQL_URL already set wins). Each run
# uses a database of its own, `durastore_floor`, created and set up when missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

duration=20
concurrency=8
shards=16
rounds=3
out=target/bench-floor
backends=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --duration) duration=$2; shift 2 ;;
        --concurrency) concurrency=$2; shift 2 ;;
        --shards) shards=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        postgres|mysql) backends+=("$1"); shift ;;
        mariadb) backends+=(mysql); shift ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "bench-floor.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[[ ${#backends[@]} -gt 0 ]] || backends=(postgres mysql)
command -v pgbench >/dev/null 2>&1 || echo "bench-floor.sh: pgbench not on the PATH; PostgreSQL gets the driver-loop floor only" >&2

for b in "${backends[@]}"; do
    var="DURASTORE_${b^^}_URL"
    if [[ -z "${!var:-}" ]]; then
        eval "$(bash scripts/services.sh start "$b")"
    fi
done

cargo build --release -q -p durastore
bin=target/release/durastore
mkdir -p "$out"

# The URL of database `durastore_floor` on the server of $1 (a URL naming another database).
floor_url() {
    local base=${1%%\?*} query=""
    [[ $1 == *\?* ]] && query="?${1#*\?}"
    echo "${base%/*}/durastore_floor$query"
}

for b in "${backends[@]}"; do
    var="DURASTORE_${b^^}_URL"
    url=$(floor_url "${!var}")
    "$bin" schema create-database --url "$url" >/dev/null
    "$bin" schema setup --url "$url" >/dev/null
    "$bin" schema setup --set visibility --url "$url" >/dev/null
    echo "== $b: lifecycle, concurrency $concurrency, $shards shards, ${duration}s per run, $rounds rounds" >&2
    "$bin" bench --url "$url" --floor --floor-rounds "$rounds" --duration "$duration" \
        --concurrency "$concurrency" --shards "$shards" --json >"$out/floor-$b.json"
    python3 - "$out/floor-$b.json" "$b" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
f = r["floor"]
for rd in f["rounds"]:
    runs = ", ".join(f"{x['method']} {x['units_per_second']:.1f}/s"
                     for x in f["runs"] if x["round"] == rd["round"])
    print(f"{sys.argv[2]} round {rd['round']}: adapter {rd['adapter_units_per_second']:.1f} workflows/s; "
          f"floor ({runs}); ratio {rd['ratio']:.3f}; load {rd['load_average_1m']}")
print(f"{sys.argv[2]}: floor_ratio {f['floor_ratio']:.3f} (median of {len(f['rounds'])} rounds); "
      f"{f['statements_per_unit']} statements in {f['transactions_per_unit']} transactions per "
      f"workflow, {f['templates']} templates")
if f.get("pgbench_script"):
    print(f"  pgbench script: {f['pgbench_script']}")
EOF
done
echo "reports: $out/floor-*.json" >&2
