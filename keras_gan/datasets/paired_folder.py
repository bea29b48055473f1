"""Your own image pairs from a folder, for pix2pix: the pix2pix / CycleGAN repositories' layouts.

Layouts (`path` is what you pass; `split` is "train", "val" or "test"):

- aligned, as pix2pix's datasets (facades, maps, edges2shoes, ...) come:
  `path/<split>/*.jpg`, each image A and B side by side (A left, B right; any
  even width). `path` may also be one such folder itself.
- two folders, as pix2pix's `combine_A_and_B.py` takes them: `path/A/<split>/`
  and `path/B/<split>/`, or `path/A/` and `path/B/` with no split folders;
  A and B images pair up by file name (the extension may differ:
  `A/12.png` with `B/12.jpg`).

Images may have any size and need not be square: each is resized to a square
(pix2pix's `--preprocess resize_and_crop`: load_size x load_size, aspect ratio
not kept), bilinearly; palette images (label maps, as the CMP facades') with
nearest neighbour, so that every pixel keeps a class colour. Grey images are served with 1 channel, others with 3
(palette, alpha and 16-bit images converted), decided per side (A, B) over
the whole split. `direction="AtoB"` makes A the input and B the target;
"BtoA" the reverse. Order and jitter come from `(seed, epoch, batch index)`
exactly as `FacadesDataset` (`keras_gan.datasets.paired.PairedBatches`).

Bad input is found up front: at construction every file's header is checked
(`keras_gan.datasets.image_files.scan_image`: milliseconds per file, no pixels
decoded) and every problem - an unreadable, truncated or non-image file, an
A|B image with an odd width, names without a partner, an empty folder - is one
`DataFileError` naming the file and what is wrong. A file that goes bad later
(found when its batch is read, say at epoch 7) raises a `DataFileError` naming
it before the step that would use it, so the last backup stays the run's state
and the run resumes from it once the file is fixed. With
`skip_bad_files=True` bad files are skipped instead: those found by the scan
are left out (and listed in `skipped`), one found during training is replaced
by the next readable pair in the data set's file order (a fixed rule, so two
runs that meet the same bad file serve the same batches) and counted in
`skipped_reads`.

Why not `keras.utils.image_dataset_from_directory`: it needs TensorFlow
(absent from a `keras-gan[jax]` or `[torch]` install), knows neither pairs nor
the A|B layout, and shuffles from TensorFlow's random state, which a resumed
run does not restore.
"""

from __future__ import annotations

import os
import sys

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
from keras_gan.datasets.paired import PAPER_IMAGE_SIZE, PairedBatches, check_batch_size, jitter_size

SPLITS = ("train", "val", "test")
FOLDER_DIRECTIONS = ("AtoB", "BtoA")


def paired_layout(path: str, split: str = "train") -> tuple[str, str, str | None]:
    """Where `split` of the paired folder `path` lives: `("aligned", folder, None)` or
    `("two_folders", A folder, B folder)`. Raises DataFileError saying which layouts were looked
    for when `path` holds none of them."""
    path = os.path.expanduser(os.fspath(path))
    if not os.path.isdir(path):
        raise DataFileError(f"{path} is not a folder; give the folder holding your pairs (train/ with A|B "
                            "images, or A/ and B/).")
    a, b = os.path.join(path, "A"), os.path.join(path, "B")
    if os.path.isdir(a) or os.path.isdir(b):
        if not (os.path.isdir(a) and os.path.isdir(b)):
            missing = b if os.path.isdir(a) else a
            raise DataFileError(f"{missing} is missing: the two-folder layout needs both A/ and B/ in {path}.")
        if os.path.isdir(os.path.join(a, split)) or os.path.isdir(os.path.join(b, split)):
            return "two_folders", os.path.join(a, split), os.path.join(b, split)
        if any(os.path.isdir(os.path.join(a, s)) for s in SPLITS):
            raise DataFileError(f"{path} has split folders in A/ but no A/{split}/ and B/{split}/; "
                                f"the {split} split is not there.")
        return "two_folders", a, b
    if os.path.isdir(os.path.join(path, split)):
        return "aligned", os.path.join(path, split), None
    if any(os.path.isdir(os.path.join(path, s)) for s in SPLITS):
        raise DataFileError(f"{path} has no {split}/ folder (it has "
                            f"{', '.join(s + '/' for s in SPLITS if os.path.isdir(os.path.join(path, s)))}).")
    if any(n.lower().endswith(IMAGE_SUFFIXES) for n in os.listdir(path)):
        return "aligned", path, None
    raise DataFileError(f"{path} holds no pairs: expected {os.path.join(path, split)}/ with A|B images side "
                        f"by side, or {a}/ and {b}/ with matching file names, or A|B images in {path} itself.")


