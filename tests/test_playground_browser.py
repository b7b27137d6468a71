"""The playground page in a real headless Chromium, driven as a person would: pick a data
set, add a layer, press play, watch the loss fall and the map change, flip the switches,
change the backend, regularise, switch to regression, watch the weight lines, hover over
neurons, share a link, shrink the window, and see the page wait out a full server and get
its session back.

Needs Python's playwright package and a Chromium (Debian's `chromium`; playwright's own
browser download is not used). `PLAYGROUND_CHROMIUM` names another Chromium executable;
`PLAYGROUND_SCREENSHOT` names where the screenshot goes (by default a temporary folder)."""

import contextlib
import os
import struct

import pytest

pytest.importorskip("starlette", reason="the web extra is not installed: "
                                        "pip install 'pluggrad[web]'")
pytest.importorskip("uvicorn", reason="the web extra is not installed: "
                                      "pip install 'pluggrad[web]'")
httpx = pytest.importorskip("httpx", reason="httpx is not installed: pip install httpx")
playwright = pytest.importorskip("playwright.sync_api",
                                 reason="playwright is not installed: pip install playwright")

from nn.playground import FEATURES, Config  # noqa: E402
from nn.playground.screenshot import (  # noqa: E402
    TIMEOUT_MS,
    chromium,
    chromium_path,
    wait_for_epoch,  # noqa: E402
)
from nn.playground.server import create_app, running  # noqa: E402
from nn.playground.web_settings import Limits  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHROMIUM = chromium_path()

pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason=f"no Chromium at {CHROMIUM}: apt-get install chromium (or set PLAYGROUND_CHROMIUM)")


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as driver, chromium(driver) as browser:
        yield browser


@contextlib.contextmanager
def served(config=Config(dataset="circle"), limits=Limits()):
    """The playground's server, and an HTTP client for it whose `app` is the application."""
    app = create_app(config, limits)
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        client.app = app
        yield client


@contextlib.contextmanager
def opened(browser, url, width=1280, height=800, wait=True):
    """A page of the playground at `url`; its own errors fail the test."""
    errors = []
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        if wait:
            page.wait_for_selector("#layers canvas.neuron")
        yield page
    finally:
        page.close()
    assert errors == []


@pytest.fixture
def page(browser):
    """A fresh page of the playground, served from this process, in headless Chromium."""
    with served() as client, opened(browser, str(client.base_url)) as page:
        page.client = client
        yield page


def live_session(client, page):
    """The server's session of `page`."""
    return client.app.state.registry.get(page.evaluate("page.sessionId"))


def png_size(data):
    """A PNG's width and height, from its header."""
    assert data[:8] == PNG_SIGNATURE
    return struct.unpack(">II", data[16:24])


def epoch(page):
    return int(page.inner_text("#epoch").replace(",", ""))


def picture(page, canvas):
    return page.eval_on_selector(canvas, "canvas => canvas.toDataURL()")


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


# ---------------------------------------------------------------- getting a session back

STATUS_LOG = """() => {
  window.statusLog = [];
  new MutationObserver(() => window.statusLog.push(document.getElementById('status')
    .textContent)).observe(document.getElementById('status'), {childList: true,
                                                               characterData: true,
                                                               subtree: true});
}"""


def test_a_page_opened_on_a_full_server_waits_and_then_recovers(browser):
    with served(limits=Limits(max_sessions=1)) as client:
        blocker = client.post("/api/sessions", json={}).json()["id"]
        with opened(browser, str(client.base_url), wait=False) as page:
            page.wait_for_function(
                "document.getElementById('status').textContent.includes('Trying again')")
            status = page.inner_text("#status")
            assert status.startswith("Waiting for a session: ")
            assert "already runs 1 sessions" in status
            page.evaluate(STATUS_LOG)
            page.click("#step")  # pressed while waiting: done once there is a session
            assert client.delete(f"/api/sessions/{blocker}").status_code == 200
            wait_for_epoch(page, 1)
            page.wait_for_function("document.getElementById('status').textContent === ''")
            assert live_session(client, page).snapshot.epoch == 1

            first = page.evaluate("page.sessionId")
            assert client.delete(f"/api/sessions/{first}").status_code == 200
            page.wait_for_function("first => page.sessionId && page.sessionId !== first",
                                   arg=first)
            page.wait_for_function("document.getElementById('status').textContent === ''")
            page.click("#step")
            wait_for_epoch(page, 1)
            log = page.evaluate("window.statusLog")
        assert any("ended by a DELETE request" in text for text in log), log
        assert not any("null" in text for text in log), log


