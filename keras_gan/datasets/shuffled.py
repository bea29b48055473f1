"""Arrays in batches whose order is a function of (seed, epoch): resumable shuffling.

Why not `fit(x, shuffle=True)`: Keras draws each epoch's order from a global
random state (TensorFlow's op seeds on the TensorFlow backend, numpy's global
generator on the others). A run resumed from a backup restores the weights,
the optimizers and the models' seed generators, but not that state, so the
resumed epochs see another order and the run drifts from an uninterrupted one
(measured: weights off by up to 2.5e-4 after a kill in epoch 2). Here the order
of epoch `e` is `default_rng([seed, e]).permutation(n)`: the same whenever
the epoch runs, so a resumed run ends bit-identical to an uninterrupted one.
`keras_gan.callbacks.DataEpoch` tells the dataset which epoch `fit` is in.
"""

from __future__ import annotations

import math

import keras
import numpy as np


class EpochShuffledArrays(keras.utils.PyDataset):
    """`(x[, y])` arrays served in batches, reshuffled per epoch from `(seed, epoch)`.

    Args:
        x: the examples (first axis = examples).
        y: optional second array with the same first axis (labels, targets).
        batch_size: examples per batch; the last batch of an epoch may be
            smaller, as with `fit(x, batch_size=...)`.
        seed: seed of the orders; default: drawn from numpy's global generator
            (which `keras.utils.set_random_seed` seeds).
        shuffle: False serves the arrays in their order every epoch.
        **kwargs: `keras.utils.PyDataset` arguments.

    Each batch is `x[idx]`, or `(x[idx], y[idx])` when `y` is given.
    """

    def __init__(self, x, y=None, batch_size: int = 32, seed: int | None = None, shuffle: bool = True,
                 shard: tuple[int, int] | None = None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
        if not hasattr(x, "shape") or len(x.shape) < 1 or len(x) == 0:
            raise ValueError(f"x must be a non-empty array; got {type(x).__name__} "
                             f"{getattr(x, 'shape', '')}.")
        if y is not None and (not hasattr(y, "shape") or len(y) != len(x)):
            raise ValueError(f"y must be an array with one entry per example of x ({len(x)}); "
                             f"got {getattr(y, 'shape', type(y).__name__)}.")
        index, count = shard if shard is not None else (0, 1)
        if not (isinstance(count, (int, np.integer)) and count >= 1 and 0 <= index < count):
            raise ValueError(f"shard must be (index, count) with 0 <= index < count; got {shard!r}.")
        if batch_size % count:
            raise ValueError(f"The global batch of {batch_size} cannot be split evenly over {count} processes; "
                             f"use a batch size divisible by {count}.")
        if shard is not None and len(x) < batch_size:
            raise ValueError(f"{len(x)} examples make no global batch of {batch_size}; use more data.")
        self.x, self.y = x, y
        self.shard = (int(index), int(count))
        self.batch_size = int(batch_size)
        self.seed = int(np.random.randint(0, 2**31 - 1)) if seed is None else int(seed)
        self.shuffle = bool(shuffle)
        self.epoch = 0
        self._order_epoch, self._order = None, None

    def __len__(self) -> int:
        if self.shard[1] > 1:  # whole global batches only: every process takes the same steps
            return len(self.x) // self.batch_size
        return math.ceil(len(self.x) / self.batch_size)

    def order(self, epoch: int) -> np.ndarray:
        """The example indices of `epoch`, in the order they are served."""
        if not self.shuffle:
            return np.arange(len(self.x))
        return np.random.default_rng([self.seed, int(epoch)]).permutation(len(self.x))

    def __getitem__(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} out of range for {len(self)} batches.")
        if self._order_epoch != self.epoch:  # one permutation per epoch, not per batch
            self._order_epoch, self._order = self.epoch, self.order(self.epoch)
        chosen = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        part, count = self.shard
        per_process = self.batch_size // count
        chosen = chosen[part * per_process : (part + 1) * per_process] if count > 1 else chosen
        if self.y is None:
            return self.x[chosen]
        return self.x[chosen], self.y[chosen]

    #: Tells `AdversarialModel.fit` that this dataset shuffles itself from (seed, epoch):
    #: fit then turns Keras' own batch shuffle off and keeps `epoch` in step on resume.
    orders_itself = True

    def on_epoch_end(self) -> None:
        self.epoch += 1


class DataEpoch(keras.callbacks.Callback):
    """Tell datasets whose order is keyed on the epoch (an `epoch` attribute, as
    `EpochShuffledArrays` and `FacadesDataset` have) which epoch `fit` is in.

    Needed on resume: `fit(initial_epoch=7)` starts at epoch 7, but a freshly
    built dataset counts from 0. (Here, beside the datasets it serves, so that
    `AdversarialModel.fit` can add it without importing `keras_gan.resumable`;
    public as `keras_gan.callbacks.DataEpoch`.)
    """

    def __init__(self, *datasets):
        super().__init__()
        self.datasets = [d for d in datasets if hasattr(d, "epoch")]

    def on_epoch_begin(self, epoch, logs=None):
        for dataset in self.datasets:
            dataset.epoch = int(epoch)
