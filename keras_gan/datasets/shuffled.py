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

Mid-epoch starts: such a dataset's batch `i` of epoch `e` is a function of
`(seed, e, i)` alone, so a run resumed from a backup written after batch `k`
of epoch `e` (`ResumableBackup(every_steps=...)`) must be served batches
`k, k + 1, ...` of epoch `e` and then whole epochs. Keras' `fit` has an
`initial_epoch` but no initial step, so `AdversarialModel.fit` feeds such a
dataset through an `EpochWindow`: for the resumed epoch it serves the batches
left (its length is the number left), and `fit` ends that epoch when they run
out, as it ends an epoch of a dataset that is shorter than announced; the
following epochs are whole. (Keras' own `BackupAndRestore(save_freq=N)` saves
every N batches but resumes at the start of the epoch: the batches before the
save are trained on twice.)
"""

from __future__ import annotations

import dataclasses
import math
import warnings

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


@dataclasses.dataclass
class ResumePosition:
    """Where a resumed `fit` starts, passed from `ResumableBackup` to `DataEpoch` on the model.

    `epoch` (0-based) and `batch`: the state was saved after `batch` batches of
    epoch `epoch`. `started` turns True once a `DataEpoch` made its datasets
    start there; `windows` is set by every `DataEpoch` whose datasets can start
    mid-epoch (so `ResumableBackup` knows a step backup can be resumed).
    """

    epoch: int | None = None
    batch: int = 0
    started: bool = False
    windows: bool = False


_POSITION_ATTRIBUTE = "_keras_gan_resume_position"


def resume_position(model, reset: bool = False) -> ResumePosition:
    """The `ResumePosition` record of `model`'s current `fit` (a fresh one with `reset`)."""
    position = getattr(model, _POSITION_ATTRIBUTE, None)
    if position is None or reset:
        position = ResumePosition()
        object.__setattr__(model, _POSITION_ATTRIBUTE, position)  # not a tracked Keras attribute
    return position


class EpochWindow(keras.utils.PyDataset):
    """The batches of `dataset` left in the current epoch: batch `i` is `dataset[start_batch + i]`.

    `dataset` must order itself (`orders_itself`, an `epoch` attribute): its
    batch `i` of an epoch is the same whenever it is asked for, so skipping the
    first `start_batch` batches of a resumed epoch serves exactly what an
    uninterrupted run saw next. `start_batch` is 0 except in the first epoch of
    a run resumed mid-epoch (`DataEpoch` sets it), and returns to 0 when that
    epoch ends. Other attributes are the dataset's.
    """

    orders_itself = True

    def __init__(self, dataset):
        super().__init__(workers=dataset.workers, use_multiprocessing=dataset.use_multiprocessing,
                         max_queue_size=dataset.max_queue_size)
        self.dataset = dataset
        self.start_batch = 0

    @property
    def epoch(self) -> int:
        return self.dataset.epoch

    @epoch.setter
    def epoch(self, value: int) -> None:
        self.dataset.epoch = value

    def __len__(self) -> int:
        return len(self.dataset) - self.start_batch

    def __getitem__(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} out of range for the {len(self)} batches left in this epoch.")
        return self.dataset[self.start_batch + index]

    def __getattr__(self, name):  # only for names the window does not have itself
        if name.startswith("__") or name == "dataset":
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def on_epoch_begin(self) -> None:
        self.dataset.on_epoch_begin()

    def on_epoch_end(self) -> None:
        self.start_batch = 0
        self.dataset.on_epoch_end()


#: What Keras says when an epoch's data ends before the batches it counted: expected for the
#: shortened first epoch of a run resumed mid-epoch, and kept quiet there.
_RAN_OUT = r"Your input ran out of data"


class DataEpoch(keras.callbacks.Callback):
    """Tell datasets whose order is keyed on the epoch (an `epoch` attribute, as
    `EpochShuffledArrays` and `FacadesDataset` have) which epoch `fit` is in.

    Needed on resume: `fit(initial_epoch=7)` starts at epoch 7, but a freshly
    built dataset counts from 0. An `EpochWindow` is also told where a run
    resumed mid-epoch starts (the `ResumePosition` that `ResumableBackup` left
    on the model). (Here, beside the datasets it serves, so that
    `AdversarialModel.fit` can add it without importing `keras_gan.resumable`;
    public as `keras_gan.callbacks.DataEpoch`.)
    """

    def __init__(self, *datasets):
        super().__init__()
        self.datasets = [d for d in datasets if hasattr(d, "epoch")]
        self._quiet = None
        self._short_epoch_steps = None  # the steps of a shortened (resumed) epoch

    # A shortened epoch ends when its data runs out, where a whole epoch ends on its count. Keras
    # then does two things differently, each made up for here so that the run goes on exactly as
    # an uninterrupted one (DataEpoch comes first in fit's callbacks, so these land before the
    # epoch's other callbacks):
    # - PyTorch: a whole epoch ends by opening the next epoch's DataLoader iterator, which draws
    #   one number from torch's global generator (its base seed); the same draw is made here.
    # - TensorFlow: the data is read inside the compiled step, so fit would start one more step
    #   and find no data there, after the step's data-independent updates had run (the seed
    #   generators and the trackers' counts advance). The epoch is ended before that step
    #   instead, the way fit ends an epoch whose data ran out (StopIteration).

    def on_epoch_begin(self, epoch, logs=None):
        position = resume_position(self.model)
        windows = [d for d in self.datasets if isinstance(d, EpochWindow)]
        if windows and len(windows) == len(self.datasets):
            position.windows = True
        resuming = position.epoch == int(epoch) and position.batch > 0 and not position.started
        for dataset in self.datasets:
            dataset.epoch = int(epoch)
            if isinstance(dataset, EpochWindow):
                dataset.start_batch = position.batch if resuming else 0
        if resuming and position.windows:
            position.started = True
            warnings.filterwarnings("ignore", message=_RAN_OUT)
            self._quiet = warnings.filters[0]
            self._short_epoch_steps = min(len(d) for d in self.datasets)

    def on_train_batch_begin(self, batch, logs=None):
        if self._short_epoch_steps is not None and int(batch) >= self._short_epoch_steps:
            raise StopIteration  # TensorFlow: the resumed epoch's batches are done (see above)

    def on_train_batch_end(self, batch, logs=None):
        if self._short_epoch_steps is None or int(batch) + 1 < self._short_epoch_steps:
            return
        if keras.backend.backend() == "torch":
            import torch

            class _NoData(torch.utils.data.IterableDataset):
                def __iter__(self):
                    return iter(())

            iter(torch.utils.data.DataLoader(_NoData(), batch_size=None))  # the base seed's draw
        if keras.backend.backend() != "tensorflow":
            self._short_epoch_steps = None

    def on_epoch_end(self, epoch, logs=None):
        self._short_epoch_steps = None
        self._unquiet()

    def on_train_end(self, logs=None):
        self._unquiet()

    def _unquiet(self):
        if self._quiet is not None:
            try:
                warnings.filters.remove(self._quiet)
            except ValueError:  # someone reset the filters meanwhile
                pass
            self._quiet = None
