#!/usr/bin/env bash
# Cost as the data grows: the lifecycle workload on a database preloaded with 10 thousand
# executions and on one with a million (and their visibility records), run back to back, and
# the visibility list / count GROUP BY latencies on the big one.
#
#   scripts/bench-scale.sh sqlite|postgres [--big N] [--seed N] [--duration S] [--dir DIR]
#
# Every bench passes --scratch: the scale databases are this script's own, preloaded and then
# measured again and again, so their shards exist after the first run.
# The small database is preloaded through the stores (`durastore bench --preload 10000`). The
# big one gets --seed executions through the stores (default 50000) and is then filled up to
# --big (default 1000000) by scripts/scale-clone-<backend>.py, which copies those rows with new
# ids (writing a million through the stores takes about an hour on a 2-core machine). Databases
# are kept (SQLite files in DIR, default target/bench-scale; PostgreSQL databases
# durastore_scale_10k / durastore_scale_1m) and reused by a rerun. Reports land in DIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

backend=${1:-}
shift || true
big=1000000
seed=50000
duration=30
dir=target/bench-scale
while [[ $# -gt 0 ]]; do
    case $1 in
        --big) big=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --dir) dir=$2; shift 2 ;;
        *) echo "bench-scale.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cargo build --release -q -p durastore --all-features
bin=$PWD/target/release/durastore

case $backend in
    sqlite)
        small="sqlite://$dir/scale-10k.db"
        large="sqlite://$dir/scale-1m.db"
        clone() { python3 scripts/scale-clone-sqlite.py "$dir/scale-1m.db" "$big"; }
        count() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from executions').fetchone()[0])" "${1#sqlite://}"; }
        ;;
    postgres)
        [[ -n "${DURASTORE_POSTGRES_URL:-}" ]] || eval "$(bash scripts/services.sh start postgres)"
        base=${DURASTORE_POSTGRES_URL%%\?*}
        small="${base%/*}/durastore_scale_10k"
        large="${base%/*}/durastore_scale_1m"
        for u in "$small" "$large"; do
            "$bin" schema create-database --url "$u" >/dev/null
            "$bin" schema setup --url "$u" >/dev/null
            "$bin" schema setup --set visibility --url "$u" >/dev/null
        done
        clone() { python3 scripts/scale-clone-postgres.py "$large" "$big"; }
        count() { psql "$1" -XAtc "select count(*) from executions"; }
        ;;
    *) echo "usage: scripts/bench-scale.sh sqlite|postgres [--big N] [--seed N] [--duration S]" >&2; exit 2 ;;
esac

have_small=$(count "$small" 2>/dev/null || echo 0)
if (( have_small < 10000 )); then
    "$bin" bench --scratch --url "$small" --preload $((10000 - have_small)) --count 8 --json >"$dir/$backend-10k-preload.json"
fi
have_large=$(count "$large" 2>/dev/null || echo 0)
if (( have_large < seed )); then
    "$bin" bench --scratch --url "$large" --preload $((seed - have_large)) --count 8 --json >"$dir/$backend-1m-preload.json"
fi
clone

run() { "$bin" bench --scratch --url "$1" --duration "$duration" --json >"$dir/$2.json"; }
run "$small" "$backend-lifecycle-10k"
run "$large" "$backend-lifecycle-1m"
for w in visibility-list visibility-count-group; do
    "$bin" bench --scratch --url "$large" --workload "$w" --concurrency 4 --duration 20 --json >"$dir/$backend-$w-1m.json"
done
python3 - "$dir" "$backend" <<'EOF'
import json, sys
d, b = sys.argv[1], sys.argv[2]
small = json.load(open(f"{d}/{b}-lifecycle-10k.json"))
large = json.load(open(f"{d}/{b}-lifecycle-1m.json"))
print(f"{b}: lifecycle {small['workflows_per_second']:.1f} wf/s at 10k, {large['workflows_per_second']:.1f} wf/s at 1M: ratio {large['workflows_per_second'] / small['workflows_per_second']:.3f}")
for w in ("visibility-list", "visibility-count-group"):
    r = json.load(open(f"{d}/{b}-{w}-1m.json"))
    o = r["operations"][0]
    print(f"  {w} at 1M: p50 {o['p50_ms']:.1f} ms, p95 {o['p95_ms']:.1f} ms, p99 {o['p99_ms']:.1f} ms ({o['count']} calls)")
EOF
