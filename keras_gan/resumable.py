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

Backups inside an epoch: `every_steps=N` and/or `every_minutes=T` also write
the state after every N steps or T minutes (never at an epoch's last step,
whose epoch backup follows). A run killed mid-epoch resumes after the last
such step and ends bit-identical to an uninterrupted run: the state also holds
the epoch's metric trackers (the logged means continue), the process-wide
random states are restored just before the next step, and the data (a
dataset that orders itself, fed through `AdversarialModel.fit`) starts at the
next batch of that epoch (`keras_gan.datasets.shuffled.EpochWindow`). Inside
`keras_gan.signals.stop_on_signals()`, a SIGTERM or SIGINT makes it write a
backup after the step in flight and raise `TrainingStopped`.

A write that fails (a full disk, a read-only folder, a quota) raises
`WriteFailed` naming the state; the unfinished folder is removed, and the
states written before stay as they were.

Layout of `backup_dir`:

    epoch-000007/state.weights.h5   model, optimizers and seed-generator state
    epoch-000007/global_rng.npz     the process-wide random states (Python, numpy, torch)
    epoch-000007/metadata.json      {"epoch": 7, "batch": 0, "sha256": ..., "bytes": ..., "files": {...}}
    epoch-000007-batch-000120/...   after 120 steps of epoch 8 (also metrics.npz: the trackers)
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
import time
import warnings

import keras
from keras_gan import compat, signals
from keras_gan.datasets.shuffled import DataEpoch, resume_position  # noqa: F401 - DataEpoch: public here too (keras_gan.callbacks)
from keras_gan.distributed import in_torch_job, process_local_view
from keras_gan.signals import TrainingStopped  # noqa: F401 - public here too (keras_gan.callbacks)
from keras_gan.utils.files import sha256_of

_STATE_FILE = "state.weights.h5"
_RNG_FILE = "global_rng.npz"
_METADATA_FILE = "metadata.json"
_METRICS_FILE = "metrics.npz"
_FOLDER = re.compile(r"^epoch-(\d{6})(?:-batch-(\d{6}))?$")
_WRITING_PREFIX = ".writing-"


class BackupError(RuntimeError):
    """A backup folder holds no state that can be restored."""


class WriteFailed(RuntimeError):
    """Writing a run's file failed (a full disk, a read-only folder, a quota): `what` was being
    written, `error` is the `OSError`. Nothing half-written is left to be taken for a good state."""

    def __init__(self, what: str, error: BaseException):
        self.what, self.error = what, error
        super().__init__(f"writing {what} failed: {describe_os_error(error)}")


def describe_os_error(error: BaseException) -> str:
    """'No space left on device (ENOSPC)' for an OSError with an errno, else its text."""
    import errno as errno_module

    code = getattr(error, "errno", None)
    if isinstance(error, OSError) and code:
        name = errno_module.errorcode.get(code, str(code))
        said = error.strerror or os.strerror(code)
        return f"{said} ({name})" + (f": {error.filename}" if getattr(error, "filename", None) else "")
    return f"{type(error).__name__}: {error}"


@dataclasses.dataclass(frozen=True)
class BackupState:
    """One saved state of a run: the epochs it finished, its weights file, why it cannot be
    used (None when its files are whole), and the steps of the next epoch it finished (0: the
    state at an epoch's end)."""

    epoch: int
    weights_path: str
    problem: str | None = None
    batch: int = 0

    @property
    def where(self) -> str:
        """'after epoch 7', or 'after step 120 of epoch 8' (epochs counted from 1)."""
        return f"after epoch {self.epoch}" if not self.batch else f"after step {self.batch} of epoch {self.epoch + 1}"


def backup_states(backup_dir: str) -> list[BackupState]:
    """The states saved in `backup_dir`, newest first, each checked against its sha256."""
    if not os.path.isdir(backup_dir):
        return []
    states = []
    for name in os.listdir(backup_dir):
        match = _FOLDER.match(name)
        if match:
            states.append(_check_state(os.path.join(backup_dir, name), int(match.group(1)),
                                       int(match.group(2) or 0)))
    states.sort(key=lambda state: (-state.epoch, -state.batch))
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
    raise _no_whole_state(backup_dir, [f"{s.where}: {s.problem}" for s in states])


