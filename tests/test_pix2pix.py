"""Pix2Pix: the paper's networks, one training step against the paper's formulas, translate,
saving and resuming, bad input, learning a paired task, and parity across backends."""

import time

import keras
import numpy as np
import pytest

from tests.conftest import cross_backend

import keras_gan
from keras_gan import networks
from keras_gan.models.pix2pix import PAPER_BETA_1, PAPER_LEARNING_RATE, REFERENCE_ADAM_EPSILON, seed_state_variables
from keras_gan.networks.pix2pix import patch_size
from tests.conftest import to_numpy, weights_of
from tests.parity_utils import global_norm, global_rel, parity_results

SIZE = 16  # the small configuration of most tests: 16x16 images, 3 U-Net levels


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread(one_torch_thread):
    """See `tests.conftest.one_torch_thread`."""
    yield


def small_pix2pix(dropout_rate=0.5, **kwargs):
    g = networks.unet_generator(SIZE, levels=3, ngf=4, dropout_rate=dropout_rate)
    d = networks.patchgan_discriminator(SIZE, ndf=4, n_layers=2)
    return keras_gan.Pix2Pix(g, d, **kwargs)


def pairs(n, seed=0, size=SIZE):
    """Random images and their fixed channel remapping (r, g, b) -> (-b, r, g)."""
    x = np.random.default_rng(seed).uniform(-1, 1, (n, size, size, 3)).astype("float32")
    return x, remap(x)


def remap(x):
    return np.stack([-x[..., 2], x[..., 0], x[..., 1]], axis=-1)


def values(variables):
    return [to_numpy(v).copy() for v in variables]


def assign(variables, arrays):
    for v, a in zip(variables, arrays):
        v.assign(a)


def softplus(x):
    return np.logaddexp(0.0, x.astype("float64"))


# ------------------------------------------------------------------ networks
def test_paper_unet_at_256_is_appendix_6_1():
    g = networks.unet_generator()
    assert g.input_shape == (None, 256, 256, 3) and g.output_shape == (None, 256, 256, 3)
    # Appendix 6.1.1, 4x4 kernels: encoder C64-C128-C256-C512x5; decoder (ConvTranspose
    # input widths = the paper's concatenated widths) CD512-CD1024-CD1024-C1024-C1024-C512-C256-C128 -> 3.
    encoder = [(3, 64), (64, 128), (128, 256), (256, 512)] + [(512, 512)] * 4
    decoder = [(512, 512), (1024, 512), (1024, 512), (1024, 512), (1024, 256), (512, 128), (256, 64), (128, 3)]
    kernels = sum(16 * a * b for a, b in encoder + decoder)
    normalised = [128, 256, 512, 512, 512, 512] + [512, 512, 512, 512, 256, 128, 64]
    biases = 64 + 512 + 3  # the convolutions with no BatchNorm after them
    expected = kernels + 2 * sum(normalised) + biases
    trainable = sum(int(np.prod(v.shape)) for v in g.trainable_variables)
    assert trainable == expected
    assert round(trainable / 1e6, 1) == 54.4

    names = {layer.name: layer for layer in g.layers}
    dropouts = [l for l in g.layers if isinstance(l, keras.layers.Dropout)]
    assert [l.name for l in dropouts] == ["dec1_dropout", "dec2_dropout", "dec3_dropout"]
    assert all(l.rate == 0.5 for l in dropouts)
    norms = {l.name for l in g.layers if isinstance(l, keras.layers.BatchNormalization)}
    assert norms == {f"enc{i}_norm" for i in range(2, 8)} | {f"dec{j}_norm" for j in range(1, 8)}
    assert all(names[f"enc{i}_lrelu"].negative_slope == pytest.approx(0.2) for i in range(2, 9))
    assert not any(isinstance(l, keras.layers.LeakyReLU) for l in g.layers if l.name.startswith("dec"))
    assert names["tanh"].activation.__name__ == "tanh"
    # N(0, 0.02) kernels; batch-norm scales N(1, 0.02) (reference code).
    kernel = to_numpy(names["dec2_conv"].kernel)
    assert abs(kernel.std() - 0.02) < 0.0005 and abs(kernel.mean()) < 0.0005
    gamma = np.concatenate([to_numpy(names[n].gamma) for n in sorted(norms)])
    assert abs(gamma.mean() - 1.0) < 0.005 and 0.015 < gamma.std() < 0.025


