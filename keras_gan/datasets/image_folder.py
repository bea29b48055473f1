"""Your own images from a folder, for GAN and ConditionalGAN: labels from sub-folder names.

Layouts: `path/*.png` (no labels), or `path/<class name>/*.png`, one
sub-folder per class (labels 0, 1, ... in the natural order of the folder
names, as `keras.utils.image_dataset_from_directory` numbers them; the names
are `class_names`). Images are served as float32 in [0, 1] (the sigmoid range
of the library's image generators), grey images with 1 channel and the rest
with 3 (decided over the whole folder), at `image_size` x `image_size`
(bilinear, aspect ratio not kept) or, with `image_size=None`, at the files'
own size, which must then be the same for every file.

The order of epoch e is `default_rng([seed, e]).permutation(n)`, as
`EpochShuffledArrays`, so a resumed run serves what an uninterrupted one did
(batch k of epoch e is `batch(e, k)`, a pure function), and `shard` splits each
global batch over the processes of a job the same way. Images are read from
disk batch by batch, so a folder larger than memory trains too.

Bad input, as `PairedImageFolder` (`keras_gan.datasets.paired_folder`): every
file's header is checked at construction (bad, truncated and non-image files,
empty folders, mixed sizes without `image_size`, a layout with loose images
beside class folders: one `DataFileError` naming the file); a file found bad
during training raises naming it before the step that would use it, or, with
`skip_bad_files=True`, is replaced by the next readable image in file order
and counted in `skipped_reads`.

Why not `keras.utils.image_dataset_from_directory`: it needs TensorFlow (not in
a `keras-gan[jax]` or `[torch]` install), and its shuffle draws from
TensorFlow's random state, which a resumed run does not restore.
"""

from __future__ import annotations

import math
import os
import sys

import keras
import numpy as np

from keras_gan.datasets.idx import DataFileError
from keras_gan.datasets.image_files import (
    IMAGE_SUFFIXES,
    as_channels,
    list_image_files,
    met_during_training,
    natural_key,
    open_image,
    resize,
    scan_image,
)
from keras_gan.datasets.paired import check_batch_size


def image_folder_layout(path: str) -> tuple[list[str], list[str]]:
    """`(class names, their folders)` of `path`: `([], [path])` for a folder of images without
    classes. Raises DataFileError for a missing or empty folder, or loose images beside class folders."""
    path = os.path.expanduser(os.fspath(path))
    if not os.path.isdir(path):
        raise DataFileError(f"{path} is not a folder; give a folder of images, or of one sub-folder of "
                            "images per class.")
    entries = [n for n in os.listdir(path) if not n.startswith(".")]
    folders = sorted((n for n in entries if os.path.isdir(os.path.join(path, n))), key=natural_key)
    if not folders:
        return [], [path]
    loose = [n for n in entries if not os.path.isdir(os.path.join(path, n))]
    if loose:
        raise DataFileError(f"{os.path.join(path, sorted(loose)[0])} lies beside the class folders "
                            f"{', '.join(folders[:3])}{' ...' if len(folders) > 3 else ''}: with class "
                            "sub-folders every image must be in one of them; move it into its class folder.")
    return folders, [os.path.join(path, n) for n in folders]


