"""`Step`: the public primitives an adversarial model's train step is written with.

A model states its update once, in `keras.ops`, in `adversarial_step(step, data)`
(see `keras_gan.AdversarialModel`), calling a few primitives on `step` whose
meaning is the same on TensorFlow, JAX and PyTorch:

- `step.update(network, loss_fn, *inputs)`: one optimizer step of `network` (the
  model's `generator` or `discriminator`) on the gradient of `loss_fn(*inputs)`
  with respect to that network's trainable weights; the other network is a
  constant. Returns the loss and the auxiliary values for logging.
- `step.forward(network, fn, *inputs)`: run `fn(*inputs)` once, recording its
  dependence on `network`'s weights, so that a later `update(network, ...)` that
  receives its output as an input differentiates through this same pass
  (pix2pix's one generator pass per step). Other networks' updates receive the
  output as a constant (its gradient path cut, as the reference's `.detach()`).
- `step.update_together(loss_fn, *inputs)`: both networks' gradients at the same
  parameters, `loss_fn` returning `((d_loss, g_loss), aux)`, then both updates
  (simultaneous gradient steps).
- `step.input_gradient(fn, x)`: the gradient of `sum(fn(x))` with respect to the
  tensor `x`, itself differentiable, for gradient penalties (WGAN-GP, R1).

Every update also does what a careful trainer does: loss scaling under
`mixed_float16`, the average of the gradients over data-parallel replicas, and
skipping the update whose loss is not finite (the weights stay the last finite
ones and `fit` stops with a clear error).

How each backend does it lives in one module each, parallel like Keras' own
`keras/src/backend/*/trainer.py`: `tensorflow_step.py` (`tf.GradientTape`, inside
Keras' compiled `tf.function`), `jax_step.py` (a pure function of the trainer
state: the state lives in a `keras.StatelessScope` for the duration of the step)
and `torch_step.py` (`torch.autograd.grad`).
"""

from __future__ import annotations

from typing import Any, Callable

import keras

#: What `loss_fn` may return: a scalar loss, or `(loss, aux)` with `aux` a dict of tensors.
LossFn = Callable[..., Any]


def split_loss(result) -> tuple[Any, dict]:
    """`(loss, aux)` from what a loss function returned (a loss alone, or `(loss, aux_dict)`)."""
    if isinstance(result, (tuple, list)):
        if len(result) != 2 or not isinstance(result[1], dict):
            raise ValueError(
                "A loss function given to step.update must return a scalar loss or a pair "
                f"(loss, aux) with aux a dict of named values; got a {type(result).__name__} of "
                f"{len(result)} items.")
        return result[0], result[1]
    return result, {}


class Step:
    """The primitives of one train step (see the module docstring). One `Step` is made per
    `train_step` call by the backend; a model's `adversarial_step` receives it."""

    def __init__(self, model):
        self.model = model
        self._forwards: list[tuple[Any, Any, Any]] = []  # (output, network, backend's record)

    # ----------------------------------------------------------- the primitives
    def update(self, network: keras.Model, loss_fn: LossFn, *inputs) -> tuple[Any, dict]:
        """One optimizer step of `network` on `loss_fn(*inputs)`; returns `(loss, aux)`.

        `inputs` are passed to `loss_fn` as they are, except outputs of
        `step.forward`: one of `network` keeps its gradient path (the update
        differentiates through that pass), one of another network arrives with
        its path cut. Pass such an output as an input, not through a closure:
        JAX and TensorFlow can only follow it that way.
        """
        raise NotImplementedError

    def forward(self, network: keras.Model, fn: Callable, *inputs):
        """`fn(*inputs)`, run once and recorded for `network`'s later update (see `update`)."""
        raise NotImplementedError

    def update_together(self, loss_fn: LossFn, *inputs) -> tuple[tuple[Any, Any], dict]:
        """Simultaneous gradient steps: `loss_fn(*inputs)` returns `((d_loss, g_loss), aux)`;
        the discriminator steps on d_loss's gradient and the generator on g_loss's, both taken
        at the same parameters before either changes. Returns `((d_loss, g_loss), aux)`."""
        raise NotImplementedError

    def input_gradient(self, fn: Callable, x):
        """d sum(fn(x)) / dx, differentiable again (call it inside a loss function given to
        `update`, so that a penalty on it trains the network through it)."""
        raise NotImplementedError

    # ------------------------------------------------------ shared by backends
    def _optimizer(self, network):
        """The optimizer that updates `network`: the model's `d_optimizer` or `g_optimizer`."""
        if network is self.model.discriminator:
            return self.model.d_optimizer
        if network is self.model.generator:
            return self.model.g_optimizer
        raise ValueError(
            f"step.update got the network {getattr(network, 'name', network)!r}, which is neither "
            f"the model's generator ({self.model.generator.name!r}) nor its discriminator "
            f"({self.model.discriminator.name!r}); pass model.generator or model.discriminator.")

    def _other(self, network):
        """The model's other network."""
        return self.model.generator if network is self.model.discriminator else self.model.discriminator

    def _remember_forward(self, output, network, record) -> None:
        self._forwards.append((output, network, record))

    def _forward_of(self, value):
        """`(network, record)` of the `forward` whose output is `value`, or None."""
        for output, network, record in self._forwards:
            if value is output:
                return network, record
        return None

    def _sort_inputs(self, network, inputs, cut: Callable) -> tuple[list, list]:
        """The inputs with other networks' forward outputs passed through `cut` (the backend's
        stop-gradient), and `[(position, record)]` of `network`'s own forward outputs."""
        inputs, own = list(inputs), []
        for position, value in enumerate(inputs):
            found = self._forward_of(value)
            if found is None:
                continue
            if found[0] is network:
                own.append((position, found[1]))
            else:
                inputs[position] = cut(value)
        return inputs, own


class BaseTrainer:
    """What the three backends' trainer mixins share."""

    def call_network(self, network: keras.Model, inputs, training: bool):
        """`network(inputs, training=training)`: how the built-in models call their networks.

        A backend may run the same pass leaner with the same result: on PyTorch a Functional
        network runs through `keras_gan.backend.torch_graph` without Keras' `__call__` work for
        the network itself (on the MNIST GAN step, five calls, about 2.5 ms a step of Python
        measured at batch 2 on the 2-core CPU). TensorFlow and JAX trace the call once, so
        there it is the plain call. Calling `self.discriminator(x, training=True)` in your own
        step is always right; this is only faster on PyTorch."""
        return network(inputs, training=training)

    def _update_tracker(self, tracker, value):
        """Update one loss tracker with `value` and return its running result (PyTorch does the same
        arithmetic in place: `keras_gan.backend.torch_metrics`)."""
        tracker.update_state(value)
        return tracker.result()
