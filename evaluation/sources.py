"""Turn "any generator" into MNIST-shaped samples for the metrics.

A *source* is one of:

- a keras_gan model object (used as is);
- a path to a `.keras` file saved by `model.save(...)`;
- a model-zoo name (`keras_gan.zoo.load(name)`);
- a path to a zoo weights file named `NAME.weights.h5` (what
  `python -m zoo.train NAME` exports), loaded into the zoo's NAME
  architecture (`keras_gan.zoo.load(NAME, weights=path)`);
- a path to a `.npy` file of samples: shape (N, 28, 28), (N, 28, 28, 1) or
  (N, 784); uint8 in 0..255 (scaled by 1/255) or floats in `value_range`.

Every metric takes the same sources, so `evaluation.parzen` and
`evaluation.fidelity` agree on what was evaluated. Problems with a source
(unknown name, missing or corrupt file, wrong shape, dtype or range) raise
`SourceError`, a `ValueError` whose message says what was found and how to
fix it; the command lines turn it into exit status 2.

Keras is imported only when a model has to be loaded or run, so reading a
`.npy` file never starts a deep-learning framework.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

#: the shape of one sample, as the MNIST metrics expect it.
MNIST_SHAPE = (28, 28, 1)
_PIXELS = int(np.prod(MNIST_SHAPE))
#: how far float samples may stray outside `value_range` (float32 rounding of a
#: sigmoid or tanh output) before they count as out of range; they are clipped.
_RANGE_TOLERANCE = 1e-5


class SourceError(ValueError):
    """A source of samples cannot be used: unknown name, missing or corrupt file,
    wrong array shape, dtype or value range."""


# ------------------------------------------------------------------ what is it
def _is_path_like(source: Any) -> bool:
    return isinstance(source, (str, os.PathLike))


def is_samples_file(source: Any) -> bool:
    """True for a path to a `.npy` file of samples (which carries no model)."""
    return _is_path_like(source) and os.fspath(source).lower().endswith(".npy")


def is_image_folder(source: Any) -> bool:
    """True for a folder of image files (e.g. written by `python -m keras_gan.generate`): samples."""
    return _is_path_like(source) and os.path.isdir(os.fspath(source))


def _is_keras_file(source: Any) -> bool:
    return _is_path_like(source) and os.fspath(source).lower().endswith(".keras")


_WEIGHTS_SUFFIX = ".weights.h5"


def _is_weights_file(source: Any) -> bool:
    return _is_path_like(source) and os.fspath(source).lower().endswith(_WEIGHTS_SUFFIX)


def _looks_like_a_path(name: str) -> bool:
    return os.sep in name or "/" in name or os.path.splitext(name)[1] != ""


def is_conditional(model: Any) -> bool:
    """A conditional generator: has `num_classes` and `generate(labels, seed=...)`."""
    return hasattr(model, "num_classes") and callable(getattr(model, "generate", None))


# ------------------------------------------------------------------- loading
def check_file_exists(source: Any) -> None:
    """Raise SourceError now if `source` names a `.npy` or `.keras` file that does
    not exist, so a typo fails before data are read or a framework is imported."""
    if (is_samples_file(source) or _is_keras_file(source) or _is_weights_file(source)) \
            and not os.path.isfile(os.fspath(source)):
        kind = "Samples" if is_samples_file(source) else "Model"
        raise SourceError(
            f"{kind} file not found: {os.fspath(source)}. Check the path (relative to {os.getcwd()})."
        )


def load_model(source: Any):
    """The model behind `source`: an object (returned as is), a `.keras` file or a zoo name.

    Raises:
        SourceError: the file is missing or is not a loadable Keras model, or
            the zoo does not know the name (the message lists the known names).
    """
    if not _is_path_like(source):
        if source is None:
            raise SourceError("No source given: pass a model, a .keras file, a zoo name or a .npy file.")
        return source
    path = os.fspath(source)
    if is_samples_file(path) or is_image_folder(path):
        raise SourceError(
            f"{path} is a {'folder of images' if is_image_folder(path) else '.npy file'} of samples, not a "
            "model; use load_samples() for it."
        )
    if _is_keras_file(path):
        return _load_keras_file(path)
    if _is_weights_file(path):
        return _load_zoo_weights_file(path)
    if os.path.exists(path) or _looks_like_a_path(path):
        raise SourceError(
            f"Cannot use {path!r}: expected a model-zoo name, a .keras file saved by "
            "model.save(...), a NAME.weights.h5 file of a zoo model, or a .npy file of samples."
            + ("" if os.path.exists(path) else " No such file exists either.")
        )
    return _load_zoo_model(path)


def _load_keras_file(path: str):
    check_file_exists(path)
    _check_keras_archive(path)  # before Keras, whose message for these is "File not found"
    import keras

    import keras_gan  # noqa: F401  (registers the keras_gan classes for deserialisation)

    try:
        return keras.models.load_model(path)
    except Exception as e:  # zipfile, h5py, unknown class, bad config: all mean "cannot use it"
        said = " ".join(str(e).split())  # one line
        raise SourceError(
            f"Cannot load the Keras model file {path}: {type(e).__name__}: {said} The file is "
            "corrupt, truncated, or was saved by code whose classes are not importable here; "
            "save the model again with model.save(path)."
        ) from e


def _check_keras_archive(path: str) -> None:
    """A `.keras` file is a zip archive (model.save): say so plainly when it is empty or is not one."""
    import zipfile

    size = os.path.getsize(path)
    if size == 0:
        raise SourceError(f"Cannot load the Keras model file {path}: it is empty (0 bytes), cut short while "
                          "being written or copied; save the model again with model.save(path).")
    if not zipfile.is_zipfile(path):
        raise SourceError(f"Cannot load the Keras model file {path}: its {size} bytes are not a .keras archive (a "
                          "zip file written by model.save); it is corrupt, truncated or another kind of file: save "
                          "the model again with model.save(path).")


def _load_zoo_weights_file(path: str):
    """`DIR/NAME.weights.h5` into the zoo architecture NAME (weights carry no architecture)."""
    check_file_exists(path)
    name = os.path.basename(path)[: -len(_WEIGHTS_SUFFIX)]
    from keras_gan import zoo

    if name not in zoo.names():
        raise SourceError(
            f"{path}: a .weights.h5 file holds no architecture, so its name must be a zoo entry "
            f"(NAME.weights.h5, NAME one of {', '.join(zoo.names())}); got {name!r}. Rename it, "
            "or save the whole model with model.save('model.keras') and pass that."
        )
    try:
        return zoo.load(name, weights=path)
    except zoo.ZooWeightsError as e:
        raise SourceError(str(e)) from e


def _load_zoo_model(name: str):
    try:
        from keras_gan import zoo
    except ImportError as e:
        raise SourceError(
            f"{name!r} is not a file, and the model zoo (keras_gan.zoo) is not available "
            f"to look it up: {e}."
        ) from e
    weights_error = getattr(zoo, "ZooWeightsError", ())  # missing or corrupt pretrained checkpoint
    try:
        return zoo.load(name)
    except ValueError as e:  # unknown name: the zoo's message lists the known ones
        raise SourceError(str(e)) from e
    except weights_error as e:
        raise SourceError(f"Zoo model {name!r}: {e}") from e


# ------------------------------------------------------------------- samples
def load_samples(
    source: Any,
    num_samples: int,
    *,
    seed: int = 0,
    batch_size: int = 1000,
    value_range: tuple[float, float] = (0.0, 1.0),
    progress: bool = True,
) -> np.ndarray:
    """`num_samples` samples of `source` as float32 (N, 28, 28, 1) in [0, 1].

    Args:
        source: a model, `.keras` file, zoo name or `.npy` file (see the module
            docstring). From a `.npy` file the first `num_samples` rows are used.
        num_samples: how many samples.
        seed: seed of the generator's noise; the same seed gives the same
            samples (on one backend).
        batch_size: samples generated per call of the model.
        value_range: the range of the source's float values (e.g. (-1, 1) for a
            tanh generator); it is mapped linearly onto [0, 1]. uint8 arrays are
            always read as 0..255.
        progress: show a tqdm bar when more than one batch is generated.

    A conditional model (`num_classes`, `generate(labels, seed=...)`) gets the
    same number of samples per class (sample i has label floor(i C / N), so
    class counts differ by at most one), as in the evaluation of Mirza &
    Osindero (2014). A plain GAN gets `model.generate(n, seed=...)`.
    """
    num_samples = _positive_int("num_samples", num_samples)
    batch_size = _positive_int("batch_size", batch_size)
    value_range = _checked_range(value_range)
    if is_samples_file(source):
        return _samples_from_npy(os.fspath(source), num_samples, value_range)
    if is_image_folder(source):
        return _samples_from_folder(os.fspath(source), num_samples)
    model = load_model(source)
    shape = _sample_shape(model)
    if shape is not None:  # before generating anything
        check_sample_memory(num_samples, int(np.prod(shape)) * 4, f"{describe(source)} (float32 {shape})")
    raw = _generate(model, num_samples, seed, batch_size, progress)
    return as_unit_images(raw, f"the samples of {describe(model)}", value_range)


#: Copies of the samples alive at once while they are made and converted (the generated batches,
#: their concatenation, the float32 array mapped to [0, 1]): the memory estimate's factor.
SAMPLE_COPIES = 3


def available_memory_bytes() -> int | None:
    """Memory this process can still take without swapping: Linux's MemAvailable, else free
    physical pages (sysconf); None where neither is known (then nothing is refused)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def format_bytes(count: float) -> str:
    """`count` bytes as a short number with a binary unit (e.g. "3.0 GiB")."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if count < 1024 or unit == "PiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024


def check_sample_memory(num_samples: int, bytes_per_sample: int, what: str) -> None:
    """Refuse, before any work, a sample count whose arrays would not fit in the memory available:
    `num_samples` x `bytes_per_sample` x SAMPLE_COPIES, with the largest count that fits."""
    need = num_samples * bytes_per_sample * SAMPLE_COPIES
    available = available_memory_bytes()
    if available is None or need <= available:
        return
    most = available // (bytes_per_sample * SAMPLE_COPIES)
    raise SourceError(
        f"{num_samples} samples of {what} need about {format_bytes(need)} of memory ({bytes_per_sample} bytes "
        f"each, about {SAMPLE_COPIES} copies while they are made and converted), but {format_bytes(available)} "
        f"is available; ask for at most {most} samples (--num-samples) or free memory first.")


def _sample_shape(model: Any) -> tuple | None:
    """The shape of one generated sample (from the model's `data_shape` or generator's output
    shape), or None when the model does not say."""
    shape = getattr(model, "data_shape", None)
    if shape is None:
        try:
            shape = tuple(model.generator.output_shape[1:])
        except (AttributeError, TypeError, ValueError):
            return None
    if not shape or any(not isinstance(d, (int, np.integer)) or d < 1 for d in shape):
        return None
    return tuple(int(d) for d in shape)


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


def _checked_range(value_range) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError) as e:
        raise ValueError(f"value_range must be two numbers (low, high); got {value_range!r}.") from e
    if not low < high:
        raise ValueError(f"value_range must have low < high; got {value_range!r}.")
    return low, high


def _samples_from_npy(path: str, num_samples: int, value_range) -> np.ndarray:
    check_file_exists(path)
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise SourceError(f"Cannot read {path} as a .npy array: {e}. The file is corrupt or not a .npy file.") from e
    if array.ndim == 0 or len(array) < num_samples:
        found = "a scalar" if array.ndim == 0 else f"{len(array)} rows"
        raise SourceError(
            f"{path} holds {found} but {num_samples} samples were asked for; "
            "generate more samples or ask for fewer (e.g. --num-samples)."
        )
    values = int(np.prod(array.shape[1:]))
    check_sample_memory(num_samples, values * max(4, array.dtype.itemsize), f"{path} ({array.dtype} {array.shape[1:]})")
    return as_unit_images(np.asarray(array[:num_samples]), path, value_range, plural=False)


def _samples_from_folder(path: str, num_samples: int) -> np.ndarray:
    """The first `num_samples` images of a folder (and its class sub-folders, one level), in
    natural name order (`evaluation.image_folders`), as MNIST-like samples."""
    from evaluation.image_folders import ImageFolderError, read_images

    try:
        images = read_images(path, limit=num_samples, what="samples")
    except ImageFolderError as e:
        raise SourceError(f"{e} (python -m keras_gan.generate writes such a folder)") from e
    try:
        return as_unit_images(images, f"the images in {path}")
    except SourceError as e:
        raise SourceError(f"{e} (Other images are scored against a folder of real ones: python -m "
                          "evaluation.fidelity FOLDER --reference REAL_FOLDER.)") from e


def as_unit_images(array: np.ndarray, where: str, value_range=(0.0, 1.0), plural: bool = True) -> np.ndarray:
    """Check and convert samples to float32 (N, 28, 28, 1) in [0, 1].

    `where` names the samples in error messages: plural ("the samples of ...")
    or, with `plural=False`, one thing (a file: "samples.npy has shape ...").
    uint8 is scaled by 1/255; floats are mapped from `value_range` to [0, 1]
    and must lie within it.
    """
    have, contain = ("have", "contain") if plural else ("has", "contains")
    array = np.asarray(array)
    flat = array.ndim == 2 and array.shape[1] == _PIXELS
    square = array.ndim == 3 and array.shape[1:] == MNIST_SHAPE[:2]
    with_channel = array.ndim == 4 and array.shape[1:] == MNIST_SHAPE
    if not (flat or square or with_channel):
        raise SourceError(
            f"{where} {have} shape {array.shape}; expected MNIST-like grey images of shape "
            f"(N, 28, 28), (N, 28, 28, 1) or (N, {_PIXELS})."
        )
    array = array.reshape((len(array),) + MNIST_SHAPE)
    if array.dtype == np.uint8:
        return array.astype(np.float32) / np.float32(255.0)
    if not np.issubdtype(array.dtype, np.floating):
        raise SourceError(
            f"{where} {have} dtype {array.dtype}; expected uint8 (0..255) or floats in "
            f"[{value_range[0]:g}, {value_range[1]:g}]."
        )
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)):
        rows = int(np.sum(~np.all(np.isfinite(array.reshape(len(array), -1)), axis=1)))
        raise SourceError(f"{where} {contain} NaN or infinite values (in {rows} of {len(array)} samples); "
                          "generate or save the samples again (a NaN usually means the training diverged).")
    low, high = value_range
    found_low, found_high = float(array.min()), float(array.max())
    tolerance = _RANGE_TOLERANCE * (high - low)
    if found_low < low - tolerance or found_high > high + tolerance:
        raise SourceError(
            f"{where} {have} values in [{found_low:.4g}, {found_high:.4g}], outside the expected "
            f"range [{low:g}, {high:g}]. Pass value_range=(low, high) (on the command line "
            "--value-range LOW HIGH; e.g. -1 1 for a tanh generator), or save uint8 images in 0..255."
        )
    unit = (array - np.float32(low)) / np.float32(high - low)
    return np.clip(unit, 0.0, 1.0, out=unit)


def __getattr__(name: str):
    """`class_labels` (the evaluation's label split) lives in keras_gan.metrics; re-exported
    lazily, since importing keras_gan starts Keras and this module must not at import time."""
    if name == "class_labels":
        from keras_gan.metrics.labels import class_labels

        return class_labels
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def chunk_seed(seed: int | None, chunk: int) -> int | None:
    """A distinct, reproducible seed per generated batch (None stays None: the
    model's own noise stream)."""
    if seed is None:
        return None
    return int(np.random.SeedSequence([int(seed), chunk]).generate_state(1)[0] & 0x7FFFFFFF)


def _generate(model, num_samples: int, seed: int | None, batch_size: int, progress: bool) -> np.ndarray:
    if not callable(getattr(model, "generate", None)):
        raise SourceError(
            f"{describe(model)} has no generate() method, so it cannot produce samples; "
            "pass a GAN / ConditionalGAN, its .keras file, a zoo name or a .npy file."
        )
    from keras_gan.metrics.labels import class_labels

    labels = class_labels(num_samples, int(model.num_classes)) if is_conditional(model) else None
    starts = range(0, num_samples, batch_size)
    if progress and len(starts) > 1:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="generating samples", unit="batch")
    batches = []
    for chunk, start in enumerate(starts):
        stop = min(start + batch_size, num_samples)
        what = labels[start:stop] if labels is not None else stop - start
        batches.append(np.asarray(model.generate(what, seed=chunk_seed(seed, chunk))))
    return np.concatenate(batches, axis=0)


# --------------------------------------------------------------- describing
def describe(source: Any) -> str:
    """A short description of what is evaluated, for tables and JSON."""
    if is_samples_file(source):
        return f"samples file {os.fspath(source)}"
    if is_image_folder(source):
        return f"image folder {os.fspath(source)}"
    if _is_keras_file(source):
        return f"model file {os.fspath(source)}"
    if _is_weights_file(source):
        return f"zoo weights file {os.fspath(source)}"
    if _is_path_like(source):
        return f"zoo model {os.fspath(source)}"
    name = getattr(source, "name", None)
    kind = type(source).__name__
    return f"{kind} {name!r}" if name else kind


def model_family(model_or_source: Any) -> str | None:
    """`"cgan"` for a conditional generator, `"gan"` for a plain one, None otherwise.

    Decides which paper's Parzen number is printed beside a result. A `.npy`
    file carries no model, so its family is unknown (None); a path or zoo name
    is loaded to look at the model.
    """
    if is_samples_file(model_or_source) or is_image_folder(model_or_source):
        return None
    model = load_model(model_or_source)
    if is_conditional(model):
        return "cgan"
    if callable(getattr(model, "generate", None)) and hasattr(model, "latent_dim"):
        return "gan"
    return None


def add_allow_unverified_argument(parser) -> None:
    """`--allow-unverified`: load a file named like a zoo checkpoint whose sha256 nothing vouches for."""
    parser.add_argument("--allow-unverified", action="store_true",
                        help="load a NAME.weights.h5 whose sha256 matches neither the zoo's checkpoint nor "
                             "its own .sha256 record (weights you trust; refused by default)")


def add_value_range_argument(parser) -> None:
    """`--value-range LOW HIGH`: the range of a model's (or a .npy's) float samples, mapped to [0, 1]."""
    parser.add_argument("--value-range", nargs=2, type=float, default=(0.0, 1.0), metavar=("LOW", "HIGH"),
                        help="range of the samples' float values, mapped to [0, 1] (default 0 1; "
                             "-1 1 for a tanh generator)")

