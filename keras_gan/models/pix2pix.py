"""`Pix2Pix`: image-to-image translation with a conditional GAN (Isola et al., 2017).

The objective (section 3, Eq. 4) is
    G* = arg min_G max_D  L_cGAN(G, D) + lambda L_L1(G),   lambda = 100,
optimised as the paper's section 3.2 says: alternate one gradient step on D,
then one on G; D's objective is divided by 2 ("which slows down the rate at
which D learns relative to G"); G maximises log D(x, G(x)) (the non-saturating
loss) instead of minimising log(1 - D(x, G(x))); minibatch SGD with Adam,
learning rate 0.0002, beta1 = 0.5, beta2 = 0.999. Here D returns one logit per
patch (PatchGAN) and every mean runs over patches and batch, as in the
reference code.

One forward pass of G per step, as in the reference implementation
(junyanz `pix2pix_model.py`: `forward()` once, `backward_D` on the detached
output, `backward_G` through the same output after D's update). The update
plan starts with a "forward" entry: the backends run G once, hand its output
to the D update with the gradient path cut, and to the G update with it
intact, differentiating G's loss back through that same pass (a `jax.vjp`
pulled back after D's update on JAX, a re-entered `GradientTape` on
TensorFlow, the kept autograd graph on PyTorch). So D and G see the same
images, and G's dropout stream and batch-norm averages advance once per step.

Not copied from the TensorFlow pix2pix tutorial: its joint (instead of
alternating) update and its un-halved D loss (and, in the networks, its
LeakyReLU 0.3 and its normalised 1x1 bottleneck).
"""

from __future__ import annotations

import math
import types
import warnings

import keras
import numpy as np
from keras import ops

from keras_gan import losses
from keras_gan.backend import compiled_forward
from keras_gan.models.adversarial_model import AdversarialModel, _check_batch, default_optimizer
from keras_gan import compat

#: Section 3.2 / 6.2: Adam with learning rate 0.0002 and momentum beta1 = 0.5.
PAPER_LEARNING_RATE = 2e-4
PAPER_BETA_1 = 0.5
#: Adam's epsilon in the reference code (Torch `optim.adam`, torch.optim.Adam);
#: Keras' default is 1e-7. The paper does not state it.
REFERENCE_ADAM_EPSILON = 1e-8
#: lambda of Eq. 4 (section 4: "we use lambda = 100").
PAPER_L1_WEIGHT = 100.0
TRANSLATE_MODES = ("paper", "eval")
_RANGE_TOLERANCE = 1e-3


def paper_adam() -> keras.optimizers.Optimizer:
    """A fresh Adam(2e-4, beta_1=0.5, beta_2=0.999, epsilon=1e-8), the paper's optimiser
    (also `compile()`'s default for every model)."""
    return default_optimizer()


def l1_distance(targets, outputs):
    """L_L1 of Eq. 3: mean absolute difference over pixels, channels and batch."""
    return ops.mean(ops.abs(ops.subtract(targets, outputs)))


