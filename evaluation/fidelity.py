"""FID, IS, KID (and precision/recall) of any generator, computed by torch-fidelity.

    python -m evaluation.fidelity CKPT --metrics fid,isc,kid [--feature-extractor mnist-classifier]

Metrics and their papers (torch-fidelity 0.4.0 implements them; this module
only feeds it and names the results):

- FID, Frechet distance between Gaussians fitted to the features of samples
  and of real data (Heusel et al. 2017): `fid`;
- IS, exp E_x KL(p(y|x) || p(y)) over 10 splits (Salimans et al. 2016):
  `isc_mean`, `isc_std`;
- KID, unbiased MMD^2 with a cubic polynomial kernel over 100 subsets
  (Binkowski et al. 2018): `kid_mean`, `kid_std`, raw as torch-fidelity
  returns them; every table (this command's, the cards', the README's)
  prints them x 1e3 and says so;
- precision / recall with k = 3 nearest neighbours (Kynkaanniemi et al. 2019):
  `precision`, `recall`, `f_score`. The k-NN balls depend on the set sizes,
  so give it as many reference images as samples (`num_reference`); against
  all 50,000 training images it takes very long on a CPU.

Feature extractors:

- `mnist-classifier` (default): the small MNIST classifier shipped in
  `evaluation/weights/` (see `evaluation.mnist_classifier`), so MNIST-FID /
  MNIST-IS / KID work offline. Its numbers are *not* comparable to Inception
  ones; every result records the extractor.
- `inception-v3-compat`: torch-fidelity's port of the TensorFlow Inception-v3
  graph, the published-FID standard. It needs the weights file (see
  `evaluation.inception_weights`); there is no silent fallback.
- `facade-segmenter`: the facade segmenter's pooled bottleneck
  (`evaluation.facade_segmenter`, trained on real CMP facade photos only):
  facades-FID / KID of RGB photos, offline. No IS (it has no class posterior).
  Meaningful for facade-like photos; for other RGB images use Inception.

What is evaluated (`samples_or_source`): an array of samples, any source of
`evaluation.sources` (a keras_gan model, a `.keras` file, a zoo name, a `.npy`
file of samples), or one of two special names that reproduce the reference
rows: `real:<split>` (real MNIST images of split train, validation, test or
full_train) and `noise` (images of i.i.d. uniform [0, 1] pixels).

The reference is a split of real MNIST (`mnist-train` = train[0:50000], the
GAN paper's training split, by default), or a folder of real images
(`--reference PATH`): then the samples are a folder (or an array) of images of
any size, grey or RGB, e.g. what `python -m keras_gan.translate` or
`python -m keras_gan.generate` wrote from a model trained on your own folder,
scored against that folder's real images (`evaluation.image_folders` reads
them; `--image-size H W` resizes both sets when their sizes differ). Its features and FID statistics are
cached by torch-fidelity under `$KERAS_GAN_CACHE/fidelity` (default
`~/.cache/keras_gan/fidelity`), keyed by split, image count, a digest of the
images, the extractor and a digest of its weights, so they are computed once.

Samples are quantised to 8 bits (round(255 x)) before feature extraction, as
if saved as PNG: torch-fidelity's extractors take uint8 images, and the real
MNIST images are 8-bit already.

TensorFlow and torch-fidelity in one process: importing torchvision or
torch-fidelity after TensorFlow aborts the interpreter (both bring their own
LLVM; "LLVM ERROR: inconsistency in registered CommandLine options"); the
reverse order works. TensorFlow is imported by `import keras` under
KERAS_BACKEND=tensorflow, and under every backend by
`keras.utils.set_random_seed`. So when TensorFlow is already imported (and
torchvision is not), the features are computed in a fresh Python process that
imports torch-fidelity first (`evaluation.fidelity_worker`); the images travel
through temporary `.npy` files. Otherwise torch-fidelity is imported here
first, before anything that could import TensorFlow. To keep the work in
your own process, import `torch_fidelity` before Keras.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from evaluation.image_folders import ImageFolderError, read_images
from evaluation.inception_weights import InceptionWeightsError, resolve_inception_weights
from evaluation.results import cache_folder_problem, output_folder_problem, run_command
from evaluation.sources import (
    SourceError,
    add_allow_unverified_argument,
    add_value_range_argument,
    as_unit_images,
    check_sample_memory,
    describe,
    load_samples,
)

__all__ = [
    "FEATURE_EXTRACTORS",
    "METRICS",
    "REFERENCES",
    "InceptionWeightsError",
    "compute_metrics",
    "default_cache_root",
    "frechet_distance",
    "main",
    "torch_fidelity_safe_here",
]

METRICS = ("fid", "isc", "kid", "prc")
MNIST_EXTRACTOR = "mnist-classifier"
INCEPTION_EXTRACTOR = "inception-v3-compat"
SEGMENTER_EXTRACTOR = "facade-segmenter"
FEATURE_EXTRACTORS = (MNIST_EXTRACTOR, INCEPTION_EXTRACTOR, SEGMENTER_EXTRACTOR)
#: reference name -> keras_gan.datasets.mnist split.
REFERENCES = {
    "mnist-train": "train",
    "mnist-validation": "validation",
    "mnist-test": "test",
    "mnist-full-train": "full_train",
}
REAL_PREFIX = "real:"
NOISE = "noise"
#: samples drawn from a model when not told otherwise: the size of the MNIST test
#: set, so that `real:test` is the matching real-data row.
DEFAULT_NUM_SAMPLES = 10000
#: IS averages over 10 splits, and a covariance needs more than a handful of points.
MIN_IMAGES = 10
CACHE_ENV = "KERAS_GAN_CACHE"


def default_cache_root() -> str:
    """`$KERAS_GAN_CACHE/fidelity`, else `~/.cache/keras_gan/fidelity`."""
    root = os.environ.get(CACHE_ENV) or os.path.join("~", ".cache", "keras_gan")
    return os.path.join(os.path.expanduser(root), "fidelity")


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2) (Dowson & Landau 1982):

        ||mu1 - mu2||^2 + Tr(sigma1) + Tr(sigma2) - 2 Tr((sigma1 sigma2)^(1/2)),

    the FID of Heusel et al. (2017) when the Gaussians are fitted to features.
    Tr((S1 S2)^(1/2)) is computed as the sum of square roots of the
    eigenvalues of the symmetric S1^(1/2) S2 S1^(1/2) (same spectrum), in
    float64, clipping the tiny negative round-off of singular covariances.
    """
    mu1, mu2 = (np.asarray(m, dtype=np.float64) for m in (mu1, mu2))
    sigma1, sigma2 = (np.asarray(s, dtype=np.float64) for s in (sigma1, sigma2))
    d = mu1.shape[0] if mu1.ndim == 1 else -1
    if mu1.shape != (d,) or mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            f"frechet_distance expects means of shape (d,) and covariances (d, d); got {mu1.shape}, "
            f"{sigma1.shape}, {mu2.shape}, {sigma2.shape}."
        )
    values, vectors = np.linalg.eigh(sigma1)
    root1 = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    middle = root1 @ sigma2 @ root1
    trace_sqrt = float(np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None))))
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt)


