"""MNIST with the GAN paper's split.

Goodfellow et al. (2014) train on the first 50,000 training images, use the
last 10,000 as validation (the Parzen bandwidth is cross-validated on them)
and report log-likelihood on the 10,000 test images:

- ``"train"``      = train[0:50000]
- ``"validation"`` = train[50000:60000]
- ``"test"``       = t10k (10,000 images)
- ``"full_train"`` = train[0:60000]

Images are float32 in [0, 1] (not binarised), shape (N, 28, 28, 1); labels int64.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

from keras_gan.datasets.idx import DataFileError, read_idx
from keras_gan.datasets.paths import DATA_DIR_ENV, resolve_data_dir

SPLITS = {
    "train": ("train", 0, 50000),
    "validation": ("train", 50000, 60000),
    "test": ("t10k", 0, 10000),
    "full_train": ("train", 0, 60000),
}
_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "t10k": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_TFDS_SPLITS = {
    "train": "train[:50000]",
    "validation": "train[50000:]",
    "test": "test",
    "full_train": "train",
}


class MNISTSplit(NamedTuple):
    images: np.ndarray  # float32 (N, 28, 28, 1) in [0, 1]
    labels: np.ndarray  # int64 (N,)


def _find(folder: str, name: str) -> str:
    gz = os.path.join(folder, name)
    raw = gz.removesuffix(".gz")
    return gz if os.path.exists(gz) or not os.path.exists(raw) else raw


def _read_local(folder: str, source: str):
    image_file, label_file = (_find(folder, f) for f in _FILES[source])
    images = read_idx(image_file, expected_ndim=3)
    labels = read_idx(label_file, expected_ndim=1)
    if images.shape[1:] != (28, 28):
        raise DataFileError(f"{image_file}: expected 28x28 images, found {images.shape[1:]}.")
    if len(images) != len(labels):
        raise DataFileError(
            f"{image_file} has {len(images)} images but {label_file} has {len(labels)} labels."
        )
    return images, labels


#: Where MNIST is downloaded from when no local copy is configured (`<base><file>`); override
#: with `$KERAS_GAN_MNIST_URL` (a mirror, or a `file://` folder).
MNIST_URL_ENV = "KERAS_GAN_MNIST_URL"
DEFAULT_MNIST_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
#: md5 of each file's *uncompressed* bytes (the canonical IDX files). Mirrors re-wrap the
#: gzip streams, so the compressed bytes differ between them; the contents must not.
CANONICAL_MD5 = {
    "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
}
_CACHE_SUBDIR = os.path.join("datasets", "keras_gan_mnist")


def _download() -> str:
    """The four MNIST files in the Keras cache (downloaded once, with a progress bar, and
    checked against the canonical md5 of their contents); returns their folder."""
    import gzip
    import hashlib

    import keras

    base = os.environ.get(MNIST_URL_ENV) or DEFAULT_MNIST_URL
    keras_home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    folder = os.path.join(keras_home, _CACHE_SUBDIR)
    os.makedirs(folder, exist_ok=True)
    for name, md5 in CANONICAL_MD5.items():
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            continue
        url = base.rstrip("/") + "/" + name
        try:
            fetched = keras.utils.get_file(name, origin=url, cache_subdir=_CACHE_SUBDIR, cache_dir=keras_home)
        except Exception as e:  # offline, firewall, 404
            raise FileNotFoundError(
                f"No local MNIST and downloading {url} failed ({type(e).__name__}: {e}). Offline: pass "
                f"data_dir=... or set ${DATA_DIR_ENV} to a folder with the four MNIST .gz files "
                f"(train-images-idx3-ubyte.gz, ...), or set ${MNIST_URL_ENV} to a mirror."
            ) from e
        try:
            with gzip.open(fetched, "rb") as f:
                found = hashlib.md5(f.read()).hexdigest()
        except (OSError, EOFError) as e:
            found = f"unreadable ({e})"
        if found != md5:
            os.remove(fetched)  # never leave a wrong file where the next call would read it
            raise DataFileError(
                f"The MNIST file downloaded from {url} has content md5 {found}, not the canonical {md5}: "
                f"a damaged download or a different file. It was removed; try again or use another "
                f"${MNIST_URL_ENV}."
            )
    return folder


def _read_tfds(split: str):  # pragma: no cover - needs the network or a tfds cache
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:
        raise FileNotFoundError(
            f"No local MNIST: pass data_dir=... or set ${DATA_DIR_ENV} to a folder with the "
            "four MNIST .gz files, or `pip install tensorflow-datasets` to download them."
        ) from e
    data = tfds.as_numpy(tfds.load("mnist", split=_TFDS_SPLITS[split], batch_size=-1))
    return data["image"][..., 0], data["label"]


def mnist(split: str = "train", data_dir: str | None = None, limit: int | None = None) -> MNISTSplit:
    """Load one split of MNIST (see the module docstring for the splits).

    Args:
        split: "train", "validation", "test" or "full_train".
        data_dir: folder with the standard IDX files (`.gz` or not), or a parent
            with them in `mnist/`. Defaults to `$KERAS_GAN_DATA_DIR`; if neither
            is set, the files are downloaded once into the Keras cache
            (`~/.keras/datasets/keras_gan_mnist`, from `$KERAS_GAN_MNIST_URL` or
            the standard mirror), checked against the canonical contents, with
            tensorflow-datasets as the fallback when the download fails.
        limit: keep only the first `limit` examples (for quick experiments).
    """
    if split not in SPLITS:
        raise ValueError(f"Unknown MNIST split {split!r}; expected one of {sorted(SPLITS)}.")
    source, start, stop = SPLITS[split]
    folder = resolve_data_dir(data_dir, "mnist", _FILES["train"][0])
    if folder is None:
        try:
            folder = _download()
        except FileNotFoundError as download_error:
            try:  # tensorflow-datasets may have MNIST cached (or reach another mirror)
                import tensorflow_datasets  # noqa: F401
            except ImportError:
                raise download_error from None
            folder = None
    if folder is None:  # pragma: no cover - needs tensorflow-datasets and its cache or the network
        images, labels = _read_tfds(split)
    else:
        images, labels = _read_local(folder, source)
        expected = {"train": 60000, "t10k": 10000}[source]
        if len(images) != expected:
            raise DataFileError(
                f"MNIST {source} file in {folder} has {len(images)} images; the standard file has {expected}."
            )
        images, labels = images[start:stop], labels[start:stop]
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    images = (np.asarray(images, dtype=np.float32) / 255.0)[..., None]
    return MNISTSplit(images, np.asarray(labels, dtype=np.int64))
