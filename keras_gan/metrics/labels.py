"""Balanced class labels: how conditional generators are sampled for evaluation.

In the library (not in `evaluation/`) because `keras_gan.callbacks` samples
conditional models this way during `fit`, and the library never imports the
evaluation application.
"""

from __future__ import annotations

import numpy as np


def class_labels(num_samples: int, num_classes: int) -> np.ndarray:
    """Labels that split `num_samples` evenly over `num_classes`, in class order.

    Class c covers samples floor(c N / C) .. floor((c + 1) N / C) - 1, so the
    remainder N mod C is spread over the classes (counts differ by at most one).
    """
    if num_classes <= 0:
        raise ValueError(f"num_classes must be a positive integer; got {num_classes!r}.")
    bounds = (np.arange(num_classes + 1, dtype=np.int64) * num_samples) // num_classes
    return np.repeat(np.arange(num_classes, dtype=np.int64), np.diff(bounds))
