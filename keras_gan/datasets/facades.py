"""CMP Facades for pix2pix: label maps and photos of building facades, as image pairs.

`facades(split)` returns `(inputs, targets)` float32 arrays in [-1, 1] of shape
(N, image_size, image_size, 3); `FacadesDataset` serves the same pairs in
batches for `fit`, with fresh random jitter every epoch. pix2pix's facades
task is label map -> photo (`direction="label2photo"`).

Sources, tried in this order:

1. The CMP Facade Database "base" set (Tylecek & Sara, 2013) in
   `<data_dir>/cmp_facade_base/` (or `data_dir` itself): `cmp_bNNNN.jpg`
   (photo) and `cmp_bNNNN.png` (palette label map, rendered in its palette's
   RGB colours, as pix2pix's label images are). Split by file number, fixed
   by this project (`../shared/data/README.md`): train 1-300, val 301-328,
   test 329-378. If the folder has a `SHA256SUMS` file, every file is checked
   against it as it is read (the bytes are read anyway, so this costs little).
2. The pix2pix "facades" layout: `<data_dir>/facades/{train,val,test}/N.jpg`
   (or `data_dir` itself), each image the photo (A, left) and the label map
   (B, right) side by side, as in the official `facades.tar.gz`.
3. With neither `data_dir` nor `$KERAS_GAN_DATA_DIR` set: the official
   `facades.tar.gz` downloaded with `keras.utils.get_file` (layout 2).

Preprocessing (Isola et al. 2017, section 6.2 and the reference code):
images are resized to a square image_size x image_size (the official set is
256 x 256, aspect ratio not kept). Training-set augmentation ("random
jitter"): resize to 286 x 286 (`jitter_size`, scaled in proportion for other
sizes), take a random image_size crop and mirror it with probability 1/2; the
input and the target get the same crop and the same mirroring. Validation and
test images are only resized (deterministic).

Resampling: photos are resized bilinearly (with Pillow's antialiasing when
shrinking); CMP label maps with nearest neighbour, so that every pixel keeps
one of the palette's 12 class colours. (The official set stores label maps
as JPEG and the reference code resizes them bilinearly, which blends colours
at class borders; side-by-side label maps, which are JPEG, are resized
bilinearly here too.)
"""

from __future__ import annotations

import os
from typing import NamedTuple

import keras
import numpy as np

from keras_gan.datasets.idx import DataFileError
from keras_gan.datasets.image_files import open_image, resize
from keras_gan.datasets.paired import (  # noqa: F401 - jitter_size, random_jitter: public here too
    PAPER_IMAGE_SIZE,
    PAPER_JITTER_SIZE,  # noqa: F401
    PairedBatches,
    check_batch_size,
    jitter_size,
    random_jitter,
    to_signed_unit_range,
)
from keras_gan.datasets.paths import DATA_DIR_ENV, configured_root, resolve_data_dir

SPLITS = ("train", "val", "test")
DIRECTIONS = ("label2photo", "photo2label")
#: This project's fixed split of the 378 CMP base pairs (by file number, inclusive).
CMP_SPLITS = {"train": (1, 300), "val": (301, 328), "test": (329, 378)}
CMP_FOLDER = "cmp_facade_base"
ALIGNED_FOLDER = "facades"
FACADES_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/facades.tar.gz"
#: Override of FACADES_URL (a mirror, or a `file://` path to the archive).
FACADES_URL_ENV = "KERAS_GAN_FACADES_URL"
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


#: The 12 CMP classes, in palette order (palette index = class index + 1), and the RGB
#: colour each has in the label maps (the CMP palette; pix2pix's facades labels use it too).
CMP_CLASS_NAMES = ("background", "facade", "window", "door", "cornice", "sill", "balcony", "blind",
                   "deco", "molding", "pillar", "shop")
CMP_CLASS_COLORS = np.array(
    [(0, 0, 170), (0, 0, 255), (0, 85, 255), (0, 170, 255), (0, 255, 255), (85, 255, 170),
     (170, 255, 85), (255, 255, 0), (255, 170, 0), (255, 85, 0), (255, 0, 0), (170, 0, 0)],
    dtype=np.uint8,
)


