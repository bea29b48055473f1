"""JAX plumbing: a pure function of the trainer state, jitted by Keras.

Keras' JAX trainer hands `train_step(state, data)` the tuple
(trainable, non_trainable, optimizer, metrics) values and expects the updated
tuple back. Its `optimizer` slot holds *both* optimizers' variables (see
`OptimizerPair`): the discriminator's first, then the generator's. Every
network call runs inside a `keras.StatelessScope` that maps all of the model's
variables to their current traced values, so dropout/noise seed states and
batch-norm statistics are threaded through the step like the weights.

A "forward" plan entry (pix2pix's one generator pass per step) is run once
under `jax.vjp` with respect to G's weights; the D update gets its output
through `stop_gradient`, and G's update differentiates its loss with respect
to that output and pulls the cotangent back through the same pass.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import keras

from keras_gan.backend.base_step import AdversarialTrainStep


def _scatter(values, indices, new_values):
    values = list(values)
    for i, v in zip(indices, new_values):
        values[i] = v
    return values


class JAXGANTrainStep(AdversarialTrainStep):
    def _run_stateless(self, fn, trainable_values, non_trainable_values):
        mapping = list(zip(self.trainable_variables, trainable_values)) + list(
            zip(self.non_trainable_variables, non_trainable_values)
        )
        with keras.StatelessScope(state_mapping=mapping) as scope:
            out = fn()
        updated = []
        for variable, old in zip(self.non_trainable_variables, non_trainable_values):
            new = scope.get_current_value(variable)
            updated.append(old if new is None else new)
        return out, updated

    def train_step(self, state, data):
        trainable, non_trainable, optimizer_values, metrics_values = state
        trainable, non_trainable = list(trainable), list(non_trainable)
        n_d = self.optimizer.num_d_variables
        opt_values = {"d": list(optimizer_values[:n_d]), "g": list(optimizer_values[n_d:])}

        step_stats = []
        shared, pullback = None, None  # a "forward" entry's output and its vjp with respect to G
        for role, objective in self._update_plan(data):
            if role == "forward":
                shared, pullback, non_trainable = self._shared_forward(objective, trainable, non_trainable)
                continue
            if shared is not None:
                if role == "g":
                    trainable, non_trainable, stats = self._update_through_forward(
                        objective, shared, pullback, trainable, non_trainable, opt_values)
                    step_stats.append(stats)
                    continue
                objective = functools.partial(objective, jax.lax.stop_gradient(shared))
            if role == "joint":
                trainable, non_trainable, stats = self._joint_update(
                    objective, trainable, non_trainable, opt_values)
                step_stats.extend(stats)
                continue
            indices = self._role_indices(role)

            def loss_fn(role_values, trainable, non_trainable, objective=objective, indices=indices, role=role):
                full = _scatter(trainable, indices, role_values)
                return self._scaled_loss(role, objective, full, non_trainable, opt_values)

            (_, (loss, stats, non_trainable)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
                [trainable[i] for i in indices], trainable, non_trainable
            )
            trainable = self._apply_update(role, grads, loss, trainable, opt_values)
            step_stats.append((role, loss, stats))

        with keras.StatelessScope(
            state_mapping=list(zip(self.metrics_variables, metrics_values))
        ) as scope:
            logs = self._record_step(step_stats)
        metrics_values = [
            scope.get_current_value(v) if scope.get_current_value(v) is not None else old
            for v, old in zip(self.metrics_variables, metrics_values)
        ]
        return logs, (trainable, non_trainable, opt_values["d"] + opt_values["g"], metrics_values)

    def test_step(self, state, data):
        """`evaluate` / validation: the model's held-out quantities from the traced state.

        The non-trainable state goes back unchanged: validation runs in
        inference mode and must not move batch-norm averages or seed states.
        """
        trainable, non_trainable, metrics_values = state
        values, _ = self._run_stateless(lambda: self._validation_values(data), list(trainable),
                                        list(non_trainable))
        with keras.StatelessScope(state_mapping=list(zip(self.metrics_variables, metrics_values))) as scope:
            logs = self._record_values(values)
        metrics_values = [
            scope.get_current_value(v) if scope.get_current_value(v) is not None else old
            for v, old in zip(self.metrics_variables, metrics_values)
        ]
        return logs, (trainable, non_trainable, metrics_values)

    def _shared_forward(self, objective, trainable, non_trainable):
        """Run a "forward" entry once as a function of G's weights: (output, vjp, non-trainables).

        The vjp is pulled back after D's update with the cotangent of G's loss,
        so G's gradient goes through this one pass (its dropout masks, its
        batch statistics), as in the reference pix2pix.
        """
        indices = self._role_indices("g")

        def forward(g_values):
            full = _scatter(trainable, indices, g_values)
            return self._run_stateless(objective, full, non_trainable)

        output, pullback, non_trainable = jax.vjp(forward, [trainable[i] for i in indices], has_aux=True)
        return output, pullback, non_trainable

    def _update_through_forward(self, objective, shared, pullback, trainable, non_trainable, opt_values):
        """G's update when its loss depends on G only through the shared forward pass."""

        def loss_fn(output, trainable, non_trainable):
            return self._scaled_loss("g", lambda: objective(output), trainable, non_trainable, opt_values)

        (_, (loss, stats, non_trainable)), cotangent = jax.value_and_grad(loss_fn, has_aux=True)(
            shared, trainable, non_trainable)
        (grads,) = pullback(cotangent)
        return self._apply_update("g", grads, loss, trainable, opt_values), non_trainable, ("g", loss, stats)

    def _scaled_loss(self, role, objective, trainable, non_trainable, opt_values):
        """`objective()` run statelessly: (scaled loss, (loss, stats, non-trainables)).

        Loss scaling (mixed_float16): the scale is an optimizer variable, read
        from the traced optimizer state.
        """
        optimizer = self._role_optimizer(role)
        (loss, stats), non_trainable = self._run_stateless(objective, trainable, non_trainable)
        with keras.StatelessScope(state_mapping=list(zip(optimizer.variables, opt_values[role]))):
            scaled = optimizer.scale_loss(loss)
        return scaled, (loss, stats, non_trainable)

    def _apply_update(self, role, grads, loss, trainable, opt_values):
        """One optimizer step of a network, skipped if its loss is not finite; returns the new
        trainable values (`opt_values[role]` is updated in place).

        The skip is a `lax.cond`, not a `jnp.where(finite, new, old)` over every weight and
        optimizer slot: the select keeps each old buffer alive beside its new one and changed how
        XLA fused the Adam update with the transposed convolutions' kernel gradients. Measured on
        the 2-core CPU machine, `bench/bench_pix2pix.py --backend jax`: 1.13-1.19x native with the
        select, 1.02-1.06x with the cond (README, Benchmarks).
        """
        indices = self._role_indices(role)
        role_values = [trainable[i] for i in indices]
        optimizer = self._role_optimizer(role)
        new_values, opt_values[role] = jax.lax.cond(
            jnp.isfinite(loss),
            lambda opt, grads, values: optimizer.stateless_apply(opt, grads, values),
            lambda opt, grads, values: (values, opt),  # skipped: weights and slots as they were
            opt_values[role], grads, role_values)
        return _scatter(trainable, indices, new_values)

    def _joint_update(self, objective, trainable, non_trainable, opt_values):
        """Both networks' gradients at the same parameters (one `jax.vjp` of the
        pair of losses), then both updates. `opt_values` is updated in place."""
        roles = ("d", "g")
        indices = {role: self._role_indices(role) for role in roles}

        def losses_fn(d_values, g_values):
            full = _scatter(_scatter(trainable, indices["d"], d_values), indices["g"], g_values)
            (pair, stats), new_non_trainable = self._run_stateless(objective, full, non_trainable)
            return pair, (stats, new_non_trainable)

        values = {role: [trainable[i] for i in indices[role]] for role in roles}
        pair, pullback, (stats, non_trainable) = jax.vjp(losses_fn, values["d"], values["g"], has_aux=True)
        zero = jnp.zeros_like(pair[0])
        cotangents = {}
        for role in roles:
            optimizer = self._role_optimizer(role)
            # d(scale * loss)/dw: the cotangent is the loss scale (1 without mixed_float16).
            with keras.StatelessScope(state_mapping=list(zip(optimizer.variables, opt_values[role]))):
                cotangents[role] = jnp.asarray(optimizer.scale_loss(jnp.ones_like(zero)), zero.dtype)
        grads = {"d": pullback((cotangents["d"], zero))[0], "g": pullback((zero, cotangents["g"]))[1]}
        for role, loss in zip(roles, pair):
            trainable = self._apply_update(role, grads[role], loss, trainable, opt_values)
        return trainable, non_trainable, [("d", pair[0], stats), ("g", pair[1], {})]

    def _purge_model_variables(self, *args, **kwargs):
        """Keep variables attached during `fit` (Keras frees them to save memory).

        If a step fails while tracing (bad input shapes found inside `fit`), the
        exception would otherwise leave the model with freed (None) variables.
        GAN weights are small next to the memory this costs.
        """
        return None

    def _replica_position(self):
        """`(replicas, replica_id)` of the running step: JAX programs see the global batch."""
        return 1, 0
