"""Every private Keras (and TensorFlow) API keras_gan relies on, in one place.

Why: Keras 3 has no public accessor for some things a GAN library needs (the
seed generators of a model's layers, the optimizer's weight averages, an Adam
variable's slots, the epoch a resumed `fit` starts at). Reaching for them all
over the code would make a Keras upgrade fail somewhere deep with an
`AttributeError`. Here each one is a small function; when Keras no longer has
the attribute, `KerasCompatError` names it, the Keras version, and the
version keras_gan was tested with. `check()` probes them all at once
(`tests/test_compat.py` runs it), so an upgrade fails in one obvious place.

Methods keras_gan *overrides* are listed too (`OVERRIDDEN_TRAINER_METHODS`):
if Keras renames one, the override would silently stop applying. So are the
methods keras_gan *replaces on an instance* (a seed generator's `next`, a
network's `call`, torch Adam's update): each works only because Keras looks
the method up on the instance, which no public contract promises.

No other module may touch a private Keras or TensorFlow API:
`tests/test_private_api.py` reads every module's source and fails on one.
"""

from __future__ import annotations

import keras

#: The Keras version these accessors were written and tested against.
TESTED_KERAS = "3.15"

#: Private methods keras_gan overrides or replaces, per Keras class (checked by `check()`).
OVERRIDDEN_TRAINER_METHODS = {
    "keras.src.backend.jax.trainer.JAXTrainer": ("_purge_model_variables",),
    "keras.src.backend.tensorflow.trainer.TensorFlowTrainer": ("_maybe_symbolic_build",),
}


class KerasCompatError(AttributeError):
    """A private Keras API keras_gan relies on is missing in the installed Keras."""


def _missing(what: str, error: Exception) -> KerasCompatError:
    return KerasCompatError(
        f"keras_gan relies on Keras' private {what}, which Keras {keras.__version__} does not have "
        f"({type(error).__name__}: {error}). keras_gan was tested with Keras {TESTED_KERAS}: install "
        f"keras=={TESTED_KERAS}.* or a keras_gan release that supports Keras {keras.__version__}."
    )


def flatten_layers(layer, include_self: bool = True) -> list:
    """Every layer nested in `layer` (`Layer._flatten_layers`)."""
    try:
        return list(layer._flatten_layers(include_self=include_self))
    except AttributeError as e:
        raise _missing("Layer._flatten_layers", e) from e


def seed_generators(layer) -> list:
    """The `SeedGenerator`s a layer owns (`Layer._seed_generators`; layers without any have none)."""
    return list(getattr(layer, "_seed_generators", []))  # check() fails if Keras renames it


def wrap_seed_draws(seed_generator, wrap) -> None:
    """Make `seed_generator` draw its seeds through `wrap(draw)`, `draw` being its current `next`.

    Private API: Keras' random ops take a layer's seed from `seed_generator.next()`
    (`keras.src.random.seed_generator.draw_seed`), looked up on the instance, so an instance
    attribute `next` replaces the method for this one generator (the class, and every other
    generator, keep Keras' own). Needed by `keras_gan.backend.replica_streams`, to fold a data-parallel
    replica's index into each seed its layers draw.
    """
    seed_generator.next = wrap(seed_generator.next)


def seed_states(model) -> list:
    """The state variables of every random stream in `model` (latent noise, dropout), in layer order."""
    return [generator.state for layer in flatten_layers(model) for generator in seed_generators(layer)]


def weight_averages(optimizer) -> list:
    """The optimizer's moving averages of its variables (`use_ema`), in variable order
    (`Optimizer._model_variables_moving_average`, what `finalize_variable_values` reads)."""
    try:
        return list(optimizer._model_variables_moving_average)
    except AttributeError as e:
        raise _missing("Optimizer._model_variables_moving_average", e) from e


def variable_index(optimizer, variable) -> int:
    """Where the optimizer keeps `variable`'s slots (`Optimizer._get_variable_index`)."""
    try:
        return optimizer._get_variable_index(variable)
    except AttributeError as e:
        raise _missing("Optimizer._get_variable_index", e) from e