# ---------------------------------------------------------------- the panel's controls

def total_weight(page):
    return page.evaluate("() => [...document.querySelectorAll('#links line')]"
                         ".reduce((sum, line) => sum + Math.abs(Number(line.dataset.weight)), 0)")


def test_regularisation_is_sent_and_shrinks_the_weights(page):
    page.select_option("#regularization", "L1")
    page.wait_for_function("location.hash.includes('regularization=L1')")
    page.select_option("#regularization-rate", "0.3")
    page.wait_for_function("location.hash.includes('regularization_rate=0.3')")
    settings = live_session(page.client, page).settings.to_json()
    assert (settings["regularization"], settings["regularization_rate"]) == ("L1", 0.3)
    untrained = total_weight(page)
    train_past(page, 20)
    assert total_weight(page) < 0.5 * untrained


def test_regression_has_its_own_data_sets_scale_and_losses(page):
    page.select_option("#problem", "regression")
    page.wait_for_selector('button[data-dataset="reg-plane"].selected')
    assert page.is_visible('button[data-dataset="reg-gauss"]')
    assert page.is_hidden('button[data-dataset="circle"]')
    assert page.is_hidden("#accuracy-row")
    assert (page.inner_text("#scale-low"), page.inner_text("#scale-high")) == ("-1", "1")
    assert live_session(page.client, page).settings.config.problem == "regression"
    train_past(page, 20)
    losses = live_session(page.client, page).snapshot.test_loss
    assert losses[-1] < losses[0] / 2
    assert page.inner_text("#test-loss") == f"{losses[-1]:.3f}"
    before = picture(page, "#points")
    page.click('button[data-dataset="reg-gauss"]')
    wait_for_change(page, "#points", before)
    page.select_option("#problem", "classification")
    page.wait_for_selector('button[data-dataset="circle"].selected')


BLUE, ORANGE = "rgb(8,119,189)", "rgb(245,147,34)"
LINES = ("() => [...document.querySelectorAll('#links line')].map(line => [Number("
         "line.dataset.layer), Number(line.dataset.to), Number(line.dataset.from), Number("
         "line.dataset.weight), line.getAttribute('stroke'), Number(line.getAttribute("
         "'stroke-width'))])")


def check_lines(page):
    """The lines: one per weight of the server's network, coloured by sign, wider for
    larger weights; returned as drawn."""
    snapshot = live_session(page.client, page).snapshot
    lines = page.evaluate(LINES)
    assert len(lines) == sum(len(rows) * len(rows[0]) for rows in snapshot.weights)
    for layer, to, source, weight, stroke, _ in lines:
        assert weight == snapshot.weights[layer][to][source]
        assert stroke == (BLUE if weight >= 0 else ORANGE)
    by_size = sorted(lines, key=lambda line: abs(line[3]))
    assert [line[5] for line in by_size] == sorted(line[5] for line in by_size)
    assert by_size[0][5] < by_size[-1][5]
    return lines


def test_the_weights_are_lines_between_neurons_updated_live(page):
    features, hidden = len(Config().features), list(Config().hidden)
    widths = [features, *hidden, 1]
    assert page.locator("#links line").count() == sum(
        a * b for a, b in zip(widths, widths[1:]))
    untrained = check_lines(page)
    train_past(page, 5)
    assert check_lines(page) != untrained
    page.click("#add-layer")
    widths = [features, *hidden, 2, 1]
    page.wait_for_function("count => document.querySelectorAll('#links line').length === count",
                           arg=sum(a * b for a, b in zip(widths, widths[1:])))


