"""Every backend against the NumPy backend, one test body per primitive.

Each test runs on every available backend (the `backend` fixture) and compares with the NumPy
backend on the same data: values, shapes and dtypes, to 1e-12 relative in float64 and 1e-5 in
float32. The fused kernels are also compared with the composed defaults of `backends.Backend`
run on the backend under test. Arrays come in the sizes around the Numba backend's thresholds:
SMALL, which every backend computes with plain array calls; LARGE, which reaches its compiled
kernels; HUGE, which also reaches its plain arithmetic, column sums, activation backward
masks and thread pool. And they come in the layouts the kernels treat specially (scalars, row
broadcasts, broadcast views) or leave to NumPy (0-d, size 1, non-contiguous, other axes).
"""

import warnings

import numpy as np
import pytest

import autograd as ag
import backends
from backends.base import Backend

REFERENCE = backends.get("numpy")
TOLERANCE = {"float32": 1e-5, "float64": 1e-12}
DTYPES = ["float32", "float64"]

SMALL = (3, 4)
LARGE = (16384, 64)  # 2**20 elements: from here the Numba backend's kernels run...
HUGE = (65536, 64)  # 2**22: ...and its plain arithmetic, column sums, backward masks, pool
SIZES = {"small": SMALL, "large": LARGE, "huge": HUGE}


# ------------------------------------------------------------------------------ helpers
class Draw:
    """Seeded random arrays of one dtype, placed on a backend. Two Draws with the same seed
    give the same values, so a case built on two backends sees the same data."""

    def __init__(self, b, dtype, seed=0):
        self.b = b
        self.dtype = dtype
        self.rng = np.random.default_rng(seed)

    def put(self, array):
        return self.b.from_numpy(np.ascontiguousarray(array, dtype=self.dtype))

    def signed(self, *shape):
        """Magnitudes in [0.5, 2) with random signs: safe to divide by."""
        values = self.rng.uniform(0.5, 2.0, shape) * self.rng.choice([-1.0, 1.0], shape)
        return self.put(values)

    def positive(self, *shape):
        return self.put(self.rng.uniform(0.5, 2.0, shape))

    def uniform(self, low, high, *shape):
        return self.put(self.rng.uniform(low, high, shape))

    def normal(self, *shape):
        return self.put(self.rng.standard_normal(shape))


def host(b, a):
    return np.asarray(b.to_numpy(a))


def assert_agrees(b, got, want, dtype, scale=None):
    """`got` (on backend b) equals `want` (a NumPy backend array) in shape, dtype and value.
    `scale` sets an absolute tolerance, for values that may cancel: the size of the terms
    they were computed from."""
    got = host(b, got)
    want = host(REFERENCE, want)
    assert got.shape == want.shape
    assert got.dtype == want.dtype
    tol = TOLERANCE[dtype]
    atol = 0.0 if scale is None else tol * scale
    np.testing.assert_allclose(got, want, rtol=tol, atol=atol)


def both(case, b, dtype, *args):
    """The case's arguments built on the backend under test and on the NumPy backend."""
    return case(Draw(b, dtype), *args), case(Draw(REFERENCE, dtype), *args)


# ------------------------------------------------------------------------------ binary ops
def _transposed(d, rows, cols):
    return d.b.transpose(d.signed(cols, rows), (1, 0))


def _every_other_column(d, rows, cols):
    return d.b.getitem(d.signed(rows, 2 * cols), (slice(None), slice(0, None, 2)))


