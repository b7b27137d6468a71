"""The Numba backend: NumPy arrays, with the hot primitives spread over every core.

It stores the same arrays as the NumPy backend and inherits every primitive from it. The
memory-bound ones (arithmetic, `where`, `relu`, the activation backward masks, sums, the
optimiser updates) run as Numba kernels that make one parallel pass over memory; sigmoid and
the row-wise softmax, log_softmax and logsumexp are kernels around a NumPy exp. The
transcendental functions keep NumPy's SIMD loops, split over the cores by a thread pool: this
Numba build has no vector math library, so a compiled loop would call scalar libm per element,
several times slower. Large stacks of small matrix products (a convolution's, one per sample)
are split over the same pool by batch.

Each override covers the common layouts: C-contiguous float32/float64 arrays of one shape, an
array with a Python scalar or a broadcast one, rows with a row vector `(N, M) op (M,)`,
reductions over leading or trailing axes. Anything else, and any array smaller than the size
where the parallel path pays for its launch, goes to the NumPy backend's code (whose
optimiser updates are serial compiled loops already).

`NUMBA_NUM_THREADS` (read by Numba at import) sets the number of threads, for the kernels and
the pool alike.
"""

import math
import os

# Numba's OpenMP threads otherwise spin after each parallel kernel, taking the cores from
# the BLAS threads of the matrix product that follows (a training step on two cores ran 15x
# slower). Set before the first parallel kernel starts OpenMP; an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import numba  # noqa: E402
import numpy  # noqa: E402

from . import (
    formulas,
    numba_fusion,
    numba_kernels,
    numba_products,
    numba_serial,
    numba_threads,
    numba_windows,
)
from .base import window_count
from .formulas import COMPILED_DTYPES
from .formulas import ufuncs as compiled
from .layouts import flat, large_float, same_layout
from .numpy_backend import SIGMOID_SIMD_MIN_SIZE, NumpyBackend, update_constants
from .thread_chunks import ChunkPool

# Kernels called from several threads must not abort the process on Numba's workqueue layer.
kernels = numba_threads.guard_kernels(numba_kernels)
windows = numba_threads.guard_kernels(numba_windows)
products = numba_threads.guard_kernels(numba_products)

