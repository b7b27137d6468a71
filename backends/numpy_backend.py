"""The NumPy backend: the shared array-namespace code with `xp = numpy`, with the fused
formulas (and erf, which NumPy lacks) as NumPy ufuncs compiled from `backends.formulas`, and
the optimiser updates as serial loops compiled from them (numba_serial).

Creating it (or the Numba backend, its subclass) tunes glibc's malloc to keep freed array
memory for reuse (see allocator), so large ops do not page-fault on every result."""

import functools
import inspect

import numpy

from . import formulas
from .allocator import keep_freed_memory
from .array_namespace import ArrayNamespaceBackend
from .formulas import COMPILED_DTYPES, ufuncs
from .layouts import flat, same_layout

SIGMOID_SIMD_MIN_SIZE = 1 << 12
"""From this size, sigmoid runs as its formula on NumPy's arrays: NumPy's SIMD exp beats the
compiled ufunc's scalar one, while on small arrays the formula's six calls cost more than
the ufunc's one."""


def _compiled(name, simd_from=None):
    """The backend method running the elementwise formula `name`: its compiled ufunc on
    float32 and float64 arrays of one dtype (one call, one pass), the formula on NumPy's
    arrays for anything else (which the ufunc would cast) and, for a formula with a
    transcendental function, from the size `simd_from` on. Written per arity, with the
    ufunc looked up once: this runs for every op."""
    formula = getattr(formulas, name)
    simd_from = float("inf") if simd_from is None else simd_from
    ufunc = None

    def unary(self, a):
        nonlocal ufunc
        if a.dtype in COMPILED_DTYPES and a.size < simd_from:
            ufunc = ufunc or getattr(ufuncs, name)
            return ufunc(a)
        return formula(a)

    def binary(self, a, b):
        nonlocal ufunc
        if a.dtype in COMPILED_DTYPES and getattr(b, "dtype", None) is a.dtype:
            ufunc = ufunc or getattr(ufuncs, name)
            return ufunc(a, b)
        return formula(a, b)

    method = unary if len(inspect.signature(formula).parameters) == 1 else binary
    method.__name__ = name
    method.__doc__ = formula.__doc__
    return method


class NumpyBackend(ArrayNamespaceBackend):
    def __init__(self, name="numpy"):
        super().__init__(numpy, name=name, device="cpu")
        self.reuses_freed_memory = keep_freed_memory()

    sigmoid = _compiled("sigmoid", simd_from=SIGMOID_SIMD_MIN_SIZE)
    relu_backward = _compiled("relu_backward")
    tanh_backward = _compiled("tanh_backward")
    sigmoid_backward = _compiled("sigmoid_backward")
    erf = _compiled("erf")

    # ---------------------------------------------------------------- optimiser updates
    # An update run as its formula on NumPy's arrays is a dozen calls and two copies back,
    # each a pass over the parameter: one compiled loop reads and writes each array once.
    # (The 784-512-256-10 classifier's SGD with momentum, all six parameters: 0.28 ms as the
    # formula, 0.15 ms as hand-written in-place NumPy, 0.085 ms as the loop.) Other layouts
    # and dtypes run the formula.
    # The constants are combined in Python floats and rounded to the arrays' dtype once, as
    # NumPy does with the Python scalars of the formula.
    def _update_loop(self, name, size):
        """The compiled loop running the update `name` on `size` elements."""
        return getattr(_serial_loops(), name)

    def sgd_step_(self, param, grad, buf, lr, momentum, dampening, nesterov, weight_decay,
                  first_step):
        buf = buf if momentum else None
        if not same_layout(0, param, grad, buf):
            return super().sgd_step_(param, grad, buf, lr, momentum, dampening, nesterov,
                                     weight_decay, first_step)
        c = update_constants(param, formulas.sgd_momentum,
                             formulas.sgd_constants(lr, weight_decay, momentum, dampening))
        self._update_loop("sgd_step", param.size)(
            param.reshape(-1), grad.reshape(-1), flat(buf), *c, bool(nesterov),
            bool(first_step))

    def adam_step_(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1,
                   beta2, eps, weight_decay, amsgrad, decoupled_weight_decay):
        max_exp_avg_sq = max_exp_avg_sq if amsgrad else None
        if not same_layout(0, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq):
            return super().adam_step_(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step,
                                      lr, beta1, beta2, eps, weight_decay, amsgrad,
                                      decoupled_weight_decay)
        c = update_constants(param, formulas.adam, formulas.adam_constants(
            step, lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay))
        self._update_loop("adam_step", param.size)(
            param.reshape(-1), grad.reshape(-1), exp_avg.reshape(-1), exp_avg_sq.reshape(-1),
            flat(max_exp_avg_sq), *c)

    def rmsprop_step_(self, param, grad, square_avg, grad_avg, buf, lr, alpha, eps,
                      weight_decay, momentum, centered):
        grad_avg = grad_avg if centered else None
        buf = buf if momentum else None
        if not same_layout(0, param, grad, square_avg, grad_avg, buf):
            return super().rmsprop_step_(param, grad, square_avg, grad_avg, buf, lr, alpha,
                                         eps, weight_decay, momentum, centered)
        c = update_constants(param, formulas.rmsprop_centered_momentum,
                             formulas.rmsprop_constants(lr, alpha, eps, weight_decay, momentum))
        self._update_loop("rmsprop_step", param.size)(
            param.reshape(-1), grad.reshape(-1), square_avg.reshape(-1), flat(grad_avg),
            flat(buf), *c)

    def adagrad_step_(self, param, grad, state_sum, step, lr, lr_decay, weight_decay, eps):
        if not same_layout(0, param, grad, state_sum):
            return super().adagrad_step_(param, grad, state_sum, step, lr, lr_decay,
                                         weight_decay, eps)
        c = update_constants(param, formulas.adagrad,
                             formulas.adagrad_constants(step, lr, lr_decay, weight_decay, eps))
        self._update_loop("adagrad_step", param.size)(
            param.reshape(-1), grad.reshape(-1), state_sum.reshape(-1), *c)


@functools.cache
def _serial_loops():
    """numba_serial, imported on the first update: importing the backend loads no Numba,
    like the compiled ufuncs (formulas.ufuncs)."""
    from . import numba_serial

    return numba_serial


def update_constants(param, formula, constants):
    """The folded hyperparameters, in the order the update `formula` (and so its loop)
    takes them, as scalars of the parameter's dtype: rounded once, as NumPy rounds the
    Python scalars of the formula run on arrays. Every parameter of a step has the same
    ones, so they are made once for all (on a small parameter, making them took longer than
    the update itself)."""
    return _typed_constants(formula, param.dtype.char, tuple(constants.items()))


@functools.lru_cache(maxsize=64)
def _typed_constants(formula, dtype_code, constants):
    t = numpy.dtype(dtype_code).type
    return tuple(t(value) for value in formulas.constants_in_order(formula, dict(constants)))
