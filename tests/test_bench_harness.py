"""bench/: the pure-Python parts of the benchmark driver (no timing, no models).

The summaries over processes (median and range), the memory comparison row,
the table, each bench's command line (defaults, and that what a parent hands
its children parses back to the same settings), and the parent's loop over
backends and processes, run against a fake bench script.
"""

import argparse
import importlib
import json
import os
import sys

import pytest

from tests.conftest import REPO, one_pass

pytestmark = one_pass("jax", "the benchmark driver is plain Python")

sys.path.insert(0, os.path.join(REPO, "bench"))
_runner = importlib.import_module("_runner")


def _speed_row(backend, ratio, keras=10.0, case=None):
    row = {"backend": backend, "keras_gan_steps_per_s": keras, "native_steps_per_s": keras * ratio,
           "ratio_keras_gan_over_native_time": ratio, "device": "cpu"}
    return row if case is None else {**row, "case": case}


def test_summary_gives_median_and_range_per_backend():
    rows = [_speed_row("tensorflow", r, keras=k) for r, k in [(0.95, 28.2), (1.86, 19.4), (0.99, 33.6),
                                                             (1.11, 31.2), (1.24, 28.0)]]
    rows += [_speed_row("jax", 0.97), _speed_row("jax", 0.91)]
    tf, jax = _runner.summarize(rows)
    assert (tf["backend"], tf["processes"]) == ("tensorflow", 5)
    assert (tf["ratio_median"], tf["ratio_min"], tf["ratio_max"]) == (1.11, 0.95, 1.86)
    assert tf["keras_gan_steps_per_s_median"] == 28.2
    assert (jax["processes"], jax["ratio_median"]) == (2, 0.94)  # even count: the mean of the middle two


def test_summary_keeps_cases_apart():
    rows = [_speed_row("torch", 1.0, case="generate b1000"), _speed_row("torch", 1.3, case="translate b1"),
            _speed_row("torch", 1.1, case="generate b1000")]
    summaries = _runner.summarize(rows)
    assert [(s["case"], s["processes"], s["ratio_median"]) for s in summaries] == [
        ("generate b1000", 2, 1.05), ("translate b1", 1, 1.3)]


def test_memory_row_and_its_summary():
    keras = {"backend": "torch", "device": "cpu", "peak_rss_mib": 3138.0, "device_peak_mib": None}
    native = {"backend": "torch", "device": "cpu", "peak_rss_mib": 2982.0, "device_peak_mib": None}
    row = _runner.memory_row(keras, native)
    assert row == {"backend": "torch", "device": "cpu", "keras_gan_peak_mib": 3138.0, "native_peak_mib": 2982.0,
                   "ratio_keras_gan_over_native_memory": 1.052}
    gpu = _runner.memory_row({**keras, "device_peak_mib": 600.0}, {**native, "device_peak_mib": 500.0})
    assert gpu["device_ratio"] == 1.2
    (summary,) = _runner.summarize_memory([row, {**row, "ratio_keras_gan_over_native_memory": 1.3}, row])
    assert (summary["processes"], summary["ratio_median"], summary["ratio_max"]) == (3, 1.052, 1.3)
    assert summary["keras_gan_peak_mib_median"] == 3138.0
    assert "keras_gan_device_peak_mib_median" not in summary


def test_tables_print_every_backend():
    speed = _runner.summarize([_speed_row("jax", 0.97), _speed_row("torch", 1.09)])
    speed[0].update(load_before=1.0, load_after=1.5)
    table = _runner.format_table(speed, decimals=1).splitlines()
    assert "ratio, median" in table[0] and "load 1-min" in table[0]
    assert "0.970-0.970" in table[1] and "1.00->1.5" in table[1]
    memory = _runner.format_table(_runner.summarize_memory([_runner.memory_row(
        {"backend": "jax", "peak_rss_mib": 1200.0}, {"backend": "jax", "peak_rss_mib": 1000.0})]), memory=True)
    assert "keras_gan MiB" in memory and "1.200" in memory


def test_peak_rss_is_this_process():
    assert 10 < _runner.peak_rss_mib() < 1e6


def test_measure_row_with_one_side_is_the_memory_child(monkeypatch):
    monkeypatch.setattr(_runner, "device_kind", lambda backend: "cpu")
    monkeypatch.setattr(_runner, "device_peak_mib", lambda backend: None)
    row = _runner.measure_row({"backend": "jax"}, {"native": lambda n: None}, steps=3, repeats=1)
    assert row["side"] == "native" and row["peak_rss_mib"] > 0 and "native_steps_per_s" in row
    both = _runner.measure_row({"backend": "jax"}, {"keras_gan": lambda n: None, "native": lambda n: None}, 3, 1,
                               unit="images", per_step=1000)
    assert {"keras_gan_images_per_s", "native_images_per_s", "ratio_keras_gan_over_native_time"} <= set(both)
    assert "side" not in both


