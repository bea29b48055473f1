"""Whole per-replica batches for the processes of a data-parallel job (pix2pix's one image per process).

Why: pix2pix trains with a batch of 1 (the paper's choice), and its reference
code trains data-parallel with `--batch_size` images *per process*: the global
batch is processes x per-replica batch. A batch of 1 cannot be split the way
`EpochShuffledArrays(shard=...)` splits a global batch, so here each process
takes whole batches of the per-replica dataset instead: global step `j` is the
dataset's batches `j*N .. j*N + N-1` (N processes), process `r` taking batch
`j*N + r`. The dataset keeps its own order and augmentation, functions of
`(seed, epoch, batch index)` (`FacadesDataset`, `EpochShuffledArrays`), so
every process's data is deterministic and a resumed run sees the same batches
as an uninterrupted one.

`index=None` serves the N batches of each step concatenated: the global batch.
That is what every TensorFlow worker reads (`MultiWorkerMirroredStrategy`
splits each global batch over the replicas itself, worker `r` getting slice
`r`, i.e. batch `j*N + r`), and the one-process run the job reproduces.
"""

from __future__ import annotations

import keras
import numpy as np


def _first_dimension(batch) -> int:
    """Examples in a batch (the first axis of its first array, however nested)."""
    return int(keras.tree.flatten(batch)[0].shape[0])


class ReplicaBatches(keras.utils.PyDataset):
    """Serve process `index` of `processes` its batches of `dataset` (see the module docstring).

    Args:
        dataset: a `keras.utils.PyDataset` of per-replica batches whose order is
            its own (an `epoch` attribute, as `FacadesDataset` and
            `EpochShuffledArrays` have), so all processes agree on it.
        processes: processes in the job (N).
        index: this process's index, or None for the global batches (the
            N batches of each step concatenated).

    Only whole global steps are served (N full batches), so every process takes
    the same number of steps; the rest of an epoch is left out, as a ragged last
    global batch would be.
    """

    def __init__(self, dataset, processes: int, index: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(dataset, keras.utils.PyDataset) or not hasattr(dataset, "epoch"):
            raise ValueError(
                f"ReplicaBatches needs a keras.utils.PyDataset that orders itself from (seed, epoch) (an "
                f"`epoch` attribute, as FacadesDataset and EpochShuffledArrays have); got {type(dataset).__name__}.")
        if isinstance(processes, bool) or not isinstance(processes, (int, np.integer)) or processes < 1:
            raise ValueError(f"processes must be a positive integer; got {processes!r}.")
        if index is not None and not (isinstance(index, (int, np.integer)) and 0 <= index < processes):
            raise ValueError(f"index must be None (global batches) or in [0, {processes}); got {index!r}.")
        self.dataset, self.processes = dataset, int(processes)
        self.index = None if index is None else int(index)
        batches = len(dataset)
        if batches and _first_dimension(dataset[batches - 1]) < _first_dimension(dataset[0]):
            batches -= 1  # a ragged last batch would give its process fewer examples than the others
        self._steps = batches // self.processes
        if self._steps < 1:
            raise ValueError(
                f"The data makes {batches} full batch(es) of {_first_dimension(dataset[0])}, not one per process "
                f"for {self.processes} processes: use more data (a larger --limit) or fewer processes.")

    @property
    def epoch(self) -> int:
        return self.dataset.epoch

    @epoch.setter
    def epoch(self, value: int) -> None:
        self.dataset.epoch = value

    #: The wrapped dataset orders itself, so this does too (see `AdversarialModel.fit`).
    orders_itself = True

    def __len__(self) -> int:
        return self._steps

    def __getitem__(self, step: int):
        if not 0 <= step < self._steps:
            raise IndexError(f"Step {step} out of range for {self._steps} global steps.")
        first = step * self.processes
        if self.index is not None:
            return self.dataset[first + self.index]
        batches = [self.dataset[first + r] for r in range(self.processes)]
        return keras.tree.map_structure(lambda *parts: np.concatenate(parts), *batches)

    def on_epoch_end(self) -> None:
        self.dataset.on_epoch_end()
