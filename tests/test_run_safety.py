"""Long runs lose at most a few steps: one writer per run folder, signals that save and stop, failed
writes and bad data that leave the last backup whole, and resumes inside an epoch that end
bit-identical to an uninterrupted run (issue 33). The in-process variants are in test_resume.py."""

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests.conftest import REPO, h5_arrays

_RUN_LOCK_FILE = os.path.join(REPO, "keras_gan", "run_lock.py")


def _run_lock_module():
    """keras_gan.run_lock loaded on its own (standard library only: no Keras in a child process)."""
    spec = importlib.util.spec_from_file_location("run_lock_alone", _RUN_LOCK_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------ one writer per folder
def test_a_second_writer_is_refused_naming_the_first_and_a_killed_runs_lock_is_taken_over(tmp_path):
    run_lock = _run_lock_module()
    folder = tmp_path / "run"
    first = run_lock.RunLock(str(folder))
    assert first.holder() is None and not folder.exists()  # asking creates nothing
    assert first.acquire("python -m zoo.train gan-mnist") is None
    second = run_lock.RunLock(str(folder))
    assert second.holder()["pid"] == os.getpid() and second.holder()["host"] == socket.gethostname()
    with pytest.raises(run_lock.RunLocked, match=rf"in use by another run: pid {os.getpid()} on host "
                                                 r".*, started .* UTC \(python -m zoo.train gan-mnist\)"):
        second.acquire()
    first.release()
    assert second.holder() is None and second.acquire() is None  # a clean end leaves no record behind
    second.release()

    # A run killed with SIGKILL: the kernel drops its lock, its record stays, the next run takes over.
    code = ("import importlib.util, os, signal, sys; spec = importlib.util.spec_from_file_location('l', sys.argv[1]); "
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); "
            "m.RunLock(sys.argv[2]).acquire('the killed run'); os.kill(os.getpid(), signal.SIGKILL)")
    killed = subprocess.run([sys.executable, "-c", code, _RUN_LOCK_FILE, str(folder)], timeout=60)
    assert killed.returncode == -signal.SIGKILL
    third = run_lock.RunLock(str(folder))
    assert third.holder() is None  # stale: nobody holds it
    stale = third.acquire()
    assert stale["command"] == "the killed run" and stale["pid"] != os.getpid()
    third.release()


def test_zoo_train_on_a_folder_another_run_holds_is_one_line_and_writes_nothing(tmp_path):
    run_lock = _run_lock_module()
    out = tmp_path / "run"
    lock = run_lock.RunLock(str(out))
    lock.acquire("python -m zoo.train gan-mnist --out run (the first)")
    before = {str(p): p.stat().st_mtime_ns for p in out.rglob("*")}
    try:
        proc = subprocess.run([sys.executable, "-m", "zoo.train", "gan-mnist", "--epochs", "1", "--out", str(out)],
                              cwd=REPO, capture_output=True, text=True, timeout=300,
                              env=dict(os.environ, KERAS_BACKEND=keras.backend.backend()))
        after = {str(p): p.stat().st_mtime_ns for p in out.rglob("*")}
    finally:
        lock.release()
    assert proc.returncode == 2, proc.stderr[-2000:]
    err = proc.stderr.strip().splitlines()[-1]
    assert err.startswith(f"error: --out {out} is in use by another run: pid {os.getpid()} on host "), err
    assert "(python -m zoo.train gan-mnist --out run (the first))" in err and "Traceback" not in proc.stderr
    assert after == before


# ------------------------------------------------------------ signals
def test_a_signal_during_a_backup_write_waits_for_the_write():
    from keras_gan import signals

    order = []
    previous = signal.signal(signal.SIGINT, lambda *_: order.append("handled"))
    try:
        with signals.deferred():
            os.kill(os.getpid(), signal.SIGINT)
            order.append("written")
    finally:
        signal.signal(signal.SIGINT, previous)
    assert order == ["written", "handled"]


# ------------------------------------------------------------ zoo.train, killed and stopped inside epochs
def _zoo_train(args, fault=None):
    env = dict(os.environ, KERAS_BACKEND=keras.backend.backend())
    command = ([sys.executable, "-m", "tests.fault_worker", fault, "--"] if fault else
               [sys.executable, "-m", "zoo.train"]) + args
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900, env=env)


def _last_line(proc) -> str:
    return proc.stderr.strip().splitlines()[-1]


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="twelve real zoo.train processes: once, in the torch pass (the backend whose unseeded "
                           "dropout draws from a global generator); the in-process variants (test_resume.py) "
                           "run on every backend")
