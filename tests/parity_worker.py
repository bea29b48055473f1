"""One full GAN training step from fixed weights, data and noise, under the backend in use.

Run by `tests.parity_utils.parity_results`, in-process and in one subprocess per other backend.

Used by `test_backend_parity.py`: the same step on TensorFlow, JAX and PyTorch
must give the same losses and updated weights.
"""


import numpy as np

from tests.parity_utils import assign_weights, compile_with_sgd, dump_weights, last_logs, random_initial_weights


def run_step(inputs: dict, network: str) -> dict:
    from keras import ops

    import keras_gan
    from keras_gan import networks

    if network == "wgan":
        return run_wgan_gp_step(inputs)

    class FixedNoiseGAN(keras_gan.GAN):
        def sample_latent(self, batch_size, index=0):
            return ops.convert_to_tensor(inputs[f"{network}_z{index}"])

    simultaneous = network == "sim"  # the reference code's joint step, d_steps = 1
    if network in ("mlp", "sim"):
        g = networks.mnist_generator(latent_dim=16, hidden_units=64)
        d = networks.mnist_discriminator(units=32, pieces=5, input_dropout=0.0, hidden_dropout=0.0)
    else:
        g = networks.dcgan_generator(latent_dim=16, width=8)
        d = networks.dcgan_discriminator(width=8, dropout=0.0)
    gan = FixedNoiseGAN(g, d, d_steps=1 if simultaneous else int(inputs["d_steps"]),
                        update_rule="simultaneous" if simultaneous else "alternating")
    nets = {"g": gan.generator, "d": gan.discriminator}
    assign_weights(nets, inputs, prefix=f"{network}_")
    compile_with_sgd(gan, 0.1, momentum=0.5)
    history = gan.fit(inputs["real"], batch_size=len(inputs["real"]), epochs=1, shuffle=False, verbose=0)
    out = last_logs(history, prefix=f"{network}_")
    out.update(dump_weights(nets, prefix=f"{network}_"))
    return out


def run_wgan_gp_step(inputs: dict) -> dict:
    """One WGAN-GP step (n_critic = d_steps critic updates with the gradient penalty, then G's),
    noise and interpolation weights injected: the penalty's second-order gradient included."""
    from keras import ops

    import keras_gan
    from keras_gan import networks

    class FixedNoiseWGANGP(keras_gan.WGANGP):
        def sample_latent(self, batch_size, index=0):
            return ops.convert_to_tensor(inputs[f"wgan_z{index}"])

        def gradient_penalty(self, step, real, fake, epsilon=None):
            self.penalties = getattr(self, "penalties", 0) + 1
            index = (self.penalties - 1) % int(inputs["d_steps"])
            return super().gradient_penalty(step, real, fake, ops.convert_to_tensor(inputs[f"wgan_eps{index}"]))

    model = FixedNoiseWGANGP(networks.dcgan_generator(latent_dim=16, width=8),
                             networks.dcgan_discriminator(width=8, dropout=0.0), n_critic=int(inputs["d_steps"]))
    nets = {"g": model.generator, "d": model.discriminator}
    assign_weights(nets, inputs, prefix="wgan_")
    compile_with_sgd(model, 0.1, momentum=0.5)
    history = model.fit(inputs["real"], batch_size=len(inputs["real"]), epochs=1, shuffle=False, verbose=0)
    return {**last_logs(history, prefix="wgan_"), **dump_weights(nets, prefix="wgan_")}


def make_inputs(seed: int = 0, batch: int = 32, d_steps: int = 2) -> dict:
    """Initial weights, a real batch and the noise of every update, drawn with numpy."""
    from keras_gan import networks

    rng = np.random.default_rng(seed)
    inputs = {"real": rng.uniform(0, 1, (batch, 28, 28, 1)).astype("float32"), "d_steps": d_steps}
    m = batch // d_steps
    pairs = {
        "mlp": (networks.mnist_generator(latent_dim=16, hidden_units=64),
                networks.mnist_discriminator(units=32, pieces=5, input_dropout=0.0, hidden_dropout=0.0)),
        "conv": (networks.dcgan_generator(latent_dim=16, width=8),
                 networks.dcgan_discriminator(width=8, dropout=0.0)),
        "sim": (networks.mnist_generator(latent_dim=16, hidden_units=64),
                networks.mnist_discriminator(units=32, pieces=5, input_dropout=0.0, hidden_dropout=0.0)),
        "wgan": (networks.dcgan_generator(latent_dim=16, width=8),
                 networks.dcgan_discriminator(width=8, dropout=0.0)),
    }
    for name, (g, d) in pairs.items():
        inputs.update(random_initial_weights(rng, {"g": g, "d": d}, prefix=f"{name}_"))
        if name == "sim":  # one noise draw for the whole batch, shared by both updates
            inputs["sim_z0"] = rng.uniform(-np.sqrt(3), np.sqrt(3), (batch, 16)).astype("float32")
            continue
        for i in range(d_steps + 1):
            inputs[f"{name}_z{i}"] = rng.uniform(-np.sqrt(3), np.sqrt(3), (m, 16)).astype("float32")
            if name == "wgan" and i < d_steps:
                inputs[f"wgan_eps{i}"] = rng.uniform(0, 1, (m, 1, 1, 1)).astype("float32")
    return inputs


def run_all_steps(inputs: dict) -> dict:
    """Every network's step (see `make_inputs`), its outputs under the network's prefix."""
    result = {}
    for net in ("mlp", "conv", "sim", "wgan"):
        result.update(run_step(inputs, net))
    return result
