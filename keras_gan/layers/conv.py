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
the tensor. On small maps (at most 16x16 pixels, `NCHW_MAX_PIXELS`; for a
transposed convolution not a 1x1 map, `NCHW_TRANSPOSED_MIN_PIXELS`) the layer
instead copies its small activation to NCHW and back, where oneDNN's NCHW
kernels are faster (measured below; chosen at build, from the built shape). The kernel keeps Keras' shape, (kh, kw,
in, out) (transposed: (kh, kw, out, in)), but on PyTorch its memory is laid
out at build for the path the layer takes: for channels-last as
(out, kh, kw, in): then `kernel.permute(3, 2, 0, 1)` is torch's (out, in, kh,
kw) weight in channels-last memory format, which oneDNN reads directly; for
NCHW as torch's plain (out, in, kh, kw). Either way no kernel is copied in the
forward pass; on the channels-last path torch still copies the weight gradient
into that layout once in the backward pass (torch profiler), one reason the
small maps, whose kernels are the big ones, go NCHW. (Before, copying
the 512- and 1024-channel kernels between the layouts was about 30% of the
pix2pix step.) Values, shapes, names and weight files are unchanged: only
the strides differ, and `assign` keeps them.

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


def _torch_weight(kernel, nchw: bool):
    """Keras' kernel as the weight torch convolves with, (out, in, kh, kw) (transposed: (in, out, kh, kw)).

    In torch's channels-last memory format for the channels-last path, plain for
    the NCHW one (`nchw`). A view when the kernel's memory is laid out as
    `_lay_out_for_torch` does for that path (no copy); otherwise (e.g. a float16
    copy under mixed precision) at most one copy.
    """
    weight = keras.ops.convert_to_tensor(kernel).permute(3, 2, 0, 1)
    return weight if nchw else _channels_last(weight)


def _channels_last(weight):
    """`weight` in torch's channels-last memory format: itself when it already is, else one copy."""
    import torch

    return weight.contiguous(memory_format=torch.channels_last)


def _lay_out_for_torch(variable, channels_last: bool = True) -> None:
    """Re-lay a 4-D kernel variable's memory for torch, keeping its shape and values.

    `channels_last`: memory order (out, kh, kw, in) (transposed: (in, kh, kw,
    out)), torch's weight in channels-last format; otherwise torch's plain
    (out, in, kh, kw) (transposed: (in, out, kh, kw)). `set_` swaps the
    parameter's storage and strides in place, so Keras' variable (and any
    optimizer or tracker holding it) keeps the same object.
    """
    import torch

    value = variable.value
    if value.ndim != 4:
        return
    with torch.no_grad():
        if channels_last:
            value.set_(value.detach().permute(3, 0, 1, 2).contiguous().permute(1, 2, 3, 0))
        else:
            value.set_(value.detach().permute(3, 2, 0, 1).contiguous().permute(2, 3, 1, 0))


#: Layers whose input map has at most this many pixels run on NCHW copies of their activations,
#: with the kernel laid out as torch's plain weight. Measured per layer with
#: `python bench/bench_conv_layouts.py` (forward + backward from a dense NHWC output gradient, batch 1,
#: 2 torch threads, best of 10 with the paths taking turns, training paused; two runs, 2026-12-02),
#: channels-last / NCHW time: conv 512 -> 512 on 2x2 to 16x16 inputs 1.19-1.40; transposed
#: 1024 -> 512 on 2x2 to 8x8 1.18-1.22, 1024 -> 256 at 16x16 1.10-1.15. On those small maps with many
#: channels oneDNN's channels-last kernels are slower, and the weight gradient comes back in a layout
#: that costs one more kernel-sized copy, while copying the activation is cheap. On larger maps
#: channels-last wins (conv 64 -> 128 at 128x128: 0.55-0.59; transposed 512 -> 128 at 32x32:
#: 0.85-0.87). The one layer the threshold decides against its measurement is the 32x32 conv
#: 256 -> 512 (1.06-1.08, about 1.5 ms of a 1 s pix2pix step, within run-to-run noise): one
#: threshold for both kinds keeps the rule simple. The layout is chosen once, from the shape the
#: layer is built with: a layer built on small maps and later called on large ones stays NCHW
#: (still correct, only slower). To remeasure on another machine: rerun the bench.
NCHW_MAX_PIXELS = 16 * 16
#: ... except a transposed convolution on a 1x1 map (the U-Net's innermost), where channels-last
#: measured faster (512 -> 512: 0.71-0.74).
NCHW_TRANSPOSED_MIN_PIXELS = 2