def _no_whole_state(backup_dir: str, problems: list[str]) -> BackupError:
    return BackupError(
        f"The backup in {backup_dir} cannot be restored ({'; '.join(problems)}). Move or delete that "
        "folder to start the run over, or continue from exported weights (zoo.train --init-from)."
    )


class ResumableBackup(keras.callbacks.Callback):
    """Back up the model (weights, optimizer and random states) atomically after every epoch,
    and, if asked, every N steps or T minutes inside an epoch; restore the newest whole backup
    when `fit` starts.

    Args:
        backup_dir: the folder of the states (created on the first save).
        keep: how many states to keep (>= 2, so a damaged newest one has a fallback).
        delete_on_finish: remove the folder when `fit` ends normally (Keras'
            `delete_checkpoint`); False lets a finished run be extended with more epochs.
        every_steps: also back up after every `every_steps` steps inside an epoch.
        every_minutes: also back up when `every_minutes` minutes have passed since
            the last backup (checked after each step).

    A backup inside an epoch needs data that can start mid-epoch on resume: a
    dataset that orders itself (`EpochShuffledArrays`, `FacadesDataset`,
    `PairedImageFolder`, ...) passed to an `AdversarialModel`'s `fit`; other
    data is refused at the first step. Inside
    `keras_gan.signals.stop_on_signals()` a SIGTERM or SIGINT makes it back up
    after the step in flight and raise `TrainingStopped`.
    """

    def __init__(self, backup_dir: str, keep: int = 2, delete_on_finish: bool = False,
                 every_steps: int | None = None, every_minutes: float | None = None):
        super().__init__()
        if not backup_dir:
            raise ValueError("backup_dir is empty: give the folder the run's backups go to.")
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 2:
            raise ValueError(f"keep must be an integer >= 2 (a fallback for a damaged state); got {keep!r}.")
        if every_steps is not None and (isinstance(every_steps, bool) or not isinstance(every_steps, int)
                                        or every_steps < 1):
            raise ValueError(f"every_steps must be a positive integer or None; got {every_steps!r}.")
        if every_minutes is not None and (isinstance(every_minutes, bool)
                                          or not isinstance(every_minutes, (int, float)) or not every_minutes > 0):
            raise ValueError(f"every_minutes must be a positive number or None; got {every_minutes!r}.")
        self.backup_dir = backup_dir
        self.keep = keep
        self.delete_on_finish = bool(delete_on_finish)
        self.every_steps = every_steps
        self.every_minutes = every_minutes
        self.restored_epoch: int | None = None
        self.restored_batch: int = 0
        self.last_state: BackupState | None = None  # the newest state this run wrote or restored
        self._pending: str | None = None  # a mid-epoch state's folder, finished at the first step
        self._epoch = 0
        self._epoch_start = 0  # batches of the current epoch done before this fit (a resumed epoch)
        self._done = 0  # batches of the current epoch done
        self._saved_at = (0, 0, time.monotonic())  # (epoch, batch, clock) of the last backup

    # ------------------------------------------------------------- restore
    def on_train_begin(self, logs=None):
        position = resume_position(self.model, reset=True)
        self._pending = None
        self._saved_at = (0, 0, time.monotonic())
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
                folder = os.path.dirname(state.weights_path)
                if state.batch:  # trackers and random states: just before the next step
                    self._pending = folder
                    position.epoch, position.batch = state.epoch, state.batch
                else:
                    _restore_global_rng(os.path.join(folder, _RNG_FILE))
                if failures:
                    warnings.warn(f"Skipped damaged backup state(s) ({'; '.join(failures)}); resuming from "
                                  f"the one {state.where}.", stacklevel=2)
                compat.set_initial_epoch(self.model, state.epoch)
                self.restored_epoch, self.restored_batch = state.epoch, state.batch
                self.last_state = state
                self._saved_at = (state.epoch, state.batch, time.monotonic())
                return
            failures.append(f"{state.where}: {problem}")
        raise _no_whole_state(self.backup_dir, failures)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = int(epoch)
        self._epoch_start = self.restored_batch if self._pending and epoch == self.restored_epoch else 0
        self._done = self._epoch_start

    def on_train_batch_begin(self, batch, logs=None):
        if self._pending is None:
            if batch == 0 and self._epoch_start == 0 and self._saves_mid_epoch() \
                    and not resume_position(self.model).windows:
                raise ValueError(
                    "ResumableBackup(every_steps=..., every_minutes=...) backs up inside an epoch, which a "
                    "resumed run can continue only on data that starts mid-epoch: a dataset that orders "
                    "itself (EpochShuffledArrays, FacadesDataset, PairedImageFolder) given to an "
                    "AdversarialModel's fit. Use one, or back up at epoch ends only.")
            return
        folder, self._pending = self._pending, None
        if not resume_position(self.model).started:
            raise BackupError(
                f"The backup {folder} was written inside epoch {self.restored_epoch + 1} (after step "
                f"{self.restored_batch}), and this fit's data cannot start there: resume it with the data it "
                "was trained on, a dataset that orders itself (EpochShuffledArrays, FacadesDataset, "
                "PairedImageFolder) given to an AdversarialModel's fit.")
        values = _load_arrays(os.path.join(folder, _METRICS_FILE))
        trackers = list(self.model.metrics_variables)
        if len(values) != len(trackers):
            raise BackupError(f"The backup {folder} holds {len(values)} metric values; this model has "
                              f"{len(trackers)}: it was written by another model.")
        for variable, value in zip(trackers, values):
            variable.assign(value)
        _restore_global_rng(os.path.join(folder, _RNG_FILE))

    # ---------------------------------------------------------------- save
    def _saves_mid_epoch(self) -> bool:
        return self.every_steps is not None or self.every_minutes is not None

    def on_train_batch_end(self, batch, logs=None):
        self._done = self._epoch_start + int(batch) + 1
        steps = (self.params or {}).get("steps")
        last = steps is not None and self._done >= steps
        # Every process, every step: they must stop at the same step and write their backups at the same
        # steps (a torch job's backup gathers each process's random state). A due time by each process's
        # own clock is agreed with the stop; a step count is the same everywhere already.
        if self.every_minutes is not None:
            stop, due = signals.stop_and_flag_agreed(not last and self._due(), self._strategy())
        else:
            stop = signals.stop_agreed(self._strategy())
            due = not last and self._due()
        if last:
            return  # the epoch's last step: its records and epoch backup come first (on_epoch_end)
        if stop is None and not due:
            return
        folder = None
        if self._pending is None and resume_position(self.model).windows:
            folder = self._write_state(self._epoch, self._done)
        elif stop is None:
            return
        if stop is not None:
            raise TrainingStopped(stop, self._epoch if folder else self._saved_at[0],
                                  self._done if folder else self._saved_at[1], folder or self._last_folder())

    def _strategy(self):
        """The model's TensorFlow distribution strategy (a TF_CONFIG job's: the stop is agreed through
        it); None on the other backends, whose jobs need none."""
        return getattr(self.model, "distribute_strategy", None)

    def _due(self) -> bool:
        epoch, batch, clock = self._saved_at
        if self.every_steps is not None:
            steps_since = self._done - batch if epoch == self._epoch else self._done
            if steps_since >= self.every_steps:
                return True
        return self.every_minutes is not None and time.monotonic() - clock >= 60.0 * self.every_minutes

    def _last_folder(self) -> str | None:
        return os.path.dirname(self.last_state.weights_path) if self.last_state is not None else None

    def on_epoch_end(self, epoch, logs=None):
        folder = self.save(epoch + 1)
        stop = signals.stop_agreed(self._strategy())
        if stop is not None:
            raise TrainingStopped(stop, epoch + 1, 0, folder)

    def save(self, epochs_done: int) -> str:
        """Write the state after `epochs_done` epochs; returns its folder."""
        return self._write_state(epochs_done, 0)

    def _write_state(self, epoch: int, batch: int) -> str:
        """Write the state after `epoch` epochs and `batch` steps of the next one; returns its folder.

        Raises `WriteFailed` when a write fails; the unfinished folder is removed and
        the states written before are left as they were.
        """
        name = f"epoch-{epoch:06d}" + (f"-batch-{batch:06d}" if batch else "")
        if batch and hasattr(self.model, "jax_state_sync"):
            self.model.jax_state_sync()  # mid-epoch, JAX's fit holds the state outside the variables
        writing = os.path.join(self.backup_dir, f"{_WRITING_PREFIX}{name}")
        final = os.path.join(self.backup_dir, name)
        random_states = _global_rng_arrays()  # a collective in a torch job: outside the process-local view
        with signals.deferred(), process_local_view(self.model):
            try:
                files = self._write_files(writing, batch, random_states)
                metadata = {"epoch": epoch, "batch": batch, "sha256": files[_STATE_FILE],
                            "bytes": os.path.getsize(os.path.join(writing, _STATE_FILE)), "files": files,
                            "format": 2}
                with open(os.path.join(writing, _METADATA_FILE), "w") as f:
                    json.dump(metadata, f)
                    f.flush()
                    os.fsync(f.fileno())
                _fsync(writing)
                if os.path.isdir(final):  # the same state saved again (a rerun): replace it
                    shutil.rmtree(final)
                os.replace(writing, final)
                _fsync(self.backup_dir)
            except OSError as e:
                shutil.rmtree(writing, ignore_errors=True)
                raise WriteFailed(f"the backup {name} in {self.backup_dir}", e) from e
            self.last_state = BackupState(epoch, os.path.join(final, _STATE_FILE), None, batch)
            self._saved_at = (epoch, batch, time.monotonic())
            self._prune()
        return final

    def _write_files(self, writing: str, batch: int, random_states: dict) -> dict:
        """The state's files in the folder `writing` (flushed to disk); {name: sha256}."""
        import numpy as np

        os.makedirs(self.backup_dir, exist_ok=True)
        shutil.rmtree(writing, ignore_errors=True)  # an earlier, unfinished write
        os.makedirs(writing)
        paths = {_STATE_FILE: os.path.join(writing, _STATE_FILE), _RNG_FILE: os.path.join(writing, _RNG_FILE)}
        self.model.save_weights(paths[_STATE_FILE])
        with open(paths[_RNG_FILE], "wb") as f:
            np.savez(f, **random_states)
        if batch:  # the epoch's trackers so far (an epoch's end needs none: the next epoch resets them)
            paths[_METRICS_FILE] = os.path.join(writing, _METRICS_FILE)
            with open(paths[_METRICS_FILE], "wb") as f:
                np.savez(f, *_tracker_values(self.model))
        for path in paths.values():
            _fsync(path)
        return {name: sha256_of(path) for name, path in paths.items()}

    def _prune(self) -> None:
        """Keep the newest `keep` whole states; drop the rest (older or damaged ones,
        unfinished writes, and a Keras legacy state, older than all of them)."""
        try:
            states = [s for s in backup_states(self.backup_dir)
                      if os.path.dirname(s.weights_path) != self.backup_dir]
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
        except OSError:  # pruning frees space; failing to is no reason to stop a run
            pass

    def on_train_end(self, logs=None):
        if self.delete_on_finish and os.path.isdir(self.backup_dir):
            shutil.rmtree(self.backup_dir)


