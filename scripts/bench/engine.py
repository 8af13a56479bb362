#!/usr/bin/env python3
"""Helpers for scripts/bench-engine.sh: generates the benchmark notebooks, measures the runners'
peak RSS and the kernel-side gap between cells, and prints the nbw-vs-papermill table.

Subcommands (all paths are plain files; the shell script owns the temp dir):
  gen DIR                          write one_cell.ipynb, many_cells.ipynb, big_output.ipynb
  rss-nbw EVENTS                   print runner_peak_rss_kib from nbw's --events JSON lines, or n/a
  rss-papermill IN OUT             run papermill in-process, print ru_maxrss (KiB) of this process
  report --results RESULTS.json [--markdown FILE]
                                   print the table (and write it as Markdown)

Only the standard library plus nbformat (for generating notebooks) is used.
"""

import argparse
import datetime as dt
import json
import math
import statistics
import sys

N_MANY = 200  # cells in the many-cells notebook, parameters cell included
BIG_CELLS = 10  # cells printing output in the big-output notebook
BIG_LINES = 10_486  # lines of 100 bytes per cell: ~1 MiB per cell, ~10 MiB in total

# Targets from the issue.
TARGET_RATIO_ONE = 0.40
TARGET_RATIO_MANY = 0.15
TARGET_RSS_MIB = 10.0
TARGET_GAP_MS = 0.5


# --- notebooks ---------------------------------------------------------------------------------


def _notebook(sources):
    import nbformat.v4 as v4

    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    cells = []
    for i, src in enumerate(sources):
        cell = v4.new_code_cell(src)
        if i == 0:
            cell.metadata["tags"] = ["parameters"]
        cells.append(cell)
    nb.cells = cells
    return nb


def cmd_gen(args):
    import nbformat

    out = args.dir.rstrip("/")
    one = ["x = 0"]
    many = ["x = 0"]
    for i in range(1, N_MANY):
        many.append([f"print(x + {i})", f"x + {i}", f"y_{i} = x * {i}"][(i - 1) % 3])
    big = ["x = 0"]
    for c in range(BIG_CELLS):
        # 8-digit counter + space + 90 chars + newline = 100 bytes per line.
        big.append(
            f"for j in range({BIG_LINES}):\n"
            f"    print(f\"{{j + {c * BIG_LINES}:08d}} \" + \"{chr(ord('a') + c)}\" * 90)"
        )
    for name, sources in (("one_cell", one), ("many_cells", many), ("big_output", big)):
        nbformat.write(_notebook(sources), f"{out}/{name}.ipynb")


# --- peak RSS ----------------------------------------------------------------------------------


def _find_key(obj, key):
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        for v in obj.values():
            found = _find_key(v, key)
            if found is not None:
                return found
    elif isinstance(obj, list):
        for v in obj:
            found = _find_key(v, key)
            if found is not None:
                return found
    return None


