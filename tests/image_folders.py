"""Tiny image folders written by the tests: A|B pairs, two-folder pairs, class sub-folders."""

from __future__ import annotations

import os

import numpy as np


def _save(path: str, array: np.ndarray, fmt: str | None = None) -> str:
    from PIL import Image

    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array).save(path, format=fmt)
    return path


def pattern(i: int, height: int, width: int, channels: int = 3) -> np.ndarray:
    """A distinct, smooth uint8 image per i (gradients whose direction and colour depend on i)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = (x * (1 + i % 3) + y * (1 + i % 5)) / (height + width) * 255.0 / 2.0 + 20 * (i % 7)
    planes = [np.clip(base * (0.5 + 0.25 * c) + 30 * c, 0, 255) for c in range(channels)]
    image = np.stack(planes, -1).astype(np.uint8)
    return image[..., 0] if channels == 1 else image


def aligned_pairs(root: str, count: int = 4, size: int = 32, split: str = "train", gray: bool = False,
                  height: int | None = None) -> list[str]:
    """root/split/N.png, each A | B side by side (B = 255 - A, so the pairing is checkable)."""
    height = height or size
    paths = []
    for i in range(count):
        a = pattern(i, height, size, 1 if gray else 3)
        paths.append(_save(os.path.join(root, split, f"{i + 1}.png"), np.concatenate([a, 255 - a], axis=1)))
    return paths


def two_folder_pairs(root: str, count: int = 4, size: int = 32, split: str | None = None) -> None:
    """root/A[/split]/pN.png and root/B[/split]/pN.jpg (RGB A, grey B)."""
    for i in range(count):
        a = pattern(i, size, size)
        _save(os.path.join(root, "A", *([split] if split else []), f"p{i}.png"), a)
        _save(os.path.join(root, "B", *([split] if split else []), f"p{i}.png"), 255 - a[..., 0])


def class_folders(root: str, classes=("cat", "dog"), per_class: int = 4, size: int = 16,
                  gray: bool = False) -> None:
    """root/<class>/N.png; class k's images are bright for k=1, dark for k=0."""
    for k, name in enumerate(classes):
        for i in range(per_class):
            image = pattern(i, size, size, 1 if gray else 3) // 4 + (150 if k else 0)
            _save(os.path.join(root, name, f"{i}.png"), image.astype(np.uint8))


def truncate(path: str, keep: float = 0.5) -> None:
    with open(path, "rb") as f:
        raw = f.read()
    with open(path, "wb") as f:
        f.write(raw[: int(len(raw) * keep)])
