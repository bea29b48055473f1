"""Export for serving (keras_gan.export): Keras' own `model.export`, checked against the Keras model.

Each backend's exports run in its own pass, except JAX's: the first jax2onnx export
costs ~30 s (its converter plugins load), and the JAX pass is CI's longest, so the
JAX exports run in a subprocess from the torch pass, CI's shortest.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_gan import export, networks
from tests.conftest import REPO, one_pass

BACKEND = keras.backend.backend()


def small_unet():
    return networks.unet_generator(image_size=32, ngf=8, seed=3)


def onnx_outputs(path, inputs):
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, {spec.name: x for spec, x in zip(session.get_inputs(), inputs)})[0]


def keras_outputs(generator, inputs):
    return np.asarray(keras.ops.convert_to_numpy(generator(inputs if len(inputs) > 1 else inputs[0],
                                                           training=False)))


def batch_of(n, shape=(32, 32, 3), seed=11):
    return [np.random.default_rng(seed).uniform(-1, 1, (n,) + shape).astype("float32")]


@pytest.mark.skipif(BACKEND == "jax", reason="JAX's exports run in a subprocess from the torch pass "
                                             "(test_jax_exports_match_keras)")
def test_onnx_export_equals_the_keras_generator(tmp_path):
    generator = small_unet()
    path = str(tmp_path / "unet.onnx")
    result = export.export_generator(generator, path, format="onnx")
    assert result.max_abs_difference is not None and result.max_abs_difference <= 1e-4
    # Checked here too, on another batch and size: the batch dimension stays free.
    inputs = batch_of(3)
    found = onnx_outputs(path, inputs)
    expected = keras_outputs(generator, inputs)
    assert found.shape == expected.shape == (3, 32, 32, 3)
    assert np.abs(found - expected).max() <= 1e-4
    assert expected.std() > 1e-3  # a real image, not a constant that would trivially match


@one_pass("tensorflow", why="SavedModel from TensorFlow; JAX's in test_jax_exports_match_keras, torch's is refused")
def test_saved_model_export_equals_the_keras_generator(tmp_path):
    import tensorflow as tf

    generator = small_unet()
    path = str(tmp_path / "unet_savedmodel")
    export.export_generator(generator, path, format="tf_saved_model")
    inputs = batch_of(3)
    loaded = tf.saved_model.load(path)  # held: the restored function needs its object alive
    found = loaded.serve(tf.constant(inputs[0])).numpy()
    assert np.abs(found - keras_outputs(generator, inputs)).max() <= 1e-4


@one_pass("torch", why="the export of a saved_model from torch is refused (no torch_xla build)")
def test_saved_model_from_torch_is_refused_with_the_way_out(tmp_path):
    path = tmp_path / "out"
    with pytest.raises(export.ExportError, match="torch_xla.*format='onnx'.*KERAS_BACKEND="):
        export.export_generator(small_unet(), str(path), format="tf_saved_model")
    assert not path.exists()
    assert export.supported("torch") == ("onnx",)
    assert export.supported("jax") == export.supported("tensorflow") == ("onnx", "tf_saved_model")


@one_pass("torch", why="command line on a zoo CGAN (two inputs), fastest ONNX route")
def test_command_exports_a_zoo_cgan_with_its_two_inputs(tmp_path, capsys):
    import keras_gan

    path = str(tmp_path / "cgan.onnx")
    assert export.main(["cgan-mnist", path]) == 0
    assert "inputs: z, y" in capsys.readouterr().out
    generator = keras_gan.zoo.load("cgan-mnist").generator
    rng = np.random.default_rng(0)
    inputs = [rng.uniform(-1.7, 1.7, (4, 100)).astype("float32"), np.eye(10, dtype="float32")[[0, 3, 7, 9]]]
    found = onnx_outputs(path, inputs)
    assert found.shape == (4, 28, 28, 1)
    assert np.abs(found - keras_outputs(generator, inputs)).max() <= 1e-4
    # The label matters: the same z under two labels gives two different images.
    assert np.abs(found[0] - onnx_outputs(path, [inputs[0], inputs[1][[1, 1, 1, 1]]])[0]).max() > 0.1


@one_pass("torch", why="argument checks, before any export")
def test_bad_requests_are_refused_with_one_line_and_nothing_written(tmp_path, capsys):
    existing = tmp_path / "there.onnx"
    existing.write_bytes(b"old")
    assert export.main(["gan-mnist", str(existing)]) == 2
    assert "exists; pass overwrite=True (--overwrite)" in capsys.readouterr().err
    assert existing.read_bytes() == b"old"
    assert export.main(["no-such-model", str(tmp_path / "x.onnx")]) == 2
    assert "neither a file nor a zoo model" in capsys.readouterr().err
    with pytest.raises(export.ExportError, match=r"one file named \*.onnx"):
        export.export_generator(small_unet(), str(tmp_path / "folder"), format="onnx")
    with pytest.raises(export.ExportError, match="Unknown export format 'tflite'"):
        export.export_generator(small_unet(), str(tmp_path / "x"), format="tflite")
    with pytest.raises(SystemExit):
        export.main(["gan-mnist", str(tmp_path / "x"), "--format", "tflite"])
    assert sorted(os.listdir(tmp_path)) == ["there.onnx"]


@one_pass("torch", why="the check of the artifact, backend-independent")
def test_an_export_that_differs_is_deleted(tmp_path, monkeypatch):
    monkeypatch.setattr(export, "run_exported", lambda path, fmt, inputs: np.zeros((2, 32, 32, 3), "float32"))
    path = tmp_path / "unet.onnx"
    with pytest.raises(export.ExportError, match="differs from the Keras generator"):
        export.export_generator(small_unet(), str(path))
    assert not path.exists()


_JAX_SCRIPT = """
import json, sys
import numpy as np, keras, onnxruntime, tensorflow as tf
from keras_gan import export, networks
g = networks.unet_generator(image_size=32, ngf=8, seed=3)
x = np.random.default_rng(11).uniform(-1, 1, (3, 32, 32, 3)).astype("float32")
expected = np.asarray(keras.ops.convert_to_numpy(g(x, training=False)))
out = {}
export.export_generator(g, sys.argv[1] + "/g.onnx", format="onnx")
s = onnxruntime.InferenceSession(sys.argv[1] + "/g.onnx")
out["onnx"] = float(np.abs(s.run(None, {s.get_inputs()[0].name: x})[0] - expected).max())
export.export_generator(g, sys.argv[1] + "/sm", format="tf_saved_model")
loaded = tf.saved_model.load(sys.argv[1] + "/sm")
out["tf_saved_model"] = float(np.abs(loaded.serve(x).numpy() - expected).max())
out["std"] = float(expected.std())
print("RESULT " + json.dumps(out))
"""


@one_pass("torch", why="runs the JAX backend in a subprocess: the JAX pass is CI's longest")
def test_jax_exports_match_keras(tmp_path):
    env = dict(os.environ, KERAS_BACKEND="jax")
    proc = subprocess.run([sys.executable, "-c", _JAX_SCRIPT, str(tmp_path)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [row for row in proc.stdout.splitlines() if row.startswith("RESULT ")][-1]
    result = json.loads(line[len("RESULT "):])
    assert result["onnx"] <= 1e-4 and result["tf_saved_model"] <= 1e-4, result
    assert result["std"] > 1e-3
