"""`Conv2D` and `Conv2DTranspose`: Keras' layers, without the layout copies Keras makes on PyTorch.

Why: for a channels-last tensor, Keras' torch backend copies the input to channels-first and
back, and the kernel too (in the pix2pix step about a quarter of the time). On PyTorch these
layers convolve without those copies: on a CPU they run torch's NCHW convolutions on the NCHW
memory behind Keras' NHWC shape and leave their outputs in NCHW memory (on a GPU, channels-last
views), and lay their kernels out at build for that path: all of that torch code, with its
measurements, is `keras_gan.backend.torch_layers` (imported inside the methods below, on PyTorch
only, so that `keras_gan.layers` and `keras_gan.backend` import independently).

On JAX, `Conv2DTranspose` has one more path, for inference only: Keras' JAX convolution rewrites
(flips and transposes) the kernel inside every call, which for the pix2pix 256 U-Net made
`translate` at batch 1 1.45x a native loop. An inference pass compiled by
`keras_gan.backend.compiled_forward` rewrites the kernels once per set of weights and the layer
convolves with that (`keras_gan.backend.jax_layers`); called any other way (training, `model(x)`)
the layer is Keras' own.

Everything else is Keras' own: the weights (same shapes and names, so weight
files move between backends), the config, the output shapes, and on
TensorFlow the computation itself. Configurations the fast path does
not cover (channels-first, dilation, groups, asymmetric "same" padding, 1-D or
3-D) fall back to Keras' implementation. Tests check that both paths give the
same outputs and gradients.
"""

from __future__ import annotations

import keras

_TORCH = keras.backend.backend() == "torch"
_JAX = keras.backend.backend() == "jax"


@keras.saving.register_keras_serializable(package="keras_gan")
class Conv2D(keras.layers.Conv2D):
    """`keras.layers.Conv2D` with a copy-free NHWC path on PyTorch (see the module docstring), and
    explicit zero padding.

    `padding` takes Keras' `"valid"` / `"same"`, or explicit zero padding as torch's `nn.Conv2d` and
    `tf.nn.conv2d` take it: an int (the same on all four sides), `(rows, cols)` (symmetric per axis)
    or `((top, bottom), (left, right))`. Why: the pix2pix reference code pads each PatchGAN
    convolution by one pixel inside the convolution (`padding=1`). Written as `ZeroPadding2D` and a
    "valid" convolution, the padded map is a copy, and the convolution and its backward pass run on
    the larger map: in the PyTorch pix2pix step (256x256, batch 1, 2-core CPU, torch profiler,
    2026-12-07) the discriminator's padded convolutions took about 45 ms a step more than the same
    convolutions with the padding inside them. On PyTorch symmetric padding goes to torch's
    convolution; elsewhere (and for asymmetric padding) the layer pads with `keras.ops.pad` and
    convolves "valid" (XLA folds such a pad into the convolution on JAX). Same weights either way.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", **kwargs):
        self.explicit_padding = explicit_padding(padding)
        super().__init__(filters, kernel_size, strides=strides,
                         padding="valid" if self.explicit_padding is not None else padding, **kwargs)

    def build(self, input_shape):
        super().build(self._padded_shape(input_shape))
        if _TORCH and self.data_format == "channels_last":
            from keras_gan.backend import torch_layers

            self._torch_nchw = torch_layers.runs_nchw(input_shape, device_type=self.kernel.value.device.type)
            torch_layers.lay_out_kernel(self.kernel, channels_last=not self._torch_nchw)

    def convolution_op(self, inputs, kernel):
        padding = self._torch_padding(inputs) if _TORCH else None
        if padding is not None:
            from keras_gan.backend import torch_layers

            return torch_layers.conv2d(inputs, kernel, self.strides, padding,
                                       nchw=getattr(self, "_torch_nchw", False))
        if self.explicit_padding is not None:
            spatial = list(self.explicit_padding)
            pads = [(0, 0)] + (spatial + [(0, 0)] if self.data_format == "channels_last" else [(0, 0)] + spatial)
            inputs = keras.ops.pad(inputs, pads)
        return super().convolution_op(inputs, kernel)

    def compute_output_shape(self, input_shape):
        return super().compute_output_shape(self._padded_shape(input_shape))

    def get_config(self):
        config = super().get_config()
        if self.explicit_padding is not None:
            config["padding"] = [list(pair) for pair in self.explicit_padding]
        return config

    def _padded_shape(self, input_shape):
        """`input_shape` grown by the explicit padding (unchanged without one), for Keras' "valid" maths."""
        if self.explicit_padding is None:
            return input_shape
        shape = list(input_shape)
        first = 1 if self.data_format == "channels_last" else 2
        for axis, (before, after) in zip((first, first + 1), self.explicit_padding):
            if shape[axis] is not None:
                shape[axis] += before + after
        return tuple(shape)

    def _torch_padding(self, inputs) -> tuple | None:
        """Torch's symmetric padding for this call, or None when the fast path does not apply (PyTorch)."""
        from keras_gan.backend import torch_layers

        return torch_layers.conv2d_padding(self, inputs)


