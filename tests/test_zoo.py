"""The model zoo: registry, weight resolution and verification, loading, recipes."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_gan
from keras_gan import zoo
from tests.conftest import REPO, to_numpy, one_pass


def _entries_with_weights():
    return [e.name for e in zoo.ENTRIES if e.weights_file and e.sha256]


def test_list_describes_every_entry_with_its_paper_numbers():
    listed = zoo.list()
    assert [e["name"] for e in listed] == [e.name for e in zoo.ENTRIES]
    assert len(set(zoo.names())) == len(zoo.ENTRIES)
    for entry in listed:
        assert entry["family"] in {"gan", "cgan", "pix2pix"}
        assert entry["recipe"].startswith("python -m zoo.train ")
        assert entry["card"] and os.path.isfile(os.path.join(REPO, entry["card"])), entry["card"]


def test_unknown_name_lists_the_names_and_the_closest_match():
    with pytest.raises(zoo.UnknownModelError, match="Did you mean 'gan-mnist'.*Available"):
        zoo.load("gan-mnst")


def test_load_without_weights_builds_the_architecture():
    gan = zoo.load("gan-mnist", weights=None)
    assert isinstance(gan, keras_gan.GAN)
    assert gan.generate(2, seed=0).shape == (2, 28, 28, 1)
    assert gan.generator.count_params() == 100 * 1200 + 1200 + 1200 * 1200 + 1200 + 1200 * 784 + 784


def test_gan_mnist_prior_is_the_registry_choice_and_can_be_switched():
    from keras_gan.models.gan import sample_prior
    from keras_gan.zoo import builders

    # The zoo checkpoint was trained with U(-sqrt 3, sqrt 3); the builder also
    # offers the reference Generator's default N(0, 1) (card: two mnist.yaml versions).
    gan = zoo.load("gan-mnist", weights=None)
    assert gan.latent_prior == "uniform"
    normal = builders.gan_mnist(latent_prior="normal", hidden_units=8, units=4, pieces=2)
    assert normal.latent_prior == "normal"
    assert keras_gan.GAN.from_config(normal.get_config()).latent_prior == "normal"
    u = to_numpy(sample_prior("uniform", (4000, 100), keras.random.SeedGenerator(0)))
    n = to_numpy(sample_prior("normal", (4000, 100), keras.random.SeedGenerator(0)))
    assert np.abs(u).max() <= np.sqrt(3) + 1e-6 and np.abs(n).max() > 3.0
    np.testing.assert_allclose([u.std(), n.std()], [1.0, 1.0], atol=0.02)


def test_own_weights_file_round_trips(tmp_path):
    gan = zoo.load("gan-mnist", weights=None)
    path = str(tmp_path / "mine.weights.h5")
    gan.save_weights(path)
    again = zoo.load("gan-mnist", weights=path)
    for a, b in zip(gan.weights, again.weights):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


def test_truncated_or_foreign_weight_files_are_refused(tmp_path):
    gan = zoo.load("gan-mnist", weights=None)
    good = str(tmp_path / "good.weights.h5")
    gan.save_weights(good)
    truncated = str(tmp_path / "truncated.weights.h5")
    with open(good, "rb") as f, open(truncated, "wb") as g:
        g.write(f.read()[:5000])
    with pytest.raises(zoo.ZooWeightsError, match="corrupt, truncated"):
        zoo.load("gan-mnist", weights=truncated)
    with pytest.raises(zoo.ZooWeightsError, match="does not exist"):
        zoo.load("gan-mnist", weights=str(tmp_path / "missing.weights.h5"))
    other = tmp_path / "x.npy"
    other.write_bytes(b"\x93NUMPY")
    with pytest.raises(zoo.ZooWeightsError, match=r"\.weights\.h5"):
        zoo.load("gan-mnist", weights=str(other))


def test_pretrained_checkpoint_with_a_wrong_hash_is_not_loaded(tmp_path, monkeypatch):
    entry = zoo.get_entry("gan-mnist")
    fake = tmp_path / entry.weights_file
    fake.write_bytes(b"not the published weights")
    monkeypatch.setenv(zoo.ZOO_DIR_ENV, str(tmp_path))
    if entry.sha256 is None:
        pytest.skip("gan-mnist has no published checkpoint yet")
    with pytest.raises(zoo.ZooWeightsError, match="sha256"):
        zoo.load("gan-mnist")


def test_missing_pretrained_weights_say_how_to_produce_them(tmp_path, monkeypatch):
    monkeypatch.setenv(zoo.ZOO_DIR_ENV, str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(zoo.weights, "REPO_CHECKPOINTS", str(tmp_path / "none"))
    with pytest.raises(zoo.ZooWeightsError, match="python -m zoo.train gan-mnist"):
        zoo.weights.resolve("gan-mnist", "gan-mnist.weights.h5", None, None)


@pytest.mark.parametrize("name", _entries_with_weights())
def test_published_checkpoints_match_their_hash_and_run(name):
    entry = zoo.get_entry(name)
    path = zoo.weights.resolve(name, entry.weights_file, entry.sha256, entry.url)
    assert zoo.sha256_of(path) == entry.sha256
    assert os.path.getsize(path) <= 20 * 2**20
    model = zoo.load(name)
    if entry.family in ("gan",):
        samples = model.generate(8, seed=0)
        assert samples.shape == (8, 28, 28, 1) and np.isfinite(samples).all()
        assert samples.std() > 0.05  # a trained generator, not a constant image
    elif entry.family == "cgan":
        samples = model.generate(np.repeat(np.arange(10), 4), seed=0)
        assert samples.shape == (40, 28, 28, 1) and np.isfinite(samples).all()
        per_digit = samples.reshape(10, 4, -1)
        assert per_digit.std(axis=1).mean() > 0.02  # z matters: not one image per digit
        assert np.abs(per_digit.mean(axis=1)[:, None] - per_digit.mean(axis=1)[None]).mean() > 0.02  # y matters
    else:
        outputs = model.translate(np.zeros((1, 256, 256, 3), "float32"), batch_size=1, seed=0)
        assert outputs.shape == (1, 256, 256, 3) and np.isfinite(outputs).all()


def test_train_command_rejects_unknown_names_and_bad_epochs(capsys):
    """In-process, through `main` (argparse's own errors exit through SystemExit(2))."""
    from zoo import train

    for args, message in ((["gan-mnst"], "did you mean 'gan-mnist'"), (["gan-mnist", "--epochs", "0"], "--epochs"),
                          (["gan-mnist", "--limit", "0"], "--limit"),
                          (["gan-mnist", "--initial-epoch", "5"], "--initial-epoch needs --init-from"),
                          (["gan-mnist", "--init-from", "no/such.weights.h5"], "no such file"),
                          (["gan-mnist", "--init-from", "pretrained", "--initial-epoch", "300"],
                           "leaves nothing to train"),
                          (["gan-mnist", "--generator-ema", "1.5"], "must be in (0, 1)")):
        try:
            code = train.main(args)
        except SystemExit as e:
            code = e.code
        err = capsys.readouterr().err
        assert code == 2 and message in err, (args, err)


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="argument handling: run once, in the torch pass")
def test_train_command_refuses_an_unusable_out_and_writes_nothing_when_it_refuses(data_dir, tmp_path, capsys):
    """In-process, through `main` (the refusals come before any training; the command line's own
    exit path is tests/test_run_safety.py's)."""
    from zoo import train

    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    cases = ((["--out", str(a_file)], "is a file"),
             (["--out", "/proc/keras_gan_run"], "cannot"),
             (["--limit", "50", "--out", str(tmp_path / "run")], "make no batch"))
    for args, message in cases:
        assert train.main(["gan-mnist", "--data-dir", data_dir, "--epochs", "1", *args]) == 2, args
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err
    assert a_file.read_text() == "not a folder" and not (tmp_path / "run").exists()


