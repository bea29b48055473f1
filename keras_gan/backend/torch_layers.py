"""The PyTorch fast paths of keras_gan's layers: copy-free convolutions and the fused batch norm.

`keras_gan.layers.Conv2D`, `Conv2DTranspose` and `BatchNormalization` are Keras' layers on every
backend; on PyTorch they hand their computation to the functions here. All the torch-specific
code of those layers lives in this module, beside the other torch speed code
(`torch_kernels`, `torch_graph`, `torch_adam`). Import direction: the layers import this module
inside their methods, on PyTorch only, and this module imports nothing from `keras_gan.layers`,
so neither package needs the other to import (`tests/test_one_place.py` checks both ways).

Convolutions. For a channels-last tensor, Keras' torch backend copies the input to
channels-first (`permute(...).contiguous()`), copies it back to torch's
channels-last memory format, does the same to the kernel, and for a transposed
convolution computes a larger output and slices it. In the pix2pix step these
copies took about a quarter of the time (torch profiler, 256x256 U-Net): the
main reason the step ran about 3x slower than a plain torch loop.

Here an NHWC tensor is handed to `torch.nn.functional.conv2d` /
`conv_transpose2d` as a *view*: `x.permute(0, 3, 1, 2)` of an NHWC-contiguous
tensor is an NCHW tensor in torch's channels-last memory format, which
oneDNN convolves directly, and the result is permuted back, again a view. No
activation is copied. Symmetric padding is passed to torch instead of padding
the tensor. On small maps (at most 16x16 pixels, `NCHW_MAX_PIXELS`; for a
transposed convolution not a 1x1 map, `NCHW_TRANSPOSED_MIN_PIXELS`) the layer
instead copies its small activation to NCHW and back, where oneDNN's NCHW
kernels are faster (measured below; chosen at build, from the built shape). The kernel keeps Keras' shape, (kh, kw,
in, out) (transposed: (kh, kw, out, in)), but its memory is laid
out at build for the path the layer takes: for channels-last as
(out, kh, kw, in): then `kernel.permute(3, 2, 0, 1)` is torch's (out, in, kh,
kw) weight in channels-last memory format, which oneDNN reads directly; for
NCHW as torch's plain (out, in, kh, kw). Either way no kernel is copied in the
forward pass; on the channels-last path torch still copies the weight gradient
into that layout once in the backward pass (torch profiler), one reason the
small maps, whose kernels are the big ones, go NCHW. (Before, copying
the 512- and 1024-channel kernels between the layouts was about 30% of the
pix2pix step.) Values, shapes, names and weight files are unchanged: only
the strides differ, and `assign` keeps them. Configurations the fast path does
not cover (channels-first, dilation, groups, asymmetric "same" padding) get None
from the padding functions, and the layer falls back to Keras' implementation.

Batch norm. A plain float32 training call (one process, not synchronized, more
than one value per channel) runs torch's own fused `batch_norm`, which
normalises with the biased variance and updates the running variance with the
unbiased one: exactly `keras_gan.layers.BatchNormalization`'s rule, in one kernel
forward and one backward, instead of about a dozen elementwise passes and their
autograd nodes (Keras' `ops.moments` + `ops.batch_normalization` + two moving-average
updates). Same quantities, float32 rounding apart (tested against the generic
path). In the pix2pix step (2-core CPU, idle, torch profiler) the 22 norms'
backward went from 35 ms per step to 7, native torch's being 4-5 (bench/README.md,
"Before: 2026-12-02").
"""

from __future__ import annotations

import keras
import torch
import torch.nn.functional as F

