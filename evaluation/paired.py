"""Paired-image metrics for pix2pix: L1, PSNR and SSIM between translations and targets.

pix2pix (Isola et al. 2017) translates each test input (a facade label map)
into a photo that has a ground truth, so outputs can be compared pixel by
pixel with their targets. The scores, averaged over the test images, with
the per-image values kept:

- **L1**: mean absolute error with pixels in **[-1, 1]**, the range the model
  works in and the one its L1 loss term (Eq. 3) uses. (On [0, 1] pixels the
  value would be half as large.)
- **PSNR** (dB): `skimage.metrics.peak_signal_noise_ratio` on images mapped to
  [0, 1], `data_range=1`. Identical images have PSNR = +inf (no cap); a mean
  over images is then +inf as well.
- **SSIM**: `skimage.metrics.structural_similarity` on images mapped to
  [0, 1], `data_range=1`, `channel_axis=-1` (mean over the RGB channels), with
  the settings that reproduce Wang et al. (2004): 11x11 Gaussian window of
  sigma 1.5, population covariances (`gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False`), as scikit-image's documentation recommends.

The pix2pix paper itself reports FCN scores and perceptual studies, not these
numbers; they are the usual pixel-level check of a facades model.

Command line: `python -m evaluation.paired --help`.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import warnings
from typing import Any, Sequence

import numpy as np

from evaluation import sources
from evaluation.results import run_command

#: how far values may stray outside `value_range` (float32 rounding of a tanh) before it is an error.
_RANGE_TOLERANCE = 1e-4
#: SSIM as in Wang et al. (2004), per scikit-image's documentation.
SSIM_SETTINGS = {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False}
TRANSLATE_MODES = ("paper", "eval")


def _unit_images(images: Any, name: str, value_range: tuple[float, float]) -> np.ndarray:
    """float64 (N, H, W, C) mapped from `value_range` to [0, 1], checked."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"{name} must be a batch of images (N, H, W, C); got shape {images.shape}.")
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(
            f"{name} have dtype {images.dtype}; expected floats in [{value_range[0]:g}, {value_range[1]:g}]."
        )
    if len(images) == 0:
        raise ValueError(f"No images to compare: {name} is empty.")
    images = images.astype(np.float64)
    if not np.all(np.isfinite(images)):
        raise ValueError(f"{name} contain NaN or infinite values.")
    low, high = value_range
    tolerance = _RANGE_TOLERANCE * (high - low)
    if images.min() < low - tolerance or images.max() > high + tolerance:
        raise ValueError(
            f"{name} have values in [{images.min():.4g}, {images.max():.4g}], outside value_range "
            f"[{low:g}, {high:g}]; pass the range the images are in."
        )
    return np.clip((images - low) / (high - low), 0.0, 1.0)


def paired_metrics(
    predictions: np.ndarray, targets: np.ndarray, value_range: tuple[float, float] = (-1.0, 1.0)
) -> dict:
    """L1, PSNR and SSIM between each prediction and its target (see the module docstring).

    Args:
        predictions, targets: float arrays (N, H, W, C) in `value_range`.
        value_range: the images' range, (-1, 1) for pix2pix.

    Returns:
        `{"l1", "psnr", "ssim"}` means over the images, `"n"`, and
        `"per_image"`: `{"l1", "psnr", "ssim"}` arrays of shape (N,).
    """
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    low, high = (float(v) for v in value_range)
    if not low < high:
        raise ValueError(f"value_range must have low < high; got {value_range!r}.")
    predictions = _unit_images(predictions, "predictions", (low, high))
    targets = _unit_images(targets, "targets", (low, high))
    if predictions.shape != targets.shape:
        raise ValueError(
            f"predictions have shape {predictions.shape} but targets {targets.shape}; "
            "each prediction needs a target of the same size."
        )
    # L1 in the images' own range: |a - b| on [0, 1] times the range's width.
    l1 = np.abs(predictions - targets).mean(axis=(1, 2, 3)) * (high - low)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "divide by zero", RuntimeWarning)  # identical images: +inf
        psnr = np.array([peak_signal_noise_ratio(t, p, data_range=1.0) for p, t in zip(predictions, targets)])
    ssim = np.array(
        [
            structural_similarity(p, t, data_range=1.0, channel_axis=-1, **SSIM_SETTINGS)
            for p, t in zip(predictions, targets)
        ]
    )
    return {
        "l1": float(l1.mean()),
        "psnr": float(psnr.mean()),
        "ssim": float(ssim.mean()),
        "n": len(predictions),
        "per_image": {"l1": l1, "psnr": psnr, "ssim": ssim},
    }


