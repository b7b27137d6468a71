"""Matrix inverse, solve, determinants and the decompositions: forward on backend arrays,
backward in Tensor ops (so second derivatives work), side by side.

Every op takes a matrix or a stack of them (..., m, n). The gradient formulas are PyTorch's
(torch/csrc/autograd/FunctionsManual.cpp), real case: where PyTorch would divide by zero (a
repeated eigenvalue or singular value under a loss that depends on the vectors, a
rank-deficient QR) the backward raises a ValueError that says why, instead of returning nan.

A decomposition with several factors is one node of the graph with several outputs; a
factor the caller drops (`eigh(a)[1]`) gets a zero gradient from the engine.
"""

from ..op import Op
from ..tensor import Tensor
from .linalg import matmul
from .shape import Concat


# ------------------------------------------------------------------------------ helpers
def transposed(t):
    """The matrices of a stack transposed: (..., m, n) -> (..., n, m)."""
    return t.swapaxes(-1, -2)


def eye_like(t, n):
    """The n x n identity as a constant on t's backend, in t's dtype."""
    return Tensor(t.backend.eye(n, t.backend.dtype_name(t.data)), t.backend)


def diagonal(t):
    """The diagonals of a stack of square matrices: (..., n, n) -> (..., n)."""
    return (t * eye_like(t, t.shape[-1])).sum(axis=-1)


def diag_embed(v):
    """Square matrices with `v` on their diagonals: (..., n) -> (..., n, n)."""
    return v.unsqueeze(-1) * eye_like(v, v.shape[-1])


def tril(t, k=0):
    """The lower triangle of each matrix (j <= i + k), the rest zero."""
    backend = t.backend
    rows, cols = t.shape[-2:]
    i = backend.reshape(backend.arange(0, rows, 1, "int64"), (rows, 1))
    j = backend.reshape(backend.arange(0, cols, 1, "int64"), (1, cols))
    mask = backend.astype(backend.le(j, backend.add(i, k)), backend.dtype_name(t.data))
    return t * Tensor(mask, backend)


def _any(backend, condition):
    """Whether any element of a boolean backend array holds (False for an empty one)."""
    if 0 in condition.shape:
        return False
    return bool(backend.item(backend.max(condition)))


def _solve_right(x, r):
    """x @ inv(r).T, by a solve rather than an inverse."""
    return transposed(Solve.apply(r, transposed(x)))


def _safe_divide_by_gaps(numerator, gaps, op, what):
    """numerator / gaps off the diagonal (the diagonal is left zero). A zero gap under a
    nonzero numerator is a gradient that does not exist: raise, naming `what` repeats."""
    backend = gaps.backend
    off_diagonal = backend.sub(1, backend.eye(gaps.shape[-1], backend.dtype_name(gaps.data)))
    zero_gap = backend.mul(backend.eq(gaps.data, 0), backend.ne(off_diagonal, 0))
    if _any(backend, backend.mul(zero_gap, backend.ne(numerator.data, 0))):
        raise ValueError(
            f"{op}: the gradient is not defined because the input has repeated {what}, and "
            f"the loss depends on the matching vectors (which are then not unique). Use only "
            f"the {what} (or a function of the vectors that does not depend on the choice of "
            f"basis), or perturb the input slightly.")
    zero = backend.astype(backend.eq(gaps.data, 0), backend.dtype_name(gaps.data))
    safe = gaps + Tensor(zero, backend)  # the diagonal's, and the gaps checked above
    return (numerator / safe) * Tensor(off_diagonal, backend)


