"""Tensor creation, dtypes, operands, conversion, indexing and the error messages users see."""

import numpy as np
import pytest

import autograd as ag


# ------------------------------------------------------------------------------ creation
def test_creation_functions_shapes_and_dtypes(backend):
    assert ag.zeros(2, 3).shape == (2, 3) and ag.zeros((2, 3)).dtype == "float32"
    assert ag.ones(4, dtype="float64").dtype == ag.float64
    np.testing.assert_array_equal(ag.full((2,), 7).numpy(), [7, 7])
    assert ag.full((2,), 7).dtype == "int64" and ag.full((2,), 0.5).dtype == "float32"
    np.testing.assert_array_equal(ag.arange(5).numpy(), np.arange(5))
    assert ag.arange(5).dtype == "int64" and ag.arange(0, 1, 0.25).dtype == "float32"
    np.testing.assert_array_equal(ag.arange(1, 7, 2).numpy(), [1, 3, 5])
    np.testing.assert_array_equal(ag.eye(3).numpy(), np.eye(3))
    r = ag.randint(0, 5, (100,))
    assert r.dtype == "int64" and 0 <= r.min().item() and r.max().item() < 5
    assert ag.rand(3, 2).shape == (3, 2) and ag.randn(3, dtype="float64").dtype == "float64"
    t = ag.randn(2, 2, dtype="float64")
    assert ag.zeros_like(t).dtype == "float64"
    assert ag.ones_like(t, dtype="float32").dtype == "float32"
    assert ag.zeros(3).backend.name == backend


def test_tensor_dtype_rules(backend):
    assert ag.tensor(1.0).dtype == "float32"
    assert ag.tensor([1.5, 2]).dtype == "float32"
    assert ag.tensor([1, 2]).dtype == "int64"
    assert ag.tensor([True, False]).dtype == ag.bool_
    assert ag.tensor(np.zeros(2)).dtype == "float64"
    assert ag.tensor(np.zeros(2, dtype=np.float32)).dtype == "float32"
    assert ag.tensor([1, 2], dtype=ag.float64).dtype == "float64"
    assert ag.tensor([1, 2], dtype=np.float32).dtype == "float32"
    with pytest.raises(TypeError, match="unknown dtype"):
        ag.tensor([1.0], dtype="float13")


def test_tensor_copies_its_data_and_from_numpy_shares(backend):
    array = np.array([1.0, 2.0])
    t = ag.tensor(array)
    array[0] = 5.0
    assert t.numpy()[0] == 1.0
    if backend in ("numpy", "numba"):
        shared = ag.from_numpy(array)
        array[1] = 9.0
        assert shared.numpy()[1] == 9.0


def test_integer_tensors_cannot_require_grad(backend):
    with pytest.raises(TypeError, match="floating"):
        ag.tensor([1, 2], requires_grad=True)


def test_manual_seed_makes_draws_reproducible(backend):
    ag.manual_seed(7)
    a = ag.randn(5).numpy()
    ag.manual_seed(7)
    b = ag.randn(5).numpy()
    ag.manual_seed(8)
    c = ag.randn(5).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# ------------------------------------------------------------------------------ operands
def test_python_scalar_takes_the_tensor_dtype(backend):
    assert (ag.tensor([1.0, 2.0]) * 2.5).dtype == "float32"
    assert (2.5 * ag.tensor([1.0], dtype="float64")).dtype == "float64"


def test_numpy_arrays_are_constants_and_promote_like_numpy(backend):
    t = ag.tensor([1.0, 2.0], requires_grad=True)
    out = t * np.array([3.0, 4.0])
    assert out.dtype == "float64"
    out.sum().backward()
    assert t.grad.dtype == "float32"
    np.testing.assert_allclose(t.grad.numpy(), [3.0, 4.0])
    left = np.ones((2, 2)) @ ag.tensor([[1.0], [2.0]], dtype="float64")
    np.testing.assert_allclose(left.numpy(), [[3.0], [3.0]])
    assert isinstance(np.array([1.0, 2.0]) + ag.tensor([1.0, 1.0]), ag.Tensor)


def test_reflected_operators(backend):
    t = ag.tensor([1.0, 2.0], dtype="float64")
    np.testing.assert_allclose((2 - t).numpy(), [1.0, 0.0])
    np.testing.assert_allclose((1 / t).numpy(), [1.0, 0.5])
    np.testing.assert_allclose((2.0 ** t).numpy(), [2.0, 4.0])
    np.testing.assert_allclose((-t).numpy(), [-1.0, -2.0])
    np.testing.assert_allclose(abs(-t).numpy(), [1.0, 2.0])


def test_comparisons_give_bool_tensors_without_gradient(backend):
    t = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result, expected in [(t < 2, [1, 0, 0]), (t <= 2, [1, 1, 0]), (t > 2, [0, 0, 1]),
                             (t >= 2, [0, 1, 1]), (t == 2, [0, 1, 0]), (t != 2, [1, 0, 1])]:
        assert result.dtype == "bool" and not result.requires_grad
        np.testing.assert_array_equal(result.numpy(), np.array(expected, dtype=bool))
    assert {t: 1}[t] == 1, "tensors stay hashable"