def test_paper_patchgan_at_256_gives_30x30_logits_for_70x70_patches():
    d = networks.patchgan_discriminator()
    assert d.input_shape == [(None, 256, 256, 3), (None, 256, 256, 3)]
    assert d.output_shape == (None, 30, 30, 1)
    assert patch_size(3) == 70
    kernels = 16 * (6 * 64 + 64 * 128 + 128 * 256 + 256 * 512 + 512 * 1)
    expected = kernels + 2 * (128 + 256 + 512) + 64 + 1
    assert sum(int(np.prod(v.shape)) for v in d.trainable_variables) == expected


def test_patchgan_output_sees_exactly_a_70x70_patch():
    """Output (5, 5) depends on input rows/columns [17, 87): 8 * 5 - 23 = 17, 17 + 70 = 87."""
    d = networks.patchgan_discriminator(128, in_channels=1, target_channels=1, ndf=2)
    rng = np.random.default_rng(0)
    for v in d.trainable_variables:  # larger kernels, so that the outputs are far above round-off
        if v.path.endswith("kernel"):
            v.assign(rng.normal(0.0, 0.5, v.shape).astype("float32"))
    x = rng.normal(size=(1, 128, 128, 1)).astype("float32")
    y = rng.normal(size=(1, 128, 128, 1)).astype("float32")
    score = lambda a, b: float(to_numpy(d([a, b], training=False))[0, 5, 5, 0])  # per-channel affine BN
    reference = score(x, y)
    outside = np.ones((1, 128, 128, 1), bool)
    outside[:, 17:87, 17:87] = False
    x2, y2 = x.copy(), y.copy()
    x2[outside], y2[outside] = 5.0, -5.0
    assert score(x2, y2) == pytest.approx(reference, abs=1e-5)
    for rows, cols in ((17, slice(17, 87)), (86, slice(17, 87)), (slice(17, 87), 17), (slice(17, 87), 86)):
        x3 = x.copy()
        x3[0, rows, cols] += 5.0
        assert abs(score(x3, y) - reference) > 1e-4, (rows, cols)


def test_small_configurations_build_and_impossible_ones_are_rejected():
    g = networks.unet_generator(32, levels=3, ngf=8)
    d = networks.patchgan_discriminator(32, ndf=8, n_layers=2)
    assert g.output_shape == (None, 32, 32, 3) and d.output_shape == (None, 6, 6, 1)
    deep = networks.unet_generator(32, in_channels=1, out_channels=2, ngf=2)  # down to 1x1
    assert deep.get_layer("enc5_conv").output.shape[1:3] == (1, 1)
    assert deep.output_shape == (None, 32, 32, 2)
    with pytest.raises(ValueError, match="not divisible by 2\\*\\*levels=64"):
        networks.unet_generator(32, levels=6)
    with pytest.raises(ValueError, match="not divisible"):
        networks.unet_generator(30, levels=3)
    with pytest.raises(ValueError, match="fewer n_layers"):
        networks.patchgan_discriminator(32, n_layers=5)
    with pytest.raises(ValueError, match="ngf must be a positive integer"):
        networks.unet_generator(32, levels=3, ngf=0)


# ------------------------------------------------------- one training step
@pytest.fixture(scope="module")
def stepped():
    """A small Pix2Pix (dropout on) before and after one step of fit at batch size 1."""
    keras.utils.set_random_seed(11)
    model = small_pix2pix()
    model.compile()  # the paper's Adam
    x, y = pairs(1, seed=3)
    g, d = model.generator, model.discriminator
    before = {"g": values(g.variables), "d": values(d.variables)}
    history = model.fit(x, y, batch_size=1, epochs=1, verbose=0)
    after = {
        "g_non_trainable": values(g.non_trainable_variables),
        "d_trainable": values(d.trainable_variables),
        "model": weights_of(model),
        # read here: tests that train the shared model further move the live counters
        "iterations": {"d": int(to_numpy(model.d_optimizer.iterations)),
                       "g": int(to_numpy(model.g_optimizer.iterations))},
    }
    logs = {k: v[-1] for k, v in history.history.items()}
    return model, (x, y), before, after, logs


