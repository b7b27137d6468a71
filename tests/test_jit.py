"""autograd.jit: tracing a function into a Program and replaying it, with and without a
graph, on every available backend; and the `compile` decorator."""

import numpy as np
import pytest

import autograd as ag
import autograd.jit as jit
from backends.numpy_backend import NumpyBackend

RTOL = 1e-6  # float32 replays the very same primitives, so only the order of sums differs


def make_mlp(sizes, activation, seed=0):
    """An MLP over plain leaf tensors: (weights, biases, forward function)."""
    rng = np.random.default_rng(seed)
    weights = [ag.tensor((rng.normal(size=(n_out, n_in)) / np.sqrt(n_in)).astype(np.float32),
                         requires_grad=True) for n_in, n_out in zip(sizes, sizes[1:])]
    biases = [ag.tensor((rng.normal(size=n_out) * 0.1).astype(np.float32), requires_grad=True)
              for n_out in sizes[1:]]

    def forward(x):
        for k, (w, b) in enumerate(zip(weights, biases)):
            x = x @ w.T + b
            if k < len(weights) - 1:
                x = getattr(x, activation)()
        return x

    return weights, biases, forward


def numpy_mlp(weights, biases, activation, x):
    act = {"tanh": np.tanh, "relu": lambda v: np.maximum(v, 0)}[activation]
    for k, (w, b) in enumerate(zip(weights, biases)):
        x = x @ w.numpy().T + b.numpy()
        if k < len(weights) - 1:
            x = act(x)
    return x


def random_input(shape, seed, **kwargs):
    rng = np.random.default_rng(seed)
    return ag.tensor(rng.normal(size=shape).astype(np.float32), **kwargs)


MODELS = [([2, 8, 8, 1], "tanh", 1), ([4, 16, 16, 3], "relu", 5)]


@pytest.mark.parametrize("sizes, activation, batch", MODELS, ids=["playground", "mlp"])
def test_replay_matches_eager_and_numpy(backend, sizes, activation, batch):
    weights, biases, forward = make_mlp(sizes, activation)
    traced = jit.trace(forward, random_input((batch, sizes[0]), 0))
    x = random_input((batch, sizes[0]), 1)
    expected = numpy_mlp(weights, biases, activation, x.numpy())
    with ag.no_grad():
        fast = traced(x)
        eager = forward(x)
    recorded = traced(x)
    assert fast.grad_fn is None and not fast.requires_grad
    assert recorded.requires_grad and recorded.grad_fn is not None
    for out in (fast, recorded):
        assert out.backend.name == backend and out.dtype == "float32"
        np.testing.assert_allclose(out.numpy(), eager.numpy(), rtol=RTOL, atol=1e-7)
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("sizes, activation, batch", MODELS, ids=["playground", "mlp"])
def test_gradients_through_a_traced_function_equal_eager(backend, sizes, activation, batch):
    weights, biases, forward = make_mlp(sizes, activation)
    traced = jit.trace(forward, random_input((batch, sizes[0]), 0))
    target = random_input((batch, sizes[-1]), 2)
    gradients = {}
    for name, fn in (("eager", forward), ("traced", traced)):
        for p in weights + biases:
            p.grad = None
        x = random_input((batch, sizes[0]), 1, requires_grad=True)
        ((fn(x) - target) ** 2).mean().backward()
        gradients[name] = [p.grad.numpy() for p in weights + biases] + [x.grad.numpy()]
    for eager, traced_grad in zip(gradients["eager"], gradients["traced"]):
        np.testing.assert_allclose(traced_grad, eager, rtol=1e-5, atol=1e-7)


def test_parameters_stay_shared_so_training_steps_are_seen(backend):
    weights, biases, forward = make_mlp([2, 8, 8, 1], "tanh")
    traced = jit.trace(forward, random_input((4, 2), 0))
    assert [id(p) for p in traced.parameters] == [id(p) for p in
                                                  [weights[0], biases[0], weights[1],
                                                   biases[1], weights[2], biases[2]]]
    x, target = random_input((4, 2), 1), random_input((4, 1), 2)
    losses = []
    for _ in range(3):
        for p in weights + biases:
            p.grad = None
        loss = ((traced(x) - target) ** 2).mean()
        loss.backward()
        losses.append(loss.item())
        with ag.no_grad():
            for p in weights + biases:
                p -= 0.1 * p.grad
    assert losses[2] < losses[1] < losses[0]
    with ag.no_grad():
        np.testing.assert_allclose(traced(x).numpy(), forward(x).numpy(), rtol=RTOL)


