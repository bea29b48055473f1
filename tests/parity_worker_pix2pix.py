"""One full Pix2Pix training step (D update, then G update) from fixed weights and data; run as a subprocess.

Usage: KERAS_BACKEND=<backend> python tests/parity_worker_pix2pix.py INPUTS.npz OUTPUT.npz

Used by `test_pix2pix.py`: the same step on TensorFlow, JAX and PyTorch must
give the same losses and updated weights. Dropout is off (each backend draws
its own masks); batch norm runs with batch statistics, as in training.
"""

import sys

import numpy as np

IMAGE_SIZE, LEVELS, NGF, NDF, N_LAYERS, BATCH = 16, 3, 4, 4, 2, 2
LEARNING_RATE, MOMENTUM = 0.01, 0.5


def build_networks():
    from keras_gan import networks

    g = networks.unet_generator(IMAGE_SIZE, levels=LEVELS, ngf=NGF, dropout_rate=0.0)
    d = networks.patchgan_discriminator(IMAGE_SIZE, ndf=NDF, n_layers=N_LAYERS)
    return g, d


def run_step(inputs: dict) -> dict:
    import keras
    from keras import ops

    import keras_gan

    g, d = build_networks()
    model = keras_gan.Pix2Pix(g, d)
    for part, net in (("g", g), ("d", d)):
        for i, v in enumerate(net.weights):
            v.assign(inputs[f"{part}{i}"])
    # SGD, not the paper's Adam: Adam's first step moves every weight by about
    # lr * sign(gradient), which would hide differences in the gradients.
    model.compile(
        d_optimizer=keras.optimizers.SGD(LEARNING_RATE, momentum=MOMENTUM),
        g_optimizer=keras.optimizers.SGD(LEARNING_RATE, momentum=MOMENTUM),
        jit_compile=keras.backend.backend() != "torch",
    )
    history = model.fit(inputs["inputs"], inputs["targets"], batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    out = {f"log_{k}": np.float64(v[-1]) for k, v in history.history.items()}
    for part, net in (("g", g), ("d", d)):
        for i, v in enumerate(net.weights):
            out[f"{part}{i}"] = ops.convert_to_numpy(v)
    return out


def make_inputs(seed: int = 0) -> dict:
    """Initial weights (kernels and biases N(0, 0.05), batch-norm parameters as built) and one batch."""
    import keras

    rng = np.random.default_rng(seed)
    shape = (BATCH, IMAGE_SIZE, IMAGE_SIZE, 3)
    inputs = {
        "inputs": rng.uniform(-1, 1, shape).astype("float32"),
        "targets": rng.uniform(-1, 1, shape).astype("float32"),
    }
    g, d = build_networks()
    for part, net in (("g", g), ("d", d)):
        for i, v in enumerate(net.weights):
            value = keras.ops.convert_to_numpy(v)
            if v.path.endswith(("kernel", "bias")):
                value = rng.normal(0.0, 0.05, value.shape).astype("float32")
            inputs[f"{part}{i}"] = value
    return inputs


if __name__ == "__main__":
    np.savez(sys.argv[2], **run_step(dict(np.load(sys.argv[1]))))
