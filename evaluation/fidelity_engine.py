"""The torch-fidelity side of `evaluation.fidelity`: datasets, the MNIST extractor, the call.

Importing this module imports torch-fidelity (and so torchvision and triton).
In a process that has already imported TensorFlow that aborts the interpreter
("LLVM ERROR: inconsistency in registered CommandLine options"), so
`evaluation.fidelity` imports this module only in a process without
TensorFlow, and otherwise runs it in a fresh interpreter that imports
torch-fidelity first (`evaluation.fidelity_worker`; the reverse order is safe).

Samples always reach torch-fidelity as a `Dataset` of uint8 3xHxW tensors,
never as a generator model: torch-fidelity 0.4.0's generator path breaks on
conditional generators (`np.int` with `num_classes > 0`), and a Keras model
generates on any backend anyway.
"""

from __future__ import annotations

import numpy as np
import torch
import torch_fidelity
from torch.utils.data import Dataset
from torch_fidelity.feature_extractor_base import FeatureExtractorBase
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

from evaluation.facade_segmenter import load_segmenter
from evaluation.inception_weights import InceptionWeightsError
from evaluation.mnist_classifier import load_classifier

MNIST_EXTRACTOR = "mnist-classifier"
INCEPTION_EXTRACTOR = "inception-v3-compat"
SEGMENTER_EXTRACTOR = "facade-segmenter"
#: images per forward pass: the small classifier takes many, Inception at 299x299 few.
DEFAULT_BATCH_SIZE = {MNIST_EXTRACTOR: 500, INCEPTION_EXTRACTOR: 64, SEGMENTER_EXTRACTOR: 10}
#: rows of the distance matrix per block in precision/recall (bounds its memory).
PRC_BATCH_SIZE = 1000
#: torch-fidelity's result keys -> ours.
_KEYS = {
    torch_fidelity.KEY_METRIC_FID: "fid",
    torch_fidelity.KEY_METRIC_ISC_MEAN: "isc_mean",
    torch_fidelity.KEY_METRIC_ISC_STD: "isc_std",
    torch_fidelity.KEY_METRIC_KID_MEAN: "kid_mean",
    torch_fidelity.KEY_METRIC_KID_STD: "kid_std",
    torch_fidelity.KEY_METRIC_PRECISION: "precision",
    torch_fidelity.KEY_METRIC_RECALL: "recall",
    torch_fidelity.KEY_METRIC_F_SCORE: "f_score",
}


class ImageDataset(Dataset):
    """uint8 images served as torch-fidelity expects: uint8 3xHxW tensors. Grey images
    (N, H, W) have their channel repeated three times (how RGB feature extractors see
    grey images); RGB images (N, H, W, 3) are moved to channels-first."""

    def __init__(self, images: np.ndarray):
        rgb = images.ndim == 4 and images.shape[-1] == 3
        if images.dtype != np.uint8 or not (images.ndim == 3 or rgb):
            raise ValueError(f"ImageDataset expects uint8 images (N, H, W) or (N, H, W, 3); "
                             f"got {images.dtype} {images.shape}.")
        self.rgb = rgb
        self.images = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2) if rgb else images))

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.images[index] if self.rgb else self.images[index].unsqueeze(0).expand(3, -1, -1)


class MNISTClassifierExtractor(FeatureExtractorBase):
    """torch-fidelity feature extractor on `evaluation.mnist_classifier`.

    Features: "penultimate" (128-d, for FID, KID, precision/recall) and
    "logits" (10 classes; their softmax is the p(y|x) of the Inception Score).
    """

    def __init__(self, name, features_list, feature_extractor_weights_path=None, **kwargs):
        super().__init__(name, features_list)
        self.classifier = load_classifier(feature_extractor_weights_path)

    def forward(self, images: torch.Tensor):
        if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"Expected uint8 images (N, 3, H, W); got {images.dtype} {tuple(images.shape)}.")
        grey = images.to(torch.float32).mean(dim=1, keepdim=True) / 255.0
        features, logits = self.classifier(grey)
        named = {"penultimate": features, "logits": logits}
        return tuple(named[name] for name in self.features_list)

    @staticmethod
    def get_provided_features_list():
        return "penultimate", "logits"

    @staticmethod
    def get_default_feature_layer_for_metric(metric):
        return {"isc": "logits", "fid": "penultimate", "kid": "penultimate", "prc": "penultimate"}[metric]

    @staticmethod
    def can_be_compiled():
        return False

    @staticmethod
    def get_dummy_input_for_compile():
        return torch.zeros((1, 3, 28, 28), dtype=torch.uint8)


