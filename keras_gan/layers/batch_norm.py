"""`BatchNormalization` whose moving variance averages the *unbiased* batch variance, as torch's does.

Why: Keras' BatchNormalization updates `moving_variance` with the biased batch
variance (divided by n); torch's `BatchNorm2d`, which the pix2pix reference
code uses, updates `running_var` with the unbiased one (divided by n - 1),
while both normalise the batch itself with the biased variance. Only
inference mode (`Pix2Pix.translate(mode="eval")`) reads the moving averages,
and there the difference is large on small maps with batch size 1: after one
step the U-Net's 2x2 maps differ by up to 0.11 (n = 4, factor 4/3).

Training-mode outputs and gradients are exactly Keras' (tested); only the
moving-variance update differs, by the factor n / (n - 1), n the number of
values each channel's statistics are taken over (batch x height x width).
With n = 1 the biased value is kept (torch would store a NaN there). Renorm
and masks are left to Keras' implementation.

`synchronized=True` takes the statistics over the *global* batch of a
data-parallel run on every backend, so N processes train as one process on
the global batch (what SyncBatchNorm does): TensorFlow through Keras' own
`synchronized` (a replica-context all-reduce under a `tf.distribute`
strategy); PyTorch under `torch.distributed` through one differentiable
all-reduce (`keras_gan.backend.torch_collectives`); JAX needs nothing, as
`keras.distribution` runs one SPMD program over the global batch, whose
statistics are global. (Keras itself accepts the
flag only on TensorFlow.) With one process it changes nothing.

`synchronized=False` normalises each replica's own shard of the batch, on every
backend (the reference's `--norm batch` under DDP; with one image per process,
each image alone as in the paper's batch-1 training): TensorFlow and PyTorch
by construction, JAX by splitting the global batch's axis into the replicas'
shards (`_per_replica_call`), since its one program sees the global batch. The
moving averages then follow replica 0's statistics on every backend. Keras'
own `keras.layers.BatchNormalization` normalises per replica on TensorFlow
and PyTorch but globally on JAX, and takes `synchronized=True` only on TensorFlow.

On PyTorch a plain float32 training call (one process, not synchronized, more
than one value per channel) runs torch's own fused `batch_norm`, which
normalises with the biased variance and updates the running variance with the
unbiased one: exactly this layer's rule, in one kernel forward and one
backward (the 22 norms' backward in the pix2pix step: 35 ms per step down to 7).
That torch code, with its measurements, is `keras_gan.backend.torch_layers`
(imported inside the methods below, on PyTorch only, so that `keras_gan.layers`
and `keras_gan.backend` import independently).
"""

from __future__ import annotations

import keras
from keras import ops
from keras_gan import compat

_TORCH = keras.backend.backend() == "torch"


def _in_tf_strategy_scope() -> bool:
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return tf.distribute.has_strategy()


def _np_prod(values) -> int:
    """The product of a static shape's sizes."""
    product = 1
    for value in values:
        product *= int(value)
    return product


def _jax_batch_replicas(inputs) -> int:
    """Replicas a JAX `keras.distribution` program splits the batch over (1 off JAX, without a
    distribution, or when the batch does not split evenly)."""
    if keras.backend.backend() != "jax":
        return 1
    distribution = keras.distribution.distribution()
    if distribution is None:
        return 1
    mesh, name = distribution.device_mesh, getattr(distribution, "batch_dim_name", None)
    if name not in mesh.axis_names:
        return 1
    replicas = int(mesh.shape[list(mesh.axis_names).index(name)])
    batch = inputs.shape[0]
    return replicas if batch is not None and int(batch) % replicas == 0 else 1


def set_synchronized(model, synchronized: bool) -> int:
    """Turn global-batch statistics on or off in every `BatchNormalization` of `model` (this
    module's); returns how many layers there are. Call it before the model's first training step.

    Why: the pix2pix reference offers both (`--norm syncbatch` and `--norm batch`); a network
    built by the zoo's registry comes with `synchronized=True`, and `zoo.train --norm batch` turns
    it off here instead of rebuilding the network. Off, each replica normalises its own batch (with
    one image per process: each image alone, as the paper's batch-1 training does).
    """
    layers = [layer for layer in compat.flatten_layers(model) if isinstance(layer, BatchNormalization)]
    for layer in layers:
        layer.synchronize_statistics = bool(synchronized)
        layer.synchronized = bool(synchronized) and _in_tf_strategy_scope()
    return len(layers)


