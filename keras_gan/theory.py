"""The GAN paper's theory (Goodfellow et al. 2014, section 4) in closed form and by quadrature.

For a fixed generator with density p_g, the discriminator that maximises

    V(D, G) = E_{x ~ p_data}[log D(x)] + E_{x ~ p_g}[log(1 - D(x))]          (Eq. 1)

is (Proposition 1, Eq. 2)

    D*_G(x) = p_data(x) / (p_data(x) + p_g(x)),

and at that discriminator (Theorem 1, Eq. 4-6)

    C(G) = max_D V(D, G) = -log 4 + 2 JSD(p_data || p_g),

whose minimum -log 4 is reached only at p_g = p_data, where D* = 1/2.

These functions work on 1-D densities tabulated on a grid (`grid`, then
`gaussian_density` or `mixture_density`), integrating with the trapezoidal
rule, so a reader can compare a trained discriminator (`keras_gan.GAN`'s D,
evaluated on the grid) with D*, and the value it reaches with C(G). A
generator x = a z + b with z ~ N(0, 1) has the density N(b, |a|)
(`affine_gaussian_density`); for other generators, estimate p_g from samples
(`histogram_density`). All logarithms are natural: values in nats.

Mode coverage on the 2-D ring of Gaussians (the mode-collapse picture) is
`keras_gan.datasets.count_covered_modes` and `samples_per_mode` here.
"""

from __future__ import annotations

import math

import numpy as np

#: -log 4: C(G) at p_g = p_data, the global minimum of the training criterion (Theorem 1).
MINUS_LOG_4 = -math.log(4.0)


def grid(low: float, high: float, points: int = 4001) -> np.ndarray:
    """Evenly spaced points on [low, high] (float64), the support for the integrals below."""
    if not (math.isfinite(low) and math.isfinite(high) and high > low):
        raise ValueError(f"grid needs finite low < high; got [{low}, {high}].")
    if int(points) < 3:
        raise ValueError(f"grid needs at least 3 points; got {points}.")
    return np.linspace(float(low), float(high), int(points))


def gaussian_density(x: np.ndarray, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
    """The N(mean, std^2) density at x."""
    if not std > 0:
        raise ValueError(f"std must be > 0; got {std}.")
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def mixture_density(x: np.ndarray, means, stds, weights=None) -> np.ndarray:
    """A mixture of Gaussians: sum_k w_k N(x; mean_k, std_k^2) (equal weights by default)."""
    means, stds = np.atleast_1d(means).astype(np.float64), np.atleast_1d(stds).astype(np.float64)
    if means.shape != stds.shape:
        raise ValueError(f"means and stds must have one entry per component; got {means.shape} and {stds.shape}.")
    weights = np.full(len(means), 1.0 / len(means)) if weights is None else np.asarray(weights, np.float64)
    if weights.shape != means.shape or np.any(weights < 0) or not math.isclose(weights.sum(), 1.0, rel_tol=1e-6):
        raise ValueError(f"weights must be non-negative, one per component, summing to 1; got {weights}.")
    return sum(w * gaussian_density(x, m, s) for w, m, s in zip(weights, means, stds))


def affine_gaussian_density(x: np.ndarray, scale: float, shift: float) -> np.ndarray:
    """p_g of the generator x = scale * z + shift with z ~ N(0, 1): N(shift, scale^2)."""
    return gaussian_density(x, shift, abs(scale))


def histogram_density(samples: np.ndarray, x: np.ndarray, bins: int = 100) -> np.ndarray:
    """A density estimate of 1-D `samples` on the grid x (normalised histogram, linearly interpolated)."""
    samples = np.asarray(samples, dtype=np.float64).ravel()
    x = np.asarray(x, dtype=np.float64)
    counts, edges = np.histogram(samples, bins=bins, range=(x[0], x[-1]), density=False)
    width = edges[1] - edges[0]
    density = counts / (len(samples) * width)  # mass outside the grid is lost, as it should be
    centres = 0.5 * (edges[:-1] + edges[1:])
    return np.interp(x, centres, density, left=0.0, right=0.0)


def integrate(values: np.ndarray, x: np.ndarray) -> float:
    """The trapezoidal rule: integral of `values` over the grid x."""
    values, x = np.asarray(values, np.float64), np.asarray(x, np.float64)
    return float(np.sum(0.5 * (values[1:] + values[:-1]) * np.diff(x)))


def optimal_discriminator(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    """Proposition 1: D*(x) = p_data(x) / (p_data(x) + p_g(x)).

    Where both densities vanish D* is undefined (any D is optimal there); it is
    returned as 1/2, the value that costs nothing when either density appears.
    """
    p_data, p_g = np.asarray(p_data, np.float64), np.asarray(p_g, np.float64)
    total = p_data + p_g
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, p_data / np.where(total > 0, total, 1.0), 0.5)


def value_function(d: np.ndarray, p_data: np.ndarray, p_g: np.ndarray, x: np.ndarray) -> float:
    """Eq. 1: V(D, G) = integral of p_data log D + p_g log(1 - D), D given on the grid x."""
    d = np.clip(np.asarray(d, np.float64), 1e-12, 1 - 1e-12)
    p_data, p_g = np.asarray(p_data, np.float64), np.asarray(p_g, np.float64)
    return integrate(p_data * np.log(d) + p_g * np.log1p(-d), x)


def kl_divergence(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    """KL(p || q) = integral of p log(p / q) (0 log 0 = 0; inf where p > 0 = q)."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    if np.any((p > 0) & (q <= 0)):
        return math.inf
    with np.errstate(invalid="ignore", divide="ignore"):
        integrand = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0) / np.where(q > 0, q, 1.0)), 0.0)
    return integrate(integrand, x)


def jensen_shannon(p_data: np.ndarray, p_g: np.ndarray, x: np.ndarray) -> float:
    """JSD(p_data || p_g) = KL(p_data || m) / 2 + KL(p_g || m) / 2, m = (p_data + p_g) / 2; in [0, log 2]."""
    m = 0.5 * (np.asarray(p_data, np.float64) + np.asarray(p_g, np.float64))
    return 0.5 * kl_divergence(p_data, m, x) + 0.5 * kl_divergence(p_g, m, x)


def training_criterion(p_data: np.ndarray, p_g: np.ndarray, x: np.ndarray) -> float:
    """Theorem 1: C(G) = -log 4 + 2 JSD(p_data || p_g), the value at D*."""
    return MINUS_LOG_4 + 2.0 * jensen_shannon(p_data, p_g, x)


def samples_per_mode(samples: np.ndarray, centres: np.ndarray, std: float, within_std: float = 3.0) -> np.ndarray:
    """How many samples lie within `within_std` std of each mode centre (shape (modes,)).

    With `keras_gan.datasets.ring_modes(...)` as `centres`: the per-mode counts
    behind `count_covered_modes`, the picture of mode collapse (a few modes
    hold all samples).
    """
    samples, centres = np.asarray(samples, np.float64), np.asarray(centres, np.float64)
    if samples.ndim != 2 or centres.ndim != 2 or samples.shape[1] != centres.shape[1]:
        raise ValueError(f"samples (N, d) and centres (modes, d) must share d; got {samples.shape} and "
                         f"{centres.shape}.")
    distance = np.linalg.norm(samples[:, None, :] - centres[None], axis=-1)
    nearest = distance.argmin(axis=1)
    close = distance.min(axis=1) <= within_std * std
    return np.bincount(nearest[close], minlength=len(centres))
