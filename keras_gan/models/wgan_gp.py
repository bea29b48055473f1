"""`WGANGP`: Wasserstein GAN with gradient penalty (Gulrajani et al., 2017), on the public step API.

Algorithm 1 of the paper ("WGAN with gradient penalty"), defaults from it:
lambda = 10, n_critic = 5, Adam(alpha = 1e-4, beta_1 = 0, beta_2 = 0.9).

    for t = 1 .. n_critic:
        x ~ P_r, z ~ p(z), eps ~ U[0, 1];  x~ = G(z);  x^ = eps x + (1 - eps) x~
        L = D(x~) - D(x) + lambda (||grad_x^ D(x^)||_2 - 1)^2        (mean over the minibatch)
        w <- Adam(grad_w L)
    z ~ p(z);  theta <- Adam(grad_theta -D(G(z)))

The critic outputs an unbounded score (no sigmoid, section 4: "no critic batch
normalization"; use a critic without batch norm, e.g.
`networks.dcgan_discriminator(dropout=0.0)`, which has none). Everything here
is written with `keras.ops` and the `Step` primitives (`update`,
`input_gradient`); nothing is backend-specific, and it runs jit-compiled on
TensorFlow, JAX and PyTorch.

Deviations, named: the norm is sqrt(sum g^2 + 1e-12), so that a zero gradient
(a critic flat at x^) gives a finite penalty gradient instead of NaN; the
paper's `gan_mnist.py` code uses Adam beta_1 = 0.5 for MNIST, the paper's
Algorithm 1 beta_1 = 0, which is the default here.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_gan.models.gan import GAN, _chunk, mean_of

#: Algorithm 1's defaults: gradient penalty coefficient, critic iterations per generator iteration.
PAPER_GP_WEIGHT = 10.0
PAPER_N_CRITIC = 5
#: Adam(alpha, beta_1, beta_2) of Algorithm 1.
PAPER_LEARNING_RATE, PAPER_BETA_1, PAPER_BETA_2 = 1e-4, 0.0, 0.9
#: added under the square root of the gradient norm (see the module docstring).
NORM_EPSILON = 1e-12


def paper_adam() -> keras.optimizers.Optimizer:
    """A fresh Adam(1e-4, beta_1=0, beta_2=0.9): Algorithm 1's optimiser."""
    return keras.optimizers.Adam(PAPER_LEARNING_RATE, beta_1=PAPER_BETA_1, beta_2=PAPER_BETA_2)


