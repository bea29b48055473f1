"""`torch.distributed` pieces shared by the torch step and the layers.

Keras has no distribution API for the torch backend, so under `torchrun`
(`torch.distributed` initialised by the user's script or by `zoo.train`)
keras_gan does what DDP and SyncBatchNorm do, with torch's own collectives:
gradients averaged over the ranks (`keras_gan.backend.torch_step`) and batch
statistics taken over the global batch (`global_moments`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

_alone = [0]  # depth of `computing_alone` blocks


def distributed() -> bool:
    """Whether this process computes as one rank of a `torch.distributed` job (e.g. under
    `torchrun`): joined, and not inside `computing_alone`."""
    return torch.distributed.is_available() and torch.distributed.is_initialized() and not _alone[0]


@contextlib.contextmanager
def computing_alone() -> Iterator[None]:
    """Compute with no collective: one rank alone (process 0 scoring, sampling, saving).

    Why: a collective waits for every rank, and the others are not computing
    with this one: synchronized batch norm's all-reduce in a translation that
    process 0 makes alone would wait forever, or fail once the others have
    left the job. Inside, `distributed()` is False, so statistics are this
    process's batch's (the `keras_gan.distributed.process_local_view` of torch).
    """
    _alone[0] += 1
    try:
        yield
    finally:
        _alone[0] -= 1


def gather_from_every_rank(tensor: torch.Tensor) -> list[torch.Tensor]:
    """`tensor` of every rank, in rank order, on the CPU (each rank passes one of the same shape and
    dtype). A collective: every rank calls it at the same point (a backup gathering each rank's
    random state). NCCL gathers CUDA tensors only, so there the values travel through the GPU."""
    device = "cuda" if torch.distributed.get_backend() == "nccl" else "cpu"
    local = tensor.to(device)
    gathered = [torch.empty_like(local) for _ in range(torch.distributed.get_world_size())]
    torch.distributed.all_gather(gathered, local)
    return [g.cpu() for g in gathered]


def global_moments(inputs: torch.Tensor, axes: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean and (biased) variance over `axes` of the *global* batch, and the global count.

    What SyncBatchNorm computes: every rank's sums and sums of squares are
    added by one differentiable all-reduce (`torch.distributed.nn`), so each
    rank's loss also sends gradient to the other ranks' inputs through the
    shared statistics, and N ranks train exactly as one process on the
    global batch. Variance as Keras' `ops.moments` computes it,
    E[x^2] - E[x]^2. Outside a distributed job this is the local batch's.
    """
    sums = torch.sum(inputs, dim=axes)
    squares = torch.sum(torch.square(inputs), dim=axes)
    count = torch.tensor(float(inputs.numel() // sums.numel()), dtype=inputs.dtype, device=inputs.device)
    packed = torch.cat([sums, squares, count.reshape(1)])
    if distributed():
        from torch.distributed.nn import functional as collective

        packed = collective.all_reduce(packed)
    channels = sums.shape[0]
    total = packed[-1]
    mean = packed[:channels] / total
    variance = packed[channels:2 * channels] / total - torch.square(mean)
    return mean, variance, total
