"""WGAN-GP (Gulrajani et al. 2017) on the public step API, checked against finite differences.

The gradient penalty needs the critic's gradient with respect to its *input*
(`Step.input_gradient`), and the critic's update needs the gradient of that
penalty with respect to the critic's weights (a second-order term). Both are
checked on every backend against central differences of the same numbers
computed with plain forward passes, so a backend that returned a wrong input
gradient, or dropped the penalty's dependence on the weights, fails here.
"""

import numpy as np
import keras
import pytest
from keras import ops

import keras_gan
from keras_gan.backend import BackendStep

SHAPE = (3, 3, 1)


def tiny_pair(seed=0):
    """A smooth (tanh) critic and generator on 3x3 images, so central differences are accurate."""
    keras.utils.set_random_seed(seed)
    z = keras.Input((4,))
    g = keras.Model(z, keras.layers.Reshape(SHAPE)(keras.layers.Dense(9, activation="sigmoid")(z)))
    x = keras.Input(SHAPE)
    h = keras.layers.Dense(6, activation="tanh")(keras.layers.Flatten()(x))
    h = keras.layers.Dense(5, activation="tanh")(h)
    d = keras.Model(x, keras.layers.Dense(1)(h))
    for v in d.weights:  # large enough that the input gradient is far from zero
        v.assign(np.random.default_rng(seed).normal(0, 0.8, v.shape).astype("float32"))
    return g, d


def batch(seed=1, n=4):
    rng = np.random.default_rng(seed)
    return (rng.uniform(0, 1, (n,) + SHAPE).astype("float32"), rng.uniform(0, 1, (n,) + SHAPE).astype("float32"),
            rng.uniform(0, 1, (n, 1, 1, 1)).astype("float32"))


def critic_numpy(d, x):
    return ops.convert_to_numpy(d(ops.convert_to_tensor(x.astype("float32")))).astype("float64")


def penalty_by_differences(d, real, fake, eps, h=1e-3):
    """mean (||grad_x D(x^)|| - 1)^2 with the input gradient by central differences (float64 sums)."""
    mixed = (eps * real + (1 - eps) * fake).astype("float64")
    grads = np.zeros_like(mixed)
    for idx in np.ndindex(*mixed.shape[1:]):
        up, down = mixed.copy(), mixed.copy()
        up[(slice(None),) + idx] += h
        down[(slice(None),) + idx] -= h
        grads[(slice(None),) + idx] = (critic_numpy(d, up) - critic_numpy(d, down))[:, 0] / (2 * h)
    norms = np.sqrt(np.sum(grads.reshape(len(grads), -1) ** 2, axis=1))
    return float(np.mean((norms - 1) ** 2)), grads


def test_input_gradient_and_penalty_match_finite_differences():
    g, d = tiny_pair()
    model = keras_gan.WGANGP(g, d, n_critic=1)
    real, fake, eps = batch()
    step = BackendStep(model)  # the primitives also work outside fit (eagerly)
    expected, expected_grads = penalty_by_differences(d, real, fake, eps)
    mixed = ops.convert_to_tensor(eps * real + (1 - eps) * fake)
    got_grads = ops.convert_to_numpy(step.input_gradient(lambda x: d(x, training=True), mixed))
    np.testing.assert_allclose(got_grads, expected_grads, rtol=2e-3, atol=2e-4)
    got = float(ops.convert_to_numpy(model.gradient_penalty(
        step, ops.convert_to_tensor(real), ops.convert_to_tensor(fake), ops.convert_to_tensor(eps))))
    assert expected > 0.05  # the penalty is far from zero here, so the comparison means something
    assert got == pytest.approx(expected, rel=2e-3)


