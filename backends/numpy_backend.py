"""The NumPy backend: the shared array-namespace code with `xp = numpy`, plus erf, which
NumPy lacks, as a compiled ufunc (see numpy_ufuncs)."""

import numpy

from .array_namespace import ArrayNamespaceBackend
from .numpy_ufuncs import compiled


class NumpyBackend(ArrayNamespaceBackend):
    def __init__(self, name="numpy"):
        super().__init__(numpy, name=name, device="cpu")

    def erf(self, a):
        return compiled.erf(a)
