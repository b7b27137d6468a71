"""The CuPy backend's availability: on a machine without CuPy or without a GPU it must say
why, never fail obscurely. (Its results are checked by the conformance suite where a GPU is
present.) Fake `cupy` modules stand in for the broken installations."""

import importlib
import sys
import types

import pytest

import backends
from backends import cupy_backend
from backends.base import BackendUnavailable


def _fake_cupy(device_count):
    """A module that looks like cupy to `load_cupy`: `device_count()` gives the number of
    CUDA devices, or raises as the CUDA runtime does."""
    module = types.ModuleType("cupy")
    module.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(
        getDeviceCount=device_count))
    return module


class CUDARuntimeError(RuntimeError):
    """Stands in for cupy_backends.cuda.api.runtime.CUDARuntimeError."""


def test_missing_cupy_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` fail as if absent
    with pytest.raises(BackendUnavailable, match=r"cupy is not installed: pip install "
                                                 r"'pluggrad\[cuda\]'"):
        cupy_backend.load_cupy()


def test_a_broken_cupy_installation_names_what_is_missing(monkeypatch):
    real_import = importlib.import_module

    def import_module(name, *args):
        if name == "cupy":
            raise ModuleNotFoundError("No module named 'fastrlock'", name="fastrlock")
        return real_import(name, *args)

    monkeypatch.setattr(importlib, "import_module", import_module)
    with pytest.raises(BackendUnavailable, match="cupy is installed but cannot be imported: "
                                                 "No module named 'fastrlock'"):
        cupy_backend.load_cupy()


def test_no_cuda_device_is_reported(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(lambda: 0))
    with pytest.raises(BackendUnavailable, match="no CUDA device found"):
        cupy_backend.CupyBackend()


def test_a_driver_error_is_reported_with_its_text(monkeypatch):
    def device_count():
        raise CUDARuntimeError("cudaErrorInsufficientDriver: CUDA driver version is "
                               "insufficient for CUDA runtime version")

    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(device_count))
    with pytest.raises(BackendUnavailable) as error:
        cupy_backend.CupyBackend()
    assert "cudaErrorInsufficientDriver: CUDA driver version is insufficient" in str(
        error.value)
    assert isinstance(error.value.__cause__, CUDARuntimeError)


def test_available_gives_the_reason_when_cupy_cannot_run():
    try:
        cupy_backend.load_cupy()
    except BackendUnavailable as error:
        reason = str(error)
    else:
        pytest.skip("cupy runs on this machine")
    state = backends.available()["cupy"]
    assert state == reason
    with pytest.raises(BackendUnavailable, match="backend 'cupy' cannot be used: "):
        backends.get("cupy")
