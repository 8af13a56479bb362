"""Project bundles for the benchmark clients (agent_latency.py, ui.py)."""
import io
import json
import tarfile


def one_notebook(notebook):
    """A bundle (tar.gz) holding `notebook` as nb.ipynb, as `nbw push` would upload it."""
    data = json.dumps(notebook).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("nb.ipynb")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()
