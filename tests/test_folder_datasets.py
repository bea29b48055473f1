"""Folder data sets (issue 31 s1, issue 33 s5): layouts, order and jitter from (seed, epoch), and
each bad input as one DataFileError naming the file. Backend-independent (numpy and Pillow only):
one pass."""

from __future__ import annotations

import os

import numpy as np
import pytest

from keras_gan.datasets import DataFileError, FacadesDataset, ImageFolderDataset, PairedImageFolder
from keras_gan.datasets.paired import random_jitter, to_signed_unit_range
from tests import image_folders
from tests.conftest import one_pass

pytestmark = one_pass("jax", why="numpy / Pillow data sets, the same on every backend")


def test_aligned_pairs_are_split_resized_and_paired(tmp_path):
    image_folders.aligned_pairs(str(tmp_path), count=3, size=24, height=18)  # 48x18 A|B: not square
    data = PairedImageFolder(str(tmp_path), image_size=16, augment=False, shuffle=False, batch_size=3)
    inputs, targets = data[0]
    assert data.layout == "aligned" and data.channels == (3, 3)
    assert inputs.shape == targets.shape == (3, 16, 16, 3) and inputs.dtype == np.float32
    # B = 255 - A in the files, so in [-1, 1] the target is minus the input (up to resize rounding)
    assert np.abs(inputs + targets).max() < 2 / 127.5 and np.abs(inputs).max() > 0.5
    back = PairedImageFolder(str(tmp_path), image_size=16, augment=False, shuffle=False, batch_size=3,
                             direction="BtoA")
    np.testing.assert_array_equal(back[0][0], targets)


def test_natural_order_and_grey_images(tmp_path):
    image_folders.aligned_pairs(str(tmp_path), count=11, size=16, gray=True)
    data = PairedImageFolder(str(tmp_path), image_size=16, augment=False, shuffle=False)
    assert [os.path.basename(a.path) for a, _ in data.pairs][:3] == ["1.png", "2.png", "3.png"]
    assert os.path.basename(data.pairs[-1][0].path) == "11.png"  # not "10.png" < "2.png"
    assert data.channels == (1, 1) and data[0][0].shape == (1, 16, 16, 1)


def test_two_folders_pair_by_name_across_extensions(tmp_path):
    image_folders.two_folder_pairs(str(tmp_path), count=3, size=20)
    os.rename(tmp_path / "B" / "p1.png", tmp_path / "B" / "p1.bmp")  # a name matches whatever the extension
    data = PairedImageFolder(str(tmp_path), image_size=16, augment=False, shuffle=False, batch_size=3)
    inputs, targets = data[0]
    assert data.layout == "two_folders" and data.channels == (3, 1)
    assert inputs.shape == (3, 16, 16, 3) and targets.shape == (3, 16, 16, 1)
    np.testing.assert_allclose(targets[..., 0], -inputs[..., 0], atol=2 / 127.5)  # B = 255 - A's red


def test_order_and_jitter_are_facades_rule_of_seed_epoch_index(tmp_path):
    """The same batches as PairedBatches' rule (FacadesDataset's): order from (seed, epoch), jitter
    from (seed, epoch, index); any batch can be asked again, in any order (a resumed epoch)."""
    image_folders.aligned_pairs(str(tmp_path), count=5, size=32)
    data = PairedImageFolder(str(tmp_path), image_size=16, seed=7, batch_size=2)
    assert data.augment and data.shuffle and data.load_size == 18 and len(data) == 3
    plain = PairedImageFolder(str(tmp_path), image_size=18, augment=False, shuffle=False, batch_size=5)
    a_all, b_all = plain.read_pairs(np.arange(5), 0, 0)
    for epoch in (0, 3):
        order = np.random.default_rng([7, epoch]).permutation(np.arange(5))
        for index in (2, 0, 1):
            chosen = order[index * 2 : index * 2 + 2]
            a, b = random_jitter(a_all[chosen], b_all[chosen], 16, np.random.default_rng([7, epoch, index]))
            inputs, targets = data.batch(epoch, index)
            np.testing.assert_array_equal(inputs, to_signed_unit_range(a))
            np.testing.assert_array_equal(targets, to_signed_unit_range(b))
    data.epoch = 3
    np.testing.assert_array_equal(data[1][0], data.batch(3, 1)[0])
    assert not np.array_equal(data.batch(0, 0)[0], data.batch(1, 0)[0])  # a new draw each epoch
    assert FacadesDataset.batch is PairedImageFolder.batch  # one rule for both


