"""Writing results the way every evaluation command line promises: all or nothing.

A JSON result is written to a temporary file in the destination folder and
renamed into place, so an interrupted or failed run never leaves a partial
file behind; and the destination folder is checked before any work starts,
so a typo in `--json` fails in a second instead of after the evaluation.
"""

from __future__ import annotations

import json
import os
import tempfile

#: exit status of every evaluation command line for bad arguments, sources or data.
EXIT_USAGE = 2


def output_folder_problem(path: str | None) -> str | None:
    """Why `path` cannot be written (its folder is missing), or None if it can be tried."""
    if path is None:
        return None
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        return f"the folder of {path} does not exist; create it first."
    if os.path.isdir(path):
        return f"{path} is a folder; give a file name such as {os.path.join(path, 'result.json')}."
    return None


def write_json_atomically(path: str, payload: dict) -> None:
    """Write `payload` as JSON to `path` via a temporary file and a rename."""
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp_", suffix=".json")
    try:
        with os.fdopen(handle, "w") as f:
            json.dump(payload, f, indent=2)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
