"""`keras_gan.distributed`: which job the launcher's variables describe, and clear errors."""

import json

import keras
import pytest

from keras_gan import distributed

ENGINE_VARIABLES = {
    "torch": {"WORLD_SIZE": "2", "RANK": "0"},
    "jax": {"KERAS_DISTRIBUTION_NUM_PROCESSES": "2"},
    "tensorflow": {"TF_CONFIG": json.dumps({"cluster": {"worker": ["a:1", "b:2"]},
                                            "task": {"type": "worker", "index": 0}})},
}


@pytest.fixture(autouse=True)
def no_launcher(monkeypatch):
    for name in ("WORLD_SIZE", "RANK", "KERAS_DISTRIBUTION_NUM_PROCESSES", "TF_CONFIG"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("engine", sorted(ENGINE_VARIABLES))
def test_each_engines_variables_are_recognised(engine, monkeypatch):
    assert distributed.launcher_environment() is None
    for name, value in ENGINE_VARIABLES[engine].items():
        monkeypatch.setenv(name, value)
    assert distributed.launcher_environment() == engine


def test_one_process_jobs_and_one_worker_clusters_are_not_jobs(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1"]}, "task": {"index": 0}}))
    assert distributed.launcher_environment() is None
    job = distributed.initialize()
    assert (job.processes, job.index, job.strategy, job.is_process_zero) == (1, 0, None, True)


def test_bad_tf_config_is_named(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        distributed.launcher_environment()


def test_another_engines_variables_name_the_backend_to_use(monkeypatch):
    backend = keras.backend.backend()
    other = next(e for e in sorted(ENGINE_VARIABLES) if e != backend)
    for name, value in ENGINE_VARIABLES[other].items():
        monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=f"set KERAS_BACKEND={other}"):
        distributed.initialize()


@pytest.mark.parametrize("engine", sorted(ENGINE_VARIABLES))
def test_local_job_variables_describe_the_job_to_its_engine(engine, monkeypatch):
    """What the tests and the benchmark launch with is what `launcher_environment` reads."""
    ports = ["5001", "5002", "5003"]
    for rank in (0, 2):
        variables = distributed.local_job_variables(engine, rank, 3, ports)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        assert distributed.launcher_environment() == engine
        if engine == "tensorflow":
            config = json.loads(variables["TF_CONFIG"])
            assert config["task"]["index"] == rank and len(config["cluster"]["worker"]) == 3
        else:
            assert str(rank) in (variables.get("RANK"), variables.get("KERAS_DISTRIBUTION_PROCESS_ID"))


def test_local_job_variables_refuse_what_cannot_be_a_job():
    with pytest.raises(ValueError, match="at least 2 port"):
        distributed.local_job_variables("tensorflow", 0, 2, ["5001"])
    with pytest.raises(ValueError, match="rank in"):
        distributed.local_job_variables("jax", 2, 2, ["5001"])
    with pytest.raises(ValueError, match="backend must be"):
        distributed.local_job_variables("numpy", 0, 2, ["5001"])