# ------------------------------------------------------------------ convolutions


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) padding of a "same" convolution (TensorFlow's convention: the extra pixel after)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def torch_weight(kernel, nchw: bool):
    """Keras' kernel as the weight torch convolves with, (out, in, kh, kw) (transposed: (in, out, kh, kw)).

    In torch's channels-last memory format for the channels-last path, plain for
    the NCHW one (`nchw`). A view when the kernel's memory is laid out as
    `lay_out_kernel` does for that path (no copy); otherwise (e.g. a float16
    copy under mixed precision) at most one copy.
    """
    weight = keras.ops.convert_to_tensor(kernel).permute(3, 2, 0, 1)
    return weight if nchw else _channels_last(weight)


def _channels_last(weight):
    """`weight` in torch's channels-last memory format: itself when it already is, else one copy."""
    return weight.contiguous(memory_format=torch.channels_last)


def lay_out_kernel(variable, channels_last: bool = True) -> None:
    """Re-lay a 4-D kernel variable's memory for torch, keeping its shape and values.

    `channels_last`: memory order (out, kh, kw, in) (transposed: (in, kh, kw,
    out)), torch's weight in channels-last format; otherwise torch's plain
    (out, in, kh, kw) (transposed: (in, out, kh, kw)). `set_` swaps the
    parameter's storage and strides in place, so Keras' variable (and any
    optimizer or tracker holding it) keeps the same object.
    """
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


#: The devices NCHW_MAX_PIXELS was measured on. Elsewhere (a GPU) small maps keep the channels-last
#: path, the one that is never badly slow, until `bench/bench_conv_layouts.py --device cuda` measures it.
NCHW_DEVICE_TYPES = ("cpu",)


def runs_nchw(input_shape, transposed: bool, device_type: str = "cpu") -> bool:
    """Whether a layer built for `input_shape` (NHWC) on a `device_type` device runs on NCHW copies
    (see NCHW_MAX_PIXELS and NCHW_DEVICE_TYPES)."""
    if device_type not in NCHW_DEVICE_TYPES:
        return False
    height, width = input_shape[1], input_shape[2]
    if height is None or width is None:  # unknown at build: the layout that is never badly slow
        return False
    lowest = NCHW_TRANSPOSED_MIN_PIXELS if transposed else 1
    return lowest <= height * width <= NCHW_MAX_PIXELS


def _nchw_call(op, inputs, *args, **kwargs):
    """`op` on an NCHW copy of the NHWC `inputs`, the result copied back to NHWC memory."""
    return op(inputs.permute(0, 3, 1, 2).contiguous(), *args, **kwargs).permute(0, 2, 3, 1).contiguous()


def conv2d_padding(layer, inputs) -> tuple | None:
    """Torch's symmetric padding for a `Conv2D` call, or None when the fast path does not apply."""
    if (layer.data_format != "channels_last" or layer.groups != 1 or tuple(layer.dilation_rate) != (1, 1)
            or inputs.ndim != 4):
        return None
    if layer.padding == "valid":
        return (0, 0)
    pads = [same_padding(int(inputs.shape[1 + i]), layer.kernel_size[i], layer.strides[i]) for i in range(2)]
    if any(before != after for before, after in pads):
        return None
    return tuple(before for before, _ in pads)


def conv2d_transpose_padding(layer, inputs) -> tuple | None:
    """Torch's symmetric padding giving a `Conv2DTranspose`'s Keras output window, or None (then
    Keras' own path)."""
    if (layer.data_format != "channels_last" or tuple(layer.dilation_rate) != (1, 1) or inputs.ndim != 4
            or layer.output_padding is not None):
        return None
    pads = []
    for i in range(2):
        kernel, stride = layer.kernel_size[i], layer.strides[i]
        if layer.padding == "valid" and kernel >= stride:
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


def conv2d(inputs, kernel, strides, padding: tuple, nchw: bool):
    """A channels-last `Conv2D`'s convolution of NHWC `inputs` (no bias), with `padding` from
    `conv2d_padding`: on a channels-last view, or an NCHW copy of the activation (`nchw`)."""
    weight = torch_weight(kernel, nchw)
    if nchw:  # small map: an NCHW copy of the activation
        return _nchw_call(F.conv2d, inputs, weight, stride=tuple(strides), padding=padding)
    outputs = F.conv2d(inputs.permute(0, 3, 1, 2), weight, stride=tuple(strides), padding=padding)
    return outputs.permute(0, 2, 3, 1)


def conv2d_transpose(inputs, kernel, bias, strides, padding: tuple, nchw: bool):
    """A channels-last `Conv2DTranspose`'s output before its activation, with `padding` from
    `conv2d_transpose_padding` (`bias` None without one)."""
    weight = torch_weight(kernel, nchw)
    bias = keras.ops.convert_to_tensor(bias) if bias is not None else None
    if nchw:  # small map: an NCHW copy of the activation
        return _nchw_call(F.conv_transpose2d, inputs, weight, bias, stride=tuple(strides), padding=padding)
    return F.conv_transpose2d(inputs.permute(0, 3, 1, 2), weight, bias, stride=tuple(strides),
                              padding=padding).permute(0, 2, 3, 1)


# ------------------------------------------------------------------ batch norm


class _DenseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, tensor):
        return tensor.view_as(tensor)

    @staticmethod
    def backward(ctx, grad):
        return grad.contiguous()


