"""`GAN`: Goodfellow et al. (2014), Algorithm 1, as a `keras.Model` for every backend."""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from keras_gan import compat, losses
from keras_gan.backend import compiled_forward, replica_position
from keras_gan.models.adversarial_model import (
    AdversarialModel,
    _check_batch,
    mean_of,
    _final_activation,
    array_like_shape_dtype,
)

LATENT_PRIORS = ("uniform", "normal", "unit_hypercube")
#: "alternating": Algorithm 1 (D is updated, then G against the updated D).
#: "simultaneous": the reference code (goodfeli/adversarial `AdversaryCost2` under
#: pylearn2's plain SGD): one noise draw and one D forward pass per minibatch, the
#: gradients of D's and G's objectives taken at the same parameters, both applied.
UPDATE_RULES = ("alternating", "simultaneous")


def generator_range(generator: keras.Model) -> tuple[float, float] | None:
    """The output range G's last activation implies: (0, 1) for sigmoid, (-1, 1) for tanh, else None."""
    activation = _final_activation(generator)
    try:  # look through layers that only move values around (the MNIST G ends in a Reshape)
        layer = compat.producing_layer(generator.outputs[0])
        while isinstance(layer, (keras.layers.Reshape, keras.layers.Flatten, keras.layers.Permute)):
            layer = compat.producing_layer(layer.input)
        activation = getattr(layer, "activation", activation)
    except (AttributeError, IndexError, TypeError, ValueError):  # subclassed or unbuilt models
        pass
    name = getattr(activation, "__name__", None)
    return {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}.get(name)


def check_generator_range(generator: keras.Model, name: str, images) -> None:
    """Refuse training images (numpy arrays) outside the range G can produce.

    Why: D then tells real from fake by the value range alone (0..255 images
    against a sigmoid G's [0, 1]), training "works" and learns nothing.
    """
    if not isinstance(images, np.ndarray) or images.size == 0 or images.dtype.kind != "f":
        return
    bounds = generator_range(generator)
    if bounds is None:  # a linear (or unknown) output layer can produce any value
        return
    low, high = float(np.min(images)), float(np.max(images))
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"{name} contain NaN or infinite values; clean the data first.")
    tolerance = 1e-3
    if low < bounds[0] - tolerance or high > bounds[1] + tolerance:
        scale = "images / 255" if bounds == (0.0, 1.0) else "images / 127.5 - 1"
        hint = f" They look like 0..255 pixels: use {scale}." if high > 2 else ""
        raise ValueError(
            f"{name} have values in [{low:g}, {high:g}], but the generator's outputs lie in "
            f"[{bounds[0]:g}, {bounds[1]:g}] (its last activation); D would tell real from fake by the value range alone.{hint}"
        )


#: Rows of latents `generate` draws at a time (its default batch size): sample i of
#: `generate(n, seed)` depends only on (seed, i), whatever n and batch_size are.
LATENT_CHUNK = 1000

#: Seed of the latents that `evaluate` / `fit(validation_data=...)` feed G (see `validation_latents`).
VALIDATION_NOISE_SEED = 20140610


def sample_prior(prior: str, shape, seed):
    """Draw latent noise. `"uniform"` is U(-sqrt 3, sqrt 3) (zero mean, unit
    variance, as one version of the GAN paper's `mnist.yaml` sets); `"normal"` is
    N(0, 1) (the reference `Generator`'s default);
    `"unit_hypercube"` is U(0, 1), the prior of Mirza & Osindero (2014), section 4.1
    ("drawn from a uniform distribution within the unit hypercube")."""
    if prior == "uniform":
        s = math.sqrt(3.0)
        return keras.random.uniform(shape, minval=-s, maxval=s, seed=seed)
    if prior == "normal":
        return keras.random.normal(shape, seed=seed)
    if prior == "unit_hypercube":
        return keras.random.uniform(shape, minval=0.0, maxval=1.0, seed=seed)
    raise ValueError(f"Unknown latent_prior {prior!r}; expected one of {LATENT_PRIORS}.")


def check_latent_dim(latent_dim) -> None:
    """`latent_dim` must be a positive integer."""
    if not isinstance(latent_dim, (int, np.integer)) or latent_dim <= 0:
        raise ValueError(f"latent_dim must be a positive integer; got {latent_dim!r}.")


