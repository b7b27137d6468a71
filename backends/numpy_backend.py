"""The NumPy backend: the shared array-namespace code with `xp = numpy`, plus the formulas
NumPy has no single ufunc for, as compiled ufuncs (see numpy_ufuncs)."""

import numpy

from .array_namespace import ArrayNamespaceBackend
from .numpy_ufuncs import FLOAT_CODES, compiled


class NumpyBackend(ArrayNamespaceBackend):
    def __init__(self, name="numpy"):
        super().__init__(numpy, name=name, device="cpu")

    def erf(self, a):
        return compiled.erf(a)

    def sigmoid(self, a):
        if a.dtype.char in FLOAT_CODES:
            return compiled.sigmoid(a)
        return super().sigmoid(a)

    def tanh_backward(self, grad, y):
        if grad.dtype.char in FLOAT_CODES and y.dtype.char in FLOAT_CODES:
            return compiled.tanh_backward(grad, y)
        return super().tanh_backward(grad, y)

    def sigmoid_backward(self, grad, y):
        if grad.dtype.char in FLOAT_CODES and y.dtype.char in FLOAT_CODES:
            return compiled.sigmoid_backward(grad, y)
        return super().sigmoid_backward(grad, y)