def test_hovering_a_neuron_or_feature_shows_its_map_in_the_output(page):
    output = picture(page, "#heatmap")
    assert page.inner_text("#map-caption") == "Showing the output"
    page.hover('canvas.neuron[data-layer="1"][data-unit="2"]')
    assert page.inner_text("#map-caption") == "Showing layer 2, neuron 3"
    assert picture(page, "#heatmap") != output
    page.hover('canvas[data-feature-map="x1^2"]')  # a feature not fed in
    assert page.inner_text("#map-caption") == "Showing the feature x1^2"
    page.mouse.move(1, 1)
    assert page.inner_text("#map-caption") == "Showing the output"
    assert picture(page, "#heatmap") == output


def test_every_feature_has_its_thumbnail_and_the_map_its_ticks(page):
    thumbnails = [picture(page, f'canvas[data-feature-map="{name}"]') for name in FEATURES]
    blank = page.evaluate("() => { const c = document.createElement('canvas'); c.width = "
                          "c.height = 40; return c.toDataURL(); }")
    assert blank not in thumbnails and len(set(thumbnails)) == len(FEATURES)
    ticks = ["-6", "-4", "-2", "0", "2", "4", "6"]
    assert page.locator("#x-ticks .tick").all_inner_texts() == ticks
    assert page.locator("#y-ticks .tick").all_inner_texts() == ticks
    left = page.locator("#x-ticks .tick").first.bounding_box()
    right = page.locator("#x-ticks .tick").last.bounding_box()
    heatmap = page.locator("#heatmap").bounding_box()
    assert left["x"] < heatmap["x"] + 10 and right["x"] + right["width"] > heatmap["x"] + 290


# ---------------------------------------------------------------- links and windows

LINK = ("#dataset=xor&noise=0.1&lr=0.03&hidden=3,2&features=x1,x1*x2&regularization=L2"
        "&regularization_rate=0.001&batch_size=5&seed=5")


def test_a_link_with_settings_reproduces_a_run(browser):
    with served() as client:
        losses = []
        for _ in range(2):
            with opened(browser, f"{client.base_url}{LINK}") as page:
                settings = live_session(client, page).settings.to_json()
                assert (settings["dataset"], settings["hidden"], settings["features"],
                        settings["seed"]) == ("xor", [3, 2], ["x1", "x1*x2"], 5)
                assert (settings["regularization"], settings["lr"]) == ("L2", 0.03)
                assert page.input_value("#lr") == "0.03"
                assert page.input_value("#regularization") == "L2"
                assert page.inner_text("#layer-count") == "2"
                for _ in range(3):
                    page.click("#step")
                wait_for_epoch(page, 3)
                losses.append(page.inner_text("#test-loss"))
                page.select_option("#activation", "relu")
                page.wait_for_function("location.hash.includes('activation=relu')")
                assert "seed=5" in page.evaluate("location.hash")
        assert losses[0] == losses[1]


def test_a_link_with_a_refused_setting_starts_from_the_defaults(browser):
    with served() as client, opened(browser, f"{client.base_url}#lr=999") as page:
        page.wait_for_function(
            "document.getElementById('status').textContent.includes('refused')")
        assert "lr: must be a number in (0, 10], got 999" in page.inner_text("#status")
        assert live_session(client, page).settings.config.lr == Config().lr


@pytest.mark.parametrize("width", [800, 1024, 1200, 1920])
def test_the_page_fits_the_window_without_horizontal_scroll(browser, width):
    widest = Config(dataset="circle", hidden=(Limits().max_neurons,) * Limits().max_layers,
                    features=tuple(FEATURES))
    with served(widest) as client, opened(browser, str(client.base_url), width=width,
                                          height=900) as page:
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert png_size(page.screenshot(full_page=True))[0] == width
        for selector in ("#play", "#backend", "#heatmap", "#y-ticks", "#output-neuron",
                         'canvas.neuron[data-layer="5"]', "#links"):
            box = page.locator(selector).first.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, selector