# ---------------------------------------------------------------- helpers
def _global_rng_arrays() -> dict:
    """The process-wide random states (Python, numpy, torch) as arrays for `global_rng.npz`.

    In a torch job every rank's torch state is gathered (`torch_processes`, one row
    per rank): a Dropout without a seed draws its masks from torch's global
    generator, which every rank runs on a stream of its own
    (`TorchTrainer._own_dropout_streams`), so a resume gives each rank its own row
    back and the job continues bit-identically. A collective there: every rank
    calls it at the same backups (`ResumableBackup` sees to that).
    """
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

        state = torch.get_rng_state()
        arrays["torch"] = state.numpy()
        if in_torch_job():
            from keras_gan.backend import torch_collectives

            arrays["torch_processes"] = np.stack(
                [s.numpy() for s in torch_collectives.gather_from_every_rank(state)])
    return arrays


def _restore_global_rng(path: str) -> None:
    """Restore what `_global_rng_arrays` wrote (a state saved before this file existed has none)."""
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
            _restore_torch_rng(saved, path)


def _restore_torch_rng(saved, path: str) -> None:
    """This rank's torch generator from `saved`: its own row of a job's backup, else the one state."""
    import torch

    if not in_torch_job():
        torch.set_rng_state(torch.from_numpy(saved["torch"].copy()))
        return
    rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
    rows = saved["torch_processes"] if "torch_processes" in saved else None
    if rows is not None and len(rows) == world:
        torch.set_rng_state(torch.from_numpy(rows[rank].copy()))
        return
    # Written by one process, or by a job of another size: process 0 continues the saved stream;
    # the others keep the streams of their own that `fit` gave them, so the job trains on
    # (masks still differ between ranks) but is not bit-identical to an uninterrupted run.
    if rank == 0:
        torch.set_rng_state(torch.from_numpy(saved["torch"].copy()))
        warnings.warn(f"{path} holds torch random states for {1 if rows is None else len(rows)} process(es) "
                      f"and this job has {world}: processes other than 0 draw new dropout masks, so the "
                      "resumed run is not bit-identical to an uninterrupted one.", stacklevel=3)


