"""A Functional network's forward pass on PyTorch without Keras' per-layer `__call__` work.

Why: on TensorFlow and JAX a network's forward pass is traced once into a
graph (tf.function, jit), so Keras' bookkeeping around each layer call
(argument conversion, dtype and mask handling, name scopes, the call context,
torch's module hooks) and the generic walk of the Functional graph run once.
Eager PyTorch pays them on every call, and on the GAN paper's small MNIST
networks that costs as much as the arithmetic: measured on the 2-core CPU
machine, one maxout discriminator pass on a batch of 100 took 5.1-5.2 ms
through `discriminator(x)` and 3.8 ms through this module, which runs the
same graph with the same layers; a hand-written torch pass took 3.1-3.8 ms.
The MNIST GAN step makes five such passes.

What it skips is only what a plain float32 training pass does not need: the
inputs and outputs, the layers, their weights and their random streams are
the same, so the results are bitwise equal (tested). Each *leaf* layer (one
that calls no sublayer) runs its `call` directly (or, for Dense, Maxout,
Dropout, Flatten and Reshape, the same torch calls without Keras' op dispatch:
`keras_gan.backend.torch_kernels`), with the network's
`training` flag where its `call` takes one; a layer with sublayers (a nested
model, a block) is still called through `__call__`, which passes `training`
on to what it calls. A network this cannot honour gets `None` from
`graph_forward`, and is called as usual:

- not a Functional (or built Sequential) model: a subclassed model's `call` is
  arbitrary Python;
- a layer whose dtype policy is not float32 (mixed precision needs
  `__call__`'s input casts and variable autocasting);
- a layer that creates masks (`Masking`, `Embedding`, or a layer from
  outside Keras that overrides `compute_mask`): masks travel through
  `__call__`;
- a leaf layer with an activity regularizer (`__call__` adds its loss);
- a quantized or rematerialized layer (`__call__` runs `quantized_call` /
  `rematerialized_call` instead of `call`), checked on every call, so a
  network quantized after its first training step is called as usual;
- more than one output tensor.

At call time, inputs that are not float32 torch tensors of the Input's shape
(which `Functional.call` would convert, cast or reshape, or `__call__` refuse
with its own message) also go the usual way.
"""

from __future__ import annotations

import types
import weakref
from typing import Callable

import keras
import torch

from keras_gan import compat
from keras_gan.backend import torch_kernels

_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_NOT_ELIGIBLE = object()


def _creates_masks(layer) -> bool:
    """Whether `layer` may create masks: Masking, Embedding, or a `compute_mask` from outside Keras.

    Judged by the class that defines the `compute_mask` in effect, so a keras_gan subclass that
    keeps Keras' (`keras_gan.layers.Concatenate`) counts as Keras' layer."""
    if isinstance(layer, (keras.layers.Masking, keras.layers.Embedding)):
        return True
    definer = next(cls for cls in type(layer).__mro__ if "compute_mask" in vars(cls))
    return definer is not keras.layers.Layer and not definer.__module__.startswith("keras.")


def _float32(layer) -> bool:
    policy = layer.dtype_policy
    return policy.compute_dtype == "float32" and policy.variable_dtype == "float32"


class GraphForward:
    """`forward(inputs, training)`: the network's outputs, computed node by node (see module doc)."""

    def __init__(self, network: keras.Model, graph):
        # weak: the cache's value must not keep its key (the network) alive
        self._network = weakref.ref(network)
        self.input_ids, self.output_ids, nodes = graph
        # each input's shape after the batch axis (None: any size), checked on every call so that a
        # wrong shape gets Keras' own error from `__call__` rather than a torch shape error
        self.input_shapes = [tuple(t.shape[1:]) for t in keras.tree.flatten(network.inputs)]
        self.nodes = []
        self.layers = [layer for layer, *_ in nodes]
        for layer, arguments, output_ids, has_training in nodes:
            # a leaf runs the same torch calls without Keras' op dispatch (taking how to read its
            # weights), or its `call`; a layer with sublayers keeps its __call__
            nested = bool(compat.sublayers(layer))
            kernel = None if nested else torch_kernels.direct_call(layer)
            call = layer if nested else layer.call
            self.nodes.append((kernel, call, _argument_filler(arguments), output_ids, has_training))

    def _takes(self, flat) -> bool:
        return len(flat) == len(self.input_ids) and all(
            isinstance(x, torch.Tensor) and x.dtype == torch.float32 and _fits(x.shape[1:], shape)
            for x, shape in zip(flat, self.input_shapes))

    def _dispatched_by_call(self) -> bool:
        """Whether a layer was quantized or set to rematerialize since the network was cached:
        `__call__` then runs `quantized_call` / `rematerialized_call`, not `call`."""
        return any(_dispatched_by_call(layer) for layer in self.layers)

    def __call__(self, inputs, training: bool, fallback: Callable | None = None):
        """The network's output; inputs it cannot take go to `fallback(inputs, training)`
        (default: the network's `__call__`)."""
        flat = keras.tree.flatten(inputs)
        if not self._takes(flat) or self._dispatched_by_call():
            if fallback is not None:
                return fallback(inputs, training)
            return self._network()(inputs, training=training)
        values = dict(zip(self.input_ids, flat))
        # Outside a stateless or autocast scope (the train step) the weights are read as stored;
        # inside one (`stateless_call`) through `Variable.value`, which maps or casts them.
        stored = compat.reads_stored_values() and flat[0].device.type != "meta"
        read = torch_kernels.stored_value if stored else torch_kernels.property_value
        for kernel, call, fill_in, output_ids, has_training in self.nodes:
            args, kwargs = fill_in(values)
            if has_training:
                kwargs["training"] = training
            outputs = kernel(read, *args, **kwargs) if kernel is not None else call(*args, **kwargs)
            if len(output_ids) == 1:
                values[output_ids[0]] = outputs
            else:
                values.update(zip(output_ids, keras.tree.flatten(outputs)))
        return values[self.output_ids[0]]


