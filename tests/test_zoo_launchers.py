"""`python -m zoo.train NAME` under a multi-process launcher.

torchrun (torch pass), keras.distribution (JAX pass) and TF_CONFIG (TF pass):
2 processes train gan-mnist on their halves of each global batch; only
process 0 writes, into --out (the other's private folder is gone afterwards),
and a second launch resumes from process 0's backup. On JAX the job computes
the one-process run (one program over the global batch), so its export must
match one process's. Another backend's launch variables give one clear error
before anything is written. `EpochShuffledArrays(shard=...)`: the processes' slices
make up exactly the one-process batches.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_gan.datasets import EpochShuffledArrays
from tests.conftest import REPO, h5_arrays, one_pass
from keras_gan.distributed import free_local_ports, local_job_variables


def test_the_processes_slices_make_up_the_global_batches():
    x, y = np.arange(50).reshape(25, 2), np.arange(25)
    whole = EpochShuffledArrays(x, y, batch_size=8, seed=3)
    parts = [EpochShuffledArrays(x, y, batch_size=8, seed=3, shard=(r, 2)) for r in range(2)]
    assert len(parts[0]) == len(parts[1]) == 3  # whole global batches only: the same steps everywhere
    for epoch in (0, 1):
        for dataset in [whole, *parts]:
            dataset.epoch = epoch
        for i in range(3):
            joined = [np.concatenate([p[i][k] for p in parts]) for k in (0, 1)]
            np.testing.assert_array_equal(joined[0], whole[i][0])
            np.testing.assert_array_equal(joined[1], whole[i][1])
    with pytest.raises(ValueError, match="cannot be split evenly over 3 processes"):
        EpochShuffledArrays(x, batch_size=8, shard=(0, 3))
    with pytest.raises(ValueError, match="0 <= index < count"):
        EpochShuffledArrays(x, batch_size=8, shard=(2, 2))


_TF_CONFIG = json.dumps({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 0}})


def _other_backends(variables: dict, engine: str):
    return pytest.param(variables, marks=pytest.mark.skipif(
        keras.backend.backend() == engine, reason=f"{engine}'s own variables: this pass would join the job"))


@pytest.mark.parametrize("variables", [
    _other_backends({"TF_CONFIG": _TF_CONFIG}, "tensorflow"),
    _other_backends({"KERAS_DISTRIBUTION_NUM_PROCESSES": "2"}, "jax"),
    _other_backends({"WORLD_SIZE": "2", "RANK": "0"}, "torch"),
])
def test_another_backends_launch_variables_are_one_clear_error(variables, tmp_path, monkeypatch, capsys):
    from zoo import train

    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "run"
    assert train.main(["gan-mnist", "--limit", "200", "--epochs", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    if "WORLD_SIZE" in variables:  # torchrun's: refused before Keras starts
        assert err.startswith("error: torchrun started this process") and "pass --backend torch" in err
    else:
        assert f"is set, but KERAS_BACKEND is {keras.backend.backend()!r}" in err and "TF_CONFIG with" in err
    assert err.count("\n") == 1 and not out.exists()


_LAUNCH_VARIABLES = ("WORLD_SIZE", "RANK", "LOCAL_RANK", "KERAS_DISTRIBUTION_NUM_PROCESSES", "TF_CONFIG",
                     "KERAS_BACKEND", "KERAS_HOME")


def _keras_home(tmp_path, backend):
    home = tmp_path / "keras_home"
    home.mkdir()
    (home / "keras.json").write_text(json.dumps({"floatx": "float32", "epsilon": 1e-07, "backend": backend,
                                                 "image_data_format": "channels_last"}))
    return home


def test_the_backend_follows_keras_own_resolution(tmp_path):
    """--backend, then KERAS_BACKEND, then keras.json in KERAS_HOME, then Keras' default; under
    torchrun torch unless another backend was asked for explicitly (then one clear error)."""
    from zoo.train import resolve_backend

    home = _keras_home(tmp_path, "jax")
    config = str(home / "keras.json")
    env = {"KERAS_HOME": str(home)}
    assert resolve_backend(None, env) == ("jax", f"from {config}")
    assert resolve_backend(None, {**env, "KERAS_BACKEND": "torch"}) == ("torch", "KERAS_BACKEND=torch")
    assert resolve_backend("tensorflow", {**env, "KERAS_BACKEND": "torch"}) == ("tensorflow", "--backend tensorflow")
    assert resolve_backend(None, {"KERAS_HOME": str(tmp_path / "empty")})[0] == "tensorflow"  # Keras' default
    torchrun = {**env, "LOCAL_RANK": "0", "RANK": "0", "WORLD_SIZE": "2"}
    backend, said = resolve_backend(None, torchrun)
    assert backend == "torch" and said.startswith("torchrun started this process") and f"{config} says 'jax'" in said
    assert resolve_backend(None, {**torchrun, "KERAS_BACKEND": "torch"}) == ("torch", "KERAS_BACKEND=torch")
    for flag, extra, named in ((None, {"KERAS_BACKEND": "jax"}, "KERAS_BACKEND=jax"),
                               ("tensorflow", {}, "--backend tensorflow")):
        backend, error = resolve_backend(flag, {**torchrun, **extra})
        assert backend is None and named in error and "pass --backend torch" in error and "\n" not in error
    (home / "keras.json").write_text(json.dumps({"backend": "theano"}))
    backend, error = resolve_backend(None, env)
    assert backend is None and "'theano'" in error and "pass --backend" in error
    backend, error = resolve_backend(None, {"KERAS_BACKEND": "pytorch"})
    assert backend is None and "KERAS_BACKEND=pytorch is not a Keras backend" in error


def _run_train(tmp_path, variables: dict, *args):
    env = {k: v for k, v in os.environ.items() if k not in _LAUNCH_VARIABLES}
    env.update(PYTHONPATH=REPO, **variables)
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "zoo.train", "gan-mnist", "--limit", "200", "--epochs", "1",
                           "--out", str(out), *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    return proc, out


@one_pass("torch", "starts its own backends in subprocesses")
def test_without_keras_backend_the_command_uses_keras_json_or_torch_under_torchrun(tmp_path):
    """The README's `torchrun ... -m zoo.train` used to fall back to JAX on every rank. A 2-worker
    TF_CONFIG stops each run before it writes anything, and its error names the backend Keras
    actually started."""
    home = _keras_home(tmp_path, "jax")
    cluster = {"TF_CONFIG": _TF_CONFIG, "KERAS_HOME": str(home)}
    proc, out = _run_train(tmp_path, cluster)
    assert proc.returncode == 2 and not out.exists()
    assert f"zoo.train: Keras backend jax (from {home / 'keras.json'})" in proc.stderr
    assert "is set, but KERAS_BACKEND is 'jax'" in proc.stderr  # what Keras really runs on
    proc, out = _run_train(tmp_path, {**cluster, "LOCAL_RANK": "0", "RANK": "0", "WORLD_SIZE": "1"})
    assert proc.returncode == 2 and not out.exists()
    assert "zoo.train: Keras backend torch (torchrun started this process" in proc.stderr
    assert "is set, but KERAS_BACKEND is 'torch'" in proc.stderr
    proc, out = _run_train(tmp_path, {"KERAS_HOME": str(home), "LOCAL_RANK": "0", "RANK": "0", "WORLD_SIZE": "2",
                                      "KERAS_BACKEND": "jax"})
    assert proc.returncode == 2 and not out.exists() and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("error: torchrun started this process") and "KERAS_BACKEND=jax" in proc.stderr


@pytest.mark.parametrize("variables, said", [
    ({"TF_CONFIG": "{bad"}, "TF_CONFIG is not valid JSON of a cluster: '{bad'; set it as"),
    ({"TF_CONFIG": '{"cluster": {"worker": 5}}'}, "TF_CONFIG is not valid JSON of a cluster"),
    ({"KERAS_DISTRIBUTION_NUM_PROCESSES": "two"}, "KERAS_DISTRIBUTION_NUM_PROCESSES='two' is not a number"),
])
def test_a_malformed_launch_variable_is_one_line_and_writes_nothing(variables, said, tmp_path, monkeypatch, capsys):
    from zoo import train

    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "run"
    assert train.main(["gan-mnist", "--limit", "200", "--epochs", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {said}") and err.count("\n") == 1 and not out.exists()


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "torch", reason="torchrun: the torch pass")
def test_torchrun_two_processes_process_zero_writes(tmp_path, data_dir):
    """A torchrun job started as the README starts it. Its relaunch and resume (mid-epoch, bit-identical to
    the uninterrupted job) are tested in tests/test_run_safety.py, which launches torchrun three times."""
    out, scratch = tmp_path / "run", tmp_path / "tmp"
    scratch.mkdir()
    # As the README runs it: no KERAS_BACKEND (it used to fall back to JAX on every rank) and a
    # keras.json that names another backend; under torchrun that is torch, and it says so.
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env.update(PYTHONPATH=REPO, TMPDIR=str(scratch), KERAS_GAN_DATA_DIR=str(data_dir),
               KERAS_HOME=str(_keras_home(tmp_path, "jax")))

    def launch(epochs):
        command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                   "--master-port", free_local_ports(1)[0], "-m", "zoo.train", "gan-mnist", "--limit", "300",
                   "--epochs", str(epochs), "--out", str(out), "--no-eval"]
        proc = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc

    first = launch(1)
    assert first.stderr.count("zoo.train: Keras backend torch (torchrun started this process") == 2  # each rank
    summary = json.loads((out / "summary.json").read_text())
    assert summary["backend"] == "torch" and summary["processes"] == 2 and summary["optimizer_iterations"] == {"d": 3, "g": 3}  # 300 / 100
    assert (out / "export" / "gan-mnist.weights.h5").is_file()
    # process 1's private folder was removed (torchrun keeps its own torchelastic_* folder there)
    assert not [p.name for p in scratch.iterdir() if not p.name.startswith("torchelastic_")]
    assert len((out / "history.csv").read_text().strip().splitlines()) == 2  # header + the epoch


def _launch_two_processes(out, epochs: int, arguments: list, scratch, data_dir, rank_variables,
                          fault: str | None = None) -> list:
    """`python -m zoo.train` as 2 processes of one job (`rank_variables(rank)`: the launcher's
    variables), through tests/fault_worker.py when `fault` is given; returns each process's
    (exit status, stderr)."""
    module = ["tests.fault_worker", fault, "--"] if fault else ["zoo.train"]
    processes = [subprocess.Popen(
        [sys.executable, "-m", *module, *arguments, "--epochs", str(epochs), "--out", str(out)],
        env=dict(os.environ, KERAS_BACKEND=keras.backend.backend(), PYTHONPATH=REPO, TMPDIR=str(scratch),
                 **({"KERAS_GAN_DATA_DIR": str(data_dir)} if data_dir else {}), **rank_variables(rank)),
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for rank in (0, 1)]
    return [(p.returncode, err) for p, (_, err) in zip(processes, [p.communicate(timeout=300) for p in processes])]


def _job_variables():
    """A function of the rank: this backend's launch variables for a 2-process job on localhost."""
    ports = free_local_ports(2)
    return lambda rank: local_job_variables(keras.backend.backend(), rank, 2, ports)


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() == "torch", reason="keras.distribution (JAX pass) or TF_CONFIG (TF pass); "
                    "torchrun's is tests/test_run_safety.py's")