def test_argmax_and_argmin(backend):
    t = ag.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], requires_grad=True)
    assert t.argmax().item() == 3
    np.testing.assert_array_equal(t.argmax(axis=1).numpy(), [1, 0])
    np.testing.assert_array_equal(ag.argmin(t, axis=0).numpy(), [0, 1, 0])
    assert not t.argmax().requires_grad


def test_ties_split_the_gradient_evenly(backend):
    t = ag.tensor([3.0, 1.0, 3.0], dtype="float64", requires_grad=True)
    t.max().backward()
    np.testing.assert_allclose(t.grad.numpy(), [0.5, 0.0, 0.5])
    a = ag.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    b = ag.tensor([1.0, 3.0], dtype="float64", requires_grad=True)
    ag.maximum(a, b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.5, 0.0])
    np.testing.assert_allclose(b.grad.numpy(), [0.5, 1.0])
    m = ag.tensor([[2.0, 2.0], [1.0, 4.0]], dtype="float64", requires_grad=True)
    m.min(axis=1).sum().backward()
    np.testing.assert_allclose(m.grad.numpy(), [[0.5, 0.5], [1.0, 0.0]])


def test_repeated_indices_accumulate(backend):
    t = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    t[ag.tensor([0, 0, 2, 0])].sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), [3.0, 0.0, 1.0])


def test_len_iteration_and_conversions(backend):
    t = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert len(t) == 2
    assert [row.tolist() for row in t] == [[1.0, 2.0], [3.0, 4.0]]
    assert t.size == 4 and t.ndim == 2 and t.T.shape == (2, 2)
    assert t.sum().item() == 10.0 and float(t[0, 1]) == 2.0 and int(ag.tensor(3)) == 3
    assert isinstance(t.numpy(), np.ndarray)
    with pytest.raises(ValueError, match="one-element"):
        t.item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(t)
    with pytest.raises(TypeError, match="0-d"):
        len(ag.tensor(1.0))


def test_to_dtype_is_differentiable(backend):
    t = ag.tensor([1.0, 2.0], requires_grad=True)
    d = t.to("float64")
    assert d.dtype == "float64" and d.requires_grad
    (d * d).sum().backward()
    assert t.grad.dtype == "float32"
    np.testing.assert_allclose(t.grad.numpy(), [2.0, 4.0])
    assert t.to(dtype=ag.float64).dtype == "float64" and t.astype("float32") is t


def test_detach_and_requires_grad_(backend):
    t = ag.tensor([1.0], requires_grad=True)
    y = t * 2
    assert not y.detach().requires_grad and y.detach().is_leaf
    assert y.grad_fn is not None and not y.is_leaf
    leaf = ag.tensor([1.0]).requires_grad_()
    assert leaf.requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


def test_repr_names_dtype_backend_and_grad_fn(backend):
    t = ag.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    text = repr(t * 2)
    assert text.startswith("tensor([2., 4.]") and "float64" in text and "MulBackward" in text
    assert ("backend=" in text) == (backend != "numpy")


# ------------------------------------------------------------------------------ errors
def test_matmul_shape_mismatch_names_op_and_shapes(backend):
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        ag.ones(2, 3) @ ag.ones(4, 5)


def test_broadcast_mismatch_names_op_and_shapes(backend):
    with pytest.raises(ValueError, match=r"add.*\(2, 3\).*\(4,\)"):
        ag.ones(2, 3) + ag.ones(4)
    with pytest.raises(ValueError, match=r"mul.*\(2, 3\).*\(2,\)"):
        ag.ones(2, 3, requires_grad=True) * ag.ones(2)


def test_bad_axis_and_reshape_are_explained(backend):
    with pytest.raises(ValueError, match="sum: axis 2 is out of range"):
        ag.ones(2, 3).sum(axis=2)
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\)"):
        ag.ones(2, 3).reshape(4, 2)
    with pytest.raises(ValueError, match="squeeze: axis 1 has size 3"):
        ag.ones(2, 3).squeeze(1)


def test_mixing_backends_names_both_and_the_fix(backend):
    other = "numpy" if backend != "numpy" else "numba"
    import backends

    if backends.available().get(other) is not True:
        pytest.skip(f"{other} backend not available")
    a = ag.ones(2)
    b = ag.ones(2, backend=other)
    with pytest.raises(TypeError, match=rf"{backend}.*{other}.*\.to\("):
        a + b
    moved = b.to(backend)
    assert (a + moved).backend.name == backend


def test_pickle_and_deepcopy_keep_values_dtype_backend(backend):
    import copy
    import pickle

    t = ag.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    for clone in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t)):
        assert clone.dtype == "float64" and clone.requires_grad and clone.is_leaf
        assert clone.backend.name == backend
        np.testing.assert_array_equal(clone.numpy(), [1.0, 2.0])
        assert clone.data is not t.data
