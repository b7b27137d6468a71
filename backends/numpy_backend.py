"""The NumPy backend: the shared array-namespace code with `xp = numpy`, with the fused
formulas (and erf, which NumPy lacks) as NumPy ufuncs compiled from `backends.formulas`."""

import numpy

from . import formulas
from .array_namespace import ArrayNamespaceBackend
from .formulas import FLOAT_CODES, ufuncs


def _compiled(name):
    """The backend method running the elementwise formula `name`: its compiled ufunc on
    float32 and float64 arrays (one call, one pass), the formula on NumPy's arrays for any
    other dtype (which the ufunc would cast)."""
    formula = getattr(formulas, name)

    def method(self, *arrays):
        for a in arrays:
            if getattr(a, "dtype", None) is None or a.dtype.char not in FLOAT_CODES:
                return formula(*arrays)
        return getattr(ufuncs, name)(*arrays)

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
