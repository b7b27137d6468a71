"""The playground page in a real headless Chromium, driven as a person would: pick a data
set, add a layer, press play, watch the loss fall and the map change, flip the switches,
change the backend, and keep a screenshot.

Needs Python's playwright package and a Chromium (Debian's `chromium`; playwright's own
browser download is not used). `PLAYGROUND_CHROMIUM` names another Chromium executable;
`PLAYGROUND_SCREENSHOT` names where the screenshot goes (by default a temporary folder)."""

import os
import shutil

import pytest

pytest.importorskip("starlette", reason="the web extra is not installed: "
                                        "pip install 'pluggrad[web]'")
pytest.importorskip("uvicorn", reason="the web extra is not installed: "
                                      "pip install 'pluggrad[web]'")
playwright = pytest.importorskip("playwright.sync_api",
                                 reason="playwright is not installed: pip install playwright")

from nn.playground import Config  # noqa: E402
from nn.playground.server import create_app, running  # noqa: E402

CHROMIUM = os.environ.get("PLAYGROUND_CHROMIUM") or shutil.which("chromium") \
    or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIMEOUT_MS = 45_000

pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason=f"no Chromium at {CHROMIUM}: apt-get install chromium (or set PLAYGROUND_CHROMIUM)")


@pytest.fixture
def page():
    """A fresh page of the playground, served from this process, in headless Chromium;
    the page's own errors fail the test."""
    errors = []
    with running(create_app(Config(dataset="circle"))) as url, \
            playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(TIMEOUT_MS)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(url)
            page.wait_for_selector("#layers canvas.neuron")
            yield page
        finally:
            browser.close()
    assert errors == []


def epoch(page):
    return int(page.inner_text("#epoch").replace(",", ""))


def picture(page, canvas):
    return page.eval_on_selector(canvas, "canvas => canvas.toDataURL()")


def wait_for_epoch(page, at_least):
    page.wait_for_function(
        "least => Number(document.getElementById('epoch').textContent.replace(',', '')) "
        ">= least", arg=at_least)


def wait_for_change(page, canvas, before):
    page.wait_for_function("([canvas, before]) => document.querySelector(canvas)"
                           ".toDataURL() !== before", arg=[canvas, before])


def pause(page):
    """Pause, and wait until the page has drawn the last update (the play button follows
    the stream)."""
    page.click("#play")
    page.wait_for_selector('#play[data-playing="false"]')


def train_past(page, epochs):
    """Play from epoch 0 until past `epochs`; the test loss first shown and the last."""
    page.click("#play")
    wait_for_epoch(page, 1)
    first = float(page.inner_text("#test-loss"))
    wait_for_epoch(page, epochs + 1)
    pause(page)
    return first, float(page.inner_text("#test-loss"))


def test_the_page_trains_the_spiral_live(page, tmp_path):
    page.click('button[data-dataset="spiral"]')
    page.wait_for_selector('button[data-dataset="spiral"].selected')
    layers = len(Config().hidden)
    page.click("#add-layer")
    page.wait_for_function(f"document.querySelectorAll('#layers .layer').length === {layers + 1}")
    assert page.inner_text("#layer-count") == str(layers + 1)
    assert epoch(page) == 0
    untrained = picture(page, "#heatmap")

    first_loss, last_loss = train_past(page, 50)
    assert epoch(page) > 50
    assert last_loss < first_loss
    assert picture(page, "#heatmap") != untrained

    for switch, canvas in (("#show-test", "#points"), ("#discretize", "#heatmap")):
        before = picture(page, canvas)
        page.check(switch)
        assert picture(page, canvas) != before, f"{switch} changed nothing on {canvas}"
        page.uncheck(switch)
        assert picture(page, canvas) == before
    page.check("#show-test")

    page.select_option("#backend", "numba")
    page.wait_for_function("document.getElementById('backend').value === 'numba' && "
                           "document.getElementById('epoch').textContent === '000,000'")
    first_loss, last_loss = train_past(page, 50)
    assert last_loss < first_loss
    assert page.inner_text("#status") == ""

    path = os.environ.get("PLAYGROUND_SCREENSHOT") or str(tmp_path / "playground.png")
    page.screenshot(path=path)
    with open(path, "rb") as file:
        assert file.read(8) == PNG_SIGNATURE


def test_a_new_data_set_noise_or_regenerate_draws_new_points(page):
    for act in (lambda: page.click('button[data-dataset="spiral"]'),
                lambda: page.fill("#noise", "30"),
                lambda: page.click("#regenerate")):
        before = picture(page, "#points")
        act()
        wait_for_change(page, "#points", before)
    assert page.inner_text("#noise-value") == "30"
    assert page.eval_on_selector("#noise", "slider => slider.value") == "30"
