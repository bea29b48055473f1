"""A new adversarial model in one file, on keras_gan's public step API only: hinge loss with an
R1 penalty on real images (Mescheder et al. 2018), for TensorFlow, JAX and PyTorch alike.

    KERAS_BACKEND=jax python examples/hinge_r1_gan.py --epochs 1 --out outputs/hinge_r1.png
"""
import argparse

import keras
from keras import ops

import keras_gan
from keras_gan import datasets, networks, utils


class HingeR1GAN(keras_gan.GAN):
    metric_names = ("d_loss", "g_loss", "r1")

    def __init__(self, *args, r1_weight: float = 10.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.r1_weight = r1_weight

    def adversarial_step(self, step, data):
        real, _ = self.unpack_batch(data)
        d_loss, stats = step.update(self.discriminator, self.discriminator_loss, step, real)
        g_loss, _ = step.update(self.generator, self.generator_loss_fn, ops.shape(real)[0])
        return {"d_loss": d_loss, "g_loss": g_loss, **stats}

    def discriminator_loss(self, step, real):
        fake = self.generator(self.sample_latent(ops.shape(real)[0]), training=True)
        grad = step.input_gradient(lambda x: self.discriminator(x, training=True), real)
        r1 = 0.5 * self.r1_weight * ops.mean(ops.sum(ops.square(grad), axis=(1, 2, 3)))
        hinge = (ops.mean(ops.relu(1.0 - self.discriminator(real, training=True)))
                 + ops.mean(ops.relu(1.0 + self.discriminator(fake, training=True))))
        return hinge + r1, {"r1": r1}

    def generator_loss_fn(self, n):
        return -ops.mean(self.discriminator(self.generator(self.sample_latent(n, 1), training=True), training=True))

    def validation_step(self, data):
        real, _ = self.unpack_batch(data)
        fake = self.generator(self.validation_latents(ops.shape(real)[0]), training=False)
        return {"g_loss": -ops.mean(self.discriminator(fake, training=False))}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N MNIST images")
    parser.add_argument("--out", default="outputs/hinge_r1_samples.png")
    args = parser.parse_args()
    images = datasets.mnist("train", limit=args.limit).images  # $KERAS_GAN_DATA_DIR, or downloaded
    gan = HingeR1GAN(networks.dcgan_generator(width=16), networks.dcgan_discriminator(width=16), seed=0)
    gan.compile()  # Adam(2e-4, beta_1=0.5) for both networks
    gan.fit(images, batch_size=64, epochs=args.epochs, verbose=2)
    utils.save_image_grid(args.out, gan.generate(64, seed=0), cols=8)
    print(f"{keras.backend.backend()}: samples in {args.out}")