# The element counts from which each parallel path beats the NumPy backend. Measured on a
# two-core machine by timing both on float32 and float64 arrays of 2**8 .. 2**22 elements
# (best of repeated runs, on an otherwise idle machine, with the passive OpenMP waiting set
# above) and taking, for each path, the first power of two from which it stays faster in both
# dtypes. Waking the sleeping OpenMP threads costs 10 to 45 microseconds per kernel, which is
# what sets most of these. Re-measured against the NumPy backend's compiled ufuncs (one serial
# pass each) for ROWS, SIGMOID and ACTIVATION_BACKWARD, 2**17 .. 2**23 elements.
ARITHMETIC_MIN_SIZE = 1 << 22
"""add sub mul div maximum minimum on arrays of one shape or with a scalar: NumPy's own
loops for these are fast, so only arrays past the caches gain."""
ROWS_MIN_SIZE = 1 << 19
"""The same ops between rows and a row vector, (N, M) op (M,), where NumPy's broadcasting
loop is slower (at 2**18 the kernel took 1.47x NumPy's time on float32)."""
ONE_PASS_MIN_SIZE = 1 << 18
"""relu: one or two fast passes in NumPy."""
ACTIVATION_BACKWARD_MIN_SIZE = 1 << 21
"""The activation backward masks (relu, tanh, sigmoid): against the NumPy backend's compiled
ufunc, already one pass, the parallel kernel took 1.1 to 2.8x its time on float32 from 2**18
to 2**20 and won from 2**21 (0.64 to 1.03x)."""
SLOW_NUMPY_MIN_SIZE = 1 << 16
"""where (NumPy's loop branches on the condition) and erf (a scalar loop either way)."""
SUM_MIN_SIZE = 1 << 20
"""sum, max and min over all or trailing axes (max and min: over narrow rows only)."""
COLUMNS_MIN_SIZE = 1 << 22
"""sum, max and min over leading axes, where NumPy's loop is already vectorised."""
NARROW_ROW = 256
"""The widest rows whose max/min a kernel takes: measured against NumPy by row width, the
kernel is faster up to 256 and slower from 512 (NumPy's SIMD max loop, which also wins on a
whole array)."""
SIGMOID_MIN_SIZE = 1 << 18
"""sigmoid: kernels around a NumPy exp, against NumPy's several passes (at 2**14 .. 2**17
the kernels' two launches took 1.1 to 4.5x the NumPy backend's time)."""
SOFTMAX_MIN_SIZE = 1 << 17
"""softmax, log_softmax, logsumexp along rows: kernels around a NumPy exp."""
UPDATE_MIN_SIZE = 1 << 20
"""The optimiser updates: a parallel kernel instead of the NumPy backend's serial compiled
loop (numba_serial). Measured against that loop for SGD with momentum and Adam, float32,
2**16 to 2**24 elements: the kernel's wake-up alone took about 45 us, and it was faster only
from 2**20 (SGD 0.89x, Adam 0.77x; at 2**19 1.25x and 1.30x)."""
WINDOWS_MIN_SIZE = 1 << 11
"""im2col (the image's size) and col2im (the columns'): one kernel pass instead of a padded
copy and one strided NumPy copy per kernel position, a Python loop as long as the kernel.
Measured with 3x3 windows on images of 2**11 to 2**17 elements: the kernels took a half to a
third of the NumPy code's time from the smallest size on (on a busy machine, so the size is
the smallest tried, not a crossover)."""
POOL_MIN_SIZE = 1 << 21
"""NumPy loops split over the thread pool (exp, log, tanh, ...): waking a thread costs tens
of microseconds."""
STACK_MIN_WORK = 1 << 23
"""Stacked matrix products (a batch of them in one matmul) split over the thread pool by
batch, from this many multiply-adds in all: NumPy runs a stack as one BLAS call per matrix,
and BLAS keeps each small product on one core. Measured on stacks of 8 to 64 products of
float32 and float64 matrices from 16x16 to 512x512: splitting took 0.5 to 0.7 of NumPy's time
from 2**24 multiply-adds, broke even near 2**23, and lost below."""
STACK_ITEM_MAX_WORK = 1 << 20
"""...as long as each product is below this many multiply-adds: from about 2**20 BLAS spreads
a single product over the cores itself, and splitting the batch as well gained nothing (up to
5% lost)."""
ROW_PRODUCTS_MIN_WORK = 1 << 20
"""Stacks of a @ b.T with long rows and small results (a convolution's weight gradient) run
as one kernel (numba_products) from this many multiply-adds in all..."""
ROW_PRODUCTS_MIN_LENGTH = 128
ROW_PRODUCTS_MAX_RESULT = 1024
"""...when the rows are at least this long and each result has at most this many entries.
Measured on stacks of 4 to 256 products, float32 and float64, rows of 64 to 4096, results of
8x8 to 64x576: inside these bounds the kernel took 0.36 to 0.63 of the time of NumPy's
products split over the pool; with rows of 64 it broke even, and on results of 64x64 and more
it won or lost by up to 10% by shape."""


_SWAPPED = {kernels.ADD: kernels.ADD, kernels.SUB: kernels.RSUB, kernels.MUL: kernels.MUL,
            kernels.DIV: kernels.RDIV, kernels.MAXIMUM: kernels.MAXIMUM,
            kernels.MINIMUM: kernels.MINIMUM}
_PYTHON_SCALARS = (int, float, bool)


# One thread pool for the process, sized like Numba's (its threads start on first use).
POOL = ChunkPool(numba.config.NUMBA_NUM_THREADS)


