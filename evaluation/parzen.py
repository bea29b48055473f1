"""Parzen-window log-likelihood of MNIST test images, the protocol of Goodfellow et al. (2014).

The GAN paper (Section 5, Table 1) estimates the log-likelihood of the test
set under a generator by fitting a Gaussian Parzen window to its samples
(reference code: goodfeli/adversarial, `parzen_ll.py`):

1. draw 10,000 samples s_1..s_n from the generator (pixels in [0, 1]);
2. the density is the mixture p(x) = 1/n sum_j N(x; s_j, sigma^2 I), so
   log p(x) = log-mean-exp_j(-||x - s_j||^2 / (2 sigma^2)) - d/2 log(2 pi sigma^2);
3. sigma is chosen from `np.logspace(-1, 0, 10)` by the mean log-likelihood of
   the first 1,000 validation images (MNIST train[50000:60000]);
4. the result is the mean log-likelihood of the 10,000 test images, with its
   standard error std / sqrt(N) (numpy's std, ddof=0, as the reference code).

Paper numbers (nats, MNIST): GAN 225 +- 2, DBN 138 +- 2, Stacked CAE
121 +- 1.6, Deep GSN 214 +- 1.1 (Goodfellow et al. 2014, Table 1); conditional
adversarial net 132 +- 1.8 (Mirza & Osindero 2014, Table 1). Every result is
printed beside the score of 10,000 real training images used as the "samples"
(the real-data row of Theis et al. 2016, "A note on the evaluation of
generative models"), to read a model's number against: 241.2 +- 2.1 nats
for MNIST train[0:10000] with this protocol (sigma 0.1668).

**How it is computed, and how exactly.** The reference code forms the
batch x samples x d tensor of differences; here the squared distances come
from the expansion ||x||^2 + ||s||^2 - 2 x.s, one matrix product per chunk of
data rows (memory: about 16 bytes x batch_size x num_samples). The expansion
cancels badly in float32: on real MNIST (samples = train[0:10000], 2,000
test images) a float32 product is off by up to 1.1e-2 nats per example at
sigma = 0.1 (4e-3 even after centering on the samples' mean), above the
1e-3 target. So the product is float64 (twice the float32 time: 1.6 s for
10k x 10k x 784 on the 2 cores, idle) and exact to ~1e-11 nats. Only after
subtracting each row's maximum in float64 is the table cast to float32, where
numpy's exp is ~20x faster than in float64; the terms that matter (within
~30 nats of the maximum) lose at most ~2e-6 nats in that cast.

Measured with `python bench/bench_parzen.py --check-rows 10000` (samples =
MNIST train[0:10000]): largest difference from a direct float64
implementation (explicit differences) 3.5e-7 nats per example over all
10,000 test images and the whole sigma grid. Full protocol (sigma search on
1,000 validation images, then 10,000 test images): 4.6-4.8 s of CPU time,
9-12 s wall while the 2 cores were shared with training jobs (load average
7-9). Not timed end to end on an idle machine (none was); from its parts it
should take ~2.5-3 s there: the float64 products (11k x 10k x 785) took
1.6-1.8 s wall at load 0.7, and the element-wise work is 1.2-1.7 s of CPU
time split over two threads. The direct algorithm of the reference code
takes ~130 ms per image and sigma (loaded machine), ~45 minutes for the
protocol: a speed-up of ~200x loaded.

Command line: `python -m evaluation.parzen --help`.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import sys
import time
import warnings
from typing import Any, Sequence

import numpy as np

from evaluation import sources
from evaluation.keras_free import papers
from evaluation.results import run_command, write_json_atomically

NUM_SAMPLES = 10_000
NUM_VALIDATION = 1_000
CACHE_ENV = "KERAS_GAN_CACHE"
#: bump when the computation changes, so cached baselines are recomputed.
_BASELINE_VERSION = 1


@dataclasses.dataclass(frozen=True)
class PaperNumber:
    """A published Parzen log-likelihood on MNIST (nats), with where it was published."""

    model: str
    mean: float
    se: float
    citation: str


#: keras_gan.zoo.papers.PARZEN_MNIST, the one copy (read without importing Keras).
PAPER_NUMBERS = {family: PaperNumber(*row) for family, row in papers.PARZEN_MNIST.items()}


# ----------------------------------------------------------------- the kernel
# The numpy kernel lives in the library (keras_gan/metrics/parzen.py), so that keras_gan's own
# callbacks use it without importing this application package. It is re-exported here lazily
# (module __getattr__): importing keras_gan starts Keras, and this module's command line must
# answer --help and argument errors without it.
_KERNEL = ("BATCH_SIZE", "SIGMA_GRID", "parzen_log_likelihood", "parzen_log_likelihoods", "select_sigma",
           "standard_error")
#: the defaults of the kernel, repeated as plain values so that signatures and --help need no import
#: (a test checks they equal keras_gan.metrics.parzen's).
SIGMA_GRID_DEFAULT = tuple(float(s) for s in np.logspace(-1.0, 0.0, 10))
BATCH_SIZE_DEFAULT = 500


def __getattr__(name: str):
    if name in _KERNEL:
        from keras_gan.metrics import parzen as kernel

        return getattr(kernel, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _kernel():
    from keras_gan.metrics import parzen as kernel

    return kernel


# ---------------------------------------------------------------- the protocol
@dataclasses.dataclass
class ParzenScore:
    """One Parzen evaluation: the sigma used, the test mean and its standard error."""

    sigma: float
    mean: float
    se: float
    n: int
    validation_means: dict[float, float]  # sigma -> mean validation LL; empty if sigma was given

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["validation_means"] = {repr(k): v for k, v in self.validation_means.items()}
        return data


@dataclasses.dataclass
class ParzenResult:
    """What `evaluate` found, with everything needed to read the number.

    `baseline` is the same protocol with `num_samples` real training images as
    the samples (None with `baseline=False`); `paper` is the published number
    for the model's family (None when unknown); `paper_numbers` is the whole
    table; `timings` are seconds per stage.
    """

    source: str
    family: str | None
    num_samples: int
    sigma: float
    mean: float
    se: float
    n: int
    validation_means: dict[float, float]
    baseline: ParzenScore | None
    paper: PaperNumber | None
    paper_numbers: dict[str, PaperNumber]
    timings: dict[str, float]
    settings: dict[str, Any]

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["validation_means"] = {repr(k): v for k, v in self.validation_means.items()}
        data["baseline"] = self.baseline.to_dict() if self.baseline else None
        return data


def _score(samples, validation, test, sigma, sigmas, batch_size, progress) -> ParzenScore:
    if sigma is None:
        sigma, means = _kernel().select_sigma(samples, validation, sigmas, batch_size)
    else:
        means = {}
    lls = _kernel().parzen_log_likelihood(samples, test, sigma, batch_size, progress)
    return ParzenScore(float(sigma), float(lls.mean()), _kernel().standard_error(lls), len(lls), means)


def evaluate(
    source: Any,
    data_dir: str | None = None,
    num_samples: int = NUM_SAMPLES,
    sigma: float | None = None,
    *,
    sigmas: Sequence[float] = SIGMA_GRID_DEFAULT,
    num_validation: int = NUM_VALIDATION,
    num_test: int | None = None,
    batch_size: int = BATCH_SIZE_DEFAULT,
    seed: int = 0,
    value_range: tuple[float, float] = (0.0, 1.0),
    baseline: bool = True,
    progress: bool = True,
) -> ParzenResult:
    """Run the GAN paper's Parzen protocol on `source` (see the module docstring).

    Args:
        source: a model, `.keras` file, zoo name or `.npy` of samples
            (`evaluation.sources`).
        data_dir: MNIST folder (default `$KERAS_GAN_DATA_DIR`).
        num_samples: generator samples = Parzen kernels (paper: 10,000).
        sigma: kernel width; None searches `sigmas` on the validation images.
        sigmas: the grid searched (paper: logspace(-1, 0, 10)).
        num_validation: first validation images used for the search (paper: 1,000).
        num_test: first test images scored (paper: all 10,000; fewer only for quick checks).
        batch_size: data rows per matrix product (memory, not results).
        seed: seed of the generator's noise.
        value_range: range of the generator's output, mapped to [0, 1].
        baseline: also score `num_samples` real training images (cached).
        progress: show progress bars.
    """
    sources.check_file_exists(source)
    from keras_gan import datasets

    sigmas = tuple(float(s) for s in _kernel()._checked_sigmas(sigmas))
    if sigma is not None:
        sigma = float(_kernel()._checked_sigmas([sigma])[0])
    num_validation = _count("num_validation", num_validation, 10_000)
    if num_test is not None:
        num_test = _count("num_test", num_test, 10_000)
    timings: dict[str, float] = {}

    # The model first: a bad checkpoint fails before the data are read.
    model = source if sources.is_samples_file(source) else sources.load_model(source)
    family = sources.model_family(model)
    start = time.perf_counter()
    validation = datasets.mnist("validation", data_dir=data_dir, limit=num_validation).images
    test = datasets.mnist("test", data_dir=data_dir, limit=num_test).images
    timings["load_data_s"] = time.perf_counter() - start

    start = time.perf_counter()
    samples = sources.load_samples(
        model, num_samples, seed=seed, value_range=value_range, progress=progress
    )
    timings["sampling_s"] = time.perf_counter() - start

    start = time.perf_counter()
    score = _score(samples, validation, test, sigma, sigmas, batch_size, progress)
    timings["parzen_s"] = time.perf_counter() - start

    settings = {
        "num_samples": int(num_samples),
        "sigmas": list(sigmas),
        "sigma_given": sigma,
        "num_validation": num_validation,
        "num_test": len(test),
        "seed": seed,
        "batch_size": int(batch_size),
    }
    real = None
    if baseline:
        start = time.perf_counter()
        real = real_data_baseline(
            validation, test, int(num_samples), sigmas, data_dir, batch_size, progress
        )
        timings["baseline_s"] = time.perf_counter() - start
    return ParzenResult(
        source=sources.describe(source),
        family=family,
        num_samples=int(num_samples),
        sigma=score.sigma,
        mean=score.mean,
        se=score.se,
        n=score.n,
        validation_means=score.validation_means,
        baseline=real,
        paper=PAPER_NUMBERS.get(family) if family else None,
        paper_numbers=dict(PAPER_NUMBERS),
        timings=timings,
        settings=settings,
    )


def _count(name: str, value: Any, maximum: int) -> int:
    if isinstance(value, bool) or int(value) != value or not 0 < value <= maximum:
        raise ValueError(f"{name} must be an integer in 1..{maximum}; got {value!r}.")
    return int(value)


# ------------------------------------------------------- real-data baseline
def cache_dir() -> str:
    """Where computed baselines are kept: `$KERAS_GAN_CACHE` or ~/.cache/keras_gan."""
    return os.path.expanduser(os.environ.get(CACHE_ENV) or os.path.join("~", ".cache", "keras_gan"))


def _fingerprint(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array, dtype=np.float32).tobytes()).hexdigest()


def real_data_baseline(
    validation: np.ndarray,
    test: np.ndarray,
    num_samples: int = NUM_SAMPLES,
    sigmas: Sequence[float] = SIGMA_GRID_DEFAULT,
    data_dir: str | None = None,
    batch_size: int = BATCH_SIZE_DEFAULT,
    progress: bool = False,
) -> ParzenScore:
    """Parzen score of the first `num_samples` MNIST training images used as samples.

    The real-data row of Theis et al. (2016), computed exactly as a model's
    score (its own sigma search on the same validation images). It uses as
    many real images as the model has samples, because the estimate grows
    with the number of kernels: only equal counts compare. Cached under
    `cache_dir()`, keyed by the settings and a hash of the validation and
    test images (which come from the same MNIST files as the training
    images), so it is computed once per data set and setting.
    """
    key_fields = {
        "version": _BASELINE_VERSION,
        "num_samples": int(num_samples),
        "sigmas": [float(s) for s in sigmas],
        "validation": _fingerprint(validation),
        "test": _fingerprint(test),
    }
    key = hashlib.sha256(json.dumps(key_fields, sort_keys=True).encode()).hexdigest()[:24]
    path = os.path.join(cache_dir(), f"parzen_baseline_{key}.json")
    cached = _read_cached_score(path)
    if cached is not None:
        return cached
    from keras_gan import datasets

    real = datasets.mnist("train", data_dir=data_dir, limit=num_samples).images
    if len(real) < num_samples:
        raise ValueError(
            f"The real-data baseline needs {num_samples} training images; MNIST train has {len(real)}. "
            "Use fewer samples or --no-baseline."
        )
    score = _score(real, validation, test, None, sigmas, batch_size, progress)
    _write_cached_score(path, score, key_fields)
    return score


def _read_cached_score(path: str) -> ParzenScore | None:
    if not os.path.isfile(path):
        return None
    try:
        with open(path) as f:
            stored = json.load(f)["score"]
        stored["validation_means"] = {float(k): float(v) for k, v in stored["validation_means"].items()}
        return ParzenScore(**stored)
    except (OSError, ValueError, KeyError, TypeError) as e:
        warnings.warn(f"Ignoring the unreadable cached baseline {path} ({e}); recomputing it.")
        return None


def _write_cached_score(path: str, score: ParzenScore, key_fields: dict) -> None:
    """Write atomically (temporary file, then rename); a cache that cannot be
    written only costs a recomputation next time, so it warns instead of failing."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_json_atomically(path, {"key": key_fields, "score": score.to_dict()})
    except OSError as e:
        warnings.warn(f"Could not cache the real-data baseline in {path}: {e}. Set ${CACHE_ENV} to a writable folder.")



