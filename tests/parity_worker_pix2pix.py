"""One full Pix2Pix training step (D update, then G update) from fixed weights and data.

Run by `tests.parity_utils.parity_results`, in-process and in one subprocess per other backend.

Used by `test_pix2pix.py`: the same step on TensorFlow, JAX and PyTorch must
give the same losses and updated weights. Dropout is off (each backend draws
its own masks); batch norm runs with batch statistics, as in training.
"""


import numpy as np

from tests.parity_utils import assign_weights, compile_with_sgd, dump_weights, last_logs, random_initial_weights

IMAGE_SIZE, LEVELS, NGF, NDF, N_LAYERS, BATCH = 16, 3, 4, 4, 2, 2
LEARNING_RATE, MOMENTUM = 0.01, 0.5


def build_networks():
    from keras_gan import networks

    g = networks.unet_generator(IMAGE_SIZE, levels=LEVELS, ngf=NGF, dropout_rate=0.0)
    d = networks.patchgan_discriminator(IMAGE_SIZE, ndf=NDF, n_layers=N_LAYERS)
    return g, d


def run_step(inputs: dict) -> dict:
    import keras_gan

    g, d = build_networks()
    model = keras_gan.Pix2Pix(g, d)
    nets = {"g": g, "d": d}
    assign_weights(nets, inputs)
    # SGD, not the paper's Adam (see compile_with_sgd).
    compile_with_sgd(model, LEARNING_RATE, momentum=MOMENTUM)
    history = model.fit(inputs["inputs"], inputs["targets"], batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    out = last_logs(history)
    out.update(dump_weights(nets))
    return out


def make_inputs(seed: int = 0) -> dict:
    """Initial weights (kernels and biases N(0, 0.05), batch-norm parameters as built) and one batch."""
    rng = np.random.default_rng(seed)
    shape = (BATCH, IMAGE_SIZE, IMAGE_SIZE, 3)
    inputs = {
        "inputs": rng.uniform(-1, 1, shape).astype("float32"),
        "targets": rng.uniform(-1, 1, shape).astype("float32"),
    }
    g, d = build_networks()
    inputs.update(random_initial_weights(rng, {"g": g, "d": d}))
    return inputs

