"""Runs survive a kill at any moment: atomic, checked backups with a fallback, data orders keyed on
(seed, epoch), whole records, and resumes that end bit-identical to uninterrupted runs."""

import os
import warnings

import keras
import numpy as np
import pytest

import keras_gan
from keras_gan.callbacks import BackupError, ResumableBackup, backup_states, restorable_state
from keras_gan.datasets import EpochShuffledArrays
from tests.conftest import to_numpy
from tests.test_gan import _Interrupt


# ------------------------------------------------------------ data order
def test_epoch_order_is_a_function_of_seed_and_epoch_and_covers_every_example():
    x = np.arange(10, dtype="float32")[:, None]
    y = np.arange(10) * 10
    data = EpochShuffledArrays(x, y, batch_size=4, seed=7)
    assert len(data) == 3  # the last batch is partial, as with fit(x, batch_size=4)

    def epoch_batches(epoch):
        data.epoch = epoch
        return [data[i] for i in range(len(data))]

    first = epoch_batches(0)
    assert [len(b[0]) for b in first] == [4, 4, 2]
    seen = np.concatenate([b[0][:, 0] for b in first])
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))
    for bx, by in first:
        np.testing.assert_array_equal(by, bx[:, 0] * 10)  # pairs stay together
    again = EpochShuffledArrays(x, y, batch_size=4, seed=7)
    again.epoch = 0
    np.testing.assert_array_equal(again[1][0], first[1][0])  # a new object, same epoch: same batch
    second = np.concatenate([b[0][:, 0] for b in epoch_batches(1)])
    assert second.tolist() != seen.tolist()
    unshuffled = EpochShuffledArrays(x, batch_size=4, shuffle=False)
    np.testing.assert_array_equal(unshuffled[0], x[:4])
    with pytest.raises(ValueError, match="batch_size"):
        EpochShuffledArrays(x, batch_size=0)
    with pytest.raises(ValueError, match="one entry per example"):
        EpochShuffledArrays(x, y[:3])
    with pytest.raises(IndexError):
        data[3]


# ------------------------------------------------------------ in-process resume
def _small_gan():
    generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(6)])
    # An unseeded Dropout: on PyTorch it draws from torch's global generator, which the
    # backup must restore too.
    discriminator = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                                      keras.layers.Dropout(0.3), keras.layers.Dense(1)])
    gan = keras_gan.GAN(generator, discriminator, latent_dim=4)
    gan.compile()
    return gan


def _run(backup_dir, callbacks=(), epochs=4):
    keras.utils.set_random_seed(1)
    gan = _small_gan()
    data = EpochShuffledArrays(np.random.default_rng(0).normal(size=(40, 6)).astype("float32"),
                               batch_size=8, seed=3)
    backup = ResumableBackup(str(backup_dir))
    gan.fit(data, epochs=epochs, verbose=0, callbacks=[*callbacks, backup])
    return gan, backup


def _state(model):
    return [to_numpy(v).copy() for v in model.variables + model.optimizer.variables]


def test_a_resumed_shuffled_run_ends_bit_identical_to_an_uninterrupted_one(tmp_path):
    reference, _ = _run(tmp_path / "a")
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "b", [_Interrupt(2)])
    assert [s.epoch for s in backup_states(str(tmp_path / "b"))] == [2, 1]
    resumed, backup = _run(tmp_path / "b")
    assert backup.restored_epoch == 2
    for a, b in zip(_state(reference), _state(resumed)):
        np.testing.assert_array_equal(a, b)
    assert [s.epoch for s in backup_states(str(tmp_path / "b"))] == [4, 3]  # the newest two are kept


def _corrupt(path, how):
    if how == "truncated":
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) // 2)
    else:  # one flipped byte in the middle: same size, wrong checksum
        with open(path, "r+b") as f:
            f.seek(os.path.getsize(path) // 2)
            byte = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([byte[0] ^ 0xFF]))


@pytest.mark.parametrize("how", ["truncated", "flipped"])
def test_a_damaged_newest_backup_falls_back_to_the_previous_one(tmp_path, how):
    _run(tmp_path, epochs=3)
    newest = backup_states(str(tmp_path))[0]
    _corrupt(newest.weights_path, how)
    states = backup_states(str(tmp_path))
    assert states[0].problem and states[1].problem is None
    assert restorable_state(str(tmp_path)).epoch == 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, backup = _run(tmp_path, epochs=3)
    assert backup.restored_epoch == 2
    assert any("epoch 3" in str(w.message) and "resuming from the one after epoch 2" in str(w.message)
               for w in caught)
    assert all(s.problem is None for s in backup_states(str(tmp_path)))  # epoch 3 rewritten whole