@keras.saving.register_keras_serializable(package="keras_gan")
class BatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization` with torch's (unbiased) moving-variance update and
    `synchronized=True` (global-batch statistics) on every backend."""

    def __init__(self, *args, synchronized: bool = False, **kwargs):
        # Keras refuses the flag off TensorFlow; it is honoured here instead (see the module docstring).
        # On TensorFlow it is handed to Keras only inside a tf.distribute scope (where the model of a
        # data-parallel run is built), so one-process runs keep Keras' usual moments, bit for bit.
        super().__init__(*args, synchronized=bool(synchronized) and _in_tf_strategy_scope(), **kwargs)
        self.synchronize_statistics = bool(synchronized)

    def get_config(self):
        return {**super().get_config(), "synchronized": self.synchronize_statistics}

    def call(self, inputs, training=None, mask=None):
        if not (training and self.trainable) or self.renorm or mask is not None:
            return super().call(inputs, training=training, mask=mask)
        if _TORCH and self._torch_fused_applies(inputs):
            return self._torch_fused_call(inputs)
        replicas = 1 if self.synchronize_statistics else _jax_batch_replicas(inputs)
        if replicas > 1:
            return self._per_replica_call(inputs, replicas)
        compute_dtype = keras.backend.result_type(inputs.dtype, "float32")
        inputs = ops.cast(inputs, compute_dtype)
        mean, variance, count = self._batch_statistics(inputs, compute_dtype)
        correction = ops.where(count > 1, count / ops.maximum(count - 1, 1), 1)
        momentum = self.momentum
        self.moving_mean.assign(ops.cast(self.moving_mean, compute_dtype) * momentum + mean * (1.0 - momentum))
        self.moving_variance.assign(
            ops.cast(self.moving_variance, compute_dtype) * momentum + variance * correction * (1.0 - momentum))
        gamma = ops.cast(self.gamma, compute_dtype) if self.scale else None
        beta = ops.cast(self.beta, compute_dtype) if self.center else None
        outputs = ops.batch_normalization(inputs, mean, variance, axis=self.axis, offset=beta, scale=gamma,
                                          epsilon=self.epsilon)
        return ops.cast(outputs, self.compute_dtype)

    def _per_replica_call(self, inputs, replicas: int):
        """JAX under `keras.distribution`, not synchronized: each replica's shard of the batch
        normalised with its own statistics, as on TensorFlow and PyTorch (see the module docstring).

        One SPMD program sees the global batch, so the replicas' shards are made explicit: the
        batch axis is split into (replicas, shard), which follows the batch's sharding and keeps
        the statistics local. The moving averages follow replica 0's statistics, as they do on
        TensorFlow (the mirrored variable reads replica 0's copy) and PyTorch (process 0 saves its
        own; DDP broadcasts rank 0's buffers): one value, identical on every process of a JAX job.
        """
        compute_dtype = keras.backend.result_type(inputs.dtype, "float32")
        x = ops.cast(inputs, compute_dtype)
        shape = tuple(x.shape)
        grouped = ops.reshape(x, (replicas, shape[0] // replicas) + shape[1:])
        mean, variance = ops.moments(grouped, axes=[a + 1 for a in compat.reduction_axes(self)], keepdims=True)
        count = _np_prod(shape) // replicas // _np_prod(mean.shape[1:])  # values behind each replica's statistic
        correction = count / (count - 1) if count > 1 else 1.0
        momentum = self.momentum
        replica_mean = ops.reshape(mean[0], (-1,))  # replica 0's, as TensorFlow and PyTorch keep
        replica_variance = ops.reshape(variance[0], (-1,))
        self.moving_mean.assign(
            ops.cast(self.moving_mean, compute_dtype) * momentum + replica_mean * (1.0 - momentum))
        self.moving_variance.assign(ops.cast(self.moving_variance, compute_dtype) * momentum
                                    + replica_variance * correction * (1.0 - momentum))
        broadcast = tuple(mean.shape[1:])
        outputs = (grouped - mean) * ops.rsqrt(variance + self.epsilon)
        if self.scale:
            outputs = outputs * ops.reshape(ops.cast(self.gamma, compute_dtype), broadcast)
        if self.center:
            outputs = outputs + ops.reshape(ops.cast(self.beta, compute_dtype), broadcast)
        return ops.cast(ops.reshape(outputs, shape), self.compute_dtype)

    def _torch_fused_applies(self, inputs) -> bool:
        """Whether this training call can run torch's fused batch norm (PyTorch; see the module docstring)."""
        from keras_gan.backend import torch_layers

        return torch_layers.fused_batch_norm_applies(self, inputs) and not self._synchronized_over_torch_ranks()

    def _torch_fused_call(self, inputs):
        """torch's fused `batch_norm` on `inputs`, the moving averages assigned (PyTorch)."""
        from keras_gan.backend import torch_layers

        return torch_layers.fused_batch_norm(self, inputs)

    def _synchronized_over_torch_ranks(self) -> bool:
        """Whether this layer takes global statistics over the ranks of a `torch.distributed` job."""
        if not (_TORCH and self.synchronize_statistics):
            return False
        from keras_gan.backend import torch_collectives

        return torch_collectives.distributed()

    def _batch_statistics(self, inputs, compute_dtype):
        """Batch mean, biased variance and the number of values behind them (global when synchronized)."""
        backend = keras.backend.backend()
        if self._synchronized_over_torch_ranks():
            from keras_gan.backend import torch_collectives

            return torch_collectives.global_moments(inputs, compat.reduction_axes(self))
        mean, variance = compat.batch_moments(self, inputs)
        count = ops.cast(ops.size(inputs) // ops.size(mean), compute_dtype)
        if self.synchronized and backend == "tensorflow":  # Keras took global moments: global count
            import tensorflow as tf

            count = count * tf.distribute.get_strategy().num_replicas_in_sync
        return mean, variance, count
