"""The web UI's speed figures (issue 12, point 6) against a running `nbw server`, in one run:

  executions list with 100,000 executions in the store   target <= 50 ms (median and p95)
  a 200-cell output notebook's page                      target <= 100 ms
  all embedded JS + CSS                                  target <= 50 KB

The executions are inserted straight into the server's database (SQLite file or PostgreSQL URL),
cloned from one made through the API, so the fill takes seconds. Times are taken by a
keep-alive HTTP client on the same machine: the server's time plus a loopback round trip.
Standard library only.

Usage: ui.py --base URL --data-dir DIR --password PW [--database-url URL] [--requests N]
             [--fixture every_output.ipynb] [--markdown FILE]
"""
import argparse
import http.client
import json
import os
import re
import sqlite3
import statistics
import subprocess
import time
import urllib.parse

import bundles

ROWS = 100_000
CELLS = 200
NOTEBOOK_ID = "web.bench200cells"
NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "cells": [{"cell_type": "code", "id": "p", "metadata": {"tags": ["parameters"]}, "source": "x = 0", "outputs": [], "execution_count": None}],
}

# One statement for both SQLite and PostgreSQL: ROWS - 1 clones of the template execution,
# spread over 100 days, a mix of states and origins, all finished.
FILL = """
WITH RECURSIVE n(i) AS (SELECT CAST(1 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
INSERT INTO executions (id, project_id, workflow_id, origin, state, spec, labels, attempt, not_before,
                        created_by, created_at, started_at, finished_at, last_seq)
SELECT (CASE i % 4 WHEN 0 THEN 'sch' WHEN 1 THEN 'web' WHEN 2 THEN 'cli' ELSE 'rty' END) || '.bench' || i,
       t.project_id, t.workflow_id,
       CASE i % 4 WHEN 0 THEN 'sch' WHEN 1 THEN 'web' WHEN 2 THEN 'cli' ELSE 'rty' END,
       CASE WHEN i % 10 = 0 THEN 'failed' WHEN i % 97 = 0 THEN 'cancelled' ELSE 'succeeded' END,
       t.spec, t.labels, 1, t.not_before - i * 86400, t.created_by,
       t.created_at - i * 86400, t.created_at - i * 86400 + 500, t.created_at - i * 86400 + 4500, 0
FROM n, executions t WHERE t.id = '{template}'
"""

OUTPUT = """
INSERT INTO executions (id, project_id, workflow_id, origin, state, spec, labels, attempt, not_before,
                        created_by, created_at, started_at, finished_at, output_key, last_seq)
SELECT '{id}', project_id, workflow_id, 'web', 'succeeded', spec, labels, 1, not_before, created_by,
       created_at + 1, created_at + 2, created_at + 3000, 'outputs/{id}.ipynb', 0
FROM executions WHERE id = '{template}'
"""


class Http:
    """One keep-alive connection, with a bearer token or the web session's cookie."""

    def __init__(self, base):
        url = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(url.hostname, url.port)
        self.headers = {}

    def request(self, method, path, body=None, headers=None):
        self.conn.request(method, path, body=body, headers={**self.headers, **(headers or {})})
        response = self.conn.getresponse()
        return response, response.read()

    def json(self, method, path, value=None):
        body = None if value is None else json.dumps(value).encode()
        response, data = self.request(method, path, body, {"Content-Type": "application/json"})
        if response.status >= 300:
            raise SystemExit(f"bench-ui: {method} {path}: HTTP {response.status}: {data[:300]!r}")
        return json.loads(data) if data else None


def api_session(base, password):
    api = Http(base)
    tokens = api.json("POST", "/v1/auth/login", {"username": "admin", "password": password})
    api.headers["Authorization"] = "Bearer " + tokens["access_token"]
    return api


def web_session(base, password):
    """Logs in through the login form: its CSRF cookie and field, then the session cookie."""
    web = Http(base)
    response, page = web.request("GET", "/login")
    csrf = re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()
    cookies = [c.split(";", 1)[0] for c in response.headers.get_all("Set-Cookie") or []]
    form = urllib.parse.urlencode({"username": "admin", "password": password, "csrf": csrf, "next": "/"})
    response, _ = web.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": "; ".join(cookies)})
    cookies += [c.split(";", 1)[0] for c in response.headers.get_all("Set-Cookie") or []]
    if response.status not in (302, 303):
        raise SystemExit(f"bench-ui: the web login answered HTTP {response.status}")
    web.headers["Cookie"] = "; ".join(cookies)
    return web, page


def two_hundred_cells(fixture):
    with open(fixture) as f:
        nb = json.load(f)
    cells = [nb["cells"][i % len(nb["cells"])] for i in range(CELLS)]
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": nb["metadata"], "cells": cells}


