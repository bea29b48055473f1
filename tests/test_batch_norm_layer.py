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


def test_set_synchronized_switches_every_batch_norm_of_a_network():
    """`zoo.train --norm batch` turns the pix2pix networks' synchronized statistics off this way;
    Keras' own layers are left alone, and the choice is what the network's config saves."""
    from keras_gan import networks

    generator = networks.unet_generator(16, levels=3, ngf=4)
    ours = [l for l in generator._flatten_layers() if isinstance(l, layers.BatchNormalization)]
    assert len(ours) == 3 and all(l.synchronize_statistics for l in ours)  # none on first, innermost, output
    assert layers.set_synchronized(generator, False) == len(ours)
    assert not any(l.synchronize_statistics or l.get_config()["synchronized"] for l in ours)
    assert layers.set_synchronized(generator, True) == 3 and all(l.synchronize_statistics for l in ours)
    assert layers.set_synchronized(keras.Sequential([keras.Input((2,)), keras.layers.BatchNormalization()]),
                                   False) == 0


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


def test_torch_fused_path_is_keras_batch_normalization_but_for_the_unbiased_moving_variance():
    """The fused PyTorch path against Keras' own `keras.layers.BatchNormalization` given the same
    weights (not only against this layer's generic path, which a fault shared by both would pass):
    training outputs, gradients w.r.t. the input, gamma and beta, the moving mean, and inference
    outputs, all Keras'.

    The one deliberate difference is the moving variance: Keras averages the *biased* batch variance
    (divided by n), this layer torch's *unbiased* one (divided by n - 1; BatchNorm2d's running_var,
    what the pix2pix reference code uses), n the values per channel (batch x height x width). So
    each step's increment of Keras' moving variance, (1 - momentum) x biased variance, is converted
    by n / (n - 1) and must then be ours. The momentum is Keras' convention on both (moving =
    momentum x moving + (1 - momentum) x batch value; torch's `momentum` is 1 - that), checked on
    the moving mean against numpy too."""
    if keras.backend.backend() != "torch":
        import pytest

        pytest.skip("the fused path is PyTorch's")
    import torch

    momentum, epsilon = 0.8, 1e-3
    for shape in [(2, 3, 5, 4), (6, 4), (1, 2, 2, 3)]:
        rng = np.random.default_rng(sum(shape))
        channels = shape[-1]
        n = int(np.prod(shape[:-1]))
        weights = [np.linspace(0.5, 1.5, channels), rng.normal(size=channels),  # gamma, beta
                   rng.normal(size=channels), rng.uniform(0.5, 2.0, channels)]  # moving mean, variance
        weights = [w.astype("float32") for w in weights]
        ours = layers.BatchNormalization(momentum=momentum, epsilon=epsilon)
        theirs = keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon)
        for layer in (ours, theirs):
            layer.build(shape)
            layer.set_weights(weights)
        fused_calls = []
        fused = ours._torch_fused_call
        ours._torch_fused_call = lambda inputs: fused_calls.append(1) or fused(inputs)
        steps = 3
        for step in range(steps):  # a new batch each step, so the averages move differently
            x = rng.normal(1.0, 2.0, size=shape).astype("float32")
            upstream = torch.from_numpy(rng.normal(size=shape).astype("float32"))
            before = {name: [to_numpy(getattr(layer, name)).astype("float64") for layer in (ours, theirs)]
                      for name in ("moving_mean", "moving_variance")}
            results = []
            for layer in (ours, theirs):
                inputs = torch.from_numpy(x).requires_grad_(True)
                out = layer(inputs, training=True)
                grads = torch.autograd.grad(out, [inputs, layer.gamma.value, layer.beta.value], upstream)
                results.append([to_numpy(t.detach()) for t in (out, *grads)])
            for what, a, b in zip(("output", "d input", "d gamma", "d beta"), *results):
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, err_msg=f"{shape} step {step}: {what}")
            # The moving mean: Keras' exactly, and Keras' momentum convention.
            values = x.reshape(-1, channels).astype("float64")
            np.testing.assert_allclose(to_numpy(ours.moving_mean), to_numpy(theirs.moving_mean), rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(to_numpy(ours.moving_mean),
                                       momentum * before["moving_mean"][0] + (1 - momentum) * values.mean(0),
                                       rtol=1e-5, atol=1e-6)
            # The moving variance: Keras' increment (its biased batch variance), converted by n / (n - 1).
            ours_before, theirs_before = before["moving_variance"]
            keras_increment = to_numpy(theirs.moving_variance).astype("float64") - momentum * theirs_before
            np.testing.assert_allclose(keras_increment, (1 - momentum) * values.var(0), rtol=1e-5)  # biased
            np.testing.assert_allclose(to_numpy(ours.moving_variance),
                                       momentum * ours_before + keras_increment * n / (n - 1), rtol=1e-5)
        assert len(fused_calls) == steps  # every training call above took the fused path
        # Inference: with the same weights (ours, moving averages included), Keras' output.
        reference = keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon)
        reference.build(shape)
        reference.set_weights(ours.get_weights())
        x = rng.normal(1.0, 2.0, size=shape).astype("float32")
        np.testing.assert_allclose(to_numpy(ours(x, training=False)), to_numpy(reference(x, training=False)),
                                   rtol=1e-6, atol=1e-6)
        assert len(fused_calls) == steps
