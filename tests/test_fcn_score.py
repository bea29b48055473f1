"""The facades FCN-score (evaluation.fcn_score): the scores against hand-computed confusion
matrices, label maps to classes, the shipped segmenter's real-photo scores, and the command line."""

import json
import os

import keras
import numpy as np
import pytest

from evaluation import fcn_score
from keras_gan import datasets
from tests.conftest import one_pass

#: the shipped segmenter's scores on the 50 real test photos (train_facade_segmenter.py prints them).
SHIPPED_REAL_TEST_SCORES = {"per_pixel_accuracy": 0.6541, "per_class_accuracy": 0.3971, "class_iou": 0.2900}

#: The segmenter and the scores are torch and numpy whatever the Keras backend: their tests run in
#: one backend's pass. Translating with a Keras model and torch-fidelity beside TensorFlow are
#: backend-specific and run in the TensorFlow pass.
once = one_pass("torch")


# ------------------------------------------------------------------ the scores
def test_scores_match_a_hand_computed_confusion_matrix():
    labels = np.array([[[0, 0, 1], [1, 2, 2]]])
    predicted = np.array([[[0, 1, 1], [1, 2, 0]]])
    matrix = fcn_score.confusion_matrix(predicted, labels, num_classes=3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    scores = fcn_score.scores_from_confusion(matrix)
    assert scores["per_pixel_accuracy"] == pytest.approx(4 / 6)
    assert scores["per_class_accuracy"] == pytest.approx((1 / 2 + 2 / 2 + 1 / 2) / 3)
    # IoU: class 0 1/(2+2-1), class 1 2/(2+3-2), class 2 1/(2+1-1)
    assert scores["class_iou"] == pytest.approx((1 / 3 + 2 / 3 + 1 / 2) / 3)
    # A class absent from labels and predictions is left out of both means, not counted as 0.
    assert fcn_score.segmentation_scores(predicted, labels, num_classes=12) == pytest.approx(scores)


def test_a_class_predicted_but_absent_counts_in_iou_only():
    labels = np.zeros((1, 2, 2), int)
    predicted = np.array([[[0, 0], [0, 1]]])
    scores = fcn_score.segmentation_scores(predicted, labels, num_classes=2)
    assert scores["per_pixel_accuracy"] == pytest.approx(0.75)
    assert scores["per_class_accuracy"] == pytest.approx(0.75)  # class 1 has no true pixels: no recall
    assert scores["class_iou"] == pytest.approx((0.75 + 0.0) / 2)  # but its false positives give IoU 0


def test_perfect_and_bad_inputs():
    labels = np.random.default_rng(0).integers(0, 12, (2, 8, 8))
    assert fcn_score.segmentation_scores(labels, labels) == {
        "per_pixel_accuracy": 1.0, "per_class_accuracy": 1.0, "class_iou": 1.0}
    with pytest.raises(ValueError, match="shape"):
        fcn_score.confusion_matrix(labels[:1], labels)
    with pytest.raises(ValueError, match="outside 0..11"):
        fcn_score.confusion_matrix(labels + 1, labels)
    with pytest.raises(ValueError, match="integer"):
        fcn_score.confusion_matrix(labels.astype(float), labels)
    with pytest.raises(ValueError, match="empty"):
        fcn_score.scores_from_confusion(np.zeros((12, 12)))


def test_label_maps_map_to_cmp_classes_also_when_blended():
    colours = datasets.CMP_CLASS_COLORS
    maps = colours[np.arange(12).reshape(1, 3, 4)]  # (1, 3, 4, 3) uint8, one pixel per class
    np.testing.assert_array_equal(datasets.label_map_classes(maps), np.arange(12).reshape(1, 3, 4))
    signed = maps.astype("float32") / 127.5 - 1.0  # pix2pix inputs
    np.testing.assert_array_equal(datasets.label_map_classes(signed), np.arange(12).reshape(1, 3, 4))
    jpeg_like = np.clip(maps.astype(int) + np.array([6, -5, 4]), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(datasets.label_map_classes(jpeg_like), np.arange(12).reshape(1, 3, 4))
    with pytest.raises(ValueError, match="RGB"):
        datasets.label_map_classes(maps[..., 0])


# ---------------------------------------------------- the shipped segmenter
def _shipped_segmenter_or_skip():
    from evaluation import facade_segmenter

    if facade_segmenter.CHECKPOINT_SHA256 is None:
        pytest.skip("no facade segmenter checkpoint is recorded yet")
    return facade_segmenter


@once
def test_shipped_segmenter_reproduces_its_real_test_scores(data_dir):
    facade_segmenter = _shipped_segmenter_or_skip()
    test = datasets.facades("test", data_dir=data_dir)
    scores = fcn_score.segmentation_scores(facade_segmenter.segment(test.targets),
                                           datasets.label_map_classes(test.inputs))
    assert scores == pytest.approx(SHIPPED_REAL_TEST_SCORES, abs=2e-4)


@once
def test_segmenter_checkpoint_is_verified(tmp_path):
    facade_segmenter = _shipped_segmenter_or_skip()
    bad = tmp_path / "facade_segmenter.pt"
    bad.write_bytes(open(facade_segmenter.CHECKPOINT_PATH, "rb").read()[:-10])
    with pytest.raises(facade_segmenter.SegmenterCheckpointError, match="sha256"):
        facade_segmenter.load_segmenter(str(bad), expected_sha256=facade_segmenter.CHECKPOINT_SHA256)
    with pytest.raises(facade_segmenter.SegmenterCheckpointError, match="not found"):
        facade_segmenter.load_segmenter(str(tmp_path / "missing.pt"))



@once
def test_a_tampered_shipped_segmenter_is_refused_by_default(tmp_path, monkeypatch):
    """What every command calls: load_segmenter() with no arguments checks the shipped sha256."""
    facade_segmenter = _shipped_segmenter_or_skip()
    bad = tmp_path / "facade_segmenter.pt"
    data = bytearray(open(facade_segmenter.CHECKPOINT_PATH, "rb").read())
    data[len(data) // 2] ^= 1  # one flipped bit, same size
    bad.write_bytes(bytes(data))
    monkeypatch.setattr(facade_segmenter, "CHECKPOINT_PATH", str(bad))
    with pytest.raises(facade_segmenter.SegmenterCheckpointError, match="sha256"):
        facade_segmenter.load_segmenter()


# ------------------------------------------------------------- command line
@once
def test_cli_scores_translations_from_npy_and_writes_json(data_dir, tmp_path, capsys):
    _shipped_segmenter_or_skip()
    test = datasets.facades("test", data_dir=data_dir)
    path = tmp_path / "real.npy"
    np.save(path, test.targets)  # "translations" that are the real photos: the reference row
    out = tmp_path / "fcn.json"
    status = fcn_score.main([str(path), "--no-fidelity", "--data-dir", data_dir, "--json", str(out)])
    assert status == 0
    result = json.loads(out.read_text())
    assert result["n"] == 50 and result["scores"] == pytest.approx(result["real_photo_scores"])
    assert result["mean_photo_scores"]["class_iou"] < result["scores"]["class_iou"]
    assert "per-pixel" in capsys.readouterr().out


@once
@pytest.mark.parametrize("case", ["missing", "wrong_shape", "out_of_range", "nan", "int_dtype", "truncated",
                                  "unknown_name", "bad_json_folder", "pix2pix_layout", "no_data_dir",
                                  "fidelity_on_one_image", "wrong_image_size"])
def test_cli_bad_inputs_exit_2_and_write_nothing(case, data_dir, tmp_path, monkeypatch, capsys):
    _shipped_segmenter_or_skip()
    out = tmp_path / "result.json"
    source = str(tmp_path / "translations.npy")
    options = ["--no-fidelity", "--data-dir", data_dir]
    # What was wrong and how to fix it, for every case (the message, not only the exit status).
    message = {
        "missing": ["not found", "translations.npy", "Check the path"],
        "wrong_shape": ["shape (3, 64, 64, 3)", "(50, 256, 256, 3)", "in the split's order"],
        "out_of_range": ["values in [3, 3]", "must be in [-1, 1]", "as uint8"],
        "nan": ["non-finite"],
        "int_dtype": ["dtype int32", "float in [-1, 1] or uint8", "as float32"],
        "truncated": ["Cannot read", "as a .npy array", "save the translations again with numpy.save"],
        "unknown_name": ["Unknown zoo model 'pix2pix-facadez'", "Did you mean 'pix2pix-facades'?"],
        "bad_json_folder": ["--json", "no_such_folder", "does not exist; create it first"],
        "pix2pix_layout": ["CMP base pairs"],
        "no_data_dir": ["CMP base pairs"],
        "fidelity_on_one_image": ["at least 2 images"],
        "wrong_image_size": ["translates 16 x 16"],
    }[case]
    if case == "wrong_shape":
        np.save(source, np.zeros((3, 64, 64, 3), "float32"))
    elif case == "out_of_range":
        np.save(source, np.full((50, 256, 256, 3), 3.0, "float32"))
    elif case == "nan":
        np.save(source, np.full((50, 256, 256, 3), np.nan, "float32"))
    elif case == "int_dtype":
        np.save(source, np.zeros((50, 256, 256, 3), "int32"))
    elif case == "truncated":
        np.save(source, np.zeros((50, 256, 256, 3), "uint8"))
        with open(source, "r+b") as f:
            f.truncate(1000)
    elif case == "unknown_name":
        source = "pix2pix-facadez"
    elif case == "pix2pix_layout":  # the archive's split is not the one the segmenter was trained on
        folder = tmp_path / "data" / "facades" / "test"
        folder.mkdir(parents=True)
        from PIL import Image

        Image.fromarray(np.zeros((8, 16, 3), np.uint8)).save(folder / "1.jpg")
        options = ["--no-fidelity", "--data-dir", str(tmp_path / "data")]
    elif case == "no_data_dir":  # it would download the pix2pix archive
        monkeypatch.delenv(datasets.DATA_DIR_ENV, raising=False)
        options = ["--no-fidelity"]
    elif case == "fidelity_on_one_image":
        options = ["--limit", "1", "--data-dir", data_dir]
    elif case == "wrong_image_size":
        import keras_gan
        from keras_gan.networks import pix2pix as pix2pix_networks

        source = str(tmp_path / "small.keras")
        keras_gan.Pix2Pix(pix2pix_networks.unet_generator(image_size=16, ngf=4),
                          pix2pix_networks.patchgan_discriminator(image_size=16, ndf=4, n_layers=1)).save(source)
    json_path = str(tmp_path / "no_such_folder" / "r.json") if case == "bad_json_folder" else str(out)
    status = fcn_score.main([source, *options, "--json", json_path])
    assert status == 2
    assert not os.path.exists(json_path) and not out.exists()
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    for part in message:
        assert part in err, (part, err)


@once
def test_the_train_split_is_scored_unjittered(data_dir, tmp_path):
    """Scores on the train split line up: its real photos, saved as "translations", score exactly
    the real-photo row (a jittered split would crop the labels differently from the .npy)."""
    _shipped_segmenter_or_skip()
    path = tmp_path / "train.npy"
    np.save(path, datasets.facades("train", data_dir=data_dir, augment=False, limit=3).targets)
    result = fcn_score.evaluate_fcn(str(path), split="train", data_dir=data_dir, limit=3, fidelity=False,
                                    progress=False)
    assert result.n == 3 and result.scores == pytest.approx(result.real_photo_scores)
    assert result.settings["data"] == "CMP facade base, train split (3 pairs)"


@pytest.mark.slow  # a zoo model's translations, and torch-fidelity in a worker process beside TensorFlow
@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the TensorFlow / torch-fidelity import trap")
def test_zoo_model_scores_with_facades_fid_beside_tensorflow(data_dir):
    _shipped_segmenter_or_skip()
    import sys

    assert "tensorflow" in sys.modules  # so facades-FID / KID must go through the worker process
    result = fcn_score.evaluate_fcn("pix2pix-facades", data_dir=data_dir, limit=12, progress=False)
    assert result.n == 12
    fid = result.fidelity
    assert fid["source"]["num_samples"] == 12 and fid["source"]["num_reference"] == 300
    assert fid["source"]["kid_subset_size"] == 12
    assert fid["source"]["fid"] > 0 and fid["real_photos"]["fid"] > 0
    # The features discriminate: noise images are far from the real train photos, translations are not.
    train = datasets.facades("train", data_dir=data_dir, augment=False).targets
    noise = np.random.default_rng(0).integers(0, 256, (12, 256, 256, 3), dtype=np.uint8)
    noise_fid = fcn_score.facades_fidelity(noise, fcn_score.to_uint8(train))
    assert noise_fid["kid_mean"] > 5 * fid["source"]["kid_mean"] and noise_fid["fid"] > 2 * fid["source"]["fid"], noise_fid
    assert result.scores["per_pixel_accuracy"] > 3 * result.mean_photo_scores["per_pixel_accuracy"]
