"""A loss tracker's update on PyTorch without Keras' op dispatch.

Why: every step logs a handful of running means (`d_loss`, `g_loss`, D(x),
D(G(z))); `keras.metrics.Mean.update_state` + `result()` run about a dozen
Keras ops per value, each paying eager dispatch. Measured on the 2-core CPU
machine: 0.42-0.47 ms per MNIST GAN step for the four trackers, against a
~30 ms step. Here the same arithmetic (total + value, count + 1,
total / count unless count is 0) is done in place with the torch calls
Keras' own `assign_add` and `divide_no_nan` end in, so the logs are bitwise
Keras' (tested).
"""

from __future__ import annotations

import keras
import torch

from keras_gan import compat


def _plain_total(tracker, value):
    """The tensor of `tracker.total` when the in-place update applies: a `keras.metrics.Mean`
    (exact class) of float32, a 0-d float32 `value` on its device, and no stateless scope (which
    must record the new values instead of writing them); else None."""
    if type(tracker) is not keras.metrics.Mean or compat.in_stateless_scope():
        return None
    total = tracker.total.value
    plain = (isinstance(value, torch.Tensor) and value.dim() == 0 and value.dtype == torch.float32
             and total.dtype == torch.float32 and value.device == total.device)
    return total if plain else None


def update_mean(tracker, value):
    """`tracker.update_state(value)`, then `tracker.result()`."""
    total = _plain_total(tracker, value)
    if total is None:
        tracker.update_state(value)
        return tracker.result()
    count = tracker.count.value
    with torch.no_grad():
        total.add_(value.detach())
        count.add_(1.0)
        # Keras' result is divide_no_nan(total, count); count >= 1 here, where that is total / count
        return torch.divide(total, count)
