"""Pipeline overhead through nbw: step-to-step latency (one step's end to the next step's first
cell, from the stored timestamps) p50 and p99 over a SeqPipe of trivial steps with a warm kernel
pool, and a 50-step pipeline's wall time over the sum of its steps' durations.

Usage: pipeline_latency.py --nbw PATH [--steps N] [--long N]
"""
import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime

from agent_latency import Server


def when(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def first_cell(server, execution_id):
    """The time of the execution's first cell_start event, from its (ended) event stream."""
    r = server.http.get(f"{server.base}/v1/executions/{execution_id}/events", stream=True, headers={"Accept": "text/event-stream"})
    for line in r.iter_lines(decode_unicode=True):
        if line and line.startswith("data:"):
            event = json.loads(line[5:])
            if event.get("kind") == "cell_start":
                r.close()
                return when(event["time"])
    raise RuntimeError(f"{execution_id} has no cell_start event")


def run_pipeline(server, name, steps):
    spec = {"max_parallel": 1, "steps": [{"name": f"s{i}", "notebook": "nb.ipynb"} for i in range(steps)]}
    r = server.http.put(f"{server.base}/v1/projects/bench/pipelines/{name}", json={"spec": spec})
    r.raise_for_status()
    run = server.post(f"/v1/projects/bench/pipelines/{name}/runs", {})
    url = f"{server.base}/v1/projects/bench/pipeline-runs/{run['id']}"
    while run["state"] in ("queued", "running"):
        time.sleep(0.05)
        run = server.http.get(url).json()
    assert run["state"] == "succeeded", run
    return run


def gaps(server, run):
    steps = run["steps"]
    return [(first_cell(server, b["execution_id"]) - when(a["finished_at"])).total_seconds() for a, b in zip(steps, steps[1:])]


def overhead(run):
    steps = run["steps"]
    busy = sum((when(s["finished_at"]) - when(s["started_at"])).total_seconds() for s in steps)
    wall = (when(steps[-1]["finished_at"]) - when(steps[0]["started_at"])).total_seconds()
    return wall, busy


def percentile(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nbw", required=True)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--long", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        server = Server(args.nbw, work)
        agent = server.agent(2)
        try:
            time.sleep(3)  # the pool fills
            run_pipeline(server, "warmup", 2)
            seq = gaps(server, run_pipeline(server, "seq", args.steps))
            wall, busy = overhead(run_pipeline(server, "long", args.long))
        finally:
            agent.terminate()
            agent.wait()
            server.stop()
    print(f"step-to-step latency over {len(seq)} hand-overs (warm pool): p50 {statistics.median(seq) * 1000:.0f} ms, p99 {percentile(seq, 0.99) * 1000:.0f} ms")
    print(f"{args.long}-step pipeline: wall {wall:.2f} s, sum of steps {busy:.2f} s, overhead {wall - busy:.2f} s ({(wall - busy) / (args.long - 1) * 1000:.0f} ms per hand-over)")
    print("peer: Airflow's scheduler hands a task to the next in seconds; its [scheduler] scheduler_heartbeat_sec")
    print("  defaults to 5 s (airflow/config_templates/default_airflow.cfg; Airflow's configuration reference)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
