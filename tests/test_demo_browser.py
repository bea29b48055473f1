"""The web demo in a real browser: headless Chromium (the OS package) driven by Playwright.

`python -m keras_gan.demo` (pix2pix-facades) runs in a subprocess on a free port;
the page must load with a photo, an uploaded label map must come back as a
256 x 256 photo that is not blank, and bad uploads (not an image, the wrong size,
a huge file) must get a message while the server keeps serving. Under CI=true a
missing browser, gradio or Playwright fails the test (scripts/setup.sh installs
them); elsewhere it skips with the reason.
"""

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO, one_pass

#: Where Debian's and Ubuntu's chromium packages put the browser (KERAS_GAN_CHROMIUM overrides).
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
SERVER_START_TIMEOUT = 300


def chromium_path() -> str | None:
    found = os.environ.get("KERAS_GAN_CHROMIUM")
    if found:
        return found
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def require(condition: bool, why: str) -> None:
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{why} (CI must run the browser test: scripts/setup.sh installs it)")
    pytest.skip(why)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, server: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the demo exited with {server.returncode}: {server.stdout.read()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"the demo did not answer on {url} within {timeout} s")


def fetch_png(page, selector: str) -> np.ndarray:
    source = page.get_attribute(selector, "src")
    data = page.request.get(source).body()
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def upload(page, path: str, expect: str, timeout_ms: int = 120_000):
    """Upload `path` in the file box and wait until the page shows a text containing `expect`."""
    page.set_input_files("#upload input[type=file]", path)
    page.get_by_text(expect).first.wait_for(timeout=timeout_ms)


@pytest.fixture
def files(tmp_path):
    from keras_gan.demo.label_maps import example_label_map

    Image.fromarray(example_label_map()[:, ::-1].copy()).save(tmp_path / "mirrored.png")
    Image.fromarray(example_label_map(64)).resize((100, 60), Image.NEAREST).save(tmp_path / "small.png")
    (tmp_path / "notes.png").write_text("a text file named like an image\n")
    (tmp_path / "notes.txt").write_text("a text file\n")
    with open(tmp_path / "huge.png", "wb") as f:
        f.write(np.random.default_rng(0).bytes(11 * 1024 * 1024))
    return tmp_path


@one_pass("torch", why="one browser run is enough (the page does not depend on the backend); torch's pass is CI's shortest")
def test_demo_page_in_headless_chromium(files, data_dir):
    import importlib.util

    browser_path = chromium_path()
    require(browser_path is not None, "no Chromium found (apt-get install chromium, or set KERAS_GAN_CHROMIUM)")
    require(importlib.util.find_spec("playwright") is not None, "playwright is not installed (pip install '.[demo]')")
    require(importlib.util.find_spec("gradio") is not None, "gradio is not installed (pip install '.[demo]')")
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = dict(os.environ, KERAS_BACKEND="torch", GRADIO_ANALYTICS_ENABLED="False", KERAS_GAN_DATA_DIR=data_dir)
    server = subprocess.Popen([sys.executable, "-m", "keras_gan.demo", "--port", str(port)], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        with sync_playwright() as p:  # the browser starts while the server loads the model
            browser = p.chromium.launch(executable_path=browser_path, headless=True, args=["--no-sandbox"])
            wait_for(url, server, SERVER_START_TIMEOUT)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(url)
            # The page opens with the drawn example map translated.
            page.get_by_text("Translated.").first.wait_for(timeout=120_000)
            assert page.locator("#palette").inner_text().count("#") == 12
            first = fetch_png(page, "#photo img")

            upload(page, str(files / "mirrored.png"), "Translated mirrored.png")
            photo = fetch_png(page, "#photo img")
            assert photo.shape == (256, 256, 3)
            assert photo.std() > 20  # a photo, not a blank or flat image
            assert np.abs(photo.astype(int) - first).mean() > 5  # the photo of this map, not the first one again

            upload(page, str(files / "notes.png"), "notes.png is not an image")
            upload(page, str(files / "small.png"), "small.png is 100x60: resized to 256x256")
            assert fetch_png(page, "#photo img").shape == (256, 256, 3)
            page.set_input_files("#upload input[type=file]", str(files / "huge.png"))
            page.get_by_text("exceed the maximum allowed size").first.wait_for(timeout=30_000)
            page.set_input_files("#upload input[type=file]", str(files / "notes.txt"))
            page.get_by_text("Invalid file type").first.wait_for(timeout=30_000)

            # Still serving: the good map again gives the same photo (paper mode, dropout seed 0).
            upload(page, str(files / "mirrored.png"), "Translated mirrored.png")
            assert np.abs(fetch_png(page, "#photo img").astype(int) - photo).max() <= 2
            browser.close()
        assert server.poll() is None, "the server stopped"
    finally:
        server.kill()
        server.wait(timeout=30)
