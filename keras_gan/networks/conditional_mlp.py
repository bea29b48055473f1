"""Conditional MLPs: the MNIST networks of Mirza & Osindero (2014), and small toy ones.

Paper networks, section 4.1 ("Unimodal"), y the one-hot class label (10):

- Generator: z (100, uniform prior) -> Dense 200 ReLU and y -> Dense 1000 ReLU,
  concatenated -> Dense 1200 ReLU -> Dense 784 sigmoid (reshaped to 28x28x1).
- Discriminator: x -> Maxout(240 units, 5 pieces) and y -> Maxout(50, 5),
  concatenated -> Maxout(240, 4) -> one sigmoid unit. We return its logit;
  the losses apply the sigmoid stably, as for `GAN`.
- "Dropout with probability of 0.5 was applied to both the generator and
  discriminator."

Choices the paper leaves open, named:

- *Where the dropout goes.* The paper gives only the rate. We drop the
  outputs of every hidden layer (both branches and the joint layer), in both
  networks, i.e. the inputs of every layer but the first, as the GAN paper's
  code does for its discriminator's hidden layers; the raw inputs z, y, x are
  not dropped. `generator_dropout` / `dropout` set the rates (0.5 default, the
  paper's); 0 turns dropout off.
- *Initialisation* (not stated): the GAN paper's code, U(-0.05, 0.05) for the
  generator and U(-0.005, 0.005) for the discriminator (`irange`).
- *Output bias:* optional, from the data's pixel marginals, as in `mnist_generator`.
- Images are (28, 28, 1) at the networks' boundary (flattened inside), like
  the other MNIST networks.

The toy networks (`conditional_mlp_*`) condition the simplest way the paper
describes (section 3.2, "feeding y into both ... as additional input layer"):
y is concatenated to z (or x) before a stack of dense layers.
"""

from __future__ import annotations

from typing import Sequence

import keras
import numpy as np
from keras import layers

from keras_gan.layers import Maxout
from keras_gan.networks.mnist_mlp import MNIST_SHAPE, output_bias_initializer


def _maybe_dropout(h, rate: float, name: str):
    return layers.Dropout(rate, name=name)(h) if rate > 0 else h


def _check_rate(name: str, rate: float) -> float:
    if not 0.0 <= float(rate) < 1.0:
        raise ValueError(f"{name} must be a dropout rate in [0, 1); got {rate!r}.")
    return float(rate)


def conditional_mnist_generator(
    latent_dim: int = 100,
    num_classes: int = 10,
    z_units: int = 200,
    y_units: int = 1000,
    joint_units: int = 1200,
    generator_dropout: float = 0.5,
    output_shape: tuple = MNIST_SHAPE,
    output_bias: np.ndarray | None = None,
    name: str = "conditional_mnist_generator",
) -> keras.Model:
    """G(z, y) of section 4.1 (see the module docstring); inputs `[z, y]`, y one-hot."""
    rate = _check_rate("generator_dropout", generator_dropout)
    init = keras.initializers.RandomUniform(-0.05, 0.05)
    out_dim = int(np.prod(output_shape))
    z = keras.Input((latent_dim,), name="z")
    y = keras.Input((num_classes,), name="y")
    hz = layers.Dense(z_units, activation="relu", kernel_initializer=init, name="z_h0")(z)
    hy = layers.Dense(y_units, activation="relu", kernel_initializer=init, name="y_h0")(y)
    h = layers.Concatenate(name="joint_input")(
        [_maybe_dropout(hz, rate, "z_h0_dropout"), _maybe_dropout(hy, rate, "y_h0_dropout")]
    )
    h = layers.Dense(joint_units, activation="relu", kernel_initializer=init, name="joint_h1")(h)
    h = _maybe_dropout(h, rate, "joint_h1_dropout")
    x = layers.Dense(
        out_dim,
        activation="sigmoid",
        kernel_initializer=init,
        bias_initializer=output_bias_initializer(output_bias, out_dim),
        name="x",
    )(h)
    x = layers.Reshape(output_shape, name="image")(x)
    return keras.Model([z, y], x, name=name)