BINARY_LAYOUTS = {
    "same_shape": lambda d, r, c: (d.signed(r, c), d.signed(r, c)),
    "python_scalar": lambda d, r, c: (d.signed(r, c), 0.75),
    "python_scalar_left": lambda d, r, c: (1.5, d.signed(r, c)),
    "python_int": lambda d, r, c: (d.signed(r, c), 3),
    "row": lambda d, r, c: (d.signed(r, c), d.signed(c)),
    "row_left": lambda d, r, c: (d.signed(c), d.signed(r, c)),
    "row_kept_dims": lambda d, r, c: (d.signed(r, c), d.signed(1, c)),
    "rows_of_3d": lambda d, r, c: (d.b.reshape(d.signed(2 * r, c), (2, r, c)), d.signed(c)),
    "column": lambda d, r, c: (d.signed(r, c), d.signed(r, 1)),
    "zero_d": lambda d, r, c: (d.signed(r, c), d.b.reshape(d.signed(1), ())),
    "size_one": lambda d, r, c: (d.signed(r, c), d.signed(1)),
    "broadcast_row_view": lambda d, r, c: (d.signed(r, c),
                                           d.b.broadcast_to(d.signed(c), (r, c))),
    "broadcast_scalar_view": lambda d, r, c: (d.b.broadcast_to(d.signed(1), (r, c)),
                                              d.signed(r, c)),
    "transposed": lambda d, r, c: (_transposed(d, r, c), d.signed(r, c)),
    "strided": lambda d, r, c: (_every_other_column(d, r, c), d.signed(r, c)),
    "both_0d": lambda d, r, c: (d.b.reshape(d.signed(1), ()), d.b.reshape(d.signed(1), ())),
}
BINARY_OPS = ["add", "sub", "mul", "div", "maximum", "minimum"]


# Arrays of one shape, or with a scalar, reach their kernels only when HUGE.
BINARY_CASES = [(layout, size) for layout in BINARY_LAYOUTS for size in ("small", "large")] + [
    (layout, "huge") for layout in ("same_shape", "python_scalar", "python_scalar_left",
                                    "python_int", "zero_d", "broadcast_scalar_view")]


