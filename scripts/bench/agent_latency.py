"""End-to-end latency of a trivial on-demand run through nbw (API call to stored result), with
a cold agent and with a warm kernel pool, against papermill on the same notebook, in one run.

Usage: agent_latency.py --nbw PATH [--runs N] [--markdown FILE]
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import requests

import bundles

NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "cells": [
        {"cell_type": "code", "id": "p", "metadata": {"tags": ["parameters"]}, "source": "x = 0", "outputs": [], "execution_count": None},
        {"cell_type": "code", "id": "c", "metadata": {}, "source": "print(x)", "outputs": [], "execution_count": None},
    ],
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, nbw, work):
        self.nbw, self.work = nbw, work
        data = os.path.join(work, "server")
        env = dict(os.environ, NBW_ADMIN_PASSWORD="benchmark password", NBW_LOG="warn")
        subprocess.run([nbw, "server", "admin", "create-user", "admin", "--admin", "--data-dir", data], env=env, check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([nbw, "server", "--listen", f"127.0.0.1:{port}", "--data-dir", data], env=env, stderr=open(os.path.join(work, "server.log"), "w"))
        self.http = requests.Session()
        for _ in range(300):
            try:
                if self.http.get(self.base + "/readyz").ok:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        tokens = self.http.post(self.base + "/v1/auth/login", json={"username": "admin", "password": "benchmark password"}).json()
        self.http.headers["Authorization"] = "Bearer " + tokens["access_token"]
        self.post("/v1/projects", {"name": "bench"})
        r = self.http.post(self.base + "/v1/projects/bench/bundles?version=v1", data=bundles.one_notebook(NOTEBOOK))
        r.raise_for_status()

    def post(self, path, body):
        r = self.http.post(self.base + path, json=body)
        r.raise_for_status()
        return r.json()

    def agent(self, warm):
        token = self.post("/v1/agents", {"name": f"bench-{warm}"})["token"]
        env = dict(os.environ, NBW_AGENT_TOKEN=token, NBW_LOG="warn")
        work = os.path.join(self.work, f"agent-{warm}")
        return subprocess.Popen([self.nbw, "agent", "--server", self.base, "--work-dir", work, "--warm", str(warm)], env=env, stderr=open(work + ".log", "w"))

    def run_once(self):
        started = time.perf_counter()
        execution = self.post("/v1/projects/bench/executions", {"notebook": "nb.ipynb", "parameters": {"x": 1}})
        url = f"{self.base}/v1/executions/{execution['id']}"
        while True:
            e = self.http.get(url).json()
            if e["state"] not in ("queued", "running") and e["has_output"]:
                elapsed = time.perf_counter() - started
                assert e["state"] == "succeeded", e
                return elapsed
            time.sleep(0.002)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def measure_agent(server, warm, runs):
    agent = server.agent(warm)
    try:
        server.run_once()  # the agent is up and the bundle cached
        samples = []
        for _ in range(runs):
            time.sleep(1.0 if warm else 0.2)  # let the pool refill between runs
            samples.append(server.run_once())
        return samples
    finally:
        agent.terminate()
        agent.wait()


def measure_papermill(runs, work):
    path = os.path.join(work, "nb.ipynb")
    with open(path, "w") as f:
        json.dump(NOTEBOOK, f)
    samples = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "papermill", path, os.path.join(work, "pm.ipynb"), "-p", "x", "1", "--no-progress-bar"], check=True, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - started)
    return samples[1:]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nbw", required=True)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--markdown")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        server = Server(args.nbw, work)
        try:
            cold = measure_agent(server, 0, args.runs)
            warm = measure_agent(server, 2, args.runs)
        finally:
            server.stop()
        papermill = measure_papermill(args.runs, work)
    med = statistics.median
    rows = [
        ("nbw, cold agent (API call to stored result)", med(cold), f"{med(cold) / med(papermill):.2f}x papermill", "<= 0.50x", med(cold) / med(papermill) <= 0.5),
        ("nbw, warm kernel pool", med(warm), f"{med(warm) / med(papermill):.2f}x papermill", "<= 150 ms", med(warm) <= 0.150),
        ("papermill (CLI, same notebook)", med(papermill), "1.00x", "", None),
    ]
    lines = ["| scenario | median | p90 | ratio | target | |", "|---|---|---|---|---|---|"]
    for (name, m, ratio, target, ok), samples in zip(rows, (cold, warm, papermill)):
        p90 = sorted(samples)[int(0.9 * (len(samples) - 1))]
        verdict = "" if ok is None else ("ok" if ok else "MISS")
        lines.append(f"| {name} | {m * 1000:.0f} ms | {p90 * 1000:.0f} ms | {ratio} | {target} | {verdict} |")
    table = "\n".join(lines)
    print(f"end-to-end latency, {args.runs} runs each")
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
