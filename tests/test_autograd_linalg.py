"""autograd.linalg: forward against numpy.linalg, gradients and second derivatives by finite
differences in float64, on every backend; PyTorch's gradients where torch is importable;
the errors for singular and degenerate inputs.

Matrices are tiny (the finite differences cost two evaluations per element) and drawn to be
well conditioned: diagonally dominant for inv/solve/det, symmetric positive-definite for
cholesky, symmetric with spread eigenvalues for eigh. A function of eigenvectors or singular
vectors is checked through a quantity that does not depend on their signs (V * V, U @ Vh),
as PyTorch's own tests do.
"""

import math
import zlib

import numpy as np
import pytest

import autograd as ag
from autograd import linalg

try:
    import torch
except ImportError:  # the comparisons with PyTorch are skipped, saying why
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not importable")


# ------------------------------------------------------------------------------ inputs
def well_conditioned(rng, *shape):
    n = shape[-1]
    return rng.standard_normal(shape) + n * np.eye(n)


def spd(rng, *shape):
    b = rng.standard_normal(shape)
    return b @ np.swapaxes(b, -1, -2) + shape[-1] * np.eye(shape[-1])


def symmetric(rng, *shape):
    """Symmetric, eigenvalues at least about 1 apart: their gaps stay away from zero."""
    n = shape[-1]
    q, _ = np.linalg.qr(rng.standard_normal(shape))
    values = np.arange(n) * 1.5 + rng.uniform(0, 0.5, shape[:-2] + (n,))
    return (q * values[..., None, :]) @ np.swapaxes(q, -1, -2)


def general(rng, *shape):
    return rng.standard_normal(shape)


def singular(rng, *shape):
    """Rank n - 1 with an exact zero determinant: the second row is zero."""
    a = rng.standard_normal(shape)
    a[..., 1, :] = 0.0
    return a


def t(array, requires_grad=False):
    return ag.tensor(np.asarray(array, dtype="float64"), requires_grad=requires_grad)


def sym(a):
    """The symmetric part: ops that read one triangle are checked through it."""
    return (a + a.swapaxes(-1, -2)) * 0.5


