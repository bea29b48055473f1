"""Seeded `generate`: sample i depends only on (seed, i), not on how many samples are asked for
nor on the batch size the generator is fed in (GAN and ConditionalGAN, every backend)."""

import numpy as np
import pytest

import keras_gan
from keras_gan import networks
from keras_gan.models.gan import LATENT_CHUNK


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread(one_torch_thread):
    """See `tests.conftest.one_torch_thread`."""
    yield


def small_gan():
    return keras_gan.GAN(networks.mlp_generator(latent_dim=4, units=16),
                         networks.mlp_discriminator(units=16), seed=7)


def small_cgan(num_classes=4):
    return keras_gan.ConditionalGAN(
        networks.conditional_mlp_generator(latent_dim=3, num_classes=num_classes, widths=(16,)),
        networks.conditional_mlp_discriminator(num_classes=num_classes, widths=(16,)), seed=7)


#: Only the generator's batched arithmetic may differ between batch sizes (BLAS blocking).
ROUNDING = dict(rtol=0, atol=1e-5)


def test_gan_samples_do_not_depend_on_the_batch_size_or_the_count():
    gan = small_gan()
    reference = gan.generate(5, seed=7)
    for batch_size in (1, 2, 3, 4, 1000, 5000):
        np.testing.assert_allclose(gan.generate(5, seed=7, batch_size=batch_size), reference, **ROUNDING)
    # A prefix of a longer draw, across a chunk boundary and with batches that straddle it.
    longer = gan.generate(LATENT_CHUNK + 300, seed=7, batch_size=700)
    assert longer.shape == (LATENT_CHUNK + 300, 2)
    np.testing.assert_allclose(longer[:5], reference, **ROUNDING)
    np.testing.assert_allclose(gan.generate(LATENT_CHUNK + 300, seed=7), longer, **ROUNDING)
    # The samples are not all the same, and another seed gives others.
    assert np.abs(longer[0] - longer[LATENT_CHUNK + 1]).max() > 1e-2
    assert np.abs(gan.generate(5, seed=8) - reference).max() > 1e-2


def test_cgan_samples_do_not_depend_on_the_batch_size_or_the_count():
    cgan = small_cgan()
    labels = np.arange(10) % 4
    reference = cgan.generate(labels, seed=7)
    assert reference.shape == (10, 2)
    for batch_size in (1, 3, 7):
        np.testing.assert_allclose(cgan.generate(labels, seed=7, batch_size=batch_size), reference, **ROUNDING)
    np.testing.assert_allclose(cgan.generate(labels[:4], seed=7, batch_size=2), reference[:4], **ROUNDING)
    # One-hot labels are the same labels.
    np.testing.assert_allclose(cgan.generate(np.eye(4)[labels], seed=7, batch_size=4), reference, **ROUNDING)
    assert np.abs(cgan.generate(labels, seed=8) - reference).max() > 1e-2
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        cgan.generate(labels, seed=7, batch_size=0)


def test_whole_chunks_drawn_inside_the_compiled_pass_match_eager_draws(monkeypatch):
    """A whole chunk (the default batch of 1000) is drawn inside the compiled generator pass on
    TensorFlow and JAX (`compiled_forward.sampling_forward`). It gives the samples of the eager
    draw (batch 500: the chunk drawn, then cut) and leaves the model's own noise stream (no seed)
    where the eager draws leave it."""
    import keras

    from keras_gan.backend import compiled_forward

    calls = []
    real = compiled_forward.sampling_forward
    monkeypatch.setattr(compiled_forward, "sampling_forward",
                        lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs))
    for make, extra in ((small_gan, None), (small_cgan, np.arange(2 * LATENT_CHUNK) % 4)):
        fused, eager = make(), make()
        for model in (fused, eager):
            model.set_weights(fused.get_weights())  # both start from the same weights and stream
        args = (2 * LATENT_CHUNK,) if extra is None else (extra,)
        fused_samples = fused.generate(*args)  # seedless: the model's own stream
        eager_samples = eager.generate(*args, batch_size=LATENT_CHUNK // 2)
        np.testing.assert_allclose(fused_samples, eager_samples, **ROUNDING)
        assert np.abs(fused_samples[0] - fused_samples[LATENT_CHUNK]).max() > 1e-3  # two different chunks
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(fused.seed_generator.state.value),
                                      keras.ops.convert_to_numpy(eager.seed_generator.state.value))
        np.testing.assert_allclose(fused.generate(*args), eager.generate(*args, batch_size=LATENT_CHUNK // 2),
                                   **ROUNDING)  # and the next draws too
    assert calls  # the path under test was asked for (it is None on PyTorch, which draws eagerly)
