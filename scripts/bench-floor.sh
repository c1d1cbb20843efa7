#!/usr/bin/env bash
# The floor of the server backends (`durastore bench --floor`; see durastore/src/bench/floor/): runs
# a workload through durastore and then the very requests it sent, without the adapter, and
# prints adapter / floor per backend, keeping the JSON reports (and the pgbench script).
#   postgres, mysql: the lifecycle's statements in the same transactions, through the backend's
#     own driver and, on PostgreSQL, through pgbench;
#   cassandra: the lifecycle's statements and conditional batches, through the scylla driver;
#   opensearch, elasticsearch: the visibility workloads (visibility-write, visibility-list,
#     visibility-count-group; a SQLite file holds the rest) as the same HTTP requests.
#
#   scripts/bench-floor.sh [--duration SECONDS] [--concurrency N] [--shards N] [--rounds N] [--out DIR] [BACKEND...]
#
# After an unmeasured warm-up, each round is an adapter run and the replays (alternating which
# goes first; default 3 rounds), so a drifting machine touches both sides. Per replay method the
# ratio is the median over the rounds of adapter / replay; floor_ratio is the lowest of them.
# BACKEND is postgres, mysql, cassandra, opensearch, elasticsearch (default: postgres mysql). Servers come from scripts/services.sh (started
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
        postgres|mysql|cassandra|opensearch|elasticsearch) backends+=("$1"); shift ;;
        mariadb) backends+=(mysql); shift ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
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

cargo build --release -q -p durastore --all-features
bin=target/release/durastore
mkdir -p "$out"

# The URL of database `durastore_floor` on the server of $1 (a URL naming another database).
floor_url() {
    local base=${1%%\?*} query=""
    [[ $1 == *\?* ]] && query="?${1#*\?}"
    echo "${base%/*}/durastore_floor$query"
}

report() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
f = r["floor"]
label = f"{sys.argv[2]} {r['workload']}"
def cpu(ms):
    return f" {ms:.2f} ms cpu" if ms is not None else ""
for rd in f["rounds"]:
    runs = ", ".join(f"{x['method']} {x['units_per_second']:.1f}/s{cpu(x.get('client_cpu_ms'))}"
                     for x in f["runs"] if x["round"] == rd["round"])
    print(f"{label} round {rd['round']}: adapter {rd['adapter_units_per_second']:.1f} units/s"
          f"{cpu(rd.get('adapter_client_cpu_ms'))}; "
          f"floor ({runs}); ratio {rd['ratio']:.3f}; load {rd['load_average_1m']}")
by_method = ", ".join(f"{m} {r:.3f}" for m, r in f["ratio_by_method"].items())
print(f"{label}: adapter ÷ replay, median of {len(f['rounds'])} rounds: {by_method}")
print(f"{label}: floor_ratio {f['floor_ratio']:.3f} (against {f['floor_method']}); "
      f"{f['statements_per_unit']} statements in {f['transactions_per_unit']} round trips per "
      f"unit, {f['templates']} templates")
if f.get("pgbench_script"):
    print(f"  pgbench script: {f['pgbench_script']}")
EOF
}

# `--scratch`: the durastore_floor databases are this script's own and kept between runs (and
# between the search workloads), so their shards exist from the last run; the bench may take
# them over.
common=(--scratch --floor --floor-rounds "$rounds" --duration "$duration" --concurrency "$concurrency" --shards "$shards" --json)
for b in "${backends[@]}"; do
    var="DURASTORE_${b^^}_URL"
    case $b in
        postgres|mysql)
            url=$(floor_url "${!var}")
            "$bin" schema create-database --url "$url" >/dev/null
            "$bin" schema setup --url "$url" >/dev/null
            "$bin" schema setup --set visibility --url "$url" >/dev/null
            ;;
        cassandra)
            url="${!var}/durastore_floor"
            "$bin" schema create-database --url "$url" >/dev/null
            "$bin" schema setup --url "$url" >/dev/null
            ;;
        *)
            vis="${!var}/durastore_floor_vis"
            "$bin" schema setup --url "$vis" >/dev/null
            main="sqlite://$PWD/$out/floor-$b-main.db"
            for w in visibility-write visibility-list visibility-count-group; do
                echo "== $b: $w, concurrency $concurrency, ${duration}s per run, $rounds rounds" >&2
                extra=()
                # Records to list and count (the write runs before add theirs).
                [[ $w == visibility-list ]] && extra=(--preload 2000)
                "$bin" bench --url "$main" --visibility-url "$vis" --workload "$w" "${extra[@]}" \
                    "${common[@]}" >"$out/floor-$b-$w.json"
                report "$out/floor-$b-$w.json" "$b"
            done
            continue
            ;;
    esac
    echo "== $b: lifecycle, concurrency $concurrency, $shards shards, ${duration}s per run, $rounds rounds" >&2
    "$bin" bench --url "$url" "${common[@]}" >"$out/floor-$b.json"
    report "$out/floor-$b.json" "$b"
done
echo "reports: $out/floor-*.json" >&2
