"""Which data-parallel job this process belongs to, read from its launcher's environment.

Each backend's engine starts jobs its own way: `torchrun` sets `RANK` /
`WORLD_SIZE` / `MASTER_ADDR` for `torch.distributed`; JAX processes join
through `keras.distribution.initialize` (`jax.distributed`), configured by
`KERAS_DISTRIBUTION_JOB_ADDRESSES` / `_NUM_PROCESSES` / `_PROCESS_ID`;
TensorFlow's `MultiWorkerMirroredStrategy` reads `TF_CONFIG`. Programs that
write files (e.g. `zoo.train`) ask here whether they run as several processes
and which one is process 0, the only one that writes.
"""

from __future__ import annotations

import json
import os

#: The launcher environments, by the engine that reads them.
LAUNCHERS = {"torch": "torchrun (RANK, WORLD_SIZE)",
             "jax": "keras.distribution (KERAS_DISTRIBUTION_NUM_PROCESSES)",
             "tensorflow": "MultiWorkerMirroredStrategy (TF_CONFIG)"}


def launcher_environment() -> str | None:
    """The engine whose multi-process launch variables are set ('torch', 'jax', 'tensorflow'), or None.

    Only jobs of more than one process count: `WORLD_SIZE=1` is one process.
    """
    if int(os.environ.get("WORLD_SIZE", "1") or 1) > 1:
        return "torch"
    if int(os.environ.get("KERAS_DISTRIBUTION_NUM_PROCESSES", "1") or 1) > 1:
        return "jax"
    config = os.environ.get("TF_CONFIG")
    if config:
        try:
            workers = json.loads(config).get("cluster", {}).get("worker", [])
        except (ValueError, AttributeError):
            raise ValueError(f"TF_CONFIG is not valid JSON of a cluster: {config[:200]!r}") from None
        if len(workers) > 1:
            return "tensorflow"
    return None


def join_torch_job() -> tuple[int, int]:
    """Join the `torchrun` job (NCCL with CUDA, gloo on CPU) if not joined yet; `(world, rank)`."""
    import torch

    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return torch.distributed.get_world_size(), torch.distributed.get_rank()


def leave_torch_job() -> None:
    """Leave the `torch.distributed` job, if this process joined one."""
    import torch

    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
