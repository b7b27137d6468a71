"""ModuleList, ModuleDict, buffers, apply and named_modules, with PyTorch's semantics and
state-dict keys: a model built from them round-trips through the matching PyTorch model's
state dict."""

import numpy as np
import pytest

import autograd as ag
import nn


class Net(nn.Module):
    """Every building block at once: a ModuleList, a ModuleDict, persistent, non-persistent
    and integer buffers."""

    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(3, 4), nn.Linear(4, 4)])
        self.heads = nn.ModuleDict({"policy": nn.Linear(4, 2), "value": nn.Linear(4, 1)})
        self.register_buffer("running_mean", ag.zeros(4))
        self.register_buffer("steps", ag.tensor(0, dtype="int64"))
        self.register_buffer("scratch", ag.ones(4), persistent=False)

    def forward(self, x):
        for block in self.blocks:
            x = block(x).relu()
        x = x - self.running_mean
        return self.heads["policy"](x), self.heads["value"](x)


def _torch_net(torch):
    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = torch.nn.ModuleList([torch.nn.Linear(3, 4), torch.nn.Linear(4, 4)])
            self.heads = torch.nn.ModuleDict({"policy": torch.nn.Linear(4, 2),
                                              "value": torch.nn.Linear(4, 1)})
            self.register_buffer("running_mean", torch.zeros(4))
            self.register_buffer("steps", torch.tensor(0))
            self.register_buffer("scratch", torch.ones(4), persistent=False)

        def forward(self, x):
            for block in self.blocks:
                x = block(x).relu()
            x = x - self.running_mean
            return self.heads["policy"](x), self.heads["value"](x)

    return TorchNet()


def test_state_dict_keys_and_order_are_pytorchs():
    assert list(Net().state_dict()) == [
        "running_mean", "steps", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight",
        "blocks.1.bias", "heads.policy.weight", "heads.policy.bias", "heads.value.weight",
        "heads.value.bias"]


def test_round_trip_through_a_pytorch_state_dict():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    reference = _torch_net(torch)
    with torch.no_grad():
        reference.running_mean.uniform_(-1, 1)
        reference.steps.fill_(7)
    ours = Net()
    assert list(ours.state_dict()) == list(reference.state_dict())
    ours.load_state_dict({k: ag.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    assert ours.steps.dtype == "int64" and ours.steps.item() == 7

    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    with torch.no_grad():
        expected = [t.numpy() for t in reference(torch.from_numpy(x))]
    for got, want in zip(ours(ag.tensor(x)), expected):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)

    back = _torch_net(torch)
    back.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()},
                         strict=True)
    for key, value in back.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), reference.state_dict()[key].numpy())


def test_buffers_move_with_to_and_integer_buffers_keep_their_dtype():
    net = Net()
    buffer = net.running_mean
    net.to("float64")
    assert net.running_mean is buffer and buffer.dtype == "float64"
    assert net.steps.dtype == "int64" and net.scratch.dtype == "float64"
    net.to("numba")
    assert {b.backend.name for b in net.buffers()} == {"numba"}
    assert [name for name, _ in net.named_buffers()] == ["running_mean", "steps", "scratch"]
    assert all(not b.requires_grad for b in net.buffers())
    assert len(list(net.parameters())) == 8


def test_assigning_a_registered_buffer_replaces_it_and_none_drops_it_from_the_state():
    net = Net()
    net.running_mean = ag.full((4,), 2.0)
    assert net.state_dict()["running_mean"].tolist() == [2.0] * 4
    net.running_mean = None
    assert "running_mean" not in net.state_dict()
    with pytest.raises(TypeError, match="buffer 'steps'"):
        net.steps = [1]
    with pytest.raises(ValueError, match="already exists"):
        net.register_buffer("blocks", ag.zeros(1))
    with pytest.raises(ValueError, match="without '.'"):
        net.register_buffer("a.b", ag.zeros(1))


def test_module_list_behaves_like_a_list_and_renumbers():
    layers = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    first, last = layers[0], layers[-1]
    layers.insert(0, nn.Identity())
    assert len(layers) == 4 and layers[1] is first and layers[3] is last
    del layers[0]
    assert [name for name, _ in layers.named_children()] == ["0", "1", "2"]
    layers += [nn.ReLU()]
    assert isinstance(layers[-1], nn.ReLU) and len(layers[1:]) == 3
    relu = layers[-1]
    assert layers.pop() is relu and len(layers) == 3
    with pytest.raises(IndexError, match="out of range"):
        layers[10]
    with pytest.raises(TypeError, match="not a Module"):
        layers.append(3)


def test_module_dict_behaves_like_a_dict():
    heads = nn.ModuleDict({"a": nn.Linear(1, 1)})
    heads["b"] = nn.ReLU()
    assert list(heads) == ["a", "b"] and "b" in heads and len(heads) == 2
    assert isinstance(heads.pop("b"), nn.ReLU) and list(heads.keys()) == ["a"]
    with pytest.raises(KeyError, match="has no module 'zz'"):
        heads["zz"]
    heads.clear()
    assert len(heads) == 0 and list(heads.parameters()) == []


def test_apply_visits_children_before_the_parent_and_returns_the_module():
    net = Net()
    visited = []
    assert net.apply(lambda m: visited.append(type(m).__name__)) is net
    assert visited == ["Linear", "Linear", "ModuleList", "Linear", "Linear", "ModuleDict",
                       "Net"]

    def zero_biases(module):
        if isinstance(module, nn.Linear):
            nn.init.zeros_(module.bias)

    net.apply(zero_biases)
    assert all(np.all(p.numpy() == 0) for name, p in net.named_parameters()
               if name.endswith("bias"))


def test_named_modules_matches_pytorch_order_and_duplicates():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    assert [n for n, _ in Net().named_modules()] == [
        n for n, _ in _torch_net(torch).named_modules()]
    shared = nn.Linear(1, 1)
    twice = nn.Sequential(shared, shared)
    assert [n for n, _ in twice.named_modules()] == ["", "0"]
    assert [n for n, _ in twice.named_modules(remove_duplicate=False)] == ["", "0", "1"]


def test_zero_grad_on_a_module_clears_every_parameter_gradient():
    net = Net()
    policy, value = net(ag.ones(2, 3))
    (policy.sum() + value.sum()).backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
