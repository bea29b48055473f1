"""Export a trained generator for serving, with Keras' own `model.export`.

    python -m keras_gan.export pix2pix-facades facades.onnx                 # ONNX, for onnxruntime
    python -m keras_gan.export gan-mnist gan_mnist_savedmodel --format tf_saved_model
    python -m keras_gan.export runs/my_pix2pix/export/pix2pix-folder.weights.h5 mine.onnx

    import keras_gan
    result = keras_gan.export_generator("cgan-mnist", "cgan.onnx")   # or a model object
    print(result.max_abs_difference)

What is exported is the *generator* (a GAN's z -> image, a CGAN's [z, one-hot y] ->
image, pix2pix's input image -> output image), called as Keras' inference mode
(`training=False`): no dropout, batch norm with its moving averages. For pix2pix
that is `translate(mode="eval")`, not the paper's test mode (dropout on, each
batch's own statistics): `model.export` traces `call(training=False)`, and a
serving graph has no dropout stream to seed. The batch dimension stays free.

Why Keras' `export` and no converter of our own: it is the supported path, it
knows each backend's route (TensorFlow: tf.function / tf2onnx; JAX: jax2tf /
jax2onnx; PyTorch: torch.onnx), and it keeps up with Keras. What Keras 3.15
cannot do, this module says before trying (`supported`): a SavedModel from the
PyTorch backend needs torch_xla, which has no build for the torch this project
uses; export it from the TensorFlow or JAX backend instead (the weights file is
the same on every backend).

Each export is checked: the artifact is loaded back (onnxruntime, or
TensorFlow for a SavedModel) and run on a seeded test batch, and its outputs must
equal the Keras generator's to `tolerance` (1e-4); the largest difference is
returned. A path that exists is refused unless `overwrite=True`.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import os
import shutil
import sys

import keras
import numpy as np

FORMATS = ("onnx", "tf_saved_model")
#: Largest |exported - Keras| accepted on the check batch.
TOLERANCE = 1e-4
#: Python modules each (backend, format) route of Keras 3.15 imports, and the pip package of each.
_NEEDS = {
    ("tensorflow", "onnx"): {"tf2onnx": "tf2onnx", "onnx": "onnx", "onnxruntime": "onnxruntime"},
    ("jax", "onnx"): {"jax2onnx": "jax2onnx", "onnx": "onnx", "onnxruntime": "onnxruntime"},
    ("torch", "onnx"): {"onnx": "onnx", "onnxruntime": "onnxruntime"},
    ("tensorflow", "tf_saved_model"): {"tensorflow": "tensorflow-cpu"},
    ("jax", "tf_saved_model"): {"tensorflow": "tensorflow-cpu"},
}


class ExportError(ValueError):
    """An export that cannot be made or does not match the Keras model (the message says what to do)."""


@dataclasses.dataclass(frozen=True)
class ExportResult:
    path: str
    format: str
    backend: str
    #: largest |exported output - Keras output| on the check batch (None: not checked)
    max_abs_difference: float | None
    input_names: tuple[str, ...]


def supported(backend: str | None = None) -> tuple[str, ...]:
    """The formats `export_generator` can write from `backend` (default: the current one)."""
    backend = backend or keras.backend.backend()
    return tuple(f for f in FORMATS if (backend, f) in _NEEDS)


def check_supported(format: str, backend: str | None = None) -> None:  # noqa: A002 - Keras' own name
    """Raise `ExportError` (what to do instead) for a format this backend cannot export,
    or whose converter is not installed."""
    backend = backend or keras.backend.backend()
    if format not in FORMATS:
        raise ExportError(f"Unknown export format {format!r}; expected one of {FORMATS} "
                          "(onnx for onnxruntime, tf_saved_model for TensorFlow Serving).")
    if (backend, format) not in _NEEDS:
        others = [b for b in ("tensorflow", "jax", "torch") if (b, format) in _NEEDS]
        raise ExportError(
            f"Keras {keras.__version__} cannot export format={format!r} from the {backend} backend "
            f"(it needs torch_xla, which has no build for this torch). Use format='onnx' "
            f"({', '.join(supported(backend)) or 'none'} work on {backend}), or export from the "
            f"{' or '.join(others)} backend: KERAS_BACKEND={others[-1]} python -m keras_gan.export ... "
            "(the weights are the same on every backend).")
    missing = [pip for module, pip in _NEEDS[(backend, format)].items() if importlib.util.find_spec(module) is None]
    if missing:
        raise ExportError(f"Exporting format={format!r} from the {backend} backend needs {', '.join(missing)}, "
                          "which is not installed: pip install 'keras-gan[export]'.")


def generator_of(model) -> keras.Model:
    """The network to export: a GAN / CGAN / Pix2Pix model's generator, or a plain Keras model."""
    generator = getattr(model, "generator", model)
    if not isinstance(generator, keras.Model):
        raise ExportError(f"Cannot export a {type(model).__name__}: give a keras_gan model (GAN, ConditionalGAN, "
                          "Pix2Pix), its generator, a zoo name or a .weights.h5 export.")
    return generator