def test_a_sigterm_to_one_process_stops_the_job_and_a_relaunch_resumes(tmp_path, data_dir):
    """A SIGTERM to process 1 alone mid-epoch: every process stops after the same step (the stop is
    agreed each step: JAX's all-gather, TensorFlow's strategy reduce), process 0's step backup is the
    job's, and the relaunch finishes from it. Process 0 alone writes. JAX: one program over the
    global batch, so the job's export is one process's to 1e-5. TensorFlow: each replica draws its
    own dropout masks (replica_streams), so the export is one process's only in distribution (the
    paper's D has dropout); TF's exactness with dropout off is test_multiprocess's."""
    from zoo import train
    from keras_gan.callbacks import restorable_state

    out, scratch = tmp_path / "run", tmp_path / "tmp"
    scratch.mkdir()
    arguments = ["gan-mnist", "--limit", "300", "--no-eval", "--score-every", "2", "--backup-every-steps", "1"]
    # 3 global steps an epoch; process 1 alone is signalled while a batch of epoch 2 is fetched.
    (code0, err0), (code1, err1) = _launch_two_processes(out, 2, arguments, scratch, data_dir, _job_variables(),
                                                         fault="sigterm-rank:1:1:1")
    assert code0 == code1 == 75, (err0[-3000:], err1[-3000:])
    assert "stopped by a signal to another process of the job: backed up after step" in err0, err0[-3000:]
    assert "zoo.train (process 1): stopped by SIGTERM; process 0 wrote the backup." in err1, err1[-3000:]
    assert restorable_state(str(out / "backup")).where.endswith("of epoch 2")
    assert len((out / "history.csv").read_text().strip().splitlines()) == 2  # header + epoch 1
    (code0, err0), (code1, err1) = _launch_two_processes(out, 2, arguments, scratch, data_dir, _job_variables())
    assert code0 == code1 == 0, (err0[-3000:], err1[-3000:])
    assert "resuming from" in err0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["epochs_run"] == 2
    assert summary["optimizer_iterations"] == {"d": 6, "g": 6}  # 300 / 100 a epoch
    assert len((out / "history.csv").read_text().strip().splitlines()) == 3  # header + one row per epoch
    assert (out / "val_parzen.csv").is_file()  # process 0 scored alone
    assert not list(scratch.iterdir())  # process 1's private backup copy was removed
    if keras.backend.backend() != "jax":
        return
    # one process, the same two epochs in one go
    assert train.main([*arguments, "--epochs", "2", "--out", str(tmp_path / "one")]) == 0
    job = h5_arrays(out / "export" / "gan-mnist.weights.h5")
    one = h5_arrays(tmp_path / "one" / "export" / "gan-mnist.weights.h5")
    assert job.keys() == one.keys() and len(one) >= 10
    for name in one:
        np.testing.assert_allclose(job[name], one[name], atol=1e-5, err_msg=name)


