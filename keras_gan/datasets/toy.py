"""Low-dimensional toy data whose modes can be counted."""

from __future__ import annotations

import numpy as np


def ring_modes(num_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """Centres of `num_modes` Gaussians evenly spaced on a circle, shape (num_modes, 2)."""
    angles = 2 * np.pi * np.arange(num_modes) / num_modes
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype("float32")


def ring_of_gaussians(n: int, num_modes: int = 8, radius: float = 2.0, std: float = 0.05,
                      seed: int = 0, return_labels: bool = False):
    """`n` points from a ring of `num_modes` isotropic Gaussians (the classic mode-collapse test)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_modes, size=n)
    points = ring_modes(num_modes, radius)[labels] + std * rng.standard_normal((n, 2))
    points = points.astype("float32")
    return (points, labels.astype("int64")) if return_labels else points


def count_covered_modes(samples: np.ndarray, num_modes: int = 8, radius: float = 2.0,
                        std: float = 0.05, min_fraction: float = 0.01) -> tuple[int, float]:
    """Modes that received at least `min_fraction` of the samples within 3 std of their centre.

    Returns `(covered_modes, high_quality_fraction)`, where the fraction is the
    share of samples within 3 std of any centre.
    """
    centres = ring_modes(num_modes, radius)
    d = np.linalg.norm(np.asarray(samples)[:, None, :] - centres[None], axis=-1)
    nearest = d.argmin(axis=1)
    close = d.min(axis=1) <= 3 * std
    counts = np.bincount(nearest[close], minlength=num_modes)
    return int((counts >= min_fraction * len(samples)).sum()), float(close.mean())


def per_label_mode_accuracy(samples: np.ndarray, labels: np.ndarray, num_modes: int = 8,
                            radius: float = 2.0, std: float = 0.05,
                            within_std: float = 3.0) -> np.ndarray:
    """For each label k, the fraction of its samples within `within_std` std of mode k.

    Measures a conditional generator on the labelled ring (`ring_of_gaussians(...,
    return_labels=True)`): a sample generated for label k counts only if it
    lands near mode k itself, so a model that ignores its label (or maps labels
    to the wrong modes) scores about 1/num_modes or less, not 1. Returns shape
    (num_modes,); NaN for a label with no samples.
    """
    samples, labels = np.asarray(samples), np.asarray(labels)
    if samples.ndim != 2 or samples.shape[1] != 2 or labels.ndim != 1 or len(samples) != len(labels):
        raise ValueError(
            f"Expected samples of shape (N, 2) and integer labels of shape (N,); got "
            f"{samples.shape} and {labels.shape}."
        )
    if labels.size and (labels.min() < 0 or labels.max() >= num_modes):
        raise ValueError(f"labels must lie in [0, {num_modes - 1}]; got [{labels.min()}, {labels.max()}].")
    distance = np.linalg.norm(samples - ring_modes(num_modes, radius)[labels], axis=1)
    hits = distance <= within_std * std
    counts = np.bincount(labels, minlength=num_modes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.bincount(labels, weights=hits, minlength=num_modes) / counts
