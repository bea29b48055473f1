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
if Keras renames one, the override would silently stop applying.
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


def in_stateless_scope() -> bool:
    """Whether a `keras.StatelessScope` is open (`keras.src.backend.common.stateless_scope`):
    variables must then not be written in place."""
    try:
        from keras.src.backend.common.stateless_scope import in_stateless_scope as _in_scope
    except ImportError as e:
        raise _missing("keras.src.backend.common.stateless_scope.in_stateless_scope", e) from e
    return bool(_in_scope())


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


def sublayers(layer) -> list:
    """The layers `layer` tracks directly (`Layer._layers`): those its `call` may call itself."""
    try:
        return list(layer._layers)
    except AttributeError as e:
        raise _missing("Layer._layers", e) from e


def check() -> list[str]:
    """Probe every private API above on small real objects; return what was checked.

    Raises `KerasCompatError` naming the first one that is missing.
    """
    import importlib

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
    checked.append("BatchNormalization._moments")
    in_stateless_scope()
    dense_kernel(dense)
    is_unseeded(keras.random.SeedGenerator())
    checked += ["stateless_scope.in_stateless_scope", "Dense._kernel", "SeedGenerator._initial_seed"]
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
        checked.append("TorchOptimizer._parallel_update_step")
    if keras.backend.backend() == "tensorflow":
        strategy_supports_no_merge_call()
        checked.append("tf.__internal__.distribute.strategy_supports_no_merge_call")
    return checked
