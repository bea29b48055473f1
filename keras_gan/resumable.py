"""Backups that survive a kill at any moment, and the data epoch a resumed run needs.

Why not `keras.callbacks.BackupAndRestore`: it overwrites
`backup/latest.weights.h5` in place, so a kill during the write (measured: 4.9
of 29.9 MB written) leaves a truncated HDF5 file that every later resume fails
on with an h5py `OSError`. `ResumableBackup` writes each epoch's state into a
fresh folder, flushes it to disk, and only then renames it into place (a
rename is atomic on POSIX file systems); it keeps the previous good state
beside it, checks each state's sha256 before loading it, and falls back to
the older one when the newer is damaged. A backup with no usable state gives
`BackupError`, a message saying what to do, never a traceback.

Put it *last* in the callback list: an epoch's backup is then written only
after the other callbacks recorded that epoch (CSV logs, scores, sample
grids), so a resumed run never lacks an epoch in its records; a record
written for an epoch whose backup never landed is rewritten when the epoch
runs again (see `zoo.train`).

Layout of `backup_dir`:

    epoch-000007/state.weights.h5   model, optimizers and seed-generator state
    epoch-000007/global_rng.npz     the process-wide random states (Python, numpy, torch)
    epoch-000007/metadata.json      {"epoch": 7, "sha256": ..., "bytes": ...}
    epoch-000006/...                the previous good state (the fallback)

Folders named `.writing-*` are unfinished writes and are ignored. A backup
written by Keras' `BackupAndRestore` (`latest.weights.h5` and
`training_metadata.json`) is still read, as the oldest candidate.

Why the process-wide random states: Keras' seed generators are saved with
the model, but two things draw from global state. On PyTorch, a `Dropout`
built without a seed calls `torch.nn.functional.dropout`, which draws from
torch's global generator; and `fit(x, shuffle=True)` on JAX and PyTorch draws
each epoch's order from numpy's. Restoring them makes those runs resume
exactly too (TensorFlow's `fit` shuffles with op seeds that cannot be
restored: use `keras_gan.datasets.EpochShuffledArrays`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import warnings

import keras
from keras_gan import compat
from keras_gan.datasets.shuffled import DataEpoch  # noqa: F401 - public here too (keras_gan.callbacks)
from keras_gan.utils.files import sha256_of

_STATE_FILE = "state.weights.h5"
_RNG_FILE = "global_rng.npz"
_METADATA_FILE = "metadata.json"
_FOLDER = re.compile(r"^epoch-(\d{6})$")
_WRITING_PREFIX = ".writing-"


class BackupError(RuntimeError):
    """A backup folder holds no state that can be restored."""


@dataclasses.dataclass(frozen=True)
class BackupState:
    """One saved state of a run: the epochs it finished, its weights file, and why it
    cannot be used (None when its file is whole)."""

    epoch: int
    weights_path: str
    problem: str | None = None


def backup_states(backup_dir: str) -> list[BackupState]:
    """The states saved in `backup_dir`, newest first, each checked against its sha256."""
    if not os.path.isdir(backup_dir):
        return []
    states = []
    for name in os.listdir(backup_dir):
        match = _FOLDER.match(name)
        if match:
            states.append(_check_state(os.path.join(backup_dir, name), int(match.group(1))))
    states.sort(key=lambda state: -state.epoch)
    legacy = _legacy_state(backup_dir)
    if legacy is not None:
        states.append(legacy)
    return states


def restorable_state(backup_dir: str) -> BackupState | None:
    """The newest whole state of `backup_dir`; None when the folder holds none at all.

    Raises `BackupError` when there are states but every one is damaged.
    """
    states = backup_states(backup_dir)
    if not states:
        return None
    for state in states:
        if state.problem is None:
            return state
    raise _no_whole_state(backup_dir, [f"epoch {s.epoch}: {s.problem}" for s in states])


def _no_whole_state(backup_dir: str, problems: list[str]) -> BackupError:
    return BackupError(
        f"The backup in {backup_dir} cannot be restored ({'; '.join(problems)}). Move or delete that "
        "folder to start the run over, or continue from exported weights (zoo.train --init-from)."
    )


class ResumableBackup(keras.callbacks.Callback):
    """Back up the model (weights, optimizer and random states) atomically after every epoch,
    and restore the newest whole backup when `fit` starts.

    Args:
        backup_dir: the folder of the states (created on the first save).
        keep: how many states to keep (>= 2, so a damaged newest one has a fallback).
        delete_on_finish: remove the folder when `fit` ends normally (Keras'
            `delete_checkpoint`); False lets a finished run be extended with more epochs.
    """

    def __init__(self, backup_dir: str, keep: int = 2, delete_on_finish: bool = False):
        super().__init__()
        if not backup_dir:
            raise ValueError("backup_dir is empty: give the folder the run's backups go to.")
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 2:
            raise ValueError(f"keep must be an integer >= 2 (a fallback for a damaged state); got {keep!r}.")
        self.backup_dir = backup_dir
        self.keep = keep
        self.delete_on_finish = bool(delete_on_finish)
        self.restored_epoch: int | None = None

    # ------------------------------------------------------------- restore
    def on_train_begin(self, logs=None):
        states = backup_states(self.backup_dir)
        if not states:
            return
        if not self.model.built:
            raise ValueError("ResumableBackup needs a built model: build it (call it on a batch) before fit().")
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        failures = []
        for state in states:
            problem = state.problem
            if problem is None:
                try:
                    self.model.load_weights(state.weights_path)
                except Exception as e:  # noqa: BLE001 - any unreadable file falls back to the older one
                    problem = f"{type(e).__name__}: {e}"
            if problem is None:
                _restore_global_rng(os.path.join(os.path.dirname(state.weights_path), _RNG_FILE))
                if failures:
                    warnings.warn(f"Skipped damaged backup state(s) ({'; '.join(failures)}); resuming from "
                                  f"the one after epoch {state.epoch}.", stacklevel=2)
                compat.set_initial_epoch(self.model, state.epoch)
                self.restored_epoch = state.epoch
                return
            failures.append(f"epoch {state.epoch}: {problem}")
        raise _no_whole_state(self.backup_dir, failures)

    # ---------------------------------------------------------------- save
    def on_epoch_end(self, epoch, logs=None):
        self.save(epoch + 1)

    def save(self, epochs_done: int) -> str:
        """Write the state after `epochs_done` epochs; returns its folder."""
        os.makedirs(self.backup_dir, exist_ok=True)
        final = os.path.join(self.backup_dir, f"epoch-{epochs_done:06d}")
        writing = os.path.join(self.backup_dir, f"{_WRITING_PREFIX}epoch-{epochs_done:06d}")
        shutil.rmtree(writing, ignore_errors=True)  # an earlier, unfinished write
        os.makedirs(writing)
        weights = os.path.join(writing, _STATE_FILE)
        self.model.save_weights(weights)
        _fsync(weights)
        rng = os.path.join(writing, _RNG_FILE)
        _save_global_rng(rng)
        _fsync(rng)
        metadata = {"epoch": epochs_done, "batch": 0, "sha256": sha256_of(weights),
                    "bytes": os.path.getsize(weights), "format": 1}
        with open(os.path.join(writing, _METADATA_FILE), "w") as f:
            json.dump(metadata, f)
            f.flush()
            os.fsync(f.fileno())
        _fsync(writing)
        if os.path.isdir(final):  # the same epoch saved again (a rerun): replace it
            shutil.rmtree(final)
        os.replace(writing, final)
        _fsync(self.backup_dir)
        self._prune()
        return final

    def _prune(self) -> None:
        """Keep the newest `keep` whole states; drop the rest (older or damaged ones,
        unfinished writes, and a Keras legacy state, older than all of them)."""
        states = [s for s in backup_states(self.backup_dir) if os.path.dirname(s.weights_path) != self.backup_dir]
        kept = {s.weights_path for s in [s for s in states if s.problem is None][: self.keep]}
        if not kept:
            return
        for state in states:
            if state.weights_path not in kept:
                shutil.rmtree(os.path.dirname(state.weights_path), ignore_errors=True)
        for name in os.listdir(self.backup_dir):
            path = os.path.join(self.backup_dir, name)
            if name.startswith(_WRITING_PREFIX):
                shutil.rmtree(path, ignore_errors=True)
            elif name in ("latest.weights.h5", "training_metadata.json", "latest.weights.h5.bkp",
                          "training_metadata.json.bkp"):
                os.remove(path)

    def on_train_end(self, logs=None):
        if self.delete_on_finish and os.path.isdir(self.backup_dir):
            shutil.rmtree(self.backup_dir)


# ---------------------------------------------------------------- helpers
def _save_global_rng(path: str) -> None:
    import random

    import numpy as np

    version, mt, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    arrays = {"python_version": np.int64(version), "python_mt": np.asarray(mt, np.int64),
              "python_gauss": np.float64(np.nan if gauss is None else gauss),
              "numpy_keys": keys, "numpy_pos": np.int64(pos), "numpy_has_gauss": np.int64(has_gauss),
              "numpy_cached": np.float64(cached)}
    if keras.backend.backend() == "torch":
        import torch

        arrays["torch"] = torch.get_rng_state().numpy()
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _restore_global_rng(path: str) -> None:
    """Restore what `_save_global_rng` wrote (a state saved before this file existed has none)."""
    if not os.path.isfile(path):
        return
    import random

    import numpy as np

    with np.load(path) as saved:
        gauss = float(saved["python_gauss"])
        random.setstate((int(saved["python_version"]), tuple(int(v) for v in saved["python_mt"]),
                         None if np.isnan(gauss) else gauss))
        np.random.set_state(("MT19937", saved["numpy_keys"], int(saved["numpy_pos"]),
                             int(saved["numpy_has_gauss"]), float(saved["numpy_cached"])))
        if "torch" in saved and keras.backend.backend() == "torch":
            import torch

            torch.set_rng_state(torch.from_numpy(saved["torch"].copy()))


def _check_state(folder: str, epoch: int) -> BackupState:
    weights = os.path.join(folder, _STATE_FILE)
    try:
        with open(os.path.join(folder, _METADATA_FILE)) as f:
            metadata = json.load(f)
    except (OSError, ValueError) as e:
        return BackupState(epoch, weights, f"metadata unreadable ({e})")
    if not os.path.isfile(weights):
        return BackupState(epoch, weights, "weights file missing")
    if os.path.getsize(weights) != metadata.get("bytes"):
        return BackupState(epoch, weights, f"weights file has {os.path.getsize(weights)} bytes, "
                                           f"{metadata.get('bytes')} were written")
    if sha256_of(weights) != metadata.get("sha256"):
        return BackupState(epoch, weights, "weights file does not match its sha256")
    return BackupState(int(metadata.get("epoch", epoch)), weights)


def _legacy_state(backup_dir: str) -> BackupState | None:
    """A backup left by `keras.callbacks.BackupAndRestore` (no checksum: only loading tells)."""
    weights = os.path.join(backup_dir, "latest.weights.h5")
    metadata = os.path.join(backup_dir, "training_metadata.json")
    if not os.path.isfile(weights):
        return None
    try:
        with open(metadata) as f:
            epoch = int(json.load(f)["epoch"])
    except (OSError, ValueError, KeyError) as e:
        return BackupState(0, weights, f"Keras backup metadata unreadable ({e})")
    return BackupState(epoch, weights)


def _fsync(path: str) -> None:
    """Flush a file or folder to disk (a folder's fsync makes a rename in it durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some file systems do not fsync folders
        pass
    finally:
        os.close(fd)
