"""The Numba backend's compiled im2col and col2im: the window gathering of convolution and
pooling, and its adjoint, each one parallel pass over memory.

The NumPy code (backends/base.py) copies one strided slice per kernel position, after
padding the image into a fresh array; these kernels read the image once, treat the padding
as zeros without building it, and split the work by image plane (sample, channel), so
col2im's additions never race. They take C-contiguous float arrays; the backend checks that
and leaves every other case to the NumPy code. Each compiles on first use per dtype and is
cached on disk.
"""

import os

from numba import njit, prange

from . import numba_cache

# Numba fixes a function's cache folder when the function is defined, so this comes first.
numba_cache.configure(os.path.dirname(os.path.abspath(__file__)))

kernel = njit(parallel=True, cache=True, nogil=True)


@kernel
def im2col(x, kh, kw, dh, dw, ph, pw, sh, sw, out):
    """out[n, c, i, j, oy, ox] = x[n, c, oy*sh + i*dh - ph, ox*sw + j*dw - pw], 0 outside;
    x is (N, C, H, W), out (N, C, kh, kw, OH, OW)."""
    n, c, h, w = x.shape
    oh, ow = out.shape[4], out.shape[5]
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        for i in range(kh):
            for j in range(kw):
                for oy in range(oh):
                    y = oy * sh + i * dh - ph
                    if y < 0 or y >= h:
                        for ox in range(ow):
                            out[b, ch, i, j, oy, ox] = 0
                        continue
                    for ox in range(ow):
                        xx = ox * sw + j * dw - pw
                        out[b, ch, i, j, oy, ox] = x[b, ch, y, xx] if 0 <= xx < w else 0


@kernel
def col2im(cols, kh, kw, dh, dw, ph, pw, sh, sw, out):
    """The adjoint of im2col: out (N, C, H, W), zero on entry, gets every
    cols[n, c, i, j, oy, ox] added at the position im2col took it from."""
    n, c, h, w = out.shape
    oh, ow = cols.shape[4], cols.shape[5]
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        for i in range(kh):
            for j in range(kw):
                for oy in range(oh):
                    y = oy * sh + i * dh - ph
                    if y < 0 or y >= h:
                        continue
                    for ox in range(ow):
                        xx = ox * sw + j * dw - pw
                        if 0 <= xx < w:
                            out[b, ch, y, xx] += cols[b, ch, i, j, oy, ox]
