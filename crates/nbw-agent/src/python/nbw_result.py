"""nbw's pipeline helper: pass values from this notebook to the steps after it.

    from nbw_result import nbw_result
    nbw_result(rows=120, day="2026-01-05")

merges the values into the JSON object in the file named by $NBW_RESULT; later steps read them
as {{ steps.<this step>.result.rows }}. Without the helper:

    import json, os
    with open(os.environ["NBW_RESULT"], "w") as f:
        json.dump({"rows": 120}, f)
"""

import json
import os


def nbw_result(**values):
    """Merges `values` (JSON-serializable) into this run's result object; returns the object."""
    path = os.environ["NBW_RESULT"]
    try:
        with open(path) as f:
            current = json.load(f)
    except FileNotFoundError:
        current = {}
    if not isinstance(current, dict):
        current = {}
    current.update(values)
    with open(path, "w") as f:
        json.dump(current, f)
    return current
