"""Memory over a training run: freed arrays are reused, nothing accumulates, and keeping
freed memory for reuse never keeps a graph's arrays alive."""

import gc
import os
import subprocess
import sys
import tracemalloc
import weakref

import pytest

import autograd as ag
import backends
import nn


def _resident_bytes():
    """The process's resident set size now (Linux), else None."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return None


def _training_step(compiled):
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 64), nn.Tanh(),
                          nn.Linear(64, 10))
    optimizer = nn.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x, y = ag.randn(64, 16), ag.randint(0, 10, (64,))
    if compiled:
        step = ag.jit.compile_step(model, loss_fn, optimizer)
        return lambda: step(x, y)

    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_memory_does_not_grow_over_a_thousand_training_steps(backend, compiled):
    step = _training_step(compiled)
    for _ in range(50):  # warm up: kernels compiled, optimiser state made, heap at its peak
        step()
    tracemalloc.start()
    try:
        for _ in range(10):  # so that the arrays alive between steps are traced ones
            step()
        gc.collect()
        traced_before = tracemalloc.get_traced_memory()[0]
        resident_before = _resident_bytes()
        for _ in range(1000):
            step()
        gc.collect()
        traced_growth = tracemalloc.get_traced_memory()[0] - traced_before
        resident_after = _resident_bytes()
    finally:
        tracemalloc.stop()
    # One step's arrays take about 100 kB: a leak of one array per step would be megabytes.
    assert traced_growth < 256 * 1024, f"Python-visible memory grew by {traced_growth} bytes"
    if resident_before is not None:
        growth = resident_after - resident_before
        assert growth < 16 * 2**20, f"resident memory grew by {growth / 2**20:.1f} MiB"


def test_an_intermediate_array_dies_with_its_graph(backend):
    x = ag.randn(1 << 16, requires_grad=True)
    hidden = (x * 2).tanh()
    array = weakref.ref(hidden.data)
    loss = (hidden * hidden).sum()
    del hidden
    assert array() is not None  # the graph holds it for backward
    loss.backward()
    del loss
    gc.collect()
    assert array() is None


def test_cpu_backends_keep_freed_memory_where_the_c_library_allows():
    import platform

    expected = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    for name in ("numpy", "numba"):
        if backends.available().get(name) is True:
            assert backends.get(name).reuses_freed_memory is expected


def test_the_malloc_setting_can_be_left_alone():
    code = "import backends; print(backends.get('numpy').reuses_freed_memory)"
    env = dict(os.environ, AUTOGRAD_MALLOC="default")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.stdout.strip() == "False"