def test_values_of_parameters_alone_follow_every_change_of_them(backend):
    """A weight's transpose is computed once and kept until the weight changes: in place
    (its version moves) or by holding a new array."""
    weights, biases, forward = make_mlp([2, 8, 8, 1], "tanh")
    traced = jit.trace(forward, random_input((4, 2), 0))
    assert "def prepare():" in traced.code
    x = random_input((4, 2), 1)
    with ag.no_grad():
        before = traced(x).numpy()
        weights[1] *= 2.0
        after_in_place = traced(x)
        np.testing.assert_allclose(after_in_place.numpy(), forward(x).numpy(), rtol=RTOL)
        assert not np.allclose(after_in_place.numpy(), before)
        weights[2].data = ag.zeros(1, 8).data
        np.testing.assert_allclose(traced(x).numpy(), np.broadcast_to(biases[2].numpy(),
                                                                      (4, 1)), rtol=RTOL)


def test_a_program_prints_its_instructions():
    weights, biases, forward = make_mlp([2, 8, 8, 1], "tanh")
    traced = jit.trace(forward, random_input((1, 2), 0))
    program = traced.program
    assert [i.op for i in program.instructions] == (
        ["Transpose", "MatMul", "Add", "Tanh"] * 2 + ["Transpose", "MatMul", "Add"])
    assert len(program.parameters) == 6 and len(program.inputs) == 1
    assert [program.slots[s].shape for s in program.parameters] == [
        (8, 2), (8,), (8, 8), (8,), (1, 8), (1,)]
    text = str(traced)
    lines = text.splitlines()
    assert lines[0] == "program forward(%0: float32[batch, 2]):"
    assert "= Transpose(%1, axes=(1, 0))  # float32[2, 8]" in text
    assert lines[-1].startswith("    return %")
    assert "v0 = x0.data" in traced.code


def test_every_kind_of_op_replays(backend):
    """Comparisons, where, clip, indexing, reductions, softmax, concat, argmax and a
    detached value: replayed with and without a graph, against eager and NumPy."""
    shift = np.array([0.5, -0.25, 1.0], dtype=np.float32)  # a captured constant

    def fn(x):
        leaky = ag.where(x > 0, x, x * 0.1)
        picked = leaky[:, 1:] + x.detach()[:, :2] * 2.0
        joined = ag.concat([picked.softmax(axis=-1), x.clip(-0.5, 0.5)[:, :1]], axis=1)
        spread = (x + shift).max(axis=1) - x.sum(axis=1) / 3.0
        return joined.log_softmax(axis=0), spread * (x.argmax(axis=1) == 1).astype("float32")

    def numpy_fn(x):
        leaky = np.where(x > 0, x, x * 0.1)
        picked = leaky[:, 1:] + x[:, :2] * 2.0
        e = np.exp(picked - picked.max(-1, keepdims=True))
        joined = np.concatenate([e / e.sum(-1, keepdims=True), np.clip(x, -0.5, 0.5)[:, :1]], 1)
        shifted = joined - joined.max(0)
        log_softmax = shifted - np.log(np.exp(shifted).sum(0))
        spread = (x + shift).max(1) - x.sum(1) / 3.0
        return log_softmax, spread * (x.argmax(1) == 1)

    traced = jit.trace(fn, random_input((4, 3), 0))
    assert {"gt", "Where", "GetItem", "detach", "Concat", "Clip", "argmax", "eq",
            "AsType", "Max", "Sum", "Softmax", "LogSoftmax"} <= {
                i.op for i in traced.program.instructions}
    x = random_input((4, 3), 1, requires_grad=True)
    with ag.no_grad():
        fast = traced(x)
    recorded = traced(x)
    eager = fn(x)
    for got in (fast, recorded):
        for g, e, n in zip(got, eager, numpy_fn(x.numpy())):
            np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=RTOL, atol=1e-7)
            np.testing.assert_allclose(g.numpy(), n, rtol=1e-5, atol=1e-6)
    grads = []
    for outputs in (recorded, eager):
        x.grad = None
        (outputs[0].sum() + (outputs[1] * outputs[1]).sum()).backward(retain_graph=True)
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-7)