def check_batch(generator: keras.Model, batch_size: int = 2, seed: int = 0) -> list[np.ndarray]:
    """A seeded test batch for the generator's inputs: latents ~ N(0, 1), one-hot labels, images in [-1, 1]."""
    rng = np.random.default_rng(seed)
    batch = []
    conditional = len(generator.inputs) == 2  # a CGAN's G takes [z, one-hot y]
    for index, spec in enumerate(generator.inputs):
        shape = (batch_size,) + tuple(int(d) for d in spec.shape[1:])
        if conditional and index == 1:
            batch.append(np.eye(shape[1], dtype="float32")[rng.integers(0, shape[1], batch_size)])
        elif len(shape) == 4:
            batch.append(rng.uniform(-1.0, 1.0, shape).astype("float32"))
        else:
            batch.append(rng.standard_normal(shape).astype("float32"))
    return batch


def export_generator(model, path: str, format: str = "onnx", overwrite: bool = False,  # noqa: A002
                     verify: bool = True, tolerance: float = TOLERANCE,
                     allow_unverified: bool = False) -> ExportResult:
    """Export a generator for serving with `keras.Model.export` (see the module docstring).

    Args:
        model: a zoo name, a `.weights.h5` export (`python -m zoo.train`), a keras_gan model, or
            a generator (`keras.Model`).
        path: the `.onnx` file or the SavedModel folder to write.
        format: `"onnx"` or `"tf_saved_model"`.
        overwrite: replace an existing `path`.
        verify: load the artifact back and compare it with the Keras generator on a test batch.
        tolerance: largest accepted |exported - Keras| (1e-4).

    Raises:
        ExportError: unsupported backend/format, a missing converter, an existing path, a model
            that is not float32, or an artifact whose outputs differ (it is then deleted).
    """
    backend = keras.backend.backend()
    check_supported(format, backend)
    path = os.fspath(path)
    if os.path.lexists(path) and not overwrite:
        raise ExportError(f"{path} exists; pass overwrite=True (--overwrite) to replace it, or another path.")
    if format == "onnx" and not path.endswith(".onnx"):
        raise ExportError(f"An ONNX export is one file named *.onnx; got {path!r}.")
    if isinstance(model, (str, os.PathLike)):
        from keras_gan.folder_models import load_model

        model, _ = load_model(os.fspath(model), allow_unverified=allow_unverified)
    generator = generator_of(model)
    policy = generator.dtype_policy.name
    if policy != "float32":
        raise ExportError(f"The generator computes in {policy}; Keras exports float32 models only. "
                          "Rebuild it under keras.config.set_dtype_policy('float32') and load the weights.")
    batch = check_batch(generator)
    expected = _to_numpy(generator(batch if len(batch) > 1 else batch[0], training=False))  # also marks it called
    if os.path.lexists(path):
        _remove(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    generator.export(path, format=format, verbose=False)
    names = tuple(_input_name(spec) for spec in generator.inputs)
    if not verify:
        return ExportResult(path, format, backend, None, names)
    found = run_exported(path, format, batch)
    difference = float(np.max(np.abs(found - expected))) if expected.size else 0.0
    if not difference <= tolerance:
        _remove(path)
        raise ExportError(f"The {format} export from {backend} differs from the Keras generator by {difference:.3g} "
                          f"(> {tolerance:g}) on a test batch; it was deleted. Report this with your Keras version "
                          f"({keras.__version__}).")
    return ExportResult(path, format, backend, difference, names)


def run_exported(path: str, format: str, inputs: list[np.ndarray]) -> np.ndarray:  # noqa: A002
    """Run an exported generator on `inputs` (in the generator's input order), as a server would."""
    if format == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        feed = {spec.name: x for spec, x in zip(session.get_inputs(), inputs)}
        return np.asarray(session.run(None, feed)[0])
    import tensorflow as tf

    loaded = tf.saved_model.load(path)
    args = [tf.constant(x) for x in inputs]
    return np.asarray(loaded.serve(args if len(args) > 1 else args[0]))


def _input_name(spec) -> str:
    name = getattr(spec, "name", None) or ""
    return name.split(":")[0]


def _to_numpy(x) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x))


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.remove(path)


# ------------------------------------------------------------------ command line
def main(argv=None) -> int:
    """`python -m keras_gan.export MODEL PATH [--format onnx|tf_saved_model]`; exit 0, or 2 with one line."""
    p = argparse.ArgumentParser(prog="python -m keras_gan.export", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="zoo name (pix2pix-facades, gan-mnist, ...) or exported .weights.h5 file")
    p.add_argument("path", help="the .onnx file or SavedModel folder to write")
    p.add_argument("--format", choices=FORMATS, default="onnx", help="onnx (default) or tf_saved_model")
    p.add_argument("--overwrite", action="store_true", help="replace an existing PATH")
    p.add_argument("--allow-unverified", action="store_true",
                   help="load a weights file whose sha256 record does not match")
    args = p.parse_args(argv)
    try:
        check_supported(args.format)
        result = export_generator(args.model, args.path, format=args.format, overwrite=args.overwrite,
                                  allow_unverified=args.allow_unverified)
    except (ExportError, ValueError, RuntimeError) as e:  # ModelFileError / zoo weights errors included
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{result.format} export from {result.backend} in {result.path} (inputs: {', '.join(result.input_names)}); "
          f"max |exported - keras| on a test batch of 2: {result.max_abs_difference:.2g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
