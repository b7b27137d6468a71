"""AUTOGRAD_BACKEND picks the default backend when `backends` is imported; an unusable one
fails the import with the reason `available()` gives."""

import os
import subprocess
import sys

import pytest

import backends


def _import_backends(name):
    env = dict(os.environ, AUTOGRAD_BACKEND=name)
    return subprocess.run(
        [sys.executable, "-c", "import backends; print(backends.current().name)"],
        capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.parametrize("name", ["numpy", "numba", "cupy"])
def test_autograd_backend_picks_the_default(name):
    state = backends.available()[name]
    result = _import_backends(name)
    if state is True:
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == name
    else:
        assert result.returncode != 0
        assert "ImportError" in result.stderr
        assert f"AUTOGRAD_BACKEND={name!r} cannot be used" in result.stderr
        assert state in result.stderr


def test_an_unknown_backend_fails_the_import_listing_the_available_ones():
    result = _import_backends("tpu")
    assert result.returncode != 0
    assert "unknown backend 'tpu'" in result.stderr
    assert "numpy: available" in result.stderr
