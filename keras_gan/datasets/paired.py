"""Paired images for pix2pix: the batching, order and jitter every paired data set shares.

`PairedBatches` is the part of a paired data set that must behave the same for
the CMP facades (`FacadesDataset`) and a user's own folder
(`keras_gan.datasets.PairedImageFolder`): batch `index` of epoch `epoch` is a
function of `(seed, epoch, index)` only. The order of an epoch is
`default_rng([seed, epoch]).permutation(n)`; the paper's jitter of a batch
(Isola et al. 2017, section 6.2: resize to 286, random 256 crop, mirror with
probability 1/2, the same for input and target) is drawn from
`default_rng([seed, epoch, index])`. Why: a run resumed from a backup
(`keras_gan.callbacks.ResumableBackup`) rebuilds the data set and must see the
same batches as an uninterrupted run, and numpy's generators give the same
numbers on every backend, so three backends train on the same pixels. A
subclass says only how to read the pairs of some indices at the load size.
"""

from __future__ import annotations

import math

import keras
import numpy as np

#: Section 6.2: "resizing the 256x256 input images to 286x286 and then randomly cropping back".
PAPER_IMAGE_SIZE, PAPER_JITTER_SIZE = 256, 286


def jitter_size(image_size: int) -> int:
    """Size to resize to before the random crop: 286 for 256, in proportion otherwise."""
    return int(round(image_size * PAPER_JITTER_SIZE / PAPER_IMAGE_SIZE))


def random_jitter(labels: np.ndarray, photos: np.ndarray, image_size: int, rng: np.random.Generator):
    """The same random `image_size` crop and random mirroring for each pair `(labels[i], photos[i])`
    (any two image arrays (N, L, L, C) at the load size L; the channels may differ)."""
    n, load_size = labels.shape[0], labels.shape[1]
    out_labels = np.empty((n, image_size, image_size, labels.shape[-1]), labels.dtype)
    out_photos = np.empty((n, image_size, image_size, photos.shape[-1]), photos.dtype)
    for i in range(n):
        top, left = rng.integers(0, load_size - image_size + 1, size=2)
        mirror = rng.random() < 0.5
        window = (slice(top, top + image_size), slice(left, left + image_size))
        for source, target in ((labels, out_labels), (photos, out_photos)):
            crop = source[i][window]
            target[i] = crop[:, ::-1] if mirror else crop
    return out_labels, out_photos


def to_signed_unit_range(images: np.ndarray) -> np.ndarray:
    """uint8 [0, 255] -> float32 [-1, 1] (the generator's tanh range)."""
    return (images.astype("float32") / 127.5) - 1.0


def check_batch_size(batch_size) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
    return int(batch_size)


class PairedBatches(keras.utils.PyDataset):
    """Batches `(inputs, targets)` of image pairs, float32 in [-1, 1], for `Pix2Pix.fit`.

    Args:
        count: number of pairs.
        batch_size: pairs per batch (1 in the paper); the last batch may be smaller.
        image_size: side of the square images served.
        a_to_b: inputs are the first image of each pair (A), targets the second (B);
            False swaps them.
        augment: the paper's jitter (read at `jitter_size(image_size)`, random crop, mirror).
        shuffle: a new order every epoch.
        seed: seed of the order and the jitter; default: drawn from numpy's global
            generator (which `keras.utils.set_random_seed` seeds).
        **kwargs: `keras.utils.PyDataset` arguments (workers, ...).

    Subclasses implement `read_pairs(indices, epoch, index) -> (a, b)`, uint8 arrays
    (len(indices), L, L, C) at the load size L = `self.load_size`.

    Mid-epoch starts: every batch is `batch(epoch, index)`, a pure function of its
    arguments (and the files), so a run resumed after batch k of epoch e serves
    `batch(e, k)`, `batch(e, k + 1)`, ... and sees exactly what an uninterrupted run saw.
    """

    #: Tells `AdversarialModel.fit` that this dataset shuffles itself from (seed, epoch):
    #: fit then turns Keras' own batch shuffle off and keeps `epoch` in step on resume.
    orders_itself = True

    def __init__(self, count: int, batch_size: int, image_size: int, a_to_b: bool, augment: bool,
                 shuffle: bool, seed: int | None, **kwargs):
        super().__init__(**kwargs)
        self.batch_size = check_batch_size(batch_size)
        self.image_size = int(image_size)
        self.augment = bool(augment)
        self.shuffle = bool(shuffle)
        self.a_to_b = bool(a_to_b)
        self.seed = int(np.random.randint(0, 2**31 - 1)) if seed is None else int(seed)
        self.epoch = 0
        self.count = int(count)
        self.load_size = jitter_size(self.image_size) if self.augment else self.image_size

    def __len__(self) -> int:
        return math.ceil(self.count / self.batch_size)

    def order(self, epoch: int) -> np.ndarray:
        """The pair indices of `epoch`, in the order they are served."""
        order = np.arange(self.count)
        if self.shuffle:
            order = np.random.default_rng([self.seed, int(epoch)]).permutation(order)
        return order

    def batch(self, epoch: int, index: int):
        """Batch `index` of epoch `epoch`: `(inputs, targets)` float32 in [-1, 1]."""
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} out of range for {len(self)} batches.")
        chosen = self.order(epoch)[index * self.batch_size : (index + 1) * self.batch_size]
        a, b = self.read_pairs(chosen, epoch, index)
        if self.augment:
            rng = np.random.default_rng([self.seed, int(epoch), int(index)])
            a, b = random_jitter(a, b, self.image_size, rng)
        inputs, targets = (a, b) if self.a_to_b else (b, a)
        return to_signed_unit_range(inputs), to_signed_unit_range(targets)

    def __getitem__(self, index: int):
        return self.batch(self.epoch, index)

    def read_pairs(self, indices: np.ndarray, epoch: int, index: int):
        raise NotImplementedError

    def on_epoch_end(self) -> None:
        self.epoch += 1
