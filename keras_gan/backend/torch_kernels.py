"""Direct torch forms of a few common leaf layers, for `torch_graph`'s forward pass.

Why: on eager PyTorch every Keras op pays Python dispatch (argument
conversion, dtype lattice, symbolic-tensor checks) before its one torch
kernel, and a Keras `Dense` reads its `kernel` through a property that
decides about quantization on every call. On the GAN paper's MNIST step
(15 matrix products, 9 dropouts, 6 maxout groupings, ~30 ms of arithmetic on
the 2-core CPU) that dispatch is what kept keras_gan's step above a
hand-written torch loop (`bench/bench_gan_mnist.py`; numbers in the README).

Each function here issues *the same torch calls, in the same order,* as the
layer's own `call` does through `keras.ops` on float32 torch tensors, so the
results are bitwise equal (tested in `tests/test_torch_graph.py`). A layer
is only handled when its exact class is listed (a subclass may override
`call`) and, at call time, it is in the plain state the function assumes;
anything else (LoRA, seeded dropout, a noise shape, channels-first
flattening, an empty maxout batch) is run by the layer's own `call`, and a
quantized Dense by its `__call__` (which runs `quantized_call`).
"""

from __future__ import annotations

import functools
import math
from typing import Callable

import keras
import torch
import torch.nn.functional as F

from keras_gan import compat


def stored_value(variable):
    """A variable's stored tensor, for a pass where `compat.reads_stored_values()` holds: what its
    `value` property returns then, without the property's checks on every read (about 98 reads a
    MNIST GAN step)."""
    return compat.raw_value(variable)


def property_value(variable):
    """A variable's `value` property: inside a stateless or autocast scope (e.g. `stateless_call`)."""
    return variable.value


def _dense(layer, read, inputs, training=None):
    """`Dense.call`: matmul, bias add, activation (kept as the layer's: it may be any callable)."""
    if layer.quantization_mode is not None:
        return layer(inputs)  # __call__ runs quantized_call (torch_graph already leaves such networks to __call__)
    if layer.lora_enabled:
        return layer.call(inputs)
    x = torch.matmul(inputs, read(compat.dense_kernel(layer)))
    if layer.bias is not None:
        x = torch.add(x, read(layer.bias))
    if layer.activation is keras.activations.relu:
        return torch.relu(x)  # what keras.activations.relu runs with its default arguments
    if layer.activation is not None:
        x = layer.activation(x)
    return x


def _maxout(layer, read, inputs, training=None):
    """`Maxout.call`: one affine map, grouped by unit, max over the pieces."""
    if inputs.shape[0] == 0:
        return layer.call(inputs)  # keras.ops.max raises on an empty batch; torch.amax would not
    z = torch.add(torch.matmul(inputs, read(layer.kernel)), read(layer.bias))
    return torch.amax(torch.reshape(z, (-1, layer.units, layer.pieces)), dim=-1)


def _dropout(layer, read, inputs, training=False):
    """`Dropout.call` with an unseeded layer and no noise shape: Keras' torch backend then calls
    `F.dropout` itself (seeded dropout draws from the layer's generator: left to the layer)."""
    if not training or layer.rate == 0:
        return inputs
    if not compat.is_unseeded(layer.seed_generator) or layer.noise_shape is not None or layer.rate == 1.0:
        return layer.call(inputs, training=training)
    return F.dropout(inputs, p=layer.rate, training=True, inplace=False)


def _flatten(layer, read, inputs):
    """`Flatten.call` for channels-last data: one reshape to (batch, features)."""
    if layer.data_format == "channels_first" and inputs.dim() > 1:
        return layer.call(inputs)
    features = inputs.shape[1:]
    return torch.reshape(inputs, (inputs.shape[0], math.prod(features) if len(features) else 1))


def _reshape(layer, read, inputs):
    """`Reshape.call` with a fully known target shape."""
    target = layer.target_shape
    if any(d is None or d == -1 for d in target):
        return layer.call(inputs)
    return torch.reshape(inputs, (inputs.shape[0],) + tuple(target))


@functools.cache
def _kernels() -> dict[type, Callable]:
    """{layer class: its direct form}. Made at first use: keras_gan.backend imports nothing from
    keras_gan.layers at module import (the layers call into keras_gan.backend.torch_layers)."""
    from keras_gan.layers.maxout import Maxout

    return {
        keras.layers.Dense: _dense,
        Maxout: _maxout,
        keras.layers.Dropout: _dropout,
        keras.layers.Flatten: _flatten,
        keras.layers.Reshape: _reshape,
    }


def direct_call(layer) -> Callable | None:
    """`fn(read, *args, **kwargs)` computing `layer.call(*args, **kwargs)` with direct torch calls, or
    None for a layer not listed here (matched by exact class, see the module docstring). `read` is
    `stored_value` or `property_value`: how the layer's weights are read in this pass."""
    kernel = _kernels().get(type(layer))
    if kernel is None:
        return None
    return functools.partial(kernel, layer)
