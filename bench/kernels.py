"""Hand-written Numba kernels: the fastest a Numba user could write each benchmark by hand,
one pass over memory, every core. They bound what the Numba backend can reach.

Compiled on first use and cached next to this file, like the backend's kernels.
"""

import math

import numba
import numpy

_ONE = numpy.float32(1.0)
_TWO = numpy.float32(2.0)
_HALF = numpy.float32(0.5)


@numba.njit(parallel=True, cache=True)
def parallel_copy(dst, src):
    for i in numba.prange(src.shape[0]):
        dst[i] = src[i]


@numba.njit(parallel=True, cache=True)
def activation_forward_backward(x, grad):
    """sum(tanh(x) * sigmoid(x) + x * x), with its gradient written into `grad`.

    The sigmoid is the stable form the backends use: exp of a non-positive number only."""
    total = 0.0
    for i in numba.prange(x.shape[0]):
        v = x[i]
        t = math.tanh(v)
        e = math.exp(-abs(v))
        s = _ONE / (_ONE + e) if v >= 0 else e / (_ONE + e)
        total += t * s + v * v
        grad[i] = (_ONE - t * t) * s + t * s * (_ONE - s) + _TWO * v
    return total


@numba.njit(parallel=True, cache=True)
def arithmetic_forward_backward(x, grad):
    """sum((x * 0.5 + 1) * x), with its gradient x + 1 written into `grad`."""
    total = 0.0
    for i in numba.prange(x.shape[0]):
        v = x[i]
        total += (v * _HALF + _ONE) * v
        grad[i] = v + _ONE
    return total
