"""Callbacks of `python -m zoo.train` runs (imported after the Keras backend is chosen).

The library's own callbacks are `keras_gan.callbacks`; these only serve zoo runs.
"""

from __future__ import annotations

import contextlib
import os

import keras

from keras_gan.models import generator_average, has_generator_average
from keras_gan.utils import save_image_grid


class RecipeGrid(keras.callbacks.Callback):
    """A PNG grid after every epoch: samples (GANs) or input|output|target rows (pix2pix).

    What goes in the grid is the recipe's `sample_grid(model, data, seed)`,
    drawn from the generator's weight average when the model keeps one (the
    weights that run exports).
    """

    def __init__(self, recipe, data, folder: str, seed: int):
        super().__init__()
        self.recipe, self.data, self.folder, self.seed = recipe, data, folder, seed

    def on_epoch_end(self, epoch, logs=None):
        with exported_weights(self.model):
            images, value_range, cols = self.recipe.sample_grid(self.model, self.data, self.seed)
        save_image_grid(os.path.join(self.folder, f"samples_epoch_{epoch + 1:03d}.png"), images,
                        cols=cols, value_range=value_range)


def exported_weights(model):
    """The weights a zoo run scores and exports: the generator's average if it keeps one."""
    return generator_average(model) if has_generator_average(model) else contextlib.nullcontext(model)