@dataclasses.dataclass
class PairedResult:
    """Means over the split's images, the per-image values, and what was evaluated."""

    source: str
    split: str
    n: int
    l1: float
    psnr: float
    ssim: float
    per_image: dict[str, np.ndarray]
    settings: dict[str, Any]
    timings: dict[str, float]

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["per_image"] = {k: [float(x) for x in v] for k, v in self.per_image.items()}
        return data


def _require_translate(model: Any, metric: str = "the paired metrics (L1, PSNR, SSIM)") -> None:
    """Refuse a model that cannot translate, naming the `metric` that needs it (and what to use for a GAN)."""
    if not callable(getattr(model, "translate", None)):
        raise sources.SourceError(
            f"{sources.describe(model)} has no translate() method, so {metric} cannot score it; give an "
            "image-to-image model such as keras_gan.Pix2Pix (its .keras file or a zoo name such as "
            "pix2pix-facades); for a GAN or CGAN use evaluation.parzen or evaluation.fidelity."
        )


def translate_all(model: Any, inputs: np.ndarray, mode: str = "paper", seed: int | None = 0,
                  chunk: int = 8, progress: bool = True) -> np.ndarray:
    """`model.translate` over `inputs` in chunks (for a progress bar), one
    image per generator call (`batch_size=1`, the paper's test setting), a
    distinct reproducible dropout seed per chunk."""
    _require_translate(model)
    if mode not in TRANSLATE_MODES:
        raise ValueError(f"Unknown translate mode {mode!r}; expected one of {TRANSLATE_MODES}.")
    starts = range(0, len(inputs), chunk)
    if progress and len(starts) > 1:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="translating", unit="chunk")
    outputs = []
    for index, start in enumerate(starts):
        chunk_seed = sources.chunk_seed(seed, index)
        translated = model.translate(inputs[start : start + chunk], batch_size=1, mode=mode, seed=chunk_seed)
        outputs.append(np.asarray(translated))
    return np.concatenate(outputs, axis=0)


def _model_image_size(model: Any) -> int:
    """The square size the model translates: the facades are loaded at it (256
    for the paper's models; smaller for models built for quick experiments)."""
    shape = getattr(model, "input_image_shape", None)
    if shape and len(shape) == 3 and shape[0] == shape[1] and shape[0]:
        return int(shape[0])
    return 256  # the paper's size (Isola et al. 2017, section 6.2)