def _train(*args, timeout=600):
    env = dict(os.environ, KERAS_BACKEND=os.environ.get("KERAS_BACKEND", "tensorflow"))
    return subprocess.run([sys.executable, "-m", "zoo.train", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env=env)


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="two real zoo.train runs cost about 100 s: run once, in the torch pass (the "
                           "shortest); the training step itself is tested on every backend")
def test_train_command_trains_resumes_exports_evaluates_and_writes_the_card(data_dir, tmp_path):
    """A real (tiny) run of the recipe end to end: 1 epoch on 300 images, then resumed to 2."""
    import json

    out = tmp_path / "run"
    common = ["gan-mnist", "--limit", "300", "--data-dir", data_dir, "--out", str(out), "--verbose", "0"]
    first = _train(*common, "--epochs", "1")
    assert first.returncode == 0, first.stderr[-3000:]
    assert (out / "samples").is_dir() and any(f.endswith(".png") for f in os.listdir(out / "samples"))
    second = _train(*common, "--epochs", "2")
    assert second.returncode == 0, second.stderr[-3000:]
    history = (out / "history.csv").read_text().strip().splitlines()
    assert len(history) == 3  # header + one row per epoch: the second run resumed, it did not restart
    summary = json.loads((out / "summary.json").read_text())
    assert summary["epochs_run"] == 2 and summary["limit"] == 300
    assert summary["seed"] == 0  # no --seed: the recipe's seed (gan-mnist's is 0)
    export = out / "export" / "gan-mnist.weights.h5"
    assert summary["sha256"] == zoo.sha256_of(str(export))
    evaluation = json.loads((out / "evaluation.json").read_text())
    assert evaluation == summary["evaluation"]
    assert -2000 < evaluation["parzen_ll"] < evaluation["real_data_parzen_ll"] < 300
    # The card's number is the export's: recompute it through the weights-file source
    # (exactly: this process and the run share KERAS_BACKEND, hence the noise).
    from evaluation.parzen import evaluate

    again = evaluate(str(export), data_dir=data_dir, baseline=False, progress=False)
    assert again.mean == pytest.approx(evaluation["parzen_ll"], abs=0.01)
    card = (out / "card.md").read_text()
    for text in (f"{evaluation['parzen_ll']:.4g} +- ", "| 225 +- 2 |", "2 run of the recipe's 300",
                 "first 300 training examples", summary["sha256"], "Model selection", ", seed 0 |",
                 "![losses](losses.png) ![val_parzen](val_parzen.png)"):
        assert text in card, text
    # This run did not average the generator (the shipped gan-mnist checkpoint did): the card says so.
    assert "moving average" not in card and "(no `--generator-ema`: no averaging)" in card
    assert (out / "val_parzen.png").is_file() and (out / "losses.png").is_file()


