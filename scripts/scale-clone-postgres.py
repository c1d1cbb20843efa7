#!/usr/bin/env python3
"""Multiplies the preloaded bench executions of a PostgreSQL database, for scale benchmarks.

    scripts/scale-clone-postgres.py 'postgres://user:pass@host:port/db' TOTAL

The PostgreSQL twin of scale-clone-sqlite.py (see there): copies the rows `durastore bench
--preload N` wrote (workflow ids `bench-pre-…`) in `executions`, `current_executions` and
`executions_visibility` until the database holds TOTAL executions. A copy gets the workflow id
`<id>~<k>` and a run id derived from the original's and k (the same in both execution tables);
every other column is copied as the stores wrote it. Runs through `psql`.
"""
import subprocess
import sys
import time
import urllib.parse


def psql(url, sql):
    u = urllib.parse.urlparse(url)
    env = {"PGPASSWORD": urllib.parse.unquote(u.password or ""), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-At", "-h", u.hostname, "-p", str(u.port or 5432),
         "-U", urllib.parse.unquote(u.username or ""), "-d", u.path.lstrip("/"), "-c", sql],
        env=env, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def columns(url, table):
    rows = psql(url, "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                f"current_schema() AND table_name = '{table}' AND is_generated = 'NEVER' ORDER BY ordinal_position")
    return rows.split("\n")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    url, total = sys.argv[1], int(sys.argv[2])
    have = int(psql(url, "SELECT count(*) FROM executions"))
    base = int(psql(url, "SELECT count(*) FROM executions WHERE workflow_id LIKE 'bench-pre-%' "
                         "AND workflow_id NOT LIKE '%~%'"))
    if base == 0:
        sys.exit("no preloaded executions (bench-pre-*) to copy; run durastore bench --preload N first")
    print(f"{have} executions ({base} preloaded originals); copying {max(total - have, 0)} more", file=sys.stderr)
    exe, cur, vis = columns(url, "executions"), columns(url, "current_executions"), columns(url, "executions_visibility")
    k = 1 + int(psql(url, "SELECT count(*) FROM executions WHERE workflow_id LIKE '%~%'")) // base
    started = time.time()
    need = total - have
    while need > 0:
        n = min(need, base)
        run = "decode(md5(encode(t.run_id, 'hex') || '~{k}'), 'hex')".format(k=k)
        def sel(cols, alias, run_expr):
            return ", ".join(
                f"{alias}.workflow_id || '~{k}'" if c == "workflow_id" else run_expr if c == "run_id" else f"{alias}.{c}"
                for c in cols)
        originals = ("FROM {t} t WHERE t.workflow_id LIKE 'bench-pre-%' AND t.workflow_id NOT LIKE '%~%' "
                     "ORDER BY t.workflow_id LIMIT {n}")
        sql = "BEGIN;\n"
        sql += f"INSERT INTO executions ({', '.join(exe)}) SELECT {sel(exe, 't', run)} " + originals.format(t="executions", n=n) + ";\n"
        sql += f"INSERT INTO current_executions ({', '.join(cur)}) SELECT {sel(cur, 't', run)} " + originals.format(t="current_executions", n=n) + ";\n"
        vrun = "md5(t.run_id || '~{k}')::uuid::text".format(k=k)
        sql += f"INSERT INTO executions_visibility ({', '.join(vis)}) SELECT {sel(vis, 't', vrun)} " + originals.format(t="executions_visibility", n=n) + ";\n"
        sql += "COMMIT;"
        psql(url, sql)
        need -= n
        k += 1
        print(f"  {total - need} executions ({(total - need - have) / max(time.time() - started, 1e-9):.0f}/s)", file=sys.stderr)
    for t in ("executions", "current_executions", "executions_visibility"):
        psql(url, f"VACUUM ANALYZE {t}")
    print(psql(url, "SELECT (SELECT count(*) FROM executions) || ' executions, ' || (SELECT count(*) FROM "
                    "current_executions) || ' current, ' || (SELECT count(*) FROM executions_visibility) || ' visibility'"))


if __name__ == "__main__":
    main()
