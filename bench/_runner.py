"""The driver shared by the keras_gan-vs-native speed benchmarks (`bench_*.py`).

Each backend is measured in a fresh subprocess (`script --backend B ...`),
because Keras fixes its backend at import time and the three frameworks
should not compete for threads and memory in one process; the child prints
one JSON row as its last line, and the parent gathers the rows into a table.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

BACKENDS = ("tensorflow", "jax", "torch")


def measure_alternately(fns: Sequence[Callable[[int], Any]], steps: int, repeats: int) -> list[float]:
    """Steps per second of each `fn(steps)`, the best of `repeats` timed calls (the least disturbed
    by the machine), the functions' calls taken in turn (a, b, a, b, ...).

    Why in turn: on a shared machine the speed drifts over a run by more than
    the differences we measure (10-25% between minutes here). Timing one side's
    repeats and then the other's lets that drift land on one side only; taking
    turns spreads it over both.
    """
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn(steps)
            best[i] = min(best[i], time.perf_counter() - start)
    return [steps / b for b in best]


def run_all_backends(
    script: str,
    options: Sequence[str],
    *,
    decimals: int,
    header: str | None = None,
    announce: bool = False,
    json_path: str | None = None,
) -> int:
    """Run `script --backend B *options` for every backend, print the table; returns the exit status.

    A failing child stops the run with status 1 after printing the end of its
    stderr. `decimals` is that of the steps/s columns, `header` an optional
    line above the table, `announce` prints "running B ..." to stderr before
    each child (for benchmarks slow enough to need a sign of life), and the
    rows are also written to `json_path` if given.
    """
    rows = []
    for backend in BACKENDS:
        if announce:
            print(f"running {backend} ...", file=sys.stderr, flush=True)
        proc = subprocess.run(
            [sys.executable, script, "--backend", backend, *options],
            capture_output=True, text=True,
        )
        if proc.returncode:
            print(proc.stderr[-3000:], file=sys.stderr)
            return 1
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    if header is not None:
        print(header)
    print(f"{'backend':<11} {'keras_gan steps/s':>18} {'native steps/s':>15} {'ratio (time)':>13}")
    for r in rows:
        print(f"{r['backend']:<11} {r['keras_gan_steps_per_s']:>18.{decimals}f} "
              f"{r['native_steps_per_s']:>15.{decimals}f} {r['ratio_keras_gan_over_native_time']:>13.3f}")
    if json_path:
        with open(json_path, "w") as f:
            json.dump(rows, f, indent=2)
    return 0