def has_split(path: str, split: str) -> bool:
    """Whether `paired_layout(path, split)` finds that split (without reading the images)."""
    try:
        kind, folder, _ = paired_layout(path, split)
    except DataFileError:
        return False
    return os.path.basename(os.path.normpath(folder)) == split


class PairedImageFolder(PairedBatches):
    """Batches `(inputs, targets)` of your own image pairs (module docstring), float32 in [-1, 1].

    Args:
        path: the folder (aligned or two-folder layout).
        split: "train", "val" or "test" (used where the layout has split folders).
        batch_size: pairs per batch (1 in the paper).
        direction: "AtoB" (A is the input) or "BtoA".
        image_size: side of the square images served (256 in the paper; a multiple of
            2**levels of the U-Net you train).
        augment: the paper's jitter (resize to `jitter_size(image_size)`, 286 for 256, random
            crop, mirror), fresh each epoch; default: train only.
        shuffle: a new order each epoch; default: train only.
        seed: seed of the order and the jitter.
        limit: the first `limit` pairs only (in natural file-name order).
        skip_bad_files: skip bad files instead of raising (module docstring).
        channels: `(A channels, B channels)` (1 or 3) instead of deciding from the files.
        **kwargs: `keras.utils.PyDataset` arguments.
    """

    def __init__(self, path: str, split: str = "train", batch_size: int = 1, direction: str = "AtoB",
                 image_size: int = PAPER_IMAGE_SIZE, augment: bool | None = None, shuffle: bool | None = None,
                 seed: int | None = None, limit: int | None = None, skip_bad_files: bool = False,
                 channels: tuple[int, int] | None = None, **kwargs):
        if split not in SPLITS:
            raise ValueError(f"Unknown split {split!r}; expected one of {SPLITS}.")
        if direction not in FOLDER_DIRECTIONS:
            raise ValueError(f"Unknown direction {direction!r}; expected one of {FOLDER_DIRECTIONS} "
                             "(A is the left half of an A|B image, or the A/ folder).")
        if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) or image_size < 1:
            raise ValueError(f"image_size must be a positive integer; got {image_size!r}.")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer))
                                  or limit < 1):
            raise ValueError(f"limit must be a positive integer or None; got {limit!r}.")
        check_batch_size(batch_size)
        self.path, self.split, self.direction = os.fspath(path), split, direction
        self.skip_bad_files = bool(skip_bad_files)
        self.layout, folder_a, folder_b = paired_layout(self.path, split)
        #: (path, why) of the files the scan left out (with skip_bad_files).
        self.skipped: list[tuple[str, str]] = []
        #: how many reads during training met a bad file and served the next pair instead.
        self.skipped_reads = 0
        self._reported: set[str] = set()
        #: the DataFileError a read during training raised (Keras' TensorFlow input pipeline wraps it
        #: in a tf error of its own; zoo.train reports this one).
        self.read_error: DataFileError | None = None
        self.pairs = self._scan_pairs(folder_a, folder_b, limit)
        self.channels = tuple(channels) if channels is not None else self._channels()
        if any(c not in (1, 3) for c in self.channels) or len(self.channels) != 2:
            raise ValueError(f"channels must be (A channels, B channels), each 1 or 3; got {channels!r}.")
        augment = (split == "train") if augment is None else bool(augment)
        shuffle = (split == "train") if shuffle is None else bool(shuffle)
        super().__init__(len(self.pairs), batch_size, image_size, a_to_b=direction == "AtoB",
                         augment=augment, shuffle=shuffle, seed=seed, **kwargs)

    # ------------------------------------------------------------- scanning
    def _scan_pairs(self, folder_a: str, folder_b: str | None, limit: int | None) -> list:
        """[(A info, B info or None)]: every file header-checked, pairs matched, problems raised."""
        if self.layout == "aligned":
            infos = []
            for path in list_image_files(folder_a, "A|B pair images"):
                info = self._checked(path, aligned=True)
                if info is not None:
                    infos.append((info, None))
            pairs = infos
        else:
            files_a = list_image_files(folder_a, "A images")
            files_b = list_image_files(folder_b, "B images")
            stems_a, stems_b = _by_stem(files_a), _by_stem(files_b)
            only_a = sorted(set(stems_a) - set(stems_b), key=natural_key)
            only_b = sorted(set(stems_b) - set(stems_a), key=natural_key)
            if only_a or only_b:
                side, names, other = (("A", only_a, folder_b) if only_a else ("B", only_b, folder_a))
                shown = ", ".join(os.path.join(folder_a if side == "A" else folder_b, stems_a.get(n) or stems_b[n])
                                  for n in names[:3])
                more = f" and {len(names) - 3} more" if len(names) > 3 else ""
                raise DataFileError(f"{shown}{more}: no image of the same name in {other}. A and B images pair "
                                    "up by file name (extension aside); add the partners or remove these.")
            pairs = []
            for stem in sorted(stems_a, key=natural_key):
                a = self._checked(os.path.join(folder_a, stems_a[stem]))
                b = self._checked(os.path.join(folder_b, stems_b[stem]))
                if a is not None and b is not None:
                    pairs.append((a, b))
        if not pairs:
            raise DataFileError(f"{folder_a} holds no readable pairs (every file was skipped as bad: "
                                f"{self.skipped[0][0]}: {self.skipped[0][1]} ...).")
        return pairs[:limit] if limit is not None else pairs

    def _checked(self, path: str, aligned: bool = False):
        try:
            info = scan_image(path)
            if aligned and info.width % 2:
                raise DataFileError(f"{path} is {info.width}x{info.height}: an A|B pair image holds A and B side "
                                    "by side, so its width must be even (two halves of equal width).")
            return info
        except DataFileError as e:
            if not self.skip_bad_files:
                raise
            self.skipped.append((path, str(e)))
            print(f"skipping bad file {path}: {e}", file=sys.stderr)
            return None

    def _channels(self) -> tuple[int, int]:
        a_gray = all(a.gray for a, _ in self.pairs)
        b_gray = a_gray if self.layout == "aligned" else all(b.gray for _, b in self.pairs)
        return (1 if a_gray else 3, 1 if b_gray else 3)

    # -------------------------------------------------------------- reading
    def read_pair(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Pair `i` as uint8 (L, L, C_A) and (L, L, C_B) at the load size; DataFileError if a file
        cannot be decoded now."""
        a_info, b_info = self.pairs[i]
        size = self.load_size
        if b_info is None:
            image, _ = open_image(a_info.path)
            width, height = image.size
            if (width, height) != (a_info.width, a_info.height) or width % 2:
                raise DataFileError(f"{a_info.path} is now {width}x{height} (it was {a_info.width}x"
                                    f"{a_info.height} when the data set was read): the file changed.")
            half = width // 2
            image_a, image_b = image.crop((0, 0, half, height)), image.crop((half, 0, width, height))
        else:
            image_a, image_b = open_image(a_info.path)[0], open_image(b_info.path)[0]
        # palette images are label maps: nearest neighbour keeps their class colours (as the CMP facades)
        a = resize(as_channels(image_a, self.channels[0]), size, smooth=image_a.mode != "P")
        b = resize(as_channels(image_b, self.channels[1]), size, smooth=image_b.mode != "P")
        return a.reshape(size, size, self.channels[0]), b.reshape(size, size, self.channels[1])

    def read_pairs(self, indices, epoch, index):
        pairs = [self._read_or_skip(int(i), epoch, index) for i in indices]
        return np.stack([a for a, _ in pairs]), np.stack([b for _, b in pairs])

    def _read_or_skip(self, i: int, epoch: int, index: int):
        try:
            return self.read_pair(i)
        except DataFileError as e:
            where = f"met at epoch {epoch + 1}, batch {index + 1}"
            if not self.skip_bad_files:
                self.read_error = met_during_training(e, epoch, index)
                raise self.read_error from e
            first = str(e)
        for step in range(1, len(self.pairs)):  # the next readable pair in file order
            j = (i + step) % len(self.pairs)
            try:
                pair = self.read_pair(j)
            except DataFileError:
                continue
            self.skipped_reads += 1
            bad = self.pairs[i][0].path
            if bad not in self._reported:
                self._reported.add(bad)
                print(f"skipping bad file ({where}): {first}; serving {self.pairs[j][0].path} instead",
                      file=sys.stderr)
            return pair
        raise DataFileError(f"No file of {self.path} can be read any more ({first}).")

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """All pairs as `(inputs, targets)` float32 arrays, read in file order without jitter (e.g.
        validation pairs for `translate`)."""
        from keras_gan.datasets.paired import to_signed_unit_range

        if self.augment:
            raise ValueError("arrays() serves the pairs without jitter; build the data set with augment=False.")
        a, b = self.read_pairs(np.arange(len(self.pairs)), 0, 0)
        inputs, targets = (a, b) if self.a_to_b else (b, a)
        return to_signed_unit_range(inputs), to_signed_unit_range(targets)

    @property
    def input_channels(self) -> int:
        return self.channels[0] if self.a_to_b else self.channels[1]

    @property
    def target_channels(self) -> int:
        return self.channels[1] if self.a_to_b else self.channels[0]


def _by_stem(paths: list[str]) -> dict[str, str]:
    """{file name without extension: file name}; two files with one stem are an error."""
    stems: dict[str, str] = {}
    for path in paths:
        name = os.path.basename(path)
        stem = os.path.splitext(name)[0]
        if stem in stems:
            raise DataFileError(f"{path} and {os.path.join(os.path.dirname(path), stems[stem])} have the same "
                                "name apart from the extension: which one pairs with the other folder's "
                                "image is ambiguous; remove one.")
        stems[stem] = name
    return stems


__all__ = ["PairedImageFolder", "paired_layout", "has_split", "jitter_size"]
