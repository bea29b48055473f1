"""`ConditionalGAN`: Mirza & Osindero (2014), a GAN whose two networks also see a label y."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_gan.models import class_labels
from keras_gan.models.adversarial_model import _check_batch, array_like_shape_dtype
from keras_gan.models.gan import GAN, check_generator_range, check_latent_dim, check_same_data_shape

_MISSING_LABELS = (
    "ConditionalGAN.fit needs class labels with the images: call fit(images, labels) "
    "with arrays, or pass a tf.data.Dataset of (images, labels) batches."
)


def _two_input_shapes(network: keras.Model, role: str, names: str) -> list:
    """Input shapes of a network that must take two inputs, in the order `names`."""
    inputs = getattr(network, "inputs", None) or []
    if len(inputs) != 2:
        shapes = [tuple(t.shape) for t in inputs]
        raise ValueError(
            f"ConditionalGAN needs a {role} with two inputs {names} (the second the one-hot "
            f"label); got {len(inputs)} input(s) of shape(s) {shapes}. Build it with "
            f"keras_gan.networks.conditional_mlp_{role}() or as keras.Model({names}, ...)."
        )
    return [tuple(t.shape) for t in inputs]


@keras.saving.register_keras_serializable(package="keras_gan")
class ConditionalGAN(GAN):
    """Conditional adversarial nets (Mirza & Osindero, 2014), trained as Algorithm 1 of GAN.

    Section 3.2 of the paper: "the generator and discriminator are conditioned
    on some extra information y ... by feeding y into both the discriminator
    and generator as additional input layer", with the two-player game (Eq. 2)

        min_G max_D  E_x[log D(x|y)] + E_z[log(1 - D(G(z|y)|y))].

    The training step is `GAN`'s, unchanged: k = `d_steps` discriminator
    updates, each on its chunk of the batch's (image, label) pairs, with the
    fakes generated for the same labels, then one generator update (same
    losses, same `generator_loss` choice, same logged `d_loss`, `g_loss`,
    `d_real`, `d_fake`). The generator update needs m labels too; it uses those
    of the batch's first chunk, i.e. a sample of y from the data, as the
    expectation in Eq. 2 requires. Labels go to the networks one-hot (section
    4.1), whether the data hold them as integers or one-hot.

    Networks: `generator([z, y])` -> samples and `discriminator([x, y])` -> one
    logit per example, y one-hot of size `num_classes`, inputs in that order
    (e.g. `keras_gan.networks.conditional_mnist_generator`).

    Args:
        generator, discriminator: the two networks, as above.
        num_classes: size of the one-hot y; read from the networks if omitted
            (given, it must match them).
        latent_dim: size of z; read from the generator's first input if omitted.
        latent_prior: `"unit_hypercube"` (U(0, 1): section 4.1, "a uniform
            distribution within the unit hypercube"), `"uniform"` (U(-sqrt 3,
            sqrt 3), GAN's default) or `"normal"`.
        d_steps, generator_loss, seed, update_rule: as for `GAN` (the paper
            does not state k; the GAN paper's k = 1 is the default).
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        num_classes: int | None = None,
        latent_dim: int | None = None,
        latent_prior: str = "unit_hypercube",
        d_steps: int = 1,
        generator_loss: str = "non_saturating",
        seed: int | None = None,
        update_rule: str = "alternating",
        **kwargs,
    ):
        super().__init__(
            generator,
            discriminator,
            latent_dim=latent_dim,
            latent_prior=latent_prior,
            d_steps=d_steps,
            generator_loss=generator_loss,
            seed=seed,
            update_rule=update_rule,
            **kwargs,
        )
        network_classes = int(generator.inputs[1].shape[-1])
        if num_classes is not None and num_classes != network_classes:
            raise ValueError(
                f"num_classes={num_classes} but the networks take one-hot labels of size "
                f"{network_classes}; build them for {num_classes} classes or omit num_classes."
            )
        self.num_classes = network_classes

    def _check_networks(self, generator, discriminator, latent_dim):
        z_shape, g_label_shape = _two_input_shapes(generator, "generator", "[z, y]")
        x_shape, d_label_shape = _two_input_shapes(discriminator, "discriminator", "[x, y]")
        if latent_dim is None:
            latent_dim = z_shape[-1]
        check_latent_dim(latent_dim)
        if len(z_shape) != 2 or z_shape[-1] != latent_dim:
            raise ValueError(
                f"latent_dim={latent_dim} but the generator's first input (z) has shape {z_shape}."
            )
        for role, shape in (("generator", g_label_shape), ("discriminator", d_label_shape)):
            if len(shape) != 2 or shape[-1] is None or shape[-1] < 1:
                raise ValueError(
                    f"The {role}'s second input (the one-hot label y) must have shape "
                    f"(None, num_classes); got {shape}."
                )
        if g_label_shape[-1] != d_label_shape[-1]:
            raise ValueError(
                f"The generator takes one-hot labels of size {g_label_shape[-1]} but the "
                f"discriminator takes {d_label_shape[-1]}; build both for the same num_classes."
            )
        return int(latent_dim), check_same_data_shape(generator.output_shape, x_shape)

    # ------------------------------------------------- the networks' inputs
    def _generator_inputs(self, z, condition):
        """G is called on [z, y], `condition` the one-hot labels y."""
        return [z, condition]

    def _run_discriminator(self, x, condition, training: bool):
        """D(x|y) as a logit, `condition` the one-hot labels y."""
        return self.call_network(self.discriminator, [x, condition], training)

    def unpack_batch(self, data):
        """`(images, one-hot labels)` of one training batch, checked against the networks."""
        images, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        if labels is None:
            raise ValueError(_MISSING_LABELS)
        self._trace_check("Training images", images, self.data_shape)
        class_labels.check_label_spec(
            tuple(labels.shape), labels.dtype, self.num_classes, "Training labels"
        )
        n_images, n_labels = images.shape[0], labels.shape[0]
        if n_images is not None and n_labels is not None and int(n_images) != int(n_labels):
            raise ValueError(
                f"A batch has {n_images} images but {n_labels} labels; they must pair up."
            )
        dtype = self.compute_dtype if self.compute_dtype else "float32"
        condition = class_labels.one_hot_tensor(labels, self.num_classes, dtype)
        return ops.cast(images, dtype), condition

    # --------------------------------------------------------------- sampling
    def call(self, inputs, training: bool = False):
        """`cgan([z, y])` is `generator([z, y])`, y one-hot."""
        return self.generator(inputs, training=training)

    def generate(self, labels, seed: int | None = None, batch_size: int = 1000) -> np.ndarray:
        """One sample per label, as a numpy array; labels are integers (N,) or one-hot (N, C).

        With `seed`, sample i depends only on (seed, i, labels[i]) (on one
        backend): not on the number of labels nor on `batch_size`, so the
        samples for `labels[:n]` are a prefix of those for `labels`, and any
        batch size gives the same samples (up to the floating-point rounding of
        the generator's batched arithmetic). The same seed draws the same z
        whatever the labels, so `generate(labels, seed)` shows each z under
        each label. The latents are drawn as `GAN.generate` draws them (chunks
        of 1000 rows); `batch_size` only sets how many rows the generator takes
        per call. Without a seed, the noise comes from the model's own stream.
        """
        one_hot = class_labels.one_hot_array(labels, self.num_classes)
        condition = ops.convert_to_tensor(one_hot, dtype=self.compute_dtype or "float32")
        return self._generate_in_batches(len(one_hot), condition, seed, batch_size)

    # -------------------------------------------------------------------- fit
    def fit(self, x=None, y=None, *args, **kwargs):
        """Train on images `x` with labels `y` (arrays), or on a tf.data.Dataset
        of `(images, labels)` batches (then `y` is None).

        Raises:
            ValueError: missing labels, labels out of range or of the wrong
                shape, images and labels of different counts, or images of the
                wrong shape; raised before any weight changes (for a tf.data
                dataset: before the step of the first invalid batch). Other
                sources (Python generators, `keras.utils.PyDataset`) get the
                shape checks only, when the step is traced; check their label
                values yourself.
            FloatingPointError: as `GAN.fit`.
        """
        if hasattr(x, "element_spec"):
            self._validate_fit_data(x, y)
            x = class_labels.tf_dataset_with_label_checks(x, self.num_classes)
        try:
            return super().fit(x, y, *args, **kwargs)
        except Exception as error:
            message = str(error)
            if class_labels.TF_DATA_LABEL_ERROR not in message:
                raise
            detail = message[message.index(class_labels.TF_DATA_LABEL_ERROR) :].split("\n")[0]
            raise ValueError(
                f"{detail}. Training stopped before the step that would have used this batch."
            ) from None

    def _validate_fit_data(self, x, y) -> None:
        if x is None:
            raise ValueError(_MISSING_LABELS)
        spec = getattr(x, "element_spec", None)
        if spec is not None:
            self._validate_dataset_spec(spec, y)
            return
        if isinstance(x, keras.utils.PyDataset):  # e.g. EpochShuffledArrays(images, labels)
            self._validate_py_dataset(x, y)
            return
        if y is None:
            raise ValueError(_MISSING_LABELS)
        found = array_like_shape_dtype(x)
        if found is not None:
            _check_batch("Training images", found[0], found[1], self.data_shape)
        check_generator_range(self.generator, "Training images", x)
        if isinstance(y, (np.ndarray, list, tuple)) or hasattr(y, "__array__"):
            labels = np.asarray(y)
            class_labels.check_label_values(labels, self.num_classes, "Training labels")
            if found is not None and found[0][0] != len(labels):
                raise ValueError(
                    f"fit() got {found[0][0]} images but {len(labels)} labels; pass one label "
                    "per image."
                )

    def _validate_py_dataset(self, dataset, y) -> None:
        """A `keras.utils.PyDataset` must yield (images, labels) batches itself: its first is checked."""
        if y is not None:
            raise ValueError("fit() got a PyDataset and a separate `y`; the dataset must yield "
                             "(images, labels) batches itself, with y=None.")
        batch = dataset[0]
        if not isinstance(batch, tuple) or len(batch) < 2:
            raise ValueError(_MISSING_LABELS + f" The dataset's batches are {type(batch).__name__}s, "
                             "not (images, labels) tuples.")
        images, labels = np.asarray(batch[0]), np.asarray(batch[1])
        _check_batch("Training images", images.shape, keras.backend.standardize_dtype(images.dtype),
                     self.data_shape)
        check_generator_range(self.generator, "Training images", images)
        class_labels.check_label_values(labels, self.num_classes, "Training labels")

    def _validate_dataset_spec(self, spec, y) -> None:
        if y is not None:
            raise ValueError(
                "fit() got a dataset and a separate `y`; a dataset must yield (images, labels) "
                "batches itself, with y=None."
            )
        if not isinstance(spec, tuple) or len(spec) < 2:
            raise ValueError(_MISSING_LABELS + f" The dataset yields {spec}.")
        images, labels = spec[0], spec[1]
        _check_batch(
            "Training images",
            tuple(images.shape),
            keras.backend.standardize_dtype(images.dtype.name),
            self.data_shape,
        )
        class_labels.check_label_spec(
            tuple(labels.shape), labels.dtype.name, self.num_classes, "Training labels"
        )

    # ----------------------------------------------------------- serialising
    def get_config(self):
        config = super().get_config()
        config["num_classes"] = self.num_classes
        return config
