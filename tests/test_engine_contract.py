"""The engine's contract where it once differed from PyTorch: what a node keeps, the errors
it raises, custom Functions under no_grad, second derivatives through piecewise-linear ops,
anomaly detection and per-thread tracing."""

import threading
import weakref

import numpy as np
import pytest

import autograd as ag
import backends

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def f64(values, backend="numpy"):
    return ag.tensor(np.asarray(values, dtype=np.float64), requires_grad=True, backend=backend)


# ------------------------------------------------------------------ what a node keeps
def test_a_product_by_a_constant_does_not_keep_the_other_factor(backend):
    x = f64([1.0, 2.0], backend)
    h = x + 1.0  # a sum saves nothing
    array = weakref.ref(h.data)
    y = (h * 2.0).sum()
    del h
    assert array() is None  # only the constant 2.0 is needed for the gradient
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_an_op_keeps_only_the_input_its_gradient_reads(backend):
    w = f64([1.0, 2.0], backend)
    h = f64([3.0, 4.0], backend).exp().detach()  # a constant: no gradient wanted
    kept = weakref.ref(h.data)
    y = (w * h).sum()  # w's gradient reads h; h needs none, so w is not kept for it
    node = y.grad_fn
    del h
    assert kept() is not None and node is not None
    a_kept, b_kept = y.grad_fn.next[0].saved
    assert a_kept is None and b_kept is not None


def test_a_second_backward_through_ops_that_saved_nothing_works(backend):
    x = f64([1.0, 2.0], backend)
    y = (x + 1.0).sum()
    y.backward()
    y.backward()  # as in PyTorch: nothing was saved, so nothing was freed
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_a_second_backward_through_freed_values_says_how_to_keep_them(backend):
    x = f64([1.0, 2.0], backend)
    y = x.exp().sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


# ------------------------------------------------------------------ errors
def test_an_in_place_change_names_the_producer_the_consumer_and_the_versions(backend):
    x = f64([1.0, 2.0], backend)
    e = x.exp()
    y = (e * x).sum()
    with ag.no_grad():
        e += 1
    with pytest.raises(RuntimeError) as error:
        y.backward()
    message = str(error.value)
    assert "output 0 of ExpBackward" in message and "MulBackward" in message
    assert "version" in message


def test_in_place_ops_across_backends_raise_and_leave_the_tensor_unchanged():
    if backends.available().get("numba") is not True:
        pytest.skip("numba backend unavailable")
    x = ag.tensor([1.0, 2.0], backend="numpy")
    y = ag.tensor([1.0, 1.0], backend="numba")
    with pytest.raises(TypeError, match="different backends.*'numpy'.*'numba'"):
        x += y
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    with pytest.raises(TypeError, match="different backends"):
        x + y


def test_bad_operands_name_the_op(backend):
    t = ag.tensor([1, 2], dtype="int64", backend=backend)
    with pytest.raises(ValueError, match="^add: "):
        t + 2 ** 70
    with pytest.raises(TypeError, match="^add: cannot combine a tensor with str"):
        t + "a"


# ------------------------------------------------------------------ custom Functions
class _Scale(ag.Function):
    """Reads ctx.needs_input_grad and marks a second output as non-differentiable."""

    @staticmethod
    def forward(ctx, x):
        ctx.wanted = ctx.needs_input_grad[0]
        doubled = ctx.backend.mul(x, 2.0)
        mask = ctx.backend.gt(x, 0.0)
        ctx.mark_non_differentiable(mask)
        ctx.set_materialize_grads(False)
        return doubled, mask

    @staticmethod
    def backward(ctx, grad, grad_mask):
        assert grad_mask is None  # not materialised, and the mask gets no gradient
        return grad * 2.0


def test_a_function_reads_needs_input_grad_in_forward_under_no_grad_too(backend):
    x = f64([1.0, -2.0], backend)
    with ag.no_grad():
        doubled, mask = _Scale.apply(x)
    np.testing.assert_array_equal(doubled.numpy(), [2.0, -4.0])
    doubled, mask = _Scale.apply(x)
    assert not mask.requires_grad
    doubled.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])
    assert ag.gradcheck(lambda t: _Scale.apply(t)[0], [f64([0.5, 1.5], backend)])


