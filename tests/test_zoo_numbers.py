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

    assert sorted(entry.name for entry in zoo.ENTRIES) == sorted(RECIPES)


def test_papers_numbers_come_from_one_place():
    assert zoo.get_entry("gan-mnist").paper_metrics["parzen_ll"] == papers.GAN_MNIST_PARZEN["parzen_ll"]
    assert zoo.get_entry("cgan-mnist").paper_metrics["parzen_ll"] == papers.CGAN_MNIST_PARZEN["parzen_ll"]
    row = zoo.get_entry("pix2pix-facades-l1").paper_metrics
    assert row["fcn_per_pixel_accuracy"] == papers.PIX2PIX_FCN_SCORES["L1"][0]


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


def test_the_evaluation_packages_copy_of_table_1_is_the_papers():
    import ast

    source = open(os.path.join(os.path.dirname(os.path.dirname(__file__)), "evaluation", "fcn_score.py")).read()
    node = next(n for n in ast.parse(source).body if isinstance(n, ast.Assign)
                and getattr(n.targets[0], "id", "") == "PAPER_TABLE_1")
    assert ast.literal_eval(node.value) == papers.PIX2PIX_FCN_SCORES


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