def adam_slots(optimizer, variable) -> tuple:
    """Adam's first and second moment variables of `variable` (`Adam._momentums`, `_velocities`)."""
    index = variable_index(optimizer, variable)
    try:
        return optimizer._momentums[index], optimizer._velocities[index]
    except AttributeError as e:
        raise _missing("Adam._momentums / Adam._velocities", e) from e


def learning_rate_source(optimizer):
    """What the optimizer's learning rate comes from: a float variable or a schedule
    (`Optimizer._learning_rate`; the public `learning_rate` evaluates a schedule)."""
    try:
        return optimizer._learning_rate
    except AttributeError as e:
        raise _missing("Optimizer._learning_rate", e) from e


def set_initial_epoch(model, epoch: int) -> None:
    """Make the running `fit` start at `epoch` (`Model._initial_epoch`, what
    `keras.callbacks.BackupAndRestore` sets from `on_train_begin`)."""
    if not hasattr(model, "_initial_epoch"):
        raise _missing("Model._initial_epoch", AttributeError("no _initial_epoch on the model"))
    model._initial_epoch = int(epoch)


def producing_layer(tensor):
    """The layer whose call produced a functional model's symbolic tensor (`KerasTensor._keras_history`)."""
    try:
        return tensor._keras_history[0]
    except AttributeError as e:
        raise _missing("KerasTensor._keras_history", e) from e


def batch_moments(layer, inputs):
    """A BatchNormalization layer's batch mean and variance of `inputs`, as its `call` computes
    them (`BatchNormalization._moments`)."""
    try:
        return layer._moments(inputs, None)
    except AttributeError as e:
        raise _missing("BatchNormalization._moments", e) from e


def replace_parallel_update(optimizer, update) -> None:
    """Swap a torch optimizer's `_parallel_update_step` for `update` (a bound method), keeping
    Keras' own as `_keras_gan_keras_update` (keras_gan.backend.torch_adam)."""
    try:
        optimizer._keras_gan_keras_update = optimizer._parallel_update_step
    except AttributeError as e:
        raise _missing("TorchOptimizer._parallel_update_step", e) from e
    optimizer._parallel_update_step = update


def is_keras_torch_adam(optimizer) -> bool:
    """Whether `optimizer` is exactly Keras' PyTorch `Adam` (`keras.src.backend.torch.optimizers.torch_adam.Adam`).

    Private API: on PyTorch `keras.optimizers.Adam(...)` builds an instance of that private class
    (`TorchOptimizer.__new__`), whose `_parallel_update_step` `keras_gan.backend.torch_adam` replaces;
    a subclass or another optimizer may update differently, so the class is matched by its private
    module path (`check()` fails if `keras.optimizers.Adam()` stops matching on PyTorch).
    """
    cls = type(optimizer)
    return cls.__name__ == "Adam" and cls.__module__ == "keras.src.backend.torch.optimizers.torch_adam"


def in_stateless_scope() -> bool:
    """Whether a `keras.StatelessScope` is open (`keras.src.backend.common.stateless_scope`):
    variables must then not be written in place."""
    try:
        from keras.src.backend.common.stateless_scope import in_stateless_scope as _in_scope
    except ImportError as e:
        raise _missing("keras.src.backend.common.stateless_scope.in_stateless_scope", e) from e
    return bool(_in_scope())


def reads_stored_values() -> bool:
    """Whether a Keras variable's `value` is what it stores (`Variable._value`, see `raw_value`):
    no `StatelessScope` maps it to another value and no autocast scope casts it
    (`keras.src.backend.common.stateless_scope.in_stateless_scope`,
    `keras.src.backend.common.variables.get_autocast_scope`). Then the stored tensor can be read
    directly, without `value`'s per-read checks."""
    try:
        from keras.src.backend.common.variables import get_autocast_scope
    except ImportError as e:
        raise _missing("keras.src.backend.common.variables.get_autocast_scope", e) from e
    return not in_stateless_scope() and get_autocast_scope() is None


def dense_kernel(layer):
    """A Dense layer's kernel variable as stored (`Dense._kernel`), without the `kernel` property's
    quantization and LoRA handling (for a layer that has neither)."""
    try:
        return layer._kernel
    except AttributeError as e:
        raise _missing("Dense._kernel", e) from e