def test_class_folders_give_labels_and_a_seeded_order(tmp_path):
    image_folders.class_folders(str(tmp_path), classes=("cat", "dog"), per_class=3, size=16)
    data = ImageFolderDataset(str(tmp_path), batch_size=2, seed=1)
    assert data.class_names == ["cat", "dog"] and data.image_shape == (16, 16, 3) and len(data) == 3
    images, labels = data.batch(0, 0)
    assert images.shape == (2, 16, 16, 3) and 0 <= images.min() and images.max() <= 1 and labels.dtype == np.int32
    order = np.random.default_rng([1, 0]).permutation(6)
    np.testing.assert_array_equal(labels, order[:2] // 3)  # files 0-2 are cats, 3-5 dogs
    assert np.all((images.mean(axis=(1, 2, 3)) > 0.45) == (labels == 1))  # dogs were written bright
    unlabelled = ImageFolderDataset(str(tmp_path), batch_size=2, seed=1, with_labels=False)
    np.testing.assert_array_equal(unlabelled.batch(0, 0), images)
    halves = [ImageFolderDataset(str(tmp_path), batch_size=4, seed=1, shard=(r, 2)).batch(0, 0)[1] for r in (0, 1)]
    np.testing.assert_array_equal(np.concatenate(halves), order[:4] // 3)


def _message(excinfo) -> str:
    return str(excinfo.value)


@pytest.mark.parametrize("damage", ["truncated_png", "truncated_jpeg", "text_as_png", "empty_file"])
def test_a_bad_file_is_named_before_training(tmp_path, damage):
    paths = image_folders.aligned_pairs(str(tmp_path), count=3, size=16)
    bad = paths[1]
    if damage == "truncated_jpeg":
        from PIL import Image

        os.remove(bad)
        bad = bad[:-4] + ".jpg"
        Image.fromarray(image_folders.pattern(1, 16, 32)).save(bad, quality=90)
        image_folders.truncate(bad, 0.7)
    elif damage == "truncated_png":
        image_folders.truncate(bad, 0.6)
    elif damage == "text_as_png":
        with open(bad, "w") as f:
            f.write("<html>404 not found</html>")
    else:
        open(bad, "w").close()
    with pytest.raises(DataFileError) as e:
        PairedImageFolder(str(tmp_path), image_size=16)
    assert bad in _message(e)
    skipping = PairedImageFolder(str(tmp_path), image_size=16, skip_bad_files=True)
    assert len(skipping.pairs) == 2 and [p for p, _ in skipping.skipped] == [bad]


def test_bad_layouts_are_named(tmp_path):
    root = str(tmp_path)
    cases = []
    image_folders.aligned_pairs(os.path.join(root, "odd"), count=2, size=16)
    from PIL import Image

    odd = os.path.join(root, "odd", "train", "3.png")
    Image.fromarray(np.zeros((16, 31, 3), np.uint8)).save(odd)
    cases.append((PairedImageFolder, (os.path.join(root, "odd"),), odd, "even"))
    image_folders.aligned_pairs(os.path.join(root, "stray"), count=2, size=16)
    stray = os.path.join(root, "stray", "train", "notes.txt")
    open(stray, "w").write("my notes")
    cases.append((PairedImageFolder, (os.path.join(root, "stray"),), stray, "not an image"))
    image_folders.two_folder_pairs(os.path.join(root, "unmatched"), count=3, size=16)
    os.remove(os.path.join(root, "unmatched", "B", "p2.png"))
    cases.append((PairedImageFolder, (os.path.join(root, "unmatched"),), os.path.join(root, "unmatched", "A", "p2.png"),
                  "no image of the same name"))
    os.makedirs(os.path.join(root, "empty", "train"))
    cases.append((PairedImageFolder, (os.path.join(root, "empty"),), os.path.join(root, "empty", "train"), "no images"))
    os.makedirs(os.path.join(root, "onlyA", "A"))
    cases.append((PairedImageFolder, (os.path.join(root, "onlyA"),), os.path.join(root, "onlyA", "B"), "missing"))
    image_folders.class_folders(os.path.join(root, "mixed"), per_class=2, size=16)
    big = os.path.join(root, "mixed", "dog", "big.png")
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(big)
    cases.append((ImageFolderDataset, (os.path.join(root, "mixed"),), big, "same size"))
    image_folders.class_folders(os.path.join(root, "loose"), per_class=1, size=16)
    loose = os.path.join(root, "loose", "x.png")
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(loose)
    cases.append((ImageFolderDataset, (os.path.join(root, "loose"),), loose, "beside the class folders"))
    for cls, args, named, why in cases:
        with pytest.raises(DataFileError) as e:
            cls(*args)
        assert named in _message(e) and why in _message(e), _message(e)
    assert ImageFolderDataset(os.path.join(root, "mixed"), image_size=16).image_shape == (16, 16, 3)  # resized: fine


def test_a_file_gone_bad_during_training_is_named_or_skipped_deterministically(tmp_path):
    paths = image_folders.aligned_pairs(str(tmp_path), count=4, size=16)
    data = PairedImageFolder(str(tmp_path), image_size=16, augment=False, shuffle=False, batch_size=2)
    skipping = PairedImageFolder(str(tmp_path), image_size=16, augment=False, shuffle=False, batch_size=2,
                                 skip_bad_files=True)
    good = skipping.batch(0, 0)
    image_folders.truncate(paths[0], 0.5)  # found bad at read time, after the scan
    with pytest.raises(DataFileError) as e:
        data.batch(6, 0)
    assert paths[0] in _message(e) and "epoch 7" in _message(e) and "resumes from the last backup" in _message(e)
    inputs, _ = skipping.batch(6, 0)
    np.testing.assert_array_equal(inputs[0], good[0][1])  # pair 1 (the next readable) served for pair 0
    np.testing.assert_array_equal(inputs[1], good[0][1])
    assert skipping.skipped_reads == 1
    np.testing.assert_array_equal(skipping.batch(6, 0)[0], inputs)  # the same rule every time
    assert skipping.skipped_reads == 2


def test_palette_label_maps_keep_their_colours_when_resized(tmp_path):
    """A palette (mode P) image is a label map: resized with nearest neighbour, as the CMP facades."""
    from PIL import Image

    image_folders.two_folder_pairs(str(tmp_path), count=1, size=20)
    classes = (np.arange(20)[:, None] // 7 + np.arange(20)[None, :] // 5) % 3
    labels = Image.fromarray(classes.astype(np.uint8), "P")
    labels.putpalette([0, 0, 170, 255, 255, 0, 170, 0, 0] + [0] * (256 * 3 - 9))
    labels.save(tmp_path / "B" / "p0.png")
    _, targets = PairedImageFolder(str(tmp_path), image_size=16, augment=False, shuffle=False)[0]
    colours = {tuple(c) for c in np.rint((targets[0].reshape(-1, 3) + 1) * 127.5).astype(int)}
    assert colours == {(0, 0, 170), (255, 255, 0), (170, 0, 0)}
