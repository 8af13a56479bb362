#!/usr/bin/env bash
# Creates the project's Python environment in .venv (or $NBW_VENV): the kernels nbw runs in tests
# and examples, plus papermill and nbformat for the conformance tests and the benchmark, and moto
# (a local S3-compatible server) for the object store tests of `nbw run`.
# Idempotent: a venv whose pins already match is left as it is.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${NBW_VENV:-$root/.venv}
python=${PYTHON:-python3}
pins=(ipykernel==7.4.0 bash_kernel==0.10.0 papermill==2.7.0 nbformat==5.11.1 pyyaml "moto[server]==5.2.5")
stamp="$venv/.nbw-pins"
want="${pins[*]}"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "${pins[@]}"
# pip puts ipykernel's spec in $venv/share/jupyter/kernels/python3; bash_kernel needs its own install step.
"$venv/bin/python" -m bash_kernel.install --sys-prefix >/dev/null
echo "$want" > "$stamp"
echo "python environment ready: $venv"