def _pooled(ufunc):
    """A unary primitive: NumPy's `ufunc`, split over the thread pool for large arrays. A
    static method, like `_binary`'s."""

    def primitive(a):
        if getattr(a, "size", 0) < POOL_MIN_SIZE or not large_float(a, POOL_MIN_SIZE):
            return ufunc(a)
        out = numpy.empty_like(a)
        POOL.run(ufunc, a.reshape(-1), out.reshape(-1))
        return out

    primitive.__name__ = ufunc.__name__
    return staticmethod(primitive)


def _binary(op, ufunc):
    """A binary primitive: the kernel for `op` where the operands' size and layout suit one,
    else NumPy's `ufunc`. A static method: it needs no backend, and the lookup then costs
    no bound method (this runs for every arithmetic op)."""

    def primitive(a, b):
        if getattr(a, "size", 0) < ROWS_MIN_SIZE > getattr(b, "size", 0):
            return ufunc(a, b)
        out = _binary_kernel(op, a, b)
        return ufunc(a, b) if out is None else out

    primitive.__name__ = ufunc.__name__
    return staticmethod(primitive)


def _reduction(op, numpy_reduction):
    """A reduction: the kernel for `op` on large arrays whose layout and axes suit one, else
    the NumPy backend's `numpy_reduction`."""

    def primitive(self, a, axis=None, keepdims=False):
        if getattr(a, "size", 0) >= SUM_MIN_SIZE:
            out = _reduce(op, a, axis, keepdims)
            if out is not None:
                return out
        return numpy_reduction(self, a, axis, keepdims)

    primitive.__name__ = numpy_reduction.__name__
    return primitive


def _activation_backward(name):
    """grad times an activation's derivative given its output y (`name` is the formula):
    on small float arrays of one dtype the compiled ufunc, with its checks written inline
    (this runs on every backward through the activation); on large arrays of one layout the
    parallel kernel; anything else as the NumPy backend does it."""
    numpy_version = getattr(NumpyBackend, name)

    def primitive(self, grad, y):
        if (grad.size < ACTIVATION_BACKWARD_MIN_SIZE and grad.dtype in COMPILED_DTYPES
                and getattr(y, "dtype", None) is grad.dtype):
            return getattr(compiled, name)(grad, y)
        if not same_layout(ACTIVATION_BACKWARD_MIN_SIZE, grad, y):
            return numpy_version(self, grad, y)
        return _mask_kernel(getattr(kernels, name), grad, y)

    primitive.__name__ = name
    return primitive