@keras.saving.register_keras_serializable(package="keras_gan")
class Pix2Pix(AdversarialModel):
    """Conditional GAN for paired image-to-image translation (Isola et al., 2017).

    `fit(inputs, targets)` (or a `tf.data.Dataset` / `keras.utils.PyDataset`
    yielding `(inputs, targets)` batches) trains on pairs of images in
    [-1, 1]. Each step: one discriminator update on
    1/2 [BCE(D(x, y), real) + BCE(D(x, G(x)), fake)], then one generator
    update on BCE(D(x, G(x)), real) + l1_weight * |y - G(x)|_1 (see the
    module docstring). Batch size 1, the paper's choice for most tasks,
    works: batch normalisation then normalises each image on its own.

    Logged: `d_loss` (the halved D loss), `g_loss` (G's total loss),
    `g_gan` and `g_l1` (its two terms, L1 unweighted), `d_real` and `d_fake`
    (D's mean probability of "real" on real and generated pairs).

    Args:
        generator: maps input images `(H, W, C_in)` to output images
            `(H, W, C_out)` in [-1, 1] (e.g. `networks.unet_generator`).
        discriminator: maps `[input_image, output_image]` to patch logits
            (e.g. `networks.patchgan_discriminator`).
        l1_weight: lambda of Eq. 4 (100 in the paper; 0 gives the cGAN-only
            ablation of Table 1).
        gan_weight: weight of L_cGAN in G's objective (1 in Eq. 4). 0 gives
            Table 1's "L1" row, a U-Net trained on L1 alone: then D plays no
            part, so it is not evaluated or updated (each step is one G
            update) and only `g_loss` and `g_l1` are logged.
    """

    loss_names = ("d_loss", "g_loss")
    metric_names = ("d_loss", "g_loss", "g_gan", "g_l1", "d_real", "d_fake")
    uint8_hint = "[-1, 1], the generator's tanh range: use images / 127.5 - 1 on uint8 images"

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        l1_weight: float = PAPER_L1_WEIGHT,
        gan_weight: float = 1.0,
        **kwargs,
    ):
        super().__init__(generator, discriminator, **kwargs)
        for name, value in (("l1_weight (lambda of Eq. 4)", l1_weight), ("gan_weight", gan_weight)):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not (
                math.isfinite(value) and value >= 0
            ):
                raise ValueError(f"{name} must be a finite number >= 0; got {value!r}.")
        if l1_weight == 0 and gan_weight == 0:
            raise ValueError("l1_weight and gan_weight are both 0: the generator would have no objective. "
                             "Use l1_weight=100, gan_weight=1 (the paper) or set one of them to 0.")
        self.input_image_shape, self.output_image_shape = _check_networks(generator, discriminator)
        self.l1_weight = float(l1_weight)
        self.gan_weight = float(gan_weight)
        if self.gan_weight == 0:  # Table 1's L1 row: no discriminator terms to log
            self._trackers = {name: keras.metrics.Mean(name=name) for name in self.l1_only_metric_names}
        self.built = True

    #: what an L1-only model (gan_weight=0) logs: D takes no part in its steps.
    l1_only_metric_names = ("g_loss", "g_l1")

    # -------------------------------------------------------------- compile
    # compile(): AdversarialModel's default, Adam(2e-4, beta_1=0.5, epsilon=1e-8), is this
    # paper's optimiser (section 3.2, epsilon from the reference code).

    # ------------------------------------------------------------- using it
    def call(self, inputs, training: bool = False):
        """`pix2pix(x)` is `generator(x)` (Keras conventions; see `translate`)."""
        return self.generator(inputs, training=training)

    def translate(
        self, images, batch_size: int = 1, mode: str = "paper", seed: int | None = None
    ) -> np.ndarray:
        """Translate input images (N, H, W, C_in) in [-1, 1]; returns numpy (N, H, W, C_out).

        `mode="paper"` (default) runs the generator exactly as in training, as
        the paper does at test time (section 2.1: "we apply dropout at test
        time, and we apply batch normalization using the statistics of the test
        batch"; the reference code tests the same way). Reasons to keep it the
        default: dropout is pix2pix's only noise, and batch normalisation with
        batch statistics is what the generator was trained with. With batch
        size 1 (the paper's training and test setting) the moving averages
        Keras keeps are averages of per-image statistics, which no image is
        normalised with during training, so `mode="eval"` gives different,
        often worse, images for such models. Each chunk of `batch_size`
        images is normalised with its own statistics, so keep the default
        `batch_size=1` to make each output depend on its input only (instance
        normalisation); larger chunks are faster but mix images' statistics.
        `translate` never changes the model's batch-norm averages. The dropout
        masks come from the model's own random stream (successive calls differ,
        like samples) or, with `seed`, are a deterministic function of it.

        `mode="eval"` is Keras' inference mode: no dropout, batch norm with
        the moving averages; deterministic, and independent of `batch_size`.
        Use it for models trained with large batches, or when determinism
        matters more than matching the paper.
        """
        if mode not in TRANSLATE_MODES:
            raise ValueError(f"Unknown translate mode {mode!r}; expected one of {TRANSLATE_MODES}.")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
        images = np.asarray(images)
        if images.ndim == 3:
            raise ValueError(
                f"translate expects a batch of images (N, H, W, C); got one image of shape "
                f"{images.shape}. Pass images[None] to translate a single image."
            )
        _check_batch("Input images", images.shape, keras.backend.standardize_dtype(images.dtype),
                     self.input_image_shape, self.uint8_hint)
        check_value_range("Input images", images)
        images = images.astype(self.compute_dtype or "float32", copy=False)
        if len(images) == 0:
            return np.zeros((0,) + self.output_image_shape, dtype="float32")
        if mode == "eval":
            return np.concatenate([
                ops.convert_to_numpy(compiled_forward.forward(self.generator, images[i : i + batch_size]))
                for i in range(0, len(images), batch_size)
            ])
        return self._translate_as_in_training(images, int(batch_size), seed)

    def _translate_as_in_training(self, images: np.ndarray, batch_size: int, seed: int | None) -> np.ndarray:
        """Generator in training mode, without touching its batch-norm averages."""
        generator = self.generator
        seed_states = seed_state_variables(generator)
        seed_ids = {id(v) for v in seed_states}
        if seed is None:
            current = {id(v): v.value for v in seed_states}
        else:
            firsts = np.random.default_rng(seed).integers(1, 2**30, size=len(seed_states))
            current = {
                id(v): ops.convert_to_tensor(np.array([first, 0]), dtype=v.dtype)
                for v, first in zip(seed_states, firsts)
            }
        trainable = [ops.stop_gradient(v.value) for v in generator.trainable_variables]
        # Compiled as Keras compiles predict (keras_gan.backend.compiled_forward): eager, paper-mode
        # translate at batch 1 took 1.46x (TF) and 1.98x (JAX) a native jit loop's time.
        run = compiled_forward.stateless_forward(generator, training=True)
        outputs = []
        for start in range(0, len(images), batch_size):
            non_trainable = [current.get(id(v), v.value) for v in generator.non_trainable_variables]
            out, updated = run(trainable, non_trainable, images[start : start + batch_size])
            outputs.append(ops.convert_to_numpy(out))
            # Carry the dropout streams on to the next chunk; drop the
            # batch-norm updates.
            for v, value in zip(generator.non_trainable_variables, updated):
                if id(v) in seed_ids:
                    current[id(v)] = value
        if seed is None:
            for v in seed_states:
                v.assign(current[id(v)])
        return np.concatenate(outputs)

    # ----------------------------------------------------------- train step
    def _pairs(self, data):
        inputs, targets, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if targets is None:
            raise ValueError(
                "Pix2Pix trains on (input, target) image pairs: call fit(inputs, targets), or "
                "give a dataset whose elements are (inputs, targets) tuples."
            )
        if sample_weight is not None:
            raise ValueError("Pix2Pix does not use sample weights; pass (inputs, targets) only.")
        self._trace_check("Input images", inputs, self.input_image_shape)
        self._trace_check("Target images", targets, self.output_image_shape)
        n_in, n_out = inputs.shape[0], targets.shape[0]
        if n_in is not None and n_out is not None and int(n_in) != int(n_out):
            raise ValueError(f"A batch has {n_in} input images but {n_out} target images; they must pair up.")
        dtype = self.compute_dtype or "float32"
        return ops.cast(inputs, dtype), ops.cast(targets, dtype)

    def adversarial_step(self, step, data) -> dict:
        """One step as the reference's `optimize_parameters`: `forward()` (G once), `backward_D`
        on the detached output, then `backward_G` through the same output against the updated D.
        `gan_weight=0` (Table 1's "L1" row) is G's update on L1 alone."""
        inputs, targets = self._pairs(data)
        if self.gan_weight == 0:
            g_loss, stats = step.update(self.generator, self.l1_objective, inputs, targets)
            return {"g_loss": g_loss, **stats}
        fake = step.forward(self.generator, lambda x: self.generator(x, training=True), inputs)
        d_loss, d_stats = step.update(self.discriminator, self.discriminator_objective, inputs, targets, fake)
        g_loss, g_stats = step.update(self.generator, self.generator_objective, inputs, targets, fake)
        return {"d_loss": d_loss, "g_loss": g_loss, **d_stats, **g_stats}

    def discriminator_objective(self, inputs, targets, fake):
        """D's halved loss on (x, y) and (x, G(x)); `fake` arrives with its gradient path cut."""
        real_logits = self.discriminator([inputs, targets], training=True)
        fake_logits = self.discriminator([inputs, fake], training=True)
        # Section 3.2: "we divide the objective by 2 while optimizing D".
        loss = 0.5 * losses.discriminator_loss(real_logits, fake_logits)
        return loss, {
            "d_real": losses.mean_probability(real_logits),
            "d_fake": losses.mean_probability(fake_logits),
        }

    def generator_objective(self, inputs, targets, fake):
        """G's loss on the step's one forward pass `fake` (D already updated): the
        non-saturating cGAN term plus `l1_weight` times L1 (Eq. 4)."""
        fake_logits = self.discriminator([inputs, fake], training=True)
        adversarial = losses.generator_loss(fake_logits, "non_saturating")
        l1 = l1_distance(targets, fake)
        return self.gan_weight * adversarial + self.l1_weight * l1, {"g_gan": adversarial, "g_l1": l1}

    def l1_objective(self, inputs, targets):
        """Table 1's "L1" row: `l1_weight` times L1 of G(x) against y."""
        l1 = l1_distance(targets, self.generator(inputs, training=True))
        return self.l1_weight * l1, {"g_l1": l1}

    def validation_step(self, data) -> dict:
        """L1 and both adversarial terms on held-out pairs, in inference mode.

        Inference mode (`training=False`: no dropout, batch-norm moving
        averages) is Keras' convention for `evaluate` and leaves the dropout
        streams untouched; the paper's test mode (batch statistics, dropout on)
        is `translate(mode="paper")`, which `evaluation.paired` and the zoo's
        validation L1 use, so their numbers differ from `val_g_l1`.
        """
        inputs, targets = self._pairs(data)
        fake = self.generator(inputs, training=False)
        l1 = l1_distance(targets, fake)
        if self.gan_weight == 0:
            return {"g_loss": self.l1_weight * l1, "g_l1": l1}
        real_logits = self.discriminator([inputs, targets], training=False)
        fake_logits = self.discriminator([inputs, fake], training=False)
        adversarial = losses.generator_loss(fake_logits, "non_saturating")
        return {
            "d_loss": 0.5 * losses.discriminator_loss(real_logits, fake_logits),
            "g_loss": self.gan_weight * adversarial + self.l1_weight * l1,
            "g_gan": adversarial,
            "g_l1": l1,
            "d_real": losses.mean_probability(real_logits),
            "d_fake": losses.mean_probability(fake_logits),
        }

    def fit(self, x=None, y=None, *args, **kwargs):
        """`AdversarialModel.fit` on `(inputs, targets)` pairs in [-1, 1].

        Shapes, dtypes and value ranges are checked before any update: for
        arrays on the whole data, for a `tf.data.Dataset`, a
        `keras.utils.PyDataset` or a Python generator on their first batch
        (a generator's first batch is put back in front of the others).
        """
        if isinstance(x, types.GeneratorType):
            first = next(x)
            self._validate_fit_data(*_as_pair(first))
            x = _chain(first, x)
        return super().fit(x, y, *args, **kwargs)

    def _validate_fit_data(self, x, y) -> None:
        if x is None:
            raise ValueError("fit() needs (inputs, targets): call fit(inputs, targets) with image arrays in [-1, 1].")
        first = _first_pairs(x, y)
        if first is None:  # a Python generator or another source: checked at trace time
            return
        inputs, targets = first
        if targets is None:
            raise ValueError(
                "Pix2Pix trains on (input, target) image pairs: call fit(inputs, targets), or "
                "give a dataset whose elements are (inputs, targets) tuples."
            )
        for name, array, shape in (
            ("Input images", inputs, self.input_image_shape),
            ("Target images", targets, self.output_image_shape),
        ):
            _check_batch(name, tuple(array.shape), keras.backend.standardize_dtype(array.dtype), shape,
                         self.uint8_hint)
            check_value_range(name, array)
        if len(inputs) != len(targets):
            raise ValueError(
                f"Got {len(inputs)} input images but {len(targets)} target images; each input needs its target."
            )

    # ----------------------------------------------------------- serialising
    def get_config(self):
        return {**super().get_config(), "l1_weight": self.l1_weight, "gan_weight": self.gan_weight}