def test_logged_scores_keep_one_value_per_epoch_across_sessions(tmp_path):
    from zoo.train import _logged_scores

    path = tmp_path / "val_parzen.csv"
    # A session cut off after scoring epoch 4 re-scores it on resume: the last value wins.
    path.write_text("epoch,score\n2,10.0\n4,12.5\n4,13.0\n6,11.0\n")
    assert _logged_scores(str(path)) == ([2, 4, 6], [10.0, 13.0, 11.0])
    assert _logged_scores(str(tmp_path / "none.csv")) == ([], [])


def test_logged_history_spans_every_session_at_its_real_epochs(tmp_path):
    """The run's curves come from history.csv (appended by each session), so a resumed or
    continued run is plotted at epochs 76, 77, ... and not restarted at 1."""
    from zoo.train import _logged_history

    path = tmp_path / "history.csv"
    path.write_text("epoch,d_loss,g_loss,val_g_loss\n75,0.5,2.0,NA\n76,0.4,2.5,NA\n")
    series, epochs = _logged_history(str(path))
    assert epochs == [76, 77] and series == {"d_loss": [0.5, 0.4], "g_loss": [2.0, 2.5]}
    assert _logged_history(str(tmp_path / "missing.csv")) == ({}, [])


def test_train_command_rejects_a_corrupt_init_file_before_writing_anything(data_dir, tmp_path):
    bad = tmp_path / "bad.weights.h5"
    bad.write_bytes(b"not an HDF5 file")
    out = tmp_path / "run"
    proc = _train("gan-mnist", "--init-from", str(bad), "--initial-epoch", "3", "--limit", "300",
                  "--data-dir", data_dir, "--out", str(out), timeout=300)
    assert proc.returncode == 2 and "--init-from" in proc.stderr and "corrupt" in proc.stderr, proc.stderr[-2000:]
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="a real zoo.train run costs about 50 s: run once, in the torch pass")
def test_train_command_continues_a_shipped_checkpoint(data_dir, tmp_path):
    """--init-from: the run starts from the checkpoint's networks (not the paper's init) and
    counts epochs on from --initial-epoch; the card names the restarted optimizer."""
    import json

    entry = zoo.get_entry("gan-mnist")
    if not entry.sha256:
        pytest.skip("gan-mnist has no published checkpoint")
    out = tmp_path / "run"
    proc = _train("gan-mnist", "--init-from", "pretrained", "--initial-epoch", "10", "--epochs", "11",
                  "--limit", "300", "--data-dir", data_dir, "--out", str(out), "--verbose", "0")
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = (out / "history.csv").read_text().strip().splitlines()
    assert len(rows) == 2 and rows[1].startswith("10,")  # one epoch, Keras' 0-based index 10
    summary = json.loads((out / "summary.json").read_text())
    assert summary["warm_start"] == {"init_from": "pretrained", "initial_epoch": 10, "sha256": entry.sha256}
    # 300 images = 3 updates per epoch: the SGD schedules went on from update 30, not from 0
    assert summary["optimizer_iterations"] == {"d": 33, "g": 33}
    shipped = zoo.load("gan-mnist")
    continued = zoo.load("gan-mnist", weights=str(out / "export" / "gan-mnist.weights.h5"))
    fresh = zoo.build("gan-mnist")
    moved = np.mean([np.abs(to_numpy(a) - to_numpy(b)).mean() for a, b in zip(continued.weights, shipped.weights)])
    apart = np.mean([np.abs(to_numpy(a) - to_numpy(b)).mean() for a, b in zip(fresh.weights, shipped.weights)])
    assert 0 < moved < 0.2 * apart  # three SGD steps from the checkpoint, not a new network
    assert "without its optimizer state" in (out / "card.md").read_text()
    assert (out / "losses.png").is_file()


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="two real zoo.train runs cost about 100 s: run once, in the torch pass")
def test_train_command_exports_the_generator_average_and_refuses_a_mismatched_resume(data_dir, tmp_path):
    """--generator-ema: the same training trajectory, but the exported generator is the
    average of the iterates; a resume must ask for the same average."""
    import json

    if not zoo.get_entry("gan-mnist").sha256:
        pytest.skip("gan-mnist has no published checkpoint")
    common = ["gan-mnist", "--init-from", "pretrained", "--initial-epoch", "10", "--epochs", "11",
              "--limit", "300", "--data-dir", data_dir, "--verbose", "0"]
    raw_out, avg_out = tmp_path / "raw", tmp_path / "avg"
    raw = _train(*common, "--out", str(raw_out), "--no-eval")
    assert raw.returncode == 0, raw.stderr[-3000:]
    avg = _train(*common, "--out", str(avg_out), "--generator-ema", "0.9")
    assert avg.returncode == 0, avg.stderr[-3000:]
    assert json.loads((avg_out / "summary.json").read_text())["generator_average"] == 0.9
    assert "moving average of its training iterates (momentum 0.9" in (avg_out / "card.md").read_text()

    def exported(out):
        return zoo.load("gan-mnist", weights=str(out / "export" / "gan-mnist.weights.h5"))

    shipped, raw_model, avg_model = zoo.load("gan-mnist"), exported(raw_out), exported(avg_out)

    def moved(model):
        return np.mean([np.abs(to_numpy(a) - to_numpy(b)).mean()
                        for a, b in zip(model.generator.weights, shipped.generator.weights)])

    # 3 updates from the checkpoint w0: average = 0.729 w0 + 0.081 w1 + 0.09 w2 + 0.1 w3.
    assert 0 < moved(avg_model) < 0.5 * moved(raw_model)
    # The discriminator is not averaged, and the average did not change the training itself.
    for a, b in zip(avg_model.discriminator.weights, raw_model.discriminator.weights):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-5, atol=1e-6)

    before = {str(p): p.stat().st_mtime_ns for p in avg_out.rglob("*")}
    again = _train("gan-mnist", "--epochs", "12", "--limit", "300", "--data-dir", data_dir,
                   "--out", str(avg_out), "--verbose", "0")
    assert again.returncode == 2 and "--generator-ema 0.9" in again.stderr, again.stderr[-2000:]
    assert {str(p): p.stat().st_mtime_ns for p in avg_out.rglob("*")} == before


