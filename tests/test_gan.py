"""GAN model behaviour: the step, optimizers' state, saving, resuming, seeds, bad input."""

import os

import keras
import numpy as np
import pytest

import keras_gan
from keras_gan import networks
from tests.conftest import to_numpy, weights_of


def small_gan(d_steps=1, seed=7, dropout=0.5, input_dropout=0.2, **kwargs):
    g = networks.mnist_generator(latent_dim=8, hidden_units=32)
    d = networks.mnist_discriminator(units=16, pieces=3, input_dropout=input_dropout, hidden_dropout=dropout)
    return keras_gan.GAN(g, d, d_steps=d_steps, seed=seed, **kwargs)


def compiled(gan, lr=0.1):
    gan.compile(
        d_optimizer=keras.optimizers.SGD(lr, momentum=0.5),
        g_optimizer=keras.optimizers.SGD(lr, momentum=0.5),
    )
    return gan


def images(n=64, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (n, 28, 28, 1)).astype("float32")


def test_fit_logs_metrics_and_updates_both_optimizers():
    gan = compiled(small_gan())
    history = gan.fit(images(64), batch_size=16, epochs=2, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake"}
    for values in history.history.values():
        assert np.all(np.isfinite(values))
    assert 0 < history.history["d_real"][-1] < 1 and 0 < history.history["d_fake"][-1] < 1
    # Both optimizers' state lives in the model after fit (on JAX: it travelled
    # through the jitted state and was written back).
    assert int(to_numpy(gan.d_optimizer.iterations)) == 8
    assert int(to_numpy(gan.g_optimizer.iterations)) == 8
    momenta = [to_numpy(v) for v in gan.d_optimizer.variables + gan.g_optimizer.variables if "momentum" in v.path]
    assert momenta and all(np.abs(m).sum() > 0 for m in momenta)


def test_d_steps_consume_the_batch_in_chunks():
    gan = compiled(small_gan(d_steps=3))
    gan.fit(images(60), batch_size=30, epochs=1, verbose=0)
    # 2 batches x 3 discriminator updates, 2 generator updates.
    assert int(to_numpy(gan.d_optimizer.iterations)) == 6
    assert int(to_numpy(gan.g_optimizer.iterations)) == 2
    with pytest.raises(ValueError, match="d_steps=3"):
        compiled(small_gan(d_steps=3)).fit(images(2), batch_size=2, verbose=0)


def test_each_update_touches_only_its_own_network():
    gan = small_gan()
    gan.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.0))
    g0, d0 = weights_of(gan.generator), weights_of(gan.discriminator)
    gan.fit(images(16), batch_size=16, epochs=1, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(g0, weights_of(gan.generator)))
    assert any(not np.array_equal(a, b) for a, b in zip(d0, weights_of(gan.discriminator)))


def test_generate_is_seeded_and_shaped():
    gan = small_gan()
    a, b = gan.generate(5, seed=3), gan.generate(5, seed=3)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (5, 28, 28, 1) and a.min() >= 0 and a.max() <= 1
    assert not np.array_equal(gan.generate(5), gan.generate(5))
    assert gan.generate(2500, batch_size=1000).shape == (2500, 28, 28, 1)


