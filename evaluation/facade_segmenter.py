"""A facade segmenter in plain torch: the FCN of pix2pix's "FCN-score" on facades.

Why it exists: pix2pix (Isola et al. 2017, section 4.2) scores a labels ->
photo model by running a semantic segmenter trained on *real* photos over the
*synthesized* photos and comparing its prediction with the label map each
photo was synthesized from ("if the generated images are realistic,
classifiers trained on real images will be able to classify the synthesized
image correctly as well"). The paper uses FCN-8s on Cityscapes; no such
network exists for the CMP facades, and ImageNet weights cannot be had here,
so this one is trained from scratch on the 300 real photos of our train split
(`evaluation/train_facade_segmenter.py`), selected on the 28 val photos; the
50 test photos stay unseen. Its score on the real test photos is the
reference row in the place of the paper's "ground truth" row; on facades it
is not a ceiling (the zoo's models score above it: their photos render each
label region as its class's typical texture, which real facades do not).

The network (a small U-Net, about 1.9 M parameters, 7.5 MB):

    photo in [-1, 1], 3 x 256 x 256 -> 2x2 average pool (the net works at 128 x 128)
    encoder: [conv 3x3 -> BN -> ReLU] x 2 at widths 16, 32, 64, 128, 256, max-pool 2 between
             (128, 64, 32, 16, 8 pixels)
    decoder: bilinear x2 -> concat the encoder's map -> [conv 3x3 -> BN -> ReLU] x 2, back to 128
    head:    conv 1x1 -> 12 class logits, bilinear x2 to the input's size
    features: the 8 x 8 bottleneck averaged over space (256-d): the feature space of
              facades-FID / KID (`evaluation.fidelity_engine`, extractor "facade-segmenter")

In eval mode batch norm is a fixed affine map, so an image's prediction does
not depend on the other images of its batch. Input sizes must be multiples of
32 (256 for facades).

The shipped checkpoint's sha256 is recorded here and checked on every load.
"""

from __future__ import annotations

import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from evaluation import checkpoints

#: The checkpoint shipped with the package.
CHECKPOINT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights", "facade_segmenter.pt")
#: sha256 of the shipped checkpoint (printed by train_facade_segmenter.py).
CHECKPOINT_SHA256 = "893d836fcb2733304a5e2f3ae86212a8871b93c09bbb161cc0c7aec4d5cf80ff"
CHECKPOINT_FORMAT = "keras_gan.evaluation.facade_segmenter/1"
NUM_CLASSES = 12
WIDTHS = (16, 32, 64, 128, 256)
FEATURE_DIM = WIDTHS[-1]
#: the input side must be a multiple of this (2x2 pool, then four 2x max-pools).
SIZE_MULTIPLE = 32


file_sha256 = checkpoints.file_sha256


class SegmenterCheckpointError(checkpoints.CheckpointError):
    """The facade segmenter checkpoint is missing, corrupt, or not the expected file."""


def _double_conv(channels_in: int, channels_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(channels_in, channels_out, 3, padding=1, bias=False), nn.BatchNorm2d(channels_out), nn.ReLU(),
        nn.Conv2d(channels_out, channels_out, 3, padding=1, bias=False), nn.BatchNorm2d(channels_out), nn.ReLU(),
    )


