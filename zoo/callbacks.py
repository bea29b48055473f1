"""Callbacks of the zoo's training runs (imported after the Keras backend is chosen)."""

from __future__ import annotations

import os

import keras

from keras_gan.utils import save_image_grid


class RecipeGrid(keras.callbacks.Callback):
    """A PNG grid after every epoch: samples (GANs) or input|output|target rows (pix2pix).

    What goes in the grid is the recipe's `sample_grid(model, data, seed)`.
    """

    def __init__(self, recipe, data, folder: str, seed: int):
        super().__init__()
        self.recipe, self.data, self.folder, self.seed = recipe, data, folder, seed

    def on_epoch_end(self, epoch, logs=None):
        images, value_range, cols = self.recipe.sample_grid(self.model, self.data, self.seed)
        save_image_grid(os.path.join(self.folder, f"samples_epoch_{epoch + 1:03d}.png"), images,
                        cols=cols, value_range=value_range)
