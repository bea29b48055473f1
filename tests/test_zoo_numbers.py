"""One source of truth for the zoo's numbers: the registry, the cards' headline blocks and the
README's zoo table are generated from zoo/cards/results/*.json, and a stale copy fails here."""

import json
import os
import shutil

import pytest

from keras_gan import zoo
from keras_gan.zoo import papers


def test_generated_numbers_are_up_to_date():
    from zoo import numbers

    assert numbers.stale_files() == [], "run: python -m zoo.numbers"


def test_the_registry_carries_exactly_the_generated_numbers():
    from zoo import numbers

    generated = numbers.measured()
    for entry in zoo.ENTRIES:
        for key, value in generated.get(entry.name, {}).items():
            assert entry.metrics[key] == value, (entry.name, key)
    assert zoo.get_entry("gan-mnist").metrics["parzen_ll"] == pytest.approx(225.259, abs=1e-3)


def test_registry_and_recipes_name_the_same_entries():
    from zoo.recipes import RECIPES

    assert sorted(entry.name for entry in zoo.ENTRIES) == sorted(n for n, r in RECIPES.items() if not r.from_folder)
    assert sorted(n for n, r in RECIPES.items() if r.from_folder) == ["cgan-folder", "gan-folder", "pix2pix-folder"]


#: The published numbers, transcribed from the papers for this test (not read from papers.py).
PUBLISHED = {
    "GAN_MNIST_PARZEN": {"parzen_ll": 225.0, "parzen_se": 2.0},  # Goodfellow et al. 2014, Table 1: 225 +- 2
    "CGAN_MNIST_PARZEN": {"parzen_ll": 132.0, "parzen_se": 1.8},  # Mirza & Osindero 2014, Table 1: 132 +- 1.8
    "PIX2PIX_FCN_SCORES": {  # Isola et al. 2017, Table 1 (Cityscapes labels -> photo)
        "L1": (0.42, 0.15, 0.11), "GAN": (0.22, 0.05, 0.01), "cGAN": (0.57, 0.22, 0.16),
        "L1+GAN": (0.64, 0.20, 0.15), "L1+cGAN": (0.66, 0.23, 0.17), "Ground truth": (0.80, 0.26, 0.21),
    },
}
FCN_KEYS = ("fcn_per_pixel_accuracy", "fcn_per_class_accuracy", "fcn_class_iou")
PARZEN_KEYS = ("parzen_ll", "parzen_se")


def test_the_one_place_holds_the_papers_numbers():
    for name, published in PUBLISHED.items():
        assert getattr(papers, name) == published, name


def _cited(entry) -> dict:
    """The paper numbers an entry carries (not its source text)."""
    return {k: v for k, v in entry.paper_metrics.items() if k in PARZEN_KEYS + FCN_KEYS}


def _fresh_registry(monkeypatch):
    """keras_gan/zoo/registry.py executed again, as a separate module: its entries built from
    papers.py as it is now (the imported registry's were built at import)."""
    import importlib.util
    import sys

    from keras_gan.zoo import registry

    spec = importlib.util.spec_from_file_location("keras_gan.zoo._registry_again", registry.__file__)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_papers_numbers_come_from_one_place(monkeypatch):
    """Change every number in papers.py and rebuild the registry: every entry that cites a paper
    number now carries the changed one. An entry with the number typed in again (equal today)
    keeps the old value and fails here."""
    sentinels = {
        "GAN_MNIST_PARZEN": {"parzen_ll": -1.0, "parzen_se": -2.0},
        "CGAN_MNIST_PARZEN": {"parzen_ll": -3.0, "parzen_se": -4.0},
        "PIX2PIX_FCN_SCORES": {row: (-10.0 - i, -20.0 - i, -30.0 - i)
                               for i, row in enumerate(papers.PIX2PIX_FCN_SCORES)},
    }
    # Which paper number each entry cites, read from the registry as imported.
    expected = {}
    for entry in zoo.ENTRIES:
        cited = _cited(entry)
        if not cited:
            continue
        if set(cited) == set(PARZEN_KEYS):
            source = next(n for n in ("GAN_MNIST_PARZEN", "CGAN_MNIST_PARZEN") if getattr(papers, n) == cited)
            expected[entry.name] = sentinels[source]
        else:
            assert set(cited) == set(FCN_KEYS), entry.name
            row = next(r for r, v in papers.PIX2PIX_FCN_SCORES.items() if v == tuple(cited[k] for k in FCN_KEYS))
            expected[entry.name] = dict(zip(FCN_KEYS, sentinels["PIX2PIX_FCN_SCORES"][row]))
    # Every paper the registry cites is cited: the check below covers all three sources.
    assert {"gan-mnist", "cgan-mnist", "pix2pix-facades", "pix2pix-facades-l1"} <= set(expected)
    for name, value in sentinels.items():
        monkeypatch.setattr(papers, name, value)
    rebuilt = {entry.name: _cited(entry) for entry in _fresh_registry(monkeypatch).ENTRIES}
    assert {name: cited for name, cited in rebuilt.items() if cited} == expected


