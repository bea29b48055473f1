"""Small MLPs for low-dimensional toy data (e.g. the ring of 8 Gaussians)."""

from __future__ import annotations

import keras
from keras import layers


def mlp_generator(latent_dim: int = 2, data_dim: int = 2, units: int = 128, depth: int = 2,
                  name: str = "mlp_generator") -> keras.Model:
    """z -> `depth` x Dense(units, ReLU) -> linear output of size `data_dim`."""
    z = keras.Input((latent_dim,), name="z")
    h = z
    for i in range(depth):
        h = layers.Dense(units, activation="relu", name=f"h{i}")(h)
    return keras.Model(z, layers.Dense(data_dim, name="x")(h), name=name)


def mlp_discriminator(data_dim: int = 2, units: int = 128, depth: int = 2,
                      name: str = "mlp_discriminator") -> keras.Model:
    """x -> `depth` x Dense(units, LeakyReLU 0.2) -> one logit."""
    x = keras.Input((data_dim,), name="x")
    h = x
    for i in range(depth):
        h = layers.Dense(units, name=f"h{i}")(h)
        h = layers.LeakyReLU(0.2)(h)
    return keras.Model(x, layers.Dense(1, name="logit")(h), name=name)