def test_zoo_train_interrupted_every_way_inside_epochs_ends_bit_identical(data_dir, tmp_path, capsys):
    """One run, interrupted ten times at points inside and between epochs (5 steps an epoch, a step
    backup every 2), each time resumed by the same command, ends with the uninterrupted run's
    state, export and records; then a resume that changes the data or the seed, and damaged backups,
    are refused in one line with nothing written."""
    from keras_gan.callbacks import backup_states
    from tests.test_resume import _corrupt, _files

    common = ["gan-mnist", "--limit", "500", "--epochs", "3", "--data-dir", data_dir, "--verbose", "0",
              "--no-eval", "--backup-every-steps", "2"]
    reference, run = tmp_path / "reference", tmp_path / "run"
    done = _zoo_train(common + ["--out", str(reference)])
    assert done.returncode == 0, done.stderr[-3000:]
    args = common + ["--out", str(run)]
    backup = run / "backup"

    def states():
        return [(s.epoch, s.batch) for s in backup_states(str(backup)) if s.problem is None]

    # A full disk at the first step backup: nothing saved, one line, nothing half-written left.
    proc = _zoo_train(args, "enospc:backup:0:2")
    assert proc.returncode == 74, proc.stderr[-3000:]
    assert _last_line(proc) == (
        f"error: writing the backup epoch-000000-batch-000002 in {backup} failed: No space left on device "
        f"(ENOSPC): {backup}/.writing-epoch-000000-batch-000002/state.weights.h5; no backup was written yet "
        "(the run starts over). Free space or fix the folder, then run the same command to resume.")
    assert os.listdir(backup) == []
    # SIGKILL between steps (fetching step 4 of epoch 1): the step backup after 2 steps stands.
    assert _zoo_train(args, "mid-epoch:0:3").returncode == -9
    assert states() == [(0, 2)]
    # A full disk while writing each kind of record at epoch 1's end: one line naming it, and the
    # last good state; the partial history row and the epoch's other records are rewound on resume.
    for what, said in (("history", "writing history.csv failed"),
                       ("grid", "writing a sample grid (samples/) failed"),
                       ("export", "writing the validation score or the export (val_parzen.csv, "
                                  "export/gan-mnist.weights.h5, best.json) failed")):
        proc = _zoo_train(args, f"enospc:{what}:0")
        assert proc.returncode == 74, (what, proc.stderr[-3000:])
        line = _last_line(proc)
        assert line.startswith(f"error: {said}: No space left on device (ENOSPC)"), line
        assert f"the last good state is {backup}/epoch-000000-batch-000004 (after step 4 of epoch 1)" in line
        assert "Traceback" not in proc.stderr
    assert not list(run.rglob("*.tmp.weights.h5"))  # the half export was removed
    # SIGKILL between epoch 1's records and its backup, then halfway through a step backup's write.
    assert _zoo_train(args, "between-callbacks:0").returncode == -9
    assert _zoo_train(args, "step-backup-write:1:2").returncode == -9
    assert states() == [(1, 0), (0, 4)]
    # SIGTERM while step 4 of epoch 2 is fetched: that step finishes, a backup, exit 75.
    proc = _zoo_train(args, "sigterm:1:3")
    assert proc.returncode == 75, proc.stderr[-3000:]
    assert "SIGTERM received: finishing the step in flight" in proc.stderr
    assert _last_line(proc) == (f"zoo.train: stopped by SIGTERM: backed up after step 4 of epoch 2 in "
                                f"{backup}/epoch-000001-batch-000004; run the same command to resume. "
                                "(exit status 75)")
    # SIGKILL halfway through writing epoch 2's own backup (its weights file cut to half): not a state.
    assert _zoo_train(args, "backup-write:1").returncode == -9
    assert states() == [(1, 4), (1, 2)]
    # A bad file met at step 2 of epoch 3: one line naming it; the backups are untouched.
    proc = _zoo_train(args, "data-error:2:1")
    assert proc.returncode != 0 and "0042.png is truncated" in _last_line(proc), proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and states() == [(2, 0), (1, 4)]
    finished = _zoo_train(args)
    assert finished.returncode == 0, finished.stderr[-3000:]

    ours, theirs = (h5_arrays(str(out / "backup" / "epoch-000003" / "state.weights.h5")) for out in (run, reference))
    assert ours.keys() == theirs.keys()
    for key in ours:
        np.testing.assert_array_equal(ours[key], theirs[key], err_msg=key)
    for name in ("global_rng.npz",):  # numpy's, Python's and torch's generators too
        with np.load(run / "backup" / "epoch-000003" / name) as a, \
                np.load(reference / "backup" / "epoch-000003" / name) as b:
            for key in a.files:
                np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    export = "export/gan-mnist.weights.h5"
    assert (run / export).read_bytes() == (reference / export).read_bytes()
    for record in ("history.csv", "val_parzen.csv"):  # every epoch once, with the same values
        assert (run / record).read_text() == (reference / record).read_text(), record
    assert sorted(os.listdir(run / "samples")) == [f"samples_epoch_00{e}.png" for e in (1, 2, 3)]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["epochs_run"] == 3 and summary["optimizer_iterations"] == {"d": 15, "g": 15}
    assert not any(name.startswith(".writing") for name in os.listdir(backup))
    assert (run / "run.lock").read_text() == ""  # released: a clean end

    # A resume must keep --limit and --seed, and a damaged backup is one line, exit 2; nothing written.
    # (In this process: these refusals come before any training.)
    from zoo import train

    capsys.readouterr()
    before = _files(run)
    for changed, expected in ((["--limit", "400"], "--limit 500 (now 400)"), (["--seed", "5"], "--seed 0 (now 5)")):
        changed_args = args + ["--epochs", "4"]
        if changed[0] == "--limit":
            changed_args[changed_args.index("--limit") + 1] = changed[1]
        else:
            changed_args += changed
        assert train.main(changed_args) == 2
        err = capsys.readouterr().err
        assert expected in err, err[-2000:]
    assert _files(run) == before
    for state in backup_states(str(backup)):
        _corrupt(state.weights_path, "flipped")
    before = _files(run)
    assert train.main(args + ["--epochs", "4"]) == 2
    err = capsys.readouterr().err
    assert "cannot be restored" in err and "Traceback" not in err, err[-2000:]
    assert _files(run) == before


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "torch", reason="torchrun: the torch pass")
def test_torchrun_a_sigterm_to_one_process_stops_the_job_after_one_step_backup_and_a_relaunch_resumes(
        tmp_path, data_dir):
    from keras_gan.distributed import free_local_ports

    out, scratch = tmp_path / "run", tmp_path / "tmp"
    scratch.mkdir()
    env = dict(os.environ, KERAS_BACKEND="torch", PYTHONPATH=REPO, TMPDIR=str(scratch), KERAS_GAN_DATA_DIR=str(data_dir))

    def launch(*fault):
        command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port",
                   free_local_ports(1)[0], "-m", *(["tests.fault_worker", *fault, "--"] if fault else ["zoo.train"]),
                   "gan-mnist", "--limit", "300", "--epochs", "2", "--out", str(out), "--no-eval",
                   "--backup-every-steps", "1"]
        return subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=600)

    # 3 global steps an epoch; process 1 alone gets a SIGTERM while step 2 of epoch 2 is fetched.
    stopped = launch("sigterm-rank:1:1:1")
    assert stopped.returncode != 0, stopped.stderr[-3000:]
    assert "zoo.train (process 1): stopped by SIGTERM; process 0 wrote the backup." in stopped.stderr, \
        stopped.stderr[-3000:]
    assert "stopped by a signal to another process of the job: backed up after step 2 of epoch 2" \
        in stopped.stderr, stopped.stderr[-3000:]
    from keras_gan.callbacks import restorable_state

    assert restorable_state(str(out / "backup")).where == "after step 2 of epoch 2"
    assert len((out / "history.csv").read_text().strip().splitlines()) == 2  # header + epoch 1
    resumed = launch()
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "epoch-000001-batch-000002 (after step 2 of epoch 2)" in resumed.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["optimizer_iterations"] == {"d": 6, "g": 6}
    assert len((out / "history.csv").read_text().strip().splitlines()) == 3  # header + one row per epoch

    # Bit-identical to the same job uninterrupted: process 1's dropout masks (an unseeded Dropout in
    # gan-mnist's D: torch's global generator, a stream of process 1's own) continued from its own saved
    # state, not from process 0's.
    stopped_at, out = out, tmp_path / "reference"
    reference = launch()
    assert reference.returncode == 0, reference.stderr[-3000:]
    final = "backup/epoch-000002/state.weights.h5"
    ours, theirs = h5_arrays(str(stopped_at / final)), h5_arrays(str(out / final))
    assert ours.keys() == theirs.keys()
    for key in ours:
        np.testing.assert_array_equal(ours[key], theirs[key], err_msg=key)
    with np.load(stopped_at / "backup/epoch-000002/global_rng.npz") as a, \
            np.load(out / "backup/epoch-000002/global_rng.npz") as b:
        assert a["torch_processes"].shape[0] == 2  # one row per process
        assert not np.array_equal(a["torch_processes"][0], a["torch_processes"][1])  # streams of their own
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
