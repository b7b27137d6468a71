"""The Numba backend's compiled matrix product for stacks of `a @ b.T` whose rows are long
and whose results are small: a convolution's weight gradient, one (out_channels,
in_channels * kh * kw) product per sample, each summing over the sample's output pixels.

NumPy's BLAS runs a stack as one single-threaded call per matrix, and its kernels, made for
large results, ran at half this kernel's speed or less on these. Here every entry of the
result is a dot product of two contiguous rows, computed four rows of `a` against four rows
of `b` at a time: sixteen running sums that the compiler keeps in vector registers, so each
row is read once for four products. The sums may be reassociated (that is what lets them
vectorise), so results differ from BLAS's by rounding only. Compiled on first use per dtype
and cached on disk.
"""

import os

from numba import njit, prange

from . import numba_cache

# Numba fixes a function's cache folder when the function is defined, so this comes first.
numba_cache.configure(os.path.dirname(os.path.abspath(__file__)))


@njit(parallel=True, cache=True, nogil=True, fastmath={"reassoc", "contract"})
def row_products(a, b, out):
    """out[s, i, j] = sum over k of a[s, i, k] * b[s, j, k]; a is (S, M, K), b (S, N, K),
    out (S, M, N), all C-contiguous. Where four does not divide M or N, the last group's
    indices are clamped: it repeats a row, and writes the same sums twice."""
    stack, m, length = a.shape
    n = b.shape[1]
    groups = (m + 3) // 4
    for task in prange(stack * groups):
        s = task // groups
        i0 = task % groups * 4
        i1, i2, i3 = min(i0 + 1, m - 1), min(i0 + 2, m - 1), min(i0 + 3, m - 1)
        for j0 in range(0, n, 4):
            j1, j2, j3 = min(j0 + 1, n - 1), min(j0 + 2, n - 1), min(j0 + 3, n - 1)
            s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = out.dtype.type(0)
            s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = out.dtype.type(0)
            for k in range(length):
                x0, x1, x2, x3 = a[s, i0, k], a[s, i1, k], a[s, i2, k], a[s, i3, k]
                y0, y1, y2, y3 = b[s, j0, k], b[s, j1, k], b[s, j2, k], b[s, j3, k]
                s00 += x0 * y0
                s01 += x0 * y1
                s02 += x0 * y2
                s03 += x0 * y3
                s10 += x1 * y0
                s11 += x1 * y1
                s12 += x1 * y2
                s13 += x1 * y3
                s20 += x2 * y0
                s21 += x2 * y1
                s22 += x2 * y2
                s23 += x2 * y3
                s30 += x3 * y0
                s31 += x3 * y1
                s32 += x3 * y2
                s33 += x3 * y3
            out[s, i0, j0], out[s, i0, j1], out[s, i0, j2], out[s, i0, j3] = s00, s01, s02, s03
            out[s, i1, j0], out[s, i1, j1], out[s, i1, j2], out[s, i1, j3] = s10, s11, s12, s13
            out[s, i2, j0], out[s, i2, j1], out[s, i2, j2], out[s, i2, j3] = s20, s21, s22, s23
            out[s, i3, j0], out[s, i3, j1], out[s, i3, j2], out[s, i3, j3] = s30, s31, s32, s33