def _recorded_on_this_backend(entry) -> bool:
    """Metrics are reproduced exactly on the backend that measured them (the
    registry says which); other backends draw other noise and dropout masks."""
    return keras.backend.backend() == entry.metrics["backend"]


def test_gan_mnist_parzen_score_is_reproduced(data_dir):
    from evaluation.parzen import evaluate

    entry = zoo.get_entry("gan-mnist")
    if not entry.sha256:
        pytest.skip("gan-mnist has no published checkpoint")
    result = evaluate("gan-mnist", data_dir=data_dir, baseline=False, progress=False)
    recorded = entry.metrics["parzen_ll"]
    if _recorded_on_this_backend(entry):
        assert result.sigma == pytest.approx(entry.metrics["parzen_sigma"], rel=1e-3)
        assert result.mean == pytest.approx(recorded, abs=0.01)
    else:  # another backend's random stream: another 10,000 samples of the same model
        assert abs(result.mean - recorded) < 3 * entry.metrics["parzen_se"]


def test_cgan_mnist_parzen_and_label_agreement_are_reproduced(data_dir):
    from evaluation.label_agreement import label_agreement
    from evaluation.parzen import evaluate

    entry = zoo.get_entry("cgan-mnist")
    if not entry.sha256:
        pytest.skip("cgan-mnist has no published checkpoint")
    result = evaluate("cgan-mnist", data_dir=data_dir, baseline=False, progress=False)
    agreement = label_agreement("cgan-mnist", data_dir=data_dir, baseline=False, progress=False).agreement
    if _recorded_on_this_backend(entry):
        assert result.mean == pytest.approx(entry.metrics["parzen_ll"], abs=0.01)
        assert agreement == pytest.approx(entry.metrics["label_agreement"], abs=1e-4)
    else:  # another backend's noise: other samples of the same model
        assert abs(result.mean - entry.metrics["parzen_ll"]) < 3 * entry.metrics["parzen_se"]
        assert agreement == pytest.approx(entry.metrics["label_agreement"], abs=0.015)


