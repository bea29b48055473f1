"""keras_gan.layers.BatchNormalization: Keras' outputs, torch's (unbiased) moving-variance update."""

import keras
import numpy as np

from keras_gan import layers
from tests.conftest import to_numpy


def test_training_outputs_are_keras_and_moving_variance_is_unbiased():
    x = np.random.default_rng(0).normal(2.0, 3.0, size=(1, 2, 2, 5)).astype("float32")  # n = 4 per channel
    ours = layers.BatchNormalization(momentum=0.9, epsilon=1e-5)
    reference = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)
    ours.build(x.shape)
    reference.build(x.shape)
    np.testing.assert_allclose(to_numpy(ours(x, training=True)), to_numpy(reference(x, training=True)),
                               rtol=1e-5, atol=1e-5)
    values = x.reshape(-1, 5).astype("float64")
    np.testing.assert_allclose(to_numpy(ours.moving_mean), 0.1 * values.mean(0), rtol=1e-5)
    # torch.nn.BatchNorm2d: running_var = 0.9 * 1 + 0.1 * var(ddof=1)
    np.testing.assert_allclose(to_numpy(ours.moving_variance), 0.9 + 0.1 * values.var(0, ddof=1), rtol=1e-5)
    np.testing.assert_allclose(to_numpy(reference.moving_variance), 0.9 + 0.1 * values.var(0), rtol=1e-5)
    # Inference mode reads the averages, as Keras' does.
    np.testing.assert_allclose(
        to_numpy(ours(x, training=False)),
        (x - to_numpy(ours.moving_mean)) / np.sqrt(to_numpy(ours.moving_variance) + 1e-5), rtol=1e-4, atol=1e-4)


def test_a_single_value_per_channel_keeps_the_biased_variance():
    ours = layers.BatchNormalization(momentum=0.5)
    ours(np.ones((1, 1, 1, 3), "float32") * 4.0, training=True)
    np.testing.assert_allclose(to_numpy(ours.moving_variance), 0.5, rtol=1e-6)  # 0.5 * 1 + 0.5 * 0
    assert np.all(np.isfinite(to_numpy(ours.moving_variance)))


def test_synchronized_is_accepted_on_every_backend_and_round_trips():
    """Keras accepts `synchronized=True` only on TensorFlow; ours on all three (global statistics in a
    data-parallel run, see tests/test_multiprocess.py), and one process computes the usual moments."""
    layer = layers.BatchNormalization(synchronized=True)
    again = layers.BatchNormalization.from_config(layer.get_config())
    assert layer.get_config()["synchronized"] is True and again.synchronize_statistics is True
    x = np.random.default_rng(3).normal(size=(4, 3, 3, 2)).astype("float32")
    plain = layers.BatchNormalization()
    np.testing.assert_allclose(to_numpy(again(x, training=True)), to_numpy(plain(x, training=True)),
                               rtol=1e-6, atol=1e-6)


def test_torch_fused_path_matches_the_generic_one():
    """On PyTorch a float32 training call runs torch's fused batch_norm; outputs, gradients and the
    moving averages must be those of the generic (Keras ops) path, the one TF and JAX run."""
    if keras.backend.backend() != "torch":
        import pytest

        pytest.skip("the fused path is PyTorch's")
    import torch

    for shape in [(2, 3, 5, 4), (6, 4), (1, 2, 2, 3)]:
        x = np.random.default_rng(1).normal(1.0, 2.0, size=shape).astype("float32")
        grad = np.random.default_rng(2).normal(size=shape).astype("float32")
        results = []
        for fused in (True, False):
            layer = layers.BatchNormalization(momentum=0.8, epsilon=1e-3,
                                              gamma_initializer="random_normal", beta_initializer="ones")
            layer.build(shape)
            if not fused:
                layer._torch_fused_applies = lambda inputs: False
            assert layer._torch_fused_applies(torch.from_numpy(x)) is fused
            inputs = torch.from_numpy(x).requires_grad_(True)
            keras.utils.set_random_seed(0)
            layer.gamma.assign(np.linspace(0.5, 1.5, shape[-1]).astype("float32"))
            for _ in range(2):  # two updates of the moving averages
                out = layer(inputs, training=True)
            dx, dgamma, dbeta = torch.autograd.grad(out, [inputs, layer.gamma.value, layer.beta.value],
                                                    torch.from_numpy(grad))
            results.append([to_numpy(t.detach()) for t in (out, dx, dgamma, dbeta)]
                           + [to_numpy(layer.moving_mean), to_numpy(layer.moving_variance)])
        for fused_value, generic_value in zip(*results):
            np.testing.assert_allclose(fused_value, generic_value, rtol=1e-5, atol=1e-5)