def test_same_seed_same_run():
    runs = []
    for _ in range(2):
        keras.utils.set_random_seed(42)
        gan = compiled(small_gan(seed=None))
        gan.fit(images(32), batch_size=16, epochs=2, verbose=0)
        runs.append(weights_of(gan))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_keras_file_round_trip_keeps_weights_and_both_optimizers(tmp_path):
    gan = compiled(small_gan())
    gan.fit(images(32), batch_size=16, epochs=1, verbose=0)
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, keras_gan.GAN)
    assert loaded.get_config()["d_steps"] == 1 and loaded.latent_prior == "uniform"
    for a, b in zip(weights_of(gan), weights_of(loaded)):
        np.testing.assert_array_equal(a, b)
    for opt, opt2 in ((gan.d_optimizer, loaded.d_optimizer), (gan.g_optimizer, loaded.g_optimizer)):
        assert type(opt) is type(opt2) and opt2.get_config()["momentum"] == 0.5
        for a, b in zip(opt.variables, opt2.variables):
            np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    np.testing.assert_allclose(gan.generate(3, seed=1), loaded.generate(3, seed=1), atol=1e-6)
    # Training continues from the restored state identically.
    keras.utils.set_random_seed(5)
    gan.fit(images(16, seed=1), batch_size=16, epochs=1, verbose=0, shuffle=False)
    keras.utils.set_random_seed(5)
    loaded.fit(images(16, seed=1), batch_size=16, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(weights_of(gan), weights_of(loaded)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_weights_file_round_trip(tmp_path):
    gan = compiled(small_gan())
    gan.fit(images(32), batch_size=16, epochs=1, verbose=0)
    path = str(tmp_path / "gan.weights.h5")
    gan.save_weights(path)
    other = compiled(small_gan(seed=99))
    other.optimizer.build()
    other.load_weights(path)
    for a, b in zip(weights_of(gan), weights_of(other)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(gan.optimizer.variables, other.optimizer.variables):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


class _Interrupt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt("simulated interruption")


class _Recorder(keras.callbacks.Callback):
    """The weights and optimizer variables (and `extra(model)`'s) fit starts from (listed after a
    restoring callback: what it restored), those at each epoch's end, and the epochs this fit ran."""

    def __init__(self, extra=lambda model: []):
        super().__init__()
        self.extra = extra
        self.ended, self.epochs = {}, []

    def _state(self):
        variables = self.model.weights + self.model.optimizer.variables + list(self.extra(self.model))
        return [to_numpy(v).copy() for v in variables]

    def on_train_begin(self, logs=None):
        self.start = self._state()

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)

    def on_epoch_end(self, epoch, logs=None):
        self.ended[epoch] = self._state()


def test_backup_and_restore_resumes_with_both_optimizer_states(tmp_path):
    data = images(32)

    def run(callbacks):
        keras.utils.set_random_seed(3)
        # No dropout: on torch, unseeded Dropout layers draw from torch's global
        # RNG, which is not part of the model's saved state.
        gan = compiled(small_gan(dropout=0.0, input_dropout=0.0))
        gan.fit(data, batch_size=16, epochs=4, verbose=0, shuffle=False, callbacks=callbacks)
        return gan

    reference = run([])
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    interrupted = _Recorder()
    with pytest.raises(KeyboardInterrupt):
        run([backup, interrupted, _Interrupt(2)])
    assert interrupted.epochs == [0, 1, 2]
    continued = _Recorder()
    resumed = run([keras.callbacks.BackupAndRestore(str(tmp_path / "backup")), continued])
    # It continued: started from the state after epoch 2 (weights, both optimizers' variables and
    # iterations) and ran epochs 3 and 4 only; a restore that restored nothing would train all four
    # epochs from the same seed and end equal to the reference, 8 steps each, too.
    assert continued.epochs == [2, 3]
    for a, b in zip(interrupted.ended[1], continued.start, strict=True):
        np.testing.assert_array_equal(a, b)
    assert int(to_numpy(resumed.d_optimizer.iterations)) == int(to_numpy(resumed.g_optimizer.iterations)) == 8
    for a, b in zip(weights_of(reference), weights_of(resumed)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    for a, b in zip(reference.optimizer.variables, resumed.optimizer.variables):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("source", ["numpy", "tf.data"])
def test_wrong_image_shape_is_rejected_before_any_update(source):
    gan = compiled(small_gan())
    before = weights_of(gan)
    bad = np.zeros((16, 32, 32, 1), "float32")
    if source == "tf.data":
        import tensorflow as tf

        bad = tf.data.Dataset.from_tensor_slices(bad).batch(8)
    with pytest.raises(ValueError, match=r"\(32, 32, 1\).*\(28, 28, 1\)"):
        gan.fit(bad, epochs=1, verbose=0)
    for a, b in zip(before, weights_of(gan)):
        np.testing.assert_array_equal(a, b)


def test_shape_error_from_a_generator_source_leaves_the_model_usable():
    gan = compiled(small_gan())
    before = weights_of(gan)

    def batches():
        while True:
            yield (np.zeros((8, 27, 28, 1), "float32"),)

    with pytest.raises(ValueError, match=r"\(27, 28, 1\)"):
        gan.fit(batches(), steps_per_epoch=2, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(before, weights_of(gan)):
        np.testing.assert_array_equal(a, b)
    gan.fit(images(16), batch_size=16, epochs=1, verbose=0)  # still trains


def test_integer_images_are_rejected():
    gan = compiled(small_gan())
    with pytest.raises(ValueError, match="divide uint8"):
        gan.fit(np.zeros((16, 28, 28, 1), "uint8"), verbose=0)


def test_non_finite_loss_stops_training_and_keeps_finite_weights():
    gan = compiled(small_gan())
    gan.fit(images(16), batch_size=16, epochs=1, verbose=0)
    before = weights_of(gan)
    poisoned = images(32)
    poisoned[20] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):  # arrays are checked before training
        gan.fit(poisoned, batch_size=16, epochs=3, verbose=0, shuffle=False)
    assert all(np.array_equal(a, b) for a, b in zip(before, weights_of(gan)))
    import tensorflow as tf  # a stream is not checked up front: the loss guard catches it

    stream = tf.data.Dataset.from_tensor_slices(poisoned).batch(16)
    with pytest.raises(FloatingPointError, match="non-finite loss"):
        gan.fit(stream, epochs=3, verbose=0)
    after = weights_of(gan)
    assert all(np.all(np.isfinite(w)) for w in after)
    # First batch (finite) was applied, second (NaN) was not, and training stopped.
    assert int(to_numpy(gan.d_optimizer.iterations)) == 2
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"latent_dim": 0}, "latent_dim must be a positive integer"),
        ({"latent_prior": "cauchy"}, "Unknown latent_prior"),
        ({"d_steps": 0}, "d_steps"),
        ({"generator_loss": "hinge"}, "Unknown generator_loss"),
        ({"latent_dim": 9}, "latent_dim=9"),
    ],
)
def test_invalid_constructor_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        small_gan(**kwargs)


