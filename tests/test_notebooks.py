"""The notebooks run end to end, in fast mode, each in one backend's test pass.

Each notebook runs in the pass of the backend `NOTEBOOK_BACKENDS` assigns it
(they use only the public API, which every backend's pass tests; running all
five on all three backends cost about 10 of CI's 40 minutes).
`KERAS_GAN_ALL_NOTEBOOKS=1` runs every notebook in every pass.

Each is executed with nbclient in a fresh kernel (so the kernel's Keras backend
is this pass's `KERAS_BACKEND`), from the repository root, with
`KERAS_GAN_FAST=1` (a few hundred images and steps) and its outputs written
to a temporary folder. A cell that raises fails the test with the cell's
traceback. The committed files must carry no outputs.
"""

from __future__ import annotations

import os
import resource
import time

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK_DIR = os.path.join(ROOT, "notebooks")
NOTEBOOKS = ("gan_mnist", "cgan_mnist", "pix2pix_facades", "evaluate_zoo", "gan_theory")
#: The pass each notebook runs in; every backend runs at least one.
NOTEBOOK_BACKENDS = {"gan_mnist": "tensorflow", "pix2pix_facades": "tensorflow", "cgan_mnist": "jax",
                     "gan_theory": "jax", "evaluate_zoo": "torch"}
#: The issue's budget for one notebook in fast mode on a CPU, in the kernel's own CPU seconds
#: (user + system): unlike wall time, that does not grow when CI's three passes share 2 cores
#: (evaluate_zoo took 210 s of wall time there for about half as much CPU).
CPU_LIMIT_S = 180
#: Wall-time limit per cell: only a guard against a hung kernel, generous for a loaded machine.
CELL_TIMEOUT_S = 900


def _read(name: str):
    return nbformat.read(os.path.join(NOTEBOOK_DIR, f"{name}.ipynb"), as_version=4)


def _test_passes() -> set:
    """The backends CI's test script runs a pass for (`BACKENDS=(...)` in scripts/test.sh)."""
    import re

    with open(os.path.join(ROOT, "scripts", "test.sh")) as f:
        found = re.findall(r"^BACKENDS=\(([^)]*)\)", f.read(), re.MULTILINE)
    assert len(found) == 1, "scripts/test.sh should set BACKENDS=(...) once"
    return set(found[0].split())


def test_every_notebook_has_a_pass_and_every_pass_a_notebook():
    """Against what exists, not this file's own lists: every notebook in notebooks/ runs in a
    pass that scripts/test.sh runs, and each of those passes runs at least one."""
    on_disk = {f[:-len(".ipynb")] for f in os.listdir(NOTEBOOK_DIR) if f.endswith(".ipynb")}
    assert set(NOTEBOOKS) == on_disk, "test_notebook_runs_in_fast_mode must run every notebook"
    assert set(NOTEBOOK_BACKENDS) == on_disk
    passes = _test_passes()
    assert passes and set(NOTEBOOK_BACKENDS.values()) == passes


def test_every_notebook_is_committed_without_outputs():
    found = sorted(f[:-len(".ipynb")] for f in os.listdir(NOTEBOOK_DIR) if f.endswith(".ipynb"))
    assert found == sorted(NOTEBOOKS)
    for name in NOTEBOOKS:
        notebook = _read(name)
        nbformat.validate(notebook)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{name} has saved outputs"


def test_notebooks_use_only_the_public_api():
    for name in NOTEBOOKS:
        source = "\n".join(cell.source for cell in _read(name).cells)
        assert "keras_gan.src" not in source and "._" not in source.replace("__version__", ""), name


def _children_cpu_seconds() -> float:
    """User + system CPU seconds of this process's finished, reaped children (the kernels)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_fast_mode(name, data_dir, tmp_path, monkeypatch):
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend != NOTEBOOK_BACKENDS[name] and not os.environ.get("KERAS_GAN_ALL_NOTEBOOKS"):
        pytest.skip(f"{name} runs in the {NOTEBOOK_BACKENDS[name]} pass (KERAS_GAN_ALL_NOTEBOOKS=1: every pass)")
    monkeypatch.setenv("KERAS_GAN_FAST", "1")
    monkeypatch.setenv("KERAS_GAN_NOTEBOOK_OUT", str(tmp_path))
    monkeypatch.setenv("KERAS_GAN_DATA_DIR", data_dir)
    monkeypatch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "tensorflow"))
    notebook = _read(name)
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": ROOT}})
    before, start = _children_cpu_seconds(), time.time()
    client.execute()  # starts the kernel, runs every cell, shuts the kernel down and reaps it
    cpu, wall = _children_cpu_seconds() - before, time.time() - start
    print(f"{name}: {cpu:.0f} CPU s in the kernel, {wall:.0f} s wall, load {os.getloadavg()[0]:.1f}")
    assert cpu > 1, "the kernel's CPU time was not counted (not reaped?): the budget would check nothing"
    assert cpu < CPU_LIMIT_S, f"{name} used {cpu:.0f} CPU seconds in fast mode (budget {CPU_LIMIT_S})"
    pngs = [os.path.join(d, f) for d, _, files in os.walk(tmp_path / name) for f in files if f.endswith(".png")]
    assert pngs, f"{name} wrote no PNG"
    displayed = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs
                 if "image/png" in o.get("data", {})]
    assert displayed, f"{name} displayed no image"


def test_theory_notebook_figures_are_committed_and_shown():
    """The notebooks are committed without outputs, so a reader on the web sees no figure in them:
    gan_theory's full run keeps each figure it shows in notebooks/figures/, and the README shows
    every one (found from the notebook's own `show(fig, name)` calls, so a new figure needs both)."""
    import re

    source = "\n".join(cell.source for cell in _read("gan_theory").cells if cell.cell_type == "code")
    names = re.findall(r'show\(fig, "([A-Za-z0-9_]+)"\)', source)
    assert len(names) >= 8, names
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    for name in names:
        path = f"notebooks/figures/gan_theory_{name}.png"
        assert os.path.isfile(os.path.join(ROOT, path)), f"{path} is missing: run the notebook in full mode"
        assert f"]({path})" in readme, f"the README does not show {path}"