def test_a_backup_with_no_whole_state_gives_a_clear_error_and_unfinished_writes_are_ignored(tmp_path):
    _run(tmp_path, epochs=2)
    os.makedirs(tmp_path / ".writing-epoch-000003")  # a write cut off by a kill
    (tmp_path / ".writing-epoch-000003" / "state.weights.h5").write_bytes(b"\x89HDF half")
    assert [s.epoch for s in backup_states(str(tmp_path))] == [2, 1]
    for state in backup_states(str(tmp_path)):
        _corrupt(state.weights_path, "truncated")
    with pytest.raises(BackupError, match="cannot be restored.*Move or delete that folder"):
        restorable_state(str(tmp_path))
    with pytest.raises(BackupError, match="cannot be restored"):
        _run(tmp_path, epochs=3)


def test_a_backup_written_by_keras_backup_and_restore_is_still_resumed(tmp_path):
    keras.utils.set_random_seed(1)
    gan = _small_gan()
    x = np.random.default_rng(0).normal(size=(16, 6)).astype("float32")
    gan.fit(x, batch_size=8, epochs=1, verbose=0,
            callbacks=[keras.callbacks.BackupAndRestore(str(tmp_path), delete_checkpoint=False)])
    assert restorable_state(str(tmp_path)).epoch == 1
    keras.utils.set_random_seed(2)
    other = _small_gan()
    backup = ResumableBackup(str(tmp_path))
    other.fit(x, batch_size=8, epochs=2, verbose=0, callbacks=[backup])
    assert backup.restored_epoch == 1
    assert sorted(os.listdir(tmp_path)) == ["epoch-000002"]  # the legacy files are gone once a state lands


def test_bad_backup_arguments():
    with pytest.raises(ValueError, match="keep must be an integer >= 2"):
        ResumableBackup("x", keep=1)
    with pytest.raises(ValueError, match="backup_dir is empty"):
        ResumableBackup("")


# ------------------------------------------------------------ zoo.train under SIGKILL
def _files(folder):
    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("*")}


