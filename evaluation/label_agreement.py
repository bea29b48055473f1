"""Label agreement of a conditional MNIST generator: does the label pick the digit?

A conditional GAN can score well on the Parzen estimate while ignoring its
label: Parzen pools the samples of all classes. Label agreement measures the
conditioning itself. Draw `num_samples` samples split evenly over the 10
digits, the split the Parzen evaluation uses (`evaluation.sources.class_labels`).
Classify them with the offline MNIST classifier (`evaluation.mnist_classifier`).
Report how often the predicted digit is the asked one, overall and per digit.
Chance is 10%. The classifier's own accuracy on the MNIST test images is the
ceiling, and it is printed beside the model's agreement.

The CGAN paper reports no such number (only Parzen, Table 1); the
zoo card of `cgan-mnist` reports both.

Command line: `python -m evaluation.label_agreement --help`.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any, Sequence

import numpy as np

from evaluation import sources
from evaluation.results import run_command

NUM_SAMPLES = 10_000


@dataclasses.dataclass
class LabelAgreement:
    """How often the classifier reads the asked digit; `per_class[c]` for digit c."""

    source: str
    num_samples: int
    seed: int
    agreement: float
    per_class: list[float]
    classifier_test_accuracy: float | None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def label_agreement(
    source: Any,
    num_samples: int = NUM_SAMPLES,
    *,
    seed: int = 0,
    data_dir: str | None = None,
    baseline: bool = True,
    progress: bool = True,
) -> LabelAgreement:
    """Agreement between asked labels and the classifier's reading of the samples.

    Args:
        source: a conditional model, its `.keras` file, a zoo name or a zoo
            `NAME.weights.h5` export (see `evaluation.sources`).
        num_samples: samples, split evenly over the classes.
        seed: seed of the generator's noise.
        data_dir: MNIST folder for the classifier's test accuracy (the ceiling).
        baseline: compute that ceiling (needs the MNIST test files).

    Raises:
        SourceError: the source cannot be loaded or is not a conditional model
            of 10 classes.
    """
    from evaluation.mnist_classifier import predict_labels

    model = sources.load_model(source)
    if not sources.is_conditional(model) or int(model.num_classes) != 10:
        raise sources.SourceError(
            f"{sources.describe(source)} is not a conditional MNIST generator (10 classes); label agreement "
            "needs generate(labels). For an unconditional GAN use evaluation.parzen or evaluation.fidelity."
        )
    labels = sources.class_labels(num_samples, 10)
    samples = sources.load_samples(model, num_samples, seed=seed, progress=progress)
    predicted = predict_labels(samples)
    per_class = [float(np.mean(predicted[labels == c] == c)) if np.any(labels == c) else float("nan")
                 for c in range(10)]
    ceiling = None
    if baseline:
        from keras_gan import datasets

        test = datasets.mnist("test", data_dir=data_dir)
        ceiling = float(np.mean(predict_labels(test.images) == test.labels))
    return LabelAgreement(sources.describe(source), int(num_samples), int(seed),
                          float(np.mean(predicted == labels)), per_class, ceiling)


def format_table(result: LabelAgreement) -> str:
    lines = [
        f"label agreement of {result.num_samples} samples (split evenly over the digits; chance 10%)",
        f"source: {result.source}",
        f"  this model                     {result.agreement:7.2%}",
    ]
    if result.classifier_test_accuracy is not None:
        lines.append(f"  classifier on MNIST test images {result.classifier_test_accuracy:6.2%}  (the ceiling)")
    lines.append("  per digit: " + " ".join(f"{c}:{v:.0%}" for c, v in enumerate(result.per_class)))
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.label_agreement",
        description="How often a conditional MNIST generator draws the digit it is asked for "
        "(read by the offline MNIST classifier).",
        epilog="examples:\n  python -m evaluation.label_agreement cgan-mnist\n"
        "  python -m evaluation.label_agreement outputs/zoo/cgan-mnist/export/cgan-mnist.weights.h5 --json a.json\n\n"
        "Exit status 2 (and no JSON written) for bad arguments, an unknown or unconditional checkpoint "
        "or missing data.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("checkpoint", metavar="CKPT",
                        help="a conditional model's .keras file, a zoo name or a NAME.weights.h5 export")
    parser.add_argument("--num-samples", type=int, default=NUM_SAMPLES, help="samples (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generator's noise (default 0)")
    parser.add_argument("--data-dir", help="MNIST folder for the ceiling (default: $KERAS_GAN_DATA_DIR)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the classifier's test accuracy")
    parser.add_argument("--json", metavar="PATH", help="write the result as JSON to PATH")
    sources.add_allow_unverified_argument(parser)
    return parser


def _evaluate(args: argparse.Namespace) -> LabelAgreement:
    if args.num_samples < 10:
        raise ValueError(f"--num-samples must be at least 10 (one per digit); got {args.num_samples}.")
    return label_agreement(args.checkpoint, args.num_samples, seed=args.seed, data_dir=args.data_dir,
                           baseline=not args.no_baseline)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 for any usage or input error)."""
    return run_command(argv, build_parser().parse_args, _evaluate, format_table, lambda r: r.to_dict())


if __name__ == "__main__":
    sys.exit(main())
