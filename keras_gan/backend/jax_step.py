"""JAX plumbing of the step primitives (`keras_gan.backend.step`): a pure function, jitted by Keras.

Keras' JAX trainer hands `train_step(state, data)` the tuple
(trainable, non_trainable, optimizer, metrics) values and expects the updated
tuple back. Its `optimizer` slot holds *both* optimizers' variables (see
`OptimizerPair`). For the duration of the step the whole state lives in one
`keras.StatelessScope`: every read of a variable (a weight, a seed state, a
batch-norm average, an optimizer slot) sees its current traced value and every
write is recorded there, so the model's `adversarial_step` reads like a
stateful one, and the primitives are plain JAX transformations inside it:

- `update`: `jax.value_and_grad` of the loss with respect to the network's
  weights (in a nested scope that maps them to the differentiated values),
  then the optimizer's `stateless_apply`, skipped by a `lax.cond` when the loss
  is not finite;
- `forward`: a `jax.vjp` with respect to the network's weights, whose pullback
  the network's later update applies to the cotangent of its output;
- `input_gradient`: `jax.grad` with respect to the input, whose own state
  updates (dropout seeds) come back as auxiliary values.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import keras

from keras_gan.backend.step import BaseTrainer, Step, split_loss


def replica_position() -> tuple[int, int]:
    """`(replicas, replica_id)`: JAX programs see the global batch, so always `(1, 0)`."""
    return 1, 0


def _read(variables) -> list:
    """The current values of `variables` (inside the step's scope: the traced ones)."""
    return [v.value for v in variables]


def _assign(variables, values) -> None:
    """Record new values of `variables` in the step's scope."""
    for variable, value in zip(variables, values):
        variable.assign(value)


class JAXStep(Step):
    """The step primitives on JAX (see `keras_gan.backend.step.Step`)."""

    def _state_variables(self) -> list:
        """Every variable a network pass reads or writes: weights, seed states, batch-norm averages."""
        return list(self.model.trainable_variables) + list(self.model.non_trainable_variables)

    def _run_with(self, fn, replaced, values):
        """`fn()` in a nested scope where `replaced` hold `values` (the differentiated ones) and
        every other variable its current value; returns `(output, new non-trainable values)`."""
        swapped = {id(v): value for v, value in zip(replaced, values)}
        mapping = [(v, swapped.get(id(v), v.value)) for v in self._state_variables()]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            output = fn()
        updated = [scope.get_current_value(v) for v in self.model.non_trainable_variables]
        return output, [new if new is not None else old
                        for new, old in zip(updated, _read(self.model.non_trainable_variables))]

    def forward(self, network, fn, *inputs):
        weights = network.trainable_variables
        output, pullback, updated = jax.vjp(
            lambda values: self._run_with(lambda: fn(*inputs), weights, values), _read(weights), has_aux=True)
        _assign(self.model.non_trainable_variables, updated)
        self._remember_forward(output, network, pullback)
        return output

    def update(self, network, loss_fn, *inputs):
        optimizer = self._optimizer(network)
        inputs, own = self._sort_inputs(network, inputs, cut=jax.lax.stop_gradient)
        weights = network.trainable_variables

        def scaled_loss(values, through):
            args = list(inputs)
            for (position, _), value in zip(own, through):
                args[position] = value
            (loss, aux), updated = self._run_with(lambda: split_loss(loss_fn(*args)), weights, values)
            return optimizer.scale_loss(loss), (loss, aux, updated)  # loss scaling under mixed_float16

        (_, (loss, aux, updated)), (grads, cotangents) = jax.value_and_grad(
            scaled_loss, argnums=(0, 1), has_aux=True)(_read(weights), [inputs[p] for p, _ in own])
        for (_, pullback), cotangent in zip(own, cotangents):  # back through the forward pass
            (through_forward,) = pullback(cotangent)
            grads = [a + b for a, b in zip(grads, through_forward)]
        _assign(self.model.non_trainable_variables, updated)
        self._apply(optimizer, weights, grads, loss)
        return loss, aux

    def update_together(self, loss_fn, *inputs):
        model = self.model
        d_weights, g_weights = model.discriminator.trainable_variables, model.generator.trainable_variables

        def both_losses(d_values, g_values):
            (pair, aux), updated = self._run_with(lambda: split_loss(loss_fn(*inputs)),
                                                  d_weights + g_weights, d_values + g_values)
            return tuple(pair), (aux, updated)

        pair, pullback, (aux, updated) = jax.vjp(both_losses, _read(d_weights), _read(g_weights), has_aux=True)
        zero = jnp.zeros_like(pair[0])
        # d(scale * loss)/dw: the cotangent is the loss scale (1 without mixed_float16).
        d_scale = jnp.asarray(model.d_optimizer.scale_loss(jnp.ones_like(zero)), zero.dtype)
        g_scale = jnp.asarray(model.g_optimizer.scale_loss(jnp.ones_like(zero)), zero.dtype)
        d_grads = pullback((d_scale, zero))[0]
        g_grads = pullback((zero, g_scale))[1]
        _assign(model.non_trainable_variables, updated)
        self._apply(model.d_optimizer, d_weights, d_grads, pair[0])
        self._apply(model.g_optimizer, g_weights, g_grads, pair[1])
        return pair, aux

    def input_gradient(self, fn, x):
        state = self._state_variables()

        def summed(x):
            # A nested scope holding the current values: state written inside jax.grad (a dropout
            # seed) must leave it as an output, not as a tracer of the inner transformation.
            with keras.StatelessScope(state_mapping=[(v, v.value) for v in state]) as scope:
                output = jnp.sum(fn(x))
            return output, [scope.get_current_value(v) for v in self.model.non_trainable_variables]

        gradient, updated = jax.grad(summed, has_aux=True)(x)
        _assign([v for v, new in zip(self.model.non_trainable_variables, updated) if new is not None],
                [new for new in updated if new is not None])
        return gradient

    @staticmethod
    def _apply(optimizer, weights, grads, loss) -> None:
        """One optimizer step of `weights`, skipped if the loss is not finite.

        The skip is a `lax.cond`, not a `jnp.where(finite, new, old)` over every weight and
        optimizer slot: the select keeps each old buffer alive beside its new one and changed how
        XLA fused the Adam update with the transposed convolutions' kernel gradients. Measured on
        the 2-core CPU machine, `bench/bench_pix2pix.py --backend jax`: 1.13-1.19x native with the
        select, 1.02-1.06x with the cond (bench/README.md).
        """
        new_values, new_slots = jax.lax.cond(
            jnp.isfinite(loss),
            lambda slots, grads, values: optimizer.stateless_apply(slots, grads, values),
            lambda slots, grads, values: (values, slots),  # skipped: weights and slots as they were
            _read(optimizer.variables), grads, _read(weights))
        _assign(weights, new_values)
        _assign(optimizer.variables, new_slots)


class JAXTrainer(BaseTrainer):
    """Keras' `train_step` / `test_step` on JAX for an `AdversarialModel`: one scope holds the state."""

    def train_step(self, state, data):
        trainable, non_trainable, optimizer_values, metrics_values = state
        variables = (list(self.trainable_variables), list(self.non_trainable_variables),
                     list(self.optimizer.variables), list(self.metrics_variables))
        mapping = [pair for group, values in zip(variables, state) for pair in zip(group, values)]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            logs = self._record_values(self.adversarial_step(JAXStep(self), data))
        return logs, tuple([_current(scope, v, old) for v, old in zip(group, values)]
                           for group, values in zip(variables, state))

    def test_step(self, state, data):
        """`evaluate` / validation: the model's held-out quantities from the traced state.

        The non-trainable state goes back unchanged: validation runs in
        inference mode and must not move batch-norm averages or seed states.
        """
        trainable, non_trainable, metrics_values = state
        model_variables = list(self.trainable_variables) + list(self.non_trainable_variables)
        with keras.StatelessScope(state_mapping=list(zip(model_variables, list(trainable) + list(non_trainable)))):
            values = self.validation_step(data)
        with keras.StatelessScope(state_mapping=list(zip(self.metrics_variables, metrics_values))) as scope:
            logs = self._record_values(values, complete=False)
        metrics_values = [_current(scope, v, old) for v, old in zip(self.metrics_variables, metrics_values)]
        return logs, (trainable, non_trainable, metrics_values)

    def _purge_model_variables(self, *args, **kwargs):
        """Keep variables attached during `fit` (Keras frees them to save memory).

        If a step fails while tracing (bad input shapes found inside `fit`), the
        exception would otherwise leave the model with freed (None) variables.
        GAN weights are small next to the memory this costs.
        """
        return None


def _current(scope, variable, old):
    new = scope.get_current_value(variable)
    return old if new is None else new