# --------------------------------------------------------------- arguments
def _checked_metrics(metrics: Sequence[str] | str) -> list[str]:
    names = [m.strip().lower() for m in (metrics.split(",") if isinstance(metrics, str) else metrics)]
    names = [m for m in names if m]
    unknown = [m for m in names if m not in METRICS]
    if unknown or not names:
        raise ValueError(
            f"Unknown metric(s) {unknown}; choose from {', '.join(METRICS)} (e.g. 'fid,isc,kid')."
            if unknown else f"No metric asked for; choose from {', '.join(METRICS)}."
        )
    return sorted(set(names), key=METRICS.index)


def _checked_choice(kind: str, value: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"Unknown {kind} {value!r}; choose from {', '.join(choices)}.")
    return value


def _checked_reference(reference: Any) -> str:
    """An MNIST split's name, or a folder of real images (its path)."""
    if isinstance(reference, (str, os.PathLike)) and os.fspath(reference) in REFERENCES:
        return os.fspath(reference)
    if isinstance(reference, (str, os.PathLike)) and os.path.isdir(os.fspath(reference)):
        return os.fspath(reference)
    raise ValueError(f"Unknown reference {reference!r}: give one of {', '.join(REFERENCES)} or a folder of real "
                     "images (no such folder).")


def _checked_count(name: str, value: Any, allow_none: bool = True) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < MIN_IMAGES:
        raise ValueError(f"{name} must be an integer >= {MIN_IMAGES}; got {value!r}.")
    return int(value)