def _check_networks(generator: keras.Model, discriminator: keras.Model) -> tuple:
    """Per-example input and output image shapes, after checking that G and D fit together."""
    g_in, g_out = generator.input_shape, generator.output_shape
    if not (isinstance(g_in, tuple) and len(g_in) == 4 and isinstance(g_out, tuple) and len(g_out) == 4):
        raise ValueError(
            f"The generator must map one image batch (N, H, W, C) to one image batch; it takes "
            f"{g_in} and returns {g_out}."
        )
    d_in = discriminator.input_shape
    if not (isinstance(d_in, list) and len(d_in) == 2):
        raise ValueError(
            "The discriminator must take two inputs, [input_image, output_image] (pix2pix's D is "
            f"conditioned on the input); it takes {d_in}. Use networks.patchgan_discriminator."
        )
    if tuple(d_in[0][1:]) != tuple(g_in[1:]) or tuple(d_in[1][1:]) != tuple(g_out[1:]):
        raise ValueError(
            f"The discriminator takes {[tuple(s[1:]) for s in d_in]} but the generator maps "
            f"{tuple(g_in[1:])} to {tuple(g_out[1:])}; D's inputs must be [G's input, G's output]."
        )
    return tuple(g_in[1:]), tuple(g_out[1:])


def seed_state_variables(network: keras.Model) -> list:
    """State variables of the network's random streams (its dropout layers)."""
    return compat.seed_states(network)