@keras.saving.register_keras_serializable(package="keras_gan")
class WGANGP(GAN):
    """WGAN-GP (Gulrajani et al., 2017, Algorithm 1) as a `keras.Model` for every backend.

    As `GAN` with k = `n_critic`: a batch of n examples is split into n_critic
    minibatches of m = n // n_critic, one per critic update, so `batch_size =
    n_critic * m` gives the paper's minibatch m (64 in the paper; 50 in its
    MNIST code).

    Logged: `d_loss` (the critic's loss, penalty included), `g_loss` (-mean D(G(z))),
    `gradient_penalty` (lambda times the penalty term) and `wasserstein`
    (mean D(x) - mean D(G(z)), the critic's estimate of the W1 distance, which
    should fall as G learns).

    Args:
        generator, discriminator: as `GAN`; the discriminator is the critic (no sigmoid).
        n_critic: critic updates per generator update (5).
        gp_weight: lambda (10).
        latent_prior: `"normal"` (the paper's code draws z ~ N(0, I)) or as `GAN`.
        compile(): `paper_adam()` for both networks unless given.
    """

    metric_names = ("d_loss", "g_loss", "gradient_penalty", "wasserstein")
    loss_names = ("d_loss", "g_loss")

    def __init__(self, generator, discriminator, n_critic: int = PAPER_N_CRITIC,
                 gp_weight: float = PAPER_GP_WEIGHT, latent_dim: int | None = None,
                 latent_prior: str = "normal", seed: int | None = None, **kwargs):
        for name in ("d_steps", "generator_loss", "update_rule", "g_steps"):
            if name in kwargs:
                raise ValueError(f"WGANGP does not take {name!r}: its update is Algorithm 1 of Gulrajani et "
                                 "al. (n_critic critic updates, then one generator update).")
        if isinstance(gp_weight, bool) or not isinstance(gp_weight, (int, float)) or gp_weight < 0:
            raise ValueError(f"gp_weight (lambda) must be a number >= 0; got {gp_weight!r}.")
        super().__init__(generator, discriminator, latent_dim=latent_dim, latent_prior=latent_prior,
                         d_steps=n_critic, seed=seed, **kwargs)
        self.n_critic = self.d_steps
        self.gp_weight = float(gp_weight)

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """As `AdversarialModel.compile`, with Algorithm 1's Adam(1e-4, 0, 0.9) as the default."""
        super().compile(d_optimizer=paper_adam() if d_optimizer is None else d_optimizer,
                        g_optimizer=paper_adam() if g_optimizer is None else g_optimizer, **kwargs)

    # ------------------------------------------------------------ the step
    def adversarial_step(self, step, data) -> dict:
        """n_critic critic updates, each on its own real minibatch and fresh noise, then one
        generator update (Algorithm 1)."""
        real, _ = self.unpack_batch(data)
        m = self._minibatch_size(real)
        critic_logs = []
        for t in range(self.n_critic):
            d_loss, stats = step.update(self.discriminator, self.critic_loss, step, _chunk(real, t, m, self.n_critic), t)
            critic_logs.append({"d_loss": d_loss, **stats})
        g_loss, _ = step.update(self.generator, self.generator_wasserstein_loss, m)
        logs = {name: mean_of([entry[name] for entry in critic_logs]) for name in critic_logs[0]}
        return {**logs, "g_loss": g_loss}

    def critic_loss(self, step, real, index: int = 0):
        """L = mean D(G(z)) - mean D(x) + lambda * mean (||grad D(x^)|| - 1)^2."""
        z = self.sample_latent(ops.shape(real)[0], index)
        fake = ops.stop_gradient(self.generator(z, training=True))
        real_scores = self.discriminator(real, training=True)
        fake_scores = self.discriminator(fake, training=True)
        wasserstein = ops.mean(real_scores) - ops.mean(fake_scores)
        penalty = self.gp_weight * self.gradient_penalty(step, real, fake)
        return penalty - wasserstein, {"gradient_penalty": penalty, "wasserstein": wasserstein}

    def gradient_penalty(self, step, real, fake, epsilon=None):
        """mean over the batch of (||grad_x^ D(x^)||_2 - 1)^2 at x^ = eps x + (1 - eps) x~, eps ~ U[0, 1]
        per example (drawn from the model's noise stream unless given, shape (batch, 1, ...))."""
        if epsilon is None:
            shape = (ops.shape(real)[0],) + (1,) * (len(ops.shape(real)) - 1)
            epsilon = keras.random.uniform(shape, dtype=real.dtype, seed=self.seed_generator)
        interpolates = epsilon * real + (1.0 - epsilon) * fake
        gradient = step.input_gradient(lambda x: self.discriminator(x, training=True), interpolates)
        axes = tuple(range(1, len(ops.shape(gradient))))
        norm = ops.sqrt(ops.sum(ops.square(gradient), axis=axes) + NORM_EPSILON)
        return ops.mean(ops.square(norm - 1.0))

    def generator_wasserstein_loss(self, batch_size):
        """G's loss: -mean D(G(z)) on fresh noise."""
        z = self.sample_latent(batch_size, self.n_critic)
        return -ops.mean(self.discriminator(self.generator(z, training=True), training=True))

    def validation_step(self, data) -> dict:
        """The critic's W1 estimate and G's loss on held-out images (no penalty: it needs a gradient)."""
        real, _ = self.unpack_batch(data)
        z = self.validation_latents(ops.shape(real)[0])
        fake_scores = self.discriminator(self.generator(z, training=False), training=False)
        real_scores = self.discriminator(real, training=False)
        return {"wasserstein": ops.mean(real_scores) - ops.mean(fake_scores), "g_loss": -ops.mean(fake_scores)}

    def get_config(self):
        config = super().get_config()
        for name in ("d_steps", "generator_loss", "update_rule", "g_steps"):
            config.pop(name, None)
        return {**config, "n_critic": self.n_critic, "gp_weight": self.gp_weight}