def test_a_wrong_input_names_which_and_what_was_traced():
    traced = jit.trace(lambda a, b: a * b, random_input((2, 3), 0), random_input((3,), 1))
    with pytest.raises(ValueError, match=r"input 1 has shape \(4,\).*traced for "
                                         r"float32\[3\] on backend 'numpy'"):
        traced(random_input((2, 3), 2), random_input((4,), 3))
    with pytest.raises(TypeError, match=r"input 0 has dtype float64.*float32\[batch, 3\]"):
        traced(random_input((2, 3), 2).astype("float64"), random_input((3,), 3))
    with pytest.raises(TypeError, match="takes 2 input"):
        traced(random_input((2, 3), 2))
    with pytest.raises(TypeError, match="input 1 is a list"):
        traced(random_input((2, 3), 2), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"input 0 has shape \(5, 4\)"):
        traced(random_input((5, 4), 2), random_input((3,), 3))
    fixed = jit.trace(lambda a, b: a * b, random_input((2, 3), 0), random_input((3,), 1),
                      dynamic_batch=False)
    with ag.no_grad(), pytest.raises(ValueError, match="input 0 has shape"):
        fixed(random_input((5, 3), 2), random_input((3,), 3))


def test_tracing_refuses_what_it_cannot_replay():
    def in_place(x):
        y = x * 2
        y += 1
        return y

    with pytest.raises(RuntimeError, match="in place"):
        jit.trace(in_place, random_input((3,), 0))
    with pytest.raises(TypeError, match="returned a float"):
        jit.trace(lambda x: 1.5, random_input((3,), 0))
    with pytest.raises(TypeError, match=r"reads %1 \(float32\[\], the result of Sum\) out "
                                        r"as a Python value"):
        jit.trace(lambda x: x.sum().item(), random_input((3,), 0))
    with pytest.raises(TypeError, match="Python control flow"):
        jit.trace(lambda x: x * 2 if x.sum() > 0 else x, random_input((3,), 0))
    with pytest.raises(TypeError, match="with tolist"):
        jit.trace(lambda x: x * len(x.tolist()), random_input((3,), 0))
    with pytest.raises(TypeError, match="example input 0 is a list"):
        jit.trace(lambda x: x, [1.0])
    x = random_input((3,), 0)
    with pytest.raises(ValueError, match="same tensor"):
        jit.trace(lambda a, b: a + b, x, x)
    with pytest.raises(ValueError, match="boolean mask computed from its inputs"):
        jit.trace(lambda a: a[a > 0].sum(), x)
    elsewhere = NumpyBackend(name="elsewhere")
    with pytest.raises(TypeError, match="moves a tensor to backend 'elsewhere'"):
        jit.trace(lambda a: a.to(elsewhere) * 2, x)


def test_values_made_inside_the_function_are_constants(backend):
    def fn(x):
        return x * ag.arange(3).astype("float32") + ag.ones(3)

    traced = jit.trace(fn, random_input((2, 3), 0))
    assert len(traced.program.constants) == 2 and not traced.parameters
    x = random_input((2, 3), 1)
    np.testing.assert_allclose(traced(x).numpy(), x.numpy() * np.arange(3) + 1, rtol=RTOL)


def test_unused_values_are_not_replayed():
    traced = jit.trace(lambda x: (x.exp(), x * 2)[1], random_input((3,), 0))
    assert [i.op for i in traced.program.live_instructions()] == ["Mul"]
    assert "exp" not in traced.code