class NumbaBackend(NumpyBackend):
    def __init__(self, name="numba"):
        super().__init__(name=name)
        self.threads = POOL.threads

    # ---------------------------------------------------------------- NumPy loops, pooled
    # Small arrays go straight to NumPy's function (what the NumPy backend calls): on a tiny
    # tensor the size check is all this backend may add to an op's cost.
    exp = _pooled(numpy.exp)
    log = _pooled(numpy.log)
    log1p = _pooled(numpy.log1p)
    sqrt = _pooled(numpy.sqrt)
    sin = _pooled(numpy.sin)
    cos = _pooled(numpy.cos)
    tanh = _pooled(numpy.tanh)

    def _exp_into(self, a, out):
        """out = exp(a) for C-contiguous arrays of one size (`out` may be `a`)."""
        if a.size >= POOL_MIN_SIZE:
            POOL.run(numpy.exp, a.reshape(-1), out.reshape(-1))
        else:
            numpy.exp(a, out=out)

    # ---------------------------------------------------------------- unary kernels
    def sigmoid(self, a):
        if a.size < SIGMOID_SIMD_MIN_SIZE and a.dtype in COMPILED_DTYPES:
            return compiled.sigmoid(a)
        if not large_float(a, SIGMOID_MIN_SIZE):
            return super().sigmoid(a)
        out = numpy.empty_like(a)
        kernels.negative_abs(a.reshape(-1), out.reshape(-1))
        self._exp_into(out, out)
        kernels.sigmoid_from_exp(a.reshape(-1), out.reshape(-1))
        return out

    def relu(self, a):
        if (getattr(a, "size", 0) < ONE_PASS_MIN_SIZE
                or not large_float(a, ONE_PASS_MIN_SIZE)):
            return super().relu(a)
        return _unary_kernel(kernels.relu, a)

    def erf(self, a):
        if not large_float(a, SLOW_NUMPY_MIN_SIZE):
            return super().erf(a)
        return _unary_kernel(kernels.erf, a)

    # ---------------------------------------------------------------- binary
    add = _binary(kernels.ADD, numpy.add)
    sub = _binary(kernels.SUB, numpy.subtract)
    mul = _binary(kernels.MUL, numpy.multiply)
    div = _binary(kernels.DIV, numpy.true_divide)
    maximum = _binary(kernels.MAXIMUM, numpy.maximum)
    minimum = _binary(kernels.MINIMUM, numpy.minimum)

    def where(self, cond, a, b):
        out = None if getattr(cond, "size", 0) < SLOW_NUMPY_MIN_SIZE else _where(cond, a, b)
        return numpy.where(cond, a, b) if out is None else out

    # ---------------------------------------------------------------- reductions
    sum = _reduction(kernels.SUM, NumpyBackend.sum)
    max = _reduction(kernels.MAX, NumpyBackend.max)
    min = _reduction(kernels.MIN, NumpyBackend.min)

    # ---------------------------------------------------------------- row-wise kernels
    def softmax(self, a, axis):
        if not _rows_along(a, axis):
            return super().softmax(a, axis)
        rows = a.reshape(-1, a.shape[-1])
        e = numpy.empty_like(rows)
        kernels.shift_rows(rows, e, numpy.empty(rows.shape[0], a.dtype), False)
        self._exp_into(e, e)
        kernels.normalize_rows(e)
        return e.reshape(a.shape)

    def log_softmax(self, a, axis):
        if not _rows_along(a, axis):
            return super().log_softmax(a, axis)
        rows = a.reshape(-1, a.shape[-1])
        shifted = numpy.empty_like(rows)
        kernels.shift_rows(rows, shifted, numpy.empty(rows.shape[0], a.dtype), False)
        e = numpy.empty_like(rows)
        self._exp_into(shifted, e)
        kernels.subtract_log_row_sums(shifted, e)
        return shifted.reshape(a.shape)

    def logsumexp(self, a, axis=None, keepdims=False):
        if not _rows_along(a, axis):
            return super().logsumexp(a, axis, keepdims)
        rows = a.reshape(-1, a.shape[-1])
        e = numpy.empty_like(rows)
        peaks = numpy.empty(rows.shape[0], a.dtype)
        kernels.shift_rows(rows, e, peaks, True)
        self._exp_into(e, e)
        out = numpy.empty(rows.shape[0], a.dtype)
        kernels.log_row_sums_plus(e, peaks, out)
        return out.reshape(a.shape[:-1] + ((1,) if keepdims else ()))

    # ---------------------------------------------------------------- backward masks
    relu_backward = _activation_backward("relu_backward")
    tanh_backward = _activation_backward("tanh_backward")
    sigmoid_backward = _activation_backward("sigmoid_backward")

    # ---------------------------------------------------------------- matrix products
    def matmul(self, a, b):
        if getattr(a, "ndim", 0) < 3 and getattr(b, "ndim", 0) < 3:
            return numpy.matmul(a, b)
        out = _row_products(a, b)
        if out is None:
            out = self._split_products(a, b, None)
        return numpy.matmul(a, b) if out is None else out

    def matmul_add(self, a, b, c):
        out = self._split_products(a, b, c)
        return super().matmul_add(a, b, c) if out is None else out

    def _split_products(self, a, b, c):
        """a @ b (+ c, when c is not None) for a large stack of small products, split over
        the thread pool by the stack's first axis, each thread adding c to its own part of
        the product; None when the stack is not worth splitting."""
        shape = _split_stack_shape(a, b)
        if shape is None:
            return None
        out = numpy.empty(shape, a.dtype)
        batch = shape[0]

        def part(operand, start, stop):
            # An operand with fewer axes, or 1 along the first, is the same for every product.
            split = getattr(operand, "ndim", 0) == len(shape) and operand.shape[0] == batch
            return operand[start:stop] if split else operand

        def products(start, stop):
            product = out[start:stop]
            numpy.matmul(part(a, start, stop), part(b, start, stop), out=product)
            if c is not None:
                numpy.add(product, part(c, start, stop), out=product)

        POOL.run_ranges(products, batch)
        return out

    # ---------------------------------------------------------------- sliding windows
    def im2col(self, a, kernel_size, dilation, padding, stride):
        if not large_float(a, WINDOWS_MIN_SIZE):
            return super().im2col(a, kernel_size, dilation, padding, stride)
        n, c, h, w = a.shape
        out_size = tuple(window_count(*args) for args in zip((h, w), kernel_size, dilation,
                                                             padding, stride))
        cols = numpy.empty((n, c) + tuple(kernel_size) + out_size, a.dtype)
        windows.im2col(a, *kernel_size, *dilation, *padding, *stride, cols)
        return cols.reshape(n, -1, out_size[0] * out_size[1])

    def col2im(self, cols, output_size, kernel_size, dilation, padding, stride):
        if not large_float(cols, WINDOWS_MIN_SIZE):
            return super().col2im(cols, output_size, kernel_size, dilation, padding, stride)
        out_size = tuple(window_count(*args) for args in zip(output_size, kernel_size,
                                                             dilation, padding, stride))
        n, c = cols.shape[0], cols.shape[1] // (kernel_size[0] * kernel_size[1])
        out = numpy.zeros((n, c) + tuple(output_size), cols.dtype)
        windows.col2im(cols.reshape((n, c) + tuple(kernel_size) + out_size),
                             *kernel_size, *dilation, *padding, *stride, out)
        return out

    def _update_loop(self, name, size):
        """The parallel kernel from UPDATE_MIN_SIZE elements; the serial loop below."""
        return getattr(kernels if size >= UPDATE_MIN_SIZE else numba_serial, name)

    def adam_steps_(self, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, step, lr,
                    beta1, beta2, eps, weight_decay, amsgrad, decoupled_weight_decay):
        """Small parameters of one dtype in one compiled call (numba_kernels.adam_steps);
        anything else one call each, as the NumPy backend does."""
        maxima = max_exp_avg_sqs if amsgrad else [None] * len(params)
        if len(params) < 2 or not all(
                same_layout(0, *arrays) and arrays[0].size < UPDATE_MIN_SIZE
                and arrays[0].dtype is params[0].dtype
                for arrays in zip(params, grads, exp_avgs, exp_avg_sqs, maxima)):
            return super().adam_steps_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs,
                                       step, lr, beta1, beta2, eps, weight_decay, amsgrad,
                                       decoupled_weight_decay)
        c = update_constants(params[0], formulas.adam, formulas.adam_constants(
            step, lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay))
        numba_kernels.adam_steps(_flats(params), _flats(grads), _flats(exp_avgs),
                                 _flats(exp_avg_sqs), _flats(maxima) if amsgrad else None, *c)

    def fuse_elementwise(self, program):
        """One parallel kernel for a run of elementwise steps of a traced program."""
        return numba_threads.guard_launch(numba_fusion.fuse_elementwise(program))


