"""The compiled loops of the Numba backend, each one parallel pass over memory.

Every kernel takes C-contiguous arrays of one float dtype, flat (1-D) or as rows (2-D), and
writes into `out` (or updates its arguments in place); the backend checks shapes, dtypes and
layout before calling one and leaves every other case to NumPy. A kernel compiles on its first
call for each dtype and is cached on disk, so importing this module compiles nothing.

Arithmetic is done in the arrays' dtype, in the order the NumPy backend's composed code uses,
so results agree with it to the last bit or nearly so. Sums accumulate in float64.
Transcendental functions (exp, log, tanh) stay out of these loops: without a vector math
library they would call scalar libm per element, several times slower than NumPy's SIMD loops.
The one exception is erf, for which NumPy has no loop to prefer.
"""

import math
import os

import numpy as np
from numba import njit, prange

from . import formulas, numba_cache

# Numba fixes a function's cache folder when the function is defined, so this comes first.
numba_cache.configure(os.path.dirname(os.path.abspath(__file__)))

# `error_model="numpy"`: division by zero gives inf/nan as in NumPy instead of raising (and
# lets the loops vectorise). `nogil`: other Python threads run while a kernel does.
kernel = njit(parallel=True, cache=True, nogil=True, error_model="numpy")
# Sums may be reassociated, so that they vectorise (a float64 accumulator keeps them exact
# enough); nothing else is relaxed.
reduction_kernel = njit(parallel=True, cache=True, nogil=True, error_model="numpy",
                        fastmath={"reassoc"})

# ------------------------------------------------------------------------------- binary ops
# An op code selects the arithmetic; the `R` forms swap the operands (`RSUB`: y - x), for when
# the full-size array is the right-hand operand.
ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM, RSUB, RDIV = range(8)


@njit(inline="always")
def combine(op, x, y):
    if op == ADD:
        return x + y
    if op == SUB:
        return x - y
    if op == MUL:
        return x * y
    if op == DIV:
        return x / y
    # NaN wins, as in np.maximum / np.minimum.
    if op == MAXIMUM:
        return x if x >= y or x != x else y
    if op == MINIMUM:
        return x if x <= y or x != x else y
    if op == RSUB:
        return y - x
    return y / x


# Each kernel runs one of eight loops, picked by `op` outside them: inside, `op` is a constant,
# `combine` folds to a single operation and the loop vectorises (with `op` read per element,
# float64 loops ran at half speed).
@njit(inline="always")
def _flat_loop(op, a, b, out):
    for i in prange(out.size):
        out[i] = combine(op, a[i], b[i])


@njit(inline="always")
def _scalar_loop(op, a, s, out):
    for i in prange(out.size):
        out[i] = combine(op, a[i], s)


