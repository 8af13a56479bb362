#!/usr/bin/env python3
"""Runs notebooks through `nbw run` and through papermill, and checks that nbw writes what papermill
writes. Two corpora, both run by default, in one pool of runs:

  - `corpus`: tests/corpus/*.ipynb, hand-written for this purpose; their parameters are in CASES and
    the differences accepted in them in WAIVED, below.
  - `peers`: tests/fixtures/peers/**/*.ipynb, nbclient's and nbconvert's own test notebooks, which we
    did not write. How each one is run (or why not), what papermill is expected to do with it, and the
    differences from papermill it is known to show (each with its reason) are data, in
    tests/fixtures/peers/manifest.toml.

    python scripts/conformance.py --nbw PATH_TO_NBW [--corpus corpus|peers|all] [--only NAME]...
                                  [--keep DIR] [--all-diffs]

Run it with the project's venv python (scripts/setup-python.sh creates .venv): it needs nbformat, and
it runs papermill and the kernels from the same venv. Both tools get the same environment (the venv's
bin first on PATH, VIRTUAL_ENV, JUPYTER_PATH), the same parameters, and an empty working directory
named `work` each.

Checks, per notebook:
  1. nbw's output passes nbformat.validate (read with NO_CONVERT), keeps the input's nbformat and
     nbformat_minor, and keeps the ids of the input cells it carries over.
  2. After normalising (see `normalise_cell`), the cells match papermill's cell for cell: cell_type,
     source, tags, execution_count and outputs, including papermill's error banner cells and the
     injected-parameters cell.
  3. Exit codes: nbw exits 0 where papermill succeeded and non-zero where papermill raised.
  4. metadata.papermill.parameters are equal, types included (1 is not 1.0, "1" is not 1).
  5. The rest of the metadata matches too (see COMPARE_METADATA): the notebook's metadata
     (kernelspec, language_info, metadata.papermill without the timings) and each cell's metadata
     (metadata.papermill status/exception, anything carried over from the input).

Prints `ok NAME` or `FAIL NAME: first difference` plus a short diff, per notebook, then one line
per corpus (`peers: M of N match papermill; D differences listed ...`: M notebooks without any
difference, D listed differences seen) and `N passed, M failed`. Exits 1 if a difference is not
listed, if a listed one did not show (so a fixed bug or a stale entry is noticed), or if papermill's
outcome on a peer notebook is not the one the manifest expects (a broken environment).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import difflib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    import nbformat
except ImportError:  # pragma: no cover - depends on the interpreter
    sys.exit(
        "conformance.py needs nbformat: run it with the project's venv python "
        "(scripts/setup-python.sh creates .venv)"
    )

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "corpus"
PEERS = REPO / "tests" / "fixtures" / "peers"
PEERS_MANIFEST = PEERS / "manifest.toml"
RUN_TIMEOUT = 240  # seconds per tool per notebook; a run that takes longer is a failure
MAX_JOBS = 2  # the CI machines have two cores

# Check 5 (metadata beyond metadata.papermill.parameters). Set to False to restrict the comparison to
# checks 1-4.
COMPARE_METADATA = True

# ------------------------------------------------------------------------------------------------
# Known, intentional differences between nbw and papermill. Everything not listed here must match.
# ------------------------------------------------------------------------------------------------
INTENTIONAL_DIFFERENCES = {
    # papermill runs every notebook through nbformat.v4.upgrade, so a 4.4 input comes out as 4.5 with
    # fresh random cell ids. nbw writes the version it read: a 4.4 file stays 4.4, without ids (check 1
    # verifies that instead).
    "nbformat_minor": "nbw keeps the input's nbformat_minor; papermill upgrades to 4.5",
    # Cell ids of cells papermill creates (injected-parameters, error banners) and of upgraded 4.4
    # cells are random uuid fragments; nbw picks its own. Ids of input cells are checked by check 1.
    "cell ids": "ids of created cells are random in both tools",
    # Each tool records its own version in metadata.papermill.version.
    "metadata.papermill.version": "each tool records its own version",
    # nbw also records its run (status, message, version) under its own key, metadata.nbw, which
    # papermill does not write and papermill readers ignore.
    "metadata.nbw": "nbw's own namespace, not papermill's",
    # Wall-clock values: metadata.papermill.{start_time,end_time,duration} of the notebook and of
    # each cell, and nbclient's per-cell metadata.execution timestamps (iopub.status.busy, ...).
    "timings": "wall-clock values differ from run to run",
    # nbclient appends one stream output per iopub message, so how papermill splits a cell's stdout
    # depends on ipykernel's flush timing (from run to run); nbw writes consecutive chunks of one
    # stream as one output. Both sides are merged the same way before comparing (normalise_outputs).
    # ipykernel flushes stdout and stderr from separate buffers, so which of the two reaches the
    # notebook first is timing too (seen flipping under load on one peer notebook): between two
    # non-stream outputs, each stream's text is compared, not the interleaving of the two.
    "stream chunks": "consecutive stream outputs are merged per stream on both sides",
}

# Differences accepted in one notebook only: notebook name -> [(regex searched in "check: message" of
# a difference, why it is accepted)]. Each entry needs its reason, like INTENTIONAL_DIFFERENCES, and
# must match a difference found: an entry that matches nothing fails the run (it is stale). The peer
# notebooks list theirs in tests/fixtures/peers/manifest.toml.
# Example: "raises_exception_tag": [(r"^exit code: ", "nbw treats raises-exception as expected")].
WAIVED: dict[str, list[tuple[str, str]]] = {
    # papermill lets a raises-exception cell continue, then fails the run anyway because it scans
    # every error output at the end. In nbw the tag means what it says: the error is expected, the
    # run succeeds, no banner, and the cell's papermill status is "completed".
    "raises_exception_tag": [
        (r"^exit code: ", "nbw: a raises-exception error is expected, the run succeeds"),
        (r"banner|papermill-error-cell|cells: cell count|cell \d+ \(markdown\)", "no error banner for an expected error"),
    ],
    # papermill writes metadata.papermill.exception = true after a clean sys.exit(0) and exits 0.
    # nbw derives that flag from the run's outcome, so the metadata never calls a success a
    # failure (the cell's own papermill metadata still says it stopped the run, as papermill's).
    "sys_exit_zero": [
        (r"^metadata: .*papermill.*exception", "a clean exit is a success, in the metadata too"),
    ],
}

# What papermill prints when its kernel dies at start; see its use in main.
PAPERMILL_START_RACE = "Kernel died before replying to kernel_info"

# Keys under metadata.papermill (notebook and cells) that hold timings, dropped before comparing.
PAPERMILL_TIMING_KEYS = {"start_time", "end_time", "duration"}
# Dropped from the notebook's metadata.papermill (see INTENTIONAL_DIFFERENCES).
PAPERMILL_IGNORED_KEYS = PAPERMILL_TIMING_KEYS | {"version"}
# Dropped from the notebook's metadata, on both sides (see INTENTIONAL_DIFFERENCES).
NB_METADATA_IGNORED_KEYS = {"nbw"}


# ------------------------------------------------------------------------------------------------
# The runs: parameters passed to both tools, identically. The README in tests/corpus lists them too.
# `{files}` in an argument is replaced by a directory holding `files` (name -> content).
# Parameters are given in papermill's precedence order (-f, then -y, then -p, then -r) except in
# params_precedence, which checks that order on purpose.
# ------------------------------------------------------------------------------------------------
@dataclasses.dataclass
class Case:
    args: list[str] = dataclasses.field(default_factory=list)
    files: dict[str, str] = dataclasses.field(default_factory=dict)


PARAMS_TYPES_YAML = """\
y_int: 8
y_float: 0.25
y_str: world
y_bool: false
y_none: null
y_list: [1, two, 3.5, null, true]
y_dict: {a: 1, b: [x, y], c: {d: null, e: 2.0}}
"""

PARAMS_EDGE_YAML = """\
yes_word: yes
off_word: off
sci_no_dot: 1e3
sci_dot: 1.0e+3
date: 2024-01-02
timestamp: 2024-01-02T03:04:05Z
octal_new: 0o17
octal_old: 017
hex_value: 0x1F
under: 1_000
sexagesimal: 1:30
tilde: ~
big: 9007199254740993
neg: -.5
quoted: '123'
multiline: |
  line one
  línea dos