def _row_products(a, b):
    """a @ b by the row-products kernel when a is a C-contiguous stack of long rows and b a
    stack of the same shape with its last two axes swapped from C-contiguous rows (a view
    such as `swapaxes(-1, -2)`), within the bounds above; None otherwise."""
    if not (type(a) is numpy.ndarray and type(b) is numpy.ndarray and a.dtype == b.dtype
            and a.dtype.char in "fd" and a.ndim == b.ndim >= 3
            and a.shape[:-2] == b.shape[:-2] and a.flags.c_contiguous):
        return None
    rows = numpy.swapaxes(b, -1, -2)
    (m, length), n = a.shape[-2:], rows.shape[-2]
    if (not rows.flags.c_contiguous or rows.shape[-1] != length
            or length < ROW_PRODUCTS_MIN_LENGTH or m * n > ROW_PRODUCTS_MAX_RESULT
            or a.size * n < ROW_PRODUCTS_MIN_WORK):
        return None
    out = numpy.empty(a.shape[:-1] + (n,), a.dtype)
    products.row_products(a.reshape(-1, m, length), rows.reshape(-1, n, length),
                          out.reshape(-1, m, n))
    return out


def _split_stack_shape(a, b):
    """The shape of a @ b when it is a stack worth splitting over the thread pool by its first
    axis (float ndarrays of one dtype, sizes that fit, work between the bounds above); None
    otherwise (NumPy then computes it, or raises its own error)."""
    if not (type(a) is numpy.ndarray and type(b) is numpy.ndarray and a.dtype == b.dtype
            and a.dtype.char in "fd" and a.ndim >= 2 and b.ndim >= 2):
        return None
    (m, k), (k_b, n) = a.shape[-2:], b.shape[-2:]
    try:
        batch = numpy.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        return None
    item = m * k * n
    if (k != k_b or not batch or batch[0] < 2 or item >= STACK_ITEM_MAX_WORK
            or item * math.prod(batch) < STACK_MIN_WORK):
        return None
    return batch + (m, n)


