"""The facades pairs: the real CMP base files, the pix2pix side-by-side layout, augmentation, bad files."""

import hashlib
import os

import numpy as np
import pytest
from PIL import Image

from keras_gan import datasets
from keras_gan.datasets import DataFileError, FacadesDataset, facades
from keras_gan.datasets.facades import jitter_size, load_facades_uint8

SIZE = 32  # small images keep the real-data tests fast
BACKGROUND = (0, 0, 170)  # CMP label 1


def to_uint8(images):
    return np.rint((images + 1.0) * 127.5).astype(np.uint8)


@pytest.fixture(scope="module")
def real_splits(data_dir):
    return {split: facades(split, data_dir=data_dir, image_size=SIZE, seed=0) for split in ("train", "val", "test")}


# ---------------------------------------------------------------- real files
def test_real_splits_have_the_fixed_sizes_shapes_and_range(real_splits):
    for split, expected in (("train", 300), ("val", 28), ("test", 50)):
        pairs = real_splits[split]
        for images in pairs:
            assert images.shape == (expected, SIZE, SIZE, 3) and images.dtype == np.float32
            assert images.min() >= -1.0 and images.max() <= 1.0
            assert images.std() > 0.2  # real content, not a constant
        assert not np.array_equal(pairs.inputs, pairs.targets)


def test_label_maps_are_rendered_in_their_palette_colours(real_splits, data_dir):
    folder = os.path.join(data_dir, "cmp_facade_base")
    labels = to_uint8(real_splits["val"].inputs)  # label2photo: inputs are the label maps
    with_background = 0
    for i, number in enumerate(range(301, 329)):
        png = Image.open(os.path.join(folder, f"cmp_b{number:04d}.png"))
        palette = np.array(png.getpalette()[: 3 * 256], dtype=np.uint8).reshape(-1, 3)
        used = {tuple(palette[k]) for k in np.unique(np.asarray(png))}
        rendered = {tuple(c) for c in labels[i].reshape(-1, 3)}
        assert rendered <= used, f"cmp_b{number:04d}: colours {rendered - used} are not its palette's"
        assert len(rendered) >= 3  # several classes survive the resize
        with_background += BACKGROUND in rendered
    assert with_background >= 25  # class 1, background, is in nearly every facade
    # Photos are photos: many more colours than the 12 classes.
    assert len({tuple(c) for c in to_uint8(real_splits["val"].targets[0]).reshape(-1, 3)}) > 50


def test_direction_swaps_inputs_and_targets(real_splits, data_dir):
    swapped = facades("val", data_dir=data_dir, image_size=SIZE, direction="photo2label")
    np.testing.assert_array_equal(swapped.inputs, real_splits["val"].targets)
    np.testing.assert_array_equal(swapped.targets, real_splits["val"].inputs)


def test_val_and_test_are_deterministic_and_unaugmented(real_splits, data_dir):
    again = facades("val", data_dir=data_dir, image_size=SIZE, seed=123)
    np.testing.assert_array_equal(again.inputs, real_splits["val"].inputs)
    labels, photos = load_facades_uint8("test", data_dir, SIZE, limit=5)
    np.testing.assert_array_equal(to_uint8(real_splits["test"].targets[:5]), photos)
    batches = FacadesDataset("val", batch_size=8, data_dir=data_dir, image_size=SIZE)
    first = batches[0]
    batches.on_epoch_end()
    np.testing.assert_array_equal(batches[0][0], first[0])
    np.testing.assert_array_equal(first[0], real_splits["val"].inputs[:8])