"""

CASES: dict[str, Case] = {
    "params_types": Case(
        args=[
            "-y", PARAMS_TYPES_YAML,
            "-p", "int_p", "7",
            "-p", "float_p", "2.5",
            "-p", "str_p", "hello world",
            "-p", "bool_p", "True",
            "-p", "none_p", "None",
            "-r", "raw_p", "42",
        ]
    ),
    "params_edge_cli": Case(
        args=[
            "-p", "sci", "1e3",
            "-p", "tiny", "1e-05",
            "-p", "big_float", "1e16",
            "-p", "neg_zero", "-0",
            "-p", "padded", "007",
            "-p", "underscored", "1_000",
            "-p", "plus", "+5",
            "-p", "lower_true", "true",
            "-p", "lower_none", "none",
            "-p", "big_int", "9007199254740993",
            "-p", "empty", "",
            "-p", "spaces", " 12 ",
            "-p", "text_unicode", "café ☃ 🚀",
            "-p", "text_quotes", 'say "hi" \\o/',
            "-p", "text_newline", "two\nlines\ttab",
            "-p", "text_single", "it's",
            "-r", "raw_num", "3.14",
            "-r", "raw_true", "True",
            "-p", "negative", "-7",  # values that start with a dash are values, not options
            "-r", "raw_dash", "-x",
        ]
    ),
    "params_edge_yaml": Case(args=["-y", PARAMS_EDGE_YAML]),
    # Same names from every source, given on the command line in the reverse of papermill's
    # precedence: papermill applies -f, then -y, then -p, then -r whatever the order.
    "params_precedence": Case(
        args=[
            "-r", "raw_shared", "from -r",
            "-p", "shared", "from -p",
            "-y", "shared: from -y\nraw_shared: from -y\nonly_yaml: 1",
            "-f", "{files}/params.yaml",
        ],
        files={"params.yaml": "shared: from -f\nonly_file: 2\n"},
    ),
    "no_parameters_cell": Case(args=["-p", "name", "nbw", "-p", "count", "3"]),
    "old_injected_cell": Case(
        args=["-f", "{files}/params.yaml", "-p", "a", "6"],
        files={"params.yaml": "a: 5\nb: from file\nc: [1, 2]\n"},
    ),
    "nbformat_44": Case(args=["-p", "greeting", "hi", "-p", "repeat", "2"]),
    "kernel_override": Case(args=["-k", "python3", "-p", "greeting", "hi"]),
    "bash_params": Case(
        args=[
            "-y", "items: [a, 'b c']",
            "-p", "name", "hello world",
            "-p", "count", "5",
            "-p", "flag", "True",
            "-p", "nothing", "None",
        ]
    ),
}


# ------------------------------------------------------------------------------------------------
# Jobs: one notebook of either corpus, with everything needed to run and judge it
# ------------------------------------------------------------------------------------------------
@dataclasses.dataclass
class Listed:
    """A difference from papermill known to show in one notebook."""

    pattern: str  # searched in "check: message"
    kind: str  # "kept" (deliberate) or "nbw bug" (to be fixed)
    reason: str
    sometimes: bool = False  # a race: shows on some runs only, so not showing is no news


@dataclasses.dataclass
class Job:
    corpus: str  # "corpus" or "peers"
    name: str  # a file stem (corpus) or a path under tests/fixtures/peers without .ipynb (peers)
    path: Path
    args: list[str] = dataclasses.field(default_factory=list)  # given to both tools
    nbw_args: list[str] = dataclasses.field(default_factory=list)
    pm_args: list[str] = dataclasses.field(default_factory=list)
    copy: list[Path] = dataclasses.field(default_factory=list)  # into both working directories
    write: dict[str, str] = dataclasses.field(default_factory=dict)  # into both working directories
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    mask: list[str] = dataclasses.field(default_factory=list)
    expect: str | None = None  # papermill's outcome, "succeeds" or "fails"; None: not checked
    listed: list[Listed] = dataclasses.field(default_factory=list)

    @property
    def label(self) -> str:
        return self.name if self.corpus == "corpus" else f"peers/{self.name}"


def corpus_jobs(base: Path) -> list[Job]:
    notebooks = sorted(CORPUS.glob("*.ipynb"))
    unknown = set(CASES) - {p.stem for p in notebooks}
    if unknown:
        raise SystemExit(f"CASES name notebooks that are not in {CORPUS}: {sorted(unknown)}")
    jobs = []
    for path in notebooks:
        case = CASES.get(path.stem, Case())
        files_dir = base / "files" / path.stem
        files_dir.mkdir(parents=True, exist_ok=True)
        for fname, content in case.files.items():
            (files_dir / fname).write_text(content, encoding="utf-8")
        jobs.append(
            Job(
                "corpus",
                path.stem,
                path,
                args=[a.replace("{files}", str(files_dir)) for a in case.args],
                listed=[Listed(rx, "kept", why) for rx, why in WAIVED.get(path.stem, [])],
            )
        )
    return jobs


PEER_KEYS = {"run", "why", "expect", "args", "timeout", "files", "write", "env", "mask", "differences"}
PEER_KINDS = ("kept", "nbw bug")


def peer_jobs() -> tuple[list[Job], dict[str, str]]:
    """The peer notebooks to run, and those not run (name -> why), from the manifest. Raises
    SystemExit when the manifest and the folder disagree or an entry is malformed."""
    import tomllib

    with open(PEERS_MANIFEST, "rb") as f:
        manifest = tomllib.load(f)
    on_disk = {p.relative_to(PEERS).with_suffix("").as_posix(): p for p in PEERS.rglob("*.ipynb")}
    problems = [f"{n}.ipynb has no entry in the manifest" for n in sorted(set(on_disk) - set(manifest))]
    problems += [f"the manifest's {n!r} names no notebook" for n in sorted(set(manifest) - set(on_disk))]
    jobs, not_run = [], {}
    for name in sorted(set(manifest) & set(on_disk)):
        entry = manifest[name]
        bad = set(entry) - PEER_KEYS
        if bad:
            problems.append(f"{name}: unknown keys {sorted(bad)}")
        if not entry.get("run", True):
            if not entry.get("why"):
                problems.append(f"{name}: not run, and no `why`")
            not_run[name] = entry.get("why", "")
            continue
        if entry.get("expect") not in ("succeeds", "fails"):
            problems.append(f"{name}: expect must be 'succeeds' or 'fails'")
        listed = []
        for d in entry.get("differences", []):
            if d.get("kind") not in PEER_KINDS or not d.get("reason") or not d.get("match"):
                problems.append(f"{name}: a difference needs match, kind ({' or '.join(PEER_KINDS)}) and reason")
                continue
            if set(d) - {"match", "kind", "reason", "sometimes"}:
                problems.append(f"{name}: unknown keys in a difference: {sorted(set(d) - {'match', 'kind', 'reason', 'sometimes'})}")
            listed.append(Listed(d["match"], d["kind"], d["reason"], bool(d.get("sometimes", False))))
        job = Job(
            "peers",
            name,
            on_disk[name],
            args=list(entry.get("args", [])),
            copy=[on_disk[name].parent / f for f in entry.get("files", [])],
            write=dict(entry.get("write", {})),
            env=dict(entry.get("env", {})),
            mask=list(entry.get("mask", [])),
            expect=entry.get("expect"),
            listed=listed,
        )
        if "timeout" in entry:
            job.nbw_args = ["--cell-timeout", str(entry["timeout"])]
            job.pm_args = ["--execution-timeout", str(entry["timeout"])]
        problems += [f"{name}: no file {p.name} beside the notebook" for p in job.copy if not p.is_file()]
        jobs.append(job)
    if problems:
        raise SystemExit(f"{PEERS_MANIFEST.relative_to(REPO)}:\n  " + "\n  ".join(problems))
    return jobs, not_run


# ------------------------------------------------------------------------------------------------
# Environment and runs
# ------------------------------------------------------------------------------------------------
def find_venv() -> Path:
    if os.environ.get("NBW_VENV"):
        return Path(os.environ["NBW_VENV"]).resolve()
    if sys.prefix != sys.base_prefix:
        return Path(sys.prefix).resolve()
    return REPO / ".venv"


def tool_env(venv: Path, scratch: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    env["JUPYTER_PATH"] = str(venv / "share" / "jupyter")
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["IPYTHONDIR"] = str(scratch / "ipython")  # no user profile or startup files
    env.pop("PYTHONSTARTUP", None)
    env.pop("JUPYTER_CONFIG_DIR", None)
    return env


@dataclasses.dataclass
class RunResult:
    tool: str
    rc: int | None  # None: timed out or could not start
    out: Path
    run_dir: Path
    stdout: str
    stderr: str
    seconds: float


def run_tool(tool: str, argv: list[str], out: Path, run_dir: Path, env: dict[str, str]) -> RunResult:
    work = run_dir / "work"
    work.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # so a timeout can take the kernel down with the tool
        )
    except OSError as e:
        return RunResult(tool, None, out, run_dir, "", f"could not start {argv[0]}: {e}", 0.0)
    try:
        stdout, stderr = proc.communicate(timeout=RUN_TIMEOUT)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        stdout, stderr = proc.communicate()
        rc = None
        stderr += f"\n[conformance] timed out after {RUN_TIMEOUT}s".encode()
    return RunResult(
        tool,
        rc,
        out,
        run_dir,
        stdout.decode("utf-8", "replace"),
        stderr.decode("utf-8", "replace"),
        time.monotonic() - start,
    )


# ------------------------------------------------------------------------------------------------
# Normalisation
# ------------------------------------------------------------------------------------------------
ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
ADDRESS_RE = re.compile(r"0x[0-9a-fA-F]+")
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
TMP_RE = re.compile(re.escape(tempfile.gettempdir().rstrip("/")) + r"/[^\s'\"<>:]+")
ISO_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
TB_FILE_RE = re.compile(r"File [^\s,]+")  # IPython: "File /path/mod.py:123, in f(x)"
PATH_RE = re.compile(r"(?<![\w<])(/[\w.+@~-]+)+/?")


class Normaliser:
    def __init__(self, run_dirs: list[Path], mask: list[str] = ()):
        # Longest first, so a run directory wins over the temp root holding it.
        self.run_dirs = sorted({str(p) for p in run_dirs}, key=len, reverse=True)
        self.mask = [re.compile(rx) for rx in mask]  # a notebook's values that differ run to run

    def text(self, s: str) -> str:
        for rx in self.mask:
            s = rx.sub("<MASKED>", s)
        for d in self.run_dirs:
            s = s.replace(d, "<RUN>")
        s = TMP_RE.sub("<TMP>", s)
        s = UUID_RE.sub("<UUID>", s)
        return ADDRESS_RE.sub("0xADDR", s)

    def value(self, v):
        if isinstance(v, str):
            return self.text(v)
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, dict):
            return {k: self.value(x) for k, x in v.items()}
        return v

    def metadata(self, v):
        """Metadata values: also no timestamps (a tool may record more times than papermill)."""
        if isinstance(v, str):
            return ISO_TIME_RE.sub("<TIME>", self.text(v))
        if isinstance(v, list):
            return [self.metadata(x) for x in v]
        if isinstance(v, dict):
            return {k: self.metadata(x) for k, x in v.items()}
        return v

    def traceback(self, lines) -> list[str]:
        """Loose traceback comparison: no colours, no file paths or line numbers of library
        frames, no alignment whitespace, no blank lines."""
        text = ANSI_RE.sub("", "\n".join(lines if isinstance(lines, list) else [lines]))
        text = self.text(text)
        out = []
        for line in text.splitlines():
            line = TB_FILE_RE.sub("File <PATH>", line)
            line = PATH_RE.sub("<PATH>", line)
            line = re.sub(r"<PATH>:\d+", "<PATH>", line)
            line = re.sub(r"\s+", " ", line).strip()
            if line:
                out.append(line)
        return out


def joined(v):
    """nbformat's multiline strings: a list of lines or one string."""
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return "".join(v)
    return v


