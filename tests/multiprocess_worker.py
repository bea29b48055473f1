"""One process of a 2-process data-parallel run, or the single-process reference; any backend.

    python tests/multiprocess_worker.py single OUT.npz
    RANK=r WORLD_SIZE=2 PORTS=p0,p1 python tests/multiprocess_worker.py multi OUT.npz

Both models (a GAN, then a Pix2Pix) train in the one process, to pay the
processes' start-up once; their arrays are saved as `gan_*` and `pix2pix_*`.

Each backend through its own engine: PyTorch `torch.distributed` (gloo; the
launcher's MASTER_ADDR / MASTER_PORT), JAX `keras.distribution.initialize`
(`jax.distributed`, gloo CPU collectives) with `DataParallel` over both
processes' devices, TensorFlow `MultiWorkerMirroredStrategy` from `TF_CONFIG`.
The reference trains the same networks from the same weights on the whole
global batch; in a multi run each process is fed its half of every global batch
(TensorFlow: every worker reads the same dataset and the strategy shards it).
Dropout is off; the noise comes from the model's seeded generator (each rank
keeps its slice of the global batch's noise). Pix2Pix trains on one image per
process and its BatchNorm is synchronized, so its statistics (forward,
gradients, moving averages) are the global batch of 2's, and the runs must agree.
"""

import os
import sys

os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

import numpy as np  # noqa: E402

STEPS = 2
#: pix2pix: one image per process, as its reference trains data-parallel (2 processes x 1 = 1 process x 2)
GLOBAL_BATCH = {"gan": 16, "pix2pix": 2}


def _start(mode: str):
    """Join the job (multi) through `keras_gan.distributed.initialize`; `(world, rank, tf_strategy)`."""
    import keras

    if mode == "single":
        return 1, 0, None
    rank, world = os.environ["RANK"], os.environ["WORLD_SIZE"]
    ports = os.environ["PORTS"].split(",")
    backend = keras.backend.backend()
    from keras_gan.distributed import local_job_variables

    if backend != "torch":
        del os.environ["WORLD_SIZE"]  # torchrun's variable: not this engine's
    os.environ.update(local_job_variables(backend, int(rank), int(world), ports))
    if backend == "torch":
        import torch

        torch.set_num_threads(1)
    from keras_gan import distributed

    job = distributed.initialize()
    assert (job.processes, job.index) == (int(world), int(rank)), job
    return job.processes, job.index, job.strategy


def _initial_values(shape, path, rng):
    if path.endswith(("kernel", "bias")):
        return rng.normal(0.0, 0.05, shape)
    if path.endswith("gamma"):
        return 1.0 + rng.normal(0.0, 0.02, shape)
    return np.ones(shape) if path.endswith("moving_variance") else np.zeros(shape)


def _build(model_name: str, seed: int):
    import keras

    import keras_gan
    from keras_gan import networks

    if model_name == "gan":
        generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"),
                                      keras.layers.Dense(6)])
        discriminator = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu"),
                                          keras.layers.Dense(1)])
        model = keras_gan.GAN(generator, discriminator, latent_dim=4, latent_prior="normal", seed=3)
    else:
        generator = networks.unet_generator(16, levels=3, ngf=4, dropout_rate=0.0)
        discriminator = networks.patchgan_discriminator(16, ndf=4, n_layers=2)
        model = keras_gan.Pix2Pix(generator, discriminator)
    rng = np.random.default_rng(seed)
    for v in model.weights:
        v.assign(_initial_values(tuple(v.shape), v.path, rng).astype("float32"))
    model.compile(d_optimizer=keras.optimizers.SGD(0.05, momentum=0.5),
                  g_optimizer=keras.optimizers.SGD(0.05, momentum=0.5))
    return model


def _data(model_name: str):
    rng = np.random.default_rng(1)
    n = GLOBAL_BATCH[model_name] * STEPS
    if model_name == "gan":
        return (rng.normal(size=(n, 6)).astype("float32"),)
    shape = (n, 16, 16, 3)
    return rng.uniform(-1, 1, shape).astype("float32"), rng.uniform(-1, 1, shape).astype("float32")


def _shard(arrays, global_batch, world, rank):
    """Rows rank*b .. rank*b+b-1 of every global batch (b = global_batch / world)."""
    per = global_batch // world
    return tuple(np.concatenate([a[s + rank * per: s + (rank + 1) * per] for s in range(0, len(a), global_batch)])
                 for a in arrays)


def _to_numpy(variable):
    value = variable.value
    if hasattr(value, "is_fully_addressable") and not value.is_fully_addressable:  # JAX, several processes
        value = value.addressable_data(0)
    import keras

    return np.asarray(keras.ops.convert_to_numpy(value))


def main(mode: str, out: str) -> None:
    world, rank, strategy = _start(mode)
    result = {"world": np.array(world)}
    for model_name in ("gan", "pix2pix"):
        result.update({f"{model_name}_{k}": v for k, v in _train(model_name, world, rank, strategy).items()})
    import keras

    # The next dropout draws after fit, seedless (torch: the global generator, forked by rank at
    # fit) and seeded (a layer of the trained model's kind, given each replica's stream):
    ones = np.ones((1, 256), "float32")
    result["seedless_mask"] = np.asarray(keras.ops.convert_to_numpy(
        keras.layers.Dropout(0.5)(ones, training=True))) > 0
    np.savez(out, **result)

    if keras.backend.backend() == "torch" and mode == "multi":
        import torch

        torch.distributed.destroy_process_group()


def _train(model_name: str, world: int, rank: int, strategy) -> dict:
    import keras

    backend = keras.backend.backend()
    keras.utils.set_random_seed(0)
    # torch ranks start from different weights: the step's broadcast must make them one
    seed = 7 + (rank if backend == "torch" else 0)
    if strategy is not None:
        with strategy.scope():
            model = _build(model_name, seed)
    else:
        model = _build(model_name, seed)
    data, global_batch = _data(model_name), GLOBAL_BATCH[model_name]
    if backend == "tensorflow":  # MultiWorkerMirroredStrategy shards the global batches itself
        arrays, batch = data, global_batch
    else:
        arrays, batch = _shard(data, global_batch, world, rank), global_batch // world
    history = model.fit(*arrays, batch_size=batch, epochs=1, shuffle=False, verbose=0)
    result = {f"weight{i}": _to_numpy(v) for i, v in enumerate(model.weights)}
    result["d_loss"] = np.array(history.history["d_loss"][-1])
    return result


if __name__ == "__main__":
    main(*sys.argv[1:3])