def cmd_rss_nbw(args):
    """The last event carrying runner_peak_rss_kib (the run_end event), wherever it nests it."""
    value = None
    try:
        with open(args.events, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                found = _find_key(event, "runner_peak_rss_kib")
                if isinstance(found, (int, float)):
                    value = found
    except OSError:
        pass
    print("n/a" if value is None else int(value))


def cmd_rss_papermill(args):
    import resource

    import papermill

    papermill.execute_notebook(args.input, args.output, parameters={"x": 1}, progress_bar=False)
    # Linux reports ru_maxrss in KiB. RUSAGE_SELF: this process only, not the kernel.
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


# --- inter-cell gap ----------------------------------------------------------------------------


def _ts(value):
    if not isinstance(value, str):
        return None
    s = value.strip().replace("Z", "+00:00")
    # fromisoformat wants at most 6 fractional digits.
    if "." in s:
        head, tail = s.split(".", 1)
        digits = ""
        rest = tail
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        s = f"{head}.{digits[:6].ljust(6, '0')}{rest}"
    try:
        t = dt.datetime.fromisoformat(s)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t


def cell_timings(path):
    """(gaps, busy) in ms from an executed notebook's metadata.execution kernel timestamps.

    gap: busy[i+1] - idle[i], the time the kernel sat idle waiting for the runner between two
    consecutive code cells. busy: idle[i] - busy[i], the kernel's own time for cell i.
    """
    try:
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
    except (OSError, ValueError):
        return [], []
    spans = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        ex = (cell.get("metadata") or {}).get("execution") or {}
        spans.append((_ts(ex.get("iopub.status.busy")), _ts(ex.get("iopub.status.idle"))))
    gaps, busy = [], []
    for (b0, i0), (b1, _) in zip(spans, spans[1:]):
        if i0 is not None and b1 is not None:
            gaps.append((b1 - i0).total_seconds() * 1e3)
    for b, i in spans:
        if b is not None and i is not None:
            busy.append((i - b).total_seconds() * 1e3)
    return gaps, busy


# --- report ------------------------------------------------------------------------------------


def _hyperfine(path):
    """{command name: result (median, mean, stddev, times...)} from a hyperfine --export-json file."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    return {r["command"]: r for r in data["results"]}


def _fmt_s(x):
    return "n/a" if x is None else f"{x:.2f} s"


def _fmt_ms(x):
    if x is None:
        return "n/a"
    return f"{x:.2f} ms" if x < 10 else f"{x:.1f} ms" if x < 100 else f"{x:.0f} ms"


def _fmt_mib(kib):
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"


def _ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def _fmt_ratio(r):
    return "" if r is None else f"{r:.2f}x"


def _verdict(value, limit):
    if value is None:
        return "n/a"
    return "ok" if value <= limit else "MISS"


def _spread(r):
    """Relative spread (stddev / mean) of a hyperfine result, as a percentage string."""
    mean, sd = r.get("mean"), r.get("stddev")
    if not mean or sd is None or (isinstance(sd, float) and math.isnan(sd)):
        return ""
    return f"±{100 * sd / mean:.0f}%"


def cmd_report(args):
    with open(args.results, encoding="utf-8") as f:
        res = json.load(f)

    one = _hyperfine(res["hyperfine"]["one_cell"])
    many = _hyperfine(res["hyperfine"]["many_cells"])
    big = _hyperfine(res["hyperfine"]["big_output"])

    def med(table, name):
        r = table.get(name)
        return None if r is None else r["median"]

    rows = []  # (scenario, nbw, papermill, ratio, target, verdict)

    def time_row(label, table, pm_name, target=None):
        n, p = med(table, "nbw"), med(table, pm_name)
        r = _ratio(n, p)
        n_s = _fmt_s(n) + (f" {_spread(table['nbw'])}" if "nbw" in table else "")
        p_s = _fmt_s(p) + (f" {_spread(table[pm_name])}" if pm_name in table else "")
        rows.append(
            (
                label,
                n_s,
                p_s,
                _fmt_ratio(r),
                "" if target is None else f"<= {target:.2f}x",
                "" if target is None else _verdict(r, target),
            )
        )

    time_row("1 cell", one, "papermill", TARGET_RATIO_ONE)
    time_row("200 cells", many, "papermill", TARGET_RATIO_MANY)
    time_row("200 cells, pm no save/bar", many, "papermill-nosave")

    # Wall time per cell: the 200-cell run minus the 1-cell run (startup, kernel launch, shutdown),
    # spread over the 199 extra cells.
    def per_cell(pm_one, pm_many):
        if pm_one is None or pm_many is None:
            return None
        return (pm_many - pm_one) / (N_MANY - 1) * 1e3

    n_pc = per_cell(med(one, "nbw"), med(many, "nbw"))
    p_pc = per_cell(med(one, "papermill"), med(many, "papermill"))
    rows.append(("200 cells, wall/cell", _fmt_ms(n_pc), _fmt_ms(p_pc), _fmt_ratio(_ratio(n_pc, p_pc)), "", ""))
    time_row("10 MB output", big, "papermill")

    rss = res["rss_kib"]
    for key, label, target in (
        ("one_cell", "runner peak RSS, 1 cell", TARGET_RSS_MIB),
        ("many_cells", "runner peak RSS, 200 cells", TARGET_RSS_MIB),
        ("big_output", "runner peak RSS, 10 MB out", None),
    ):
        n = rss["nbw"].get(key)
        p = rss["papermill"].get(key)
        n = None if n in (None, "n/a") else int(n)
        p = None if p in (None, "n/a") else int(p)
        rows.append(
            (
                label,
                _fmt_mib(n),
                _fmt_mib(p),
                "",
                "" if target is None else f"<= {target:g} MiB",
                "" if target is None else _verdict(None if n is None else n / 1024, target),
            )
        )

    gaps = {}
    busy = {}
    for name, path in res["outputs"].items():
        g, b = cell_timings(path)
        gaps[name] = statistics.median(g) if g else None
        busy[name] = statistics.median(b) if b else None
    rows.append(
        (
            "inter-cell gap (median)",
            _fmt_ms(gaps.get("nbw")),
            _fmt_ms(gaps.get("papermill")),
            "",
            f"<= {TARGET_GAP_MS:g} ms",
            _verdict(gaps.get("nbw"), TARGET_GAP_MS),
        )
    )
    rows.append(("inter-cell gap, pm no save/bar", "", _fmt_ms(gaps.get("papermill-nosave")), "", "", ""))
    rows.append(("kernel busy/cell (median)", _fmt_ms(busy.get("nbw")), _fmt_ms(busy.get("papermill")), "", "", ""))

    header = ("scenario", "nbw (median)", "papermill (median)", "ratio", "target", "")
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    lines = []
    for r in [header] + rows:
        lines.append("   ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    text = "\n".join(lines)

    notes = [
        f"Medians of hyperfine runs (runs: {res['runs']}; ±: stddev/mean); ratio = nbw / papermill.",
        "papermill: defaults (`papermill IN OUT -p x 1`); 'pm no save/bar' adds"
        " `--no-request-save-on-cell-execute --no-progress-bar`. nbw: `nbw run IN OUT -p x 1 --no-progress`.",
        "wall/cell: (200-cell median - 1-cell median) / 199.",
        "runner peak RSS: the runner process only (nbw: run_end `runner_peak_rss_kib`;"
        " papermill: `execute_notebook` in-process, ru_maxrss), never the kernel.",
        "inter-cell gap: kernel-side `busy[i+1] - idle[i]` from the output notebook's"
        " `metadata.execution`, median over the 200-cell run's cells.",
        "kernel busy/cell: kernel-side `idle[i] - busy[i]`, the kernel's own time per cell; the same"
        " cells in both columns, so a large difference means the machine's load changed between runs.",
    ]
    load = res.get("load") or []
    cores = int(res.get("env", {}).get("cores") or 0)
    if load:
        notes.append(
            f"1-minute load average before each block: {', '.join(f'{x:g}' for x in load)}"
            f" on {cores} cores."
        )
        if cores and max(load) > cores:
            notes.append(
                "WARNING: the machine was busy with other work during the run (load above the core"
                " count); medians are noisy, re-run on an idle machine before quoting them."
            )
    print(text)
    print()
    for n in notes:
        print("  " + n)

    if args.markdown:
        env = res.get("env", {})
        md = []
        md.append("| " + " | ".join(header) + " |")
        md.append("|" + "|".join(["---"] + ["---:"] * 3 + ["---", "---"]) + "|")
        for r in rows:
            md.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
        md.append("")
        for n in notes:
            md.append(f"- {n}")
        if env:
            md.append(
                "- Machine: "
                + ", ".join(f"{k}: {v}" for k, v in env.items() if v)
                + "."
            )
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write("\n".join(md) + "\n")
        print(f"\nMarkdown written to {args.markdown}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("gen")
    p.add_argument("dir")
    p.set_defaults(func=cmd_gen)
    p = sub.add_parser("rss-nbw")
    p.add_argument("events")
    p.set_defaults(func=cmd_rss_nbw)
    p = sub.add_parser("rss-papermill")
    p.add_argument("input")
    p.add_argument("output")
    p.set_defaults(func=cmd_rss_papermill)
    p = sub.add_parser("report")
    p.add_argument("--results", required=True)
    p.add_argument("--markdown")
    p.set_defaults(func=cmd_report)
    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    sys.exit(main())
