"""`autograd.linalg`: linear algebra with gradients, named as in numpy.linalg and
torch.linalg.

    import autograd as ag
    a = ag.randn(3, 3, dtype="float64", requires_grad=True)
    sign, logabsdet = ag.linalg.slogdet(a)
    logabsdet.backward()          # a.grad == inv(a).T

Every function takes a matrix or a stack of them (..., m, n) and works on each matrix of the
stack. Arguments carry NumPy's names (`axis`, `keepdims`), with PyTorch's (`dim`,
`keepdim`) accepted too. Gradients, and second derivatives, are PyTorch's, including its
conventions where a decomposition is not unique: a singular matrix raises a ValueError
where there is no answer (inv, solve, the gradient of slogdet), and det gives 0 with the
cofactor matrix as its gradient.
"""

import math
from collections import namedtuple

from .operands import as_tensor, as_tensor_like, common_backend, normalize_axes
from .ops.decompositions import (
    QR,
    SVD,
    Cholesky,
    Det,
    Eigh,
    Inv,
    SlogDet,
    Solve,
    eye_like,
    transposed,
)
from .ops.norms import EPSILON, Pinv, VectorNorm
from .ops.reduce import kept_shape

SlogdetResult = namedtuple("SlogdetResult", "sign logabsdet")
QRResult = namedtuple("QRResult", "Q R")
EighResult = namedtuple("EighResult", "eigenvalues eigenvectors")
SVDResult = namedtuple("SVDResult", "U S Vh")

__all__ = ["EighResult", "QRResult", "SVDResult", "SlogdetResult", "cholesky", "det", "eigh",
           "eigvalsh", "inv", "matrix_norm", "matrix_power", "norm", "pinv", "qr", "slogdet",
           "solve", "svd", "svdvals", "vector_norm"]


# ------------------------------------------------------------------------------ checks
def _matrices(op, a, square=False):
    """`a` as a floating-point Tensor of at least two dimensions (square ones if asked)."""
    a = as_tensor(a)
    if not a.dtype.is_floating:
        raise TypeError(f"linalg.{op}: expects a floating-point tensor, got {a.dtype}; "
                        f"convert it with .astype('float64')")
    if a.ndim < 2:
        raise ValueError(f"linalg.{op}: expects a matrix or a stack of matrices (..., m, n), "
                         f"got shape {tuple(a.shape)}")
    if square and a.shape[-1] != a.shape[-2]:
        raise ValueError(f"linalg.{op}: expects square matrices (..., n, n), got shape "
                         f"{tuple(a.shape)}")
    return a


