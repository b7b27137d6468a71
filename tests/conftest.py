"""Shared fixtures: every backend-dependent test runs once per registered backend.

A backend that cannot run here is reported as skipped with its reason, never dropped.
"""

from pathlib import Path

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


# ---------------------------------------------------------------- the skip report
# pytest's `-ra` summary folds skips by file, line and reason, so one missing backend made a
# line per test file. Reporting every skip from this folder leaves one line per reason.
TESTS = str(Path(__file__).resolve().parent)


def _one_line_per_reason(report):
    if report.skipped and isinstance(report.longrepr, tuple) and not hasattr(report, "wasxfail"):
        report.longrepr = (TESTS, None, report.longrepr[2])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _one_line_per_reason(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _one_line_per_reason(outcome.get_result())