def stream_block(result: list[dict]) -> list[dict]:
    """The stream outputs at the end of `result`, after its last non-stream output."""
    block: list[dict] = []
    for o in reversed(result):
        if o["output_type"] != "stream":
            break
        block.insert(0, o)
    return block


def normalise_outputs(outputs, n: Normaliser) -> list[dict]:
    result: list[dict] = []
    for o in outputs:
        kind = o.get("output_type")
        if kind == "stream":
            text = n.text(joined(o.get("text", "")))
            # nbclient appends one output per iopub stream message, and how ipykernel batches
            # writes into messages depends on timing: consecutive chunks of one stream are one
            # output here, on both sides.
            block = stream_block(result)
            same = next((b for b in block if b["name"] == o.get("name")), None)
            if same is not None:
                same["text"] += text
            else:
                result.append({"output_type": "stream", "name": o.get("name"), "text": text})
                block.append(result[-1])
                result[len(result) - len(block) :] = sorted(block, key=lambda b: str(b["name"]))
        elif kind in ("display_data", "execute_result"):
            norm = {
                "output_type": kind,
                "data": {k: n.value(joined(v)) for k, v in (o.get("data") or {}).items()},
                "metadata": n.value(o.get("metadata", {})),
            }
            if kind == "execute_result":
                norm["execution_count"] = o.get("execution_count")
            extra = set(o) - {"output_type", "data", "metadata", "execution_count"}
            if extra:
                norm["unexpected keys"] = sorted(extra)
            result.append(norm)
        elif kind == "error":
            result.append(
                {
                    "output_type": "error",
                    "ename": n.text(o.get("ename", "")),
                    "evalue": n.text(o.get("evalue", "")),
                    "traceback": n.traceback(o.get("traceback", [])),
                }
            )
        else:
            result.append(n.value(dict(o)))
    return result


