#!/usr/bin/env python3
"""Multiplies the preloaded bench executions of a SQLite database, for scale benchmarks.

    scripts/scale-clone-sqlite.py DB_FILE TOTAL

`durastore bench --preload N` writes N executions (and visibility records) through the stores,
about 500 per second here, so a million would take most of an hour. This script copies the
preloaded rows (workflow ids `bench-pre-…`) until the database holds TOTAL executions: each
copy gets a new workflow id (`<id>~<k>`) and a new random run id, used consistently in
`executions`, `current_executions` and `executions_visibility`; every other column, blobs
included, is copied as written by the stores, so rows, indexes and page sizes look like the
originals'. Generated columns are left to SQLite. The copies are plain data: the bench never
reads them one by one, it measures its own new workflows and the visibility queries over all.
"""
import sqlite3
import sys
import time


def columns(db, table):
    # table_xinfo: hidden 2 and 3 are generated columns (computed by SQLite, never inserted).
    return [r[1] for r in db.execute(f"PRAGMA table_xinfo({table})") if r[6] not in (2, 3)]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    path, total = sys.argv[1], int(sys.argv[2])
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA journal_mode=WAL")
    have = db.execute("SELECT count(*) FROM executions").fetchone()[0]
    base = db.execute(
        "SELECT count(*) FROM executions WHERE workflow_id LIKE 'bench-pre-%' AND workflow_id NOT LIKE '%~%'"
    ).fetchone()[0]
    if base == 0:
        sys.exit("no preloaded executions (bench-pre-*) to copy; run durastore bench --preload N first")
    need = total - have
    print(f"{path}: {have} executions ({base} preloaded originals); copying {max(need, 0)} more", file=sys.stderr)
    exe = columns(db, "executions")
    cur = columns(db, "current_executions")
    vis = columns(db, "executions_visibility")

    def select(cols, key_cols, alias):
        out = []
        for c in cols:
            out.append(key_cols.get(c, f"{alias}.{c}"))
        return ", ".join(out)

    k = 1 + (db.execute("SELECT count(*) FROM executions WHERE workflow_id LIKE '%~%'").fetchone()[0] // base)
    started = time.time()
    while need > 0:
        n = min(need, base)
        db.execute("BEGIN")
        db.execute("DROP TABLE IF EXISTS temp.clone_map")
        db.execute(
            "CREATE TEMP TABLE clone_map AS SELECT shard_id, namespace_id, workflow_id, run_id, "
            "workflow_id || '~' || ? AS new_wf, randomblob(16) AS new_run FROM executions "
            "WHERE workflow_id LIKE 'bench-pre-%' AND workflow_id NOT LIKE '%~%' LIMIT ?",
            (k, n),
        )
        keys = {"workflow_id": "m.new_wf", "run_id": "m.new_run"}
        db.execute(
            f"INSERT INTO executions ({', '.join(exe)}) SELECT {select(exe, keys, 'e')} FROM executions e "
            "JOIN clone_map m ON e.shard_id = m.shard_id AND e.namespace_id = m.namespace_id "
            "AND e.workflow_id = m.workflow_id AND e.run_id = m.run_id"
        )
        db.execute(
            f"INSERT INTO current_executions ({', '.join(cur)}) SELECT {select(cur, keys, 'c')} "
            "FROM current_executions c JOIN clone_map m ON c.shard_id = m.shard_id "
            "AND c.namespace_id = m.namespace_id AND c.workflow_id = m.workflow_id"
        )
        # Visibility run ids are UUID text.
        uuid = (
            "lower(substr(hex(m.new_run),1,8)||'-'||substr(hex(m.new_run),9,4)||'-'||"
            "substr(hex(m.new_run),13,4)||'-'||substr(hex(m.new_run),17,4)||'-'||substr(hex(m.new_run),21,12))"
        )
        vkeys = {"workflow_id": "m.new_wf", "run_id": uuid}
        db.execute(
            f"INSERT INTO executions_visibility ({', '.join(vis)}) SELECT {select(vis, vkeys, 'v')} "
            "FROM executions_visibility v JOIN clone_map m ON v.workflow_id = m.workflow_id"
        )
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        need -= n
        k += 1
        done = total - need
        rate = (done - have) / max(time.time() - started, 1e-9)
        print(f"  {done} executions ({rate:.0f}/s)", file=sys.stderr)
    counts = [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("executions", "current_executions", "executions_visibility")]
    print(f"executions {counts[0]}, current_executions {counts[1]}, executions_visibility {counts[2]}")


if __name__ == "__main__":
    main()
