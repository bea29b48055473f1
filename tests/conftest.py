"""Shared fixtures. The whole suite runs once per Keras backend (KERAS_BACKEND)."""

import os

import keras
import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BACKENDS = ("tensorflow", "jax", "torch")


#: The cross-backend parity tests run this backend in-process and each other one in a
#: subprocess (`tests.parity_utils.parity_results`), so one pass covers all three; they run in
#: the pass of this backend only.
PARITY_HOST_BACKEND = "jax"

cross_backend = pytest.mark.skipif(
    keras.backend.backend() != PARITY_HOST_BACKEND,
    reason=f"runs all three backends (the others in subprocesses); executed once, in the {PARITY_HOST_BACKEND} pass",
)


def one_pass(backend: str, why: str = "backend-independent"):
    """Run a test in `backend`'s pass only: for tests whose result does not depend on the
    backend (argument checks, data files, command lines that fail before any model) or that
    other passes' tests already cover, so that CI's three passes stay within its 40 minutes.
    `KERAS_GAN_ALL_PASSES=1` runs them in every pass."""
    return pytest.mark.skipif(
        keras.backend.backend() != backend and not os.environ.get("KERAS_GAN_ALL_PASSES"),
        reason=f"{why}; runs in the {backend} pass (KERAS_GAN_ALL_PASSES=1: every pass)")


def h5_arrays(path) -> dict:
    """Every dataset of an .h5 file (weights, backups) by its path in the file, as numpy arrays."""
    import h5py

    arrays = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, item: arrays.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset)
                     else None)
    return arrays


def _data_dir():
    env = os.environ.get("KERAS_GAN_DATA_DIR")
    if env:
        return env
    default = os.path.join(REPO, "..", "shared", "data")
    return default if os.path.isdir(default) else None


@pytest.fixture(scope="session")
def data_dir():
    """Real data (../shared/data or $KERAS_GAN_DATA_DIR). In CI the variable is set,
    so a missing folder fails there instead of skipping."""
    found = _data_dir()
    if found is None or not os.path.isdir(found):
        if os.environ.get("CI"):
            pytest.fail("KERAS_GAN_DATA_DIR is not set or missing in CI")
        pytest.skip("no local data: set KERAS_GAN_DATA_DIR to ../shared/data")
    return found


_TESTS_SINCE_COLLECTION = [0]
#: Tests between two full garbage collections (see `_seed`).
COLLECT_EVERY = 25


@pytest.fixture(autouse=True)
def _seed():
    """A fixed global seed before each test and Keras' global state cleared after it.

    `clear_session()` also runs a full `gc.collect()` by default, which costs 1-5 s once
    TensorFlow or torch is imported (a heap of millions of objects): over 400 tests a pass that
    was a quarter of CI's time (measured: 1062 s of the TensorFlow pass's 3003, under load). The
    collection runs every `COLLECT_EVERY` tests instead, which bounds the memory just as well.
    """
    keras.utils.set_random_seed(1234)
    yield
    _TESTS_SINCE_COLLECTION[0] += 1
    collect = _TESTS_SINCE_COLLECTION[0] >= COLLECT_EVERY
    if collect:
        _TESTS_SINCE_COLLECTION[0] = 0
    keras.backend.clear_session(free_memory=collect)


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def weights_of(model):
    return [to_numpy(v) for v in model.weights]


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny networks: on a shared 2-core machine torch's intra-op thread pool costs far
    more than it saves (measured: 31 ms vs 0.36 ms per 32x32 convolution; ~0.3 s vs
    ~0.05 s per small MLP step). Use with `pytestmark`; restored afterwards."""
    if keras.backend.backend() != "torch":
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
