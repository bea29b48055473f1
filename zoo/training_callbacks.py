"""Callbacks of `python -m zoo.train` runs (imported after the Keras backend is chosen).

The library's own callbacks are `keras_gan.callbacks`; these only serve zoo runs.
"""

from __future__ import annotations

import contextlib
import os

import keras

from keras_gan.distributed import process_local_view
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


class ProcessLocal(keras.callbacks.Callback):
    """Run `callback`'s end-of-epoch and end-of-training work on this process's copy of the model.

    In a multi-process JAX job a computation on the replicated model is a
    program all processes must run together; process 0 scoring, sampling or
    exporting alone would wait for the others forever. Inside
    `keras_gan.distributed.process_local_view` it computes on its own copy.
    `on_train_begin` stays outside: a resume assigns the restored state on every
    process. Elsewhere the view does nothing, so wrapping is always safe.
    """

    def __init__(self, callback: keras.callbacks.Callback):
        super().__init__()
        self.callback = callback

    def set_model(self, model):
        super().set_model(model)
        self.callback.set_model(model)

    def set_params(self, params):
        super().set_params(params)
        self.callback.set_params(params)

    def on_train_begin(self, logs=None):
        self.callback.on_train_begin(logs)

    def on_epoch_begin(self, epoch, logs=None):
        self.callback.on_epoch_begin(epoch, logs)

    # Step hooks (ResumableBackup's backups inside an epoch) run on the replicated model: a backup
    # takes its own process-local view for the write (keras_gan.resumable).
    def on_train_batch_begin(self, batch, logs=None):
        self.callback.on_train_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.callback.on_train_batch_end(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        with process_local_view(self.model):
            self.callback.on_epoch_end(epoch, logs)

    def on_train_end(self, logs=None):
        with process_local_view(self.model):
            self.callback.on_train_end(logs)
