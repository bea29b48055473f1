"""Command lines of the evaluation package, run as users run them (subprocesses).

Good runs write a table and a JSON whose numbers are checked against a direct
computation; every kind of bad input exits with status 2, says why on
stderr, and writes no JSON.
"""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from evaluation import paired, parzen
from keras_gan import datasets
from tests.conftest import REPO, one_pass


def run(module, *args, env_extra=None):
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", module, *map(str, args)], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def real_samples(data_dir, tmp_path_factory):
    """600 real MNIST training images saved as a uint8 .npy, as a user would save samples."""
    images = datasets.mnist("train", data_dir=data_dir, limit=600).images
    path = tmp_path_factory.mktemp("samples") / "real.npy"
    np.save(path, np.round(images * 255).astype(np.uint8))
    return str(path)


@one_pass("tensorflow", "the command line's output; models load on every backend in test_zoo")
def test_parzen_good_run_prints_the_table_and_writes_json(data_dir, real_samples, tmp_path):
    out = tmp_path / "parzen.json"
    cache = {parzen.CACHE_ENV: str(tmp_path / "cache")}
    args = [real_samples, "--data-dir", data_dir, "--num-samples", 500, "--num-validation", 100,
            "--num-test", 80, "--json", out]
    done = run("evaluation.parzen", *args, env_extra=cache)
    assert done.returncode == 0, done.stderr
    assert "real data: MNIST train[0:500]" in done.stdout and "mean +- se" in done.stdout
    result = json.loads(out.read_text())
    assert result["n"] == 80 and result["num_samples"] == 500 and result["family"] is None
    assert len(result["validation_means"]) == 10 and result["baseline"]["n"] == 80
    # The JSON's numbers are the protocol's, recomputed here directly.
    samples = np.load(real_samples)[:500].astype(np.float32) / 255
    validation = datasets.mnist("validation", data_dir=data_dir, limit=100).images
    test = datasets.mnist("test", data_dir=data_dir, limit=80).images
    sigma, _ = parzen.select_sigma(samples, validation)
    lls = parzen.parzen_log_likelihood(samples, test, sigma)
    assert result["sigma"] == sigma
    assert result["mean"] == pytest.approx(lls.mean(), abs=1e-9)
    assert result["se"] == pytest.approx(np.std(lls) / math.sqrt(80), abs=1e-9)
    assert len(list((tmp_path / "cache").glob("parzen_baseline_*.json"))) == 1


def test_parzen_main_with_a_given_sigma(data_dir, real_samples, tmp_path, capsys):
    """`main(argv)` is what `python -m evaluation.parzen` runs; called in-process here."""
    out = tmp_path / "given.json"
    status = parzen.main([real_samples, "--data-dir", data_dir, "--num-samples", "300", "--num-test", "50",
                          "--sigma", "0.2", "--no-baseline", "--json", str(out)])
    printed = capsys.readouterr().out
    assert status == 0 and "0.2000" in printed and "real data" not in printed
    result = json.loads(out.read_text())
    assert result["sigma"] == 0.2 and result["validation_means"] == {} and result["baseline"] is None


