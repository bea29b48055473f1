"""Data-parallel training on several devices matches one device.

JAX: `keras.distribution.DataParallel` (the batch sharded over a 'batch' mesh
axis, weights replicated). TensorFlow: `tf.distribute.MirroredStrategy`.
PyTorch: Keras 3 has no in-process multi-device API for the torch backend;
its data parallelism is torch.distributed, tested with several processes in
`test_multiprocess.py` (as are JAX's and TensorFlow's multi-process engines).
Each case runs in a subprocess with 4 virtual CPU devices.
"""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests.conftest import REPO

BACKEND = keras.backend.backend()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    if BACKEND == "torch":
        pytest.skip("one process, several devices: not on torch (see test_multiprocess.py)")
    target = tmp_path_factory.mktemp("dist") / "out.npz"
    env = dict(os.environ, KERAS_BACKEND=BACKEND, PYTHONPATH=REPO,
               XLA_FLAGS="--xla_force_host_platform_device_count=4")
    proc = subprocess.run([sys.executable, os.path.join(REPO, "tests", "distribution_worker.py"), str(target)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = dict(np.load(target))
    return ({k[len("single_"):]: v for k, v in out.items() if k.startswith("single_")},
            {k[len("multi_"):]: v for k, v in out.items() if k.startswith("multi_")})


def test_the_batch_is_split_over_four_devices(runs):
    _, multi = runs
    if BACKEND == "jax":
        assert multi["data_axes"][0] == "batch"  # examples sharded along the mesh's batch axis
        assert int(multi["weight_devices"]) == 4  # weights replicated on every device
    else:
        assert int(multi["replicas"]) == 4


def test_two_data_parallel_steps_match_one_device(runs):
    single, multi = runs
    assert int(multi["d_iterations"]) == int(single["d_iterations"]) == 2
    for name in ("log_d_loss", "log_g_loss", "log_d_real", "log_d_fake"):
        np.testing.assert_allclose(multi[name], single[name], rtol=1e-4, err_msg=name)
    keys = sorted((k for k in single if k.startswith("w")), key=lambda k: int(k[1:]))
    for k in keys:
        np.testing.assert_allclose(multi[k], single[k], rtol=1e-4, atol=1e-6, err_msg=k)


def test_each_replica_draws_its_own_dropout_masks(runs):
    """Mirrored seed states would give every replica the same masks; replica 0 keeps the one-device
    draw and the others their own (keras_gan.backend.replica_streams). JAX: one global program."""
    if BACKEND != "tensorflow":
        pytest.skip("TensorFlow's replicas; JAX draws the global batch's masks in one program")
    _, multi = runs
    masks = multi["replica_masks"].reshape(4, -1) > 0
    np.testing.assert_array_equal(masks[0], multi["one_device_mask"].reshape(-1) > 0)
    for i in range(4):
        for j in range(i):
            assert (masks[i] != masks[j]).mean() > 0.3, (i, j)  # independent halves differ in ~half
    assert 0.3 < masks.mean() < 0.7
    assert int(multi["streams_folded"]) >= 1 and not bool(multi["latent_stream_folded"])


def test_batch_norm_is_global_when_synchronized_and_per_replica_when_not(runs):
    """`keras_gan.layers.BatchNormalization` on 4 images, one per device (momentum 0.5): synchronized,
    the global batch's statistics (SyncBatchNorm); not, each replica's own (the reference's --norm
    batch: each image alone), and the moving averages follow replica 0's, on both backends (JAX
    splits its global program's batch into the replicas' shards). Against numpy."""
    _, multi = runs
    images = multi["bn_images"]
    eps, n = 1e-3, images[0].size // images.shape[-1]  # Keras' epsilon; values per channel per image
    mean, var = images.mean((0, 1, 2)), images.var((0, 1, 2))
    np.testing.assert_allclose(multi["bn_sync_outputs"], (images - mean) / np.sqrt(var + eps), atol=2e-5)
    np.testing.assert_allclose(multi["bn_sync_moving_mean"], 0.5 * mean, rtol=1e-5, atol=1e-6)
    total = n * len(images)
    np.testing.assert_allclose(multi["bn_sync_moving_variance"], 0.5 + 0.5 * var * total / (total - 1), rtol=1e-5)
    own_mean, own_var = images.mean((1, 2), keepdims=True), images.var((1, 2), keepdims=True)
    np.testing.assert_allclose(multi["bn_local_outputs"], (images - own_mean) / np.sqrt(own_var + eps), atol=2e-5)
    np.testing.assert_allclose(multi["bn_local_moving_mean"], 0.5 * own_mean[0].ravel(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(multi["bn_local_moving_variance"], 0.5 + 0.5 * own_var[0].ravel() * n / (n - 1),
                               rtol=1e-5)
    assert np.abs(multi["bn_local_outputs"] - multi["bn_sync_outputs"]).max() > 0.1  # the two differ