def is_unseeded(seed_generator) -> bool:
    """Whether a `SeedGenerator` was made without a seed (`SeedGenerator._initial_seed is None`):
    Keras' torch dropout then draws from torch's global generator (`F.dropout`)."""
    try:
        return seed_generator._initial_seed is None
    except AttributeError as e:
        raise _missing("SeedGenerator._initial_seed", e) from e


def strategy_supports_no_merge_call() -> bool:
    """Whether the running tf.distribute strategy can skip `merge_call`
    (`tf.__internal__.distribute.strategy_supports_no_merge_call`)."""
    import tensorflow as tf

    try:
        return tf.__internal__.distribute.strategy_supports_no_merge_call()
    except AttributeError as e:
        raise KerasCompatError(
            "keras_gan relies on TensorFlow's tf.__internal__.distribute.strategy_supports_no_merge_call, "
            f"which TensorFlow {tf.__version__} does not have ({e})."
        ) from e


def functional_graph(network):
    """A Functional network's graph in execution order (`Functional._nodes_by_depth`, `Node.arguments`,
    `Node.operation`, `Layer._call_has_training_arg`), or None for a network that has none
    (a subclassed model). Returns `(inputs, outputs, nodes)`: the ids of the symbolic input and output
    tensors, and per node `(layer, arguments, output_ids, has_training_arg)`, where
    `arguments.fill_in({id: value})` gives the node's `(args, kwargs)`."""
    from keras.src import tree
    from keras.src.models.functional import Functional

    graph = network if isinstance(network, Functional) else getattr(network, "_functional", None)
    if not isinstance(graph, Functional):
        return None
    try:
        nodes = []
        for depth in sorted(graph._nodes_by_depth, reverse=True):
            for node in graph._nodes_by_depth[depth]:
                if node.operation is None or node.is_input:
                    continue
                nodes.append((node.operation, node.arguments, [id(t) for t in node.outputs],
                              bool(node.operation._call_has_training_arg)))
        inputs = [id(t) for t in tree.flatten(graph.inputs)]
        outputs = [id(t) for t in tree.flatten(graph.outputs)]
    except AttributeError as e:
        raise _missing("Functional._nodes_by_depth / Node.arguments / Layer._call_has_training_arg", e) from e
    return inputs, outputs, nodes


def functional_calls() -> tuple:
    """`Functional.call` and `Sequential.call`: the `call` of a network built from layers."""
    try:
        from keras.src.models.functional import Functional
    except ImportError as e:
        raise _missing("keras.src.models.functional.Functional", e) from e
    return (Functional.call, keras.Sequential.call)


def replace_call(network, call) -> None:
    """Make `network(...)` run `call` (a method bound to `network`) in place of its class's `call`.

    Private behaviour relied on: Keras' `Layer.__call__` runs `self.call`, looked up on the instance at
    each call, so an instance attribute takes over for this one network (`copy.deepcopy` rebinds a
    bound method to the copy). Needed by `keras_gan.backend.torch_graph`, whose lean forward pass a
    network's plain `network(x)` then runs. `check()` probes that `__call__` still honours it.
    """
    network.call = call


def rematerialized(layer) -> bool:
    """Whether `layer` was made under a `keras.RematScope` (`Layer._remat_mode` is set).

    Private API: Keras keeps a layer's rematerialization mode only in `_remat_mode`, and such a
    layer's `__call__` runs `rematerialized_call`, not `call`, so `keras_gan.backend.torch_graph`
    must leave it to `__call__`.
    """
    return getattr(layer, "_remat_mode", None) is not None  # check() fails if Keras renames it


def reduction_axes(layer) -> list:
    """The axes a built BatchNormalization layer takes its statistics over
    (`BatchNormalization._reduction_axes`, set by `build`).

    Private API: Keras computes them at build from `axis` and the input rank and has no public
    accessor; `keras_gan.layers.BatchNormalization` needs the same axes for its global (all-reduced)
    moments under `torch.distributed`.
    """
    try:
        return list(layer._reduction_axes)
    except AttributeError as e:
        raise _missing("BatchNormalization._reduction_axes", e) from e


