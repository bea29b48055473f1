"""Rebuild a zoo model's architecture from its registry config (no weights).

One function per family; `keras_gan.zoo.load` calls the one an entry names.
The models come back uncompiled: `generate` / `translate` work at once, and
`compile(...)` + `fit(...)` continue training.
"""

from __future__ import annotations

import keras


def gan_mnist(latent_dim: int = 100, hidden_units: int = 1200, units: int = 240, pieces: int = 5,
              max_col_norm: float | None = None, update_rule: str = "alternating",
              latent_prior: str = "uniform", seed: int | None = None) -> keras.Model:
    """The GAN paper's MNIST pair (Goodfellow et al. 2014; see keras_gan.networks.mnist_mlp).

    `latent_prior`: z ~ U(-sqrt 3, sqrt 3) (`"uniform"`, what the zoo entry was
    trained with) or N(0, 1) (`"normal"`). The paper names no prior; the stored
    versions of the reference `mnist.yaml` disagree: one sets
    `noise: 'uniform'`, the other sets none, which leaves `adversarial.Generator`'s
    default, Gaussian.

    `max_col_norm=1.9365` adds the maxout paper's cap on D's column norms
    (pylearn2 `mnist_pi.yaml`); the GAN paper and its `mnist.yaml` have none,
    and the zoo entry was trained without it. `update_rule="simultaneous"`
    steps both networks as the paper's code does (`keras_gan.GAN`).
    """
    from keras_gan import networks
    from keras_gan.models import GAN

    return GAN(
        networks.mnist_generator(latent_dim=latent_dim, hidden_units=hidden_units),
        networks.mnist_discriminator(units=units, pieces=pieces, max_col_norm=max_col_norm),
        latent_dim=latent_dim,
        latent_prior=latent_prior,
        update_rule=update_rule,
        seed=seed,
    )


def dcgan_mnist(latent_dim: int = 100, width: int = 64, dropout: float = 0.3,
                seed: int | None = None) -> keras.Model:
    """The DCGAN-style convolutional pair on MNIST (keras_gan.networks.dcgan)."""
    from keras_gan import networks
    from keras_gan.models import GAN

    return GAN(
        networks.dcgan_generator(latent_dim=latent_dim, width=width),
        networks.dcgan_discriminator(width=width, dropout=dropout),
        latent_dim=latent_dim,
        latent_prior="normal",
        seed=seed,
    )


def wgan_gp_mnist(latent_dim: int = 128, width: int = 32, n_critic: int = 5, gp_weight: float = 10.0,
                  seed: int | None = None) -> keras.Model:
    """WGAN-GP (Gulrajani et al. 2017) with the DCGAN-style pair on MNIST: the critic is
    `dcgan_discriminator` without dropout (and, as the paper's critic, without batch norm);
    z ~ N(0, I) of size 128, as the paper's `gan_mnist.py`."""
    from keras_gan import networks
    from keras_gan.models import WGANGP

    return WGANGP(
        networks.dcgan_generator(latent_dim=latent_dim, width=width),
        networks.dcgan_discriminator(width=width, dropout=0.0, name="wgan_gp_critic"),
        n_critic=n_critic,
        gp_weight=gp_weight,
        latent_prior="normal",
        seed=seed,
    )


def cgan_mnist(latent_dim: int = 100, num_classes: int = 10, dropout: float = 0.5,
               generator_dropout: float = 0.5, discriminator_input_dropout: float = 0.0,
               discriminator_max_col_norm: float | None = None,
               latent_prior: str = "unit_hypercube", seed: int | None = None) -> keras.Model:
    """The CGAN paper's MNIST pair (Mirza & Osindero 2014, section 4.1).

    The defaults are the paper's; `discriminator_input_dropout` and
    `discriminator_max_col_norm` add pylearn2's maxout regularisers: the GAN
    code's pixel dropout 0.2 (`mnist.yaml`) and the maxout paper's column-norm
    cap 1.9365 (`mnist_pi.yaml`), which the zoo entry uses.
    """
    from keras_gan import networks
    from keras_gan.models import ConditionalGAN

    return ConditionalGAN(
        networks.conditional_mnist_generator(latent_dim=latent_dim, num_classes=num_classes,
                                             generator_dropout=generator_dropout),
        networks.conditional_mnist_discriminator(num_classes=num_classes, dropout=dropout,
                                                 input_dropout=discriminator_input_dropout,
                                                 max_col_norm=discriminator_max_col_norm),
        latent_prior=latent_prior,
        seed=seed,
    )


def pix2pix(image_size: int = 256, ngf: int = 64, ndf: int = 64, l1_weight: float = 100.0,
            gan_weight: float = 1.0, conditional_discriminator: bool = True,
            seed: int | None = None) -> keras.Model:
    """A pix2pix pair (Isola et al. 2017, appendix 6.1): U-Net generator, 70x70 PatchGAN.

    `ngf` / `ndf` are the widths of the first layers (64 in the paper); the
    CPU-trained zoo model uses narrower ones (see its card). `l1_weight=0`
    and `gan_weight=0` give Table 1's "cGAN" and "L1" ablations;
    `conditional_discriminator=False` its "GAN" and "L1+GAN" rows (D does not
    see the input image).
    """
    from keras_gan import networks
    from keras_gan.models import Pix2Pix

    return Pix2Pix(
        networks.unet_generator(image_size=image_size, ngf=ngf, seed=seed),
        networks.patchgan_discriminator(image_size=image_size, ndf=ndf,
                                        conditional=conditional_discriminator),
        l1_weight=l1_weight,
        gan_weight=gan_weight,
    )