def test_replica_batches_give_each_process_whole_batches_of_the_per_replica_dataset():
    """pix2pix's batch of 1 cannot be split: process r of N takes batch j*N + r of global step j, from
    its own copy of the dataset; joined, the N batches are the global batch (TF workers, and the
    one-process run). Orders follow (seed, epoch), so a fresh copy told the epoch (a resume) agrees."""
    from keras_gan.datasets import ReplicaBatches

    x, y = np.arange(22).reshape(11, 2), np.arange(11)
    per_replica = lambda: EpochShuffledArrays(x, y, batch_size=2, seed=3)  # 5 full batches, 1 ragged
    parts = [ReplicaBatches(per_replica(), 2, r) for r in range(2)]
    whole = ReplicaBatches(per_replica(), 2)
    assert len(whole) == len(parts[0]) == len(parts[1]) == 2  # whole global steps, the ragged batch left out
    seen = []
    for epoch in (0, 1):
        for dataset in [whole, *parts]:
            dataset.epoch = epoch
        reference = per_replica()
        reference.epoch = epoch
        for step in range(2):
            for r in range(2):
                np.testing.assert_array_equal(parts[r][step][0], reference[2 * step + r][0])
            joined = [np.concatenate([p[step][k] for p in parts]) for k in (0, 1)]
            np.testing.assert_array_equal(joined[0], whole[step][0])
            np.testing.assert_array_equal(joined[1], whole[step][1])
            assert whole[step][0].shape == (4, 2)
        seen.append(np.concatenate([whole[s][1] for s in range(2)]))
    assert not np.array_equal(seen[0], seen[1])  # a new order each epoch
    parts[0].on_epoch_end()
    assert parts[0].epoch == parts[0].dataset.epoch == 2
    with pytest.raises(ValueError, match="not one per process for 6 processes"):
        ReplicaBatches(per_replica(), 6)
    with pytest.raises(ValueError, match=r"index must be None \(global batches\) or in \[0, 2\)"):
        ReplicaBatches(per_replica(), 2, 2)
    with pytest.raises(ValueError, match="needs a keras.utils.PyDataset that orders itself"):
        ReplicaBatches(x, 2, 0)


