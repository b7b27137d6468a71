"""The built-in ops, one class per op, grouped by family, and what is derived from them:
the Tensor's operators and methods, and the public functions of `autograd`.

`autograd.op.OPS` is the table; nothing below lists an op by name.
"""

import functools
import inspect

from ..op import OPS, exports
from ..tensor import Tensor
from ..torch_names import accepting_torch_names
from . import (  # noqa: F401
    composite,
    conv,
    decompositions,
    elementwise,
    index,
    linalg,
    norms,  # (the table: every module of ops)
    pool,
    reduce,
    shape,
)

_REFLECTED = {"__add__": "__radd__", "__sub__": "__rsub__", "__mul__": "__rmul__",
              "__truediv__": "__rtruediv__", "__pow__": "__rpow__",
              "__matmul__": "__rmatmul__"}


def _reflected(forward):
    def reflected(self, other):
        return forward(other, self)

    return reflected


def _install_operators_and_methods():
    for op in OPS.values():
        if op.operator is not None:
            forward = op.__dict__["call"].__func__ if "call" in op.__dict__ else op.apply
            setattr(Tensor, op.operator, forward)
            if op.operator in _REFLECTED:
                setattr(Tensor, _REFLECTED[op.operator], _reflected(forward))
    for name, (fn, is_method) in exports().items():
        if is_method:
            setattr(Tensor, name, accepting_torch_names(name, fn))


def _public_function(name, method):
    """`autograd.<name>(t, ...)`: the Tensor method with the tensor first, made from any
    value a tensor can be made from."""
    def function(t, *args, **kwargs):
        from ..operands import as_tensor

        return method(as_tensor(t), *args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__module__ = "autograd"
    function.__doc__ = method.__doc__
    try:
        function.__signature__ = inspect.signature(method)
    except (TypeError, ValueError):
        pass
    return function


def public_functions():
    """{name: function} for `autograd`'s namespace, derived from the table."""
    found = {}
    for name, (fn, is_method) in exports().items():
        fn = accepting_torch_names(name, fn)
        found[name] = _public_function(name, fn) if is_method else fn
    return found


_install_operators_and_methods()
