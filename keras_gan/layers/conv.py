"""`Conv2D` and `Conv2DTranspose`: Keras' layers, without the layout copies Keras makes on PyTorch.

Why: for a channels-last tensor, Keras' torch backend copies the input to
channels-first (`permute(...).contiguous()`), copies it back to torch's
channels-last memory format, does the same to the kernel, and for a transposed
convolution computes a larger output and slices it. In the pix2pix step these
copies took about a quarter of the time (torch profiler, 256x256 U-Net): the
main reason the step ran about 3x slower than a plain torch loop.

Here, on PyTorch, an NHWC tensor is handed to `torch.nn.functional.conv2d` /
`conv_transpose2d` as a *view*: `x.permute(0, 3, 1, 2)` of an NHWC-contiguous
tensor is an NCHW tensor in torch's channels-last memory format, which
oneDNN convolves directly, and the result is permuted back, again a view. No
activation is copied. Symmetric padding is passed to torch instead of padding
the tensor. Only the kernel is re-laid out (Keras stores it as (kh, kw, in,
out), torch needs (out, in, kh, kw)): once per call, reused by the backward
pass.

Everything else is Keras' own: the weights (same shapes and names, so weight
files move between backends), the config, the output shapes, and on
TensorFlow and JAX the computation itself. Configurations the fast path does
not cover (channels-first, dilation, groups, asymmetric "same" padding, 1-D or
3-D) fall back to Keras' implementation. Tests check that both paths give the
same outputs and gradients.
"""

from __future__ import annotations

import keras

_TORCH = keras.backend.backend() == "torch"


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) padding of a "same" convolution (TensorFlow's convention: the extra pixel after)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _torch_kernel(kernel):
    """Keras' (kh, kw, in, out) kernel in torch's (out, in, kh, kw) layout, copied once.

    An explicit contiguous copy: handed a permuted view, torch re-lays it out
    in the forward pass and again in the backward pass; this way the backward
    pass reuses the saved copy (measured: 3 -> 2 kernel-sized copies per
    layer and step; the kernels are most of the copying left).
    """
    return kernel.permute(3, 2, 0, 1).contiguous()


@keras.saving.register_keras_serializable(package="keras_gan")
class Conv2D(keras.layers.Conv2D):
    """`keras.layers.Conv2D` with a copy-free NHWC path on PyTorch (see the module docstring)."""

    def convolution_op(self, inputs, kernel):
        padding = self._torch_padding(inputs) if _TORCH else None
        if padding is None:
            return super().convolution_op(inputs, kernel)
        import torch.nn.functional as F

        kernel = keras.ops.convert_to_tensor(kernel)
        outputs = F.conv2d(inputs.permute(0, 3, 1, 2), _torch_kernel(kernel),
                           stride=tuple(self.strides), padding=padding)
        return outputs.permute(0, 2, 3, 1)

    def _torch_padding(self, inputs) -> tuple | None:
        """Torch's symmetric padding for this call, or None when the fast path does not apply."""
        if (self.data_format != "channels_last" or self.groups != 1 or tuple(self.dilation_rate) != (1, 1)
                or inputs.ndim != 4):
            return None
        if self.padding == "valid":
            return (0, 0)
        pads = [_same_padding(int(inputs.shape[1 + i]), self.kernel_size[i], self.strides[i]) for i in range(2)]
        if any(before != after for before, after in pads):
            return None
        return tuple(before for before, _ in pads)


@keras.saving.register_keras_serializable(package="keras_gan")
class Conv2DTranspose(keras.layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose` with a copy-free NHWC path on PyTorch (see the module docstring)."""

    def call(self, inputs):
        padding = self._torch_padding(inputs) if _TORCH else None
        if padding is None:
            return super().call(inputs)
        import torch.nn.functional as F

        kernel = keras.ops.convert_to_tensor(self.kernel)
        bias = keras.ops.convert_to_tensor(self.bias) if self.use_bias else None
        outputs = F.conv_transpose2d(inputs.permute(0, 3, 1, 2), _torch_kernel(kernel), bias,
                                     stride=tuple(self.strides), padding=padding).permute(0, 2, 3, 1)
        return self.activation(outputs) if self.activation is not None else outputs

    def _torch_padding(self, inputs) -> tuple | None:
        """Torch's symmetric padding giving Keras' output window, or None (then Keras' own path)."""
        if (self.data_format != "channels_last" or tuple(self.dilation_rate) != (1, 1) or inputs.ndim != 4
                or self.output_padding is not None):
            return None
        pads = []
        for i in range(2):
            kernel, stride = self.kernel_size[i], self.strides[i]
            if self.padding == "valid":
                pads.append(0)
            elif kernel >= stride and (kernel - stride) % 2 == 0:
                # "same": output = input x stride, i.e. crop (kernel - stride) of the natural
                # (input - 1) x stride + kernel pixels, evenly on both sides.
                pads.append((kernel - stride) // 2)
            else:
                return None
        return tuple(pads)
