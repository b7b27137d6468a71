"""The NumPy backend: the shared array-namespace code with `xp = numpy`, plus erf, which
NumPy lacks, as a compiled ufunc (see numpy_ufuncs).

Creating it (or the Numba backend, its subclass) tunes glibc's malloc to keep freed array
memory for reuse (see allocator), so large ops do not page-fault on every result."""

import numpy

from .allocator import keep_freed_memory
from .array_namespace import ArrayNamespaceBackend
from .numpy_ufuncs import compiled

SIGMOID_SIMD_MIN_SIZE = 1 << 12
"""From this size, sigmoid is computed from exp(-|x|) in SIMD ufuncs: NumPy's `logaddexp`,
which the shared formula uses, is a scalar loop four times slower on large float32 arrays,
while on small ones its three calls cost less than the six of this formula."""


class NumpyBackend(ArrayNamespaceBackend):
    def __init__(self, name="numpy"):
        super().__init__(numpy, name=name, device="cpu")
        self.reuses_freed_memory = keep_freed_memory()

    def erf(self, a):
        return compiled.erf(a)

    def sigmoid(self, a):
        if a.size < SIGMOID_SIMD_MIN_SIZE:
            return super().sigmoid(a)
        # Only exp of a non-positive number: finite and exact at both ends, as the shared
        # formula is (to within an ulp of it).
        e = numpy.exp(-numpy.abs(a))
        return numpy.where(a >= 0, 1, e) / (e + 1)
