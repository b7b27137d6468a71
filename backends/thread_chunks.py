"""NumPy's own loops spread over the cores: one contiguous chunk of the arrays per thread.

NumPy releases the GIL inside its ufunc loops and its BLAS calls, so threads that each run
one on their own chunk run in parallel. The Numba backend does this for the transcendental
functions (exp, log, tanh, ...), whose SIMD loops in NumPy beat anything Numba compiles
without a vector math library, and for stacks of small matrix products, which NumPy runs one
single-threaded BLAS call after another.
"""

import contextvars
import os
from concurrent.futures import ThreadPoolExecutor, wait

# Chunk boundaries fall on multiples of this many elements (a 64-byte cache line of float32
# or more), so two threads never write to the same cache line.
_ALIGN = 16


class ChunkPool:
    """Calls a function on matching chunks of flat arrays, one chunk per thread."""

    def __init__(self, threads):
        self.threads = threads
        self._executor = None
        self._owner = None  # the process that started the threads: a fork has none of them

    def run(self, fn, *arrays):
        """fn(*chunks) for each of `threads` aligned slices of the 1-D `arrays` (all of one
        length); returns once every call has."""
        self.run_ranges(lambda start, stop: fn(*(a[start:stop] for a in arrays)),
                        arrays[0].size, _ALIGN)

    def run_ranges(self, fn, n, align=1):
        """fn(start, stop) for each of up to `threads` consecutive ranges covering 0..n, the
        inner boundaries on multiples of `align`; returns once every call has. The calling
        thread takes the last range, and the others see its context, so NumPy's error state
        (np.errstate) applies in them."""
        bounds = self._bounds(n, align)
        if len(bounds) == 1:
            fn(0, n)
            return
        if self._owner != os.getpid():
            self._executor = ThreadPoolExecutor(self.threads - 1,
                                                thread_name_prefix="pluggrad-chunks")
            self._owner = os.getpid()
        futures = [self._executor.submit(contextvars.copy_context().run, fn, start, stop)
                   for start, stop in bounds[:-1]]
        start, stop = bounds[-1]
        try:
            fn(start, stop)
        finally:
            wait(futures)  # no thread may still be writing when this returns or raises
        for future in futures:
            future.result()

    def _bounds(self, n, align):
        chunks = max(1, min(self.threads, n // align))
        cuts = [0] + [(n * k // chunks) // align * align for k in range(1, chunks)] + [n]
        return list(zip(cuts[:-1], cuts[1:]))
