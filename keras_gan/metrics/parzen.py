"""The Parzen-window log-likelihood kernel of the GAN paper's protocol (Goodfellow et al. 2014, section 5).

numpy only. `evaluation.parzen` (the command line, the full protocol with its
real-data baseline) and `keras_gan.callbacks.ParzenMonitor` (validation scores
during `fit`) both use it; it lives in the library so that keras_gan never
imports the `evaluation` application. How it is computed and how exactly:
see `evaluation/parzen.py`'s docstring.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

#: sigma grid of the reference code: logspace(sigma_start=-1, sigma_end=0, num=cross_val=10).
SIGMA_GRID = tuple(float(s) for s in np.logspace(-1.0, 0.0, 10))
#: data rows per matrix product; memory is about 16 bytes x BATCH_SIZE x num_samples (80 MB at 10k).
BATCH_SIZE = 500


def _as_rows(array: Any, name: str) -> np.ndarray:
    """Flatten to (N, d) float64; reject empty or non-finite input."""
    array = np.asarray(array)
    if array.ndim < 2 or len(array) == 0 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty array of shape (N, ...); got shape {array.shape}.")
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{name} must be numeric; got dtype {array.dtype}.")
    rows = array.reshape(len(array), -1).astype(np.float64)
    if not np.all(np.isfinite(rows)):
        raise ValueError(f"{name} contain NaN or infinite values.")
    return rows


def _checked_sigmas(sigmas: Iterable[float]) -> np.ndarray:
    sigmas = np.asarray(list(sigmas) if not np.isscalar(sigmas) else [sigmas], dtype=np.float64).reshape(-1)
    if sigmas.size == 0 or not np.all(np.isfinite(sigmas)) or np.any(sigmas <= 0):
        raise ValueError(f"sigma values must be positive and finite; got {sigmas.tolist()}.")
    return sigmas


def parzen_log_likelihoods(
    samples: np.ndarray,
    data: np.ndarray,
    sigmas: Sequence[float],
    batch_size: int = BATCH_SIZE,
    progress: bool = False,
) -> np.ndarray:
    """Log-likelihood of each row of `data` under the Parzen window of `samples`, per sigma.

    Returns float64 of shape (len(sigmas), len(data)), in nats. One squared-
    distance table serves every sigma, which is what makes the sigma search
    cheap. Samples and data are flattened to d = prod(shape[1:]) dimensions.
    """
    samples = _as_rows(samples, "samples")
    data = _as_rows(data, "data")
    if samples.shape[1] != data.shape[1]:
        raise ValueError(
            f"samples have {samples.shape[1]} values per example but data have {data.shape[1]}; "
            "both must be images of the same shape."
        )
    sigmas = _checked_sigmas(sigmas)
    if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
    batch_size = int(batch_size)
    num_samples, dim = samples.shape
    scales = 1.0 / (2.0 * sigmas**2)
    # log(1/n) and the Gaussian's normaliser -d/2 log(2 pi sigma^2).
    log_normalisers = -math.log(num_samples) - 0.5 * dim * np.log(2.0 * math.pi * sigmas**2)
    # One product gives 2 x.s - ||s||^2 = ||x||^2 - ||x - s||^2: append a
    # column of -1 to the (doubled) data rows and ||s||^2 to the samples.
    augmented_samples = np.empty((num_samples, dim + 1))
    augmented_samples[:, :dim] = samples
    augmented_samples[:, dim] = np.einsum("ij,ij->i", samples, samples)
    result = np.empty((len(sigmas), len(data)))
    starts = range(0, len(data), batch_size)
    if progress and len(starts) > 1:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="Parzen log-likelihood", unit="batch")
    # The matrix product runs on every core (BLAS); the element-wise rest is
    # single-threaded in numpy, so two threads share it, half the rows each
    # (numpy releases the GIL in these loops).
    with ThreadPoolExecutor(max_workers=1) as helper:
        for start in starts:
            rows = data[start : start + batch_size]
            augmented_rows = np.empty((len(rows), dim + 1))
            np.multiply(rows, 2.0, out=augmented_rows[:, :dim])
            augmented_rows[:, dim] = -1.0
            table = augmented_rows @ augmented_samples.T  # ||x||^2 - ||x - s||^2, float64
            norms = np.einsum("ij,ij->i", rows, rows)
            out = result[:, start : start + len(rows)]
            half = (len(rows) + 1) // 2
            other = helper.submit(
                _log_mean_exp_rows, table[half:], norms[half:], scales, log_normalisers, out[:, half:]
            )
            _log_mean_exp_rows(table[:half], norms[:half], scales, log_normalisers, out[:, :half])
            other.result()
    return result


def _log_mean_exp_rows(table, squared_norms, scales, log_normalisers, out) -> None:
    """Fill `out[k]` with the log-likelihoods at `scales[k]` = 1 / (2 sigma_k^2).

    `table` holds ||x||^2 - D (float64) for these rows; it is shifted in place.
    """
    if len(table) == 0:
        return
    row_max = table.max(axis=1)  # ||x||^2 - min_j D
    table -= row_max[:, None]  # min_j D - D <= 0, still float64: no cancellation left
    shifted32 = table.astype(np.float32)
    exponent = np.empty_like(shifted32) if len(scales) > 1 else shifted32
    min_distance = np.maximum(squared_norms - row_max, 0.0)
    for k, scale in enumerate(scales):
        np.multiply(shifted32, np.float32(scale), out=exponent)
        np.exp(exponent, out=exponent)
        log_sum = np.log(exponent.sum(axis=1, dtype=np.float32).astype(np.float64))
        out[k] = log_sum - scale * min_distance + log_normalisers[k]


def parzen_log_likelihood(
    samples: np.ndarray, data: np.ndarray, sigma: float, batch_size: int = BATCH_SIZE, progress: bool = False
) -> np.ndarray:
    """Per-example log-likelihood (nats) of `data` under a Gaussian Parzen window of
    width `sigma` centred on `samples`: shape (len(data),), float64."""
    return parzen_log_likelihoods(samples, data, [sigma], batch_size, progress)[0]


def select_sigma(
    samples: np.ndarray,
    validation: np.ndarray,
    sigmas: Sequence[float] = SIGMA_GRID,
    batch_size: int = BATCH_SIZE,
) -> tuple[float, dict[float, float]]:
    """The sigma of the grid with the highest mean validation log-likelihood
    (the reference code's `cross_validate_sigma`), and every sigma's mean."""
    sigmas = _checked_sigmas(sigmas)
    means = parzen_log_likelihoods(samples, validation, sigmas, batch_size).mean(axis=1)
    best = int(np.argmax(means))
    return float(sigmas[best]), {float(s): float(m) for s, m in zip(sigmas, means)}


def standard_error(values: np.ndarray) -> float:
    """std / sqrt(N) with numpy's default ddof=0, as `parzen_ll.py` reports it."""
    return float(np.std(values) / math.sqrt(len(values)))
