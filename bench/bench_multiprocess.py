"""Data-parallel speed-up on this machine: 2 processes against 1, the paper's MNIST GAN.

    python bench/bench_multiprocess.py                  # all three backends
    python bench/bench_multiprocess.py --backend torch --steps 60 --repeats 3

Baseline: one process training the paper's MNIST GAN (`networks.mnist_*`,
global batch 100, dropout on) with `fit`, free to use every core. Against it:
the same global batch split over 2 processes on this machine, joined through
`keras_gan.distributed.initialize()` (torch.distributed gloo, JAX
multi-process `keras.distribution`, TensorFlow MultiWorkerMirroredStrategy),
each process limited to one thread. Reported: global steps/s of each (best of
`--repeats` timed `fit`s of `--steps` steps, after a warm-up fit) and the
speed-up, and what agreeing on a stop costs each step in the 2-process job
(`keras_gan.signals.stop_and_flag_agreed`: one small all-reduce, which
`ResumableBackup` runs after every step under `stop_on_signals`, as
`zoo.train` does). Run it on an idle machine; it prints the load before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BACKENDS = ("tensorflow", "jax", "torch")
GLOBAL_BATCH = 100


def _one_thread() -> dict:
    return {"OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
            "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}


def _launch_env(backend: str, rank: int, ports: list[str]) -> dict:
    from keras_gan.distributed import local_job_variables

    return local_job_variables(backend, rank, 2, ports)


def run_process(steps: int, repeats: int) -> dict:
    """One process's timed training (a child of `measure_backend`); returns global steps/s."""
    sys.path.insert(0, os.path.dirname(HERE))
    import keras
    import numpy as np

    import keras_gan
    from keras_gan import distributed, networks

    job = distributed.initialize()
    if keras.backend.backend() == "torch" and job.processes > 1:
        import torch

        torch.set_num_threads(1)
    keras.utils.set_random_seed(0)

    def build():
        gan = keras_gan.GAN(networks.mnist_generator(), networks.mnist_discriminator(), seed=1)
        gan.compile()
        return gan

    if job.strategy is not None:
        with job.strategy.scope():
            gan = build()
    else:
        gan = build()
    data = np.random.default_rng(0).uniform(0, 1, (GLOBAL_BATCH * steps, 28, 28, 1)).astype("float32")
    per_process = GLOBAL_BATCH // job.processes
    if job.strategy is None and job.processes > 1:  # JAX / torch: each process feeds its shard
        data = np.concatenate([data[s + job.index * per_process: s + (job.index + 1) * per_process]
                               for s in range(0, len(data), GLOBAL_BATCH)])
        batch = per_process
    else:  # one process, or TensorFlow's strategy sharding the global batches itself
        batch = GLOBAL_BATCH
    gan.fit(data[: batch * 3], batch_size=batch, epochs=1, shuffle=False, verbose=0)  # compile, warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        gan.fit(data, batch_size=batch, epochs=1, shuffle=False, verbose=0)
        best = min(best, time.perf_counter() - start)
    return {"steps_per_s": steps / best, "processes": job.processes, "index": job.index,
            "stop_check_ms": _stop_check_ms(job.strategy) if job.processes > 1 else None}


def _stop_check_ms(strategy, calls: int = 100) -> float:
    """Milliseconds per `signals.stop_and_flag_agreed` in this job (best of 3 loops of `calls`):
    what `ResumableBackup` adds to every step under `stop_on_signals` or `every_minutes`."""
    from keras_gan import signals

    with signals.stop_on_signals():
        signals.stop_and_flag_agreed(False, strategy)  # first call: the collective's set-up
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(calls):
                signals.stop_and_flag_agreed(False, strategy)
            best = min(best, time.perf_counter() - start)
    return 1000.0 * best / calls


def measure_backend(backend: str, steps: int, repeats: int) -> dict:
    """1 process (all cores) vs 2 processes (one thread each): `{backend, one, two, speedup}`."""
    command = [sys.executable, os.path.abspath(__file__), "--child", "--steps", str(steps), "--repeats", str(repeats)]
    base = dict(os.environ, KERAS_BACKEND=backend)
    for name in ("WORLD_SIZE", "TF_CONFIG", "KERAS_DISTRIBUTION_NUM_PROCESSES"):
        base.pop(name, None)

    def last_row(proc_stdout: str) -> dict:
        return json.loads(proc_stdout.strip().splitlines()[-1])

    single = subprocess.run(command, env=base, capture_output=True, text=True)
    if single.returncode:
        raise RuntimeError(f"{backend} single process failed:\n{single.stderr[-3000:]}")
    sys.path.insert(0, os.path.dirname(HERE))
    from keras_gan.distributed import free_local_ports

    ports = free_local_ports(2)
    ranks = [subprocess.Popen(command, env={**base, **_one_thread(), **_launch_env(backend, r, ports)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in range(2)]
    outputs = [proc.communicate() for proc in ranks]
    for proc, (_, err) in zip(ranks, outputs):
        if proc.returncode:
            raise RuntimeError(f"{backend} 2 processes failed:\n{err[-3000:]}")
    one = last_row(single.stdout)["steps_per_s"]
    two = last_row(outputs[0][0])
    return {"backend": backend, "one_process": round(one, 2), "two_processes": round(two["steps_per_s"], 2),
            "speedup": round(two["steps_per_s"] / one, 2), "stop_check_ms": round(two["stop_check_ms"], 3),
            "stop_check_share": round(two["stop_check_ms"] * two["steps_per_s"] / 1000.0, 4)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backend", choices=BACKENDS, default=None)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(run_process(args.steps, args.repeats)))
        return 0
    print("load before:", os.getloadavg())
    rows = [measure_backend(b, args.steps, args.repeats) for b in ([args.backend] if args.backend else BACKENDS)]
    print("load after:", os.getloadavg())
    print(f"\npaper MNIST GAN, global batch {GLOBAL_BATCH}, {args.steps} steps, best of {args.repeats}")
    print("| backend | 1 process steps/s | 2 processes steps/s | speed-up | stop agreement per step (ms) "
          "| share of a 2-process step |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['backend']} | {r['one_process']} | {r['two_processes']} | {r['speedup']:.2f}x "
              f"| {r['stop_check_ms']:.3f} | {100 * r['stop_check_share']:.1f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