def normalise_cell(cell, n: Normaliser) -> dict:
    """The compared view of a cell (check 2). Ids are not compared (random for created cells)."""
    md = cell.get("metadata", {})
    norm = {
        "cell_type": cell.get("cell_type"),
        "source": joined(cell.get("source", "")),
        "tags": list(md.get("tags", [])),  # papermill adds "tags": [] everywhere: absent == []
    }
    if cell.get("cell_type") == "code":
        norm["execution_count"] = cell.get("execution_count")
        norm["outputs"] = normalise_outputs(cell.get("outputs", []), n)
    if "attachments" in cell:
        norm["attachments"] = cell["attachments"]
    return norm


def normalise_cell_metadata(cell, n: Normaliser) -> dict:
    """Check 5: the cell's metadata without tags (check 2), timings and nbclient's timestamps."""
    md = {k: v for k, v in cell.get("metadata", {}).items() if k not in ("tags", "execution")}
    if isinstance(md.get("papermill"), dict):
        md["papermill"] = {k: v for k, v in md["papermill"].items() if k not in PAPERMILL_TIMING_KEYS}
    return n.metadata(md)


def normalise_nb_metadata(nb, n: Normaliser) -> dict:
    md = {k: v for k, v in nb.get("metadata", {}).items() if k not in NB_METADATA_IGNORED_KEYS}
    if isinstance(md.get("papermill"), dict):
        pm = {k: v for k, v in md["papermill"].items() if k not in PAPERMILL_IGNORED_KEYS}
        pm.pop("parameters", None)  # check 4
        md["papermill"] = pm
    return n.metadata(md)