def _axis_alias(op, axis, dim, keepdims, keepdim):
    """NumPy's `axis`/`keepdims`, or PyTorch's `dim`/`keepdim`; not both."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"linalg.{op}: got both axis={axis!r} and dim={dim!r}; they are "
                            f"the same argument, pass one")
        axis = dim
    if keepdim is not None:
        keepdims = keepdim
    return axis, bool(keepdims)


# ------------------------------------------------------------------------------ inverse, solve
def inv(a):
    """The inverse of each square matrix; a singular one raises ValueError."""
    return Inv.apply(_matrices("inv", a, square=True))


def solve(a, b):
    """x with a @ x == b. `b` is a stack of vectors (..., n) when it is 1-D or has one
    dimension less than `a` with a's batch shape (PyTorch's rule), else of matrices
    (..., n, k); batch axes broadcast. A singular `a` raises ValueError."""
    a = _matrices("solve", a, square=True)
    common_backend("linalg.solve", (a, b))
    b = as_tensor_like(a, b)
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    columns = b.unsqueeze(-1) if vector else b
    if columns.ndim < 2 or columns.shape[-2] != a.shape[-1]:
        raise ValueError(f"linalg.solve: b of shape {tuple(b.shape)} does not fit a of shape "
                         f"{tuple(a.shape)}: b must be (..., {a.shape[-1]}) or "
                         f"(..., {a.shape[-1]}, k)")
    x = Solve.apply(a, columns)
    return x.squeeze(-1) if vector else x


def pinv(a, rcond=None, hermitian=False, *, rtol=None, atol=None):
    """The Moore-Penrose pseudo-inverse of each matrix. Singular values at or below
    max(atol, rtol * largest) count as zero; `rcond` is NumPy's name for `rtol`; by default
    rtol = max(m, n) * eps of the dtype (PyTorch's default) unless atol is given. With
    `hermitian`, `a` is taken as symmetric (its lower triangle is read)."""
    a = _matrices("pinv", a, square=hermitian)
    if rcond is not None:
        if rtol is not None:
            raise TypeError("linalg.pinv: got both rcond and rtol; they are the same "
                            "argument, pass one")
        rtol = rcond
    if rtol is None:
        rtol = 0.0 if atol else max(a.shape[-2:]) * EPSILON[str(a.dtype)]
    return Pinv.apply(a, float(rtol), float(atol or 0.0), bool(hermitian))


def matrix_power(a, n):
    """a @ a @ ... (n times) for an integer n: the identity for 0, powers of inv(a) for
    n < 0. Computed by repeated squaring, so its gradient is that of the products."""
    a = _matrices("matrix_power", a, square=True)
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {n!r}")
    if n == 0:
        return eye_like(a, a.shape[-1]).broadcast_to(a.shape)
    if n < 0:
        a, n = inv(a), -n
    result = None
    while True:
        if n & 1:
            result = a if result is None else result @ a
        n >>= 1
        if not n:
            return result.clone() if result is a else result
        a = a @ a


# ------------------------------------------------------------------------------ determinants
def det(a):
    """The determinant of each square matrix, 0 for a singular one (its gradient is then
    the cofactor matrix, as in PyTorch)."""
    return Det.apply(_matrices("det", a, square=True))


def slogdet(a):
    """(sign, log|det|) of each square matrix; a singular one gives (0, -inf), and the
    gradient of log|det| there raises ValueError."""
    return SlogdetResult(*SlogDet.apply(_matrices("slogdet", a, square=True)))


# ------------------------------------------------------------------------------ decompositions
def cholesky(a, upper=False):
    """The lower-triangular L with a == L @ L.T (or the upper L.T with `upper`), reading
    a's lower triangle; a matrix that is not positive-definite raises ValueError."""
    lower = Cholesky.apply(_matrices("cholesky", a, square=True))
    return transposed(lower) if upper else lower


def qr(a, mode="reduced"):
    """(Q, R) with a == Q @ R: mode "reduced" (Q (..., m, k), R (..., k, n), k = min(m, n)),
    "complete" (Q (..., m, m)) or "r" (R alone, as NumPy returns it)."""
    a = _matrices("qr", a)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got "
                         f"{mode!r}")
    if mode == "r":
        return QR.apply(a, "reduced")[1]
    return QRResult(*QR.apply(a, mode))


def eigh(a, UPLO="L"):
    """(eigenvalues ascending, eigenvectors as columns) of each symmetric matrix, read from
    its lower triangle (UPLO="L") or upper one ("U"). The gradient through the
    eigenvectors raises ValueError where eigenvalues repeat."""
    a = _matrices("eigh", a, square=True)
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    return EighResult(*Eigh.apply(a if UPLO == "L" else transposed(a)))


def eigvalsh(a, UPLO="L"):
    """The eigenvalues of each symmetric matrix, ascending; differentiable everywhere."""
    return eigh(a, UPLO).eigenvalues


def svd(a, full_matrices=True):
    """(U, S, Vh) with a == U @ diag(S) @ Vh, S descending. `full_matrices` (the default,
    as in NumPy and PyTorch) makes U and Vh square; their columns and rows past min(m, n)
    get no gradient. The gradient through U or Vh raises ValueError where singular values
    repeat."""
    a = _matrices("svd", a)
    return SVDResult(*SVD.apply(a, bool(full_matrices)))


def svdvals(a):
    """The singular values of each matrix, descending; differentiable everywhere."""
    return svd(a, full_matrices=False).S


# ------------------------------------------------------------------------------ norms
def _axis_pair(axis, ndim):
    """The two distinct axes of a matrix norm, non-negative, in the order given."""
    pair = (axis,) if isinstance(axis, int) else tuple(axis)
    if len(pair) != 2 or len({a % ndim for a in pair if isinstance(a, int)}) != 2:
        raise ValueError(f"linalg.matrix_norm: axis must be two different axes, got {axis!r}")
    normalize_axes("linalg.matrix_norm", pair, ndim)  # types and ranges
    return tuple(a % ndim for a in pair)


