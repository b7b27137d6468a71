"""The optimiser updates as serial compiled loops: the NumPy backend's at every size, and the
Numba backend's for parameters too small for a parallel kernel.

On a small parameter, NumPy's Adam is a dozen ufunc calls of about a microsecond each, and
the parallel kernel costs a wake-up of the OpenMP threads (tens of microseconds); one serial
loop does the whole update in well under a microsecond. The playground's network (a few
hundred weights) spent a quarter of its training time in these updates. On a large
parameter, the loop reads and writes each array once, where the formula on NumPy's arrays
makes a pass per operation.

The loops are the parallel kernels' own functions (numba_kernels), compiled again without
`parallel=True`: `prange` then runs as `range`, so the formulas exist once. Each copy gets
its own name, because Numba names its on-disk cache entries after the function: a copy under
the original name would share, and overwrite, the parallel version's entries.
"""

import types

from numba import njit

from . import numba_kernels


def _serial(parallel_kernel):
    """A serial compiled copy of the parallel kernel `parallel_kernel`, cached on disk next
    to its source like the original (numba_kernels configured the cache folder)."""
    original = parallel_kernel.py_func
    copy = types.FunctionType(original.__code__, original.__globals__,
                              f"{original.__name__}_serial", original.__defaults__,
                              original.__closure__)
    copy.__qualname__ = f"{original.__qualname__}_serial"
    copy.__doc__ = original.__doc__
    return njit(cache=True, nogil=True, error_model="numpy")(copy)


sgd_step = _serial(numba_kernels.sgd_step)
adam_step = _serial(numba_kernels.adam_step)
rmsprop_step = _serial(numba_kernels.rmsprop_step)
adagrad_step = _serial(numba_kernels.adagrad_step)
