"""The NumPy backend: the shared array-namespace code with `xp = numpy`."""

import numpy

from .array_namespace import ArrayNamespaceBackend, numpy_erf


class NumpyBackend(ArrayNamespaceBackend):
    def __init__(self, name="numpy"):
        super().__init__(numpy, name=name, device="cpu")

    def erf(self, a):
        return numpy_erf(a)