def _argument_filler(arguments) -> Callable:
    """`fill_in(values) -> (args, kwargs)` for one node: Keras' `SymbolicArguments.fill_in`, or, for
    the usual node (symbolic tensors as positional arguments, constants as keyword arguments, e.g.
    a Dropout recorded with `training=False`), a direct lookup without Keras' tree walk."""
    args, kwargs = arguments.args, arguments.kwargs
    plain = (all(isinstance(a, keras.KerasTensor) for a in args)
             and not any(isinstance(leaf, keras.KerasTensor) for leaf in keras.tree.flatten(kwargs)))
    if not plain:
        return arguments.fill_in
    ids, constants = tuple(id(a) for a in args), dict(kwargs)
    return lambda values: ([values[i] for i in ids], dict(constants))


def _fits(shape, expected: tuple) -> bool:
    """Whether a tensor's shape after the batch axis matches the Input's (None matches any size)."""
    return len(shape) == len(expected) and all(e is None or e == d for d, e in zip(shape, expected))


def _dispatched_by_call(layer) -> bool:
    """A quantized or rematerialized layer: its `__call__` runs `quantized_call` /
    `rematerialized_call` instead of `call`."""
    return getattr(layer, "quantization_mode", None) is not None or compat.rematerialized(layer)


def _eligible(network: keras.Model, graph) -> bool:
    if graph is None or len(graph[1]) != 1:  # one output tensor: nothing to re-pack
        return False
    layers = compat.flatten_layers(network)
    if not all(_float32(layer) for layer in layers) or any(_creates_masks(layer) for layer in layers):
        return False
    if any(_dispatched_by_call(layer) for layer in layers):
        return False
    return all(getattr(layer, "activity_regularizer", None) is None for layer in layers)


def graph_forward(network: keras.Model) -> Callable | None:
    """The lean forward pass of `network`, or None when it must be called through `__call__`.

    Cached per network (the graph of a built Functional model does not change); an unbuilt
    network is called through `__call__`, which builds it.
    """
    if not network.built:
        return None
    cached = _CACHE.get(network)
    if cached is None:
        graph = compat.functional_graph(network)
        cached = GraphForward(network, graph) if _eligible(network, graph) else _NOT_ELIGIBLE
        _CACHE[network] = cached
    return None if cached is _NOT_ELIGIBLE else cached


def _runs_plain_call(network) -> bool:
    """Whether `network(x)` runs Functional's or Sequential's own `call`: not a subclass's `call`, nor
    one set on the instance (other than `route_calls_through_graph`'s), which the lean pass would skip."""
    own = vars(network).get("call")
    if own is not None:
        return getattr(own, "__func__", None) is _call_through_graph
    return type(network).call in compat.functional_calls()


def call_network(network: keras.Model, inputs, training: bool):
    """`network(inputs, training=training)`, through `graph_forward` where it applies (a network
    whose `call` was replaced, on a subclass or on the instance, is called as usual)."""
    forward = graph_forward(network) if _runs_plain_call(network) else None
    if forward is None:
        return network(inputs, training=training)
    return forward(inputs, training)


def _call_through_graph(network, inputs, training=None, mask=None, **kwargs):
    """A network's `call`, through `graph_forward` where it applies (bound to the network by
    `route_calls_through_graph`); anything else goes to the class's own `call`."""
    own_call = type(network).call
    forward = graph_forward(network)
    if forward is None or mask is not None or kwargs:
        return own_call(network, inputs, training=training, mask=mask, **kwargs)
    return forward(inputs, training, fallback=lambda x, t: own_call(network, x, training=t))


def route_calls_through_graph(*networks: keras.Model) -> None:
    """Make `network(inputs)` run the lean pass for each Functional / Sequential network.

    Why: so a model's train step can call its networks plainly (`self.discriminator(x)`) and
    still skip Keras' per-layer `__call__` work on eager PyTorch. Keras' `Layer.__call__` runs
    `self.call`, so an instance attribute `call` (a method bound to the network, which
    `copy.deepcopy` rebinds to the copy) takes the lean pass; `__call__`'s own work for the
    network (input conversion, training flag, quantization dispatch) still runs. Idempotent.
    """
    for network in networks:
        if "call" not in vars(network) and _runs_plain_call(network):  # not a subclass's own call
            compat.replace_call(network, types.MethodType(_call_through_graph, network))
