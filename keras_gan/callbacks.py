"""Callbacks that show what a GAN is learning while it trains."""

from __future__ import annotations

import os

import keras

from keras_gan.utils.images import save_image_grid


class SampleGrid(keras.callbacks.Callback):
    """Write a PNG grid of generator samples at the end of every epoch.

    The latents are drawn once from `seed`, so the grids of successive epochs
    show the same z and the progress of the generator on it.
    """

    def __init__(self, folder: str, num_samples: int = 100, seed: int = 0,
                 value_range: tuple = (0.0, 1.0), filename: str = "samples_epoch_{epoch:03d}.png"):
        super().__init__()
        self.folder = folder
        self.num_samples = int(num_samples)
        self.seed = int(seed)
        self.value_range = value_range
        self.filename = filename
        self.paths: list[str] = []

    def on_epoch_end(self, epoch, logs=None):
        samples = self.model.generate(self.num_samples, seed=self.seed)
        path = os.path.join(self.folder, self.filename.format(epoch=epoch + 1))
        self.paths.append(save_image_grid(path, samples, value_range=self.value_range))
