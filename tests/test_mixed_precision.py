"""Mixed precision: 16-bit networks, float32 losses and weights, loss scaling for float16."""

import keras
import numpy as np
import pytest

import keras_gan
from keras_gan import networks
from tests.conftest import to_numpy


@pytest.fixture
def policy(request):
    keras.config.set_dtype_policy(request.param)
    yield request.param
    keras.config.set_dtype_policy("float32")


def _trained(seed=3):
    keras.utils.set_random_seed(seed)
    gan = keras_gan.GAN(
        networks.mnist_generator(latent_dim=8, hidden_units=32),
        networks.mnist_discriminator(units=16, pieces=3, input_dropout=0.0, hidden_dropout=0.0),
        seed=1,
    )
    gan.compile(d_optimizer=keras.optimizers.SGD(0.05), g_optimizer=keras.optimizers.SGD(0.05))
    x = np.random.default_rng(0).uniform(0, 1, (64, 28, 28, 1)).astype("float32")
    history = gan.fit(x, batch_size=32, epochs=2, verbose=0, shuffle=False)
    return gan, history.history


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"], indirect=True)
def test_mixed_policies_train_with_float32_losses_and_weights(policy):
    reference_gan, reference = None, None
    keras.config.set_dtype_policy("float32")
    reference_gan, reference = _trained()
    keras.config.set_dtype_policy(policy)
    gan, history = _trained()
    half = policy.split("_")[1]
    assert keras.backend.standardize_dtype(gan.generator.compute_dtype) == half
    assert all(keras.backend.standardize_dtype(v.dtype) == "float32" for v in gan.trainable_variables)
    samples = gan.generator(keras.ops.zeros((2, 8)))
    assert keras.backend.standardize_dtype(samples.dtype) == half
    if policy == "mixed_float16":
        assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
        assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
    for name in ("d_loss", "g_loss"):
        assert np.all(np.isfinite(history[name]))
        # Same data, same initial weights and noise: the 16-bit run tracks the float32 one.
        np.testing.assert_allclose(history[name], reference[name], rtol=0.05, atol=0.02)
    # The 16-bit weights stay close to the float32 run's after 4 updates.
    assert int(to_numpy(gan.d_optimizer.iterations)) == 4
    moved = [np.abs(to_numpy(a) - to_numpy(b)).max() for a, b in zip(gan.weights, reference_gan.weights)]
    assert max(moved) < 0.05


def test_losses_are_float32_for_half_precision_logits():
    from keras_gan import losses

    logits = keras.ops.cast(keras.ops.convert_to_tensor([[3.0], [-2.0]]), "float16")
    for value in (losses.discriminator_loss(logits, logits), losses.generator_loss(logits),
                  losses.mean_probability(logits)):
        assert keras.backend.standardize_dtype(value.dtype) == "float32"
