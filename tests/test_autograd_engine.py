"""The graph machinery: accumulation, retain/free, create_graph, grad(), hooks, grad modes,
custom Functions, version counters, jacobian/hessian and gradcheck's own failure reports."""

import gc
import weakref

import numpy as np
import pytest

import autograd as ag


def f64(values, requires_grad=True):
    return ag.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


# ------------------------------------------------------------------------------ backward
def test_quick_start_example(backend):
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = (x @ x.T).relu().sum()
    y.backward()
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    # d/dx sum(x x^T) = (1 1^T) x + (1 1^T)^T x
    expected = np.ones((2, 2)) @ a * 2
    np.testing.assert_allclose(x.grad.numpy(), expected)
    assert x.grad.dtype == "float32" and x.grad.shape == (2, 2)
    assert x.grad.backend.name == backend


def test_gradients_accumulate_until_reset(backend):
    x = f64([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 + 3, 4 + 3])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3, 3])


def test_shared_gradient_tensors_are_not_aliased(backend):
    x, y = f64([1.0, 2.0]), f64([3.0, 4.0])
    (x + y).sum().backward()
    with ag.no_grad():
        x.grad *= 0
    np.testing.assert_allclose(y.grad.numpy(), [1.0, 1.0])


def test_diamond_graph_sums_both_paths(backend):
    x = f64([0.5, -1.0])
    a = x.tanh()
    y = (a * a + a.exp()).sum()
    y.backward()
    t = np.tanh([0.5, -1.0])
    np.testing.assert_allclose(x.grad.numpy(), (2 * t + np.exp(t)) * (1 - t ** 2))


def test_node_made_early_waits_for_every_later_consumer(backend):
    # `a` is made first and reaches the loss through three paths of different lengths; its
    # backward must run once, with the sum of all three.
    x = f64([0.3, -0.7])
    a = x.sin()
    b = a * 2.0
    c = (b * a).exp()
    y = (a + b.tanh() + c).sum()
    y.backward()
    v = np.array([0.3, -0.7])
    s = np.sin(v)
    dy_da = 1 + 2 * (1 - np.tanh(2 * s) ** 2) + np.exp(2 * s * s) * 4 * s
    np.testing.assert_allclose(x.grad.numpy(), dy_da * np.cos(v))


def test_leaf_used_many_times_sums_every_use(backend):
    # The sum of a leaf's gradients is kept in place from the third use on; the result
    # must hold every use, and share memory with none of the gradients summed.
    x, w = f64([1.0, -2.0]), f64([0.5, 0.25])
    h = x
    for _ in range(5):
        h = h * w + w
    upstream = ag.tensor(np.array([1.0, 1.0]))
    h.backward(upstream)
    wv, hv, dh_dw = np.array([0.5, 0.25]), np.array([1.0, -2.0]), np.zeros(2)
    for _ in range(5):  # h' = h w + w, so dh'/dw = (dh/dw) w + h + 1
        dh_dw, hv = dh_dw * wv + hv + 1, hv * wv + wv
    np.testing.assert_allclose(w.grad.numpy(), dh_dw)
    np.testing.assert_allclose(x.grad.numpy(), wv ** 5)
    np.testing.assert_allclose(upstream.numpy(), [1.0, 1.0])


def test_leaf_sums_stay_differentiable_with_create_graph(backend):
    w = f64([0.5, 2.0])
    h = w
    for _ in range(3):
        h = h * w
    (g,) = ag.grad(h.sum(), [w], create_graph=True)
    g.sum().backward()
    np.testing.assert_allclose(g.numpy(), 4 * np.array([0.5, 2.0]) ** 3)
    np.testing.assert_allclose(w.grad.numpy(), 12 * np.array([0.5, 2.0]) ** 2)


