"""Folders of PNG files written by the inference commands (`keras_gan.translate`, `keras_gan.generate`).

One PNG per image, 8 bits, grey or RGB: what torch-fidelity, `evaluation.fidelity`
and image viewers read. An existing folder that already holds files is refused
unless the user says `--overwrite` (a folder of samples mixed with an older
run's would give an FID of neither run); `--overwrite` deletes the image files
already there first, for the same reason.
"""

from __future__ import annotations

import os

import numpy as np

#: What `--overwrite` removes from an output folder before writing (and nothing else).
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def output_folder_problem(folder: str, overwrite: bool) -> str | None:
    """Why `folder` cannot take the command's PNGs, or None. Checked before anything is written."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        return f"{folder} is a file, not a folder; give a folder for the PNGs."
    if os.path.isdir(folder):
        entries = [n for n in os.listdir(folder) if not n.startswith(".")]
        if entries and not overwrite:
            return (f"{folder} already holds {len(entries)} entries ({', '.join(sorted(entries)[:3])}"
                    f"{' ...' if len(entries) > 3 else ''}); give an empty or new folder, or pass --overwrite "
                    "to replace its images.")
        if overwrite:
            others = _non_images(folder)
            if others:
                return (f"--overwrite replaces images only, but {folder} also holds {others[0]}"
                        f"{' and more' if len(others) > 1 else ''}; give another folder.")
        return None if os.access(folder, os.W_OK | os.X_OK) else f"cannot write in {folder} (no write access)."
    parent = os.path.dirname(os.path.abspath(folder))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot create {folder} (no write access to {parent})."
    return None


def _non_images(folder: str, depth: int = 0) -> list[str]:
    found = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if name.startswith("."):
            continue
        if os.path.isdir(path) and depth == 0:
            found += _non_images(path, 1)
        elif os.path.isdir(path) or not name.lower().endswith(_IMAGE_SUFFIXES):
            found.append(path)
    return found


def prepare_output_folder(folder: str) -> None:
    """Create `folder`, or empty it of image files (`--overwrite`, after `output_folder_problem`)."""
    if os.path.isdir(folder):
        for root, _, files in os.walk(folder):
            for name in files:
                if name.lower().endswith(_IMAGE_SUFFIXES):
                    os.remove(os.path.join(root, name))
        for name in os.listdir(folder):  # class sub-folders emptied above
            path = os.path.join(folder, name)
            if os.path.isdir(path) and not os.listdir(path):
                os.rmdir(path)
    os.makedirs(folder, exist_ok=True)


def to_uint8(images: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """Images in `value_range` -> uint8 [0, 255] (rounded, clipped); (N, H, W, 1) -> (N, H, W)."""
    lo, hi = value_range
    scaled = np.clip((np.asarray(images, np.float32) - lo) / (hi - lo), 0.0, 1.0)
    out = np.floor(scaled * 255.0 + 0.5).astype(np.uint8)
    return out[..., 0] if out.ndim == 4 and out.shape[-1] == 1 else out


def save_png(path: str, image: np.ndarray) -> None:
    """One uint8 image (H, W) or (H, W, 3) as a PNG file."""
    from PIL import Image

    Image.fromarray(image).save(path, format="PNG")