def label_map_classes(label_maps: np.ndarray) -> np.ndarray:
    """Class indices (N, H, W) int64 in 0..11 of RGB label maps (N, H, W, 3).

    Accepts uint8 [0, 255] or float [-1, 1] maps (pix2pix inputs). Each pixel
    takes the class of the nearest palette colour, so maps that were stored as
    JPEG or resized bilinearly (the official facades set) still map to classes.
    """
    maps = np.asarray(label_maps)
    if maps.ndim != 4 or maps.shape[-1] != 3:
        raise ValueError(f"label maps must be RGB images (N, H, W, 3); got shape {maps.shape}.")
    if np.issubdtype(maps.dtype, np.floating):
        if maps.size and (maps.min() < -1 - 1e-3 or maps.max() > 1 + 1e-3):
            raise ValueError(f"float label maps must be in [-1, 1]; got [{maps.min():.3g}, {maps.max():.3g}].")
        maps = np.clip((maps + 1.0) * 127.5, 0, 255)
    elif maps.dtype != np.uint8:
        raise ValueError(f"label maps must be uint8 or float in [-1, 1]; got dtype {maps.dtype}.")
    colors = CMP_CLASS_COLORS.astype(np.float32)
    flat = maps.reshape(-1, 3).astype(np.float32)
    classes = np.empty(len(flat), np.int64)
    for start in range(0, len(flat), 1 << 18):  # bounded memory: 2^18 pixels x 12 colours at a time
        chunk = flat[start : start + (1 << 18)]
        distances = ((chunk[:, None, :] - colors[None]) ** 2).sum(-1)
        classes[start : start + len(chunk)] = distances.argmin(1)
    return classes.reshape(maps.shape[:3])


class FacadesPairs(NamedTuple):
    inputs: np.ndarray  # float32 (N, S, S, 3) in [-1, 1]
    targets: np.ndarray  # float32 (N, S, S, 3) in [-1, 1]


# ---------------------------------------------------------------- public API
def facades(
    split: str = "train",
    data_dir: str | None = None,
    image_size: int = PAPER_IMAGE_SIZE,
    direction: str = "label2photo",
    augment: bool | None = None,
    seed: int | None = None,
    limit: int | None = None,
) -> FacadesPairs:
    """Load one split of the facades pairs (see the module docstring).

    Args:
        split: "train", "val" or "test".
        data_dir: folder holding `cmp_facade_base/` or `facades/` (or one of
            them itself). Defaults to `$KERAS_GAN_DATA_DIR`; with neither set,
            the official facades.tar.gz is downloaded.
        image_size: side of the square output images (256 in the paper).
        direction: "label2photo" (inputs are label maps, targets photos: the
            paper's task) or "photo2label".
        augment: apply the paper's random jitter and mirroring; default: only
            for "train". The arrays hold one random draw; use
            `FacadesDataset` to draw a new one every epoch.
        seed: seed of the augmentation (with `augment`).
        limit: keep only the first `limit` pairs of the split.
    """
    _check_arguments(split, direction, image_size)
    augment = (split == "train") if augment is None else bool(augment)
    labels, photos = load_facades_uint8(split, data_dir, jitter_size(image_size) if augment else image_size, limit)
    if augment:
        labels, photos = random_jitter(labels, photos, image_size, np.random.default_rng(seed))
    inputs, targets = (labels, photos) if direction == "label2photo" else (photos, labels)
    return FacadesPairs(to_signed_unit_range(inputs), to_signed_unit_range(targets))


