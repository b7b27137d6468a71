"""Module and Parameter (registration, traversal, modes, state dicts, `to`, hooks, repr)
and the layers and activations against NumPy."""

import math

import numpy as np
import pytest

import autograd as ag
import backends
import nn
import nn.functional as F


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 4)
        self.out = nn.Sequential(nn.Tanh(), nn.Linear(4, 2))
        self.scale = nn.Parameter(ag.ones(2))
        self.note = "not registered"

    def forward(self, x):
        return self.out(self.hidden(x)) * self.scale


def _mlp(seed=0, dtype=None):
    ag.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 5, dtype=dtype), nn.ReLU(), nn.Linear(5, 1, dtype=dtype))


# ------------------------------------------------------------------------------ Parameter
def test_parameter_is_a_leaf_requiring_grad_sharing_the_data():
    t = ag.tensor([1.0, 2.0])
    p = nn.Parameter(t)
    assert isinstance(p, ag.Tensor) and p.requires_grad and p.is_leaf
    assert p.data is t.data
    assert (p * 2).requires_grad and type(p * 2) is ag.Tensor
    assert repr(p).startswith("Parameter containing:\ntensor([1., 2.]")
    with pytest.raises(TypeError, match="floating"):
        nn.Parameter(ag.tensor([1, 2]))
    with pytest.raises(TypeError, match="Tensor"):
        nn.Parameter([1.0, 2.0])


# ------------------------------------------------------------------------------ registration
def test_parameters_and_children_are_registered_in_order():
    model = TwoLayer()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["scale", "hidden.weight", "hidden.bias", "out.1.weight", "out.1.bias"]
    assert [type(m).__name__ for m in model.children()] == ["Linear", "Sequential"]
    assert [type(m).__name__ for m in model.modules()] == [
        "TwoLayer", "Linear", "Sequential", "Tanh", "Linear"]
    assert len(list(model.parameters())) == 5
    assert list(model.state_dict()) == ["scale", "hidden.weight", "hidden.bias",
                                        "out.1.weight", "out.1.bias"]


def test_a_shared_parameter_is_listed_once():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    model[1].weight = model[0].weight
    assert len(list(model.parameters())) == 3
    assert "1.weight" in model.state_dict()


def test_assignment_rules():
    model = TwoLayer()
    with pytest.raises(TypeError, match="nn.Parameter"):
        model.scale = ag.ones(2)
    model.scale = None
    assert [n for n, _ in model.named_parameters()][0] == "hidden.weight"
    del model.hidden
    assert "hidden.weight" not in model.state_dict()
    assert not hasattr(model, "hidden")

    class Forgetful(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ag.ones(1))

    with pytest.raises(RuntimeError, match="super\\(\\).__init__\\(\\)"):
        Forgetful()


