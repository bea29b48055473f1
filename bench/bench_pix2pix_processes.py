"""pix2pix on 2 processes, one image each, against 1 process of one image: the data-parallel speed-up.

    python bench/bench_pix2pix_processes.py                   # all three backends
    python bench/bench_pix2pix_processes.py --backend torch --steps 10 --repeats 2

As the pix2pix reference trains data-parallel: the pix2pix-facades recipe's
networks (256x256 U-Net and 70x70 PatchGAN, ngf = ndf = 16, synchronized
BatchNorm) with a batch of 1 per process, so 2 processes train on global
batches of 2 (`keras_gan.distributed.initialize()`: torch.distributed gloo,
JAX multi-process `keras.distribution`, TensorFlow MultiWorkerMirroredStrategy).
Baselines: one process, batch 1, free to use every core, and one process of
one thread, which is what each of the 2 processes gets. Reported: images per
second of each (best of `--repeats` timed `fit`s of `--steps` steps, after a
warm-up fit) and the 2 processes' ratio to each baseline. Random
images in [-1, 1] (the speed does not depend on them). It prints the load
before and after: on a shared machine the ratio is only as good as the load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_multiprocess import BACKENDS, _launch_env, _one_thread  # noqa: E402

RECIPE = "pix2pix-facades"


def run_process(steps: int, repeats: int) -> dict:
    """One process's timed training (a child of `measure_backend`); returns images/s of the job."""
    sys.path.insert(0, os.path.dirname(HERE))
    import contextlib

    import keras
    import numpy as np

    from keras_gan import distributed, zoo

    job = distributed.initialize()
    if keras.backend.backend() == "torch" and job.processes > 1:
        import torch

        torch.set_num_threads(1)
    keras.utils.set_random_seed(0)
    with job.strategy.scope() if job.strategy is not None else contextlib.nullcontext():
        model = zoo.build(RECIPE)
        model.compile()
    size = model.input_image_shape
    rng = np.random.default_rng(job.index)
    # one image per process; TensorFlow's workers each read the global batch and the strategy splits it
    per_fit = steps * (job.processes if job.strategy is not None else 1)
    x, y = (rng.uniform(-1, 1, (per_fit,) + size).astype("float32") for _ in range(2))
    batch = job.processes if job.strategy is not None else 1
    model.fit(x[: batch * 2], y[: batch * 2], batch_size=batch, epochs=1, shuffle=False, verbose=0)  # warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)
        best = min(best, time.perf_counter() - start)
    distributed.leave_torch_job()
    return {"images_per_s": steps * job.processes / best, "processes": job.processes, "index": job.index}


def measure_backend(backend: str, steps: int, repeats: int) -> dict:
    """1 process (all cores; one thread) vs 2 processes (one thread each): images/s and the ratios."""
    command = [sys.executable, os.path.abspath(__file__), "--child", "--steps", str(steps), "--repeats", str(repeats)]
    base = dict(os.environ, KERAS_BACKEND=backend)
    for name in ("WORLD_SIZE", "TF_CONFIG", "KERAS_DISTRIBUTION_NUM_PROCESSES"):
        base.pop(name, None)

    def last_row(proc_stdout: str) -> dict:
        return json.loads(proc_stdout.strip().splitlines()[-1])

    single = subprocess.run(command, env=base, capture_output=True, text=True)
    if single.returncode:
        raise RuntimeError(f"{backend} single process failed:\n{single.stderr[-3000:]}")
    threaded = subprocess.run(command, env={**base, **_one_thread()}, capture_output=True, text=True)
    if threaded.returncode:
        raise RuntimeError(f"{backend} single one-thread process failed:\n{threaded.stderr[-3000:]}")
    sys.path.insert(0, os.path.dirname(HERE))
    from keras_gan.distributed import free_local_ports

    ports = free_local_ports(2)
    ranks = [subprocess.Popen(command, env={**base, **_one_thread(), **_launch_env(backend, r, ports)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in range(2)]
    outputs = [proc.communicate() for proc in ranks]
    for proc, (_, err) in zip(ranks, outputs):
        if proc.returncode:
            raise RuntimeError(f"{backend} 2 processes failed:\n{err[-3000:]}")
    one = last_row(single.stdout)["images_per_s"]
    one_thread = last_row(threaded.stdout)["images_per_s"]
    two = last_row(outputs[0][0])["images_per_s"]
    return {"backend": backend, "one_process": round(one, 3), "one_thread": round(one_thread, 3),
            "two_processes": round(two, 3), "speedup": round(two / one, 2),
            "speedup_vs_one_thread": round(two / one_thread, 2)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backend", choices=BACKENDS, default=None)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(run_process(args.steps, args.repeats)))
        return 0
    print("load before:", os.getloadavg(), flush=True)
    rows = []
    for backend in [args.backend] if args.backend else BACKENDS:
        rows.append(measure_backend(backend, args.steps, args.repeats))
        print(json.dumps(rows[-1]), "load:", os.getloadavg(), flush=True)
    print("load after:", os.getloadavg())
    print(f"\n{RECIPE} networks, 256x256, batch 1 per process, {args.steps} steps, best of {args.repeats}")
    print("| backend | 1 process | 1 process, 1 thread | 2 processes x 1 thread | ratio | ratio to 1 thread |\n"
          "|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['backend']} | {r['one_process']} | {r['one_thread']} | {r['two_processes']} | "
              f"{r['speedup']:.2f}x | {r['speedup_vs_one_thread']:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