@one_pass("jax", "argument checks, no model")
def test_norm_is_for_pix2pix_and_a_resume_must_keep_it(tmp_path, capsys):
    from zoo import train

    with pytest.raises(SystemExit):
        train.parse_args(["gan-mnist", "--norm", "batch"])
    assert "--norm applies to the pix2pix recipes' batch norm; gan-mnist has none" in capsys.readouterr().err
    assert train.parse_args(["pix2pix-facades", "--norm", "batch"]).norm == "batch"
    run = tmp_path / "run.json"
    run.write_text(json.dumps({"limit": 4, "seed": 0}))  # written before --norm: synchronized then
    restored = object()
    assert train._run_settings_mismatch(str(run), restored, {"limit": 4, "seed": 0, "norm": "syncbatch"}) is None
    said = train._run_settings_mismatch(str(run), restored, {"limit": 4, "seed": 0, "norm": "batch"})
    assert "--norm syncbatch (now batch)" in said


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "torch", reason="torchrun: the torch pass (JAX and TensorFlow "
                    "compile the 256x256 networks for minutes on CI's CPUs; run by hand, README)")
def test_pix2pix_trains_one_image_per_process_under_torchrun(tmp_path, data_dir):
    """The README's `torchrun ... zoo.train pix2pix-facades`: 4 pairs on 2 processes are 2 global
    steps of 2 images (one per process); process 0 alone writes, and its sample grid, translated
    alone with synchronized batch norm, calls no collective (it used to wait for the other rank,
    which had left the job)."""
    out, scratch = tmp_path / "run", tmp_path / "tmp"
    scratch.mkdir()
    arguments = ["pix2pix-facades", "--limit", "4", "--no-eval", "--score-every", "5"]
    env = dict(os.environ, PYTHONPATH=REPO, TMPDIR=str(scratch), KERAS_GAN_DATA_DIR=str(data_dir))
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                           "--master-port", free_local_ports(1)[0], "-m", "zoo.train", *arguments,
                           "--epochs", "1", "--out", str(out)], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    norm = "syncbatch"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["global_batch_size"] == 2 and summary["norm"] == norm
    assert summary["optimizer_iterations"] == {"d": 2, "g": 2}  # 4 pairs / 2 per global step
    assert json.loads((out / "run.json").read_text())["norm"] == norm
    assert (out / "samples" / "samples_epoch_001.png").is_file()
    assert len((out / "history.csv").read_text().strip().splitlines()) == 2
    assert not [p.name for p in scratch.iterdir() if not p.name.startswith("torchelastic_")]


