"""Data sets download when no local copy is configured: MNIST from a mirror, checked against the
canonical contents, cached once; facades from the official archive's layout; offline errors say
what to do. Served from local file:// URLs (nothing can be downloaded here)."""

import gzip
import io
import os
import shutil
import tarfile

import numpy as np
import pytest
from PIL import Image

import importlib

from keras_gan import datasets

# The modules (the package exports functions of the same names).
facades_module = importlib.import_module("keras_gan.datasets.facades")
mnist_module = importlib.import_module("keras_gan.datasets.mnist")


@pytest.fixture
def no_local_data(tmp_path, monkeypatch):
    monkeypatch.delenv(datasets.DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return tmp_path


def test_mnist_downloads_checks_the_canonical_contents_and_caches(no_local_data, data_dir, monkeypatch):
    mirror = no_local_data / "mirror"
    mirror.mkdir()
    source = os.path.join(data_dir, "mnist")
    for name in mnist_module.CANONICAL_MD5:
        shutil.copy(os.path.join(source, name), mirror / name)
    monkeypatch.setenv(mnist_module.MNIST_URL_ENV, mirror.as_uri() + "/")
    test = datasets.mnist("test", limit=5)
    reference = datasets.mnist("test", data_dir=data_dir, limit=5)
    np.testing.assert_array_equal(test.images, reference.images)
    np.testing.assert_array_equal(test.labels, reference.labels)
    cache = no_local_data / "keras_home" / "datasets" / "keras_gan_mnist"
    assert sorted(os.listdir(cache)) == sorted(mnist_module.CANONICAL_MD5)
    shutil.rmtree(mirror)  # the second call reads the cache: nothing is fetched again
    assert datasets.mnist("validation", limit=3).images.shape == (3, 28, 28, 1)


def test_a_damaged_mnist_download_is_refused_and_removed(no_local_data, data_dir, monkeypatch):
    mirror = no_local_data / "mirror"
    mirror.mkdir()
    for name in mnist_module.CANONICAL_MD5:
        shutil.copy(os.path.join(data_dir, "mnist", name), mirror / name)
    with gzip.open(mirror / "t10k-labels-idx1-ubyte.gz", "rb") as f:
        labels = bytearray(f.read())
    labels[-1] = (labels[-1] + 1) % 10  # one wrong label: the gzip is valid, the content is not
    (mirror / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(labels)))
    monkeypatch.setenv(mnist_module.MNIST_URL_ENV, mirror.as_uri() + "/")
    with pytest.raises(datasets.DataFileError, match="not the canonical"):
        datasets.mnist("test")
    cache = no_local_data / "keras_home" / "datasets" / "keras_gan_mnist"
    assert "t10k-labels-idx1-ubyte.gz" not in os.listdir(cache)


def test_offline_mnist_says_what_to_do(no_local_data, monkeypatch):
    monkeypatch.setenv(mnist_module.MNIST_URL_ENV, (no_local_data / "nowhere").as_uri() + "/")
    monkeypatch.setitem(__import__("sys").modules, "tensorflow_datasets", None)  # no tfds fallback
    with pytest.raises(FileNotFoundError, match=f"KERAS_GAN_DATA_DIR.*{mnist_module.MNIST_URL_ENV}"):
        datasets.mnist("test")


def _facades_archive(path, pairs=2):
    """A small archive in the official layout: facades/{train,val,test}/N.jpg, photo | labels."""
    with tarfile.open(path, "w:gz") as archive:
        for split in ("train", "val", "test"):
            for i in range(1, pairs + 1):
                side = np.zeros((64, 128, 3), np.uint8)
                side[:, :64] = 40 * i  # the photo half
                side[:, 64:] = (0, 0, 170)  # the label half: background class colour
                buffer = io.BytesIO()
                Image.fromarray(side).save(buffer, format="JPEG", quality=95)
                info = tarfile.TarInfo(f"facades/{split}/{i}.jpg")
                info.size = len(buffer.getvalue())
                archive.addfile(info, io.BytesIO(buffer.getvalue()))


def test_facades_download_the_official_archive_layout(no_local_data, monkeypatch):
    archive = no_local_data / "facades.tar.gz"
    _facades_archive(archive)
    monkeypatch.setenv(facades_module.FACADES_URL_ENV, archive.as_uri())
    pairs = datasets.facades("val", image_size=32)
    assert pairs.inputs.shape == (2, 32, 32, 3) and pairs.targets.shape == (2, 32, 32, 3)
    monkeypatch.setenv(facades_module.FACADES_URL_ENV, (no_local_data / "missing.tar.gz").as_uri())
    os.remove(archive)
    assert datasets.facades("test", image_size=32).inputs.shape[0] == 2  # extracted once, then cached


def test_offline_facades_say_what_to_do(no_local_data, monkeypatch):
    monkeypatch.setenv(facades_module.FACADES_URL_ENV, (no_local_data / "missing.tar.gz").as_uri())
    with pytest.raises(FileNotFoundError, match=f"{facades_module.FACADES_URL_ENV} to a mirror"):
        datasets.facades("test")