def test_train_augmentation_crops_and_mirrors_input_and_target_identically(data_dir):
    n = 6
    load = jitter_size(SIZE)
    assert jitter_size(256) == 286 and load == 36
    labels, photos = load_facades_uint8("train", data_dir, load, limit=n)
    pairs = facades("train", data_dir=data_dir, image_size=SIZE, seed=1, limit=n)
    out_labels, out_photos = to_uint8(pairs.inputs), to_uint8(pairs.targets)
    placements = set()
    for i in range(n):
        # Find where the photo crop came from, then require the label crop from the same place.
        found = [
            (top, left, mirror)
            for top in range(load - SIZE + 1)
            for left in range(load - SIZE + 1)
            for mirror in (False, True)
            if np.array_equal(_crop(photos[i], top, left, mirror), out_photos[i])
        ]
        assert len(found) == 1, f"pair {i}: photo crop found {len(found)} times"
        top, left, mirror = found[0]
        np.testing.assert_array_equal(_crop(labels[i], top, left, mirror), out_labels[i])
        placements.add(found[0])
    assert len(placements) > 1  # the jitter is random
    np.testing.assert_array_equal(facades("train", data_dir=data_dir, image_size=SIZE, seed=1, limit=n).targets,
                                  pairs.targets)
    assert not np.array_equal(facades("train", data_dir=data_dir, image_size=SIZE, seed=2, limit=n).targets,
                              pairs.targets)


def _crop(image, top, left, mirror):
    crop = image[top : top + SIZE, left : left + SIZE]
    return crop[:, ::-1] if mirror else crop


def test_dataset_draws_fresh_augmentation_every_epoch(data_dir):
    batches = FacadesDataset("train", batch_size=2, data_dir=data_dir, image_size=SIZE, seed=5, limit=4)
    assert len(batches) == 2
    first = [batches[i] for i in range(len(batches))]
    np.testing.assert_array_equal(batches[1][1], first[1][1])  # same index, same epoch: same batch
    batches.on_epoch_end()
    second = [batches[i] for i in range(len(batches))]
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(first, second))
    for inputs, targets in first + second:
        assert inputs.shape == targets.shape == (2, SIZE, SIZE, 3)
        assert inputs.dtype == np.float32 and -1 <= inputs.min() and inputs.max() <= 1
    with pytest.raises(IndexError):
        batches[2]


def test_data_dir_from_the_environment(data_dir, monkeypatch):
    monkeypatch.setenv(datasets.DATA_DIR_ENV, data_dir)
    pairs = facades("val", image_size=SIZE, limit=2)
    assert pairs.inputs.shape == (2, SIZE, SIZE, 3)


# -------------------------------------------------- side-by-side layout (A|B)
def _write_side_by_side(root, split, count, size=24, suffix=".jpg"):
    """pix2pix layout: photo (A) on the left, label map (B) on the right, one colour each."""
    folder = root / "facades" / split
    folder.mkdir(parents=True, exist_ok=True)
    colours = {}
    for n in range(1, count + 1):
        photo, label = (40 * n % 256, 200, 30), (0, 0, 170 - 10 * n)
        image = np.zeros((size, 2 * size, 3), np.uint8)
        image[:, :size], image[:, size:] = photo, label
        Image.fromarray(image).save(folder / f"{n}{suffix}", quality=100, subsampling=0)
        colours[n] = (photo, label)
    return colours


def test_side_by_side_layout_is_read_in_numeric_order(tmp_path):
    colours = _write_side_by_side(tmp_path, "train", 11)
    _write_side_by_side(tmp_path, "test", 2)
    pairs = facades("train", data_dir=str(tmp_path), image_size=16, augment=False)
    assert pairs.inputs.shape == (11, 16, 16, 3)
    labels, photos = to_uint8(pairs.inputs), to_uint8(pairs.targets)
    for i, n in enumerate(range(1, 12)):  # 1, 2, ..., 10, 11: not 1, 10, 11, 2
        photo, label = colours[n]
        # Away from the A|B seam, where JPEG blends the two halves.
        np.testing.assert_allclose(photos[i, 4:12, 2:10].reshape(-1, 3).mean(0), photo, atol=3)
        np.testing.assert_allclose(labels[i, 4:12, 6:14].reshape(-1, 3).mean(0), label, atol=3)
    # data_dir may also be the facades folder itself.
    assert facades("test", data_dir=str(tmp_path / "facades"), image_size=16).inputs.shape == (2, 16, 16, 3)
    augmented = facades("train", data_dir=str(tmp_path), image_size=16, seed=0)
    assert augmented.inputs.shape == (11, 16, 16, 3)