_MATRIX_ORDERS = (None, "fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)


def vector_norm(x, ord=2, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """The p-norm (sum |x|^p)^(1/p) over `axis` (all axes when None); ord inf and -inf are
    the largest and smallest |x|, 0 counts the nonzero entries."""
    axis, keepdims = _axis_alias("vector_norm", axis, dim, keepdims, keepdim)
    x = as_tensor(x)
    if not x.dtype.is_floating:
        raise TypeError(f"linalg.vector_norm: expects a floating-point tensor, got {x.dtype}")
    if isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise ValueError(f"linalg.vector_norm: ord must be a number (or inf, -inf), got "
                         f"{ord!r}")
    axes = normalize_axes("linalg.vector_norm", axis, x.ndim)
    return VectorNorm.apply(x, float(ord), axes, keepdims)


def matrix_norm(x, ord="fro", axis=(-2, -1), keepdims=False, *, dim=None,
                keepdim=None):
    """A matrix norm over the two axes `axis`: "fro" (Frobenius), "nuc" (sum of singular
    values), 2 / -2 (largest / smallest singular value), 1 / -1 (largest / smallest column
    sum of |x|), inf / -inf (largest / smallest row sum of |x|)."""
    axis, keepdims = _axis_alias("matrix_norm", axis, dim, keepdims, keepdim)
    x = as_tensor(x)
    if not x.dtype.is_floating:
        raise TypeError(f"linalg.matrix_norm: expects a floating-point tensor, got {x.dtype}")
    if ord not in _MATRIX_ORDERS or isinstance(ord, bool):
        raise ValueError(f"linalg.matrix_norm: invalid order {ord!r} for matrices; use one "
                         f"of 'fro', 'nuc', 1, -1, 2, -2, inf, -inf")
    rows, cols = _axis_pair(axis, x.ndim)
    if ord in (None, "fro"):
        return VectorNorm.apply(x, 2.0, tuple(sorted((rows, cols))), keepdims)
    if ord in ("nuc", 2, -2):
        others = [i for i in range(x.ndim) if i not in (rows, cols)]
        values = svdvals(x.transpose(others + [rows, cols]))
        result = (values.sum(axis=-1) if ord == "nuc" else
                  values.max(axis=-1) if ord == 2 else values.min(axis=-1))
        return result.reshape(kept_shape(x.shape, (rows, cols))) if keepdims else result
    # 1 and inf: a sum of |x| down one axis, then the extreme over the other.
    summed, across = (rows, cols) if abs(ord) == 1 else (cols, rows)
    sums = x.abs().sum(axis=summed, keepdims=True)
    result = (sums.max if ord > 0 else sums.min)(axis=across, keepdims=True)
    return result if keepdims else result.squeeze((rows, cols))


def norm(x, ord=None, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """numpy.linalg.norm / torch.linalg.norm: with `axis` None, the 2-norm of all entries
    when `ord` is None, else the vector norm of a 1-D or the matrix norm of a 2-D `x`; an
    int `axis` gives vector norms, a pair of axes matrix norms."""
    axis, keepdims = _axis_alias("norm", axis, dim, keepdims, keepdim)
    x = as_tensor(x)
    if axis is None:
        if ord is None:
            return vector_norm(x, 2, None, keepdims)
        if x.ndim == 1:
            axis = 0
        elif x.ndim == 2:
            axis = (0, 1)
        else:
            raise ValueError(f"linalg.norm: with ord={ord!r} and no axis, x must be 1-D or "
                             f"2-D, got shape {tuple(x.shape)}; pass axis (an int for vector "
                             f"norms, a pair for matrix norms)")
    if isinstance(axis, int) or len(tuple(axis)) == 1:
        if isinstance(ord, str):
            raise ValueError(f"linalg.norm: ord={ord!r} is a matrix norm; pass a pair of "
                             f"axes, or a number for a vector norm")
        return vector_norm(x, 2 if ord is None else ord, axis, keepdims)
    if len(tuple(axis)) == 2:
        return matrix_norm(x, "fro" if ord is None else ord, tuple(axis), keepdims)
    raise ValueError(f"linalg.norm: axis must be None, an int or a pair of ints, got "
                     f"{axis!r}")
