"""Model selection on the validation split during zoo training.

A GAN's samples change a lot from epoch to epoch; the papers report the best
model found by monitoring a validation score. We do the same, honestly: the
checkpoint kept is the epoch with the best Parzen log-likelihood on the first
1000 *validation* images (MNIST train[50000:60000]), sigma re-selected each
time on those same images as in the paper's protocol. The test split is never
looked at during training.
"""

from __future__ import annotations

import json
import os

import keras
import numpy as np


class BestValidationExport(keras.callbacks.Callback):
    """Score the generator every `every` epochs; export the weights of the best epoch.

    `score_fn(model) -> float` (higher is better); `save_fn(path)` writes the
    weights (default `model.save_weights`). The best score and epoch are
    kept in `state_path`, so an interrupted and resumed run keeps its best.
    """

    def __init__(self, score_fn, export_path: str, state_path: str, every: int = 1,
                 metric_name: str = "val_parzen", save_fn=None):
        super().__init__()
        self.score_fn = score_fn
        self.save_fn = save_fn
        self.export_path = export_path
        self.state_path = state_path
        self.every = int(every)
        self.metric_name = metric_name
        self.best = -np.inf
        self.best_epoch = None
        if os.path.isfile(state_path):
            with open(state_path) as f:
                state = json.load(f)
            self.best, self.best_epoch = state["best"], state["best_epoch"]

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        score = float(self.score_fn(self.model))
        # Kept out of `logs`: a metric that appears only every `every` epochs
        # would break CSVLogger's fixed columns. It gets its own CSV instead.
        scores_csv = os.path.join(os.path.dirname(os.path.abspath(self.state_path)), f"{self.metric_name}.csv")
        new_file = not os.path.isfile(scores_csv)
        with open(scores_csv, "a") as f:
            f.write(("epoch,score\n" if new_file else "") + f"{epoch + 1},{score:.4f}\n")
        if score > self.best:
            self.best, self.best_epoch = score, epoch + 1
            os.makedirs(os.path.dirname(os.path.abspath(self.export_path)), exist_ok=True)
            tmp = self.export_path + ".tmp.weights.h5"
            (self.save_fn or self.model.save_weights)(tmp)
            os.replace(tmp, self.export_path)
        with open(self.state_path, "w") as f:
            json.dump({"best": self.best, "best_epoch": self.best_epoch, "last_epoch": epoch + 1,
                       "last_score": score}, f)
        print(f"\nepoch {epoch + 1}: {self.metric_name} = {score:.2f} (best {self.best:.2f} at epoch {self.best_epoch})",
              flush=True)