@njit(inline="always")
def _rows_loop(op, a, row, out):
    for i in prange(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = combine(op, a[i, j], row[j])


@kernel
def binary_flat(op, a, b, out):
    """out = a op b, all three 1-D of one length."""
    if op == ADD:
        _flat_loop(ADD, a, b, out)
    elif op == SUB:
        _flat_loop(SUB, a, b, out)
    elif op == MUL:
        _flat_loop(MUL, a, b, out)
    elif op == DIV:
        _flat_loop(DIV, a, b, out)
    elif op == MAXIMUM:
        _flat_loop(MAXIMUM, a, b, out)
    elif op == MINIMUM:
        _flat_loop(MINIMUM, a, b, out)
    elif op == RSUB:
        _flat_loop(RSUB, a, b, out)
    else:
        _flat_loop(RDIV, a, b, out)


@kernel
def binary_scalar(op, a, s, out):
    """out = a op s for a scalar `s` of a's dtype."""
    if op == ADD:
        _scalar_loop(ADD, a, s, out)
    elif op == SUB:
        _scalar_loop(SUB, a, s, out)
    elif op == MUL:
        _scalar_loop(MUL, a, s, out)
    elif op == DIV:
        _scalar_loop(DIV, a, s, out)
    elif op == MAXIMUM:
        _scalar_loop(MAXIMUM, a, s, out)
    elif op == MINIMUM:
        _scalar_loop(MINIMUM, a, s, out)
    elif op == RSUB:
        _scalar_loop(RSUB, a, s, out)
    else:
        _scalar_loop(RDIV, a, s, out)


@kernel
def binary_rows(op, a, row, out):
    """out[i, :] = a[i, :] op row: the broadcast of an (N, M) array with an (M,) one."""
    if op == ADD:
        _rows_loop(ADD, a, row, out)
    elif op == SUB:
        _rows_loop(SUB, a, row, out)
    elif op == MUL:
        _rows_loop(MUL, a, row, out)
    elif op == DIV:
        _rows_loop(DIV, a, row, out)
    elif op == MAXIMUM:
        _rows_loop(MAXIMUM, a, row, out)
    elif op == MINIMUM:
        _rows_loop(MINIMUM, a, row, out)
    elif op == RSUB:
        _rows_loop(RSUB, a, row, out)
    else:
        _rows_loop(RDIV, a, row, out)


# ------------------------------------------------------------------------- selections, relu
@kernel
def relu(a, out):
    zero = out.dtype.type(0)
    for i in prange(out.size):
        x = a[i]
        out[i] = zero if x <= zero else x  # a NaN stays NaN, as in np.maximum(a, 0)


@kernel
def where(cond, a, b, out):
    for i in prange(out.size):
        out[i] = a[i] if cond[i] else b[i]


@kernel
def where_scalar(cond, a, s, a_when, out):
    """out = a where cond == a_when, else the scalar s."""
    for i in prange(out.size):
        out[i] = a[i] if cond[i] == a_when else s


# ------------------------------------------------------------------ activation backward masks
# The arithmetic is the formula of `backends.formulas`, inlined into each parallel loop.
_relu_backward = njit(inline="always")(formulas.relu_backward)
_tanh_backward = njit(inline="always")(formulas.tanh_backward)
_sigmoid_backward = njit(inline="always")(formulas.sigmoid_backward)
_sigmoid_from_exp = njit(inline="always")(formulas.sigmoid_from_exp)


@kernel
def relu_backward(grad, y, out):
    for i in prange(out.size):
        out[i] = _relu_backward(grad[i], y[i])


@kernel
def tanh_backward(grad, y, out):
    for i in prange(out.size):
        out[i] = _tanh_backward(grad[i], y[i])


@kernel
def sigmoid_backward(grad, y, out):
    for i in prange(out.size):
        out[i] = _sigmoid_backward(grad[i], y[i])


@kernel
def sigmoid_from_exp(a, e):
    """Finish a stable sigmoid in place: `e` holds exp(-|a|)."""
    for i in prange(e.size):
        e[i] = _sigmoid_from_exp(a[i], e[i])


@kernel
def negative_abs(a, out):
    for i in prange(out.size):
        out[i] = -abs(a[i])


@kernel
def erf(a, out):
    """Scalar libm either way: NumPy has no erf loop of its own to prefer."""
    for i in prange(out.size):
        out[i] = math.erf(a[i])


# ------------------------------------------------------------------------------ reductions
# Sums accumulate in float64 (and may be reassociated, so that they vectorise). A max or min
# stays in the array's dtype; a NaN anywhere makes the result NaN, as in NumPy.
SUM, MAX, MIN = range(3)


@njit(inline="always")
def fold(op, a):
    """The sum (as float64), max or min of the 1-D array `a`."""
    if op == SUM:
        total = 0.0
        for i in range(a.size):
            total += a[i]
        return total
    acc = a[0]
    nan = False
    for i in range(a.size):
        x = a[i]
        nan |= x != x
        if op == MAX:
            acc = x if x > acc else acc
        else:
            acc = x if x < acc else acc
    return np.nan if nan else acc


@njit(inline="always")
def combine_folds(op, x, y):
    if op == SUM:
        return x + y
    if x != x or y != y:
        return x + y  # NaN
    if op == MAX:
        return x if x > y else y
    return x if x < y else y


@reduction_kernel
def sum_all(a, blocks):
    """The sum of a 1-D array, in `blocks` parts summed in parallel. (A whole array's max or
    min stays with NumPy, whose SIMD loop already runs at memory speed.)"""
    partial = np.empty(blocks, dtype=np.float64)
    n = a.size
    for k in prange(blocks):
        partial[k] = fold(SUM, a[k * n // blocks:(k + 1) * n // blocks])
    return partial.sum()


@reduction_kernel
def reduce_rows(op, a, out):
    """out[i] = the sum, max or min of row a[i, :]."""
    for i in prange(a.shape[0]):
        out[i] = fold(op, a[i])


@reduction_kernel
def reduce_columns(op, a, out, blocks):
    """out[j] = the sum, max or min of column a[:, j]: `blocks` parts of the rows fold in
    parallel into partial rows (elementwise, so each step vectorises), which then fold into
    `out`."""
    rows, columns = a.shape
    partial = np.empty((blocks, columns), dtype=np.float64)
    for k in prange(blocks):
        start = k * rows // blocks
        stop = (k + 1) * rows // blocks
        acc = partial[k]
        if op == SUM:
            acc[:] = 0.0
        else:
            acc[:] = a[start]
        for i in range(start, stop):
            row = a[i]
            # `op` picked per row, not per element, so the inner loops vectorise.
            if op == SUM:
                for j in range(columns):
                    acc[j] += row[j]
            elif op == MAX:
                for j in range(columns):
                    acc[j] = combine_folds(MAX, acc[j], row[j])
            else:
                for j in range(columns):
                    acc[j] = combine_folds(MIN, acc[j], row[j])
    for j in prange(columns):
        acc = partial[0, j]
        for k in range(1, blocks):
            acc = combine_folds(op, acc, partial[k, j])
        out[j] = acc


# -------------------------------------------------------------- row-wise softmax and friends
# Each is split around a NumPy exp: the backend shifts the rows here, exponentiates in place
# with NumPy's SIMD loop, and finishes here.
@kernel
def shift_rows(a, out, peaks, finite_peaks):
    """out[i, :] = a[i, :] - peak, where peak is the row's maximum; with `finite_peaks` an
    infinite maximum is replaced by 0 (an all -inf row has no finite peak to shift by). The
    peaks go to `peaks`."""
    zero = a.dtype.type(0)
    for i in prange(a.shape[0]):
        peak = a[i, 0]
        for j in range(a.shape[1]):
            x = a[i, j]
            peak = x if x > peak or x != x else peak
        if finite_peaks and abs(peak) == math.inf:
            peak = zero
        peaks[i] = peak
        for j in range(a.shape[1]):
            out[i, j] = a[i, j] - peak


@reduction_kernel
def normalize_rows(e):
    """e[i, :] /= sum(e[i, :]): softmax from the exponentials of the shifted rows."""
    for i in prange(e.shape[0]):
        total = 0.0
        for j in range(e.shape[1]):
            total += e[i, j]
        row_total = e.dtype.type(total)
        for j in range(e.shape[1]):
            e[i, j] /= row_total


@reduction_kernel
def subtract_log_row_sums(shifted, e):
    """shifted[i, :] -= log(sum(e[i, :])): log_softmax from the shifted rows and their
    exponentials."""
    for i in prange(e.shape[0]):
        total = 0.0
        for j in range(e.shape[1]):
            total += e[i, j]
        log_total = np.log(shifted.dtype.type(total))
        for j in range(e.shape[1]):
            shifted[i, j] -= log_total


@reduction_kernel
def log_row_sums_plus(e, peaks, out):
    """out[i] = log(sum(e[i, :])) + peaks[i]: logsumexp from the exponentials."""
    for i in prange(e.shape[0]):
        total = 0.0
        for j in range(e.shape[1]):
            total += e[i, j]
        out[i] = np.log(out.dtype.type(total)) + peaks[i]


# ------------------------------------------------------------------------ optimiser updates
# One pass each: every element's parameter and state are read once and written once. The
# hyperparameters arrive as scalars of the arrays' dtype, already combined as the base
# Backend's composed update combines them (`neg_lr` is -lr, `keep` is 1 - dampening, ...), so
# the arithmetic matches it step for step. `None` for an unused state buffer removes its
# branch at compile time.
_sgd = njit(inline="always")(formulas.sgd)
_sgd_momentum = njit(inline="always")(formulas.sgd_momentum)
_adam = njit(inline="always")(formulas.adam)
_amsgrad = njit(inline="always")(formulas.amsgrad)
_rmsprop = njit(inline="always")(formulas.rmsprop)
_rmsprop_centered_momentum = njit(inline="always")(formulas.rmsprop_centered_momentum)
_adagrad = njit(inline="always")(formulas.adagrad)


@kernel
def sgd_step(param, grad, buf, neg_lr, weight_decay, momentum, keep, nesterov, first_step):
    """`buf` is the momentum buffer (None without momentum)."""
    for i in prange(param.size):
        if buf is None:
            param[i] = _sgd(param[i], grad[i], neg_lr, weight_decay)
        else:
            param[i], buf[i] = _sgd_momentum(param[i], grad[i], buf[i], neg_lr, weight_decay,
                                             momentum, keep, nesterov, first_step)


@njit(inline="always")
def _adam_at(i, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, beta1, keep1, beta2, keep2,
             eps, weight_decay, decay, sqrt_bias2, step_size):
    """Element i's Adam update; `max_exp_avg_sq` is None without amsgrad."""
    if max_exp_avg_sq is None:
        param[i], exp_avg[i], exp_avg_sq[i] = _adam(
            param[i], grad[i], exp_avg[i], exp_avg_sq[i], beta1, keep1, beta2, keep2, eps,
            weight_decay, decay, sqrt_bias2, step_size)
    else:
        param[i], exp_avg[i], exp_avg_sq[i], max_exp_avg_sq[i] = _amsgrad(
            param[i], grad[i], exp_avg[i], exp_avg_sq[i], max_exp_avg_sq[i], beta1, keep1,
            beta2, keep2, eps, weight_decay, decay, sqrt_bias2, step_size)


@kernel
def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, beta1, keep1, beta2, keep2,
              eps, weight_decay, decay, sqrt_bias2, step_size):
    """`max_exp_avg_sq` is None without amsgrad."""
    for i in prange(param.size):
        _adam_at(i, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, beta1, keep1, beta2,
                 keep2, eps, weight_decay, decay, sqrt_bias2, step_size)


@njit(cache=True, nogil=True, error_model="numpy")
def adam_steps(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, beta1, keep1, beta2,
               keep2, eps, weight_decay, decay, sqrt_bias2, step_size):
    """Adam on several parameters in one serial call: tuples of 1-d arrays of one dtype
    (`max_exp_avg_sqs` None without amsgrad). A small network's step then pays one call
    instead of one per parameter, which on arrays of a few hundred elements cost more than
    the arithmetic (PyTorch's multi-tensor Adam does the same)."""
    for k in range(len(params)):
        for i in range(params[k].size):
            if max_exp_avg_sqs is None:
                _adam_at(i, params[k], grads[k], exp_avgs[k], exp_avg_sqs[k], None, beta1,
                         keep1, beta2, keep2, eps, weight_decay, decay, sqrt_bias2, step_size)
            else:
                _adam_at(i, params[k], grads[k], exp_avgs[k], exp_avg_sqs[k],
                         max_exp_avg_sqs[k], beta1, keep1, beta2, keep2, eps, weight_decay,
                         decay, sqrt_bias2, step_size)


@kernel
def rmsprop_step(param, grad, square_avg, grad_avg, buf, neg_lr, alpha, keep, eps,
                 weight_decay, momentum):
    """`grad_avg` is None unless centered, `buf` None without momentum."""
    zero = param.dtype.type(0)
    for i in prange(param.size):
        if grad_avg is None and buf is None:
            param[i], square_avg[i] = _rmsprop(param[i], grad[i], square_avg[i], neg_lr,
                                               alpha, keep, eps, weight_decay)
            continue
        p, sq, ga, b = _rmsprop_centered_momentum(
            param[i], grad[i], square_avg[i], zero if grad_avg is None else grad_avg[i],
            zero if buf is None else buf[i], neg_lr, alpha, keep, eps, weight_decay,
            momentum if buf is not None else zero, grad_avg is not None)
        param[i] = p
        square_avg[i] = sq
        if grad_avg is not None:
            grad_avg[i] = ga
        if buf is not None:
            buf[i] = b


@kernel
def adagrad_step(param, grad, state_sum, neg_clr, weight_decay, eps):
    for i in prange(param.size):
        param[i], state_sum[i] = _adagrad(param[i], grad[i], state_sum[i], neg_clr,
                                          weight_decay, eps)
