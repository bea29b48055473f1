"""One rank of a 2-process torch.distributed (gloo) GAN run, or the single-process reference.

    KERAS_BACKEND=torch python tests/torch_ddp_worker.py single OUT.npz
    KERAS_BACKEND=torch MASTER_ADDR=127.0.0.1 MASTER_PORT=P RANK=r WORLD_SIZE=2 \\
        python tests/torch_ddp_worker.py ddp OUT.npz

Both train the same small GAN (dense networks, no dropout) for 2 steps on a
global batch of 16: the reference on the whole batch, each rank on its half
(rows r*8 .. r*8+7 of every batch), with the gradients averaged by the step.
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402

GLOBAL_BATCH, STEPS = 16, 2


def main(mode: str, out: str) -> None:
    import keras
    import torch

    import keras_gan

    torch.set_num_threads(1)
    world, rank = 1, 0
    if mode == "ddp":
        torch.distributed.init_process_group("gloo")
        world, rank = torch.distributed.get_world_size(), torch.distributed.get_rank()
    keras.utils.set_random_seed(0 if mode == "single" else 100 + rank)  # ranks start apart: broadcast fixes it
    generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dense(6)])
    discriminator = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu"),
                                      keras.layers.Dense(1)])
    gan = keras_gan.GAN(generator, discriminator, latent_dim=4, latent_prior="normal", seed=3)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-2), g_optimizer=keras.optimizers.Adam(1e-2))
    if mode == "ddp" and rank == 0 or mode == "single":
        keras.utils.set_random_seed(0)  # rank 0 and the reference hold the same initial weights
        for v, w in zip(gan.weights, _initial_weights(keras, gan)):
            v.assign(w)
    data = np.random.default_rng(1).normal(size=(GLOBAL_BATCH * STEPS, 6)).astype("float32")
    per_rank = GLOBAL_BATCH // world
    shard = np.concatenate([data[s * GLOBAL_BATCH + rank * per_rank: s * GLOBAL_BATCH + (rank + 1) * per_rank]
                            for s in range(STEPS)])
    history = gan.fit(shard, batch_size=per_rank, epochs=1, shuffle=False, verbose=0)
    arrays = {f"w{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(gan.trainable_variables)}
    arrays["d_loss"] = np.array(history.history["d_loss"])
    np.savez(out, **arrays)
    if mode == "ddp":
        torch.distributed.destroy_process_group()


def _initial_weights(keras, gan):
    rng = np.random.default_rng(7)
    return [rng.normal(scale=0.3, size=tuple(v.shape)).astype("float32") for v in gan.weights]


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