def test_second_backward_through_freed_graph_says_retain_graph(backend):
    x = f64([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward(backend):
    x = f64([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_backward_on_non_scalar_needs_a_gradient(backend):
    x = f64([1.0, 2.0])
    y = x * 2
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*gradient"):
        y.backward()
    y.backward(ag.tensor([1.0, 10.0], dtype="float64"))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])


def test_backward_gradient_of_wrong_shape_is_refused(backend):
    y = f64([1.0, 2.0]) * 2
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        y.backward(ag.ones(3, dtype="float64"))


def test_backward_without_requires_grad_raises(backend):
    with pytest.raises(RuntimeError, match="does not require grad"):
        (ag.ones(2) * 2).sum().backward()


def test_million_op_chain_backpropagates_without_recursion():
    x = ag.tensor([0.1, 0.2, 0.3, 0.4], requires_grad=True)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.ones(4))
    del y
    gc.collect()


def test_graph_is_freed_by_reference_counting(backend):
    x = f64([1.0, 2.0])
    e = x.exp()
    intermediate = weakref.ref(e)
    y = (e * x).sum()
    del e
    assert intermediate() is not None, "the graph keeps what backward needs"
    del y
    assert intermediate() is None


# ------------------------------------------------------------------------------ grad()
def test_grad_returns_without_touching_dot_grad(backend):
    x, w = f64([1.0, 2.0]), f64([3.0, 4.0])
    y = (x * w).sum()
    gx, gw = ag.grad(y, [x, w])
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(gw.numpy(), [1.0, 2.0])
    assert x.grad is None and w.grad is None


def test_grad_of_intermediate_tensor(backend):
    x = f64([1.0, 2.0])
    h = x * 3
    y = (h * h).sum()
    (gh,) = ag.grad(y, h)
    np.testing.assert_allclose(gh.numpy(), 2 * 3 * np.array([1.0, 2.0]))


def test_grad_unused_input_raises_or_gives_none(backend):
    x, unused = f64([1.0]), f64([2.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        ag.grad(y, [x, unused], retain_graph=True)
    gx, gu = ag.grad(y, [x, unused], allow_unused=True)
    assert gu is None
    np.testing.assert_allclose(gx.numpy(), [2.0])


def test_create_graph_gives_hessian_vector_product(backend):
    x = f64([1.0, -2.0, 0.5])
    v = f64([0.3, 0.1, -1.0], requires_grad=False)
    y = (x ** 3).sum() + (x[0] * x[1])
    (g,) = ag.grad(y, x, create_graph=True)
    (hv,) = ag.grad((g * v).sum(), x)
    hessian = np.diag(6 * np.array([1.0, -2.0, 0.5]))
    hessian[0, 1] = hessian[1, 0] = 1.0
    np.testing.assert_allclose(hv.numpy(), hessian @ v.numpy())


def test_backward_create_graph_then_gradient_penalty(backend):
    w = f64([0.5, -0.3])
    x = f64([1.0, 2.0])
    out = (w * x).tanh().sum()
    out.backward(create_graph=True)
    penalty = (x.grad * x.grad).sum()
    w.grad = None
    penalty.backward()
    # penalty = sum((w (1 - tanh^2(w x)))^2); its derivative in w, written out:
    wv, xv = np.array([0.5, -0.3]), np.array([1.0, 2.0])
    t = np.tanh(wv * xv)
    s = 1 - t ** 2
    expected = 2 * (wv * s) * (s + wv * (-2 * t * s * xv))
    np.testing.assert_allclose(w.grad.numpy(), expected)


def test_jacobian_shape_and_values(backend):
    x = f64([[1.0, 2.0], [3.0, 4.0]])
    jac = ag.jacobian(lambda t: t.tanh().sum(axis=0), x)
    assert jac.shape == (2, 2, 2)
    d = 1 - np.tanh(x.numpy()) ** 2
    expected = np.zeros((2, 2, 2))
    for j in range(2):
        expected[j, :, j] = d[:, j]
    np.testing.assert_allclose(jac.numpy(), expected)


def test_jacobian_of_tuple_inputs(backend):
    a, b = f64([1.0, 2.0]), f64([3.0])
    ja, jb = ag.jacobian(lambda p, q: p * q, (a, b))
    np.testing.assert_allclose(ja.numpy(), np.diag([3.0, 3.0]))
    np.testing.assert_allclose(jb.numpy(), [[1.0], [2.0]])


def test_hessian_of_quadratic_form(backend):
    m = np.array([[2.0, 1.0], [1.0, 3.0]])
    a = ag.tensor(m, dtype="float64")
    h = ag.hessian(lambda x: (x @ a @ x) * 0.5, f64([0.3, -0.7]))
    np.testing.assert_allclose(h.numpy(), m)


def test_hessian_of_tuple_inputs(backend):
    (hxx, hxy), (hyx, hyy) = ag.hessian(lambda x, y: (x * x * y).sum(), (f64([2.0]), f64([3.0])))
    np.testing.assert_allclose([hxx.item(), hxy.item(), hyx.item(), hyy.item()],
                               [6.0, 4.0, 4.0, 0.0])


# ------------------------------------------------------------------------------ grad modes
def test_no_grad_and_enable_grad_as_context_managers(backend):
    x = f64([1.0])
    with ag.no_grad():
        assert not ag.is_grad_enabled()
        y = x * 2
        with ag.enable_grad():
            z = x * 2
    assert ag.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad


def test_no_grad_as_decorator_keeps_the_function(backend):
    @ag.no_grad()
    def evaluate(t):
        """Doc."""
        return t * 2

    assert evaluate.__name__ == "evaluate" and evaluate.__doc__ == "Doc."
    assert not evaluate(f64([1.0])).requires_grad
    assert ag.is_grad_enabled()


def test_enable_grad_as_decorator_inside_no_grad(backend):
    @ag.enable_grad()
    def record(t):
        return t * 2

    with ag.no_grad():
        assert record(f64([1.0])).requires_grad


def test_set_grad_enabled(backend):
    ag.set_grad_enabled(False)
    try:
        assert not (f64([1.0]) * 2).requires_grad
    finally:
        ag.set_grad_enabled(True)
    with ag.set_grad_enabled(False):
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()


# ------------------------------------------------------------------------------ in place
def test_in_place_on_leaf_that_requires_grad_raises(backend):
    x = f64([1.0, 2.0])
    with pytest.raises(RuntimeError, match="in-place.*no_grad"):
        x += 1


def test_in_place_allowed_without_grad_and_inside_no_grad(backend):
    x = ag.tensor([1.0, 2.0])
    x += 1
    x *= 2
    x -= ag.tensor([1.0, 1.0])
    x /= 2
    np.testing.assert_allclose(x.numpy(), [1.5, 2.5])
    w = f64([1.0, 2.0])
    with ag.no_grad():
        w -= 0.5 * ag.ones(2, dtype="float64")
    np.testing.assert_allclose(w.numpy(), [0.5, 1.5])
    assert w.requires_grad and w.is_leaf


def test_in_place_that_would_grow_the_tensor_raises(backend):
    x = ag.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"\+=.*shape"):
        x += ag.ones(3, 2)


def test_saved_tensor_modified_in_place_raises_naming_the_op(backend):
    w = f64([1.0, 2.0])
    x = f64([3.0, 4.0])
    y = (w * x).sum()
    with ag.no_grad():
        x += 1
    with pytest.raises(RuntimeError, match="Mul.*modified in place"):
        y.backward()


def test_saved_output_modified_in_place_raises(backend):
    x = f64([1.0, 2.0])
    y = x.exp()
    loss = y.sum()
    with ag.no_grad():
        y += 1
    with pytest.raises(RuntimeError, match="Exp.*modified in place"):
        loss.backward()


# ------------------------------------------------------------------------------ hooks
def test_hooks_on_leaf_and_intermediate(backend):
    x = f64([1.0, 2.0])
    h = x * 2
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    handle = x.register_hook(lambda g: g * 10)
    (h * h).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * np.array([2.0, 4.0]))
    np.testing.assert_allclose(x.grad.numpy(), 10 * 2 * 2 * np.array([2.0, 4.0]))
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])


