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

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: The launcher environments, by the engine that reads them.
LAUNCHERS = {"torch": "torchrun (RANK, WORLD_SIZE)",
             "jax": "keras.distribution (KERAS_DISTRIBUTION_NUM_PROCESSES)",
             "tensorflow": "MultiWorkerMirroredStrategy (TF_CONFIG)"}


def launcher_environment() -> str | None:
    """The engine whose multi-process launch variables are set ('torch', 'jax', 'tensorflow'), or None.

    Only jobs of more than one process count: `WORLD_SIZE=1` is one process.
    """
    if _process_count("WORLD_SIZE") > 1:
        return "torch"
    if _process_count("KERAS_DISTRIBUTION_NUM_PROCESSES") > 1:
        return "jax"
    config = os.environ.get("TF_CONFIG")
    if config:
        try:
            workers = json.loads(config).get("cluster", {}).get("worker", [])
            count = len(workers)
        except (ValueError, AttributeError, TypeError):
            raise ValueError(
                f"TF_CONFIG is not valid JSON of a cluster: {config[:200]!r}; set it as "
                '{"cluster": {"worker": ["HOST0:PORT", "HOST1:PORT"]}, "task": {"type": "worker", "index": R}} '
                "or unset it.") from None
        if count > 1:
            return "tensorflow"
    return None


def _process_count(name: str) -> int:
    """A launcher's process count variable (1 when unset), or a one-line error."""
    value = os.environ.get(name, "1") or "1"
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}={value[:50]!r} is not a number of processes; set it to an integer "
                         "or unset it.") from None


def join_torch_job() -> tuple[int, int]:
    """Join the `torchrun` job (NCCL with CUDA, gloo on CPU) if not joined yet; `(world, rank)`."""
    import torch

    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return torch.distributed.get_world_size(), torch.distributed.get_rank()


def in_torch_job() -> bool:
    """Whether this process is one rank of a multi-process `torch.distributed` job (Keras' backend torch,
    the job joined, more than one process)."""
    import keras

    if keras.backend.backend() != "torch":
        return False
    import torch

    return torch.distributed.is_available() and torch.distributed.is_initialized() \
        and torch.distributed.get_world_size() > 1


def leave_torch_job() -> None:
    """Leave the `torch.distributed` job, if this process joined one."""
    import torch

    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


@dataclass(frozen=True)
class DataParallelJob:
    """This process's place in a data-parallel job: `processes`, `index` (0 writes files) and, on
    TensorFlow, the `strategy` to build the model under (`None` elsewhere)."""

    processes: int
    index: int
    strategy: Any = None

    @property
    def is_process_zero(self) -> bool:
        return self.index == 0


def initialize() -> DataParallelJob:
    """Join the multi-process job the launcher's environment describes, through the active
    backend's own engine; one process (nothing to join) when no launch variables are set.

    - PyTorch (`torchrun`: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT):
      `torch.distributed` with NCCL on GPUs, gloo on CPU. The step then averages
      gradients over the processes; feed each its shard of every global batch.
    - JAX (KERAS_DISTRIBUTION_JOB_ADDRESSES = the coordinator's host:port,
      KERAS_DISTRIBUTION_NUM_PROCESSES, KERAS_DISTRIBUTION_PROCESS_ID):
      `keras.distribution.initialize()` (`jax.distributed`), then `DataParallel`
      over every process's devices, each process feeding its shard
      (`auto_shard_dataset=False`). Call this before any JAX computation.
    - TensorFlow (TF_CONFIG): a `MultiWorkerMirroredStrategy`; build and compile
      the model under `job.strategy.scope()` and give every worker the same
      global batches: the strategy shards them. Create it before other TF work.

    The variables of another engine are an error naming the right backend.
    """
    import keras

    backend = keras.backend.backend()
    launcher = launcher_environment()
    if launcher is None:
        return DataParallelJob(1, 0)
    if launcher != backend:
        raise RuntimeError(f"The {LAUNCHERS[launcher]} launch variables are set, but KERAS_BACKEND is "
                           f"{backend!r}; set KERAS_BACKEND={launcher} or launch with {LAUNCHERS[backend]}.")
    if backend == "torch":
        return DataParallelJob(*join_torch_job())
    if backend == "jax":
        import jax

        keras.distribution.initialize()
        keras.distribution.set_distribution(
            keras.distribution.DataParallel(devices=jax.devices(), auto_shard_dataset=False))
        return DataParallelJob(jax.process_count(), jax.process_index())
    import tensorflow as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    return DataParallelJob(tf_worker_count(strategy), int(strategy.cluster_resolver.task_id), strategy)


