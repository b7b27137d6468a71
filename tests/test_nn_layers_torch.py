"""The convolution, pooling, normalisation and embedding layers against PyTorch's: the same
weights give the same outputs and gradients, BatchNorm's running statistics agree after a
few training steps, and state dicts load both ways."""

import numpy as np
import pytest

import autograd as ag
import nn

torch = pytest.importorskip("torch", reason="PyTorch is not installed; these tests compare "
                                            "against it")

# (pluggrad layer factory, torch layer factory, input shape); inputs are drawn per row.
LAYERS = {
    "Conv2d": (lambda: nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2),
               lambda: torch.nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2), (2, 4, 7, 6)),
    "Conv2d-dilated-no-bias": (lambda: nn.Conv2d(3, 2, (2, 3), dilation=(2, 1), bias=False),
                               lambda: torch.nn.Conv2d(3, 2, (2, 3), dilation=(2, 1),
                                                       bias=False), (2, 3, 6, 6)),
    # Sizes at which the Numba backend splits the products over its threads, adds the bias
    # in each thread and computes the weight gradient by its row-products kernel.
    "Conv2d-large": (lambda: nn.Conv2d(3, 16, 3, padding=1),
                     lambda: torch.nn.Conv2d(3, 16, 3, padding=1), (64, 3, 32, 32)),
    "Conv2d-large-groups": (lambda: nn.Conv2d(8, 16, 3, padding=1, groups=2),
                            lambda: torch.nn.Conv2d(8, 16, 3, padding=1, groups=2),
                            (64, 8, 32, 32)),
    "Conv1d": (lambda: nn.Conv1d(3, 4, 3, padding="same"),
               lambda: torch.nn.Conv1d(3, 4, 3, padding="same"), (2, 3, 8)),
    "MaxPool2d": (lambda: nn.MaxPool2d(3, stride=2, padding=1),
                  lambda: torch.nn.MaxPool2d(3, stride=2, padding=1), (2, 3, 7, 7)),
    "AvgPool2d": (lambda: nn.AvgPool2d(2), lambda: torch.nn.AvgPool2d(2), (2, 3, 6, 6)),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d((2, 3)),
                          lambda: torch.nn.AdaptiveAvgPool2d((2, 3)), (2, 3, 5, 7)),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3), lambda: torch.nn.BatchNorm1d(3), (5, 3)),
    "BatchNorm1d-sequence": (lambda: nn.BatchNorm1d(3, momentum=None),
                             lambda: torch.nn.BatchNorm1d(3, momentum=None), (4, 3, 5)),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(3, momentum=0.3),
                    lambda: torch.nn.BatchNorm2d(3, momentum=0.3), (4, 3, 3, 3)),
    "LayerNorm": (lambda: nn.LayerNorm((3, 4)), lambda: torch.nn.LayerNorm((3, 4)),
                  (2, 5, 3, 4)),
    "GELU": (lambda: nn.GELU(), lambda: torch.nn.GELU(), (3, 4)),
    "SiLU": (lambda: nn.SiLU(), lambda: torch.nn.SiLU(), (3, 4)),
    "Softplus": (lambda: nn.Softplus(beta=2.0, threshold=1.0),
                 lambda: torch.nn.Softplus(beta=2.0, threshold=1.0), (3, 4)),
    "Softmax": (lambda: nn.Softmax(1), lambda: torch.nn.Softmax(1), (3, 4)),
    "Unflatten": (lambda: nn.Unflatten(1, (2, 3)), lambda: torch.nn.Unflatten(1, (2, 3)),
                  (4, 6)),
}


def to_torch(tensor):
    return torch.tensor(tensor.numpy())


def load_into_torch(module, torch_module):
    torch_module.load_state_dict({k: to_torch(v) for k, v in module.state_dict().items()})
    return torch_module.double()