def execute(database_url, data_dir, sql):
    if database_url.startswith("postgres"):
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", database_url, "-c", sql], check=True)
    else:
        db = sqlite3.connect(f"{data_dir}/nbw.db", timeout=30)
        with db:
            db.execute(sql)
        db.close()


def fill(api, args):
    """Project `bench` with workflow `w`, ROWS executions and one with a 200-cell output."""
    api.json("POST", "/v1/projects", {"name": "bench"})
    response, data = api.request("POST", "/v1/projects/bench/bundles?version=v1", bundles.one_notebook(NOTEBOOK))
    if response.status >= 300:
        raise SystemExit(f"bench-ui: bundle upload: HTTP {response.status}: {data[:300]!r}")
    api.json("POST", "/v1/projects/bench/workflows", {"name": "w", "notebook": "nb.ipynb"})
    template = api.json("POST", "/v1/projects/bench/workflows/w/run", {})["id"]
    started = time.perf_counter()
    execute(args.database_url, args.data_dir, FILL.format(rows=ROWS - 1, template=template))
    execute(args.database_url, args.data_dir, OUTPUT.format(id=NOTEBOOK_ID, template=template))
    if args.database_url.startswith("postgres"):
        # Autovacuum would gather the statistics within a minute of such an insert in production.
        execute(args.database_url, args.data_dir, "ANALYZE executions")
    os.makedirs(f"{args.data_dir}/artifacts/outputs", exist_ok=True)
    with open(f"{args.data_dir}/artifacts/outputs/{NOTEBOOK_ID}.ipynb", "w") as f:
        json.dump(two_hundred_cells(args.fixture), f)
    total = api.json("GET", "/v1/projects/bench/executions?limit=1")
    print(f"bench-ui: {ROWS:,} executions in the store ({time.perf_counter() - started:.1f} s to insert)", flush=True)
    return total


def timed(client, path, count):
    """Median and p95 in ms of `count` GETs of `path` (after 3 unmeasured), and the body's size."""
    for _ in range(3):
        response, body = client.request("GET", path)
        if response.status != 200:
            raise SystemExit(f"bench-ui: GET {path}: HTTP {response.status}: {body[:300]!r}")
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        client.request("GET", path)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))], len(body)


def asset_bytes(web, login_page):
    """Bytes of every stylesheet and script the pages link to, as served."""
    total, names = 0, []
    for path in re.findall(rb'(?:href|src)="(/assets/[^"]+)"', login_page):
        response, body = web.request("GET", path.decode())
        if response.status != 200:
            raise SystemExit(f"bench-ui: GET {path}: HTTP {response.status}")
        total += len(body)
        names.append(f"{path.decode().rsplit('/', 1)[-1]} {len(body):,} B")
    return total, names


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--data-dir", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--database-url", default="")
    p.add_argument("--requests", type=int, default=50)
    p.add_argument("--fixture", required=True)
    p.add_argument("--label", default="sqlite")
    p.add_argument("--markdown")
    args = p.parse_args()

    api = api_session(args.base, args.password)
    fill(api, args)
    web, login_page = web_session(args.base, args.password)
    n = args.requests
    lists = [
        ("API  /v1/projects/bench/executions", api, "/v1/projects/bench/executions"),
        ("page /executions", web, "/executions"),
        ("page /executions?state=failed&origin=sch", web, "/executions?state=failed&origin=sch"),
        ("page /executions?project=bench&workflow=w", web, "/executions?project=bench&workflow=w"),
    ]
    rows = []
    for name, client, path in lists:
        median, p95, size = timed(client, path, n)
        rows.append((f"{name} (100k rows, {size // 1024} KiB)", median, p95, 50, "ms"))
    median, p95, size = timed(web, f"/executions/{NOTEBOOK_ID}", n)
    rows.append((f"page /executions/ID ({CELLS} cells, {size // 1024} KiB)", median, p95, 100, "ms"))
    assets, names = asset_bytes(web, login_page)
    rows.append((f"JS + CSS ({', '.join(names)})", assets / 1000, None, 50, "KB"))

    lines = [f"{'figure (' + args.label + ')':<72} {'median':>9} {'p95':>9} {'target':>8} {'ratio':>6}"]
    md = [f"| figure ({args.label}) | median | p95 | target | ratio (worst / target) |", "|---|---|---|---|---|"]
    for name, median, p95, target, unit in rows:
        worst = p95 if p95 is not None else median
        mark = "ok" if worst <= target else "MISS"
        p95_text = f"{p95:.1f} {unit}" if p95 is not None else "-"
        lines.append(f"{name:<72} {median:>6.1f} {unit} {p95_text:>9} {target:>5} {unit} {worst / target:>5.2f} {mark}")
        md.append(f"| {name} | {median:.1f} {unit} | {p95_text} | {target} {unit} | {worst / target:.2f} {mark} |")
    print("\n".join(lines))
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write("\n".join(md) + "\n\n")


if __name__ == "__main__":
    main()
