"""evaluate, fit(validation_data=...), validation_split and test_on_batch on GAN, ConditionalGAN
and Pix2Pix: the held-out quantities against hand computations, on every backend, and validation
never changes the training run."""

import keras
import numpy as np
import pytest

from keras_gan import losses
from keras_gan.models.gan import VALIDATION_NOISE_SEED, sample_prior
from tests.conftest import to_numpy, weights_of
from tests.test_conditional_gan import compiled as compiled_cgan
from tests.test_conditional_gan import one_hot, ring, toy_cgan
from tests.test_gan import compiled, images, small_gan
from tests.test_pix2pix import pairs, small_pix2pix


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread(one_torch_thread):
    """See `tests.conftest.one_torch_thread`."""
    yield


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_gan_evaluate_is_ds_loss_on_held_out_images_against_fixed_noise_samples():
    keras.utils.set_random_seed(0)
    gan = compiled(small_gan())
    held_out = images(32, seed=5)
    results = gan.evaluate(held_out, batch_size=32, verbose=0, return_dict=True)
    assert set(results) == {"d_loss", "g_loss", "d_real", "d_fake"}
    # By hand: the same z (the validation seed), every network in inference mode.
    z = sample_prior(gan.latent_prior, (32, gan.latent_dim), VALIDATION_NOISE_SEED)
    fake = gan.generator(z, training=False)
    real_logits = to_numpy(gan.discriminator(held_out, training=False)).astype("float64")
    fake_logits = to_numpy(gan.discriminator(fake, training=False)).astype("float64")
    d_loss = np.mean(np.logaddexp(0, -real_logits)) + np.mean(np.logaddexp(0, fake_logits))
    assert results["d_loss"] == pytest.approx(d_loss, rel=1e-4)
    assert results["g_loss"] == pytest.approx(np.mean(np.logaddexp(0, -fake_logits)), rel=1e-4)  # non-saturating
    assert results["d_real"] == pytest.approx(np.mean(_sigmoid(real_logits)), rel=1e-4)
    assert results["d_fake"] == pytest.approx(np.mean(_sigmoid(fake_logits)), rel=1e-4)
    # Deterministic, and it draws nothing from the model's own random streams.
    seed_states = [to_numpy(v).copy() for v in gan.variables if "seed" in v.path]
    again = gan.evaluate(held_out, batch_size=32, verbose=0, return_dict=True)
    assert again == pytest.approx(results, rel=1e-6)
    for a, v in zip(seed_states, [v for v in gan.variables if "seed" in v.path]):
        np.testing.assert_array_equal(a, to_numpy(v))
    logs = gan.test_on_batch(held_out, return_dict=True)
    assert logs["d_loss"] == pytest.approx(d_loss, rel=1e-4)


def test_gan_validation_logs_val_metrics_and_leaves_training_unchanged():
    def run(**kwargs):
        keras.utils.set_random_seed(0)
        gan = compiled(small_gan())
        history = gan.fit(images(64), batch_size=16, epochs=2, verbose=0, shuffle=False, **kwargs)
        return gan, history.history

    plain, plain_logs = run()
    validated, logs = run(validation_data=images(32, seed=9))
    assert {"val_d_loss", "val_g_loss", "val_d_real", "val_d_fake"} <= set(logs)
    assert len(logs["val_d_loss"]) == 2 and np.all(np.isfinite(logs["val_d_loss"]))
    for a, b in zip(weights_of(plain), weights_of(validated)):
        np.testing.assert_array_equal(a, b)
    assert logs["d_loss"] == plain_logs["d_loss"]  # the training logs are not mixed with validation's
    _, split_logs = run(validation_split=0.25)
    assert "val_g_loss" in split_logs


