"""The Backend interface: everything `autograd` may ask of an array library.

The primitive set is deliberately small and explicit, one method each, so a reader can see
what a new backend must provide and the conformance suite can check each one. Arrays are the
backend's native type; they must expose the array-API attributes `shape`, `ndim` and `dtype`,
which is all `autograd` reads from them directly.

Dtypes cross this boundary as names ("float32", "float64", "int64", "bool"), so nothing
above this layer depends on an array library's dtype objects.

The fused kernels at the end have defaults composed from the primitives; a backend overrides
only the ones it can do in fewer passes over memory.
"""

import math


class BackendUnavailable(RuntimeError):
    """A backend's library or device is missing; the message says what and how to get it."""


class Backend:
    name = "abstract"
    device = "none"

    # ---------------------------------------------------------------- creation and transfer
    def asarray(self, data, dtype=None):
        """A native array from nested Python data, a NumPy array or a native array (no copy if
        it already is one of `dtype`)."""
        raise NotImplementedError

    def operand(self, value):
        """A non-Tensor operand of a binary op (NumPy array, list) as a native array, or a
        TypeError when it may not be combined with this backend's arrays implicitly."""
        raise NotImplementedError

    def is_native(self, value):
        """Whether `value` is this backend's native array type."""
        raise NotImplementedError

    def zeros(self, shape, dtype):
        raise NotImplementedError

    def ones(self, shape, dtype):
        raise NotImplementedError

    def full(self, shape, value, dtype):
        raise NotImplementedError

    def arange(self, start, stop, step, dtype):
        raise NotImplementedError

    def eye(self, n, dtype):
        raise NotImplementedError

    def to_numpy(self, a):
        """A host NumPy array (a copy when the data lives on a device)."""
        raise NotImplementedError

    def from_numpy(self, array):
        """A native array holding a host NumPy array's values and dtype."""
        raise NotImplementedError

    def astype(self, a, dtype):
        raise NotImplementedError

    def all_finite(self, a):
        """Whether no element of `a` is a NaN or an infinity (anomaly mode asks)."""
        return self.item(self.sum(self.mul(a, 0))) == 0

    def dtype_name(self, a):
        """The dtype of a native array as a name: "float32", "float64", "int64", "bool", ..."""
        raise NotImplementedError

    def copy(self, a):
        raise NotImplementedError

    def item(self, a):
        """The single element of `a` as a Python number."""
        raise NotImplementedError

    def tolist(self, a):
        raise NotImplementedError

    # ---------------------------------------------------------------- random draws
    def seed(self, seed):
        """Restart this backend's random stream: the same seed gives the same draws."""
        raise NotImplementedError

    def rand(self, shape, dtype):
        """Uniform draws in [0, 1)."""
        raise NotImplementedError

    def randn(self, shape, dtype):
        """Standard normal draws."""
        raise NotImplementedError

    def randint(self, low, high, shape, dtype):
        """Integers uniform in [low, high)."""
        raise NotImplementedError

    def permutation(self, n):
        """A random permutation of range(n) as an int64 array."""
        raise NotImplementedError

    # ---------------------------------------------------------------- elementwise, unary
    def neg(self, a):
        raise NotImplementedError

    def exp(self, a):
        raise NotImplementedError

    def log(self, a):
        raise NotImplementedError

    def log1p(self, a):
        raise NotImplementedError

    def sqrt(self, a):
        raise NotImplementedError

    def sin(self, a):
        raise NotImplementedError

    def cos(self, a):
        raise NotImplementedError

    def tanh(self, a):
        raise NotImplementedError

    def sigmoid(self, a):
        """1 / (1 + exp(-a)), finite and exact for inputs of any size."""
        raise NotImplementedError

    def relu(self, a):
        raise NotImplementedError

    def abs(self, a):
        raise NotImplementedError

    def sign(self, a):
        raise NotImplementedError

    def erf(self, a):
        raise NotImplementedError

    # ---------------------------------------------------------------- elementwise, binary
    # Each broadcasts like NumPy; either side may be a Python scalar (which takes the array's
    # dtype).
    def add(self, a, b):
        raise NotImplementedError

    def sub(self, a, b):
        raise NotImplementedError

    def mul(self, a, b):
        raise NotImplementedError

    def div(self, a, b):
        raise NotImplementedError

    def pow(self, a, b):
        raise NotImplementedError

    def maximum(self, a, b):
        raise NotImplementedError

    def minimum(self, a, b):
        raise NotImplementedError

    def lt(self, a, b):
        raise NotImplementedError

    def le(self, a, b):
        raise NotImplementedError

    def gt(self, a, b):
        raise NotImplementedError

    def ge(self, a, b):
        raise NotImplementedError

    def eq(self, a, b):
        raise NotImplementedError

    def ne(self, a, b):
        raise NotImplementedError

    def where(self, cond, a, b):
        raise NotImplementedError

    # ---------------------------------------------------------------- reductions
    # `axis` is None (all axes), an int or a tuple of ints.
    def sum(self, a, axis=None, keepdims=False):
        raise NotImplementedError

    def max(self, a, axis=None, keepdims=False):
        raise NotImplementedError

    def min(self, a, axis=None, keepdims=False):
        raise NotImplementedError

    def argmax(self, a, axis=None):
        raise NotImplementedError

    def argmin(self, a, axis=None):
        raise NotImplementedError

    # ---------------------------------------------------------------- linear algebra
    def matmul(self, a, b):
        """Matrix product with NumPy's batching and 1-D rules."""
        raise NotImplementedError

    def svd(self, a, full_matrices=False):
        """SVD of a matrix or a stack (..., m, n): (u, s, vh) with a == u @ diag(s) @ vh and
        s descending; reduced (u is (..., m, k), vh (..., k, n), k = min(m, n)) unless
        `full_matrices`, which makes u (..., m, m) and vh (..., n, n)."""
        raise NotImplementedError

    # The decompositions below take a matrix or a stack of them (..., n, n) and treat each
    # matrix of the stack separately, as numpy.linalg does. A matrix with no result
    # (singular for inv and solve, not positive-definite for cholesky) raises ValueError
    # saying so: never a result full of nan.
    def inv(self, a):
        """The inverse of each square matrix."""
        raise NotImplementedError

    def solve(self, a, b):
        """x with a @ x == b, for a (..., n, n) and b (..., n, k); the batch axes broadcast."""
        raise NotImplementedError

    def det(self, a):
        """The determinant of each square matrix, shape (...); 0 for a singular one."""
        raise NotImplementedError

    def slogdet(self, a):
        """(sign, log|det|) of each square matrix: the determinant without overflow. A
        singular matrix gives sign 0 and log|det| -inf."""
        raise NotImplementedError

    def cholesky(self, a):
        """The lower-triangular l with a == l @ l.T, reading only a's lower triangle."""
        raise NotImplementedError

    def qr(self, a, mode="reduced"):
        """(q, r) with a == q @ r, q orthonormal and r upper triangular, for a (..., m, n):
        `mode` "reduced" gives q (..., m, k) and r (..., k, n), k = min(m, n); "complete"
        gives q (..., m, m) and r (..., m, n). Signs are LAPACK's (r's diagonal may be
        negative)."""
        raise NotImplementedError

    def eigh(self, a):
        """(w, v) of a symmetric matrix, reading only its lower triangle: the eigenvalues w
        ascending, shape (..., n), and the orthonormal eigenvectors as v's columns."""
        raise NotImplementedError

    # ---------------------------------------------------------------- layout
    def reshape(self, a, shape):
        raise NotImplementedError

    def transpose(self, a, axes):
        raise NotImplementedError

    def broadcast_to(self, a, shape):
        raise NotImplementedError

    def expand_dims(self, a, axis):
        raise NotImplementedError

    def squeeze(self, a, axis=None):
        raise NotImplementedError

    def concat(self, arrays, axis):
        raise NotImplementedError

    def stack(self, arrays, axis):
        raise NotImplementedError

    def getitem(self, a, index):
        """NumPy indexing: ints, slices, None, Ellipsis, integer arrays and boolean masks."""
        raise NotImplementedError

    def index_add(self, shape, index, values, dtype):
        """Zeros of `shape` with `values` added at `index`; repeated indices accumulate.
        This is the backward of `getitem`."""
        raise NotImplementedError

    # ---------------------------------------------------------------- sliding windows
    # Convolution and pooling as matrix products and reductions over gathered windows. The
    # defaults use the array namespace `self.xp` (NumPy or CuPy): one strided slice per kernel
    # position, so the Python loop is as short as the kernel, not the image.
    def pad(self, a, widths, value=0.0):
        """`a` with `widths[i] = (before, after)` elements of `value` added on axis i."""
        return self.xp.pad(a, widths, mode="constant", constant_values=value)

    def im2col(self, a, kernel_size, dilation, padding, stride):
        """The sliding windows of an (N, C, H, W) array as columns: shape
        (N, C * kh * kw, OH * OW), one column per window position, a column's entries ordered
        by channel, then kernel row, then kernel column (PyTorch's `unfold`); the image is
        zero-padded by `padding` first. Each of `kernel_size`, `dilation`, `padding` and
        `stride` is an (along H, along W) pair. A convolution is then one matrix product."""
        n, c, h, w = a.shape
        (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel_size, dilation, padding, stride
        oh, ow = (window_count(h, kh, dh, ph, sh), window_count(w, kw, dw, pw, sw))
        if ph or pw:
            a = self.pad(a, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        cols = self.xp.empty((n, c, kh, kw, oh, ow), dtype=a.dtype)
        for i in range(kh):
            for j in range(kw):
                cols[:, :, i, j] = a[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                                     j * dw:j * dw + sw * (ow - 1) + 1:sw]
        return cols.reshape(n, c * kh * kw, oh * ow)

    def col2im(self, cols, output_size, kernel_size, dilation, padding, stride):
        """The adjoint of `im2col`: every column entry added back at the image position it
        was taken from, giving an (N, C, H, W) array with `output_size = (H, W)`; windows that
        overlap add up and the padding is dropped (PyTorch's `fold`)."""
        (h, w), (kh, kw), (dh, dw), (ph, pw), (sh, sw) = (output_size, kernel_size, dilation,
                                                          padding, stride)
        oh, ow = (window_count(h, kh, dh, ph, sh), window_count(w, kw, dw, pw, sw))
        n, c = cols.shape[0], cols.shape[1] // (kh * kw)
        cols = cols.reshape(n, c, kh, kw, oh, ow)
        out = self.xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
        for i in range(kh):
            for j in range(kw):
                out[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                    j * dw:j * dw + sw * (ow - 1) + 1:sw] += cols[:, :, i, j]
        return out[:, :, ph:ph + h, pw:pw + w]

    # ---------------------------------------------------------------- in place
    def copy_into(self, dst, src):
        """dst[...] = src."""
        raise NotImplementedError

    def add_into(self, dst, src):
        """dst += src."""
        raise NotImplementedError

    def synchronize(self):
        """Wait until queued device work is done (a no-op on the CPU); timing needs it."""

    # ---------------------------------------------------------------- fused kernels
    # Defaults composed from the primitives above; a backend overrides what it can fuse.
    def softmax(self, a, axis):
        shifted = self.sub(a, self.max(a, axis, keepdims=True))
        e = self.exp(shifted)
        return self.div(e, self.sum(e, axis, keepdims=True))

    def log_softmax(self, a, axis):
        shifted = self.sub(a, self.max(a, axis, keepdims=True))
        return self.sub(shifted, self.log(self.sum(self.exp(shifted), axis, keepdims=True)))

    def logsumexp(self, a, axis=None, keepdims=False):
        peak = self.max(a, axis, keepdims=True)
        # An all -inf (or inf) slice has no finite peak; shifting by it would give nan.
        peak = self.where(self.eq(self.abs(peak), math.inf), self.zeros_like(peak), peak)
        total = self.log(self.sum(self.exp(self.sub(a, peak)), axis, keepdims=True))
        out = self.add(total, peak)
        return out if keepdims else self.squeeze_axes(out, axis)

    def matmul_add(self, a, b, c):
        """a @ b + c in place of the product, c broadcasting into its shape (and cast to its
        dtype): a layer's product and bias, in one call, so that a backend that computes the
        product in parts can add the bias to each part while it is still in cache."""
        out = self.matmul(a, b)
        self.add_into(out, c)
        return out

    def relu_backward(self, grad, y):
        """grad * (y > 0): the gradient of relu given its output."""
        return self.mul(grad, self.astype(self.gt(y, 0), self.dtype_name(grad)))

    def tanh_backward(self, grad, y):
        """grad * (1 - y**2): the gradient of tanh given its output."""
        return self.mul(grad, self.sub(1, self.mul(y, y)))

    def sigmoid_backward(self, grad, y):
        """grad * y * (1 - y): the gradient of sigmoid given its output."""
        return self.mul(grad, self.mul(y, self.sub(1, y)))

    def sgd_step_(self, param, grad, buf, lr, momentum, dampening, nesterov, weight_decay,
                  first_step):
        """One SGD update in place, PyTorch's rule; `buf` is the momentum buffer (None when
        momentum is 0) and is updated in place too."""
        g = grad
        if weight_decay:
            g = self.add(g, self.mul(param, weight_decay))
        if momentum:
            if first_step:
                self.copy_into(buf, g)
            else:
                self.copy_into(buf, self.add(self.mul(buf, momentum), self.mul(g, 1 - dampening)))
            g = self.add(g, self.mul(buf, momentum)) if nesterov else buf
        self.add_into(param, self.mul(g, -lr))

    def adam_step_(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1,
                   beta2, eps, weight_decay, amsgrad, decoupled_weight_decay):
        """One Adam (or AdamW, with decoupled weight decay) update in place, PyTorch's rule.
        `step` counts from 1; the moment buffers are updated in place."""
        g = grad
        if weight_decay:
            if decoupled_weight_decay:
                self.copy_into(param, self.mul(param, 1 - lr * weight_decay))
            else:
                g = self.add(g, self.mul(param, weight_decay))
        self.copy_into(exp_avg, self.add(self.mul(exp_avg, beta1), self.mul(g, 1 - beta1)))
        self.copy_into(exp_avg_sq, self.add(self.mul(exp_avg_sq, beta2),
                                            self.mul(self.mul(g, g), 1 - beta2)))
        second = exp_avg_sq
        if amsgrad:
            self.copy_into(max_exp_avg_sq, self.maximum(max_exp_avg_sq, exp_avg_sq))
            second = max_exp_avg_sq
        bias1 = 1 - beta1 ** step
        bias2 = 1 - beta2 ** step
        denom = self.add(self.div(self.sqrt(second), math.sqrt(bias2)), eps)
        self.add_into(param, self.mul(self.div(exp_avg, denom), -lr / bias1))

    def adam_steps_(self, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, step, lr,
                    beta1, beta2, eps, weight_decay, amsgrad, decoupled_weight_decay):
        """`adam_step_` on each parameter of aligned lists (`max_exp_avg_sqs` holds Nones
        without amsgrad) with one step count and hyperparameters: an optimiser's group. A
        backend may do them all in one call (the Numba backend does, for small ones)."""
        for param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq in zip(
                params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs):
            self.adam_step_(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1,
                            beta2, eps, weight_decay, amsgrad, decoupled_weight_decay)

    def rmsprop_step_(self, param, grad, square_avg, grad_avg, buf, lr, alpha, eps,
                      weight_decay, momentum, centered):
        """One RMSprop update in place, PyTorch's rule; `grad_avg` is used when centered,
        `buf` when momentum > 0."""
        g = grad
        if weight_decay:
            g = self.add(g, self.mul(param, weight_decay))
        self.copy_into(square_avg, self.add(self.mul(square_avg, alpha),
                                            self.mul(self.mul(g, g), 1 - alpha)))
        if centered:
            self.copy_into(grad_avg, self.add(self.mul(grad_avg, alpha), self.mul(g, 1 - alpha)))
            avg = self.sqrt(self.sub(square_avg, self.mul(grad_avg, grad_avg)))
        else:
            avg = self.sqrt(square_avg)
        avg = self.add(avg, eps)
        if momentum:
            self.copy_into(buf, self.add(self.mul(buf, momentum), self.div(g, avg)))
            self.add_into(param, self.mul(buf, -lr))
        else:
            self.add_into(param, self.mul(self.div(g, avg), -lr))

    def adagrad_step_(self, param, grad, state_sum, step, lr, lr_decay, weight_decay, eps):
        """One Adagrad update in place, PyTorch's rule; `step` counts from 1."""
        g = grad
        if weight_decay:
            g = self.add(g, self.mul(param, weight_decay))
        clr = lr / (1 + (step - 1) * lr_decay)
        self.add_into(state_sum, self.mul(g, g))
        self.add_into(param, self.mul(self.div(g, self.add(self.sqrt(state_sum), eps)), -clr))

    # ---------------------------------------------------------------- helpers built on the above
    def zeros_like(self, a):
        return self.zeros(a.shape, self.dtype_name(a))

    def squeeze_axes(self, a, axis):
        """Drop the reduced axes kept by a keepdims reduction over `axis`."""
        if axis is None:
            return self.reshape(a, ())
        return self.squeeze(a, axis)

    def fuse_elementwise(self, program):
        """Compile a run of elementwise instructions into one kernel, or return None when this
        backend cannot fuse (the caller then runs the instructions one by one)."""
        return None

    def __repr__(self):
        return f"<Backend {self.name} on {self.device}>"


def window_count(size, kernel, dilation, padding, stride):
    """How many windows of `kernel` elements (spaced `dilation` apart) fit along an axis of
    `size` elements padded by `padding` on both sides, moving `stride` at a time."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
