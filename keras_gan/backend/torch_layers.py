"""The PyTorch fast paths of keras_gan's layers: convolutions without layout copies, the fused batch norm,
and a concatenation that keeps the activations' memory layout.

`keras_gan.layers.Conv2D`, `Conv2DTranspose`, `BatchNormalization` and `Concatenate` are Keras' layers on
every backend; on PyTorch they hand their computation to the functions here. All the torch-specific
code of those layers lives in this module, beside the other torch speed code
(`torch_kernels`, `torch_graph`, `torch_adam`). Import direction: the layers import this module
inside their methods, on PyTorch only, and this module imports nothing from `keras_gan.layers`,
so neither package needs the other to import (`tests/test_one_place.py` checks both ways).

Layout: NCHW memory behind Keras' NHWC shape. keras_gan's networks are channels-last, as Keras
is: every tensor has the logical shape (batch, height, width, channels). torch only cares about
the memory order, and on a CPU oneDNN's NCHW convolutions are the fast ones (they are what a
plain torch network runs). So on a CPU a convolution hands torch `x.permute(0, 3, 1, 2)`, which
*is* a dense NCHW tensor when `x`'s memory is NCHW-ordered, and returns torch's NCHW output
permuted back: a tensor of Keras' NHWC shape whose memory is NCHW-ordered. No activation is copied.
Elementwise operations (activations, dropout's scaling, the fused batch norm below, additions)
keep that memory order, and `concatenate` keeps it across the U-Net's skip connections, so
the activations stay in NCHW memory from the first convolution to the last. Only an input in
NHWC memory (the images a user passes in) is copied once, by the first convolution. Values and
shapes are Keras' throughout; only the strides differ, which nothing outside torch sees (numpy
arrays made from these tensors carry the strides with them).

Measured (pix2pix, 256x256, batch 1, 2-core CPU, idle, `bench/bench_pix2pix.py --backend torch
--steps 5 --repeats 2`, 2026-12-07; bench/README.md has the history), keras_gan's step time over a
plain torch loop's: 1.17 (median of ten processes) with the layout this module used before
(channels-last views on large maps, NCHW copies of small maps, copied back); 1.18 (three
processes) with NCHW memory throughout but Keras' own concatenation, which returns channels-last
memory and so sent every decoder layer back to a copy; 1.01 (ten processes, 0.89-1.18) as now.

On a GPU (`NCHW_DEVICE_TYPES`) every layer keeps the channels-last path instead, which cuDNN
runs well, until `bench/bench_conv_layouts.py --device cuda` measures otherwise.

Kernels. A kernel keeps Keras' shape, (kh, kw, in, out) (transposed: (kh, kw, out, in)), but its
memory is laid out at build for the path the layer takes: torch's plain (out, in, kh, kw) weight
for the NCHW path, (out, kh, kw, in) for the channels-last one (then `kernel.permute(3, 2, 0, 1)`
is torch's weight in its channels-last format). Either way no kernel is copied in a pass (before,
copying the 512- and 1024-channel kernels between layouts was about 30% of the pix2pix step).
Values, shapes, names and weight files are unchanged, and `assign` keeps the strides.
Configurations the fast path does not cover (channels-first, dilation, groups, asymmetric
padding) get None from the padding functions, and the layer falls back to Keras' implementation.

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


#: On these devices convolutions run NCHW (see the module docstring). Elsewhere (a GPU) every layer
#: keeps the channels-last path, the one that is never badly slow, until `bench/bench_conv_layouts.py
#: --device cuda` measures it.
NCHW_DEVICE_TYPES = ("cpu",)
#: The largest input map (pixels) a layer runs NCHW on; None: any size. Tests and
#: `bench/bench_conv_layouts.py` set it to compare the two paths; 0 sends every layer channels-last.
NCHW_MAX_PIXELS: int | None = None


def runs_nchw(input_shape, device_type: str = "cpu") -> bool:
    """Whether a convolution, transposed or not, built for `input_shape` (NHWC) on a `device_type` device
    runs NCHW (module docstring).

    Chosen once, from the shape the layer is built with; either path computes the same values.
    """
    if device_type not in NCHW_DEVICE_TYPES:
        return False
    if NCHW_MAX_PIXELS is None:
        return True
    height, width = input_shape[1], input_shape[2]
    return height is not None and width is not None and height * width <= NCHW_MAX_PIXELS


def nchw_memory(tensor) -> bool:
    """Whether a 4-D NHWC-shaped `tensor`'s memory is NCHW-ordered (dense)."""
    return tensor.ndim == 4 and tensor.permute(0, 3, 1, 2).is_contiguous()


def _nchw_call(op, inputs, *args, **kwargs):
    """`op` on the NCHW tensor behind the NHWC `inputs` (a copy only if their memory is not NCHW); the result
    permuted back to Keras' NHWC shape, its memory left NCHW."""
    return op(plain_nchw(inputs.permute(0, 3, 1, 2)), *args, **kwargs).permute(0, 2, 3, 1)