def test_conditional_gan_validates_on_held_out_images_with_their_labels():
    keras.utils.set_random_seed(0)
    model = compiled_cgan(toy_cgan())
    x, labels = ring(64)
    vx, vlabels = ring(32, seed=3)
    history = model.fit(x, labels, batch_size=16, epochs=1, verbose=0, validation_data=(vx, vlabels))
    assert {"val_d_loss", "val_g_loss", "val_d_real", "val_d_fake"} <= set(history.history)
    results = model.evaluate(vx, one_hot(vlabels), batch_size=32, verbose=0, return_dict=True)
    z = sample_prior(model.latent_prior, (32, model.latent_dim), VALIDATION_NOISE_SEED)
    condition = keras.ops.convert_to_tensor(one_hot(vlabels))
    fake = model._run_generator(z, condition, training=False)
    real_logits = to_numpy(model._run_discriminator(keras.ops.convert_to_tensor(vx), condition,
                                                    training=False)).astype("float64")
    fake_logits = to_numpy(model._run_discriminator(fake, condition, training=False)).astype("float64")
    assert results["d_loss"] == pytest.approx(
        np.mean(np.logaddexp(0, -real_logits)) + np.mean(np.logaddexp(0, fake_logits)), rel=1e-4)


@pytest.mark.parametrize("gan_weight", [1.0, 0.0])
def test_pix2pix_evaluate_is_l1_and_both_adversarial_terms_on_held_out_pairs(gan_weight):
    keras.utils.set_random_seed(0)
    model = small_pix2pix(gan_weight=gan_weight)
    model.compile()
    x, y = pairs(4, seed=1)
    vx, vy = pairs(2, seed=2)
    history = model.fit(x, y, batch_size=2, epochs=1, verbose=0, validation_data=(vx, vy))
    results = model.evaluate(vx, vy, batch_size=2, verbose=0, return_dict=True)
    fake = to_numpy(model.generator(vx, training=False))
    l1 = np.mean(np.abs(vy - fake))
    assert results["g_l1"] == pytest.approx(l1, rel=1e-4)
    assert history.history["val_g_l1"][-1] == pytest.approx(l1, rel=1e-4)
    if gan_weight == 0:
        assert set(results) == {"g_loss", "g_l1"}
        assert results["g_loss"] == pytest.approx(100 * l1, rel=1e-4)
        return
    real = to_numpy(model.discriminator([vx, vy], training=False)).astype("float64")
    fake_logits = to_numpy(model.discriminator([vx, fake], training=False)).astype("float64")
    d_loss = 0.5 * (np.mean(np.logaddexp(0, -real)) + np.mean(np.logaddexp(0, fake_logits)))
    g_gan = np.mean(np.logaddexp(0, -fake_logits))
    assert results["d_loss"] == pytest.approx(d_loss, rel=1e-4)
    assert results["g_gan"] == pytest.approx(g_gan, rel=1e-4)
    assert results["g_loss"] == pytest.approx(g_gan + 100 * l1, rel=1e-4)
    assert {"val_d_loss", "val_g_gan", "val_d_real", "val_d_fake"} <= set(history.history)


def _adam_settings(optimizer):
    return (type(optimizer).__name__, float(to_numpy(optimizer.learning_rate)), optimizer.beta_1,
            optimizer.beta_2, optimizer.epsilon)


@pytest.mark.parametrize("build", ["gan", "cgan", "pix2pix"])
def test_compile_without_arguments_gives_every_model_the_same_documented_adam(build):
    model = {"gan": small_gan, "cgan": toy_cgan, "pix2pix": small_pix2pix}[build]()
    model.compile()
    expected = ("Adam", pytest.approx(2e-4), 0.5, 0.999, 1e-8)
    assert _adam_settings(model.d_optimizer) == expected and _adam_settings(model.g_optimizer) == expected
    assert model.d_optimizer is not model.g_optimizer
    model.compile(d_optimizer="adam", g_optimizer="adam")  # a string keeps Keras' meaning
    assert float(to_numpy(model.d_optimizer.learning_rate)) == pytest.approx(1e-3)
