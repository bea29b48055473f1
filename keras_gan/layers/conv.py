"""`Conv2D` and `Conv2DTranspose`: Keras' layers, without the layout copies Keras makes on PyTorch.

Why: for a channels-last tensor, Keras' torch backend copies the input to channels-first and
back, and the kernel too (in the pix2pix step about a quarter of the time). On PyTorch these
layers hand channels-last tensors to torch's convolutions as views instead, lay their kernels
out at build for the path they take, and on small maps (at most 16x16 pixels) convolve NCHW
copies of their activations, which oneDNN does faster: all of that torch code, with its
measurements, is `keras_gan.backend.torch_layers` (imported inside the methods below, on
PyTorch only, so that `keras_gan.layers` and `keras_gan.backend` import independently).

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
    """`keras.layers.Conv2D` with a copy-free NHWC path on PyTorch (see the module docstring)."""

    def build(self, input_shape):
        super().build(input_shape)
        if _TORCH and self.data_format == "channels_last":
            from keras_gan.backend import torch_layers

            self._torch_nchw = torch_layers.runs_nchw(input_shape, transposed=False,
                                                        device_type=self.kernel.value.device.type)
            torch_layers.lay_out_kernel(self.kernel, channels_last=not self._torch_nchw)

    def convolution_op(self, inputs, kernel):
        padding = self._torch_padding(inputs) if _TORCH else None
        if padding is None:
            return super().convolution_op(inputs, kernel)
        from keras_gan.backend import torch_layers

        return torch_layers.conv2d(inputs, kernel, self.strides, padding, nchw=getattr(self, "_torch_nchw", False))

    def _torch_padding(self, inputs) -> tuple | None:
        """Torch's symmetric padding for this call, or None when the fast path does not apply (PyTorch)."""
        from keras_gan.backend import torch_layers

        return torch_layers.conv2d_padding(self, inputs)


@keras.saving.register_keras_serializable(package="keras_gan")
class Conv2DTranspose(keras.layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose` with a copy-free NHWC path on PyTorch, and on JAX a kernel prepared
    once per set of weights for inference (see the module docstring)."""

    def build(self, input_shape):
        super().build(input_shape)
        if _TORCH and self.data_format == "channels_last":
            from keras_gan.backend import torch_layers

            self._torch_nchw = torch_layers.runs_nchw(input_shape, transposed=True,
                                                        device_type=self.kernel.value.device.type)
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