# ------------------------------------------------------------------ tensor bounds of clip
def test_clip_with_tensor_bounds_gives_the_bounds_their_gradient(backend):
    x = f64([-2.0, 0.5, 3.0], backend)
    low = f64([-1.0, -1.0, -1.0], backend)
    high = f64(1.0, backend)
    x.clip(low, high).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1.0, 0.0])
    np.testing.assert_allclose(low.grad.numpy(), [1.0, 0.0, 0.0])
    np.testing.assert_allclose(high.grad.numpy(), 1.0)
    assert ag.gradcheck(lambda a, lo, hi: a.clip(lo, hi),
                        [f64([-2.0, 0.5, 3.0], backend), f64([-1.0, 0.0, 1.0], backend),
                         f64([1.0, 2.0, 2.5], backend)])


# ------------------------------------------------------------------ second derivatives
_PIECEWISE = {
    "relu": (lambda t: t.relu(), lambda t: t.relu()),
    "abs": (lambda t: t.abs(), lambda t: t.abs()),
    "maximum": (lambda t: ag.maximum(t, t * 0.5), lambda t: torch.maximum(t, t * 0.5)),
    "clip": (lambda t: t.clip(-0.5, 0.5), lambda t: t.clamp(-0.5, 0.5)),
    "where": (lambda t: ag.where(t > 0, t, t * 0.1), lambda t: torch.where(t > 0, t, t * 0.1)),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(_PIECEWISE))
def test_a_gradient_penalty_through_a_piecewise_linear_op_reaches_what_pytorchs_does(name):
    """A WGAN-GP style penalty on a small critic: every parameter PyTorch gives a second
    derivative (zeros included) gets one here, with the same values."""
    ours, theirs = _PIECEWISE[name]
    rng = np.random.default_rng(0)
    data = {k: rng.standard_normal(s) for k, s in
            (("x", (4, 3)), ("w1", (3, 5)), ("b1", (5,)), ("w2", (5, 1)), ("b2", (1,)))}

    def critic(lib, act, p):
        return (act(p["x"] @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]).sum()

    p = {k: ag.tensor(v, requires_grad=True) for k, v in data.items()}
    (gx,) = ag.grad(critic(ag, ours, p), p["x"], create_graph=True)
    grads = ag.grad((gx * gx).sum(), [p[k] for k in ("w1", "b1", "w2")], allow_unused=True)

    q = {k: torch.tensor(v, requires_grad=True) for k, v in data.items()}
    (tx,) = torch.autograd.grad(critic(torch, theirs, q), q["x"], create_graph=True)
    expected = torch.autograd.grad((tx * tx).sum(), [q[k] for k in ("w1", "b1", "w2")],
                                   allow_unused=True)
    for mine, reference in zip(grads, expected):
        assert (mine is None) == (reference is None)
        if reference is not None:
            np.testing.assert_allclose(mine.numpy(), reference.numpy(), atol=1e-12)


# ------------------------------------------------------------------ anomaly mode
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_detect_anomaly_names_the_forward_op_that_made_a_nan(backend):
    x = f64([1.0, -1.0], backend)
    with ag.detect_anomaly():
        with pytest.raises(FloatingPointError, match="Log.*NaN"):
            x.log()
    x.log()  # outside the block: NumPy's nan, no error


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_detect_anomaly_names_the_backward_op_and_the_line_that_created_it(backend):
    x = f64([0.0, 1.0], backend)

    @ag.detect_anomaly()
    def run():
        y = x.sqrt()  # the line the error must point at
        y.sum().backward()

    with pytest.raises(FloatingPointError) as error:
        run()
    message = str(error.value)
    assert "SqrtBackward" in message and "y = x.sqrt()" in message


# ------------------------------------------------------------------ threads
def test_two_threads_trace_at_once():
    def model(x):
        return (x * 2.0).tanh().sum()

    results, errors = {}, []

    def trace(name, value):
        try:
            x = ag.tensor([value, value])
            traced = ag.jit.trace(model, x)
            results[name] = traced(x).item()
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=trace, args=(i, 0.1 * i)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert {k: round(v, 6) for k, v in results.items()} == {
        i: round(float(2 * np.tanh(0.2 * i)), 6) for i in range(4)}