# ------------------------------------------------------------------------------ the table
# name, autograd function, NumPy reference, input maker, shapes. Each function returns one
# tensor or a tuple; the references return the same structure.
CASES = [
    ("inv", linalg.inv, np.linalg.inv, well_conditioned, [(3, 3), (2, 3, 3), (1, 1)]),
    ("det", linalg.det, np.linalg.det, well_conditioned, [(3, 3), (2, 3, 3), (1, 1)]),
    ("slogdet", lambda a: tuple(linalg.slogdet(a)), lambda a: tuple(np.linalg.slogdet(a)),
     general, [(3, 3), (2, 3, 3)]),
    ("cholesky", lambda a: linalg.cholesky(sym(a)),
     lambda a: np.linalg.cholesky(sym(a)), spd, [(3, 3), (2, 3, 3), (1, 1)]),
    ("cholesky-upper", lambda a: linalg.cholesky(sym(a), upper=True),
     lambda a: np.swapaxes(np.linalg.cholesky(sym(a)), -1, -2), spd, [(3, 3)]),
    ("qr", lambda a: tuple(linalg.qr(a)), lambda a: tuple(np.linalg.qr(a)), general,
     [(3, 3), (4, 3), (3, 4), (2, 4, 3), (1, 1)]),
    ("qr-complete-wide", lambda a: tuple(linalg.qr(a, mode="complete")),
     lambda a: tuple(np.linalg.qr(a, mode="complete")), general, [(2, 3)]),
    ("qr-r", lambda a: linalg.qr(a, mode="r"), lambda a: np.linalg.qr(a, mode="r"),
     general, [(4, 3)]),
    ("eigh", lambda a: (linalg.eigh(sym(a))[0], linalg.eigh(sym(a))[1] ** 2),
     lambda a: (np.linalg.eigh(sym(a))[0], np.linalg.eigh(sym(a))[1] ** 2), symmetric,
     [(3, 3), (2, 3, 3), (1, 1)]),
    ("eigh-upper", lambda a: linalg.eigh(sym(a), UPLO="U").eigenvalues,
     lambda a: np.linalg.eigh(sym(a), UPLO="U")[0], symmetric, [(3, 3)]),
    ("eigvalsh", lambda a: linalg.eigvalsh(sym(a)), lambda a: np.linalg.eigvalsh(sym(a)),
     symmetric, [(3, 3)]),
    ("svd", lambda a: svd_invariants(linalg.svd(a, full_matrices=False)),
     lambda a: svd_invariants(np.linalg.svd(a, full_matrices=False)), general,
     [(3, 3), (4, 3), (3, 4), (2, 3, 2), (1, 1)]),
    ("svd-full", lambda a: svd_invariants(linalg.svd(a), full=True),
     lambda a: svd_invariants(np.linalg.svd(a), full=True), general, [(4, 3), (2, 3)]),
    ("svdvals", linalg.svdvals, lambda a: np.linalg.svd(a, compute_uv=False), general,
     [(3, 3), (2, 4, 3)]),
    ("ag.svd", lambda a: svd_invariants(ag.svd(a)),
     lambda a: svd_invariants(np.linalg.svd(a, full_matrices=False)), general, [(3, 2)]),
    ("pinv", linalg.pinv, np.linalg.pinv, general,
     [(3, 3), (4, 3), (3, 4), (2, 2, 3), (1, 1)]),
    ("pinv-hermitian", lambda a: linalg.pinv(sym(a), hermitian=True),
     lambda a: np.linalg.pinv(sym(a), hermitian=True), symmetric, [(3, 3)]),
    ("matrix_power-3", lambda a: linalg.matrix_power(a, 3),
     lambda a: np.linalg.matrix_power(a, 3), general, [(3, 3), (2, 2, 2)]),
    ("matrix_power-1", lambda a: linalg.matrix_power(a, 1),
     lambda a: np.linalg.matrix_power(a, 1), general, [(2, 2)]),
    ("matrix_power--2", lambda a: linalg.matrix_power(a, -2),
     lambda a: np.linalg.matrix_power(a, -2), well_conditioned, [(3, 3), (2, 2, 2)]),
]


def svd_invariants(usv, full=False):
    """S, U Vh, U * U and Vh * Vh: what gradcheck may look at, since each pair of singular
    vectors is defined up to a common sign (and, with full_matrices, only the first
    min(m, n) of them are determined)."""
    u, s, vh = usv
    k = s.shape[-1]
    if full:
        u, vh = u[..., :, :k], vh[..., :k, :]
    return s, u @ vh, u * u, vh * vh


def _seed(name, shape):
    return zlib.crc32(repr((name, shape)).encode())


def _ids():
    return [f"{name}-{'x'.join(map(str, shape))}" for name, *_, shapes in CASES
            for shape in shapes]


def _rows():
    return [(name, fn, ref, make, shape) for name, fn, ref, make, shapes in CASES
            for shape in shapes]


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


@pytest.mark.parametrize("name, fn, ref, make, shape", _rows(), ids=_ids())
def test_forward_matches_numpy(backend, name, fn, ref, make, shape):
    data = make(np.random.default_rng(_seed(name, shape)), *shape)
    got = _as_tuple(fn(t(data)))
    want = _as_tuple(ref(data))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.backend.name == backend
        assert g.shape == np.shape(w)
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name, fn, ref, make, shape", _rows(), ids=_ids())
def test_gradients_and_second_derivatives(backend, name, fn, ref, make, shape):
    data = make(np.random.default_rng(_seed(name, shape)), *shape)
    a = t(data, requires_grad=True)
    assert ag.gradcheck(fn, (a,))
    assert ag.gradgradcheck(fn, (a,))


def test_solve_matrix_and_vector_right_hand_sides(backend):
    rng = np.random.default_rng(0)
    a = well_conditioned(rng, 2, 3, 3)
    for b in (rng.standard_normal((3,)), rng.standard_normal((2, 3)),
              rng.standard_normal((2, 3, 2)), rng.standard_normal((3, 2))):
        got = linalg.solve(t(a), t(b))
        vector = b.ndim == 1 or b.shape == a.shape[:-1]
        want = np.linalg.solve(a, b[..., None])[..., 0] if vector else np.linalg.solve(a, b)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-10)
        a_t, b_t = t(a, requires_grad=True), t(b, requires_grad=True)
        assert ag.gradcheck(linalg.solve, (a_t, b_t))
        assert ag.gradgradcheck(linalg.solve, (a_t, b_t))


