"""ConditionalGAN: it learns, it matches across backends, it saves and resumes, it rejects bad input."""

import time

import keras
import numpy as np
import pytest

from tests.conftest import cross_backend

import keras_gan
from tests.test_gan import _Interrupt
from keras_gan import datasets, networks
from tests.conftest import to_numpy, weights_of
from tests.parity_utils import global_norm, global_rel, parity_results

NUM_CLASSES = 8
# Process CPU time (a loaded machine stretches wall time, not work); measured 5-25 s.
LEARNING_CPU_BUDGET_S = 60


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread(one_torch_thread):
    """See `tests.conftest.one_torch_thread`."""
    yield


def toy_cgan(seed=7, widths=(32, 32), **kwargs):
    return keras_gan.ConditionalGAN(
        networks.conditional_mlp_generator(latent_dim=2, num_classes=NUM_CLASSES, widths=widths),
        networks.conditional_mlp_discriminator(num_classes=NUM_CLASSES, widths=widths),
        seed=seed,
        **kwargs,
    )


def compiled(model, lr=0.05):
    model.compile(
        d_optimizer=keras.optimizers.SGD(lr, momentum=0.5),
        g_optimizer=keras.optimizers.SGD(lr, momentum=0.5),
    )
    return model


def ring(n=64, seed=0):
    return datasets.ring_of_gaussians(n, num_modes=NUM_CLASSES, seed=seed, return_labels=True)


def one_hot(labels, num_classes=NUM_CLASSES):
    return np.eye(num_classes, dtype="float32")[labels]


def tf_dataset(images, labels, batch_size=16):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch_size)


# ---------------------------------------------------------------- it learns
def test_each_label_generates_its_own_mode_of_the_ring():
    """Trained on the labelled ring of 8 Gaussians, generating label k lands on mode k.

    Measured (4 seeds x 3 backends, this configuration): the worst label had
    86-99% of its samples within 3 std of its own mode, the mean over labels
    about 96-99%. A model that ignored its label would score about 1/8 at best.
    """
    keras.utils.set_random_seed(0)
    images, labels = ring(4096, seed=0)
    model = keras_gan.ConditionalGAN(
        networks.conditional_mlp_generator(latent_dim=2, num_classes=NUM_CLASSES, widths=(64, 64)),
        networks.conditional_mlp_discriminator(num_classes=NUM_CLASSES, widths=(64, 64)),
        latent_prior="normal",
        seed=1,
    )
    model.compile(
        d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
    )
    start = time.process_time()
    model.fit(images, labels, batch_size=256, epochs=24, verbose=0)
    cpu_seconds = time.process_time() - start
    wanted = np.repeat(np.arange(NUM_CLASSES), 500)
    accuracy = datasets.per_label_mode_accuracy(model.generate(wanted, seed=0), wanted)
    assert accuracy.min() >= 0.8, f"per-label accuracy {np.round(accuracy, 2)}"
    assert accuracy.mean() >= 0.9, f"per-label accuracy {np.round(accuracy, 2)}"
    assert cpu_seconds < LEARNING_CPU_BUDGET_S, f"took {cpu_seconds:.0f} s of CPU time"


def test_untrained_model_fails_the_per_label_measure():
    wanted = np.repeat(np.arange(NUM_CLASSES), 500)
    accuracy = datasets.per_label_mode_accuracy(toy_cgan().generate(wanted, seed=0), wanted)
    assert accuracy.max() < 0.1


