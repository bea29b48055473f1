"""The GAN paper's optimisation schedule as serialisable Keras objects.

goodfeli/adversarial `mnist.yaml` trains both networks with SGD, batch 100,
learning rate 0.1 divided by 1.000004 after every update (pylearn2
`ExponentialDecay(decay_factor=1.000004, min_lr=1e-6)`), and momentum 0.5
raised linearly to 0.7 between epochs 1 and 250 (pylearn2
`MomentumAdjustor(start=1, saturate=250, final_momentum=.7)`). The CGAN paper
(Mirza & Osindero 2014, section 4.1) uses the same rule with decay 1.00004.

Keras' SGD takes a fixed float momentum, which a jit-compiled step would bake
in as a constant; `RampedMomentumSGD` derives the momentum from the
optimizer's own `iterations` counter instead, so the schedule is part of the
traced step, is saved with the optimizer and survives a resume.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops
from keras_gan import compat


@keras.saving.register_keras_serializable(package="keras_gan")
class InverseExponentialDecay(keras.optimizers.schedules.LearningRateSchedule):
    """`lr(t) = max(initial / decay_factor**t, min_lr)`, pylearn2's `ExponentialDecay`.

    Args:
        initial_learning_rate: lr before the first update (0.1 in the paper).
        decay_factor: divisor applied after every update (1.000004 for the
            GAN paper, 1.00004 for the CGAN paper).
        min_lr: floor (1e-6 in the reference code).
    """

    def __init__(self, initial_learning_rate: float = 0.1, decay_factor: float = 1.000004,
                 min_lr: float = 1e-6):
        if initial_learning_rate <= 0 or decay_factor < 1 or min_lr < 0:
            raise ValueError(
                "InverseExponentialDecay needs initial_learning_rate > 0, decay_factor >= 1 and "
                f"min_lr >= 0; got {initial_learning_rate}, {decay_factor}, {min_lr}."
            )
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_factor = float(decay_factor)
        self.min_lr = float(min_lr)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        lr = self.initial_learning_rate * ops.power(1.0 / self.decay_factor, step)
        return ops.maximum(lr, self.min_lr)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_factor": self.decay_factor,
            "min_lr": self.min_lr,
        }


@keras.saving.register_keras_serializable(package="keras_gan")
class RampedMomentumSGD(keras.optimizers.SGD):
    """SGD whose momentum rises linearly, once per epoch, as pylearn2's `MomentumAdjustor`.

    During epoch e (counted from 0, e = iterations // steps_per_epoch) the
    momentum is `initial + (final - initial) * clip((e + 1 - start) / (saturate - start), 0, 1)`,
    so it is `initial` in the first epoch (start=1) and `final` from epoch
    `saturate` on. Everything else is Keras' SGD (the same velocity rule as
    pylearn2: v <- m v - lr g; w <- w + v).

    Args:
        steps_per_epoch: this optimizer's updates per epoch (required): the
            batches per epoch (`math.ceil(len(images) / batch_size)` for
            `fit(images, batch_size=...)`: 500 for MNIST train[0:50000] at
            batch 100), times `d_steps` for a discriminator updated k times
            per batch. There is no default: a wrong epoch length
            silently stretches or squeezes the momentum ramp.
        initial_momentum, final_momentum, start, saturate: as pylearn2.
    """

    def __init__(self, learning_rate=0.1, steps_per_epoch: int | None = None, initial_momentum: float = 0.5,
                 final_momentum: float = 0.7, start: int = 1, saturate: int = 250, **kwargs):
        kwargs.pop("momentum", None)
        steps_per_epoch = check_steps_per_epoch(steps_per_epoch, type(self).__name__)
        # A non-zero `momentum` makes SGD allocate the velocity slots; the value
        # itself is never used (`update_step` reads `current_momentum()`).
        super().__init__(learning_rate=learning_rate, momentum=0.5, **kwargs)
        if saturate <= start:
            raise ValueError(
                f"RampedMomentumSGD needs saturate > start (the epochs the momentum ramps between); got "
                f"start={start}, saturate={saturate}."
            )
        for name, value in (("initial_momentum", initial_momentum), ("final_momentum", final_momentum)):
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must be in [0, 1); got {value}.")
        self.steps_per_epoch = int(steps_per_epoch)
        self.initial_momentum = float(initial_momentum)
        self.final_momentum = float(final_momentum)
        self.start = int(start)
        self.saturate = int(saturate)

    def current_momentum(self):
        """The momentum used by the next update (a tensor)."""
        epoch = ops.floor_divide(ops.cast(self.iterations, "float32"), float(self.steps_per_epoch))
        progress = ops.clip((epoch + 1.0 - self.start) / float(self.saturate - self.start), 0.0, 1.0)
        return self.initial_momentum + (self.final_momentum - self.initial_momentum) * progress

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        velocity = self.momentums[compat.variable_index(self, variable)]
        momentum = ops.cast(self.current_momentum(), variable.dtype)
        self.assign(velocity, ops.subtract(ops.multiply(velocity, momentum), ops.multiply(gradient, learning_rate)))
        self.assign_add(variable, velocity)

    def get_config(self):
        config = super().get_config()
        config.pop("momentum", None)
        config.pop("nesterov", None)
        config.update(
            steps_per_epoch=self.steps_per_epoch,
            initial_momentum=self.initial_momentum,
            final_momentum=self.final_momentum,
            start=self.start,
            saturate=self.saturate,
        )
        return config


def check_steps_per_epoch(steps_per_epoch, who: str = "paper_sgd") -> int:
    """`steps_per_epoch` as an int >= 1, or a one-line error saying how to choose it."""
    how = ("pass the optimizer's updates per epoch, the batches per epoch (math.ceil(len(images) / batch_size) "
           "for fit(images, batch_size=...)), times d_steps for the discriminator's; e.g. 500 for MNIST's "
           "50000 training images at batch 100")
    if steps_per_epoch is None:
        raise ValueError(f"{who} needs steps_per_epoch (its momentum ramps once per epoch): {how}.")
    if isinstance(steps_per_epoch, bool) or not isinstance(steps_per_epoch, (int, np.integer)) or steps_per_epoch < 1:
        raise ValueError(f"{who} needs steps_per_epoch as an integer >= 1; got {steps_per_epoch!r}: {how}.")
    return int(steps_per_epoch)


def paper_sgd(steps_per_epoch: int | None = None, decay_factor: float = 1.000004) -> RampedMomentumSGD:
    """One optimizer of the GAN paper's recipe (use one per network).

    `steps_per_epoch` is required: the optimizer's updates per epoch, the
    batches per epoch (`math.ceil(len(images) / batch_size)` for
    `fit(images, batch_size=...)`: 500 for the paper's 50000 MNIST images at
    batch 100), times `d_steps` for the discriminator's optimizer when k > 1.
    It sets when the momentum ramp moves (pylearn2 ramps once per epoch); a
    default of 500 gave a run on a subset, or at another batch size, a wrong
    ramp without a word.
    """
    steps_per_epoch = check_steps_per_epoch(steps_per_epoch)
    return RampedMomentumSGD(
        InverseExponentialDecay(0.1, decay_factor, 1e-6), steps_per_epoch=steps_per_epoch,
        initial_momentum=0.5, final_momentum=0.7, start=1, saturate=250,
    )