def raw_value(variable):
    """The array a Keras variable holds as stored (`Variable._value`), None while it holds none.

    Private API: the public `value` property may convert, initialise or read through a distribution;
    `keras_gan.distributed.process_local_view` needs the stored JAX array to see whether it spans
    other processes' devices.
    """
    return getattr(variable, "_value", None)  # check() fails if Keras renames it


def swap_raw_value(variable, value, layout) -> tuple:
    """Make `variable` hold `value` under `layout` as they are (`Variable._value`, `Variable._layout`),
    without `assign`'s conversion and resharding; return the `(value, layout)` it held before.

    Private API: `keras_gan.distributed.process_local_view` gives every variable its process-local
    copy for a while (a replicated array's own shard, no layout) and puts the replicated one back.
    """
    try:
        previous = (variable._value, variable._layout)
    except AttributeError as e:
        raise _missing("Variable._value / Variable._layout", e) from e
    variable._value, variable._layout = value, layout
    return previous


def sublayers(layer) -> list:
    """The layers `layer` tracks directly (`Layer._layers`): those its `call` may call itself."""
    try:
        return list(layer._layers)
    except AttributeError as e:
        raise _missing("Layer._layers", e) from e


def conv_transpose_padding_for_jax(layer, input_shape) -> list:
    """The `jax.lax.conv_transpose` padding Keras computes for a transposed convolution `layer` on
    `input_shape` (`backend_utils.compute_conv_transpose_padding_args_for_jax`).

    Private API: `keras_gan.backend.jax_layers` runs Keras' own JAX convolution with a kernel
    prepared outside the call, and must pad exactly as Keras does (JAX's "SAME" differs).
    """
    try:
        from keras.src.backend.common.backend_utils import compute_conv_transpose_padding_args_for_jax
    except ImportError as e:
        raise _missing("backend_utils.compute_conv_transpose_padding_args_for_jax", e) from e
    return compute_conv_transpose_padding_args_for_jax(
        input_shape=input_shape, kernel_shape=tuple(layer.kernel.shape), strides=tuple(layer.strides),
        padding=layer.padding, output_padding=layer.output_padding, dilation_rate=tuple(layer.dilation_rate))