def test_a_traced_function_inside_a_trace_is_recorded_op_by_op():
    inner = jit.trace(lambda x: x * 3, random_input((2,), 0))
    outer = jit.trace(lambda x: inner(x) + 1, random_input((2,), 1))
    assert [i.op for i in outer.program.instructions] == ["Mul", "Add"]
    np.testing.assert_allclose(outer(ag.tensor([1.0, 2.0])).numpy(), [4.0, 7.0])


def test_compile_traces_once_per_signature_and_keeps_a_bounded_cache():
    calls = []

    @jit.compile(max_cache=2)
    def scaled(x, factor):
        """Scale x."""
        calls.append(tuple(x.shape))
        return x * factor + 1

    assert scaled.__name__ == "scaled" and scaled.__doc__ == "Scale x."
    a, b, c = random_input((3,), 0), random_input((4,), 1), random_input((5,), 2)
    for _ in range(3):
        np.testing.assert_allclose(scaled(a, 2.0).numpy(), a.numpy() * 2 + 1, rtol=RTOL)
    assert calls == [(3,)]
    np.testing.assert_allclose(scaled(a, 3.0).numpy(), a.numpy() * 3 + 1, rtol=RTOL)
    scaled(b, 2.0)
    assert calls == [(3,), (3,), (4,)] and len(scaled.programs) == 2
    scaled(c, 2.0)  # evicts the least recently used: (3,) with factor 2.0
    scaled(a, 2.0)
    assert calls == [(3,), (3,), (4,), (5,), (3,)]
    with pytest.raises(TypeError, match="argument 1 is an unhashable list"):
        scaled(a, [2.0])


def test_compile_keys_keyword_arguments_by_value():
    @jit.compile
    def shifted(x, shift=0.0):
        return x + shift

    x = random_input((3,), 0)
    np.testing.assert_allclose(shifted(x, shift=1.0).numpy(), x.numpy() + 1, rtol=RTOL)
    np.testing.assert_allclose(shifted(x, shift=2.0).numpy(), x.numpy() + 2, rtol=RTOL)
    np.testing.assert_allclose(shifted(x, shift=1.0).numpy(), x.numpy() + 1, rtol=RTOL)
    assert len(shifted.programs) == 2
    with pytest.raises(TypeError, match="keyword argument 'shift' is a Tensor"):
        shifted(x, shift=x)


def test_compile_used_bare_and_on_a_named_backend(backend):
    @jit.compile
    def double(x):
        return x + x

    x = random_input((3,), 0)
    assert np.array_equal(double(x).numpy(), 2 * x.numpy())
    assert np.array_equal(double(x).numpy(), 2 * x.numpy())
    on_backend = jit.compile(backend=backend)(lambda x: x.relu())
    numpy_input = random_input((3,), 1).to("numpy")
    out = on_backend(numpy_input)
    assert out.backend.name == backend
    assert np.array_equal(on_backend(numpy_input).numpy(), np.maximum(numpy_input.numpy(), 0))
    with pytest.raises(ValueError, match="max_cache"):
        jit.compile(max_cache=0)(double)


def test_a_module_is_traced_as_a_callable(backend):
    nn = pytest.importorskip("nn")
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(),
                          nn.Linear(8, 1))
    traced = jit.trace(model, random_input((16, 2), 0))
    names = [traced.program.slots[s].name for s in traced.program.parameters]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    x = random_input((16, 2), 1)
    expected = numpy_mlp([model[0].weight, model[2].weight, model[4].weight],
                         [model[0].bias, model[2].bias, model[4].bias], "tanh", x.numpy())
    with ag.no_grad():
        np.testing.assert_allclose(traced(x).numpy(), model(x).numpy(), rtol=RTOL, atol=1e-7)
    np.testing.assert_allclose(traced(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    compiled = jit.compile(model)
    compiled(x)
    (program,) = compiled.programs.values()
    assert program.__name__ == "Sequential" and [
        program.program.slots[s].name for s in program.program.parameters] == names
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    ((traced(x) - 1.0) ** 2).mean().backward()
    optimizer.step()
    with ag.no_grad():
        np.testing.assert_allclose(traced(x).numpy(), model(x).numpy(), rtol=RTOL, atol=1e-7)