def test_mismatched_networks_and_compile_errors():
    g = networks.mnist_generator(latent_dim=8, hidden_units=16)
    d = networks.mlp_discriminator(data_dim=2)
    with pytest.raises(ValueError, match="generator outputs shape"):
        keras_gan.GAN(g, d)
    gan = small_gan()
    opt = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="same object"):
        gan.compile(d_optimizer=opt, g_optimizer=opt)
    with pytest.raises(ValueError, match="compile"):
        small_gan().fit(images(16), verbose=0)


def test_minimax_loss_and_normal_prior_train():
    """One step's logged g_loss is Eq. 1's mean log(1 - D(G(z))) through the updated D, on the
    step's second draw from N(0, 1), replayed from the model's noise stream. (Any loss of the form
    mean log sigmoid(.) is negative: the sign alone tells neither the losses nor the priors apart.)
    Toy MLPs with Keras' default initialisation and D's bias moved off 0, so that D's logits are
    far from 0 (where log D = log(1 - D)) and depend on z."""
    keras.utils.set_random_seed(0)
    gan = keras_gan.GAN(networks.mlp_generator(latent_dim=8, data_dim=2, units=16),
                        networks.mlp_discriminator(data_dim=2, units=16),
                        generator_loss="minimax", latent_prior="normal", seed=7)
    compiled(gan)
    gan.discriminator.get_layer("logit").bias.assign([1.5])
    g_before = weights_of(gan.generator)
    replay = keras.random.SeedGenerator(0)
    replay.state.assign(to_numpy(gan.seed_generator.state))
    data = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")
    history = gan.fit(data, batch_size=16, epochs=1, verbose=0, shuffle=False)
    assert int(to_numpy(gan.g_optimizer.iterations)) == 1
    keras.random.normal((16, 8), seed=replay)  # the discriminator update's draw
    z = keras.random.normal((16, 8), seed=replay)  # the generator update's
    g_after = weights_of(gan.generator)
    gan.generator.set_weights(g_before)  # G's loss is taken before its own update, D's after
    logits = to_numpy(gan.discriminator(gan.generator(z))).astype("float64")
    gan.generator.set_weights(g_after)
    assert np.ptp(logits) > 0.02 and np.mean(logits) > 1  # mean log D(G(z)) is higher by the mean logit
    minimax = np.mean(-np.logaddexp(0.0, logits))  # log(1 - sigmoid(l)) = -softplus(l)
    assert history.history["g_loss"][-1] == pytest.approx(minimax, rel=1e-5)


