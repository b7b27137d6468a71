"""Shared fixtures: every backend-dependent test runs once per registered backend.

A backend that cannot run here is reported as skipped with its reason, never dropped.
"""

import pytest

import backends

BACKEND_NAMES = ["numpy", "numba", "cupy"]


def _backend_params():
    status = backends.available()
    params = []
    for name in BACKEND_NAMES:
        state = status.get(name, "not registered")
        marks = [] if state is True else [pytest.mark.skip(reason=f"{name}: {state}")]
        params.append(pytest.param(name, marks=marks, id=name))
    return params


@pytest.fixture(params=_backend_params())
def backend(request):
    """The name of a usable backend, made the default for the test."""
    with backends.use(request.param):
        yield request.param