# --------------------------------------------------------------- the step
def test_integer_one_hot_and_tf_data_labels_train_identically():
    """The same batches as integer labels, one-hot labels or a tf.data dataset give
    the same step; with d_steps = 2 each batch of 16 feeds two discriminator
    updates (chunks of 8 image-label pairs) and one generator update."""
    images, labels = ring(64)
    runs = {}
    for label_format in ("integers", "one_hot", "tf.data"):
        keras.utils.set_random_seed(11)
        model = compiled(toy_cgan(seed=None, d_steps=2))
        g0, d0 = weights_of(model.generator), weights_of(model.discriminator)
        if label_format == "tf.data":
            history = model.fit(tf_dataset(images, labels), epochs=2, verbose=0, shuffle=False)
        else:
            y = labels if label_format == "integers" else one_hot(labels)
            history = model.fit(images, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
        assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake"}
        assert all(np.all(np.isfinite(v)) for v in history.history.values())
        assert 0 < history.history["d_real"][-1] < 1 and 0 < history.history["d_fake"][-1] < 1
        assert int(to_numpy(model.d_optimizer.iterations)) == 16
        assert int(to_numpy(model.g_optimizer.iterations)) == 8
        assert any(not np.array_equal(a, b) for a, b in zip(g0, weights_of(model.generator)))
        assert any(not np.array_equal(a, b) for a, b in zip(d0, weights_of(model.discriminator)))
        runs[label_format] = weights_of(model)
    for other in ("one_hot", "tf.data"):
        for a, b in zip(runs["integers"], runs[other]):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.fixture(scope="module")
def cgan_parity(tmp_path_factory):
    return parity_results("cgan", tmp_path_factory)


@pytest.mark.slow  # two subprocesses importing their backends (shared with the other parity tests)
@pytest.mark.parametrize("other", ["tensorflow", "torch"])
@cross_backend
def test_one_step_matches_across_backends(cgan_parity, other):
    """Same weights, batch, labels and noise, dropout off, d_steps = 2: same losses and
    updated weights (rel. err <= 1e-5) on TensorFlow and PyTorch as on JAX."""
    inputs, out = cgan_parity
    ref, res = out["jax"], out[other]
    assert (res["d_iterations"], res["g_iterations"]) == (2, 1)  # d_steps = 2
    for log in ("d_loss", "g_loss", "d_real", "d_fake"):
        a, b = res[f"log_{log}"], ref[f"log_{log}"]
        assert abs(a - b) <= 1e-5 * max(abs(b), 1e-6), (log, a, b)
    for part in ("g", "d"):
        keys = sorted((k for k in ref if k[0] == part and k[1:].isdigit()), key=lambda k: int(k[1:]))
        assert keys
        new_ref, new_res = [ref[k] for k in keys], [res[k] for k in keys]
        assert global_rel(new_res, new_ref) <= 1e-5
        delta_ref = [r - inputs[k] for r, k in zip(new_ref, keys)]
        delta_res = [r - inputs[k] for r, k in zip(new_res, keys)]
        # The step really changed this network, and by the same amount on both backends.
        assert global_norm(delta_ref) > 1e-4
        assert global_rel(delta_res, delta_ref) <= 1e-2


# --------------------------------------------------------------- sampling
def test_generate_is_seeded_and_takes_integer_or_one_hot_labels():
    model = toy_cgan()
    labels = np.array([0, 3, 3, 7, 1])
    a = model.generate(labels, seed=3)
    assert a.shape == (5, 2) and isinstance(a, np.ndarray)
    np.testing.assert_array_equal(a, model.generate(labels, seed=3))
    np.testing.assert_array_equal(a, model.generate(one_hot(labels), seed=3))
    np.testing.assert_array_equal(a, model.generate(labels.tolist(), seed=3))
    # Same z, other labels: other samples (the label reaches the generator).
    assert not np.allclose(a, model.generate(np.array([1, 4, 4, 0, 2]), seed=3))
    assert not np.array_equal(model.generate(labels), model.generate(labels))
    many = model.generate(np.arange(2500) % NUM_CLASSES, batch_size=1000, seed=0)
    assert many.shape == (2500, 2)
    np.testing.assert_allclose(many[:5], model.generate(np.arange(5), seed=0), atol=1e-6)
    assert model.generate(np.zeros((0,), "int64")).shape == (0, 2)


# --------------------------------------------------------- saving, resuming
def test_keras_file_round_trip_keeps_weights_and_both_optimizers(tmp_path):
    model = compiled(toy_cgan())
    images, labels = ring(32)
    model.fit(images, labels, batch_size=16, epochs=1, verbose=0)
    path = str(tmp_path / "cgan.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, keras_gan.ConditionalGAN)
    config = loaded.get_config()
    assert config["num_classes"] == NUM_CLASSES and config["latent_prior"] == "unit_hypercube"
    for a, b in zip(weights_of(model), weights_of(loaded)):
        np.testing.assert_array_equal(a, b)
    for opt, opt2 in ((model.d_optimizer, loaded.d_optimizer), (model.g_optimizer, loaded.g_optimizer)):
        assert type(opt) is type(opt2) and opt2.get_config()["momentum"] == 0.5
        for a, b in zip(opt.variables, opt2.variables):
            np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    np.testing.assert_allclose(model.generate(labels[:4], seed=1), loaded.generate(labels[:4], seed=1), atol=1e-6)
    # Training continues from the restored state identically.
    for m in (model, loaded):
        keras.utils.set_random_seed(5)
        m.fit(*ring(16, seed=1), batch_size=16, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(weights_of(model), weights_of(loaded)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_backup_and_restore_resumes_with_both_optimizer_states(tmp_path):
    images, labels = ring(32)

    def run(callbacks):
        keras.utils.set_random_seed(3)
        model = compiled(toy_cgan())
        model.fit(images, labels, batch_size=16, epochs=4, verbose=0, shuffle=False, callbacks=callbacks)
        return model

    reference = run([])
    with pytest.raises(KeyboardInterrupt):
        run([keras.callbacks.BackupAndRestore(str(tmp_path / "backup")), _Interrupt(2)])
    resumed = run([keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))])
    for a, b in zip(weights_of(reference), weights_of(resumed)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    for a, b in zip(reference.optimizer.variables, resumed.optimizer.variables):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-5, atol=1e-7)
    assert int(to_numpy(resumed.d_optimizer.iterations)) == 8


# --------------------------------------------------------------- bad input
def _bad_fit_inputs(case):
    images, labels = ring(32)
    if case == "label out of range":
        labels = labels.copy()
        labels[5] = NUM_CLASSES
        return (images, labels), r"\[0, 7\].*first is 8 at index 5"
    if case == "negative label":
        labels = labels.copy()
        labels[0] = -1
        return (images, labels), r"\[0, 7\].*first is -1 at index 0"
    if case == "one-hot row not one-hot":
        y = one_hot(labels)
        y[3] = 0.5
        return (images, y), "exactly one 1 per row.*row 3"
    if case == "one-hot of the wrong size":
        return (images, np.eye(5, dtype="float32")[labels % 5]), r"shape \(32, 5\).*\(N, 8\)"
    if case == "labels of rank 3":
        return (images, labels[:, None, None]), r"shape \(32, 1, 1\).*\(N,\)"
    if case == "float class indices":
        return (images, labels.astype("float32")), "dtype float32.*astype"
    if case == "count mismatch":
        return (images, labels[:30]), "32 images but 30 labels"
    if case == "missing labels":
        return (images, None), r"fit\(images, labels\)"
    if case == "wrong image shape":
        return (np.zeros((32, 3), "float32"), labels), r"\(3,\).*\(2,\)"
    if case == "tf.data label out of range":
        labels = labels.copy()
        labels[2] = 9
        return (tf_dataset(images, labels), None), "Invalid class labels.*\\[0, 7\\]"
    if case == "tf.data one-hot of the wrong size":
        return (tf_dataset(images, np.eye(5, dtype="float32")[labels % 5]), None), r"\(None, 5\).*\(N, 8\)"
    if case == "tf.data without labels":
        import tensorflow as tf

        return (tf.data.Dataset.from_tensor_slices(images).batch(16), None), r"\(images, labels\) batches"
    if case == "tf.data wrong image shape":
        return (tf_dataset(np.zeros((32, 3), "float32"), labels), None), r"\(3,\).*\(2,\)"
    raise AssertionError(case)


BAD_FIT_CASES = [
    "label out of range", "negative label", "one-hot row not one-hot", "one-hot of the wrong size",
    "labels of rank 3", "float class indices", "count mismatch", "missing labels",
    "wrong image shape", "tf.data label out of range", "tf.data one-hot of the wrong size",
    "tf.data without labels", "tf.data wrong image shape",
]


@pytest.mark.parametrize("case", BAD_FIT_CASES)
def test_bad_training_data_is_rejected_before_any_update(case):
    model = compiled(toy_cgan())
    before = weights_of(model)
    (x, y), message = _bad_fit_inputs(case)
    with pytest.raises(ValueError, match=message):
        model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(before, weights_of(model)):
        np.testing.assert_array_equal(a, b)
    if case == "tf.data label out of range":  # failed mid-fit: still usable afterwards
        model.fit(*ring(16), batch_size=16, epochs=1, verbose=0)


def test_a_generator_source_without_labels_is_rejected_at_the_first_step():
    model = compiled(toy_cgan())
    before = weights_of(model)

    def batches():
        while True:
            yield (np.zeros((8, 2), "float32"),)

    with pytest.raises(ValueError, match=r"fit\(images, labels\)"):
        model.fit(batches(), steps_per_epoch=2, epochs=1, verbose=0)
    for a, b in zip(before, weights_of(model)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "labels, message",
    [
        (np.array([0, 8]), r"\[0, 7\].*first is 8 at index 1"),
        (3, r"shape \(\)"),
        (np.zeros((2, 3), "float32"), r"shape \(2, 3\).*\(N, 8\)"),
        (np.full((2, 8), 0.125, "float32"), "exactly one 1 per row"),
    ],
)
def test_generate_rejects_bad_labels(labels, message):
    with pytest.raises(ValueError, match=message):
        toy_cgan().generate(labels)


def test_invalid_networks_and_arguments():
    g = networks.conditional_mlp_generator(num_classes=8)
    d = networks.conditional_mlp_discriminator(num_classes=8)
    with pytest.raises(ValueError, match="num_classes=10 but the networks take one-hot labels of size 8"):
        keras_gan.ConditionalGAN(g, d, num_classes=10)
    with pytest.raises(ValueError, match=r"generator with two inputs \[z, y\]"):
        keras_gan.ConditionalGAN(networks.mlp_generator(), d)
    with pytest.raises(ValueError, match=r"discriminator with two inputs \[x, y\]"):
        keras_gan.ConditionalGAN(g, networks.mlp_discriminator())
    with pytest.raises(ValueError, match="size 8 but the discriminator takes 5"):
        keras_gan.ConditionalGAN(g, networks.conditional_mlp_discriminator(num_classes=5))
    with pytest.raises(ValueError, match="generator outputs shape"):
        keras_gan.ConditionalGAN(g, networks.conditional_mlp_discriminator(data_dim=3))
    with pytest.raises(ValueError, match="latent_dim=4"):
        keras_gan.ConditionalGAN(g, d, latent_dim=4)
    with pytest.raises(ValueError, match="Unknown latent_prior"):
        keras_gan.ConditionalGAN(g, d, latent_prior="cauchy")
    with pytest.raises(ValueError, match="generator_dropout"):
        networks.conditional_mnist_generator(generator_dropout=1.0)


# ------------------------------------------------------- the paper's networks
def test_paper_networks_have_the_layer_sizes_of_section_4_1():
    g = networks.conditional_mnist_generator()
    d = networks.conditional_mnist_discriminator()
    # Generator: z(100) -> 200 and y(10) -> 1000, joined (1200) -> 1200 -> 784.
    g_params = (100 * 200 + 200) + (10 * 1000 + 1000) + (1200 * 1200 + 1200) + (1200 * 784 + 784)
    # Discriminator: x(784) -> maxout 240x5 and y(10) -> maxout 50x5, joined (290) -> maxout 240x4 -> 1.
    d_params = (784 * 1200 + 1200) + (10 * 250 + 250) + (290 * 960 + 960) + (240 + 1)
    assert g.count_params() == g_params == 2_413_984
    assert d.count_params() == d_params == 1_224_351
    assert [tuple(t.shape) for t in g.inputs] == [(None, 100), (None, 10)]
    assert g.output_shape == (None, 28, 28, 1)
    assert [tuple(t.shape) for t in d.inputs] == [(None, 28, 28, 1), (None, 10)]
    assert d.output_shape == (None, 1)
    units = {layer.name: (layer.units, layer.pieces) for layer in d.layers if isinstance(layer, keras_gan.Maxout)}
    assert units == {"x_h0": (240, 5), "y_h0": (50, 5), "joint_h1": (240, 4)}
    assert g.get_layer("x").activation is keras.activations.sigmoid
    for net in (g, d):
        rates = [layer.rate for layer in net.layers if isinstance(layer, keras.layers.Dropout)]
        assert rates == [0.5, 0.5, 0.5]
    model = keras_gan.ConditionalGAN(g, d)
    assert (model.num_classes, model.latent_dim, model.latent_prior) == (10, 100, "unit_hypercube")
    samples = model.generate(np.arange(10), seed=0)
    assert samples.shape == (10, 28, 28, 1) and 0 <= samples.min() and samples.max() <= 1


def test_discriminator_input_dropout_drops_pixels_only_in_training():
    d = networks.conditional_mnist_discriminator(input_dropout=0.2)
    assert d.get_layer("x_dropout").rate == 0.2
    assert "x_dropout" not in [layer.name for layer in networks.conditional_mnist_discriminator().layers]
    x = np.full((2, 28, 28, 1), 0.5, "float32")
    y = np.eye(10, dtype="float32")[[0, 1]]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(d([x, y], training=False)),
                               keras.ops.convert_to_numpy(d([x, y], training=False)))
    dropped = keras.ops.convert_to_numpy(d.get_layer("x_dropout")(np.ones((1, 784), "float32"), training=True))
    assert 0.6 < np.mean(dropped == 0) / 0.2 < 1.4  # about 20% of the pixels zeroed
    with pytest.raises(ValueError, match="input_dropout"):
        networks.conditional_mnist_discriminator(input_dropout=1.0)


def test_simultaneous_update_rule_conditions_both_objectives():
    """The joint step feeds the batch's labels to G and D; its config round-trips."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2)).astype("float32")
    y = rng.integers(0, NUM_CLASSES, 64)
    model = compiled(toy_cgan(update_rule="simultaneous"))
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    assert int(to_numpy(model.d_optimizer.iterations)) == 8 == int(to_numpy(model.g_optimizer.iterations))
    clone = keras_gan.ConditionalGAN.from_config(model.get_config())
    assert clone.update_rule == "simultaneous" and clone.num_classes == NUM_CLASSES
