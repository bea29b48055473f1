"""The GAN paper's MNIST networks (Goodfellow et al. 2014; goodfeli/adversarial `mnist.yaml`).

Generator: z(100) -> Dense 1200 ReLU -> Dense 1200 ReLU -> Dense 784 sigmoid,
weights U(-0.05, 0.05) (`irange: .05`).
Discriminator: Maxout(240 units, 5 pieces) -> Maxout(240, 5) -> Dense 1, weights
U(-0.005, 0.005) (`irange: .005`), dropout 0.2 on the input
(`input_include_probs: .8`) and 0.5 on the hidden layers. The output is the
logit of the paper's sigmoid unit (the losses apply the sigmoid stably).

`max_col_norm=1.9365` adds the column-norm cap of the maxout paper's MNIST
nets (Goodfellow et al. 2013, pylearn2 `mnist_pi.yaml`). Neither the GAN paper
nor its `mnist.yaml` uses it, so it is off by default. Images are (28, 28, 1) at the
networks' boundary (flattened inside), so the same data feed the MLP and the
convolutional networks.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from keras_gan.layers import Maxout

MNIST_SHAPE = (28, 28, 1)


#: pylearn2's `init_sigmoid_bias_from_array` clips the pixel means to [1e-7, 1 - 1e-7].
PYLEARN2_MARGINAL_CLIP = 1e-7


def sigmoid_bias_from_marginals(images: np.ndarray, eps: float = PYLEARN2_MARGINAL_CLIP) -> np.ndarray:
    """Output bias that makes an untrained sigmoid generator emit the mean image.

    The reference code initialises the generator's output bias with
    pylearn2's `init_sigmoid_bias_from_marginals`, which calls
    `init_sigmoid_bias_from_array`: the logit of the per-pixel mean, the mean
    clipped to [eps, 1 - eps] with eps = 1e-7 (so an always-black MNIST pixel
    starts at logit -16.1). Before this was corrected, keras_gan clipped at
    1e-3 (logit -6.9; 226 MNIST pixels differ, by up to 9.2): the shipped
    gan-mnist and cgan-mnist checkpoints were trained with that (their cards
    say so); pass `eps=1e-3` to reproduce them exactly.
    """
    mean = np.asarray(images, dtype="float64").reshape(len(images), -1).mean(axis=0)
    mean = np.clip(mean, eps, 1.0 - eps)
    return np.log(mean / (1.0 - mean)).astype("float32")


def output_bias_initializer(output_bias: np.ndarray | None, out_dim: int):
    """Initializer of a sigmoid output layer's bias: zeros, or `output_bias`
    (e.g. from `sigmoid_bias_from_marginals`), checked to have `out_dim` values."""
    if output_bias is None:
        return "zeros"
    output_bias = np.asarray(output_bias, dtype="float32").reshape(-1)
    if output_bias.shape != (out_dim,):
        raise ValueError(
            f"output_bias must have {out_dim} values (one per pixel); got {output_bias.shape}."
        )
    return keras.initializers.Constant(output_bias.tolist())


def mnist_generator(
    latent_dim: int = 100,
    hidden_units: int = 1200,
    output_shape: tuple = MNIST_SHAPE,
    output_bias: np.ndarray | None = None,
    name: str = "mnist_mlp_generator",
) -> keras.Model:
    """The paper's MNIST generator (see the module docstring)."""
    init = keras.initializers.RandomUniform(-0.05, 0.05)
    out_dim = int(np.prod(output_shape))
    bias_init = output_bias_initializer(output_bias, out_dim)
    z = keras.Input((latent_dim,), name="z")
    h = layers.Dense(hidden_units, activation="relu", kernel_initializer=init, name="h0")(z)
    h = layers.Dense(hidden_units, activation="relu", kernel_initializer=init, name="h1")(h)
    x = layers.Dense(
        out_dim, activation="sigmoid", kernel_initializer=init, bias_initializer=bias_init, name="y"
    )(h)
    x = layers.Reshape(output_shape, name="image")(x)
    return keras.Model(z, x, name=name)


def mnist_discriminator(
    input_shape: tuple = MNIST_SHAPE,
    units: int = 240,
    pieces: int = 5,
    input_dropout: float = 0.2,
    hidden_dropout: float = 0.5,
    max_col_norm: float | None = None,
    name: str = "mnist_maxout_discriminator",
) -> keras.Model:
    """The paper's MNIST maxout discriminator, returning one logit per image."""
    init = keras.initializers.RandomUniform(-0.005, 0.005)
    constraint = keras.constraints.MaxNorm(max_col_norm, axis=0) if max_col_norm else None
    x = keras.Input(input_shape, name="image")
    h = layers.Flatten(name="flatten")(x)
    h = layers.Dropout(input_dropout, name="input_dropout")(h)
    h = Maxout(units, pieces, kernel_initializer=init, kernel_constraint=constraint, name="h0")(h)
    h = layers.Dropout(hidden_dropout, name="h0_dropout")(h)
    h = Maxout(units, pieces, kernel_initializer=init, kernel_constraint=constraint, name="h1")(h)
    h = layers.Dropout(hidden_dropout, name="h1_dropout")(h)
    logit = layers.Dense(1, kernel_initializer=init, name="logit")(h)
    return keras.Model(x, logit, name=name)
