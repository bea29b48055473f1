"""Image files on disk: list a folder, check every file cheaply up front, decode one file.

Why a scan up front: a folder of a user's own images can hold a truncated
download, a `.jpg` that is really an HTML error page, or a `notes.txt`. Found
at epoch 7 they cost hours; found at construction they cost milliseconds per
file. `scan_image` reads each file's header (Pillow decodes no pixels for
that) and checks that a JPEG or PNG ends where its format says it ends, which
is how a truncated copy shows; every problem is a `DataFileError` naming the
file and what is wrong. A file that goes bad after the scan (a disk error, a
file replaced while a run is going) is reported by `decode_image` when it is
read, with the same kind of message.

Pillow only, no TensorFlow: `keras.utils.load_img` and
`image_dataset_from_directory` need TensorFlow (or at least tf.data), which a
`pip install keras-gan[jax]` or `[torch]` install does not have.
"""

from __future__ import annotations

import io
import os
from typing import NamedTuple

import numpy as np

from keras_gan.datasets.idx import DataFileError
from keras_gan.utils.files import sha256_of

#: File name endings read as images (case-insensitive): those Pillow decodes without plug-ins and
#: the pix2pix / CycleGAN repositories' `IMG_EXTENSIONS`.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".pgm", ".pbm", ".tif", ".tiff", ".webp", ".gif")
#: Pillow modes that hold one grey channel (read as 1-channel images).
GRAY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")


class ImageInfo(NamedTuple):
    path: str
    width: int
    height: int
    mode: str  # Pillow's mode: "RGB", "L", "P", ...

    @property
    def gray(self) -> bool:
        return self.mode in GRAY_MODES


def list_image_files(folder: str, what: str = "images") -> list[str]:
    """The image files directly in `folder`, in natural order ("2.jpg" before "10.jpg").

    Hidden files (".DS_Store", "._x.jpg") are ignored. Any other file that is not an image
    (by its name), or a sub-folder, is an error naming it: a stray file in a data folder is
    usually a mistake, and silently training without it (or on it) is worse than saying so.
    """
    if not os.path.isdir(folder):
        raise DataFileError(f"{folder} is not a folder; expected a folder of {what}.")
    names = [n for n in os.listdir(folder) if not n.startswith(".")]
    images = []
    for name in names:
        path = os.path.join(folder, name)
        if os.path.isdir(path):
            raise DataFileError(f"{path} is a folder inside a folder of {what}; move it out (only image "
                                f"files belong in {folder}).")
        if not name.lower().endswith(IMAGE_SUFFIXES):
            raise DataFileError(f"{path} is not an image file (by its name; images end in "
                                f"{', '.join(IMAGE_SUFFIXES)}); move it out of {folder}.")
        images.append(path)
    if not images:
        raise DataFileError(f"{folder} holds no images ({what}); put {', '.join(IMAGE_SUFFIXES[:3])} "
                            "files in it.")
    return sorted(images, key=natural_key)


def natural_key(path: str) -> tuple:
    """Sort key: numbers in a name compare as numbers, so "2.jpg" < "10.jpg" (pix2pix names its
    pairs 1.jpg ... 400.jpg)."""
    import re

    name = os.path.basename(path)
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.split(r"(\d+)", name) if part) + (name,)