def check_same_data_shape(generator_output_shape, discriminator_input_shape) -> tuple:
    """The generator's per-example output shape, which the discriminator must take."""
    g_out = tuple(generator_output_shape[1:])
    d_in = tuple(discriminator_input_shape[1:])
    if g_out != d_in:
        raise ValueError(
            f"The generator outputs shape {g_out} but the discriminator takes {d_in}; "
            "they must match."
        )
    return d_in


@keras.saving.register_keras_serializable(package="keras_gan")
class GAN(AdversarialModel):
    """Generative adversarial network trained by Algorithm 1 of Goodfellow et al. (2014).

    Each `train_step` performs k = `d_steps` discriminator updates, each
    ascending  mean log D(x) + mean log(1 - D(G(z)))  on its own real examples
    and fresh noise, then one generator update on fresh noise.

    **How k > 1 consumes the batch.** Algorithm 1 samples a new minibatch of m
    real examples for each of the k discriminator updates. `fit` hands the
    step one batch of n examples; it is split into k consecutive chunks of
    m = n // k examples, chunk i feeding discriminator update i, and the
    generator update uses m noise samples. So use `batch_size = k * m` to get
    the paper's minibatch size m. Left-over examples (n mod k, only possible in
    a ragged last batch) are not used.

    Args:
        generator: maps latents of shape `(latent_dim,)` to data.
        discriminator: maps data to one logit per example (no sigmoid: the
            losses are computed from logits for numerical stability).
        latent_dim: size of z; inferred from `generator.input_shape` if omitted.
        latent_prior: `"uniform"` (U(-sqrt 3, sqrt 3): `noise: 'uniform'` in one
            stored version of the paper's `mnist.yaml`), `"normal"` (N(0, 1):
            `adversarial.Generator`'s default, which the other version leaves
            in place) or `"unit_hypercube"` (U(0, 1)); see `sample_prior`.
        d_steps: k of Algorithm 1 (the paper used k = 1).
        g_steps: generator updates after the k discriminator updates (1 in
            Algorithm 1). More trains G "too much without updating D", the
            paper's warning about the Helvetica scenario (section 6,
            mode collapse); `notebooks/gan_theory.ipynb` measures it.
        generator_loss: `"non_saturating"` (maximise log D(G(z)), the paper's
            practical choice) or `"minimax"` (minimise log(1 - D(G(z))), Eq. 1).
        update_rule: `"alternating"` (Algorithm 1, the default) or
            `"simultaneous"`: what the paper's code does (goodfeli/adversarial
            `AdversaryCost2` under pylearn2's SGD): both networks step from the
            same parameters, G's gradient taken through the same fakes and
            the same D dropout masks as D's. Needs `d_steps=1`.
        seed: seed of the model's own noise stream (`keras.random.SeedGenerator`);
            with `keras.utils.set_random_seed` runs repeat exactly on one backend.
    """

    loss_names = ("d_loss", "g_loss")
    metric_names = ("d_loss", "g_loss", "d_real", "d_fake")

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        latent_dim: int | None = None,
        latent_prior: str = "uniform",
        d_steps: int = 1,
        generator_loss: str = "non_saturating",
        seed: int | None = None,
        update_rule: str = "alternating",
        g_steps: int = 1,
        **kwargs,
    ):
        super().__init__(generator, discriminator, **kwargs)
        latent_dim, data_shape = self._check_networks(generator, discriminator, latent_dim)
        if latent_prior not in LATENT_PRIORS:
            raise ValueError(
                f"Unknown latent_prior {latent_prior!r}; expected one of {LATENT_PRIORS}."
            )
        if not isinstance(d_steps, (int, np.integer)) or d_steps < 1:
            raise ValueError(f"d_steps (k of Algorithm 1) must be an integer >= 1; got {d_steps!r}.")
        if generator_loss not in losses.GENERATOR_LOSSES:
            raise ValueError(
                f"Unknown generator_loss {generator_loss!r}; expected one of "
                f"{losses.GENERATOR_LOSSES}."
            )
        if update_rule not in UPDATE_RULES:
            raise ValueError(f"Unknown update_rule {update_rule!r}; expected one of {UPDATE_RULES}.")
        if not isinstance(g_steps, (int, np.integer)) or isinstance(g_steps, bool) or g_steps < 1:
            raise ValueError(f"g_steps must be an integer >= 1; got {g_steps!r}.")
        if update_rule == "simultaneous" and (d_steps != 1 or g_steps != 1):
            raise ValueError(
                f"update_rule='simultaneous' takes one step of each network per batch; got "
                f"d_steps={d_steps}, g_steps={g_steps}. Use 1 for both, or update_rule='alternating'."
            )
        self.update_rule = update_rule
        self.latent_dim = int(latent_dim)
        self.latent_prior = latent_prior
        self.d_steps = int(d_steps)
        self.g_steps = int(g_steps)
        self.generator_loss = generator_loss
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="latent_seed")
        self.data_shape = data_shape
        self.built = True

    def _check_networks(self, generator: keras.Model, discriminator: keras.Model, latent_dim):
        """Check that the two networks fit together; return `(latent_dim, data_shape)`.

        Subclasses whose networks take more inputs (ConditionalGAN) override this.
        """
        if latent_dim is None:
            latent_dim = generator.input_shape[-1]
        check_latent_dim(latent_dim)
        g_in = generator.input_shape
        if g_in[-1] != latent_dim:
            raise ValueError(
                f"latent_dim={latent_dim} but the generator takes inputs of shape {g_in}."
            )
        return int(latent_dim), check_same_data_shape(generator.output_shape, discriminator.input_shape)

    # --------------------------------------------------------------- sampling
    def sample_latent(self, batch_size: int, index: int = 0):
        """Latent noise for one update of the step.

        `index` says which update of Algorithm 1 the draw feeds:
        0 .. d_steps-1 for the discriminator updates, d_steps for the
        generator update. Override this to change the noise (tests inject
        fixed noise this way).

        Under a `tf.distribute` strategy every replica would draw the same
        noise from the shared seed state; instead each draws the noise of the
        *global* batch and keeps its own slice, so n replicas see n different
        latents, exactly those a single device would draw.
        """
        replicas, replica_id = replica_position()
        if replicas == 1:
            return sample_prior(self.latent_prior, (batch_size, self.latent_dim), self.seed_generator)
        z = sample_prior(self.latent_prior, (batch_size * replicas, self.latent_dim), self.seed_generator)
        return ops.slice(z, (replica_id * batch_size, 0), (batch_size, self.latent_dim))

    def validation_latents(self, batch_size: int):
        """The latents `validation_step` feeds G: a fixed draw (`VALIDATION_NOISE_SEED`), so
        successive epochs' `val_*` logs compare like with like and validating leaves the model's
        noise stream untouched."""
        return sample_prior(self.latent_prior, (batch_size, self.latent_dim), VALIDATION_NOISE_SEED)

    def call(self, z, training: bool = False):
        """The model maps latents to samples: `gan(z)` is `generator(z)`."""
        return self.generator(z, training=training)

    def generate(self, n: int, seed: int | None = None, batch_size: int = 1000) -> np.ndarray:
        """Draw `n` samples from the generator as a numpy array.

        With `seed`, sample i depends only on (seed, i) (on one backend): not on
        `n` and not on `batch_size`, so `generate(n, seed)` is a prefix of
        `generate(m, seed)` for n < m and any batch size gives the same samples
        (up to the floating-point rounding of the generator's batched arithmetic).
        The latents are drawn in fixed chunks of `LATENT_CHUNK` (1000) rows from
        `keras.random.SeedGenerator(seed)`; `batch_size` only sets how many rows
        the generator takes per call (memory). Without a seed, the chunks come
        from the model's own noise stream.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n (the number of samples) must be a whole number >= 0; got {n!r}.")
        return self._generate_in_batches(int(n), None, seed, batch_size)

    def _generate_in_batches(self, n: int, condition, seed, batch_size: int) -> np.ndarray:
        """`n` samples, the generator fed in batches of `batch_size`; `condition` holds one
        row per sample (or is None for an unconditional model).

        The latents are drawn in chunks of `LATENT_CHUNK` rows whatever `n` and
        `batch_size` are (the last chunk is drawn whole and cut), so row i of the
        latents, hence sample i, depends only on the seed and i.
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
        batch_size = int(batch_size)
        rng = keras.random.SeedGenerator(seed) if seed is not None else self.seed_generator
        sampler = self._chunk_sampler()
        pending = []  # latent chunks drawn and not yet fed, as tensors
        pending_rows = 0
        out = []
        for start in range(0, n, batch_size):
            m = min(batch_size, n - start)
            rows = None if condition is None else condition[start : start + m]
            if sampler is not None and not pending and m == LATENT_CHUNK:  # one whole chunk: draw and run in one graph
                images, next_state = sampler([v.value for v in self.generator.trainable_variables],
                                             [v.value for v in self.generator.non_trainable_variables],
                                             (rng.state.value, rows))
                rng.state.assign(next_state)
                out.append(ops.convert_to_numpy(images))
                continue
            while pending_rows < m:
                pending.append(sample_prior(self.latent_prior, (LATENT_CHUNK, self.latent_dim), rng))
                pending_rows += LATENT_CHUNK
            z, pending = _take_rows(pending, m)
            pending_rows -= m
            out.append(ops.convert_to_numpy(self._generate_batch(z, rows)))
        if not out:
            return np.zeros((0,) + self.data_shape, dtype="float32")
        if len(out) == 1 and out[0].flags.writeable and out[0].flags.owndata:
            return out[0]  # one batch: no copy
        return np.concatenate(out, axis=0)

    def _chunk_sampler(self):
        """`compiled_forward.sampling_forward` drawing one chunk of `LATENT_CHUNK` latents and running
        G on it in one compiled graph (TensorFlow, JAX), or None: on PyTorch, and for a subclass that
        overrides `_run_generator` (its own call is kept, see `_generate_batch`)."""
        if self._overrides_run_generator():
            return None
        prior, shape = self.latent_prior, (LATENT_CHUNK, self.latent_dim)
        return compiled_forward.sampling_forward(
            self, self.generator, lambda rng, rows: self._generator_inputs(sample_prior(prior, shape, rng), rows),
            key=(prior, shape))

    def _overrides_run_generator(self) -> bool:
        """Whether a subclass calls G its own way (`_run_generator`): `generate` then keeps that call."""
        return type(self)._run_generator is not GAN._run_generator

    def _generate_batch(self, z, condition):
        """G(z) in inference mode for `generate`: compiled as Keras compiles `predict`
        (`keras_gan.backend.compiled_forward`; eager it was 1.3x a native jit loop on TF and JAX).
        A subclass that overrides `_run_generator` itself keeps its own call."""
        if self._overrides_run_generator():
            return self._run_generator(z, condition, training=False)
        return compiled_forward.forward(self.generator, self._generator_inputs(z, condition))

    # ------------------------------------------------- the networks' inputs
    # GAN's networks see only z and x. A conditional model overrides
    # `_generator_inputs`, `_run_discriminator` and `unpack_batch` to feed its
    # condition y too; the losses below stay the same.
    def _generator_inputs(self, z, condition):
        """What G is called on: z (here `condition` is always None)."""
        return z

    def _run_generator(self, z, condition, training: bool):
        """G(z), or G(z|y) where `_generator_inputs` adds the condition."""
        return self.call_network(self.generator, self._generator_inputs(z, condition), training)

    def _run_discriminator(self, x, condition, training: bool):
        """D(x) as a logit (here `condition` is always None)."""
        return self.call_network(self.discriminator, x, training)

    def unpack_batch(self, data):
        """`(images, condition)` of one training batch, images in the compute dtype and checked
        against the networks' shape; GAN has no condition (None), ConditionalGAN's is one-hot."""
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        self._trace_check("Training images", x, self.data_shape)
        return ops.cast(x, self.compute_dtype if self.compute_dtype else "float32"), None

    # ----------------------------------------------------------- train step
    def adversarial_step(self, step, data) -> dict:
        """Algorithm 1 of Goodfellow et al. (2014) on one batch: k = `d_steps` discriminator
        updates, each on its own chunk of m = n // k real examples and fresh noise, then
        `g_steps` (1 in the paper) generator updates on m fresh latents against the updated D.
        With `update_rule="simultaneous"`, one noise draw and both networks' gradients at the
        same parameters (the paper's code)."""
        real, condition = self.unpack_batch(data)
        if self.update_rule == "simultaneous":
            (d_loss, g_loss), stats = step.update_together(self.simultaneous_losses, real, condition)
            return {"d_loss": d_loss, "g_loss": g_loss, **stats}
        k = self.d_steps
        m = self._minibatch_size(real)
        d_logs = []
        for i in range(k):  # "for k steps": a fresh minibatch of m examples and m noise samples
            real_i, condition_i = _chunk(real, i, m, k), _chunk(condition, i, m, k)
            d_loss, stats = step.update(self.discriminator, self.discriminator_objective, real_i, condition_i, i)
            d_logs.append({"d_loss": d_loss, **stats})
        # The generator's m draws of the condition are those of the first chunk: a sample from
        # the data's own distribution of conditions.
        g_losses = [step.update(self.generator, self.generator_objective, m, _chunk(condition, 0, m, k), k + j)[0]
                    for j in range(self.g_steps)]
        logs = {name: mean_of([entry[name] for entry in d_logs]) for name in d_logs[0]}
        return {**logs, "g_loss": mean_of(g_losses)}

    def _minibatch_size(self, real):
        """m = n // k, refusing a batch too small to feed k discriminator updates."""
        n = ops.shape(real)[0]  # a Python int, or a tensor for an unknown batch size (TF)
        if isinstance(n, int) and n < self.d_steps:
            raise ValueError(
                f"A batch of {n} examples cannot feed d_steps={self.d_steps} discriminator updates; "
                f"use batch_size >= {self.d_steps} (batch_size = d_steps * m for minibatches of m).")
        return n // self.d_steps

    def discriminator_objective(self, real, condition=None, index: int = 0):
        """D's loss for one update: -[mean log D(x) + mean log(1 - D(G(z)))] on the real
        minibatch and fresh noise (draw `index` of the step), and the logged D(x), D(G(z))."""
        z = self.sample_latent(ops.shape(real)[0], index)
        fake = ops.stop_gradient(self._run_generator(z, condition, training=True))
        loss, _, stats = self._discriminator_terms(real, fake, condition)
        return loss, stats

    def _discriminator_terms(self, real, fake, condition):
        """D's loss on a real and a fake batch, the fake logits, and the logged D(x), D(G(z))."""
        real_logits = self._run_discriminator(real, condition, training=True)
        fake_logits = self._run_discriminator(fake, condition, training=True)
        stats = {"d_real": losses.mean_probability(real_logits), "d_fake": losses.mean_probability(fake_logits)}
        return losses.discriminator_loss(real_logits, fake_logits), fake_logits, stats

    def simultaneous_losses(self, real, condition=None):
        """Both objectives from one forward pass (`update_rule="simultaneous"`):
        `((d_loss, g_loss), stats)`. The fakes keep their gradient path to G; the
        step takes D's gradient from d_loss and G's from g_loss only."""
        z = self.sample_latent(ops.shape(real)[0], 0)
        fake = self._run_generator(z, condition, training=True)
        d_loss, fake_logits, stats = self._discriminator_terms(real, fake, condition)
        return (d_loss, losses.generator_loss(fake_logits, self.generator_loss)), stats

    def generator_objective(self, batch_size: int, condition=None, index: int | None = None):
        """G's loss on `batch_size` fresh latents against the current D (`generator_loss`)."""
        z = self.sample_latent(batch_size, self.d_steps if index is None else index)
        fake = self._run_generator(z, condition, training=True)
        fake_logits = self._run_discriminator(fake, condition, training=True)
        return losses.generator_loss(fake_logits, self.generator_loss)

    # ------------------------------------------------------------ test step
    def validation_step(self, data) -> dict:
        """D's loss on held-out real images against G's samples, G's loss, D(x) and D(G(z)).

        The latents come from the fixed `VALIDATION_NOISE_SEED` (not the
        model's seed generator): every validation batch of a given size sees
        the same z, so `val_*` logs of successive epochs compare like with like
        and validation leaves the training's noise stream untouched.
        """
        real, condition = self.unpack_batch(data)
        z = self.validation_latents(ops.shape(real)[0])
        fake = self._run_generator(z, condition, training=False)
        real_logits = self._run_discriminator(real, condition, training=False)
        fake_logits = self._run_discriminator(fake, condition, training=False)
        return {
            "d_loss": losses.discriminator_loss(real_logits, fake_logits),
            "g_loss": losses.generator_loss(fake_logits, self.generator_loss),
            "d_real": losses.mean_probability(real_logits),
            "d_fake": losses.mean_probability(fake_logits),
        }

    def fit(self, x=None, y=None, *args, **kwargs):
        """`keras.Model.fit` on images alone (`AdversarialModel.fit`'s checks apply).

        Raises:
            ValueError: labels were given to a model that takes none: `y`, a
                dataset yielding `(images, labels)` batches (a tf.data dataset,
                or a `keras.utils.PyDataset` whose first batch is a tuple), or
                `validation_data=(images, labels)`. A GAN would train on the
                images and ignore them; use `ConditionalGAN` to condition on
                labels. Raised before any weight changes. Subclasses that read
                labels in their own `unpack_batch` (ConditionalGAN) are not
                checked here.
        """
        if type(self).unpack_batch is GAN.unpack_batch:  # the labels would be dropped unread
            name = type(self).__name__
            for what, data, labels in (("fit()", x, y), ("validation_data", *_split_validation_data(kwargs))):
                problem = _labels_given(data, labels)
                if problem:
                    raise ValueError(
                        f"{name} takes no labels, but {what} got {problem}; it would train on the images "
                        f"alone and ignore them. Pass the images only, or use keras_gan.ConditionalGAN to "
                        f"condition on the labels.")
        return super().fit(x, y, *args, **kwargs)

    def _validate_fit_data(self, x, y) -> None:
        if x is None:
            raise ValueError("fit() needs training images: call fit(x) with x of shape (N, *data_shape).")
        found = array_like_shape_dtype(x)
        if found is not None:
            _check_batch("Training images", found[0], found[1], self.data_shape)
        check_generator_range(self.generator, "Training images", x)

    # ----------------------------------------------------------- serialising
    def get_config(self):
        config = {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "latent_prior": self.latent_prior,
            "d_steps": self.d_steps,
            "generator_loss": self.generator_loss,
            "seed": self.seed,
            "update_rule": self.update_rule,
            "g_steps": self.g_steps,
        }
        return config