def test_solve_broadcasts_a_single_matrix_over_a_batch(backend):
    rng = np.random.default_rng(1)
    a, b = t(well_conditioned(rng, 3, 3), True), t(rng.standard_normal((2, 3, 2)), True)
    assert ag.gradcheck(linalg.solve, (a, b))


# ------------------------------------------------------------------------------ norms
VECTOR = np.array([[3.0, -4.0, 0.5], [-1.0, 2.0, 2.5]])
NORM_CASES = [
    (None, None, False), (None, 1, False), (None, 0, True), (2, 1, False),
    (1, -1, False), (math.inf, 1, True), (-math.inf, 0, False), (3, 1, False),
    (0.5, 1, False), (-1, 1, False), (0, 1, False), ("fro", None, False),
    ("nuc", None, False), (2, None, False), (-2, (1, 0), False), (1, (0, 1), True),
    (-1, None, False), (math.inf, (1, 0), False), (-math.inf, None, True),
    (None, (0, 1), True),
]


@pytest.mark.parametrize("ord, axis, keepdims", NORM_CASES,
                         ids=[f"{o}-{a}-{k}" for o, a, k in NORM_CASES])
def test_norm_matches_numpy_with_gradients(backend, ord, axis, keepdims):
    got = linalg.norm(t(VECTOR), ord, axis, keepdims)
    want = np.linalg.norm(VECTOR, ord, axis, keepdims)
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    x = t(VECTOR, requires_grad=True)

    def fn(v):
        return linalg.norm(v, ord, axis, keepdims)

    assert ag.gradcheck(fn, (x,))
    assert ag.gradgradcheck(fn, (x,))


def test_norm_of_a_stack_over_trailing_axes_and_torch_names(backend):
    x = np.random.default_rng(2).standard_normal((2, 3, 4))
    for ord in ("fro", "nuc", 2, -2, 1, math.inf):
        got = linalg.norm(t(x), ord, dim=(-2, -1), keepdim=True)
        np.testing.assert_allclose(got.numpy(), np.linalg.norm(x, ord, (-2, -1), True),
                                   rtol=1e-12)
    np.testing.assert_allclose(linalg.vector_norm(t(x), 3).numpy(),
                               np.sum(np.abs(x) ** 3) ** (1 / 3), rtol=1e-12)
    np.testing.assert_allclose(linalg.matrix_norm(t(x), "nuc").numpy(),
                               np.linalg.norm(x, "nuc", (-2, -1)), rtol=1e-12)


def test_norm_of_a_scalar_and_of_a_one_element_vector(backend):
    for shape in ((), (1,)):
        x = t(np.full(shape, -2.5), requires_grad=True)
        np.testing.assert_allclose(linalg.norm(x).numpy(), 2.5)
        assert ag.gradcheck(linalg.norm, (x,))
        assert ag.gradgradcheck(lambda v: linalg.vector_norm(v, 3), (x,))


@pytest.mark.parametrize("ord", [2, 3, 1.5, 0.5, 1, math.inf])
def test_norm_of_zero_has_gradient_zero_not_nan(backend, ord):
    x = t(np.zeros((3,)), requires_grad=True)
    linalg.norm(x, ord).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(3))


def test_norm_rejects_bad_arguments(backend):
    x = t(VECTOR)
    with pytest.raises(ValueError, match="invalid order"):
        linalg.norm(x, 3, (0, 1))
    with pytest.raises(ValueError, match="matrix norm"):
        linalg.norm(x, "fro", 0)
    with pytest.raises(ValueError, match="1-D or 2-D"):
        linalg.norm(t(np.ones((2, 2, 2))), 2)
    with pytest.raises(TypeError, match="both axis"):
        linalg.norm(x, axis=0, dim=0)


