"""What the public functions accept: values made into Tensors, operands checked for a
common backend, shape and size arguments checked as integers, and axes checked against a
tensor's dimensions."""

import backends

from .sizes import as_shape
from .tensor import _SCALARS, Tensor


def as_tensor(value):
    """`value` as a Tensor on the default backend (a Tensor is returned as it is)."""
    if isinstance(value, Tensor):
        return value
    from .creation import tensor

    return tensor(value)


def operand(tensor, other):
    """`other` as an operand next to `tensor`: Tensors and Python scalars as they are, other
    values as a backend array (the backend refuses what it must not take implicitly)."""
    if isinstance(other, Tensor) or type(other) in _SCALARS:
        return other
    return tensor.backend.operand(other)


def as_tensor_like(tensor, other):
    """`other` as a Tensor on `tensor`'s backend."""
    other = operand(tensor, other)
    if isinstance(other, Tensor):
        return other
    return Tensor(tensor.backend.asarray(other), tensor.backend)


def common_backend(op, values):
    """The backend the Tensors among `values` share (the default one if there are none);
    a TypeError naming both when two differ."""
    found = [v.backend for v in values if isinstance(v, Tensor)]
    if not found:
        return backends.current()
    for b in found[1:]:
        if b is not found[0]:
            raise TypeError(f"{op}: tensors are on different backends, {found[0].name!r} and "
                            f"{b.name!r}. Move one with .to({found[0].name!r}) first.")
    return found[0]


def same_backend_tensors(op, values):
    """A non-empty sequence of values as Tensors on one backend."""
    values = list(values)
    if not values:
        raise ValueError(f"{op}: needs at least one tensor")
    anchor = next((v for v in values if isinstance(v, Tensor)), None)
    if anchor is None:
        return [as_tensor(v) for v in values]
    common_backend(op, values)
    return [as_tensor_like(anchor, v) for v in values]


def pair(op, a, b):
    """Operands for a binary op: one side must be a Tensor; scalars stay scalars."""
    common_backend(op, (a, b))
    if isinstance(a, Tensor):
        return a, operand(a, b)
    if isinstance(b, Tensor):
        return operand(b, a), b
    return as_tensor(a), b


def shape_arg(op, shape, name="shape"):
    """(2, 3) from `f(2, 3)` and from `f((2, 3))`, every size an integer (-1 allowed)."""
    return as_shape(op, shape, name, allow_negative=True)


def normalize_axes(op, axis, ndim):
    """`axis` (None, an int or a tuple of ints) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    result = []
    for a in axes:
        if not isinstance(a, int) or isinstance(a, bool):
            raise TypeError(f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}")
        if not -ndim <= a < max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise ValueError(f"{op}: axis {a} is out of range for a tensor of {ndim} "
                             f"dimension(s); use an axis in [{-ndim}, {ndim - 1}]")
        result.append(a % ndim if ndim else 0)
    if len(set(result)) != len(result):
        raise ValueError(f"{op}: axis {axis!r} repeats an axis")
    return tuple(sorted(result))
