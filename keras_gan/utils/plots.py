"""Loss curves as PNG plots."""

from __future__ import annotations

import os


def save_history_plot(path: str, history: dict, title: str = "training",
                      epochs: list[int] | None = None) -> str:
    """Plot every logged series of a Keras `History.history` dict against epochs.

    `epochs` (1-based, one per value) places a resumed or continued run's
    values at their real epochs; default 1, 2, ...
    """
    if not history:
        raise ValueError("save_history_plot got an empty history.")
    lengths = {len(values) for values in history.values()}
    if epochs is not None and lengths != {len(epochs)}:
        raise ValueError(f"save_history_plot got {len(epochs)} epochs for series of lengths {sorted(lengths)}.")
    fig, ax = _epoch_figure()
    for name, values in sorted(history.items()):
        # Markers show single epochs on short runs; on hundreds of epochs they hide the curve.
        ax.plot(epochs if epochs is not None else range(1, len(values) + 1), values,
                marker="o" if len(values) <= 60 else None, label=name)
    return _save_epoch_figure(fig, ax, path, title)


def save_score_plot(path: str, epochs: list[int], scores: list[float], name: str = "score",
                    title: str = "validation") -> str:
    """Plot a validation score (higher is better) against its epochs and mark the best one.

    Why a separate plot: the zoo exports the best-scoring epoch, and the
    score is logged on its own schedule (every N epochs), so it does not share
    the loss curves' x values; the marked point is the epoch that shipped.
    """
    import numpy as np

    if len(epochs) != len(scores) or not scores:
        raise ValueError(f"save_score_plot needs one score per epoch and at least one; got {len(epochs)} "
                         f"epochs and {len(scores)} scores.")
    values = np.asarray(scores, dtype="float64")
    best = int(np.nanargmax(values))
    fig, ax = _epoch_figure()
    ax.plot(epochs, values, marker=".", label=name)
    ax.plot([epochs[best]], [values[best]], marker="*", markersize=14, linestyle="none",
            label=f"best: {values[best]:.4g} at epoch {epochs[best]}")
    ax.set_ylabel(name)
    return _save_epoch_figure(fig, ax, path, title)


def _epoch_figure():
    """A new figure for an epoch-axis plot, drawn off-screen (no display on servers or CI)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(6, 4))


def _save_epoch_figure(fig, ax, path: str, title: str) -> str:
    """Label an epoch-axis figure, write it as PNG (folders made) and free it."""
    import matplotlib.pyplot as plt

    ax.set_xlabel("epoch")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