def plain_nchw(tensor):
    """`tensor` (NCHW) dense and, on a 1x1 map, with a plain NCHW tensor's strides; copied only if its
    memory is not NCHW.

    Why the strides: along an axis of size 1 any stride is valid, and torch reads the strides to
    guess a tensor's layout. The U-Net's innermost maps are (N, 512, 1, 1), which elementwise
    operations can hand on with strides that torch takes for channels-last; the convolution then
    copied its 512x512 kernel into that layout in the forward and the backward pass (about 10 ms
    a copy in the pix2pix step, torch profiler, 2026-12-07). Flattening and viewing back gives the
    same memory with the plain strides (views only, so traced exports keep their dynamic shapes).
    """
    tensor = tensor.contiguous()
    if tensor.shape[2] == 1 and tensor.shape[3] == 1:
        tensor = tensor.view(-1).view(tensor.shape)
    return tensor


def conv2d_padding(layer, inputs) -> tuple | None:
    """Torch's symmetric padding for a `Conv2D` call, or None when the fast path does not apply."""
    if (layer.data_format != "channels_last" or layer.groups != 1 or tuple(layer.dilation_rate) != (1, 1)
            or inputs.ndim != 4):
        return None
    explicit = getattr(layer, "explicit_padding", None)
    if explicit is not None:  # keras_gan.layers.Conv2D(padding=1): torch's own padding when symmetric
        return tuple(before for before, _ in explicit) if all(b == a for b, a in explicit) else None
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
    `conv2d_padding`: NCHW (`nchw`; module docstring) or on a channels-last view."""
    weight = torch_weight(kernel, nchw)
    if nchw:  # the NCHW tensor behind the activation (module docstring)
        return _nchw_call(F.conv2d, inputs, weight, stride=tuple(strides), padding=padding)
    outputs = F.conv2d(inputs.permute(0, 3, 1, 2), weight, stride=tuple(strides), padding=padding)
    return outputs.permute(0, 2, 3, 1)


def conv2d_transpose(inputs, kernel, bias, strides, padding: tuple, nchw: bool):
    """A channels-last `Conv2DTranspose`'s output before its activation, with `padding` from
    `conv2d_transpose_padding` (`bias` None without one)."""
    weight = torch_weight(kernel, nchw)
    bias = keras.ops.convert_to_tensor(bias) if bias is not None else None
    if nchw:  # the NCHW tensor behind the activation (module docstring)
        return _nchw_call(F.conv_transpose2d, inputs, weight, bias, stride=tuple(strides), padding=padding)
    return F.conv_transpose2d(inputs.permute(0, 3, 1, 2), weight, bias, stride=tuple(strides),
                              padding=padding).permute(0, 2, 3, 1)


# ------------------------------------------------------------------ concatenation


def concatenate_channels(tensors, axis: int):
    """A channel concatenation of 4-D NHWC tensors of one dtype (the U-Net's skips) that keeps the inputs'
    memory order: NCHW memory stays NCHW (module docstring), NHWC stays NHWC, and a mix gives NCHW.
    None for any other concatenation (then Keras' own)."""
    if len(tensors) < 2 or axis not in (-1, 3):
        return None
    if not all(isinstance(t, torch.Tensor) and t.ndim == 4 and t.dtype == tensors[0].dtype for t in tensors):
        return None
    return torch.cat([t.permute(0, 3, 1, 2) for t in tensors], dim=1).permute(0, 2, 3, 1)


# ------------------------------------------------------------------ batch norm


class _DenseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, tensor):
        ctx.nchw = nchw_memory(tensor)
        return tensor.view_as(tensor)

    @staticmethod
    def backward(ctx, grad):
        return dense_like(grad, ctx.nchw)


def dense_like(tensor, nchw: bool):
    """`tensor` dense in NCHW memory (`nchw`) or row-major (NHWC) memory: itself when it already is."""
    if nchw and tensor.ndim == 4:
        return tensor.permute(0, 3, 1, 2).contiguous().permute(0, 2, 3, 1)
    return tensor.contiguous()


def with_dense_gradient(outputs):
    """`outputs`, whose incoming gradient is made dense, in `outputs`' own memory order, before torch's
    batch-norm backward sees it.

    Why: a U-Net decoder block's output is one half of a channel concatenation, so its gradient
    arrives as a strided slice of the concatenation's gradient, and torch's batch-norm backward
    then takes a slow path: in the pix2pix step on the 2-core CPU machine
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
    """torch's `batch_norm` on a channels-first *view* of the channels-last `inputs` (no copy: NCHW memory
    is a plain NCHW tensor to torch, NHWC memory its channels-last format; the output keeps the
    input's memory order), then the layer's moving averages assigned."""
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