@pytest.mark.slow
def test_pix2pix_folder_training_runs_under_each_launcher(tmp_path):
    """`zoo.train pix2pix-folder --data PATH` on a user's own pairs (4 aligned A|B files, 32x32) as a
    2-process job of this pass's backend (torchrun; JAX's keras.distribution variables; TF_CONFIG):
    one pair per process per step, process 0 alone writes (history, grid, export with its sha256),
    and the export translates in one process."""
    from tests import image_folders

    data, out, scratch = tmp_path / "pairs", tmp_path / "run", tmp_path / "tmp"
    scratch.mkdir()
    image_folders.aligned_pairs(str(data), count=4, size=32)
    image_folders.aligned_pairs(str(data), count=2, size=32, split="test")
    arguments = ["pix2pix-folder", "--data", str(data), "--image-size", "32", "--width", "2", "--verbose", "0"]
    if keras.backend.backend() == "torch":
        env = dict(os.environ, PYTHONPATH=REPO, TMPDIR=str(scratch), KERAS_BACKEND="torch")
        proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                               "--master-port", free_local_ports(1)[0], "-m", "zoo.train", *arguments,
                               "--epochs", "1", "--out", str(out)], env=env, cwd=REPO, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
    else:
        results = _launch_two_processes(out, 1, arguments, scratch, None, _job_variables())
        assert [code for code, _ in results] == [0, 0], [err[-3000:] for _, err in results]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["global_batch_size"] == 2
    assert summary["optimizer_iterations"] == {"d": 2, "g": 2}  # 4 pairs / 2 per global step
    export = out / "export" / "pix2pix-folder.weights.h5"
    assert summary["sha256"] == (out / "export" / "pix2pix-folder.weights.h5.sha256").read_text().split()[0]
    assert (out / "samples" / "samples_epoch_001.png").is_file()
    assert len((out / "history.csv").read_text().strip().splitlines()) == 2
    assert not [p.name for p in scratch.iterdir() if not p.name.startswith("torchelastic_")]
    from keras_gan import translate

    translated = tmp_path / "translated"
    assert translate.main([str(export), str(data / "test"), str(translated), "--half", "A", "--quiet"]) == 0
    assert sorted(os.listdir(translated)) == ["1.png", "2.png"]
