"""The driver shared by the keras_gan-vs-native benchmarks (`bench_*.py`).

Each backend is measured in fresh subprocesses (`script --child --backend B
...`), because Keras fixes its backend at import time and the three
frameworks should not compete for threads and memory in one process; a child
prints its JSON row (or a list of rows, one per case) as its last line, and
the parent gathers them into a table.

Why several processes per backend (`--processes`, default 5): a ratio can
differ between processes far more than between the repeats inside one
(issue 34: the TensorFlow MNIST step was about 19 or about 31 steps/s,
decided per process), so one process per backend can look fine by luck. The
table gives, per backend (and case), the median ratio over the processes and
its range, each side's median rate, and the 1-minute load before and after
the backend's runs (a high load says the numbers are not an idle machine's).

Why peak memory in separate processes (`--memory`): `ru_maxrss` is a
process's high-water mark, so with both sides in one process the larger one
hides the other. A memory child runs one side only (`--side`), warm-up and
timed steps, and reports its peak resident memory; keras_gan's child runs
first and hands the native child the compile setting it used
(`native_args`), so the native side is compiled as Keras compiled its own.
With `--one-backend-install` both children see only what `pip install
keras-gan[BACKEND]` installs (`bench/one_backend_site` hides the rest): in a
development environment with all three frameworks, `import keras` also
imports JAX (its Orbax callback), pandas and matplotlib, whose memory a user
of one backend does not pay.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

BACKENDS = ("tensorflow", "jax", "torch")
SIDES = ("keras_gan", "native")
RATIO = "ratio_keras_gan_over_native_time"
MEMORY_RATIO = "ratio_keras_gan_over_native_memory"


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


# --------------------------------------------------------------- arguments
def add_arguments(p: argparse.ArgumentParser, memory: bool = True) -> None:
    """The options every benchmark shares: which backends, how many processes, JSON output, and (with
    `memory`) the memory mode; plus the child's internal ones (hidden from --help)."""
    p.add_argument("--backend", action="append", choices=BACKENDS,
                   help="a backend to measure (repeatable; default: all three)")
    p.add_argument("--processes", type=positive_int, default=5,
                   help="fresh processes per backend, one after another (default: 5); the table gives the "
                        "median and range over them")
    p.add_argument("--json", default=None, help="write every process's row and the summary here")
    if memory:
        p.add_argument("--memory", action="store_true",
                       help="measure peak resident memory instead of speed: each side in its own processes")
        p.add_argument("--one-backend-install", action="store_true",
                       help="with --memory: hide the packages `pip install keras-gan[BACKEND]` would not install "
                            "(the other frameworks, pandas, matplotlib, ...; bench/one_backend_site)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)
    p.add_argument("--native-jit", choices=("true", "false"), help=argparse.SUPPRESS)


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1; got {value}")
    return value


def native_jit(args, keras_jit) -> bool:
    """The native side's `jit_compile`: as Keras compiled the keras_gan side (in the same process, or
    handed over by the parent with --native-jit); False if neither is known."""
    if keras_jit is not None:
        return bool(keras_jit)
    return args.native_jit == "true"


# --------------------------------------------------------------- child rows
def peak_rss_mib() -> float:
    """This process's peak resident memory in MiB (`ru_maxrss` is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)


def device_peak_mib(backend: str) -> float | None:
    """Peak accelerator memory in use in this process (MiB), or None on the CPU.

    On a GPU the host's `ru_maxrss` misses the device buffers; these are the
    frameworks' own allocator counters (bytes in use, not reserved, so JAX's
    and TensorFlow's preallocation does not count)."""
    try:
        if backend == "torch":
            import torch

            return round(torch.cuda.max_memory_allocated() / 2**20, 1) if torch.cuda.is_available() else None
        if backend == "jax":
            import jax

            device = jax.devices()[0]
            stats = device.memory_stats() if device.platform != "cpu" else None
            return round(stats["peak_bytes_in_use"] / 2**20, 1) if stats else None
        import tensorflow as tf

        if not tf.config.list_logical_devices("GPU"):
            return None
        return round(tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20, 1)
    except Exception:  # a counter this framework version lacks: leave the column empty
        return None


def device_kind(backend: str) -> str:
    """Where the backend computes: "gpu" or "cpu" (written into each row, so a table says which)."""
    if backend == "torch":
        import torch

        return "gpu" if torch.cuda.is_available() else "cpu"
    if backend == "jax":
        import jax

        return jax.default_backend()
    import tensorflow as tf

    return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"


def measure_row(row: dict, fns: dict, steps: int, repeats: int, unit: str = "steps", per_step: float = 1.0) -> dict:
    """Time `fns` ({"keras_gan": fn, "native": fn}, or one side's) with `measure_alternately` and add
    the results to `row`: each side's `<unit>` per second (`per_step` units per step) and, with both
    sides, the ratio of their times; with one side, also its peak memory (the memory mode)."""
    rates = measure_alternately(list(fns.values()), steps, repeats)
    for side, rate in zip(fns, rates):
        row[f"{side}_{unit}_per_s"] = round(rate * per_step, 4)
    if len(fns) == 2:
        row[RATIO] = round(rates[1] / rates[0], 3)
    else:
        row["side"] = next(iter(fns))
        row["peak_rss_mib"] = peak_rss_mib()
        row["device_peak_mib"] = device_peak_mib(row["backend"])
    row.setdefault("device", device_kind(row["backend"]))
    return row


# --------------------------------------------------------------- summaries
def spread(values: Sequence[float]) -> dict:
    """Median, min and max of `values` (the per-process numbers of one backend)."""
    return {"median": round(statistics.median(values), 3), "min": min(values), "max": max(values)}


def summarize(rows: Sequence[dict], unit: str = "steps") -> list[dict]:
    """One summary per (backend, case) of the speed rows: process count, the ratio's median and range,
    each side's median rate; in the order the rows came."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["backend"], r.get("case")), []).append(r)
    out = []
    for (backend, case), rs in groups.items():
        ratio = spread([r[RATIO] for r in rs])
        out.append({
            "backend": backend, **({"case": case} if case is not None else {}), "processes": len(rs),
            "device": rs[0].get("device"),
            "ratio_median": ratio["median"], "ratio_min": ratio["min"], "ratio_max": ratio["max"],
            **{f"{side}_{unit}_per_s_median": round(statistics.median(r[f"{side}_{unit}_per_s"] for r in rs), 4)
               for side in SIDES},
        })
    return out


def memory_row(keras_row: dict, native_row: dict) -> dict:
    """One process pair's memory comparison: both peaks (MiB) and keras_gan's over native's (goal <= 1.2);
    the device peaks too when there is an accelerator."""
    row = {"backend": keras_row["backend"], "device": keras_row.get("device"),
           "keras_gan_peak_mib": keras_row["peak_rss_mib"], "native_peak_mib": native_row["peak_rss_mib"],
           MEMORY_RATIO: round(keras_row["peak_rss_mib"] / native_row["peak_rss_mib"], 3)}
    if keras_row.get("device_peak_mib") and native_row.get("device_peak_mib"):
        row["keras_gan_device_peak_mib"] = keras_row["device_peak_mib"]
        row["native_device_peak_mib"] = native_row["device_peak_mib"]
        row["device_ratio"] = round(keras_row["device_peak_mib"] / native_row["device_peak_mib"], 3)
    return row


def summarize_memory(rows: Sequence[dict]) -> list[dict]:
    """One summary per backend of the memory rows: median peaks and the ratio's median and range."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["backend"], []).append(r)
    out = []
    for backend, rs in groups.items():
        ratio = spread([r[MEMORY_RATIO] for r in rs])
        summary = {"backend": backend, "processes": len(rs), "device": rs[0].get("device"),
                   "ratio_median": ratio["median"], "ratio_min": ratio["min"], "ratio_max": ratio["max"]}
        for key in ("keras_gan_peak_mib", "native_peak_mib", "keras_gan_device_peak_mib", "native_device_peak_mib"):
            if all(key in r for r in rs):
                summary[f"{key}_median"] = round(statistics.median(r[key] for r in rs), 1)
        out.append(summary)
    return out


def format_table(summaries: Sequence[dict], unit: str = "steps", decimals: int = 2, memory: bool = False) -> str:
    """The printed table of `summarize` / `summarize_memory` output (with each backend's load)."""
    has_case = any("case" in s for s in summaries)
    head = f"{'backend':<11} {'device':<6} " + (f"{'case':<14} " if has_case else "") + f"{'runs':>4} "
    lines = []
    if memory:
        has_device = any("keras_gan_device_peak_mib_median" in s for s in summaries)
        lines.append(head + f"{'keras_gan MiB':>13} {'native MiB':>10} "
                     + (f"{'device MiB k/n':>17} " if has_device else "") + f"{'ratio, median':>13} {'range':>11}")
    else:
        lines.append(head + f"{f'keras_gan {unit}/s':>18} {f'native {unit}/s':>15} {'ratio, median':>13} "
                     f"{'range':>11} {'load 1-min':>12}")
    for s in summaries:
        line = f"{s['backend']:<11} {str(s.get('device')):<6} " + (f"{s.get('case', ''):<14} " if has_case else "")
        line += f"{s['processes']:>4} "
        ratio_range = f"{s['ratio_min']:.3f}-{s['ratio_max']:.3f}"
        if memory:
            line += f"{s['keras_gan_peak_mib_median']:>13.0f} {s['native_peak_mib_median']:>10.0f} "
            if has_device:
                device = (f"{s['keras_gan_device_peak_mib_median']:.0f}/{s['native_device_peak_mib_median']:.0f}"
                          if "keras_gan_device_peak_mib_median" in s else "-")
                line += f"{device:>17} "
            line += f"{s['ratio_median']:>13.3f} {ratio_range:>11}"
        else:
            line += (f"{s[f'keras_gan_{unit}_per_s_median']:>18.{decimals}f} "
                     f"{s[f'native_{unit}_per_s_median']:>15.{decimals}f} {s['ratio_median']:>13.3f} {ratio_range:>11}")
            if "load_before" in s:
                line += f" {s['load_before']:>5.2f}->{s['load_after']:<5.2f}"
        lines.append(line)
    return "\n".join(lines)


# --------------------------------------------------------------- the parent
#: What `pip install keras-gan[BACKEND]` does not install but this development environment has, and
#: `import keras` would import if present (its Orbax callback imports jax; pandas, matplotlib, scipy).
#: scipy stays for JAX, which depends on it.
NOT_IN_ONE_BACKEND_INSTALL = {
    "tensorflow": ("jax", "jaxlib", "orbax", "torch", "torchvision", "pandas", "matplotlib", "scipy"),
    "jax": ("tensorflow", "orbax", "torch", "torchvision", "pandas", "matplotlib"),
    "torch": ("tensorflow", "jax", "jaxlib", "orbax", "pandas", "matplotlib", "scipy"),
}
_ONE_BACKEND_SITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "one_backend_site")


