"""Folders of images as uint8 arrays, for scoring: generated samples, translations, real photos.

What `python -m keras_gan.generate` and `python -m keras_gan.translate` write,
and what a user's own data looks like: PNG / JPEG / BMP / WebP files in a
folder, with class sub-folders one level deep (a CGAN's per-class output, an
`ImageFolderDataset` tree), read in natural name order ("2.png" before
"10.png") so that `--num-samples N` takes the same N files on every machine.

Pillow only, so that the evaluation commands stay free of Keras and
TensorFlow at import (importing torch-fidelity after TensorFlow aborts the
process: `evaluation/fidelity.py`). `keras_gan.datasets` has the training
side's readers, which check headers up front and jitter; scoring needs
neither, and every unreadable file still gets one error naming it.
"""

from __future__ import annotations

import os
import re

import numpy as np

#: Image files a folder may hold; anything else (a stray .txt, a .DS_Store) is skipped.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


class ImageFolderError(ValueError):
    """A folder of images cannot be scored: missing, empty, unreadable or inconsistent files."""


def _natural(name: str) -> list:
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name)]


def image_files(path: str) -> list[str]:
    """The image files of `path` and of its sub-folders (one level), in natural name order;
    hidden files are ignored."""
    if not os.path.isdir(path):
        raise ImageFolderError(f"{path} is not a folder of images.")
    files = []
    for entry in sorted((e for e in os.listdir(path) if not e.startswith(".")), key=_natural):
        full = os.path.join(path, entry)
        if os.path.isdir(full):
            files += [os.path.join(full, name) for name in sorted(os.listdir(full), key=_natural)
                      if not name.startswith(".") and name.lower().endswith(IMAGE_SUFFIXES)]
        elif entry.lower().endswith(IMAGE_SUFFIXES):
            files.append(full)
    return files


def read_images(path: str, *, channels: int | None = None, size: tuple[int, int] | None = None,
                limit: int | None = None, what: str = "images") -> np.ndarray:
    """The first `limit` images of the folder `path` (all by default) as one uint8 array.

    Args:
        channels: 1 for (N, H, W) grey, 3 for (N, H, W, 3) RGB (grey files have their channel
            repeated, palettes and alpha are converted); None: as the files are, which must
            then all be grey or all colour.
        size: (height, width) to resize every image to (bilinear, antialiased when
            shrinking); None: the images must all have one size.
        limit: how many images to read; the folder must hold at least that many.
        what: how errors name the folder's contents ("samples", "reference images").

    Raises:
        ImageFolderError: no such folder, too few images, an unreadable file (named), or
            mixed sizes or modes where one is required (the error says which option fixes it).
    """
    from PIL import Image, UnidentifiedImageError

    files = image_files(path)
    if not files:
        raise ImageFolderError(f"{path} holds no image files ({', '.join(IMAGE_SUFFIXES)}); "
                               f"expected a folder of {what}.")
    if limit is not None:
        if len(files) < limit:
            raise ImageFolderError(f"{path} holds {len(files)} images but {limit} {what} were asked for; "
                                   "ask for fewer (--num-samples / --num-reference) or add images.")
        files = files[:limit]
    _check_memory(files, channels, size, path)
    images = []
    for file in files:
        try:
            with Image.open(file) as image:
                image.load()
                mode = {1: "L", 3: "RGB"}.get(channels) or ("L" if image.mode in ("1", "L", "LA", "I", "I;16")
                                                           else "RGB")
                image = image.convert(mode)
                if size is not None and image.size != (size[1], size[0]):
                    image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR, reducing_gap=None)
                images.append(np.asarray(image, dtype=np.uint8))
        except (OSError, ValueError, SyntaxError, UnidentifiedImageError, Image.DecompressionBombError) as e:
            raise ImageFolderError(f"Cannot read {file}: {e}. The file is corrupt or not an image; "
                                   "fix or remove it.") from e
    shapes = sorted({image.shape for image in images})
    if len(shapes) > 1:
        kinds = {len(s) for s in shapes}
        fix = ("pass a size to resize them to (--image-size H W)" if len(kinds) == 1
               else "say which to use (grey or RGB)")
        listed = ", ".join(map(str, shapes[:3])) + (f" and {len(shapes) - 3} more" if len(shapes) > 3 else "")
        raise ImageFolderError(f"The {what} in {path} differ in shape ({listed}): {fix}.")
    return np.stack(images)


def _check_memory(files: list[str], channels: int | None, size, path: str) -> None:
    """Refuse up front a folder whose images would not fit in memory (sized by its first image)."""
    from PIL import Image

    from evaluation.sources import check_sample_memory

    if size is None:
        try:
            with Image.open(files[0]) as image:
                size = (image.height, image.width)
        except (OSError, ValueError, SyntaxError):
            return  # the read below names the file
    check_sample_memory(len(files), int(size[0]) * int(size[1]) * (channels or 3), f"{path} (images)")