@pytest.mark.parametrize("name", ["pix2pix-facades", "pix2pix-facades-l1"])
def test_pix2pix_facades_paired_metrics_are_reproduced(name, data_dir):
    from evaluation.paired import evaluate_paired

    entry = zoo.get_entry(name)
    if not entry.sha256:
        pytest.skip(f"{name} has no published checkpoint")
    result = evaluate_paired(name, "test", data_dir=data_dir, progress=False)
    tight = _recorded_on_this_backend(entry)  # elsewhere the dropout masks differ
    assert result.l1 == pytest.approx(entry.metrics["l1"], abs=5e-4 if tight else 0.01)
    assert result.psnr == pytest.approx(entry.metrics["psnr"], abs=0.01 if tight else 0.3)
    assert result.ssim == pytest.approx(entry.metrics["ssim"], abs=5e-4 if tight else 0.02)


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="the table was measured with KERAS_BACKEND=torch")
def test_pix2pix_fcn_scores_in_the_registry_are_reproduced(data_dir):
    """The registry's FCN scores are means over dropout seeds 0-4; seed 0 alone lies within 0.005."""
    from evaluation.fcn_score import evaluate_fcn

    for name in ("pix2pix-facades", "pix2pix-facades-l1"):
        metrics = zoo.get_entry(name).metrics
        scores = evaluate_fcn(name, data_dir=data_dir, fidelity=False, progress=False).scores
        for key in ("per_pixel_accuracy", "per_class_accuracy", "class_iou"):
            assert scores[key] == pytest.approx(metrics[f"fcn_{key}"], abs=0.005), (name, key)


