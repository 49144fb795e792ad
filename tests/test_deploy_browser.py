"""`gansuite serve` in a real browser: Debian's Chromium driven by Playwright's Python API.

Nothing is installed at test time: the browser is the system `chromium` (`.ci/run` installs
Debian's package when it is missing; `playwright install` is never run) and Playwright is the
pip package from the dev extra. The test starts the server on a free local port, uploads a small
image, waits for the result, checks the upscaled size in the page, and saves the screenshot that
the README shows (docs/serve_upscale.png, rewritten only with GANSUITE_SCREENSHOT=1).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

pytestmark = pytest.mark.browser

# the README's screenshot is rewritten only when asked (GANSUITE_SCREENSHOT=1), so a test run leaves the tree clean
README_SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "serve_upscale.png"
START_TIMEOUT_S = 180  # importing torch and gradio on a loaded 2-core machine
STEP_TIMEOUT_MS = 120_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _sample_image(path: Path) -> None:
    """An 96x80 photo (scikit-image's astronaut when available, else smooth noise), 8-bit BGR."""
    try:
        from skimage import data

        rgb = cv2.resize(data.astronaut(), (96, 80), interpolation=cv2.INTER_AREA)
        bgr = rgb[..., ::-1]
    except ImportError:
        rng = np.random.default_rng(0)
        bgr = cv2.resize(rng.integers(0, 256, (10, 12, 3), dtype=np.uint8), (96, 80), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(path), np.ascontiguousarray(bgr))


def _wait_for_server(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gansuite serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    pytest.fail(f"gansuite serve did not answer within {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


def test_upload_an_image_and_get_the_upscaled_result_in_chromium(tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no system chromium: apt-get install chromium (.ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api")
    pytest.importorskip("gradio")
    screenshot = README_SCREENSHOT if os.environ.get("GANSUITE_SCREENSHOT") else tmp_path / "screenshot.png"
    image = tmp_path / "photo.png"
    _sample_image(image)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log = tmp_path / "serve.log"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "OMP_NUM_THREADS": "1"}
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "gansuite", "serve", "--port", str(port), "--device", "cpu"],
            stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=tmp_path, start_new_session=True,
        )
    try:
        _wait_for_server(process, url, log)
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, timeout=60_000)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.set_default_timeout(STEP_TIMEOUT_MS)
                page.goto(url, wait_until="domcontentloaded")
                # an error is one readable line, not a traceback
                page.click("#upscale-button")
                toast = page.get_by_text("no image: drop an image on the upload box first")
                toast.first.wait_for(state="visible")
                assert "Traceback" not in page.content()
                page.locator("#upscale-input input[type=file]").set_input_files(str(image))
                page.locator("#upscale-input img").first.wait_for(state="visible")
                page.click("#upscale-button")
                page.wait_for_function(
                    "() => { const e = document.querySelector('#upscale-info textarea');"
                    " return e !== null && e.value.includes('→'); }"
                )
                assert page.locator("#upscale-info textarea").input_value().startswith("96x80 → 384x320 with x4")
                page.wait_for_function(
                    "() => Array.from(document.querySelectorAll('#upscale-result img'))"
                    ".filter(e => e.complete && e.naturalWidth > 0).length === 2"
                )
                sizes = page.eval_on_selector_all(
                    "#upscale-result img", "els => els.map(e => [e.naturalWidth, e.naturalHeight])"
                )
                assert sizes == [[384, 320], [384, 320]]  # before (bicubic) and after, at the output size
                page.wait_for_function(  # the download, full size, named after the upload
                    "() => { const e = document.querySelector('#upscale-download');"
                    " return e !== null && e.innerText.replace(/\\s/g, '').includes('photo_x4.png'); }"
                )
                page.get_by_text("no image: drop an image").first.wait_for(state="hidden")
                page.screenshot(path=str(screenshot), full_page=True)
            finally:
                browser.close()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)
    assert screenshot.stat().st_size > 10_000