# ------------------------------------------------------------------------------ factors
# ------------------------------------------------------------------------------ inverse
class Inv(Op):
    @staticmethod
    def forward(ctx, a):
        x = ctx.backend.inv(a)
        ctx.save_for_backward(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        # d(A^-1) = -A^-1 dA A^-1, so gA = -A^-T G A^-T, from the saved output.
        (x,) = ctx.saved_tensors
        x_t = transposed(x)
        return -matmul(matmul(x_t, grad), x_t)


class Solve(Op):
    """x with a @ x == b, for b (..., n, k); the batch axes broadcast and the engine sums
    each gradient back to its input's shape."""

    @staticmethod
    def forward(ctx, a, b):
        x = ctx.backend.solve(a, b)
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        grad_b = Solve.apply(transposed(a), grad)
        grad_a = -matmul(grad_b, transposed(x)) if ctx.needs_input_grad[0] else None
        return grad_a, grad_b


# ------------------------------------------------------------------------------ determinants
class Det(Op):
    @staticmethod
    def forward(ctx, a):
        d = ctx.backend.det(a)
        ctx.save_for_backward(a, d)
        return d

    @staticmethod
    def backward(ctx, grad):
        # The gradient is the cofactor matrix: det * A^-T where A is invertible. A singular
        # matrix has no inverse, but its cofactors are still defined; PyTorch computes them
        # from the SVD, and so does this.
        a, d = ctx.saved_tensors
        grad = grad.unsqueeze(-1).unsqueeze(-1)
        if _any(a.backend, a.backend.eq(d.data, 0)):
            return grad * _cofactors_from_svd(a)
        return (grad * d.unsqueeze(-1).unsqueeze(-1)) * transposed(Inv.apply(a))


def _cofactors_from_svd(a):
    """The cofactor matrix of square matrices, singular ones included: with A = U S Vh,
    cof(A) = det(U) det(Vh) U diag(prod_{j != i} s_j) Vh."""
    u, s, vh = SVD.apply(a, False)
    backend = a.backend
    orientation = backend.mul(backend.det(u.data), backend.det(vh.data))  # +1 or -1
    n = s.shape[-1]
    # Row i of `others` is s with s_i replaced by 1; the product of a row leaves s_i out.
    identity = eye_like(s, n)
    others = s.unsqueeze(-2) * (1.0 - identity) + identity
    products = others[..., 0]
    for k in range(1, n):
        products = products * others[..., k]
    products = products * Tensor(orientation, backend).unsqueeze(-1)
    return matmul(u * products.unsqueeze(-2), vh)


class SlogDet(Op):
    """(sign, log|det|): the determinant without overflow. The sign is piecewise constant,
    so only log|det| passes a gradient on."""

    @staticmethod
    def forward(ctx, a):
        sign, logabsdet = ctx.backend.slogdet(a)
        ctx.save_for_backward(a, sign)
        return sign, logabsdet

    @staticmethod
    def backward(ctx, grad_sign, grad_logabsdet):
        a, sign = ctx.saved_tensors
        if _any(a.backend, a.backend.eq(sign.data, 0)):
            raise ValueError(
                "slogdet: the input is singular, so log|det| is -inf and has no gradient. "
                "Use det (whose gradient at a singular matrix is the cofactor matrix), or "
                "make the matrix full rank (e.g. add a small multiple of the identity).")
        return grad_logabsdet.unsqueeze(-1).unsqueeze(-1) * transposed(Inv.apply(a))


# ------------------------------------------------------------------------------ cholesky
class Cholesky(Op):
    """The lower-triangular factor L of a symmetric positive-definite A = L L^T. Only A's
    lower triangle is read; the gradient is symmetric, as PyTorch's."""

    @staticmethod
    def forward(ctx, a):
        lower = ctx.backend.cholesky(a)
        ctx.save_for_backward(lower)
        return lower

    @staticmethod
    def backward(ctx, grad):
        # gA = L^-T Phi L^-1, with Phi = sym(tril(L^T gL)) halved on the diagonal.
        (lower,) = ctx.saved_tensors
        phi = tril(matmul(transposed(lower), grad))
        phi = 0.5 * (phi + transposed(tril(phi, -1)))
        inverse = Inv.apply(lower)
        return matmul(matmul(transposed(inverse), phi), inverse)


# ------------------------------------------------------------------------------ qr
class QR(Op):
    """(Q, R) with A = Q R, LAPACK's signs. Differentiable for mode "reduced", and for
    "complete" when rows <= columns (otherwise Q's extra columns are arbitrary), when A
    has full rank."""

    @staticmethod
    def forward(ctx, a, mode):
        q, r = ctx.backend.qr(a, mode)
        ctx.save_for_backward(a, q, r)
        ctx.mode = mode
        return q, r

    @staticmethod
    def backward(ctx, grad_q, grad_r):
        a, q, r = ctx.saved_tensors
        rows, cols = a.shape[-2:]
        if ctx.mode == "complete" and rows > cols:
            raise ValueError(
                f"qr: mode='complete' with more rows than columns ({rows} > {cols}) has no "
                f"gradient: Q's last {rows - cols} columns are any orthonormal completion. "
                f"Use mode='reduced'.")
        k = min(rows, cols)
        if _any(a.backend, a.backend.eq(diagonal(r[..., :k]).data, 0)):
            raise ValueError(
                f"qr: the input (shape {tuple(a.shape)}) is rank-deficient (R has a zero on "
                f"its diagonal), so the QR factors have no gradient there.")
        if rows >= cols:
            return _qr_backward_tall(q, r, grad_q, grad_r), None
        # A = Q [X | Y] with X square: X = Q U gets the square formula, Y = Q V the rest.
        y = a[..., :, rows:]
        u = r[..., :, :rows]
        grad_v = grad_r[..., :, rows:]
        grad_x = _qr_backward_tall(q, u, grad_q + matmul(y, transposed(grad_v)),
                                   grad_r[..., :, :rows])
        return Concat.apply(a.ndim - 1, grad_x, matmul(q, grad_v)), None


def _qr_backward_tall(q, r, grad_q, grad_r):
    """The gradient of A = Q R for rows >= columns (reduced), with R square."""
    q_grad_q = matmul(transposed(q), grad_q)
    r_grad_r = matmul(r, transposed(grad_r))
    lower = tril(q_grad_q - transposed(q_grad_q) + r_grad_r - transposed(r_grad_r))
    grad_a = matmul(q, grad_r + _solve_right(lower, r))
    return grad_a + _solve_right(grad_q - matmul(q, q_grad_q), r)


# ------------------------------------------------------------------------------ eigh
class Eigh(Op):
    """(w, V) of a symmetric matrix, eigenvalues ascending, reading its lower triangle; the
    gradient is symmetric, as PyTorch's."""

    @staticmethod
    def forward(ctx, a):
        w, v = ctx.backend.eigh(a)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, grad_w, grad_v):
        # gA = V (diag(gw) + skew(V^T gV) / E) V^T, E_ij = w_j - w_i.
        w, v = ctx.saved_tensors
        v_grad_v = matmul(transposed(v), grad_v)
        skew = 0.5 * (v_grad_v - transposed(v_grad_v))
        gaps = w.unsqueeze(-2) - w.unsqueeze(-1)
        inner = _safe_divide_by_gaps(skew, gaps, "eigh", "eigenvalues") + diag_embed(grad_w)
        return matmul(matmul(v, inner), transposed(v))