def _chunk(tensor, i: int, m, k: int):
    """Rows [i m, (i + 1) m) of `tensor`: the i-th of k minibatches (the whole tensor when k = 1)."""
    if tensor is None or k == 1:
        return tensor
    return tensor[i * m : (i + 1) * m]


def _take_rows(chunks: list, m: int):
    """The first `m` rows of the concatenated `chunks` and the chunks left after them.
    A batch that is exactly the first chunk is passed through untouched."""
    taken, left, need = [], list(chunks), m
    while need > 0:
        first = left.pop(0)
        rows = int(ops.shape(first)[0])
        if rows <= need:
            taken.append(first)
            need -= rows
        else:
            taken.append(first[:need])
            left.insert(0, first[need:])
            need = 0
    return (taken[0] if len(taken) == 1 else ops.concatenate(taken, axis=0)), left


def _split_validation_data(kwargs: dict):
    """`(data, labels)` of `fit(validation_data=...)`: a tuple's first two entries, else (data, None)."""
    data = kwargs.get("validation_data")
    if isinstance(data, (tuple, list)) and len(data) >= 2:
        return data[0], data[1]
    return data, None


def _labels_given(data, labels) -> str | None:
    """What in `fit`'s arguments holds labels (for the error), or None: `labels` itself, or a
    dataset whose elements are (images, labels[, weights]) tuples."""
    if labels is not None:
        shape = getattr(labels, "shape", None)
        return f"y (shape {tuple(shape)})" if shape is not None else f"y ({type(labels).__name__})"
    spec = getattr(data, "element_spec", None)  # tf.data
    if isinstance(spec, (tuple, list)) and len(spec) >= 2:
        return f"a dataset yielding {_tuple_of(len(spec))}"
    if isinstance(data, keras.utils.PyDataset):
        try:
            count = data.num_batches
        except NotImplementedError:
            return None
        if count != 0:
            batch = data[0]
            if isinstance(batch, (tuple, list)) and len(batch) >= 2 and batch[1] is not None:
                return f"a PyDataset yielding {_tuple_of(len(batch))}"
    return None


def _tuple_of(size: int) -> str:
    return "(images, labels)" if size == 2 else "(images, labels, sample weights)"