def test_jit_compiled_where_the_backend_compiles():
    gan = compiled(small_gan())
    gan.compile(
        d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1), jit_compile=True
    )
    gan.fit(images(16), batch_size=16, epochs=1, verbose=0)
    assert gan.jit_compile is True
    # What Keras' trainer actually compiled (its train_function closes over the step it built):
    import inspect

    step = inspect.getclosurevars(gan.train_function).nonlocals
    backend = keras.backend.backend()
    if backend == "tensorflow":
        assert step["one_step_on_data"]._jit_compile is True  # tf.function(jit_compile=True): XLA
    elif backend == "jax":
        assert type(step["step_function"]).__name__ == "PjitFunction"  # jax.jit
    else:
        assert type(step["callback"]).__module__.startswith("torch._dynamo")  # torch.compile


def _one_step(update_rule, d_lr, g_lr, template):
    """One batch of plain SGD from `template`'s weights; returns (G weights, D weights, gan)."""
    gan = small_gan(dropout=0.0, input_dropout=0.0, update_rule=update_rule)
    gan.set_weights(template.get_weights())
    gan.compile(d_optimizer=keras.optimizers.SGD(d_lr), g_optimizer=keras.optimizers.SGD(g_lr))
    gan.fit(images(16), batch_size=16, epochs=1, shuffle=False, verbose=0)
    return weights_of(gan.generator), weights_of(gan.discriminator), gan


def _step_gap(after_a, after_b, before):
    """||step_a - step_b|| / ||step_b||: how far apart two updates of the same weights are
    (the generator's first step is tiny, ~1e-8, next to its weights)."""
    a = np.concatenate([(x - w).ravel() for x, w in zip(after_a, before)])
    b = np.concatenate([(x - w).ravel() for x, w in zip(after_b, before)])
    assert np.linalg.norm(b) > 0, "the reference step did not move the weights"
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def test_simultaneous_update_steps_both_networks_from_the_same_parameters():
    """update_rule="simultaneous" (the reference code): G's step is taken against the
    discriminator *before* D's step, so D's learning rate cannot change G's first step;
    under Algorithm 1 (alternating) it does. D's own step is the same under both rules."""
    keras.utils.set_random_seed(0)  # alternating's gap is 0.5-0.7 with this init on every backend
    template = small_gan(dropout=0.0, input_dropout=0.0)
    g0, d0 = weights_of(template.generator), weights_of(template.discriminator)
    g_both, d_both, gan = _one_step("simultaneous", 0.5, 0.5, template)
    g_frozen_d, _, _ = _one_step("simultaneous", 0.0, 0.5, template)
    assert _step_gap(g_both, g_frozen_d, g0) < 1e-6
    g_alt, _, _ = _one_step("alternating", 0.5, 0.5, template)
    g_alt_frozen_d, _, _ = _one_step("alternating", 0.0, 0.5, template)
    assert _step_gap(g_alt, g_alt_frozen_d, g0) > 0.1
    _, d_alt_frozen_g, _ = _one_step("alternating", 0.5, 0.0, template)
    assert _step_gap(d_both, d_alt_frozen_g, d0) < 1e-6  # one z draw, the same D objective
    assert int(to_numpy(gan.d_optimizer.iterations)) == 1 == int(to_numpy(gan.g_optimizer.iterations))


def test_simultaneous_update_rule_trains_saves_and_is_checked(tmp_path):
    gan = compiled(small_gan(update_rule="simultaneous"))
    history = gan.fit(images(64), batch_size=16, epochs=2, verbose=0)
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    assert int(to_numpy(gan.g_optimizer.iterations)) == 8
    path = str(tmp_path / "sim.keras")
    gan.save(path)
    assert keras.saving.load_model(path).update_rule == "simultaneous"
    with pytest.raises(ValueError, match="d_steps=2"):
        small_gan(d_steps=2, update_rule="simultaneous")
    with pytest.raises(ValueError, match="Unknown update_rule"):
        small_gan(update_rule="both")


