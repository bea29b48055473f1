"""A DCGAN-style pair for square images of any size a few halvings reach (16, 28, 32, 64, 128, ...),
optionally conditioned on a class: the networks a GAN or CGAN trains on a folder of your own images.

`keras_gan.networks.dcgan` is fixed to MNIST's 28x28x1; a folder of photos can be
64x64 RGB. Same guidelines (Radford et al. 2016): strided (transposed)
convolutions, batch norm in G only, ReLU in G and LeakyReLU 0.2 in D, N(0, 0.02)
initialisation, sigmoid output for pixels in [0, 1]. The image is halved while it
stays even and above 4 pixels (at most 4 times): 64 -> 4 (4 halvings), 28 -> 7 (2).
Conditioning (`num_classes` > 0, for `keras_gan.ConditionalGAN`): G takes
`[z, y]` with the one-hot y concatenated to z; D takes `[x, y]`, y mapped by a
Dense layer to one extra image-sized channel beside x, so every convolution can
check the image against its label (a y joined only at D's last linear layer
would just shift the logit per class).
"""

from __future__ import annotations

import keras
from keras import layers


def _init():
    return keras.initializers.RandomNormal(0.0, 0.02)


def halvings(image_size: int) -> int:
    """How many stride-2 layers the pair uses for `image_size` (the smallest map is >= 4 pixels)."""
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 8 or image_size % 2:
        raise ValueError(f"image_size must be an even integer >= 8 (halved at least once to >= 4 pixels); "
                         f"got {image_size!r}.")
    count, size = 0, image_size
    while size % 2 == 0 and size // 2 >= 4 and count < 4:
        size //= 2
        count += 1
    return count


def image_generator(image_size: int = 64, channels: int = 3, latent_dim: int = 100, width: int = 64,
                    num_classes: int = 0, name: str = "image_generator") -> keras.Model:
    """z (and the one-hot y) -> s0 x s0 x (width * 2^(k-1)) -> k transposed convolutions -> image (sigmoid)."""
    k = halvings(image_size)
    start = image_size // 2**k
    z = keras.Input((latent_dim,), name="z")
    inputs = [z]
    h = z
    if num_classes:
        y = keras.Input((num_classes,), name="y")
        inputs.append(y)
        h = layers.Concatenate(name="z_y")([z, y])
    top = width * 2 ** (k - 1)
    h = layers.Dense(start * start * top, use_bias=False, kernel_initializer=_init(), name="project")(h)
    h = layers.BatchNormalization(name="project_norm")(h)
    h = layers.ReLU()(h)
    h = layers.Reshape((start, start, top))(h)
    for i in range(1, k):
        h = layers.Conv2DTranspose(width * 2 ** (k - 1 - i), 4, strides=2, padding="same", use_bias=False,
                                   kernel_initializer=_init(), name=f"up{i}")(h)
        h = layers.BatchNormalization(name=f"up{i}_norm")(h)
        h = layers.ReLU()(h)
    x = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", activation="sigmoid",
                               kernel_initializer=_init(), name="image")(h)
    return keras.Model(inputs if num_classes else z, x, name=name)


def image_discriminator(image_size: int = 64, channels: int = 3, width: int = 64, dropout: float = 0.3,
                        num_classes: int = 0, seed: int | None = None,
                        name: str = "image_discriminator") -> keras.Model:
    """image (and the one-hot y as an extra channel) -> k stride-2 convolutions -> one logit.

    `seed`: base seed of the dropout layers (explicit, so that their masks come from a state
    the model saves and restores on every backend; default from Python's `random`, which
    `keras.utils.set_random_seed` seeds)."""
    import random

    k = halvings(image_size)
    seed = random.randint(1, 2**30) if seed is None else int(seed)
    x = keras.Input((image_size, image_size, channels), name="image")
    inputs = [x]
    h = x
    if num_classes:
        y = keras.Input((num_classes,), name="y")
        inputs.append(y)
        label_map = layers.Dense(image_size * image_size, kernel_initializer=_init(), name="label_map")(y)
        label_map = layers.Reshape((image_size, image_size, 1))(label_map)
        h = layers.Concatenate(name="image_label")([x, label_map])
    for i in range(k):
        h = layers.Conv2D(width * 2**i, 4, strides=2, padding="same", kernel_initializer=_init(),
                          name=f"down{i + 1}")(h)
        h = layers.LeakyReLU(0.2)(h)
        if dropout:
            h = layers.Dropout(dropout, seed=seed + i)(h)
    h = layers.Flatten()(h)
    logit = layers.Dense(1, kernel_initializer=_init(), name="logit")(h)
    return keras.Model(inputs if num_classes else x, logit, name=name)
