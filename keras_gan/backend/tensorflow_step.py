"""TensorFlow plumbing: `tf.GradientTape` per update, inside Keras' `tf.function`.

Keras compiles `train_step` with `tf.function(jit_compile=...)`, so the whole
alternating step (k discriminator updates, then one generator update) becomes
one XLA program when `jit_compile` is on (the default on TensorFlow).
"""

from __future__ import annotations

import tensorflow as tf


class TensorFlowGANTrainStep:
    def train_step(self, data):
        step_stats = []
        for role, objective in self._update_plan(data):
            variables = self._role_variables(role)
            with tf.GradientTape() as tape:
                loss, stats = objective()
            grads = tape.gradient(loss, variables)
            optimizer = self._role_optimizer(role)

            def apply(optimizer=optimizer, grads=grads, variables=variables):
                optimizer.apply(grads, variables)
                return tf.constant(True)

            # An update whose loss is not finite is skipped, so the weights stay
            # the last finite ones; `fit` then stops with a clear error.
            tf.cond(tf.math.is_finite(loss), apply, lambda: tf.constant(False))
            step_stats.append((role, loss, stats))
        return self._record_step(step_stats)
