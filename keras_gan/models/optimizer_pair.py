"""Two optimizers presented to Keras' trainers as one.

Keras' trainers know a single `model.optimizer`. On JAX this matters most: the
stateless trainer threads `model.optimizer.variables` through the jitted step
and writes them back after `fit` (`jax_state_sync`). By exposing the
discriminator's and the generator's optimizer variables as one list, both
optimizers' states travel through the jitted state instead of being captured
as constants, so training really updates them and `save()` after `fit` sees the
trained values. The same object also lets `BackupAndRestore`, `summary()` and
`compile_from_config` build both optimizers before restoring their state.

This object is deliberately *not* a `KerasSaveable`: the two real optimizers are
attributes of the model (`d_optimizer`, `g_optimizer`) and are saved there, once.
"""

from __future__ import annotations

import weakref
from keras_gan import compat


class OptimizerPair:
    """The discriminator's and the generator's optimizers, in that order."""

    def __init__(self, model, d_optimizer, g_optimizer):
        self._model = weakref.ref(model)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer

    @property
    def variables(self):
        return list(self.d_optimizer.variables) + list(self.g_optimizer.variables)

    @property
    def num_d_variables(self) -> int:
        return len(self.d_optimizer.variables)

    @property
    def built(self) -> bool:
        return self.d_optimizer.built and self.g_optimizer.built

    def build(self, var_list=None):
        """Build each optimizer on its own network's trainable variables.

        `var_list` (all of the model's trainable variables, as Keras passes
        them) is ignored: each optimizer must only ever see its own network.
        """
        model = self._model()
        if not self.d_optimizer.built:
            self.d_optimizer.build(model.discriminator.trainable_variables)
        if not self.g_optimizer.built:
            self.g_optimizer.build(model.generator.trainable_variables)

    def scale_loss(self, loss):
        return loss

    @property
    def learning_rate(self):
        """The generator optimizer's learning rate: what Keras' learning-rate callbacks read.

        Setting it (`ReduceLROnPlateau`, `LearningRateScheduler`) drives **both**
        optimizers: the discriminator's rate is multiplied by the same factor as
        the generator's, so their ratio stays (the papers use equal rates).
        """
        return self.g_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        import keras

        for optimizer in (self.d_optimizer, self.g_optimizer):
            source = compat.learning_rate_source(optimizer)
            if isinstance(source, keras.optimizers.schedules.LearningRateSchedule):
                raise TypeError(
                    f"{optimizer.name} follows a learning-rate schedule "
                    f"({type(source).__name__}), which a callback cannot overwrite; compile "
                    "with constant learning rates to use ReduceLROnPlateau or LearningRateScheduler.")
        old = float(keras.ops.convert_to_numpy(self.g_optimizer.learning_rate))
        new = float(keras.ops.convert_to_numpy(value))
        factor = new / old if old else 1.0
        d_old = float(keras.ops.convert_to_numpy(self.d_optimizer.learning_rate))
        self.d_optimizer.learning_rate = d_old * factor if old else new
        self.g_optimizer.learning_rate = new

    def __repr__(self):
        return f"OptimizerPair(d={self.d_optimizer.name}, g={self.g_optimizer.name})"
