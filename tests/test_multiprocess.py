"""Two processes on localhost train as one process on the global batch, on every backend.

Each backend through its own engine (see `tests/multiprocess_worker.py`):
torch.distributed (gloo), JAX multi-process `keras.distribution`, TensorFlow
MultiWorkerMirroredStrategy. 2 steps of a GAN and of a Pix2Pix (U-Net with
synchronized BatchNorm, one image per process against one process on batches
of 2): losses and every weight, moving statistics included, match a single
process to 1e-4, and both processes hold the same state.
"""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_gan.distributed import free_local_ports
from tests.conftest import REPO

WORKER = os.path.join(REPO, "tests", "multiprocess_worker.py")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The single-process reference and the two ranks' results (both models)."""
    import keras

    folder = tmp_path_factory.mktemp("multiprocess")
    env = dict(os.environ, KERAS_BACKEND=keras.backend.backend(), PYTHONPATH=REPO)
    ports = ",".join(free_local_ports(2))
    ranks = [subprocess.Popen([sys.executable, WORKER, "multi", str(folder / f"rank{r}.npz")],
                              env=dict(env, RANK=str(r), WORLD_SIZE="2", PORTS=ports),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in range(2)]
    ranks.append(subprocess.Popen([sys.executable, WORKER, "single", str(folder / "single.npz")], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        for proc in ranks:
            _, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err[-3000:]
    finally:
        for proc in ranks:
            proc.kill()
    return [dict(np.load(folder / name)) for name in ("single.npz", "rank0.npz", "rank1.npz")]


@pytest.mark.slow
@pytest.mark.parametrize("model", ["gan", "pix2pix"])
def test_two_processes_match_one_process_on_the_global_batch(model, runs):
    reference, rank0, rank1 = runs
    assert int(reference["world"]) == 1 and int(rank0["world"]) == int(rank1["world"]) == 2
    np.testing.assert_allclose(rank0[f"{model}_d_loss"], reference[f"{model}_d_loss"], rtol=1e-4)
    np.testing.assert_allclose(rank1[f"{model}_d_loss"], reference[f"{model}_d_loss"], rtol=1e-4)
    prefix = f"{model}_weight"
    weights = sorted((k for k in reference if k.startswith(prefix)), key=lambda k: int(k[len(prefix):]))
    assert weights
    for key in weights:
        np.testing.assert_allclose(rank0[key], rank1[key], rtol=1e-6, atol=1e-7, err_msg=key)  # one state
        np.testing.assert_allclose(rank0[key], reference[key], rtol=1e-4, atol=1e-5, err_msg=key)
    assert any(not np.allclose(reference[k], 0) for k in weights)


def test_each_torch_rank_draws_its_own_seedless_dropout_masks(runs):
    """Seeded alike on every rank, torch's global generator would give every rank the same
    Dropout masks; the torch step forks it by rank at fit (keras_gan.backend.replica_streams)."""
    if keras.backend.backend() != "torch":
        pytest.skip("torch ranks (TF replicas: test_distribution; JAX: one global program)")
    _, rank0, rank1 = runs
    assert 0.3 < (rank0["seedless_mask"] != rank1["seedless_mask"]).mean() < 0.7