@pytest.mark.parametrize("how", ["dense_activation", "activation_layer", "sequential"])
def test_a_discriminator_ending_in_a_sigmoid_is_refused_with_the_fix(how):
    """The keras.io tutorials' D ends in a sigmoid; the losses here take logits."""
    generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    if how == "sequential":
        discriminator = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    else:
        x = keras.Input((3,))
        h = keras.layers.Dense(1, activation="sigmoid" if how == "dense_activation" else None)(x)
        if how == "activation_layer":
            h = keras.layers.Activation("sigmoid")(h)
        discriminator = keras.Model(x, h)
    with pytest.raises(ValueError, match="drop the sigmoid"):
        keras_gan.GAN(generator, discriminator)
    logits = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    keras_gan.GAN(generator, logits)  # logits are accepted


def test_keras_learning_rate_callbacks_drive_both_optimizers():
    """ReduceLROnPlateau reads G's rate and scales D's and G's by the same factor."""
    keras.utils.set_random_seed(0)
    gan = keras_gan.GAN(keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)]),
                        keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)]))
    gan.compile(d_optimizer=keras.optimizers.Adam(2e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    reduce = keras.callbacks.ReduceLROnPlateau(monitor="d_loss", mode="min", factor=0.5, patience=0, min_delta=1e9)
    gan.fit(x, batch_size=16, epochs=2, verbose=0, callbacks=[reduce])
    assert float(to_numpy(gan.g_optimizer.learning_rate)) == pytest.approx(1e-3 * 0.5)  # one reduction
    assert float(to_numpy(gan.d_optimizer.learning_rate)) == pytest.approx(2e-3 * 0.5)
    scheduled = keras_gan.GAN(keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)]),
                              keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)]))
    scheduled.compile(d_optimizer=keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)),
                      g_optimizer=keras.optimizers.SGD(0.1))
    with pytest.raises(TypeError, match="schedule"):
        scheduled.optimizer.learning_rate = 0.01


def test_generate_takes_a_whole_number_of_samples():
    gan = keras_gan.GAN(keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)]),
                        keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)]))
    for bad in (2.5, -1, True, "3"):
        with pytest.raises(ValueError, match="whole number"):
            gan.generate(bad)
    assert gan.generate(np.int64(3), seed=0).shape == (3, 3)
    with pytest.raises(ValueError, match="batch_size"):
        gan.generate(3, batch_size=0)


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="autograd graphs are torch's concern")
def test_torch_updates_record_no_graph_for_the_other_network():
    """As the reference's set_requires_grad: G's sampling inside D's update builds no autograd graph,
    and both networks are differentiable again afterwards."""
    gan = compiled(small_gan())
    seen = []
    for network in (gan.generator, gan.discriminator):
        def spy(inputs, training=None, mask=None, _network=network, _call=type(network).call):
            out = _call(_network, inputs, training=training, mask=mask)
            seen.append((_network is gan.generator, bool(out.requires_grad)))
            return out

        network.call = spy  # an instance `call`: what Layer.__call__ runs (and the lean pass leaves alone)
    gan.fit(images(64), batch_size=64, epochs=1, verbose=0)
    generator_calls = [grad for is_g, grad in seen if is_g]
    assert generator_calls == [False, True]  # D's update (no graph), then G's update (its graph)
    assert all(v.value.requires_grad for v in gan.generator.trainable_variables + gan.discriminator.trainable_variables)


def test_a_logged_quantity_is_averaged_to_one_scalar_per_step():
    """A step's values of one logged quantity become one float32 scalar: the mean over the
    updates and over the elements of each (a custom stat may be a vector); a single scalar as it is."""
    from keras_gan.models.adversarial_model import mean_of as _mean_of

    ops = keras.ops
    single = _mean_of([ops.convert_to_tensor(np.float32(0.25))])
    assert tuple(ops.shape(single)) == () and float(to_numpy(single)) == 0.25
    vector = _mean_of([ops.convert_to_tensor(np.array([0, 0, 0, 4], "float32"))])
    assert tuple(ops.shape(vector)) == () and float(to_numpy(vector)) == 1.0
    pair = _mean_of([ops.convert_to_tensor(np.float32(1.0)), ops.convert_to_tensor(np.float64(2.0))])
    assert keras.backend.standardize_dtype(pair.dtype) == "float32" and float(to_numpy(pair)) == 1.5
