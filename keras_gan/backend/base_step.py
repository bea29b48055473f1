"""The train-step contract between the models and the per-backend plumbing.

As Keras' `keras/src/backend/{jax,tensorflow,torch}/trainer.py` subclass
`keras/src/trainers/trainer.py`, the three step mixins here subclass
`AdversarialTrainStep`, which declares what they call on the model; the
models (`AdversarialModel` and its subclasses) implement it. The loss math
lives once, in the models, in `keras.ops`: a step asks the model for its
*update plan* and runs it.

An update plan is a list of `(role, objective)` entries, run in order:

- `"forward"`: `objective()` returns a tensor computed once per step (pix2pix's
  one generator pass); the later entries receive it.
- `"d"` / `"g"`: `objective()` (or `objective(shared)` after a forward entry)
  returns `(loss, stats)`; that network's optimizer takes one step on the
  loss's gradient with respect to the network's trainable variables. D
  receives the shared tensor with its gradient path cut, G through it.
- `"joint"`: `objective()` returns `((d_loss, g_loss), stats)` and both
  networks step from the same parameters (`update_rule="simultaneous"`).

TensorFlow and PyTorch run the plan with the same loop (`LoopTrainStep`);
only how a pass is recorded and differentiated differs. JAX runs it as a pure
function of the trainer state (`jax_step.py`).
"""

from __future__ import annotations

from typing import Any, Callable

#: The roles an update plan may use (see the module docstring).
ROLES = ("forward", "d", "g", "joint")


class AdversarialTrainStep:
    """The hooks every backend's step calls; the model classes implement them."""

    def _update_plan(self, data) -> list[tuple[str, Callable]]:  # pragma: no cover - implemented by models
        """The step's `(role, objective)` entries for one batch `data`."""
        raise NotImplementedError

    def _role_variables(self, role: str) -> list:  # pragma: no cover
        """The trainable variables that role `"d"` or `"g"` updates."""
        raise NotImplementedError

    def _role_optimizer(self, role: str):  # pragma: no cover
        """The optimizer of role `"d"` or `"g"`."""
        raise NotImplementedError

    def _role_indices(self, role: str) -> list[int]:  # pragma: no cover
        """Positions of the role's variables in `self.trainable_variables` (JAX's state lists)."""
        raise NotImplementedError

    def _call_network(self, network, inputs, training: bool):
        """`network(inputs, training=training)`: how the models run G and D in their objectives.
        A backend may run the same computation its own way (PyTorch: `torch_graph`)."""
        return network(inputs, training=training)

    def _record_step(self, step_stats: list[tuple[str, Any, dict]]) -> dict:  # pragma: no cover
        """Update the loss trackers from the step's `(role, loss, stats)`; return the logs."""
        raise NotImplementedError

    def _update_tracker(self, tracker, value):
        """Update one loss tracker with `value` and return its running result (PyTorch does the same
        arithmetic in place: `keras_gan.backend.torch_metrics`)."""
        tracker.update_state(value)
        return tracker.result()

    def _record_values(self, values: dict) -> dict:  # pragma: no cover
        """Update the trackers with named values (validation); return the logs."""
        raise NotImplementedError

    def _validation_values(self, data) -> dict:  # pragma: no cover
        """The logged quantities on one held-out batch, in inference mode."""
        raise NotImplementedError

    def _replica_position(self) -> tuple[int, int]:  # pragma: no cover - one per backend
        """`(replicas, replica_id)` of the running step."""
        raise NotImplementedError

    # `self.optimizer` is an `OptimizerPair`: `.num_d_variables` says where the
    # discriminator's optimizer variables end in the joint list (JAX's state).


class LoopTrainStep(AdversarialTrainStep):
    """The update loop of the stateful backends (TensorFlow, PyTorch), written once.

    A backend supplies three hooks: how to run a forward entry so that G's
    update can differentiate through it later, how to run one network's update,
    and how to run a joint update.
    """

    def train_step(self, data):
        step_stats = []
        shared = None  # what _run_forward returned for a "forward" entry
        for role, objective in self._update_plan(data):
            if role == "forward":
                shared = self._run_forward(objective)
            elif role == "joint":
                step_stats.extend(self._joint_update(objective))
            elif role in ("d", "g"):
                loss, stats = self._role_update(role, objective, shared)
                step_stats.append((role, loss, stats))
            else:
                raise ValueError(f"Unknown update-plan role {role!r}; expected one of {ROLES}.")
        return self._record_step(step_stats)

    def _run_forward(self, objective):  # pragma: no cover - one per backend
        raise NotImplementedError

    def _role_update(self, role: str, objective, shared) -> tuple:  # pragma: no cover - one per backend
        """One optimizer step of network `role` on its objective; returns `(loss, stats)`."""
        raise NotImplementedError

    def _joint_update(self, objective) -> list:  # pragma: no cover - one per backend
        raise NotImplementedError