# -------------------------------------------------------------- command line
def format_table(result: ParzenResult) -> str:
    """The small table the command line prints."""
    rows = [(f"this model ({result.num_samples} samples)", f"{result.sigma:.4f}", result.mean, f"{result.se:.2f}")]
    if result.baseline is not None:
        b = result.baseline
        label = f"real data: MNIST train[0:{result.num_samples}] as samples"
        rows.append((label, f"{b.sigma:.4f}", b.mean, f"{b.se:.2f}"))
    if result.paper is not None:
        p = result.paper
        rows.append((f"paper: {p.model} ({p.citation})", "", p.mean, f"{p.se:g}"))
    width = max(len(row[0]) for row in rows)
    lines = [
        f"Parzen-window log-likelihood of {result.n} MNIST test images (nats; Goodfellow et al. 2014 protocol)",
        f"source: {result.source}" + (f"  [{result.family}]" if result.family else ""),
        f"{'':{width}s}  {'sigma':>7s}  {'mean':>8s} +- se",
    ]
    lines += [f"{label:{width}s}  {sigma:>7s}  {mean:8.2f} +- {se}" for label, sigma, mean, se in rows]
    settings = (result.n, result.num_samples, result.settings.get("num_validation"))
    paper_settings = settings == (10_000, NUM_SAMPLES, NUM_VALIDATION)
    if not paper_settings:
        lines.append("note: settings differ from the paper's (10,000 samples, 1,000 validation, 10,000 test images).")
    return "\n".join(lines)


