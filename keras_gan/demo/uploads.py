"""Checks every uploaded image passes before the model sees it, each failure one message.

Why here and not left to gradio or Pillow: the page must answer a bad upload with
a sentence the user can act on (not a stack trace or a generic "Error"), and the
server must keep serving; so the size of the file and of the image are checked
before decoding (a small PNG can declare 50000 x 50000 pixels), and a decoding
failure becomes `UploadError`. An image of another size is not refused: it is
resized to the model's input, and the returned notes say so.
"""

from __future__ import annotations

import os

import numpy as np

#: Largest upload accepted (bytes); the page's file box has the same limit.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: Largest image accepted, per side (pixels), checked from the header before decoding.
MAX_SIDE = 4096


class UploadError(ValueError):
    """An upload the demo cannot use; the message says what was wrong and what to upload instead."""


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def read_upload(path: str, size: int, channels: int = 3, label_map: bool = False,
                max_bytes: int = MAX_UPLOAD_BYTES) -> tuple[np.ndarray, list[str]]:
    """`(image, notes)`: the file at `path` as uint8 (size, size, channels), and what was done to it.

    Label maps are resized with nearest neighbour (every pixel keeps a class colour),
    other images bilinearly, as `keras_gan.datasets.facades` does; the aspect ratio
    is not kept (the model's input is square).
    """
    from PIL import Image, UnidentifiedImageError

    name = os.path.basename(path)
    what = "a label map PNG in the CMP colours (see the palette)" if label_map else "a PNG or JPEG image"
    try:
        n_bytes = os.path.getsize(path)
    except OSError as e:
        raise UploadError(f"The upload {name} could not be read ({e.strerror}); upload it again.") from e
    if n_bytes > max_bytes:
        raise UploadError(f"{name} is {_megabytes(n_bytes)}; the demo takes files up to {_megabytes(max_bytes)}. "
                          f"Upload {what} of about {size}x{size} pixels.")
    try:
        with Image.open(path) as image:
            width, height = image.size
            if max(width, height) > MAX_SIDE:
                raise UploadError(f"{name} is {width}x{height} pixels; the demo takes images up to "
                                  f"{MAX_SIDE}x{MAX_SIDE}. Upload {what} of about {size}x{size} pixels.")
            image.load()
            image = image.convert("RGBA")
    except UploadError:
        raise
    except UnidentifiedImageError as e:
        raise UploadError(f"{name} is not an image (Pillow cannot read it). Upload {what}.") from e
    except (OSError, SyntaxError, ValueError) as e:  # truncated or corrupt image data
        raise UploadError(f"{name} could not be decoded ({e}); it is truncated or corrupt. Upload {what}.") from e
    return to_model_input(image, size, channels, label_map, f"{name} is {width}x{height}")


def to_model_input(image, size: int, channels: int, label_map: bool,
                   described: str = "the image") -> tuple[np.ndarray, list[str]]:
    """A PIL image (any mode) as uint8 (size, size, channels) with notes: transparent pixels
    become the first palette colour (background) for label maps and black otherwise."""
    from PIL import Image

    notes = []
    rgba = image.convert("RGBA")
    fill = (0, 0, 170, 255) if label_map else (0, 0, 0, 255)
    background = Image.new("RGBA", rgba.size, fill)
    rgb = Image.alpha_composite(background, rgba).convert("RGB")
    if rgb.size != (size, size):
        how = "nearest neighbour, so class colours are kept" if label_map else "bilinear"
        notes.append(f"{described}: resized to {size}x{size} ({how}; the aspect ratio is not kept).")
        resample = Image.NEAREST if label_map else Image.BILINEAR
        rgb = rgb.resize((size, size), resample)
    array = np.asarray(rgb, dtype=np.uint8)
    if channels == 1:
        array = np.asarray(rgb.convert("L"), dtype=np.uint8)[..., None]
    return array, notes