@pytest.mark.parametrize("name", ["bench_gan_mnist", "bench_pix2pix", "bench_inference"])
def test_command_line_defaults_and_child_round_trip(name):
    bench = importlib.import_module(name)
    args = bench.parse_args([])
    assert (args.processes, args.backend, args.child, args.side) == (5, None, False, None)
    assert args.json is None
    changed = bench.parse_args(["--steps", "7", "--repeats", "2", "--processes", "3", "--backend", "jax",
                                "--backend", "torch"])
    assert (changed.steps, changed.repeats, changed.processes, changed.backend) == (7, 2, 3, ["jax", "torch"])
    # What the parent hands a child parses back to the same settings.
    child = bench.parse_args(["--child", "--backend", "jax", *bench.child_options(changed)])
    assert child.child and (child.steps, child.repeats) == (7, 2)
    with pytest.raises(SystemExit):
        bench.parse_args(["--processes", "0"])


def test_pix2pix_batch_size_and_memory_options(capsys):
    bench = importlib.import_module("bench_pix2pix")
    args = bench.parse_args([])
    assert (args.batch_size, args.image_size, args.memory) == (1, 256, False)
    args = bench.parse_args(["--batch-size", "16", "--memory", "--image-size", "64"])
    assert (args.batch_size, args.memory) == (16, True)
    child = bench.parse_args(["--child", "--backend", "torch", "--side", "native", "--native-jit", "true",
                              *bench.child_options(args)])
    assert (child.batch_size, child.image_size, child.side, child.native_jit) == (16, 64, "native", "true")
    assert _runner.native_jit(child, None) is True and _runner.native_jit(child, False) is False
    with pytest.raises(SystemExit):
        bench.parse_args(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "batch 1 or 16" in help_text and "--batch-size 16" in help_text
    assert "1 (default; the paper's facades runs) or 16" in help_text


def test_inference_cases_and_batch_sizes_reach_the_child():
    bench = importlib.import_module("bench_inference")
    args = bench.parse_args(["--case", "translate", "--batch-size", "1", "--batch-size", "16", "--images", "32"])
    child = bench.parse_args(["--child", "--backend", "tensorflow", *bench.child_options(args)])
    assert (child.case, child.batch_size, child.images) == (["translate"], [1, 16], 32)
    assert bench.parse_args([]).batch_size is None  # the child then runs batch 1 and 16


FAKE_BENCH = """
import json, sys
backend = sys.argv[sys.argv.index("--backend") + 1]
if backend == "jax":
    sys.exit("no jax here")
side = sys.argv[sys.argv.index("--side") + 1] if "--side" in sys.argv else None
if side:
    print(json.dumps({"backend": backend, "side": side, "peak_rss_mib": 150.0 if side == "keras_gan" else 100.0,
                      "native_args": ["--native-jit", "false"]} | ({"seen": sys.argv[1:]} if side == "native" else {})))
else:
    print("noise on stdout")
    print(json.dumps({"backend": backend, "keras_gan_steps_per_s": 9.0, "native_steps_per_s": 10.0,
                      "ratio_keras_gan_over_native_time": 1.111}))
"""


@pytest.mark.parametrize("memory", [False, True])
def test_parent_runs_every_process_and_goes_on_after_a_failing_backend(tmp_path, capsys, memory):
    script = tmp_path / "fake_bench.py"
    script.write_text(FAKE_BENCH)
    args = argparse.Namespace(backend=None, processes=2, json=str(tmp_path / "out.json"), memory=memory)
    assert _runner.run_all_backends(str(script), ["--steps", "1"], args, decimals=1) == 1
    printed = capsys.readouterr()
    assert "no jax here" in printed.err and "failed: jax" in printed.out
    saved = json.loads((tmp_path / "out.json").read_text())
    assert saved["failed"] == ["jax"] and [s["backend"] for s in saved["summary"]] == ["tensorflow", "torch"]
    assert [s["processes"] for s in saved["summary"]] == [2, 2] and len(saved["rows"]) == 4
    assert all("load_before" in s for s in saved["summary"])
    if memory:
        assert saved["summary"][0]["ratio_median"] == 1.5
        # The native child got keras_gan's compile setting.
        assert saved["rows"][0]["native"]["seen"][-2:] == ["--native-jit", "false"]
    else:
        assert saved["summary"][0]["ratio_median"] == 1.111
