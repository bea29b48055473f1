"""Every private Keras API keras_gan relies on is reached through keras_gan.compat, works on the
installed Keras, and a missing one fails with a message naming it."""

import keras
import numpy as np
import pytest

from keras_gan import compat


def test_every_private_api_is_present_in_the_installed_keras():
    checked = compat.check()
    for name in ("Layer._flatten_layers", "Layer._seed_generators", "Optimizer._model_variables_moving_average",
                 "Optimizer._get_variable_index", "Optimizer._learning_rate", "Model._initial_epoch",
                 "KerasTensor._keras_history", "BatchNormalization._moments",
                 "BatchNormalization._reduction_axes", "Layer._remat_mode", "Variable._value / _layout",
                 "SeedGenerator.next (replaced on an instance)", "Layer.call (replaced on an instance)",
                 "JAXTrainer._purge_model_variables"):
        assert name in checked
    backend_specific = {"torch": "TorchOptimizer._parallel_update_step",
                        "tensorflow": "tf.__internal__.distribute.strategy_supports_no_merge_call"}
    if keras.backend.backend() in backend_specific:
        assert backend_specific[keras.backend.backend()] in checked


def test_each_accessor_returns_what_keras_holds():
    dense = keras.layers.Dense(2)
    model = keras.Sequential([keras.Input((3,)), dense, keras.layers.Dropout(0.5, seed=1)])
    assert len(compat.seed_states(model)) == 1
    assert compat.producing_layer(model.outputs[0]).name.startswith("dropout")
    optimizer = keras.optimizers.Adam(1e-3, use_ema=True)
    optimizer.build(model.trainable_variables)
    assert len(compat.weight_averages(optimizer)) == 2
    assert compat.variable_index(optimizer, dense.bias) == 1
    m, v = compat.adam_slots(optimizer, dense.kernel)
    assert tuple(m.shape) == tuple(v.shape) == (3, 2)
    assert float(keras.ops.convert_to_numpy(compat.learning_rate_source(optimizer))) == pytest.approx(1e-3)
    compat.set_initial_epoch(model, 3)
    norm = keras.layers.BatchNormalization()
    norm.build((4, 2))
    mean, variance = compat.batch_moments(norm, keras.ops.convert_to_tensor(np.array([[0.0, 1], [2, 3], [4, 5], [6, 7]])))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(mean), [3, 4])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(variance), [5, 5])


class _Bare:
    """An object without any of Keras' private attributes (what a future Keras might give)."""


@pytest.mark.parametrize("call, name", [
    (lambda: compat.flatten_layers(_Bare()), "Layer._flatten_layers"),
    (lambda: compat.weight_averages(_Bare()), "Optimizer._model_variables_moving_average"),
    (lambda: compat.variable_index(_Bare(), None), "Optimizer._get_variable_index"),
    (lambda: compat.learning_rate_source(_Bare()), "Optimizer._learning_rate"),
    (lambda: compat.set_initial_epoch(_Bare(), 1), "Model._initial_epoch"),
    (lambda: compat.producing_layer(_Bare()), "KerasTensor._keras_history"),
    (lambda: compat.batch_moments(_Bare(), None), "BatchNormalization._moments"),
    (lambda: compat.replace_parallel_update(_Bare(), None), "TorchOptimizer._parallel_update_step"),
    (lambda: compat.reduction_axes(_Bare()), "BatchNormalization._reduction_axes"),
    (lambda: compat.swap_raw_value(_Bare(), None, None), "Variable._value / Variable._layout"),
])
def test_a_missing_private_api_is_named_with_the_tested_version(call, name):
    with pytest.raises(compat.KerasCompatError, match=f"private {name}.*tested with Keras {compat.TESTED_KERAS}"):
        call()