# ------------------------------------------------------------------------------ singular input
def test_inverting_a_singular_matrix_raises_saying_so(backend):
    singular = t([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(ValueError, match="inv.*singular.*pinv"):
        linalg.inv(singular)
    with pytest.raises(ValueError, match="solve.*singular"):
        linalg.solve(singular, t([1.0, 1.0]))
    with pytest.raises(ValueError, match="matrix_power.*singular|inv.*singular"):
        linalg.matrix_power(singular, -1)


def test_cholesky_of_an_indefinite_matrix_raises_saying_so(backend):
    with pytest.raises(ValueError, match="cholesky.*positive-definite"):
        linalg.cholesky(t([[1.0, 2.0], [2.0, 1.0]]))


def test_det_of_a_singular_matrix_is_zero_with_the_cofactors_as_gradient(backend):
    data = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [0.5, 1.0, 4.0]])  # rank 2
    a = t(data, requires_grad=True)
    d = linalg.det(a)
    assert d.item() == pytest.approx(0.0, abs=1e-12)
    d.backward()
    cofactors = np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(data, i, 0),
                                                                      j, 1))
                           for j in range(3)] for i in range(3)])
    assert np.all(np.isfinite(a.grad.numpy()))
    np.testing.assert_allclose(a.grad.numpy(), cofactors, atol=1e-10)
    assert ag.gradcheck(linalg.det, (t(data, requires_grad=True),))


def test_slogdet_of_a_singular_matrix_gives_minus_inf_and_no_silent_gradient(backend):
    a = t([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)
    sign, logabsdet = linalg.slogdet(a)
    assert sign.item() == 0 and logabsdet.item() == -math.inf
    with pytest.raises(ValueError, match="slogdet.*singular"):
        logabsdet.backward()


def test_repeated_eigenvalues_raise_only_when_the_vectors_matter(backend):
    a = t(np.diag([1.0, 1.0, 2.0]), requires_grad=True)
    linalg.eigvalsh(a).sum().backward()  # the eigenvalues alone are differentiable
    np.testing.assert_allclose(a.grad.numpy(), np.eye(3), atol=1e-12)
    v = linalg.eigh(a).eigenvectors
    with pytest.raises(ValueError, match="eigh.*repeated eigenvalues"):
        (v[..., 0] * t([1.0, 2.0, 3.0])).sum().backward()


def test_repeated_singular_values_raise_only_when_the_vectors_matter(backend):
    a = t(np.eye(3), requires_grad=True)
    linalg.norm(a, "nuc").backward()
    np.testing.assert_allclose(a.grad.numpy(), np.eye(3), atol=1e-12)
    u = linalg.svd(a).U
    with pytest.raises(ValueError, match="svd.*repeated singular values"):
        (u[0] * t([1.0, 2.0, 3.0])).sum().backward()


def test_qr_without_a_gradient_says_why(backend):
    rng = np.random.default_rng(3)
    q = linalg.qr(t(rng.standard_normal((3, 2)), requires_grad=True), mode="complete").Q
    with pytest.raises(ValueError, match="mode='complete'.*reduced"):
        q.sum().backward()
    deficient = t([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]], requires_grad=True)
    q = linalg.qr(deficient).Q
    with pytest.raises(ValueError, match="qr.*rank-deficient"):
        q.sum().backward()


def test_shapes_and_dtypes_are_checked(backend):
    with pytest.raises(ValueError, match="inv.*square"):
        linalg.inv(t(np.ones((2, 3))))
    with pytest.raises(ValueError, match="det.*stack of matrices"):
        linalg.det(t(np.ones(3)))
    with pytest.raises(TypeError, match="floating-point"):
        linalg.inv(ag.tensor([[1, 0], [0, 1]]))
    with pytest.raises(ValueError, match="solve.*does not fit"):
        linalg.solve(t(np.eye(3)), t(np.ones(2)))
    with pytest.raises(TypeError, match="matrix_power.*int"):
        linalg.matrix_power(t(np.eye(2)), 1.5)


def test_a_factor_left_unused_or_dropped_gets_a_zero_gradient(backend):
    data = symmetric(np.random.default_rng(4), 3, 3)
    a = t(data, requires_grad=True)
    linalg.eigh(a)[0].sum().backward()  # the eigenvectors are dropped at once
    np.testing.assert_allclose(a.grad.numpy(), np.eye(3), atol=1e-10)
    a = t(data, requires_grad=True)
    linalg.slogdet(a).logabsdet.backward()
    np.testing.assert_allclose(a.grad.numpy(), np.linalg.inv(data).T, rtol=1e-10)