class FacadeSegmenterExtractor(FeatureExtractorBase):
    """torch-fidelity feature extractor on `evaluation.facade_segmenter`: facades-FID / KID.

    Feature "pooled": the segmenter's 8x8 bottleneck averaged over space
    (256-d), a feature space learned from real facade photos only. It has no
    image-level class posterior, so it provides no Inception Score.
    """

    def __init__(self, name, features_list, feature_extractor_weights_path=None, **kwargs):
        super().__init__(name, features_list)
        self.segmenter = load_segmenter(feature_extractor_weights_path)

    def forward(self, images: torch.Tensor):
        if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"Expected uint8 images (N, 3, H, W); got {images.dtype} {tuple(images.shape)}.")
        features, _ = self.segmenter(images.to(torch.float32) / 127.5 - 1.0)
        return (features,)

    @staticmethod
    def get_provided_features_list():
        return ("pooled",)

    @staticmethod
    def get_default_feature_layer_for_metric(metric):
        if metric == "isc":
            raise ValueError("The facade segmenter has no class posterior per image: no Inception Score "
                             "with it (use fid and kid).")
        return "pooled"

    @staticmethod
    def can_be_compiled():
        return False

    @staticmethod
    def get_dummy_input_for_compile():
        return torch.zeros((1, 3, 256, 256), dtype=torch.uint8)


def register_extractors() -> None:
    """Register "mnist-classifier" and "facade-segmenter" with torch-fidelity (once per process)."""
    for name, extractor in ((MNIST_EXTRACTOR, MNISTClassifierExtractor),
                            (SEGMENTER_EXTRACTOR, FacadeSegmenterExtractor)):
        if name not in FEATURE_EXTRACTORS_REGISTRY:
            torch_fidelity.register_feature_extractor(name, extractor)


def check_inception_weights(path: str) -> None:
    """Fail clearly on a file that is not an Inception state dict.

    torch-fidelity loads the file with `weights_only=False`; loading it here
    first with `weights_only=True` guarantees it holds only tensors, so that
    second load runs no code from the file.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise InceptionWeightsError(f"Cannot read {path} as a torch state dict of Inception-v3 weights: {e}") from e
    if not isinstance(state, dict) or "Conv2d_1a_3x3.conv.weight" not in state:
        raise InceptionWeightsError(
            f"{path} is not torch-fidelity's Inception-v3 state dict (no 'Conv2d_1a_3x3.conv.weight'); "
            "pass the weights-inception-2015-12-05-6726825d.pth file."
        )


def compute_with_torch_fidelity(
    samples: np.ndarray,
    reference: np.ndarray | None,
    *,
    metrics: list[str],
    feature_extractor: str,
    weights_path: str | None,
    reference_cache_name: str | None,
    cache_root: str,
    use_cache: bool,
    batch_size: int | None,
    kid_subset_size: int,
    seed: int,
    verbose: bool,
) -> dict[str, float]:
    """Run `torch_fidelity.calculate_metrics` on uint8 grey or RGB images; return our metric keys.

    `reference` (None when only IS is asked for) is torch-fidelity's input2;
    with `reference_cache_name` its features and FID statistics are cached
    under `cache_root` and computed only once.
    """
    register_extractors()
    if feature_extractor == INCEPTION_EXTRACTOR:
        check_inception_weights(weights_path)
    options = dict(
        input1=ImageDataset(samples),
        feature_extractor=feature_extractor,
        feature_extractor_weights_path=weights_path,
        batch_size=batch_size or DEFAULT_BATCH_SIZE[feature_extractor],
        cuda=torch.cuda.is_available(),
        rng_seed=seed,
        kid_subset_size=kid_subset_size,
        prc_batch_size=PRC_BATCH_SIZE,
        # The images are in memory already: no DataLoader worker processes
        # (they would only add start-up time), and precision/recall in blocks.
        save_cpu_ram=True,
        cache=use_cache,
        cache_root=cache_root,
        verbose=verbose,
        **{metric: metric in metrics for metric in ("isc", "fid", "kid", "prc")},
    )
    if reference is not None:
        options.update(input2=ImageDataset(reference), input2_cache_name=reference_cache_name)
    raw = torch_fidelity.calculate_metrics(**options)
    return {_KEYS[key]: float(value) for key, value in raw.items() if key in _KEYS}
