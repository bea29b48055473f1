"""FID / IS / KID through torch-fidelity (`evaluation.fidelity`).

Importing torch-fidelity after TensorFlow aborts the interpreter. Under
KERAS_BACKEND=tensorflow, conftest has imported TensorFlow already, so
`compute_metrics` uses its worker process, and the few checks that call
torch-fidelity directly do the same (`_torch_side`). Under the other backends
torch-fidelity is imported below, at collection, before conftest's
`keras.utils.set_random_seed` imports TensorFlow (it does under every
backend), as the README advises users: the computation then stays in this
process. Both paths are exercised in every CI run (the TensorFlow-user test
always goes through the worker; it runs in the TensorFlow pass).
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import scipy.linalg

if "tensorflow" not in sys.modules:
    import torch_fidelity  # noqa: F401  (before TensorFlow: see the module docstring)

from evaluation import fidelity
from evaluation.inception_weights import INCEPTION_WEIGHTS_FILE, INCEPTION_WEIGHTS_URL, InceptionWeightsError
from keras_gan import datasets
from tests.conftest import REPO, one_pass

INCEPTION = "inception-v3-compat"

# Functions that need torch-fidelity itself; run here, or in a fresh
# interpreter when TensorFlow is loaded (see the module docstring).
_TORCH_SIDE = '''
import numpy as np
import torch
import torch_fidelity.feature_extractor_inceptionv3 as inception
from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_statistics_to_metric


def random_inception_weights(path, seed):
    """A state dict of torch-fidelity's own InceptionV3 class, randomly initialised
    (He-normal convolutions so that features neither vanish nor explode)."""
    torch.manual_seed(seed)

    class Unloaded(inception.FeatureExtractorInceptionV3):
        def load_state_dict(self, state_dict, *args, **kwargs):  # keep the random init
            return None

    real_loader = inception.load_state_dict_from_url
    inception.load_state_dict_from_url = lambda *args, **kwargs: {}  # never download
    try:
        model = Unloaded("inception-v3-compat", ["2048"])
    finally:
        inception.load_state_dict_from_url = real_loader
    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    torch.save(model.state_dict(), path)
    return path


def torch_fidelity_facts(mu1, sigma1, mu2, sigma2):
    """torch-fidelity's FID of two Gaussians, and its Inception weights URL."""
    stats = [{"mu": np.asarray(m), "sigma": np.asarray(s)} for m, s in ((mu1, sigma1), (mu2, sigma2))]
    return {"fid": fid_statistics_to_metric(*stats, False)[KEY_METRIC_FID], "url": inception.URL_INCEPTION_V3}
