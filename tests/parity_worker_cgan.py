"""One full ConditionalGAN training step from fixed weights, data, labels and noise.

Run by `tests.parity_utils.parity_results`, in-process and in one subprocess per other backend.

Used by `test_conditional_gan.py`: the same step on TensorFlow, JAX and
PyTorch must give the same losses and updated weights. The networks are the
paper's (section 4.1: two branches, concatenation, maxout) at a small size,
with dropout off; the labels are integers, so each backend's one-hot
conversion is part of the step.
"""


import numpy as np

from tests.parity_utils import assign_weights, compile_with_sgd, dump_weights, last_logs

LATENT_DIM = 16
NUM_CLASSES = 10


def build_networks():
    from keras_gan import networks

    g = networks.conditional_mnist_generator(
        latent_dim=LATENT_DIM, num_classes=NUM_CLASSES, z_units=32, y_units=16, joint_units=64,
        generator_dropout=0.0,
    )
    d = networks.conditional_mnist_discriminator(
        num_classes=NUM_CLASSES, x_units=32, y_units=8, joint_units=32, dropout=0.0
    )
    return g, d


def run_step(inputs: dict) -> dict:
    from keras import ops

    import keras_gan

    class FixedNoiseConditionalGAN(keras_gan.ConditionalGAN):
        def sample_latent(self, batch_size, index=0):
            return ops.convert_to_tensor(inputs[f"z{index}"])

    g, d = build_networks()
    model = FixedNoiseConditionalGAN(g, d, d_steps=int(inputs["d_steps"]))
    nets = {"g": model.generator, "d": model.discriminator}
    assign_weights(nets, inputs)
    compile_with_sgd(model, 0.1, momentum=0.5)
    real, labels = inputs["real"], inputs["labels"]
    history = model.fit(real, labels, batch_size=len(real), epochs=1, shuffle=False, verbose=0)
    out = last_logs(history)
    out["d_iterations"] = ops.convert_to_numpy(model.d_optimizer.iterations)
    out["g_iterations"] = ops.convert_to_numpy(model.g_optimizer.iterations)
    out.update(dump_weights(nets))
    return out


def make_inputs(seed: int = 0, batch: int = 32, d_steps: int = 2) -> dict:
    """Initial weights, a real batch with labels and the noise of every update, drawn with numpy."""
    rng = np.random.default_rng(seed)
    inputs = {
        "real": rng.uniform(0, 1, (batch, 28, 28, 1)).astype("float32"),
        "labels": rng.integers(0, NUM_CLASSES, batch).astype("int64"),
        "d_steps": d_steps,
    }
    g, d = build_networks()
    for part, net in (("g", g), ("d", d)):
        for i, v in enumerate(net.weights):
            # Larger than the paper's U(-0.005, 0.005), so that the generator's
            # gradient through D is far above round-off.
            inputs[f"{part}{i}"] = rng.normal(0.0, 0.05, tuple(v.shape)).astype("float32")
    m = batch // d_steps
    for i in range(d_steps + 1):
        inputs[f"z{i}"] = rng.uniform(0.0, 1.0, (m, LATENT_DIM)).astype("float32")
    return inputs

