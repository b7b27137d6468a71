"""`python -m nn.playground.screenshot`: the README's picture of the playground page, taken
by a headless Chromium from a server run here, so that the picture always shows the page as
it is.

Needs the web extra, Python's playwright package and a Chromium executable: Debian's
`chromium` (playwright's own browser download is not used), or the one PLAYGROUND_CHROMIUM
names. The page trains the spiral for a while, pauses, and the window is saved as a PNG."""

import argparse
import contextlib
import os
import shutil
from pathlib import Path

from .session import Config

DEFAULT_OUT = Path(__file__).with_name("screenshot.png")
README_CONFIG = Config(dataset="spiral", noise=0.1, features=("x1", "x2", "sin(x1)", "sin(x2)"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 45_000


def chromium_path():
    """The Chromium to drive: PLAYGROUND_CHROMIUM, else `chromium` on the PATH, else
    Debian's /usr/bin/chromium (which may not exist: see `os.access`)."""
    return (os.environ.get("PLAYGROUND_CHROMIUM") or shutil.which("chromium")
            or "/usr/bin/chromium")


@contextlib.contextmanager
def chromium(driver):
    """A headless Chromium launched by the playwright `driver`, closed at the end."""
    path = chromium_path()
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(f"no Chromium at {path}: apt-get install chromium, or set "
                                f"PLAYGROUND_CHROMIUM to a Chromium executable")
    browser = driver.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


def wait_for_epoch(page, at_least):
    """Wait until the page's epoch counter shows at least `at_least`."""
    page.wait_for_function(
        "least => Number(document.getElementById('epoch').textContent.replace(',', '')) "
        ">= least", arg=at_least)


def take(out=DEFAULT_OUT, config=README_CONFIG, epochs=300, width=1280, height=800):
    """Serve the page starting from `config`, train `epochs` epochs in a `width` x `height`
    window, pause, and save the window to `out`."""
    from playwright.sync_api import sync_playwright

    from .server import create_app, running

    with running(create_app(config)) as url, sync_playwright() as driver, \
            chromium(driver) as browser:
        page = browser.new_page(viewport={"width": width, "height": height})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url)
        page.wait_for_selector("#layers canvas.neuron")
        page.click("#play")
        wait_for_epoch(page, epochs)
        page.click("#play")
        page.wait_for_selector('#play[data-playing="false"]')
        page.check("#show-test")
        page.screenshot(path=str(out))


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m nn.playground.screenshot",
        description="Take the README's picture of the playground page in headless Chromium.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="where to write the PNG (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=300,
                        help="epochs to train before the picture (default: %(default)s)")
    parser.add_argument("--width", type=int, default=1280,
                        help="window width in pixels (default: %(default)s)")
    parser.add_argument("--height", type=int, default=800,
                        help="window height in pixels (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        take(args.out, README_CONFIG, args.epochs, args.width, args.height)
    except FileNotFoundError as error:
        parser.error(str(error))
    except ModuleNotFoundError as error:
        parser.error(f"{error.name} is not installed; pip install \"pluggrad[test]\" (it "
                     f"needs the web extra and playwright)")
    print(f"screenshot: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