@pytest.mark.parametrize("layout,size", BINARY_CASES)
@pytest.mark.parametrize("op", BINARY_OPS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_op(backend, dtype, op, layout, size):
    b = backends.current()
    (x, y), (x_ref, y_ref) = both(BINARY_LAYOUTS[layout], b, dtype, *SIZES[size])
    assert_agrees(b, getattr(b, op)(x, y), getattr(REFERENCE, op)(x_ref, y_ref), dtype)


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_minimum_propagate_nan(backend, op):
    b = backends.current()
    x = np.ones(HUGE[0] * HUGE[1])
    x[[5, -7]] = np.nan
    y = np.zeros_like(x)
    y[100] = np.nan
    got = host(b, getattr(b, op)(b.from_numpy(x), b.from_numpy(y)))
    assert np.array_equal(np.isnan(got), np.isnan(x) | np.isnan(y))


def test_binary_op_promotes_mixed_dtypes_as_numpy(backend):
    b = backends.current()
    x = Draw(b, "float32").signed(*LARGE)
    y = Draw(b, "float64", seed=1).signed(*LARGE)
    want = REFERENCE.mul(host(b, x), host(b, y))
    assert_agrees(b, b.mul(x, y), want, "float64")


# ------------------------------------------------------------------------------ unary ops
UNARY_OPS = {
    "neg": "signed", "abs": "signed", "exp": "signed", "log": "positive",
    "log1p": "positive", "sqrt": "positive", "sin": "signed", "cos": "signed",
    "tanh": "signed", "sigmoid": "signed", "relu": "signed", "erf": "signed",
}
UNARY_LAYOUTS = {
    "small": lambda d, kind: getattr(d, kind)(*SMALL),
    "large": lambda d, kind: getattr(d, kind)(*LARGE),
    "large_transposed": lambda d, kind: d.b.transpose(getattr(d, kind)(*LARGE[::-1]), (1, 0)),
    "huge": lambda d, kind: getattr(d, kind)(*HUGE),
    "zero_d": lambda d, kind: d.b.reshape(getattr(d, kind)(1), ()),
}


@pytest.mark.parametrize("layout", UNARY_LAYOUTS)
@pytest.mark.parametrize("op", UNARY_OPS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_op(backend, dtype, op, layout):
    b = backends.current()
    x, x_ref = both(UNARY_LAYOUTS[layout], b, dtype, UNARY_OPS[op])
    assert_agrees(b, getattr(b, op)(x), getattr(REFERENCE, op)(x_ref), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", ["small", "large"])
def test_sigmoid_is_exact_and_silent_at_extremes(backend, dtype, size):
    b = backends.current()
    n = SIZES[size][0] * SIZES[size][1]
    x = np.resize(np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0]), n).astype(dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise",
                                                divide="raise"):
        warnings.simplefilter("error")
        got = host(b, b.sigmoid(b.from_numpy(x)))
    assert np.all(got[x == -1000.0] == 0.0)
    assert np.all(got[x == 1000.0] == 1.0)
    assert np.all(got[x == 0.0] == 0.5)
    assert np.all(np.isfinite(got))


# ------------------------------------------------------------------------------ where
WHERE_LAYOUTS = {
    "arrays": lambda d, r, c: (d.b.gt(d.signed(r, c), 0), d.signed(r, c), d.signed(r, c)),
    "scalar_right": lambda d, r, c: (d.b.gt(d.signed(r, c), 0), d.signed(r, c), 0.0),
    "scalar_left": lambda d, r, c: (d.b.gt(d.signed(r, c), 0), 2.5, d.signed(r, c)),
    "both_scalars": lambda d, r, c: (d.b.gt(d.signed(r, c), 0), 1.0, 0.0),
    "row_condition": lambda d, r, c: (d.b.gt(d.signed(c), 0), d.signed(r, c), d.signed(r, c)),
    "transposed": lambda d, r, c: (d.b.gt(d.signed(r, c), 0), _transposed(d, r, c),
                                   d.signed(r, c)),
}


@pytest.mark.parametrize("size", ["small", "large"])
@pytest.mark.parametrize("layout", WHERE_LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_where(backend, dtype, layout, size):
    b = backends.current()
    args, args_ref = both(WHERE_LAYOUTS[layout], b, dtype, *SIZES[size])
    assert_agrees(b, b.where(*args), REFERENCE.where(*args_ref), dtype)


# ------------------------------------------------------------------------------ reductions
REDUCTION_CASES = {
    "all": (LARGE, None, False),
    "all_kept": (LARGE, None, True),
    "first_axis": (HUGE, 0, False),
    "first_axis_tuple_kept": (HUGE, (0,), True),
    "last_axis": (LARGE, 1, False),
    "last_axis_negative_kept": (LARGE, -1, True),
    "both_axes": (LARGE, (0, 1), False),
    "leading_axes_3d": ((1024, 64, 64), (0, 1), False),
    "trailing_axes_3d": ((256, 64, 64), (1, 2), True),
    "middle_axis_3d": ((256, 64, 64), 1, False),
    "outer_axes_3d": ((256, 64, 64), (0, 2), False),
    "wide_rows": ((512, 2048), 1, False),
    "one_d": ((LARGE[0] * LARGE[1],), 0, False),
    "small": ((3, 4), 1, False),
    "zero_d": ((), None, False),
}


@pytest.mark.parametrize("case", REDUCTION_CASES)
@pytest.mark.parametrize("op", ["sum", "max", "min"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_reduction(backend, dtype, op, case):
    b = backends.current()
    shape, axis, keepdims = REDUCTION_CASES[case]
    x, x_ref = both(lambda d: d.positive(*shape), b, dtype)
    got = getattr(b, op)(x, axis, keepdims)
    assert_agrees(b, got, getattr(REFERENCE, op)(x_ref, axis, keepdims), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_sum_of_mixed_signs_agrees_to_the_scale_of_its_terms(backend, dtype, axis):
    b = backends.current()
    x, x_ref = both(lambda d: d.normal(*LARGE), b, dtype)
    scale = np.abs(host(REFERENCE, x_ref)).sum(axis=axis).max()
    assert_agrees(b, b.sum(x, axis), REFERENCE.sum(x_ref, axis), dtype, scale=scale)


@pytest.mark.parametrize("op", ["sum", "max", "min"])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_reduction_propagates_nan(backend, op, axis):
    b = backends.current()
    x = np.ones(LARGE)
    x[7, 3] = np.nan
    got = host(b, getattr(b, op)(b.from_numpy(x), axis))
    want = getattr(np, op)(x, axis=axis)
    assert np.array_equal(np.isnan(got), np.isnan(want))


# ------------------------------------------------------------------------------ fused kernels
def _with_minus_inf(d, rows, cols):
    """Rows of logits with some -inf entries, and row 1 all -inf."""
    x = d.b.to_numpy(d.normal(rows, cols)) * 3
    x[0, ::3] = -np.inf
    x[1, :] = -np.inf
    return d.put(x)


ROW_KERNEL_CASES = {
    "last_axis_small": (lambda d: d.normal(*SMALL), 1),
    "last_axis_large": (lambda d: d.normal(*LARGE), 1),
    "last_axis_negative": (lambda d: d.normal(*LARGE), -1),
    "last_axis_3d": (lambda d: d.b.reshape(d.normal(*LARGE), (2, LARGE[0] // 2, -1)), 2),
    "first_axis": (lambda d: d.normal(*LARGE), 0),
    "transposed": (lambda d: d.b.transpose(d.normal(*LARGE[::-1]), (1, 0)), 1),
    "large_logits": (lambda d: d.uniform(-1000, 1000, *LARGE), 1),
    "minus_inf": (lambda d: _with_minus_inf(d, *LARGE), 1),
}


# The NumPy code warns where an all -inf row meets -inf - -inf; that row's nan is expected.
SILENCE_MINUS_INF = pytest.mark.filterwarnings(
    "ignore:(invalid value|divide by zero) encountered:RuntimeWarning")


@pytest.mark.parametrize("case", ROW_KERNEL_CASES)
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", DTYPES)
@SILENCE_MINUS_INF
def test_softmax_kernels(backend, dtype, op, case):
    b = backends.current()
    make, axis = ROW_KERNEL_CASES[case]
    x, x_ref = both(make, b, dtype)
    got = getattr(b, op)(x, axis)  # an all -inf row gives nan everywhere, and equal nans agree
    # Log-probabilities near 0 are differences of numbers near log(row sum): they agree in
    # absolute terms, to the precision of that log.
    scale = 1.0 if op == "log_softmax" else None
    assert_agrees(b, got, getattr(REFERENCE, op)(x_ref, axis), dtype, scale=scale)
    composed = getattr(Backend, op)(b, x, axis)
    assert_agrees(b, got, host(b, composed), dtype, scale=scale)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("case", ROW_KERNEL_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@SILENCE_MINUS_INF
def test_logsumexp_kernel(backend, dtype, case, keepdims):
    b = backends.current()
    make, axis = ROW_KERNEL_CASES[case]
    x, x_ref = both(make, b, dtype)
    got = b.logsumexp(x, (axis,), keepdims)
    assert_agrees(b, got, REFERENCE.logsumexp(x_ref, (axis,), keepdims), dtype, scale=1.0)
    composed = Backend.logsumexp(b, x, (axis,), keepdims)
    assert_agrees(b, got, host(b, composed), dtype, scale=1.0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp_over_all_axes(backend, dtype):
    b = backends.current()
    x, x_ref = both(lambda d: d.normal(*LARGE), b, dtype)
    assert_agrees(b, b.logsumexp(x, None, False), REFERENCE.logsumexp(x_ref, None, False),
                  dtype)


ACTIVATIONS = {
    "relu": lambda rng, shape: np.maximum(rng.standard_normal(shape), 0.0),
    "tanh": lambda rng, shape: np.tanh(rng.uniform(-2.0, 2.0, shape)),
    "sigmoid": lambda rng, shape: 1.0 / (1.0 + np.exp(-rng.uniform(-4.0, 4.0, shape))),
}


def _mask_inputs(d, kind, layout):
    """(grad, y) for an activation's backward mask, y drawn from the activation's range."""
    shape = {"small": SMALL, "huge": HUGE}.get(layout, LARGE)
    y = d.put(ACTIVATIONS[kind](d.rng, shape))
    if layout == "broadcast_grad":
        return d.b.broadcast_to(d.normal(1), shape), y
    if layout == "transposed_grad":
        return d.b.transpose(d.normal(*shape[::-1]), (1, 0)), y
    return d.normal(*shape), y


@pytest.mark.parametrize("layout", ["small", "large", "huge", "broadcast_grad",
                                    "transposed_grad"])
@pytest.mark.parametrize("kind", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_backward_masks(backend, dtype, kind, layout):
    b = backends.current()
    op = f"{kind}_backward"
    (grad, y), (grad_ref, y_ref) = both(_mask_inputs, b, dtype, kind, layout)
    got = getattr(b, op)(grad, y)
    assert_agrees(b, got, getattr(REFERENCE, op)(grad_ref, y_ref), dtype)
    assert_agrees(b, got, host(b, getattr(Backend, op)(b, grad, y)), dtype, scale=1.0)


# ------------------------------------------------------------------------------ optimisers
# Each row: the update, the names of its state buffers (they start at zero, as in an
# optimiser) and its hyperparameters, all passed by keyword.
OPTIMISER_CASES = {
    "sgd": ("sgd_step_", ["buf"], dict(lr=0.1, momentum=0.0, dampening=0.0, nesterov=False,
                                       weight_decay=0.0)),
    "sgd_momentum_decay": ("sgd_step_", ["buf"], dict(lr=0.1, momentum=0.9, dampening=0.1,
                                                      nesterov=False, weight_decay=0.01)),
    "sgd_nesterov": ("sgd_step_", ["buf"], dict(lr=0.05, momentum=0.8, dampening=0.0,
                                                nesterov=True, weight_decay=0.0)),
    "adam": ("adam_step_", ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
             dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False,
                  decoupled_weight_decay=False)),
    "adam_l2_amsgrad": ("adam_step_", ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
                        dict(lr=1e-2, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.1,
                             amsgrad=True, decoupled_weight_decay=False)),
    "adamw": ("adam_step_", ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
              dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.05,
                   amsgrad=False, decoupled_weight_decay=True)),
    "rmsprop": ("rmsprop_step_", ["square_avg", "grad_avg", "buf"],
                dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                     centered=False)),
    "rmsprop_centered_momentum": ("rmsprop_step_", ["square_avg", "grad_avg", "buf"],
                                  dict(lr=1e-2, alpha=0.9, eps=1e-8, weight_decay=0.01,
                                       momentum=0.5, centered=True)),
    "adagrad": ("adagrad_step_", ["state_sum"], dict(lr=0.1, lr_decay=0.01,
                                                     weight_decay=0.01, eps=1e-10)),
}


def _step_argument(name, step):
    """SGD is told whether this is its first step, Adam and Adagrad count steps from 1,
    RMSprop needs neither."""
    if name == "sgd_step_":
        return {"first_step": step == 1}
    if name == "rmsprop_step_":
        return {}
    return {"step": step}


@pytest.mark.parametrize("size", ["small", "large"])
@pytest.mark.parametrize("case", OPTIMISER_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_optimiser_update(backend, dtype, case, size):
    b = backends.current()
    name, state_names, hyper = OPTIMISER_CASES[case]
    shape = SIZES[size]

    def arrays(d):
        return [d.normal(*shape), d.normal(*shape)] + [d.put(np.zeros(shape))
                                                       for _ in state_names]

    def update(method, arrays, step):
        param, grad, *state = arrays
        method(param=param, grad=grad, **dict(zip(state_names, state)), **hyper,
               **_step_argument(name, step))

    fused, reference = both(arrays, b, dtype)
    composed = [b.copy(a) for a in fused]
    for step in (1, 2, 3):
        update(getattr(b, name), fused, step)
        update(getattr(REFERENCE, name), reference, step)
        update(lambda **args: getattr(Backend, name)(b, **args), composed, step)
        for got, want, default in zip(fused, reference, composed):
            assert_agrees(b, got, want, dtype, scale=1.0)
            assert_agrees(b, got, host(b, default), dtype, scale=1.0)


# ------------------------------------------------------------------------------ matrix products
# Plain and stacked products, the stacks with either side broadcast along the batch: small
# ones, and ones past the Numba backend's STACK_MIN_WORK (a convolution's products, with
# the weight shared by every sample), which it splits over its threads by the first axis.
MATMUL_SHAPES = {
    "plain": ((5, 7), (7, 3)),
    "small_stack": ((4, 5, 7), (4, 7, 3)),
    "matrix_times_stack": ((5, 7), (3, 7, 2)),
    "conv_forward": ((1, 16, 27), (64, 1, 27, 1024)),
    "conv_input_gradient": ((1, 27, 16), (64, 1, 16, 1024)),
    "stack_times_shared": ((96, 2, 64, 48), (1, 48, 40)),
    "stack_times_matrix": ((40, 128, 32), (32, 64)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", list(MATMUL_SHAPES.values()), ids=list(MATMUL_SHAPES))
def test_matmul(backend, dtype, shapes):
    b = backends.current()
    a, a_ref = both(lambda d: d.signed(*shapes[0]), b, dtype)
    c, c_ref = both(lambda d: d.signed(*shapes[1]), b, dtype)
    assert_agrees(b, b.matmul(a, c), REFERENCE.matmul(a_ref, c_ref), dtype, scale=1.0)


MATMUL_ADD_CASES = {
    "rows": ((5, 7), (7, 3), (3,)),
    "conv_bias": ((1, 16, 27), (64, 1, 27, 1024), (1, 16, 1)),
    "stack_bias": ((96, 2, 64, 48), (1, 48, 40), (96, 1, 1, 40)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", list(MATMUL_ADD_CASES.values()), ids=list(MATMUL_ADD_CASES))
def test_matmul_add_matches_product_plus_bias(backend, dtype, shapes):
    b = backends.current()
    (a, c, bias), refs = zip(*(both(lambda d, s=s: d.signed(*s), b, dtype) for s in shapes))
    want = REFERENCE.add(REFERENCE.matmul(refs[0], refs[1]), refs[2])
    assert_agrees(b, b.matmul_add(a, c, bias), want, dtype, scale=1.0)
    assert_agrees(b, b.matmul_add(a, c, bias), Backend.matmul_add(b, a, c, bias), dtype,
                  scale=1.0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", [((64, 1, 16, 1024), (64, 1, 27, 1024)),
                                    ((64, 5, 1024), (64, 7, 1024))],
                         ids=["conv_weight_gradient", "uneven"])
def test_matmul_with_a_transposed_stack(backend, dtype, shapes):
    """A stack times a stack with its last two axes swapped (a view, as a gradient's
    `swapaxes` makes): the Numba backend's row-products kernel, whose blocks of four rows
    by four do not divide 5 or 7 or 27."""
    b = backends.current()
    a, a_ref = both(lambda d: d.signed(*shapes[0]), b, dtype)
    rows, rows_ref = both(lambda d: d.signed(*shapes[1]), b, dtype)
    axes = tuple(range(len(shapes[1]) - 2)) + (-1, -2)
    got = b.matmul(a, b.transpose(rows, axes))
    want = REFERENCE.matmul(a_ref, REFERENCE.transpose(rows_ref, axes))
    # Each entry sums a row's length of terms of about 1 that cancel, in either order.
    assert_agrees(b, got, want, dtype, scale=shapes[0][-1])


# ------------------------------------------------------------------------------ decompositions
# Stacks of small matrices, built on the NumPy side so every backend sees the same ones.
# Factors that are unique (inverse, solve, determinants, Cholesky, eigenvalues, singular
# values) must match NumPy's; factors defined up to signs (Q, eigenvectors, singular
# vectors) must rebuild the input and be orthonormal, whatever signs the library picks.
LINALG_TOLERANCE = {"float32": 1e-4, "float64": 1e-10}


def _stack(dtype, *shape, spd=False):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape)
    n = shape[-1]
    if spd:
        a = a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
    elif shape[-2] == n:
        a = a + n * np.eye(n)
    return a.astype(dtype)


def _close(b, got, want, dtype):
    np.testing.assert_allclose(host(b, got), want, rtol=LINALG_TOLERANCE[dtype],
                               atol=LINALG_TOLERANCE[dtype])


def _orthonormal_columns(b, q, dtype):
    q = host(b, q)
    eye = np.broadcast_to(np.eye(q.shape[-1]), q.shape[:-2] + (q.shape[-1],) * 2)
    np.testing.assert_allclose(np.swapaxes(q, -1, -2) @ q, eye, atol=LINALG_TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_inverse_solve_and_determinants(backend, dtype, shape):
    b = backends.current()
    a = _stack(dtype, *shape)
    rhs = np.random.default_rng(1).standard_normal(shape[:-1] + (2,)).astype(dtype)
    _close(b, b.inv(b.from_numpy(a)), np.linalg.inv(a), dtype)
    _close(b, b.solve(b.from_numpy(a), b.from_numpy(rhs)), np.linalg.solve(a, rhs), dtype)
    # a single matrix against a batch of right-hand sides: the batch axes broadcast
    batch = np.stack([rhs] * 2)
    _close(b, b.solve(b.from_numpy(a), b.from_numpy(batch)), np.linalg.solve(a, batch), dtype)
    det = b.det(b.from_numpy(a))
    assert b.is_native(det) and det.shape == shape[:-2]
    np.testing.assert_allclose(host(b, det), np.linalg.det(a), rtol=LINALG_TOLERANCE[dtype])
    sign, logabsdet = b.slogdet(b.from_numpy(a))
    want_sign, want_log = np.linalg.slogdet(a)
    _close(b, sign, want_sign, dtype)
    _close(b, logabsdet, want_log, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cholesky_and_eigh(backend, dtype):
    b = backends.current()
    a = _stack(dtype, 2, 3, 3, spd=True)
    lower = b.cholesky(b.from_numpy(a))
    _close(b, lower, np.linalg.cholesky(a), dtype)
    w, v = b.eigh(b.from_numpy(a))
    _close(b, w, np.linalg.eigvalsh(a), dtype)
    _orthonormal_columns(b, v, dtype)
    v, w = host(b, v), host(b, w)
    rebuilt = (v * w[..., None, :]) @ np.swapaxes(v, -1, -2)
    np.testing.assert_allclose(rebuilt, a, rtol=LINALG_TOLERANCE[dtype] * 10,
                               atol=LINALG_TOLERANCE[dtype] * 10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 3, 3)])
def test_qr_and_svd(backend, dtype, shape):
    b = backends.current()
    a = _stack(dtype, *shape)
    k = min(shape[-2:])
    for mode, columns in (("reduced", k), ("complete", shape[-2])):
        q, r = b.qr(b.from_numpy(a), mode)
        assert q.shape == shape[:-2] + (shape[-2], columns)
        assert r.shape == shape[:-2] + (columns, shape[-1])
        _orthonormal_columns(b, q, dtype)
        r = host(b, r)
        np.testing.assert_array_equal(np.tril(r, -1), 0)
        _close(b, b.matmul(q, b.from_numpy(r)), a, dtype)
    for full in (False, True):
        u, s, vh = b.svd(b.from_numpy(a), full)
        _close(b, s, np.linalg.svd(a, compute_uv=False), dtype)
        _orthonormal_columns(b, u, dtype)
        _orthonormal_columns(b, b.transpose(vh, tuple(range(len(shape) - 2)) + (-1, -2)), dtype)
        u, s, vh = host(b, u), host(b, s), host(b, vh)
        np.testing.assert_allclose((u[..., :k] * s[..., None, :]) @ vh[..., :k, :], a,
                                   rtol=LINALG_TOLERANCE[dtype], atol=LINALG_TOLERANCE[dtype])


def test_singular_and_indefinite_matrices_raise_value_error(backend):
    b = backends.current()
    singular = b.from_numpy(np.array([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(ValueError, match="singular"):
        b.inv(singular)
    with pytest.raises(ValueError, match="singular"):
        b.solve(singular, b.from_numpy(np.ones((2, 1))))
    with pytest.raises(ValueError, match="positive-definite"):
        b.cholesky(b.from_numpy(np.array([[1.0, 2.0], [2.0, 1.0]])))
    assert float(host(b, b.det(singular))) == 0.0
    sign, logabsdet = b.slogdet(singular)
    assert float(host(b, sign)) == 0.0 and float(host(b, logabsdet)) == -np.inf


# ------------------------------------------------------------------------------ gradients
GRADIENT_CASES = {
    "tanh_sigmoid_square": lambda x, w: (x.tanh() * x.sigmoid() + x * x).sum(),
    "bias_broadcast": lambda x, w: ((x + w) * x - w / 2.0).sum(),
    "relu_where": lambda x, w: (x.relu() * w + ag.where(x > 0, x * 2.0, x * x)).sum(),
    "softmax": lambda x, w: (x.softmax(-1) * w).sum(),
    "log_softmax": lambda x, w: (x.log_softmax(-1) * w).sum(),
    "logsumexp": lambda x, w: x.logsumexp(axis=1).sum() + (x * w).mean(),
    "mean_var": lambda x, w: x.var(axis=0).sum() + (x.mean(axis=1) * 3.0).sum(),
    "max_min": lambda x, w: x.max(axis=1).sum() + x.min(axis=0).sum() + x.max(),
    "divide_exp_log": lambda x, w: (x / (x * x + 1.0) + (x.exp() + 1.0).log() * w).sum(),
    "maximum_minimum": lambda x, w: (ag.maximum(x, w) - ag.minimum(x, w * 0.5)).sum(),
}


# Every case small and large; the first also HUGE, where its arithmetic reaches the kernels.
GRADIENT_SIZES = [(case, size) for case in GRADIENT_CASES for size in ("small", "large")] + [
    ("tanh_sigmoid_square", "huge")]


@pytest.mark.parametrize("case,size", GRADIENT_SIZES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_and_gradients_match_numpy(backend, dtype, case, size):
    fn = GRADIENT_CASES[case]
    rows, cols = SIZES[size]
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((rows, cols))
    w0 = rng.standard_normal(cols)
    results = {}
    for name in (backend, "numpy"):
        x = ag.tensor(x0, dtype=dtype, requires_grad=True, backend=name)
        w = ag.tensor(w0, dtype=dtype, requires_grad=True, backend=name)
        loss = fn(x, w)
        loss.backward()
        assert x.grad.backend.name == name and x.grad.dtype == dtype
        results[name] = (loss.numpy(), x.grad.numpy(),
                         None if w.grad is None else w.grad.numpy())
    # The loss sums rows * cols terms of order one, so it agrees to that scale; each
    # gradient agrees to the scale of its largest entry.
    tol = TOLERANCE[dtype]
    loss, *grads = results[backend]
    want_loss, *want_grads = results["numpy"]
    np.testing.assert_allclose(loss, want_loss, rtol=tol, atol=tol * rows * cols)
    for got, want in zip(grads, want_grads):
        if want is None:
            assert got is None
            continue
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * max(1.0, np.abs(want).max()))


# ------------------------------------------------------------------------------ crossing
def test_to_moves_data_between_backends_and_the_gradient_back(backend):
    data = np.arange(12.0).reshape(3, 4)
    x = ag.tensor(data, requires_grad=True, backend="numpy")
    y = x.to(backend)
    assert y.backend.name == backend
    loss = (y * y).sum().to("numpy")
    loss.backward()
    assert x.grad.backend.name == "numpy"
    np.testing.assert_allclose(x.grad.numpy(), 2 * data)
    np.testing.assert_allclose(y.numpy(), data)


def test_mixing_backends_raises_naming_both(backend):
    other = "numba" if backend == "numpy" else "numpy"
    state = backends.available().get(other)
    if state is not True:
        pytest.skip(f"{other}: {state}")
    a = ag.ones(3, backend=backend)
    b = ag.ones(3, backend=other)
    with pytest.raises(TypeError) as error:
        a + b
    message = str(error.value)
    assert repr(backend) in message and repr(other) in message and ".to(" in message


def test_numpy_array_operand(backend):
    """CPU backends take a NumPy array as a constant; a GPU backend refuses to move it."""
    t = ag.tensor([1.0, 2.0], backend=backend)
    array = np.array([10.0, 20.0], dtype=np.float32)
    if backends.current().device.startswith("cuda"):
        with pytest.raises(TypeError, match=r'ag\.tensor\(array, backend=.cupy.\)'):
            t + array
    else:
        np.testing.assert_allclose((t + array).numpy(), [11.0, 22.0])