def test_cgan_card_reports_label_agreement_and_the_recipe_seed():
    """The CGAN card carries the conditioning check beside Parzen, and both commands point
    at the export; the recipe's default seed is the one its checkpoint was trained with."""
    from zoo.card import render_card
    from zoo.recipes import RECIPES

    recipe = RECIPES["cgan-mnist"]
    export = "out/export/cgan-mnist.weights.h5"
    summary = {"export": export, "sha256": "ab" * 32, "command": "python -m zoo.train cgan-mnist",
               "epochs_run": 3, "best_epoch": 2, "best_validation_score": 10.0, "wall_time_s": 60.0,
               "machine": "test", "backend": "jax", "seed": recipe.seed, "limit": None}
    evaluation = {"parzen_ll": 130.0, "parzen_se": 2.0, "parzen_sigma": 0.2, "real_data_parzen_ll": 241.0,
                  "label_agreement": 0.9, "classifier_test_accuracy": 0.99}
    card = render_card(zoo.get_entry("cgan-mnist"), recipe, summary, evaluation)
    assert recipe.seed == 1 and "jax, seed 1 |" in card
    assert "| label agreement" in card and "**0.9**" in card and "real MNIST test digits | 0.99 |" in card
    assert f"python -m evaluation.parzen {export}; python -m evaluation.label_agreement {export}" in card
    assert "| 132 +- 1.8 |" in card and "Trained 3 of the recipe's 300 epochs." in card
    assert "No dropout in G" in card


@pytest.mark.parametrize("name", zoo.names())
def test_a_runs_card_describes_that_run_not_the_shipped_checkpoint(name):
    """A run without --generator-ema is not told it exported a moving average (gan-mnist's shipped
    weights are one), an ablation's run is not told that no weights ship; with the average, it is."""
    from zoo.card import render_card
    from zoo.recipes import RECIPES

    recipe = RECIPES[name]
    summary = {"export": f"out/export/{name}.weights.h5", "sha256": "ab" * 32, "command": f"python -m zoo.train {name}",
               "epochs_run": 2, "best_epoch": 2, "best_validation_score": 1.0, "wall_time_s": 60.0,
               "machine": "test", "backend": "torch", "seed": 0, "limit": None}
    card = render_card(zoo.get_entry(name), recipe, summary, {})
    assert "moving average" not in card and "weights ship" not in card.lower(), card
    assert "| weights | the networks' weights after the exported epoch's last update (no `--generator-ema`" in card
    averaged = render_card(zoo.get_entry(name), recipe, {**summary, "generator_average": 0.999}, {})
    assert "| weights | the generator's exponential moving average over its training iterates (momentum 0.999" in averaged


@pytest.mark.parametrize("keep, exported", [("best", 2), ("last", 3)])
def test_export_keeps_the_best_or_the_last_epoch_and_survives_a_restart(tmp_path, keep, exported):
    """GAN recipes export the best validation epoch; pix2pix's keep the last (the paper's final model)."""
    import json

    from zoo.selection import BestValidationExport

    scores = iter([1.0, 3.0, 2.0, 0.5])
    epoch_now = {}
    export, state = tmp_path / "export" / "m.weights.h5", tmp_path / "best.json"

    def make():
        return BestValidationExport(lambda model: next(scores), str(export), str(state), metric_name="val_x",
                                    keep=keep, save_fn=lambda path: open(path, "w").write(str(epoch_now["e"])))

    callback = make()
    for epoch in range(3):
        epoch_now["e"] = epoch + 1
        callback.on_epoch_end(epoch)
    assert export.read_text() == str(exported)
    saved = json.loads(state.read_text())
    assert (saved["best_epoch"], saved["exported_epoch"], saved["keep"]) == (2, exported, keep)
    assert (tmp_path / "val_x.csv").read_text().splitlines() == ["epoch,score", "1,1.0000", "2,3.0000", "3,2.0000"]
    resumed = make()  # a resumed run keeps the best so far: a worse epoch 4 does not replace it under "best"
    epoch_now["e"] = 4
    resumed.on_epoch_end(3)
    assert export.read_text() == ("2" if keep == "best" else "4") and resumed.best == 3.0
    with pytest.raises(ValueError, match="keep must be"):
        BestValidationExport(lambda m: 0.0, str(export), str(tmp_path / "other.json"), keep="first")


