"""The NumPy backend: the shared array-namespace code with `xp = numpy`, plus erf, which
NumPy lacks, as a compiled ufunc (see numpy_ufuncs).

Creating it (or the Numba backend, its subclass) tunes glibc's malloc to keep freed array
memory for reuse (see allocator), so large ops do not page-fault on every result."""

import numpy

from .allocator import keep_freed_memory
from .array_namespace import ArrayNamespaceBackend
from .numpy_ufuncs import compiled


class NumpyBackend(ArrayNamespaceBackend):
    def __init__(self, name="numpy"):
        super().__init__(numpy, name=name, device="cpu")
        self.reuses_freed_memory = keep_freed_memory()

    def erf(self, a):
        return compiled.erf(a)