def evaluate_paired(
    source: Any,
    split: str = "test",
    data_dir: str | None = None,
    *,
    data: tuple[np.ndarray, np.ndarray] | None = None,
    limit: int | None = None,
    mode: str = "paper",
    seed: int | None = 0,
    progress: bool = True,
) -> PairedResult:
    """Translate the facades `split` with `source` and score it against the targets.

    Args:
        source: a model with `translate`, its `.keras` file, or a zoo name.
        split: facades split ("train", "val" or "test"; see the data README).
        data_dir: facades folder (default `$KERAS_GAN_DATA_DIR`). The images
            are loaded at the model's input size (256 x 256 for the paper's
            models, Isola et al. 2017 section 6.2).
        data: `(inputs, targets)` in [-1, 1] to use instead of the facades split.
        limit: score only the first `limit` pairs (quick checks; default all).
        mode: `Pix2Pix.translate` mode: "paper" (dropout and test-batch
            statistics, as the paper tests) or "eval" (Keras inference mode).
        seed: seed of the dropout noise in "paper" mode (None: the model's stream).
        progress: show a progress bar.
    """
    timings = {}
    model = sources.load_model(source)  # first: a bad checkpoint fails before data are read
    _require_translate(model)
    start = time.perf_counter()
    if data is None:
        from keras_gan import datasets

        # never jittered (train included): the translations are scored against these targets
        inputs, targets = datasets.facades(split, data_dir=data_dir, image_size=_model_image_size(model), limit=limit,
                                           augment=False)
    else:
        inputs, targets = data
        if limit is not None:
            inputs, targets = inputs[:limit], targets[:limit]
    inputs, targets = np.asarray(inputs), np.asarray(targets)
    if len(inputs) != len(targets):
        raise ValueError(f"{len(inputs)} inputs but {len(targets)} targets; they must pair up.")
    timings["load_data_s"] = time.perf_counter() - start

    start = time.perf_counter()
    predictions = translate_all(model, inputs, mode=mode, seed=seed, progress=progress)
    timings["translate_s"] = time.perf_counter() - start

    start = time.perf_counter()
    metrics = paired_metrics(predictions, targets, value_range=(-1.0, 1.0))
    timings["metrics_s"] = time.perf_counter() - start
    return PairedResult(
        source=sources.describe(source),
        split=split if data is None else "given arrays",
        n=metrics["n"],
        l1=metrics["l1"],
        psnr=metrics["psnr"],
        ssim=metrics["ssim"],
        per_image=metrics["per_image"],
        settings={
            "mode": mode,
            "seed": seed,
            "l1_range": [-1.0, 1.0],
            "psnr_ssim_range": [0.0, 1.0],
            "data_range": 1.0,
            "ssim": dict(SSIM_SETTINGS, channel_axis=-1),
        },
        timings=timings,
    )


# -------------------------------------------------------------- command line
def format_table(result: PairedResult) -> str:
    return "\n".join(
        [
            f"Paired metrics of translations vs targets (facades {result.split}, {result.n} images)",
            f"source: {result.source}",
            f"{'L1, mean |output - target|, pixels in [-1, 1]':52s}{result.l1:10.4f}",
            f"{'PSNR (dB), pixels in [0, 1], data_range 1':52s}{result.psnr:10.2f}",
            f"{'SSIM (Wang et al. 2004 settings), data_range 1':52s}{result.ssim:10.4f}",
        ]
    )


_EXAMPLES = """examples:
  python -m evaluation.paired runs/pix2pix.keras               # the facades test split
  python -m evaluation.paired runs/pix2pix.keras --split val --json paired.json
  python -m evaluation.paired runs/pix2pix.keras --data-dir ../shared/data --mode eval

CKPT is a .keras file saved by model.save(...), a model-zoo name, or a zoo export
NAME.weights.h5 (what python -m zoo.train NAME writes to DIR/export/)
(python -c "import keras_gan; print(keras_gan.zoo.names())").
Exit status 2 (and no JSON written) for bad arguments, an unknown checkpoint or missing data.
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.paired",
        description="L1, PSNR and SSIM of a pix2pix model's translations against the facades targets.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("checkpoint", metavar="CKPT", help="a .keras file, a zoo name or a NAME.weights.h5 export")
    add_translation_arguments(parser)
    parser.add_argument("--json", metavar="PATH", help="write the result (with per-image values) as JSON to PATH")
    return parser


def add_translation_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of every facades command line that translates a split (`paired`, `fcn_score`)."""
    parser.add_argument("--split", default="test", help="facades split: train, val or test (default test)")
    parser.add_argument("--data-dir", help="facades folder (default: $KERAS_GAN_DATA_DIR)")
    parser.add_argument("--mode", choices=TRANSLATE_MODES, default="paper",
                        help="translate mode: paper (dropout + test-batch statistics) or eval (default paper)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the dropout noise (default 0)")
    parser.add_argument("--limit", type=_positive_int, help="score only the first N pairs (default: the whole split)")
    from evaluation.sources import add_allow_unverified_argument

    add_allow_unverified_argument(parser)


def _evaluate(args: argparse.Namespace) -> PairedResult:
    return evaluate_paired(
        args.checkpoint, split=args.split, data_dir=args.data_dir, limit=args.limit, mode=args.mode, seed=args.seed
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 for any usage or input error)."""
    return run_command(argv, build_parser().parse_args, _evaluate, format_table, lambda result: result.to_dict())


if __name__ == "__main__":
    sys.exit(main())