_EXAMPLES = """examples:
  python -m evaluation.parzen gan-mnist                      # a zoo model, paper settings
  python -m evaluation.parzen runs/gan.keras --json parzen.json
  python -m evaluation.parzen samples.npy --data-dir ../shared/data
  python -m evaluation.parzen runs/gan.keras --sigma 0.2 --no-baseline
  python -m evaluation.parzen samples.npy --num-samples 1000 --num-test 500   # quick check

CKPT is a .keras file saved by model.save(...), a model-zoo name, a zoo export
NAME.weights.h5 (python -m zoo.train writes DIR/export/NAME.weights.h5), or a .npy
array of samples (N, 28, 28[, 1]) or (N, 784): uint8 0..255 or floats in [0, 1].
Exit status 2 (and no JSON written) for bad arguments, an unknown checkpoint or missing data.
"""


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            expected = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not (value > 0 and math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.parzen",
        description="Parzen-window log-likelihood of MNIST test images under a generator "
        "(Goodfellow et al. 2014, Table 1 protocol).",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("checkpoint", metavar="CKPT", help="a .keras file, a zoo name, a NAME.weights.h5 export, or a .npy of samples")
    parser.add_argument("--data-dir", help="MNIST folder (default: $KERAS_GAN_DATA_DIR)")
    add = parser.add_argument
    add("--num-samples", type=_positive(int), default=NUM_SAMPLES, help="generator samples (default 10000)")
    add("--sigma", type=_positive(float), help="kernel width; skips the search on the validation images")
    add("--num-validation", type=_positive(int), default=NUM_VALIDATION,
        help="validation images for the sigma search (default 1000)")
    add("--num-test", type=_positive(int), help="score only the first N test images (default: all 10000)")
    add("--batch-size", type=_positive(int), default=BATCH_SIZE_DEFAULT,
        help=f"data rows per matrix product (default {BATCH_SIZE_DEFAULT})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generator's noise (default 0)")
    parser.add_argument("--json", metavar="PATH", help="write the result as JSON to PATH")
    parser.add_argument("--no-baseline", action="store_true", help="skip the real-data baseline")
    sources.add_value_range_argument(parser)
    sources.add_allow_unverified_argument(parser)
    return parser


def _evaluate(args: argparse.Namespace) -> ParzenResult:
    return evaluate(
        args.checkpoint,
        data_dir=args.data_dir,
        num_samples=args.num_samples,
        sigma=args.sigma,
        num_validation=args.num_validation,
        num_test=args.num_test,
        batch_size=args.batch_size,
        seed=args.seed,
        value_range=tuple(args.value_range),
        baseline=not args.no_baseline,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 for any usage or input error)."""
    return run_command(argv, build_parser().parse_args, _evaluate, format_table, lambda result: result.to_dict())


if __name__ == "__main__":
    sys.exit(main())