class ImageFolderDataset(keras.utils.PyDataset):
    """Batches of your own images (module docstring): `images`, or `(images, labels)` with
    classes. `images` float32 (B, H, W, C) in [0, 1]; `labels` int32 (B,).

    Args:
        path: the folder.
        batch_size: images per batch (global batch under `shard`).
        image_size: side of the square images served; None keeps the files' size (all equal).
        with_labels: serve labels; default: when `path` has class sub-folders. (False trains a
            GAN on every class's images.)
        seed: seed of the orders; default: drawn from numpy's global generator.
        shuffle: False serves the files in their natural order every epoch.
        limit: the first `limit` images (in file order) only.
        skip_bad_files: skip bad files instead of raising.
        channels: 1 or 3 instead of deciding from the files.
        shard: `(process index, process count)`: this process's slice of every global batch,
            whole global batches only (as `EpochShuffledArrays`).
        **kwargs: `keras.utils.PyDataset` arguments.
    """

    #: Tells `AdversarialModel.fit` that this dataset shuffles itself from (seed, epoch).
    orders_itself = True

    def __init__(self, path: str, batch_size: int = 32, image_size: int | None = None,
                 with_labels: bool | None = None, seed: int | None = None, shuffle: bool = True,
                 limit: int | None = None, skip_bad_files: bool = False, channels: int | None = None,
                 shard: tuple[int, int] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.batch_size = check_batch_size(batch_size)
        if image_size is not None and (isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer))
                                       or image_size < 1):
            raise ValueError(f"image_size must be a positive integer or None; got {image_size!r}.")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer))
                                  or limit < 1):
            raise ValueError(f"limit must be a positive integer or None; got {limit!r}.")
        index, count = shard if shard is not None else (0, 1)
        if not (isinstance(count, (int, np.integer)) and count >= 1 and 0 <= index < count):
            raise ValueError(f"shard must be (index, count) with 0 <= index < count; got {shard!r}.")
        if self.batch_size % count:
            raise ValueError(f"The global batch of {batch_size} cannot be split evenly over {count} processes; "
                             f"use a batch size divisible by {count}.")
        self.path = os.fspath(path)
        self.shard = (int(index), int(count))
        self.skip_bad_files = bool(skip_bad_files)
        self.skipped: list[tuple[str, str]] = []
        self.skipped_reads = 0
        self._reported: set[str] = set()
        #: the DataFileError a read during training raised (Keras' TensorFlow input pipeline wraps it
        #: in a tf error of its own; zoo.train reports this one).
        self.read_error: DataFileError | None = None
        self.class_names, folders = image_folder_layout(self.path)
        self.with_labels = bool(self.class_names) if with_labels is None else bool(with_labels)
        if self.with_labels and not self.class_names:
            raise DataFileError(f"{self.path} has no class sub-folders, so its images have no labels: put each "
                                "class's images in a sub-folder named after the class (path/cat/, path/dog/).")
        self.files, labels = [], []
        for label, folder in enumerate(folders):
            what = f"images of class {self.class_names[label]!r}" if self.class_names else "images"
            for file in list_image_files(folder, what):
                info = self._checked(file)
                if info is not None:
                    self.files.append(info)
                    labels.append(label)
        if not self.files:
            raise DataFileError(f"{self.path} holds no readable images (every file was skipped as bad).")
        if limit is not None:
            self.files, labels = self.files[:limit], labels[:limit]
        self.labels = np.asarray(labels, np.int32)
        self.channels = int(channels) if channels is not None else (1 if all(f.gray for f in self.files) else 3)
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3; got {channels!r}.")
        if image_size is None:
            first = self.files[0]
            for info in self.files[1:]:
                if (info.width, info.height) != (first.width, first.height):
                    raise DataFileError(
                        f"{info.path} is {info.width}x{info.height} but {first.path} is {first.width}x"
                        f"{first.height}: without an image size every image must have the same size. Pass "
                        "image_size= (--image-size) to resize them all, or resize the odd ones.")
            self.image_shape = (first.height, first.width, self.channels)
        else:
            self.image_shape = (int(image_size), int(image_size), self.channels)
        if count > 1 and len(self.files) < self.batch_size:
            raise ValueError(f"{len(self.files)} images make no global batch of {self.batch_size}; use more data.")
        self.seed = int(np.random.randint(0, 2**31 - 1)) if seed is None else int(seed)
        self.shuffle = bool(shuffle)
        self.epoch = 0

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def __len__(self) -> int:
        if self.shard[1] > 1:  # whole global batches only: every process takes the same steps
            return len(self.files) // self.batch_size
        return math.ceil(len(self.files) / self.batch_size)

    def order(self, epoch: int) -> np.ndarray:
        """The image indices of `epoch`, in the order they are served."""
        if not self.shuffle:
            return np.arange(len(self.files))
        return np.random.default_rng([self.seed, int(epoch)]).permutation(len(self.files))

    def batch(self, epoch: int, index: int):
        """Batch `index` of epoch `epoch` (a pure function of them and the files)."""
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} out of range for {len(self)} batches.")
        chosen = self.order(epoch)[index * self.batch_size : (index + 1) * self.batch_size]
        part, count = self.shard
        if count > 1:
            per_process = self.batch_size // count
            chosen = chosen[part * per_process : (part + 1) * per_process]
        images = np.stack([self._read_or_skip(int(i), epoch, index) for i in chosen])
        images = images.astype("float32") / 255.0
        return (images, self.labels[chosen]) if self.with_labels else images

    def __getitem__(self, index: int):
        return self.batch(self.epoch, index)

    def on_epoch_end(self) -> None:
        self.epoch += 1

    def read_image(self, i: int) -> np.ndarray:
        """Image `i` as uint8 (H, W, C); DataFileError if it cannot be decoded now."""
        height, width, channels = self.image_shape
        image, _ = open_image(self.files[i].path)
        array = resize(as_channels(image, channels), (width, height))
        return array.reshape(height, width, channels)

    def arrays(self, limit: int | None = None):
        """The images (first `limit`) in file order as float32 [0, 1], and their labels."""
        n = len(self.files) if limit is None else min(limit, len(self.files))
        images = np.stack([self._read_or_skip(i, 0, 0) for i in range(n)]).astype("float32") / 255.0
        return images, self.labels[:n]

    def _checked(self, path: str):
        try:
            return scan_image(path)
        except DataFileError as e:
            if not self.skip_bad_files:
                raise
            self.skipped.append((path, str(e)))
            print(f"skipping bad file {path}: {e}", file=sys.stderr)
            return None

    def _read_or_skip(self, i: int, epoch: int, index: int) -> np.ndarray:
        try:
            return self.read_image(i)
        except DataFileError as e:
            where = f"met at epoch {epoch + 1}, batch {index + 1}"
            if not self.skip_bad_files:
                self.read_error = met_during_training(e, epoch, index)
                raise self.read_error from e
            first = str(e)
        for step in range(1, len(self.files)):  # the next readable image of the same class, in file order
            j = (i + step) % len(self.files)
            if self.labels[j] != self.labels[i]:
                continue
            try:
                image = self.read_image(j)
            except DataFileError:
                continue
            self.skipped_reads += 1
            if self.files[i].path not in self._reported:
                self._reported.add(self.files[i].path)
                print(f"skipping bad file ({where}): {first}; serving {self.files[j].path} instead",
                      file=sys.stderr)
            return image
        raise DataFileError(f"No other image of its class in {self.path} can be read ({first}).")


__all__ = ["ImageFolderDataset", "image_folder_layout", "IMAGE_SUFFIXES"]
