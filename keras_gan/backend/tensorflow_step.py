"""TensorFlow plumbing: `tf.GradientTape` per update, inside Keras' `tf.function`.

Keras compiles `train_step` with `tf.function(jit_compile=...)`, so the whole
alternating step (k discriminator updates, then one generator update) becomes
one XLA program when `jit_compile` is on.

A "forward" plan entry is recorded on its own tape; the D update sees its
output through `tf.stop_gradient`, and the G update re-enters that tape
(recording continues where it stopped), so G's gradient flows back through
the step's one generator pass.

Under a `tf.distribute` strategy (e.g. `MirroredStrategy`) each replica runs
this step on its shard of the batch. The skip-if-non-finite decision is taken
in cross-replica context (`maybe_merge_call`, as Keras' LossScaleOptimizer
does), because a synchronisation point (the gradient all-reduce inside
`optimizer.apply`) may not sit inside a per-replica `tf.cond`.
"""

from __future__ import annotations

import tensorflow as tf

from keras_gan.backend.base_step import LoopTrainStep
from keras_gan.backend.replica_streams import give_each_replica_its_own_streams
from keras_gan import compat


def _apply_if_finite(optimizer, grads, variables, loss) -> None:
    """`optimizer.apply(grads, variables)` unless a replica's loss is not finite.

    An update whose loss is not finite is skipped, so the weights stay the
    last finite ones; `fit` then stops with a clear error.
    """

    def apply():
        optimizer.apply(grads, variables)
        return tf.constant(True)

    skip = lambda: tf.constant(False)  # noqa: E731
    if not tf.distribute.has_strategy() or compat.strategy_supports_no_merge_call():
        tf.cond(tf.math.is_finite(loss), apply, skip)
        return

    def cross_replica(distribution, grads, loss):
        finite = tf.reduce_all(
            [tf.math.is_finite(v) for v in distribution.experimental_local_results(loss)]
        )

        def apply_on_every_replica():
            distribution.extended.call_for_each_replica(
                lambda g: optimizer.apply(g, variables), args=(grads,)
            )
            return tf.constant(True)

        return tf.cond(finite, apply_on_every_replica, skip)

    tf.distribute.get_replica_context().merge_call(cross_replica, args=(grads, loss))


def _multi_worker(strategy=None) -> bool:
    """Whether `strategy` (default: the one in scope) is a `MultiWorkerMirroredStrategy`."""
    strategy = strategy or tf.distribute.get_strategy()
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def _reducible_logs(logs: dict) -> dict:
    """Logs Keras can reduce over the workers of a `MultiWorkerMirroredStrategy`.

    Keras 3 reduces every step's logs there with `strategy.reduce("MEAN", v,
    axis=0)`, which fails on the scalars every train step returns ("Invalid
    reduction dimension 0 for input with 0 dimensions", tensorflow#72388).
    Shape (1,) reduces to the mean over the workers, a scalar again.
    """
    if not _multi_worker():
        return logs
    return {name: tf.reshape(value, [1]) for name, value in logs.items()}


def _replica_id_in_context():
    """This replica's index among all replicas of the strategy (0 outside `strategy.run`)."""
    context = tf.distribute.get_replica_context()
    return 0 if context is None else context.replica_id_in_sync_group


class TensorFlowGANTrainStep(LoopTrainStep):
    def train_step(self, data):
        if self._replica_position()[0] > 1:  # each replica its own dropout masks (replica_streams)
            latent = getattr(self, "seed_generator", None)
            give_each_replica_its_own_streams(self, _replica_id_in_context, keep=[latent] if latent else [])
        return _reducible_logs(super().train_step(data))

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Keras' pre-build, given one worker's local batch under `MultiWorkerMirroredStrategy`.

        Keras 3 builds from `strategy.reduce("MEAN", batch)`, which fails there
        for a batch of several tensors (pix2pix's `(inputs, targets)`); the
        build needs only shapes, so one replica's local values serve.
        """
        if iterator is None or not _multi_worker(self.distribute_strategy):
            return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)
        for _, _, it in iterator:
            batch = next(it)
            local = tf.nest.map_structure(
                lambda v: self.distribute_strategy.experimental_local_results(v)[0]
                if isinstance(v, tf.distribute.DistributedValues) else v, batch)
            return super()._maybe_symbolic_build(data_batch=local)
    def _run_forward(self, objective):
        """Record the forward pass on its own tape: `(output, tape)`."""
        tape = tf.GradientTape()
        with tape:
            output = objective()
        return output, tape

    def _role_update(self, role, objective, shared):
        variables = self._role_variables(role)
        optimizer = self._role_optimizer(role)
        if shared is not None and role == "g":
            # Re-enter the forward pass's tape, so G's gradient flows back through that pass.
            output, tape = shared
            call = lambda: objective(output)  # noqa: E731
        else:
            tape = tf.GradientTape()
            call = objective if shared is None else (lambda: objective(tf.stop_gradient(shared[0])))
        with tape:
            loss, stats = call()
            # Replicas' gradients are summed by the all-reduce: divide each
            # replica's loss by their number so the sum is the global mean
            # (as Keras' own trainer does). Then loss scaling (mixed_float16).
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            scaled = optimizer.scale_loss(loss / replicas if replicas > 1 else loss)
        grads = tape.gradient(scaled, variables)
        _apply_if_finite(optimizer, grads, variables, loss)
        return loss, stats

    def test_step(self, data):
        """`evaluate` / validation: the model's held-out quantities, no update."""
        return _reducible_logs(self._record_values(self._validation_values(data)))

    def _joint_update(self, objective):
        """Both networks' gradients at the same parameters, then both updates."""
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape(persistent=True) as tape:
            (d_loss, g_loss), stats = objective()
            scaled = {role: self._role_optimizer(role).scale_loss(loss / replicas if replicas > 1 else loss)
                      for role, loss in (("d", d_loss), ("g", g_loss))}
        grads = {role: tape.gradient(scaled[role], self._role_variables(role)) for role in ("d", "g")}
        del tape
        for role, loss in (("d", d_loss), ("g", g_loss)):
            _apply_if_finite(self._role_optimizer(role), grads[role], self._role_variables(role), loss)
        return [("d", d_loss, stats), ("g", g_loss, {})]

    def _replica_position(self):
        """`(replicas, replica_id)`: inside `strategy.run`, this replica's place among the others."""
        context = tf.distribute.get_replica_context()
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        if context is None or replicas == 1:
            return 1, 0
        return replicas, context.replica_id_in_sync_group
