"""Two processes on localhost train as one process on the global batch, on every backend.

Each backend through its own engine (see `tests/multiprocess_worker.py`):
torch.distributed (gloo), JAX multi-process `keras.distribution`, TensorFlow
MultiWorkerMirroredStrategy. 2 steps of a GAN and of a Pix2Pix (U-Net with
synchronized BatchNorm): losses and every weight, moving statistics included,
match a single process to 1e-4, and both processes hold the same state.
"""

import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO

WORKER = os.path.join(REPO, "tests", "multiprocess_worker.py")


def _free_ports(n: int) -> list[str]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [str(s.getsockname()[1]) for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _run(model, folder, backend):
    env = dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=REPO)
    single = subprocess.run([sys.executable, WORKER, model, "single", str(folder / "single.npz")], env=env,
                            capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr[-3000:]
    ports = ",".join(_free_ports(2))
    ranks = [subprocess.Popen([sys.executable, WORKER, model, "multi", str(folder / f"rank{r}.npz")],
                              env=dict(env, RANK=str(r), WORLD_SIZE="2", PORTS=ports),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in range(2)]
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
def test_two_processes_match_one_process_on_the_global_batch(model, tmp_path):
    import keras

    reference, rank0, rank1 = _run(model, tmp_path, keras.backend.backend())
    assert int(rank0["world"]) == int(rank1["world"]) == 2
    np.testing.assert_allclose(rank0["d_loss"], reference["d_loss"], rtol=1e-4)
    weights = sorted((k for k in reference if k.startswith("weight")), key=lambda k: int(k[6:]))
    for key in weights:
        np.testing.assert_allclose(rank0[key], rank1[key], rtol=1e-6, atol=1e-7, err_msg=key)  # one state
        np.testing.assert_allclose(rank0[key], reference[key], rtol=1e-4, atol=1e-5, err_msg=key)
    assert any(not np.allclose(reference[k], 0) for k in weights)