def _broadcasts_into(shape, target):
    """Whether an array of `shape` broadcasts to `target` without enlarging it."""
    if len(shape) > len(target):
        return False
    return all(n in (1, m) for n, m in zip(reversed(shape), reversed(target)))


def _repeated_block(a):
    """The block a broadcast array repeats: `a` without its leading axes of length 1 or
    stride 0 (a NumPy scalar when nothing is left)."""
    lead = 0
    while lead < a.ndim and (a.strides[lead] == 0 or a.shape[lead] == 1):
        lead += 1
    return a[(0,) * lead]


def _rows_along(a, axis):
    """Whether `axis` is the last axis of a large float array of two or more axes, so that
    a row-wise kernel can reduce along it."""
    return (large_float(a, SOFTMAX_MIN_SIZE) and a.ndim >= 2 and a.shape[-1] > 0
            and _axes(axis, a.ndim) == (a.ndim - 1,))


def _axes(axis, ndim):
    """`axis` as a sorted tuple of distinct non-negative axes, or None when it is empty or
    not valid (NumPy then raises its own error)."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if type(axis) is tuple else (axis,)
    if not axes or any(type(x) is not int or not -ndim <= x < ndim for x in axes):
        return None
    axes = sorted(x % ndim for x in axes)
    return tuple(axes) if len(set(axes)) == len(axes) else None


def _flats(arrays):
    return tuple(map(flat, arrays))


# ------------------------------------------------------------------------- kernel calls
def _unary_kernel(kernel, a):
    out = numpy.empty_like(a)
    kernel(a.reshape(-1), out.reshape(-1))
    return out


def _mask_kernel(kernel, grad, y):
    out = numpy.empty_like(grad)
    kernel(grad.reshape(-1), y.reshape(-1), out.reshape(-1))
    return out


def _binary_kernel(op, a, b):
    """a op b by a kernel when one side is a large float array and the other fits one of
    the kernels' layouts; None otherwise. (Rows pay off from the fewest elements; the other
    layouts check their own size.)"""
    if large_float(a, ROWS_MIN_SIZE):
        return _binary_with(op, a, b)
    if large_float(b, ROWS_MIN_SIZE):
        return _binary_with(_SWAPPED[op], b, a)
    return None


def _binary_with(op, full, other):
    """full op other, where `full` has the result's shape and layout."""
    kind = type(other)
    if kind in _PYTHON_SCALARS:
        return _scalar_kernel(op, full, other)
    if kind is not numpy.ndarray or other.dtype != full.dtype:
        return None
    if other.shape == full.shape and other.flags.c_contiguous:
        if full.size < ARITHMETIC_MIN_SIZE:
            return None
        out = numpy.empty_like(full)
        kernels.binary_flat(op, full.reshape(-1), other.reshape(-1), out.reshape(-1))
        return out
    if not _broadcasts_into(other.shape, full.shape):
        return None
    block = _repeated_block(other)
    if block.ndim == 0:
        return _scalar_kernel(op, full, block)
    if not block.flags.c_contiguous or full.shape[full.ndim - block.ndim:] != block.shape:
        return None
    width = block.size
    out = numpy.empty_like(full)
    kernels.binary_rows(op, full.reshape(-1, width), block.reshape(-1), out.reshape(-1, width))
    return out