def test_critic_update_follows_the_penalty_gradient_with_respect_to_the_weights():
    """One critic update with plain SGD (lr 1) moves each weight by minus dL/dw, L the critic loss
    with lambda = 10; dL/dw by central differences of L evaluated with plain forward passes (and the
    first-order input gradient). A step that dropped the penalty's dependence on the weights (the
    second-order term) misses by far more than the tolerance (checked below)."""
    g, d = tiny_pair()
    real, fake_unused, eps = batch()
    z = np.random.default_rng(5).normal(size=(len(real), 4)).astype("float32")

    class Injected(keras_gan.WGANGP):
        def sample_latent(self, batch_size, index=0):
            return ops.convert_to_tensor(z[:batch_size])

        def gradient_penalty(self, step, real, fake, epsilon=None):
            return super().gradient_penalty(step, real, fake, ops.convert_to_tensor(eps))

    model = Injected(g, d, n_critic=1)
    model.compile(d_optimizer=keras.optimizers.SGD(1.0), g_optimizer=keras.optimizers.SGD(0.0),
                  jit_compile=keras.backend.backend() != "torch")
    kernel = d.weights[0]
    before = ops.convert_to_numpy(kernel).copy()
    step = BackendStep(model)

    def critic_loss(values, gp_weight=10.0):
        kernel.assign(values.astype("float32"))
        model.gp_weight = gp_weight
        loss, _ = model.critic_loss(step, ops.convert_to_tensor(real), 0)
        model.gp_weight = 10.0
        return float(ops.convert_to_numpy(loss))

    h = 1e-3
    expected = np.zeros_like(before, dtype="float64")
    without_penalty = np.zeros_like(expected)
    for idx in [(0, 0), (3, 2), (8, 5)]:
        up, down = before.astype("float64"), before.astype("float64")
        up[idx] += h
        down[idx] -= h
        expected[idx] = (critic_loss(up) - critic_loss(down)) / (2 * h)
        without_penalty[idx] = (critic_loss(up, 0.0) - critic_loss(down, 0.0)) / (2 * h)
    kernel.assign(before)
    # the penalty's weight gradient is a large part of the update, so dropping it would show
    assert np.max(np.abs(expected - without_penalty)) > 0.05
    model.fit(real, batch_size=len(real), epochs=1, shuffle=False, verbose=0)
    moved = before - ops.convert_to_numpy(kernel)
    for idx in [(0, 0), (3, 2), (8, 5)]:
        assert moved[idx] == pytest.approx(expected[idx], rel=2e-2, abs=2e-3), idx


def test_wgan_gp_round_trips_and_refuses_bad_arguments(tmp_path):
    g, d = tiny_pair()
    model = keras_gan.WGANGP(g, d, n_critic=2, gp_weight=5.0, seed=3)
    model.compile()
    assert model.d_optimizer.beta_1 == 0.0 and model.d_optimizer.beta_2 == 0.9
    assert float(ops.convert_to_numpy(model.d_optimizer.learning_rate)) == pytest.approx(1e-4)
    path = tmp_path / "wgan.keras"
    model.save(path)
    again = keras.saving.load_model(path)
    assert isinstance(again, keras_gan.WGANGP) and again.n_critic == 2 and again.gp_weight == 5.0
    with pytest.raises(ValueError, match="gp_weight"):
        keras_gan.WGANGP(g, d, gp_weight=-1)
    with pytest.raises(ValueError, match="d_steps"):
        keras_gan.WGANGP(g, d, d_steps=3)


def test_wgan_gp_trains_and_validates():
    g, d = tiny_pair()
    model = keras_gan.WGANGP(g, d, n_critic=2, seed=0)
    model.compile()
    real = np.random.default_rng(0).uniform(0, 1, (16,) + SHAPE).astype("float32")
    history = model.fit(real, batch_size=8, epochs=2, verbose=0, validation_data=real[:8])
    assert set(history.history) >= {"d_loss", "g_loss", "gradient_penalty", "wasserstein",
                                    "val_wasserstein", "val_g_loss"}
    assert all(np.isfinite(v).all() for v in history.history.values())