def test_leaf_hook_sees_the_summed_gradient_once(backend):
    x = f64([1.0])
    calls = []
    x.register_hook(lambda g: calls.append(g.item()))
    (x * 2 + x * 3).sum().backward()
    assert calls == [5.0]


# ------------------------------------------------------------------------------ Function
class Cube(ag.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.backend.mul(x, ctx.backend.mul(x, x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


class ScaleAndShift(ag.Function):
    """Two tensor inputs and a constant; saves an intermediate array as a constant."""

    @staticmethod
    def forward(ctx, x, shift, scale):
        doubled = ctx.backend.mul(x, scale)
        ctx.scale = scale
        ctx.save_for_backward(doubled)
        assert tuple(ctx.needs_input_grad) == (True, False, False)
        return ctx.backend.add(doubled, shift)

    @staticmethod
    def backward(ctx, grad):
        (doubled,) = ctx.saved_tensors
        assert not doubled.requires_grad
        return grad * ctx.scale, None, None


def test_custom_function_first_and_second_derivatives(backend):
    x = f64([0.5, -1.5])
    assert ag.gradcheck(Cube.apply, [x])
    assert ag.gradgradcheck(Cube.apply, [x])
    np.testing.assert_allclose(Cube.apply(x).numpy(), [0.125, -3.375])


def test_custom_function_with_constants(backend):
    x = f64([1.0, 2.0])
    y = ScaleAndShift.apply(x, ag.tensor([1.0, 1.0], dtype="float64"), 3.0)
    y.sum().backward()
    np.testing.assert_allclose(y.numpy(), [4.0, 7.0])
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])
    assert repr(y.grad_fn) == "<ScaleAndShiftBackward>"


def test_function_returning_wrong_number_of_gradients(backend):
    class Broken(ag.Function):
        @staticmethod
        def forward(ctx, x, y):
            return ctx.backend.add(x, y)

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(RuntimeError, match="BrokenBackward.*1 gradient.*2"):
        Broken.apply(f64([1.0]), f64([2.0])).sum().backward()


# ------------------------------------------------------------------------------ gradcheck
def test_gradcheck_reports_the_wrong_input_and_element(backend):
    class WrongSecond(ag.Function):
        @staticmethod
        def forward(ctx, a, b):
            return ctx.backend.mul(a, b)

        @staticmethod
        def backward(ctx, grad):
            return grad * 0 + 1, grad * 2

    a, b = f64([1.0, 2.0]), f64([3.0, 4.0])
    with pytest.raises(ag.GradcheckError, match="input 0"):
        ag.gradcheck(WrongSecond.apply, [a, b])
    assert ag.gradcheck(WrongSecond.apply, [a, b], raise_exception=False) is False
    assert isinstance(ag.GradcheckError("x"), AssertionError)


def test_gradcheck_needs_float64(backend):
    with pytest.raises(TypeError, match="float64"):
        ag.gradcheck(lambda t: t * 2, [ag.ones(2, requires_grad=True)])