def test_one_step_is_the_papers_losses_on_one_generator_pass(stepped):
    """Logged losses = section 3.2's formulas: D's loss halved, then G = cGAN + 100 L1 through
    the *updated* D, both on one forward pass of G (same dropout masks)."""
    model, (x, y), before, after, logs = stepped
    g, d = model.generator, model.discriminator
    saved_model = weights_of(model)
    assign(g.variables, before["g"])
    assign(d.variables, before["d"])
    fake = to_numpy(g(x, training=True))  # draws the masks the step drew: same seed state
    real_logits = to_numpy(d([x, y], training=True))
    fake_logits = to_numpy(d([x, fake], training=True))
    halved_bce = 0.5 * (softplus(-real_logits).mean() + softplus(fake_logits).mean())
    assert logs["d_loss"] == pytest.approx(halved_bce, rel=1e-5)
    assert logs["d_real"] == pytest.approx((1 / (1 + np.exp(-real_logits))).mean(), rel=1e-5)
    assert logs["d_fake"] == pytest.approx((1 / (1 + np.exp(-fake_logits))).mean(), rel=1e-5)
    # The generator update: its pass of G is the same, D is the updated one.
    assign(d.trainable_variables, after["d_trainable"])
    updated_fake_logits = to_numpy(d([x, fake], training=True))
    l1 = np.abs(y - fake).mean()
    gan = softplus(-updated_fake_logits).mean()
    assert logs["g_l1"] == pytest.approx(l1, rel=1e-5)
    assert logs["g_gan"] == pytest.approx(gan, rel=1e-5)
    assert logs["g_loss"] == pytest.approx(gan + 100.0 * l1, rel=1e-5)
    # One step moves G's random and batch-norm state exactly as one forward pass does.
    for a, b in zip(values(g.non_trainable_variables), after["g_non_trainable"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for v, w in zip(model.weights, saved_model):
        v.assign(w)


def test_compile_defaults_to_the_papers_adam_and_steps_alternate(stepped):
    model, _, _, after, logs = stepped
    assert set(logs) == {"d_loss", "g_loss", "g_gan", "g_l1", "d_real", "d_fake"}
    for opt in (model.d_optimizer, model.g_optimizer):
        assert isinstance(opt, keras.optimizers.Adam)
        config = opt.get_config()
        assert config["learning_rate"] == pytest.approx(PAPER_LEARNING_RATE)
        assert config["beta_1"] == PAPER_BETA_1 and config["beta_2"] == 0.999
        assert config["epsilon"] == REFERENCE_ADAM_EPSILON
    assert after["iterations"] == {"d": 1, "g": 1}  # one batch: one update of each network


def test_batch_size_one_trains(stepped):
    """Batch size 1, the paper's: batch norm then normalises each image on its own."""
    model, *_ = stepped
    x, y = pairs(8, seed=4)
    before = weights_of(model)
    steps_before = int(to_numpy(model.g_optimizer.iterations))
    history = model.fit(x, y, batch_size=1, epochs=2, verbose=0, shuffle=False)
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    assert int(to_numpy(model.g_optimizer.iterations)) == steps_before + 16
    assert int(to_numpy(model.d_optimizer.iterations)) == steps_before + 16
    changed = [not np.array_equal(a, b) for a, b in zip(before, weights_of(model))]
    assert sum(changed) > len(changed) // 2


def test_each_step_runs_the_generator_once():
    """The reference's forward() / backward_D / backward_G: one G pass per step on every backend
    (counted eagerly, where each Python call is one execution, at G's first layer: PyTorch runs
    the graph without `generator.call`, see keras_gan.backend.torch_graph)."""
    keras.utils.set_random_seed(0)
    model = small_pix2pix()
    model.compile(run_eagerly=True)
    calls = []
    first = model.generator.layers[1]
    original = first.call
    first.call = lambda *args, **kwargs: calls.append(1) or original(*args, **kwargs)
    try:
        model.fit(*pairs(3, seed=2), batch_size=1, epochs=1, verbose=0, shuffle=False)
    finally:
        first.call = original
    assert len(calls) == 3
    assert int(to_numpy(model.d_optimizer.iterations)) == 3 == int(to_numpy(model.g_optimizer.iterations))


def test_l1_only_ablation_trains_g_alone_on_the_l1_loss():
    """gan_weight=0, Table 1's "L1" row: D is never evaluated or updated, G takes Adam steps on
    100 |y - G(x)|, and only G's terms are logged."""
    keras.utils.set_random_seed(0)
    model = small_pix2pix(gan_weight=0.0)
    model.compile()
    x, y = pairs(4, seed=3)
    d_before, g_before = values(model.discriminator.variables), values(model.generator.trainable_variables)
    history = model.fit(x, y, batch_size=2, epochs=1, verbose=0, shuffle=False)
    assert set(history.history) == {"g_loss", "g_l1"}
    assert history.history["g_loss"][-1] == pytest.approx(100.0 * history.history["g_l1"][-1], rel=1e-5)
    for a, b in zip(d_before, values(model.discriminator.variables)):
        np.testing.assert_array_equal(a, b)
    assert int(to_numpy(model.d_optimizer.iterations)) == 0
    assert int(to_numpy(model.g_optimizer.iterations)) == 2
    assert any(not np.array_equal(a, b) for a, b in zip(g_before, values(model.generator.trainable_variables)))
    clone = keras_gan.Pix2Pix.from_config(model.get_config())
    assert clone.gan_weight == 0.0 and clone.l1_weight == 100.0


def test_unconditioned_discriminator_ignores_the_input_and_trains(tmp_path):
    """Table 1's "GAN" rows: D([x, y]) depends on y only, its first convolution sees 3 channels
    (not 6), it round-trips through a .keras file, and Pix2Pix trains it like the conditional one."""
    keras.utils.set_random_seed(0)
    d = networks.patchgan_discriminator(SIZE, ndf=4, n_layers=2, conditional=False)
    assert tuple(d.get_layer("conv1").kernel.shape) == (4, 4, 3, 4)
    x, y = pairs(2, seed=1)
    other_x = np.random.default_rng(9).uniform(-1, 1, x.shape).astype("float32")
    out = to_numpy(d([x, y]))
    np.testing.assert_array_equal(out, to_numpy(d([other_x, y])))
    assert not np.allclose(out, to_numpy(d([x, remap(y)])))
    d.save(tmp_path / "d.keras")
    np.testing.assert_allclose(to_numpy(keras.saving.load_model(tmp_path / "d.keras")([x, y])), out, atol=1e-6)
    g = networks.unet_generator(SIZE, levels=3, ngf=4)
    model = keras_gan.Pix2Pix(g, d)
    model.compile()
    before = values(d.trainable_variables)
    history = model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    assert {"d_loss", "g_gan", "g_l1"} <= set(history.history)
    assert any(not np.array_equal(a, b) for a, b in zip(before, values(d.trainable_variables)))
    with pytest.raises(ValueError, match="conditional must be True or False"):
        networks.patchgan_discriminator(SIZE, ndf=4, n_layers=2, conditional="no")


# ------------------------------------------------------------------ translate
def test_translate_paper_mode_keeps_batch_norm_averages_and_draws_dropout(stepped):
    model, *_ = stepped
    g = model.generator
    x, _ = pairs(3, seed=5)
    averages = [v for v in g.non_trainable_variables if "moving" in v.path]
    assert averages
    kept = values(averages)
    a, b = model.translate(x), model.translate(x)
    assert a.shape == (3, SIZE, SIZE, 3) and a.dtype == np.float32 and np.abs(a).max() <= 1
    assert not np.array_equal(a, b)  # dropout stays on: each call is a new sample
    for old, new in zip(kept, values(averages)):
        np.testing.assert_array_equal(old, new)
    seeded = model.translate(x, seed=1)
    np.testing.assert_array_equal(seeded, model.translate(x, seed=1))
    # batch_size=1 normalises each image on its own: its output ignores the others.
    np.testing.assert_allclose(model.translate(x[:1], seed=1), seeded[:1], atol=1e-6)
    # eval mode: Keras inference (no dropout, moving averages), independent of the batch.
    e1 = model.translate(x, mode="eval", batch_size=1)
    np.testing.assert_allclose(e1, model.translate(x, mode="eval", batch_size=3), atol=1e-5)
    with pytest.raises(ValueError, match="Unknown translate mode"):
        model.translate(x, mode="test")
    with pytest.raises(ValueError, match=r"images\[None\]"):
        model.translate(x[0])
    with pytest.raises(ValueError, match=r"\[-1, 1\].*127.5"):
        model.translate((x + 1) * 127.5)
    with pytest.raises(ValueError, match=r"\(8, 8, 3\).*\(16, 16, 3\)"):
        model.translate(np.zeros((1, 8, 8, 3), "float32"))


# ------------------------------------------------------------------ saving
def test_keras_file_round_trip_keeps_weights_optimizers_and_random_state(stepped, tmp_path):
    model, *_ = stepped
    path = str(tmp_path / "pix2pix.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, keras_gan.Pix2Pix) and loaded.l1_weight == 100.0
    seeds = lambda m: [l.seed for l in m.generator.layers if isinstance(l, keras.layers.Dropout)]
    assert seeds(loaded) == seeds(model) and len(seeds(model)) == 2
    for a, b in zip(weights_of(model), weights_of(loaded)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    # The dropout streams continue where they were (Keras itself does not save them);
    # that training then continues exactly is checked by the BackupAndRestore test.
    for a, b in zip(seed_state_variables(model.generator), seed_state_variables(loaded.generator)):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    x, _ = pairs(2, seed=6)
    np.testing.assert_allclose(model.translate(x, mode="eval"), loaded.translate(x, mode="eval"), atol=1e-6)
    np.testing.assert_allclose(model.translate(x), loaded.translate(x), atol=1e-6)


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            raise KeyboardInterrupt("simulated interruption")


@pytest.mark.slow  # three fresh models, three compilations
def test_backup_and_restore_resumes_exactly(tmp_path):
    """Dropout is on: an exact continuation needs the dropout streams' states restored too."""
    x, y = pairs(4, seed=7)

    def run(callbacks):
        keras.utils.set_random_seed(3)
        model = small_pix2pix()
        model.compile()
        model.fit(x, y, batch_size=2, epochs=4, verbose=0, shuffle=False, callbacks=callbacks)
        return model

    from tests.test_gan import _Recorder

    reference = run([])
    dropout_streams = lambda model: seed_state_variables(model.generator)  # not in model.weights
    interrupted = _Recorder(dropout_streams)
    with pytest.raises(KeyboardInterrupt):
        run([keras.callbacks.BackupAndRestore(str(tmp_path / "backup")), interrupted, _Interrupt()])
    continued = _Recorder(dropout_streams)
    resumed = run([keras.callbacks.BackupAndRestore(str(tmp_path / "backup")), continued])
    # It continued: started from the state after epoch 2 (weights, dropout streams, both optimizers)
    # and ran epochs 3 and 4 only; a restore that restored nothing would train all four epochs from
    # the same seed and end equal to the reference, with 8 steps, too.
    assert interrupted.epochs == [0, 1, 2] and continued.epochs == [2, 3]
    for a, b in zip(interrupted.ended[1], continued.start, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(weights_of(reference), weights_of(resumed)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert int(to_numpy(resumed.g_optimizer.iterations)) == int(to_numpy(resumed.d_optimizer.iterations)) == 8


# ---------------------------------------------------------------- bad input
def _bad_fit_cases():
    x, y = pairs(4)
    return {
        "input shape": ((np.zeros((4, 8, 8, 3), "float32"), y), r"Input images.*\(8, 8, 3\).*\(16, 16, 3\)"),
        "target shape": ((x, np.zeros((4, SIZE, SIZE, 1), "float32")), r"Target images.*\(16, 16, 1\)"),
        "uint8": (((x > 0).astype("uint8"), y), r"dtype uint8.*images / 127.5 - 1"),
        "[0, 255]": ((x, (y + 1) * 127.5), r"Target images have values in.*looks like \[0, 255\].*127.5"),
        "NaN": ((np.where(x > 0.9, np.nan, x).astype("float32"), y), "NaN"),
        "no targets": ((x, None), r"\(input, target\) image pairs"),
        "counts": ((x, y[:3]), "4 input images but 3 target images"),
    }


def test_images_in_0_1_are_flagged_with_the_mapping():
    """[0, 1] images pass the range check (they are inside [-1, 1]) but are almost surely a mistake."""
    model = small_pix2pix()
    x, _ = pairs(2)
    with pytest.warns(UserWarning, match=r"2 \* images - 1"):
        model.translate((x + 1) / 2)
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.translate(x)  # proper [-1, 1] inputs: no such warning
    assert not [w for w in caught if "no value below 0" in str(w.message)]


@pytest.mark.parametrize("case", list(_bad_fit_cases()))
def test_bad_training_data_is_rejected_before_any_update(stepped, case):
    model, *_ = stepped
    (x, y), message = _bad_fit_cases()[case]
    before = weights_of(model)
    with pytest.raises(ValueError, match=message):
        model.fit(x, y, batch_size=2, verbose=0)
    for a, b in zip(before, weights_of(model)):
        np.testing.assert_array_equal(a, b)


def test_bad_tf_data_and_generator_sources_are_rejected(stepped):
    import tensorflow as tf

    model, *_ = stepped
    before = weights_of(model)
    x, y = pairs(4)
    out_of_range = tf.data.Dataset.from_tensor_slices((x * 3, y)).batch(1)
    with pytest.raises(ValueError, match=r"Input images have values in"):
        model.fit(out_of_range, verbose=0)
    wrong = tf.data.Dataset.from_tensor_slices((x[:, :8, :8], y)).batch(1)
    with pytest.raises(ValueError, match=r"\(8, 8, 3\)"):
        model.fit(wrong, verbose=0)

    def batches():
        while True:
            yield x[:1, :, :12], y[:1]

    with pytest.raises(ValueError, match=r"\(16, 12, 3\)"):
        model.fit(batches(), steps_per_epoch=1, epochs=1, verbose=0)
    for a, b in zip(before, weights_of(model)):
        np.testing.assert_array_equal(a, b)


def test_invalid_constructor_arguments():
    g = networks.unet_generator(SIZE, levels=3, ngf=4)
    with pytest.raises(ValueError, match="l1_weight"):
        keras_gan.Pix2Pix(g, networks.patchgan_discriminator(SIZE, ndf=4, n_layers=2), l1_weight=-1.0)
    with pytest.raises(ValueError, match="gan_weight"):
        keras_gan.Pix2Pix(g, networks.patchgan_discriminator(SIZE, ndf=4, n_layers=2), gan_weight=float("nan"))
    with pytest.raises(ValueError, match="both 0"):
        keras_gan.Pix2Pix(g, networks.patchgan_discriminator(SIZE, ndf=4, n_layers=2), l1_weight=0, gan_weight=0)
    image = keras.Input((SIZE, SIZE, 3))
    unconditional = keras.Model(image, keras.layers.Conv2D(1, 4, kernel_initializer="zeros")(image))
    with pytest.raises(ValueError, match="two inputs"):
        keras_gan.Pix2Pix(g, unconditional)
    with pytest.raises(ValueError, match="D's inputs must be"):
        keras_gan.Pix2Pix(g, networks.patchgan_discriminator(SIZE, target_channels=1, ndf=4, n_layers=2))


# ------------------------------------------------------------------ learning
LEARN_SIZE, LEARN_BATCH, LEARN_STEPS = 32, 16, 80
CPU_BUDGET_S = 150  # process CPU time of fit + evaluation; measured 25-60 s (backend-dependent)
TARGET_PSNR_DB = 20.0  # measured 23.7-24.7 dB after 80 steps; an untrained model scores about 10.6


def blocky_images(n, seed):
    """Images of 8x8 blocks of random colour with two random rectangles on top, in [-1, 1]."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(-1, 1, (n, 4, 4, 3))
    images = np.repeat(np.repeat(coarse, LEARN_SIZE // 4, axis=1), LEARN_SIZE // 4, axis=2)
    for image in images:
        for _ in range(2):
            h, w = rng.integers(4, 14, 2)
            top, left = rng.integers(0, LEARN_SIZE - 14, 2)
            image[top : top + h, left : left + w] = rng.uniform(-1, 1, 3)
    return images.astype("float32")


def psnr_db(outputs, targets):
    """Mean PSNR over images, for values in [-1, 1] (peak-to-peak 2)."""
    mse = np.mean((outputs.astype("float64") - targets) ** 2, axis=(1, 2, 3))
    return float(np.mean(10.0 * np.log10(4.0 / mse)))


def learning_pix2pix():
    g = networks.unet_generator(LEARN_SIZE, levels=3, ngf=8)
    d = networks.patchgan_discriminator(LEARN_SIZE, ndf=8, n_layers=2)
    return keras_gan.Pix2Pix(g, d)


def test_small_pix2pix_learns_a_channel_remapping():
    keras.utils.set_random_seed(0)
    x = blocky_images(LEARN_BATCH * LEARN_STEPS, seed=0)
    held_out = blocky_images(64, seed=1)
    model = learning_pix2pix()
    # Adam with 25x the paper's learning rate: the task is easy and the budget small.
    model.compile(keras.optimizers.Adam(5e-3, beta_1=0.5), keras.optimizers.Adam(5e-3, beta_1=0.5))
    start = time.process_time()
    model.fit(x, remap(x), batch_size=LEARN_BATCH, epochs=1, verbose=0)
    score = psnr_db(model.translate(held_out, batch_size=16, seed=0), remap(held_out))
    cpu_seconds = time.process_time() - start
    assert score >= TARGET_PSNR_DB, f"PSNR {score:.2f} dB on held-out pairs"
    assert cpu_seconds < CPU_BUDGET_S, f"took {cpu_seconds:.0f} s of CPU time"


def test_untrained_pix2pix_does_not_score():
    """The measurement discriminates: an untrained generator is far below the target."""
    keras.utils.set_random_seed(0)
    held_out = blocky_images(64, seed=1)
    score = psnr_db(learning_pix2pix().translate(held_out, batch_size=16, seed=0), remap(held_out))
    assert score < TARGET_PSNR_DB - 5


# ------------------------------------------------------------------- parity
@pytest.fixture(scope="module")
def pix2pix_parity(tmp_path_factory):
    return parity_results("pix2pix", tmp_path_factory)


@pytest.mark.slow  # two subprocesses, each importing Keras and compiling the steps
@pytest.mark.parametrize("other", ["tensorflow", "torch"])
@cross_backend
def test_one_step_matches_across_backends(pix2pix_parity, other):
    """Same weights and batch, dropout off, one D-then-G step with SGD.

    Tolerances: the measured differences are round-off of float32 (losses and
    weights about 2e-7 and 2e-8 relative), so losses and weights must agree to
    1e-6 and the weight changes, small differences of float32 numbers, to 1e-5.
    """
    inputs, out = pix2pix_parity
    ref, res = out["jax"], out[other]
    for log in ("d_loss", "g_loss", "g_gan", "g_l1", "d_real", "d_fake"):
        a, b = float(res[f"log_{log}"]), float(ref[f"log_{log}"])
        assert abs(a - b) <= 1e-6 * abs(b), (log, a, b)
    for part in ("g", "d"):
        keys = sorted((k for k in ref if k[0] == part and k[1:].isdigit()), key=lambda k: int(k[1:]))
        assert keys
        assert global_rel([res[k] for k in keys], [ref[k] for k in keys]) <= 1e-6
        delta_ref = [ref[k] - inputs[k] for k in keys]
        delta_res = [res[k] - inputs[k] for k in keys]
        assert global_norm(delta_ref) > 1e-2
        assert global_rel(delta_res, delta_ref) <= 1e-5
