"""The pix2pix networks (Isola et al., 2017, appendix 6.1): U-Net generator, PatchGAN discriminator.

Notation of the paper: "Ck" is Convolution-BatchNorm-ReLU with k filters,
"CDk" the same with 50% dropout; every convolution is 4x4 with stride 2
(down in the encoder and the discriminator, up in the decoder).

- Generator (U-Net, 6.1.1): encoder C64-C128-C256-C512-C512-C512-C512-C512,
  decoder CD512-CD512-CD512-C512-C256-C128-C64 (before concatenation: the
  paper lists the decoder by its concatenated widths, CD512-CD1024-CD1024-
  C1024-C1024-C512-C256-C128), a final convolution to the output channels and
  tanh. Skip connections join encoder layer i to decoder layer n - i.
  "BatchNorm is not applied to the first C64 layer in the encoder"; "ReLUs in
  the encoder are leaky, with slope 0.2, while ReLUs in the decoder are not".
- Discriminator (70x70 PatchGAN, 6.1.2): C64-C128-C256-C512, then a
  convolution to one output per patch; no BatchNorm on C64; leaky ReLUs (0.2).
  The last two convolutions have stride 1, so a 256x256 input gives 30x30
  logits, each seeing a 70x70 patch. It is conditioned on the input image:
  D sees the input and the (real or generated) output concatenated along the
  channels.
- Initialisation (6.2): weights N(0, 0.02); as in the reference code
  (phillipi/pix2pix `weights_init`), batch-norm scales N(1, 0.02) and all
  biases 0.

Choices the paper leaves open, taken from its reference code and named here:

- Layer order is the reference code's pre-activation form: encoder layer i is
  LeakyReLU -> Conv -> BatchNorm, decoder layer j is ReLU -> ConvTranspose ->
  BatchNorm [-> Dropout] -> concatenate with the skip. Chained, this is the
  paper's Conv-BatchNorm-ReLU ("Ck"); the skips carry the encoder's
  batch-normalised features before the LeakyReLU, and the decoder's ReLU is
  applied to the concatenation.
- The innermost encoder convolution (the 1x1 bottleneck at 256x256) has no
  BatchNorm (reference code; with batch size 1, normalising a 1x1 map would
  zero it). Unlike the TensorFlow tutorial we do not normalise it.
- A convolution followed by BatchNorm has no bias (BatchNorm's mean
  subtraction cancels it, and pix2pix always normalises with batch
  statistics); the first, innermost and output convolutions, which have no
  norm after them, keep theirs. The Lua reference code gives every
  convolution a (redundant) bias; the PyTorch port gives none to the first
  and innermost. Either way the 256x256 U-Net has 54.4 M parameters.
- Convolutions are `keras_gan.layers.Conv2D` / `Conv2DTranspose`, and the
  skips `keras_gan.layers.Concatenate`: Keras' layers (same weights, same
  results) that skip Keras' layout copies on PyTorch.
- BatchNorm uses the reference implementation's momentum 0.1 (Keras
  `momentum=0.9`) and epsilon 1e-5 (Keras' defaults are 0.99 and 1e-3), and
  its moving variance averages the unbiased batch variance, as torch's
  BatchNorm2d does (`keras_gan.layers.BatchNormalization`; Keras' averages the
  biased one). Only inference mode reads it. Checkpoints trained before this
  change (the zoo's pix2pix-facades) hold Keras' biased averages. It is
  `synchronized`: in a data-parallel run over several devices or processes
  its statistics are the global batch's (SyncBatchNorm), on every backend, so
  N replicas train as one process on the global batch.
- Dropout sits in the first three decoder blocks, as the paper (6.1.1:
  CD512-CD1024-CD1024) and the Lua reference code place it; the PyTorch port
  (junyanz/pytorch-CycleGAN-and-pix2pix, `UnetSkipConnectionBlock`) puts it in
  blocks 2-4, counting from the innermost.
- The discriminator returns logits; the losses apply the sigmoid stably.
- Table 1's "GAN" rows use an unconditioned D (section 4.3: "the
  discriminator does not observe x"): `patchgan_discriminator(conditional=
  False)` keeps the two-input signature, so `Pix2Pix` trains it unchanged,
  and drops the input image before the first convolution (`TargetOnly`); its
  first convolution then takes `target_channels` instead of
  `in_channels + target_channels`.

Sizes generalise the paper's: `levels` encoder layers (8 for 256x256, which
brings the map to 1x1), widths `ngf * min(2**i, 8)`; `n_layers` strided
discriminator layers (3 gives the 70x70 PatchGAN, 1 a 16x16 one, 5 a 286x286
one, as in the reference code).
"""