def check() -> list[str]:
    """Probe every private API above on small real objects; return what was checked.

    Raises `KerasCompatError` naming the first one that is missing.
    """
    import importlib
    import types

    checked = []
    dense = keras.layers.Dense(2)
    model = keras.Sequential([keras.Input((3,)), dense, keras.layers.Dropout(0.5)])
    if not seed_states(model):
        raise KerasCompatError("keras_gan found no seed generator in a Dropout layer: Keras' "
                               "Layer._seed_generators no longer lists them.")
    checked += ["Layer._flatten_layers", "Layer._seed_generators"]
    optimizer = keras.optimizers.Adam(use_ema=True)
    optimizer.build(model.trainable_variables)
    weight_averages(optimizer)
    adam_slots(optimizer, dense.kernel)
    learning_rate_source(optimizer)
    checked += ["Optimizer._model_variables_moving_average", "Optimizer._get_variable_index",
                "Adam._momentums / _velocities", "Optimizer._learning_rate"]
    set_initial_epoch(model, 0)
    producing_layer(model.outputs[0])
    checked += ["Model._initial_epoch", "KerasTensor._keras_history"]
    _, _, nodes = functional_graph(model)
    nodes[0][1].fill_in({id(model.inputs[0]): keras.ops.ones((1, 3))})
    sublayers(dense)
    checked += ["Functional._nodes_by_depth", "Node.arguments", "Layer._call_has_training_arg", "Layer._layers"]
    norm = keras.layers.BatchNormalization()
    norm.build((2, 3))
    batch_moments(norm, keras.ops.ones((2, 3)))
    if reduction_axes(norm) != [0]:
        raise KerasCompatError("keras_gan expected BatchNormalization._reduction_axes [0] for 2-D inputs; "
                               f"Keras {keras.__version__} gives {reduction_axes(norm)}.")
    checked += ["BatchNormalization._moments", "BatchNormalization._reduction_axes"]
    generator, draws = keras.random.SeedGenerator(1), []
    wrap_seed_draws(generator, lambda draw: lambda *args, **kwargs: draws.append(1) or draw(*args, **kwargs))
    keras.random.uniform((1,), seed=generator)
    if not draws:
        raise KerasCompatError("keras_gan replaces a SeedGenerator's `next` on the instance, but Keras "
                               f"{keras.__version__}'s random ops no longer draw through it.")
    checked.append("SeedGenerator.next (replaced on an instance)")
    calls, network = [], keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    replace_call(network, types.MethodType(lambda self, *args, **kwargs: calls.append(1) or
                                           type(self).call(self, *args, **kwargs), network))
    network(keras.ops.ones((1, 3)))
    if not calls:
        raise KerasCompatError("keras_gan replaces a network's `call` on the instance, but Keras "
                               f"{keras.__version__}'s Layer.__call__ no longer runs it.")
    checked.append("Layer.call (replaced on an instance)")
    with keras.RematScope(mode="full"):
        remat = keras.layers.Dense(1)
    if not rematerialized(remat) or rematerialized(keras.layers.Dense(1)):
        raise KerasCompatError("keras_gan reads a layer's RematScope mode from Layer._remat_mode, which "
                               f"Keras {keras.__version__} no longer sets.")
    variable = keras.Variable(1.0)
    stored = raw_value(variable)
    if stored is None or swap_raw_value(variable, *swap_raw_value(variable, stored, None))[0] is not stored:
        raise KerasCompatError(f"keras_gan reads Variable._value, which Keras {keras.__version__} does not set.")
    checked += ["Layer._remat_mode", "Variable._value / _layout"]
    in_stateless_scope()
    if not reads_stored_values():
        raise KerasCompatError("keras_gan expected no stateless or autocast scope outside any call; "
                               f"Keras {keras.__version__} reports one.")
    with keras.StatelessScope():
        if reads_stored_values():
            raise KerasCompatError("keras_gan reads whether a StatelessScope is open, but Keras "
                                   f"{keras.__version__}'s in_stateless_scope() misses one.")
    dense_kernel(dense)
    is_unseeded(keras.random.SeedGenerator())
    checked += ["stateless_scope.in_stateless_scope", "variables.get_autocast_scope", "Dense._kernel",
                "SeedGenerator._initial_seed"]
    transposed = keras.layers.Conv2DTranspose(1, 4, strides=2, padding="same")
    transposed.build((1, 3, 3, 1))
    if conv_transpose_padding_for_jax(transposed, (1, 3, 3, 1)) != [(2, 2), (2, 2)]:
        raise KerasCompatError("keras_gan expected Keras' JAX transposed-convolution padding [(2, 2), (2, 2)] "
                               f"for a 4x4 kernel with stride 2; Keras {keras.__version__} gives another.")
    checked.append("backend_utils.compute_conv_transpose_padding_args_for_jax")
    for path, methods in OVERRIDDEN_TRAINER_METHODS.items():
        module_name, class_name = path.rsplit(".", 1)
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as e:
            if keras.backend.backend() != path.split(".")[3]:
                continue  # another backend's trainer may not import here
            raise _missing(path, e) from e
        for method in methods:
            if not hasattr(cls, method):
                raise _missing(f"{class_name}.{method} (keras_gan overrides it)", AttributeError(method))
            checked.append(f"{class_name}.{method}")
    if keras.backend.backend() == "torch":
        torch_adam = keras.optimizers.Adam()
        if not hasattr(torch_adam, "_parallel_update_step"):
            raise _missing("TorchOptimizer._parallel_update_step", AttributeError("_parallel_update_step"))
        if not is_keras_torch_adam(torch_adam):
            raise _missing("keras.src.backend.torch.optimizers.torch_adam.Adam",
                           AttributeError(f"keras.optimizers.Adam() is a {type(torch_adam).__module__}."
                                          f"{type(torch_adam).__name__}"))
        checked += ["TorchOptimizer._parallel_update_step", "torch_adam.Adam (the class keras.optimizers.Adam makes)"]
    if keras.backend.backend() == "tensorflow":
        strategy_supports_no_merge_call()
        checked.append("tf.__internal__.distribute.strategy_supports_no_merge_call")
    return checked
