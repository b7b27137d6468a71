"""Fusing runs of elementwise instructions into one kernel (backends/numba_fusion.py),
through `Backend.fuse_elementwise`, checked against NumPy written out."""

import numpy as np
import pytest

import autograd as ag
import autograd.jit as jit

pytest.importorskip("numba", reason="numba is not installed")
from backends import numba_fusion  # noqa: E402
from backends.numpy_backend import NumpyBackend  # noqa: E402

SIZE = 256  # rows and columns: 65536 elements, above numba_fusion.MIN_FUSED_SIZE


class FusingBackend(NumpyBackend):
    """NumPy's primitives plus the fused elementwise kernels, as the Numba backend has."""

    def __init__(self):
        super().__init__(name="numpy-fusing")

    def fuse_elementwise(self, run):
        return numba_fusion.fuse_elementwise(run)


@pytest.fixture(scope="module")
def fusing():
    return FusingBackend()


def tensor(array, backend):
    return ag.tensor(array, backend=backend)


def fused_calls(traced):
    return [line for line in traced.code.splitlines() if "= fused" in line]


def test_a_chain_with_broadcasts_becomes_one_kernel(fusing):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(SIZE, SIZE)).astype(np.float32)
    bias = rng.normal(size=SIZE).astype(np.float32)
    y = rng.normal(size=(SIZE, SIZE)).astype(np.float32)
    scale = np.float32(rng.normal())

    def fn(x, bias, y, scale):
        h = (x + bias).relu() * 2.0
        g = ag.where(h > 1.0, h, y * scale).clip(-1.0, 3.0)
        return g - h, h.exp()

    def numpy_fn(x, bias, y, scale):
        h = np.maximum(x + bias, 0) * np.float32(2)
        g = np.clip(np.where(h > 1, h, y * scale), np.float32(-1), np.float32(3))
        return g - h, np.exp(h)

    inputs = [tensor(v, fusing) for v in (x, bias, y, np.array([scale]))]
    traced = jit.trace(fn, *inputs)
    (call,) = fused_calls(traced)
    assert call.split("=")[0].count(",") == 1  # two values leave the run: g - h, and h
    with ag.no_grad():
        got = traced(*inputs)
    for g, e in zip(got, numpy_fn(x, bias, y, np.array([scale]))):
        assert g.dtype == "float32"
        np.testing.assert_allclose(g.numpy(), e, rtol=1e-6)
    recorded = traced(*[tensor(v, fusing).requires_grad_() for v in (x, bias, y)],
                      inputs[3])
    np.testing.assert_allclose(recorded[0].numpy(), got[0].numpy(), rtol=1e-6)


def test_integer_and_bool_steps_keep_numpy_types(fusing):
    k = np.random.default_rng(1).integers(-5, 5, size=(SIZE, SIZE))

    def fn(k):
        return ((k * 3 - 1) < 2.5).astype("float32") + (k != 0).astype("float32") / 4

    traced = jit.trace(fn, tensor(k, fusing))
    assert len(fused_calls(traced)) == 1
    with ag.no_grad():
        got = traced(tensor(k, fusing))
    expected = ((k * 3 - 1) < 2.5).astype(np.float32) + (k != 0).astype(np.float32) / 4
    assert got.dtype == "float32"
    np.testing.assert_array_equal(got.numpy(), expected)


def test_transcendentals_and_unsupported_layouts_end_a_run(fusing):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(SIZE, SIZE)).astype(np.float32)
    column = rng.normal(size=(SIZE, 1)).astype(np.float32)

    def fn(x, column):
        a = (x * 2.0 + 1.0).tanh()
        return (a * 2.0 + 1.0) * column - a

    traced = jit.trace(fn, tensor(x, fusing), tensor(column, fusing))
    calls = fused_calls(traced)
    # (x * 2 + 1) fuses; tanh stays NumPy's; the run after it reads a column broadcast,
    # which the kernel does not index, so it runs op by op.
    assert len(calls) == 1 and "tanh" not in calls[0]
    with ag.no_grad():
        got = traced(tensor(x, fusing), tensor(column, fusing))
    a = np.tanh(x * np.float32(2) + np.float32(1))
    np.testing.assert_allclose(got.numpy(), (a * np.float32(2) + np.float32(1)) * column - a,
                               rtol=1e-6)


def test_small_runs_and_unknown_steps_are_left_to_numpy():
    run = jit_run(shape=(8,), steps=[("add", (("input", 0), ("scalar", 1.0)), "float32"),
                                     ("mul", (("step", 0), ("input", 0)), "float32")])
    assert numba_fusion.fuse_elementwise(run) is None
    big = jit_run(shape=(1 << 16,), steps=[("exp", (("input", 0),), "float32"),
                                           ("mul", (("step", 0), ("input", 0)), "float32")])
    assert numba_fusion.fuse_elementwise(big) is None


def jit_run(shape, steps):
    from autograd.jit.fusion import ElementwiseRun

    return ElementwiseRun(shape, [(shape, "float32")], steps, [len(steps) - 1])


def test_a_backend_that_cannot_fuse_runs_op_by_op():
    traced = jit.trace(lambda x: (x * 2.0 + 1.0).relu(), ag.ones(SIZE, SIZE, backend="numpy"))
    assert not fused_calls(traced)
    with ag.no_grad():
        got = traced(ag.full((SIZE, SIZE), -1.0, backend="numpy"))
    np.testing.assert_array_equal(got.numpy(), np.zeros((SIZE, SIZE), dtype=np.float32))


def test_every_backend_replays_a_long_chain_as_numpy_computes_it(backend):
    x = np.random.default_rng(3).normal(size=(SIZE, SIZE)).astype(np.float32)
    traced = jit.trace(lambda x: ((x * 2.0 + 1.0).relu() - x).abs() / 3.0, ag.tensor(x))
    with ag.no_grad():
        got = traced(ag.tensor(x))
    expected = np.abs(np.maximum(x * np.float32(2) + np.float32(1), 0) - x) / np.float32(3)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)