def scan_image(path: str) -> ImageInfo:
    """Header check of one file, decoding no pixels: size, mode, and for JPEG / PNG that the
    file is whole (ends with the format's end marker). Raises DataFileError naming the file."""
    from PIL import Image, UnidentifiedImageError

    try:
        with open(path, "rb") as f:
            head = f.read(16)
            f.seek(0, os.SEEK_END)
            length = f.tell()
            f.seek(max(0, length - 64))
            tail = f.read()
    except OSError as e:
        raise DataFileError(f"Cannot read {path}: {e.strerror or e}.") from e
    if length == 0:
        raise DataFileError(f"{path} is empty (0 bytes); restore the image or remove the file.")
    try:
        with Image.open(path) as image:
            width, height, mode, fmt = image.width, image.height, image.mode, image.format
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError, Image.DecompressionBombError) as e:
        raise DataFileError(f"{path} is not an image Pillow can read ({_short(e)}); restore it or move it "
                            "out of the folder.") from e
    if fmt == "JPEG" and head.startswith(b"\xff\xd8") and b"\xff\xd9" not in tail:
        raise DataFileError(f"{path} is truncated: a JPEG ends with an end-of-image marker, this one stops "
                            f"after {length} bytes. Restore the file (copy it again) or remove it.")
    if fmt == "PNG" and b"IEND" not in tail:
        raise DataFileError(f"{path} is truncated: a PNG ends with an IEND chunk, this one stops after "
                            f"{length} bytes. Restore the file (copy it again) or remove it.")
    if width < 1 or height < 1:
        raise DataFileError(f"{path} has no pixels ({width}x{height}).")
    return ImageInfo(path, int(width), int(height), mode)


def met_during_training(error: DataFileError, epoch: int, index: int) -> DataFileError:
    """`error` (a file found bad when a batch reads it) restated for the training run that met it:
    where (1-based epoch and batch), and how to go on. One message for every folder dataset."""
    return DataFileError(
        f"{error} (met at epoch {epoch + 1}, batch {index + 1}.) Fix or remove the file and run the same "
        "command again: training resumes from the last backup; or pass skip_bad_files=True "
        "(--skip-bad-files) to skip bad files.")


def open_image(path: str, checksums: dict | None = None, shrink_to: int | None = None):
    """Decode an image fully: `(image, (width, height) in the file)`. Missing, corrupt or
    altered files raise DataFileError naming the file.

    `checksums` ({file name: sha256}) checks the bytes as they are read. `shrink_to` lets
    the JPEG decoder decode at 1/2, 1/4 or 1/8 scale while keeping both sides >=
    `shrink_to` (Pillow's `draft`): the DCT-domain reduction averages blocks of pixels, an
    antialiasing step before the final resize, and makes loading several times faster.
    """
    from PIL import Image, UnidentifiedImageError

    if not os.path.isfile(path):
        raise DataFileError(f"Image file not found: {path}")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise DataFileError(f"Cannot read {path}: {e.strerror or e}.") from e
    expected = (checksums or {}).get(os.path.basename(path))
    if expected is not None and sha256_of(raw) != expected:
        raise DataFileError(
            f"{path} does not match its SHA256SUMS entry: the file is corrupt or modified; restore it."
        )
    try:
        image = Image.open(io.BytesIO(raw))
        full_size = image.size
        if shrink_to is not None and image.format == "JPEG":
            image.draft("RGB", (shrink_to, shrink_to))
        image.load()  # decode now: a truncated file fails here, not later
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError, Image.DecompressionBombError) as e:
        raise DataFileError(f"Cannot decode {path}: {_short(e)}. The file is corrupt or truncated; "
                            "restore it.") from e
    return image, full_size


def resize(image, size: int | tuple, smooth: bool = True) -> np.ndarray:
    """A Pillow image resized to `size` x `size` (or (width, height)) as uint8 (H, W[, C]):
    bilinear (antialiased when shrinking), or nearest neighbour for label maps."""
    from PIL import Image

    method = Image.Resampling.BILINEAR if smooth else Image.Resampling.NEAREST
    target = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
    return np.asarray(image.resize(target, method), dtype=np.uint8)


def as_channels(image, channels: int):
    """The image in mode "L" (1 channel) or "RGB" (3): palette, alpha and 16-bit modes converted."""
    mode = "L" if channels == 1 else "RGB"
    if image.mode == "I;16" or image.mode == "I":  # 16-bit grey: scale to 8 bits before converting
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if array.max() > 255 else 255.0
        from PIL import Image

        image = Image.fromarray(np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    return image if image.mode == mode else image.convert(mode)


def _short(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text if len(text) < 200 else text[:197] + "..."
