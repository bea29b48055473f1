"""An exponential moving average (EMA) of the generator's weights.

Why: late in a GAN run the SGD iterates circle around a good generator
instead of settling on it, and their average is a better generator than any
single iterate (Yazici et al. 2019, "The Unusual Effectiveness of Averaging in
GAN Training"). Measured on the zoo's gan-mnist (its card has the full
runs): from epoch 1150 on, the raw iterates' validation Parzen stays at about
211 nats (216.5 on test at best). Continuing from epoch 1165, the average with
momentum 0.99995 (a horizon of about 40 epochs) reached 220.8 on validation
and 225.3 on test, the paper's number; momentum 0.9999 reached 220.3 and
0.999 about 215.5. None of the three papers averages weights, so the zoo names
it as a deviation wherever it is used.

Keras optimizers already keep such an average when built with `use_ema=True`
(`ema_momentum`), inside the jit-compiled step and on every backend, and it is
saved and restored with the optimizer's state (`BackupAndRestore`). What Keras
does not do for a GAN is use it: `fit` only copies the average into the model
for a single `model.optimizer`, which an `AdversarialModel` does not have. So
the average lives in `g_optimizer`, training always continues from the raw
iterates, and `generator_average(model)` lends the averaged weights to the
generator for as long as they are needed (sampling, scoring, exporting).
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import keras
from keras_gan import compat


def _inner(optimizer):
    """The optimizer that holds the slots (a `LossScaleOptimizer` wraps another)."""
    return optimizer.inner_optimizer if isinstance(optimizer, keras.optimizers.LossScaleOptimizer) else optimizer


def _generator_optimizer(model):
    optimizer = getattr(model, "g_optimizer", None)
    if optimizer is None:
        raise ValueError(
            f"{type(model).__name__} has no generator optimizer: compile it with "
            "`compile(d_optimizer=..., g_optimizer=...)` first."
        )
    return _inner(optimizer)


def has_generator_average(model) -> bool:
    """Whether `model`'s generator optimizer keeps a moving average of the generator."""
    optimizer = getattr(model, "g_optimizer", None)
    return optimizer is not None and bool(_inner(optimizer).use_ema)


def with_generator_average(model, momentum: float = 0.9999) -> None:
    """Recompile `model` so that its generator optimizer also keeps an EMA of the generator.

    Everything else of the compiled state stays: the discriminator's optimizer
    (the same object), and the generator's optimizer settings (rebuilt from its
    config with `use_ema=True, ema_momentum=momentum`). Call it after `compile`
    and before the first `fit`: an optimizer that has already taken steps would
    lose its slots.

    Args:
        momentum: weight of the old average at each update, in (0, 1); the
            average spans about `1 / (1 - momentum)` updates (0.9999: 10,000
            updates, 20 MNIST epochs at batch 100).
    """
    if not 0.0 < float(momentum) < 1.0:
        raise ValueError(f"The generator average's momentum must be in (0, 1); got {momentum}.")
    g_optimizer = _generator_optimizer(model)
    if g_optimizer.built:
        raise ValueError(
            "The generator optimizer is already built (it has taken steps or restored a state); "
            "call `with_generator_average` right after `compile`, before `fit`."
        )
    config = g_optimizer.get_config()
    config.update(use_ema=True, ema_momentum=float(momentum))
    compile_config = dict(model.get_compile_config() or {})
    compile_config.pop("d_optimizer", None)
    compile_config.pop("g_optimizer", None)
    model.compile(d_optimizer=model.d_optimizer, g_optimizer=type(g_optimizer).from_config(config),
                  **compile_config)


def _averages(model) -> tuple[list, list]:
    optimizer = _generator_optimizer(model)
    if not optimizer.use_ema:
        raise ValueError(
            "This model's generator optimizer keeps no weight average; call "
            "`keras_gan.models.with_generator_average(model)` after `compile`, or build the "
            "optimizer with `use_ema=True`."
        )
    if not optimizer.built:
        model.optimizer.build()
    variables = model.generator.trainable_variables
    # Keras has no public accessor for the averages; this is the list its own
    # `finalize_variable_values` reads (keras 3.x base_optimizer).
    averages = compat.weight_averages(optimizer)
    if len(averages) != len(variables):
        raise ValueError(
            f"The generator has {len(variables)} trainable variables but its optimizer averages "
            f"{len(averages)}; was the optimizer built on another network?"
        )
    return variables, averages


def reset_generator_average(model) -> None:
    """Start the average at the generator's current weights.

    Keras starts the average at the first update only when the optimizer's
    `iterations` is 0. A run that continues exported weights sets `iterations`
    to where the schedules left off, so without this the average would start
    from zeros and take thousands of updates to forget them.
    """
    variables, averages = _averages(model)
    for variable, average in zip(variables, averages):
        # A copy: on JAX, one buffer in two variables is donated twice by the next step.
        average.assign(keras.ops.convert_to_numpy(variable))


@contextlib.contextmanager
def generator_average(model) -> Iterator:
    """Lend the averaged weights to `model.generator` inside the `with` block.

        with generator_average(model):
            samples = model.generate(100)

    The raw weights come back on exit, also after an error, so training goes
    on from the iterates, not from the average.
    """
    variables, averages = _averages(model)
    raw = [keras.ops.convert_to_numpy(v) for v in variables]
    try:
        for variable, average in zip(variables, averages):
            variable.assign(keras.ops.convert_to_numpy(average))
        yield model
    finally:
        for variable, value in zip(variables, raw):
            variable.assign(value)