class FacadesDataset(PairedBatches):
    """Batches of facades pairs for `fit`, with fresh random jitter every epoch.

    Each batch is `(inputs, targets)`, float32 in [-1, 1]. The augmentation
    and the order of the pairs are a function of `(seed, epoch, batch index)`
    only (`keras_gan.datasets.paired.PairedBatches`, shared with
    `PairedImageFolder`), so the same batch index gives the same batch within
    an epoch (safe with worker threads) and a new draw in the next epoch.
    Keras calls `on_epoch_end` between epochs of `fit`. The pairs are decoded
    once, at the load size, and kept in memory (606 pairs at most).

    Args:
        split, data_dir, image_size, direction, limit: as `facades`.
        batch_size: pairs per batch (1 in the paper for facades).
        augment: the paper's random jitter and mirroring; default: train only.
        shuffle: new order every epoch; default: train only.
        seed: seed of the order and the augmentation; default: drawn from
            numpy's global generator (which `keras.utils.set_random_seed` seeds).
        **kwargs: `keras.utils.PyDataset` arguments (workers, ...).
    """

    def __init__(
        self,
        split: str = "train",
        batch_size: int = 1,
        data_dir: str | None = None,
        image_size: int = PAPER_IMAGE_SIZE,
        direction: str = "label2photo",
        augment: bool | None = None,
        shuffle: bool | None = None,
        seed: int | None = None,
        limit: int | None = None,
        **kwargs,
    ):
        _check_arguments(split, direction, image_size)
        check_batch_size(batch_size)
        augment = (split == "train") if augment is None else bool(augment)
        shuffle = (split == "train") if shuffle is None else bool(shuffle)
        self.direction = direction
        load_size = jitter_size(image_size) if augment else int(image_size)
        labels, photos = load_facades_uint8(split, data_dir, load_size, limit)
        super().__init__(len(labels), batch_size, image_size, a_to_b=direction == "label2photo",
                         augment=augment, shuffle=shuffle, seed=seed, **kwargs)
        self._labels, self._photos = labels, photos

    def read_pairs(self, indices, epoch, index):
        """(label maps, photos) of `indices`, already decoded at the load size."""
        return self._labels[indices], self._photos[indices]


# ------------------------------------------------------------------ reading
def load_facades_uint8(split: str, data_dir: str | None, size: int, limit: int | None = None):
    """(label maps, photos) of a split as uint8 arrays (N, size, size, 3), from whichever source is found."""
    if split not in SPLITS:
        raise ValueError(f"Unknown facades split {split!r}; expected one of {SPLITS}.")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1):
        raise ValueError(f"limit must be a positive integer or None; got {limit!r}.")
    kind, folder = _locate(data_dir, split)
    if kind == "cmp":
        return _read_cmp(folder, split, size, limit)
    return _read_side_by_side(os.path.join(folder, split), size, limit)


def facades_layout(data_dir: str | None = None, split: str = "test") -> str:
    """Which facades source `facades(split, data_dir)` reads, without reading or downloading it:
    "cmp" (the CMP base pairs, this project's fixed 300 / 28 / 50 split) or "pix2pix" (the
    official archive's side-by-side layout and its own 400 / 100 / 106 split, local or to be
    downloaded). Why it matters: the two splits differ, so a network trained on one split's train
    images may have seen the other's test images (`evaluation.fcn_score` refuses "pix2pix")."""
    root = configured_root(data_dir)
    if not root:
        return "pix2pix"
    return "cmp" if _locate(data_dir, split)[0] == "cmp" else "pix2pix"


def _locate(data_dir: str | None, split: str) -> tuple:
    """("cmp" | "side_by_side", folder); downloads when no local folder is configured."""
    root = configured_root(data_dir)
    if not root:
        return "side_by_side", _download()
    try:
        return "cmp", resolve_data_dir(data_dir, CMP_FOLDER, "cmp_b0001.jpg")
    except FileNotFoundError:
        pass
    try:
        return "side_by_side", resolve_data_dir(data_dir, ALIGNED_FOLDER, split)
    except FileNotFoundError:
        pass
    source = "data_dir" if data_dir is not None else f"${DATA_DIR_ENV}"
    raise FileNotFoundError(
        f"{source} is {root!r}, but it holds no facades data: expected the CMP base pairs "
        f"(cmp_b0001.jpg, ...) in {os.path.join(root, CMP_FOLDER)!r} or the pix2pix layout "
        f"{os.path.join(root, ALIGNED_FOLDER, split, '1.jpg')!r}. Point it at one of them, or "
        f"unset it to download {FACADES_URL}."
    )


