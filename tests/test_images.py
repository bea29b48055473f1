import numpy as np
import pytest
from PIL import Image

from keras_gan.utils import image_grid, save_image_grid

#: matplotlib's first two default colours (tab:blue, tab:orange), as RGB.
C0, C1 = (31, 119, 180), (255, 127, 14)


def _pixels_near(path, colour, tolerance=30) -> int:
    """How many pixels of the PNG at `path` have about this RGB colour."""
    rgb = np.asarray(Image.open(path).convert("RGB")).astype(int)
    return int((np.abs(rgb - np.array(colour)).max(axis=-1) <= tolerance).sum())


def test_grid_layout_and_png(tmp_path):
    imgs = np.zeros((5, 4, 3, 1), "float32")
    imgs[4] = 1.0
    grid = image_grid(imgs, cols=3, pad=1)
    assert grid.shape == (2 * 5 + 1, 3 * 4 + 1) and grid.dtype == np.uint8
    assert grid[1, 1] == 0 and grid[6, 5] == 255 and grid[6, 2] == 0  # image 4 is at row 1, col 1
    path = save_image_grid(str(tmp_path / "a" / "g.png"), imgs, cols=3)
    np.testing.assert_array_equal(np.asarray(Image.open(path)), grid)  # the PNG holds exactly the grid
    with pytest.raises(ValueError, match="expects"):
        image_grid(np.zeros((3,)))


def test_history_plot_takes_real_epochs_and_rejects_a_mismatch(tmp_path):
    from keras_gan.utils import save_history_plot

    history = {"d_loss": [0.5, 0.4, 0.3], "g_loss": [2.0, 2.1, 2.2]}
    path = save_history_plot(str(tmp_path / "c" / "losses.png"), history, "t", epochs=[76, 77, 78])
    assert _pixels_near(path, C0) > 50 and _pixels_near(path, C1) > 50  # both series are drawn
    with pytest.raises(ValueError, match="3 epochs for series of lengths \\[2\\]"):
        save_history_plot(str(tmp_path / "bad.png"), {"d_loss": [0.5, 0.4]}, "t", epochs=[1, 2, 3])
    assert not (tmp_path / "bad.png").exists()


def test_score_plot_marks_the_best_epoch_and_rejects_a_mismatch(tmp_path):
    from keras_gan.utils import save_score_plot

    path = save_score_plot(str(tmp_path / "s" / "val.png"), [297, 302, 307], [175.9, 183.0, 181.2], "val_parzen")
    assert _pixels_near(path, C0) > 50  # the curve
    assert _pixels_near(path, C1) > 50  # the best epoch's star (and its legend entry)
    flat = save_score_plot(str(tmp_path / "s" / "flat.png"), [1, 2], [1.0, 1.0])
    assert _pixels_near(flat, C1) > 50
    with pytest.raises(ValueError, match="2 epochs and 3 scores"):
        save_score_plot(str(tmp_path / "bad.png"), [1, 2], [1.0, 2.0, 3.0])
    assert not (tmp_path / "bad.png").exists()