# ------------------------------------------------------------------ inputs
def _extractor_weights(feature_extractor: str, inception_weights, allow_download: bool, verbose: bool):
    """(weights path for torch-fidelity, short digest for the cache name); checked before any work."""
    from evaluation.mnist_classifier import CHECKPOINT_SHA256, file_sha256, verify_checkpoint

    if feature_extractor != INCEPTION_EXTRACTOR and inception_weights is not None:
        raise ValueError("inception_weights is only used with feature_extractor='inception-v3-compat'.")
    if feature_extractor == MNIST_EXTRACTOR:
        verify_checkpoint()
        return None, CHECKPOINT_SHA256[:12]
    if feature_extractor == SEGMENTER_EXTRACTOR:
        from evaluation import facade_segmenter

        facade_segmenter.verify_checkpoint()
        return None, facade_segmenter.CHECKPOINT_SHA256[:12]
    path = resolve_inception_weights(inception_weights, allow_download=allow_download, progress=verbose)
    return path, file_sha256(path)[:12]


def _reference_images(reference: str, num_reference: int | None, data_dir: str | None) -> np.ndarray:
    from keras_gan import datasets

    images = datasets.mnist(REFERENCES[reference], data_dir=data_dir, limit=num_reference).images
    if num_reference is not None and len(images) < num_reference:
        raise ValueError(f"num_reference={num_reference} but {reference} has only {len(images)} images.")
    return _to_uint8(images)


def _samples(source: Any, num_samples: int | None, seed: int, batch_size: int, data_dir: str | None,
             verbose: bool, value_range=(0.0, 1.0)) -> tuple[np.ndarray, str]:
    """Float32 (N, 28, 28, 1) samples in [0, 1] and a description of where they came from."""
    if isinstance(source, np.ndarray):
        images = as_unit_images(source, "the samples", value_range)
        if num_samples is not None:
            if len(images) < num_samples:
                raise ValueError(f"num_samples={num_samples} but the array has only {len(images)} samples.")
            images = images[:num_samples]
        return images, f"array of {len(images)} samples"
    count = DEFAULT_NUM_SAMPLES if num_samples is None else num_samples
    if source == NOISE:
        check_sample_memory(count, 28 * 28 * 8, "noise (float64 28 x 28)")
        rng = np.random.default_rng(seed)
        return rng.uniform(0.0, 1.0, (count, 28, 28, 1)).astype(np.float32), "noise: i.i.d. uniform [0, 1] pixels"
    if isinstance(source, str) and source.startswith(REAL_PREFIX):
        from keras_gan import datasets
        from keras_gan.datasets.mnist import SPLITS

        split = source[len(REAL_PREFIX):]
        if split not in SPLITS:
            raise SourceError(
                f"Unknown real split {source!r}; use real:train, real:validation, real:test or real:full_train."
            )
        images = datasets.mnist(split, data_dir=data_dir, limit=count).images
        if len(images) < count:
            raise SourceError(f"{source} has only {len(images)} images but {count} were asked for (--num-samples).")
        return images, f"real MNIST images ({split} split)"
    return (load_samples(source, count, seed=seed, batch_size=batch_size, progress=verbose, value_range=value_range),
            describe(source))


