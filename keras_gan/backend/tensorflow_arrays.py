"""A lean `tf.data` pipeline for `fit(numpy_arrays)` on TensorFlow: why it exists.

Keras' array adapter turns numpy arrays into a `tf.data` pipeline that slices
every batch with a parallel `map` and `prefetch`, both `AUTOTUNE`d. On a
2-core CPU those extra tf.data threads compete with the step's own compute
threads: measured on the paper's MNIST GAN (batch 100, 200 steps, best of 3,
three fresh processes, load 2.4-2.8, 2026-12-07), `fit(arrays)` ran 19.3 /
19.4 / 20.4 steps/s where the same `fit` on a one-thread, non-autotuned
dataset ran 25.5 / 26.0 / 24.6 and the native TensorFlow loop 25.8 / 24.0 /
25.3 (`bench/diagnose_tf_input.py`). That is issue 34's TensorFlow step at
1.3x native.

So `TensorFlowTrainer.fit` hands Keras this pipeline instead, in the simple
case only (see `lean_array_inputs`): the same batches (the last one partial,
as Keras'), a fresh permutation every epoch when `shuffle=True` (drawn by
TensorFlow's seeded random state, as Keras' adapter draws it), one tf.data
thread and no autotuning. Everything else (validation splits, sample
weights, a distribution strategy, tensors, generators) goes to Keras as
given.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

#: `fit` keywords whose presence leaves the arrays to Keras' own adapter.
_KERAS_ONLY = ("validation_split", "sample_weight", "class_weight", "steps_per_epoch")


def lean_array_inputs(x: Any, y: Any, args: tuple, kwargs: dict) -> tf.data.Dataset | None:
    """The lean dataset for `fit(x, y, **kwargs)`, or None where Keras' adapter should handle it.

    Only: `x` a numpy array, `y` None or a numpy array of the same length, no
    positional arguments after `y`, none of `_KERAS_ONLY`, and no
    `tf.distribute` strategy in scope (Keras shards arrays for it). When it returns a
    dataset it has taken `batch_size` and `shuffle` out of `kwargs`.
    """
    if args or not isinstance(x, np.ndarray) or not len(x):
        return None
    if y is not None and not (isinstance(y, np.ndarray) and len(y) == len(x)):
        return None
    if any(kwargs.get(k) for k in _KERAS_ONLY) or tf.distribute.has_strategy():
        return None
    shuffle = kwargs.get("shuffle", True)
    if shuffle not in (True, False):  # "batch" and anything else: Keras' meaning
        return None
    batch_size = kwargs.pop("batch_size", None) or 32  # Keras' default; the dataset now batches
    kwargs.pop("shuffle", None)  # and shuffles (Keras warns about `shuffle` given with a dataset)
    return _dataset(tuple(a for a in (x, y) if a is not None), int(batch_size), bool(shuffle))


def _dataset(arrays: tuple, batch_size: int, shuffle: bool) -> tf.data.Dataset:
    """Batches of `arrays` (a tuple, as Keras' adapter yields them), gathered by index."""
    tensors = tuple(tf.constant(a) for a in arrays)
    indices = tf.data.Dataset.range(len(arrays[0]))
    if shuffle:
        indices = indices.shuffle(len(arrays[0]), reshuffle_each_iteration=True)
    # Whole batches only: a static batch size, as Keras' adapter gives (the step checks it while tracing)
    whole = len(arrays[0]) % batch_size == 0
    dataset = indices.batch(batch_size, drop_remainder=whole).map(lambda i: tuple(tf.gather(t, i) for t in tensors))
    options = tf.data.Options()
    options.threading.private_threadpool_size = 1
    options.autotune.enabled = False
    return dataset.with_options(options)
