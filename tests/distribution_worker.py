"""One GAN training run on one device and on 4 virtual CPU devices; run as a subprocess.

Usage: KERAS_BACKEND=jax|tensorflow python tests/distribution_worker.py OUTPUT.npz

JAX: `keras.distribution.DataParallel` over 4 host devices
(`XLA_FLAGS=--xla_force_host_platform_device_count=4`, set here before JAX
starts). TensorFlow: `tf.distribute.MirroredStrategy` over 4 logical CPUs.
Both runs start from the same weights and data, dropout off, and use the
same number of steps; the test compares them.
"""

import os
import sys

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")

import numpy as np  # noqa: E402

DEVICES = 4


def _setup_tensorflow():
    import tensorflow as tf

    cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * DEVICES)


def _model(keras):
    import keras_gan
    from keras_gan import networks

    keras.utils.set_random_seed(0)
    gan = keras_gan.GAN(
        networks.mnist_generator(latent_dim=8, hidden_units=32),
        networks.mnist_discriminator(units=16, pieces=3, input_dropout=0.0, hidden_dropout=0.0),
        seed=1,
    )
    rng = np.random.default_rng(1)
    for v in gan.trainable_variables:  # larger than the paper's init: every update matters
        v.assign(rng.normal(0.0, 0.05, tuple(v.shape)).astype("float32"))
    gan.compile(d_optimizer=keras.optimizers.SGD(0.1, momentum=0.5),
                g_optimizer=keras.optimizers.SGD(0.1, momentum=0.5))
    return gan


def _replica_dropout_masks(keras, tf, strategy, data) -> dict:
    """One `Dropout(0.5, seed=3)` draw on every replica, and the same draw on one device; and
    which seed streams a GAN step with dropout gave to each replica."""
    import keras_gan
    from keras_gan import networks
    from keras_gan.backend.replica_streams import give_each_replica_its_own_streams
    from keras_gan.backend.tensorflow_step import _replica_id_in_context

    with strategy.scope():
        gan = keras_gan.GAN(networks.mnist_generator(latent_dim=8, hidden_units=32),
                            networks.mnist_discriminator(units=16, pieces=3), seed=1)
        gan.compile()
    gan.fit(data[:32], batch_size=32, epochs=1, verbose=0)
    streams = [g for layer in gan._flatten_layers() for g in layer._seed_generators]
    folded = {"latent_stream_folded": np.array(getattr(gan.seed_generator, "_keras_gan_replica_streams", False)),
              "streams_folded": np.array(sum(getattr(g, "_keras_gan_replica_streams", False) for g in streams))}

    ones = np.ones((1, 256), "float32")
    one_device = keras.layers.Dropout(0.5, seed=3)(ones, training=True)
    with strategy.scope():
        model = keras.Sequential([keras.Input((256,)), keras.layers.Dropout(0.5, seed=3)])
    give_each_replica_its_own_streams(model, _replica_id_in_context)
    masks = strategy.experimental_local_results(
        tf.function(lambda: strategy.run(lambda: model(tf.constant(ones), training=True)))())
    return {"replica_masks": np.stack([np.asarray(m) for m in masks]), "one_device_mask": np.asarray(one_device),
            **folded}


def _batch_norm_probe(keras, strategy=None) -> dict:
    """One training call of `keras_gan.layers.BatchNormalization` (momentum 0.5), synchronized or
    not, on 4 images (one per device) with different means and scales: outputs and moving statistics."""
    import keras_gan

    rng = np.random.default_rng(5)
    images = (rng.normal(size=(DEVICES, 4, 4, 3)) * rng.uniform(0.5, 3, (DEVICES, 1, 1, 3))
              + rng.uniform(-2, 2, (DEVICES, 1, 1, 3))).astype("float32")
    out = {"bn_images": images}
    for name, synchronized in (("sync", True), ("local", False)):
        if strategy is None:  # JAX: the batch sharded over the devices as fit shards it
            layer = keras_gan.layers.BatchNormalization(momentum=0.5, synchronized=synchronized)
            distribution = keras.distribution.distribution()
            x = keras.distribution.distribute_tensor(images, distribution.get_data_layout(images.shape))
            outputs = keras.ops.convert_to_numpy(layer(x, training=True))
        else:  # TensorFlow: each replica calls the layer on its image, as a strategy step does
            import tensorflow as tf

            with strategy.scope():
                layer = keras_gan.layers.BatchNormalization(momentum=0.5, synchronized=synchronized)
                layer.build(images.shape)

            def replica_call():
                index = tf.distribute.get_replica_context().replica_id_in_sync_group
                return layer(tf.gather(tf.constant(images), [index]), training=True)

            results = strategy.experimental_local_results(tf.function(lambda: strategy.run(replica_call))())
            outputs = np.concatenate([np.asarray(r) for r in results])
        out[f"bn_{name}_outputs"] = np.asarray(outputs)
        out[f"bn_{name}_moving_mean"] = np.asarray(keras.ops.convert_to_numpy(layer.moving_mean))
        out[f"bn_{name}_moving_variance"] = np.asarray(keras.ops.convert_to_numpy(layer.moving_variance))
    return out


def run(distributed: bool) -> dict:
    import keras

    backend = keras.backend.backend()
    data = np.random.default_rng(0).uniform(0, 1, (64, 28, 28, 1)).astype("float32")
    out = {}
    if backend == "jax":
        import jax

        keras.distribution.set_distribution(
            keras.distribution.DataParallel(devices=jax.devices()) if distributed else None
        )
        gan = _model(keras)
        if distributed:
            layout = keras.distribution.distribution().get_data_layout((32, 28, 28, 1))
            out["data_axes"] = np.array([str(a) for a in layout.axes])
            out["weight_devices"] = np.array(len(gan.generator.weights[0].value.sharding.device_set))
        history = gan.fit(data, batch_size=32, epochs=1, verbose=0, shuffle=False)
        if distributed:
            out.update(_batch_norm_probe(keras))
    else:
        import tensorflow as tf

        strategy = (tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(DEVICES)])
                    if distributed else tf.distribute.get_strategy())
        with strategy.scope():
            gan = _model(keras)
        if distributed:
            out["replicas"] = np.array(strategy.num_replicas_in_sync)
        history = gan.fit(data, batch_size=32, epochs=1, verbose=0, shuffle=False)
        if distributed:
            out.update(_replica_dropout_masks(keras, tf, strategy, data))
            out.update(_batch_norm_probe(keras, strategy))
    for name, values in history.history.items():
        out[f"log_{name}"] = np.array(values[-1])
    for i, v in enumerate(gan.weights):
        out[f"w{i}"] = np.asarray(keras.ops.convert_to_numpy(v))
    out["d_iterations"] = np.array(int(keras.ops.convert_to_numpy(gan.d_optimizer.iterations)))
    return out


if __name__ == "__main__":
    if os.environ.get("KERAS_BACKEND") == "tensorflow":
        _setup_tensorflow()
    single, multi = run(False), run(True)
    np.savez(sys.argv[1], **{f"single_{k}": v for k, v in single.items()},
             **{f"multi_{k}": v for k, v in multi.items()})