def _download() -> str:
    """The official pix2pix facades archive, downloaded (with a progress bar) and extracted once
    into the Keras cache; returns the folder holding train/, val/ and test/."""
    url = os.environ.get(FACADES_URL_ENV) or FACADES_URL
    keras_home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    os.makedirs(os.path.join(keras_home, "datasets"), exist_ok=True)  # else Keras falls back to /tmp
    try:
        path = keras.utils.get_file("facades.tar.gz", origin=url, extract=True, cache_subdir="datasets",
                                    cache_dir=keras_home)
    except Exception as e:
        raise FileNotFoundError(
            f"No local facades data and downloading {url} failed ({type(e).__name__}: {e}). Offline: set "
            f"data_dir= or ${DATA_DIR_ENV} to a folder with cmp_facade_base/ or facades/{{train,val,test}}/, "
            f"or ${FACADES_URL_ENV} to a mirror of the archive."
        ) from e
    for candidate in (os.path.join(path, ALIGNED_FOLDER), path, os.path.join(os.path.dirname(path), ALIGNED_FOLDER)):
        if os.path.isdir(os.path.join(candidate, "train")):
            return candidate
    raise DataFileError(f"The downloaded facades archive at {path} has no facades/train folder.")


def _read_cmp(folder: str, split: str, size: int, limit: int | None):
    first, last = CMP_SPLITS[split]
    numbers = range(first, last + 1 if limit is None else min(last, first + limit - 1) + 1)
    checksums = _read_checksums(folder)
    labels, photos = [], []
    for n in numbers:
        photo_path = os.path.join(folder, f"cmp_b{n:04d}.jpg")
        label_path = os.path.join(folder, f"cmp_b{n:04d}.png")
        photo, photo_size = _open_image(photo_path, checksums, shrink_to=size)
        label, label_size = _open_image(label_path, checksums)
        if label.mode == "P":
            label = label.convert("RGB")  # each class index -> its palette colour
        elif label.mode != "RGB":
            raise DataFileError(f"{label_path}: expected a palette (mode P) label map, found mode {label.mode}.")
        if label_size != photo_size:
            raise DataFileError(
                f"{label_path} is {label_size[0]}x{label_size[1]} but its photo {photo_path} is "
                f"{photo_size[0]}x{photo_size[1]}; the pair does not match."
            )
        photos.append(_resize(photo.convert("RGB"), size, smooth=True))
        labels.append(_resize(label, size, smooth=False))
    return np.stack(labels), np.stack(photos)


def _read_side_by_side(split_folder: str, size: int, limit: int | None):
    if not os.path.isdir(split_folder):
        raise DataFileError(f"Facades split folder not found: {split_folder}")
    names = [f for f in os.listdir(split_folder) if f.lower().endswith(_IMAGE_SUFFIXES)]
    if not names:
        raise DataFileError(f"{split_folder} holds no .jpg/.png images.")
    stem = lambda f: os.path.splitext(f)[0]
    names.sort(key=lambda f: (0, int(stem(f)), f) if stem(f).isdigit() else (1, 0, f))
    if limit is not None:
        names = names[:limit]
    labels, photos = [], []
    for name in names:
        path = os.path.join(split_folder, name)
        image = _open_image(path, {})[0].convert("RGB")
        width, height = image.size
        if width != 2 * height:
            raise DataFileError(
                f"{path} is {width}x{height}; a pix2pix pair image holds photo (A) and label map (B) "
                "side by side, so it must be twice as wide as it is high."
            )
        photos.append(_resize(image.crop((0, 0, height, height)), size, smooth=True))
        labels.append(_resize(image.crop((height, 0, width, height)), size, smooth=True))
    return np.stack(labels), np.stack(photos)


def _resize(image, size: int, smooth: bool) -> np.ndarray:
    return resize(image, size, smooth)


def _read_checksums(folder: str) -> dict:
    """{file name: sha256 hex} from the folder's SHA256SUMS, or {} if it has none."""
    path = os.path.join(folder, "SHA256SUMS")
    if not os.path.isfile(path):
        return {}
    sums = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def _open_image(path: str, checksums: dict, shrink_to: int | None = None):
    """`keras_gan.datasets.image_files.open_image`, with "Facades file not found" for a missing file."""
    if not os.path.isfile(path):
        raise DataFileError(f"Facades file not found: {path}")
    return open_image(path, checksums, shrink_to=shrink_to)


def _check_arguments(split: str, direction: str, image_size: int) -> None:
    if split not in SPLITS:
        raise ValueError(f"Unknown facades split {split!r}; expected one of {SPLITS}.")
    if direction not in DIRECTIONS:
        raise ValueError(f"Unknown direction {direction!r}; expected one of {DIRECTIONS}.")
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) or image_size < 1:
        raise ValueError(f"image_size must be a positive integer; got {image_size!r}.")
