"""The NumPy backend: the shared array-namespace code with `xp = numpy`, with the fused
formulas (and erf, which NumPy lacks) as NumPy ufuncs compiled from `backends.formulas`."""

import inspect

import numpy

from . import formulas
from .array_namespace import ArrayNamespaceBackend
from .formulas import FLOAT_CODES, ufuncs


def _compiled(name):
    """The backend method running the elementwise formula `name`: its compiled ufunc on
    float32 and float64 arrays (one call, one pass), the formula on NumPy's arrays for any
    other dtype (which the ufunc would cast). Written per arity: this runs for every op."""
    formula = getattr(formulas, name)

    def unary(self, a):
        if a.dtype.char in FLOAT_CODES:
            return getattr(ufuncs, name)(a)
        return formula(a)

    def binary(self, a, b):
        if a.dtype.char in FLOAT_CODES and getattr(b, "dtype", a.dtype).char in FLOAT_CODES:
            return getattr(ufuncs, name)(a, b)
        return formula(a, b)

    method = unary if len(inspect.signature(formula).parameters) == 1 else binary
    method.__name__ = name
    method.__doc__ = formula.__doc__
    return method


class NumpyBackend(ArrayNamespaceBackend):
    def __init__(self, name="numpy"):
        super().__init__(numpy, name=name, device="cpu")

    sigmoid = _compiled("sigmoid")
    relu_backward = _compiled("relu_backward")
    tanh_backward = _compiled("tanh_backward")
    sigmoid_backward = _compiled("sigmoid_backward")
    erf = _compiled("erf")