def with_dense_gradient(outputs):
    """`outputs`, whose incoming gradient is made dense (row-major) before torch's batch-norm
    backward sees it.

    Why: a U-Net decoder block's output is one half of a channel concatenation, so its gradient
    arrives as a strided slice of the concatenation's gradient, and torch's channels-last
    batch-norm backward then takes a slow path: in the pix2pix step on the 2-core CPU machine
    (idle, torch profiler, 2026-12-02) the 128x128x64 decoder norm's backward took 21 ms against
    the native loop's 0.6 ms, and all 22 norms' backward 35 ms against 4; with the gradient copied
    first, 7 ms against 4-5 (the copy itself about 2 ms).
    """
    return _DenseGradient.apply(outputs)


def fused_batch_norm_applies(layer, inputs) -> bool:
    """Whether a BatchNormalization training call on `inputs` can run torch's fused batch norm, as far
    as its layout and dtypes go (the layer itself rules out statistics synchronized over ranks)."""
    axis = layer.axis if isinstance(layer.axis, int) else (layer.axis[0] if len(layer.axis) == 1 else None)
    if axis is None or inputs.ndim < 2 or axis % inputs.ndim != inputs.ndim - 1:
        return False  # one channel axis, the last (the networks' NHWC)
    if inputs.dtype != torch.float32 or layer.moving_mean.value.dtype != torch.float32:
        return False  # mixed precision: the generic path's casts
    return inputs.numel() // inputs.shape[-1] > 1  # torch refuses one value per channel


def fused_batch_norm(layer, inputs):
    """torch's `batch_norm` on a channels-first *view* of the channels-last `inputs` (no copy:
    torch's channels-last kernels read it as it lies), then the layer's moving averages assigned."""
    rank = inputs.ndim
    to_first = (0, rank - 1) + tuple(range(1, rank - 1))
    to_last = (0,) + tuple(range(2, rank)) + (1,)
    # torch updates the averages in place: on copies, assigned back, so that a stateless call
    # (`stateless_call`, `Pix2Pix.translate`) records the update instead of writing the variable.
    moving_mean = layer.moving_mean.value.detach().clone()
    moving_variance = layer.moving_variance.value.detach().clone()
    outputs = F.batch_norm(
        inputs.permute(*to_first),
        moving_mean,
        moving_variance,
        weight=layer.gamma.value if layer.scale else None,
        bias=layer.beta.value if layer.center else None,
        training=True,
        momentum=1.0 - layer.momentum,
        eps=layer.epsilon,
    )
    layer.moving_mean.assign(moving_mean)
    layer.moving_variance.assign(moving_variance)
    return with_dense_gradient(outputs.permute(*to_last))