def test_matrix_power_zero_is_the_identity(backend):
    a = t(np.random.default_rng(5).standard_normal((2, 3, 3)), requires_grad=True)
    np.testing.assert_array_equal(linalg.matrix_power(a, 0).numpy(),
                                  np.broadcast_to(np.eye(3), (2, 3, 3)))


# ------------------------------------------------------------------------------ PyTorch
TORCH_CASES = [
    ("inv", lambda m, a: m.inv(a), well_conditioned, (2, 3, 3)),
    ("det", lambda m, a: m.det(a), well_conditioned, (2, 3, 3)),
    ("det-singular", lambda m, a: m.det(a), singular, (3, 3)),
    ("slogdet", lambda m, a: m.slogdet(a)[1], well_conditioned, (3, 3)),
    ("cholesky", lambda m, a: m.cholesky(a), spd, (2, 3, 3)),
    ("qr", lambda m, a: m.qr(a)[0] + m.qr(a)[1][..., :1, :].sum(), general, (4, 3)),
    ("qr-wide", lambda m, a: m.qr(a)[0].sum() + m.qr(a)[1], general, (2, 4)),
    ("eigh", lambda m, a: m.eigh(a)[1] ** 2 + m.eigh(a)[0], symmetric, (3, 3)),
    ("svd", lambda m, a: m.svd(a, full_matrices=False)[0] ** 2, general, (4, 3)),
    ("svd-wide", lambda m, a: m.svd(a, full_matrices=False)[2] ** 2, general, (2, 4)),
    ("svd-full", lambda m, a: m.svd(a)[0] ** 2 + m.svd(a)[1].sum(), general, (4, 3)),
    ("pinv", lambda m, a: m.pinv(a), general, (3, 4)),
    ("matrix_power", lambda m, a: m.matrix_power(a, -3), well_conditioned, (3, 3)),
    ("norm-nuc", lambda m, a: m.norm(a, "nuc"), general, (3, 4)),
    ("norm-2", lambda m, a: m.norm(a, 2, dim=(0, 1)), general, (3, 4)),
    ("norm-inf", lambda m, a: m.norm(a, math.inf, dim=1), general, (3, 4)),
    ("norm-p", lambda m, a: m.norm(a, 0.7, dim=0), general, (3, 4)),
]


@needs_torch
@pytest.mark.parametrize("name, fn, make, shape", TORCH_CASES,
                         ids=[c[0] for c in TORCH_CASES])
def test_gradients_agree_with_torch(backend, name, fn, make, shape):
    data = make(np.random.default_rng(_seed(name, shape)), *shape)
    upstream_rng = np.random.default_rng(7)
    a = t(data, requires_grad=True)
    out = fn(linalg, a)
    upstream = upstream_rng.standard_normal(out.shape)
    (grad,) = ag.grad(out, a, t(upstream), create_graph=True)
    a_torch = torch.tensor(data, requires_grad=True)
    out_torch = fn(torch.linalg, a_torch)
    np.testing.assert_allclose(out.numpy(), out_torch.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    (grad_torch,) = torch.autograd.grad(out_torch, a_torch, torch.tensor(upstream),
                                        create_graph=True)
    np.testing.assert_allclose(grad.numpy(), grad_torch.detach().numpy(), rtol=1e-8,
                               atol=1e-10)
    # and a second derivative: the gradient of a weighted sum of the gradient
    weights = upstream_rng.standard_normal(shape)
    (second_torch,) = torch.autograd.grad((grad_torch * torch.tensor(weights)).sum(), a_torch,
                                          allow_unused=True)
    if not grad.requires_grad:  # a piecewise-linear function: its gradient is constant
        assert second_torch is None or not second_torch.any()
        return
    (second,) = ag.grad((grad * t(weights)).sum(), a)
    expected = (np.zeros(shape) if second_torch is None
                else second_torch.detach().numpy(force=True))
    np.testing.assert_allclose(second.numpy(), expected, rtol=1e-7, atol=1e-9)
