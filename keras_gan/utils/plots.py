"""Loss curves as PNG plots."""

from __future__ import annotations

import os


def save_history_plot(path: str, history: dict, title: str = "training") -> str:
    """Plot every logged series of a Keras `History.history` dict against epochs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not history:
        raise ValueError("save_history_plot got an empty history.")
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, values in sorted(history.items()):
        ax.plot(range(1, len(values) + 1), values, marker="o", label=name)
    ax.set_xlabel("epoch")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