def _runs_nchw(input_shape, transposed: bool) -> bool:
    """Whether a layer built for `input_shape` (NHWC) runs on NCHW copies on torch (see NCHW_MAX_PIXELS)."""
    height, width = input_shape[1], input_shape[2]
    if height is None or width is None:  # unknown at build: the layout that is never badly slow
        return False
    lowest = NCHW_TRANSPOSED_MIN_PIXELS if transposed else 1
    return lowest <= height * width <= NCHW_MAX_PIXELS


def _nchw_call(op, inputs, *args, **kwargs):
    """`op` on an NCHW copy of the NHWC `inputs`, the result copied back to NHWC memory."""
    return op(inputs.permute(0, 3, 1, 2).contiguous(), *args, **kwargs).permute(0, 2, 3, 1).contiguous()


@keras.saving.register_keras_serializable(package="keras_gan")
class Conv2D(keras.layers.Conv2D):
    """`keras.layers.Conv2D` with a copy-free NHWC path on PyTorch (see the module docstring)."""

    def build(self, input_shape):
        super().build(input_shape)
        if _TORCH and self.data_format == "channels_last":
            self._torch_nchw = _runs_nchw(input_shape, transposed=False)
            _lay_out_for_torch(self.kernel, channels_last=not self._torch_nchw)

    def convolution_op(self, inputs, kernel):
        padding = self._torch_padding(inputs) if _TORCH else None
        if padding is None:
            return super().convolution_op(inputs, kernel)
        import torch.nn.functional as F

        nchw = getattr(self, "_torch_nchw", False)
        weight = _torch_weight(kernel, nchw)
        if nchw:  # small map: an NCHW copy of the activation
            return _nchw_call(F.conv2d, inputs, weight, stride=tuple(self.strides), padding=padding)
        outputs = F.conv2d(inputs.permute(0, 3, 1, 2), weight, stride=tuple(self.strides), padding=padding)
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

    def build(self, input_shape):
        super().build(input_shape)
        if _TORCH and self.data_format == "channels_last":
            self._torch_nchw = _runs_nchw(input_shape, transposed=True)
            _lay_out_for_torch(self.kernel, channels_last=not self._torch_nchw)

    def call(self, inputs):
        padding = self._torch_padding(inputs) if _TORCH else None
        if padding is None:
            return super().call(inputs)
        import torch.nn.functional as F

        nchw = getattr(self, "_torch_nchw", False)
        weight = _torch_weight(self.kernel, nchw)
        bias = keras.ops.convert_to_tensor(self.bias) if self.use_bias else None
        if nchw:  # small map: an NCHW copy of the activation
            outputs = _nchw_call(F.conv_transpose2d, inputs, weight, bias, stride=tuple(self.strides),
                                 padding=padding)
        else:
            outputs = F.conv_transpose2d(inputs.permute(0, 3, 1, 2), weight, bias, stride=tuple(self.strides),
                                         padding=padding).permute(0, 2, 3, 1)
        return self.activation(outputs) if self.activation is not None else outputs

    def _torch_padding(self, inputs) -> tuple | None:
        """Torch's symmetric padding giving Keras' output window, or None (then Keras' own path)."""
        if (self.data_format != "channels_last" or tuple(self.dilation_rate) != (1, 1) or inputs.ndim != 4
                or self.output_padding is not None):
            return None
        pads = []
        for i in range(2):
            kernel, stride = self.kernel_size[i], self.strides[i]
            if self.padding == "valid" and kernel >= stride:
                # output = (input - 1) x stride + kernel, torch's natural size (with kernel < stride
                # Keras gives input x stride, which torch's padding cannot express)
                pads.append(0)
            elif kernel >= stride and (kernel - stride) % 2 == 0:
                # "same": output = input x stride, i.e. crop (kernel - stride) of the natural
                # (input - 1) x stride + kernel pixels, evenly on both sides.
                pads.append((kernel - stride) // 2)
            else:
                return None
        return tuple(pads)
