"""A small MNIST classifier in plain torch: the feature network of MNIST-FID / IS / KID.

Why it exists: the standard Inception-v3 features need a 92 MB weights file
that cannot be downloaded on an offline machine, and Inception features of
28x28 grey digits upscaled to 299x299 say little about digits anyway. A
classifier trained on MNIST itself gives a domain feature space in the spirit
of the "MNIST Inception score" used for MNIST generators: FID / KID / precision
and recall on its penultimate layer, IS on its class posterior p(y|x).

Numbers computed with it are *not* comparable to Inception FID / IS; every
result names the feature extractor it used.

The network (about 240k parameters, < 1 MB):

    x in [0, 1], 1x28x28, standardised by the MNIST mean/std
    conv 3x3, 32 -> batch norm -> ReLU -> max-pool 2     (32 x 14 x 14)
    conv 3x3, 64 -> batch norm -> ReLU -> max-pool 2     (64 x 7 x 7)
    conv 3x3, 128 -> batch norm -> ReLU -> max-pool 2    (128 x 3 x 3)
    dense 1152 -> 128 -> ReLU               <- "penultimate" features (FID, KID, PRC)
    dropout 0.25 (training only)
    dense 128 -> 10                         <- "logits" (IS)

In eval mode batch norm is a fixed affine map, so an image's features do not
depend on the other images of its batch.

It is trained by `evaluation/train_mnist_classifier.py` on train[0:50000], the
GAN paper's training split, so the test images stay unseen. The shipped
checkpoint's sha256 is recorded here and checked on every load: a changed file
gives different metric values, so it must not be used silently.
"""

from __future__ import annotations

import os

import torch
from torch import nn

from evaluation import checkpoints

#: The checkpoint shipped with the package.
CHECKPOINT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights", "mnist_classifier.pt")
#: sha256 of the shipped checkpoint (printed by train_mnist_classifier.py).
CHECKPOINT_SHA256 = "f73e7c4fa73896ae4de19198c5750df630a895c2918b29f0dbb68774e6935e9d"
#: Marks the checkpoint layout, so a foreign file is recognised as such.
CHECKPOINT_FORMAT = "keras_gan.evaluation.mnist_classifier/1"

FEATURE_DIM = 128
NUM_CLASSES = 10
#: Mean and std of MNIST training pixels in [0, 1] (the usual 0.1307 / 0.3081).
PIXEL_MEAN, PIXEL_STD = 0.1307, 0.3081


class ClassifierCheckpointError(checkpoints.CheckpointError):
    """The MNIST classifier checkpoint is missing, corrupt, or not the expected file."""


class MNISTClassifier(nn.Module):
    """The classifier above; `forward` returns both the features and the logits."""

    def __init__(self, dropout: float = 0.25):
        super().__init__()
        def block(channels_in: int, channels_out: int) -> list[nn.Module]:
            return [nn.Conv2d(channels_in, channels_out, 3, padding=1, bias=False), nn.BatchNorm2d(channels_out),
                    nn.ReLU(), nn.MaxPool2d(2)]

        self.body = nn.Sequential(
            *block(1, 32), *block(32, 64), *block(64, 128),
            nn.Flatten(),
            nn.Linear(128 * 3 * 3, FEATURE_DIM), nn.ReLU(),
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(FEATURE_DIM, NUM_CLASSES)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`images`: float (N, 1, 28, 28) in [0, 1]. Returns (features (N, 128), logits (N, 10))."""
        if images.dim() != 4 or tuple(images.shape[1:]) != (1, 28, 28):
            raise ValueError(f"MNISTClassifier expects images of shape (N, 1, 28, 28); got {tuple(images.shape)}.")
        features = self.body((images - PIXEL_MEAN) / PIXEL_STD)
        return features, self.head(self.dropout(features))


file_sha256 = checkpoints.file_sha256


def verify_checkpoint(path: str | None = None, expected_sha256: str | None = None) -> str:
    """Check that the checkpoint exists and has the recorded sha256; return its path.

    `path` None means the shipped checkpoint, checked against `CHECKPOINT_SHA256`.
    A user's own checkpoint (`path` given) is checked only if `expected_sha256` is.
    """
    return checkpoints.verify(
        path, expected_sha256, shipped_path=CHECKPOINT_PATH, shipped_sha256=CHECKPOINT_SHA256,
        what="MNIST classifier", retrain="python -m evaluation.train_mnist_classifier",
        sha_constant="evaluation/mnist_classifier.py (CHECKPOINT_SHA256)", error=ClassifierCheckpointError,
    )


def load_classifier(path: str | None = None, expected_sha256: str | None = None) -> MNISTClassifier:
    """The classifier from a verified checkpoint, in eval mode and without gradients.

    Loaded with `torch.load(..., weights_only=True)`: the checkpoint holds only
    tensors and plain values, so no code from the file is ever run.
    """
    path = verify_checkpoint(path, expected_sha256)
    return checkpoints.load_module(path, MNISTClassifier(), CHECKPOINT_FORMAT,
                                   "MNIST classifier (written by evaluation/train_mnist_classifier.py)",
                                   ClassifierCheckpointError)


def predict_labels(images, batch_size: int = 1000, path: str | None = None) -> "np.ndarray":
    """The classifier's digit for each image: how to check that a conditional
    generator draws the digit it was asked for.

    `images`: (N, 28, 28) or (N, 28, 28, 1), floats in [0, 1] or uint8 (as the
    MNIST loaders and the generators give them). Returns int64 labels (N,).
    """
    import numpy as np

    array = np.asarray(images)
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 3 or array.shape[1:] != (28, 28):
        raise ValueError(f"predict_labels expects MNIST images of shape (N, 28, 28[, 1]); got {np.shape(images)}.")
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    elif not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"predict_labels expects float images in [0, 1] or uint8; got dtype {array.dtype}.")
    elif array.size and (float(array.min()) < -1e-3 or float(array.max()) > 1 + 1e-3):
        raise ValueError(f"predict_labels expects pixels in [0, 1]; got [{array.min():.3g}, {array.max():.3g}]. "
                         "Map [-1, 1] images with (x + 1) / 2 first.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}.")
    model = load_classifier(path)
    labels = []
    with torch.no_grad():
        for start in range(0, len(array), batch_size):
            chunk = torch.from_numpy(np.ascontiguousarray(array[start:start + batch_size], dtype=np.float32))
            labels.append(model(chunk[:, None])[1].argmax(dim=1).numpy())
    return np.concatenate(labels) if labels else np.zeros((0,), np.int64)


def save_checkpoint(model: MNISTClassifier, path: str, **metadata) -> str:
    """Write `model` with plain-value `metadata` (loadable with weights_only=True); return the sha256."""
    return checkpoints.save_module(model, path, CHECKPOINT_FORMAT, **metadata)
