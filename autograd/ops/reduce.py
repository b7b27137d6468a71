"""Reductions: sum, max and min over axes, and the ops composed from them."""

from ..function import primitive_op
from ..op import Op, composed
from ..operands import normalize_axes
from ..tensor import Tensor
from .shape import BroadcastTo, Reshape


def kept_shape(shape, axes):
    """The shape a keepdims reduction over `axes` leaves."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _reduced_axis_arg(axes, ndim):
    """The axis argument for the backend: None for all axes, else the tuple."""
    return None if len(axes) == ndim else axes


def expand_reduced(grad, shape, axes):
    """A reduction's output gradient brought back to its input's shape: given the reduced
    axes back (a 0-d gradient needs none), then broadcast. The ops are applied directly:
    these shapes are valid, so the public forms' checks are skipped."""
    kept = kept_shape(shape, axes)
    if grad.ndim and grad.shape != kept:
        grad = Reshape.apply(grad, kept)
    return grad if grad.shape == shape else BroadcastTo.apply(grad, shape)


class Sum(Op):
    method, primitive, onnx = "sum", "sum", "ReduceSum"

    @staticmethod
    def call(x, axis=None, keepdims=False):
        """The sum over `axis` (an int, a tuple of ints, or None for all axes)."""
        return Sum.apply(x, normalize_axes("sum", axis, x.ndim), keepdims)

    @staticmethod
    def forward(ctx, a, axes, keepdims):
        ctx.shape, ctx.axes = a.shape, axes
        return ctx.backend.sum(a, _reduced_axis_arg(axes, a.ndim), keepdims)

    @staticmethod
    def backward(ctx, grad):
        return expand_reduced(grad, ctx.shape, ctx.axes), None, None


class _Extreme(Op):
    """max or min: the gradient goes to the extreme entries, split evenly among ties."""

    reduce = None

    @classmethod
    def forward(cls, ctx, a, axes, keepdims):
        backend = ctx.backend
        kept = getattr(backend, cls.reduce)(a, _reduced_axis_arg(axes, a.ndim), True)
        ctx.shape, ctx.axes = a.shape, axes
        ctx.save_for_backward(a, kept)
        return kept if keepdims else backend.reshape(
            kept, tuple(n for i, n in enumerate(a.shape) if i not in axes))

    @staticmethod
    def backward(ctx, grad):
        a, kept = ctx.saved_tensors
        backend = ctx.backend
        hits = backend.astype(backend.eq(a.data, kept.data), a.dtype)
        share = backend.div(hits, backend.sum(hits, _reduced_axis_arg(ctx.axes, a.ndim), True))
        return expand_reduced(grad, ctx.shape, ctx.axes) * Tensor(share, backend), None, None


class Max(_Extreme):
    method, primitive, onnx = "max", "max", "ReduceMax"
    reduce = "max"

    @staticmethod
    def call(x, axis=None, keepdims=False):
        """The largest entry over `axis`; ties share the gradient evenly."""
        _check_not_empty("max", x)
        return Max.apply(x, normalize_axes("max", axis, x.ndim), keepdims)


class Min(_Extreme):
    method, primitive, onnx = "min", "min", "ReduceMin"
    reduce = "min"

    @staticmethod
    def call(x, axis=None, keepdims=False):
        """The smallest entry over `axis`; ties share the gradient evenly."""
        _check_not_empty("min", x)
        return Min.apply(x, normalize_axes("min", axis, x.ndim), keepdims)


@composed
def mean(x, axis=None, keepdims=False):
    """The mean over `axis`."""
    axes = normalize_axes("mean", axis, x.ndim)
    count = 1
    for a in axes:
        count *= x.shape[a]
    return Sum.apply(x, axes, keepdims) * (1.0 / count if count else float("nan"))


@composed
def var(x, axis=None, ddof=0, keepdims=False):
    axes = normalize_axes("var", axis, x.ndim)
    count = 1
    for a in axes:
        count *= x.shape[a]
    if count - ddof <= 0:
        raise ValueError(f"var: {count} element(s) along axis {axis!r} leave no degrees of "
                         f"freedom with ddof={ddof}; use a smaller ddof")
    centered = x - mean(x, axes, keepdims=True)
    return Sum.apply(centered * centered, axes, keepdims) * (1.0 / (count - ddof))


@composed
def std(x, axis=None, ddof=0, keepdims=False):
    return var(x, axis, ddof, keepdims).sqrt()


@composed
def argmax(x, axis=None):
    _check_not_empty("argmax", x)
    if axis is not None:
        axis = normalize_axes("argmax", axis, x.ndim)[0]
    return primitive_op(x.backend, "argmax", x, axis)


@composed
def argmin(x, axis=None):
    _check_not_empty("argmin", x)
    if axis is not None:
        axis = normalize_axes("argmin", axis, x.ndim)[0]
    return primitive_op(x.backend, "argmin", x, axis)


def _check_not_empty(op, x):
    if x.size == 0:
        raise ValueError(f"{op}: the tensor of shape {tuple(x.shape)} is empty")
