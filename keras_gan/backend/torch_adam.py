"""A leaner update for Keras' Adam on PyTorch: the same arithmetic, without the temporaries.

Why: Keras' torch Adam (`keras/src/backend/torch/optimizers/torch_adam.py`)
updates all variables with `torch._foreach_*` calls that allocate five new
tensors the size of the whole model per step (g*g, m*alpha, sqrt(v),
sqrt(v)+eps, the quotient). On a CPU, large fresh allocations are page faults
and extra passes over memory: for the 54 M-parameter pix2pix U-Net the
optimizer took about a third of a training step (torch profiler).

`install(optimizer)` replaces that one method of a Keras torch `Adam`
instance (not the class) with a per-variable loop that runs the *same*
operations in the same order, in place or into two work buffers that all
variables share and that are kept between steps, so the results are bitwise
the ones Keras' update gives (tested). Everything around it stays Keras':
learning-rate schedules, clipping, weight decay, the moving average, loss
scaling, the iteration counter, saving. Optimizers it does not cover (AMSGrad, other
classes, non-float32 variables) keep Keras' update.
"""

from __future__ import annotations

import types

import torch
from keras import ops
from keras_gan import compat


def install(optimizer) -> bool:
    """Give a Keras torch `Adam` the lean update (once); return whether it has it."""
    if hasattr(optimizer, "_keras_gan_keras_update"):  # installed already
        return True
    if not compat.is_keras_torch_adam(optimizer) or optimizer.amsgrad:
        return False
    optimizer._keras_gan_workspace = {}
    compat.replace_parallel_update(optimizer, types.MethodType(_lean_parallel_update_step, optimizer))
    return True


@torch.no_grad()
def _lean_parallel_update_step(self, grads, variables, learning_rate):
    """Keras' Adam update (m, v, then var -= alpha m / (sqrt(v) + eps)), variable by variable."""
    values = [v.value for v in variables]
    if any(value.dtype != torch.float32 for value in values) or any(g.dtype != torch.float32 for g in grads):
        return self._keras_gan_keras_update(grads, variables, learning_rate)
    dtype = values[0].dtype
    # alpha exactly as Keras computes it (0-d tensors, same operations).
    lr = ops.cast(learning_rate, dtype)
    local_step = ops.cast(self.iterations + 1, dtype)
    beta_1_power = ops.power(ops.cast(self.beta_1, dtype), local_step)
    beta_2_power = ops.power(ops.cast(self.beta_2, dtype), local_step)
    alpha = lr * ops.sqrt(1 - beta_2_power) / (1 - beta_1_power)
    workspace = self._keras_gan_workspace
    largest = min(max(value.numel() for value in values), CHUNK)
    for variable, value, grad in zip(variables, values, grads):
        m, v = (slot.value for slot in compat.adam_slots(self, variable))
        if workspace.get(id(value)) != value.shape:
            workspace[id(value)] = value.shape
            for slot in (m, v):  # the moments in the variable's memory layout (keras_gan.layers.Conv2D
                if slot.stride() != value.stride():  # lays kernels out for torch): aligned passes
                    slot.set_(torch.empty_like(value).copy_(slot))
        for parts in _chunks(value, grad, m, v):
            _update(self, *parts, alpha, *_work_buffers(workspace, parts[0], largest))


#: Elements updated at a time: a large variable is updated in slices of this many elements, all nine
#: passes over one slice before the next. Why: each pass over a whole 8 M-element kernel (32 MB, the
#: U-Net's largest) streams it from memory; a slice of 512 K elements (2 MB per tensor, six tensors) stays in
#: the CPU's caches across the passes. Measured on the 2-core CPU machine (32 MB L3; idle, best of 4, the
#: pix2pix U-Net and PatchGAN, 57 M parameters, 2026-12-07): 122-132 ms an update whole, 78-86 ms in
#: slices of 256 K-512 K elements, 107 ms in 2 M, 126 ms in 64 K (per-call overhead). Elementwise
#: operations on slices compute bit for bit what they compute on the whole (tested).
CHUNK = 1 << 19


def _update(self, value, grad, m, v, alpha, numerator, denominator) -> None:
    """Keras' Adam arithmetic on one variable (or one slice of it), in place."""
    m.mul_(self.beta_1)
    m.add_(grad, alpha=1 - self.beta_1)
    v.mul_(self.beta_2)
    torch.mul(grad, grad, out=denominator)
    v.add_(denominator, alpha=1 - self.beta_2)
    torch.mul(m, alpha, out=numerator)
    torch.sqrt(v, out=denominator)
    denominator.add_(self.epsilon)
    # value + (-1 * numerator) / denominator: torch's addcdiv evaluates left to right, and
    # negation is exact, so this is value - numerator / denominator bit for bit, in one pass.
    value.addcdiv_(numerator, denominator, value=-1)


def _chunks(value, grad, m, v):
    """(value, grad, m, v) in slices of at most CHUNK elements, or whole when they cannot be sliced alike.

    A slice is a run of memory: the four tensors must be dense with the same strides (then element i of
    each flat run is the same parameter), which they are for every keras_gan layer (the moments follow
    the variable's layout above; torch gives a gradient the layout of its variable).
    """
    tensors = (value, grad, m, v)
    if value.numel() <= CHUNK or not all(_dense(t) and t.stride() == value.stride() for t in tensors):
        return [tensors]
    flat = [t.as_strided((t.numel(),), (1,)) for t in tensors]
    return [[f[start:start + CHUNK] for f in flat] for start in range(0, value.numel(), CHUNK)]


def _dense(tensor) -> bool:
    """Whether `tensor`'s elements fill one run of memory, each once (any order of its axes)."""
    span = 1 + sum((n - 1) * stride for n, stride in zip(tensor.shape, tensor.stride()))
    return span == tensor.numel() and all(stride >= 0 for stride in tensor.stride())


def _work_buffers(workspace: dict, value, size: int) -> tuple:
    """Two work tensors shaped and strided like `value`, views of two buffers of `size` elements that
    every variable shares and that are kept between steps.

    Why shared: one pair per variable held a second and third copy of the model (for the pix2pix
    U-Net, 2 x 220 MB); kept, because fresh large allocations each step are page faults. A value
    whose memory is not one dense block, or (a variable that could not be sliced) is larger than the
    buffers, gets fresh tensors.
    """
    if value.numel() > size or not _dense(value):
        return torch.empty_like(value), torch.empty_like(value)
    key = ("buffers", value.device)
    buffers = workspace.get(key)
    if buffers is None or buffers[0].numel() < size:
        buffers = workspace[key] = (torch.empty(size, dtype=value.dtype, device=value.device),
                                    torch.empty(size, dtype=value.dtype, device=value.device))
    return tuple(buffer.as_strided(value.shape, value.stride()) for buffer in buffers)

