"""Model selection on the validation split during zoo training.

A GAN's samples change a lot from epoch to epoch; the GAN and CGAN papers
report the best model found by monitoring a validation score. We do the same,
honestly: the checkpoint kept is the epoch with the best Parzen log-likelihood
on the first 1000 *validation* images (MNIST train[50000:60000]), sigma
re-selected each time on those same images as in the paper's protocol. The
test split is never looked at during training.

pix2pix reports its final model, and its validation L1 is not what its cGAN
term optimises (Isola et al. 2017, Table 1: L1 alone scores better on
pixel metrics). So its recipes keep the last epoch (`keep="last"`) and only
log the validation score.
"""

from __future__ import annotations

import json
import os

import keras
import numpy as np


class BestValidationExport(keras.callbacks.Callback):
    """Score the generator every `every` epochs; export the weights of the best epoch
    (`keep="best"`) or of the latest scored one (`keep="last"`).

    `score_fn(model) -> float` (higher is better); `save_fn(path)` writes the
    weights (default `model.save_weights`). The best score and epoch, and the
    exported ones, are kept in `state_path`, so an interrupted and resumed run
    keeps them.
    """

    def __init__(self, score_fn, export_path: str, state_path: str, every: int = 1,
                 metric_name: str = "val_parzen", save_fn=None, keep: str = "best"):
        super().__init__()
        if keep not in ("best", "last"):
            raise ValueError(f"keep must be 'best' or 'last'; got {keep!r}.")
        self.keep = keep
        self.score_fn = score_fn
        self.save_fn = save_fn
        self.export_path = export_path
        self.state_path = state_path
        self.every = int(every)
        self.metric_name = metric_name
        self.best = -np.inf
        self.best_epoch = None
        self.exported_epoch = self.exported_score = None
        if os.path.isfile(state_path):
            with open(state_path) as f:
                state = json.load(f)
            self.best, self.best_epoch = state["best"], state["best_epoch"]
            # files written before `keep` existed exported the best epoch
            self.exported_epoch = state.get("exported_epoch", self.best_epoch)
            self.exported_score = state.get("exported_score", self.best)

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
        improved = score > self.best
        if improved:
            self.best, self.best_epoch = score, epoch + 1
        if improved or self.keep == "last":
            os.makedirs(os.path.dirname(os.path.abspath(self.export_path)), exist_ok=True)
            tmp = self.export_path + ".tmp.weights.h5"
            try:
                (self.save_fn or self.model.save_weights)(tmp)
                os.replace(tmp, self.export_path)
            except BaseException:  # a full disk: the previous export stays, no half file beside it
                if os.path.exists(tmp):
                    os.remove(tmp)
                raise
            from keras_gan.zoo import write_sidecar

            write_sidecar(self.export_path)  # the run's record: loading by path checks it
            self.exported_epoch, self.exported_score = epoch + 1, score
        from keras_gan.utils.files import write_text_atomically  # a failed write leaves the old file

        write_text_atomically(self.state_path, json.dumps(
            {"best": self.best, "best_epoch": self.best_epoch, "last_epoch": epoch + 1, "last_score": score,
             "keep": self.keep, "exported_epoch": self.exported_epoch, "exported_score": self.exported_score}))
        print(f"\nepoch {epoch + 1}: {self.metric_name} = {score:.4g} (best {self.best:.4g} at epoch {self.best_epoch})",
              flush=True)
