"""TensorFlow plumbing of the step primitives (`keras_gan.backend.step`): `tf.GradientTape`.

Keras compiles `train_step` with `tf.function(jit_compile=...)`, so the whole
step (k discriminator updates, then one generator update) becomes one XLA
program when `jit_compile` is on.

`step.forward` records its pass on its own tape; another network's update sees
the output through `tf.stop_gradient`, and its own network's update re-enters
that tape (recording continues where it stopped), so the gradient flows back
through the step's one pass.

Under a `tf.distribute` strategy (e.g. `MirroredStrategy`) each replica runs
this step on its shard of the batch. The skip-if-non-finite decision is taken
in cross-replica context (`maybe_merge_call`, as Keras' LossScaleOptimizer
does), because a synchronisation point (the gradient all-reduce inside
`optimizer.apply`) may not sit inside a per-replica `tf.cond`.
"""

from __future__ import annotations

import tensorflow as tf

from keras_gan.backend.step import BaseTrainer, Step, split_loss
from keras_gan.backend.tensorflow_arrays import lean_array_inputs
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


def replica_position() -> tuple[int, int]:
    """`(replicas, replica_id)`: inside `strategy.run`, this replica's place among the others."""
    context = tf.distribute.get_replica_context()
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if context is None or replicas == 1:
        return 1, 0
    return replicas, context.replica_id_in_sync_group


def _per_replica(loss):
    """The loss whose gradient the all-reduce sums into the global mean's: each replica's loss
    divided by the number of replicas (as Keras' own trainer does)."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss / replicas if replicas > 1 else loss


class TensorFlowStep(Step):
    """The step primitives on TensorFlow (see `keras_gan.backend.step.Step`)."""

    def forward(self, network, fn, *inputs):
        tape = tf.GradientTape()
        with tape:
            output = fn(*inputs)
        self._remember_forward(output, network, tape)
        return output

    def update(self, network, loss_fn, *inputs):
        optimizer = self._optimizer(network)
        inputs, own = self._sort_inputs(network, inputs, cut=tf.stop_gradient)
        tapes = {id(tape): tape for _, tape in own}
        if len(tapes) > 1:
            raise ValueError("step.update can differentiate through one step.forward pass of a network; "
                             "combine the network's outputs in one forward.")
        # Re-enter the forward pass's tape, so the gradient flows back through that pass.
        tape = next(iter(tapes.values())) if tapes else tf.GradientTape()
        with tape:
            loss, aux = split_loss(loss_fn(*inputs))
            scaled = optimizer.scale_loss(_per_replica(loss))  # loss scaling under mixed_float16
        grads = tape.gradient(scaled, network.trainable_variables)
        _apply_if_finite(optimizer, grads, network.trainable_variables, loss)
        return loss, aux

    def update_together(self, loss_fn, *inputs):
        model = self.model
        pairs = (("d", model.discriminator, model.d_optimizer), ("g", model.generator, model.g_optimizer))
        with tf.GradientTape(persistent=True) as tape:
            (d_loss, g_loss), aux = split_loss(loss_fn(*inputs))
            losses = {"d": d_loss, "g": g_loss}
            scaled = {role: optimizer.scale_loss(_per_replica(losses[role])) for role, _, optimizer in pairs}
        grads = {role: tape.gradient(scaled[role], network.trainable_variables) for role, network, _ in pairs}
        del tape
        for role, network, optimizer in pairs:
            _apply_if_finite(optimizer, grads[role], network.trainable_variables, losses[role])
        return (d_loss, g_loss), aux

    def input_gradient(self, fn, x):
        with tf.GradientTape() as tape:  # nested in the update's tape, which records it
            tape.watch(x)
            output = tf.reduce_sum(fn(x))
        return tape.gradient(output, x)


class TensorFlowTrainer(BaseTrainer):
    """Keras' `train_step` / `test_step` on TensorFlow for an `AdversarialModel`."""

    def train_step(self, data):
        if replica_position()[0] > 1:  # each replica its own dropout masks (replica_streams)
            latent = getattr(self, "seed_generator", None)
            give_each_replica_its_own_streams(self, _replica_id_in_context, keep=[latent] if latent else [])
        return _reducible_logs(self._record_values(self.adversarial_step(TensorFlowStep(self), data)))

    def test_step(self, data):
        """`evaluate` / validation: the model's held-out quantities, no update."""
        return _reducible_logs(self._record_values(self.validation_step(data), complete=False))

    def fit(self, x=None, y=None, *args, **kwargs):
        """Keras' `fit`; numpy arrays go through a one-thread input pipeline (`tensorflow_arrays`:
        Keras' autotuned one made the MNIST GAN step 1.3x slower on a 2-core CPU)."""
        if self.distribute_strategy is tf.distribute.get_strategy():  # no strategy of the model's own
            dataset = lean_array_inputs(x, y, args, kwargs)
            if dataset is not None:
                x, y = dataset, None
        return super().fit(x, y, *args, **kwargs)

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