def conditional_mnist_discriminator(
    input_shape: tuple = MNIST_SHAPE,
    num_classes: int = 10,
    x_units: int = 240,
    x_pieces: int = 5,
    y_units: int = 50,
    y_pieces: int = 5,
    joint_units: int = 240,
    joint_pieces: int = 4,
    dropout: float = 0.5,
    input_dropout: float = 0.0,
    max_col_norm: float | None = None,
    name: str = "conditional_mnist_discriminator",
) -> keras.Model:
    """D(x, y) of section 4.1 (see the module docstring); inputs `[x, y]`, one logit out.

    `input_dropout` drops pixels of x before the first layer, as the GAN paper's
    code does for its discriminator (include probability 0.8, i.e. rate 0.2);
    the CGAN paper does not say, so it is off by default.
    `max_col_norm` adds pylearn2's maxout column-norm constraint, as in
    `mnist_discriminator` (off by default: the paper does not state one).
    """
    rate = _check_rate("dropout", dropout)
    x_rate = _check_rate("input_dropout", input_dropout)
    init = keras.initializers.RandomUniform(-0.005, 0.005)
    constraint = keras.constraints.MaxNorm(max_col_norm, axis=0) if max_col_norm else None

    def maxout(units, pieces, layer_name):
        return Maxout(units, pieces, kernel_initializer=init, kernel_constraint=constraint, name=layer_name)

    x = keras.Input(input_shape, name="image")
    y = keras.Input((num_classes,), name="y")
    hx = maxout(x_units, x_pieces, "x_h0")(_maybe_dropout(layers.Flatten(name="flatten")(x), x_rate, "x_dropout"))
    hy = maxout(y_units, y_pieces, "y_h0")(y)
    h = layers.Concatenate(name="joint_input")(
        [_maybe_dropout(hx, rate, "x_h0_dropout"), _maybe_dropout(hy, rate, "y_h0_dropout")]
    )
    h = maxout(joint_units, joint_pieces, "joint_h1")(h)
    h = _maybe_dropout(h, rate, "joint_h1_dropout")
    logit = layers.Dense(1, kernel_initializer=init, name="logit")(h)
    return keras.Model([x, y], logit, name=name)


def conditional_mlp_generator(
    latent_dim: int = 2,
    num_classes: int = 8,
    data_dim: int = 2,
    widths: Sequence[int] = (128, 128),
    name: str = "conditional_mlp_generator",
) -> keras.Model:
    """[z, y] -> concatenated -> Dense(w, ReLU) for w in `widths` -> linear output of size `data_dim`."""
    z = keras.Input((latent_dim,), name="z")
    y = keras.Input((num_classes,), name="y")
    h = layers.Concatenate(name="z_y")([z, y])
    for i, width in enumerate(widths):
        h = layers.Dense(width, activation="relu", name=f"h{i}")(h)
    return keras.Model([z, y], layers.Dense(data_dim, name="x")(h), name=name)


def conditional_mlp_discriminator(
    data_dim: int = 2,
    num_classes: int = 8,
    widths: Sequence[int] = (128, 128),
    name: str = "conditional_mlp_discriminator",
) -> keras.Model:
    """[x, y] -> concatenated -> Dense(w, LeakyReLU 0.2) for w in `widths` -> one logit."""
    x = keras.Input((data_dim,), name="x")
    y = keras.Input((num_classes,), name="y")
    h = layers.Concatenate(name="x_y")([x, y])
    for i, width in enumerate(widths):
        h = layers.LeakyReLU(0.2, name=f"h{i}_lrelu")(layers.Dense(width, name=f"h{i}")(h))
    return keras.Model([x, y], layers.Dense(1, name="logit")(h), name=name)
