"""The default backend is per thread inside `backends.use`, as grad mode is, and the Numba
backend survives being driven from many threads at once."""

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import autograd as ag
import backends
import nn

NUMBA = backends.available().get("numba")
needs_numba = pytest.mark.skipif(NUMBA is not True, reason=f"numba: {NUMBA}")


@needs_numba
def test_a_use_block_in_one_thread_leaves_other_threads_on_the_default():
    default = backends.current().name
    inside, entered, done = threading.Event(), threading.Event(), threading.Event()

    def switch_and_wait():
        with backends.use("numba"):
            entered.set()
            inside.wait(timeout=30)
        done.set()

    worker = threading.Thread(target=switch_and_wait)
    worker.start()
    assert entered.wait(timeout=30)
    layer = nn.Linear(4, 3)  # built here while the other thread is inside its block
    names = {backends.current().name, layer.weight.backend.name, layer.bias.backend.name,
             ag.zeros(2).backend.name}
    inside.set()
    worker.join(timeout=30)
    assert done.is_set()
    assert names == {default}


@needs_numba
def test_use_in_a_thread_switches_that_thread_only():
    seen = {}

    def run():
        with backends.use("numba"):
            seen["inside"] = (backends.current().name, ag.ones(3).backend.name)
        seen["after"] = backends.current().name

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=30)
    assert seen == {"inside": ("numba", "numba"), "after": backends.current().name}


@needs_numba
def test_overlapping_blocks_never_leave_the_default_stuck():
    default = backends.current()
    first, second = backends.use("numba"), backends.use("numpy")
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # ends before the block it encloses
    assert backends.current().name == "numpy"
    second.__exit__(None, None, None)
    assert backends.current() is default


@needs_numba
def test_many_threads_with_overlapping_blocks_end_on_the_default():
    default = backends.current()
    barrier = threading.Barrier(8)
    errors = []

    def churn(index):
        try:
            barrier.wait(timeout=30)
            for step in range(200):
                name = ("numba", "numpy")[(index + step) % 2]
                with backends.use(name):
                    assert backends.current().name == name
            assert backends.current() is default
        except Exception as error:  # reported below, with the thread's index
            errors.append((index, error))

    threads = [threading.Thread(target=churn, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert backends.current() is default


@needs_numba
def test_set_default_stays_process_wide():
    previous = backends.current()
    seen = []
    try:
        backends.set_default("numba")
        worker = threading.Thread(target=lambda: seen.append(backends.current().name))
        worker.start()
        worker.join(timeout=30)
    finally:
        backends.set_default(previous)
    assert seen == ["numba"]


@needs_numba
def test_a_use_block_wins_over_set_default_in_its_thread():
    previous = backends.current()
    try:
        with backends.use("numba"):
            backends.set_default("numpy")
            assert backends.current().name == "numba"
        assert backends.current().name == "numpy"
    finally:
        backends.set_default(previous)


NUMBA_FROM_EIGHT_THREADS = textwrap.dedent("""
    import threading

    import numba

    import autograd as ag
    import nn

    def train():
        x = ag.randn(1 << 20, backend="numba", requires_grad=True)
        optimizer = nn.optim.SGD([x], lr=0.1, momentum=0.9)
        for _ in range(4):
            loss = (x * 2.0 + x).relu().sigmoid().sum() + ag.where(x > 0, x, 0.5 * x).sum()
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()

    threads = [threading.Thread(target=train) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("layer", numba.threading_layer())
""")


@needs_numba
@pytest.mark.parametrize("layer", ["workqueue", "default"])
def test_numba_from_eight_threads_never_kills_the_process(layer):
    root = str(Path(__file__).resolve().parents[1])
    environment = {**os.environ, "NUMBA_THREADING_LAYER": layer,
                   "PYTHONPATH": os.pathsep.join(filter(None, [root,
                                                               os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-c", NUMBA_FROM_EIGHT_THREADS], env=environment,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("layer ")
    if layer == "workqueue":
        assert result.stdout.split()[1] == "workqueue"