def _scalar_kernel(op, full, scalar):
    if full.size < ARITHMETIC_MIN_SIZE:
        return None
    out = numpy.empty_like(full)
    # A Python scalar takes the array's dtype, as in NumPy.
    kernels.binary_scalar(op, full.reshape(-1), full.dtype.type(scalar), out.reshape(-1))
    return out


def _where(cond, a, b):
    """where(cond, a, b) by a kernel when `cond` is a large C-contiguous bool array, and `a`
    and `b` are arrays of its shape, one float dtype and layout, or one of them a Python
    scalar; None otherwise."""
    if not (type(cond) is numpy.ndarray and cond.dtype == numpy.bool_
            and cond.size >= SLOW_NUMPY_MIN_SIZE and cond.flags.c_contiguous):
        return None
    a_scalar = type(a) in _PYTHON_SCALARS
    b_scalar = type(b) in _PYTHON_SCALARS
    if a_scalar and b_scalar:
        return None
    full = b if a_scalar else a
    other = None if a_scalar or b_scalar else b
    if not same_layout(SLOW_NUMPY_MIN_SIZE, full, other) or full.shape != cond.shape:
        return None
    out = numpy.empty_like(full)
    if other is not None:
        kernels.where(cond.reshape(-1), a.reshape(-1), b.reshape(-1), out.reshape(-1))
    else:
        # The scalar takes the array's dtype, as in NumPy; `full` is picked where cond is
        # True when it is `a`, where cond is False when it is `b`.
        scalar = full.dtype.type(a if a_scalar else b)
        kernels.where_scalar(cond.reshape(-1), full.reshape(-1), scalar, not a_scalar,
                             out.reshape(-1))
    return out


def _reduce(op, a, axis, keepdims):
    """The sum, max or min of `a` over `axis` by a kernel when the axes are all, the leading
    or the trailing ones of a large float array; None otherwise."""
    if not large_float(a, SUM_MIN_SIZE):
        return None
    axes = _axes(axis, a.ndim)
    if axes is None:
        return None
    n = len(axes)
    if n == a.ndim:
        if op != kernels.SUM:
            return None  # NumPy's SIMD max/min already runs at memory speed
        blocks = min(a.size, 8 * numba.get_num_threads())
        value = a.dtype.type(kernels.sum_all(a.reshape(-1), blocks))
        return numpy.full((1,) * a.ndim, value) if keepdims else value
    if axes == tuple(range(n)):
        if a.size < COLUMNS_MIN_SIZE:
            return None
        kept = a.shape[n:]
        out = numpy.empty(kept, a.dtype)
        rows = a.size // out.size
        kernels.reduce_columns(op, a.reshape(rows, out.size), out.reshape(-1),
                               min(rows, numba.get_num_threads()))
        return out.reshape((1,) * n + kept) if keepdims else out
    if axes == tuple(range(a.ndim - n, a.ndim)):
        kept = a.shape[:a.ndim - n]
        width = a.size // math.prod(kept)
        if op != kernels.SUM and width > NARROW_ROW:
            return None  # NumPy's SIMD max/min wins on wide rows
        out = numpy.empty(kept, a.dtype)
        kernels.reduce_rows(op, a.reshape(out.size, width), out.reshape(-1))
        return out.reshape(kept + (1,) * n) if keepdims else out
    return None
