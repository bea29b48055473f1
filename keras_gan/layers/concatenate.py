"""`Concatenate`: Keras' layer, keeping the activations' memory order on PyTorch.

Why: on a CPU keras_gan's convolutions keep their activations in NCHW memory behind Keras'
NHWC shape (`keras_gan.backend.torch_layers`, module docstring). Keras' own concatenation
(`torch.cat` along the last axis) returns row-major, i.e. NHWC, memory, so after each of the
U-Net's skip connections the next convolution copied its input back to NCHW, and the backward
pass followed suit: in the PyTorch pix2pix step (256x256, batch 1, 2-core CPU, idle,
2026-12-07) keras_gan's step was 1.18x a plain torch loop's with Keras' concatenation (median of
three processes) and 1.01x with this one (median of ten). On PyTorch a channel concatenation of 4-D tensors of one dtype is `torch.cat` on
their NCHW views, which keeps NCHW memory NCHW (and NHWC memory NHWC); everything else, and
every other backend, is Keras' layer. Same values, shapes, config and (no) weights.
"""

from __future__ import annotations

import keras

_TORCH = keras.backend.backend() == "torch"


@keras.saving.register_keras_serializable(package="keras_gan")
class Concatenate(keras.layers.Concatenate):
    """`keras.layers.Concatenate` that keeps NCHW memory NCHW on PyTorch (see the module docstring)."""

    def call(self, inputs):
        if _TORCH:
            from keras_gan.backend import torch_layers

            outputs = torch_layers.concatenate_channels(list(inputs), self.axis)
            if outputs is not None:
                return outputs
        return super().call(inputs)