def one_backend_install_env(backend: str) -> dict[str, str]:
    """The environment of a child that sees only what `pip install keras-gan[backend]` installs."""
    path = os.pathsep.join(filter(None, [_ONE_BACKEND_SITE, os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "KERAS_GAN_BENCH_HIDE": ",".join(NOT_IN_ONE_BACKEND_INSTALL[backend])}


def _run_child(script: str, backend: str, options: Sequence[str], label: str,
               env: dict[str, str] | None = None) -> list[dict]:
    """Run one child; its rows (the last stdout line: a row or a list of rows). Raises on failure."""
    print(f"{label} ...", file=sys.stderr, flush=True)
    proc = subprocess.run([sys.executable, script, "--child", "--backend", backend, *options],
                          capture_output=True, text=True, env=env)
    if proc.returncode:
        raise RuntimeError(f"{label} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    rows = json.loads(proc.stdout.strip().splitlines()[-1])
    return rows if isinstance(rows, list) else [rows]


def run_all_backends(
    script: str,
    options: Sequence[str],
    args: argparse.Namespace,
    *,
    decimals: int,
    header: str | None = None,
    unit: str = "steps",
) -> int:
    """Run `script --child --backend B *options` `args.processes` times per backend (`args.backend`, default
    all), one after another, print the spread table and write `args.json`; returns the exit status.

    With `args.memory`, each process of the speed run becomes a pair of one-side
    children (keras_gan's, then native's) and the table gives peak memory.
    A failing child stops its backend's runs (the end of its stderr is
    printed); the other backends still run, the table shows what finished,
    and the status is 1.
    """
    memory = getattr(args, "memory", False)
    one_backend = getattr(args, "one_backend_install", False)
    if one_backend and not memory:
        raise SystemExit("--one-backend-install is for --memory (the speed of a step does not depend on it).")
    rows, summaries, failed = [], [], []
    for backend in args.backend or BACKENDS:
        env = one_backend_install_env(backend) if one_backend else None
        load_before = os.getloadavg()[0]
        backend_rows = []
        try:
            for i in range(args.processes):
                label = f"{backend} {i + 1}/{args.processes}"
                if not memory:
                    backend_rows += _run_child(script, backend, options, label)
                    continue
                (k,) = _run_child(script, backend, [*options, "--side", "keras_gan"], label + " keras_gan", env)
                (n,) = _run_child(script, backend, [*options, "--side", "native", *k.get("native_args", [])],
                                  label + " native", env)
                backend_rows.append({"keras_gan": k, "native": n, **memory_row(k, n)})
        except RuntimeError as error:
            print(error, file=sys.stderr)
            failed.append(backend)
        if not backend_rows:
            continue
        load = {"load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2)}
        rows += backend_rows
        for s in summarize_memory(backend_rows) if memory else summarize(backend_rows, unit):
            summaries.append({**s, **load})
    if header is not None:
        print(header)
    print(format_table(summaries, unit, decimals, memory))
    if failed:
        print(f"failed: {', '.join(failed)} (see above)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"options": list(options), "memory": memory, "one_backend_install": one_backend,
                       "processes": args.processes, "rows": rows,
                       "summary": summaries, "failed": failed}, f, indent=2)
    return 1 if failed else 0

