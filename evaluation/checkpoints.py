"""Checkpoints of the evaluation package's own torch networks (MNIST classifier, facade segmenter).

One way to write, verify and read them, because a metric computed with a
changed feature network is a different metric: every shipped checkpoint's
sha256 is recorded in its module and checked on every load, and files are
read with `torch.load(..., weights_only=True)`, so no code from a file runs.
"""

from __future__ import annotations

import os

import torch

from evaluation.keras_free import files


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupt, or not the expected file."""


#: Hex sha256 of a file's bytes: keras_gan's one (`keras_gan.utils.files.sha256_of`), without Keras.
file_sha256 = files.sha256_of


def verify(path: str | None, expected_sha256: str | None, *, shipped_path: str, shipped_sha256: str | None,
           what: str, retrain: str, sha_constant: str, error: type = CheckpointError) -> str:
    """Return the checkpoint's path after checking that it exists and has the expected sha256.

    `path` None means the shipped file, checked against `shipped_sha256`; a
    user's own file only when `expected_sha256` is given.
    """
    shipped = path is None
    path = shipped_path if shipped else os.fspath(path)
    if expected_sha256 is None and shipped:
        expected_sha256 = shipped_sha256
    if not os.path.isfile(path):
        raise error(
            f"{what} checkpoint not found: {path}. "
            + (f"Restore it from the repository (git checkout evaluation/weights/) or retrain it with "
               f"`{retrain}`." if shipped else "Check the path.")
        )
    if expected_sha256 is not None:
        found = file_sha256(path)
        if found != expected_sha256:
            raise error(
                f"{what} checkpoint {path} has sha256 {found}, expected {expected_sha256}: the file is "
                "corrupt or was replaced, and metrics computed with it would not be comparable. Restore it "
                f"from the repository, or after retraining record the printed sha256 in {sha_constant}."
            )
    return path


def load_module(path: str, module: torch.nn.Module, format_tag: str, what: str,
                error: type = CheckpointError) -> torch.nn.Module:
    """Load a checkpoint written by `save_module` into `module`; eval mode, no gradients."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # zip or unpickling errors: all mean "not a usable checkpoint"
        raise error(f"Cannot read the {what} checkpoint {path}: {e}") from e
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != format_tag:
        raise error(f"{path} is not a {what} checkpoint (format {format_tag!r}).")
    try:
        module.load_state_dict(checkpoint["state_dict"])
    except (KeyError, RuntimeError) as e:
        raise error(f"{path} does not fit the {what} network: {e}") from e
    module.eval()
    module.requires_grad_(False)
    return module


def save_module(module: torch.nn.Module, path: str, format_tag: str, **metadata) -> str:
    """Write `module`'s weights with plain-value `metadata` atomically; return the sha256."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    tmp = path + ".tmp"
    torch.save({"format": format_tag, "state_dict": state, **metadata}, tmp)
    os.replace(tmp, path)
    return file_sha256(path)
