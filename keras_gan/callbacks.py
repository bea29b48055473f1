"""Callbacks: what a GAN is learning while it trains, and resumable runs."""

from __future__ import annotations

import os

import keras

from keras_gan.datasets.shuffled import DataEpoch  # noqa: F401 - public here
from keras_gan.resumable import (  # noqa: F401 - public here
    BackupError,
    ResumableBackup,
    TrainingStopped,
    WriteFailed,
    backup_states,
    restorable_state,
)
from keras_gan.signals import stop_on_signals  # noqa: F401 - public here
from keras_gan.utils.images import save_image_grid


def generate_samples(model, num_samples: int, seed: int):
    """`num_samples` samples of `model`; a conditional model (one with
    `num_classes`) gets its labels split evenly over the classes, in class
    order, as the CGAN paper evaluates (with 100 samples and 10 classes: one
    grid row per class)."""
    num_classes = getattr(model, "num_classes", None)
    if num_classes:
        from keras_gan.metrics import class_labels  # the split the evaluation itself uses

        return model.generate(class_labels(num_samples, int(num_classes)), seed=seed)
    return model.generate(num_samples, seed=seed)


class SampleGrid(keras.callbacks.Callback):
    """Write a PNG grid of generator samples at the end of every epoch.

    The latents are drawn once from `seed`, so the grids of successive epochs
    show the same z and the progress of the generator on it. `value_range`
    (the samples' range, mapped to black..white) defaults to the range of the
    generator's last activation. For a conditional
    model (one with `num_classes`) the samples are split evenly over the
    classes, in class order (with 100 samples and 10 classes: one row a class).
    """

    def __init__(self, folder: str, num_samples: int = 100, seed: int = 0,
                 value_range: tuple | None = None, filename: str = "samples_epoch_{epoch:03d}.png"):
        super().__init__()
        self.folder = folder
        self.num_samples = int(num_samples)
        self.seed = int(seed)
        self.value_range = value_range
        self.filename = filename
        self.paths: list[str] = []

    def on_epoch_end(self, epoch, logs=None):
        samples = generate_samples(self.model, self.num_samples, self.seed)
        path = os.path.join(self.folder, self.filename.format(epoch=epoch + 1))
        self.paths.append(save_image_grid(path, samples, value_range=self._value_range(samples)))

    def _value_range(self, samples) -> tuple:
        """The given range; else the one G's last activation implies (tanh: (-1, 1), sigmoid:
        (0, 1)); else (-1, 1) if any sample is negative, (0, 1) otherwise. Why: a tanh generator
        drawn as if in [0, 1] would have its lower half clipped to black."""
        if self.value_range is not None:
            return tuple(self.value_range)
        from keras_gan.models.gan import generator_range

        implied = generator_range(self.model.generator)
        if implied is not None:
            return implied
        return (-1.0, 1.0) if float(samples.min()) < 0 else (0.0, 1.0)


class ParzenMonitor(keras.callbacks.Callback):
    """Log the Parzen log-likelihood of validation images under the generator during `fit`.

    The GAN paper's estimator (Goodfellow et al. 2014, section 5): Gaussian
    kernels on `num_samples` generator samples, sigma picked from the paper's
    grid by the mean log-likelihood of `validation` itself (the protocol's
    cross-validation step), so the logged number is the validation score the
    zoo uses for model selection, not a test-set result.

    The value is added to the epoch logs as `name` (so History, CSVLogger,
    ModelCheckpoint(monitor=name, mode="max") and EarlyStopping see it). With
    `every > 1` the epochs in between repeat the last score (NaN before the
    first), keeping the logged columns the same every epoch.

    Args:
        validation: images in the generator's range, e.g.
            `keras_gan.datasets.mnist("validation", limit=1000).images`.
        num_samples: generator samples for the kernels (10,000 in the paper).
        every: score every `every` epochs.
        seed: latent seed, so successive scores see the same z.
    """

    def __init__(self, validation, num_samples: int = 10000, every: int = 1, seed: int = 0,
                 sigmas=None, name: str = "parzen_val"):
        super().__init__()
        import numpy as np

        self.validation = np.asarray(validation, dtype="float32")
        if self.validation.ndim < 2 or len(self.validation) == 0:
            raise ValueError(
                f"ParzenMonitor needs a non-empty batch of validation images; got shape {self.validation.shape}."
            )
        if int(num_samples) < 1 or int(every) < 1:
            raise ValueError(f"num_samples and every must be >= 1; got {num_samples} and {every}.")
        self.num_samples = int(num_samples)
        self.every = int(every)
        self.seed = int(seed)
        self.sigmas = sigmas
        self.name = name
        self.last = float("nan")
        self.history: list[tuple[int, float, float]] = []  # (epoch, sigma, score)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            from keras_gan.metrics.parzen import SIGMA_GRID, select_sigma

            samples = generate_samples(self.model, self.num_samples, self.seed)
            flat = samples.reshape(len(samples), -1)
            sigma, means = select_sigma(flat, self.validation.reshape(len(self.validation), -1),
                                        SIGMA_GRID if self.sigmas is None else self.sigmas)
            self.last = means[sigma]
            self.history.append((epoch + 1, sigma, self.last))
        if logs is not None:
            logs[self.name] = self.last
