"""The NumPy backend's large-array paths: as exact as its small-array formulas."""

import numpy as np
import pytest

import backends
from backends.numpy_backend import SIGMOID_SIMD_MIN_SIZE


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_of_a_large_array_is_exact_to_a_few_ulp_and_at_both_ends(dtype):
    backend = backends.get("numpy")
    values = np.concatenate([np.array([-1000, -750, -40, -1e-8, 0, 1e-8, 40, 1000]),
                             np.linspace(-30, 30, SIGMOID_SIMD_MIN_SIZE)]).astype(dtype)
    large = backend.sigmoid(values)
    precise = values.astype(np.longdouble)
    truth = (1 / (1 + np.exp(-precise))).astype(dtype)
    assert large.dtype == values.dtype and large.shape == values.shape
    np.testing.assert_allclose(large, truth, rtol=4 * np.finfo(dtype).eps, atol=0)
    small = np.concatenate([backend.sigmoid(values[i:i + 64])
                            for i in range(0, values.size, 64)])
    np.testing.assert_allclose(large, small, rtol=1e-5 if dtype == "float32" else 1e-13)
    assert large[0] == 0 and large[7] == 1 and large[4] == 0.5
