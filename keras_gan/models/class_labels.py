"""Class labels for conditional models: checked, then given to the networks one-hot.

Mirza & Osindero (2014), section 4.1, condition both networks on "class labels,
encoded as one-hot vectors". Users hold labels either as integers, shape (N,),
or already one-hot, shape (N, C); both are accepted and become the same
one-hot rows. A label outside [0, C) would silently become a row of zeros in
`one_hot` on TensorFlow and JAX (a condition the networks never saw), so
labels are checked before training instead:

- arrays (numpy, lists): every value, before `fit` starts (`check_label_values`);
- tf.data datasets: every batch as it is read, before the step that would use
  it (`tf_dataset_with_label_checks`);
- any source: shape and dtype when the step is traced (`check_label_spec`).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

#: Start of the message of a label error raised inside a tf.data pipeline; `fit`
#: recognises it and re-raises the error as a ValueError.
TF_DATA_LABEL_ERROR = "Invalid class labels in the tf.data dataset"


def _expected(num_classes: int) -> str:
    return (
        f"integer class labels of shape (N,) with values in [0, {num_classes - 1}], or "
        f"one-hot labels of shape (N, {num_classes})"
    )


def _is_integer(dtype: str) -> bool:
    return dtype.startswith(("int", "uint"))


def check_label_spec(shape: tuple, dtype: str, num_classes: int, name: str = "Labels") -> None:
    """Check the shape (batch axis included) and dtype of labels; not their values."""
    shape = tuple(shape)
    dtype = keras.backend.standardize_dtype(dtype)
    if len(shape) == 1:
        if not _is_integer(dtype):
            raise ValueError(
                f"{name} of shape {shape} have dtype {dtype}; expected {_expected(num_classes)}. "
                "Cast integer-valued class labels with `labels.astype('int64')`."
            )
        return
    if len(shape) == 2 and shape[1] in (None, num_classes):
        if not (_is_integer(dtype) or dtype.startswith(("float", "bfloat"))):
            raise ValueError(f"One-hot {name.lower()} have dtype {dtype}; expected a numeric dtype.")
        return
    raise ValueError(f"{name} have shape {shape}; expected {_expected(num_classes)}.")


def check_label_values(labels: np.ndarray, num_classes: int, name: str = "Labels") -> None:
    """Check labels' shape, dtype and every value (integers in range, or exact one-hot rows)."""
    labels = np.asarray(labels)
    check_label_spec(labels.shape, labels.dtype.name, num_classes, name)
    if labels.ndim == 1:
        bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"{name} must lie in [0, {num_classes - 1}] (num_classes={num_classes}); "
                f"{bad.size} do not, the first is {labels[i]} at index {i}."
            )
        return
    rows_ok = np.all((labels == 0) | (labels == 1), axis=1) & (labels.sum(axis=1) == 1)
    bad = np.flatnonzero(~rows_ok)
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"One-hot {name.lower()} must have exactly one 1 per row and 0 elsewhere; "
            f"{bad.size} rows do not, the first is row {i}: {labels[i].tolist()}."
        )


def one_hot_array(labels, num_classes: int) -> np.ndarray:
    """Checked labels (integers or one-hot) as float32 one-hot rows."""
    labels = np.asarray(labels)
    check_label_values(labels, num_classes)
    if labels.ndim == 1:
        return np.eye(num_classes, dtype="float32")[labels]
    return labels.astype("float32")


def one_hot_tensor(labels, num_classes: int, dtype: str = "float32"):
    """Labels of a training batch (integers or one-hot) as one-hot rows, in `keras.ops`."""
    if len(labels.shape) == 1:
        return ops.one_hot(ops.cast(labels, "int32"), num_classes, dtype=dtype)
    return ops.cast(labels, dtype)


def tf_dataset_with_label_checks(dataset, num_classes: int):
    """`dataset` of `(images, labels, ...)` batches, failing on a batch with invalid labels.

    The check runs in the input pipeline, so the failing batch never reaches
    a training step (batches read before it have been trained on).
    """
    import tensorflow as tf

    def check(images, labels, *rest):
        if labels.shape.rank == 1:
            valid = tf.reduce_all((labels >= 0) & (labels < num_classes))
        else:
            binary = tf.reduce_all((labels == 0) | (labels == 1))
            valid = binary & tf.reduce_all(tf.reduce_sum(tf.cast(labels, "float32"), axis=1) == 1.0)
        message = f"{TF_DATA_LABEL_ERROR}: expected {_expected(num_classes)}; this batch's labels are:"
        with tf.control_dependencies([tf.debugging.Assert(valid, [message, labels], summarize=20)]):
            labels = tf.identity(labels)
        return (images, labels, *rest)

    return dataset.map(check)