# ------------------------------------------------------------------------------ svd
class SVD(Op):
    """(U, S, Vh) with A = U diag(S) Vh, S descending. With full_matrices, the columns of U
    and rows of Vh past min(m, n) get no gradient (they are any orthonormal completion), as
    in PyTorch."""

    @staticmethod
    def forward(ctx, a, full_matrices):
        u, s, vh = ctx.backend.svd(a, full_matrices)
        ctx.save_for_backward(u, s, vh)
        ctx.full_matrices = full_matrices
        return u, s, vh

    @staticmethod
    def backward(ctx, grad_u, grad_s, grad_vh):
        u, s, vh = ctx.saved_tensors
        rows, cols = u.shape[-2], vh.shape[-1]
        if ctx.full_matrices:
            k = s.shape[-1]
            u, grad_u = u[..., :, :k], grad_u[..., :, :k]
            vh, grad_vh = vh[..., :k, :], grad_vh[..., :k, :]
        u_grad_u = matmul(transposed(u), grad_u)
        vh_grad_v = matmul(vh, transposed(grad_vh))
        u_part = (u_grad_u - transposed(u_grad_u)) * s.unsqueeze(-2)
        v_part = s.unsqueeze(-1) * (vh_grad_v - transposed(vh_grad_v))
        squares = s * s
        gaps = squares.unsqueeze(-2) - squares.unsqueeze(-1)
        inner = (_safe_divide_by_gaps(u_part + v_part, gaps, "svd", "singular values")
                 + diag_embed(grad_s))
        if rows > cols:
            # The part of gU outside U's column space: (I - U U^T) gU S^-1.
            outside = grad_u - matmul(u, u_grad_u)
            grad_a = matmul(u, inner) + _divide_by_singular_values(outside, s, -2)
            return matmul(grad_a, vh), None
        if rows < cols:
            # The part of gVh outside Vh's row space: S^-1 gVh (I - Vh^T Vh).
            outside = grad_vh - matmul(transposed(vh_grad_v), vh)
            grad_a = matmul(inner, vh) + _divide_by_singular_values(outside, s, -1)
            return matmul(u, grad_a), None
        return matmul(matmul(u, inner), vh), None


def _divide_by_singular_values(t, s, axis):
    """t / s along `axis` (-2: columns of t scaled, -1: rows), for a rectangular SVD's extra
    term; a zero singular value under a nonzero t is a gradient that does not exist."""
    backend = s.backend
    s_b = s.unsqueeze(axis)
    zero = backend.eq(s_b.data, 0)
    if _any(backend, backend.mul(zero, backend.ne(t.data, 0))):
        raise ValueError(
            "svd: the gradient is not defined because the rectangular input is rank-deficient "
            "(a zero singular value) and the loss depends on the singular vectors. Use only "
            "the singular values, or make the input full rank.")
    return t / (s_b + Tensor(backend.astype(zero, backend.dtype_name(s.data)), backend))
