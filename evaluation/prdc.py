"""Precision, recall, density and coverage of a generator: `python -m evaluation.prdc CKPT`.

    python -m evaluation.prdc cgan-mnist                    # MNIST: 5,000 samples vs 5,000 train images
    python -m evaluation.prdc real:test                     # the reference row: real test vs real train
    python -m evaluation.prdc pix2pix-facades               # facades: 50 test translations vs 300 train photos

Why: FID and Parzen fold quality and diversity into one number; these four
separate them (see `evaluation.knn_metrics`, which computes them with the
`prdc` package, precision / recall at k = 3 as Kynkaanniemi et al. 2019,
density / coverage at k = 5 as Naeem et al. 2020, and checks precision /
recall with torch-fidelity's on the same features). A collapsed generator
keeps its precision and loses recall and coverage.

What is compared, in the project's domain feature spaces (`evaluation.prdc_features`):

- MNIST (any MNIST source of `evaluation.sources`, or `real:test` /
  `real:validation`): `--num-samples` samples (5,000) against
  `--num-reference` images (5,000) drawn without replacement from MNIST
  train[0:50000] by `--seed`, on the MNIST classifier's 128-d features. A
  conditional model also gets the four per digit: `--per-class-samples`
  (400) samples asked for digit d against as many train images of digit d
  (real:<split> sources use their labels), which says which digits it misses.
- Facades (a model with `translate`, or `real:facades-test`): the 50 test
  label maps translated in the paper's test mode (dropout on, seed `--seed`)
  against the 300 train photos, on the facade segmenter's 256-d features.

`--features inception` uses Inception-v3 pool3 features instead, only from a
weights file already present (`--inception-weights PATH` or torch hub's cache):
nothing downloads, and without it the command says so and exits 2.

The four depend on the set sizes: every row of a table must use the same
counts; the result records them.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any, Sequence

import numpy as np

from evaluation import knn_metrics
from evaluation import sources
from evaluation.results import run_command

#: 5,000 against 5,000: the prdc package holds N x N distance matrices (three, 100 MB each at 5,000), and the
#: cards' 5 draws of every entry stay within minutes of a shared CPU. Every row of a table uses these counts.
NUM_SAMPLES = 5_000
NUM_REFERENCE = 5_000
PER_CLASS_SAMPLES = 400  # 5,000 samples split over the digits give 500 of each
#: MNIST train[0:50000], the GAN paper's training split: the real manifold every MNIST row is measured against.
REFERENCE_SPLIT = "train"
REAL_PREFIX = "real:"
MNIST_REAL_SPLITS = ("test", "validation")
FACADES_REAL = "real:facades-test"
FEATURES = ("domain", "inception")
#: bytes per entry of the distance matrices the prdc package holds at once (float32, several of them).
_BYTES_PER_PAIR = 4 * 4


@dataclasses.dataclass
class PRDCResult:
    """The four metrics (and torch-fidelity's precision / recall) of one draw, with what was compared."""

    source: str
    domain: str
    features: str
    seed: int
    num_samples: int
    num_reference: int
    reference: str
    scores: dict[str, float]
    per_class: list[dict[str, float]] | None = None
    per_class_samples: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# ----------------------------------------------------------------- data
def _mnist_reference(num_reference: int, seed: int, data_dir: str | None) -> tuple[np.ndarray, np.ndarray]:
    """`num_reference` train images (and labels) drawn without replacement by `seed`."""
    from keras_gan import datasets

    train = datasets.mnist(REFERENCE_SPLIT, data_dir=data_dir)
    if num_reference > len(train.images):
        raise ValueError(f"--num-reference {num_reference}: MNIST {REFERENCE_SPLIT} has only {len(train.images)} "
                         "images.")
    index = np.sort(np.random.default_rng(seed).choice(len(train.images), num_reference, replace=False))
    return train.images[index], train.labels[index]


def _class_pool(images: np.ndarray, labels: np.ndarray, count: int, seed: int) -> list[np.ndarray]:
    """`count` images of each digit, drawn by `seed` (first the class's order, then a prefix)."""
    rng = np.random.default_rng(seed)
    return [images[rng.permutation(np.flatnonzero(labels == c))[:count]] for c in range(10)]


def _check_memory(num_samples: int, num_reference: int) -> None:
    biggest = max(num_samples, num_reference)
    need = _BYTES_PER_PAIR * biggest * biggest
    available = sources.available_memory_bytes()
    if available is not None and need > available:
        raise ValueError(f"{num_samples} samples against {num_reference} reference images need about "
                         f"{sources.format_bytes(need)} for the distance matrices; {sources.format_bytes(available)} "
                         "is available. Use smaller --num-samples / --num-reference (and the same for every row).")


# ----------------------------------------------------------------- evaluation
def _features(images: np.ndarray, domain: str, features: str, inception_weights: str | None) -> np.ndarray:
    from evaluation import prdc_features

    if features == "inception":
        path = prdc_features.inception_weights_path(inception_weights)
        uint8 = prdc_features.unit_to_uint8(images)[..., 0] if domain == "mnist" else images
        return prdc_features.torch_fidelity_features(uint8, prdc_features.INCEPTION, prdc_features.INCEPTION_FEATURE,
                                                     weights_path=path)
    if domain == "mnist":
        return prdc_features.mnist_features(images)
    return prdc_features.segmenter_features(images)


def _scores(real: np.ndarray, fake: np.ndarray, check: bool) -> dict[str, float]:
    return knn_metrics.both_libraries(real, fake) if check else knn_metrics.prdc(real, fake)


def evaluate(
    source: Any,
    *,
    num_samples: int = NUM_SAMPLES,
    num_reference: int = NUM_REFERENCE,
    seed: int = 0,
    data_dir: str | None = None,
    features: str = "domain",
    inception_weights: str | None = None,
    per_class: bool = True,
    per_class_samples: int = PER_CLASS_SAMPLES,
    check: bool = True,
    progress: bool = True,
) -> PRDCResult:
    """Precision, recall, density and coverage of `source` (see the module docstring).

    Raises ValueError / FileNotFoundError (exit status 2 on the command line)
    for an unknown source, missing data, absent Inception weights or counts
    that do not fit, before any sample is generated where it can.
    """
    if features not in FEATURES:
        raise ValueError(f"features must be one of {FEATURES}; got {features!r}.")
    if features == "inception":  # absent weights fail before any work
        from evaluation.prdc_features import inception_weights_path

        inception_weights = inception_weights_path(inception_weights)
    elif inception_weights is not None:
        raise ValueError("--inception-weights is only used with --features inception.")
    if isinstance(source, str) and source == FACADES_REAL:
        return _evaluate_facades(None, seed, data_dir, features, inception_weights, check, progress)
    if isinstance(source, str) and source.startswith(REAL_PREFIX):
        split = source[len(REAL_PREFIX):]
        if split not in MNIST_REAL_SPLITS:
            raise sources.SourceError(f"Unknown real set {source!r}; use real:test or real:validation (MNIST, "
                                      f"disjoint from the train images they are compared with) or {FACADES_REAL}.")
        model = None
    elif sources.is_samples_file(source):
        model = None
    else:
        model = sources.load_model(source)
        if hasattr(model, "translate"):
            return _evaluate_facades(model, seed, data_dir, features, inception_weights, check, progress,
                                     name=sources.describe(source))
    return _evaluate_mnist(source, model, num_samples, num_reference, seed, data_dir, features, inception_weights,
                           per_class, per_class_samples, check, progress)


def _evaluate_mnist(source, model, num_samples, num_reference, seed, data_dir, features, inception_weights,
                    per_class, per_class_samples, check, progress) -> PRDCResult:
    for name, value in (("--num-samples", num_samples), ("--num-reference", num_reference)):
        if value <= knn_metrics.DC_K:
            raise ValueError(f"{name} must be more than k = {knn_metrics.DC_K}; got {value}.")
    _check_memory(num_samples, num_reference)
    real_images, real_labels = _mnist_reference(num_reference, seed, data_dir)
    fake_labels = None
    if model is None and isinstance(source, str) and source.startswith(REAL_PREFIX):
        from keras_gan import datasets

        split = datasets.mnist(source[len(REAL_PREFIX):], data_dir=data_dir)
        if num_samples > len(split.images):
            raise ValueError(f"--num-samples {num_samples}: {source} has only {len(split.images)} images.")
        index = np.sort(np.random.default_rng(seed + 1).choice(len(split.images), num_samples, replace=False))
        fake_images, fake_labels, name = split.images[index], split.labels[index], f"real MNIST {source[5:]} images"
    else:
        if model is not None and sources.is_conditional(model):
            fake_labels = np.asarray(sources.class_labels(num_samples, int(model.num_classes)))
        fake_images = sources.load_samples(model if model is not None else source, num_samples, seed=seed,
                                           progress=progress)
        name = sources.describe(source)
    real = _features(real_images, "mnist", features, inception_weights)
    fake = _features(fake_images, "mnist", features, inception_weights)
    result = PRDCResult(name, "mnist", _feature_name("mnist", features), int(seed), int(num_samples),
                        int(num_reference), f"MNIST {REFERENCE_SPLIT}[0:50000], {num_reference} drawn by the seed",
                        _scores(real, fake, check))
    if per_class and fake_labels is not None and int(fake_labels.max()) == 9:
        count = min(per_class_samples, *(int(np.sum(fake_labels == c)) for c in range(10)))
        if count <= knn_metrics.DC_K:
            raise ValueError(f"per-class metrics need more than {knn_metrics.DC_K} samples of each digit; got "
                             f"{count}. Raise --num-samples or pass --no-per-class.")
        from keras_gan import datasets

        train = datasets.mnist(REFERENCE_SPLIT, data_dir=data_dir)
        real_pool = _class_pool(train.images, train.labels, count, seed)
        fake_pool = [fake_images[np.flatnonzero(fake_labels == c)[:count]] for c in range(10)]
        result.per_class = [knn_metrics.prdc(_features(r, "mnist", features, inception_weights),
                                             _features(f, "mnist", features, inception_weights))
                            for r, f in zip(real_pool, fake_pool)]
        result.per_class_samples = count
    return result


def _feature_name(domain: str, features: str) -> str:
    if features == "inception":
        return "Inception-v3 pool3 (2048-d)"
    return ("MNIST classifier penultimate (128-d)" if domain == "mnist"
            else "facade segmenter bottleneck, spatial mean (256-d)")


#: features of the fixed real photo sets, per (set, data_dir, features, weights): a process measuring
#: several draws (zoo.measure_draws) computes the 300 train photos' features once, not once per draw.
_PHOTO_FEATURES: dict[tuple, np.ndarray] = {}


def _photo_features(which: str, photos, data_dir, features, inception_weights) -> np.ndarray:
    key = (which, data_dir, features, inception_weights)
    if key not in _PHOTO_FEATURES:
        _PHOTO_FEATURES[key] = _features(photos(), "facades", features, inception_weights)
    return _PHOTO_FEATURES[key]


def _evaluate_facades(model, seed, data_dir, features, inception_weights, check, progress,
                      name: str = "real facades test photos") -> PRDCResult:
    from evaluation import paired
    from evaluation.fcn_score import to_uint8
    from keras_gan import datasets

    if datasets.facades_layout(data_dir, "test") != "cmp":
        raise ValueError("Facades precision / recall need the CMP base pairs (cmp_facade_base/, 300 / 28 / 50), "
                         "the split the segmenter was trained on; point --data-dir (or "
                         f"${datasets.DATA_DIR_ENV}) at the CMP data.")
    inputs, targets = datasets.facades("test", data_dir=data_dir, augment=False)
    real = _photo_features("train", lambda: to_uint8(datasets.facades("train", data_dir=data_dir, augment=False).targets),
                           data_dir, features, inception_weights)
    if model is None:  # the real test photos: fixed, so every seed gives the same numbers
        fake = _photo_features("test", lambda: to_uint8(targets), data_dir, features, inception_weights)
    else:
        photos = to_uint8(paired.translate_all(model, inputs, mode="paper", seed=seed, progress=progress))
        fake = _features(photos, "facades", features, inception_weights)
    return PRDCResult(name, "facades", _feature_name("facades", features), int(seed), len(fake), len(real),
                      f"CMP facades train photos (all {len(real)})", _scores(real, fake, check))


# ----------------------------------------------------------------- command line
def format_table(result: PRDCResult) -> str:
    s = result.scores
    lines = [
        f"precision / recall (k = {s['pr_k']}) and density / coverage (k = {s['dc_k']}) of {result.source}",
        f"  {result.num_samples} samples against {result.num_reference} reference images ({result.reference}); "
        f"features: {result.features}; seed {result.seed}",
        f"  precision {s['precision']:.4f}  recall {s['recall']:.4f}  density {s['density']:.4f}  "
        f"coverage {s['coverage']:.4f}",
    ]
    if "tf_precision" in s:
        lines.append(f"  torch-fidelity on the same features: precision {s['tf_precision']:.4f}  recall "
                     f"{s['tf_recall']:.4f}  (largest difference {s['pr_disagreement']:.2g})")
    if result.per_class:
        lines.append(f"  per digit ({result.per_class_samples} samples vs {result.per_class_samples} train images "
                     "of that digit):")
        lines.append("    digit " + " ".join(f"{c:>6d}" for c in range(10)))
        for key in knn_metrics.METRICS:
            lines.append(f"    {key[:5]:5s} " + " ".join(f"{row[key]:6.3f}" for row in result.per_class))
    return "\n".join(lines)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.prdc",
        description="Precision / recall (k = 3) and density / coverage (k = 5) of a generator in the "
        "project's feature spaces (MNIST classifier, facade segmenter).",
        epilog="examples:\n  python -m evaluation.prdc gan-mnist --json gan.prdc.json\n"
        "  python -m evaluation.prdc real:test            # the reference row\n"
        "  python -m evaluation.prdc pix2pix-facades\n\n"
        "Exit status 2 (and no JSON written) for bad arguments, an unknown checkpoint, missing data or absent "
        "Inception weights.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("checkpoint", metavar="CKPT", help="an MNIST or facades model (.keras, zoo name, "
                        "NAME.weights.h5), a .npy of MNIST samples, real:test, real:validation or real:facades-test")
    parser.add_argument("--num-samples", type=_positive, default=NUM_SAMPLES, help="MNIST samples (default 5000)")
    parser.add_argument("--num-reference", type=_positive, default=NUM_REFERENCE,
                        help="MNIST train images they are compared with (default 5000)")
    parser.add_argument("--per-class-samples", type=_positive, default=PER_CLASS_SAMPLES,
                        help="samples per digit for a conditional model's per-digit rows (default 400)")
    parser.add_argument("--no-per-class", action="store_true", help="skip the per-digit rows")
    parser.add_argument("--no-check", action="store_true",
                        help="skip torch-fidelity's precision / recall (a few seconds)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the samples and of the reference draw")
    parser.add_argument("--features", choices=FEATURES, default="domain",
                        help="domain (MNIST classifier / facade segmenter, default) or inception")
    parser.add_argument("--inception-weights", metavar="PATH", help="torch-fidelity's Inception-v3 weights file "
                        "(never downloaded)")
    parser.add_argument("--data-dir", help="data folder (default: $KERAS_GAN_DATA_DIR)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--json", metavar="PATH", help="write the result as JSON to PATH")
    sources.add_allow_unverified_argument(parser)
    return parser


def _evaluate(args: argparse.Namespace) -> PRDCResult:
    return evaluate(args.checkpoint, num_samples=args.num_samples, num_reference=args.num_reference, seed=args.seed,
                    data_dir=args.data_dir, features=args.features, inception_weights=args.inception_weights,
                    per_class=not args.no_per_class, per_class_samples=args.per_class_samples,
                    check=not args.no_check, progress=not args.quiet)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 for any usage or input error)."""
    return run_command(argv, build_parser().parse_args, _evaluate, format_table, lambda r: r.to_dict())


if __name__ == "__main__":
    sys.exit(main())
