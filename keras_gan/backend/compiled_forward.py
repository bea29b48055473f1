"""A network's forward pass for inference, compiled as Keras compiles its own `predict`.

Why: `GAN.generate` and `Pix2Pix.translate` (what the folder commands, the
evaluations and the web demo run) called the generator eagerly, op by op. On
TensorFlow and JAX that is the slow path: measured against a native
`tf.function` / `jax.jit` forward loop of the same networks (issue 34,
`bench/bench_inference.py`, 3 processes), eager `generate` took 1.30x (TF) and
1.28x (JAX) the native time per 1000 samples, and paper-mode `translate` at
batch 1 1.46x and 1.98x. Keras' `predict_on_batch` compiles, but only in
inference mode, and pix2pix's paper mode runs the generator in training mode
(dropout on, batch statistics) while keeping its batch-norm averages.

So the forward pass is `model.stateless_call`, compiled once per (model,
training flag): `jax.jit` on JAX, a `tf.function` on TensorFlow (without XLA,
Keras' default on a CPU), and left eager on PyTorch, whose eager mode is
the native baseline, with the network routed through the torch train step's
lean graph pass (`keras_gan.backend.torch_graph`: no per-layer `__call__`
work). On JAX the transposed convolutions' kernels are rewritten once per set
of weights, outside the pass (`keras_gan.backend.jax_layers`). Being
stateless, it hands back the updated non-trainable values (the dropout
streams, batch-norm averages) and the caller decides which to keep.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

_CACHE = "_keras_gan_compiled_forward"


def stateless_forward(model: keras.Model, training: bool) -> Callable[[list, list, Any], tuple[Any, list]]:
    """`fn(trainable_values, non_trainable_values, inputs) -> (outputs, non_trainable_values)`: `model`'s
    `stateless_call`, compiled for this backend; cached on the model (one per `training`)."""
    cache = model.__dict__.setdefault(_CACHE, {})
    fn = cache.get(bool(training))
    if fn is None:
        def call(trainable, non_trainable, inputs):
            return model.stateless_call(trainable, non_trainable, inputs, training=bool(training))

        fn = cache[bool(training)] = _compile(model, call)
    return fn


def sampling_forward(owner, model: keras.Model, draw: Callable, key: tuple = ()) -> Callable | None:
    """`fn(trainable_values, non_trainable_values, (seed_state, extra)) -> (outputs, seed_state)`:
    `model` in inference mode on the inputs `draw(seed_generator, extra)` draws, the draw and the
    pass compiled together; or None on PyTorch (eager there, as a native loop: draw, then `forward`).

    Why: `GAN.generate` drew its latents eagerly before the compiled pass, a few eager random ops
    and slices per batch that a native `tf.function` / `jax.jit` sampler runs inside its graph
    (issue 34: `generate` 1.105x native on TensorFlow, 8 of 10 processes within 1.15).

    The seed generator's state goes in and its next state comes out, so the caller's generator
    advances exactly as an eager draw would advance it (the same values: Keras' random ops are
    stateless functions of that state). Cached on `owner` (the model that draws), one per `model`
    and `key` (what `draw` depends on, e.g. the prior and the latent size).
    """
    if keras.backend.backend() == "torch":
        return None
    cache = owner.__dict__.setdefault(_CACHE, {})
    key = ("sampling", id(model)) + tuple(key)
    fn = cache.get(key)
    if fn is None:
        template = keras.random.SeedGenerator(0)  # made here: TensorFlow cannot make its variable in a graph

        def call(trainable, non_trainable, inputs):
            seed_state, extra = inputs
            with keras.StatelessScope(state_mapping=[(template.state, seed_state)]) as scope:
                model_inputs = draw(template, extra)
                next_state = scope.get_current_value(template.state)
            outputs, _ = model.stateless_call(trainable, non_trainable, model_inputs, training=False)
            return outputs, next_state

        fn = cache[key] = _compile(model, call)
    return fn


def forward(model: keras.Model, inputs, training: bool = False):
    """`model(inputs, training=training)` through `stateless_forward`, the model's variables left as they
    are (an inference-mode call changes none; a training-mode one's updates are dropped). On PyTorch an
    inference-mode call is the model's own, under `torch.no_grad` (no autograd graph, as a native loop)."""
    if keras.backend.backend() == "torch" and not training:
        import torch

        from keras_gan.backend import torch_allocator, torch_graph

        torch_allocator.keep_freed_memory_on_cpu(model)  # see _compile
        torch_graph.route_calls_through_graph(model)  # see _compile
        with torch.no_grad():
            return model(inputs, training=False)
    outputs, _ = stateless_forward(model, training)(
        [v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables], inputs)
    return outputs


def _compile(model: keras.Model, call: Callable):
    """`call(trainable_values, non_trainable_values, inputs)`, compiled for this backend."""
    backend = keras.backend.backend()
    if backend == "jax":
        from keras_gan.backend import jax_layers

        # jax.jit, with the transposed convolutions' kernels rewritten once per set of weights,
        # outside the pass (translate at batch 1 was 1.45x a native loop without it).
        return jax_layers.compile_forward(model, call)
    if backend == "tensorflow":
        import tensorflow as tf

        # A graph without XLA: Keras' default on a CPU (on a GPU Keras would add XLA; not measured here).
        return tf.function(call, reduce_retracing=True, jit_compile=False)
    if backend == "torch":
        import torch

        from keras_gan.backend import torch_allocator, torch_graph

        # Eager, as a native loop, but without Keras' per-layer `__call__` work: the network's call
        # takes the same lean graph pass as the torch train step (bitwise the same outputs;
        # keras_gan.backend.torch_graph). `stateless_call` runs `model.call`, so it takes it too.
        torch_graph.route_calls_through_graph(model)

        # On a CPU, glibc keeps freed memory for reuse (keras_gan.backend.torch_allocator): each batch
        # allocates and frees the same large activations, which otherwise come as fresh pages.
        torch_allocator.keep_freed_memory_on_cpu(model)

        def call_without_autograd(trainable, non_trainable, inputs):
            # `stateless_call` hands its inputs to `call` as they come; the lean pass takes tensors
            # only (numpy batches, as `translate` passes them, went Keras' per-layer way: 1.25x a
            # native loop at batch 1 against 1.0x).
            inputs = keras.tree.map_structure(keras.ops.convert_to_tensor, inputs)
            with torch.no_grad():
                return call(trainable, non_trainable, inputs)

        return call_without_autograd
    return call
