"""Your own images in, images out (issue 31 s2, issue 33 s5): zoo.train on a folder, then
`python -m keras_gan.translate` / `keras_gan.generate` into folders of PNGs; bad input refused
with one line, exit 2 and nothing written. The commands run in-process (their `main`), on tiny
folders the tests write (32x32 pairs, 16x16 classes) and tiny networks."""

from __future__ import annotations

import csv
import json
import os

import keras
import numpy as np
import pytest

from tests import image_folders
from tests.conftest import h5_arrays, one_pass

TINY = ["--image-size", "32", "--width", "2", "--verbose", "0"]


def _png(path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image)


def _train(args) -> int:
    from zoo import train

    return train.main(args)


def _pairs(root) -> str:
    image_folders.aligned_pairs(root, count=3, size=32)
    image_folders.aligned_pairs(root, count=2, size=32, split="test")
    return root


def test_pix2pix_folder_trains_exports_and_translates_a_folder(tmp_path, capsys, monkeypatch):
    from keras_gan import folder_models, translate
    from keras_gan.datasets import PairedImageFolder

    data, out = _pairs(str(tmp_path / "pairs")), str(tmp_path / "run")
    assert _train(["pix2pix-folder", "--data", data, "--epochs", "1", "--limit", "2", "--out", out, *TINY]) == 0
    summary = json.load(open(os.path.join(out, "summary.json")))
    export = os.path.join(out, "export", "pix2pix-folder.weights.h5")
    assert summary["export"] == export and summary["optimizer_iterations"] == {"d": 2, "g": 2}
    assert summary["sha256"] == open(export + ".sha256").read().split()[0]
    assert os.path.isfile(os.path.join(out, "samples", "samples_epoch_001.png"))
    with open(os.path.join(out, "history.csv")) as f:
        assert [row["skipped_files"] for row in csv.DictReader(f)] == ["0.0"]
    assert folder_models.read_architecture(export)["validation_split"] == "test"

    translated = str(tmp_path / "translated")
    assert translate.main([export, os.path.join(data, "test"), translated, "--half", "A", "--quiet"]) == 0
    assert sorted(os.listdir(translated)) == ["1.png", "2.png"]
    model, _ = folder_models.load_model(export)
    inputs, _ = PairedImageFolder(data, "test", image_size=32).arrays()
    expected = model.translate(inputs[1:], batch_size=1, seed=1)  # batch k = image k: seed 0 + k
    found = _png(os.path.join(translated, "2.png")).astype(np.float32) / 127.5 - 1
    assert found.shape == (32, 32, 3) and np.abs(found - expected[0]).max() <= 1 / 127.5 + 1e-6
    if keras.backend.backend() == "tensorflow":  # tf.data wraps a read error: still one line naming the file
        from zoo import folder_recipes

        load = folder_recipes._pix2pix_data

        def load_then_break(options, limit):  # the file goes bad after the up-front scan
            loaded = load(options, limit)
            image_folders.truncate(os.path.join(data, "train", "2.png"))
            return loaded

        monkeypatch.setattr(folder_recipes, "_pix2pix_data", load_then_break)
        capsys.readouterr()
        assert _train(["pix2pix-folder", "--data", data, "--epochs", "2", "--limit", "2", "--out", out, *TINY]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert os.path.join(data, "train", "2.png") in err[-1] and err[-1].startswith("error: Cannot decode")
        assert sorted(os.listdir(os.path.join(out, "backup"))) == ["epoch-000001"]
    if keras.backend.backend() == "torch":  # the eval mode and --overwrite: once, where it is cheapest
        capsys.readouterr()
        assert translate.main([export, os.path.join(data, "test"), translated, "--half", "A", "--quiet"]) == 2
        assert "--overwrite" in capsys.readouterr().err
        assert translate.main([export, os.path.join(data, "test"), translated, "--half", "A", "--mode", "eval",
                               "--batch-size", "2", "--overwrite", "--quiet"]) == 0
        eval_mode = model.translate(inputs, mode="eval")
        found = _png(os.path.join(translated, "1.png")).astype(np.float32) / 127.5 - 1
        assert np.abs(found - eval_mode[0]).max() <= 1 / 127.5 + 1e-6


def _export(tmp_path, architecture, name):
    from keras_gan import folder_models
    from keras_gan.zoo import write_sidecar

    keras.utils.set_random_seed(3)
    model = folder_models.build_model(architecture)
    path = str(tmp_path / f"{name}.weights.h5")
    model.save_weights(path)
    folder_models.record_architecture(path, architecture)
    write_sidecar(path)
    return model, path


def test_generate_writes_seeded_samples_per_class_whatever_the_batch_size(tmp_path):
    from keras_gan import generate

    gan, gan_path = _export(tmp_path, {"family": "gan", "image_size": 16, "channels": 3, "latent_dim": 8,
                                       "width": 2}, "gan")
    assert generate.main([gan_path, str(tmp_path / "g"), "-n", "5", "--batch-size", "2", "--quiet"]) == 0
    assert sorted(os.listdir(tmp_path / "g")) == [f"{i:06d}.png" for i in range(5)]
    expected = np.floor(np.clip(gan.generate(5, seed=0), 0, 1) * 255 + 0.5).astype(np.uint8)
    assert np.abs(_png(tmp_path / "g" / "000004.png").astype(int) - expected[4]).max() <= 1

    cgan, cgan_path = _export(tmp_path, {"family": "cgan", "image_size": 16, "channels": 1, "latent_dim": 8,
                                         "width": 2, "class_names": ["cat", "dog"]}, "cgan")
    assert generate.main([cgan_path, str(tmp_path / "c"), "-n", "3", "--classes", "dog", "--quiet"]) == 0
    assert os.listdir(tmp_path / "c") == ["dog"] and len(os.listdir(tmp_path / "c" / "dog")) == 3
    dogs = cgan.generate(np.full(3, 1), seed=0 + 1)  # class c: seed + c
    found = _png(tmp_path / "c" / "dog" / "000002.png")
    assert found.shape == (16, 16) and np.abs(found.astype(int) - np.floor(dogs[2, ..., 0] * 255 + 0.5)).max() <= 1


@one_pass("jax", why="bad command lines fail before any model runs")
def test_bad_command_lines_exit_2_and_write_nothing(tmp_path, capsys):
    from keras_gan import generate, translate

    data = _pairs(str(tmp_path / "pairs"))
    out = str(tmp_path / "run")
    for argv in (["pix2pix-folder", "--out", out],  # no --data
                 ["gan-mnist", "--data", data, "--image-size", "32", "--out", out],  # a folder option for a zoo entry
                 ["pix2pix-folder", "--data", data, "--image-size", "30", "--out", out]):
        with pytest.raises(SystemExit) as e:
            _train(argv)
        assert e.value.code == 2
    image_folders.truncate(os.path.join(data, "train", "2.png"))
    capsys.readouterr()
    assert _train(["pix2pix-folder", "--data", data, "--epochs", "1", "--out", out, *TINY]) == 2
    err = capsys.readouterr().err
    assert os.path.join(data, "train", "2.png") in err and "truncated" in err and not os.path.exists(out)

    translated = str(tmp_path / "translated")
    assert translate.main(["pix2pix-facades", os.path.join(data, "train"), translated]) == 2
    assert "2.png" in capsys.readouterr().err and not os.path.exists(translated)
    open(tmp_path / "file", "w").close()
    assert translate.main(["pix2pix-facades", os.path.join(data, "test"), str(tmp_path / "file")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert translate.main(["gan-mnist", os.path.join(data, "test"), translated]) == 2
    assert "keras_gan.generate" in capsys.readouterr().err and not os.path.exists(translated)
    assert generate.main(["gan-mnist", translated, "-n", "2", "--classes", "3"]) == 2
    assert "unconditional" in capsys.readouterr().err and not os.path.exists(translated)
    assert generate.main(["no-such-model", translated, "-n", "2"]) == 2
    assert "neither a file nor a zoo model" in capsys.readouterr().err and not os.path.exists(translated)


@one_pass("torch", why="three short real runs (cheapest on torch); the folder data are numpy, the resume "
                       "machinery is tested on every backend by test_resume, TensorFlow's wrapped error below")
def test_a_file_gone_bad_mid_run_stops_it_and_the_fixed_run_resumes_bit_exactly(tmp_path, monkeypatch, capsys):
    """Issue 33 s5: a truncated file met in epoch 2 stops the run with one line naming it; the
    epoch-1 backup stays, and once the file is restored the same command ends as an uninterrupted run."""
    from zoo import training_callbacks

    data = _pairs(str(tmp_path / "pairs"))
    bad = os.path.join(data, "train", "1.png")
    good_bytes = open(bad, "rb").read()
    args = ["pix2pix-folder", "--data", data, "--epochs", "2", "--limit", "2", "--no-eval", *TINY]
    straight = str(tmp_path / "straight")
    assert _train([*args, "--out", straight]) == 0

    original = training_callbacks.RecipeGrid.on_epoch_end

    def break_after_first_epoch(self, epoch, logs=None):  # the file goes bad at the end of epoch 1
        original(self, epoch, logs)
        if epoch == 0:
            image_folders.truncate(bad)

    monkeypatch.setattr(training_callbacks.RecipeGrid, "on_epoch_end", break_after_first_epoch)
    run = str(tmp_path / "run")
    capsys.readouterr()
    assert _train([*args, "--out", run]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert bad in err[-1] and "epoch 2" in err[-1] and "resumes from the last backup" in err[-1]
    assert sorted(os.listdir(os.path.join(run, "backup"))) == ["epoch-000001"]
    monkeypatch.setattr(training_callbacks.RecipeGrid, "on_epoch_end", original)
    open(bad, "wb").write(good_bytes)  # fixed
    assert _train([*args, "--out", run]) == 0
    name = "export/pix2pix-folder.weights.h5"
    a, b = h5_arrays(os.path.join(straight, name)), h5_arrays(os.path.join(run, name))
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@one_pass("torch", why="a real gan-folder run; the generate test covers the exports on every backend")
def test_gan_folder_and_cgan_folder_train_on_class_folders(tmp_path):
    from keras_gan import folder_models

    data = str(tmp_path / "classes")
    image_folders.class_folders(data, classes=("cat", "dog"), per_class=4, size=16)
    for name in ("gan-folder", "cgan-folder"):
        out = str(tmp_path / name)
        assert _train([name, "--data", data, "--epochs", "1", "--batch-size", "4", "--width", "2",
                       "--verbose", "0", "--out", out]) == 0
        summary = json.load(open(os.path.join(out, "summary.json")))
        assert summary["optimizer_iterations"]["g"] == 2
        architecture = folder_models.read_architecture(summary["export"])
        assert architecture["image_size"] == 16 and architecture["channels"] == 3
        assert architecture.get("class_names") == (["cat", "dog"] if name == "cgan-folder" else None)
        assert float(open(os.path.join(out, "sample_diversity.csv")).read().split()[-1].split(",")[1]) > 0


@one_pass("torch", why="the evaluation reads the folder with Pillow; the generate test covers every backend")
def test_a_generated_folder_feeds_the_fidelity_command_as_samples(tmp_path):
    """`keras_gan.generate cgan-mnist OUT` -> `evaluation.fidelity OUT`: the folder's images are the
    model's samples, 8-bit (class sub-folders read in order)."""
    from evaluation import sources
    from keras_gan import generate, zoo

    out = str(tmp_path / "samples")
    assert generate.main(["cgan-mnist", out, "-n", "2", "--classes", "0,1", "--quiet"]) == 0
    assert sorted(os.listdir(out)) == ["0", "1"]
    images = sources.load_samples(out, 4)
    model = zoo.load("cgan-mnist")
    expected = np.concatenate([model.generate(np.full(2, c), seed=c) for c in (0, 1)]).reshape(4, 28, 28, 1)
    assert images.shape == (4, 28, 28, 1) and np.abs(images - expected).max() <= 0.5 / 255 + 1e-6
    assert sources.describe(out) == f"image folder {out}" and sources.model_family(out) is None
    with pytest.raises(sources.SourceError, match="holds 4 images but 5"):
        sources.load_samples(out, 5)
