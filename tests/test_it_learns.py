"""A small GAN learns a ring of 8 Gaussians within a bounded CPU budget, on every backend."""

import time

import keras
import pytest

import keras_gan
from keras_gan import datasets, networks

TIME_BUDGET_S = 120  # measured: 7-22 s on 2 CPU cores depending on the backend


def test_ring_of_eight_gaussians_covers_at_least_six_modes():
    keras.utils.set_random_seed(0)
    data = datasets.ring_of_gaussians(256 * 40, seed=0)
    gan = keras_gan.GAN(
        networks.mlp_generator(latent_dim=8, units=128),
        networks.mlp_discriminator(units=128),
        latent_prior="normal",
        seed=1,
    )
    gan.compile(
        d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
    )
    start = time.perf_counter()
    gan.fit(data, batch_size=256, epochs=50, verbose=0)
    elapsed = time.perf_counter() - start
    covered, quality = datasets.count_covered_modes(gan.generate(4000, seed=0))
    assert covered >= 6, f"only {covered}/8 modes covered"
    assert quality >= 0.4, f"only {quality:.0%} of samples within 3 std of a mode"
    assert elapsed < TIME_BUDGET_S


def test_untrained_generator_covers_no_mode():
    """The measurement itself is discriminating: an untrained G scores nothing."""
    gan = keras_gan.GAN(networks.mlp_generator(latent_dim=8), networks.mlp_discriminator(), seed=1)
    covered, quality = datasets.count_covered_modes(gan.generate(4000, seed=0))
    assert covered <= 1 and quality < 0.1
