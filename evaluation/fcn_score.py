"""pix2pix's FCN-score on facades: how well a segmenter trained on real photos reads the synthesized ones.

Isola et al. 2017, section 4.2 and Table 1: translate every test label map
into a photo, segment the photo with a network trained on real photos only,
and compare the segmentation with the label map the photo was made from.
Three scores from one confusion matrix accumulated over all test pixels, with
the conventions of Long et al.'s FCN `score.py` (which pix2pix's Cityscapes
evaluation follows):

- **per-pixel accuracy**: correctly classified pixels / all pixels;
- **per-class accuracy**: the mean over classes of each class's recall;
- **class IoU**: the mean over classes of intersection / union.

A class absent from the labels is left out of the per-class accuracy (its
recall is undefined), and a class absent from both the labels and the
predictions is left out of the IoU mean; a class predicted but absent from
the labels counts 0 in the IoU mean (`np.nanmean`, as in Long et al.).
pix2pix's own `eval_cityscapes/util.py` adds 1e-12 to the denominators
instead, so there an absent class counts 0 in both means. On the full facades
test split every class is present and the two agree; they differ on small
`--limit` subsets that miss a class.

The segmenter is `evaluation.facade_segmenter` (12 CMP classes, trained on
our 300 train photos). Paper numbers (Table 1, Cityscapes, FCN-8s) are not
comparable in absolute value, only in ordering: L1 0.42 / 0.15 / 0.11, cGAN
0.57 / 0.22 / 0.16, L1 + cGAN 0.66 / 0.23 / 0.17, ground truth 0.80 / 0.26 / 0.21.

Command line: `python -m evaluation.fcn_score --help`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from typing import Any, Sequence

import numpy as np

from evaluation.keras_free import papers

NUM_CLASSES = 12
SCORE_NAMES = ("per_pixel_accuracy", "per_class_accuracy", "class_iou")
#: Table 1 of the paper (Cityscapes labels -> photo, FCN-8s): per-pixel, per-class, class IoU:
#: keras_gan.zoo.papers.PIX2PIX_FCN_SCORES itself, read without importing keras_gan (which would
#: start Keras, hence TensorFlow, before torch-fidelity; see evaluation/keras_free.py).
PAPER_TABLE_1 = papers.PIX2PIX_FCN_SCORES


def confusion_matrix(predicted: np.ndarray, labels: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """(num_classes, num_classes) int64 counts: rows are the true classes, columns the predicted ones."""
    predicted, labels = np.asarray(predicted), np.asarray(labels)
    if predicted.shape != labels.shape:
        raise ValueError(f"predictions have shape {predicted.shape} but labels {labels.shape}; they must match.")
    for name, array in (("predictions", predicted), ("labels", labels)):
        if not np.issubdtype(array.dtype, np.integer):
            raise ValueError(f"{name} must be integer class indices; got dtype {array.dtype}.")
        if array.size and (array.min() < 0 or array.max() >= num_classes):
            raise ValueError(f"{name} hold classes outside 0..{num_classes - 1} "
                             f"(found {array.min()}..{array.max()}).")
    index = labels.astype(np.int64).ravel() * num_classes + predicted.astype(np.int64).ravel()
    return np.bincount(index, minlength=num_classes**2).reshape(num_classes, num_classes)


def scores_from_confusion(matrix: np.ndarray) -> dict[str, float]:
    """Per-pixel accuracy, per-class accuracy and mean class IoU of a confusion matrix."""
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.sum() == 0:
        raise ValueError("The confusion matrix is empty: no pixels were scored.")
    diagonal = np.diag(matrix)
    truth, predicted = matrix.sum(1), matrix.sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(truth > 0, diagonal / truth, np.nan)
        union = truth + predicted - diagonal
        iou = np.where(union > 0, diagonal / union, np.nan)
    return {
        "per_pixel_accuracy": float(diagonal.sum() / matrix.sum()),
        "per_class_accuracy": float(np.nanmean(recall)),
        "class_iou": float(np.nanmean(iou)),
    }


def segmentation_scores(predicted: np.ndarray, labels: np.ndarray, num_classes: int = NUM_CLASSES) -> dict:
    """The three FCN scores of predicted class maps against true ones (both (N, H, W) integers)."""
    return scores_from_confusion(confusion_matrix(predicted, labels, num_classes))


# ------------------------------------------------------------- evaluation
#: torch-fidelity feature extractor name of the segmenter (`evaluation.fidelity_engine`).
SEGMENTER_EXTRACTOR = "facade-segmenter"
#: The image size the segmenter was trained on and reads (the paper's 256 x 256, section 6.2).
SEGMENTER_IMAGE_SIZE = 256
#: KID subset size for facades: the 50 test translations are the smaller set, so every
#: subset holds all of them (KID's unbiased MMD^2 then varies only through the reference draw).
FACADES_KID_SUBSET_SIZE = 50


@dataclasses.dataclass
class FCNResult:
    """The three scores of the source, with the reference rows computed on the same labels."""

    source: str
    split: str
    n: int
    scores: dict[str, float]
    real_photo_scores: dict[str, float]
    mean_photo_scores: dict[str, float]
    fidelity: dict[str, Any] | None
    settings: dict[str, Any]
    timings: dict[str, float]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _translations_from_npy(path: str, expected: tuple) -> np.ndarray:
    """Translations stored as .npy: float in [-1, 1] or uint8, (N, H, W, 3) matching the split."""
    from evaluation import sources

    sources.check_file_exists(path)
    try:
        array = np.load(path, allow_pickle=False)
    except Exception as e:  # truncated file, pickled object array, not a .npy
        raise sources.SourceError(f"Cannot read {path} as a .npy array: {e}. The file is corrupt, cut short or "
                                  "not a .npy file: save the translations again with numpy.save.") from e
    if array.shape != expected:
        raise sources.SourceError(
            f"{path} holds an array of shape {array.shape}; expected the translations of the split's "
            f"inputs, in order: {expected}. Translate every input of the split (--split, --limit choose "
            "them), in the split's order, and save them all in one array."
        )
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 127.5 - 1.0
    if not np.issubdtype(array.dtype, np.floating):
        raise sources.SourceError(f"{path} has dtype {array.dtype}; expected float in [-1, 1] or uint8: save the "
                                  "generator's outputs as float32, or images in [0, 255] as uint8.")
    finite = np.isfinite(array)
    if not finite.all():
        raise sources.SourceError(f"{path} holds {int((~finite).sum())} non-finite values (NaN or inf); "
                                  "translations must be finite, in [-1, 1] (the generator's tanh range).")
    if array.min() < -1 - 1e-3 or array.max() > 1 + 1e-3:
        raise sources.SourceError(
            f"{path} has values in [{array.min():.3g}, {array.max():.3g}]; "
            "translations must be in [-1, 1] (the generator's tanh range): save the generator's outputs "
            "unscaled, or images in [0, 255] as uint8 (float [0, 255] images: images / 127.5 - 1).")
    return np.clip(array.astype(np.float32), -1.0, 1.0)


def to_uint8(images: np.ndarray) -> np.ndarray:
    """[-1, 1] floats -> uint8, as if saved as PNG."""
    return np.round((np.clip(images, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)


def facades_fidelity(photos: np.ndarray, reference: np.ndarray, seed: int = 0, verbose: bool = False) -> dict:
    """facades-FID and KID of `photos` against `reference` (uint8 (N, H, W, 3)), on segmenter features.

    Computed by torch-fidelity with the "facade-segmenter" extractor, in a
    separate process when TensorFlow is loaded here (see `evaluation.fidelity`).
    """
    from evaluation.fidelity import default_cache_root, torch_fidelity_safe_here

    import hashlib

    from evaluation import facade_segmenter

    digest = hashlib.sha256(np.ascontiguousarray(reference).tobytes()).hexdigest()[:12]
    weights = facade_segmenter.file_sha256(facade_segmenter.verify_checkpoint())[:12]
    request = dict(metrics=["fid", "kid"], feature_extractor=SEGMENTER_EXTRACTOR, weights_path=None,
                   # the reference features are computed once per (images, segmenter weights)
                   reference_cache_name=f"keras_gan-facades-{len(reference)}-{digest}-{SEGMENTER_EXTRACTOR}-{weights}",
                   cache_root=default_cache_root(), use_cache=True, batch_size=10,
                   kid_subset_size=min(FACADES_KID_SUBSET_SIZE, len(photos), len(reference)), seed=int(seed),
                   verbose=bool(verbose))
    if torch_fidelity_safe_here():
        from evaluation.fidelity_engine import compute_with_torch_fidelity

        values = compute_with_torch_fidelity(photos, reference, **request)
    else:
        from evaluation.fidelity_worker import run_in_worker

        values = run_in_worker(photos, reference, request)
    return {**values, "num_samples": len(photos), "num_reference": len(reference),
            "kid_subset_size": request["kid_subset_size"], "feature_extractor": SEGMENTER_EXTRACTOR}


def reference_rows(targets: np.ndarray, labels: np.ndarray, train_photos: np.ndarray, segmenter=None) -> tuple:
    """The scores of the real photos (a reference: on facades the models score above it, see the
    card) and of the mean training photo for every input."""
    from evaluation.facade_segmenter import segment

    real = segmentation_scores(segment(targets, segmenter), labels)
    mean_photo = train_photos.mean(axis=0, keepdims=True)
    mean_prediction = np.repeat(segment(mean_photo, segmenter), len(labels), axis=0)
    return real, segmentation_scores(mean_prediction, labels)


def evaluate_fcn(
    source: Any,
    split: str = "test",
    data_dir: str | None = None,
    *,
    limit: int | None = None,
    mode: str = "paper",
    seed: int | None = 0,
    fidelity: bool = True,
    progress: bool = True,
) -> FCNResult:
    """Translate the facades `split` with `source` and compute its FCN scores.

    Args:
        source: a model with `translate`, its `.keras` file, a zoo name or a zoo
            export `NAME.weights.h5`; or a `.npy` file of translations of the
            split's inputs, in order ((N, 256, 256, 3), float in [-1, 1] or uint8).
        split, data_dir, limit, mode, seed: as `evaluation.paired.evaluate_paired`
            (translations in the paper's test mode by default).
        fidelity: also compute facades-FID / KID of the translations against the
            real train photos (300 in the CMP split), with the real test photos' values beside
            them (the distance between two real sets).

    Raises ValueError (exit status 2 on the command line) before any work for a data folder in
    the pix2pix archive's layout (its split is not the one the segmenter was trained on), a model
    that does not translate 256 x 256 images, or fewer than 2 images with `fidelity`.
    """
    from evaluation import paired, sources
    from evaluation.facade_segmenter import load_segmenter, segment

    timings = {}
    segmenter = load_segmenter()  # first: a bad segmenter checkpoint fails before any work
    if fidelity and limit is not None and limit < 2:
        raise ValueError(f"--limit {limit}: facades-FID / KID need at least 2 images (KID's subsets and FID's "
                         "covariance); use a larger --limit or --no-fidelity.")
    from keras_gan import datasets

    if datasets.facades_layout(data_dir, split) != "cmp":
        raise ValueError(
            "The FCN-score needs the CMP base pairs (a folder holding cmp_facade_base/, this project's fixed "
            "300 / 28 / 50 split): its segmenter was trained on that split's train photos, and the pix2pix "
            "archive's facades/ split (400 / 100 / 106, the base and extended sets mixed) can put those "
            "photos in its test split, which would inflate every score. Point --data-dir (or "
            f"${datasets.DATA_DIR_ENV}) at the CMP data.")
    is_npy = sources.is_samples_file(source)
    model = None if is_npy else sources.load_model(source)
    if model is not None:
        paired._require_translate(model, "the FCN-score")
        size = paired._model_image_size(model)
        if size != SEGMENTER_IMAGE_SIZE:
            raise ValueError(f"{sources.describe(source)} translates {size} x {size} images; the FCN-score's "
                             f"segmenter reads {SEGMENTER_IMAGE_SIZE} x {SEGMENTER_IMAGE_SIZE} (the paper's size). "
                             "Score a model built for 256 x 256 inputs.")
    start = time.perf_counter()
    # never jittered: the translations must line up with the label maps they are scored against
    inputs, targets = datasets.facades(split, data_dir=data_dir, limit=limit, augment=False)
    labels = datasets.label_map_classes(inputs)
    timings["load_data_s"] = time.perf_counter() - start
    start = time.perf_counter()
    if is_npy:
        translations = _translations_from_npy(os.fspath(source), inputs.shape)
    else:
        translations = paired.translate_all(model, inputs, mode=mode, seed=seed, progress=progress)
    timings["translate_s"] = time.perf_counter() - start
    start = time.perf_counter()
    train_photos = datasets.facades("train", data_dir=data_dir, augment=False).targets
    scores = segmentation_scores(segment(translations, segmenter), labels)
    real, mean_scores = reference_rows(targets, labels, train_photos, segmenter)
    timings["segment_s"] = time.perf_counter() - start
    fid = None
    if fidelity:
        start = time.perf_counter()
        reference = to_uint8(train_photos)
        fid = {"source": facades_fidelity(to_uint8(translations), reference, seed=seed or 0),
               "real_photos": facades_fidelity(to_uint8(targets), reference, seed=seed or 0)}
        timings["fidelity_s"] = time.perf_counter() - start
    return FCNResult(
        source=sources.describe(source), split=split, n=len(labels), scores=scores, real_photo_scores=real,
        mean_photo_scores=mean_scores, fidelity=fid,
        settings={"mode": None if is_npy else mode, "seed": seed, "segmenter": "evaluation/weights/facade_segmenter.pt",
                  "labels": "the input label maps, nearest CMP palette colour",
                  "data": f"CMP facade base, {split} split ({len(labels)} pairs)",
                  "fidelity_reference": f"facades train photos ({len(train_photos)}, unjittered)" if fidelity
                  else None},
        timings=timings,
    )


# -------------------------------------------------------------- command line
def format_table(result: FCNResult) -> str:
    header = f"{'':34s}{'per-pixel':>10s}{'per-class':>10s}{'class IoU':>10s}"
    with_fid = result.fidelity is not None
    if with_fid:
        header += f"{'FID':>9s}{'KID x1e3':>12s}"

    def row(name, scores, fid=None):
        line = f"{name:34s}" + "".join(f"{scores[k]:10.3f}" for k in SCORE_NAMES)
        if fid is not None:
            line += f"{fid['fid']:9.1f}{1e3 * fid['kid_mean']:8.1f}+-{1e3 * fid['kid_std']:.1f}"
        return line

    lines = [f"FCN-score on facades {result.split} ({result.n} label maps; segmenter trained on real train photos)",
             f"source: {result.source}", header,
             row("this model", result.scores, result.fidelity["source"] if with_fid else None),
             row("real test photos (reference)", result.real_photo_scores,
                 result.fidelity["real_photos"] if with_fid else None),
             row("mean training photo", result.mean_photo_scores)]
    lines.append("paper, Table 1 (Cityscapes, FCN-8s; ordering only):")
    for name, values in PAPER_TABLE_1.items():
        lines.append(f"  {name:32s}" + "".join(f"{v:10.2f}" for v in values))
    if with_fid:
        fid = result.fidelity["source"]
        lines.append(f"FID / KID on segmenter features: {fid['num_samples']} images vs {fid['num_reference']} "
                     f"real train photos, KID subset size {fid['kid_subset_size']}")
    return "\n".join(lines)


_EXAMPLES = """examples:
  python -m evaluation.fcn_score pix2pix-facades                 # a zoo model, facades test split
  python -m evaluation.fcn_score DIR/export/pix2pix-facades-l1.weights.h5 --json l1.json
  python -m evaluation.fcn_score translations.npy --no-fidelity  # (50, 256, 256, 3) in [-1, 1], test order

CKPT is a .keras file, a zoo name, a zoo export NAME.weights.h5, or a .npy file of
translations of the split's label maps in order. Exit status 2 (and no JSON written)
for bad arguments, an unknown or unreadable CKPT, missing data or a bad segmenter file.
"""


def build_parser() -> argparse.ArgumentParser:
    from evaluation.paired import add_translation_arguments

    parser = argparse.ArgumentParser(
        prog="python -m evaluation.fcn_score",
        description="pix2pix's FCN-score (per-pixel / per-class accuracy, class IoU) on facades, "
                    "with facades-FID / KID on the segmenter's features.",
        epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("checkpoint", metavar="CKPT", help="a .keras file, a zoo name, NAME.weights.h5 or a .npy")
    add_translation_arguments(parser)
    parser.add_argument("--no-fidelity", action="store_true", help="skip facades-FID / KID")
    parser.add_argument("--json", metavar="PATH", help="write the result as JSON to PATH")
    return parser


def _evaluate(args: argparse.Namespace) -> FCNResult:
    return evaluate_fcn(args.checkpoint, split=args.split, data_dir=args.data_dir, limit=args.limit,
                        mode=args.mode, seed=args.seed, fidelity=not args.no_fidelity)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 for any usage or input error)."""
    from evaluation.results import run_command

    return run_command(argv, build_parser().parse_args, _evaluate, format_table, lambda r: r.to_dict())


if __name__ == "__main__":
    sys.exit(main())
