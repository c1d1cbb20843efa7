#!/usr/bin/env python3
"""Smoke test for the Cassandra started by run.sh: keyspace, table, and a
lightweight transaction (INSERT ... IF NOT EXISTS) that must apply once and
then be refused. Needs `pip install cassandra-driver`.

Usage: DURASTORE_CASSANDRA_URL=cassandra://127.0.0.1:9042 python3 cql_smoke.py
"""
import os
import sys
import time
import uuid
from urllib.parse import urlparse

from cassandra.cluster import Cluster

url = urlparse(os.environ.get("DURASTORE_CASSANDRA_URL", "cassandra://127.0.0.1:9042"))
host, port = url.hostname or "127.0.0.1", url.port or 9042

t0 = time.monotonic()
cluster = Cluster([host], port=port)
session = cluster.connect()
version = session.execute("SELECT release_version FROM system.local").one()[0]
print(f"connected to Cassandra {version} at {host}:{port}")

ks = "durastore_smoke"
session.execute(
    f"CREATE KEYSPACE IF NOT EXISTS {ks} "
    "WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
)
session.execute(f"CREATE TABLE IF NOT EXISTS {ks}.kv (k text PRIMARY KEY, v text)")
key = f"key-{uuid.uuid4()}"
insert = f"INSERT INTO {ks}.kv (k, v) VALUES (%s, %s) IF NOT EXISTS"
first = session.execute(insert, (key, "one")).one()
second = session.execute(insert, (key, "two")).one()
print(f"LWT first  [applied]={first[0]}")
print(f"LWT second [applied]={second[0]} (existing v={second.v!r})")
upd = session.execute(f"UPDATE {ks}.kv SET v = 'three' WHERE k = %s IF v = 'one'", (key,)).one()
print(f"LWT update IF v='one' [applied]={upd[0]}")
row = session.execute(f"SELECT v FROM {ks}.kv WHERE k = %s", (key,)).one()
print(f"read back v={row.v!r}")
session.execute(f"TRUNCATE {ks}.kv")
session.execute(f"DROP KEYSPACE {ks}")
cluster.shutdown()
print(f"done in {time.monotonic() - t0:.1f} s")

ok = first[0] is True and second[0] is False and second.v == "one" and upd[0] is True and row.v == "three"
print("1 passed, 0 failed" if ok else "0 passed, 1 failed")
sys.exit(0 if ok else 1)
