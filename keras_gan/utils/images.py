"""Sample grids as PNG files: what people look at after training."""

from __future__ import annotations

import os

import numpy as np


def image_grid(images: np.ndarray, cols: int | None = None, pad: int = 1,
               value_range: tuple = (0.0, 1.0)) -> np.ndarray:
    """Tile `images` (N, H, W[, C]) into one uint8 image, `cols` per row."""
    images = np.asarray(images, dtype="float32")
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(f"image_grid expects (N, H, W) or (N, H, W, C) images; got shape {images.shape}.")
    n, h, w, c = images.shape
    if n == 0:
        raise ValueError("image_grid got no images.")
    lo, hi = value_range
    images = np.clip((images - lo) / (hi - lo), 0.0, 1.0)
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    grid = np.ones((rows * (h + pad) + pad, cols * (w + pad) + pad, c), dtype="float32")
    for i in range(n):
        r, q = divmod(i, cols)
        grid[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + q * (w + pad) : pad + q * (w + pad) + w] = images[i]
    grid = (grid * 255.0 + 0.5).astype("uint8")
    return grid[..., 0] if c == 1 else grid


def save_image_grid(path: str, images: np.ndarray, cols: int | None = None,
                    value_range: tuple = (0.0, 1.0)) -> str:
    """Write `images` as one PNG grid; returns the path."""
    from PIL import Image

    grid = image_grid(images, cols=cols, value_range=value_range)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    Image.fromarray(grid).save(path)
    return path