def typed(v):
    """A JSON value with its types made explicit, so that 1 != 1.0 != True != "1"."""
    if isinstance(v, bool):
        return ["bool", v]
    if isinstance(v, int):
        return ["int", v]
    if isinstance(v, float):
        return ["float", v]
    if isinstance(v, list):
        return ["list", [typed(x) for x in v]]
    if isinstance(v, dict):
        # nbformat writes sorted keys, so key order means nothing here (the injected cell's source
        # shows the injection order).
        return ["dict", sorted([k, typed(x)] for k, x in v.items())]
    return [type(v).__name__, v]


# ------------------------------------------------------------------------------------------------
# Differences
# ------------------------------------------------------------------------------------------------
def short(v, limit=100) -> str:
    s = json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else repr(v)
    return s if len(s) <= limit else s[: limit - 3] + "..."


def diffs(a, b, path="") -> list[tuple[str, object, object]]:
    """All differences between two JSON values, as (path, nbw value, papermill value)."""
    if type(a) is not type(b):  # 1 vs 1.0 in an output is a difference too
        return [(path or "(value)", a, b)]
    if isinstance(a, dict):
        out = []
        for k in list(a) + [k for k in b if k not in a]:
            p = f"{path}.{k}" if path else str(k)
            if k not in a:
                out.append((p, "<missing>", b[k]))
            elif k not in b:
                out.append((p, a[k], "<missing>"))
            else:
                out.extend(diffs(a[k], b[k], p))
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            return [(f"{path} (length)", f"{len(a)} items", f"{len(b)} items")] + [
                d for i, (x, y) in enumerate(zip(a, b)) for d in diffs(x, y, f"{path}[{i}]")
            ][:1]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in diffs(x, y, f"{path}[{i}]")]
    return [] if a == b else [(path or "(value)", a, b)]


