"""The NumPy backend: the shared array-namespace code with `xp = numpy`, with the fused
formulas (and erf, which NumPy lacks) as NumPy ufuncs compiled from `backends.formulas`.

Creating it (or the Numba backend, its subclass) tunes glibc's malloc to keep freed array
memory for reuse (see allocator), so large ops do not page-fault on every result."""

import inspect

import numpy

from . import formulas
from .allocator import keep_freed_memory
from .array_namespace import ArrayNamespaceBackend
from .formulas import COMPILED_DTYPES, ufuncs

SIGMOID_SIMD_MIN_SIZE = 1 << 12
"""From this size, sigmoid runs as its formula on NumPy's arrays: NumPy's SIMD exp beats the
compiled ufunc's scalar one, while on small arrays the formula's six calls cost more than
the ufunc's one."""


def _compiled(name, simd_from=None):
    """The backend method running the elementwise formula `name`: its compiled ufunc on
    float32 and float64 arrays of one dtype (one call, one pass), the formula on NumPy's
    arrays for anything else (which the ufunc would cast) and, for a formula with a
    transcendental function, from the size `simd_from` on. Written per arity, with the
    ufunc looked up once: this runs for every op."""
    formula = getattr(formulas, name)
    simd_from = float("inf") if simd_from is None else simd_from
    ufunc = None

    def unary(self, a):
        nonlocal ufunc
        if a.dtype in COMPILED_DTYPES and a.size < simd_from:
            ufunc = ufunc or getattr(ufuncs, name)
            return ufunc(a)
        return formula(a)

    def binary(self, a, b):
        nonlocal ufunc
        if a.dtype in COMPILED_DTYPES and getattr(b, "dtype", None) is a.dtype:
            ufunc = ufunc or getattr(ufuncs, name)
            return ufunc(a, b)
        return formula(a, b)

    method = unary if len(inspect.signature(formula).parameters) == 1 else binary
    method.__name__ = name
    method.__doc__ = formula.__doc__
    return method


class NumpyBackend(ArrayNamespaceBackend):
    def __init__(self, name="numpy"):
        super().__init__(numpy, name=name, device="cpu")
        self.reuses_freed_memory = keep_freed_memory()

    sigmoid = _compiled("sigmoid", simd_from=SIGMOID_SIMD_MIN_SIZE)
    relu_backward = _compiled("relu_backward")
    tanh_backward = _compiled("tanh_backward")
    sigmoid_backward = _compiled("sigmoid_backward")
    erf = _compiled("erf")
