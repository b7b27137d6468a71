"""The vector p-norm and the pseudo-inverse: forward on backend arrays, backward in Tensor
ops, side by side. The matrix norms are composed from these and the SVD in
`autograd.linalg`.

Gradients follow PyTorch: at a zero vector every norm's gradient is 0 (a subgradient), never
nan; the inf-norms split the gradient evenly among tied entries.
"""

import math

from ..op import Op
from .decompositions import transposed
from .elementwise import where
from .linalg import matmul
from .reduce import kept_shape

# The machine epsilon of each float dtype: the default cutoff of pinv is max(m, n) * eps.
EPSILON = {"float16": 2.0 ** -10, "float32": 2.0 ** -23, "float64": 2.0 ** -52}


class VectorNorm(Op):
    """(sum |x|^p)^(1/p) over `axes` (a tuple of non-negative axes); p = inf and -inf are
    the largest and smallest |x|, p = 0 the number of nonzero entries."""

    @staticmethod
    def forward(ctx, x, p, axes, keepdims):
        backend = ctx.backend
        magnitude = backend.abs(x)
        if p == math.inf:
            norm = backend.max(magnitude, axes, keepdims)
        elif p == -math.inf:
            norm = backend.min(magnitude, axes, keepdims)
        elif p == 0:
            nonzero = backend.astype(backend.ne(x, 0), backend.dtype_name(x))
            norm = backend.sum(nonzero, axes, keepdims)
        elif p == 1:
            norm = backend.sum(magnitude, axes, keepdims)
        elif p == 2:
            norm = backend.sqrt(backend.sum(backend.mul(x, x), axes, keepdims))
        else:
            total = backend.sum(backend.pow(magnitude, p), axes, keepdims)
            norm = backend.pow(total, 1.0 / p)
        ctx.save_for_backward(x, norm)
        ctx.p, ctx.axes = p, axes
        return norm

    @staticmethod
    def backward(ctx, grad):
        x, norm = ctx.saved_tensors
        p = ctx.p
        if p == 0:  # a count: no gradient reaches x, as in PyTorch
            return None, None, None, None
        kept = kept_shape(x.shape, ctx.axes)
        grad = grad.reshape(kept)
        norm = norm.reshape(kept)
        if p in (math.inf, -math.inf):
            ties = (x.abs() == norm).astype(x.dtype)
            return x.sign() * ties * (grad / ties.sum(ctx.axes, keepdims=True)), None, None, None
        if p == 1:
            return x.sign() * grad, None, None, None
        zero = norm == 0
        if p < 1:
            # d/dx |x|^p ... = sign(x) |x|^(p-1) norm^(1-p); |x|^(p-1) is infinite at 0,
            # where PyTorch takes the subgradient 0.
            zero_x = x == 0
            safe_x = where(zero_x, 1.0, x.abs())
            scaled = where(zero_x, 0.0, x.sign() * safe_x ** (p - 1))
            return scaled * grad * norm ** (1 - p), None, None, None
        safe_norm = where(zero, 1.0, norm)
        scale = where(zero, 0.0, grad / safe_norm ** (p - 1))
        if p == 2:
            return x * scale, None, None, None
        return x.sign() * x.abs() ** (p - 1) * scale, None, None, None


class Pinv(Op):
    """The Moore-Penrose pseudo-inverse, singular values (or |eigenvalues| with `hermitian`)
    at or below max(atol, rtol * largest) taken as zero. Its gradient, PyTorch's, holds
    where the rank does not change."""

    @staticmethod
    def forward(ctx, a, rtol, atol, hermitian):
        backend = ctx.backend
        if hermitian:
            values, vectors = backend.eigh(a)
            left, right = vectors, backend.transpose(vectors, _swap_last(a.ndim))
            magnitudes = backend.abs(values)
        else:
            left, values, right = backend.svd(a, False)
            magnitudes = values
        largest = backend.max(magnitudes, -1, True) if values.shape[-1] else magnitudes
        cutoff = backend.maximum(backend.mul(largest, rtol), atol)
        kept = backend.gt(magnitudes, cutoff)
        inverted = backend.where(kept, backend.div(1, backend.where(kept, values, 1)), 0)
        inverted = backend.astype(inverted, backend.dtype_name(a))
        # A+ = right^T diag(1 / values) left^T
        scaled = backend.mul(backend.transpose(right, _swap_last(a.ndim)),
                             backend.expand_dims(inverted, -2))
        result = backend.matmul(scaled, backend.transpose(left, _swap_last(a.ndim)))
        ctx.save_for_backward(a, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        a, pinv = ctx.saved_tensors
        rows, cols = a.shape[-2:]
        pinv_t = transposed(pinv)
        grad_t = transposed(grad)
        if rows <= cols:
            k = matmul(grad_t, pinv)
            k_pinv_t = matmul(k, pinv_t)
            grad_a = (-transposed(matmul(pinv, k)) + k_pinv_t
                      - matmul(matmul(a, pinv), k_pinv_t)
                      + matmul(matmul(pinv_t, pinv), grad_t - matmul(k, a)))
        else:
            k = matmul(pinv, grad_t)
            pinv_t_k = matmul(pinv_t, k)
            grad_a = (-transposed(matmul(k, pinv))
                      + matmul(matmul(grad_t - matmul(a, k), pinv), pinv_t)
                      + pinv_t_k - matmul(matmul(pinv_t_k, pinv), a))
        return grad_a, None, None, None


def _swap_last(ndim):
    """The axes permutation that swaps the last two axes."""
    return tuple(range(ndim - 2)) + (ndim - 1, ndim - 2)