def test_train_eval_and_zero_grad():
    model = TwoLayer()
    assert all(m.training for m in model.modules())
    assert model.eval() is model and not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model(ag.ones(1, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all((p.grad.numpy() == 0).all() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


# ------------------------------------------------------------------------------ state dicts
def test_state_dict_round_trip_into_another_model(backend):
    source, target = _mlp(0), _mlp(1)
    x = ag.randn(7, 2)
    assert not np.array_equal(source(x).numpy(), target(x).numpy())
    state = source.state_dict()
    assert [tuple(state[k].shape) for k in state] == [(5, 2), (5,), (1, 5), (1,)]
    target.load_state_dict(state)
    np.testing.assert_array_equal(source(x).numpy(), target(x).numpy())
    # A copy, not shared memory: training one does not move the other.
    with ag.no_grad():
        source[0].weight += 1.0
    assert not np.array_equal(source[0].weight.numpy(), target[0].weight.numpy())


def test_load_state_dict_lists_every_problem_at_once():
    model = _mlp()
    state = model.state_dict()
    del state["0.bias"], state["2.bias"]
    state["0.weight"] = ag.zeros(5, 3)
    state["extra.weight"] = ag.zeros(1)
    state["more"] = ag.zeros(1)
    with pytest.raises(ValueError) as caught:
        model.load_state_dict(state)
    message = str(caught.value)
    for expected in ("missing keys: 0.bias, 2.bias", "unexpected keys: extra.weight, more",
                     "0.weight (given (5, 3), model (5, 2))", "strict=False"):
        assert expected in message


def test_load_state_dict_non_strict_skips_and_reports():
    model = _mlp()
    state = _mlp(5).state_dict()
    del state["2.bias"]
    state["extra"] = ag.zeros(1)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["2.bias"] and result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(model[0].weight.numpy(), state["0.weight"].numpy())
    state["0.weight"] = ag.zeros(1, 1)
    with pytest.raises(ValueError, match="shape mismatches"):
        model.load_state_dict(state, strict=False)


# ------------------------------------------------------------------------------ to()
def test_to_dtype_converts_in_place_and_keeps_the_parameters():
    model = _mlp()
    params = list(model.parameters())
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    values = [p.numpy().copy() for p in params]
    assert model.to("float64") is model
    assert [id(p) for p in model.parameters()] == [id(p) for p in params]
    for p, v in zip(params, values):
        assert isinstance(p, nn.Parameter) and p.is_leaf and p.requires_grad
        assert p.dtype == "float64"
        np.testing.assert_array_equal(p.numpy(), v.astype(np.float64))
    model(ag.ones(3, 2, dtype="float64")).sum().backward()
    optimizer.step()
    assert not np.array_equal(params[0].numpy(), values[0])
    with pytest.raises(TypeError, match="floating"):
        model.to("int64")


def test_to_backend_moves_parameters_and_gradients(backend):
    with backends.use("numpy"):
        model = _mlp()
        model(ag.ones(2, 2)).sum().backward()
        expected = model(ag.ones(2, 2)).numpy()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    model.to(backend)
    for p, g in zip(model.parameters(), grads):
        assert p.backend.name == backend and p.grad.backend.name == backend
        np.testing.assert_array_equal(p.grad.numpy(), g)
    np.testing.assert_array_equal(model(ag.ones(2, 2, backend=backend)).numpy(), expected)


# ------------------------------------------------------------------------------ hooks, repr
def test_forward_hooks_see_inputs_and_can_replace_the_output():
    layer = nn.Linear(2, 2)
    seen = []
    handle = layer.register_forward_hook(lambda m, inputs, out: seen.append((m, inputs, out)))
    doubler = layer.register_forward_hook(lambda m, inputs, out: out * 2)
    x = ag.ones(1, 2)
    plain = F.linear(x, layer.weight, layer.bias).numpy()
    out = layer(x)
    assert seen[0][0] is layer and seen[0][1] == (x,)
    np.testing.assert_array_equal(seen[0][2].numpy(), plain)
    np.testing.assert_array_equal(out.numpy(), 2 * plain)
    handle.remove()
    doubler.remove()
    np.testing.assert_array_equal(layer(x).numpy(), plain)
    assert len(seen) == 1


def test_repr_is_nested_like_pytorch():
    model = nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(0.2),
                          nn.Sequential(nn.Dropout(0.1), nn.Linear(3, 1, bias=False)),
                          nn.GELU("tanh"), nn.MSELoss())
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): LeakyReLU(negative_slope=0.2)\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.1)\n"
        "    (1): Linear(in_features=3, out_features=1, bias=False)\n"
        "  )\n"
        "  (3): GELU(approximate='tanh')\n"
        "  (4): MSELoss(reduction='mean')\n"
        ")")


# ------------------------------------------------------------------------------ Sequential
def test_sequential_indexing_slicing_iteration():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(model) == 3
    assert isinstance(model[1], nn.ReLU) and model[-1] is model[2]
    head = model[1:]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[1] is model[2]
    assert list(head.state_dict()) == ["2.weight", "2.bias"]
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]
    x = ag.randn(4, 2)
    np.testing.assert_array_equal(model(x).numpy(), head(model[0](x)).numpy())
    with pytest.raises(IndexError, match="out of range"):
        model[3]
    with pytest.raises(TypeError, match="Module"):
        nn.Sequential(nn.ReLU(), lambda x: x)


