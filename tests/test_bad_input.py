"""Bad input is caught at the door: sizes must be integers, ranges must make sense, tensors
hold numbers only, in-place ops never drop information, and every error names the op and
the fix instead of leaking an error from inside NumPy."""

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F


@pytest.mark.parametrize("make, argument", [
    (lambda: nn.Linear(2.5, 2), "in_features"),
    (lambda: nn.Linear(2, 3.0), "out_features"),
    (lambda: ag.zeros(5).reshape(2.5, 2), "shape[0]"),
    (lambda: ag.zeros(6).reshape((2, "3")), "shape[1]"),
    (lambda: ag.zeros(1e3), "shape[0]"),
    (lambda: ag.ones(2, 1.5), "shape[1]"),
    (lambda: ag.randn(True), "shape[0]"),
    (lambda: ag.full((2.0, 2), 1.0), "shape[0]"),
    (lambda: ag.eye(2.5), "n"),
    (lambda: ag.randperm(4.0), "n"),
    (lambda: ag.randint(0, 5, 2.5), "shape[0]"),
    (lambda: ag.zeros(2).broadcast_to((2.5, 2)), "shape[0]"),
    (lambda: ag.zeros(2, 2).transpose(1.0, 0), "axes[0]"),
])
def test_sizes_must_be_integers(backend, make, argument):
    with pytest.raises(TypeError, match="must be an integer") as caught:
        make()
    assert argument in str(caught.value)


@pytest.mark.parametrize("make, op", [
    (lambda: ag.zeros(-1), "zeros"), (lambda: ag.zeros((2, -3)), "zeros"),
    (lambda: ag.randn(-2), "randn"), (lambda: ag.full(-2, 1.0), "full"),
    (lambda: ag.eye(-1), "eye"), (lambda: nn.Linear(-1, 2), "nn.Linear"),
    (lambda: nn.Linear(2, -4), "nn.Linear"),
])
def test_negative_sizes_raise_a_value_error_naming_the_op(make, op):
    with pytest.raises(ValueError, match=rf"^{op}: .* must be 0 or more, got -\d"):
        make()


def test_numpy_integers_are_sizes():
    assert ag.zeros(np.int64(3)).shape == (3,)
    assert ag.zeros(2, 3).reshape(np.int32(6)).shape == (6,)
    assert ag.zeros(2, 3).reshape(-1, 2).shape == (3, 2)
    assert nn.Linear(np.int64(2), 3).weight.shape == (3, 2)


def test_a_linear_layer_with_no_inputs_behaves_as_pytorchs():
    layer = nn.Linear(0, 2)
    assert layer.weight.shape == (2, 0)
    out = layer(ag.zeros(3, 0))
    assert out.shape == (3, 2)
    np.testing.assert_array_equal(out.numpy(), np.zeros((3, 2), np.float32))
    assert nn.Linear(2, 0)(ag.ones(4, 2)).shape == (4, 0)


@pytest.mark.parametrize("args, message", [
    ((0, 1, 0), "step must not be zero"),
    ((0.0, 1.0, 0.0), "step must not be zero"),
    ((0, 1e300, 1e-300), "more than an array can hold"),
    ((0, float("inf")), "stop must be a finite number"),
    ((float("nan"),), "stop must be a finite number"),
    ((0, 5, float("-inf")), "step must be a finite number"),
])
def test_arange_refuses_impossible_ranges_with_a_clear_value_error(args, message):
    with pytest.raises(ValueError, match=message) as caught:
        ag.arange(*args)
    assert "arange" in str(caught.value)


def test_arange_refuses_what_is_not_a_number():
    with pytest.raises(TypeError, match="arange: stop must be a real number"):
        ag.arange("5")
    np.testing.assert_array_equal(ag.arange(5, 0, -2).numpy(), [5, 3, 1])


def test_a_list_of_tensors_becomes_a_stacked_tensor(backend):
    rows = [ag.tensor([1.0, 2.0]), ag.tensor([3.0, 4.0])]
    stacked = ag.tensor(rows)
    assert stacked.shape == (2, 2) and stacked.dtype == "float32"
    assert stacked.backend.name == backend
    np.testing.assert_array_equal(stacked.numpy(), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(ag.tensor([ag.tensor(1.0), 2.0]).numpy(), [1, 2])
    with pytest.raises(ValueError, match=r"tensor: a list of tensors is stacked.*\(2,\), \(3,\)"):
        ag.tensor([ag.zeros(2), ag.zeros(3)])


@pytest.mark.parametrize("data, dtype", [
    (["a", "b"], "str"), ("text", "str"), (1j, "complex128"),
    (np.zeros(2, dtype=complex), "complex128"), (np.array([1, None], dtype=object), "object"),
])
def test_strings_complex_and_objects_are_refused_naming_the_supported_dtypes(data, dtype):
    with pytest.raises(TypeError, match=rf"tensor: cannot hold values of dtype {dtype}") as c:
        ag.tensor(data)
    assert "float32" in str(c.value) and "int64" in str(c.value) and "bool" in str(c.value)


def test_from_numpy_refuses_what_tensor_refuses():
    with pytest.raises(TypeError, match="from_numpy: cannot hold values of dtype complex128"):
        ag.from_numpy(np.zeros(2, dtype=complex))


def test_ragged_lists_raise_an_error_that_says_so():
    with pytest.raises(ValueError, match="tensor: .*equal lengths"):
        ag.tensor([[1, 2], [3]])


@pytest.mark.parametrize("dtype, update, result", [
    ("int64", lambda t: t.__iadd__(1.7), "float64"),
    ("int64", lambda t: t.__itruediv__(2), "float64"),
    ("int64", lambda t: t.__imul__(ag.ones(3)), "float"),
    ("bool", lambda t: t.__iadd__(1), "int64"),
])
def test_in_place_ops_that_would_lose_information_raise_as_numpy_does(backend, dtype, update,
                                                                     result):
    t = ag.zeros(3, dtype=dtype)
    with pytest.raises(TypeError, match=rf"the result is {result}.*cannot hold"):
        update(t)
    np.testing.assert_array_equal(t.numpy(), np.zeros(3, dtype=dtype))
    update_on_numpy = np.zeros(3, dtype=dtype)
    with pytest.raises(TypeError, match="Cannot cast"):  # NumPy's own refusal
        update_on_numpy += 1.7 if dtype == "int64" else 1


def test_in_place_ops_that_keep_the_kind_still_work(backend):
    t = ag.zeros(3, dtype="int64")
    t += 2
    t *= 3
    np.testing.assert_array_equal(t.numpy(), [6, 6, 6])
    f = ag.zeros(3)
    f += ag.ones(3, dtype="float64")  # float64 into float32: same kind, as NumPy allows
    assert f.dtype == "float32"
    np.testing.assert_array_equal(f.numpy(), [1, 1, 1])


def test_cross_entropy_with_float_class_labels_gives_a_hint_that_works():
    logits = ag.randn(4, 3)
    labels = ag.tensor([0.0, 1.0, 2.0, 1.0])
    with pytest.raises(TypeError, match=r"target.astype\('int64'\)") as caught:
        F.cross_entropy(logits, labels)
    assert "cross_entropy" in str(caught.value)
    F.cross_entropy(logits, labels.astype("int64"))  # the hint, followed, works
    F.cross_entropy(logits, ag.ones(4, 3) / 3)       # as do probabilities
