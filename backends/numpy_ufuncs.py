"""Formulas NumPy lacks, or spreads over several ufuncs, as single NumPy ufuncs built by Numba.

Composed from NumPy's own ufuncs, `sigmoid` takes three calls (negate, logaddexp, exp) and
the fused backward formulas of tanh and sigmoid three each. On a small tensor each call is
most of what an op costs. `numba.vectorize` compiles each formula into one real NumPy ufunc,
so broadcasting, dtypes and scalars behave as NumPy's, in one call and one pass. The Numba
backend calls them below the sizes where its parallel kernels pay off; the NumPy backend
stays NumPy, except for erf, which NumPy has no loop for at all.

`compiled.<formula>` is the ufunc: it compiles on first use (and is cached on disk), so
importing this module compiles nothing. The loops exist for float32 and float64 only.
"""

import math
import os

from . import numba_cache

# The dtype codes of float32 and float64, the dtypes the loops are compiled for: any other
# would be cast to one of them, and the result would have the wrong dtype.
FLOAT_CODES = "fd"

_UNARY = ["float32(float32)", "float64(float64)"]
_BINARY = ["float32(float32, float32)", "float64(float64, float64)"]


def sigmoid(x):
    # Only ever exp of a non-positive number: finite and exact at both ends.
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)


def tanh_backward(grad, y):
    return grad - grad * y * y


def sigmoid_backward(grad, y):
    scaled = grad * y
    return scaled - scaled * y


def erf(x):
    return math.erf(x)


_FORMULAS = {sigmoid: _UNARY, tanh_backward: _BINARY, sigmoid_backward: _BINARY, erf: _UNARY}


class _Compiled:
    """Each formula's ufunc as an attribute, compiled when first asked for; after that it is
    an ordinary attribute, so a call costs what a NumPy ufunc call costs."""

    def __getattr__(self, name):
        formula = next((f for f in _FORMULAS if f.__name__ == name), None)
        if formula is None:
            raise AttributeError(f"numpy_ufuncs has no formula {name!r}")
        import numba

        numba_cache.configure(os.path.dirname(os.path.abspath(__file__)))
        # `.ufunc` is the plain NumPy ufunc inside Numba's wrapper, whose Python-level
        # dispatch costs about half a microsecond a call.
        ufunc = numba.vectorize(_FORMULAS[formula], cache=True)(formula).ufunc
        setattr(self, name, ufunc)
        return ufunc


compiled = _Compiled()