def tf_worker_count(strategy) -> int:
    """The workers of a TensorFlow `MultiWorkerMirroredStrategy` (its TF_CONFIG cluster); 1 for any
    other strategy, or None."""
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return 1
    return len(strategy.cluster_resolver.cluster_spec().as_dict().get("worker", [])) or 1


def _state_variables(model) -> list:
    """Every variable of a model's training state: networks, seed states, metrics, optimizers."""
    seen, variables = set(), []
    optimizer = getattr(model, "optimizer", None)
    for v in [*model.variables, *getattr(model, "metrics_variables", []),
              *(optimizer.variables if optimizer is not None else [])]:
        if id(v) not in seen:
            seen.add(id(v))
            variables.append(v)
    return variables


@contextlib.contextmanager
def process_local_view(model) -> Iterator[None]:
    """Let one process of a multi-process JAX job compute with `model` alone (score, sample, save).

    Why: under `DataParallel` over several processes every variable is one
    array replicated over all processes' devices, and a computation on it is a
    program every process must run together: one process scoring a validation
    set alone would wait for the others forever. Replicated means each process
    holds the whole value, so inside this block every variable of the model
    (networks, optimizers, seed and metric states) holds this process's own copy, and
    no distribution is set, so new models and arrays are local too. On leaving,
    the replicated arrays are put back unchanged: whatever was assigned inside
    is dropped (it was this process's alone). On PyTorch every rank holds its own copy already;
    inside this block no collective is called (synchronized batch norm takes this process's
    statistics: `torch_collectives.computing_alone`). Elsewhere this does nothing.
    """
    import keras

    from keras_gan import compat

    if keras.backend.backend() == "torch":  # every rank holds its own copy: only collectives to avoid
        from keras_gan.backend import torch_collectives

        with torch_collectives.computing_alone():
            yield
        return
    if keras.backend.backend() != "jax":
        yield
        return
    swapped = []
    for v in _state_variables(model):
        value = compat.raw_value(v)
        if value is not None and hasattr(value, "is_fully_addressable") and not value.is_fully_addressable:
            swapped.append((v,) + compat.swap_raw_value(v, value.addressable_data(0), None))
    if not swapped:
        yield
        return
    distribution = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(distribution)
        for v, value, layout in swapped:
            compat.swap_raw_value(v, value, layout)


def free_local_ports(count: int) -> list[str]:
    """`count` distinct TCP ports free on localhost right now, for a one-machine job's coordinator
    and workers (tests, benchmarks). Held open together while chosen, so they differ."""
    import socket

    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [str(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def local_job_variables(backend: str, rank: int, processes: int, ports: list[str]) -> dict[str, str]:
    """The launch variables one process of a `processes`-process job on this machine needs, as
    `backend`'s launcher sets them (what `initialize` reads): torchrun's RANK / WORLD_SIZE /
    MASTER_ADDR / MASTER_PORT, `keras.distribution`'s KERAS_DISTRIBUTION_*, or TensorFlow's
    TF_CONFIG. `ports` from `free_local_ports`: the first is the coordinator's; TensorFlow
    needs one per process. For tests, benchmarks and a quick multi-process run without a launcher."""
    if backend not in ("torch", "jax", "tensorflow"):
        raise ValueError(f"backend must be 'torch', 'jax' or 'tensorflow'; got {backend!r}.")
    needed = processes if backend == "tensorflow" else 1
    if len(ports) < needed or not 0 <= rank < processes:
        raise ValueError(f"A {processes}-process {backend} job needs rank in [0, {processes}) and at least "
                         f"{needed} port(s) (free_local_ports); got rank {rank}, ports {ports}.")
    if backend == "torch":
        return {"RANK": str(rank), "WORLD_SIZE": str(processes), "MASTER_ADDR": "127.0.0.1",
                "MASTER_PORT": str(ports[0])}
    if backend == "jax":
        return {"KERAS_DISTRIBUTION_JOB_ADDRESSES": f"127.0.0.1:{ports[0]}",
                "KERAS_DISTRIBUTION_NUM_PROCESSES": str(processes), "KERAS_DISTRIBUTION_PROCESS_ID": str(rank)}
    workers = [f"127.0.0.1:{p}" for p in ports[:processes]]
    return {"TF_CONFIG": json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": rank}})}
