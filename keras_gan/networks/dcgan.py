"""A DCGAN-style convolutional pair for 28x28 images (Radford et al., 2016, adapted).

Not in the GAN paper; users expect it, and on MNIST it gives sharper samples
than the paper's MLPs. Following DCGAN's guidelines: strided (transposed)
convolutions instead of pooling, batch norm in the generator, LeakyReLU 0.2
in the discriminator, N(0, 0.02) initialisation, sigmoid output for pixels in
[0, 1]. The discriminator has no batch norm so that real and fake batches,
which it sees separately, are scored independently of each other.
"""

from __future__ import annotations

import keras
from keras import layers

from keras_gan.networks.mnist_mlp import MNIST_SHAPE


def _init():
    return keras.initializers.RandomNormal(0.0, 0.02)


def dcgan_generator(
    latent_dim: int = 100, width: int = 64, channels: int = 1, name: str = "dcgan_generator"
) -> keras.Model:
    """z -> 7x7x(2*width) -> 14x14xwidth -> 28x28xchannels (sigmoid)."""
    z = keras.Input((latent_dim,), name="z")
    h = layers.Dense(7 * 7 * 2 * width, use_bias=False, kernel_initializer=_init())(z)
    h = layers.BatchNormalization()(h)
    h = layers.ReLU()(h)
    h = layers.Reshape((7, 7, 2 * width))(h)
    h = layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False, kernel_initializer=_init())(h)
    h = layers.BatchNormalization()(h)
    h = layers.ReLU()(h)
    x = layers.Conv2DTranspose(
        channels, 4, strides=2, padding="same", activation="sigmoid", kernel_initializer=_init()
    )(h)
    return keras.Model(z, x, name=name)


def dcgan_discriminator(
    input_shape: tuple = MNIST_SHAPE, width: int = 64, dropout: float = 0.3, name: str = "dcgan_discriminator"
) -> keras.Model:
    """28x28 -> 14x14xwidth -> 7x7x(2*width) -> one logit."""
    x = keras.Input(input_shape, name="image")
    h = layers.Conv2D(width, 4, strides=2, padding="same", kernel_initializer=_init())(x)
    h = layers.LeakyReLU(0.2)(h)
    h = layers.Dropout(dropout)(h)
    h = layers.Conv2D(2 * width, 4, strides=2, padding="same", kernel_initializer=_init())(h)
    h = layers.LeakyReLU(0.2)(h)
    h = layers.Dropout(dropout)(h)
    h = layers.Flatten()(h)
    logit = layers.Dense(1, kernel_initializer=_init())(h)
    return keras.Model(x, logit, name=name)
