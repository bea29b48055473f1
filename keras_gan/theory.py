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
generator x = a z + b with z ~ N(0, 1) has the density N(b, a^2), i.e.
mean b and standard deviation |a| (`affine_gaussian_density`); for other generators, estimate p_g from samples
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
    """A density estimate of 1-D `samples` on the grid x: a histogram linearly interpolated
    between bin centres, flat from the outer centres to the grid's ends, then scaled so that its
    integral on the grid (`integrate`) is exactly the fraction of samples inside [x[0], x[-1]].

    Why the scaling: interpolation moves mass between neighbouring bins and, at the grid's ends,
    would drop the outer half-bins (samples piled at the edge kept under half their mass). Mass
    outside the grid is outside the grid: `training_criterion` carries the actual masses."""
    samples = np.asarray(samples, dtype=np.float64).ravel()
    x = np.asarray(x, dtype=np.float64)
    if samples.size == 0:
        raise ValueError("histogram_density got no samples.")
    counts, edges = np.histogram(samples, bins=bins, range=(x[0], x[-1]), density=False)
    width = edges[1] - edges[0]
    density = counts / (len(samples) * width)
    centres = 0.5 * (edges[:-1] + edges[1:])
    values = np.interp(x, centres, density)  # flat beyond the outer centres
    inside, mass = counts.sum() / len(samples), integrate(values, x)
    return values * (inside / mass) if mass > 0 else values


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


def _against_mixture(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """p log(2p / (p + q)) pointwise (0 where p = 0), in logs, so that it never overflows or underflows.

    Why not KL(p || m) with m = (p + q) / 2: where p is the smallest float64 and q = 0, m rounds to
    0 and the KL is infinite, though the term is bounded (log(2p / (p + q)) <= log 2 always)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p, log_q = np.log(p), np.log(q)
        log_ratio = math.log(2.0) + log_p - np.logaddexp(log_p, log_q)
        return np.where(p > 0, p * log_ratio, 0.0)


def _checked_densities(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    if np.any(p < 0) or np.any(q < 0) or not (np.all(np.isfinite(p)) and np.all(np.isfinite(q))):
        raise ValueError("densities must be finite and non-negative on the grid.")
    return p, q


def jensen_shannon(p_data: np.ndarray, p_g: np.ndarray, x: np.ndarray) -> float:
    """JSD(p_data || p_g) = KL(p_data || m) / 2 + KL(p_g || m) / 2, m = (p_data + p_g) / 2; in [0, log 2]
    for densities of mass 1 on the grid. Computed term by term in logs (`_against_mixture`), so it stays
    finite on any grid."""
    p_data, p_g = _checked_densities(p_data, p_g)
    return 0.5 * integrate(_against_mixture(p_data, p_g), x) + 0.5 * integrate(_against_mixture(p_g, p_data), x)


def training_criterion(p_data: np.ndarray, p_g: np.ndarray, x: np.ndarray) -> float:
    """Theorem 1: C(G) = max_D V(D, G) = -log 4 + 2 JSD(p_data || p_g), the value at D*.

    Computed with the densities' actual masses on the grid, P and Q:
    C = 2 JSD - log 2 (P + Q), which is -log 4 + 2 JSD when both are 1 and equals V(D*, G) on the
    grid in every case (a histogram of samples that fall partly outside the grid has Q < 1)."""
    p_data, p_g = _checked_densities(p_data, p_g)
    masses = integrate(p_data, x) + integrate(p_g, x)
    return 2.0 * jensen_shannon(p_data, p_g, x) - math.log(2.0) * masses


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