def test_a_conditional_gan_trains_and_resumes_on_epoch_shuffled_images_and_labels(tmp_path):
    """ConditionalGAN takes EpochShuffledArrays(images, labels), as zoo.train feeds it; a dataset
    without labels is refused with the fix."""
    from tests.test_conditional_gan import compiled as compiled_cgan
    from tests.test_conditional_gan import ring, toy_cgan

    x, labels = ring(64)

    class AtStart(keras.callbacks.Callback):  # after ResumableBackup: the state fit starts from
        def on_train_begin(self, logs=None):
            self.state = _state(self.model)

    def run(epochs, backup_dir):
        keras.utils.set_random_seed(0)
        model = compiled_cgan(toy_cgan())
        data = EpochShuffledArrays(x, labels, batch_size=16, seed=2)
        backup, start = ResumableBackup(str(backup_dir)), AtStart()
        history = model.fit(data, epochs=epochs, verbose=0, callbacks=[backup, start])
        return model, backup, start.state, history.epoch

    reference, *_ = run(3, tmp_path / "a")
    one_epoch, *_ = run(1, tmp_path / "b")
    resumed, backup, start, epochs = run(3, tmp_path / "b")
    # It resumed: restored the state after epoch 1 (weights, both optimizers) and ran epochs 2 and 3
    # only. A restore that restored nothing would train 3 epochs from the seed and still end equal.
    assert backup.restored_epoch == 1 and epochs == [1, 2]
    for a, b in zip(_state(one_epoch), start, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(_state(reference), _state(resumed), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="needs class labels"):
        compiled_cgan(toy_cgan()).fit(EpochShuffledArrays(x, batch_size=16), epochs=1, verbose=0)


# ------------------------------------------------------------ backups inside an epoch
class _KillAt(keras.callbacks.Callback):
    """A kill (KeyboardInterrupt) just before step `batch` of epoch `epoch` (0-based)."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt("simulated kill")


class _EpochLogs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.rows = {}

    def on_epoch_end(self, epoch, logs=None):
        self.rows[epoch] = dict(logs)


def _run_steps(backup_dir, callbacks=(), epochs=3, every_steps=2, stop_on_signals=False):
    """60 examples in batches of 8: 8 steps an epoch (the last one ragged), a backup every 2."""
    from keras_gan.callbacks import stop_on_signals as signals_context

    keras.utils.set_random_seed(1)
    gan = _small_gan()
    data = EpochShuffledArrays(np.random.default_rng(0).normal(size=(60, 6)).astype("float32"),
                               batch_size=8, seed=3)
    backup, logs = ResumableBackup(str(backup_dir), every_steps=every_steps), _EpochLogs()
    import contextlib

    with signals_context() if stop_on_signals else contextlib.nullcontext():
        gan.fit(data, epochs=epochs, verbose=0, callbacks=[*callbacks, logs, backup])
    return gan, backup, logs.rows


def test_a_run_killed_mid_epoch_resumes_from_its_step_backup_bit_identical(tmp_path):
    """Weights, optimizers, seed states, torch's global generator (unseeded dropout), the data
    order and the epoch's logged means all continue where the step backup left them."""
    reference, _, reference_logs = _run_steps(tmp_path / "a")
    with pytest.raises(KeyboardInterrupt):
        _run_steps(tmp_path / "b", [_KillAt(1, 5)])  # after 5 steps of epoch 2: the backup after 4
    assert [(s.epoch, s.batch) for s in backup_states(str(tmp_path / "b"))] == [(1, 4), (1, 2)]
    assert restorable_state(str(tmp_path / "b")).where == "after step 4 of epoch 2"
    resumed, backup, logs = _run_steps(tmp_path / "b")
    assert (backup.restored_epoch, backup.restored_batch) == (1, 4)
    for a, b in zip(_state(reference), _state(resumed), strict=True):
        np.testing.assert_array_equal(a, b)
    assert logs == {1: reference_logs[1], 2: reference_logs[2]}  # the resumed epoch's means too
    # No step backup at an epoch's last step (its epoch backup follows); the newest two are kept.
    assert [(s.epoch, s.batch) for s in backup_states(str(tmp_path / "b"))] == [(3, 0), (2, 6)]


def test_sigterm_finishes_the_step_backs_up_and_stops_and_a_second_signal_during_the_save_is_ignored(
        tmp_path, capfd):
    import signal

    from keras_gan.callbacks import TrainingStopped
    from keras_gan.signals import stop_requested

    class Terminate(_KillAt):  # SIGTERM while step 3 of epoch 2 is about to run
        def on_train_batch_begin(self, batch, logs=None):
            if (self.epoch, batch) == self.at:
                os.kill(os.getpid(), signal.SIGTERM)

    original = ResumableBackup._write_files

    def write_files(self, writing, *rest):  # a second SIGTERM in the middle of the stop's backup write
        if stop_requested():
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self, writing, *rest)

    reference, *_ = _run_steps(tmp_path / "a", every_steps=None)
    ResumableBackup._write_files = write_files
    try:
        with pytest.raises(TrainingStopped, match="stopped by SIGTERM: backed up after step 4 of epoch 2") as stop:
            _run_steps(tmp_path / "b", [Terminate(1, 3)], every_steps=None, stop_on_signals=True)
    finally:
        ResumableBackup._write_files = original
    assert (stop.value.epoch, stop.value.batch) == (1, 4)
    assert "received while writing the backup: ignored" in capfd.readouterr().err
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # the handlers are put back
    assert restorable_state(str(tmp_path / "b")).where == "after step 4 of epoch 2"
    resumed, *_ = _run_steps(tmp_path / "b", every_steps=None)
    for a, b in zip(_state(reference), _state(resumed), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_failed_backup_write_leaves_the_previous_state_and_says_what_failed(tmp_path):
    import errno

    from keras_gan.callbacks import WriteFailed

    original = ResumableBackup._write_files

    def full_disk(self, writing, *rest):
        if writing.endswith("epoch-000001-batch-000004"):
            original(self, writing, *rest)  # everything written but the metadata: still not a state
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return original(self, writing, *rest)

    ResumableBackup._write_files = full_disk
    try:
        with pytest.raises(WriteFailed, match=r"writing the backup epoch-000001-batch-000004 in .* failed: "
                                              r"No space left on device \(ENOSPC\)"):
            _run_steps(tmp_path, epochs=2)
    finally:
        ResumableBackup._write_files = original
    assert sorted(os.listdir(tmp_path)) == ["epoch-000001", "epoch-000001-batch-000002"]  # no half state
    assert restorable_state(str(tmp_path)).where == "after step 2 of epoch 2"


def test_backups_inside_an_epoch_need_data_that_can_start_there():
    keras.utils.set_random_seed(1)
    gan = _small_gan()
    x = np.random.default_rng(0).normal(size=(16, 6)).astype("float32")
    with pytest.raises(ValueError, match="data that starts mid-epoch"):
        gan.fit(x, batch_size=8, epochs=1, verbose=0, callbacks=[ResumableBackup("unused", every_steps=1)])
    with pytest.raises(ValueError, match="every_steps must be a positive integer"):
        ResumableBackup("x", every_steps=0)
    with pytest.raises(ValueError, match="every_minutes must be a positive number"):
        ResumableBackup("x", every_minutes=-1)
