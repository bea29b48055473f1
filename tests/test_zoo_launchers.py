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
from tests.conftest import REPO, h5_arrays
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
    assert f"is set, but KERAS_BACKEND is {keras.backend.backend()!r}" in err and "TF_CONFIG with" in err
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "torch", reason="torchrun: the torch pass")
def test_torchrun_two_processes_process_zero_writes_and_a_relaunch_resumes(tmp_path, data_dir):
    out, scratch = tmp_path / "run", tmp_path / "tmp"
    scratch.mkdir()
    env = dict(os.environ, KERAS_BACKEND="torch", PYTHONPATH=REPO, TMPDIR=str(scratch),
               KERAS_GAN_DATA_DIR=str(data_dir))

    def launch(epochs):
        command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                   "--master-port", free_local_ports(1)[0], "-m", "zoo.train", "gan-mnist", "--limit", "300",
                   "--epochs", str(epochs), "--out", str(out), "--no-eval"]
        proc = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc

    launch(1)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["optimizer_iterations"] == {"d": 3, "g": 3}  # 300 / 100
    assert (out / "export" / "gan-mnist.weights.h5").is_file()
    # process 1's private folder was removed (torchrun keeps its own torchelastic_* folder there)
    assert not [p.name for p in scratch.iterdir() if not p.name.startswith("torchelastic_")]
    second = launch(2)
    assert "resuming from" in second.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["epochs_run"] == 2 and summary["optimizer_iterations"] == {"d": 6, "g": 6}
    assert len((out / "history.csv").read_text().strip().splitlines()) == 3  # header + one row per epoch


def _launch_two_processes(out, epochs: int, arguments: list, scratch, data_dir, rank_variables) -> str:
    """`python -m zoo.train` as 2 processes of one job (`rank_variables(rank)`: the launcher's
    variables); asserts both succeed; returns process 0's stderr."""
    processes = [subprocess.Popen(
        [sys.executable, "-m", "zoo.train", *arguments, "--epochs", str(epochs), "--out", str(out)],
        env=dict(os.environ, KERAS_BACKEND=keras.backend.backend(), PYTHONPATH=REPO, TMPDIR=str(scratch),
                 KERAS_GAN_DATA_DIR=str(data_dir), **rank_variables(rank)),
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for rank in (0, 1)]
    results = [p.communicate(timeout=300) for p in processes]
    for p, (_, err) in zip(processes, results):
        assert p.returncode == 0, err[-3000:]
    return results[0][1]


def _job_variables():
    """A function of the rank: this backend's launch variables for a 2-process job on localhost."""
    ports = free_local_ports(2)
    return lambda rank: local_job_variables(keras.backend.backend(), rank, 2, ports)


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() == "torch", reason="keras.distribution (JAX pass) or TF_CONFIG (TF pass)")
def test_two_processes_match_one_process_and_a_relaunch_resumes(tmp_path, data_dir):
    """Process 0 alone writes and a relaunch resumes. JAX: one program over the global batch, so
    the job's export is one process's to 1e-5. TensorFlow: each replica draws its own dropout
    masks (replica_streams), so the export is one process's only in distribution (the paper's D
    has dropout); TF's exactness with dropout off is test_multiprocess's."""
    from zoo import train

    out, scratch = tmp_path / "run", tmp_path / "tmp"
    scratch.mkdir()
    arguments = ["gan-mnist", "--limit", "300", "--no-eval", "--score-every", "2"]
    _launch_two_processes(out, 1, arguments, scratch, data_dir, _job_variables())
    summary = json.loads((out / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["optimizer_iterations"] == {"d": 3, "g": 3}  # 300 / 100
    assert "resuming from" in _launch_two_processes(out, 2, arguments, scratch, data_dir, _job_variables())
    summary = json.loads((out / "summary.json").read_text())
    assert summary["epochs_run"] == 2 and summary["optimizer_iterations"] == {"d": 6, "g": 6}
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
