"""Property-based and whole-program checks: random op chains, memory over a training run,
and the backend chosen by AUTOGRAD_BACKEND."""

import os
import subprocess
import sys
import tracemalloc

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd as ag

UNARY = {
    "tanh": lambda t: t.tanh(),
    "sigmoid": lambda t: t.sigmoid(),
    "exp-small": lambda t: (t * 0.3).exp(),
    "square": lambda t: t * t,
    "softplus": lambda t: (t.exp() + 1.0).log(),
    "sin": lambda t: t.sin(),
    "softmax": lambda t: t.softmax() if t.ndim else t,
    "mean-keep": lambda t: t.mean(axis=-1, keepdims=True) + t if t.ndim else t,
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1.0),
}


@st.composite
def broadcastable_shapes(draw):
    """A result shape and two operand shapes that broadcast to it (dims dropped or set to 1)."""
    shape = draw(st.lists(st.integers(1, 3), min_size=0, max_size=3))

    def operand():
        dims = [d if draw(st.booleans()) else 1 for d in shape]
        return tuple(dims[draw(st.integers(0, len(dims))):])

    return operand(), operand()


@st.composite
def programs(draw):
    shapes = draw(broadcastable_shapes())
    steps = draw(st.lists(st.one_of(st.tuples(st.just("u"), st.sampled_from(sorted(UNARY))),
                                    st.tuples(st.just("b"), st.sampled_from(sorted(BINARY)))),
                          min_size=1, max_size=6))
    return shapes, steps


def run(steps, a, b):
    value = a
    for kind, name in steps:
        value = UNARY[name](value) if kind == "u" else BINARY[name](value, b)
    return value.sum()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.integers(0, 2 ** 16))
def test_random_chains_match_finite_differences(program, seed):
    (shape_a, shape_b), steps = program
    rng = np.random.default_rng(seed)
    a = ag.tensor(rng.uniform(-1, 1, shape_a), requires_grad=True)
    b = ag.tensor(rng.uniform(-1, 1, shape_b), requires_grad=True)
    assert ag.gradcheck(lambda x, y: run(steps, x, y), [a, b])


def train_mlp_steps(steps):
    ag.manual_seed(0)
    x = ag.randn(64, 8)
    y = (x.sum(axis=1, keepdims=True) > 0).astype("float32")
    w1 = (ag.randn(8, 16) * 0.3).requires_grad_()
    b1 = ag.zeros(16, requires_grad=True)
    w2 = (ag.randn(16, 1) * 0.3).requires_grad_()
    losses = []
    for _ in range(steps):
        loss = (((x @ w1 + b1).tanh() @ w2).sigmoid() - y).abs().mean()
        loss.backward()
        with ag.no_grad():
            for p in (w1, b1, w2):
                p -= 0.5 * p.grad
                p.grad = None
        losses.append(loss.item())
    return losses


def test_training_loop_does_not_grow_memory():
    train_mlp_steps(50)
    tracemalloc.start()
    try:
        train_mlp_steps(100)
        baseline, _ = tracemalloc.get_traced_memory()
        losses = train_mlp_steps(1000)
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert losses[-1] < losses[0]
    assert after - baseline < 256 * 1024, f"memory grew by {after - baseline} bytes"


def run_python(code, backend_name):
    env = dict(os.environ, AUTOGRAD_BACKEND=backend_name)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)


def test_unknown_autograd_backend_fails_at_import_listing_the_choices():
    result = run_python("import autograd", "no-such-backend")
    assert result.returncode != 0
    assert "AUTOGRAD_BACKEND='no-such-backend'" in result.stderr
    assert "numpy: available" in result.stderr and "cupy:" in result.stderr


def test_autograd_backend_picks_the_default():
    result = run_python("import backends; print(backends.current().name)", "numpy")
    assert result.returncode == 0 and result.stdout.strip() == "numpy"
