"""Sizes, shapes and counts given by users: integers only, never silently truncated.

`zeros(1e3)`, `reshape(2.5, 2)` or `nn.Linear(2.5, 2)` are mistakes to report, not values
to round: NumPy would either refuse them with a message about its own internals or, after an
`int(...)`, quietly build something else than what was written."""

import operator


def _is_integer(value):
    return not isinstance(value, bool) and hasattr(type(value), "__index__")


def as_size(op, name, value, allow_negative=False):
    """`value` as a Python int: TypeError (naming `op` and the argument `name`) for anything
    that is not an integer, ValueError for a negative one unless `allow_negative`."""
    if not _is_integer(value):
        raise TypeError(f"{op}: {name} must be an integer, got {value!r} "
                        f"({type(value).__name__}); sizes are never rounded, so write "
                        f"int(...) if that is what you mean")
    value = operator.index(value)
    if value < 0 and not allow_negative:
        raise ValueError(f"{op}: {name} must be 0 or more, got {value}")
    return value


def as_shape(op, dims, name="shape", allow_negative=False):
    """A shape as a tuple of ints, from the arguments of `f(2, 3)` or `f((2, 3))` (`dims`
    is the tuple of those arguments); each entry is checked by `as_size`."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    return tuple(as_size(op, f"{name}[{i}]", n, allow_negative) for i, n in enumerate(dims))
