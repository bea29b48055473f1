"""Loss curves as PNG plots."""

from __future__ import annotations

import os


def save_history_plot(path: str, history: dict, title: str = "training",
                      epochs: list[int] | None = None) -> str:
    """Plot every logged series of a Keras `History.history` dict against epochs.

    `epochs` (1-based, one per value) places a resumed or continued run's
    values at their real epochs; default 1, 2, ...
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not history:
        raise ValueError("save_history_plot got an empty history.")
    lengths = {len(values) for values in history.values()}
    if epochs is not None and lengths != {len(epochs)}:
        raise ValueError(f"save_history_plot got {len(epochs)} epochs for series of lengths {sorted(lengths)}.")
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, values in sorted(history.items()):
        ax.plot(epochs if epochs is not None else range(1, len(values) + 1), values, marker="o", label=name)
    ax.set_xlabel("epoch")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
