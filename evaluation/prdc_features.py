"""Features for precision / recall / density / coverage (`evaluation.prdc`): one function per extractor.

The k-NN metrics are only as meaningful as the space they measure distances
in. Pixels of MNIST digits are a poor one (a digit shifted by one pixel is
far from itself), so the project's own offline networks give the features:

- `mnist_features`: the MNIST classifier's 128-d penultimate layer
  (`evaluation.mnist_classifier`, the same features as MNIST-FID / KID);
- `segmenter_features`: the facade segmenter's 256-d bottleneck averaged over
  space (`evaluation.facade_segmenter`, the same as facades-FID / KID);
- `torch_fidelity_features`: a torch-fidelity extractor's features, for
  `inception-v3-compat` (2048-d pool3) when its weights file is present. It
  is never downloaded here; `inception_weights_path` says clearly when it is
  missing. Run in a fresh interpreter when TensorFlow is loaded (importing
  torch-fidelity after TensorFlow aborts the process; see evaluation/fidelity.py).

Images are quantised to 8 bits first, as `evaluation.fidelity` does, so the
features of a model's samples are those of the PNGs it would save.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

INCEPTION = "inception-v3-compat"
INCEPTION_FEATURE = "2048"
_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_BOOT = (
    "import torch_fidelity  # first: before anything that may import tensorflow\n"
    "import sys\n"
    "from evaluation.prdc_features import _worker_main\n"
    "sys.exit(_worker_main(sys.argv[1]))\n"
)


def unit_to_uint8(images: np.ndarray) -> np.ndarray:
    """Float images in [0, 1] -> uint8, rounding to the nearest 8-bit level (as a saved PNG)."""
    return np.round(np.clip(np.asarray(images, dtype=np.float32), 0.0, 1.0) * 255.0).astype(np.uint8)


def mnist_features(images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """(N, 128) float32 penultimate features of the MNIST classifier for (N, 28, 28[, 1]) images
    in [0, 1] (float, quantised to 8 bits first) or uint8."""
    import torch

    from evaluation.mnist_classifier import load_classifier

    array = np.asarray(images)
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 3 or array.shape[1:] != (28, 28):
        raise ValueError(f"MNIST features need images of shape (N, 28, 28[, 1]); got {np.shape(images)}.")
    if array.dtype != np.uint8:
        array = unit_to_uint8(array)
    model = load_classifier()
    out = []
    with torch.no_grad():
        for start in range(0, len(array), batch_size):
            chunk = torch.from_numpy(array[start:start + batch_size].astype(np.float32) / 255.0)[:, None]
            out.append(model(chunk)[0].numpy())
    return np.concatenate(out) if out else np.zeros((0, 128), np.float32)


def segmenter_features(photos_uint8: np.ndarray, batch_size: int = 10) -> np.ndarray:
    """(N, 256) float32 pooled bottleneck features of the facade segmenter for uint8 (N, H, W, 3) photos."""
    import torch

    from evaluation.facade_segmenter import load_segmenter, photos_to_tensor

    if np.asarray(photos_uint8).dtype != np.uint8:
        raise ValueError("segmenter_features takes uint8 photos; map [-1, 1] floats with "
                         "evaluation.fcn_score.to_uint8 first.")
    model = load_segmenter()
    tensor = photos_to_tensor(photos_uint8)
    with torch.no_grad():
        out = [model(tensor[i:i + batch_size])[0].numpy() for i in range(0, len(tensor), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, 256), np.float32)


def inception_weights_path(path: str | None) -> str:
    """The Inception-v3 weights file (`path`, or torch hub's cache), never downloaded.

    Raises InceptionWeightsError (a FileNotFoundError: exit 2 on the command
    line) naming the file, its URL and `--inception-weights` when it is absent.
    """
    from evaluation.inception_weights import resolve_inception_weights

    return resolve_inception_weights(path, allow_download=False, progress=False)


def torch_fidelity_features(images_uint8: np.ndarray, extractor: str, feature: str,
                            weights_path: str | None = None, batch_size: int = 64) -> np.ndarray:
    """(N, d) features of uint8 images ((N, H, W) grey or (N, H, W, 3)) by torch-fidelity's `extractor`.

    `extractor` is a torch-fidelity name (`inception-v3-compat` with its
    `weights_path`) or one this project registers (`mnist-classifier`,
    `facade-segmenter`). Runs in a fresh interpreter when TensorFlow is loaded.
    """
    request = {"extractor": extractor, "feature": feature, "weights_path": weights_path, "batch_size": batch_size}
    if "tensorflow" not in sys.modules or "torchvision" in sys.modules:
        import torch_fidelity  # noqa: F401  (before anything that may import tensorflow)

        return _extract(np.asarray(images_uint8), **request)
    with tempfile.TemporaryDirectory(prefix="keras_gan_features_") as folder:
        np.save(os.path.join(folder, "images.npy"), np.asarray(images_uint8))
        with open(os.path.join(folder, "request.json"), "w") as f:
            json.dump(request, f)
        python_path = os.environ.get("PYTHONPATH")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([_PACKAGE_PARENT] + ([python_path] if python_path else [])))
        subprocess.run([sys.executable, "-c", _BOOT, folder], env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL)
        features_path, error_path = os.path.join(folder, "features.npy"), os.path.join(folder, "error.txt")
        if os.path.exists(error_path):
            with open(error_path) as f:
                raise RuntimeError(f"torch-fidelity's feature worker failed: {f.read()}")
        if not os.path.exists(features_path):
            raise RuntimeError("torch-fidelity's feature worker exited without features; its messages on stderr "
                               "say why.")
        return np.load(features_path, allow_pickle=False)


def _extract(images: np.ndarray, extractor: str, feature: str, weights_path: str | None,
             batch_size: int) -> np.ndarray:
    import torch
    from torch_fidelity.utils import create_feature_extractor, get_featuresdict_from_dataset

    from evaluation.fidelity_engine import ImageDataset, check_inception_weights, register_extractors

    register_extractors()
    if extractor == INCEPTION:
        check_inception_weights(weights_path)
    model = create_feature_extractor(extractor, [feature], cuda=torch.cuda.is_available(),
                                     feature_extractor_weights_path=weights_path, verbose=False)
    features = get_featuresdict_from_dataset(ImageDataset(images), model, batch_size, torch.cuda.is_available(),
                                             True, False)
    return features[feature].cpu().numpy().astype(np.float32)


def _worker_main(folder: str) -> int:
    """The worker side of `torch_fidelity_features` (a process that imported torch-fidelity first)."""
    try:
        with open(os.path.join(folder, "request.json")) as f:
            request = json.load(f)
        images = np.load(os.path.join(folder, "images.npy"), allow_pickle=False)
        np.save(os.path.join(folder, "features.npy"), _extract(images, **request))
        return 0
    except Exception as e:  # reported to the parent
        with open(os.path.join(folder, "error.txt"), "w") as f:
            f.write(f"{type(e).__name__}: {e}")
        return 1
