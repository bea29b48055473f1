"""Writing results the way every evaluation command line promises: all or nothing.

A JSON result is written to a temporary file in the destination folder and
renamed into place, so an interrupted or failed run never leaves a partial
file behind; and the destination folder is checked before any work starts,
so a typo in `--json` fails in a second instead of after the evaluation.
`run_command` is the one `main()` of every evaluation command line, so that
they all keep these promises, and exit with the same status, in the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

#: exit status of every evaluation command line for bad arguments, sources or data.
EXIT_USAGE = 2

Result = TypeVar("Result")


def _target(path: str) -> str:
    """The file actually written: a symbolic link is written through, not replaced."""
    return os.path.realpath(path)


def output_folder_problem(path: str | None) -> str | None:
    """Why `path` cannot be written, or None if it can: checked before any work, by creating
    (and removing) a temporary file where the result will go."""
    if path is None:
        return None
    target = _target(path)
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        if os.path.islink(path):  # the link's own folder exists: its target's does not
            return (f"{path} is a symbolic link to {os.readlink(path)}, whose folder does not exist; "
                    "point the link at an existing folder, remove it, or give another --json path.")
        return f"the folder of {path} does not exist; create it first."
    if os.path.isdir(target):
        return f"{path} is a folder; give a file name such as {os.path.join(path, 'result.json')}."
    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".tmp_", suffix=".json")
        os.close(handle)
        os.remove(probe)
    except OSError as e:
        return f"cannot write files in {folder} ({e.strerror or e}); choose another place."
    return None


def cache_folder_problem(path: str) -> str | None:
    """Why the folder `path` cannot be used (created if missing) for cached files, or None if it can:
    it names a file, sits under a file, or its nearest existing folder is not writable."""
    path = os.path.abspath(os.path.expanduser(os.fspath(path)))
    if os.path.exists(path):
        if not os.path.isdir(path):
            return f"{path} is a file, not a folder; give a folder (it is created if missing)."
        existing = path
    else:
        existing = os.path.dirname(path)
        while not os.path.exists(existing):
            existing = os.path.dirname(existing)
        if not os.path.isdir(existing):
            return f"{existing} is a file, so the folder {path} cannot be created under it; give another folder."
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"cannot write in {existing} (permission denied); give a folder you can write to."
    return None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json_atomically(path: str, payload: dict) -> None:
    """Write `payload` as JSON to `path` via a temporary file and a rename.

    A symbolic link at `path` is written through (its target is replaced), and
    the file gets the permissions a plain `open(path, "w")` would give (0666
    less the umask), not the 0600 of the temporary file.
    """
    target = _target(path)
    folder = os.path.dirname(target)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp_", suffix=".json")
    try:
        with os.fdopen(handle, "w") as f:
            json.dump(payload, f, indent=2)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def run_command(
    argv: Sequence[str] | None,
    parse_args: Callable[[Sequence[str] | None], argparse.Namespace],
    evaluate: Callable[[argparse.Namespace], Result],
    format_table: Callable[[Result], str],
    to_json: Callable[[Result], dict[str, Any]],
) -> int:
    """Parse `argv`, evaluate, print the table and write `--json`; returns the exit status.

    The status is argparse's (2 for bad arguments, 0 for --help) when parsing
    stops, and EXIT_USAGE when the `--json` folder is missing or `evaluate`
    raises ValueError or FileNotFoundError (bad sources, data or weights: the
    errors a user can fix, so they get one line, not a traceback). The folder is
    checked before `evaluate`, and the JSON written only once it has succeeded,
    so a failed run never leaves a file behind.
    """
    try:
        args = parse_args(argv)
    except SystemExit as e:  # argparse exits 2 on bad arguments, 0 on --help
        return int(e.code or 0)
    if getattr(args, "allow_unverified", False):  # read by keras_gan.zoo when a weights file is loaded
        from keras_gan.zoo.weights import ALLOW_UNVERIFIED_ENV

        os.environ[ALLOW_UNVERIFIED_ENV] = "1"
    json_path = getattr(args, "json", None)
    problem = output_folder_problem(json_path)
    if problem:
        print(f"error: --json: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = evaluate(args)
    except (ValueError, FileNotFoundError) as e:  # SourceError, DataFileError, InceptionWeightsError, ...
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    print(format_table(result))
    if json_path:
        write_json_atomically(json_path, to_json(result))
        print(f"wrote {json_path}")
    return 0