def _check_state(folder: str, epoch: int, batch: int = 0) -> BackupState:
    weights = os.path.join(folder, _STATE_FILE)
    try:
        with open(os.path.join(folder, _METADATA_FILE)) as f:
            metadata = json.load(f)
    except (OSError, ValueError) as e:
        return BackupState(epoch, weights, f"metadata unreadable ({e})", batch)
    if not os.path.isfile(weights):
        return BackupState(epoch, weights, "weights file missing", batch)
    if os.path.getsize(weights) != metadata.get("bytes"):
        return BackupState(epoch, weights, f"weights file has {os.path.getsize(weights)} bytes, "
                                           f"{metadata.get('bytes')} were written", batch)
    if sha256_of(weights) != metadata.get("sha256"):
        return BackupState(epoch, weights, "weights file does not match its sha256", batch)
    for name, digest in (metadata.get("files") or {}).items():  # the other files (format 2)
        path = os.path.join(folder, name)
        if name != _STATE_FILE and (not os.path.isfile(path) or sha256_of(path) != digest):
            return BackupState(epoch, weights, f"{name} is missing or does not match its sha256", batch)
    if batch and _METRICS_FILE not in (metadata.get("files") or {}):
        return BackupState(epoch, weights, f"{_METRICS_FILE} missing", batch)
    return BackupState(int(metadata.get("epoch", epoch)), weights, None, int(metadata.get("batch", batch)))


def _tracker_values(model) -> list:
    """The values of the model's metric trackers, as NumPy arrays.

    On TensorFlow through `read_value()`: under a `MultiWorkerMirroredStrategy` a
    tracker is a sync-on-read variable, which NumPy cannot convert; its value is
    the sum over every replica of every worker (a collective, which every worker
    runs at the same steps, as it writes its backups at the same steps), and
    assigning that sum back on resume spreads it over the replicas again.
    """
    if keras.backend.backend() == "tensorflow":
        return [v.value.read_value().numpy() for v in model.metrics_variables]
    return [keras.ops.convert_to_numpy(v.value) for v in model.metrics_variables]


def _load_arrays(path: str) -> list:
    """The arrays of an `np.savez` file, in the order they were saved."""
    import numpy as np

    with np.load(path) as saved:
        return [saved[f"arr_{i}"] for i in range(len(saved.files))]


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