from __future__ import annotations

import math
import random

import keras
import numpy as np
from keras import layers

from keras_gan.layers import BatchNormalization, Concatenate, Conv2D, Conv2DTranspose

#: 50% dropout in the first three decoder blocks (6.1.1: CD512-CD1024-CD1024).
PAPER_DROPOUT_RATE = 0.5
PAPER_DROPOUT_BLOCKS = 3
LEAKY_SLOPE = 0.2
BN_MOMENTUM = 0.9  # torch/Lua momentum 0.1: running = 0.9 running + 0.1 batch
BN_EPSILON = 1e-5


@keras.saving.register_keras_serializable(package="keras_gan")
class HostRandomNormal(keras.initializers.Initializer):
    """N(mean, stddev) weights drawn with numpy on the host, then converted.

    Same distribution as `keras.initializers.RandomNormal`. Why not that one:
    on JAX every new weight shape compiles a new XLA random-number program,
    which takes seconds per shape on a CPU, so building the 256x256 U-Net
    (about ten distinct shapes) took about 47 s on a shared 2-core machine
    against about 1 s here. Without `seed`, each call draws its seed from
    numpy's global generator, which `keras.utils.set_random_seed` seeds, so
    runs repeat; the same seed gives the same weights on every backend.
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.02, seed: int | None = None):
        if not stddev >= 0:
            raise ValueError(f"stddev must be >= 0; got {stddev!r}.")
        self.mean = float(mean)
        self.stddev = float(stddev)
        self.seed = seed

    def __call__(self, shape, dtype=None):
        seed = self.seed if self.seed is not None else np.random.randint(0, 2**31 - 1)
        values = np.random.default_rng(seed).standard_normal(tuple(shape), dtype=np.float32)
        values = values * np.float32(self.stddev) + np.float32(self.mean)
        return keras.ops.convert_to_tensor(values, dtype=dtype or keras.config.floatx())

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


def _conv_init() -> keras.initializers.Initializer:
    """Section 6.2: "Weights were initialized from a Gaussian distribution with mean 0 and standard deviation 0.02"."""
    return HostRandomNormal(0.0, 0.02)


def _batch_norm(name: str) -> layers.Layer:
    return BatchNormalization(
        momentum=BN_MOMENTUM,
        epsilon=BN_EPSILON,
        gamma_initializer=HostRandomNormal(1.0, 0.02),
        synchronized=True,  # global-batch statistics in data-parallel runs (one process: no change)
        name=name,
    )


def _width(base: int, index: int) -> int:
    """Filters of layer `index` (0-based): base, 2 base, 4 base, then 8 base from then on."""
    return base * min(2**index, 8)


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    return value


def default_levels(image_size: int) -> int:
    """U-Net depth that brings `image_size` down to 1x1 (8 for 256, the paper's)."""
    return int(round(math.log2(image_size)))


def unet_generator(
    image_size: int = 256,
    in_channels: int = 3,
    out_channels: int = 3,
    ngf: int = 64,
    levels: int | None = None,
    dropout_rate: float = PAPER_DROPOUT_RATE,
    dropout_blocks: int = PAPER_DROPOUT_BLOCKS,
    seed: int | None = None,
    name: str = "unet_generator",
) -> keras.Model:
    """The pix2pix U-Net generator (see the module docstring), images in [-1, 1].

    Args:
        image_size: height and width of the square images (256 in the paper);
            must be divisible by `2**levels`.
        in_channels, out_channels: channels of the input and output images.
        ngf: filters of the first encoder layer (64 in the paper).
        levels: number of encoder layers (= stride-2 downsamplings); default
            `log2(image_size)`, which reaches 1x1 (8 for 256, the paper's).
            Smaller values give a shallower, faster network for tests.
        dropout_rate: dropout of the first `dropout_blocks` decoder blocks
            (0.5 and 3 in the paper). pix2pix's only source of noise: keep it
            active at test time too (`Pix2Pix.translate` does by default).
        seed: base seed of the dropout layers' random streams. Each dropout
            layer gets an explicit seed so that its masks come from a state
            that the model saves and restores on every backend (an unseeded
            Keras Dropout on PyTorch draws from torch's global generator).
            Default: drawn from Python's `random`, which
            `keras.utils.set_random_seed` seeds.
    """
    _check_positive_int("image_size", image_size)
    _check_positive_int("in_channels", in_channels)
    _check_positive_int("out_channels", out_channels)
    _check_positive_int("ngf", ngf)
    if levels is None:
        levels = default_levels(image_size)
    _check_positive_int("levels", levels)
    if levels < 2:
        raise ValueError(f"levels must be >= 2 (an outermost and an innermost layer); got {levels}.")
    if image_size % (2**levels):
        raise ValueError(
            f"image_size={image_size} is not divisible by 2**levels={2**levels}: each of the "
            f"{levels} encoder layers halves the image. Use levels <= "
            f"{_max_levels(image_size)} or an image size that is a multiple of {2**levels}."
        )
    if not 0.0 <= dropout_rate < 1.0:
        raise ValueError(f"dropout_rate must be in [0, 1); got {dropout_rate!r}.")
    if seed is None:
        seed = random.randint(1, 2**30)

    images = keras.Input((image_size, image_size, in_channels), name="input_image")
    # Encoder: LeakyReLU -> Conv -> BatchNorm (no activation before the first
    # layer, no BatchNorm on the first and the innermost layer).
    skips = []
    h = images
    for i in range(levels):
        outermost, innermost = i == 0, i == levels - 1
        if not outermost:
            h = layers.LeakyReLU(LEAKY_SLOPE, name=f"enc{i + 1}_lrelu")(h)
        h = Conv2D(
            _width(ngf, i), 4, strides=2, padding="same",
            use_bias=outermost or innermost, kernel_initializer=_conv_init(), name=f"enc{i + 1}_conv",
        )(h)
        if not (outermost or innermost):
            h = _batch_norm(f"enc{i + 1}_norm")(h)
        skips.append(h)

    # Decoder: ReLU -> ConvTranspose -> BatchNorm [-> Dropout] -> concat skip.
    for j in range(1, levels):
        mirror = levels - 1 - j  # encoder layer whose output is joined here
        h = layers.ReLU(name=f"dec{j}_relu")(h)
        h = Conv2DTranspose(
            _width(ngf, mirror), 4, strides=2, padding="same", use_bias=False,
            kernel_initializer=_conv_init(), name=f"dec{j}_conv",
        )(h)
        h = _batch_norm(f"dec{j}_norm")(h)
        if j <= dropout_blocks and dropout_rate > 0:
            h = layers.Dropout(dropout_rate, seed=seed + j, name=f"dec{j}_dropout")(h)
        h = Concatenate(name=f"dec{j}_skip")([h, skips[mirror]])

    h = layers.ReLU(name="out_relu")(h)
    h = Conv2DTranspose(
        out_channels, 4, strides=2, padding="same", kernel_initializer=_conv_init(), name="out_conv"
    )(h)
    outputs = layers.Activation("tanh", name="tanh")(h)
    return keras.Model(images, outputs, name=name)


def _max_levels(image_size: int) -> int:
    levels = 0
    while image_size % 2 == 0 and image_size > 1:
        image_size //= 2
        levels += 1
    return levels


def patch_size(n_layers: int) -> int:
    """Receptive field of one output of the PatchGAN (70 for n_layers=3)."""
    # Walk back from one output through: conv s1, conv s1, then n_layers convs s2.
    size = 1
    for stride in [1, 1] + [2] * n_layers:
        size = (size - 1) * stride + 4
    return size


@keras.saving.register_keras_serializable(package="keras_gan")
class TargetOnly(layers.Layer):
    """Passes on the target image of `[input_image, target_image]` and drops the input.

    Why a layer: the unconditioned PatchGAN must keep D's two-input contract
    (Pix2Pix calls `D([x, y])`), and a Keras functional model saves only
    inputs its graph uses.
    """

    def call(self, inputs):
        return inputs[1]

    def compute_output_shape(self, input_shape):
        return input_shape[1]


def patchgan_discriminator(
    image_size: int = 256,
    in_channels: int = 3,
    target_channels: int = 3,
    ndf: int = 64,
    n_layers: int = 3,
    name: str = "patchgan_discriminator",
    conditional: bool = True,
) -> keras.Model:
    """The conditional PatchGAN discriminator (see the module docstring).

    Takes `[input_image, target_image]` (both in [-1, 1]) and returns one
    logit per patch: shape `(batch, s, s, 1)` with s = 30 for the 256x256,
    n_layers=3 (70x70) configuration. `conditional=False` gives Table 1's
    unconditioned D ("GAN", "L1+GAN" rows): same signature, but it looks at
    the target image only.

    Padding is 1 pixel on each side of every convolution, as in the reference
    code (`padding=1` inside each convolution, so odd intermediate sizes behave
    like the reference too; `keras_gan.layers.Conv2D` says why not a separate
    `ZeroPadding2D`, which networks built before 2026-12-07 had: their weight
    files load unchanged, as the padding layers hold no weights).
    """
    _check_positive_int("image_size", image_size)
    _check_positive_int("in_channels", in_channels)
    _check_positive_int("target_channels", target_channels)
    _check_positive_int("ndf", ndf)
    _check_positive_int("n_layers", n_layers)
    output_size = image_size
    for stride in [2] * n_layers + [1, 1]:
        output_size = (output_size + 2 - 4) // stride + 1
    if output_size < 1:
        raise ValueError(
            f"A {n_layers}-layer PatchGAN needs larger images than {image_size}x{image_size} "
            f"(its patches are {patch_size(n_layers)}x{patch_size(n_layers)}); use fewer n_layers."
        )

    condition = keras.Input((image_size, image_size, in_channels), name="input_image")
    target = keras.Input((image_size, image_size, target_channels), name="target_image")
    if not isinstance(conditional, bool):
        raise ValueError(f"conditional must be True or False; got {conditional!r}.")
    if conditional:
        h = Concatenate(name="pair")([condition, target])
    else:
        h = TargetOnly(name="target_only")([condition, target])
    # n_layers stride-2 convolutions, then one stride-1 with BatchNorm, then
    # the stride-1 convolution to one logit per patch.
    strides = [2] * n_layers + [1]
    for i, stride in enumerate(strides):
        first = i == 0
        h = Conv2D(
            _width(ndf, i), 4, strides=stride, padding=1, use_bias=first,
            kernel_initializer=_conv_init(), name=f"conv{i + 1}",
        )(h)
        if not first:
            h = _batch_norm(f"conv{i + 1}_norm")(h)
        h = layers.LeakyReLU(LEAKY_SLOPE, name=f"conv{i + 1}_lrelu")(h)
    logits = Conv2D(1, 4, strides=1, padding=1, kernel_initializer=_conv_init(), name="logits")(h)
    return keras.Model([condition, target], logits, name=name)