def test_importing_the_package_and_its_command_lines_loads_no_framework():
    """So `--help` and argument errors answer at once, without starting Keras."""
    code = (
        "import sys, evaluation, evaluation.sources, evaluation.parzen, evaluation.paired, evaluation.label_agreement, evaluation.fcn_score\n"
        "import evaluation.prdc, evaluation.prdc_features, evaluation.knn_metrics\n"
        "print(sorted(m for m in ('keras', 'tensorflow', 'torch', 'jax') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr


def test_help_shows_examples():
    for module in ("evaluation.parzen", "evaluation.paired", "evaluation.label_agreement", "evaluation.prdc"):
        done = run(module, "--help")
        assert done.returncode == 0 and "examples:" in done.stdout and "exit status 2" in done.stdout.lower()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--num-samples", "0"], "--num-samples: must be positive"),
        (["--sigma", "-1"], "--sigma: must be positive"),
        (["--num-samples", "many"], "expected an integer"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_parzen_bad_arguments_exit_2_without_json(real_samples, tmp_path, args, message):
    out = tmp_path / "out.json"
    done = run("evaluation.parzen", real_samples, *args, "--json", out)
    assert done.returncode == 2 and message in done.stderr
    assert not out.exists()


def test_parzen_missing_file_exits_2_without_json(tmp_path):
    out = tmp_path / "out.json"
    done = run("evaluation.parzen", tmp_path / "missing.npy", "--json", out)
    assert done.returncode == 2 and "Samples file not found" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()
    done = run("evaluation.parzen", tmp_path / "x.npy", "--json", tmp_path / "no-folder" / "out.json")
    assert done.returncode == 2 and "does not exist" in done.stderr


# In-process from here: `python -m evaluation.parzen` is `sys.exit(main())`, and
# a subprocess that imports Keras costs 10-20 s on 2 shared cores.
def test_parzen_main_unknown_name_bad_data_and_too_few_samples_exit_2(data_dir, real_samples, tmp_path, capsys):
    out = tmp_path / "out.json"
    for args, message in [
        (["no-such-zoo-model", "--data-dir", data_dir], "Unknown zoo model 'no-such-zoo-model'"),
        ([real_samples, "--data-dir", data_dir, "--num-samples", "700"], "holds 600 rows but 700"),
        ([real_samples, "--data-dir", str(tmp_path / "no-data")], "train-images-idx3-ubyte"),
        ([real_samples, "--data-dir", data_dir, "--num-validation", "20000"], "num_validation"),
    ]:
        status = parzen.main(args + ["--num-test", "10", "--no-baseline", "--json", str(out)])
        assert status == 2 and message in capsys.readouterr().err
        assert not out.exists()


def test_paired_bad_inputs_exit_2_without_json(tmp_path, capsys):
    out = tmp_path / "out.json"
    for args, message in [
        (["model.keras", "--mode", "sideways"], "invalid choice"),
        ([tmp_path / "missing.keras"], "Model file not found"),
    ]:
        done = run("evaluation.paired", *args, "--json", out)
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr
        assert not out.exists()
    assert paired.main(["no-such-zoo-model", "--json", str(out)]) == 2
    assert "no-such-zoo-model" in capsys.readouterr().err and not out.exists()


@one_pass("tensorflow", "the command line's output; models load on every backend in test_zoo")
@pytest.mark.slow  # building the first U-Net takes ~40 s on JAX on 2 shared cores (XLA compiles)
def test_paired_good_run_on_the_real_facades_test_split(data_dir, tmp_path):
    import keras_gan
    from keras_gan.networks import pix2pix as pix2pix_networks

    model = keras_gan.Pix2Pix(
        pix2pix_networks.unet_generator(image_size=16, ngf=4),
        pix2pix_networks.patchgan_discriminator(image_size=16, ndf=4, n_layers=1),
    )
    path = tmp_path / "p2p.keras"
    model.save(path)
    out = tmp_path / "paired.json"
    done = run("evaluation.paired", path, "--data-dir", data_dir, "--limit", 6, "--mode", "eval", "--json", out)
    assert done.returncode == 0, done.stderr
    assert "SSIM" in done.stdout and "facades test, 6 images" in done.stdout
    result = json.loads(out.read_text())
    inputs, targets = datasets.facades("test", data_dir=data_dir, image_size=16, limit=6)
    expected = paired.paired_metrics(model.translate(inputs, mode="eval"), targets)
    assert result["n"] == 6 and len(result["per_image"]["ssim"]) == 6
    for name in ("l1", "psnr", "ssim"):
        assert result[name] == pytest.approx(expected[name], abs=1e-5)


# ------------------------------------------------------------ writing --json

def test_json_target_that_cannot_be_written_is_found_before_the_work(tmp_path):
    from evaluation.results import run_command

    ran = []
    args = lambda argv: type("Args", (), {"json": argv[0]})()
    for unwritable in ("/proc/keras_gan_result.json", str(tmp_path / "missing" / "r.json")):
        status = run_command([unwritable], args, lambda a: ran.append(1), str, dict)
        assert status == 2 and not ran and not os.path.exists(unwritable)


def test_json_is_written_through_a_symlink_with_the_umask_permissions(tmp_path):
    from evaluation.results import run_command

    real = tmp_path / "real.json"
    real.write_text("{}")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    args = lambda argv: type("Args", (), {"json": argv[0]})()
    old = os.umask(0o022)
    try:
        assert run_command([str(link)], args, lambda a: {"score": 1.5}, str, lambda r: r) == 0
    finally:
        os.umask(old)
    assert link.is_symlink() and json.loads(real.read_text()) == {"score": 1.5}
    assert (real.stat().st_mode & 0o777) == 0o644
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp_")]


def test_value_range_option_scores_tanh_samples(data_dir, tmp_path):
    """A tanh generator's samples in [-1, 1] are refused with a hint, and scored with --value-range -1 1."""
    real = datasets.mnist("test", data_dir=data_dir, limit=200).images
    path = tmp_path / "tanh.npy"
    np.save(path, real * 2.0 - 1.0)
    common = [str(path), "--data-dir", data_dir, "--num-samples", "200", "--num-test", "100", "--sigma", "0.2",
              "--no-baseline"]
    out = tmp_path / "r.json"
    assert parzen.main(common + ["--json", str(out)]) == 2 and not out.exists()
    assert parzen.main(common + ["--value-range", "-1", "1", "--json", str(out)]) == 0
    mapped = json.loads(out.read_text())
    out.unlink()
    np.save(path, real)
    assert parzen.main(common[:1] + common[1:] + ["--json", str(out)]) == 0
    assert json.loads(out.read_text())["mean"] == pytest.approx(mapped["mean"], abs=1e-3)


# ------------------------------------------- bad numbers, files and environments (issue 33, item 7)

@pytest.fixture
def no_generation(monkeypatch):
    """Fails the test if a model starts generating: the refusals below come before any sample."""
    from evaluation import sources

    def generate(*args, **kwargs):
        raise AssertionError("samples were generated before the sample count was refused")

    monkeypatch.setattr(sources, "_generate", generate)


@pytest.mark.parametrize("module", ["parzen", "fidelity"])
def test_a_sample_count_beyond_memory_is_refused_up_front_with_the_estimate(module, data_dir, tmp_path, capsys,
                                                                           no_generation):
    """`--num-samples 1000000000000` used to start generating and grow past 3.8 GB."""
    import importlib

    from evaluation import sources

    main = importlib.import_module(f"evaluation.{module}").main
    out = tmp_path / "out.json"
    assert main(["gan-mnist", "--data-dir", data_dir, "--num-samples", str(10**12), "--json", str(out)]) == 2
    err = capsys.readouterr().err
    need = 10**12 * 28 * 28 * 4 * sources.SAMPLE_COPIES
    assert err.startswith("error: 1000000000000 samples of ")
    assert f"(float32 (28, 28, 1)) need about {sources.format_bytes(need)} of memory (3136 bytes each" in err
    most = int(err.split("ask for at most ")[1].split()[0])  # what the memory available now holds
    assert 0 < most < 10**12 and err.count("\n") == 1 and not out.exists()


def test_the_sample_bound_is_what_the_memory_holds(real_samples, data_dir, tmp_path, monkeypatch, capsys):
    """With 1 MiB available, 600 float32 MNIST samples (3 copies: 5.4 MiB) are refused and the
    largest count that fits, 1 MiB / (3136 bytes x 3) = 111, is named; 111 samples pass the check."""
    from evaluation import sources

    monkeypatch.setattr(sources, "available_memory_bytes", lambda: 2**20)
    out = tmp_path / "out.json"
    common = ["--data-dir", data_dir, "--num-test", "10", "--sigma", "0.2", "--no-baseline", "--json", str(out)]
    assert parzen.main([real_samples, "--num-samples", "600", *common]) == 2
    err = capsys.readouterr().err
    assert "600 samples of " in err and "need about 5.4 MiB" in err and "but 1.0 MiB is available" in err
    assert "ask for at most 111 samples" in err and not out.exists()
    assert parzen.main([real_samples, "--num-samples", "111", *common]) == 0 and out.exists()
    sources.check_sample_memory(111, 3136, "x")
    with pytest.raises(sources.SourceError, match="ask for at most 111 samples"):
        sources.check_sample_memory(112, 3136, "x")


def test_fidelity_cache_dir_naming_a_file_is_one_line_and_changes_nothing(tmp_path, capsys):
    """It used to end in a FileExistsError traceback after the work."""
    from evaluation import fidelity

    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("mine")
    out = tmp_path / "out.json"
    for cache, said in ((not_a_folder, f"{not_a_folder} is a file, not a folder"),
                        (not_a_folder / "sub", f"{not_a_folder} is a file, so the folder {not_a_folder / 'sub'}")):
        assert fidelity.main(["noise", "--metrics", "isc", "--num-samples", "20", "--cache-dir", str(cache),
                              "--json", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"error: --cache-dir: {said}" in err and "Traceback" not in err
    assert not_a_folder.read_text() == "mine" and not out.exists()
    with pytest.raises(ValueError, match="cache_root: .* is a file, not a folder"):
        fidelity.compute_metrics("noise", metrics="isc", num_samples=20, cache_root=str(not_a_folder))


@pytest.mark.parametrize("content, said", [
    (b"", "it is empty (0 bytes), cut short while being written or copied; save the model again"),
    (b"not a zip archive", "its 17 bytes are not a .keras archive (a zip file written by model.save)"),
])
def test_an_empty_or_corrupt_keras_file_is_named_as_such(content, said, tmp_path, capsys):
    """Keras itself says "File not found" for both."""
    model = tmp_path / "model.keras"
    model.write_bytes(content)
    out = tmp_path / "out.json"
    assert parzen.main([str(model), "--json", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: Cannot load the Keras model file {model}: {said}") and "not found" not in err
    assert err.count("\n") == 1 and not out.exists() and model.read_bytes() == content


def test_a_dangling_json_symlink_is_named_as_a_link(real_samples, tmp_path, capsys):
    """It used to say that its folder (which exists) does not exist."""
    link = tmp_path / "result.json"
    link.symlink_to(tmp_path / "gone" / "result.json")
    assert parzen.main([real_samples, "--num-samples", "100", "--json", str(link)]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: --json: {link} is a symbolic link to {tmp_path / 'gone' / 'result.json'}, whose folder "
                   "does not exist; point the link at an existing folder, remove it, or give another --json path.\n")
    assert link.is_symlink() and not (tmp_path / "gone").exists()


@pytest.mark.parametrize("array, said", [
    (np.zeros((5, 3), "float32"), "shape.npy has shape (5, 3); expected MNIST-like grey images"),
    (np.where(np.arange(5)[:, None, None] == 2, np.nan, np.zeros((5, 28, 28))).astype("float32"),
     "allnan.npy contains NaN or infinite values (in 1 of 5 samples); generate or save the samples again"),
    (np.zeros((5, 28, 28), "int32"), "dtype.npy has dtype int32; expected uint8"),
    (np.full((5, 28, 28), 3.0, "float32"), "range.npy has values in [3, 3], outside the expected range"),
])
def test_a_samples_files_problems_are_said_in_the_singular(array, said, data_dir, tmp_path, capsys):
    path = tmp_path / said.split()[0]
    np.save(path, array)
    out = tmp_path / "out.json"
    assert parzen.main([str(path), "--data-dir", data_dir, "--num-samples", "5", "--json", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path}/{said}") and err.count("\n") == 1 and not out.exists()
