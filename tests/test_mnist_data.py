import gzip
import os
import shutil

import numpy as np
import pytest
from tests.conftest import one_pass

from keras_gan import datasets
from keras_gan.datasets import DataFileError

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_paper_splits_from_the_shared_files(data_dir):
    train = datasets.mnist("train", data_dir=data_dir)
    val = datasets.mnist("validation", data_dir=data_dir)
    test = datasets.mnist("test", data_dir=data_dir)
    assert train.images.shape == (50000, 28, 28, 1) and train.images.dtype == np.float32
    assert val.images.shape == (10000, 28, 28, 1) and test.images.shape == (10000, 28, 28, 1)
    assert 0.0 == train.images.min() and train.images.max() == 1.0
    counts = np.bincount(np.concatenate([train.labels, val.labels]), minlength=10)
    assert counts.tolist() == TRAIN_COUNTS
    assert np.bincount(test.labels, minlength=10).tolist() == TEST_COUNTS
    # The mean pixel of MNIST train is the well-known 0.1307.
    assert float(np.concatenate([train.images, val.images]).mean()) == pytest.approx(0.1307, abs=1e-4)


def test_environment_variable_and_limit(data_dir, monkeypatch):
    monkeypatch.setenv("KERAS_GAN_DATA_DIR", data_dir)
    part = datasets.mnist("validation", limit=7)
    assert part.images.shape == (7, 28, 28, 1)
    np.testing.assert_array_equal(part.labels, datasets.mnist("full_train", data_dir=data_dir).labels[50000:50007])


def _copy_mnist(src_dir, dst):
    src = os.path.join(src_dir, "mnist") if os.path.isdir(os.path.join(src_dir, "mnist")) else src_dir
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(src):
        if name.endswith(".gz"):
            shutil.copy(os.path.join(src, name), dst)
    return dst


@one_pass("tensorflow", "IDX files are read with numpy")
def test_bad_files_give_errors_naming_the_file(data_dir, tmp_path):
    folder = _copy_mnist(data_dir, str(tmp_path / "mnist"))
    images = os.path.join(folder, "t10k-images-idx3-ubyte.gz")
    with gzip.open(images, "rb") as f:
        raw = f.read()
    with gzip.open(images, "wb") as f:  # truncated
        f.write(raw[:5000])
    with pytest.raises(DataFileError, match="t10k-images-idx3-ubyte.gz.*truncated"):
        datasets.mnist("test", data_dir=str(tmp_path))
    with gzip.open(images, "wb") as f:  # wrong magic
        f.write(b"\x12\x34" + raw[2:])
    with pytest.raises(DataFileError, match="t10k-images-idx3-ubyte.gz.*magic"):
        datasets.mnist("test", data_dir=str(tmp_path))
    with open(images, "wb") as f:  # not even gzip
        f.write(b"garbage")
    with pytest.raises(DataFileError, match="t10k-images-idx3-ubyte.gz"):
        datasets.mnist("test", data_dir=str(tmp_path))
    with gzip.open(images, "wb") as f:
        f.write(raw)
    os.remove(os.path.join(folder, "t10k-labels-idx1-ubyte.gz"))
    with pytest.raises(DataFileError, match="t10k-labels-idx1-ubyte.gz"):
        datasets.mnist("test", data_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz"):
        datasets.mnist("test", data_dir=str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="Unknown MNIST split"):
        datasets.mnist("valid", data_dir=data_dir)
