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
