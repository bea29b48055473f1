"""Shared machinery of every model in the family: two networks, two optimizers.

`AdversarialModel` owns what GAN, ConditionalGAN, Pix2Pix and WGANGP have in
common: compiling with a discriminator and a generator optimizer, saving both
(with the random-number states), logging metrics, and stopping `fit` cleanly
on a non-finite loss. A subclass writes its update once, in `keras.ops`, as
straight-line code:

    metric_names = ("d_loss", "g_loss")

    def adversarial_step(self, step, data):
        real = data
        d_loss, _ = step.update(self.discriminator, self.d_loss_fn, real)
        g_loss, _ = step.update(self.generator, self.g_loss_fn, ops.shape(real)[0])
        return {"d_loss": d_loss, "g_loss": g_loss}

    def validation_step(self, data):
        ...  # the same quantities on held-out data, networks in inference mode

`step` (`keras_gan.Step`) holds the primitives, the same on every backend: one
network's optimizer step on a loss, a shared forward pass, simultaneous
updates, and the gradient with respect to an input (for penalties). The
backend mixin (`keras_gan.backend.Trainer`) turns Keras' `train_step` /
`test_step` into these calls.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import keras
from keras import ops

from keras_gan.backend import Step, Trainer
from keras_gan.models.optimizer_pair import OptimizerPair
from keras_gan import compat

Objective = Callable[[], tuple]

#: how to turn uint8 images into what the generator produces (overridden by Pix2Pix: [-1, 1]).
UINT8_HINT = "e.g. [0, 1] for a sigmoid output: divide uint8 images by 255"


_NO_BATCHES = ("fit() got no training batch: the data is empty (an empty array, or a dataset that yields "
               "nothing, e.g. after .take(0) or a filter that drops everything). Check the data source.")


def mean_of(values: list):
    """The float32 mean (a scalar) of a step's values of one logged quantity (e.g. the losses of
    k discriminator updates). One scalar value is its own mean: no stack / mean ops, which eager
    PyTorch pays for on every step."""
    if len(values) == 1 and len(ops.shape(values[0])) == 0:
        return ops.cast(values[0], "float32")
    return ops.mean(ops.stack([ops.cast(v, "float32") for v in values]))


class _NonFiniteLossGuard(keras.callbacks.Callback):
    """Stops `fit` at the first batch whose logged losses are not finite."""

    def __init__(self, loss_names: Sequence[str]):
        super().__init__()
        self.loss_names = tuple(loss_names)
        self.message = None

    batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
        logs = logs or {}
        bad = {}
        for name in self.loss_names:
            if name in logs:
                value = float(ops.convert_to_numpy(logs[name]))
                if not math.isfinite(value):
                    bad[name] = value
        if bad:
            self.message = (
                f"Training stopped at batch {batch}: non-finite loss {bad}. The update "
                "with the non-finite loss was not applied, so the model keeps its last "
                "finite weights. Usual causes: a learning rate that is too large, "
                "inputs outside the range the networks expect (e.g. pixels in [0, 255] "
                "instead of [0, 1]), or NaN in the data."
            )
            self.model.stop_training = True


#: `compile()`'s default optimiser for each network (see `AdversarialModel.compile`).
DEFAULT_LEARNING_RATE, DEFAULT_BETA_1, DEFAULT_BETA_2, DEFAULT_EPSILON = 2e-4, 0.5, 0.999, 1e-8


def default_optimizer() -> keras.optimizers.Optimizer:
    """A fresh Adam(2e-4, beta_1=0.5, beta_2=0.999, epsilon=1e-8): `compile()`'s default
    (pix2pix section 3.2 and the DCGAN paper's section 4)."""
    return keras.optimizers.Adam(DEFAULT_LEARNING_RATE, beta_1=DEFAULT_BETA_1, beta_2=DEFAULT_BETA_2,
                                 epsilon=DEFAULT_EPSILON)


class AdversarialModel(Trainer, keras.Model):
    """Base class of an adversarial model: see the module docstring.

    A subclass sets `metric_names` (the values its steps log) and implements
    `adversarial_step(step, data)` and `validation_step(data)`.
    """

    #: names of the losses that the non-finite guard watches.
    loss_names: tuple = ("d_loss", "g_loss")
    #: names of all logged metrics, in order.
    metric_names: tuple = ("d_loss", "g_loss")
    #: the fix suggested for uint8 data.
    uint8_hint: str = UINT8_HINT

    def __init__(self, generator: keras.Model, discriminator: keras.Model, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(generator, keras.Model) or not isinstance(discriminator, keras.Model):
            raise ValueError(
                "`generator` and `discriminator` must be keras.Model instances; got "
                f"{type(generator).__name__} and {type(discriminator).__name__}."
            )
        _reject_sigmoid_output(discriminator)
        self.generator = generator
        self.discriminator = discriminator
        self._trackers = {name: keras.metrics.Mean(name=name) for name in self.metric_names}
        self.d_optimizer = None
        self.g_optimizer = None

    # ------------------------------------------------------------------ compile
    def compile(
        self,
        d_optimizer=None,
        g_optimizer=None,
        jit_compile="auto",
        run_eagerly: bool = False,
        steps_per_execution: int = 1,
        auto_scale_loss: bool = True,
        **kwargs,
    ):
        """Compile with one optimizer per network (a string, config or instance).

        `None` (the default) gives each network a fresh `default_optimizer()`:
        Adam(2e-4, beta_1=0.5, beta_2=0.999, epsilon=1e-8), the same for GAN,
        ConditionalGAN and Pix2Pix. It is the pix2pix paper's optimiser
        (section 3.2; epsilon from its reference code) and the DCGAN paper's
        (Radford et al. 2016, section 4), the usual choice for adversarial
        nets. The GAN and CGAN papers train with SGD whose momentum ramps per
        epoch, so their recipe needs the epoch length:
        `keras_gan.optimizers.paper_sgd(steps_per_epoch)` (what the zoo uses).
        A string such as `"adam"` means Keras' own defaults (Adam(1e-3, beta_1=0.9)).

        The two must be distinct objects: an optimizer's slots (momentum, Adam
        moments) belong to one set of variables. Under the `mixed_float16`
        policy each optimizer is wrapped in `keras.optimizers.LossScaleOptimizer`
        (as `keras.Model.compile` does) unless `auto_scale_loss=False`; the
        per-backend steps scale each loss before differentiating it.
        """
        ignored = sorted(k for k in ("metrics", "weighted_metrics", "loss_weights") if kwargs.get(k) is not None)
        if ignored:
            raise ValueError(
                f"{type(self).__name__}.compile does not take {', '.join(ignored)}: an adversarial model "
                f"logs its own quantities ({', '.join(self.metric_names)}), and Keras' metrics compare "
                "predictions with targets, which a GAN has not. To track another number, use a callback "
                "that adds it to the logs (e.g. keras_gan.callbacks.ParzenMonitor)."
            )
        if kwargs.get("loss") is not None or kwargs.get("optimizer") is not None:
            raise ValueError(
                f"{type(self).__name__}.compile takes `d_optimizer` and `g_optimizer`; the "
                "losses are fixed by the model's constructor arguments. Got "
                f"{sorted(k for k, v in kwargs.items() if v is not None)}."
            )
        d_optimizer = default_optimizer() if d_optimizer is None else keras.optimizers.get(d_optimizer)
        g_optimizer = default_optimizer() if g_optimizer is None else keras.optimizers.get(g_optimizer)
        if d_optimizer is g_optimizer:
            raise ValueError(
                "`d_optimizer` and `g_optimizer` are the same object; pass two optimizer "
                "instances (e.g. keras.optimizers.Adam(2e-4) twice)."
            )
        if auto_scale_loss and self.dtype_policy.name == "mixed_float16":
            d_optimizer, g_optimizer = (
                opt if isinstance(opt, keras.optimizers.LossScaleOptimizer)
                else keras.optimizers.LossScaleOptimizer(opt, name=f"{role}_loss_scale_optimizer")
                for role, opt in (("d", d_optimizer), ("g", g_optimizer))
            )
        super().compile(
            optimizer=None,
            jit_compile=jit_compile,
            run_eagerly=run_eagerly,
            steps_per_execution=steps_per_execution,
        )
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.optimizer = OptimizerPair(self, d_optimizer, g_optimizer)
        # The optimizers are serialised when the model is saved (`get_compile_config`), as Keras' own
        # compile config is: `keras.optimizers.serialize` imports TensorFlow when it is installed,
        # about 540 MiB of resident memory that a JAX or PyTorch run would otherwise carry.
        self._gan_compile_config = {
            "d_optimizer": d_optimizer,
            "g_optimizer": g_optimizer,
            "jit_compile": jit_compile,
            "run_eagerly": run_eagerly,
            "steps_per_execution": steps_per_execution,
            "auto_scale_loss": auto_scale_loss,
        }

    def get_compile_config(self):
        config = getattr(self, "_gan_compile_config", None)
        if config is None:
            return None
        return {**config, "d_optimizer": keras.optimizers.serialize(config["d_optimizer"]),
                "g_optimizer": keras.optimizers.serialize(config["g_optimizer"])}

    def compile_from_config(self, config):
        config = dict(config)
        config["d_optimizer"] = keras.optimizers.deserialize(config["d_optimizer"])
        config["g_optimizer"] = keras.optimizers.deserialize(config["g_optimizer"])
        self.compile(**config)
        if self.built:
            self.optimizer.build()

    # ------------------------------------------------------------ serialising
    def get_config(self):
        """The two networks (serialised whole); subclasses add their own arguments."""
        return {
            "name": self.name,
            "trainable": self.trainable,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        return cls(**config)

    # ------------------------------------------------------------------ metrics
    @property
    def metrics(self):
        return list(self._trackers.values())

    def _record_values(self, values: dict, complete: bool = True):
        """Update the tracker of each logged quantity in `values`; return the running results.

        A step must log every name of `metric_names`; validation may log a subset (a quantity
        that needs a gradient, such as a penalty, has no held-out value)."""
        missing = [name for name in self._trackers if name not in values]
        unknown = [name for name in values if name not in self._trackers]
        if unknown or (missing and complete):
            raise ValueError(
                f"{type(self).__name__}'s step returned the values {sorted(values)}, but its "
                f"metric_names are {list(self._trackers)}" + (f"; missing {missing}" if missing else "")
                + (f"; not in metric_names: {unknown}" if unknown else "")
                + ". Return one value for each name in metric_names (and add new names there).")
        return {name: self._update_tracker(tracker, values[name])
                for name, tracker in self._trackers.items() if name in values}

    # ------------------------------------------------------------ the step
    def adversarial_step(self, step: Step, data) -> dict:
        """One training step on the batch `data`, written with `step`'s primitives
        (`keras_gan.Step`: `update`, `forward`, `update_together`, `input_gradient`).
        Returns the step's value of each name in `metric_names`."""
        raise NotImplementedError(f"{type(self).__name__} must implement adversarial_step(step, data).")

    def validation_step(self, data) -> dict:
        """The logged quantities on one held-out batch (`evaluate`, `fit(validation_data=...)`),
        every network in inference mode (`training=False`) and without drawing from the model's
        random streams, so validating never changes the training run. Returns a dict keyed by
        names of `metric_names` (a subset is allowed)."""
        raise NotImplementedError(f"{type(self).__name__} must implement validation_step(data).")

    # ------------------------------------------------------- random state
    def _seed_state_variables(self) -> list:
        """States of every `SeedGenerator` in the model (latent noise, dropout)."""
        return compat.seed_states(self)

    def save_own_variables(self, store):
        """Save the random-number states with the weights.

        Keras does not save `SeedGenerator` states, so a model restored by
        `load_model` or `BackupAndRestore` would draw different noise and
        dropout masks than the run it continues. Saving them makes a resumed
        run continue the interrupted one exactly.
        """
        super().save_own_variables(store)
        for i, state in enumerate(self._seed_state_variables()):
            store[f"seed_state_{i}"] = ops.convert_to_numpy(state.value)

    def load_own_variables(self, store):
        keys = [k for k in store.keys() if str(k).startswith("seed_state_")]
        states = self._seed_state_variables()
        if keys and len(keys) == len(states):
            for i, state in enumerate(states):
                state.assign(store[f"seed_state_{i}"])
        own = {k: store[k] for k in store.keys() if not str(k).startswith("seed_state_")}
        super().load_own_variables(own)

    def build(self, input_shape=None):
        self.built = True

    # ------------------------------------------------------------------- fit
    def fit(self, x=None, y=None, *args, callbacks=None, **kwargs):
        """`keras.Model.fit`, with input checks before training and a clean stop on NaN.

        Raises:
            ValueError: the data's shape or dtype does not match the networks
                (raised before any weight changes).
            FloatingPointError: a loss became non-finite; the model keeps the
                weights of the last finite update.
        """
        if self.d_optimizer is None:
            raise ValueError(
                f"You must call `compile(d_optimizer=..., g_optimizer=...)` before `fit()`."
            )
        if hasattr(x, "shape") and len(x.shape) and x.shape[0] == 0:
            raise ValueError(_NO_BATCHES)
        self._validate_fit_data(x, y)
        guard = _NonFiniteLossGuard(self.loss_names)
        extra = [guard]
        if getattr(x, "orders_itself", False):
            # A dataset whose order is a function of (seed, epoch): Keras' own
            # batch shuffle (numpy's global state) would make a resumed run
            # drift, and the dataset must know the epoch a resumed fit starts at.
            # Through an EpochWindow, a run resumed mid-epoch starts at its batch.
            if len(args) < 7:  # `shuffle` not given positionally
                kwargs.setdefault("shuffle", False)
            from keras_gan.datasets.shuffled import DataEpoch, EpochWindow

            x = x if isinstance(x, EpochWindow) else EpochWindow(x)
            first = [DataEpoch(x)]  # before the others: they see the epoch's data state settled
        else:
            first = []
        if isinstance(callbacks, keras.callbacks.CallbackList):
            for callback in first + extra:
                callbacks.append(callback)
        else:
            callbacks = first + list(callbacks or []) + extra
        try:
            history = super().fit(x, y, *args, callbacks=callbacks, **kwargs)
        except UnboundLocalError as e:  # Keras' JAX trainer, when the data gave no batch
            self.train_function = None
            if guard.batches == 0:
                raise ValueError(_NO_BATCHES) from e
            raise
        except BaseException:
            # A step that failed while tracing must not leave a half-traced
            # function behind (TensorFlow refuses to retrace it).
            self.train_function = None
            raise
        if guard.message:
            raise FloatingPointError(guard.message)
        if guard.batches == 0 and history.epoch:  # TensorFlow and torch return an empty history
            raise ValueError(_NO_BATCHES)
        return history

    def _validate_fit_data(self, x, y) -> None:
        """Check what can be checked before training starts (arrays, tf.data)."""

    def _trace_check(self, name: str, tensor, expected_shape: tuple) -> None:
        """Shape/dtype check at trace time (covers every data source)."""
        if not hasattr(tensor, "shape") or not hasattr(tensor, "dtype"):
            kind = type(tensor).__name__
            raise ValueError(
                f"{name}: each batch must be one array or tensor of shape (batch, "
                f"{', '.join(str(d) for d in expected_shape)}); got a {kind}. Pass the array itself, "
                "not a list of arrays (fit(x), not fit([x]))" + (
                    "; a dataset of dicts must be mapped to arrays first, e.g. "
                    "ds.map(lambda d: d['image']) (or (d['image'], d['label']) for labels)."
                    if isinstance(tensor, dict) else ".")
            )
        _check_batch(name, tuple(tensor.shape), keras.backend.standardize_dtype(tensor.dtype), expected_shape,
                     self.uint8_hint)


def _final_activation(network: keras.Model):
    """The activation applied last by `network`'s (first) output layer, or None if unknown."""
    try:
        layer = compat.producing_layer(network.outputs[0])
    except (AttributeError, IndexError, TypeError, ValueError):  # subclassed or unbuilt models
        layers = getattr(network, "layers", None)
        layer = layers[-1] if layers else None
    return getattr(layer, "activation", None)


def _reject_sigmoid_output(discriminator: keras.Model) -> None:
    """Stop a discriminator that ends in a sigmoid: the losses apply the sigmoid themselves.

    The keras.io GAN tutorials end D with `Dense(1, activation="sigmoid")`; here
    that would be squashed twice (a D that outputs 0.99 would be logged as
    d_real 0.73) and the losses would saturate.
    """
    activation = _final_activation(discriminator)
    if activation is keras.activations.sigmoid or getattr(activation, "__name__", None) == "sigmoid":
        raise ValueError(
            f"The discriminator {discriminator.name!r} ends in a sigmoid, but keras_gan's losses take "
            "logits (they apply the sigmoid themselves, stably). Return logits: drop the sigmoid, e.g. "
            "Dense(1) instead of Dense(1, activation='sigmoid')."
        )


def _check_batch(name: str, shape: tuple, dtype: str, expected_shape: tuple, uint8_hint: str = UINT8_HINT) -> None:
    expected = tuple(expected_shape)
    actual = tuple(shape[1:])
    if len(actual) != len(expected) or any(
        e is not None and a is not None and int(a) != int(e) for a, e in zip(actual, expected)
    ):
        raise ValueError(
            f"{name} have shape {tuple(shape)} (per example {actual}), but the networks "
            f"expect per-example shape {expected}. Reshape the data (e.g. MNIST as "
            f"(N, 28, 28, 1)) or build the networks for this shape."
        )
    if not (dtype.startswith("float") or dtype.startswith("bfloat")):
        raise ValueError(
            f"{name} have dtype {dtype}; expected floating point values in the range "
            f"the generator produces ({uint8_hint})."
        )


def array_like_shape_dtype(x):
    """`(shape, dtype)` of an array or of the first component of a tf.data element spec."""
    if hasattr(x, "shape") and hasattr(x, "dtype") and not hasattr(x, "element_spec"):
        return tuple(x.shape), keras.backend.standardize_dtype(x.dtype)
    spec = getattr(x, "element_spec", None)
    if spec is not None:
        first = spec
        while isinstance(first, (tuple, list)):
            first = first[0]
        if isinstance(first, dict):
            return None
        return tuple(first.shape), keras.backend.standardize_dtype(first.dtype.name)
    return None