class FacadeSegmenter(nn.Module):
    """The U-Net above; `forward` returns (features (N, 256), logits (N, 12, H, W))."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.ModuleList(
            _double_conv(c_in, c_out) for c_in, c_out in zip((3,) + WIDTHS[:-1], WIDTHS)
        )
        self.decoder = nn.ModuleList(
            _double_conv(WIDTHS[i + 1] + WIDTHS[i], WIDTHS[i]) for i in reversed(range(len(WIDTHS) - 1))
        )
        self.head = nn.Conv2d(WIDTHS[0], NUM_CLASSES, 1)

    def forward(self, photos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`photos`: float (N, 3, H, W) in [-1, 1], H and W multiples of 32."""
        if photos.dim() != 4 or photos.shape[1] != 3:
            raise ValueError(f"FacadeSegmenter expects photos (N, 3, H, W); got {tuple(photos.shape)}.")
        if photos.shape[2] % SIZE_MULTIPLE or photos.shape[3] % SIZE_MULTIPLE:
            raise ValueError(f"FacadeSegmenter needs sides that are multiples of {SIZE_MULTIPLE}; "
                             f"got {tuple(photos.shape[2:])}. Resize to 256 x 256.")
        h = F.avg_pool2d(photos, 2)
        skips = []
        for i, block in enumerate(self.encoder):
            if i:
                h = F.max_pool2d(h, 2)
            h = block(h)
            skips.append(h)
        features = h.mean(dim=(2, 3))
        for block, skip in zip(self.decoder, reversed(skips[:-1])):
            h = F.interpolate(h, size=skip.shape[2:], mode="bilinear", align_corners=False)
            h = block(torch.cat([h, skip], dim=1))
        logits = F.interpolate(self.head(h), size=photos.shape[2:], mode="bilinear", align_corners=False)
        return features, logits


def verify_checkpoint(path: str | None = None, expected_sha256: str | None = None) -> str:
    """Check that the checkpoint exists (and has the recorded sha256); return its path."""
    return checkpoints.verify(
        path, expected_sha256, shipped_path=CHECKPOINT_PATH, shipped_sha256=CHECKPOINT_SHA256,
        what="facade segmenter", retrain="python -m evaluation.train_facade_segmenter",
        sha_constant="evaluation/facade_segmenter.py (CHECKPOINT_SHA256)", error=SegmenterCheckpointError,
    )


def load_segmenter(path: str | None = None, expected_sha256: str | None = None) -> FacadeSegmenter:
    """The segmenter from a verified checkpoint, in eval mode and without gradients."""
    path = verify_checkpoint(path, expected_sha256)
    return checkpoints.load_module(path, FacadeSegmenter(), CHECKPOINT_FORMAT, "facade segmenter",
                                   SegmenterCheckpointError)


def photos_to_tensor(photos) -> torch.Tensor:
    """(N, H, W, 3) photos, float in [-1, 1] or uint8, -> float32 (N, 3, H, W) in [-1, 1], checked."""
    array = np.asarray(photos)
    if array.ndim != 4 or array.shape[-1] != 3:
        raise ValueError(f"photos must be RGB images (N, H, W, 3); got shape {array.shape}.")
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 127.5 - 1.0
    elif not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"photos must be uint8 or float in [-1, 1]; got dtype {array.dtype}.")
    elif array.size and (not np.all(np.isfinite(array)) or array.min() < -1 - 1e-3 or array.max() > 1 + 1e-3):
        raise ValueError(f"float photos must be finite values in [-1, 1]; got [{np.nanmin(array):.3g}, "
                         f"{np.nanmax(array):.3g}]. Map [0, 1] images with 2 * x - 1.")
    return torch.from_numpy(np.ascontiguousarray(array.transpose(0, 3, 1, 2), dtype=np.float32))


@torch.no_grad()
def segment(photos, model: FacadeSegmenter | None = None, batch_size: int = 8) -> np.ndarray:
    """Predicted class (N, H, W) int64 of each pixel of (N, H, W, 3) photos in [-1, 1] (or uint8)."""
    model = load_segmenter() if model is None else model
    tensor = photos_to_tensor(photos)
    out = [model(tensor[i : i + batch_size])[1].argmax(dim=1).numpy() for i in range(0, len(tensor), batch_size)]
    return np.concatenate(out) if out else np.zeros((0,) + tuple(tensor.shape[2:]), np.int64)


def save_checkpoint(model: FacadeSegmenter, path: str, **metadata) -> str:
    """Write `model` with plain-value `metadata`; return the file's sha256."""
    return checkpoints.save_module(model, path, CHECKPOINT_FORMAT, **metadata)
