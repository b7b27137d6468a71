"""The sliding-window primitives every backend provides (`im2col`, `col2im`, `pad`), against
the loop-by-loop reference, at sizes below and above the Numba backend's kernel threshold:
im2col gathers what PyTorch's unfold gathers, and col2im is its adjoint."""

import numpy as np
import numpy_layer_reference as ref
import pytest

import backends

# (image shape, kernel_size, dilation, padding, stride); the large ones reach the compiled
# kernels of the Numba backend.
GEOMETRIES = [
    ((2, 3, 6, 5), (3, 3), (1, 1), (1, 1), (1, 1)),
    ((1, 2, 7, 9), (2, 3), (2, 1), (0, 2), (2, 3)),
    ((4, 4, 40, 36), (3, 3), (1, 1), (1, 1), (1, 1)),
    ((2, 8, 33, 30), (3, 2), (2, 2), (2, 1), (2, 1)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,kernel,dilation,padding,stride", GEOMETRIES)
def test_im2col_matches_reference_and_col2im_is_its_adjoint(backend, dtype, shape, kernel,
                                                            dilation, padding, stride):
    b = backends.get(backend)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    cols = b.im2col(b.from_numpy(x), kernel, dilation, padding, stride)
    assert b.dtype_name(cols) == dtype
    expected = ref.unfold(x.astype("float64"), kernel, dilation, padding, stride)
    np.testing.assert_allclose(b.to_numpy(cols), expected, rtol=1e-6, atol=1e-6)

    c = rng.standard_normal(expected.shape).astype(dtype)
    image = b.col2im(b.from_numpy(c), shape[2:], kernel, dilation, padding, stride)
    assert b.dtype_name(image) == dtype
    folded = ref.fold(c.astype("float64"), shape[2:], kernel, dilation, padding, stride)
    np.testing.assert_allclose(b.to_numpy(image), folded, rtol=1e-5, atol=1e-5)
    # <im2col(x), c> == <x, col2im(c)>
    np.testing.assert_allclose((expected * c).sum(), (x * folded).sum(), rtol=1e-4)


def test_pad_adds_constant_borders(backend):
    b = backends.get(backend)
    x = np.arange(6.0).reshape(2, 3)
    out = b.to_numpy(b.pad(b.from_numpy(x), ((1, 0), (0, 2)), -1.5))
    np.testing.assert_array_equal(out, np.pad(x, ((1, 0), (0, 2)), constant_values=-1.5))
