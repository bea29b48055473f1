"""Paired-image metrics (evaluation.paired): L1, PSNR, SSIM, and the pix2pix plumbing."""

import math

import numpy as np
import pytest

import keras_gan
from evaluation import paired
from evaluation.sources import SourceError
from keras_gan.networks import pix2pix as pix2pix_networks


def images(n=3, size=32, seed=0, low=-1.0, high=1.0):
    return np.random.default_rng(seed).uniform(low, high, (n, size, size, 3)).astype("float32")


def test_identical_images_score_perfectly():
    x = images()
    m = paired.paired_metrics(x, x)
    assert m["l1"] == 0.0 and m["psnr"] == math.inf and m["ssim"] == pytest.approx(1.0, abs=1e-12)
    assert m["n"] == 3 and np.all(np.isinf(m["per_image"]["psnr"]))


def test_constant_offset_has_known_l1_and_psnr():
    # +0.2 on [-1, 1] pixels = +0.1 on [0, 1]: L1 0.2 (reported on [-1, 1]),
    # MSE 0.01 on [0, 1], so PSNR = 10 log10(1 / 0.01) = 20 dB exactly.
    target = images(low=-1.0, high=0.8)
    m = paired.paired_metrics(target + np.float32(0.2), target)
    assert m["l1"] == pytest.approx(0.2, abs=1e-6)
    np.testing.assert_allclose(m["per_image"]["psnr"], 20.0, atol=1e-4)
    assert 0.0 < m["ssim"] < 1.0


def test_per_image_values_and_their_means():
    target = images(4, seed=1)
    noisy = np.clip(target + np.random.default_rng(2).normal(0, [[[[0.02]]], [[[0.1]]], [[[0.3]]], [[[0.6]]]],
                                                           target.shape), -1, 1).astype("float32")
    m = paired.paired_metrics(noisy, target)
    for name in ("l1", "psnr", "ssim"):
        assert m["per_image"][name].shape == (4,)
        assert m[name] == pytest.approx(m["per_image"][name].mean())
    # More noise, worse on every metric, image by image.
    assert np.all(np.diff(m["per_image"]["l1"]) > 0)
    assert np.all(np.diff(m["per_image"]["psnr"]) < 0)
    assert np.all(np.diff(m["per_image"]["ssim"]) < 0)
    unrelated = paired.paired_metrics(images(4, seed=9), target)
    assert unrelated["ssim"] < 0.1 < m["per_image"]["ssim"][0]


def test_value_range_is_applied():
    target01 = images(low=0.0, high=1.0)
    m01 = paired.paired_metrics(target01 * 0.5, target01, value_range=(0, 1))
    m11 = paired.paired_metrics(target01 - 1.0, target01 * 2.0 - 1.0)  # the same images on [-1, 1]
    assert m01["psnr"] == pytest.approx(m11["psnr"]) and m01["ssim"] == pytest.approx(m11["ssim"])
    assert m11["l1"] == pytest.approx(2 * m01["l1"])  # L1 is reported in the images' own range


@pytest.mark.parametrize(
    "prediction, target, message",
    [
        (images(2), images(3), "same size"),
        (images(1)[0], images(1)[0], r"\(N, H, W, C\)"),
        (images(2) * 3, images(2), "outside value_range"),
        (np.zeros((2, 8, 8, 3), "uint8"), np.zeros((2, 8, 8, 3), "uint8"), "dtype uint8"),
        (images(0), images(0), "empty"),
    ],
)
def test_bad_inputs_are_rejected(prediction, target, message):
    with pytest.raises(ValueError, match=message):
        paired.paired_metrics(prediction, target)


class _Halver:
    """Stand-in image-to-image model: output = input / 2, recording how it was called."""

    name = "halver"

    def __init__(self):
        self.calls = []

    def translate(self, images, batch_size=1, mode="paper", seed=None):
        self.calls.append((len(images), batch_size, mode, seed))
        return np.asarray(images) / 2


def test_evaluate_paired_translates_every_input_in_order():
    model = _Halver()
    inputs, targets = images(20, size=16, seed=5), images(20, size=16, seed=6)
    result = paired.evaluate_paired(model, data=(inputs, targets), progress=False)
    expected = paired.paired_metrics(inputs / 2, targets)
    np.testing.assert_allclose(result.per_image["l1"], expected["per_image"]["l1"])
    assert (result.l1, result.psnr, result.ssim, result.n) == (expected["l1"], expected["psnr"], expected["ssim"], 20)
    # Chunks of 8, one image per generator call (the paper's test setting),
    # the paper's mode by default, and a distinct reproducible seed per chunk.
    assert [c[:3] for c in model.calls] == [(8, 1, "paper"), (8, 1, "paper"), (4, 1, "paper")]
    seeds = [c[3] for c in model.calls]
    assert len(set(seeds)) == 3
    paired.evaluate_paired(model, data=(inputs, targets), mode="eval", progress=False)
    assert [c[3] for c in model.calls[3:]] == seeds and model.calls[-1][2] == "eval"
    with pytest.raises(ValueError, match="4 inputs but 3 targets"):
        paired.evaluate_paired(model, data=(inputs[:4], targets[:3]), progress=False)


def test_the_train_split_is_scored_unjittered(data_dir):
    """Scoring never jitters: on the train split the targets are the plain resized photos."""
    from keras_gan import datasets

    plain = datasets.facades("train", data_dir=data_dir, augment=False, limit=2)
    result = paired.evaluate_paired(_Halver(), split="train", data_dir=data_dir, limit=2, progress=False)
    expected = paired.paired_metrics(plain.inputs / 2, plain.targets)
    np.testing.assert_allclose(result.per_image["l1"], expected["per_image"]["l1"], rtol=1e-6)


def _tiny_pix2pix():
    generator = pix2pix_networks.unet_generator(image_size=16, ngf=4)
    discriminator = pix2pix_networks.patchgan_discriminator(image_size=16, ndf=4, n_layers=1)
    return keras_gan.Pix2Pix(generator, discriminator)


@pytest.mark.slow  # building the first U-Net takes ~40 s on JAX on 2 shared cores (XLA compiles)
def test_evaluate_paired_with_a_pix2pix_model_and_its_keras_file(tmp_path):
    model = _tiny_pix2pix()
    inputs, targets = images(5, size=16, seed=3), images(5, size=16, seed=4)
    result = paired.evaluate_paired(model, data=(inputs, targets), mode="eval", progress=False)
    expected = paired.paired_metrics(model.translate(inputs, mode="eval"), targets)
    assert result.n == 5 and result.l1 == pytest.approx(expected["l1"])
    assert result.psnr == pytest.approx(expected["psnr"]) and result.ssim == pytest.approx(expected["ssim"])
    np.testing.assert_allclose(result.per_image["ssim"], expected["per_image"]["ssim"])
    path = str(tmp_path / "p2p.keras")
    model.save(path)
    from_file = paired.evaluate_paired(path, data=(inputs, targets), mode="eval", progress=False)
    assert from_file.l1 == pytest.approx(result.l1, abs=1e-6)
    assert from_file.to_dict()["per_image"]["l1"] == pytest.approx(list(result.per_image["l1"]), abs=1e-6)


def test_a_model_without_translate_is_rejected():
    class NotImageToImage:
        name = "sampler"

    with pytest.raises(SourceError, match="no translate"):
        paired.evaluate_paired(NotImageToImage(), data=(images(2), images(2)), progress=False)
