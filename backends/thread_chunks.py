"""NumPy's own loops spread over the cores: one contiguous chunk of the arrays per thread.

NumPy releases the GIL inside its ufunc loops, so threads that each run a ufunc on their own
chunk run in parallel. The Numba backend does this for the transcendental functions (exp,
log, tanh, ...), whose SIMD loops in NumPy beat anything Numba compiles without a vector math
library.
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
        length); returns once every call has. The calling thread takes the last chunk, and
        the others see its context, so NumPy's error state (np.errstate) applies in them."""
        bounds = self._bounds(arrays[0].size)
        if len(bounds) == 1:
            fn(*arrays)
            return
        if self._owner != os.getpid():
            self._executor = ThreadPoolExecutor(self.threads - 1,
                                                thread_name_prefix="pluggrad-chunks")
            self._owner = os.getpid()
        futures = [self._executor.submit(contextvars.copy_context().run, fn,
                                         *(a[start:stop] for a in arrays))
                   for start, stop in bounds[:-1]]
        start, stop = bounds[-1]
        try:
            fn(*(a[start:stop] for a in arrays))
        finally:
            wait(futures)  # no thread may still be writing when this returns or raises
        for future in futures:
            future.result()

    def _bounds(self, n):
        chunks = max(1, min(self.threads, n // _ALIGN))
        cuts = [0] + [(n * k // chunks) // _ALIGN * _ALIGN for k in range(1, chunks)] + [n]
        return list(zip(cuts[:-1], cuts[1:]))
