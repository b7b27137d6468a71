"""The op table: every op checked forward against NumPy, backward by finite differences
(with a random upstream gradient) and, where it is smooth, twice differentiated.

Each row names an op, a NumPy reference and how to draw its inputs; one test body per check
runs every row on every available backend.
"""

import itertools
import math

import numpy as np
import numpy_layer_reference as ref
import pytest

import autograd as ag

SHAPES = [(), (3,), (2, 3), (1, 3)]
PAIRS = list(itertools.product(SHAPES, SHAPES))

np_erf = np.vectorize(math.erf, otypes=[np.float64])


def positive(rng, shape):
    return rng.uniform(0.5, 2.0, size=shape)


def anywhere(rng, shape):
    return rng.uniform(-2.0, 2.0, size=shape)


def away_from_zero(rng, shape):
    """Values whose magnitude is at least 0.3, so kinks at 0 are far from finite steps."""
    return rng.uniform(0.3, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


class Row:
    def __init__(self, name, fn, reference, shapes, draw=anywhere, twice=True, once=True):
        self.name, self.fn, self.reference = name, fn, reference
        self.shapes, self.draw, self.twice = shapes, draw, twice
        self.once = once  # False: finite differences cannot see it (a float32 round trip)

    def inputs(self, shapes, seed=0):
        rng = np.random.default_rng(seed)
        draws = self.draw if isinstance(self.draw, (list, tuple)) else [self.draw] * len(shapes)
        return [d(rng, s) for d, s in zip(draws, shapes)]


def unary(name, fn, reference, draw=anywhere, twice=True):
    return Row(name, fn, reference, [(s,) for s in SHAPES], draw, twice)


def binary(name, fn, reference, draw=anywhere, twice=True):
    return Row(name, fn, reference, PAIRS, draw, twice)


def sigmoid_np(x):
    return 1 / (1 + np.exp(-x))


def softmax_np(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def logsumexp_np(x, axis=None, keepdims=False):
    m = x.max(axis=axis, keepdims=True)
    out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


MASK = np.array([True, False, True])
LABELS = np.array([0, 3, 1])
INDEX = np.array([0, 2, 0, 1])

ROWS = [
    # elementwise, unary
    unary("neg", lambda x: -x, lambda x: -x),
    unary("exp", lambda x: x.exp(), np.exp),
    unary("log", lambda x: x.log(), np.log, positive),
    unary("log1p", lambda x: x.log1p(), np.log1p, positive),
    unary("sqrt", lambda x: x.sqrt(), np.sqrt, positive),
    unary("sin", lambda x: x.sin(), np.sin),
    unary("cos", lambda x: x.cos(), np.cos),
    unary("tanh", lambda x: x.tanh(), np.tanh),
    unary("sigmoid", lambda x: x.sigmoid(), sigmoid_np),
    unary("relu", lambda x: x.relu(), lambda x: np.maximum(x, 0), away_from_zero),
    unary("abs", lambda x: x.abs(), np.abs, away_from_zero),
    unary("abs-builtin", lambda x: abs(x), np.abs, away_from_zero),
    unary("erf", lambda x: x.erf(), np_erf),
    unary("clip", lambda x: x.clip(-0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7),
          lambda rng, s: rng.choice([-1.5, -0.2, 0.1, 0.4, 1.2], size=s)),
    unary("clip-min", lambda x: ag.clip(x, min=0.1), lambda x: np.maximum(x, 0.1),
          away_from_zero),
    unary("pow-scalar", lambda x: x ** 3, lambda x: x ** 3),
    unary("pow-fraction", lambda x: x ** 0.5, np.sqrt, positive),
    unary("rpow", lambda x: 2.0 ** x, lambda x: 2.0 ** x),
    unary("radd", lambda x: 1.5 + x, lambda x: 1.5 + x),
    unary("rsub", lambda x: 1.5 - x, lambda x: 1.5 - x),
    unary("rmul", lambda x: 1.5 * x, lambda x: 1.5 * x),
    unary("rdiv", lambda x: 1.5 / x, lambda x: 1.5 / x, away_from_zero),
    # elementwise, binary (every pair of shapes broadcasts)
    binary("add", lambda a, b: a + b, np.add),
    binary("sub", lambda a, b: a - b, np.subtract),
    binary("mul", lambda a, b: a * b, np.multiply),
    binary("div", lambda a, b: a / b, np.divide, [anywhere, away_from_zero]),
    binary("pow", lambda a, b: a ** b, np.power, [positive, anywhere]),
    binary("maximum", ag.maximum, np.maximum),
    binary("minimum", ag.minimum, np.minimum),
    binary("where", lambda a, b: ag.where(a > 0, a, b), lambda a, b: np.where(a > 0, a, b),
           [away_from_zero, anywhere]),
    # reductions
    unary("sum", lambda x: x.sum(), np.sum),
    Row("sum-axis", lambda x: x.sum(axis=0), lambda x: x.sum(axis=0), [((2, 3),), ((3,),)]),
    Row("sum-keepdims", lambda x: ag.sum(x, axis=-1, keepdims=True),
        lambda x: x.sum(axis=-1, keepdims=True), [((2, 3),), ((1, 3),)]),
    Row("sum-tuple", lambda x: x.sum(axis=(0, 2)), lambda x: x.sum(axis=(0, 2)),
        [((2, 3, 2),)]),
    unary("mean", lambda x: x.mean(), np.mean),
    Row("mean-axis", lambda x: x.mean(axis=1, keepdims=True),
        lambda x: x.mean(axis=1, keepdims=True), [((2, 3),), ((1, 3),)]),
    unary("max", lambda x: x.max(), np.max),
    Row("max-axis", lambda x: x.max(axis=0), lambda x: x.max(axis=0), [((2, 3),), ((1, 3),)]),
    unary("min", lambda x: x.min(), np.min),
    Row("min-axis", lambda x: ag.min(x, axis=-1, keepdims=True),
        lambda x: x.min(axis=-1, keepdims=True), [((2, 3),), ((3,),)]),
    Row("var", lambda x: x.var(), np.var, [((3,),), ((2, 3),)]),
    Row("var-axis-ddof", lambda x: x.var(axis=1, ddof=1), lambda x: x.var(axis=1, ddof=1),
        [((2, 3),)]),
    Row("std", lambda x: x.std(axis=0, keepdims=True), lambda x: x.std(axis=0, keepdims=True),
        [((2, 3),)]),
    unary("logsumexp", lambda x: x.logsumexp(), logsumexp_np),
    Row("logsumexp-axis", lambda x: ag.logsumexp(x, axis=1),
        lambda x: logsumexp_np(x, axis=1), [((2, 3),), ((1, 3),)]),
    Row("softmax", lambda x: x.softmax(), lambda x: softmax_np(x, -1),
        [((3,),), ((2, 3),), ((1, 3),)]),
    Row("softmax-axis0", lambda x: ag.softmax(x, axis=0), lambda x: softmax_np(x, 0),
        [((2, 3),)]),
    Row("log_softmax", lambda x: x.log_softmax(), lambda x: np.log(softmax_np(x, -1)),
        [((3,),), ((2, 3),), ((1, 3),)]),
    Row("log_softmax-axis0", lambda x: ag.log_softmax(x, axis=0),
        lambda x: np.log(softmax_np(x, 0)), [((2, 3),)]),
    # linear algebra
    Row("matmul", lambda a, b: a @ b, np.matmul,
        [((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 3), (3,)), ((3,), (3,)),
         ((2, 2, 3), (3, 4)), ((2, 3), (2, 3, 4)), ((1, 2, 3), (2, 3, 2))]),
    Row("matmul-function", ag.matmul, np.matmul, [((2, 3), (3, 2))]),
    Row("linear", ag.linear, lambda x, w, b: x @ w.T + b,
        [((4, 3), (2, 3), (2,)), ((3,), (2, 3), (2,)), ((2, 4, 3), (2, 3), (2,))]),
    Row("linear-no-bias", lambda x, w: ag.linear(x, w), lambda x, w: x @ w.T,
        [((4, 3), (2, 3))]),
    # shape
    Row("reshape", lambda x: x.reshape(3, 2), lambda x: x.reshape(3, 2), [((2, 3),)]),
    Row("reshape-tuple", lambda x: ag.reshape(x, (-1,)), lambda x: x.reshape(-1),
        [((2, 3),), ((),)]),
    Row("transpose", lambda x: x.transpose(), lambda x: x.T, [((2, 3),), ((3,),), ((),)]),
    Row("transpose-axes", lambda x: x.transpose(1, 2, 0), lambda x: x.transpose(1, 2, 0),
        [((2, 3, 2),)]),
    Row("T", lambda x: x.T, lambda x: x.T, [((2, 3),)]),
    Row("swapaxes", lambda x: x.swapaxes(0, -1), lambda x: x.swapaxes(0, -1), [((2, 3, 2),)]),
    Row("squeeze", lambda x: x.squeeze(), np.squeeze, [((1, 3),), ((2, 1, 3),)]),
    Row("squeeze-axis", lambda x: x.squeeze(0), lambda x: x.squeeze(0), [((1, 3),)]),
    Row("unsqueeze", lambda x: x.unsqueeze(1), lambda x: np.expand_dims(x, 1),
        [((2, 3),), ((3,),)]),
    Row("flatten", lambda x: x.flatten(1), lambda x: x.reshape(x.shape[0], -1),
        [((2, 3, 2),)]),
    Row("broadcast_to", lambda x: x.broadcast_to(2, 2, 3),
        lambda x: np.broadcast_to(x, (2, 2, 3)), [((3,),), ((1, 3),), ((),)]),
    Row("concat", lambda a, b: ag.concat([a, b], axis=1),
        lambda a, b: np.concatenate([a, b], axis=1), [((2, 3), (2, 1))]),
    Row("stack", lambda a, b: ag.stack([a, b], axis=1), lambda a, b: np.stack([a, b], axis=1),
        [((2, 3), (2, 3)), ((3,), (3,))]),
    Row("stack-0d", lambda a, b: ag.stack([a, b]), lambda a, b: np.stack([a, b]), [((), ())]),
    # indexing: the gradient scatters back, repeated indices accumulate
    Row("index-int", lambda x: x[1], lambda x: x[1], [((2, 3),)]),
    Row("index-slice", lambda x: x[:, 1:], lambda x: x[:, 1:], [((2, 3),)]),
    Row("index-step", lambda x: x[::-2], lambda x: x[::-2], [((3,),)]),
    Row("index-none-ellipsis", lambda x: x[None, ..., 0], lambda x: x[None, ..., 0],
        [((2, 3),)]),
    Row("index-array", lambda x: x[INDEX], lambda x: x[INDEX], [((3,),), ((3, 2),)]),
    Row("index-array-tensor", lambda x: x[:, ag.tensor(INDEX[:3])], lambda x: x[:, INDEX[:3]],
        [((2, 3),)]),
    Row("index-mask", lambda x: x[MASK], lambda x: x[MASK], [((3,),), ((3, 2),)]),
    Row("index-mask-tensor", lambda x: x[ag.tensor(MASK)], lambda x: x[MASK], [((3, 2),)]),
    # moving between backends and dtypes; cross-entropy against class indices as one op
    Row("to-another-backend",
        lambda x: x.to("numba" if x.backend.name == "numpy" else "numpy").to(x.backend),
        lambda x: x, [((2, 3),), ((),)]),
    Row("astype-and-back", lambda x: (x.astype("float32") * 2).astype("float64"),
        lambda x: (x.astype(np.float32) * 2).astype(np.float64), [((3,),)], twice=False,
        once=False),
    Row("class_cross_entropy", lambda x: ag.class_cross_entropy(x, ag.tensor(LABELS,
                                                                             backend=x.backend)),
        lambda x: -np.mean(np.log(softmax_np(x, -1))[np.arange(len(LABELS)), LABELS]),
        [((3, 4),)]),
]


# The layer ops (autograd/layer_ops.py), against the loop-by-loop references of
# numpy_layer_reference; tiny images, so every backend's check stays fast.
EMBEDDING_INDEX = np.array([[0, 2], [4, 2]])

ROWS += [
    Row("conv2d", lambda x, w, b: ag.conv2d(x, w, b, stride=(2, 1), padding=1,
                                            dilation=(1, 2), groups=2),
        lambda x, w, b: ref.conv2d(x, w, b, (2, 1), (1, 1), (1, 2), 2),
        [((2, 4, 5, 4), (6, 2, 3, 2), (6,))]),
    Row("conv2d-plain", ag.conv2d, ref.conv2d, [((1, 2, 4, 4), (3, 2, 3, 3))]),
    Row("conv2d-same-unbatched", lambda x, w: ag.conv2d(x, w, padding="same"),
        lambda x, w: ref.conv2d(np.pad(x[None], ((0, 0), (0, 0), (0, 1), (0, 1))), w)[0],
        [((2, 3, 3), (1, 2, 2, 2))]),
    Row("conv1d", lambda x, w, b: ag.conv1d(x, w, b, stride=2, padding=1, dilation=2),
        lambda x, w, b: ref.conv1d(x, w, b, 2, 1, 2), [((2, 2, 7), (3, 2, 3), (3,))]),
    Row("unfold", lambda x: ag.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
        lambda x: ref.unfold(x, (2, 3), (1, 2), (1, 1), (2, 1)), [((1, 2, 4, 5),)]),
    Row("fold", lambda c: ag.fold(c, (4, 5), (2, 3), dilation=(1, 2), padding=1,
                                  stride=(2, 1)),
        lambda c: ref.fold(c, (4, 5), (2, 3), (1, 2), (1, 1), (2, 1)), [((1, 12, 9),)]),
    Row("pad", lambda x: ag.pad(x, (1, 2, 0, 1), value=0.5),
        lambda x: np.pad(x, ((0, 0),) * (x.ndim - 2) + ((0, 1), (1, 2)), constant_values=0.5),
        [((2, 3),), ((1, 2, 3),)]),
    Row("max_pool2d", lambda x: ag.max_pool2d(x, 3, stride=2, padding=1),
        lambda x: ref.max_pool2d(x, (3, 3), (2, 2), (1, 1)), [((1, 2, 5, 5),)]),
    Row("max_pool2d-default-stride", lambda x: ag.max_pool2d(x, 2),
        lambda x: ref.max_pool2d(x, (2, 2), (2, 2)), [((2, 2, 4, 4),)]),
    Row("max_pool2d-unbatched", lambda x: ag.max_pool2d(x, 2),
        lambda x: ref.max_pool2d(x[None], (2, 2), (2, 2))[0], [((2, 4, 5),)]),
    Row("max_pool2d-dilation", lambda x: ag.max_pool2d(x, 2, stride=1, dilation=2),
        lambda x: ref.max_pool2d(x, (2, 2), (1, 1), (0, 0), (2, 2)), [((1, 1, 4, 5),)]),
    Row("avg_pool2d", lambda x: ag.avg_pool2d(x, 3, stride=2, padding=1),
        lambda x: ref.avg_pool2d(x, (3, 3), (2, 2), (1, 1)), [((1, 2, 5, 5),)]),
    Row("avg_pool2d-exclude-pad",
        lambda x: ag.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False),
        lambda x: ref.avg_pool2d(x, (3, 3), (2, 2), (1, 1), False), [((1, 2, 5, 5),)]),
    Row("adaptive_avg_pool2d", lambda x: ag.adaptive_avg_pool2d(x, (3, 4)),
        lambda x: ref.adaptive_avg_pool2d(x, (3, 4)), [((1, 2, 5, 7),)]),
    Row("adaptive_avg_pool2d-int", lambda x: ag.adaptive_avg_pool2d(x, 2),
        lambda x: ref.adaptive_avg_pool2d(x, (2, 2)), [((2, 1, 4, 4),)]),
    Row("embedding", lambda w: ag.embedding(ag.tensor(EMBEDDING_INDEX, backend=w.backend), w),
        lambda w: w[EMBEDDING_INDEX], [((5, 3),)]),
    Row("batch_norm", lambda x, w, b: ag.batch_norm(x, None, None, w, b, training=True),
        ref.batch_norm, [((4, 3), (3,), (3,)), ((2, 3, 2, 2), (3,), (3,))]),
    Row("layer_norm", lambda x, w, b: ag.layer_norm(x, (3, 4), w, b),
        lambda x, w, b: ref.layer_norm(x, 2, w, b), [((2, 3, 4), (3, 4), (3, 4))]),
    unary("gelu", ag.gelu, ref.gelu),
    unary("gelu-tanh", lambda x: ag.gelu(x, approximate="tanh"), ref.gelu_tanh),
    unary("silu", ag.silu, ref.silu),
    unary("softplus", lambda x: ag.softplus(x, beta=2.0, threshold=1.0),
          lambda x: ref.softplus(x, 2.0, 1.0)),
]


def row_cases():
    for row in ROWS:
        for shapes in row.shapes:
            yield pytest.param(row, shapes, id=f"{row.name}-{'x'.join(map(str, shapes))}")


def leaves(arrays):
    return [ag.tensor(a, dtype="float64", requires_grad=True) for a in arrays]


@pytest.mark.parametrize("row,shapes", list(row_cases()))
def test_forward_matches_numpy(backend, row, shapes):
    arrays = row.inputs(shapes)
    out = row.fn(*leaves(arrays))
    expected = np.asarray(row.reference(*arrays))
    assert out.shape == expected.shape
    assert out.dtype == "float64"
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("row,shapes", [case for case in row_cases() if case.values[0].once])
def test_gradient_matches_finite_differences(backend, row, shapes):
    inputs = leaves(row.inputs(shapes))
    assert ag.gradcheck(row.fn, inputs)
    for t in inputs:
        assert t.grad is None, "gradcheck must not touch .grad"


@pytest.mark.parametrize("row,shapes", [case for case in row_cases() if case.values[0].twice])
def test_second_derivative_matches_finite_differences(backend, row, shapes):
    assert ag.gradgradcheck(row.fn, leaves(row.inputs(shapes, seed=1)))


@pytest.mark.parametrize("row,shapes", list(row_cases()))
def test_gradient_keeps_input_shape_and_dtype(backend, row, shapes):
    inputs = [t.astype("float32").detach().requires_grad_() for t in leaves(row.inputs(shapes))]
    out = row.fn(*inputs)
    out.backward(ag.ones_like(out))
    for t in inputs:
        assert t.grad.shape == t.shape
        assert t.grad.dtype == "float32"
        assert t.grad.backend is t.backend