def test_a_changed_result_makes_every_copy_stale(tmp_path, monkeypatch):
    from zoo import numbers

    results = tmp_path / "results"
    shutil.copytree(numbers.RESULTS, results)
    path = results / "gan-mnist.parzen.json"
    data = json.loads(path.read_text())
    data["mean"] += 1.0
    path.write_text(json.dumps(data))
    monkeypatch.setattr(numbers, "RESULTS", str(results))
    stale = numbers.stale_files()
    for expected in ("keras_gan/zoo/measured.json", "README.md", os.path.join("zoo", "cards", "gan-mnist.md")):
        assert expected in stale
    assert "zoo/cards/cgan-mnist.md" not in stale  # only the copies of that number


def test_the_cards_table_1_is_every_row_of_the_json(tmp_path, monkeypatch):
    """A row added to (or changed in) the Table 1 JSON makes the pix2pix card stale, and
    regenerating puts exactly the JSON's rows, in order, between the card's markers."""
    from zoo import numbers

    results = tmp_path / "results"
    shutil.copytree(numbers.RESULTS, results)
    path = results / numbers.TABLE1
    data = json.loads(path.read_text())
    data["rows"]["an extra row"] = next(iter(data["rows"].values()))
    path.write_text(json.dumps(data))
    monkeypatch.setattr(numbers, "RESULTS", str(results))
    assert os.path.join("zoo", "cards", "pix2pix-facades.md") in numbers.stale_files()
    card = numbers.expected_files()[numbers.TABLE1_CARD]
    block = card.split(numbers.TABLE1_BEGIN)[1].split(numbers.TABLE1_END)[0]
    names = [line.split(" | ")[0][2:] for line in block.strip().splitlines()[2:]]
    assert names == list(data["rows"])


def test_a_card_without_the_table_1_markers_is_an_error(tmp_path, monkeypatch):
    from zoo import numbers

    card = tmp_path / "card.md"
    card.write_text("# pix2pix-facades\n\nno table here\n")
    monkeypatch.setattr(numbers, "TABLE1_CARD", str(card))
    with pytest.raises(ValueError, match="table1:begin"):
        numbers.expected_files()


@pytest.mark.parametrize("text", [
    "# t\n<!-- table1:begin -->\nold\n<!-- table1:end -->\n<!-- table1:begin -->\nold\n<!-- table1:end -->\n",
    "# t\n<!-- table1:end -->\nold\n<!-- table1:begin -->\n",
    "# t\n<!-- table1:begin -->\nold\n",
], ids=["twice", "reversed", "unclosed"])
def test_repeated_or_misordered_markers_are_an_error_and_nothing_is_written(tmp_path, monkeypatch, text):
    from zoo import numbers

    card = tmp_path / "card.md"
    card.write_text(text)
    monkeypatch.setattr(numbers, "TABLE1_CARD", str(card))
    with pytest.raises(ValueError, match="once each, in that order"):
        numbers.expected_files()
    assert card.read_text() == text
