"""The demo's handlers without a browser: upload checks, palette snapping, the example map, the sampler."""

import numpy as np
import pytest
from PIL import Image

from keras_gan.datasets.facades import CMP_CLASS_COLORS, label_map_classes
from keras_gan.demo import label_maps, uploads
from tests.conftest import one_pass

pytestmark = one_pass("torch", why="numpy and Pillow checks; the models' own tests cover the backends")


def test_the_example_map_uses_the_palette_and_most_classes():
    image = label_maps.example_label_map(256)
    assert image.shape == (256, 256, 3) and image.dtype == np.uint8
    colors = {tuple(c) for c in image.reshape(-1, 3)}
    assert colors <= {tuple(c) for c in CMP_CLASS_COLORS}
    assert len(colors) >= 10
    assert len(label_maps.palette_hex()) == 12 and label_maps.palette_hex()[0] == "#0000aa"


def test_snapping_restores_class_colours_and_flags_photos():
    image = label_maps.example_label_map(64)
    noisy = np.clip(image.astype(int) + np.random.default_rng(0).integers(-20, 21, image.shape), 0, 255).astype(np.uint8)
    snapped, off = label_maps.snap_to_palette(noisy)
    assert (snapped == image).all() and off == 0.0
    grey = np.full((64, 64, 3), 128, np.uint8)  # far from every class colour
    assert label_maps.snap_to_palette(grey)[1] == 1.0


def test_uploads_are_read_resized_or_refused_with_a_reason(tmp_path):
    image = label_maps.example_label_map(64)
    Image.fromarray(image).save(tmp_path / "map.png")
    array, notes = uploads.read_upload(str(tmp_path / "map.png"), 64, label_map=True)
    assert (array == image).all() and notes == []
    array, notes = uploads.read_upload(str(tmp_path / "map.png"), 256, label_map=True)
    assert array.shape == (256, 256, 3) and "map.png is 64x64: resized to 256x256 (nearest" in notes[0]
    assert set(np.unique(label_map_classes(array[None]))) == set(np.unique(label_map_classes(image[None])))

    (tmp_path / "text.png").write_text("hello")
    with pytest.raises(uploads.UploadError, match="text.png is not an image"):
        uploads.read_upload(str(tmp_path / "text.png"), 256, label_map=True)
    data = (tmp_path / "map.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(uploads.UploadError, match="cut.png could not be decoded"):
        uploads.read_upload(str(tmp_path / "cut.png"), 256)
    with pytest.raises(uploads.UploadError, match=r"map.png is 0.0 MB; the demo takes files up to 0.0 MB"):
        uploads.read_upload(str(tmp_path / "map.png"), 256, max_bytes=100)
    Image.new("1", (5000, 20)).save(tmp_path / "wide.png")  # a small file, too many pixels
    with pytest.raises(uploads.UploadError, match="wide.png is 5000x20 pixels; the demo takes images up to 4096"):
        uploads.read_upload(str(tmp_path / "wide.png"), 256)


def test_transparent_pixels_become_background_and_grey_models_get_one_channel():
    rgba = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    array, _ = uploads.to_model_input(rgba, 8, 3, label_map=True)
    assert (array == CMP_CLASS_COLORS[0]).all()
    array, _ = uploads.to_model_input(Image.new("RGB", (8, 8), (255, 255, 255)), 4, 1, label_map=False)
    assert array.shape == (4, 4, 1) and (array == 255).all()


def test_sampler_grids_for_a_cgan_follow_the_class_and_the_seed():
    import keras_gan
    from keras_gan.demo.app import MIN_SHOWN_WIDTH, Sampler

    sampler = Sampler(keras_gan.zoo.load("cgan-mnist"))
    rows = sampler.grid(seed=1, count=20, label="all")  # two per class, one row per class
    assert rows.ndim == 2 and rows.dtype == np.uint8 and max(rows.shape) >= MIN_SHOWN_WIDTH
    assert rows.shape[0] > 4 * rows.shape[1]  # ten rows of two
    sevens = sampler.grid(seed=1, count=4, label="7")
    assert (sampler.grid(seed=1, count=4, label="7") == sevens).all()
    assert (sampler.grid(seed=2, count=4, label="7") != sevens).any()
    with pytest.raises(ValueError, match="Unknown class 'eleven'; pick one of 0, 1"):
        sampler.grid(seed=1, count=4, label="eleven")
    with pytest.raises(ValueError, match="Ask for 1 to 100 samples; got 0"):
        sampler.grid(seed=1, count=0)


def test_the_command_refuses_an_unknown_model_in_one_line(capsys):
    from keras_gan.demo.__main__ import main

    assert main(["--model", "no-such-model"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: 'no-such-model' is neither a file nor a zoo model") and err.count("\n") == 1
    with pytest.raises(SystemExit):
        main(["--port", "70000"])