def _folder_label(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", os.path.basename(os.path.normpath(os.path.abspath(path))))[:40]


def _folder_images(path: str, channels: int, size, limit: int | None, what: str) -> np.ndarray:
    """A folder's images as uint8 (N, H, W) grey or (N, H, W, 3) RGB, checked for the extractor."""
    images = read_images(path, channels=channels, size=size, limit=limit, what=what)
    if len(images) < MIN_IMAGES:
        raise ImageFolderError(f"{path} holds {len(images)} images; at least {MIN_IMAGES} are needed.")
    return images


def _image_samples(source: Any, channels: int, size, num_samples: int | None, value_range) -> tuple[np.ndarray, str]:
    """Samples to score against a folder: a folder of images, or an array (N, H, W[, C]) of uint8 or of
    floats in `value_range`. A model is refused: it is scored through the images it writes."""
    if isinstance(source, (str, os.PathLike)) and os.path.isdir(os.fspath(source)):
        images = _folder_images(os.fspath(source), channels, size, num_samples, "samples")
        return images, f"image folder {os.fspath(source)}"
    if not isinstance(source, np.ndarray):
        raise SourceError(
            f"{source!r} is not a folder of images: against a folder reference the samples are images. Write "
            "them first (python -m keras_gan.translate MODEL INPUTS OUT, python -m keras_gan.generate MODEL OUT) "
            "and score that folder.")
    array = source if num_samples is None else source[:num_samples]
    if num_samples is not None and len(array) < num_samples:
        raise ValueError(f"num_samples={num_samples} but the array has only {len(source)} samples.")
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if not (array.ndim == 3 or (array.ndim == 4 and array.shape[-1] == 3)):
        raise SourceError(f"the samples have shape {source.shape}; expected images (N, H, W), (N, H, W, 1) or "
                          "(N, H, W, 3).")
    if array.dtype != np.uint8:
        low, high = value_range
        array = np.asarray(array, dtype=np.float32)
        if not np.all(np.isfinite(array)) or array.min() < low - 1e-3 * (high - low) \
                or array.max() > high + 1e-3 * (high - low):
            raise SourceError(f"the samples hold values outside [{low:g}, {high:g}] (or NaN); pass value_range "
                              "(--value-range LOW HIGH) or uint8 images.")
        array = np.rint(np.clip((array - low) / (high - low), 0.0, 1.0) * 255.0).astype(np.uint8)
    if channels == 3 and array.ndim == 3:
        array = np.repeat(array[..., None], 3, axis=-1)
    elif channels == 1 and array.ndim == 4:
        array = np.rint(array.astype(np.float32).mean(axis=-1)).astype(np.uint8)
    if size is not None and array.shape[1:3] != tuple(size):
        raise SourceError(f"the samples are {array.shape[1]} x {array.shape[2]} images and "
                          f"{size[0]} x {size[1]} are needed; resize them or save them as a folder.")
    return array, f"array of {len(array)} samples"


def _to_uint8(images: np.ndarray) -> np.ndarray:
    """float [0, 1] (N, 28, 28, 1) -> uint8 (N, 28, 28), rounding to the nearest 8-bit level."""
    return np.rint(np.asarray(images, dtype=np.float32)[..., 0] * 255.0).astype(np.uint8)


def _reference_cache_name(reference: str, images: np.ndarray, extractor: str, weights_digest: str) -> str:
    """A cache key that changes whenever the cached features could: the images and the weights."""
    images_digest = hashlib.sha256(np.ascontiguousarray(images).tobytes()).hexdigest()[:12]
    return f"keras_gan-{reference}-{len(images)}-{images_digest}-{extractor}-{weights_digest}"


# ----------------------------------------------------------------- running
def torch_fidelity_safe_here() -> bool:
    """Whether torch-fidelity can be imported into this process without aborting it.

    Not when TensorFlow is loaded and torchvision is not (torchvision, loaded
    by torch-fidelity, is the half that clashes). Note that TensorFlow gets
    loaded under *every* Keras backend by `keras.utils.set_random_seed`.
    """
    return "tensorflow" not in sys.modules or "torchvision" in sys.modules


def compute_metrics(
    samples_or_source: Any,
    reference: str = "mnist-train",
    metrics: Sequence[str] | str = ("fid", "isc", "kid"),
    feature_extractor: str = MNIST_EXTRACTOR,
    num_samples: int | None = None,
    *,
    num_reference: int | None = None,
    data_dir: str | None = None,
    inception_weights: str | os.PathLike | None = None,
    allow_download: bool = True,
    seed: int = 0,
    batch_size: int | None = None,
    kid_subset_size: int = 1000,
    cache_root: str | None = None,
    use_cache: bool = True,
    isolate: bool | None = None,
    verbose: bool = True,
    value_range: tuple[float, float] = (0.0, 1.0),
    image_size: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """FID / IS / KID / precision-recall of `samples_or_source` against real MNIST or a folder of real images.

    Args:
        samples_or_source: a float array (N, 28, 28[, 1]) in [0, 1] or uint8; a
            keras_gan model, `.keras` file, zoo name or `.npy` file (see
            `evaluation.sources`); `real:<split>` or `noise` (module docstring).
        reference: real data to compare with: mnist-train (train[0:50000],
            default), mnist-validation, mnist-test or mnist-full-train; or
            a folder of real images (any size, grey or RGB; sub-folders one
            level deep): the samples are then a folder or an array of images.
        metrics: any of "fid", "isc", "kid", "prc" (list or comma-separated).
        feature_extractor: "mnist-classifier" (offline, 28x28 grey),
            "inception-v3-compat" (any images; needs its weights file) or
            "facade-segmenter" (offline, RGB facade photos; no IS).
        num_samples: images to evaluate; default all rows of an array, else
            10,000 (generated, or the first rows of a `.npy` / real split).
        num_reference: use only the first images of the reference split.
        data_dir: MNIST folder (default `$KERAS_GAN_DATA_DIR`).
        inception_weights: torch-fidelity's Inception weights file; default: the
            torch hub cache, downloaded there if `allow_download`.
        allow_download: may the Inception weights be downloaded (short timeout).
        seed: seed of the generator's noise, of `noise` and of torch-fidelity
            (IS split shuffling, KID subsets).
        batch_size: images per forward pass (default 500 for the MNIST
            classifier, 64 for Inception); also the generation batch.
        kid_subset_size: KID subset size (Binkowski et al. use 1000); lowered
            to the number of images when there are fewer, and reported.
        cache_root: torch-fidelity cache folder (default `default_cache_root()`).
        use_cache: cache the reference features and FID statistics.
        isolate: compute in a separate process; default: exactly when
            importing torch-fidelity here would abort the interpreter
            (`torch_fidelity_safe_here()`, see the module docstring).
        verbose: progress bars and torch-fidelity's messages on stderr.
        value_range: range of the samples' float values (e.g. (-1, 1) for a tanh
            generator), mapped to [0, 1].
        image_size: (height, width) to resize both sets to, with a folder reference
            (default: as they are; each set must then have one size).

    Returns:
        The requested metrics (`fid`, `isc_mean`, `isc_std`, `kid_mean`,
        `kid_std`, `precision`, `recall`, `f_score`) and what they were computed
        on: `samples`, `num_samples`, `reference`, `num_reference`,
        `feature_extractor`, `kid_subset_size`, `seed`, `torch_fidelity_version`.

    Raises:
        ValueError / SourceError: bad arguments or an unusable source.
        FileNotFoundError / DataFileError: MNIST files missing or corrupt.
        InceptionWeightsError: Inception weights missing, not downloadable, or wrong.
    """
    metrics = _checked_metrics(metrics)
    feature_extractor = _checked_choice("feature extractor", feature_extractor, FEATURE_EXTRACTORS)
    reference = _checked_reference(reference)
    folder_reference = reference not in REFERENCES
    if feature_extractor == SEGMENTER_EXTRACTOR:
        if "isc" in metrics:
            raise ValueError("The facade segmenter has no class posterior per image, so no Inception Score with "
                             "it: ask for fid, kid or prc.")
        if not folder_reference:
            raise ValueError("The facade segmenter scores RGB facade photos, not MNIST: give --reference a folder "
                             "of real photos, or use the mnist-classifier features.")
    if image_size is not None and not folder_reference:
        raise ValueError("image_size is for a folder reference (MNIST is scored at 28 x 28).")
    num_samples = _checked_count("num_samples", num_samples)
    num_reference = _checked_count("num_reference", num_reference)
    kid_subset_size = _checked_count("kid_subset_size", kid_subset_size, allow_none=False)
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
    cache_root = os.path.abspath(os.path.expanduser(cache_root or default_cache_root()))
    problem = cache_folder_problem(cache_root) if use_cache else None
    if problem:  # before any work (torch-fidelity would fail with a traceback after the features)
        raise ValueError(f"cache_root: {problem}")
    isolate = not torch_fidelity_safe_here() if isolate is None else bool(isolate)
    weights_path, weights_digest = _extractor_weights(feature_extractor, inception_weights, allow_download, verbose)
    engine = None
    if not isolate:
        # Before anything below can import TensorFlow (Keras models, the MNIST reader).
        from evaluation import fidelity_engine as engine

    needs_reference = any(m in metrics for m in ("fid", "kid", "prc"))
    if folder_reference:  # images of any size against a folder of real ones
        channels = 1 if feature_extractor == MNIST_EXTRACTOR else 3
        reference_images = (_folder_images(reference, channels, image_size, num_reference, "reference images")
                            if needs_reference else None)
        samples, description = _image_samples(samples_or_source, channels, image_size, num_samples, value_range)
        if feature_extractor == MNIST_EXTRACTOR:
            for images, what in ((samples, "samples"), (reference_images, "reference images")):
                if images is not None and images.shape[1:3] != (28, 28):
                    raise ValueError(
                        f"The {what} are {images.shape[1]} x {images.shape[2]} images; the MNIST classifier scores "
                        "28 x 28 grey digits. Use --feature-extractor inception-v3-compat for other images "
                        "(facade-segmenter for facade photos).")
    else:
        reference_images = _reference_images(reference, num_reference, data_dir) if needs_reference else None
        samples, description = _samples(samples_or_source, num_samples, seed, batch_size or 1000, data_dir,
                                        verbose, value_range)
        samples = _to_uint8(samples)
    if len(samples) < MIN_IMAGES:
        raise ValueError(f"At least {MIN_IMAGES} samples are needed; got {len(samples)}.")
    counts = [len(samples)] + ([len(reference_images)] if reference_images is not None else [])
    kid_subset_size = min([kid_subset_size] + counts)
    request = dict(
        metrics=metrics,
        feature_extractor=feature_extractor,
        weights_path=weights_path,
        reference_cache_name=(
            _reference_cache_name(reference if not folder_reference else "folder-" + _folder_label(reference),
                                  reference_images, feature_extractor, weights_digest)
            if reference_images is not None else None
        ),
        cache_root=cache_root,
        use_cache=bool(use_cache),
        batch_size=batch_size,
        kid_subset_size=kid_subset_size,
        seed=int(seed),
        verbose=bool(verbose),
    )
    if engine is None:
        from evaluation.fidelity_worker import run_in_worker

        values = run_in_worker(samples, reference_images, request)
    else:
        values = engine.compute_with_torch_fidelity(samples, reference_images, **request)
    result: dict[str, Any] = dict(values)
    result.update(
        samples=description,
        num_samples=len(samples),
        reference=reference if reference_images is not None else None,
        num_reference=len(reference_images) if reference_images is not None else None,
        feature_extractor=feature_extractor,
        seed=int(seed),
        torch_fidelity_version=importlib.metadata.version("torch-fidelity"),
    )
    if "kid" in metrics:
        result["kid_subset_size"] = kid_subset_size
    return result


# ------------------------------------------------------------ command line
_EXAMPLES = """\
CKPT is a .keras file, a zoo name, a zoo export NAME.weights.h5, a .npy file of
samples (N, 28, 28[, 1]), a folder of 28x28 grey sample images (PNG, and class
sub-folders: what `python -m keras_gan.generate MODEL FOLDER -n 10000` writes),
or one of the special names that reproduce the reference rows:
  real:test   real MNIST test images (also real:train, real:validation, real:full_train)
  noise       images of i.i.d. uniform [0, 1] pixels

examples:
  # MNIST-FID / IS / KID of a trained GAN against MNIST train (works offline)
  python -m evaluation.fidelity outputs/gan_mnist/gan_mnist.keras --metrics fid,isc,kid --json gan.json
  # the reference rows: real test images and uniform noise
  python -m evaluation.fidelity real:test --metrics fid,isc,kid
  python -m evaluation.fidelity noise --metrics fid,kid
  # standard Inception features (needs torch-fidelity's weights file)
  python -m evaluation.fidelity samples.npy --metrics fid,isc --feature-extractor inception-v3-compat \\
      --inception-weights weights-inception-2015-12-05-6726825d.pth
  # your own images: translations (or samples) against a folder of real ones
  python -m keras_gan.translate pix2pix-facades facades/test/A translated/
  python -m evaluation.fidelity translated/ --reference facades/test/B --metrics fid,kid \\
      --feature-extractor facade-segmenter
  python -m evaluation.fidelity my_samples/ --reference my_photos/ --image-size 256 256 \\
      --feature-extractor inception-v3-compat --inception-weights weights-inception-2015-12-05-6726825d.pth

Exit status: 0 on success; 2 (and nothing written) on bad arguments, an unknown
or unreadable CKPT, missing MNIST data or missing Inception weights.
"""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m evaluation.fidelity",
        description="FID, IS, KID and precision/recall of a generator against real MNIST or a folder of real "
                    "images, computed by torch-fidelity.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("ckpt", metavar="CKPT", help="what to evaluate (see below)")
    p.add_argument("--metrics", default="fid,isc,kid",
                   help=f"comma-separated, from {','.join(METRICS)} (default fid,isc,kid)")
    p.add_argument("--feature-extractor", default=MNIST_EXTRACTOR, choices=FEATURE_EXTRACTORS,
                   help=f"feature network (default {MNIST_EXTRACTOR}, offline; {INCEPTION_EXTRACTOR} is the "
                        "published-FID standard)")
    p.add_argument("--inception-weights", metavar="PATH", default=None,
                   help="torch-fidelity's weights-inception-2015-12-05-6726825d.pth (default: the torch hub "
                        "cache, downloaded there if possible)")
    p.add_argument("--no-download", action="store_true", help="never download the Inception weights")
    p.add_argument("--reference", default="mnist-train", metavar="{%s} or FOLDER" % ",".join(REFERENCES),
                   help="real data to compare with: an MNIST split (default mnist-train = train[0:50000]) or a "
                        "folder of real images (then CKPT is a folder of images too)")
    p.add_argument("--image-size", type=_positive, nargs=2, metavar=("H", "W"), default=None,
                   help="with a folder reference: resize both sets to H x W (default: as they are)")
    p.add_argument("--num-samples", type=_positive, default=None,
                   help=f"images to evaluate (default {DEFAULT_NUM_SAMPLES}; at least {MIN_IMAGES})")
    p.add_argument("--num-reference", type=_positive, default=None,
                   help="use only the first N reference images (default: the whole split)")
    p.add_argument("--data-dir", default=None, help="MNIST folder (default: $KERAS_GAN_DATA_DIR)")
    p.add_argument("--seed", type=int, default=0, help="seed of sampling and of torch-fidelity (default 0)")
    p.add_argument("--batch-size", type=_positive, default=None, help="images per forward pass")
    p.add_argument("--kid-subset-size", type=_positive, default=1000, help="KID subset size (default 1000)")
    p.add_argument("--cache-dir", default=None,
                   help=f"cache of the reference statistics (default ${CACHE_ENV}/fidelity, else "
                        "~/.cache/keras_gan/fidelity)")
    p.add_argument("--no-cache", action="store_true", help="recompute the reference statistics")
    p.add_argument("--json", metavar="OUT", default=None, help="also write the results to this JSON file")
    p.add_argument("--quiet", action="store_true", help="no progress bars or torch-fidelity messages")
    add_value_range_argument(p)
    add_allow_unverified_argument(p)
    args = p.parse_args(argv)
    try:
        args.metrics = _checked_metrics(args.metrics)
        for name in ("num_samples", "num_reference", "kid_subset_size"):
            _checked_count(f"--{name.replace('_', '-')}", getattr(args, name))
    except ValueError as e:
        p.error(str(e))
    if args.inception_weights is not None and args.feature_extractor != INCEPTION_EXTRACTOR:
        p.error(f"--inception-weights is only used with --feature-extractor {INCEPTION_EXTRACTOR}")
    try:
        _checked_reference(args.reference)
    except ValueError as e:
        p.error(f"--reference: {e}")
    if args.image_size is not None and args.reference in REFERENCES:
        p.error("--image-size is for a folder --reference (MNIST is scored at 28 x 28)")
    problem = output_folder_problem(args.json)
    if problem:
        p.error(f"--json: {problem}")
    if not args.no_cache:
        problem = cache_folder_problem(args.cache_dir or default_cache_root())
        if problem:
            p.error(f"--cache-dir: {problem}" if args.cache_dir else f"the cache folder (${CACHE_ENV}): {problem}")
    return args


def format_table(result: dict[str, Any]) -> str:
    """The results as a few aligned lines, for people."""
    lines = [
        f"samples:   {result['samples']} ({result['num_samples']} images)",
        f"reference: {result['reference']} ({result['num_reference']} images)"
        if result["reference"] else "reference: none (IS only)",
        f"features:  {result['feature_extractor']}",
    ]
    if "fid" in result:
        lines.append(f"  FID        {result['fid']:.4f}")
    if "isc_mean" in result:
        lines.append(f"  IS         {result['isc_mean']:.4f} +- {result['isc_std']:.4f} (10 splits)")
    if "kid_mean" in result:
        # One convention everywhere (CLI, cards, README): KID x 1e3; the JSON keeps torch-fidelity's raw value.
        lines.append(f"  KID x 1e3  {1e3 * result['kid_mean']:.1f} +- {1e3 * result['kid_std']:.1f} "
                     f"(100 subsets of {result['kid_subset_size']}; JSON kid_mean / kid_std are raw)")
    for key in ("precision", "recall", "f_score"):
        if key in result:
            lines.append(f"  {key:<10} {result[key]:.4f}")
    return "\n".join(lines)


def _evaluate(args: argparse.Namespace) -> dict[str, Any]:
    return compute_metrics(
        args.ckpt,
        reference=args.reference,
        metrics=args.metrics,
        feature_extractor=args.feature_extractor,
        num_samples=args.num_samples,
        num_reference=args.num_reference,
        data_dir=args.data_dir,
        inception_weights=args.inception_weights,
        allow_download=not args.no_download,
        seed=args.seed,
        batch_size=args.batch_size,
        kid_subset_size=args.kid_subset_size,
        cache_root=args.cache_dir,
        use_cache=not args.no_cache,
        verbose=not args.quiet,
        value_range=tuple(args.value_range),
        image_size=tuple(args.image_size) if args.image_size else None,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 for any usage or input error)."""
    return run_command(argv, parse_args, _evaluate, format_table, to_json=dict)


if __name__ == "__main__":
    sys.exit(main())
