"""zoo.pix2pix_table1: rows summarised over seeds, merged, and written as a markdown table."""

import json

import keras
import pytest

pytestmark = pytest.mark.skipif(keras.backend.backend() != "torch", reason="no Keras computation: torch pass only")


def _row(value, seeds=3):
    from zoo.pix2pix_table1 import METRICS, _summary

    return _summary([{k: value + 0.01 * i for k in METRICS} for i in range(seeds)])


def test_summary_is_mean_and_spread_over_seeds():
    row = _row(0.5)
    assert row["class_iou"]["mean"] == pytest.approx(0.51)
    assert row["class_iou"]["std"] == pytest.approx(0.008165, abs=1e-6)
    assert row["class_iou"]["values"] == pytest.approx([0.5, 0.51, 0.52])
    single = _row(0.3, seeds=1)
    assert single["fid"]["std"] == 0.0


def test_markdown_has_one_line_per_row_with_the_spread():
    from zoo.numbers import table1_markdown as markdown

    text = markdown({"rows": {"L1": _row(0.5), "real photos": _row(0.7, seeds=1)}})
    lines = text.splitlines()
    assert len(lines) == 4 and lines[2].startswith("| L1 | 0.510 +- 0.008")
    assert "+-" not in lines[3]  # a seed-free row shows no spread


def test_merge_requires_the_same_seeds_and_bad_rows_exit_2(tmp_path, capsys):
    from zoo.pix2pix_table1 import main

    earlier = tmp_path / "earlier.json"
    earlier.write_text(json.dumps({"split": "test", "n": 50, "seeds": [0, 1, 2], "rows": {"L1": _row(0.5)}}))
    assert main(["--merge", str(earlier), "--seeds", "5"]) == 2
    assert main(["--merge", str(earlier), "--seeds", "3", "--markdown", str(tmp_path / "t.md")]) == 0
    assert "| L1 |" in (tmp_path / "t.md").read_text()
    with pytest.raises(SystemExit):
        main(["--row", "no-equals-sign"])
    assert main(["--row", "x=no/such/file.weights.h5"]) == 2
    assert "not found" in capsys.readouterr().err.lower()


def test_grid_draws_only_rows_whose_file_is_still_the_scored_one(tmp_path):
    """A run's export scored at epoch 75 and overwritten by later training must not be drawn
    under its epoch-75 row."""
    import hashlib

    from zoo import pix2pix_table1

    kept, overwritten = tmp_path / "kept.weights.h5", tmp_path / "later.weights.h5"
    kept.write_bytes(b"weights scored")
    overwritten.write_bytes(b"weights scored")
    scored = hashlib.sha256(b"weights scored").hexdigest()
    overwritten.write_bytes(b"weights of a later epoch")
    result = {"rows": {
        "zoo": {"source": "zoo entry pix2pix-facades", "source_arg": "pix2pix-facades"},
        "new": {"source": "file", "source_arg": str(kept), "source_sha256": scored},
        "old-style": {"source": f"a run's export, sha256 {scored}", "source_arg": str(kept)},
        "overwritten": {"source": "file", "source_arg": str(overwritten), "source_sha256": scored},
        "gone": {"source": "file", "source_arg": str(tmp_path / "missing.weights.h5"), "source_sha256": scored},
        "real photos": {"source": "real photos"},
    }}
    assert pix2pix_table1.drawable_rows(result) == ["zoo", "new", "old-style"]
