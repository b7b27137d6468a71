"""The examples run as the README gives them and reach what it promises: the digits CNN at
least 98% test accuracy on numpy and numba, and the WGAN-GP's generated points covering all
8 modes (each between 5% and 20% of 2,000 samples), with its PNG written."""

import importlib.util
import pathlib

import pytest

import backends

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def load_example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def usable(name):
    state = backends.available().get(name, "not registered")
    return [] if state is True else [pytest.mark.skip(reason=f"{name}: {state}")]


@pytest.mark.parametrize("backend_name", [pytest.param(name, marks=usable(name), id=name)
                                          for name in ("numpy", "numba")])
def test_cnn_digits_reaches_98_percent(backend_name, capsys):
    pytest.importorskip("sklearn", reason="scikit-learn is needed for the digits "
                                          "(pip install -e '.[examples]')")
    with backends.use("numpy"):  # the example sets the default; restore it afterwards
        accuracy = load_example("cnn_digits").main(["--backend", backend_name])
    assert accuracy >= 0.98
    assert "test accuracy" in capsys.readouterr().out


def test_wgan_gp_covers_all_eight_modes(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="matplotlib draws the example's PNG")
    out = tmp_path / "wgan.png"
    with backends.use("numpy"):
        shares = load_example("wgan_gp").main(["--out", str(out)])
    assert len(shares) == 8
    assert all(0.05 <= share <= 0.20 for share in shares), shares
    assert out.read_bytes().startswith(b"\x89PNG")
    printed = capsys.readouterr().out
    assert "Wasserstein estimate" in printed