def _altered_copy(source: str, target, where: float = 0.5) -> None:
    data = bytearray(open(source, "rb").read())
    data[int(len(data) * where)] ^= 0xFF  # one byte inside the weight data: the file still loads
    target.write_bytes(bytes(data))


def test_a_file_named_like_a_zoo_checkpoint_must_match_its_hash_or_its_own_record(tmp_path, monkeypatch):
    """An altered copy of gan-mnist.weights.h5, given by path, is refused (it would score under the
    zoo's name); allow_unverified loads it; a zoo.train export is vouched for by its .sha256 record;
    other file names are the user's own business."""
    monkeypatch.delenv(zoo.ALLOW_UNVERIFIED_ENV, raising=False)
    entry = zoo.get_entry("gan-mnist")
    if not entry.sha256:
        pytest.skip("gan-mnist has no published checkpoint")
    shipped = zoo.weights_path("gan-mnist", "pretrained")
    altered = tmp_path / entry.weights_file
    _altered_copy(shipped, altered)
    with pytest.raises(zoo.ZooWeightsError, match="altered copy.*allow_unverified=True"):
        zoo.load("gan-mnist", weights=str(altered))
    model = zoo.load("gan-mnist", weights=str(altered), allow_unverified=True)
    assert model.generator is not None
    monkeypatch.setenv(zoo.ALLOW_UNVERIFIED_ENV, "1")  # what --allow-unverified sets
    zoo.load("gan-mnist", weights=str(altered))
    monkeypatch.delenv(zoo.ALLOW_UNVERIFIED_ENV)
    # A run's own export: its record vouches for it, until the bytes change.
    assert zoo.write_sidecar(str(altered)) == zoo.sha256_of(str(altered))
    zoo.load("gan-mnist", weights=str(altered))
    _altered_copy(str(altered), altered, where=0.6)
    with pytest.raises(zoo.ZooWeightsError, match="gan-mnist.weights.h5.sha256"):
        zoo.load("gan-mnist", weights=str(altered))
    other_name = tmp_path / "mine.weights.h5"
    _altered_copy(shipped, other_name)
    zoo.load("gan-mnist", weights=str(other_name))


@one_pass("tensorflow", "the sha256 check; the other test_zoo tests load models on every backend")
def test_evaluation_command_lines_refuse_an_altered_zoo_file_unless_told(tmp_path, data_dir):
    entry = zoo.get_entry("gan-mnist")
    if not entry.sha256:
        pytest.skip("gan-mnist has no published checkpoint")
    altered = tmp_path / entry.weights_file
    _altered_copy(zoo.weights_path("gan-mnist", "pretrained"), altered)
    env = {k: v for k, v in os.environ.items() if k != zoo.ALLOW_UNVERIFIED_ENV}
    proc = subprocess.run([sys.executable, "-m", "evaluation.parzen", str(altered), "--num-samples", "50",
                           "--num-test", "20", "--num-validation", "20", "--no-baseline",
                           "--json", str(tmp_path / "r.json")],
                          cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 2 and "--allow-unverified" in proc.stderr, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and not (tmp_path / "r.json").exists()
    proc = subprocess.run([sys.executable, "-m", "evaluation.parzen", str(altered), "--num-samples", "50",
                           "--num-test", "20", "--num-validation", "20", "--no-baseline", "--data-dir", data_dir,
                           "--allow-unverified", "--json", str(tmp_path / "r.json")],
                          cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "r.json").is_file()