# ------------------------------------------------------------------------------ layers
def test_linear_shapes_init_and_forward(backend):
    layer = nn.Linear(400, 300, dtype="float64")
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert w.shape == (300, 400) and b.shape == (300,)
    bound = 1 / math.sqrt(400)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # U(-bound, bound) has variance bound**2 / 3.
    assert w.var() == pytest.approx(bound ** 2 / 3, rel=0.03)
    x = np.random.default_rng(0).normal(size=(5, 400))
    np.testing.assert_allclose(layer(ag.tensor(x)).numpy(), x @ w.T + b, rtol=1e-12)
    bare = nn.Linear(4, 2, bias=False)
    assert bare.bias is None and [n for n, _ in bare.named_parameters()] == ["weight"]


@pytest.mark.parametrize("dtypes", [("float32", "float32", "float64"),
                                    ("float32", "float64", "float32"),
                                    ("float64", "float64", "float64")])
def test_linear_with_bias_matches_numpy_across_dtypes(backend, dtypes):
    # The bias goes into the product in place when the dtypes agree, and promotes otherwise.
    rng = np.random.default_rng(3)
    x, w, b = (rng.normal(size=shape).astype(dtype)
               for shape, dtype in zip([(2, 5, 4), (3, 4), (3,)], dtypes))
    inputs = [ag.tensor(a, requires_grad=True) for a in (x, w, b)]
    out = F.linear(*inputs)
    expected = x @ w.T + b
    assert out.dtype == str(expected.dtype)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(inputs[2].grad.numpy(), np.full(3, 10.0), rtol=1e-6)
    np.testing.assert_array_equal(inputs[2].numpy(), b)  # the bias itself is untouched


def test_linear_init_follows_the_seed():
    first = _mlp(3).state_dict()
    second = _mlp(3).state_dict()
    for key in first:
        np.testing.assert_array_equal(first[key].numpy(), second[key].numpy())


X = np.linspace(-3, 3, 13)
ERF = np.vectorize(math.erf)
ACTIVATIONS = [
    ("relu", nn.ReLU(), np.maximum(X, 0)),
    ("leaky_relu", nn.LeakyReLU(0.1), np.where(X > 0, X, 0.1 * X)),
    ("tanh", nn.Tanh(), np.tanh(X)),
    ("sigmoid", nn.Sigmoid(), 1 / (1 + np.exp(-X))),
    ("gelu", nn.GELU(), X * 0.5 * (1 + ERF(X / math.sqrt(2)))),
    ("gelu_tanh", nn.GELU("tanh"),
     0.5 * X * (1 + np.tanh(math.sqrt(2 / math.pi) * (X + 0.044715 * X ** 3)))),
    ("identity", nn.Identity(), X),
]


@pytest.mark.parametrize("case", ACTIVATIONS, ids=[c[0] for c in ACTIVATIONS])
def test_activations_match_numpy_and_gradcheck(backend, case):
    _, module, expected = case
    x = ag.tensor(X + 0.01, requires_grad=True)  # off the kinks at 0
    np.testing.assert_allclose(module(ag.tensor(X)).numpy(), expected, rtol=1e-12, atol=1e-15)
    assert ag.gradcheck(module, (x,))


def test_softmax_and_flatten(backend):
    x = np.random.default_rng(1).normal(size=(2, 3, 4))
    e = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(nn.Softmax(axis=1)(ag.tensor(x)).numpy(),
                               e / e.sum(axis=1, keepdims=True), rtol=1e-12)
    assert nn.Flatten()(ag.tensor(x)).shape == (2, 12)
    assert nn.Flatten(0)(ag.tensor(x)).shape == (24,)


def test_dropout_scales_kept_units_and_is_identity_in_eval(backend):
    layer = nn.Dropout(0.25)
    x = ag.ones(1000, 100)
    ag.manual_seed(11)
    out = layer(x).numpy()
    kept = out != 0
    assert kept.mean() == pytest.approx(0.75, abs=0.01)
    np.testing.assert_allclose(out[kept], 1 / 0.75, rtol=1e-6)
    ag.manual_seed(11)
    np.testing.assert_array_equal(layer(x).numpy(), out)
    assert not np.array_equal(layer(x).numpy(), out)
    layer.eval()
    assert layer(x) is x
    assert F.dropout(x, 1.0).numpy().sum() == 0
    with pytest.raises(ValueError, match="probability"):
        nn.Dropout(1.5)


def test_dropout_gradient_is_the_mask(backend):
    x = ag.tensor(np.ones((50, 40)), requires_grad=True)
    out = F.dropout(x, 0.5)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.numpy())
