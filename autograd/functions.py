"""The math and shape methods of Tensor as functions taking the tensor first
(`ag.exp(t)`, `ag.sum(t, axis=0)`), and the ops that take several tensors."""

import backends

from .ops.composite import CrossEntropy
from .ops.elementwise import Maximum, Minimum
from .ops.elementwise import where as _where
from .ops.linalg import linear as _linear
from .ops.linalg import matmul as _matmul
from .ops.shape import Concat, Stack
from .tensor import Tensor, _as_tensor, _operand, torch_axis


def _method(name):
    def function(t, *args, **kwargs):
        return getattr(_tensor(t), name)(*args, **kwargs)

    function.__name__ = name
    function.__qualname__ = name
    function.__doc__ = f"`t.{name}(...)` as a function: see Tensor.{name}."
    return function


_METHODS = ("exp log log1p sqrt sin cos tanh sigmoid relu abs erf sign clip sum mean max min "
            "var std argmax argmin logsumexp softmax log_softmax reshape transpose squeeze "
            "unsqueeze flatten broadcast_to swapaxes").split()
for _name in _METHODS:
    globals()[_name] = _method(_name)
del _name


def _tensor(value):
    if isinstance(value, Tensor):
        return value
    from .creation import tensor

    return tensor(value)


def _common_backend(op, values):
    found = [v.backend for v in values if isinstance(v, Tensor)]
    if not found:
        return backends.current()
    for b in found[1:]:
        if b is not found[0]:
            raise TypeError(f"{op}: tensors are on different backends, {found[0].name!r} and "
                            f"{b.name!r}. Move one with .to({found[0].name!r}) first.")
    return found[0]


def _tensors(op, values):
    values = list(values)
    if not values:
        raise ValueError(f"{op}: needs at least one tensor")
    anchor = next((v for v in values if isinstance(v, Tensor)), None)
    if anchor is None:
        return [_tensor(v) for v in values]
    _common_backend(op, values)
    return [_as_tensor(anchor, v) for v in values]


def concat(tensors, axis=0, **torch_names):
    """Join tensors along an existing axis."""
    if torch_names:
        axis, _ = torch_axis("concat", axis, None, torch_names, default_axis=0)
    tensors = _tensors("concat", tensors)
    ndim = tensors[0].ndim
    if ndim == 0:
        raise ValueError("concat: 0-d tensors cannot be concatenated; use stack")
    return Concat.apply(axis % ndim, *tensors)


def stack(tensors, axis=0, **torch_names):
    """Join same-shape tensors along a new axis."""
    if torch_names:
        axis, _ = torch_axis("stack", axis, None, torch_names, default_axis=0)
    tensors = _tensors("stack", tensors)
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    return Stack.apply(axis % (tensors[0].ndim + 1), *tensors)


def where(cond, a, b):
    """`a` where `cond` holds, else `b`; differentiable in `a` and `b`."""
    _common_backend("where", (cond, a, b))
    return _where(cond, a, b)


def maximum(a, b):
    """Elementwise maximum; where a == b each side gets half the gradient."""
    a, b = _pair("maximum", a, b)
    return Maximum.apply(a, b)


def minimum(a, b):
    """Elementwise minimum; where a == b each side gets half the gradient."""
    a, b = _pair("minimum", a, b)
    return Minimum.apply(a, b)


def matmul(a, b):
    _common_backend("matmul", (a, b))
    if isinstance(a, Tensor):
        return _matmul(a, _as_tensor(a, b))
    if isinstance(b, Tensor):
        return _matmul(_as_tensor(b, a), b)
    return _matmul(_tensor(a), _tensor(b))


def linear(x, weight, bias=None):
    """x @ weight.T + bias (weight of shape (out_features, in_features)) as one op."""
    _common_backend("linear", (x, weight, bias))
    return _linear(_tensor(x), _tensor(weight), None if bias is None else _tensor(bias))


def class_cross_entropy(logits, labels, axis, label_smoothing=0.0, reduction="mean"):
    """Cross-entropy of `logits` against integer class indices `labels` (the logits' shape
    without `axis`), as one op: `nn.functional.cross_entropy` checks the arguments and calls
    this. `reduction` is "mean", "sum" or "none"."""
    return CrossEntropy.apply(logits, labels, axis, label_smoothing, reduction)


def _pair(op, a, b):
    """Operands for a binary op: one side must be a Tensor; scalars stay scalars."""
    _common_backend(op, (a, b))
    if isinstance(a, Tensor):
        return a, _operand(a, b)
    if isinstance(b, Tensor):
        return _operand(b, a), b
    return _tensor(a), b


def svd(t):
    """Reduced singular value decomposition (u, s, vh) of a matrix, t == u @ diag(s) @ vh.
    The factors are constants: no gradient flows through them."""
    t = _tensor(t)
    if t.ndim != 2:
        raise ValueError(f"svd: expects a matrix, got shape {tuple(t.shape)}")
    return tuple(Tensor(a, t.backend) for a in t.backend.svd(t.data))