'''


def _torch_side(function: str, *args):
    """`function(*args)` from `_TORCH_SIDE`; JSON-serialisable arguments and result."""
    if fidelity.torch_fidelity_safe_here():
        namespace = {}
        exec(_TORCH_SIDE, namespace)
        return namespace[function](*args)
    code = (
        "import torch_fidelity, json, sys\n" + _TORCH_SIDE
        + f"\nprint(json.dumps({function}(*json.loads(sys.argv[1]))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(args)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture
def cache_root(tmp_path, monkeypatch):
    """A fresh cache: no result here leans on statistics cached by an earlier run."""
    monkeypatch.setenv(fidelity.CACHE_ENV, str(tmp_path / "keras_gan_cache"))
    return fidelity.default_cache_root()


# ------------------------------------------------------------- the formula
def _scipy_fid(mu1, sigma1, mu2, sigma2):
    """Independent reference: scipy's matrix square root of sigma1 sigma2."""
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2).real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def _random_gaussians(d=24, seed=0):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(d, d)), rng.normal(size=(d, d))
    return rng.normal(size=d), a @ a.T / d + 0.1 * np.eye(d), rng.normal(size=d), b @ b.T / d + 0.1 * np.eye(d)


def test_frechet_distance_closed_form_for_diagonal_covariances():
    rng = np.random.default_rng(1)
    mu1, mu2 = rng.normal(size=16), rng.normal(size=16)
    var1, var2 = rng.uniform(0.1, 3.0, 16), rng.uniform(0.1, 3.0, 16)
    # For commuting (diagonal) covariances: ||mu1 - mu2||^2 + sum (sqrt(v1) - sqrt(v2))^2.
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)
    got = fidelity.frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2))
    assert got == pytest.approx(expected, rel=1e-10)
    assert _scipy_fid(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_agrees_with_scipy_sqrtm_on_full_covariances():
    mu1, sigma1, mu2, sigma2 = _random_gaussians()
    expected = _scipy_fid(mu1, sigma1, mu2, sigma2)
    assert expected > 1.0
    assert fidelity.frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-8)
    assert fidelity.frechet_distance(mu2, sigma2, mu1, sigma1) == pytest.approx(expected, rel=1e-8)
    assert fidelity.frechet_distance(mu1, sigma1, mu1, sigma1) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="covariances"):
        fidelity.frechet_distance(mu1, sigma1, mu2[:-1], sigma2)


def test_torch_fidelity_computes_the_same_fid_and_uses_the_documented_weights_url():
    """The FID we report is torch-fidelity's: its formula must agree with the independent one."""
    mu1, sigma1, mu2, sigma2 = _random_gaussians(seed=3)
    facts = _torch_side("torch_fidelity_facts", mu1.tolist(), sigma1.tolist(), mu2.tolist(), sigma2.tolist())
    assert facts["fid"] == pytest.approx(_scipy_fid(mu1, sigma1, mu2, sigma2), rel=1e-6)
    assert facts["url"] == INCEPTION_WEIGHTS_URL


# ------------------------------------------------------ Inception plumbing
@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("KERAS_BACKEND", "tensorflow") != "jax",
                    reason="no Keras model involved: run once, in the JAX pass (10-22 s a pass)")
def test_plumbing_only_with_randomly_initialised_inception_weights(tmp_path, cache_root, data_dir):
    """PLUMBING TEST, meaningless numbers: torch-fidelity's InceptionV3 with random
    weights from a file (30 Inception passes on the CPU: slow). Checks that
    samples and reference flow through the weights file given, that the
    reference statistics are cached under a name carrying the weights' digest,
    and that the same images as samples (computed now) and as reference (from
    the cache) give FID ~ 0 while noise does not."""
    weights = _torch_side("random_inception_weights", str(tmp_path / "random-inception.pth"), 0)
    real = datasets.mnist("test", data_dir=data_dir, limit=10).images
    common = dict(reference="mnist-test", num_reference=10, feature_extractor=INCEPTION, inception_weights=weights,
                  data_dir=data_dir, verbose=False)
    noise = fidelity.compute_metrics("noise", metrics="fid,kid", num_samples=10, **common)
    digest = hashlib.sha256(open(weights, "rb").read()).hexdigest()[:12]
    cached = os.listdir(cache_root)
    assert any(digest in name and "stat-fid-2048" in name for name in cached), cached
    same = fidelity.compute_metrics(real, metrics="fid,isc,kid", **common)
    assert same["feature_extractor"] == INCEPTION and same["num_samples"] == same["num_reference"] == 10
    assert same["kid_subset_size"] == 10
    assert noise["fid"] > 0 and abs(same["fid"]) < 1e-6 * noise["fid"]
    assert abs(same["kid_mean"]) < 0.1 * noise["kid_mean"]
    # 10 images in 10 splits: each split's marginal is its one image's p(y|x), so IS = exp(0) = 1.
    assert same["isc_mean"] == pytest.approx(1.0, abs=1e-6)


def test_missing_inception_weights_name_the_file_url_and_flag(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))  # an empty hub cache
    with pytest.raises(InceptionWeightsError) as error:
        fidelity.compute_metrics("noise", metrics="fid", feature_extractor=INCEPTION, allow_download=False,
                                 num_samples=10, verbose=False)
    message = str(error.value)
    assert INCEPTION_WEIGHTS_FILE in message and INCEPTION_WEIGHTS_URL in message
    assert "--inception-weights" in message and str(tmp_path / "torch_home") in message
    with pytest.raises(InceptionWeightsError, match="not found: .*nowhere.pth"):
        fidelity.compute_metrics("noise", metrics="fid", feature_extractor=INCEPTION,
                                 inception_weights=str(tmp_path / "nowhere.pth"), verbose=False)
    assert not os.path.exists(tmp_path / "torch_home")  # nothing downloaded, nothing created


# ------------------------------------------------------- MNIST extractor
def test_shipped_classifier_checkpoint_is_the_recorded_one():
    from evaluation import mnist_classifier

    path = mnist_classifier.CHECKPOINT_PATH
    assert hashlib.sha256(open(path, "rb").read()).hexdigest() == mnist_classifier.CHECKPOINT_SHA256
    assert os.path.getsize(path) < 2 * 1024 * 1024
    ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO).returncode
    assert ignored == 1, "the checkpoint must not be ignored by git"


def test_corrupt_or_missing_classifier_checkpoint_is_refused(tmp_path):
    from evaluation import mnist_classifier

    copy = tmp_path / "classifier.pt"
    shutil.copy(mnist_classifier.CHECKPOINT_PATH, copy)
    with open(copy, "r+b") as f:
        f.seek(-100, os.SEEK_END)
        byte = f.read(1)
        f.seek(-100, os.SEEK_END)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(mnist_classifier.ClassifierCheckpointError, match="sha256"):
        mnist_classifier.load_classifier(str(copy), expected_sha256=mnist_classifier.CHECKPOINT_SHA256)
    with pytest.raises(mnist_classifier.ClassifierCheckpointError, match="not found"):
        mnist_classifier.load_classifier(str(tmp_path / "missing.pt"))


def test_shipped_classifier_reaches_99_percent_on_mnist_test(data_dir):
    import torch

    from evaluation.mnist_classifier import load_classifier

    test = datasets.mnist("test", data_dir=data_dir)
    images = torch.from_numpy(test.images.transpose(0, 3, 1, 2).copy())
    model = load_classifier()
    with torch.no_grad():
        predicted = torch.cat([model(batch)[1].argmax(1) for batch in images.split(1000)]).numpy()
    assert float((predicted == test.labels).mean()) >= 0.99


@pytest.fixture(scope="module")
def mnist_scores(data_dir, tmp_path_factory):
    """MNIST-classifier metrics of 2000 real test images and of 2000 noise images
    against the first 2000 training images (KID on subsets of 500)."""
    common = dict(num_samples=2000, num_reference=2000, kid_subset_size=500, data_dir=data_dir, verbose=False,
                  cache_root=str(tmp_path_factory.mktemp("fidelity_cache")))
    real = fidelity.compute_metrics("real:test", metrics="fid,isc,kid", **common)
    noise = fidelity.compute_metrics("noise", metrics="fid,isc,kid", **common)
    return real, noise


def test_mnist_fid_and_kid_small_for_real_digits_large_for_noise(mnist_scores):
    real, noise = mnist_scores
    assert real["feature_extractor"] == "mnist-classifier" and real["reference"] == "mnist-train"
    assert real["num_samples"] == noise["num_samples"] == 2000 and real["num_reference"] == 2000
    assert real["kid_subset_size"] == 500
    assert 0 <= real["fid"] < 0.01 * noise["fid"]
    assert real["kid_mean"] < 0.01 * noise["kid_mean"]


def test_mnist_inception_score_of_real_digits_is_near_ten(mnist_scores):
    real, noise = mnist_scores
    # IS <= number of classes (10); a >= 99% accurate, confident classifier on
    # balanced real digits gets close to it (a little less on splits of 200
    # images), while noise images are not spread over the classes.
    assert 9.0 < real["isc_mean"] <= 10.0
    assert noise["isc_mean"] < 2.0


# ------------------------------------------------- TensorFlow import order
@pytest.mark.skipif(os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
                    reason="its subprocess is a TensorFlow-backend user whatever the pass: run in the TF pass")
def test_tensorflow_backend_user_can_compute_metrics_after_importing_keras(tmp_path, data_dir):
    """The trap: importing torch-fidelity after TensorFlow aborts the interpreter.
    A TensorFlow-backend user imports keras first, then evaluates a keras_gan
    model; in a subprocess, so that an abort fails this test instead of pytest."""
    code = f"""
import json, sys
import keras
assert keras.backend.backend() == "tensorflow" and "tensorflow" in sys.modules
import keras_gan
from keras_gan import networks
from evaluation import fidelity
gan = keras_gan.GAN(networks.mnist_generator(latent_dim=8, hidden_units=32),
                    networks.mnist_discriminator(units=16, pieces=3), seed=0)
result = fidelity.compute_metrics(gan, metrics="fid,isc,kid", num_samples=200, num_reference=500,
                                  data_dir={data_dir!r}, cache_root={str(tmp_path / "cache")!r}, verbose=False)
print(json.dumps(result))
"""
    env = dict(os.environ, KERAS_BACKEND="tensorflow", PYTHONPATH=REPO)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["samples"].startswith("GAN") and result["num_samples"] == 200
    assert result["fid"] > 0 and 1.0 <= result["isc_mean"] <= 10.0 and np.isfinite(result["kid_mean"])


# ------------------------------------------------------------ command line
def _mnist_npy(tmp_path, data_dir, n=200):
    path = tmp_path / "samples.npy"
    np.save(path, np.rint(datasets.mnist("test", data_dir=data_dir, limit=n).images[..., 0] * 255).astype(np.uint8))
    return str(path)


@one_pass("torch", "torch-fidelity runs on torch whatever the Keras backend")
def test_command_line_good_run_writes_json(tmp_path, data_dir):
    samples, out = _mnist_npy(tmp_path, data_dir), tmp_path / "out.json"
    proc = subprocess.run(
        [sys.executable, "-m", "evaluation.fidelity", samples, "--metrics", "fid,isc,kid", "--num-samples", "200",
         "--num-reference", "500", "--data-dir", data_dir, "--cache-dir", str(tmp_path / "cache"),
         "--json", str(out), "--quiet"],
        cwd=REPO, env=dict(os.environ, PYTHONPATH=REPO), capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["samples"] == f"samples file {samples}" and result["num_samples"] == 200
    assert result["num_reference"] == 500 and result["kid_subset_size"] == 200
    assert result["fid"] >= 0 and 1.0 <= result["isc_mean"] <= 10.0
    assert f"{result['fid']:.4f}" in proc.stdout
    # KID is printed x 1e3 and says so (the cards' and README's convention); the JSON keeps the raw value
    assert f"KID x 1e3  {1e3 * result['kid_mean']:.1f} +- {1e3 * result['kid_std']:.1f}" in proc.stdout


@one_pass("torch", "refused before any Keras model is built")
@pytest.mark.parametrize(
    "argv, message",
    [
        (["{npy}", "--metrics", "fid,ssim"], "ssim"),
        (["{npy}", "--num-samples", "0"], "positive integer"),
        (["{npy}", "--num-samples", "5"], ">= 10"),
        (["{npy}", "--feature-extractor", "vgg"], "invalid choice"),
        (["{npy}", "--inception-weights", "w.pth"], "only used with"),
        (["{npy}", "--json", "{tmp}/no/such/folder/out.json"], "does not exist"),
        (["{npy}", "--json", "{tmp}"], "is a folder"),
        (["{tmp}/missing.npy"], "not found"),
        (["no-such-zoo-model"], "no-such-zoo-model"),
        (["noise", "--data-dir", "{tmp}/empty"], "empty"),
        (["noise", "--feature-extractor", INCEPTION, "--no-download"], INCEPTION_WEIGHTS_URL),
    ],
)
def test_command_line_bad_input_exits_2_and_writes_nothing(argv, message, tmp_path, data_dir, capsys, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv(fidelity.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(datasets.DATA_DIR_ENV, data_dir)
    (tmp_path / "empty").mkdir()
    npy = _mnist_npy(tmp_path, data_dir, n=20)
    out = tmp_path / "out.json"
    argv = [a.format(npy=npy, tmp=tmp_path) for a in argv]
    argv += [] if "--json" in argv else ["--json", str(out)]
    assert fidelity.main(argv) == 2
    assert message in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "cache").exists()


def test_classifier_reads_real_digits_and_refuses_bad_images(data_dir):
    """`predict_labels` (used to check a CGAN's conditioning) on real test digits."""
    from evaluation import mnist_classifier

    test = datasets.mnist("test", data_dir=data_dir, limit=1000)
    predicted = mnist_classifier.predict_labels(test.images, batch_size=300)
    assert predicted.shape == (1000,) and np.mean(predicted == test.labels) >= 0.98
    as_uint8 = np.round(test.images[:50, ..., 0] * 255).astype(np.uint8)  # (N, 28, 28) uint8 too
    assert np.mean(mnist_classifier.predict_labels(as_uint8) == predicted[:50]) >= 0.96
    with pytest.raises(ValueError, match=r"\(N, 28, 28\[, 1\]\)"):
        mnist_classifier.predict_labels(np.zeros((2, 32, 32), "float32"))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        mnist_classifier.predict_labels(np.full((2, 28, 28), -1.0, "float32"))


# ------------------------------------------------- your own images: a folder reference
def _photo_folder(data_dir, folder, names):
    """CMP facade photos (JPEG, their own sizes) copied into `folder`."""
    folder.mkdir(parents=True)
    for name in names:
        shutil.copy(os.path.join(data_dir, "cmp_facade_base", name), folder / name)
    return folder


def _facade_photos(data_dir):
    return sorted(n for n in os.listdir(os.path.join(data_dir, "cmp_facade_base")) if n.endswith(".jpg"))


@one_pass("torch", "no Keras model: torch-fidelity and the facade segmenter only")
def test_folder_reference_scores_real_photos_near_real_ones_and_noise_far(tmp_path, data_dir, cache_root):
    """Your own images: a folder of samples against a folder of real photos (sizes differ, so
    --image-size resizes both), on the offline facade-segmenter features."""
    from PIL import Image

    photos = _facade_photos(data_dir)
    real = _photo_folder(data_dir, tmp_path / "real", photos[:12])
    other = _photo_folder(data_dir, tmp_path / "other", photos[12:24])
    noise = tmp_path / "noise"
    noise.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, (96, 64, 3), dtype=np.uint8)).save(noise / f"{i}.png")
    common = dict(reference=str(real), metrics="fid,kid", feature_extractor="facade-segmenter",
                  image_size=(128, 128), verbose=False)
    same = fidelity.compute_metrics(str(real), **common)
    photos_vs = fidelity.compute_metrics(str(other), **common)
    noise_vs = fidelity.compute_metrics(str(noise), **common)
    assert same["num_samples"] == same["num_reference"] == 12 and same["reference"] == str(real)
    assert same["samples"] == f"image folder {real}" and same["feature_extractor"] == "facade-segmenter"
    assert abs(same["fid"]) < 1e-6 * noise_vs["fid"]
    assert 0 < photos_vs["fid"] < 0.5 * noise_vs["fid"], (photos_vs["fid"], noise_vs["fid"])
    assert photos_vs["kid_mean"] < noise_vs["kid_mean"]
    # The reference's statistics were cached once, under a name carrying the folder.
    assert any("folder-real" in name and "facade-segmenter" in name for name in os.listdir(cache_root))
    # An array of uint8 images is the same samples as the folder holding them.
    array = np.stack([np.asarray(Image.open(other / n).convert("RGB").resize((128, 128), Image.Resampling.BILINEAR,
                                                                             reducing_gap=None))
                      for n in photos[12:24]])
    from_array = fidelity.compute_metrics(array, **common)
    assert from_array["fid"] == pytest.approx(photos_vs["fid"], rel=1e-6)


@one_pass("torch", "refused before any Keras model is built")
@pytest.mark.parametrize(
    "argv, message",
    [
        (["{rgb}", "--num-samples", "10"], "Other images are scored against a folder of real ones"),
        (["{rgb}", "--reference", "{tmp}/nowhere"], "no such folder"),
        (["{rgb}", "--reference", "{real}", "--feature-extractor", "facade-segmenter", "--metrics", "fid,isc"],
         "no Inception Score"),
        (["{npy}", "--feature-extractor", "facade-segmenter", "--metrics", "fid"], "not MNIST"),
        (["{rgb}", "--reference", "{real}", "--feature-extractor", "facade-segmenter", "--metrics", "fid"],
         "--image-size H W"),
        (["{rgb}", "--reference", "{real}", "--metrics", "fid", "--image-size", "64", "64"], "28 x 28 grey digits"),
        (["{bad}", "--reference", "{real}", "--feature-extractor", "facade-segmenter", "--metrics", "fid",
          "--image-size", "64", "64"], "broken.png: "),
        (["gan-mnist", "--reference", "{real}", "--feature-extractor", "facade-segmenter", "--metrics", "fid",
          "--image-size", "64", "64"], "python -m keras_gan.generate"),
        (["{rgb}", "--reference", "{real}", "--feature-extractor", INCEPTION, "--no-download", "--metrics", "fid"],
         INCEPTION_WEIGHTS_URL),
        (["{npy}", "--image-size", "64", "64"], "for a folder --reference"),
    ],
)
def test_folder_reference_bad_input_exits_2_and_writes_nothing(argv, message, tmp_path, data_dir, capsys,
                                                               monkeypatch):
    from PIL import Image

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv(fidelity.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(datasets.DATA_DIR_ENV, data_dir)
    real = _photo_folder(data_dir, tmp_path / "real", _facade_photos(data_dir)[:10])  # mixed sizes
    rgb, bad = tmp_path / "rgb", tmp_path / "bad"
    rgb.mkdir()
    bad.mkdir()
    for i in range(10):
        image = Image.fromarray(np.full((64, 64, 3), 20 * i, np.uint8))
        image.save(rgb / f"{i}.png")
        image.save(bad / f"{i}.png")
    (bad / "broken.png").write_bytes((rgb / "0.png").read_bytes()[:40])
    npy = _mnist_npy(tmp_path, data_dir, n=20)
    out = tmp_path / "out.json"
    argv = [a.format(npy=npy, tmp=tmp_path, rgb=rgb, real=real, bad=bad) for a in argv] + ["--json", str(out)]
    assert fidelity.main(argv) == 2
    assert message in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "cache").exists()
