"""The JAX side of keras_gan's layers: transposed-convolution kernels prepared once for inference.

Why: Keras' JAX `conv_transpose` calls `jax.lax.conv_transpose(..., transpose_kernel=True)`,
which flips the kernel's spatial axes and swaps its channel axes *inside every call*: Keras
stores a `Conv2DTranspose` kernel as (kh, kw, out, in), and the direct convolution over the
dilated input that XLA runs needs (kh, kw, in, out), flipped. XLA materialises both as copies
(a `reverse` and a `transpose` per layer in the compiled HLO). For the pix2pix 256 U-Net that is
about 140 MB of kernels rewritten per forward pass: on the 2-core CPU machine (idle, 2026-12-07)
a jitted flip-and-swap of its eight decoder kernels alone took 83-112 ms, which was the whole gap
between `Pix2Pix.translate` at batch 1 (0.32-0.37 s per image) and a native `jax.jit` loop that
stores its kernels in the layout the convolution reads (0.23-0.25 s): 1.45x
(`bench/bench_inference.py`, issue 34). In training the copy is a small part of a much longer
step, and the kernel changes every step anyway.

Inference repeats the forward pass with the same weights, so `compile_forward` moves the
rewrite out of the compiled forward pass: each `prepares_jax_kernel` layer's kernel is
rewritten once, by a separate jitted function, cached against the kernel arrays it came from
(weak references: new weights, from training or `load_weights`, are new arrays and are
rewritten again on the next call), and handed to the forward pass as an argument, where the
layer reads it (`prepared_kernel`) instead of rewriting its own. The convolution is then the
exact op Keras runs, on the same values, so outputs are bit-identical (tested).

The cost: while the cache lives, one extra copy of those kernels (for the 256 U-Net about
140 MB, a third of its weights). Import direction: this module imports nothing from
`keras_gan.layers`; the layers import it inside their methods, on JAX only.
"""

from __future__ import annotations

import contextvars
import weakref
from collections.abc import Callable

import jax
import jax.numpy as jnp

from keras_gan import compat

#: While a prepared forward pass is traced: {id(layer): its prepared kernel (a tracer)}.
_PREPARED: contextvars.ContextVar[dict | None] = contextvars.ContextVar("keras_gan_prepared_kernels",
                                                                          default=None)


def prepare_transposed_kernel(kernel, dtype=None):
    """A Keras transposed-convolution kernel (kh, kw, out, in) as the kernel of the direct convolution
    over the dilated input: spatially flipped, channel axes swapped, as `lax.conv_transpose(...,
    transpose_kernel=True)` rewrites it in every call (then cast to `dtype`, the layer's compute dtype,
    as Keras' autocast would; casting commutes with the rewrite)."""
    prepared = jnp.swapaxes(jnp.flip(kernel, (0, 1)), 2, 3)
    return prepared if dtype is None else prepared.astype(dtype)


def prepared_kernel(layer):
    """The kernel prepared for `layer` in the forward pass being traced, or None (then the layer
    runs Keras' own call)."""
    prepared = _PREPARED.get()
    return None if prepared is None else prepared.get(id(layer))


def conv2d_transpose(layer, inputs, kernel):
    """`layer`'s (a channels-last `Conv2DTranspose`) output before its activation, convolving with the
    `prepare_transposed_kernel` of its kernel: Keras' JAX `conv_transpose` with the rewrite taken out."""
    padding = compat.conv_transpose_padding_for_jax(layer, inputs.shape)
    outputs = jax.lax.conv_transpose(inputs, kernel, tuple(layer.strides), padding=padding,
                                     rhs_dilation=tuple(layer.dilation_rate),
                                     dimension_numbers=("NHWC", "HWIO", "NHWC"), transpose_kernel=False)
    if layer.use_bias:
        outputs = outputs + jnp.reshape(layer.bias, (1, 1, 1, layer.filters))
    return outputs


def compile_forward(model, call: Callable) -> Callable:
    """`jax.jit(call)` for `call(trainable_values, non_trainable_values, inputs)` (the model's
    `stateless_call`), with every `prepares_jax_kernel` layer's kernel prepared outside it and cached
    (see the module docstring)."""
    layers = [layer for layer in compat.flatten_layers(model, include_self=False)
              if getattr(layer, "prepares_jax_kernel", False) and layer.built
              and layer.data_format == "channels_last"]  # the layers that read a prepared kernel
    if not layers:
        return jax.jit(call)
    dtypes = [layer.compute_dtype for layer in layers]
    ids = [id(layer) for layer in layers]

    @jax.jit
    def prepare(kernels):
        return [prepare_transposed_kernel(k, dtype) for k, dtype in zip(kernels, dtypes)]

    @jax.jit
    def prepared_call(prepared, trainable, non_trainable, inputs):
        token = _PREPARED.set(dict(zip(ids, prepared)))
        try:
            return call(trainable, non_trainable, inputs)
        finally:
            _PREPARED.reset(token)

    cache: dict = {"sources": (), "prepared": None}

    def forward(trainable, non_trainable, inputs):
        # Where each kernel's value is, looked up on every call: freezing a layer moves its kernel
        # from the trainable values to the non-trainable ones.
        position = {id(v): i for i, v in enumerate(model.trainable_variables + model.non_trainable_variables)}
        values = list(trainable) + list(non_trainable)
        kernels = [values[position[id(layer.kernel)]] for layer in layers]
        if not _same_arrays(cache["sources"], kernels):
            cache["prepared"] = prepare(kernels)
            forward.preparations += 1
            try:
                cache["sources"] = tuple(weakref.ref(k) for k in kernels)
            except TypeError:  # not weak-referenceable (e.g. a numpy array): prepared on every call
                cache["sources"] = ()
        return prepared_call(cache["prepared"], trainable, non_trainable, inputs)

    forward.preparations = 0  # how many times the kernels were rewritten (tests read it)
    return forward


def _same_arrays(sources: tuple, kernels: list) -> bool:
    return len(sources) == len(kernels) and all(ref() is k for ref, k in zip(sources, kernels))
