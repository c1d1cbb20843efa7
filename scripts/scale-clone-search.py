#!/usr/bin/env python3
"""Multiplies the preloaded bench visibility documents of an Elasticsearch/OpenSearch index.

    scripts/scale-clone-search.py http://127.0.0.1:9200 INDEX TOTAL [SEED_INDEX]

The search-side twin of scale-clone-sqlite.py: `durastore bench --preload N` (with a config
whose visibilityStore is the index) writes N documents through the visibility store; this
copies them with the `_bulk` API until the index holds TOTAL documents. Each copy gets a new run
id (a random UUID), `<workflow id>~<k>` as workflow id, and the document id the store would
give it (`<namespace id>~<run id>`); every other field is copied as the store wrote it, and the
copy is indexed with the original's external version, as the store indexes. The originals come
from SEED_INDEX when given (to fill a new index from an old one). The index's refresh is
restored at the end.
"""
import json
import sys
import time
import urllib.request
import uuid


def call(base, method, path, body=None, ndjson=False):
    data = None
    headers = {}
    if body is not None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        headers["Content-Type"] = "application/x-ndjson" if ndjson else "application/json"
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=300) as r:
        return json.loads(r.read() or b"{}")


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    base, index, total = sys.argv[1].rstrip("/"), sys.argv[2], int(sys.argv[3])
    seed_index = sys.argv[4] if len(sys.argv) == 5 else index
    call(base, "POST", f"/{seed_index}/_refresh")
    seeds = []
    after = None
    while True:
        q = {"size": 5000, "version": True, "sort": [{"RunId": "asc"}],
             "query": {"bool": {"must_not": {"wildcard": {"WorkflowId": "*~*"}}}}}
        if after:
            q["search_after"] = after
        hits = call(base, "POST", f"/{seed_index}/_search", q)["hits"]["hits"]
        if not hits:
            break
        seeds += [(h["_source"], h["_version"]) for h in hits]
        after = hits[-1]["sort"]
    have = call(base, "GET", f"/{index}/_count")["count"]
    if not seeds:
        sys.exit("no documents to copy; preload some with durastore bench --preload N first")
    need = total - have
    print(f"{index}: {have} documents ({len(seeds)} originals); copying {max(need, 0)} more", file=sys.stderr)
    call(base, "PUT", f"/{index}/_settings", {"index": {"refresh_interval": "-1"}})
    started = time.time()
    k = 1
    done = 0
    try:
        while done < need:
            for start in range(0, len(seeds), 2000):
                if done >= need:
                    break
                lines = []
                for src, version in seeds[start:start + 2000]:
                    if done >= need:
                        break
                    doc = dict(src)
                    run = str(uuid.uuid4())
                    doc["RunId"] = run
                    if doc.get("RootRunId") == src["RunId"]:
                        doc["RootRunId"] = run
                    doc["WorkflowId"] = f"{src['WorkflowId']}~{k}"
                    if doc.get("RootWorkflowId") == src["WorkflowId"]:
                        doc["RootWorkflowId"] = doc["WorkflowId"]
                    doc_id = f"{doc['NamespaceId']}~{run}"
                    lines.append(json.dumps({"index": {"_index": index, "_id": doc_id,
                                                       "version": version, "version_type": "external"}}))
                    lines.append(json.dumps(doc))
                    done += 1
                r = call(base, "POST", "/_bulk", "\n".join(lines) + "\n", ndjson=True)
                if r.get("errors"):
                    bad = [i for i in r["items"] if i["index"].get("error")][:1]
                    sys.exit(f"bulk errors, first: {bad}")
            k += 1
            print(f"  {have + done} documents ({done / max(time.time() - started, 1e-9):.0f}/s)", file=sys.stderr)
    finally:
        call(base, "PUT", f"/{index}/_settings", {"index": {"refresh_interval": None}})
        call(base, "POST", f"/{index}/_refresh")
    print(json.dumps(call(base, "GET", f"/{index}/_count")))


if __name__ == "__main__":
    main()
