"""The same training step on TensorFlow, JAX and PyTorch gives the same numbers.

From the same initial weights, the same real batch and the same injected noise
(dropout off), one full step of Algorithm 1 (k = 2 discriminator updates, then
the generator update; SGD with momentum) is run under every backend, each in
its own subprocess. Losses and updated weights must agree to a relative error
of 1e-5 (global norm over each network); the weight *changes* must agree too
(to 1e-2 of their norm: they are small differences of float32 numbers), so a
skipped or misrouted update cannot hide behind the unchanged weights.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import BACKENDS, REPO
from tests.parity_worker import make_inputs

NETWORKS = ("mlp", "conv")


def _global_rel(a: list, b: list) -> float:
    num = np.sqrt(sum(float(np.sum((x.astype("float64") - y) ** 2)) for x, y in zip(a, b)))
    den = np.sqrt(sum(float(np.sum(y.astype("float64") ** 2)) for y in b))
    return num / max(den, 1e-30)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("parity")
    inputs = make_inputs()
    np.savez(folder / "inputs.npz", **inputs)
    out = {}
    for backend in BACKENDS:
        target = folder / f"{backend}.npz"
        proc = subprocess.run(
            [sys.executable, os.path.join(REPO, "tests", "parity_worker.py"), str(folder / "inputs.npz"), str(target)],
            env=dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=REPO),
            capture_output=True, text=True, timeout=600,
        )
        assert proc.returncode == 0, f"{backend} worker failed:\n{proc.stderr[-4000:]}"
        out[backend] = dict(np.load(target))
    return inputs, out


@pytest.mark.parametrize("net", NETWORKS)
@pytest.mark.parametrize("other", ["tensorflow", "torch"])
def test_one_step_matches_across_backends(results, net, other):
    inputs, out = results
    ref, res = out["jax"], out[other]
    for log in ("d_loss", "g_loss", "d_real", "d_fake"):
        a, b = res[f"{net}_log_{log}"], ref[f"{net}_log_{log}"]
        assert abs(a - b) <= 1e-5 * max(abs(b), 1e-6), (log, a, b)
    for part in ("g", "d"):
        keys = sorted((k for k in ref if k.startswith(f"{net}_{part}")), key=lambda k: int(k.split(part)[-1]))
        assert keys
        new_ref = [ref[k] for k in keys]
        new_res = [res[k] for k in keys]
        assert _global_rel(new_res, new_ref) <= 1e-5
        delta_ref = [r - inputs[k] for r, k in zip(new_ref, keys)]
        delta_res = [r - inputs[k] for r, k in zip(new_res, keys)]
        # The step really changed this network ...
        assert np.sqrt(sum(float(np.sum(d.astype("float64") ** 2)) for d in delta_ref)) > 1e-4
        # ... and by the same amount on both backends.
        assert _global_rel(delta_res, delta_ref) <= 1e-2
