"""The user-facing callbacks: sample grids per epoch, Parzen monitoring during fit."""

import os

import keras
import numpy as np
import pytest
from PIL import Image

import keras_gan
from keras_gan import callbacks, networks


def _gan():
    gan = keras_gan.GAN(networks.mnist_generator(latent_dim=8, hidden_units=32),
                        networks.mnist_discriminator(units=16, pieces=3), seed=1)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1))
    return gan


def _images(n, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (n, 28, 28, 1)).astype("float32")


def test_sample_grid_writes_one_png_per_epoch(tmp_path):
    grid = callbacks.SampleGrid(str(tmp_path), num_samples=9, seed=0)
    _gan().fit(_images(32), batch_size=16, epochs=2, verbose=0, callbacks=[grid])
    assert [os.path.basename(p) for p in grid.paths] == ["samples_epoch_001.png", "samples_epoch_002.png"]
    assert Image.open(grid.paths[0]).size == (3 * 29 + 1, 3 * 29 + 1)


def test_parzen_monitor_logs_the_validation_score_it_recomputes(tmp_path):
    from evaluation.parzen import SIGMA_GRID, select_sigma

    validation = _images(50, seed=1)
    monitor = callbacks.ParzenMonitor(validation, num_samples=200, every=2, seed=3)
    gan = _gan()
    history = gan.fit(_images(32), batch_size=16, epochs=4, verbose=0, callbacks=[monitor])
    logged = history.history["parzen_val"]
    assert np.isnan(logged[0]) and logged[1] == logged[2] and np.isfinite(logged[3])
    samples = gan.generate(200, seed=3).reshape(200, -1)
    sigma, means = select_sigma(samples, validation.reshape(50, -1), SIGMA_GRID)
    assert monitor.history[-1][1] == sigma
    assert logged[3] == pytest.approx(means[sigma], rel=1e-6)


def test_parzen_monitor_rejects_empty_validation():
    with pytest.raises(ValueError, match="validation images"):
        callbacks.ParzenMonitor(np.zeros((0, 28, 28, 1)))


def test_parzen_monitor_scores_conditional_models_with_balanced_labels():
    from evaluation.parzen import SIGMA_GRID, select_sigma

    cgan = keras_gan.ConditionalGAN(
        networks.conditional_mnist_generator(latent_dim=8, z_units=16, y_units=16, joint_units=32),
        networks.conditional_mnist_discriminator(x_units=16, y_units=8, joint_units=16), seed=1)
    cgan.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1))
    validation = _images(40, seed=2)
    monitor = callbacks.ParzenMonitor(validation, num_samples=100, seed=4)
    labels = np.arange(32) % 10
    history = cgan.fit(_images(32), labels, batch_size=16, epochs=1, verbose=0, callbacks=[monitor])
    samples = cgan.generate(np.repeat(np.arange(10), 10), seed=4).reshape(100, -1)  # 10 of each digit
    sigma, means = select_sigma(samples, validation.reshape(40, -1), SIGMA_GRID)
    assert history.history["parzen_val"][0] == pytest.approx(means[sigma], rel=1e-6)


def test_keras_tensorboard_callback_writes_the_logged_losses(tmp_path):
    """keras.callbacks.TensorBoard on every backend: event files whose epoch scalars are fit's
    logged values (tensorflow-cpu 2.21 no longer brings tensorboard: the test extra does)."""
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.util import tensor_util

    gan = _gan()
    log_dir = tmp_path / "logs"
    history = gan.fit(_images(32), batch_size=16, epochs=2, verbose=0, validation_data=_images(16, seed=1),
                      callbacks=[keras.callbacks.TensorBoard(str(log_dir))])
    for split, prefix in (("train", ""), ("validation", "val_")):
        files = [f for f in os.listdir(log_dir / split) if f.startswith("events.out.tfevents.")]
        assert files, split
        events = event_accumulator.EventAccumulator(str(log_dir / split), size_guidance={"tensors": 0})
        events.Reload()
        for name in ("d_loss", "g_loss", "d_real", "d_fake"):
            logged = [(e.step, float(tensor_util.make_ndarray(e.tensor_proto)))
                      for e in events.Tensors(f"epoch_{name}")]
            assert [step for step, _ in logged] == [0, 1], (split, name)
            np.testing.assert_allclose([value for _, value in logged], history.history[prefix + name], rtol=1e-6)