def explicit_padding(padding) -> tuple | None:
    """`((top, bottom), (left, right))` for an explicit `Conv2D` padding, None for "valid" / "same".

    Raises a ValueError naming the accepted forms for anything else.
    """
    if isinstance(padding, str):
        return None
    def is_count(value):
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if is_count(padding):
        return ((padding, padding), (padding, padding))
    if isinstance(padding, (tuple, list)) and len(padding) == 2:
        if all(is_count(p) for p in padding):
            return ((padding[0], padding[0]), (padding[1], padding[1]))
        if all(isinstance(p, (tuple, list)) and len(p) == 2 and all(is_count(q) for q in p) for p in padding):
            return tuple((int(p[0]), int(p[1])) for p in padding)
    raise ValueError(
        f"Conv2D padding must be 'valid', 'same', a non-negative int (all four sides), (rows, cols) or "
        f"((top, bottom), (left, right)); got {padding!r}."
    )


@keras.saving.register_keras_serializable(package="keras_gan")
class Conv2DTranspose(keras.layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose` with a copy-free NHWC path on PyTorch, and on JAX a kernel prepared
    once per set of weights for inference (see the module docstring)."""

    def build(self, input_shape):
        super().build(input_shape)
        if _TORCH and self.data_format == "channels_last":
            from keras_gan.backend import torch_layers

            self._torch_nchw = torch_layers.runs_nchw(input_shape, device_type=self.kernel.value.device.type)
            torch_layers.lay_out_kernel(self.kernel, channels_last=not self._torch_nchw)

    #: On JAX, an inference pass compiled by `keras_gan.backend.compiled_forward` prepares this layer's
    #: kernel once, outside the pass (`keras_gan.backend.jax_layers`).
    prepares_jax_kernel = _JAX

    def call(self, inputs):
        if _JAX and self.data_format == "channels_last":
            from keras_gan.backend import jax_layers

            kernel = jax_layers.prepared_kernel(self)
            if kernel is not None:
                outputs = jax_layers.conv2d_transpose(self, inputs, kernel)
                return self.activation(outputs) if self.activation is not None else outputs
        padding = self._torch_padding(inputs) if _TORCH else None
        if padding is None:
            return super().call(inputs)
        from keras_gan.backend import torch_layers

        outputs = torch_layers.conv2d_transpose(inputs, self.kernel, self.bias if self.use_bias else None,
                                                self.strides, padding, nchw=getattr(self, "_torch_nchw", False))
        return self.activation(outputs) if self.activation is not None else outputs

    def _torch_padding(self, inputs) -> tuple | None:
        """Torch's symmetric padding giving Keras' output window, or None (then Keras' own path; PyTorch)."""
        from keras_gan.backend import torch_layers

        return torch_layers.conv2d_transpose_padding(self, inputs)
