"""Sigmoid, the tanh and sigmoid backward formulas and erf on small arrays, where the Numba
backend calls one compiled ufunc instead of NumPy's composed formula: the same values, dtypes
and broadcasting as the formulas written out with NumPy, on every backend."""

import math

import numpy as np
import pytest

import backends

SHAPES = [((), ()), ((5,), (5,)), ((3, 1), (1, 4)), ((2, 3), (3,))]


@pytest.fixture
def be(backend):
    return backends.get(backend)


def _random(shape, dtype, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _run(be, method, *arrays):
    """The backend's `method` on host arrays, its result back on the host."""
    return be.to_numpy(getattr(be, method)(*[be.from_numpy(a) for a in arrays]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_backward_formulas_match_numpy(be, dtype, shapes):
    grad, y = _random(shapes[0], dtype, 0), np.tanh(_random(shapes[1], dtype, 1))
    tight = {"rtol": 1e-6 if dtype == "float32" else 1e-14}
    tanh_grad = _run(be, "tanh_backward", grad, y)
    np.testing.assert_allclose(tanh_grad, grad * (1 - y * y), **tight)
    sigmoid_grad = _run(be, "sigmoid_backward", grad, y)
    np.testing.assert_allclose(sigmoid_grad, grad * y * (1 - y), **tight)
    for result in (tanh_grad, sigmoid_grad):
        assert result.dtype == dtype
        assert np.shape(result) == np.broadcast_shapes(shapes[0], shapes[1])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_matches_numpy_and_is_exact_at_the_ends(be, dtype):
    x = np.array([-1e4, -1000, -30, -1, 0, 1, 30, 1000, 1e4], dtype=dtype)
    reference = np.exp(-np.logaddexp(0, -x.astype(np.float64)))
    result = _run(be, "sigmoid", x)
    assert result.dtype == dtype
    np.testing.assert_allclose(result, reference, rtol=1e-6 if dtype == "float32" else 1e-14)
    assert result[0] == 0 and result[-1] == 1 and result[4] == 0.5
    strided = _run(be, "sigmoid", x[::2])
    np.testing.assert_array_equal(strided, result[::2])


def test_other_dtypes_keep_their_dtype(be):
    half = np.array([-2.0, 0.5, 3.0], dtype=np.float16)
    assert _run(be, "sigmoid", half).dtype == np.float16
    assert _run(be, "tanh_backward", half, half).dtype == np.float16
    assert _run(be, "sigmoid_backward", half, half).dtype == np.float16
    np.testing.assert_allclose(_run(be, "sigmoid", half).astype(np.float64),
                               1 / (1 + np.exp(-half.astype(np.float64))), rtol=1e-3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_erf_matches_math_erf(be, dtype):
    x = np.linspace(-4, 4, 17).astype(dtype)
    result = _run(be, "erf", x)
    assert result.dtype == dtype
    np.testing.assert_allclose(result, [math.erf(v) for v in x.astype(np.float64)],
                               rtol=1e-6 if dtype == "float32" else 1e-15, atol=1e-7)