def test_side_by_side_image_of_the_wrong_shape_is_named(tmp_path):
    folder = tmp_path / "facades" / "val"
    folder.mkdir(parents=True)
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(folder / "1.jpg")
    with pytest.raises(DataFileError, match=r"1\.jpg is 30x20.*twice as wide"):
        facades("val", data_dir=str(tmp_path), image_size=16)


# ----------------------------------------------------- missing / corrupt files
def _write_cmp(folder, numbers, size=(40, 30)):
    """CMP-style pairs: a JPEG photo and a palette PNG label map per number."""
    folder.mkdir(parents=True, exist_ok=True)
    palette = [0, 0, 0, *BACKGROUND, 255, 0, 0] + [0] * (3 * 253)
    for n in numbers:
        rng = np.random.default_rng(n)
        Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(folder / f"cmp_b{n:04d}.jpg")
        label = Image.fromarray(rng.integers(1, 3, (size[1], size[0]), dtype=np.uint8))
        label.putpalette(palette)  # "L" -> "P": indices 1 and 2 are background and red
        assert label.mode == "P"
        label.save(folder / f"cmp_b{n:04d}.png")


def test_generated_cmp_folder_renders_palette_colours(tmp_path):
    _write_cmp(tmp_path / "cmp_facade_base", [1, 2])
    pairs = facades("train", data_dir=str(tmp_path), image_size=16, limit=2, augment=False)
    colours = {tuple(c) for c in to_uint8(pairs.inputs).reshape(-1, 3)}
    assert colours == {BACKGROUND, (255, 0, 0)}


def test_truncated_jpeg_is_named(tmp_path):
    folder = tmp_path / "cmp_facade_base"
    _write_cmp(folder, [1, 2])
    path = folder / "cmp_b0002.jpg"
    path.write_bytes(path.read_bytes()[:300])
    before = sorted(os.listdir(folder))
    with pytest.raises(DataFileError, match=r"cmp_b0002\.jpg.*corrupt or truncated"):
        facades("train", data_dir=str(tmp_path), image_size=16, limit=2)
    assert sorted(os.listdir(folder)) == before  # nothing written


def test_missing_pair_file_is_named(tmp_path):
    _write_cmp(tmp_path / "cmp_facade_base", [1, 2])
    with pytest.raises(DataFileError, match=r"not found: .*cmp_b0003\.jpg"):  # the split needs more files
        facades("train", data_dir=str(tmp_path), image_size=16, limit=3)
    os.remove(tmp_path / "cmp_facade_base" / "cmp_b0002.png")
    with pytest.raises(DataFileError, match=r"not found: .*cmp_b0002\.png"):
        facades("train", data_dir=str(tmp_path), image_size=16, limit=2)


def test_checksum_mismatch_is_named(tmp_path):
    folder = tmp_path / "cmp_facade_base"
    _write_cmp(folder, [1])
    digest = lambda name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / "SHA256SUMS").write_text(
        f"{digest('cmp_b0001.jpg')}  cmp_b0001.jpg\n{'0' * 64}  cmp_b0001.png\n"
    )
    with pytest.raises(DataFileError, match=r"cmp_b0001\.png does not match its SHA256SUMS"):
        facades("train", data_dir=str(tmp_path), image_size=16, limit=1)
    (folder / "SHA256SUMS").write_text(
        f"{digest('cmp_b0001.jpg')}  cmp_b0001.jpg\n{digest('cmp_b0001.png')}  cmp_b0001.png\n"
    )
    assert facades("train", data_dir=str(tmp_path), image_size=16, limit=1).inputs.shape == (1, 16, 16, 3)


def test_folder_without_facades_and_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="holds no facades data.*cmp_facade_base"):
        facades("train", data_dir=str(tmp_path))
    with pytest.raises(ValueError, match="Unknown facades split"):
        facades("training", data_dir=str(tmp_path))
    with pytest.raises(ValueError, match="Unknown direction"):
        facades("train", data_dir=str(tmp_path), direction="a2b")
    with pytest.raises(ValueError, match="image_size"):
        facades("train", data_dir=str(tmp_path), image_size=0)
    with pytest.raises(ValueError, match="batch_size"):
        FacadesDataset("train", batch_size=0, data_dir=str(tmp_path))
