"""PyTorch data parallelism through torch.distributed: two gloo processes on one machine train a
GAN exactly as one process does on the global batch (gradients averaged per update, one weight
state broadcast from rank 0, each rank its slice of the global noise)."""

import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.skipif(keras.backend.backend() != "torch", reason="torch.distributed: the torch pass")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_gloo_ranks_match_one_process_on_the_global_batch(tmp_path):
    worker = os.path.join(REPO, "tests", "torch_ddp_worker.py")
    env = dict(os.environ, KERAS_BACKEND="torch", PYTHONPATH=REPO)
    single = subprocess.run([sys.executable, worker, "single", str(tmp_path / "single.npz")], env=env,
                            capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr[-3000:]
    port = str(_free_port())
    ranks = [subprocess.Popen([sys.executable, worker, "ddp", str(tmp_path / f"rank{r}.npz")],
                              env=dict(env, MASTER_ADDR="127.0.0.1", MASTER_PORT=port, RANK=str(r), WORLD_SIZE="2"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in range(2)]
    for proc in ranks:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
    reference = np.load(tmp_path / "single.npz")
    rank0, rank1 = np.load(tmp_path / "rank0.npz"), np.load(tmp_path / "rank1.npz")
    weights = [k for k in reference.files if k.startswith("w")]
    for key in weights:
        np.testing.assert_array_equal(rank0[key], rank1[key])  # one state on every rank
        np.testing.assert_allclose(rank0[key], reference[key], rtol=1e-4, atol=1e-5)
    assert any(not np.allclose(reference[k], 0) for k in weights)