def visible(line: str) -> str:
    """Control characters (\\r, \\b, ESC...) made visible, so a diff shows them."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in line)


def render(v, indent="") -> list[str]:
    """A readable, line-oriented rendering of a normalised value, for unified diffs."""
    lines = []
    if isinstance(v, dict):
        for k, x in v.items():
            if isinstance(x, str) and "\n" in x:
                lines.append(f"{indent}{k}:")
                lines.extend(f"{indent}  | {visible(line)}" for line in x.split("\n"))
            elif isinstance(x, (dict, list)) and x:
                lines.append(f"{indent}{k}:")
                lines.extend(render(x, indent + "  "))
            else:
                lines.append(f"{indent}{k}: {json.dumps(x, ensure_ascii=False)}")
    elif isinstance(v, list):
        for i, x in enumerate(v):
            if isinstance(x, (dict, list)):
                lines.append(f"{indent}[{i}]")
                lines.extend(render(x, indent + "  "))
            else:
                lines.append(f"{indent}[{i}] {json.dumps(x, ensure_ascii=False)}")
    else:
        lines.append(indent + json.dumps(v, ensure_ascii=False))
    return lines


def unified(nbw_value, pm_value, max_lines=24) -> list[str]:
    d = list(
        difflib.unified_diff(render(pm_value), render(nbw_value), "papermill", "nbw", n=2, lineterm="")
    )
    if len(d) > max_lines:
        d = d[:max_lines] + [f"... ({len(d) - max_lines} more diff lines)"]
    return d


@dataclasses.dataclass
class Difference:
    check: str
    message: str
    diff: list[str] = dataclasses.field(default_factory=list)


def describe(path_diffs, prefix) -> str:
    path, a, b = path_diffs[0]
    more = f" (+{len(path_diffs) - 1} more)" if len(path_diffs) > 1 else ""
    return f"{prefix}{path}: nbw {short(a)} vs papermill {short(b)}{more}"


def tail(text: str, lines=12) -> list[str]:
    kept = text.strip().splitlines()[-lines:]
    return ["(its stderr, last lines:)"] + [f"  {line}" for line in kept] if kept else ["(its stderr is empty)"]


def compare(input_path: Path, nbw: RunResult, pm: RunResult, mask: list[str] = ()) -> list[Difference]:
    found: list[Difference] = []
    n = Normaliser([nbw.run_dir, pm.run_dir], mask)

    if pm.rc is None or not pm.out.exists():
        return [Difference("harness", f"papermill produced no output (exit {pm.rc})", tail(pm.stderr))]
    pm_nb = nbformat.read(str(pm.out), as_version=nbformat.NO_CONVERT)

    # 3. Exit codes (first: a crash explains everything else).
    if nbw.rc is None:
        found.append(Difference("exit code", "nbw timed out or could not start", tail(nbw.stderr)))
        return found
    if (nbw.rc == 0) != (pm.rc == 0):
        found.append(
            Difference(
                "exit code",
                f"nbw exited {nbw.rc}, papermill {pm.rc} ({'succeeded' if pm.rc == 0 else 'raised'})",
                tail(nbw.stderr),
            )
        )

    # 1. nbw's output is a valid notebook of the input's version.
    if not nbw.out.exists():
        found.append(Difference("output", "nbw wrote no output notebook", tail(nbw.stderr)))
        return found
    try:
        nbw_nb = nbformat.read(str(nbw.out), as_version=nbformat.NO_CONVERT)
    except Exception as e:  # noqa: BLE001 - any parse error is the finding
        found.append(Difference("output", f"nbw's output does not parse: {e}"))
        return found
    try:
        nbformat.validate(nbw_nb)
    except nbformat.ValidationError as e:
        msg = str(e).strip().splitlines()
        found.append(Difference("validate", f"nbformat.validate: {msg[0] if msg else e}", msg[1:12]))
    input_nb = nbformat.read(str(input_path), as_version=nbformat.NO_CONVERT)
    for field in ("nbformat", "nbformat_minor"):
        if nbw_nb.get(field) != input_nb.get(field):
            found.append(
                Difference("version", f"{field}: nbw wrote {nbw_nb.get(field)!r}, the input has {input_nb.get(field)!r}")
            )
    found.extend(check_ids(input_nb, nbw_nb))

    # 2. Cells, aligned first so that a missing or extra cell shows as such and the cells after it
    # are still compared with their counterparts.
    nbw_cells = [normalise_cell(c, n) for c in nbw_nb.get("cells", [])]
    pm_cells = [normalise_cell(c, n) for c in pm_nb.get("cells", [])]
    pairs, only_nbw, only_pm = align(nbw_cells, pm_cells)
    if only_nbw or only_pm:
        parts = [f"nbw wrote {len(nbw_cells)} cells, papermill {len(pm_cells)}"]
        parts += [f"papermill's cell {j} ({summary(pm_cells[j])}) missing from nbw" for j in only_pm[:3]]
        parts += [f"nbw's cell {i} ({summary(nbw_cells[i])}) not in papermill's" for i in only_nbw[:3]]
        found.append(
            Difference(
                "cells",
                "; ".join(parts),
                unified([summary(c) for c in nbw_cells], [summary(c) for c in pm_cells]),
            )
        )
    for i, j in pairs:
        # One difference per field of the cell (execution_count, outputs, ...), so that each can be
        # listed with its own reason.
        by_field: dict[str, list] = {}
        for d in diffs(nbw_cells[i], pm_cells[j]):
            by_field.setdefault(re.match(r"\w*", d[0]).group(), []).append(d)
        for field, d in by_field.items():
            found.append(
                Difference(
                    "cells",
                    describe(d, f"{cell_label(i, j, pm_cells[j])} "),
                    unified(nbw_cells[i].get(field), pm_cells[j].get(field)),
                )
            )

    # 4. Parameters.
    nbw_params = nbw_nb.get("metadata", {}).get("papermill", {}).get("parameters", "<missing>")
    pm_params = pm_nb.get("metadata", {}).get("papermill", {}).get("parameters", "<missing>")
    if typed(nbw_params) != typed(pm_params):
        d = diffs(nbw_params, pm_params)  # type-strict: 7 vs 7.0 is a difference
        found.append(
            Difference(
                "parameters",
                describe(d, "metadata.papermill.parameters.") if d else "metadata.papermill.parameters differ",
                unified(nbw_params, pm_params),
            )
        )

    # 5. Other metadata.
    if COMPARE_METADATA:
        a, b = normalise_nb_metadata(nbw_nb, n), normalise_nb_metadata(pm_nb, n)
        d = diffs(a, b)
        if d:
            found.append(Difference("metadata", describe(d, "notebook metadata."), unified(a, b)))
        for i, j in pairs:
            a = normalise_cell_metadata(nbw_nb["cells"][i], n)
            b = normalise_cell_metadata(pm_nb["cells"][j], n)
            d = diffs(a, b)
            if d:
                found.append(
                    Difference("metadata", describe(d, f"{cell_label(i, j, pm_cells[j])} metadata."), unified(a, b))
                )
    return found


def summary(cell: dict) -> str:
    tags = f" {cell['tags']}" if cell["tags"] else ""
    return f"{cell['cell_type']}{tags} {cell['source'][:50]!r}"


def cell_label(i: int, j: int, pm_cell: dict) -> str:
    """Cells are numbered as in papermill's output; nbw's index too when it differs."""
    return f"cell {j} ({pm_cell['cell_type']}{'' if i == j else f', nbw cell {i}'})"


def align(nbw_cells: list[dict], pm_cells: list[dict]):
    """Pairs (nbw index, papermill index) of corresponding cells, matched on type, tags and source,
    plus the indices only one side has."""
    key = lambda c: json.dumps([c["cell_type"], c["tags"], c["source"]])  # noqa: E731
    sm = difflib.SequenceMatcher(None, [key(c) for c in nbw_cells], [key(c) for c in pm_cells], autojunk=False)
    pairs, only_nbw, only_pm = [], [], []
    for _, i1, i2, j1, j2 in sm.get_opcodes():
        k = min(i2 - i1, j2 - j1)  # "equal", or a "replace" whose cells differ: compare them pairwise
        pairs += zip(range(i1, i1 + k), range(j1, j1 + k))
        only_nbw += range(i1 + k, i2)
        only_pm += range(j1 + k, j2)
    return pairs, only_nbw, only_pm


def check_ids(input_nb, nbw_nb) -> list[Difference]:
    out = []
    minor = input_nb.get("nbformat_minor", 0)
    ids = [c.get("id") for c in nbw_nb.get("cells", [])]
    if minor < 5:
        if any(i is not None for i in ids):
            out.append(Difference("ids", f"nbw added cell ids to a 4.{minor} notebook"))
        return out
    if len(set(ids)) != len(ids):
        out.append(Difference("ids", f"duplicate cell ids in nbw's output: {ids}"))
    # Input cells that papermill carries over keep their ids (it drops old error banners and
    # replaces an old injected-parameters cell).
    dropped = {"papermill-error-cell-tag", "injected-parameters"}
    kept = [c.get("id") for c in input_nb.get("cells", []) if not dropped & set(c.get("metadata", {}).get("tags", []))]
    if [i for i in ids if i in set(kept)] != kept:
        missing = [i for i in kept if i not in ids]
        out.append(Difference("ids", f"input cell ids not kept in order (missing: {missing})"))
    return out


# ------------------------------------------------------------------------------------------------
# Main
# ------------------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nbw", required=True, help="path to the nbw binary")
    ap.add_argument("--corpus", choices=("corpus", "peers", "all"), default="all", help="which notebooks (default all)")
    ap.add_argument(
        "--only", action="append", default=[], metavar="NAME",
        help="run only this notebook (repeatable): a corpus stem, or a peer's path as in the manifest",
    )
    ap.add_argument("--keep", metavar="DIR", help="keep inputs, outputs and logs of every run in DIR")
    ap.add_argument("--all-diffs", action="store_true", help="print every difference, not only the first")
    ap.add_argument("--jobs", type=int, default=MAX_JOBS, help=f"parallel runs (at most {MAX_JOBS})")
    args = ap.parse_args()

    nbw_bin = Path(args.nbw).resolve()
    if not nbw_bin.is_file():
        print(f"nbw binary not found: {nbw_bin}", file=sys.stderr)
        return 2
    venv = find_venv()
    papermill = venv / "bin" / "papermill"
    if not papermill.exists():
        print(f"papermill not found in {venv}: run scripts/setup-python.sh", file=sys.stderr)
        return 2

    if args.keep:
        base = Path(args.keep).resolve()
        if base.exists():
            shutil.rmtree(base)
        base.mkdir(parents=True)
        cleanup = None
    else:
        cleanup = tempfile.TemporaryDirectory(prefix="nbw-conformance-")
        base = Path(cleanup.name).resolve()

    jobs: list[Job] = []
    not_run: dict[str, str] = {}
    if args.corpus in ("corpus", "all"):
        jobs += corpus_jobs(base)
    if args.corpus in ("peers", "all"):
        peers, not_run = peer_jobs()
        jobs += peers
    if args.only:
        wanted = {o.removesuffix(".ipynb").removeprefix("peers/") for o in args.only}
        missing = wanted - {j.name for j in jobs} - set(not_run)
        if missing:
            print(f"no such notebook: {', '.join(sorted(missing))}", file=sys.stderr)
            return 2
        jobs = [j for j in jobs if j.name in wanted]
        not_run = {k: v for k, v in not_run.items() if k in wanted}

    env = tool_env(venv, base)
    workers = max(1, min(args.jobs, MAX_JOBS))
    # Per corpus: notebooks run, matching papermill, passed, listed differences seen (by kind).
    stats = {c: {"run": 0, "match": 0, "passed": 0, "kept": 0, "nbw bug": 0} for c in ("corpus", "peers")}
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            pending = []
            for job in jobs:
                runs = {}
                for tool in ("nbw", "papermill"):
                    run_dir = base / tool / job.corpus / job.name
                    work = run_dir / "work"
                    work.mkdir(parents=True, exist_ok=True)
                    for src in job.copy:
                        shutil.copy(src, work / src.name)
                    for fname, content in job.write.items():
                        (work / fname).write_text(content, encoding="utf-8")
                    out = run_dir / "out.ipynb"
                    if tool == "nbw":
                        argv = [str(nbw_bin), "run", str(job.path), str(out), *job.args, *job.nbw_args, "--no-progress"]
                    else:
                        argv = [str(papermill), str(job.path), str(out), *job.args, *job.pm_args, "--no-progress-bar"]
                    runs[tool] = (argv, pool.submit(run_tool, tool, argv, out, run_dir, {**env, **job.env}))
                pending.append((job, runs))

            for job, runs in pending:
                nbw_res, pm_res = runs["nbw"][1].result(), runs["papermill"][1].result()
                if pm_res.rc not in (0, None) and PAPERMILL_START_RACE in pm_res.stderr:
                    # papermill's kernel died at start: seen once on a loaded machine. Its kernels
                    # listen on TCP ports picked before they are bound, a known race
                    # (jupyter_client#487, papermill#511). The reference's flake, not a finding:
                    # run it once more.
                    print(f"note {job.label}: papermill's kernel died before replying to kernel_info; run again", flush=True)
                    pm_res = run_tool("papermill", runs["papermill"][0], pm_res.out, pm_res.run_dir, {**env, **job.env})
                if args.keep:
                    for r in (nbw_res, pm_res):
                        (r.run_dir / "stdout.txt").write_text(r.stdout, encoding="utf-8")
                        (r.run_dir / "stderr.txt").write_text(r.stderr, encoding="utf-8")
                try:
                    found = compare(job.path, nbw_res, pm_res, job.mask)
                except Exception as e:  # noqa: BLE001 - report and go on with the next notebook
                    found = [Difference("harness", f"comparison crashed: {type(e).__name__}: {e}")]
                st = stats[job.corpus]
                st["run"] += 1
                if not found:
                    st["match"] += 1
                # Each difference found is explained by the first listed entry that matches it.
                seen: dict[int, int] = {}
                unlisted = []
                for d in found:
                    k = next((k for k, l in enumerate(job.listed) if re.search(l.pattern, f"{d.check}: {d.message}")), None)
                    if k is None:
                        unlisted.append(d)
                    else:
                        seen[k] = seen.get(k, 0) + 1
                problems = list(unlisted)
                if job.expect is not None and pm_res.rc is not None and (pm_res.rc == 0) != (job.expect == "succeeds"):
                    problems.insert(
                        0,
                        Difference(
                            "harness",
                            f"papermill exited {pm_res.rc}; the manifest expects it to {job.expect[:-1]} "
                            "(the test environment is not what the manifest assumes)",
                            tail(pm_res.stderr),
                        ),
                    )
                for k, entry in enumerate(job.listed):
                    if k not in seen and not entry.sometimes:
                        what = (
                            "listed as an nbw bug, and it no longer shows: fixed? remove the entry"
                            if entry.kind == "nbw bug"
                            else "listed, and it no longer shows: remove the entry"
                        )
                        problems.append(Difference("listed", f"{what} ({entry.pattern!r}: {entry.reason})"))
                for k in seen:
                    st[job.listed[k].kind] += 1
                if not problems:
                    st["passed"] += 1
                    kinds = [job.listed[k].kind for k in sorted(seen)]
                    note = ""
                    if kinds:
                        note = f" ({len(kinds)} listed difference(s): {', '.join(kinds)}; {len(found)} found)"
                    print(f"ok {job.label}{note}", flush=True)
                    continue
                shown = problems if args.all_diffs else problems[:1]
                more = f" [+{len(problems) - 1} more]" if len(problems) > 1 and not args.all_diffs else ""
                print(f"FAIL {job.label}: {shown[0].check}: {shown[0].message}{more}", flush=True)
                for i, d in enumerate(shown):
                    if i:
                        print(f"  - {d.check}: {d.message}")
                    for line in d.diff:
                        print(f"    {line}")
                sys.stdout.flush()
    finally:
        if cleanup is not None:
            cleanup.cleanup()

    for name in sorted(not_run):
        print(f"not run peers/{name}: {not_run[name]}")
    for corpus, st in stats.items():
        if not st["run"] and not (corpus == "peers" and not_run):
            continue
        listed = st["kept"] + st["nbw bug"]
        bugs = f", {st['nbw bug']} of them nbw bug(s) to fix" if st["nbw bug"] else ""
        skipped = f" ({len(not_run)} not run, see {PEERS_MANIFEST.relative_to(REPO)})" if corpus == "peers" else ""
        print(f"{corpus}: {st['match']} of {st['run']} match papermill; {listed} differences listed{bugs}{skipped}")
    passed = sum(st["passed"] for st in stats.values())
    failed = sum(st["run"] for st in stats.values()) - passed
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
