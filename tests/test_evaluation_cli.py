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
        "print(sorted(m for m in ('keras', 'tensorflow', 'torch', 'jax') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr


def test_help_shows_examples():
    for module in ("evaluation.parzen", "evaluation.paired", "evaluation.label_agreement"):
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
