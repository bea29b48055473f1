"""The same training step on TensorFlow, JAX and PyTorch gives the same numbers.

From the same initial weights, the same real batch and the same injected noise
(dropout off), one full step of Algorithm 1 (k = 2 discriminator updates, then
the generator update; SGD with momentum), and one simultaneous step of the
reference code (`update_rule="simultaneous"`), is run under every backend
(`tests.parity_utils.parity_results`). Losses and updated weights must agree to a relative error
of 1e-5 (global norm over each network); the weight *changes* must agree too
(to 1e-2 of their norm: they are small differences of float32 numbers), so a
skipped or misrouted update cannot hide behind the unchanged weights.
"""

import pytest

from tests.conftest import cross_backend

from tests.parity_utils import global_norm, global_rel, parity_results

NETWORKS = ("mlp", "conv", "sim", "wgan")  # sim: the MLP pair with update_rule="simultaneous"
#: what each step logs (wgan: WGAN-GP, whose critic loss holds the gradient penalty)
LOGS = {"wgan": ("d_loss", "g_loss", "gradient_penalty", "wasserstein")}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return parity_results("gan", tmp_path_factory)


@pytest.mark.parametrize("net", NETWORKS)
@pytest.mark.parametrize("other", ["tensorflow", "torch"])
@cross_backend
def test_one_step_matches_across_backends(results, net, other):
    inputs, out = results
    ref, res = out["jax"], out[other]
    for log in LOGS.get(net, ("d_loss", "g_loss", "d_real", "d_fake")):
        a, b = res[f"{net}_log_{log}"], ref[f"{net}_log_{log}"]
        assert abs(a - b) <= 1e-5 * max(abs(b), 1e-6), (log, a, b)
    for part in ("g", "d"):
        keys = sorted((k for k in ref if k.startswith(f"{net}_{part}")), key=lambda k: int(k.split(part)[-1]))
        assert keys
        new_ref = [ref[k] for k in keys]
        new_res = [res[k] for k in keys]
        assert global_rel(new_res, new_ref) <= 1e-5
        delta_ref = [r - inputs[k] for r, k in zip(new_ref, keys)]
        delta_res = [r - inputs[k] for r, k in zip(new_res, keys)]
        # The step really changed this network ...
        assert global_norm(delta_ref) > 1e-4
        # ... and by the same amount on both backends.
        assert global_rel(delta_res, delta_ref) <= 1e-2