@pytest.mark.parametrize("name", list(LAYERS))
def test_forward_and_gradients_match_torch(backend, name):
    make, make_torch, shape = LAYERS[name]
    ag.manual_seed(0)
    module = make().to("float64")
    torch_module = load_into_torch(module, make_torch())
    x = np.random.default_rng(1).standard_normal(shape)
    upstream = None
    for step in range(3):  # training steps move BatchNorm's running statistics
        inputs = ag.tensor(x + step, dtype="float64", requires_grad=True)
        torch_inputs = torch.tensor(x + step, requires_grad=True)
        out, torch_out = module(inputs), torch_module(torch_inputs)
        np.testing.assert_allclose(out.numpy(), torch_out.detach().numpy(), rtol=1e-10,
                                   atol=1e-10)
        if upstream is None:
            upstream = np.random.default_rng(2).standard_normal(tuple(out.shape))
        out.backward(ag.tensor(upstream, dtype="float64"))
        torch_out.backward(torch.tensor(upstream))
        np.testing.assert_allclose(inputs.grad.numpy(), torch_inputs.grad.numpy(),
                                   rtol=1e-9, atol=1e-10)
    params = dict(module.named_parameters())
    for key, torch_param in torch_module.named_parameters():
        np.testing.assert_allclose(params[key].grad.numpy(), torch_param.grad.numpy(),
                                   rtol=1e-9, atol=1e-10, err_msg=key)
    # After training, the running statistics (and evaluation with them) agree.
    torch_state = torch_module.state_dict()
    for key, value in module.state_dict().items():
        np.testing.assert_allclose(value.numpy(), torch_state[key].numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=key)
    module.eval()
    torch_module.eval()
    with torch.no_grad():
        expected = torch_module(torch.tensor(x)).numpy()
    np.testing.assert_allclose(module(ag.tensor(x, dtype="float64")).numpy(), expected,
                               rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", ["Conv2d", "Conv1d", "BatchNorm2d", "LayerNorm"])
def test_state_dict_names_shapes_and_round_trip_match_torch(name):
    make, make_torch, _ = LAYERS[name]
    module, torch_module = make(), make_torch()
    torch_state = torch_module.state_dict()
    state = module.state_dict()
    assert list(state) == list(torch_state)
    for key in state:
        assert tuple(state[key].shape) == tuple(torch_state[key].shape), key
        assert str(state[key].dtype) == str(torch_state[key].dtype).replace("torch.", ""), key
    # torch -> pluggrad
    module.load_state_dict({k: ag.tensor(v.numpy()) for k, v in torch_state.items()})
    for key, value in module.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), torch_state[key].numpy())
    # pluggrad -> torch (`state` still holds the module's own initial values)
    fresh = make_torch()
    fresh.load_state_dict({k: to_torch(v) for k, v in state.items()})
    for key, value in fresh.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), state[key].numpy())


def test_embedding_matches_torch_with_padding_idx(backend):
    module = nn.Embedding(6, 3, padding_idx=1).to("float64")
    torch_module = load_into_torch(module, torch.nn.Embedding(6, 3, padding_idx=1))
    indices = np.array([[0, 1, 5], [1, 1, 2]])
    out = module(ag.tensor(indices))
    torch_out = torch_module(torch.tensor(indices))
    np.testing.assert_array_equal(out.numpy(), torch_out.detach().numpy())
    upstream = np.arange(18.0).reshape(2, 3, 3)
    out.backward(ag.tensor(upstream, dtype="float64"))
    torch_out.backward(torch.tensor(upstream))
    np.testing.assert_allclose(module.weight.grad.numpy(),
                               torch_module.weight.grad.numpy())


def test_file_round_trip_into_torch(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
                          nn.Linear(8, 3))
    model(ag.randn(4, 1, 4, 4))  # a training step moves the running statistics
    nn.save(model, tmp_path / "model.safetensors")
    from safetensors.torch import load_file

    torch_model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2),
                                      torch.nn.ReLU(), torch.nn.Flatten(),
                                      torch.nn.Linear(8, 3))
    torch_model.load_state_dict(load_file(str(tmp_path / "model.safetensors")))
    assert torch_model[1].num_batches_tracked.item() == 1
    np.testing.assert_allclose(torch_model[1].running_mean.numpy(),
                               model[1].running_mean.numpy())