def check_value_range(name: str, images: np.ndarray) -> None:
    """Raise if `images` are not finite values in [-1, 1] (pix2pix's image range)."""
    images = np.asarray(images)
    if images.size == 0:
        return
    if not np.all(np.isfinite(images)):
        raise ValueError(f"{name} contain NaN or infinite values; clean the data first.")
    low, high = float(images.min()), float(images.max())
    if low < -1.0 - _RANGE_TOLERANCE or high > 1.0 + _RANGE_TOLERANCE:
        hint = " (looks like [0, 255]: use images / 127.5 - 1)" if high > 2 else (
            " (scale with 2 * images - 1 if they are in [0, 1])" if low >= 0 else "")
        raise ValueError(
            f"{name} have values in [{low:g}, {high:g}], but pix2pix works on images in [-1, 1] "
            f"(the generator ends in tanh){hint}."
        )
    if low >= 0.0 and high > 0.0 and images.size > 64:
        warnings.warn(
            f"{name} have no value below 0 (range [{low:g}, {high:g}]): they look like images in [0, 1], "
            "but pix2pix works on [-1, 1] (tanh). If so, map them with 2 * images - 1; as they are, "
            "the outputs will look washed out.", stacklevel=3)


def _first_pairs(x, y):
    """(inputs, targets) as numpy from arrays, the first batch of a tf.data.Dataset or a
    PyDataset, or None for sources that cannot be peeked at without consuming them."""
    if isinstance(x, keras.utils.PyDataset):
        return _as_pair(x[0])
    if hasattr(x, "element_spec"):  # tf.data.Dataset
        for batch in x.take(1):
            return _as_pair(batch)
        raise ValueError("The training dataset is empty.")
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return np.asarray(x), (None if y is None else np.asarray(y))
    return None


def _chain(first, rest):
    """A generator that yields `first`, then the rest of `rest`."""
    yield first
    yield from rest


def _as_pair(batch):
    inputs, targets, _ = keras.utils.unpack_x_y_sample_weight(batch)
    to_numpy = lambda t: None if t is None else np.asarray(t.numpy() if hasattr(t, "numpy") else t)
    return to_numpy(inputs), to_numpy(targets)
