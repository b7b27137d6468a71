"""One Backend implementation written against an array namespace `xp`.

NumPy (`xp = numpy`) and CuPy (`xp = cupy`) share this code, so every CPU test run exercises
the logic the GPU backend uses; a subclass adds only what its library does differently.
"""

import contextlib

import numpy

from . import formulas
from .base import Backend

# NumPy's `dtype.name` is computed in Python (about 1.5 us), and ops ask for it on most calls.
_DTYPE_NAMES = {}


class ArrayNamespaceBackend(Backend):
    """A Backend whose primitives are the functions of the namespace `self.xp`."""

    def __init__(self, xp, name, device):
        self.xp = xp
        self.name = name
        self.device = device
        self._array_type = xp.ndarray
        self._rng = None
        self.seed(None)
        self._bind_namespace_functions()

    # Primitives that are exactly one namespace function. Binding the function itself on the
    # instance saves a Python call on every op; a subclass that overrides one keeps its own.
    _DIRECT = {"neg": "negative", "exp": "exp", "log": "log", "log1p": "log1p",
               "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tanh": "tanh", "abs": "abs",
               "sign": "sign", "add": "add", "sub": "subtract", "mul": "multiply",
               "div": "true_divide", "pow": "power", "maximum": "maximum",
               "minimum": "minimum", "lt": "less", "le": "less_equal", "gt": "greater",
               "ge": "greater_equal", "eq": "equal", "ne": "not_equal", "where": "where",
               "matmul": "matmul", "reshape": "reshape"}

    def _bind_namespace_functions(self):
        for method, function in self._DIRECT.items():
            if getattr(type(self), method) is getattr(ArrayNamespaceBackend, method):
                setattr(self, method, getattr(self.xp, function))

    # ---------------------------------------------------------------- creation and transfer
    def asarray(self, data, dtype=None):
        return self.xp.asarray(data, dtype=dtype)

    def operand(self, value):
        return self.xp.asarray(value)

    def is_native(self, value):
        return isinstance(value, self._array_type)

    def zeros(self, shape, dtype):
        return self.xp.zeros(shape, dtype=dtype)

    def ones(self, shape, dtype):
        return self.xp.ones(shape, dtype=dtype)

    def full(self, shape, value, dtype):
        return self.xp.full(shape, value, dtype=dtype)

    def arange(self, start, stop, step, dtype):
        return self.xp.arange(start, stop, step, dtype=dtype)

    def eye(self, n, dtype):
        return self.xp.eye(n, dtype=dtype)

    def to_numpy(self, a):
        return numpy.asarray(a)

    def from_numpy(self, array):
        return self.xp.asarray(array)

    def astype(self, a, dtype):
        return a.astype(dtype, copy=False)

    def all_finite(self, a):
        return bool(self.xp.isfinite(a).all())

    def dtype_name(self, a):
        dtype = a.dtype
        name = _DTYPE_NAMES.get(dtype)
        if name is None:
            name = _DTYPE_NAMES[dtype] = dtype.name
        return name

    def copy(self, a):
        return a.copy()

    def item(self, a):
        return a.item()

    def tolist(self, a):
        return a.tolist()

    # ---------------------------------------------------------------- random draws
    def seed(self, seed):
        self._rng = self.xp.random.default_rng(seed)

    def rand(self, shape, dtype):
        return self._rng.random(shape, dtype=dtype)

    def randn(self, shape, dtype):
        return self._rng.standard_normal(shape, dtype=dtype)

    def randint(self, low, high, shape, dtype):
        return self._rng.integers(low, high, size=shape).astype(dtype, copy=False)

    def permutation(self, n):
        return self._rng.permutation(n).astype("int64", copy=False)

    # ---------------------------------------------------------------- elementwise, unary
    def neg(self, a):
        return self.xp.negative(a)

    def exp(self, a):
        return self.xp.exp(a)

    def log(self, a):
        return self.xp.log(a)

    def log1p(self, a):
        return self.xp.log1p(a)

    def sqrt(self, a):
        return self.xp.sqrt(a)

    def sin(self, a):
        return self.xp.sin(a)

    def cos(self, a):
        return self.xp.cos(a)

    def tanh(self, a):
        return self.xp.tanh(a)

    def relu(self, a):
        return self.xp.maximum(a, 0)

    def abs(self, a):
        return self.xp.abs(a)

    def sign(self, a):
        return self.xp.sign(a)

    def erf(self, a):
        raise NotImplementedError(f"{self.name} backend has no erf")

    # ---------------------------------------------------------------- elementwise, binary
    def add(self, a, b):
        return self.xp.add(a, b)

    def sub(self, a, b):
        return self.xp.subtract(a, b)

    def mul(self, a, b):
        return self.xp.multiply(a, b)

    def div(self, a, b):
        return self.xp.true_divide(a, b)

    def pow(self, a, b):
        return self.xp.power(a, b)

    def maximum(self, a, b):
        return self.xp.maximum(a, b)

    def minimum(self, a, b):
        return self.xp.minimum(a, b)

    def lt(self, a, b):
        return self.xp.less(a, b)

    def le(self, a, b):
        return self.xp.less_equal(a, b)

    def gt(self, a, b):
        return self.xp.greater(a, b)

    def ge(self, a, b):
        return self.xp.greater_equal(a, b)

    def eq(self, a, b):
        return self.xp.equal(a, b)

    def ne(self, a, b):
        return self.xp.not_equal(a, b)

    def where(self, cond, a, b):
        return self.xp.where(cond, a, b)

    # ---------------------------------------------------------------- reductions
    # Reductions call the array's own method: NumPy's module-level functions add a Python
    # wrapper that costs more than the reduction itself on a small array.
    def sum(self, a, axis=None, keepdims=False):
        return a.sum(axis=axis, keepdims=keepdims)

    def max(self, a, axis=None, keepdims=False):
        return a.max(axis=axis, keepdims=keepdims)

    def min(self, a, axis=None, keepdims=False):
        return a.min(axis=axis, keepdims=keepdims)

    def argmax(self, a, axis=None):
        return self.xp.argmax(a, axis=axis).astype("int64", copy=False)

    def argmin(self, a, axis=None):
        return self.xp.argmin(a, axis=axis).astype("int64", copy=False)

    # ---------------------------------------------------------------- linear algebra
    def matmul(self, a, b):
        return self.xp.matmul(a, b)

    def svd(self, a, full_matrices=False):
        return tuple(self.xp.linalg.svd(a, full_matrices=full_matrices))

    # ---------------------------------------------------------------- layout
    def reshape(self, a, shape):
        return self.xp.reshape(a, shape)

    def transpose(self, a, axes):
        return a.transpose(axes)

    def broadcast_to(self, a, shape):
        return self.xp.broadcast_to(a, shape)

    def expand_dims(self, a, axis):
        return self.xp.expand_dims(a, axis)

    def squeeze(self, a, axis=None):
        return self.xp.squeeze(a, axis=axis)

    def concat(self, arrays, axis):
        return self.xp.concatenate(arrays, axis=axis)

    def stack(self, arrays, axis):
        return self.xp.stack(arrays, axis=axis)

    def getitem(self, a, index):
        return a[index]

    def index_add(self, shape, index, values, dtype):
        out = self.xp.zeros(shape, dtype=dtype)
        self.xp.add.at(out, index, values)
        return out

    # ---------------------------------------------------------------- in place
    def copy_into(self, dst, src):
        dst[...] = src

    def add_into(self, dst, src):
        dst += src

    # ---------------------------------------------------------------- fused kernels
    def softmax(self, a, axis):
        xp = self.xp
        e = xp.exp(a - a.max(axis=axis, keepdims=True))
        e /= e.sum(axis=axis, keepdims=True)
        return e

    # The fused formulas, run on the namespace's arrays (a backend compiles them where it can).
    def sigmoid(self, a):
        return formulas.sigmoid(a)

    def relu_backward(self, grad, y):
        return formulas.relu_backward(grad, y)

    def tanh_backward(self, grad, y):
        return formulas.tanh_backward(grad, y)

    def sigmoid_backward(self, grad, y):
        return formulas.sigmoid_backward(grad, y)

    def sgd_step_(self, param, grad, buf, lr, momentum, dampening, nesterov, weight_decay,
                  first_step):
        constants = formulas.sgd_constants(lr, weight_decay, momentum, dampening)
        if momentum:
            self._update(formulas.sgd_momentum, dict(constants, param=param, grad=grad, buf=buf,
                                                     nesterov=nesterov, first_step=first_step))
        else:
            self._update(formulas.sgd, dict(constants, param=param, grad=grad))

    def adam_step_(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1,
                   beta2, eps, weight_decay, amsgrad, decoupled_weight_decay):
        values = formulas.adam_constants(step, lr, beta1, beta2, eps, weight_decay,
                                         decoupled_weight_decay)
        values.update(param=param, grad=grad, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq,
                      max_exp_avg_sq=max_exp_avg_sq)
        self._update(formulas.amsgrad if amsgrad else formulas.adam, values)

    def rmsprop_step_(self, param, grad, square_avg, grad_avg, buf, lr, alpha, eps,
                      weight_decay, momentum, centered):
        values = formulas.rmsprop_constants(lr, alpha, eps, weight_decay, momentum)
        values.update(param=param, grad=grad, square_avg=square_avg, grad_avg=grad_avg,
                      buf=buf, centered=centered)
        self._update(formulas.rmsprop_centered_momentum if momentum or centered
                     else formulas.rmsprop, values)

    def adagrad_step_(self, param, grad, state_sum, step, lr, lr_decay, weight_decay, eps):
        values = formulas.adagrad_constants(step, lr, lr_decay, weight_decay, eps)
        values.update(param=param, grad=grad, state_sum=state_sum)
        self._update(formulas.adagrad, values)

    def _update(self, formula, values):
        """Run the update `formula` on the arrays and write its results into them."""
        results = formula(*formulas.arguments(formula, values))
        if not isinstance(results, tuple):
            results = (results,)
        for name, result in zip(formulas.UPDATES[formula], results):
            if values[name] is not None and values[name] is not result:
                values[name][...] = result

    def log_softmax(self, a, axis):
        xp = self.xp
        shifted = a - a.max(axis=axis, keepdims=True)
        shifted -= xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        return shifted


    # ---------------------------------------------------------------- decompositions
    def _linalg_checks(self):
        """A context in which the namespace's linalg raises LinAlgError for a singular or
        not positive-definite matrix: NumPy always does, CuPy only when asked."""
        return contextlib.nullcontext()

    def _decompose(self, what, function, *args):
        """`function(*args)`, with the namespace's LinAlgError made a ValueError that says
        which matrices have no result and what to do instead."""
        try:
            with self._linalg_checks():
                return function(*args)
        except numpy.linalg.LinAlgError as error:
            raise ValueError(f"{LINALG_FAILURES[what]} ({self.xp.__name__}.linalg: "
                             f"{error})") from None

    def inv(self, a):
        return self._decompose("inv", self.xp.linalg.inv, a)

    def solve(self, a, b):
        # Broadcast the batch axes here: not every namespace's solve does it.
        batch = numpy.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        a = self.xp.broadcast_to(a, batch + a.shape[-2:])
        b = self.xp.broadcast_to(b, batch + b.shape[-2:])
        return self._decompose("solve", self.xp.linalg.solve, a, b)

    # A single matrix's determinant comes back from the namespace as a scalar: asarray
    # makes it the 0-d array every other primitive returns.
    def det(self, a):
        return self.xp.asarray(self.xp.linalg.det(a))

    def slogdet(self, a):
        sign, logabsdet = self.xp.linalg.slogdet(a)
        return self.xp.asarray(sign), self.xp.asarray(logabsdet)

    def cholesky(self, a):
        return self._decompose("cholesky", self.xp.linalg.cholesky, a)

    def qr(self, a, mode="reduced"):
        q, r = self.xp.linalg.qr(a, mode=mode)
        return q, r

    def eigh(self, a):
        w, v = self.xp.linalg.eigh(a, UPLO="L")
        return w, v


# What a failed decomposition means, and the fix, by primitive.
LINALG_FAILURES = {
    "inv": "the matrix is singular, so it has no inverse; use autograd.linalg.pinv for the "
           "pseudo-inverse, or make it full rank",
    "solve": "the matrix is singular, so the system has no unique solution; use "
             "autograd.linalg.pinv(a) @ b for the least-squares solution, or make it full "
             "rank",
    "cholesky": "the matrix is not symmetric positive-definite, so it has no Cholesky "
                "factor; check that it is symmetric with positive eigenvalues (adding a "
                "small multiple of the identity often helps), or use autograd.linalg.eigh",
}
