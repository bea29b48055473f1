"""The maxout unit (Goodfellow et al., 2013), used by the GAN paper's MNIST discriminator."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_gan")
class Maxout(keras.layers.Layer):
    """Fully connected maxout layer: `units` outputs, each the max of `pieces` affine maps.

    The GAN paper's discriminators (goodfeli/adversarial, `mnist.yaml`) are
    pylearn2 `Maxout` layers; this is the same computation as one Dense layer
    with `units * pieces` outputs followed by a max over each group of
    `pieces` consecutive outputs (pylearn2's grouping, unit-major).

    Args:
        units: number of output features.
        pieces: number of linear pieces per unit (`num_pieces` in pylearn2).
        kernel_initializer, bias_initializer, kernel_constraint: as in
            `keras.layers.Dense`. pylearn2's `max_col_norm` corresponds to
            `keras.constraints.MaxNorm(value, axis=0)`.
    """

    def __init__(
        self,
        units: int,
        pieces: int,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if int(units) <= 0 or int(pieces) <= 0:
            raise ValueError(
                f"Maxout needs units > 0 and pieces > 0; got units={units}, pieces={pieces}."
            )
        self.units = int(units)
        self.pieces = int(pieces)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)

    def build(self, input_shape):
        in_features = input_shape[-1]
        if in_features is None:
            raise ValueError(
                f"Maxout needs a known last input dimension; got input shape {input_shape}."
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(in_features, self.units * self.pieces),
            initializer=self.kernel_initializer,
            constraint=self.kernel_constraint,
        )
        self.bias = self.add_weight(
            name="bias",
            shape=(self.units * self.pieces,),
            initializer=self.bias_initializer,
        )

    def call(self, inputs):
        z = ops.matmul(inputs, self.kernel) + self.bias
        z = ops.reshape(z, (-1, self.units, self.pieces))
        return ops.max(z, axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            pieces=self.pieces,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
            kernel_constraint=keras.constraints.serialize(self.kernel_constraint),
        )
        return config
